/**
 * Referrers (oci-reference §13 cases 4 and 5): the `<alg>-<hex>` tag schema on the real
 * docker-registry 2.8.2 (which has no referrers API), updated by two processes at once; and
 * registry doubles for what 2.8.2 cannot do (an `OCI-Subject` answer, a referrers API, a JSON 404
 * on it, a fallback tag that is the subject itself).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { serializeImageIndex } from '../../src/oci/image-index.js';
import { serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import type { Descriptor } from '../../src/oci/types.js';
import { RemoteClient } from '../../src/remote/client.js';
import type { FetchLike } from '../../src/remote/http.js';
import { referrersTag } from '../../src/remote/referrers.js';
import { pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const CHILD = fileURLToPath(new URL('./children/attach-referrer.mjs', import.meta.url));
const SIGNATURE = 'application/vnd.runledger.test.signature.v1';
const SBOM = 'application/vnd.runledger.test.sbom.v1';
const enc = new TextEncoder();
/** In-process clients pause without waiting (the pauses are asserted where they matter). */
const noWait = async (): Promise<void> => undefined;

/** A subject artifact in a fresh local store, published under `reference`. */
async function localSubject(reference: string): Promise<{
  registry: LocalRegistry;
  subject: Descriptor;
}> {
  const registry = await LocalRegistry.open(await tempDir('runledger-referrers-'));
  const { descriptor } = await writeArtifact(registry, { layers: [`subject of ${reference}`] });
  await registry.publishRef(reference, descriptor);
  return { registry, subject: descriptor };
}

/** A referrer of `subject` with its own artifactType, published under `reference`. */
async function localReferrer(
  registry: LocalRegistry,
  reference: string,
  subject: Descriptor,
  artifactType: string
): Promise<Descriptor> {
  const batch = registry.batch();
  const config = await batch.putBlob(enc.encode(JSON.stringify({ artifactType })));
  const layer = await batch.putBlob(enc.encode(`${artifactType} for ${subject.digest}`));
  await batch.commit();
  const descriptor = await registry.writeManifest({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    artifactType,
    config: { mediaType: 'application/vnd.runledger.test.config.v1+json', ...config },
    layers: [{ mediaType: 'text/plain', ...layer }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  await registry.publishRef(reference, descriptor);
  return descriptor;
}

interface Child {
  readonly ready: Promise<void>;
  go(): void;
  readonly done: Promise<{ digest: Digest; warnings: string[] }>;
}

/** Starts a process that attaches one referrer; it pushes when `go()` is called. */
function attachInChild(
  root: string,
  target: string,
  subject: Descriptor,
  artifactType: string
): Child {
  const child = spawn(
    process.execPath,
    [
      CHILD,
      root,
      target,
      JSON.stringify({ mediaType: subject.mediaType, digest: subject.digest, size: subject.size }),
      artifactType,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] }
  );
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ digest: Digest; warnings: string[] }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`attach-referrer ${artifactType} exited ${code}: ${err}${out}`));
      } else {
        resolve(JSON.parse(line) as { digest: Digest; warnings: string[] });
      }
    });
  });
  // A child that dies before "ready" must not leave the test waiting for it.
  const readyOrDead = Promise.race([ready, done.then(() => undefined)]);
  return { ready: readyOrDead, go: () => child.stdin.end('go\n'), done };
}

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `referrers tag schema on docker-registry 2.8.2 (${HAS_DOCKER_REGISTRY ? 'docker-registry found' : REGISTRY_SKIP_REASON})`,
  () => {
    let server: RegistryServer;
    beforeAll(async () => {
      requireBuilt();
      server = await startRegistry();
    });
    afterAll(async () => server?.stop());

    it('two processes attaching at once both land in the sha256-<hex> index; filter and remove work', async () => {
      const name = `${server.host}/refs/concurrent`;
      const { registry, subject } = await localSubject(`${name}:subject`);
      await pushArtifact(`${name}:subject`, `${name}:subject`, { registry });

      const children = [
        attachInChild(await tempDir(), `${name}:signature`, subject, SIGNATURE),
        attachInChild(await tempDir(), `${name}:sbom`, subject, SBOM),
      ];
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go();
      const [signature, sbom] = (await Promise.all(children.map((c) => c.done))) as [
        { digest: Digest; warnings: string[] },
        { digest: Digest; warnings: string[] },
      ];
      expect(signature.warnings).toEqual([]);
      expect(sbom.warnings).toEqual([]);

      const warnings: string[] = [];
      const repo = new RemoteClient({
        onWarning: (w) => warnings.push(w),
        sleep: noWait,
      }).repository(name);
      // The tag index itself (2.8.2 has no referrers API): both, each with its artifactType
      // and the manifest's annotations copied.
      const index = JSON.parse(
        new TextDecoder().decode((await repo.fetchManifest(referrersTag(subject.digest))).bytes)
      ) as { mediaType: string; manifests: Descriptor[] };
      expect(index.mediaType).toBe(MEDIA_TYPE_IMAGE_INDEX);
      expect(index.manifests.map((d) => [d.digest, d.artifactType, d.annotations]).sort()).toEqual(
        [
          [signature.digest, SIGNATURE, { 'org.example.attached-by': SIGNATURE }],
          [sbom.digest, SBOM, { 'org.example.attached-by': SBOM }],
        ].sort()
      );

      const all = await repo.referrers(subject.digest);
      expect(all.map((d) => d.digest).sort()).toEqual([signature.digest, sbom.digest].sort());
      const signatures = await repo.referrers(subject.digest, { artifactType: SIGNATURE });
      expect(signatures.map((d) => d.digest)).toEqual([signature.digest]);
      expect(await repo.referrers(subject.digest, { artifactType: 'application/x-none' })).toEqual(
        []
      );

      await repo.updateReferrersTag(subject.digest, { remove: signature.digest });
      expect((await repo.referrers(subject.digest)).map((d) => d.digest)).toEqual([sbom.digest]);
      // Only the index entry went: the referrer manifest itself is still there.
      expect((await repo.resolve(signature.digest)).digest).toBe(signature.digest);
      expect(warnings).toEqual([]);
    });

    it('re-merges when a writer that read before our write overwrites the index after our read-back', async () => {
      // The interleaving that lost an update in 1 of 5 two-process runs, made deterministic:
      // B reads (404) and its PUT is held; A reads, writes [A] and reads [A] back; only during
      // A's pause is B's stale [B] let through. A's read after the pause must find itself gone.
      const name = `${server.host}/refs/interleave`;
      const { registry, subject } = await localSubject(`${name}:subject`);
      await pushArtifact(`${name}:subject`, `${name}:subject`, { registry });
      const a = await localReferrer(registry, `${name}:a`, subject, SIGNATURE);
      const b = await localReferrer(registry, `${name}:b`, subject, SBOM);
      // The referrer manifests go up first (an index naming a missing manifest is refused).
      const setup = new RemoteClient().repository(name);
      for (const d of [a, b]) {
        const { manifest, bytes } = await registry.readManifest(d.digest);
        for (const blob of [manifest.config, ...manifest.layers]) {
          const content = await registry.readBlob(blob.digest);
          await setup.pushBlob(blob, (offset, length) => content.subarray(offset, offset + length));
        }
        await setup.putManifest(d.digest, bytes, d.mediaType);
      }
      const tagPath = `/manifests/${referrersTag(subject.digest)}`;
      let releaseB: () => void = () => undefined;
      const bMayPut = new Promise<void>((r) => (releaseB = r));
      let bHeld: () => void = () => undefined;
      const bIsHeld = new Promise<void>((r) => (bHeld = r));
      let bPutDone: () => void = () => undefined;
      const bPut = new Promise<void>((r) => (bPutDone = r));
      let held = false;
      const fetchB: FetchLike = async (input, init) => {
        const put = init.method === 'PUT' && new URL(input).pathname.endsWith(tagPath);
        if (put && !held) {
          held = true;
          bHeld();
          await bMayPut;
          const res = await fetch(input, init);
          bPutDone();
          return res;
        }
        return fetch(input, init);
      };
      const pausesA: number[] = [];
      const sleepA = async (ms: number): Promise<void> => {
        pausesA.push(ms);
        if (pausesA.length === 1) {
          releaseB();
          await bPut;
        }
      };
      const repoB = new RemoteClient({ fetch: fetchB, sleep: noWait }).repository(name);
      const repoA = new RemoteClient({ sleep: sleepA }).repository(name);
      const entry = (d: Descriptor): Descriptor => ({
        mediaType: d.mediaType,
        digest: d.digest,
        size: d.size,
        ...(d.artifactType === undefined ? {} : { artifactType: d.artifactType }),
      });
      const doneB = repoB.updateReferrersTag(subject.digest, { add: entry(b) });
      await bIsHeld;
      await repoA.updateReferrersTag(subject.digest, { add: entry(a) });
      releaseB(); // (A never paused: let B finish so the assertions below report it)
      await doneB;
      expect(pausesA.length).toBe(2); // after the first write, and after the re-merge
      expect((await repoA.referrers(subject.digest)).map((d) => d.digest).sort()).toEqual(
        [a.digest, b.digest].sort()
      );
    });

    it('deletes the replaced index when the registry allows deletes', async () => {
      const name = `${server.host}/refs/gc`;
      const { registry, subject } = await localSubject(`${name}:subject`);
      await pushArtifact(`${name}:subject`, `${name}:subject`, { registry });
      await localReferrer(registry, `${name}:one`, subject, SIGNATURE);
      await localReferrer(registry, `${name}:two`, subject, SBOM);
      const warnings: string[] = [];
      const client = new RemoteClient({ onWarning: (w) => warnings.push(w), sleep: noWait });
      const repo = client.repository(name);

      await pushArtifact(`${name}:one`, `${name}:one`, { registry, client });
      const first = await repo.resolve(referrersTag(subject.digest));
      await pushArtifact(`${name}:two`, `${name}:two`, { registry, client });
      const second = await repo.resolve(referrersTag(subject.digest));
      expect(second.digest).not.toBe(first.digest);
      expect((await repo.referrers(subject.digest)).length).toBe(2);
      await expectCode(repo.resolve(first.digest), 'NOT_FOUND');
      expect(warnings).toEqual([]);
    });

    it('with deletes disabled, leaving the old index is a warning, not a failure', async () => {
      const noDelete = await startRegistry({ deleteEnabled: false });
      try {
        const name = `${noDelete.host}/refs/nodelete`;
        const { registry, subject } = await localSubject(`${name}:subject`);
        await pushArtifact(`${name}:subject`, `${name}:subject`, { registry });
        const one = await localReferrer(registry, `${name}:one`, subject, SIGNATURE);
        const two = await localReferrer(registry, `${name}:two`, subject, SBOM);
        const warnings: string[] = [];
        const client = new RemoteClient({ onWarning: (w) => warnings.push(w), sleep: noWait });
        const repo = client.repository(name);

        await pushArtifact(`${name}:one`, `${name}:one`, { registry, client });
        expect(warnings).toEqual([]); // no previous index: nothing to delete
        const first = await repo.resolve(referrersTag(subject.digest));
        const report = await pushArtifact(`${name}:two`, `${name}:two`, { registry, client });
        expect(report.digest).toBe(two.digest);

        expect(warnings.length).toBe(1);
        expect(warnings[0]).toContain(first.digest);
        expect(warnings[0]).toMatch(/left in place/);
        expect(warnings[0]).toMatch(/405/);
        // Both referrers are listed, and the old index is indeed still there.
        expect((await repo.referrers(subject.digest)).map((d) => d.digest).sort()).toEqual(
          [one.digest, two.digest].sort()
        );
        expect((await repo.resolve(first.digest)).digest).toBe(first.digest);
      } finally {
        await noDelete.stop();
      }
    });
  }
);

// ---- registry doubles (no network) ---------------------------------------------------------

interface Seen {
  readonly method: string;
  readonly url: URL;
}

interface DoubleOptions {
  /** Answer a manifest PUT that has a `subject` with `OCI-Subject`. */
  readonly ociSubject?: boolean;
  /** Answers `GET /v2/<name>/referrers/<digest>`; default: 2.8.2's plain-text 404. */
  readonly referrers?: (url: URL) => Response;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/**
 * A registry in a function: manifests by tag and digest, blobs, monolithic uploads, and a
 * configurable referrers endpoint. Records every request.
 */
function registryDouble(options: DoubleOptions = {}): {
  fetch: FetchLike;
  seen: Seen[];
  manifests: Map<string, { bytes: Uint8Array; mediaType: string }>;
} {
  const seen: Seen[] = [];
  const manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const blobs = new Map<string, Uint8Array>();
  let uploads = 0;
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const method = init.method ?? 'GET';
    seen.push({ method, url });
    const body =
      init.body === undefined || init.body === null
        ? new Uint8Array(0)
        : new Uint8Array(
            await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer()
          );
    const m = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/(.+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') return json(200, {});
    if (m === null) return new Response('404 page not found', { status: 404 });
    const [, , kind, rest] = m as unknown as [string, string, string, string];
    if (kind === 'referrers') {
      return (
        options.referrers?.(url) ??
        new Response('404 page not found\n', {
          status: 404,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        })
      );
    }
    if (kind === 'manifests') {
      if (method === 'PUT') {
        const digest = digestOf(body);
        const mediaType = new Headers(init.headers).get('content-type') ?? '';
        manifests.set(rest, { bytes: body, mediaType });
        manifests.set(digest, { bytes: body, mediaType });
        const subject = (JSON.parse(new TextDecoder().decode(body)) as { subject?: Descriptor })
          .subject;
        const headers: Record<string, string> = { 'docker-content-digest': digest };
        if (options.ociSubject === true && subject !== undefined) {
          headers['oci-subject'] = subject.digest;
        }
        return new Response(null, { status: 201, headers });
      }
      if (method === 'DELETE') return new Response(null, { status: 202 });
      const found = manifests.get(rest);
      if (found === undefined) {
        return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      }
      const headers = {
        'content-type': found.mediaType,
        'docker-content-digest': digestOf(found.bytes),
        'content-length': String(found.bytes.byteLength),
      };
      return new Response(method === 'HEAD' ? null : found.bytes, { status: 200, headers });
    }
    // blobs
    if (rest === 'uploads/' && method === 'POST') {
      uploads++;
      return new Response(null, {
        status: 202,
        headers: { location: `/v2/${m[1]}/blobs/uploads/u${uploads}` },
      });
    }
    if (rest.startsWith('uploads/') && method === 'PUT') {
      const digest = url.searchParams.get('digest') ?? '';
      if (digestOf(body) !== digest) return json(400, { errors: [{ code: 'DIGEST_INVALID' }] });
      blobs.set(digest, body);
      return new Response(null, { status: 201, headers: { 'docker-content-digest': digest } });
    }
    const blob = blobs.get(rest);
    if (blob === undefined) return json(404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
    return new Response(method === 'HEAD' ? null : blob, {
      status: 200,
      headers: { 'content-length': String(blob.byteLength) },
    });
  };
  return { fetch, seen, manifests };
}

const HOST = 'registry.test:443';
const tagRequests = (seen: readonly Seen[], subject: Digest): Seen[] =>
  seen.filter((s) => s.url.pathname.endsWith(`/manifests/${referrersTag(subject)}`));

/** An index listing two referrers of `subject` with different artifact types. */
function referrersIndex(subject: Digest): { bytes: Uint8Array; entries: Descriptor[] } {
  const entries: Descriptor[] = [SIGNATURE, SBOM].map((artifactType) => ({
    mediaType: MEDIA_TYPE_MANIFEST,
    digest: digestOf(`${artifactType} of ${subject}`),
    size: 500,
    artifactType,
  }));
  return {
    bytes: serializeImageIndex({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_IMAGE_INDEX,
      manifests: entries,
    }),
    entries,
  };
}

describe('referrers against registry doubles', () => {
  async function pushWithSubject(
    fetch: FetchLike
  ): Promise<{ subject: Descriptor; referrer: Descriptor; pauses: number[] }> {
    const name = `${HOST}/acme/app`;
    const { registry, subject } = await localSubject(`${name}:subject`);
    const referrer = await localReferrer(registry, `${name}:signature`, subject, SIGNATURE);
    const pauses: number[] = [];
    const sleep = async (ms: number): Promise<void> => void pauses.push(ms);
    const client = new RemoteClient({ fetch, plainHttp: true, sleep });
    await pushArtifact(`${name}:subject`, `${name}:subject`, { registry, client });
    await pushArtifact(`${name}:signature`, `${name}:signature`, { registry, client });
    return { subject, referrer, pauses };
  }

  it('skips the tag schema when the manifest PUT answers OCI-Subject', async () => {
    const api = registryDouble({ ociSubject: true });
    const { subject, referrer } = await pushWithSubject(api.fetch);
    expect(api.manifests.has(referrer.digest)).toBe(true);
    expect(tagRequests(api.seen, subject.digest)).toEqual([]);

    // The same push to a registry without OCI-Subject does maintain the tag (so the check
    // above can fail).
    const plain = registryDouble();
    const again = await pushWithSubject(plain.fetch);
    // Read, write, read back at once, and read again after a pause (another writer may have
    // read before our write and still be sending its own version).
    expect(tagRequests(plain.seen, again.subject.digest).map((s) => s.method)).toEqual([
      'GET',
      'PUT',
      'GET',
      'GET',
    ]);
    expect(again.pauses.length).toBe(1);
    expect(again.pauses[0]).toBeGreaterThanOrEqual(250);
  });

  it('treats a JSON 404 NAME_UNKNOWN from the referrers API as not found, not as no API', async () => {
    const subject = digestOf('a subject');
    const double = registryDouble({
      referrers: () =>
        json(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known' }] }),
    });
    const repo = new RemoteClient({ fetch: double.fetch }).repository(`${HOST}/acme/missing`);
    const err = await expectCode(repo.referrers(subject), 'NOT_FOUND');
    expect(err.message).toContain('acme/missing');
    expect(tagRequests(double.seen, subject)).toEqual([]);
    // And again: it was not remembered as "no referrers API".
    await expectCode(repo.referrers(subject), 'NOT_FOUND');
    expect(double.seen.filter((s) => s.url.pathname.includes('/referrers/')).length).toBe(2);
    expect(tagRequests(double.seen, subject)).toEqual([]);

    // 2.8.2's plain-text 404 is "no API": the client falls back to the tag.
    const plain = registryDouble();
    const repo2 = new RemoteClient({ fetch: plain.fetch }).repository(`${HOST}/acme/missing`);
    expect(await repo2.referrers(subject)).toEqual([]);
    expect(tagRequests(plain.seen, subject).map((s) => s.method)).toEqual(['GET']);
  });

  it('treats a fallback tag that resolves to the subject itself as no referrers, with a warning', async () => {
    // The subject is itself an image index (with an entry), so only the digest check can tell.
    const child = {
      mediaType: MEDIA_TYPE_MANIFEST,
      digest: digestOf('some image'),
      size: 10,
      artifactType: SIGNATURE,
    };
    const subjectBytes = serializeImageIndex({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_IMAGE_INDEX,
      manifests: [child],
    });
    const subject = digestOf(subjectBytes);
    const double = registryDouble();
    const entry = { bytes: subjectBytes, mediaType: MEDIA_TYPE_IMAGE_INDEX };
    double.manifests.set(subject, entry);
    double.manifests.set(referrersTag(subject), entry); // GitLab-style: the tag is the subject
    const warnings: string[] = [];
    const repo = new RemoteClient({
      fetch: double.fetch,
      onWarning: (w) => warnings.push(w),
    }).repository(`${HOST}/acme/gitlab`);
    expect(await repo.referrers(subject)).toEqual([]);
    expect(await repo.referrers(subject, { artifactType: SIGNATURE })).toEqual([]);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatch(/resolves to the subject itself/);

    // Control: a real tag index there is listed.
    const other = digestOf('another subject');
    const { bytes, entries } = referrersIndex(other);
    double.manifests.set(referrersTag(other), { bytes, mediaType: MEDIA_TYPE_IMAGE_INDEX });
    expect((await repo.referrers(other)).map((d) => d.digest)).toEqual(
      entries.map((d) => d.digest)
    );
  });

  it('uses a referrers API answering 200, filtering by artifactType itself unless OCI-Filters-Applied', async () => {
    const subject = digestOf(
      serializeManifest({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf('{}'), size: 2 },
        layers: [],
      })
    );
    const { bytes, entries } = referrersIndex(subject);
    const asked: URL[] = [];
    const double = registryDouble({
      referrers: (url) => {
        asked.push(url);
        return new Response(bytes, {
          status: 200,
          headers: { 'content-type': MEDIA_TYPE_IMAGE_INDEX },
        });
      },
    });
    const repo = new RemoteClient({ fetch: double.fetch }).repository(`${HOST}/acme/api`);
    expect((await repo.referrers(subject)).map((d) => d.digest)).toEqual(
      entries.map((d) => d.digest)
    );
    // The server ignored the filter (no OCI-Filters-Applied): the client applies it.
    const sboms = await repo.referrers(subject, { artifactType: SBOM });
    expect(sboms.map((d) => d.artifactType)).toEqual([SBOM]);
    expect(asked.map((u) => u.pathname)).toEqual([
      `/v2/acme/api/referrers/${subject}`,
      `/v2/acme/api/referrers/${subject}`,
    ]);
    expect(asked[1]?.searchParams.get('artifactType')).toBe(SBOM);
    expect(tagRequests(double.seen, subject)).toEqual([]);

    // A server that says it filtered is trusted: an entry it kept without an artifactType
    // (registries that match on the config media type and leave the field out) stays.
    const untyped: Descriptor = { mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf('x'), size: 9 };
    const filtered = registryDouble({
      referrers: () =>
        new Response(
          serializeImageIndex({
            schemaVersion: 2,
            mediaType: MEDIA_TYPE_IMAGE_INDEX,
            manifests: [entries[1] as Descriptor, untyped],
          }),
          {
            status: 200,
            headers: {
              'content-type': MEDIA_TYPE_IMAGE_INDEX,
              'oci-filters-applied': 'artifactType',
            },
          }
        ),
    });
    const repo2 = new RemoteClient({ fetch: filtered.fetch }).repository(`${HOST}/acme/api`);
    expect((await repo2.referrers(subject, { artifactType: SBOM })).map((d) => d.digest)).toEqual([
      (entries[1] as Descriptor).digest,
      untyped.digest,
    ]);
    expect(tagRequests(filtered.seen, subject)).toEqual([]);
  });
});
