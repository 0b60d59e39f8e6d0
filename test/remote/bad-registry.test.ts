/**
 * Transfers that make progress under a bad registry (issue 13, part 6): the real docker-registry
 * 2.8.2 behind the fault proxy in chaos mode, which fails 45 % of all requests (503, 429 with
 * `Retry-After: 0` or `1`, connections reset mid-body) as drawn from a seed. A push of 170 blobs and
 * its pull each finish in two invocations; in the first, some blobs are refused every time (a part
 * of the registry that is down) so it must fail, and the second must only do what the first left.
 * Pauses are injected and recorded, never waited for; the artifact's bytes come from the seed, so
 * the same requests meet the same faults on every run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/types.js';
import type { FetchLike } from '../../src/remote/http.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const SEED = 20_240_613;
const CHILD = fileURLToPath(new URL('./children/pull.mjs', import.meta.url));
const RATE = 0.45;
const LAYERS = 169; // + the config: 170 blobs

/** `size` bytes drawn from `label` (sha256 in counter mode): the same on every run. */
function seededBytes(label: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0, i = 0; at < size; i++) {
    const block = createHash('sha256').update(`${SEED}/${label}/${i}`).digest();
    out.set(block.subarray(0, Math.min(block.length, size - at)), at);
    at += block.length;
  }
  return out;
}

/** The blob digest a request's path names (blob GET/HEAD, or an upload PUT's `digest=`). */
function blobOf(r: { path: string }): string | undefined {
  const url = new URL(r.path, 'http://x');
  return (
    /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname)?.[1] ??
    url.searchParams.get('digest') ??
    undefined
  );
}

const isUploadPut = (r: ProxiedRequest): boolean =>
  r.method === 'PUT' && r.path.includes('/blobs/uploads/');
const sessionOf = (r: ProxiedRequest): string => new URL(r.path, 'http://x').pathname;

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `a registry failing 45 % of requests (${HAS_DOCKER_REGISTRY ? 'docker-registry 2.8.2 behind the fault proxy' : REGISTRY_SKIP_REASON})`,
  () => {
    let server: RegistryServer;
    let proxy: FaultProxy;
    beforeAll(async () => {
      server = await startRegistry();
      proxy = await startFaultProxy({ target: server.host });
    });
    afterAll(async () => {
      await proxy?.stop();
      await server?.stop();
    });

    /** Status of a manifest straight from the registry (not through the proxy). */
    async function manifestStatus(repository: string, reference: string): Promise<number> {
      const res = await fetch(`${server.url}/v2/${repository}/manifests/${reference}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      return res.status;
    }

    /** The blobs the registry lacks, asked straight (not through the proxy). */
    async function missingOnRegistry(
      repository: string,
      blobs: readonly Descriptor[]
    ): Promise<string[]> {
      const missing: string[] = [];
      for (const b of blobs) {
        const res = await fetch(`${server.url}/v2/${repository}/blobs/${b.digest}`, {
          method: 'HEAD',
        });
        if (res.status !== 200) missing.push(b.digest);
      }
      return missing;
    }

    /** A local store holding the seeded 170-blob artifact under `ref`. */
    async function seededArtifact(ref: string): Promise<{
      local: LocalRegistry;
      descriptor: Descriptor;
      blobs: Descriptor[];
      bytesOf: Map<string, Uint8Array>;
    }> {
      const layers = Array.from({ length: LAYERS }, (_, i) =>
        seededBytes(`layer-${i}`, 1 + ((i * 7919) % (64 * 1024)))
      );
      const config = `{"seed":${SEED}}`;
      const local = await LocalRegistry.open(await tempDir('runledger-bad-'));
      const { descriptor, manifest } = await writeArtifact(local, { layers, config });
      await local.publishRef(ref, descriptor);
      const blobs = [manifest.config, ...manifest.layers];
      expect(new Set(blobs.map((b) => b.digest)).size).toBe(170);
      const bytesOf = new Map<string, Uint8Array>([
        [manifest.config.digest, new TextEncoder().encode(config)],
        ...manifest.layers.map((l, i) => [l.digest, layers[i] as Uint8Array] as const),
      ]);
      return { local, descriptor, blobs, bytesOf };
    }

    /** Asserts the registry was that bad over `log`: ~45 % failed, every kind many times. */
    function expectChaos(log: readonly ProxiedRequest[], least: number): void {
      const drawn = log.filter((r) => r.fault !== 'refused');
      const faults = drawn.filter((r) => r.fault !== undefined);
      expect(faults.length / drawn.length).toBeGreaterThan(0.38);
      expect(faults.length / drawn.length).toBeLessThan(0.52);
      for (const kind of ['503', '429', 'reset'] as const) {
        expect(faults.filter((r) => r.fault === kind).length).toBeGreaterThan(least);
      }
    }

    /**
     * Every upload PUT answered 503/429 in `log` was sent again in its session, unless it was the
     * last of the 1 + 4 tries one request gets (then a new session starts); how many were.
     */
    function retriesInSession(log: readonly ProxiedRequest[]): number {
      let n = 0;
      for (const [i, r] of log.entries()) {
        if (!isUploadPut(r) || (r.fault !== '503' && r.fault !== '429')) continue;
        const next = log.slice(i + 1).find((x) => isUploadPut(x) && blobOf(x) === blobOf(r));
        expect(next, `the retry of ${r.path}`).toBeDefined();
        if (sessionOf(next as ProxiedRequest) === sessionOf(r)) {
          n++;
          continue;
        }
        const tries = log.filter((x) => isUploadPut(x) && sessionOf(x) === sessionOf(r));
        expect(tries.length, `PUTs in ${sessionOf(r)} before a new session`).toBe(5);
        expect(tries.at(-1)).toBe(r);
      }
      return n;
    }

    it('push: the other blobs finish when some fail, the error names how many and the first, the second invocation sends only those, the manifest last', async () => {
      const repository = 'bad/push';
      const ref = `${proxy.host}/${repository}:v1`;
      const { local, descriptor, blobs } = await seededArtifact(ref);

      // An observer: before every request of the push, is the tag visible already? And when the
      // manifest is sent, which blobs does the registry still lack?
      const tagSeen: number[] = [];
      const missingAtManifest: string[][] = [];
      const observed: FetchLike = async (input, init) => {
        tagSeen.push(await manifestStatus(repository, 'v1'));
        if (init.method === 'PUT' && new URL(input).pathname.includes('/manifests/')) {
          missingAtManifest.push(await missingOnRegistry(repository, blobs));
        }
        return fetch(input, init);
      };
      const pauses: number[] = [];
      const sleep = async (ms: number): Promise<void> => void pauses.push(ms);

      // First invocation: the uploads of 4 blobs are refused every time.
      const refused = new Set<string>(blobs.filter((_, i) => i % 43 === 5).map((b) => b.digest));
      expect(refused.size).toBe(4);
      const first = proxy.requests.length;
      proxy.setChaos({
        seed: SEED,
        rate: RATE,
        refuse: (method, path) => method === 'PUT' && refused.has(blobOf({ path }) ?? ''),
      });
      const err = await pushArtifact(ref, ref, { registry: local, fetch: observed, sleep }).then(
        () => expect.fail('the first push succeeded'),
        (e: unknown) => e as RemoteError
      );
      // The first failure's code: the last answer its budget allowed was a 503 or a 429.
      expect(err).toBeInstanceOf(RemoteError);
      expect(['TRANSPORT', 'RATE_LIMITED']).toContain(err.code);
      expect(err.message).toMatch(/^4 of 170 blobs could not be pushed to /);
      const named = /; the first, (sha256:[0-9a-f]{64}),/.exec(err.message)?.[1];
      expect(refused.has(named ?? '')).toBe(true);
      expect(err.data['failed']).toBe(4);
      // Each refused blob was tried past one request's 1 + 4 tries, until its own budget of 32
      // retries was spent, however many the other blobs had used.
      for (const d of refused) {
        const puts = proxy.requests.slice(first).filter((r) => isUploadPut(r) && blobOf(r) === d);
        expect(puts.length).toBeGreaterThan(5);
        expect(puts.length).toBeLessThanOrEqual(1 + 32);
      }
      // Every other blob finished; no manifest was sent.
      expect((await missingOnRegistry(repository, blobs)).sort()).toEqual([...refused].sort());
      expect(await manifestStatus(repository, 'v1')).toBe(404);
      expect(missingAtManifest).toEqual([]);

      // Second invocation: that part of the registry is back; the chaos goes on.
      const second = proxy.requests.length;
      proxy.setChaos({ seed: SEED, rate: RATE });
      const report = await pushArtifact(ref, ref, { registry: local, fetch: observed, sleep });
      proxy.setChaos(undefined);
      expect(report.digest).toBe(descriptor.digest);
      expect(report.blobs.transferred).toBe(4);
      expect(report.blobs.skipped).toBe(166);
      const uploaded = proxy.requests.slice(second).filter(isUploadPut).map(blobOf);
      expect(new Set(uploaded)).toEqual(refused);

      // The manifest went up once every blob was there; no observer saw the tag before.
      expect(missingAtManifest.length).toBeGreaterThanOrEqual(1); // once, and again if it failed
      expect(missingAtManifest.every((m) => m.length === 0)).toBe(true);
      expect(tagSeen.length).toBeGreaterThan(500);
      expect(tagSeen.every((s) => s === 404)).toBe(true);
      expect(await manifestStatus(repository, 'v1')).toBe(200);
      expect(await missingOnRegistry(repository, blobs)).toEqual([]);

      const log = proxy.requests.slice(first);
      expect(retriesInSession(log)).toBeGreaterThan(10);
      expectChaos(log, 50);
      expect(pauses.some((ms) => ms >= 1000)).toBe(true); // Retry-After: 1 honoured
    });

    it('push: an upload PUT answered 503 or 429 is sent again in its session, not in a new one', async () => {
      const repository = 'bad/session';
      const ref = `${proxy.host}/${repository}:v1`;
      const { local, descriptor } = await seededArtifact(ref);
      const first = proxy.requests.length;
      proxy.setChaos({ seed: SEED + 1, rate: RATE });
      const sleep = async (): Promise<void> => undefined;
      // At most two invocations.
      const report = await pushArtifact(ref, ref, { registry: local, sleep }).catch(() =>
        pushArtifact(ref, ref, { registry: local, sleep })
      );
      proxy.setChaos(undefined);
      expect(report.digest).toBe(descriptor.digest);
      const log = proxy.requests.slice(first);
      expect(retriesInSession(log)).toBeGreaterThan(10);
      // A blob's upload opened a new session only after its session really broke (a PUT body
      // cut mid-way: tried again in the session when the registry still said 0 bytes, since it
      // may not have seen the cut yet) or its PUT had used its 1 + 4 tries; never after a lone
      // 503 or 429.
      const puts = log.filter(isUploadPut);
      for (const digest of new Set(puts.map(blobOf))) {
        const mine = puts.filter((r) => blobOf(r) === digest);
        const sessions = [...new Set(mine.map(sessionOf))];
        const broken = sessions.filter((id) => {
          const tries = mine.filter((r) => sessionOf(r) === id);
          return tries.some((r) => r.fault === 'reset') || tries.length === 5;
        });
        expect(sessions.length, `sessions of ${digest}`).toBeLessThanOrEqual(1 + broken.length);
      }
      expectChaos(log, 30);
    });

    it('pull: verified blobs of a failed pull are kept, and the second invocation fetches only the others', async () => {
      const repository = 'bad/pull';
      // Pushed straight to the registry, without faults.
      const direct = `${server.host}/${repository}:v1`;
      const { local, descriptor, blobs, bytesOf } = await seededArtifact(direct);
      await pushArtifact(direct, direct, { registry: local });
      const ref = `${proxy.host}/${repository}:v1`;
      const into = await LocalRegistry.open(await tempDir('runledger-bad-pull-'));
      const sleep = async (): Promise<void> => undefined;

      // First invocation: 6 blobs are refused every time.
      const refused = new Set<string>(blobs.filter((_, i) => i % 29 === 3).map((b) => b.digest));
      expect(refused.size).toBe(6);
      const first = proxy.requests.length;
      proxy.setChaos({
        seed: SEED + 2,
        rate: RATE,
        refuse: (method, path) => method === 'GET' && refused.has(blobOf({ path }) ?? ''),
      });
      const err = await pullArtifact(ref, { registry: into, sleep }).then(
        () => expect.fail('the first pull succeeded'),
        (e: unknown) => e as RemoteError
      );
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.code).toBe('TRANSPORT'); // refused: 503 to the end
      expect(err.message).toMatch(/^6 of 170 blobs could not be pulled from /);
      await expectCode(into.resolve(ref), 'REF_NOT_FOUND');
      // Every blob it verified is kept under its digest; none it did not verify.
      const kept = new Set<string>();
      for (const b of blobs) if (await into.hasBlob(b.digest)) kept.add(b.digest);
      expect(kept.size).toBe(164);
      for (const d of refused) expect(kept.has(d)).toBe(false);

      // Second invocation: only the blobs the first did not verify are fetched.
      const second = proxy.requests.length;
      proxy.setChaos({ seed: SEED + 2, rate: RATE });
      const report = await pullArtifact(ref, { registry: into, sleep });
      proxy.setChaos(undefined);
      const fetched = proxy.requests
        .slice(second)
        .filter((r) => r.method === 'GET' && blobOf(r) !== undefined)
        .map(blobOf);
      expect(new Set(fetched)).toEqual(refused);
      expect(report.blobs.transferred).toBe(6);
      expect(report.blobs.skipped).toBe(164);

      // Every digest verified: the store has the pushed manifest and every blob's exact bytes.
      expect(report.digest).toBe(descriptor.digest);
      expect((await into.resolve(ref)).digest).toBe(descriptor.digest);
      for (const b of blobs) {
        const got = await into.readBlob(b.digest, { expectedSize: b.size });
        expect(digestOf(got)).toBe(b.digest);
        expect(Buffer.compare(got, bytesOf.get(b.digest) as Uint8Array)).toBe(0);
      }
      expectChaos(proxy.requests.slice(first), 15);
    });

    it('pull: a pull killed with SIGKILL keeps the blobs it verified, and the next one fetches only the others', async () => {
      requireBuilt();
      const repository = 'bad/killed';
      const direct = `${server.host}/${repository}:v1`;
      const { local, descriptor, blobs } = await seededArtifact(direct);
      await pushArtifact(direct, direct, { registry: local });
      const ref = `${proxy.host}/${repository}:v1`;
      const root = await tempDir('runledger-bad-killed-');

      // 6 blobs are refused; the child retries them without end, so it is still pulling when
      // the other 164 are in its store (published within about a second of verifying).
      const refused = new Set<string>(blobs.filter((_, i) => i % 29 === 3).map((b) => b.digest));
      proxy.setChaos({
        seed: SEED,
        rate: 0,
        refuse: (method, path) => method === 'GET' && refused.has(blobOf({ path }) ?? ''),
      });
      const child = spawn(process.execPath, [CHILD, root, ref], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal))
      );
      const published = (): string[] =>
        blobs
          .map((b) => b.digest)
          .filter((d) => existsSync(join(root, 'blobs', 'sha256', d.slice('sha256:'.length))));
      // Bounded: at most 600 looks, 50 ms apart.
      for (let i = 0; i < 600 && published().length < 164; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL'); // still pulling: killed, not finished
      proxy.setChaos(undefined);
      const kept = new Set(published());
      expect(kept.size).toBe(164);
      for (const d of refused) expect(kept.has(d)).toBe(false);

      const into = await LocalRegistry.open(root);
      const second = proxy.requests.length;
      const report = await pullArtifact(ref, { registry: into });
      const fetched = proxy.requests
        .slice(second)
        .filter((r) => r.method === 'GET' && blobOf(r) !== undefined)
        .map(blobOf);
      expect(new Set(fetched)).toEqual(refused);
      expect(report.digest).toBe(descriptor.digest);
      expect(report.blobs.transferred).toBe(6);
      for (const b of blobs) {
        const got = await into.readBlob(b.digest, { expectedSize: b.size });
        expect(digestOf(got)).toBe(b.digest);
      }
    });
  }
);
