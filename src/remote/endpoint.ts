/**
 * @module remote/endpoint
 * Where the requests for one repository go, shared by the modules that make them (repository,
 * upload, referrers): the registry's HTTP client, the repository's URLs and token scopes, and the
 * small helpers their requests have in common.
 */
import type { HttpClient, HttpRequest, RetryBudget } from './http.js';

/** Largest tag or referrers page read. */
export const MAX_PAGE: number = 4 * 1024 * 1024;
/** Most pages followed through `Link`. */
export const MAX_PAGES: number = 100;

/** Options of one request for a blob or manifest: its retry budget, signal. */
export interface RequestOptions {
  /** The retry budget of the blob or manifest (see {@link RetryBudget}). */
  readonly budget?: RetryBudget;
  readonly signal?: AbortSignal;
}

/** One repository on a registry, as its requests see it. */
export class Endpoint {
  /** Registry host as in references (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** Repository path (`acme/qap`). */
  readonly name: string;
  /** The registry's HTTP client (shared by its repositories). */
  readonly http: HttpClient;
  /** Sleeps between retries and restarts. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /**
   * @param registry - the registry host
   * @param name - the repository path
   * @param http - the registry's HTTP client
   * @param sleep - sleeps between retries and restarts
   */
  constructor(
    registry: string,
    name: string,
    http: HttpClient,
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  ) {
    this.registry = registry;
    this.name = name;
    this.http = http;
    this.sleep = sleep;
  }

  /** `registry/name`, for messages. */
  get label(): string {
    return `${this.registry}/${this.name}`;
  }

  /** The URL of `path` under the repository (`/v2/<name>/<path>`). */
  url(path: string): URL {
    return new URL(`/v2/${this.name}/${path}`, this.http.base);
  }

  /** The token scopes of a read. */
  pullScopes(): string[] {
    return [`repository:${this.name}:pull`];
  }

  /** The token scopes of a write. */
  pushScopes(): string[] {
    return [`repository:${this.name}:pull,push`];
  }

  /** Sends a request through the registry's client (see {@link HttpClient.send}). */
  send(req: HttpRequest): Promise<Response> {
    return this.http.send(req);
  }
}

/** The media type of a `Content-Type` header, without parameters, lower case. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  return contentType.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** The `rel="next"` target of a `Link` header, resolved against the page's URL. */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (header === null) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(header);
  if (m === null) return undefined;
  try {
    return new URL(m[1] as string, base);
  } catch {
    return undefined;
  }
}

/** `{ signal }` when there is one, for spreading into a request. */
export function signalOf(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

/** The signal and budget of {@link RequestOptions} that are set, for spreading into a request. */
export function requestOf(options: RequestOptions): {
  signal?: AbortSignal;
  budget?: RetryBudget;
} {
  return {
    ...signalOf(options.signal),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  };
}
