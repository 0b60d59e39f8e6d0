/**
 * A registry in memory behind a `fetch` double (no network at all), for faults a real
 * docker-registry cannot produce: hostile upload `Location`s, realms and `Link`s, 429 with
 * `Retry-After`, resets, a 401 in the middle of an upload. Hosts are `*.example` names (never
 * resolved: nothing leaves the process).
 *
 * `fetchDouble(...handlers)` records every request (headers and the whole body) and asks the
 * handlers in order; the first to return a Response answers. A request no handler takes fails
 * like an unknown host (`TypeError('fetch failed')` with `ENOTFOUND`). A handler may throw to
 * simulate a network failure.
 *
 * `MemoryRegistry` is a handler implementing the Distribution endpoints the client uses
 * (ping, manifests, blobs, POST/PATCH/PUT uploads, tag list), optionally behind Basic or Bearer
 * auth (with `TokenRealm` as the token endpoint).
 */
import { randomUUID } from 'node:crypto';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import type { FetchLike } from '../../src/remote/http.js';

/** One request the double received. */
export interface DoubleRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  /** The whole body as received (after the stream was read to its end). */
  readonly body: Uint8Array | undefined;
}

/** Answers a request, or returns undefined to let the next handler try. */
export type Handler = (req: DoubleRequest) => Response | undefined | Promise<Response | undefined>;

/** A `fetch` double and what it saw. */
export interface FetchDouble {
  readonly fetch: FetchLike;
  readonly requests: DoubleRequest[];
  /** Requests whose URL host (`host[:port]`) is `host`. */
  to(host: string): DoubleRequest[];
}

/** A `TypeError('fetch failed')` with a network error code as cause, as undici throws. */
export function networkFailure(code: string): TypeError {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(`simulated ${code}`), { code }),
  });
}

/** Builds a `fetch` double from handlers (asked in order). */
export function fetchDouble(...handlers: Handler[]): FetchDouble {
  const requests: DoubleRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : new Uint8Array(await new Response(init.body).arrayBuffer());
    const req: DoubleRequest = {
      method: init.method ?? 'GET',
      url: new URL(input),
      headers: new Headers(init.headers),
      body,
    };
    requests.push(req);
    for (const h of handlers) {
      const res = await h(req);
      if (res !== undefined) return res;
    }
    throw networkFailure('ENOTFOUND');
  };
  return { fetch, requests, to: (host) => requests.filter((r) => r.url.host === host) };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return new Response(bytes, {
    status,
    headers: {
      'content-type': 'application/json',
      'content-length': String(bytes.byteLength),
      ...headers,
    },
  });
}

function registryError(status: number, code: string, headers: Record<string, string> = {}) {
  return json(status, { errors: [{ code, message: code.toLowerCase() }] }, headers);
}

/** A token endpoint (`https://auth.example/token`) issuing tokens a MemoryRegistry accepts. */
export class TokenRealm {
  readonly url: string;
  readonly service: string;
  /** Token requests received (query and Authorization header). */
  readonly requests: DoubleRequest[] = [];
  #n = 0;
  #registries: MemoryRegistry[] = [];

  constructor(url = 'https://auth.example/token', service = 'registry.example') {
    this.url = url;
    this.service = service;
  }

  /** Makes `registry` require Bearer tokens from this realm. */
  protect(registry: MemoryRegistry): void {
    this.#registries.push(registry);
    registry.bearer = this;
  }

  readonly handle: Handler = (req) => {
    const u = new URL(this.url);
    if (req.url.origin !== u.origin || req.url.pathname !== u.pathname) return undefined;
    this.requests.push(req);
    const token = `token-${++this.#n}-${randomUUID()}`;
    for (const r of this.#registries) r.tokens.add(token);
    return json(200, { token, expires_in: 300 });
  };
}

/** A Distribution registry in memory. */
export class MemoryRegistry {
  /** `https://registry.example` */
  readonly origin: string;
  readonly blobs = new Map<string, Uint8Array>();
  /** Manifests by tag and by digest. */
  readonly manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  readonly uploads = new Map<string, Uint8Array[]>();
  /** When set, every request must carry these Basic credentials. */
  basic: { username: string; password: string } | undefined;
  /** When set, every request must carry a Bearer token this realm issued. */
  bearer: TokenRealm | undefined;
  /** Bearer tokens currently accepted (clear it to make tokens "expire"). */
  readonly tokens = new Set<string>();

  constructor(origin = 'https://registry.example') {
    this.origin = origin;
  }

  /** `registry.example` (or `host:port`). */
  get host(): string {
    return new URL(this.origin).host;
  }

  /** Stores blobs and a manifest naming them under `name:tag`; returns the manifest's digest. */
  seed(
    name: string,
    tag: string,
    layers: readonly Uint8Array[],
    config: Uint8Array = new TextEncoder().encode('{"kind":"double"}')
  ): { digest: string; bytes: Uint8Array; layers: string[]; config: string } {
    const desc = (bytes: Uint8Array, mediaType: string) => {
      const digest = digestOf(bytes);
      this.blobs.set(digest, bytes);
      return { mediaType, digest, size: bytes.byteLength };
    };
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      artifactType: 'application/vnd.runledger.test.v1',
      config: desc(config, 'application/vnd.runledger.test.config.v1+json'),
      layers: layers.map((l) => desc(l, 'application/octet-stream')),
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const digest = digestOf(bytes);
    this.manifests.set(`${name}:${tag}`, { bytes, mediaType: MEDIA_TYPE_MANIFEST });
    this.manifests.set(`${name}@${digest}`, { bytes, mediaType: MEDIA_TYPE_MANIFEST });
    return {
      digest,
      bytes,
      layers: manifest.layers.map((l) => l.digest),
      config: manifest.config.digest,
    };
  }

  #challenge(name: string | undefined): Response | undefined {
    if (this.bearer !== undefined) {
      const scope = name === undefined ? '' : `,scope="repository:${name}:pull"`;
      return registryError(401, 'UNAUTHORIZED', {
        'www-authenticate': `Bearer realm="${this.bearer.url}",service="${this.bearer.service}"${scope}`,
      });
    }
    return registryError(401, 'UNAUTHORIZED', {
      'www-authenticate': 'Basic realm="memory-registry"',
    });
  }

  #authorized(req: DoubleRequest): boolean {
    const got = req.headers.get('authorization');
    if (this.basic !== undefined) {
      const { username, password } = this.basic;
      return got === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    if (this.bearer !== undefined) {
      return got !== null && got.startsWith('Bearer ') && this.tokens.has(got.slice(7));
    }
    return true;
  }

  readonly handle: Handler = (req) => {
    if (req.url.origin !== this.origin) return undefined;
    const path = req.url.pathname;
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\/(.*)$/.exec(path);
    if (!this.#authorized(req)) return this.#challenge(m?.[1]);
    if (path === '/v2/') return json(200, {});
    if (m === null) return registryError(404, 'NOT_FOUND');
    const [, name, kind, rest] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') return this.#manifest(req, name, rest);
    if (kind === 'tags') {
      const tags = [...this.manifests.keys()]
        .filter((k) => k.startsWith(`${name}:`))
        .map((k) => k.slice(name.length + 1));
      return json(200, { name, tags });
    }
    if (rest.startsWith('uploads/')) return this.#upload(req, name, rest.slice('uploads/'.length));
    const blob = this.blobs.get(rest);
    if (blob === undefined) return registryError(404, 'BLOB_UNKNOWN');
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(blob.byteLength),
      'docker-content-digest': rest,
    };
    if (req.method === 'HEAD') return new Response(null, { status: 200, headers });
    return new Response(blob, { status: 200, headers });
  };

  #manifest(req: DoubleRequest, name: string, ref: string): Response {
    const key = ref.startsWith('sha256:') ? `${name}@${ref}` : `${name}:${ref}`;
    if (req.method === 'PUT') {
      const bytes = req.body ?? new Uint8Array(0);
      const digest = digestOf(bytes);
      const mediaType = req.headers.get('content-type') ?? MEDIA_TYPE_MANIFEST;
      this.manifests.set(key, { bytes, mediaType });
      this.manifests.set(`${name}@${digest}`, { bytes, mediaType });
      return new Response(null, {
        status: 201,
        headers: { location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest },
      });
    }
    const hit = this.manifests.get(key);
    if (hit === undefined) return registryError(404, 'MANIFEST_UNKNOWN');
    const headers = {
      'content-type': hit.mediaType,
      'content-length': String(hit.bytes.byteLength),
      'docker-content-digest': digestOf(hit.bytes),
    };
    return new Response(req.method === 'HEAD' ? null : hit.bytes, { status: 200, headers });
  }

  #upload(req: DoubleRequest, name: string, id: string): Response {
    if (req.method === 'POST' && id === '') {
      const uuid = randomUUID();
      this.uploads.set(uuid, []);
      return new Response(null, {
        status: 202,
        headers: {
          location: `${this.origin}/v2/${name}/blobs/uploads/${uuid}?_state=opaque-${uuid}`,
          range: '0-0',
          'docker-upload-uuid': uuid,
        },
      });
    }
    const parts = this.uploads.get(id);
    if (parts === undefined) return registryError(404, 'BLOB_UPLOAD_UNKNOWN');
    if (req.method === 'PATCH') {
      parts.push(req.body ?? new Uint8Array(0));
      const size = parts.reduce((n, p) => n + p.byteLength, 0);
      return new Response(null, {
        status: 202,
        headers: {
          location: `${this.origin}/v2/${name}/blobs/uploads/${id}?_state=opaque-${size}`,
          range: `0-${size - 1}`,
        },
      });
    }
    if (req.method === 'PUT') {
      const digest = req.url.searchParams.get('digest') ?? '';
      const bytes = Buffer.concat([...parts, req.body ?? new Uint8Array(0)]);
      if (digestOf(bytes) !== digest) return registryError(400, 'DIGEST_INVALID');
      this.uploads.delete(id);
      this.blobs.set(digest, new Uint8Array(bytes));
      return new Response(null, {
        status: 201,
        headers: { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest },
      });
    }
    return registryError(405, 'UNSUPPORTED');
  }
}
