/**
 * Interrupted uploads against the real docker-registry 2.8.2 (oci-reference §13 case 11, and the
 * issue's "no manifest is ever visible before all its blobs"): connections killed mid-body by the
 * fault proxy, a stale upload `Location` replayed, and a push that never gets its blobs through.
 * Pauses are injected and recorded, never waited for.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/types.js';
import type { FetchLike } from '../../src/remote/http.js';
import { pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const MiB = 1024 * 1024;

interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly contentRange?: string;
  status?: number;
  range?: string | null;
  location?: string | null;
  error?: unknown;
}

/** Real `fetch`, recording every exchange in order of sending; `before` runs first. */
function recorder(before?: (method: string, url: URL) => Promise<void>): {
  fetch: FetchLike;
  log: Exchange[];
} {
  const log: Exchange[] = [];
  const wrapped: FetchLike = async (input, init) => {
    const method = init.method ?? 'GET';
    await before?.(method, new URL(input));
    const contentRange = new Headers(init.headers).get('content-range');
    const entry: Exchange = {
      method,
      url: input,
      ...(contentRange === null ? {} : { contentRange }),
    };
    log.push(entry);
    try {
      const res = await fetch(input, init);
      entry.status = res.status;
      entry.range = res.headers.get('range');
      entry.location = res.headers.get('location');
      return res;
    } catch (e) {
      entry.error = e;
      throw e;
    }
  };
  return { fetch: wrapped, log };
}

/** A local artifact whose layers are `layers`, published under `reference`. */
async function localArtifact(
  reference: string,
  layers: Uint8Array[]
): Promise<{ registry: LocalRegistry; descriptor: Descriptor; blobs: Descriptor[] }> {
  const registry = await LocalRegistry.open(await tempDir('runledger-resume-'));
  const { descriptor, manifest } = await writeArtifact(registry, { layers });
  await registry.publishRef(reference, descriptor);
  return { registry, descriptor, blobs: [manifest.config, ...manifest.layers] };
}

const isUpload = (e: { method: string; url: string }): boolean =>
  /\/blobs\/uploads\//.test(new URL(e.url, 'http://x').pathname);

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `interrupted uploads on docker-registry 2.8.2 (${HAS_DOCKER_REGISTRY ? 'docker-registry found' : REGISTRY_SKIP_REASON})`,
  () => {
    let server: RegistryServer;
    let proxy: FaultProxy;
    beforeAll(async () => {
      server = await startRegistry();
      proxy = await startFaultProxy({ target: server.host });
    });
    afterEach(() => proxy.setRule(undefined));
    afterAll(async () => {
      await proxy?.stop();
      await server?.stop();
    });

    /** The blob's bytes straight from the registry (not through the proxy). */
    async function registryBlob(repository: string, digest: string): Promise<Buffer> {
      const res = await fetch(`${server.url}/v2/${repository}/blobs/${digest}`);
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    }

    /** Status of the manifest `reference` straight from the registry. */
    async function manifestStatus(repository: string, reference: string): Promise<number> {
      const res = await fetch(`${server.url}/v2/${repository}/manifests/${reference}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      await res.body?.cancel();
      return res.status;
    }

    /**
     * Pushes a 6 MiB blob in 1 MiB chunks through the proxy, killing PATCH number `n` after
     * `killAfter` body bytes; checks the bytes on the registry and returns the exchanges from
     * the killed PATCH on.
     */
    async function pushKillingPatch(
      repository: string,
      n: number,
      killAfter: number
    ): Promise<{ after: Exchange[]; pauses: number[] }> {
      const content = randomBytes(6 * MiB + 12_345);
      const ref = `${proxy.host}/${repository}:v1`;
      const { registry, descriptor } = await localArtifact(ref, [content]);
      const killsBefore = proxy.kills;
      let patches = 0;
      proxy.setRule({
        killAfterUploadBytes: killAfter,
        match: (method) => method === 'PATCH' && ++patches === n,
      });
      const rec = recorder();
      const pauses: number[] = [];
      const report = await pushArtifact(ref, ref, {
        registry,
        chunkThreshold: MiB,
        chunkSize: MiB,
        // One blob at a time: the config's upload must not interleave with the log read below.
        concurrency: 1,
        fetch: rec.fetch,
        sleep: async (ms) => void pauses.push(ms),
      });
      expect(proxy.kills - killsBefore).toBe(1);
      expect(report.digest).toBe(descriptor.digest);
      expect(report.blobs.transferred).toBe(2);
      // Bytes counted once each in the end, however many were re-sent.
      expect(report.bytes.transferred).toBe(report.bytes.total);

      const killed = rec.log.findIndex((e) => e.error !== undefined);
      const before = rec.log.slice(0, killed).filter((e) => e.method === 'PATCH');
      expect(before.map((e) => e.contentRange)).toEqual(
        Array.from({ length: n - 1 }, (_, i) => `${i * MiB}-${(i + 1) * MiB - 1}`)
      );
      // The killed PATCH went to the newest Location, and the status GET asks that one.
      const session = (e: Exchange | undefined): string =>
        new URL(e?.location ?? e?.url ?? '', 'http://x').pathname;
      const newest =
        n === 1
          ? rec.log.find((e) => e.method === 'POST' && session(e) === session(rec.log[killed]))
          : before.at(-1);
      expect(rec.log[killed]).toMatchObject({
        method: 'PATCH',
        url: newest?.location,
        contentRange: `${(n - 1) * MiB}-${n * MiB - 1}`,
      });
      expect(rec.log[killed + 1]).toMatchObject({ method: 'GET', url: rec.log[killed]?.url });
      expect(rec.log.filter((e) => e.error !== undefined).length).toBe(1);

      expect((await registryBlob(repository, digestOf(content))).equals(content)).toBe(true);
      expect(await manifestStatus(repository, 'v1')).toBe(200);
      return { after: rec.log.slice(killed + 1), pauses };
    }

    it.each([
      ['a chunked upload (PATCH killed mid-body)', 'PATCH', MiB, 300_000, 2],
      ['a chunked upload (PATCH killed after its headers)', 'PATCH', MiB, 0, 2],
      // Only the 6 MiB layer's PUT carries more than 2 MiB: the first such PUT is killed.
      ['a monolithic upload (PUT killed mid-body)', 'PUT', 64 * MiB, 2 * MiB, 1],
    ] as const)(
      'without an injected fetch, file bodies go through node:http: %s recovers, bytes intact and counted once',
      async (_what, method, chunkThreshold, killAfter, nth) => {
        const content = randomBytes(6 * MiB + 4_321);
        const repository = `native/${method.toLowerCase()}-${killAfter}`;
        const ref = `${proxy.host}/${repository}:v1`;
        const { registry, descriptor } = await localArtifact(ref, [content]);
        const killsBefore = proxy.kills;
        let seen = 0;
        proxy.setRule({
          killAfterUploadBytes: killAfter,
          match: (m) => m === method && ++seen === nth,
          times: 1,
        });
        // No `fetch` option: the HTTP client sends the 6 MiB layer from its file with node:http.
        const progress: number[] = [];
        const report = await pushArtifact(ref, ref, {
          registry,
          chunkThreshold,
          chunkSize: MiB,
          sleep: async () => undefined,
          onProgress: (p) => progress.push(p.bytesDone),
        });
        expect(proxy.kills - killsBefore).toBe(1);
        expect(report.digest).toBe(descriptor.digest);
        expect(report.bytes.transferred).toBe(report.bytes.total);
        expect(progress.at(-1)).toBe(report.bytes.total);
        // The uploads really went through the proxy in the expected shape.
        const uploads = proxy.requests.filter((r) =>
          r.path.includes(`/v2/${repository}/blobs/uploads/`)
        );
        expect(uploads.some((r) => r.method === method && r.contentLength > 0)).toBe(true);
        expect((await registryBlob(repository, digestOf(content))).equals(content)).toBe(true);
        expect(await manifestStatus(repository, 'v1')).toBe(200);
      }
    );

    it('resumes a chunked upload at the offset GET <location> reports when a PATCH dies after its headers', async () => {
      const { after, pauses } = await pushKillingPatch('resume/headers', 3, 0);
      // Nothing of the chunk reached the registry: it reports 2 MiB, and the same session
      // goes on from there (no new POST, no pause).
      expect(after[0]).toMatchObject({ method: 'GET', status: 204, range: `0-${2 * MiB - 1}` });
      expect(after[1]).toMatchObject({
        method: 'PATCH',
        url: after[0]?.url,
        contentRange: `${2 * MiB}-${3 * MiB - 1}`,
        status: 202,
      });
      expect(after.some((e) => e.method === 'POST')).toBe(false);
      expect(pauses).toEqual([]);
    });

    it('reads 2.8.2’s `0-0` for an empty session as 0 bytes, resuming the first chunk from byte 0', async () => {
      const { after, pauses } = await pushKillingPatch('resume/first', 1, 0);
      expect(after[0]).toMatchObject({ method: 'GET', status: 204, range: '0-0' });
      expect(after[1]).toMatchObject({
        method: 'PATCH',
        url: after[0]?.url,
        contentRange: `0-${MiB - 1}`,
        status: 202,
      });
      expect(after.some((e) => e.method === 'POST')).toBe(false);
      expect(pauses).toEqual([]);
    });

    it('restarts a chunked upload whose PATCH dies mid-body (2.8.2 cancels the session), bytes intact', async () => {
      const { after, pauses } = await pushKillingPatch('resume/midbody', 3, 300_000);
      // (Should the status GET ever overtake the registry's write of the partial chunk, it
      // answers 204 and the final digest check decides; the bytes were checked above.)
      if (after[0]?.status === 204) return;
      // 2.8.2 stored part of the chunk, so the session's size no longer matches its state token:
      // the status GET is 404 BLOB_UPLOAD_INVALID and the blob starts over in a fresh session
      // (never resent into the broken one, where 2.8.2 would append it after the partial bytes).
      expect(after[0]).toMatchObject({ method: 'GET', status: 404 });
      expect(after[1]).toMatchObject({ method: 'POST', status: 202 });
      expect(after[2]).toMatchObject({ method: 'PATCH', contentRange: `0-${MiB - 1}` });
      expect(pauses).toEqual([200]);
    });

    it('answers a replayed stale upload Location (BLOB_UPLOAD_INVALID) with a fresh session', async () => {
      const content = randomBytes(4 * MiB + 777);
      const ref = `${server.host}/resume/stale:v1`;
      const { registry, descriptor } = await localArtifact(ref, [content]);
      const rec = recorder();
      const patchUrls: string[] = [];
      let replay: { from: string; to: string; status: number; body: string } | undefined;
      // Wraps real fetch: the third PATCH is sent to the Location the second one used.
      const stale: FetchLike = async (input, init) => {
        if (init.method !== 'PATCH') return rec.fetch(input, init);
        patchUrls.push(input);
        if (patchUrls.length !== 3 || replay !== undefined) return rec.fetch(input, init);
        const older = patchUrls[1] as string;
        const res = await rec.fetch(older, init);
        replay = { from: input, to: older, status: res.status, body: await res.clone().text() };
        return res;
      };
      const pauses: number[] = [];
      const report = await pushArtifact(ref, ref, {
        registry,
        chunkThreshold: MiB,
        chunkSize: MiB,
        fetch: stale,
        sleep: async (ms) => void pauses.push(ms),
      });
      expect(report.digest).toBe(descriptor.digest);
      expect(replay).toBeDefined();
      expect(replay?.to).not.toBe(replay?.from);
      expect(replay?.status).toBe(404);
      expect(replay?.body).toContain('BLOB_UPLOAD_INVALID');
      // One pause, then a new session from byte 0, not a continuation of the broken one.
      expect(pauses).toEqual([200]);
      const replayed = rec.log.findIndex((e) => e.method === 'PATCH' && e.status === 404);
      const after = rec.log.slice(replayed + 1).filter(isUpload);
      expect(after[0]?.method).toBe('POST');
      expect(after[1]).toMatchObject({ method: 'PATCH', contentRange: `0-${MiB - 1}` });
      expect(report.bytes.transferred).toBe(report.bytes.total);
      const layer = digestOf(content);
      expect((await registryBlob('resume/stale', layer)).equals(content)).toBe(true);
    });

    it('restarts a monolithic PUT killed mid-body; the manifest becomes visible only after every blob', async () => {
      const layers = [randomBytes(1.5 * MiB), randomBytes(1.5 * MiB + 1), randomBytes(MiB + 3)];
      const ref = `${proxy.host}/resume/monolithic:v1`;
      const { registry, descriptor, blobs } = await localArtifact(ref, layers);
      const killsBefore = proxy.kills;
      proxy.setRule({
        killAfterUploadBytes: 500_000,
        match: (method, path) => method === 'PUT' && path.includes('/blobs/uploads/'),
      });
      // A concurrent observer: before every request of the push, is the tag visible yet?
      const seen: { at: number; status: number }[] = [];
      const rec = recorder(async () => {
        seen.push({
          at: rec.log.length,
          status: await manifestStatus('resume/monolithic', 'v1'),
        });
      });
      const report = await pushArtifact(ref, ref, {
        registry,
        fetch: rec.fetch,
        sleep: async () => undefined,
      });
      expect(proxy.kills - killsBefore).toBe(1);
      expect(report.digest).toBe(descriptor.digest);
      expect(report.bytes.transferred).toBe(report.bytes.total);

      const killed = rec.log.findIndex((e) => e.error !== undefined);
      expect(rec.log[killed]?.method).toBe('PUT');
      const killedDigest = new URL(rec.log[killed]?.url as string).searchParams.get('digest');
      // That blob got a new session (POST) and a complete PUT afterwards.
      const later = rec.log.slice(killed + 1);
      expect(later.some((e) => e.method === 'POST' && isUpload(e))).toBe(true);
      expect(
        later.some(
          (e) =>
            e.method === 'PUT' &&
            e.status === 201 &&
            new URL(e.url).searchParams.get('digest') === killedDigest
        )
      ).toBe(true);

      // The manifest PUT is the very last request, after a 201 for every blob.
      const last = rec.log.length - 1;
      expect(rec.log[last]).toMatchObject({ method: 'PUT', status: 201 });
      expect(new URL(rec.log[last]?.url as string).pathname).toBe(
        '/v2/resume/monolithic/manifests/v1'
      );
      for (const blob of blobs) {
        const done = rec.log.findIndex(
          (e) =>
            e.method === 'PUT' &&
            e.status === 201 &&
            new URL(e.url).searchParams.get('digest') === blob.digest
        );
        expect(done, blob.digest).toBeGreaterThanOrEqual(0);
        expect(done).toBeLessThan(last);
      }
      expect(proxy.requests.at(-1)).toMatchObject({
        method: 'PUT',
        path: '/v2/resume/monolithic/manifests/v1',
      });
      // The observer never saw the tag before the manifest PUT was sent, and sees it now.
      expect(seen.length).toBe(rec.log.length);
      expect(seen.every((s) => s.status === 404)).toBe(true);
      expect(await manifestStatus('resume/monolithic', 'v1')).toBe(200);
      for (const [i, layer] of layers.entries()) {
        const digest = blobs[i + 1]?.digest as string;
        expect((await registryBlob('resume/monolithic', digest)).equals(layer)).toBe(true);
      }
    });

    /**
     * A fetch double around real fetch for what no server can make happen on cue: the first
     * matching request with a streamed body reads 64 KiB of its streamed body and fails like a reset
     * connection; the rest of that body is read later (as undici may still pull it), when the
     * returned `late` is called.
     */
    function lateReader(matches: (method: string, url: string) => boolean): {
      fetch: FetchLike;
      late: () => Promise<void>;
      failed: () => boolean;
    } {
      let drain: (() => Promise<void>) | undefined;
      let failed = false;
      return {
        fetch: async (input, init) => {
          if (
            !failed &&
            init.body instanceof ReadableStream &&
            matches(init.method ?? 'GET', input)
          ) {
            failed = true;
            const reader = (init.body as ReadableStream<Uint8Array>).getReader();
            await reader.read();
            drain = async () => {
              while (!(await reader.read()).done);
            };
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
            });
          }
          return fetch(input, init);
        },
        late: async () => {
          const d = drain;
          drain = undefined;
          await d?.();
        },
        failed: () => failed,
      };
    }

    it('counts bytes once when a failed monolithic PUT’s body is read after the failure', async () => {
      const content = randomBytes(3 * MiB + 11);
      const ref = `${server.host}/resume/late-put:v1`;
      const { registry } = await localArtifact(ref, [content]);
      const double = lateReader((m, url) => m === 'PUT' && url.includes('/blobs/uploads/'));
      const report = await pushArtifact(ref, ref, {
        registry,
        fetch: double.fetch,
        // The restart pause is where the old body gets read.
        sleep: () => double.late(),
      });
      expect(double.failed()).toBe(true);
      expect(report.bytes.transferred).toBe(report.bytes.total);
      expect((await registryBlob('resume/late-put', digestOf(content))).equals(content)).toBe(true);
    });

    it('does not send a closing PUT again when only its answer was lost: the session is gone and the blob is there', async () => {
      const content = randomBytes(300_000);
      const ref = `${server.host}/resume/lost-answer:v1`;
      const { registry, descriptor } = await localArtifact(ref, [content]);
      const layer = digestOf(content);
      const rec = recorder();
      let lost = 0;
      // The registry gets the PUT and stores the blob; its answer never arrives.
      const losing: FetchLike = async (input, init) => {
        const res = await rec.fetch(input, init);
        const put = init.method === 'PUT' && new URL(input).searchParams.get('digest') === layer;
        if (!put || lost > 0) return res;
        lost++;
        await res.body?.cancel();
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
        });
      };
      const report = await pushArtifact(ref, ref, {
        registry,
        fetch: losing,
        sleep: async () => undefined,
      });
      expect(lost).toBe(1);
      expect(report.digest).toBe(descriptor.digest);
      expect(report.bytes.transferred).toBe(report.bytes.total);
      // One session per blob (config and layer), one PUT of the layer: its session answered 404
      // (2.8.2 closed it) and the blob was there.
      expect(rec.log.filter((e) => e.method === 'POST' && isUpload(e))).toHaveLength(2);
      const layerPuts = rec.log.filter(
        (e) => e.method === 'PUT' && new URL(e.url).searchParams.get('digest') === layer
      );
      expect(layerPuts).toHaveLength(1);
      expect((await registryBlob('resume/lost-answer', layer)).equals(content)).toBe(true);
    });

    it('counts bytes once when a failed PATCH’s body is read after the failure and the chunk resumes', async () => {
      const content = randomBytes(4 * MiB + 11);
      const ref = `${server.host}/resume/late-patch:v1`;
      const { registry } = await localArtifact(ref, [content]);
      let patches = 0;
      const double = lateReader((m) => m === 'PATCH' && ++patches === 2);
      const statuses: string[] = [];
      const report = await pushArtifact(ref, ref, {
        registry,
        chunkThreshold: MiB,
        chunkSize: 1.5 * MiB, // above 1 MiB: chunks are streamed, not read into memory
        fetch: async (input, init) => {
          if (init.method === 'GET' && input.includes('/blobs/uploads/')) {
            await double.late(); // the status request comes after the failure was handled
            const res = await double.fetch(input, init);
            statuses.push(`${res.status} ${res.headers.get('range')}`);
            return res;
          }
          return double.fetch(input, init);
        },
        sleep: async () => undefined,
      });
      expect(double.failed()).toBe(true);
      expect(statuses).toEqual([`204 0-${1.5 * MiB - 1}`]); // resumed, not restarted
      expect(report.bytes.transferred).toBe(report.bytes.total);
      expect((await registryBlob('resume/late-patch', digestOf(content))).equals(content)).toBe(
        true
      );
    });

    it('leaves no tag and no blob when every upload attempt is killed', async () => {
      const content = randomBytes(3 * MiB + 5);
      const ref = `${proxy.host}/resume/doomed:v1`;
      const { registry, blobs } = await localArtifact(ref, [content]);
      const killsBefore = proxy.kills;
      const requestsBefore = proxy.requests.length;
      proxy.setRule({
        killAfterUploadBytes: 100_000,
        match: (method, path) =>
          (method === 'PATCH' || method === 'PUT') && path.includes('/uploads/'),
        times: Number.POSITIVE_INFINITY,
      });
      const pauses: number[] = [];
      const err = await expectCode(
        pushArtifact(ref, ref, {
          registry,
          chunkThreshold: MiB,
          chunkSize: MiB,
          // A budget of 3 retries: the restarts of one upload, no new attempt after them.
          blobRetries: 3,
          sleep: async (ms) => void pauses.push(ms),
        }),
        'TRANSPORT'
      );
      expect(err.message).toContain(proxy.host);
      expect(err.message).toMatch(/^1 of 2 blobs could not be pushed to /);
      // The first try and the 3 retries of the budget, each killed, then given up (with no pause
      // after the last). A retry is a new session after a pause, or (when the status GET
      // overtook 2.8.2's write of the partial chunk) a resumed PATCH without one.
      expect(proxy.kills - killsBefore).toBe(4);
      const restarts = pauses.filter((ms) => ms >= 200);
      expect(restarts).toEqual([200, 400, 800].slice(0, restarts.length));
      const sent = proxy.requests.slice(requestsBefore);
      expect(sent.some((r) => r.path.includes('/manifests/') && r.method === 'PUT')).toBe(false);
      expect(await manifestStatus('resume/doomed', 'v1')).toBe(404);
      const layer = blobs[1] as Descriptor;
      const head = await fetch(`${server.url}/v2/resume/doomed/blobs/${layer.digest}`, {
        method: 'HEAD',
      });
      expect(head.status).toBe(404);
    });
  }
);
