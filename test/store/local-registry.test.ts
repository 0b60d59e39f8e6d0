import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRunledgerError, type ErrorCode } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { tempDir } from '../helpers/temp.js';

const enc = new TextEncoder();

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    expect(isRunledgerError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return (e as { data: Record<string, unknown> }).data;
  }
  throw new Error(`expected rejection with ${code}`);
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield enc.encode(p);
}

async function tmpFiles(root: string): Promise<string[]> {
  return readdir(join(root, '.runledger', 'tmp'));
}

describe('LocalRegistry.open', () => {
  it('creates a valid OCI image layout in a new directory', async () => {
    const root = join(await tempDir(), 'store');
    const registry = await LocalRegistry.open(root);
    expect(await readFile(join(root, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}');
    const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [],
    });
    expect((await stat(join(root, 'blobs', 'sha256'))).isDirectory()).toBe(true);
    expect(await registry.listRefs()).toEqual([]);
  });

  it('opens an empty existing directory and reopens its own layout', async () => {
    const root = await tempDir();
    const a = await LocalRegistry.open(root);
    const { descriptor } = await writeArtifact(a);
    await a.publishRef('ghcr.io/acme/x:1', descriptor);
    const b = await LocalRegistry.open(root);
    expect((await b.resolve('ghcr.io/acme/x:1')).digest).toBe(descriptor.digest);
  });

  it('refuses a root that is a file', async () => {
    const file = join(await tempDir(), 'file');
    await writeFile(file, 'x');
    const data = await rejectsWith(LocalRegistry.open(file), 'LAYOUT_INVALID');
    expect(data['root']).toBe(file);
  });

  it('refuses a non-empty directory that is not a layout, and changes nothing in it', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'notes.txt'), 'mine');
    await rejectsWith(LocalRegistry.open(root), 'LAYOUT_INVALID');
    expect(await readdir(root)).toEqual(['notes.txt']);
  });

  it('refuses a broken oci-layout file and a layout without index.json', async () => {
    const a = await tempDir();
    await writeFile(join(a, 'oci-layout'), '{"imageLayoutVersion":"9.0.0"}');
    await writeFile(join(a, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    await rejectsWith(LocalRegistry.open(a), 'LAYOUT_INVALID');
    const b = await tempDir();
    await writeFile(join(b, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await rejectsWith(LocalRegistry.open(b), 'LAYOUT_INVALID');
  });

  it('refuses a layout whose index.json is damaged', async () => {
    const root = await tempDir();
    await LocalRegistry.open(root);
    await writeFile(join(root, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"x"}]}');
    await rejectsWith(LocalRegistry.open(root), 'LAYOUT_INVALID');
  });

  it('adopts a layout written by another tool (index.json without mediaType)', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
    await writeFile(join(root, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    const registry = await LocalRegistry.open(root);
    expect(await registry.listRefs()).toEqual([]);
  });

  it('takes its default root from RUNLEDGER_HOME, then XDG_DATA_HOME, then HOME', () => {
    expect(LocalRegistry.defaultRoot({ RUNLEDGER_HOME: '/data/r' })).toBe('/data/r');
    expect(LocalRegistry.defaultRoot({ XDG_DATA_HOME: '/xdg' })).toBe('/xdg/runledger');
    expect(LocalRegistry.defaultRoot({ HOME: '/home/u' })).toBe('/home/u/.local/share/runledger');
  });
});

describe('blobs', () => {
  it('puts, reads, stats and streams bytes', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const bytes = enc.encode('hello runledger');
    const info = await registry.putBlob(bytes);
    expect(info).toEqual({ digest: digestOf(bytes), size: bytes.byteLength });
    expect(await registry.hasBlob(info.digest)).toBe(true);
    expect(Buffer.from(await registry.readBlob(info.digest)).toString()).toBe('hello runledger');
    const s = await registry.statBlob(info.digest);
    expect(s.size).toBe(bytes.byteLength);
    expect(s.path).toBe(join(registry.root, 'blobs', 'sha256', info.digest.slice(7)));
    const parts: Buffer[] = [];
    for await (const c of registry.streamBlob(info.digest)) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).toString()).toBe('hello runledger');
  });

  it('streams content in, hashing while writing', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const info = await registry.putBlobStream(chunks('a', 'bc', 'def'), {
      expectedDigest: digestOf('abcdef'),
      expectedSize: 6,
    });
    expect(info).toEqual({ digest: digestOf('abcdef'), size: 6 });
    expect(await tmpFiles(registry.root)).toEqual([]);
  });

  it('publishes nothing when a stream ends early or runs over its declared size', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const short = await rejectsWith(
      registry.putBlobStream(chunks('abc'), { expectedSize: 10 }),
      'SIZE_MISMATCH'
    );
    expect(short).toMatchObject({ expected: 10, actual: 3 });
    const long = await rejectsWith(
      registry.putBlobStream(chunks('abcdef', 'ghi'), { expectedSize: 4 }),
      'SIZE_MISMATCH'
    );
    expect(long['expected']).toBe(4);
    await rejectsWith(
      registry.putBlobStream(chunks('abc'), { expectedDigest: digestOf('xyz') }),
      'DIGEST_MISMATCH'
    );
    expect(await registry.hasBlob(digestOf('abc'))).toBe(false);
    expect(await readdir(join(registry.root, 'blobs', 'sha256'))).toEqual([]);
    expect(await tmpFiles(registry.root)).toEqual([]);
  });

  it('publishes nothing when the source stream fails or the signal aborts', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield enc.encode('partial');
      throw new Error('disk went away');
    }
    await rejectsWith(registry.putBlobStream(failing()), 'IO_ERROR');
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield enc.encode('one');
      controller.abort();
      yield enc.encode('two');
    }
    await rejectsWith(registry.putBlobStream(slow(), { signal: controller.signal }), 'ABORTED');
    expect(await readdir(join(registry.root, 'blobs', 'sha256'))).toEqual([]);
    expect(await tmpFiles(registry.root)).toEqual([]);
  });

  it('verifies an existing blob and touches its mtime instead of rewriting it', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const bytes = enc.encode('same content');
    const { digest } = await registry.putBlob(bytes);
    const path = (await registry.statBlob(digest)).path;
    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(path, old, old);
    const before = await stat(path);
    await registry.putBlob(bytes);
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
  });

  it('repairs a corrupt existing blob when the same content is written again', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const bytes = enc.encode('precious');
    const { digest } = await registry.putBlob(bytes);
    const path = (await registry.statBlob(digest)).path;
    await writeFile(path, 'preciouz');
    await rejectsWith(registry.readBlob(digest), 'DIGEST_MISMATCH');
    await registry.putBlob(bytes);
    expect(Buffer.from(await registry.readBlob(digest)).toString()).toBe('precious');
  });

  it('fails reads of a flipped byte with DIGEST_MISMATCH naming blob and path', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const { descriptor, manifest } = await writeArtifact(registry, { layers: ['a'.repeat(4096)] });
    await registry.publishRef('ghcr.io/acme/flip:1', descriptor);
    const layer = manifest.layers[0]!;
    const path = (await registry.statBlob(layer.digest)).path;
    const content = await readFile(path);
    content[100] = content[100]! ^ 0x01;
    await writeFile(path, content);

    const err = await registry.readBlob(layer.digest).catch((e: unknown) => e);
    expect(isRunledgerError(err, 'DIGEST_MISMATCH')).toBe(true);
    const e = err as Error & { data: Record<string, unknown> };
    expect(e.message).toContain(layer.digest);
    expect(e.message).toContain(path);
    expect(e.data).toMatchObject({ digest: layer.digest, path });

    const streamed = (async () => {
      for await (const _ of registry.streamBlob(layer.digest)) void _;
    })();
    await rejectsWith(streamed, 'DIGEST_MISMATCH');

    const report = await registry.fsck();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'corrupt',
        digest: layer.digest,
        path,
        refs: ['ghcr.io/acme/flip:1'],
      }),
    ]);
  });

  it('rejects malformed digests before touching the disk', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    for (const bad of [
      'sha256:../../x',
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(63)}`,
      'md5:abc',
    ]) {
      await rejectsWith(registry.readBlob(bad), 'DIGEST_INVALID');
      await rejectsWith(registry.hasBlob(bad), 'DIGEST_INVALID');
    }
  });

  it('checks a small blob read with its size known (read at once) as any other read', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const small = new TextEncoder().encode('{"run": 1}');
    const large = new Uint8Array(70 * 1024).fill(7);
    for (const bytes of [small, large]) {
      const { digest, size } = await registry.putBlob(bytes);
      expect(await registry.readBlob(digest, { expectedSize: size })).toEqual(bytes);
      await rejectsWith(registry.readBlob(digest, { expectedSize: size + 1 }), 'SIZE_MISMATCH');
      const path = (await registry.statBlob(digest)).path;
      const flipped = Buffer.from(bytes);
      flipped[0] = flipped[0]! ^ 0x01;
      await writeFile(path, flipped);
      await rejectsWith(registry.readBlob(digest, { expectedSize: size }), 'DIGEST_MISMATCH');
    }
    await rejectsWith(registry.readBlob(digestOf('nope'), { expectedSize: 4 }), 'BLOB_NOT_FOUND');
  });

  it('reports a missing blob as BLOB_NOT_FOUND', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await rejectsWith(registry.readBlob(digestOf('nope')), 'BLOB_NOT_FOUND');
    await rejectsWith(registry.statBlob(digestOf('nope')), 'BLOB_NOT_FOUND');
  });
});

describe('references', () => {
  it('publishes insert-or-conflict and never moves a reference silently', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await writeArtifact(registry, { layers: ['a'] });
    const b = await writeArtifact(registry, { layers: ['b'] });
    expect(await registry.publishRef('ghcr.io/acme/qap:v1', a.descriptor)).toBe('created');
    expect(await registry.publishRef('ghcr.io/acme/qap:v1', a.descriptor)).toBe('unchanged');
    const data = await rejectsWith(
      registry.publishRef('ghcr.io/acme/qap:v1', b.descriptor),
      'REF_CONFLICT'
    );
    expect(data).toMatchObject({ current: a.descriptor.digest, wanted: b.descriptor.digest });
    expect((await registry.resolve('ghcr.io/acme/qap:v1')).digest).toBe(a.descriptor.digest);
  });

  it('writes index.json with one descriptor per reference named by ref.name', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await writeArtifact(registry);
    await registry.publishRef('ghcr.io/acme/z:1', a.descriptor);
    await registry.publishRef('ubuntu', a.descriptor);
    const index = JSON.parse(await readFile(join(registry.root, 'index.json'), 'utf8'));
    expect(
      index.manifests.map(
        (m: { annotations: Record<string, string> }) =>
          m.annotations['org.opencontainers.image.ref.name']
      )
    ).toEqual(['docker.io/library/ubuntu:latest', 'ghcr.io/acme/z:1']);
    expect(index.manifests[0]).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: a.descriptor.digest,
      size: a.descriptor.size,
      artifactType: 'application/vnd.runledger.test.v1',
    });
  });

  it('normalises reference spellings to one entry', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await writeArtifact(registry);
    await registry.publishRef('ubuntu', a.descriptor);
    expect((await registry.resolve('docker.io/library/ubuntu:latest')).digest).toBe(
      a.descriptor.digest
    );
    expect((await registry.resolve('index.docker.io/ubuntu')).digest).toBe(a.descriptor.digest);
    await rejectsWith(registry.resolve('ghcr.io/x y:1'), 'REFERENCE_INVALID');
    await rejectsWith(registry.resolve('ghcr.io//x:1'), 'REFERENCE_INVALID');
    await rejectsWith(registry.resolve('ghcr.io/acme/none:1'), 'REF_NOT_FOUND');
  });

  it('refuses to publish a manifest whose closure is incomplete', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const { descriptor, manifest } = await writeArtifact(registry, { layers: ['x', 'y'] });
    const path = (await registry.statBlob(manifest.layers[1]!.digest)).path;
    await writeFile(path, ''); // wrong size
    const data = await rejectsWith(
      registry.publishRef('ghcr.io/a/b:1', descriptor),
      'CLOSURE_INCOMPLETE'
    );
    expect(data['wrongSize']).toEqual([manifest.layers[1]!.digest]);
    expect(await registry.listRefs()).toEqual([]);
    await rejectsWith(
      registry.publishRef('ghcr.io/a/b:1', { ...descriptor, digest: digestOf('no manifest') }),
      'CLOSURE_INCOMPLETE'
    );
  });

  it('replaces, deletes and restores references', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await writeArtifact(registry, { layers: ['a'] });
    const b = await writeArtifact(registry, { layers: ['b'] });
    expect(await registry.replaceRef('ghcr.io/a/c:1', a.descriptor)).toBeUndefined();
    expect((await registry.replaceRef('ghcr.io/a/c:1', b.descriptor))?.digest).toBe(
      a.descriptor.digest
    );
    const removed = await registry.deleteRef('ghcr.io/a/c:1');
    expect(removed.digest).toBe(b.descriptor.digest);
    await rejectsWith(registry.deleteRef('ghcr.io/a/c:1'), 'REF_NOT_FOUND');
    expect(await registry.restoreRef('ghcr.io/a/c:1', b.descriptor.digest)).toBe('created');
    expect(await registry.restoreRef('ghcr.io/a/c:1', b.descriptor.digest)).toBe('unchanged');
    await rejectsWith(registry.restoreRef('ghcr.io/a/c:1', a.descriptor.digest), 'REF_CONFLICT');
    expect(await registry.resolve('ghcr.io/a/c:1')).toEqual(b.descriptor);
  });

  it('restores only when the whole closure is still present', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const { descriptor, manifest } = await writeArtifact(registry, { layers: ['gone'] });
    await registry.publishRef('ghcr.io/a/r:1', descriptor);
    await registry.deleteRef('ghcr.io/a/r:1');
    const { rm } = await import('node:fs/promises');
    await rm((await registry.statBlob(manifest.layers[0]!.digest)).path);
    const data = await rejectsWith(
      registry.restoreRef('ghcr.io/a/r:1', descriptor.digest),
      'CLOSURE_INCOMPLETE'
    );
    expect(data['missing']).toEqual([manifest.layers[0]!.digest]);
    await rejectsWith(registry.restoreRef('ghcr.io/a/r:1', digestOf('absent')), 'BLOB_NOT_FOUND');
  });

  it('tags, lists by prefix and hides checkpoint references unless asked', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await writeArtifact(registry);
    await registry.publishRef('ghcr.io/acme/qap:v1', a.descriptor);
    expect(await registry.tag('ghcr.io/acme/qap:v1', 'ghcr.io/other/qap:v1')).toBe('created');
    await registry.publishRef(
      `0123abcd.runledger.local/checkpoint:${'f'.repeat(64)}`,
      a.descriptor
    );
    expect((await registry.listRefs()).map((r) => r.reference)).toEqual([
      'ghcr.io/acme/qap:v1',
      'ghcr.io/other/qap:v1',
    ]);
    expect((await registry.listRefs({ prefix: 'ghcr.io/acme/' })).map((r) => r.reference)).toEqual([
      'ghcr.io/acme/qap:v1',
    ]);
    expect(await registry.listRefs({ includeInternal: true })).toHaveLength(3);
    await rejectsWith(registry.tag('ghcr.io/acme/none:v1', 'ghcr.io/x/y:1'), 'REF_NOT_FOUND');
  });
});

describe('gc', () => {
  async function age(registry: LocalRegistry, digest: string, hours: number): Promise<void> {
    const t = new Date(Date.now() - hours * 3_600_000);
    await utimes((await registry.statBlob(digest)).path, t, t);
  }

  it('reports unreferenced blobs past the grace period, and deletes only with delete', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const kept = await writeArtifact(registry, { layers: ['kept', 'shared'] });
    await registry.publishRef('ghcr.io/a/kept:1', kept.descriptor);
    const dropped = await writeArtifact(registry, {
      layers: ['dropped', 'shared'],
      config: '{"x":2}',
    });
    const young = await registry.putBlob(enc.encode('young orphan'));
    for (const d of [
      dropped.descriptor.digest,
      dropped.manifest.config.digest,
      dropped.manifest.layers[0]!.digest,
    ]) {
      await age(registry, d, 48);
    }
    await age(registry, kept.manifest.layers[0]!.digest, 48);

    const dry = await registry.gc();
    expect(dry.dryRun).toBe(true);
    expect(dry.refs).toBe(1);
    expect(dry.reachable.count).toBe(4);
    expect([...dry.candidates.digests].sort()).toEqual(
      [
        dropped.descriptor.digest,
        dropped.manifest.config.digest,
        dropped.manifest.layers[0]!.digest,
      ].sort()
    );
    expect(dry.deferred.count).toBe(1);
    expect(dry.deleted.count).toBe(0);
    expect(await registry.hasBlob(dropped.descriptor.digest)).toBe(true);

    const real = await registry.gc({ delete: true });
    expect(real.deleted.count).toBe(3);
    expect(real.deleted.size).toBe(dry.candidates.size);
    expect(await registry.hasBlob(dropped.descriptor.digest)).toBe(false);
    expect(await registry.hasBlob(young.digest)).toBe(true);
    expect(await registry.hasBlob(kept.manifest.layers[1]!.digest)).toBe(true);
    expect((await registry.fsck()).ok).toBe(true);

    const now = await registry.gc({ delete: true, gracePeriod: 0 });
    expect(now.deleted.count).toBe(1);
    expect(await registry.hasBlob(young.digest)).toBe(false);
  });

  it('keeps a subject chain alive through the referrer', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const parent = await writeArtifact(registry, { layers: ['parent'] });
    const child = await writeArtifact(registry, { layers: ['child'], subject: parent.descriptor });
    await registry.publishRef('ghcr.io/a/child:1', child.descriptor);
    const report = await registry.gc({ delete: true, gracePeriod: 0 });
    expect(report.deleted.count).toBe(0);
    expect(await registry.hasBlob(parent.manifest.layers[0]!.digest)).toBe(true);
  });

  it('removes abandoned temp files past the grace period', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const t = join(registry.root, '.runledger', 'tmp', 'blob-1-deadbeef');
    await writeFile(t, 'half-written');
    const old = new Date(Date.now() - 48 * 3_600_000);
    await utimes(t, old, old);
    const report = await registry.gc({ delete: true });
    expect(report.tempFilesRemoved).toBe(1);
    expect(await tmpFiles(registry.root)).toEqual([]);
  });

  it('refuses a malformed grace period', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await rejectsWith(registry.gc({ gracePeriod: '24 hours' }), 'ARGUMENT_INVALID');
  });
});

describe('fsck and size', () => {
  it('reports a missing blob and a clean store', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const { descriptor, manifest } = await writeArtifact(registry, { layers: ['l0', 'l1'] });
    await registry.publishRef('ghcr.io/a/f:1', descriptor);
    expect(await registry.fsck()).toMatchObject({ ok: true, refs: 1, blobs: 4, problems: [] });
    const { rm } = await import('node:fs/promises');
    await rm((await registry.statBlob(manifest.layers[1]!.digest)).path);
    const report = await registry.fsck();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'missing',
        digest: manifest.layers[1]!.digest,
        refs: ['ghcr.io/a/f:1'],
      }),
    ]);
  });

  it('sums manifest, config and distinct layers', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const { descriptor, manifest } = await writeArtifact(registry, {
      layers: ['aaaa', 'bb', 'aaaa'],
    });
    await registry.publishRef('ghcr.io/a/s:1', descriptor);
    const report = await registry.size('ghcr.io/a/s:1');
    expect(report).toEqual({
      reference: 'ghcr.io/a/s:1',
      digest: descriptor.digest,
      size: descriptor.size + manifest.config.size + 4 + 2,
      blobs: 4,
    });
  });
});
