/**
 * ../shared/spec/oci-reference.md §13 case 12 — rate limits and transient errors. These are faults
 * a real docker-registry will not produce on demand (429 with Retry-After, a 502/503 for a few
 * requests, a reset, a 401 on the upload PUT, a 307 on the upload PUT), so the registry is the
 * in-memory double of test/helpers/registry-double.ts (no network). No test waits: `sleep` is
 * injected and records the delays the client asked for.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import type { CredentialSource } from '../../src/remote/credentials.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  MemoryRegistry,
  TokenRealm,
  fetchDouble,
  networkFailure,
  type DoubleRequest,
  type Handler,
} from '../helpers/registry-double.js';
import { tempDir } from '../helpers/temp.js';

const USER = 'bob';
const PASSWORD = 'retry-test-p4ssw0rd';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

function credentials(): (registry: string) => Promise<CredentialSource | undefined> {
  return async () => ({
    credential: { kind: 'basic', username: USER, password: PASSWORD },
    source: 'test',
  });
}

/** Asserts an error's message, data and JSON form carry none of the secrets. */
function expectNoSecrets(e: unknown, secrets: readonly string[]): void {
  const err = e as RemoteError;
  const texts = [err.message, JSON.stringify(err.data), JSON.stringify(err.toJSON()), err.url];
  for (const s of [PASSWORD, BASIC, ...secrets]) {
    for (const t of texts) expect(t).not.toContain(s);
  }
}

/** Byte equality without vitest's element-wise deep equal (slow on megabytes). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(a, b) === 0;
}

/** A recorder for the injected sleep. */
function sleeper(): { sleep: (ms: number) => Promise<void>; sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

/** A handler that answers the first `n` matching requests with `answer`, then passes. */
function firstN(
  n: number,
  match: (r: DoubleRequest) => boolean,
  answer: (i: number, r: DoubleRequest) => Response
): Handler & { hits: number } {
  const h = Object.assign(
    (r: DoubleRequest): Response | undefined => {
      if (!match(r) || h.hits >= n) return undefined;
      return answer(h.hits++, r);
    },
    { hits: 0 }
  );
  return h;
}

const isManifestGet = (r: DoubleRequest): boolean =>
  r.method === 'GET' && /\/manifests\/v1$/.test(r.url.pathname);

async function setup(): Promise<{
  remote: MemoryRegistry;
  local: LocalRegistry;
  layer: Uint8Array;
}> {
  const remote = new MemoryRegistry();
  remote.basic = { username: USER, password: PASSWORD };
  const layer = randomBytes(4096);
  remote.seed('acme/retry', 'v1', [layer]);
  const local = await LocalRegistry.open(await tempDir('runledger-retry-'));
  return { remote, local, layer };
}

describe('429 with Retry-After', () => {
  it('waits at least the delta-seconds asked (Retry-After: 2), then succeeds', async () => {
    const { remote, local, layer } = await setup();
    const limited = firstN(
      1,
      isManifestGet,
      () => new Response('slow down', { status: 429, headers: { 'retry-after': '2' } })
    );
    const double = fetchDouble(limited, remote.handle);
    const { sleep, sleeps } = sleeper();
    const report = await pullArtifact('registry.example/acme/retry:v1', {
      fetch: double.fetch,
      credentials: credentials(),
      sleep,
      registry: local,
    });
    expect(limited.hits).toBe(1);
    expect(double.requests.filter(isManifestGet).length).toBe(1 + 2); // challenge, 429, success
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
    expect(sleeps[0]).toBeLessThan(2000 + 1000); // the asked delay, not a stacked backoff
    expect(await local.readBlob(digestOf(layer))).toEqual(new Uint8Array(layer));
    expect((await local.resolve('registry.example/acme/retry:v1')).digest).toBe(report.digest);
  });

  it('waits until an HTTP-date Retry-After', async () => {
    const { remote, local } = await setup();
    const limited = firstN(
      1,
      isManifestGet,
      () =>
        new Response(null, {
          status: 429,
          headers: { 'retry-after': new Date(Date.now() + 10_000).toUTCString() },
        })
    );
    const double = fetchDouble(limited, remote.handle);
    const { sleep, sleeps } = sleeper();
    await pullArtifact('registry.example/acme/retry:v1', {
      fetch: double.fetch,
      credentials: credentials(),
      sleep,
      registry: local,
    });
    expect(limited.hits).toBe(1);
    expect(sleeps).toHaveLength(1);
    // The date has whole seconds: 9–10 s from now; 8 s leaves room for a slow machine.
    expect(sleeps[0]).toBeGreaterThanOrEqual(8000);
    expect(sleeps[0]).toBeLessThanOrEqual(10_000);
  });

  it('fails RATE_LIMITED at once, naming the wait, when Retry-After is beyond the cap', async () => {
    const { remote, local } = await setup();
    const limited = firstN(
      Infinity,
      isManifestGet,
      () =>
        new Response(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'quota' }] }), {
          status: 429,
          headers: { 'retry-after': '3600', 'content-type': 'application/json' },
        })
    );
    const double = fetchDouble(limited, remote.handle);
    const { sleep, sleeps } = sleeper();
    const e = (await expectCode(
      pullArtifact('registry.example/acme/retry:v1', {
        fetch: double.fetch,
        credentials: credentials(),
        sleep,
        registry: local,
      }),
      'RATE_LIMITED'
    )) as RemoteError;
    expect(limited.hits).toBe(1); // no retry: waiting an hour is the user's call
    expect(sleeps).toEqual([]);
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.status).toBe(429);
    expect(e.method).toBe('GET');
    expect(e.url).toBe('https://registry.example/v2/acme/retry/manifests/v1');
    expect(e.registryErrors[0]?.code).toBe('TOOMANYREQUESTS');
    expect(e.message).toMatch(/3600 s/);
    expect(e.message).toMatch(/Retry-After/);
    expect(e.data['retryAfterMs']).toBe(3_600_000);
    expectNoSecrets(e, []);
    await expectCode(local.resolve('registry.example/acme/retry:v1'), 'REF_NOT_FOUND');
  });

  it('gives up RATE_LIMITED after the retries when every answer is 429, each wait honoured', async () => {
    const { remote, local } = await setup();
    const limited = firstN(
      Infinity,
      isManifestGet,
      () => new Response(null, { status: 429, headers: { 'retry-after': '1' } })
    );
    const double = fetchDouble(limited, remote.handle);
    const { sleep, sleeps } = sleeper();
    const e = (await expectCode(
      pullArtifact('registry.example/acme/retry:v1', {
        fetch: double.fetch,
        credentials: credentials(),
        sleep,
        maxRetries: 3,
        // No budget beyond one request's retries: no new attempt of the manifest after them.
        blobRetries: 3,
        registry: local,
      }),
      'RATE_LIMITED'
    )) as RemoteError;
    expect(limited.hits).toBe(1 + 3);
    expect(sleeps).toHaveLength(3);
    for (const s of sleeps) expect(s).toBeGreaterThanOrEqual(1000);
    expect(e.status).toBe(429);
    expect(e.message).toMatch(/Retry-After/);
    expectNoSecrets(e, []);
  });
});

describe('transient failures', () => {
  it('retries 502, 503 and ECONNRESET on a blob GET with growing backoff, then verifies', async () => {
    const { remote, local, layer } = await setup();
    const layerDigest = digestOf(layer);
    const flaky = firstN(
      3,
      (r) => r.method === 'GET' && r.url.pathname.endsWith(`/blobs/${layerDigest}`),
      (i) => {
        if (i === 0) return new Response('bad gateway', { status: 502 });
        if (i === 1) return new Response('unavailable', { status: 503 });
        throw networkFailure('ECONNRESET');
      }
    );
    const double = fetchDouble(flaky, remote.handle);
    const { sleep, sleeps } = sleeper();
    await pullArtifact('registry.example/acme/retry:v1', {
      fetch: double.fetch,
      credentials: credentials(),
      sleep,
      registry: local,
    });
    expect(flaky.hits).toBe(3);
    // Default backoff: 250 ms doubled per retry, ±20 % jitter.
    expect(sleeps).toHaveLength(3);
    const [a, b, c] = sleeps as [number, number, number];
    expect(a).toBeGreaterThanOrEqual(200);
    expect(a).toBeLessThanOrEqual(300);
    expect(b).toBeGreaterThanOrEqual(400);
    expect(b).toBeLessThanOrEqual(600);
    expect(c).toBeGreaterThanOrEqual(800);
    expect(c).toBeLessThanOrEqual(1200);
    expect(await local.readBlob(layerDigest)).toEqual(new Uint8Array(layer));
  });

  it('fails TRANSPORT with the status after the retries when the registry keeps answering 503', async () => {
    const { remote, local } = await setup();
    const down = firstN(Infinity, isManifestGet, () => new Response(null, { status: 503 }));
    const double = fetchDouble(down, remote.handle);
    const { sleep, sleeps } = sleeper();
    const e = (await expectCode(
      pullArtifact('registry.example/acme/retry:v1', {
        fetch: double.fetch,
        credentials: credentials(),
        sleep,
        blobRetries: 4, // one request's retries are all the manifest's budget
        registry: local,
      }),
      'TRANSPORT'
    )) as RemoteError;
    expect(down.hits).toBe(1 + 4); // the first try and the default 4 retries
    expect(sleeps).toHaveLength(4);
    for (let i = 1; i < sleeps.length; i++) {
      expect(sleeps[i] as number).toBeGreaterThan(sleeps[i - 1] as number);
    }
    expect(e.status).toBe(503);
    expect(e.method).toBe('GET');
    expect(e.url).toBe('https://registry.example/v2/acme/retry/manifests/v1');
    expect(e.message).toMatch(/503/);
    expectNoSecrets(e, []);
  });

  it('fails TRANSPORT naming the reset after the retries when every attempt is reset', async () => {
    const { remote, local } = await setup();
    const reset = firstN(Infinity, isManifestGet, () => {
      throw networkFailure('ECONNRESET');
    });
    const double = fetchDouble(reset, remote.handle);
    const { sleep, sleeps } = sleeper();
    const e = (await expectCode(
      pullArtifact('registry.example/acme/retry:v1', {
        fetch: double.fetch,
        credentials: credentials(),
        sleep,
        maxRetries: 2,
        blobRetries: 2,
        registry: local,
      }),
      'TRANSPORT'
    )) as RemoteError;
    expect(reset.hits).toBe(1 + 2);
    expect(sleeps).toHaveLength(2);
    expect(e.status).toBeUndefined();
    expect(e.method).toBe('GET');
    expect(e.data['errno']).toBe('ECONNRESET');
    expect(e.message).toMatch(/ECONNRESET/);
    expectNoSecrets(e, []);
  });
});

describe('a file-backed upload body is sent again intact', () => {
  /** A local artifact with a layer larger than 1 MiB (streamed from its file, not held in memory). */
  async function bigArtifact(): Promise<{
    local: LocalRegistry;
    layer: Uint8Array;
    layerDigest: string;
  }> {
    const local = await LocalRegistry.open(await tempDir('runledger-retry-push-'));
    const layer = new Uint8Array(randomBytes(1024 * 1024 + 4099));
    await local.publishRef(
      'registry.example/acme/big:v1',
      (await writeArtifact(local, { layers: [layer, 'small'] })).descriptor
    );
    return { local, layer, layerDigest: digestOf(layer) };
  }

  const isUploadPut = (digest: string) => (r: DoubleRequest) =>
    r.method === 'PUT' &&
    r.url.pathname.includes('/blobs/uploads/') &&
    r.url.searchParams.get('digest') === digest;

  it('after a 401 that makes the client fetch a new token', async () => {
    const { local, layer, layerDigest } = await bigArtifact();
    const remote = new MemoryRegistry();
    const realm = new TokenRealm();
    realm.protect(remote);
    // The token "expires" just before the big PUT: the registry answers it with a 401 challenge.
    let expired = false;
    const expire: Handler = (r) => {
      if (!expired && isUploadPut(layerDigest)(r)) {
        expired = true;
        remote.tokens.clear();
      }
      return undefined;
    };
    const double = fetchDouble(expire, realm.handle, remote.handle);
    const { sleep, sleeps } = sleeper();
    const report = await pushArtifact('registry.example/acme/big:v1', undefined, {
      fetch: double.fetch,
      credentials: credentials(),
      sleep,
      registry: local,
    });
    const puts = double.requests.filter(isUploadPut(layerDigest));
    expect(puts).toHaveLength(2);
    const [first, second] = puts as [DoubleRequest, DoubleRequest];
    // Streamed from the file (a Uint8Array body would carry no explicit Content-Length).
    expect(second.headers.get('content-length')).toBe(String(layer.byteLength));
    expect(sameBytes(second.body, layer)).toBe(true);
    expect(first.headers.get('authorization')).not.toBe(second.headers.get('authorization'));
    expect(second.headers.get('authorization')).toMatch(/^Bearer token-/);
    expect(realm.requests.length).toBeGreaterThanOrEqual(2);
    expect(realm.requests.at(-1)?.headers.get('authorization')).toBe(`Basic ${BASIC}`);
    expect(sameBytes(remote.blobs.get(layerDigest), layer)).toBe(true);
    expect(remote.manifests.get('acme/big:v1')?.bytes).toBeDefined();
    expect(digestOf(remote.manifests.get('acme/big:v1')?.bytes as Uint8Array)).toBe(report.digest);
    expect(report.blobs.transferred).toBe(3);
    expect(sleeps).toEqual([]); // an auth round is not a retry
  });

  it('after a 307 to another origin, which gets the body but no credentials', async () => {
    const { local, layer, layerDigest } = await bigArtifact();
    const remote = new MemoryRegistry();
    remote.basic = { username: USER, password: PASSWORD };
    const redirect = firstN(1, isUploadPut(layerDigest), (_i, r) => {
      const to = new URL('https://storage.example/upload');
      to.searchParams.set('digest', r.url.searchParams.get('digest') ?? '');
      to.searchParams.set('X-Amz-Signature', 'presigned-signature');
      return new Response(null, { status: 307, headers: { location: to.href } });
    });
    const storage: Handler = (r) => {
      if (r.url.host !== 'storage.example') return undefined;
      const bytes = r.body ?? new Uint8Array(0);
      const digest = digestOf(bytes);
      if (digest !== r.url.searchParams.get('digest')) return new Response(null, { status: 400 });
      remote.blobs.set(digest, bytes);
      return new Response(null, { status: 201, headers: { 'docker-content-digest': digest } });
    };
    const double = fetchDouble(redirect, storage, remote.handle);
    await pushArtifact('registry.example/acme/big:v1', undefined, {
      fetch: double.fetch,
      credentials: credentials(),
      headers: { 'x-registry-extra': 'extra-header-secret' },
      sleep: sleeper().sleep,
      registry: local,
    });
    expect(redirect.hits).toBe(1);
    const atStorage = double.to('storage.example');
    expect(atStorage).toHaveLength(1);
    const hop = atStorage[0] as DoubleRequest;
    expect(hop.method).toBe('PUT');
    expect(sameBytes(hop.body, layer)).toBe(true);
    expect(hop.headers.get('content-length')).toBe(String(layer.byteLength));
    expect(hop.headers.get('authorization')).toBeNull();
    expect(hop.headers.get('x-registry-extra')).toBeNull();
    // The registry itself did get both, so there was something to leak.
    const atRegistry = double.requests.filter(isUploadPut(layerDigest));
    expect(atRegistry[0]?.headers.get('authorization')).toBe(`Basic ${BASIC}`);
    expect(atRegistry[0]?.headers.get('x-registry-extra')).toBe('extra-header-secret');
    expect(sameBytes(remote.blobs.get(layerDigest), layer)).toBe(true);
  });
});
