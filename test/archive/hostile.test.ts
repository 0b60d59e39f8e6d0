/**
 * The importer is a security boundary: hostile archives, built header by header from a valid
 * export, must be refused with ARCHIVE_INVALID naming the entry — with no reference published,
 * no blob or temp file left in the store, and nothing written outside it. A fresh registry per
 * case. Also the unusual-but-valid archives other tools write, which must be accepted.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, open, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../src/archive/export.js';
import { importArchive } from '../../src/archive/import.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import { isRunledgerError, type RunledgerError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  buildTar,
  END,
  pad,
  paxRecord,
  rawHeader,
  splitTar,
  type RawEntry,
} from '../helpers/tar.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);
const HAS_TAR = spawnSync('sh', ['-c', 'command -v tar']).status === 0;
const HAS_PROC_FD = existsSync('/proc/self/fd');
const REF = 'ghcr.io/acme/hostile:v1';
const REF_NAME = 'org.opencontainers.image.ref.name';
const MB = 1024 * 1024;
const enc = new TextEncoder();

/** A valid export, split into entries: oci-layout, manifest, config, layer 0, layer 1, index.json. */
interface Valid {
  readonly entries: readonly RawEntry[];
  readonly bytes: Buffer;
  readonly descriptor: Descriptor;
  readonly index: { manifests: Record<string, unknown>[] } & Record<string, unknown>;
  readonly manifest: string;
  readonly layers: readonly string[];
}

let valid: Valid;

beforeAll(async () => {
  const registry = await LocalRegistry.open(await tempDir());
  const { descriptor, manifest } = await writeArtifact(registry, {
    layers: ['small layer', 'L'.repeat(5000)],
  });
  await registry.publishRef(REF, descriptor);
  const file = join(await tempDir(), 'valid.ommx');
  await exportArchive(registry, REF, file);
  const bytes = await readFile(file);
  const entries = splitTar(bytes).map((e) => ({ name: e.name, body: new Uint8Array(e.body) }));
  const name = (d: Descriptor): string => `blobs/sha256/${d.digest.slice(7)}`;
  expect(entries.map((e) => e.name)).toEqual([
    'oci-layout',
    name(descriptor),
    name(manifest.config),
    ...manifest.layers.map(name),
    'index.json',
  ]);
  valid = {
    entries,
    bytes,
    descriptor,
    index: JSON.parse(Buffer.from(entries.at(-1)!.body).toString()),
    manifest: name(descriptor),
    layers: manifest.layers.map(name),
  };
});

/** The valid entries with `extra` inserted before index.json (after every blob was written). */
function beforeIndex(...extra: RawEntry[]): RawEntry[] {
  return [...valid.entries.slice(0, -1), ...extra, valid.entries.at(-1)!];
}

/** The valid entries with one replaced (matched by name). */
function replacing(name: string, by: RawEntry | RawEntry[]): RawEntry[] {
  return valid.entries.flatMap((e) => (e.name === name ? by : [e]));
}

/** The valid entries with index.json's JSON changed. */
function withIndex(edit: (index: Valid['index']) => unknown): RawEntry[] {
  const index = structuredClone(valid.index);
  const out = edit(index) ?? index;
  return replacing('index.json', { name: 'index.json', body: enc.encode(JSON.stringify(out)) });
}

async function tree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}${e.name}`;
    out.push(e.isDirectory() ? `${rel}/` : rel);
    if (e.isDirectory()) out.push(...(await tree(join(dir, e.name), `${rel}/`)));
  }
  return out.sort();
}

/** A fresh store in `<dir>/store`, the archive at `<dir>/hostile.ommx`, the sentinel `<dir>/escape`. */
async function hostileCase() {
  const dir = await tempDir('runledger-hostile-');
  const root = join(dir, 'store');
  const registry = await LocalRegistry.open(root);
  return { dir, root, registry, file: join(dir, 'hostile.ommx'), escape: join(dir, 'escape') };
}
type Case = Awaited<ReturnType<typeof hostileCase>>;

/** Imports `archive` into the case's fresh store: ARCHIVE_INVALID naming `entry`, no trace left. */
async function expectRejected(
  c: Case,
  archive: readonly RawEntry[] | Uint8Array,
  entry: string
): Promise<RunledgerError> {
  if (archive instanceof Uint8Array) await writeFile(c.file, archive);
  else await writeFile(c.file, buildTar(archive));
  const before = await tree(c.root);
  const err = await expectCode(importArchive(c.registry, c.file), 'ARCHIVE_INVALID');
  expect(
    err.data['entry'] === entry || err.message.includes(entry),
    `"${err.message}" (data ${JSON.stringify(err.data)}) should name ${entry}`
  ).toBe(true);
  await expectNoTrace(c, before);
  return err;
}

async function expectNoTrace(c: Case, before: string[]): Promise<void> {
  expect(await c.registry.listRefs()).toEqual([]);
  expect(await readdir(join(c.root, 'blobs', 'sha256'))).toEqual([]);
  expect(await readdir(join(c.root, '.runledger', 'tmp'))).toEqual([]);
  expect(await tree(c.root)).toEqual(before);
  expect(existsSync(c.escape)).toBe(false);
  expect((await readdir(c.dir)).sort()).toEqual(['hostile.ommx', 'store']);
  expect((await c.registry.fsck()).ok).toBe(true);
}

const PAYLOAD = enc.encode('written where it must not be\n');

describe('hostile entry names', () => {
  it.each([
    ['../escape'],
    ['./../escape'],
    ['blobs/../../escape'],
    ['blobs/sha256/../../../escape'],
    ['.//..//escape'],
  ])('refuses %s (climbs out with ..)', async (name) => {
    const c = await hostileCase();
    const err = await expectRejected(c, beforeIndex({ name, body: PAYLOAD }), name);
    expect(err.data['entry']).toBe(name);
  });

  it('refuses an absolute name (/abs/path pointing at the sentinel)', async () => {
    const c = await hostileCase();
    const err = await expectRejected(c, beforeIndex({ name: c.escape, body: PAYLOAD }), c.escape);
    expect(err.message).toMatch(/absolute/);
    const d = await hostileCase();
    await expectRejected(d, beforeIndex({ name: '/abs/path', body: PAYLOAD }), '/abs/path');
  });

  it('refuses a backslash name (..\\escape)', async () => {
    const c = await hostileCase();
    await expectRejected(c, beforeIndex({ name: '..\\escape', body: PAYLOAD }), '..\\escape');
  });

  it('refuses a climbing name as the very first entry, and as a directory entry', async () => {
    const c = await hostileCase();
    await expectRejected(c, [{ name: '../escape', body: PAYLOAD }, ...valid.entries], '../escape');
    const d = await hostileCase();
    await expectRejected(
      d,
      beforeIndex({ name: '../escape/', type: '5', body: new Uint8Array(0) }),
      '../escape/'
    );
  });

  it('refuses ../ names given by a PAX path record and by a GNU long name', async () => {
    const c = await hostileCase();
    const pax = paxRecord('path', '../escape');
    await expectRejected(
      c,
      beforeIndex(
        { name: 'PaxHeaders/innocent', type: 'x', body: pax },
        { name: 'innocent', body: PAYLOAD }
      ),
      '../escape'
    );
    const d = await hostileCase();
    const long = `../${'e'.repeat(120)}`;
    await expectRejected(
      d,
      beforeIndex(
        { name: '././@LongLink', type: 'L', body: enc.encode(`${long}\0`) },
        { name: 'innocent', body: PAYLOAD }
      ),
      long
    );
  });

  it('refuses blobs/sha512/<hex> and blobs/sha256/<UPPERCASE hex>', async () => {
    const sha512 = `blobs/sha512/${'ab'.repeat(64)}`;
    const c = await hostileCase();
    await expectRejected(c, beforeIndex({ name: sha512, body: PAYLOAD }), sha512);
    const [l0] = valid.layers;
    const upper = `blobs/sha256/${l0!.slice('blobs/sha256/'.length).toUpperCase()}`;
    const d = await hostileCase();
    const body = valid.entries.find((e) => e.name === l0)!.body;
    await expectRejected(d, replacing(l0!, { name: upper, body }), upper);
    // And a short hex, and a trailing component.
    for (const name of [`blobs/sha256/${'a'.repeat(63)}`, `${l0}/x`]) {
      const e = await hostileCase();
      await expectRejected(e, beforeIndex({ name, body: PAYLOAD }), name);
    }
  });
});

describe('hostile entry types', () => {
  it('refuses a symlink at a blob path', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const err = await expectRejected(
      c,
      replacing(l1, { name: l1, type: '2', linkname: c.escape, body: new Uint8Array(0) }),
      l1
    );
    expect(err.data['entry']).toBe(l1);
    expect(err.message).toMatch(/symbolic link/);
  });

  it('refuses a hard link at a blob path', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const err = await expectRejected(
      c,
      replacing(l1, { name: l1, type: '1', linkname: 'oci-layout', body: new Uint8Array(0) }),
      l1
    );
    expect(err.message).toMatch(/hard link/);
  });

  it('refuses a hard link to a path outside the archive', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      beforeIndex({
        name: 'innocent',
        type: '1',
        linkname: '/etc/passwd',
        body: new Uint8Array(0),
      }),
      'innocent'
    );
  });

  it.each([
    ['3', 'a character device'],
    ['4', 'a block device'],
    ['6', 'a FIFO'],
    ['S', 'of tar type "S"'], // GNU sparse
    ['V', 'of tar type "V"'], // GNU volume header
  ])('refuses typeflag %s (%s)', async (type, kind) => {
    const c = await hostileCase();
    const name = `dev-${type}`;
    const err = await expectRejected(c, beforeIndex({ name, type, body: new Uint8Array(0) }), name);
    expect(err.message).toContain(kind);
  });
});

describe('hostile layout files', () => {
  it('refuses a duplicate index.json', async () => {
    const c = await hostileCase();
    const err = await expectRejected(c, [...valid.entries, valid.entries.at(-1)!], 'index.json');
    expect(err.message).toMatch(/second index\.json/);
  });

  it('refuses a duplicate index.json pointing elsewhere, wherever it comes', async () => {
    const c = await hostileCase();
    const other = withIndex((i) => {
      i.manifests[0]!['annotations'] = { [REF_NAME]: 'ghcr.io/evil/other:1' };
    }).at(-1)!;
    await expectRejected(c, [other, ...valid.entries], 'index.json');
  });

  it('refuses a duplicate oci-layout', async () => {
    const c = await hostileCase();
    const layout = valid.entries[0]!;
    const err = await expectRejected(c, [layout, ...valid.entries], 'oci-layout');
    expect(err.message).toMatch(/second oci-layout/);
  });

  it('refuses an invalid or oversized oci-layout', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      replacing('oci-layout', {
        name: 'oci-layout',
        body: enc.encode('{"imageLayoutVersion":"2.0.0"}'),
      }),
      'oci-layout'
    );
    const d = await hostileCase();
    await expectRejected(
      d,
      replacing('oci-layout', { name: 'oci-layout', body: new Uint8Array(0), size: 10 * MB }),
      'oci-layout'
    );
  });

  it('refuses an archive without index.json, and an empty file', async () => {
    const c = await hostileCase();
    await expectRejected(c, valid.entries.slice(0, -1), 'index.json');
    const d = await hostileCase();
    await expectRejected(d, new Uint8Array(0), 'index.json');
    const e = await hostileCase();
    await expectRejected(e, END, 'index.json');
  });

  it('refuses an index.json that is not JSON', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      replacing('index.json', { name: 'index.json', body: enc.encode('{"schemaVersion":2,') }),
      'index.json'
    );
  });
});

describe('hostile content', () => {
  it('refuses a blob whose bytes do not match its name', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const body = new Uint8Array(valid.entries.find((e) => e.name === l1)!.body);
    body[100] = body[100]! ^ 1; // same size, other bytes
    const err = await expectRejected(c, replacing(l1, { name: l1, body }), l1);
    expect(err.data['entry']).toBe(l1);
    expect(err.message).toMatch(/does not hash/);
  });

  it('refuses a blob longer or shorter than its index.json descriptor says', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      withIndex((i) => {
        i.manifests[0]!['size'] = valid.descriptor.size + 1;
      }),
      valid.manifest
    );
  });

  it('refuses an index.json descriptor with digest sha256:../../etc', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      withIndex((i) => {
        i.manifests[0]!['digest'] = 'sha256:../../etc';
      }),
      'index.json'
    );
  });

  it('refuses an index.json descriptor declaring size 2^62', async () => {
    const c = await hostileCase();
    // Written as text: JSON.stringify(2 ** 62) would print 4611686018427388000.
    const text = JSON.stringify(valid.index).replace(
      `"size":${valid.descriptor.size}`,
      '"size":4611686018427387904'
    );
    expect(text).toContain('"size":4611686018427387904');
    await expectRejected(
      c,
      replacing('index.json', { name: 'index.json', body: enc.encode(text) }),
      'index.json'
    );
  });

  it('refuses an index.json with two manifests', async () => {
    const c = await hostileCase();
    const err = await expectRejected(
      c,
      withIndex((i) => {
        const second = structuredClone(i.manifests[0]!);
        second['annotations'] = { [REF_NAME]: 'ghcr.io/acme/second:v1' };
        i.manifests.push(second);
      }),
      'index.json'
    );
    expect(err.message).toMatch(/2 manifests/);
    const d = await hostileCase();
    await expectRejected(
      d,
      withIndex((i) => {
        i.manifests = [];
      }),
      'index.json'
    );
  });

  it('refuses a manifest descriptor that is an index, not an image manifest', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      withIndex((i) => {
        i.manifests[0]!['mediaType'] = 'application/vnd.oci.image.index.v1+json';
      }),
      'index.json'
    );
  });

  it('refuses an archive name that is not a valid reference', async () => {
    const c = await hostileCase();
    await expectRejected(
      c,
      withIndex((i) => {
        i.manifests[0]!['annotations'] = { [REF_NAME]: 'ghcr.io/../../etc:x' };
      }),
      'index.json'
    );
  });

  it('refuses a manifest referencing a blob not in the archive', async () => {
    const [l0] = valid.layers;
    const c = await hostileCase();
    const err = await expectRejected(
      c,
      valid.entries.filter((e) => e.name !== l0),
      l0!
    );
    expect(err.data['entry']).toBe(l0);
    const d = await hostileCase();
    await expectRejected(
      d,
      valid.entries.filter((e) => e.name !== valid.manifest),
      valid.manifest
    );
  });

  it('refuses a blob under a valid name whose content is not a manifest', async () => {
    const c = await hostileCase();
    const bad = enc.encode('{"schemaVersion":2,"config":"nope"}');
    const name = `blobs/sha256/${digestOf(bad).slice(7)}`;
    await expectRejected(
      c,
      withIndex((i) => {
        i.manifests[0]!['digest'] = digestOf(bad);
        i.manifests[0]!['size'] = bad.byteLength;
      }).flatMap((e) => (e.name === 'index.json' ? [{ name, body: bad }, e] : [e])),
      name
    );
  });
});

describe('hostile tar structure', () => {
  it('refuses a tar header size field of 2^62 (base-256)', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const body = valid.entries.find((e) => e.name === l1)!.body;
    const err = await expectRejected(c, replacing(l1, { name: l1, body, size: 2n ** 62n }), l1);
    expect(err.message).toMatch(/impossible size/);
  });

  it('refuses a tar header declaring far more than follows (2^40, base-256)', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const body = valid.entries.find((e) => e.name === l1)!.body;
    const err = await expectRejected(
      c,
      replacing(l1, { name: l1, body, size: 2n ** 40n, base256: true }),
      l1
    );
    expect(err.message).toMatch(/truncated/);
  });

  it('refuses an archive truncated in the middle of a blob', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const at = splitTar(valid.bytes).find((e) => e.name === l1)!.offset;
    const err = await expectRejected(c, valid.bytes.subarray(0, at + 512 + 2500), l1);
    expect(err.message).toMatch(/truncated/);
  });

  it('refuses an archive truncated inside a header, and cut before index.json', async () => {
    const index = splitTar(valid.bytes).at(-1)!.offset;
    const c = await hostileCase();
    await expectRejected(c, valid.bytes.subarray(0, index + 200), 'truncated');
    const d = await hostileCase();
    await expectRejected(d, valid.bytes.subarray(0, index), 'index.json');
  });

  it('refuses an archive with a damaged header checksum', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const body = valid.entries.find((e) => e.name === l1)!.body;
    await expectRejected(c, replacing(l1, { name: l1, body, checksumDelta: 3 }), 'checksum');
  });

  it('refuses a 100 MB index.json by its declared size before reading the body', async () => {
    const c = await hostileCase();
    // The header declares 100 MB; only 10 bytes follow. Reading the body first would report a
    // truncation; the size check must come first.
    const archive = Buffer.concat([
      ...valid.entries
        .slice(0, -1)
        .flatMap((e) => [
          rawHeader({ name: e.name, size: e.body.byteLength }),
          e.body,
          pad(e.body.byteLength),
        ]),
      rawHeader({ name: 'index.json', size: 100 * MB }),
      Buffer.alloc(10, 0x20),
    ]);
    const err = await expectRejected(c, archive, 'index.json');
    expect(err.data['entry']).toBe('index.json');
    expect(err.message).toMatch(/over the \d+-byte limit/);
    expect(err.message).not.toMatch(/truncated/);
  });

  it('imports a 100 MB index.json archive from disk with bounded memory', async () => {
    const c = await hostileCase();
    const h = await open(c.file, 'w');
    for (const e of valid.entries.slice(0, -1)) {
      await h.write(rawHeader({ name: e.name, size: e.body.byteLength }));
      await h.write(e.body);
      await h.write(pad(e.body.byteLength));
    }
    await h.write(rawHeader({ name: 'index.json', size: 100 * MB }));
    const spaces = Buffer.alloc(MB, 0x20);
    for (let i = 0; i < 100; i++) await h.write(spaces);
    await h.write(END);
    await h.close();
    const before = await tree(c.root);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 1);
    let err: RunledgerError;
    try {
      err = await expectCode(importArchive(c.registry, c.file), 'ARCHIVE_INVALID');
    } finally {
      clearInterval(sample);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(err.data['entry']).toBe('index.json');
    expect(peak - rss0).toBeLessThan(50 * MB);
    await expectNoTrace(c, before);
  });

  it('refuses a PAX size record beyond 2^53', async () => {
    const c = await hostileCase();
    const l1 = valid.layers[1]!;
    const pax = paxRecord('size', '4611686018427387904');
    await expectRejected(
      c,
      replacing(l1, [
        { name: 'PaxHeaders/blob', type: 'x', body: pax },
        valid.entries.find((e) => e.name === l1)!,
      ]),
      l1
    );
  });
});

describe('inspectArchive on hostile archives', () => {
  it('refuses them with ARCHIVE_INVALID too', async () => {
    const l1 = valid.layers[1]!;
    const body = new Uint8Array(valid.entries.find((e) => e.name === l1)!.body);
    body[0] = body[0]! ^ 1;
    const cases: [RawEntry[] | Buffer, string][] = [
      [beforeIndex({ name: '../escape', body: PAYLOAD }), '../escape'],
      [beforeIndex({ name: '/abs/path', body: PAYLOAD }), '/abs/path'],
      [replacing(l1, { name: l1, body }), l1],
      [[...valid.entries, valid.entries.at(-1)!], 'index.json'],
      [
        withIndex((i) => {
          i.manifests.push(i.manifests[0]!);
        }),
        'index.json',
      ],
      [valid.entries.filter((e) => e.name !== valid.manifest), valid.manifest],
      [
        replacing('index.json', { name: 'index.json', body: PAYLOAD, size: 100 * MB }),
        'index.json',
      ],
      [valid.bytes.subarray(0, splitTar(valid.bytes).at(-1)!.offset), 'index.json'],
      [valid.bytes.subarray(0, splitTar(valid.bytes).at(-2)!.offset + 1000), l1],
    ];
    const dir = await tempDir();
    for (const [i, [archive, entry]] of cases.entries()) {
      const file = join(dir, `${i}.ommx`);
      await writeFile(file, archive instanceof Uint8Array ? archive : buildTar(archive));
      const err = await expectCode(inspectArchive(file), 'ARCHIVE_INVALID');
      expect(
        err.data['entry'] === entry || err.message.includes(entry),
        `case ${i}: "${err.message}" should name ${entry}`
      ).toBe(true);
    }
    expect(existsSync(join(dir, 'escape'))).toBe(false);
  });
});

describe('unusual but valid archives are accepted', () => {
  async function expectAccepted(entries: readonly RawEntry[] | Uint8Array, reference = REF) {
    const c = await hostileCase();
    await writeFile(c.file, entries instanceof Uint8Array ? entries : buildTar(entries));
    const r = await importArchive(c.registry, c.file);
    expect(r.reference).toBe(reference);
    expect(r.descriptor.digest).toBe(valid.descriptor.digest);
    expect(r.result).toBe('created');
    expect((await c.registry.fsck()).ok).toBe(true);
    expect(await readdir(join(c.root, '.runledger', 'tmp'))).toEqual([]);
    const summary = await inspectArchive(c.file);
    expect(summary.descriptor.digest).toBe(valid.descriptor.digest);
    return c;
  }

  it('the valid export itself', async () => {
    const c = await expectAccepted(valid.entries);
    expect((await c.registry.listRefs()).map((e) => e.reference)).toEqual([REF]);
  });

  it('./-prefixed names, with ./ and directory entries', async () => {
    const dirs: RawEntry[] = ['./', './blobs/', './blobs/sha256/'].map((name) => ({
      name,
      type: '5',
      body: new Uint8Array(0),
    }));
    await expectAccepted([...dirs, ...valid.entries.map((e) => ({ ...e, name: `./${e.name}` }))]);
  });

  it('an archive without oci-layout (OMMX’s older archives), blobs first', async () => {
    await expectAccepted([...valid.entries.slice(1, -1).reverse(), valid.entries.at(-1)!]);
  });

  it('an index.json without mediaType (skopeo), before the blobs', async () => {
    const entries = withIndex((i) => {
      delete i['mediaType'];
      delete i.manifests[0]!['artifactType'];
    });
    expect(Buffer.from(entries.at(-1)!.body).toString()).not.toContain(
      'mediaType":"application/vnd.oci.image.index'
    );
    await expectAccepted([entries.at(-1)!, ...entries.slice(0, -1)]);
  });

  it('unknown files and a duplicate blob are ignored; no end marker is fine', async () => {
    const l0 = valid.entries.find((e) => e.name === valid.layers[0])!;
    const archive = buildTar(
      beforeIndex(
        { name: 'README.md', body: enc.encode('hello') },
        { name: 'manifest.json', body: enc.encode('[]') },
        { name: 'blobs/', type: '5', body: new Uint8Array(0) },
        l0
      ),
      { end: false }
    );
    await expectAccepted(archive);
  });

  it('an index.json without a ref.name gets an anonymous reference', async () => {
    const c = await hostileCase();
    await writeFile(
      c.file,
      buildTar(
        withIndex((i) => {
          delete i.manifests[0]!['annotations'];
        })
      )
    );
    const r = await importArchive(c.registry, c.file);
    expect(r.reference).toMatch(
      /^[0-9a-f]{8}\.runledger\.local\/anonymous:\d{8}T\d{6}-[0-9a-f]{12}$/
    );
    expect(r.descriptor.digest).toBe(valid.descriptor.digest);
  });

  it.skipIf(!HAS_TAR)('GNU tar re-archives of the layout (gnu, pax, ustar; ./ names)', async () => {
    const dir = await tempDir();
    const layout = join(dir, 'layout');
    await mkdir(layout);
    await writeFile(join(dir, 'valid.ommx'), valid.bytes);
    await run('tar', ['-xf', join(dir, 'valid.ommx'), '-C', layout]);
    for (const format of ['gnu', 'pax', 'ustar']) {
      const file = join(dir, `${format}.ommx`);
      await run('tar', [`--format=${format}`, '-cf', file, '-C', layout, '.']);
      await expectAccepted(new Uint8Array(await readFile(file)));
    }
  });
});

/** Regressions: bugs found while writing these suites, fixed in src/archive. */
describe('regressions', () => {
  function openFds(path: string): number {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;
  }

  // readTar closes its source when the consumer stops early or an entry is rejected.
  it.skipIf(!HAS_PROC_FD)(
    'a rejected import or inspect leaves no file descriptor open',
    async () => {
      const c = await hostileCase();
      await writeFile(
        c.file,
        buildTar([{ name: '../escape', body: PAYLOAD }, ...valid.entries, ...valid.entries])
      );
      for (let i = 0; i < 3; i++) {
        await expectCode(importArchive(c.registry, c.file), 'ARCHIVE_INVALID');
        await expectCode(inspectArchive(c.file), 'ARCHIVE_INVALID');
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(openFds(c.file)).toBe(0);
    }
  );

  // The path the caller names may be a symlink (entries inside a layout may not).
  it('importArchive follows a symlink to a layout directory and never throws a raw Node error', async () => {
    const source = await LocalRegistry.open(await tempDir());
    const { descriptor } = await writeArtifact(source, { layers: ['x'] });
    await source.publishRef(REF, descriptor);
    const link = join(await tempDir(), 'layout-link');
    await symlink(source.root, link);
    const target = await LocalRegistry.open(await tempDir());
    const caught = await importArchive(target, link).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(caught === undefined || isRunledgerError(caught)).toBe(true);
  });

  it('inspectArchive(<directory>) fails with a RunledgerError', async () => {
    const caught = await inspectArchive(await tempDir()).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(isRunledgerError(caught)).toBe(true);
  });

  it('inspectArchive reports a well-hashed but invalid manifest as ARCHIVE_INVALID', async () => {
    const bad = enc.encode('{"schemaVersion":2,"config":"nope"}');
    const entries = withIndex((i) => {
      i.manifests[0]!['digest'] = digestOf(bad);
      i.manifests[0]!['size'] = bad.byteLength;
    });
    const file = join(await tempDir(), 'bad.ommx');
    await writeFile(
      file,
      buildTar([{ name: `blobs/sha256/${digestOf(bad).slice(7)}`, body: bad }, ...entries])
    );
    await expectCode(inspectArchive(file), 'ARCHIVE_INVALID');
  });
});
