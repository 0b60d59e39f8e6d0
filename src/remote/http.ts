/**
 * @module remote/http
 * The transport under the registry client: `fetch` with `redirect: 'manual'` and our own
 * redirect loop (origin policy from {@link module:remote/origin}), credentials only to the
 * registry's origin, one answer to a 401 challenge, retries with backoff and jitter on
 * 408/429/5xx and connection resets honouring `Retry-After`, capped metadata reads, and
 * `RemoteError`s whose URLs and texts are redacted.
 */
import { RemoteError, RunledgerError, type ErrorCode, type RegistryErrorEntry } from '../errors.js';
import { sendFileBody } from './file-upload.js';
import { checkTarget, redactText, redactUrl, sameOrigin } from './origin.js';

/** The subset of `fetch` the client uses; tests inject doubles for faults a real server cannot produce. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A request body that can be produced again (for redirects, auth retries and transport retries). */
export interface BodySource {
  /** Exact length in bytes (sent as `Content-Length`). */
  readonly size: number;
  /** A fresh stream of the whole body. */
  open(): AsyncIterable<Uint8Array>;
  /**
   * When the body is `size` bytes of a local file from `offset`: sent with `node:http(s)` through
   * reused buffers (see {@link module:remote/file-upload}) unless a `fetch` was injected.
   */
  readonly file?: { readonly path: string; readonly offset: number };
  /** With `file`: called with each chunk's length once the socket took it (progress). */
  readonly onSent?: (n: number) => void;
}

/** What the transport needs to authenticate a request (implemented by {@link module:remote/auth}). */
export interface AuthProvider {
  /** The `Authorization` value for a request to the registry with these scopes, if any. */
  authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Reacts to a 401 (or an `insufficient_scope` 403) from the registry's origin.
   * @returns true when new credentials were obtained and the request should be sent again
   */
  challenge(response: Response, scopes: readonly string[], signal?: AbortSignal): Promise<boolean>;
}

/** One request through {@link HttpClient.send}. */
export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | BodySource;
  /** Token scopes the request needs, e.g. `repository:acme/qap:pull,push`. */
  readonly scopes?: readonly string[];
  readonly signal?: AbortSignal;
  /** Whether to retry on 429/5xx/resets. @default true */
  readonly retry?: boolean;
  /** The retry budget of the blob (or manifest) this request is for; each retry takes one. */
  readonly budget?: RetryBudget;
}

/**
 * The retries one blob (or manifest) may take in all: its requests, upload sessions, download
 * resumes and whole new attempts draw from it together. Each blob of a transfer has its own, so
 * a blob that meets bad luck keeps its allowance whatever the others spent, and one that spends
 * it fails alone.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget(16);
 * if (budget.take()) {
 *   // retry
 * }
 * ```
 */
export class RetryBudget {
  #left: number;

  /** @param retries - how many retries the budget allows (≥ 0) */
  constructor(retries: number) {
    this.#left = Math.max(0, Math.floor(retries));
  }

  /** Retries left. */
  get left(): number {
    return this.#left;
  }

  /**
   * Takes one retry.
   * @returns false when none is left (then nothing was taken)
   */
  take(): boolean {
    if (this.#left <= 0) return false;
    this.#left--;
    return true;
  }
}

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  readonly fetch?: FetchLike;
  readonly auth?: AuthProvider;
  /** Extra headers sent to the registry's origin only (never across a redirect). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Retries after the first try. @default 4 */
  readonly maxRetries?: number;
  /** First backoff step in ms (doubled each retry, ±20 % jitter, at most 8 s). @default 250 */
  readonly backoffMs?: number;
  /** The longest `Retry-After` we wait for; a longer one fails with `RATE_LIMITED`. @default 120000 */
  readonly maxRetryAfterMs?: number;
  /** Called once per distinct `Warning: 299` text a registry sends. */
  readonly onWarning?: (text: string) => void;
  /** Sleeps between retries; tests record the delays instead of waiting. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const MAX_REDIRECTS = 10;
/** The longest `Retry-After` waited for by default. */
export const MAX_RETRY_AFTER_MS: number = 120_000;
/** Error bodies: enough for any registry's `errors[]`, bounded for hostile ones. */
export const MAX_ERROR_BODY: number = 64 * 1024;
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_ERRNOS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Sleeps `ms`, or rejects with `ABORTED` when the signal fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(aborted(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function aborted(signal: AbortSignal | undefined): RunledgerError {
  return new RunledgerError('ABORTED', 'The transfer was aborted.', { cause: signal?.reason });
}

/** The errno-style code of a network failure from `fetch` (`ECONNRESET`, `UND_ERR_SOCKET`…). */
export function networkCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an answer's status is worth a retry (408, 429, 500, 502, 503, 504). */
export function isRetryStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

/**
 * Whether a failed transfer step is worth another attempt: a transient network failure, or an
 * answer of 408, 429 or 5xx (a 429 only when its `Retry-After` is within what we wait for).
 */
export function isTransientFailure(e: unknown): boolean {
  if (isTransientNetworkError(e)) return true;
  if (!(e instanceof RemoteError) || e.status === undefined || !RETRY_STATUSES.has(e.status)) {
    return false;
  }
  const wait = e.data['retryAfterMs'];
  return typeof wait !== 'number' || wait <= MAX_RETRY_AFTER_MS;
}

/** Whether a thrown error is a transient network failure worth retrying. */
export function isTransientNetworkError(e: unknown): boolean {
  if (e instanceof RunledgerError) return e.code === 'TRANSPORT' && e.data['retryable'] === true;
  const code = networkCode(e);
  if (code !== undefined) return RETRY_ERRNOS.has(code);
  return e instanceof TypeError && /fetch failed|terminated|other side closed/i.test(e.message);
}

/**
 * Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or undefined.
 * @param value - the header value
 * @param now - the clock, for tests
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now()
): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would take '-5' or '1.5' as dates.
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Reads a response body up to `max` bytes; more is a `PROTOCOL` error naming `what`. */
export async function readCapped(
  res: Response,
  max: number,
  what: string,
  method: string,
  url: URL
): Promise<Uint8Array> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(what, max, method, url, Number(declared));
  }
  if (res.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(what, max, method, url, undefined);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof RunledgerError) throw e;
    throw transportError(e, method, url, `reading the ${what}`);
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(what: string, max: number, method: string, url: URL, size: number | undefined) {
  return new RemoteError(
    'PROTOCOL',
    `The ${what} from ${url.host} is larger than the ${max}-byte limit runledger reads${size === undefined ? '' : ` (${size} bytes)`}.`,
    { method, url: redactUrl(url), data: { limit: max, size } }
  );
}

/** Discards a response body so its connection can be reused. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // already consumed or broken: nothing to free
  }
}

/** Wraps a network failure as `TRANSPORT` (retryable when it is a reset or timeout). */
export function transportError(e: unknown, method: string, url: URL, doing?: string): RemoteError {
  const code = networkCode(e);
  const retryable = isTransientNetworkError(e);
  const what =
    code === 'ECONNREFUSED'
      ? `nothing listens at ${url.host} (connection refused): check the registry address and that it runs`
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? `the host ${url.hostname} could not be resolved: check the registry name and your network`
        : code === 'UND_ERR_HEADERS_TIMEOUT' ||
            code === 'UND_ERR_BODY_TIMEOUT' ||
            code === 'ETIMEDOUT'
          ? `${url.host} stopped answering (timeout)`
          : /certificate|self.signed|SSL|TLS/i.test(String(code ?? '')) ||
              /certificate/i.test(String((e as { cause?: { message?: string } })?.cause?.message))
            ? `the TLS certificate of ${url.host} is not trusted (use --insecure only for a registry you control)`
            : `the connection to ${url.host} failed (${code ?? (e instanceof Error ? e.message : String(e))})`;
  return new RemoteError(
    'TRANSPORT',
    `${method} ${redactUrl(url)}${doing === undefined ? '' : ` (${doing})`} failed: ${what}.`,
    { method, url: redactUrl(url), data: { errno: code, retryable }, cause: e }
  );
}

/**
 * Parses a registry error body: `{"errors":[{code,message,detail}]}` when it is one.
 * @returns the entries, or an empty list for any other body
 */
export function parseRegistryErrors(bytes: Uint8Array): RegistryErrorEntry[] {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    const errors = (v as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(errors)) return [];
    const out: RegistryErrorEntry[] = [];
    for (const e of errors.slice(0, 20)) {
      if (typeof e !== 'object' || e === null) continue;
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string') continue;
      const message = (e as { message?: unknown }).message;
      const entry: { code: string; message?: string; detail?: unknown } = {
        code: code.slice(0, 100),
      };
      if (typeof message === 'string') entry.message = redactText(message.slice(0, 500));
      const detail = (e as { detail?: unknown }).detail;
      if (detail !== undefined) {
        const text = JSON.stringify(detail);
        entry.detail = text.length > 1000 ? `${text.slice(0, 1000)}…` : detail;
      }
      out.push(entry);
    }
    return out;
  } catch {
    return [];
  }
}

/**
 * Turns a failed response into a `RemoteError` with an actionable message.
 * @param res - the response (its body is read, capped, and discarded)
 * @param req - the request
 * @param doing - what was being done, e.g. `push the manifest of ghcr.io/acme/qap:v1`
 * @param hints - extra advice by code
 */
export async function errorFromResponse(
  res: Response,
  req: { method: string; url: URL },
  doing: string,
  hints: { authentication?: string; authorization?: string; notFound?: string } = {}
): Promise<RemoteError> {
  let body: Uint8Array = new Uint8Array(0);
  try {
    body =
      req.method === 'HEAD'
        ? body
        : await readCapped(res, MAX_ERROR_BODY, 'error body', req.method, req.url);
  } catch {
    await discard(res);
  }
  const registryErrors = parseRegistryErrors(body);
  const first = registryErrors[0];
  const said =
    first !== undefined
      ? `${first.code}${first.message === undefined ? '' : ` "${first.message}"`}${
          first.code === 'MANIFEST_BLOB_UNKNOWN' && typeof first.detail === 'string'
            ? ` (${first.detail})`
            : ''
        }`
      : body.byteLength > 0
        ? `"${redactText(new TextDecoder().decode(body.subarray(0, 200)).trim())}"`
        : '';
  const status = res.status;
  const host = req.url.host;
  let code: ErrorCode;
  let advice: string;
  let retryAfterMs: number | undefined;
  if (status === 401) {
    code = 'AUTHENTICATION';
    advice = hints.authentication ?? `run \`runledger login ${host}\` (or set ${envHint(host)})`;
  } else if (status === 403) {
    code = 'AUTHORIZATION';
    advice =
      first?.code === 'DENIED' && /manifest class/i.test(first.message ?? '')
        ? 'the registry only accepts container images in this repository (policy.repository.classes): ask its operator to allow OCI artifacts'
        : (hints.authorization ??
          'your credentials do not allow this on that repository: check your permissions or token scopes');
  } else if (status === 404) {
    code = 'NOT_FOUND';
    advice = hints.notFound ?? 'check the repository, tag or digest';
  } else if (status === 429) {
    code = 'RATE_LIMITED';
    retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    advice =
      retryAfterMs === undefined
        ? 'the registry kept rate limiting after the retries: wait and try again'
        : `the registry still rate limits and asks to wait ${Math.ceil(retryAfterMs / 1000)} s (Retry-After): try again after that`;
  } else if (status >= 500) {
    code = 'TRANSPORT';
    advice = 'the registry failed after the retries: try again later';
  } else {
    code = 'PROTOCOL';
    advice =
      first?.code === 'DENIED'
        ? 'the registry denied it'
        : first?.code === 'MANIFEST_BLOB_UNKNOWN'
          ? 'a blob the manifest names is missing on the registry'
          : 'the registry refused the request as invalid';
  }
  return new RemoteError(
    code,
    `Could not ${doing}: ${host} answered ${status}${said === '' ? '' : ` ${said}`}; ${advice}.`,
    {
      status,
      method: req.method,
      url: redactUrl(req.url),
      registryErrors,
      ...(retryAfterMs === undefined ? {} : { data: { retryAfterMs } }),
    }
  );
}

function envHint(host: string): string {
  return `RUNLEDGER_AUTH_${host.toUpperCase().replace(/[^A-Z0-9]/g, '_')}=user:password`;
}

/** Statuses `fetch` reports as redirects. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * HTTP for one registry origin. `send` returns the final response (after redirects, one auth
 * round and retries); callers judge its status.
 */
export class HttpClient {
  readonly #fetch: FetchLike;
  /** No `fetch` was injected: file bodies may go through node:http. */
  readonly #native: boolean;
  readonly #auth: AuthProvider | undefined;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #maxRetries: number;
  readonly #backoffMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #onWarning: ((text: string) => void) | undefined;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #warned = new Set<string>();
  /** The registry's base URL (`https://host[:port]`). */
  readonly base: URL;

  /**
   * @param base - the registry's base URL
   * @param options - fetch, auth, retry policy
   */
  constructor(base: URL, options: HttpClientOptions = {}) {
    this.base = base;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#native = options.fetch === undefined;
    this.#auth = options.auth;
    this.#headers = options.headers ?? {};
    this.#maxRetries = options.maxRetries ?? 4;
    this.#backoffMs = options.backoffMs ?? 250;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
    this.#onWarning = options.onWarning;
    this.#sleep = options.sleep ?? abortableSleep;
  }

  /**
   * Sends a request: credentials and extra headers only to the registry's origin, redirects
   * checked and followed by hand, one answer to an auth challenge, retries with backoff.
   * @param req - the request
   * @returns the final response (any status)
   * @throws RemoteError `TRANSPORT`, `REMOTE_REFUSED`, `RATE_LIMITED`; RunledgerError `ABORTED`
   */
  async send(req: HttpRequest): Promise<Response> {
    const retry = req.retry !== false;
    let answeredChallenge = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      let finalUrl: URL;
      try {
        ({ res, url: finalUrl } = await this.#sendFollowing(req));
      } catch (e) {
        if (req.signal?.aborted === true) throw aborted(req.signal);
        if (e instanceof RunledgerError && !isTransientNetworkError(e)) throw e;
        const err = e instanceof RemoteError ? e : transportError(e, req.method, req.url);
        if (!retry || !isTransientNetworkError(e) || !this.mayRetry(attempt, req.budget)) throw err;
        await this.#sleep(this.#backoff(attempt), req.signal);
        continue;
      }
      if (
        (res.status === 401 || (res.status === 403 && insufficientScope(res))) &&
        !answeredChallenge &&
        this.#auth !== undefined &&
        sameOrigin(finalUrl, this.base)
      ) {
        answeredChallenge = true;
        if (await this.#auth.challenge(res, req.scopes ?? [], req.signal)) {
          await discard(res);
          attempt--; // an auth round is not a retry
          continue;
        }
        return res;
      }
      if (retry && RETRY_STATUSES.has(res.status)) {
        const wait = this.retryDelay(attempt, res);
        if (wait === undefined || !this.mayRetry(attempt, req.budget)) return res;
        await discard(res);
        await this.#sleep(wait, req.signal);
        continue;
      }
      return res;
    }
  }

  /**
   * Whether retry number `attempt + 1` of one request may go: within `maxRetries`, and taken
   * from the blob's budget when there is one.
   * @param attempt - the attempt that failed (0 for the first try)
   * @param budget - the retry budget of the blob the request is for
   */
  mayRetry(attempt: number, budget?: RetryBudget): boolean {
    return attempt < this.#maxRetries && (budget === undefined || budget.take());
  }

  /**
   * How long to wait before retrying after attempt number `attempt` failed: the backoff, or the
   * answer's `Retry-After` when longer; undefined when that asks for more than we wait.
   * @param attempt - the attempt that failed (0 for the first try)
   * @param res - the answer, if there was one
   */
  retryDelay(attempt: number, res?: Response): number | undefined {
    const asked = res === undefined ? undefined : parseRetryAfter(res.headers.get('retry-after'));
    if (asked !== undefined && asked > this.#maxRetryAfterMs) return undefined;
    return Math.max(asked ?? 0, this.#backoff(attempt));
  }

  #backoff(attempt: number): number {
    const base = Math.min(8000, this.#backoffMs * 2 ** attempt);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  async #sendFollowing(req: HttpRequest): Promise<{ res: Response; url: URL }> {
    let url = req.url;
    let method: HttpRequest['method'] = req.method;
    let body = req.body;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const trusted = sameOrigin(url, this.base);
      const headers: Record<string, string> = {};
      if (trusted) Object.assign(headers, this.#headers);
      Object.assign(headers, req.headers ?? {});
      if (trusted && this.#auth !== undefined) {
        const authorization = await this.#auth.authorization(req.scopes ?? [], req.signal);
        if (authorization !== undefined) headers['authorization'] = authorization;
      }
      const init: RequestInit & { duplex?: 'half' } = {
        method,
        headers,
        redirect: 'manual',
      };
      if (req.signal !== undefined) init.signal = req.signal;
      const file =
        body !== undefined && !(body instanceof Uint8Array) && this.#native ? body.file : undefined;
      let res: Response;
      if (file !== undefined && body !== undefined && !(body instanceof Uint8Array)) {
        res = await sendFileBody(
          url,
          method,
          headers,
          {
            path: file.path,
            offset: file.offset,
            size: body.size,
            ...(body.onSent === undefined ? {} : { onSent: body.onSent }),
          },
          req.signal
        );
      } else {
        if (body instanceof Uint8Array) {
          init.body = body;
        } else if (body !== undefined) {
          // Made only when sent: a ReadableStream pulls its first chunk as soon as it exists.
          headers['content-length'] = String(body.size);
          init.body = toWebStream(body.open()) as unknown as NonNullable<RequestInit['body']>;
          init.duplex = 'half';
        }
        res = await this.#fetch(url.href, init);
      }
      this.#warnings(res);
      if (!REDIRECTS.has(res.status)) return { res, url };
      const location = res.headers.get('location');
      if (location === null) return { res, url };
      await discard(res);
      const next = new URL(location, url);
      checkTarget(next, this.base, 'redirect', method);
      if (res.status === 303 && method !== 'HEAD') {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
    throw new RemoteError(
      'PROTOCOL',
      `${req.method} ${redactUrl(req.url)} was redirected more than ${MAX_REDIRECTS} times.`,
      { method: req.method, url: redactUrl(req.url) }
    );
  }

  #warnings(res: Response): void {
    if (this.#onWarning === undefined) return;
    const raw = res.headers.get('warning');
    if (raw === null) return;
    for (const m of raw.slice(0, 4096).matchAll(/299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) {
      const text = redactText((m[1] as string).replace(/\\(.)/g, '$1'));
      if (this.#warned.has(text)) continue;
      this.#warned.add(text);
      this.#onWarning(text);
    }
  }
}

function insufficientScope(res: Response): boolean {
  return /error="?insufficient_scope/i.test(res.headers.get('www-authenticate') ?? '');
}

/** An async iterable as a web `ReadableStream` (what `fetch` takes as a streamed body). */
function toWebStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await it.next();
        if (done === true) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}
