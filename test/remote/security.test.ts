/**
 * ../shared/spec/oci-reference.md §13 cases 6–9 — the origin policy under attack (§10).
 *
 * 6 (redirects) and 9 (digest mismatch) run against the real docker-registry 2.8.2 with htpasswd
 * auth, so there are real credentials to leak and real bytes to verify. For 6, a small node:http
 * server on 127.0.0.1 fronts the registry and answers blob GETs with a 307 to a second origin
 * (another port, then the same port under the host name `localhost`), which records what it
 * receives and sends the client back to the registry. For 9, a pass-through `fetch` corrupts one
 * response of the real registry (a fault a real server will not produce).
 *
 * 7 (upload Location) and 8 (realm, Link) need a registry that lies; they use the in-memory
 * registry double of test/helpers/registry-double.ts (public `*.example` hosts, no network).
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { digestOf, type Digest } from '../../src/oci/digest.js';
import { RemoteClient } from '../../src/remote/client.js';
import type { CredentialSource } from '../../src/remote/credentials.js';
import { envCredentialName } from '../../src/remote/credentials.js';
import type { FetchLike } from '../../src/remote/http.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  DEFAULT_USERS,
  basicAuthorization,
  startRegistry,
  type RegistryServer,
} from '../helpers/registry-server.js';
import {
  MemoryRegistry,
  TokenRealm,
  fetchDouble,
  type DoubleRequest,
  type Handler,
} from '../helpers/registry-double.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const [[USER, PASSWORD]] = Object.entries(DEFAULT_USERS) as [[string, string]];
const BASIC = basicAuthorization(USER, PASSWORD);
const EXTRA = 'extra-header-s3cret';
const COOKIE = 'session=cookie-s3cret';

function credentials(
  username = USER,
  password = PASSWORD
): (registry: string) => Promise<CredentialSource | undefined> {
  return async () => ({ credential: { kind: 'basic', username, password }, source: 'test' });
}

/** Asserts an error (message, data, JSON form, url) carries none of the secrets. */
function expectNoSecrets(e: unknown, more: readonly string[] = []): void {
  const err = e as RemoteError;
  const texts = [err.message, JSON.stringify(err.data), JSON.stringify(err.toJSON()), err.url];
  for (const s of [PASSWORD, BASIC.slice(6), EXTRA, COOKIE, ...more]) {
    for (const t of texts) expect(t).not.toContain(s);
  }
}

/** Files under the store's blobs/ and temp dir (a failed pull must leave neither). */
async function storeFiles(local: LocalRegistry): Promise<{ blobs: string[]; temp: string[] }> {
  const list = async (dir: string): Promise<string[]> =>
    readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
  return {
    blobs: await list(join(local.root, 'blobs', 'sha256')),
    temp: await list(join(local.root, '.runledger', 'tmp')),
  };
}

// ---- 6: redirects to another origin ----------------------------------------------------------

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

interface Front {
  /** `127.0.0.1:<port>`: the registry origin the client is given. */
  readonly host: string;
  readonly port: number;
  /** The second server's port (the "other port" origin). */
  readonly awayPort: number;
  /** Requests on the registry origin. */
  readonly seen: Seen[];
  /** Requests on any other origin (other port, or `localhost:<port>`). */
  readonly away: Seen[];
  /** Where blob GETs are sent (an origin), and what the other origin answers. */
  mode: { redirectTo: string | undefined; away: 'bounce' | 'challenge' };
  stop(): Promise<void>;
}

const BLOB_PATH = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;

/**
 * A loopback front for the registry at `upstream`. On its own origin (`127.0.0.1:<port>`) it
 * passes requests to the registry, except blob GETs, which it answers with a 307 to
 * `mode.redirectTo`. The other origins (a second port, or the same port as `localhost`) record
 * the request and answer with a 307 back to the registry origin (`?hop=back`, passed through),
 * or with a 401 Basic challenge.
 */
async function startFront(upstream: RegistryServer): Promise<Front> {
  const upstreamPort = Number(upstream.host.split(':')[1]);
  const servers: Server[] = [];
  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<number> => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const front: Front = {
    host: '',
    port: 0,
    awayPort: 0,
    seen: [],
    away: [],
    mode: { redirectTo: undefined, away: 'bounce' },
    stop: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            })
        )
      );
    },
  };
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'invalid'}`);
    const seen = { method: req.method ?? '', url: url.href, headers: req.headers };
    if (req.headers.host !== front.host) {
      front.away.push(seen);
      req.resume();
      if (front.mode.away === 'challenge') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="away"', 'content-length': '0' });
        res.end();
        return;
      }
      res.writeHead(307, {
        location: `http://${front.host}${url.pathname}?hop=back`,
        'content-length': '0',
      });
      res.end();
      return;
    }
    front.seen.push(seen);
    const back = url.searchParams.get('hop') === 'back';
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      BLOB_PATH.test(url.pathname) &&
      !back &&
      front.mode.redirectTo !== undefined
    ) {
      req.resume();
      res.writeHead(307, {
        location: `${front.mode.redirectTo}${url.pathname}`,
        'content-length': '0',
      });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers.connection;
    const up = request(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: req.method,
        path: back ? url.pathname : (req.url ?? '/'),
        headers,
      },
      (ures) => {
        const out = { ...ures.headers };
        delete out.connection;
        delete out['keep-alive'];
        res.writeHead(ures.statusCode ?? 502, out);
        ures.pipe(res);
      }
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const port = await listen(handler);
  const awayPort = await listen(handler);
  Object.assign(front, { host: `127.0.0.1:${port}`, port, awayPort });
  return front;
}

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `against docker-registry 2.8.2 with htpasswd (${HAS_DOCKER_REGISTRY ? 'found' : REGISTRY_SKIP_REASON})`,
  () => {
    let registry: RegistryServer;
    let front: Front;
    const layers = [new Uint8Array(randomBytes(300_000)), new Uint8Array(randomBytes(1000))];
    const REPO = 'acme/secure';
    let pushed: { digest: Digest; blobs: Digest[] };

    beforeAll(async () => {
      registry = await startRegistry({ auth: 'basic' });
      front = await startFront(registry);
      const local = await LocalRegistry.open(await tempDir('runledger-sec-src-'));
      const { descriptor, manifest } = await writeArtifact(local, { layers });
      const ref = `${registry.host}/${REPO}:v1`;
      await local.publishRef(ref, descriptor);
      const report = await pushArtifact(ref, ref, { registry: local, credentials: credentials() });
      pushed = {
        digest: report.digest,
        blobs: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
      };
    });

    afterAll(async () => {
      await front?.stop();
      await registry?.stop();
    });

    /** Pulls through the front; checks digest and bytes; returns the local store. */
    async function pullThroughFront(options: {
      credentials?: (r: string) => Promise<CredentialSource | undefined>;
      env?: Record<string, string>;
    }): Promise<LocalRegistry> {
      const local = await LocalRegistry.open(await tempDir('runledger-sec-dst-'));
      const report = await pullArtifact(`${front.host}/${REPO}:v1`, {
        registry: local,
        headers: { 'x-runledger-extra': EXTRA, cookie: COOKIE },
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        ...(options.env === undefined ? {} : { env: options.env }),
      });
      expect(report.digest).toBe(pushed.digest);
      expect((await local.resolve(`${front.host}/${REPO}:v1`)).digest).toBe(pushed.digest);
      for (const [i, l] of layers.entries()) {
        const got = await local.readBlob(digestOf(l));
        expect(Buffer.compare(got, l), `layer ${i}`).toBe(0);
      }
      return local;
    }

    /** The redirect target saw every blob GET, none with credentials, cookies or extra headers;
     * the registry origin saw them all (so there was something to leak). */
    function expectNothingLeaked(awayHost: string): void {
      const blobGets = front.away.filter((s) => BLOB_PATH.test(new URL(s.url).pathname));
      expect(blobGets).toHaveLength(pushed.blobs.length);
      for (const s of front.away) {
        expect(s.headers.host).toBe(awayHost);
        expect(s.headers.authorization).toBeUndefined();
        expect(s.headers['proxy-authorization']).toBeUndefined();
        expect(s.headers.cookie).toBeUndefined();
        expect(s.headers['x-runledger-extra']).toBeUndefined();
        expect(JSON.stringify(s.headers)).not.toContain(PASSWORD);
      }
      const returned = front.seen.filter((s) => new URL(s.url).searchParams.get('hop') === 'back');
      expect(returned).toHaveLength(pushed.blobs.length);
      for (const s of returned) {
        expect(s.headers.authorization).toBe(BASIC);
        expect(s.headers.cookie).toBe(COOKIE);
        expect(s.headers['x-runledger-extra']).toBe(EXTRA);
      }
    }

    it('case 6: a blob GET redirected to another port arrives there without credentials, cookies or extra headers, and the pull verifies', async () => {
      front.seen.length = 0;
      front.away.length = 0;
      front.mode = { redirectTo: `http://127.0.0.1:${front.awayPort}`, away: 'bounce' };
      await pullThroughFront({ credentials: credentials() });
      expectNothingLeaked(`127.0.0.1:${front.awayPort}`);
    });

    it('case 6: the same with another host name on the same port (localhost vs 127.0.0.1), credentials from RUNLEDGER_AUTH_*', async () => {
      front.seen.length = 0;
      front.away.length = 0;
      front.mode = { redirectTo: `http://localhost:${front.port}`, away: 'bounce' };
      const home = await tempDir('runledger-sec-home-');
      await pullThroughFront({
        env: {
          [envCredentialName(front.host)]: `${USER}:${PASSWORD}`,
          HOME: home,
          DOCKER_CONFIG: join(home, 'docker'),
        },
      });
      expectNothingLeaked(`localhost:${front.port}`);
    });

    it('case 6: a 401 challenge from the redirect target is not answered with the registry credentials', async () => {
      front.seen.length = 0;
      front.away.length = 0;
      front.mode = { redirectTo: `http://127.0.0.1:${front.awayPort}`, away: 'challenge' };
      const local = await LocalRegistry.open(await tempDir('runledger-sec-dst-'));
      const e = (await expectCode(
        pullArtifact(`${front.host}/${REPO}:v1`, {
          registry: local,
          credentials: credentials(),
          headers: { 'x-runledger-extra': EXTRA, cookie: COOKIE },
          concurrency: 1,
        }),
        'AUTHENTICATION'
      )) as RemoteError;
      expect(front.away.length).toBeGreaterThanOrEqual(1);
      for (const s of front.away) {
        expect(s.headers.authorization).toBeUndefined();
        expect(s.headers.cookie).toBeUndefined();
        expect(s.headers['x-runledger-extra']).toBeUndefined();
      }
      expect(e.status).toBe(401);
      expect(e.method).toBe('GET');
      expect(e.url).toMatch(new RegExp(`^http://${front.host}/v2/${REPO}/blobs/sha256:`));
      expectNoSecrets(e);
      await expectCode(local.resolve(`${front.host}/${REPO}:v1`), 'REF_NOT_FOUND');
      expect(await storeFiles(local)).toEqual({ blobs: [], temp: [] });
    });

    // ---- 9: digest mismatch on pull ------------------------------------------------------------

    /** A pass-through `fetch` to the real registry that may replace one response. */
    function corrupting(rewrite: (url: URL, res: Response) => Promise<Response | undefined>): {
      fetch: FetchLike;
      urls: URL[];
    } {
      const urls: URL[] = [];
      return {
        urls,
        fetch: async (input, init) => {
          const url = new URL(input);
          urls.push(url);
          const res = await fetch(input, init);
          return (await rewrite(url, res)) ?? res;
        },
      };
    }

    const isGet = (url: URL, what: string): boolean => url.pathname.endsWith(what);

    /**
     * Pulls and expects DIGEST_MISMATCH. Nothing that did not verify is stored: no reference, no
     * manifest, no temp file, not the `corrupt` blob; the blobs that verified are kept (so a
     * pull again fetches only the missing ones).
     */
    async function expectFailedPull(
      fetchImpl: FetchLike,
      reference: string,
      corrupt?: Digest
    ): Promise<{ error: RemoteError; local: LocalRegistry }> {
      const local = await LocalRegistry.open(await tempDir('runledger-sec-pull-'));
      const error = (await expectCode(
        pullArtifact(reference, { registry: local, credentials: credentials(), fetch: fetchImpl }),
        'DIGEST_MISMATCH'
      )) as RemoteError;
      expect(error).toBeInstanceOf(RemoteError);
      expect(error.method).toBe('GET');
      expectNoSecrets(error);
      const kept = corrupt === undefined ? [] : pushed.blobs.filter((d) => d !== corrupt);
      expect(await storeFiles(local)).toEqual({
        blobs: kept.map((d) => d.slice('sha256:'.length)).sort(),
        temp: [],
      });
      expect(await local.listRefs()).toEqual([]);
      expect(await local.hasBlob(pushed.digest)).toBe(false);
      if (corrupt !== undefined) expect(await local.hasBlob(corrupt)).toBe(false);
      return { error, local };
    }

    it('case 9: a blob with the same length but different bytes fails DIGEST_MISMATCH and is not stored', async () => {
      const target = digestOf(layers[0] as Uint8Array);
      const proxy = corrupting(async (url, res) => {
        if (!isGet(url, `/blobs/${target}`) || res.status !== 200) return undefined;
        const bytes = new Uint8Array(await res.arrayBuffer());
        bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
        return new Response(bytes, { status: 200, headers: res.headers });
      });
      const { error } = await expectFailedPull(proxy.fetch, `${registry.host}/${REPO}:v1`, target);
      expect(error.message).toContain(target);
      expect(error.message).toMatch(/hashes to sha256:/);
      expect(error.url).toBe(`${registry.url}/v2/${REPO}/blobs/${target}`);
      expect(error.data['digest']).toBe(target);
    });

    it('case 9: a blob with one trailing byte too many fails DIGEST_MISMATCH and is not stored', async () => {
      const target = digestOf(layers[1] as Uint8Array);
      const proxy = corrupting(async (url, res) => {
        if (!isGet(url, `/blobs/${target}`) || res.status !== 200) return undefined;
        const bytes = new Uint8Array(await res.arrayBuffer());
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        longer[bytes.length] = 0x0a;
        const headers = new Headers(res.headers);
        headers.set('content-length', String(longer.length));
        return new Response(longer, { status: 200, headers });
      });
      const { error } = await expectFailedPull(proxy.fetch, `${registry.host}/${REPO}:v1`, target);
      expect(error.message).toContain(target);
      expect(error.message).toMatch(/longer than the 1000 bytes/);
    });

    it('case 9: a manifest fetched by tag whose Docker-Content-Digest disagrees with its bytes is rejected before any blob is fetched', async () => {
      const liar = digestOf('some other manifest');
      const proxy = corrupting(async (url, res) => {
        if (!isGet(url, '/manifests/v1') || res.status !== 200) return undefined;
        const headers = new Headers(res.headers);
        headers.set('docker-content-digest', liar);
        return new Response(await res.arrayBuffer(), { status: 200, headers });
      });
      const { error } = await expectFailedPull(proxy.fetch, `${registry.host}/${REPO}:v1`);
      expect(error.message).toContain(liar);
      expect(error.message).toContain(pushed.digest);
      expect(error.message).toMatch(/Docker-Content-Digest/);
      expect(error.url).toBe(`${registry.url}/v2/${REPO}/manifests/v1`);
      expect(proxy.urls.some((u) => u.pathname.includes('/blobs/'))).toBe(false);
    });

    it('case 9: a manifest whose bytes were changed in transit (header kept) is rejected by tag and by digest', async () => {
      const proxy = corrupting(async (url, res) => {
        if (!url.pathname.includes('/manifests/') || res.status !== 200) return undefined;
        const text = new TextDecoder().decode(await res.arrayBuffer());
        // Still valid JSON of the same manifest, but other bytes.
        return new Response(`${text}\n`, { status: 200, headers: res.headers });
      });
      const byTag = await expectFailedPull(proxy.fetch, `${registry.host}/${REPO}:v1`);
      expect(byTag.error.message).toMatch(/Docker-Content-Digest/);
      const byDigest = await expectFailedPull(
        proxy.fetch,
        `${registry.host}/${REPO}@${pushed.digest}`
      );
      expect(byDigest.error.message).toMatch(/not the digest asked for/);
      expect(proxy.urls.some((u) => u.pathname.includes('/blobs/'))).toBe(false);
    });
  }
);

// ---- 7: hostile upload Location ----------------------------------------------------------------

describe('case 7: upload Locations (registry double)', () => {
  const BLOB = new TextEncoder().encode('a blob that must not leak anywhere');
  const DESC = {
    mediaType: 'application/octet-stream',
    digest: digestOf(BLOB),
    size: BLOB.byteLength,
  };
  const isPost = (r: DoubleRequest): boolean =>
    r.method === 'POST' && r.url.pathname.endsWith('/blobs/uploads/');

  /** A basic-auth registry whose POST answers with `location`; `more` handles other hosts. */
  function setup(
    location: string,
    options: { origin?: string; more?: Handler } = {}
  ): { remote: MemoryRegistry; double: ReturnType<typeof fetchDouble>; client: RemoteClient } {
    const remote = new MemoryRegistry(options.origin);
    remote.basic = { username: USER, password: PASSWORD };
    const hostile: Handler = (r) =>
      isPost(r) && r.headers.get('authorization') === BASIC
        ? new Response(null, { status: 202, headers: { location } })
        : undefined;
    const double = fetchDouble(hostile, ...(options.more ? [options.more] : []), remote.handle);
    const client = new RemoteClient({
      fetch: double.fetch,
      credentials: credentials(),
      headers: { 'x-runledger-extra': EXTRA, cookie: COOKIE },
      sleep: async () => undefined,
    });
    return { remote, double, client };
  }

  it('a Location on another https origin gets the body but no credentials, cookies or extra headers', async () => {
    const stored: Uint8Array[] = [];
    const uploads: Handler = (r) => {
      if (r.url.host !== 'uploads.example') return undefined;
      stored.push(r.body ?? new Uint8Array(0));
      return new Response(null, {
        status: 201,
        headers: { 'docker-content-digest': r.url.searchParams.get('digest') ?? '' },
      });
    };
    const { double, client } = setup('https://uploads.example/session/1?sig=presigned', {
      more: uploads,
    });
    const repo = client.repository('registry.example/acme/up');
    expect(await repo.pushBlob(DESC, () => BLOB)).toBe('uploaded');
    const there = double.to('uploads.example');
    expect(there).toHaveLength(1);
    const put = there[0] as DoubleRequest;
    expect(put.method).toBe('PUT');
    expect(put.url.searchParams.get('digest')).toBe(DESC.digest);
    expect(put.url.searchParams.get('sig')).toBe('presigned');
    expect(put.headers.get('authorization')).toBeNull();
    expect(put.headers.get('cookie')).toBeNull();
    expect(put.headers.get('x-runledger-extra')).toBeNull();
    expect(stored).toEqual([BLOB]);
    // The POST to the registry carried all three: there was something to leak.
    const post = double.requests.filter(isPost).at(-1) as DoubleRequest;
    expect(post.headers.get('authorization')).toBe(BASIC);
    expect(post.headers.get('cookie')).toBe(COOKIE);
    expect(post.headers.get('x-runledger-extra')).toBe(EXTRA);
  });

  it.each([
    [
      'the cloud metadata address',
      'https://169.254.169.254/latest/meta-data/?token=abc',
      /link-local/,
    ],
    [
      'a loopback address (registry is public)',
      'https://127.0.0.2/upload?token=abc',
      /loopback address and the registry is not/,
    ],
    [
      'a private address (registry is public)',
      'https://10.1.2.3/upload',
      /private address and the registry is not/,
    ],
    [
      'plain http from an https registry',
      'http://uploads.example/upload?token=abc',
      /downgrade https to plain http/,
    ],
    [
      'plain http on the registry host itself',
      'http://registry.example/v2/acme/up/blobs/uploads/x',
      /downgrade/,
    ],
    ['a non-http scheme', 'file:///etc/passwd', /only http and https/],
  ])('refuses %s before any body is sent', async (_what, location, why) => {
    const { double, remote, client } = setup(location);
    const e = (await expectCode(
      client.repository('registry.example/acme/up').pushBlob(DESC, () => BLOB),
      'REMOTE_REFUSED'
    )) as RemoteError;
    const target = new URL(location);
    expect(double.requests.filter((r) => r.method === 'PUT' || r.method === 'PATCH')).toEqual([]);
    expect(double.requests.filter((r) => r.url.host !== 'registry.example')).toEqual([]);
    expect(double.requests.filter(isPost)).toHaveLength(2); // the challenge, then the answered one
    expect(remote.blobs.has(DESC.digest)).toBe(false);
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(/^Refused the upload location /);
    expect(e.method).toBe('POST');
    expect(e.status).toBeUndefined();
    expect(e.url).not.toContain('abc'); // query values redacted
    expect(e.url.startsWith(`${target.protocol}//`)).toBe(true);
    expectNoSecrets(e, ['abc']);
  });

  it('allows another loopback port when the registry itself is loopback (local testing)', async () => {
    const stored: Uint8Array[] = [];
    const other: Handler = (r) => {
      if (r.url.host !== '127.0.0.2:5001') return undefined;
      stored.push(r.body ?? new Uint8Array(0));
      return new Response(null, { status: 201 });
    };
    const { double, client } = setup('http://127.0.0.2:5001/upload', {
      origin: 'http://127.0.0.1:5000',
      more: other,
    });
    expect(await client.repository('127.0.0.1:5000/acme/up').pushBlob(DESC, () => BLOB)).toBe(
      'uploaded'
    );
    expect(stored).toEqual([BLOB]);
    expect(double.to('127.0.0.2:5001')[0]?.headers.get('authorization')).toBeNull();
  });

  it('refuses a hostile Location in the answer to a chunk (PATCH) before the next chunk is sent', async () => {
    const remote = new MemoryRegistry();
    remote.basic = { username: USER, password: PASSWORD };
    const big = new Uint8Array(randomBytes(3000));
    const desc = { mediaType: 'application/octet-stream', digest: digestOf(big), size: 3000 };
    const hostile: Handler = (r) =>
      r.method === 'PATCH' && r.headers.get('authorization') === BASIC
        ? new Response(null, {
            status: 202,
            headers: { location: 'https://169.254.169.254/next', range: '0-999' },
          })
        : undefined;
    const double = fetchDouble(hostile, remote.handle);
    const client = new RemoteClient({
      fetch: double.fetch,
      credentials: credentials(),
      sleep: async () => undefined,
    });
    const e = (await expectCode(
      client
        .repository('registry.example/acme/up')
        .pushBlob(desc, (offset, length) => big.subarray(offset, offset + length), {
          chunkThreshold: 1000,
          chunkSize: 1000,
        }),
      'REMOTE_REFUSED'
    )) as RemoteError;
    expect(e.method).toBe('PATCH');
    const patches = double.requests.filter((r) => r.method === 'PATCH');
    // One PATCH: Basic was learnt from the POST's challenge, so the first chunk went with it.
    expect(patches.map((r) => r.body?.byteLength)).toEqual([1000]);
    expect(double.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(double.requests.filter((r) => r.url.host !== 'registry.example')).toEqual([]);
    expectNoSecrets(e);
  });
});

// ---- 8: hostile realm and Link -------------------------------------------------------------------

describe('case 8: token realms and Link headers (registry double)', () => {
  /** A registry that challenges every request with Bearer at `realm`. */
  function hostileRealm(
    realm: string,
    origin?: string
  ): { double: ReturnType<typeof fetchDouble>; client: RemoteClient; host: string } {
    const remote = new MemoryRegistry(origin);
    const challenge: Handler = (r) =>
      r.url.origin === remote.origin
        ? new Response(null, {
            status: 401,
            headers: {
              'www-authenticate': `Bearer realm="${realm}",service="registry.example",scope="repository:acme/x:pull"`,
            },
          })
        : undefined;
    const anywhere: Handler = () => new Response('{"token":"stolen"}', { status: 200 });
    const double = fetchDouble(challenge, anywhere);
    const client = new RemoteClient({
      fetch: double.fetch,
      credentials: credentials(),
      plainHttp: origin?.startsWith('http:') === true ? [remote.host] : false,
      sleep: async () => undefined,
    });
    return { double, client, host: remote.host };
  }

  it.each([
    [
      'a private IP (registry public)',
      'https://10.0.0.5/token',
      /private address and the registry is not/,
    ],
    ['a loopback address (registry public)', 'https://127.0.0.1:8080/token', /loopback/],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/iam', /link-local/],
    ['a non-http scheme', 'file:///etc/passwd', /only http and https/],
    ['ftp', 'ftp://auth.example/token', /only http and https/],
    ['plain http from an https registry', 'http://auth.example/token', /downgrade/],
  ])('refuses a realm on %s without sending credentials', async (_what, realm, why) => {
    const { double, client } = hostileRealm(realm);
    const e = (await expectCode(
      client.repository('registry.example/acme/x').listTags(),
      'REMOTE_REFUSED'
    )) as RemoteError;
    expect(e.message).toMatch(/^Refused the token realm /);
    expect(e.message).toMatch(why);
    expect(e.method).toBe('GET');
    // Only the registry was asked, and never with credentials.
    expect(double.requests.map((r) => r.url.host)).toEqual(['registry.example']);
    for (const r of double.requests) expect(r.headers.get('authorization')).toBeNull();
    expectNoSecrets(e);
  });

  it('sends no Basic credentials to a plain-http realm on another origin, even from a plain-http registry', async () => {
    const { double, client } = hostileRealm('http://auth.example/token', 'http://registry.example');
    const e = (await expectCode(
      client.repository('registry.example/acme/x').listTags(),
      'REMOTE_REFUSED'
    )) as RemoteError;
    expect(e.message).toMatch(/plain-http token realm/);
    expect(double.to('auth.example')).toEqual([]);
    for (const r of double.requests) expect(r.headers.get('authorization')).toBeNull();
    expectNoSecrets(e);
  });

  it('uses an https realm on another public origin (control: the rule is not "refuse all")', async () => {
    const remote = new MemoryRegistry();
    const realm = new TokenRealm('https://auth.example/token');
    realm.protect(remote);
    remote.seed('acme/x', 'v1', [new TextEncoder().encode('x')]);
    const double = fetchDouble(realm.handle, remote.handle);
    const client = new RemoteClient({ fetch: double.fetch, credentials: credentials() });
    expect(await client.repository('registry.example/acme/x').listTags()).toEqual(['v1']);
    expect(realm.requests).toHaveLength(1);
    expect(realm.requests[0]?.headers.get('authorization')).toBe(BASIC);
  });

  /** A basic-auth registry whose tag list answers with `page(i, url)` for the i-th request. */
  function tagPages(page: (i: number, url: URL) => Response): {
    double: ReturnType<typeof fetchDouble>;
    client: RemoteClient;
    pages: () => DoubleRequest[];
  } {
    const remote = new MemoryRegistry();
    remote.basic = { username: USER, password: PASSWORD };
    let i = 0;
    const tags: Handler = (r) =>
      r.url.pathname === '/v2/acme/x/tags/list' && r.headers.get('authorization') === BASIC
        ? page(i++, r.url)
        : undefined;
    const double = fetchDouble(tags, remote.handle);
    const client = new RemoteClient({
      fetch: double.fetch,
      credentials: credentials(),
      sleep: async () => undefined,
    });
    const pages = (): DoubleRequest[] =>
      double.requests.filter(
        (r) => r.url.pathname === '/v2/acme/x/tags/list' && r.headers.get('authorization') !== null
      );
    return { double, client, pages };
  }

  const tagJson = (tags: string[], link?: string): Response =>
    new Response(JSON.stringify({ name: 'acme/x', tags }), {
      status: 200,
      headers: {
        'content-type': 'application/json',
        ...(link === undefined ? {} : { link: `<${link}>; rel="next"` }),
      },
    });

  it('refuses a tag-list Link to another origin without requesting it', async () => {
    const { double, client } = tagPages(() =>
      tagJson(['a'], 'https://evil.example/v2/acme/x/tags/list?last=a&token=abc')
    );
    const e = (await expectCode(
      client.repository('registry.example/acme/x').listTags(),
      'REMOTE_REFUSED'
    )) as RemoteError;
    expect(e.message).toMatch(/leaves registry\.example/);
    expect(e.url).toBe('https://evil.example/v2/acme/x/tags/list?last=…&token=…');
    expect(double.to('evil.example')).toEqual([]);
    expectNoSecrets(e, ['abc']);
  });

  it('refuses a Link that keeps the host but changes the scheme or port', async () => {
    for (const link of [
      'http://registry.example/v2/acme/x/tags/list?last=a',
      'https://registry.example:8443/v2/acme/x/tags/list?last=a',
    ]) {
      const { double, client } = tagPages(() => tagJson(['a'], link));
      await expectCode(client.repository('registry.example/acme/x').listTags(), 'REMOTE_REFUSED');
      expect(double.requests.filter((r) => r.url.href.startsWith(link.slice(0, 30)))).toEqual([]);
    }
  });

  it('follows same-origin relative Links and stops an endless chain at the page limit', async () => {
    const { client, pages } = tagPages((i) =>
      tagJson([`t${i}`], `/v2/acme/x/tags/list?n=1&last=t${i}`)
    );
    const e = (await expectCode(
      client.repository('registry.example/acme/x').listTags({ pageSize: 1 }),
      'PROTOCOL'
    )) as RemoteError;
    expect(e.message).toMatch(/kept sending tag pages past 100/);
    expect(pages()).toHaveLength(100);
    expect(pages()[99]?.url.searchParams.get('last')).toBe('t98');
    expectNoSecrets(e);
  });

  it('stops a Link loop that adds no new tags after one repeat', async () => {
    const { client, pages } = tagPages(() => tagJson(['a', 'b'], '/v2/acme/x/tags/list?last=b'));
    expect(await client.repository('registry.example/acme/x').listTags()).toEqual(['a', 'b']);
    expect(pages()).toHaveLength(2);
  });
});
