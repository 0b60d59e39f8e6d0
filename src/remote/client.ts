/**
 * @module remote/client
 * The entry to the remote side: one {@link RemoteClient} holds, per registry host, the HTTP
 * client, the authentication state (tokens are shared by every repository of that host) and the
 * scheme to use (https, or plain http for loopback hosts and hosts named in `plainHttp`).
 */
import { RunledgerError } from '../errors.js';
import { parseReference, type Reference } from '../oci/reference.js';
import { RegistryAuth } from './auth.js';
import { resolveCredential, type CredentialSource } from './credentials.js';
import { HttpClient, abortableSleep, discard, errorFromResponse, type FetchLike } from './http.js';
import { isLoopbackHost } from './origin.js';
import { Repository } from './repository.js';

/** Options of a {@link RemoteClient} (and of push, pull and copy). */
export interface RemoteOptions {
  /** `fetch` to use; tests inject doubles for faults a real registry cannot produce. */
  readonly fetch?: FetchLike;
  /** Environment for credentials (`RUNLEDGER_AUTH_*`, `DOCKER_CONFIG`, `HOME`, `PATH`). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Use plain http: `true` for every registry, or the hosts to use it for. Loopback hosts
   * (`localhost`, `127.*`, `[::1]`) use http without being named.
   */
  readonly plainHttp?: boolean | readonly string[];
  /** Credentials to use instead of looking them up, per registry host. */
  readonly credentials?: (registry: string) => Promise<CredentialSource | undefined>;
  /** Extra headers sent to registries' own origins only (never across redirects). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Retries after the first try of a request. @default 4 */
  readonly maxRetries?: number;
  /** First backoff step in ms. @default 250 */
  readonly backoffMs?: number;
  /** Sleeps between retries (tests record instead of waiting). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Registry warnings (`Warning: 299`) and client warnings (a referrers index left behind). */
  readonly onWarning?: (text: string) => void;
}

interface Host {
  readonly http: HttpClient;
  readonly auth: RegistryAuth;
  readonly repositories: Map<string, Repository>;
}

/**
 * Talks to OCI registries. Cheap to create; keep one per transfer so tokens are reused.
 *
 * @example
 * ```ts
 * const client = new RemoteClient();
 * const repo = client.repository('127.0.0.1:5000/acme/qap');
 * const tags = await repo.listTags();
 * ```
 */
export class RemoteClient {
  readonly #options: RemoteOptions;
  readonly #hosts = new Map<string, Host>();

  /** @param options - fetch, credentials, plain-http hosts, retry policy */
  constructor(options: RemoteOptions = {}) {
    this.#options = options;
  }

  /**
   * The base URL runledger uses for a registry host.
   * @param registry - `ghcr.io`, `127.0.0.1:5000`, `docker.io`…
   */
  baseUrl(registry: string): URL {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    const plain = this.#options.plainHttp;
    const http =
      plain === true || (Array.isArray(plain) && plain.includes(registry)) || isLoopbackHost(host);
    return new URL(`${http ? 'http' : 'https'}://${host}`);
  }

  #host(registry: string): Host {
    let h = this.#hosts.get(registry);
    if (h !== undefined) return h;
    const base = this.baseUrl(registry);
    const env = this.#options.env ?? process.env;
    const sleep = this.#options.sleep ?? abortableSleep;
    const lookup = this.#options.credentials ?? ((r: string) => resolveCredential(r, { env }));
    const auth = new RegistryAuth(base, {
      credential: () => lookup(registry),
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      sleep,
    });
    const http = new HttpClient(base, {
      auth,
      sleep,
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      ...(this.#options.headers === undefined ? {} : { headers: this.#options.headers }),
      ...(this.#options.maxRetries === undefined ? {} : { maxRetries: this.#options.maxRetries }),
      ...(this.#options.backoffMs === undefined ? {} : { backoffMs: this.#options.backoffMs }),
      ...(this.#options.onWarning === undefined ? {} : { onWarning: this.#options.onWarning }),
    });
    h = { http, auth, repositories: new Map() };
    this.#hosts.set(registry, h);
    return h;
  }

  /**
   * A repository on a registry.
   * @param name - `registry/repository` (a full reference's tag or digest is ignored) or a parsed reference
   * @returns the repository client
   * @throws RunledgerError `REFERENCE_INVALID`
   */
  repository(name: string | Reference): Repository {
    const ref = typeof name === 'string' ? parseReference(name) : name;
    const host = this.#host(ref.registry);
    let repo = host.repositories.get(ref.repository);
    if (repo === undefined) {
      repo = new Repository(
        ref.registry,
        ref.repository,
        host.http,
        this.#options.sleep ?? abortableSleep
      );
      if (this.#options.onWarning !== undefined) repo.onWarning = this.#options.onWarning;
      host.repositories.set(ref.repository, repo);
    }
    return repo;
  }

  /**
   * Where the credentials for a registry come from, for messages (`no credentials (anonymous)`).
   * @param registry - the registry host
   */
  describeCredentials(registry: string): Promise<string> {
    return this.#host(registry).auth.describe();
  }

  /**
   * Checks that a registry answers and accepts the credentials (`GET /v2/`), as `login` does.
   * @param registry - the registry host
   * @param options - signal
   * @throws RemoteError `AUTHENTICATION` when the credentials are refused
   */
  async ping(registry: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { http } = this.#host(registry);
    const url = new URL('/v2/', http.base);
    const req = {
      method: 'GET' as const,
      url,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    const res = await http.send(req);
    if (res.status === 200) {
      await discard(res);
      return;
    }
    throw await errorFromResponse(res, req, `log in to ${registry}`, {
      authentication: `${registry} refused ${await this.describeCredentials(registry)}: check the user name and password`,
    });
  }
}

/**
 * Whether a registry host is runledger's local-only namespace: `runledger.local` (the demo's
 * names) and `<id8>.runledger.local` (anonymous experiments, checkpoints). Nothing is ever pushed
 * to or pulled from such a host.
 * @param registry - the registry part of a parsed reference
 */
export function isLocalOnlyRegistry(registry: string): boolean {
  return /(^|\.)runledger\.local$/i.test(registry);
}

/** Throws unless `value` names a repository on a registry (not only a local name). */
export function requireRemoteReference(value: string): Reference {
  const ref = parseReference(value);
  if (isLocalOnlyRegistry(ref.registry)) {
    throw new RunledgerError(
      'REFERENCE_INVALID',
      `${value} is a local-only name (${ref.registry}); push it under a registry name: give a target reference (\`runledger push ${value} --to <registry>/<repository>:<tag>\`).`,
      { data: { reference: value } }
    );
  }
  return ref;
}
