/**
 * Interoperability (oci-reference §13 cases 1, 2 and 3) against the real docker-registry 2.8.2 and
 * the real skopeo 1.9:
 *
 * 1. round trips of a real experiment, an empty-config artifact and a custom-config artifact:
 *    manifest and every blob byte-identical after push and pull, and the manifest GET carried an
 *    `Accept` with the OCI types (read from a recording pass-through `fetch`, not a double);
 * 2. skopeo in both directions: registry → `oci:` layout, our `.ommx` export → registry, our store
 *    root → registry → our pull, registry → `oci-archive:` → our import;
 * 3. layouts byte-for-byte as oras, crane and regclient write them (those tools are not installable
 *    here; each fixture says which code path of the tool it reproduces), imported, pushed and
 *    pulled with every digest kept.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportArchive } from '../../src/archive/export.js';
import { importArchive } from '../../src/archive/import.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import {
  ANNOTATION_TITLE,
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/media-types.js';
import type { Descriptor, Manifest } from '../../src/oci/types.js';
import { RemoteClient } from '../../src/remote/client.js';
import { referrersTag } from '../../src/remote/referrers.js';
import { MANIFEST_ACCEPT } from '../../src/remote/repository.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { recordingFetch, type RecordingFetch } from '../helpers/recording-fetch.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { buildTar, splitTar } from '../helpers/tar.js';
import { tempDir } from '../helpers/temp.js';
import {
  HAS_DOCKER_REGISTRY,
  HAS_SKOPEO,
  REGISTRY_SKIP_REASON,
  SKOPEO_SKIP_REASON,
} from '../helpers/tools.js';

const run = promisify(execFile);
const enc = new TextEncoder();
const REF_NAME = 'org.opencontainers.image.ref.name';
const CREATED = 'org.opencontainers.image.created';
/** The OCI empty descriptor's content and digest (image-spec 1.1, "Guidance for an Empty Descriptor"). */
const EMPTY_JSON = enc.encode('{}');
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

if (!HAS_DOCKER_REGISTRY) console.warn(`skipping interop tests: ${REGISTRY_SKIP_REASON}`);
if (HAS_DOCKER_REGISTRY && !HAS_SKOPEO)
  console.warn(`skipping skopeo tests: ${SKOPEO_SKIP_REASON}`);

async function freshRegistry(): Promise<LocalRegistry> {
  return LocalRegistry.open(join(await tempDir(), 'store'));
}

/** A manifest's digest plus its config and layers: everything a round trip must keep. */
async function closureOf(registry: LocalRegistry, digest: Digest): Promise<Descriptor[]> {
  const { manifest, bytes } = await registry.readManifest(digest);
  return [
    { mediaType: manifest.mediaType, digest, size: bytes.byteLength },
    manifest.config,
    ...manifest.layers,
  ];
}

/** Every blob of `digest`'s closure is in `b` with the same bytes as in `a`. */
async function expectSameBlobs(a: LocalRegistry, b: LocalRegistry, digest: Digest): Promise<void> {
  const blobs = await closureOf(a, digest);
  expect(await closureOf(b, digest)).toEqual(blobs);
  for (const d of blobs) {
    const mine = await a.readBlob(d.digest);
    const theirs = await b.readBlob(d.digest);
    expect(digestOf(theirs), d.digest).toBe(d.digest);
    expect(Buffer.from(theirs).equals(Buffer.from(mine)), d.digest).toBe(true);
  }
}

/** The manifest GETs of `tag` carried every OCI manifest type in `Accept`. */
function expectOciAccept(rec: RecordingFetch, repository: string, tag: string): void {
  const gets = rec.find(`/v2/${repository}/manifests/${tag}`, 'GET');
  expect(gets.length).toBeGreaterThan(0);
  for (const g of gets) {
    const accept = g.headers.get('accept') ?? '';
    expect(accept).toContain(MEDIA_TYPE_MANIFEST);
    expect(accept).toContain(MEDIA_TYPE_IMAGE_INDEX);
    expect(accept).toBe(MANIFEST_ACCEPT);
    expect(g.status).toBe(200);
  }
}

/** An artifact whose config is the OCI empty descriptor (`{}`), with artifactType set. */
async function emptyConfigArtifact(registry: LocalRegistry): Promise<Descriptor> {
  const batch = registry.batch();
  const config = await batch.putBlob(EMPTY_JSON);
  const csv = await batch.putBlob(enc.encode('run,objective\n0,12.5\n1,11.75\n'));
  await batch.commit();
  expect(config.digest).toBe(EMPTY_DIGEST);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    artifactType: 'application/vnd.runledger.test.results.v1',
    config: { mediaType: MEDIA_TYPE_EMPTY, ...config },
    layers: [{ mediaType: 'text/csv', ...csv, annotations: { [ANNOTATION_TITLE]: 'runs.csv' } }],
  };
  return registry.writeManifest(manifest);
}

/** A small recorded study: three runs with parameters, a JSON and a file attachment each. */
async function recordStudy(
  registry: LocalRegistry,
  reference: string,
  options: { reproducible?: boolean; fileMtime?: Date } = {}
) {
  const dir = await tempDir();
  const file = join(dir, 'instance.lp');
  await writeFile(file, 'minimize\n obj: x + 2 y\nsubject to\n c1: x + y >= 1\nend\n');
  if (options.fileMtime !== undefined) await utimes(file, options.fileMtime, options.fileMtime);
  const exp = await Experiment.create(reference, {
    registry,
    handleSignals: false,
    journal: false,
    ...(options.reproducible === undefined ? {} : { reproducible: options.reproducible }),
  });
  await exp.logJson('settings', { solver: 'highs', presolve: true });
  for (const seed of [1, 2, 3]) {
    await exp.run(async (r) => {
      r.logParameter('seed', seed);
      r.logParameter('alpha', seed / 4);
      r.logParameter('solver', 'highs');
      await r.logJson('result', { seed, objective: 10 + seed });
      await r.logFile('instance', file);
    });
  }
  return { sealed: await exp.commit(), file };
}

// One registry for the whole file: every test uses its own repositories.
let server: RegistryServer;
beforeAll(async () => {
  if (HAS_DOCKER_REGISTRY) server = await startRegistry();
});
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!HAS_DOCKER_REGISTRY)('round trips on docker-registry 2.8.2 (§13.1)', () => {
  it('an experiment pushed and pulled into a fresh store is byte-identical and loads with the same runs', async () => {
    const local = await freshRegistry();
    const ref = `${server.host}/acme/rt:v1`;
    const { sealed, file } = await recordStudy(local, ref);
    const rec = recordingFetch();
    const pushed = await pushArtifact(ref, ref, { registry: local, fetch: rec.fetch });
    expect(pushed.digest).toBe(sealed.manifestDigest);
    expect(pushed.blobs.transferred).toBe(pushed.blobs.total);
    // Distinct blobs: the same input file logged by three runs is one blob.
    const distinct = new Set(
      [sealed.manifest.config, ...sealed.manifest.layers].map((d) => d.digest)
    );
    expect(pushed.blobs.total).toBe(distinct.size);
    expect(distinct.size).toBeLessThan(sealed.manifest.layers.length + 1);

    const fresh = await freshRegistry();
    const pulled = await pullArtifact(ref, { registry: fresh, fetch: rec.fetch });
    expect(pulled.digest).toBe(sealed.manifestDigest);
    expect(pulled.reference).toBe(ref);
    expect((await fresh.resolve(ref)).digest).toBe(sealed.manifestDigest);
    await expectSameBlobs(local, fresh, sealed.manifestDigest);
    expectOciAccept(rec, 'acme/rt', 'v1');
    expect((await fresh.fsck()).problems).toEqual([]);

    // The pulled copy reads as the same experiment: runs, parameters, attachments, file bytes.
    const loaded = await Experiment.load(ref, { registry: fresh });
    expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
    expect(loaded.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual(
      sealed.runs.map((r) => [r.runId, r.status, r.parameters])
    );
    expect(loaded.runs.map((r) => r.parameters['seed'])).toEqual([1n, 2n, 3n]);
    expect(await loaded.getJson('settings')).toEqual({ solver: 'highs', presolve: true });
    expect(await loaded.runs[2]!.getJson('result')).toEqual({ seed: 3, objective: 13 });
    const original = await readFile(file);
    for (const r of loaded.runs) {
      expect(Buffer.from(await r.getBlob('instance')).equals(original)).toBe(true);
    }
  });

  it('an empty-config artifact survives deleting the local copy and pulling it back', async () => {
    const local = await freshRegistry();
    const name = 'localhost/acme/results:v1';
    const descriptor = await emptyConfigArtifact(local);
    await local.publishRef(name, descriptor);
    const before = new Map<string, Uint8Array>();
    for (const d of await closureOf(local, descriptor.digest)) {
      before.set(d.digest, await local.readBlob(d.digest));
    }
    const target = `${server.host}/acme/empty:v1`;
    const rec = recordingFetch();
    const pushed = await pushArtifact(name, target, { registry: local, fetch: rec.fetch });
    expect(pushed.digest).toBe(descriptor.digest);

    // Delete the local copy: the reference and (after GC) every blob.
    await local.deleteRef(name);
    await local.gc({ delete: true, gracePeriod: 0 });
    expect(await local.hasBlob(descriptor.digest)).toBe(false);
    expect(await local.hasBlob(EMPTY_DIGEST)).toBe(false);

    const pulled = await pullArtifact(target, { registry: local, as: name, fetch: rec.fetch });
    expect(pulled.digest).toBe(descriptor.digest);
    expect(pulled.blobs.transferred).toBe(2);
    expect((await local.resolve(name)).digest).toBe(descriptor.digest);
    for (const [digest, bytes] of before) {
      expect(Buffer.from(await local.readBlob(digest)).equals(Buffer.from(bytes)), digest).toBe(
        true
      );
    }
    const { manifest } = await local.readManifest(descriptor.digest);
    expect(manifest.config).toEqual({ mediaType: MEDIA_TYPE_EMPTY, digest: EMPTY_DIGEST, size: 2 });
    expect(manifest.artifactType).toBe('application/vnd.runledger.test.results.v1');
    expectOciAccept(rec, 'acme/empty', 'v1');
    expect((await local.fsck()).problems).toEqual([]);
  });

  it('a custom-config artifact round-trips byte-identically (one blob sent in chunks); pushing it again sends nothing', async () => {
    const local = await freshRegistry();
    const MiB = 1024 * 1024;
    const { descriptor, manifest } = await writeArtifact(local, {
      config: '{"solver":"highs","threads":4}',
      layers: [
        'first layer',
        new Uint8Array(300_000).map((_, i) => i % 251),
        new Uint8Array(2.5 * MiB).map((_, i) => (i * 31) % 253),
      ],
    });
    const target = `${server.host}/acme/custom:v1`;
    await local.publishRef(target, descriptor);
    expect(manifest.config.mediaType).toBe('application/vnd.runledger.test.config.v1+json');
    const rec = recordingFetch();
    const chunked = { chunkThreshold: MiB, chunkSize: MiB };
    expect(
      (await pushArtifact(target, target, { registry: local, fetch: rec.fetch, ...chunked })).digest
    ).toBe(descriptor.digest);
    // The 2.5 MiB layer went up in three PATCHes (2.8.2 ignores Content-Range; the digest holds).
    expect(rec.requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);

    // The registry serves the exact manifest bytes we pushed.
    const repo = new RemoteClient({ fetch: rec.fetch }).repository(target);
    const served = await repo.fetchManifest('v1');
    expect(
      Buffer.from(served.bytes).equals(Buffer.from(await local.readBlob(descriptor.digest)))
    ).toBe(true);
    expect(served.descriptor).toMatchObject({
      mediaType: MEDIA_TYPE_MANIFEST,
      digest: descriptor.digest,
    });

    const fresh = await freshRegistry();
    const pulled = await pullArtifact(target, { registry: fresh, fetch: rec.fetch });
    expect(pulled.digest).toBe(descriptor.digest);
    expect(pulled.bytes.total).toBe(pulled.bytes.transferred);
    await expectSameBlobs(local, fresh, descriptor.digest);
    expectOciAccept(rec, 'acme/custom', 'v1');

    const puts = rec.requests.filter((r) => r.method === 'PUT' || r.method === 'PATCH').length;
    const again = await pushArtifact(target, target, { registry: local, fetch: rec.fetch });
    expect(again).toMatchObject({ upToDate: true, digest: descriptor.digest });
    expect(rec.requests.filter((r) => r.method === 'PUT' || r.method === 'PATCH')).toHaveLength(
      puts
    );
  });

  it('a reproducible study sealed twice (other clock, other file mtimes, other store) pushes to one digest (§13.15)', async () => {
    const ref = `${server.host}/acme/repro:v1`;
    const a = await freshRegistry();
    const first = await recordStudy(a, ref, {
      reproducible: true,
      fileMtime: new Date('2001-02-03T04:05:06Z'),
    });
    let second: Awaited<ReturnType<typeof recordStudy>>;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2037-12-31T23:59:59Z'));
      second = await recordStudy(await freshRegistry(), ref, {
        reproducible: true,
        fileMtime: new Date('2030-06-07T08:09:10Z'),
      });
    } finally {
      vi.useRealTimers();
    }
    expect(second.sealed.manifestDigest).toBe(first.sealed.manifestDigest);
    const pushed = await pushArtifact(ref, ref, { registry: a });
    expect(pushed.upToDate).toBe(false);
    const again = await pushArtifact(ref, ref, { registry: second.sealed.registry });
    expect(again).toMatchObject({ upToDate: true, digest: first.sealed.manifestDigest });
    expect(again.blobs.transferred).toBe(0);
  });
});

describe.skipIf(!HAS_DOCKER_REGISTRY || !HAS_SKOPEO)('skopeo interop (§13.2)', () => {
  let policyDir: string;
  let policy: string;
  beforeAll(async () => {
    // skopeo refuses to copy without a signature policy; accept anything, for these copies only.
    policyDir = await mkdtemp(join(tmpdir(), 'runledger-skopeo-policy-'));
    policy = join(policyDir, 'policy.json');
    await writeFile(policy, '{"default":[{"type":"insecureAcceptAnything"}]}');
  });
  afterAll(async () => {
    if (policyDir !== undefined) await rm(policyDir, { recursive: true, force: true });
  });

  const skopeo = (...args: string[]) => run('skopeo', ['--policy', policy, ...args]);
  const blobFile = (dir: string, digest: string): string =>
    join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));

  it('(a) skopeo copy docker:// → oci: fetches what pushArtifact pushed: same manifest digest, same blob files', async () => {
    const local = await freshRegistry();
    const ref = `${server.host}/acme/x:v1`;
    const { sealed } = await recordStudy(local, ref);
    await pushArtifact(ref, ref, { registry: local });
    const out = join(await tempDir(), 'layout');
    await skopeo('copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as {
      manifests: Descriptor[];
    };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      digest: sealed.manifestDigest,
      annotations: { [REF_NAME]: 'v1' },
    });
    const blobs = await closureOf(local, sealed.manifestDigest);
    for (const d of blobs) {
      const copied = await readFile(blobFile(out, d.digest));
      expect(copied.equals(Buffer.from(await local.readBlob(d.digest))), d.digest).toBe(true);
    }
    // Nothing else: skopeo fetched exactly the closure.
    expect((await readdir(join(out, 'blobs', 'sha256'))).sort()).toEqual(
      [...new Set(blobs.map((d) => d.digest.slice(7)))].sort()
    );
  });

  it('(b) skopeo copy oci-archive:<our export> → docker:// gives the same manifest digest as our own push', async () => {
    const local = await freshRegistry();
    const name = 'ghcr.io/acme/y:v1';
    const { sealed } = await recordStudy(local, name);
    const file = join(await tempDir(), 'y.ommx');
    await exportArchive(local, name, file);
    await skopeo(
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `oci-archive:${file}:${name}`,
      `docker://${server.host}/acme/y:v1`
    );
    const ours = await pushArtifact(name, `${server.host}/acme/y-ours:v1`, { registry: local });
    const client = new RemoteClient();
    const viaSkopeo = await client.repository(`${server.host}/acme/y`).resolve('v1');
    const viaUs = await client.repository(`${server.host}/acme/y-ours`).resolve('v1');
    expect(viaSkopeo.digest).toBe(sealed.manifestDigest);
    expect(viaUs.digest).toBe(sealed.manifestDigest);
    expect(ours.digest).toBe(viaSkopeo.digest);

    // What skopeo pushed pulls back complete and byte-identical.
    const fresh = await freshRegistry();
    await pullArtifact(`${server.host}/acme/y:v1`, { registry: fresh });
    await expectSameBlobs(local, fresh, sealed.manifestDigest);
  });

  it('(c) what skopeo pushes from our store root (oci:<root>:<ref>) pullArtifact pulls with identical digests', async () => {
    const local = await freshRegistry();
    const name = 'ghcr.io/acme/z:v1';
    const descriptor = await emptyConfigArtifact(local);
    await local.publishRef(name, descriptor);
    // Another reference in the same index.json: skopeo must pick ours by its ref.name.
    const other = await writeArtifact(local, { layers: ['not this one'] });
    await local.publishRef('ghcr.io/acme/other:v1', other.descriptor);
    await skopeo(
      'copy',
      '-q',
      '--dest-tls-verify=false',
      `oci:${local.root}:${name}`,
      `docker://${server.host}/acme/z:v1`
    );
    const fresh = await freshRegistry();
    const pulled = await pullArtifact(`${server.host}/acme/z:v1`, { registry: fresh });
    expect(pulled.digest).toBe(descriptor.digest);
    await expectSameBlobs(local, fresh, descriptor.digest);
    expect((await fresh.fsck()).problems).toEqual([]);
  });

  it('(d) our import accepts skopeo copy docker:// → oci-archive:out.tar:<tag> (index.json without mediaType)', async () => {
    const local = await freshRegistry();
    const ref = `${server.host}/acme/d:v1`;
    const { descriptor } = await writeArtifact(local, { layers: ['alpha', 'b'.repeat(70_000)] });
    await local.publishRef(ref, descriptor);
    await pushArtifact(ref, ref, { registry: local });
    const dir = await tempDir();

    // A bare tag as skopeo users write it: the archive names only `v1`, no repository.
    const bare = join(dir, 'bare.tar');
    await skopeo(
      'copy',
      '-q',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci-archive:${bare}:v1`
    );
    const entries = splitTar(await readFile(bare));
    const names = entries.map((e) => e.name.replace(/^\.\//, ''));
    expect(names).toContain('index.json');
    expect(names).toContain('oci-layout');
    expect(names.every((n) => !n.includes('/') || n.startsWith('blobs/'))).toBe(true); // layout at root
    const index = JSON.parse(
      Buffer.from(entries[names.indexOf('index.json')]!.body).toString('utf8')
    ) as Record<string, unknown>;
    expect(index['mediaType']).toBeUndefined(); // skopeo 1.9 leaves it out
    expect((index['manifests'] as Descriptor[])[0]!.annotations).toEqual({ [REF_NAME]: 'v1' });
    const a = await freshRegistry();
    const imported = await importArchive(a, bare, { reference: 'localhost/imported/d:v1' });
    expect(imported).toMatchObject({ reference: 'localhost/imported/d:v1', result: 'created' });
    expect(imported.descriptor.digest).toBe(descriptor.digest);
    await expectSameBlobs(local, a, descriptor.digest);
    // Without a name it is anonymous: `v1` is not read as the Docker Hub image library/v1.
    const anonymous = await importArchive(await freshRegistry(), bare);
    expect(anonymous.reference).toMatch(
      /^[0-9a-f]{8}\.runledger\.local\/anonymous:\d{8}T\d{6}-[0-9a-f]{12}$/
    );
    expect(anonymous.descriptor.digest).toBe(descriptor.digest);

    // A full reference as the tag: import publishes it under that name without being told.
    const full = join(dir, 'full.tar');
    await skopeo(
      'copy',
      '-q',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci-archive:${full}:${ref}`
    );
    const b = await freshRegistry();
    const named = await importArchive(b, full);
    expect(named.reference).toBe(ref);
    expect(named.descriptor.digest).toBe(descriptor.digest);
    await expectSameBlobs(local, b, descriptor.digest);
    expect((await b.fsck()).problems).toEqual([]);
  });
});

// ---- golden layouts of other tools (§13.3) ----------------------------------------------------

/**
 * Go's `json.Marshal` output for a value built in the Go struct's field order: compact, fields
 * in insertion order. Go would also escape `<`, `>`, `&`, U+2028 and U+2029 — none may occur.
 */
function goJson(value: unknown, indent?: string): Uint8Array {
  const text = indent === undefined ? JSON.stringify(value) : JSON.stringify(value, null, indent);
  if (/[<>&\u2028\u2029]/.test(text)) throw new Error('Go would escape this; pick other test data');
  return enc.encode(text);
}

function sized(bytes: Uint8Array): { digest: Digest; size: number } {
  return { digest: digestOf(bytes), size: bytes.byteLength };
}

/** Writes `blobs/sha256/<hex>` files (read-only, as oras and regclient leave them). */
async function writeBlobs(root: string, blobs: readonly Uint8Array[]): Promise<void> {
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs) {
    const path = join(root, 'blobs', 'sha256', digestOf(b).slice(7));
    await writeFile(path, b);
    await chmod(path, 0o444);
  }
}

/**
 * `oras push --oci-layout <dir>:v1` (oras-go v2 `oci.Store` + `PackManifest` v1.1): the empty
 * config with `data: "e30="`, `org.opencontainers.image.created` on the manifest, layers titled
 * from file names (plus one untitled blob), `index.json` by `json.Marshal(ocispec.Index)` with the
 * manifest's annotations and artifactType copied onto its entry and `ref.name` = the bare tag,
 * `oci-layout` by `json.Marshal`, and the `ingest/` temp directory left behind.
 */
async function orasLayout(root: string) {
  const titled = enc.encode('run,objective\n0,12.5\n');
  const untitled = new Uint8Array([0, 1, 2, 3, 254, 255, 10, 13]);
  const artifactType = 'application/vnd.example.oras.results.v1';
  const created = '2026-03-14T15:09:26Z';
  const manifest = goJson({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    artifactType,
    config: { mediaType: MEDIA_TYPE_EMPTY, digest: EMPTY_DIGEST, size: 2, data: 'e30=' },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        ...sized(titled),
        annotations: { [ANNOTATION_TITLE]: 'results.csv' },
      },
      { mediaType: 'application/vnd.example.blob', ...sized(untitled) },
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        ...sized(new Uint8Array(0)),
        annotations: { [ANNOTATION_TITLE]: 'empty.log' },
      },
    ],
    annotations: { [CREATED]: created },
  });
  const index = goJson({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [
      {
        mediaType: MEDIA_TYPE_MANIFEST,
        digest: digestOf(manifest),
        size: manifest.byteLength,
        annotations: { [CREATED]: created, [REF_NAME]: 'v1' },
        artifactType,
      },
    ],
  });
  await mkdir(join(root, 'ingest'), { recursive: true });
  await writeFile(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeBlobs(root, [EMPTY_JSON, titled, untitled, new Uint8Array(0), manifest]);
  await writeFile(join(root, 'index.json'), index);
  return { manifest, titled, untitled };
}

/**
 * go-containerregistry's byte order (`v1.Manifest`: schemaVersion, mediaType, config, layers,
 * annotations, subject, artifactType; `v1.Descriptor`: mediaType, size, digest, …).
 */
function ggcrManifest(o: {
  config: { mediaType: string; bytes: Uint8Array };
  layers: { mediaType: string; bytes: Uint8Array }[];
  annotations?: Record<string, string>;
  subject?: { mediaType: string; bytes: Uint8Array };
}): Uint8Array {
  const d = (mediaType: string, bytes: Uint8Array) => ({
    mediaType,
    size: bytes.byteLength,
    digest: digestOf(bytes),
  });
  return goJson({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: d(o.config.mediaType, o.config.bytes),
    layers: o.layers.map((l) => d(l.mediaType, l.bytes)),
    ...(o.annotations === undefined ? {} : { annotations: o.annotations }),
    ...(o.subject === undefined ? {} : { subject: d(o.subject.mediaType, o.subject.bytes) }),
  });
}

/**
 * `crane pull --format oci <ref> <dir>` (ggcr `layout.Write` + `AppendImage`, no
 * `--annotate-ref`): `oci-layout` as ggcr's literal (4-space indent), `index.json` by
 * `json.MarshalIndent(…, "", "   ")` with an entry that has no annotations at all.
 */
async function craneLayout(root: string, manifest: Uint8Array, blobs: Uint8Array[]) {
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'oci-layout'), '{\n    "imageLayoutVersion": "1.0.0"\n}');
  await writeBlobs(root, [...blobs, manifest]);
  await writeFile(
    join(root, 'index.json'),
    goJson(
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_IMAGE_INDEX,
        manifests: [
          { mediaType: MEDIA_TYPE_MANIFEST, size: manifest.byteLength, digest: digestOf(manifest) },
        ],
      },
      '   '
    )
  );
}

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  'layouts written by oras, crane and regclient (§13.3)',
  () => {
    it('an oras layout (empty config with data "e30=", ingest/ present) imports, pushes and pulls with titled, untitled and zero-byte layers', async () => {
      const root = join(await tempDir(), 'oras-layout');
      const { manifest, titled, untitled } = await orasLayout(root);
      expect(Buffer.from(manifest).toString()).toContain(
        `"config":{"mediaType":"${MEDIA_TYPE_EMPTY}","digest":"${EMPTY_DIGEST}","size":2,"data":"e30="}`
      );
      const local = await freshRegistry();
      const imported = await importArchive(local, root, { reference: 'localhost/oras/results:v1' });
      expect(imported.descriptor.digest).toBe(digestOf(manifest));
      expect(imported.descriptor.artifactType).toBe('application/vnd.example.oras.results.v1');
      expect(Buffer.from(await local.readBlob(digestOf(manifest))).equals(manifest)).toBe(true);

      const target = `${server.host}/acme/oras:v1`;
      const pushed = await pushArtifact(imported.reference, target, { registry: local });
      expect(pushed.digest).toBe(digestOf(manifest));
      expect(pushed.blobs.total).toBe(4);
      const served = await new RemoteClient().repository(target).fetchManifest('v1');
      expect(Buffer.from(served.bytes).equals(manifest)).toBe(true);

      const fresh = await freshRegistry();
      const pulled = await pullArtifact(target, { registry: fresh });
      expect(pulled.digest).toBe(digestOf(manifest));
      const { manifest: m } = await fresh.readManifest(pulled.digest);
      expect(m.layers.map((l) => l.annotations?.[ANNOTATION_TITLE])).toEqual([
        'results.csv',
        undefined,
        'empty.log',
      ]);
      // oras pull skips untitled layers (oras#1177); ours keeps every layer, byte-identical.
      expect(Buffer.from(await fresh.readBlob(m.layers[0]!.digest)).equals(titled)).toBe(true);
      expect(Buffer.from(await fresh.readBlob(m.layers[1]!.digest)).equals(untitled)).toBe(true);
      expect(await fresh.readBlob(m.layers[2]!.digest)).toEqual(new Uint8Array(0)); // a 0-byte file
      expect(Buffer.from(await fresh.readBlob(EMPTY_DIGEST)).toString()).toBe('{}');
      expect((await fresh.fsck()).problems).toEqual([]);
    });

    it("crane's fallback referrers index (no annotations) is kept, read, filtered and merged; subject and referrer keep their digests", async () => {
      const subjectConfig = enc.encode('{"kind":"qap-instance"}');
      const subjectLayer = enc.encode('n=12\nflow and distance matrices\n');
      const subject = ggcrManifest({
        config: { mediaType: 'application/vnd.example.crane.config.v1+json', bytes: subjectConfig },
        layers: [{ mediaType: 'application/vnd.example.crane.data.v1', bytes: subjectLayer }],
      });
      const SIG = 'application/vnd.example.sig.v1+json';
      const sigConfig = enc.encode('{"signed":true}');
      const sigLayer = enc.encode('MEUCIQDsignature');
      const referrer = ggcrManifest({
        config: { mediaType: SIG, bytes: sigConfig },
        layers: [{ mediaType: 'application/vnd.example.sig.payload', bytes: sigLayer }],
        annotations: { 'org.example.signer': 'ci' },
        subject: { mediaType: MEDIA_TYPE_MANIFEST, bytes: subject },
      });
      const dir = await tempDir();
      await craneLayout(join(dir, 'subject'), subject, [subjectConfig, subjectLayer]);
      await craneLayout(join(dir, 'sig'), referrer, [sigConfig, sigLayer]);
      const local = await freshRegistry();
      const s = await importArchive(local, join(dir, 'subject'), {
        reference: 'localhost/crane/s:v1',
      });
      const r = await importArchive(local, join(dir, 'sig'), {
        reference: 'localhost/crane/s:sig',
      });
      expect(s.descriptor.digest).toBe(digestOf(subject));
      expect(r.descriptor.digest).toBe(digestOf(referrer));

      const repoName = `${server.host}/acme/crane`;
      expect((await pushArtifact(s.reference, `${repoName}:v1`, { registry: local })).digest).toBe(
        digestOf(subject)
      );
      const warnings: string[] = [];
      const options = { registry: local, onWarning: (w: string) => warnings.push(w) };
      await pushArtifact(r.reference, `${repoName}@${digestOf(referrer)}`, options);

      // The tag as crane leaves it: `json.Marshal` of a ggcr IndexManifest, entries sorted by digest,
      // artifactType = the config media type, and no annotations (ggcr does not copy them).
      const fallback = goJson({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_IMAGE_INDEX,
        manifests: [
          {
            mediaType: MEDIA_TYPE_MANIFEST,
            size: referrer.byteLength,
            digest: digestOf(referrer),
            artifactType: SIG,
          },
        ],
      });
      const client = new RemoteClient({ onWarning: (w) => warnings.push(w) });
      const repo = client.repository(repoName);
      const tag = referrersTag(digestOf(subject));
      await repo.putManifest(tag, fallback, MEDIA_TYPE_IMAGE_INDEX);
      expect((await repo.resolve(tag)).digest).toBe(digestOf(fallback));

      const craneEntry = {
        mediaType: MEDIA_TYPE_MANIFEST,
        size: referrer.byteLength,
        digest: digestOf(referrer),
        artifactType: SIG,
      };
      expect(await repo.referrers(digestOf(subject))).toEqual([craneEntry]);
      expect(await repo.referrers(digestOf(subject), { artifactType: SIG })).toEqual([craneEntry]);
      expect(await repo.referrers(digestOf(subject), { artifactType: 'text/plain' })).toEqual([]);

      // Our own referrer merges into crane's index; crane's entry stays exactly as it was.
      const ours = await writeArtifact(local, {
        layers: ['evaluation'],
        subject: {
          mediaType: MEDIA_TYPE_MANIFEST,
          digest: digestOf(subject),
          size: subject.byteLength,
        },
      });
      await local.publishRef('localhost/crane/s:eval', ours.descriptor);
      await pushArtifact('localhost/crane/s:eval', `${repoName}:eval`, options);
      const merged = await client.repository(repoName).referrers(digestOf(subject));
      expect(merged).toHaveLength(2);
      expect(merged).toContainEqual(craneEntry);
      expect(merged.find((d) => d.digest === ours.descriptor.digest)?.artifactType).toBe(
        'application/vnd.runledger.test.v1'
      );
      expect(warnings).toEqual([]);

      // Both manifests come back with the bytes crane wrote.
      const fresh = await freshRegistry();
      expect((await pullArtifact(`${repoName}:v1`, { registry: fresh })).digest).toBe(
        digestOf(subject)
      );
      const pulledSig = await pullArtifact(`${repoName}@${digestOf(referrer)}`, {
        registry: fresh,
      });
      expect(pulledSig.digest).toBe(digestOf(referrer));
      expect(Buffer.from(await fresh.readBlob(digestOf(referrer))).equals(referrer)).toBe(true);
      await expectSameBlobs(local, fresh, digestOf(subject));
    });

    it('a regctl image export tar (index.json without mediaType, manifest.json, directory entries) imports, pushes and pulls with digests kept', async () => {
      // `regctl artifact put --artifact-type <t> -f model.bin` (one file, no --file-media-type: the
      // layer takes the artifact type; empty config without `data`; `json.Marshal` of regclient's
      // v1.Manifest), then `regctl image export` (regclient ImageExport): oci-layout, index.json
      // (Versioned + Manifests only) naming the image and the bare tag, a docker manifest.json,
      // `blobs/` and `blobs/sha256/` directory entries, then manifest, config and layer blobs.
      const artifactType = 'application/vnd.example.regctl.model.v1';
      const layer = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
      const layerDescriptor = { mediaType: artifactType, ...sized(layer) };
      const manifest = goJson({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        artifactType,
        config: { mediaType: MEDIA_TYPE_EMPTY, digest: EMPTY_DIGEST, size: 2 },
        layers: [layerDescriptor],
      });
      const image = 'registry.example.com/acme/model:v1';
      const index = goJson({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MEDIA_TYPE_MANIFEST,
            digest: digestOf(manifest),
            size: manifest.byteLength,
            annotations: { 'io.containerd.image.name': image, [REF_NAME]: 'v1' },
          },
        ],
      });
      const dockerManifest = goJson([
        {
          Config: `blobs/sha256/${EMPTY_DIGEST.slice(7)}`,
          RepoTags: [image],
          Layers: [`blobs/sha256/${layerDescriptor.digest.slice(7)}`],
          LayerSources: { [layerDescriptor.digest]: layerDescriptor },
        },
      ]);
      const blob = (b: Uint8Array) => ({ name: `blobs/sha256/${digestOf(b).slice(7)}`, body: b });
      const tar = buildTar([
        { name: 'oci-layout', body: enc.encode('{"imageLayoutVersion":"1.0.0"}') },
        { name: 'index.json', body: index },
        { name: 'manifest.json', body: dockerManifest },
        { name: 'blobs/', type: '5', body: new Uint8Array(0) },
        { name: 'blobs/sha256/', type: '5', body: new Uint8Array(0) },
        blob(manifest),
        blob(EMPTY_JSON),
        blob(layer),
      ]);
      const file = join(await tempDir(), 'model.tar');
      await writeFile(file, tar);

      const local = await freshRegistry();
      const imported = await importArchive(local, file, { reference: 'localhost/regctl/model:v1' });
      expect(imported.descriptor).toMatchObject({ digest: digestOf(manifest), artifactType });
      const target = `${server.host}/acme/regctl:v1`;
      expect((await pushArtifact(imported.reference, target, { registry: local })).digest).toBe(
        digestOf(manifest)
      );
      const fresh = await freshRegistry();
      const pulled = await pullArtifact(target, { registry: fresh });
      expect(pulled.digest).toBe(digestOf(manifest));
      expect(Buffer.from(await fresh.readBlob(digestOf(manifest))).equals(manifest)).toBe(true);
      expect(Buffer.from(await fresh.readBlob(layerDescriptor.digest)).equals(layer)).toBe(true);
      await expectSameBlobs(local, fresh, digestOf(manifest));
    });
  }
);
