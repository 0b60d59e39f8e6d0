/**
 * @module remote/upload
 * Blob uploads to one repository: a cross-repository mount when asked, else an upload session
 * (POST) closed by one monolithic PUT, or chunked PATCHes resumed from the server's offset for
 * large blobs. Transient failures resend the closing PUT in the same session, or restart the
 * upload in a fresh session, so a registry never sees a half blob under its digest.
 */
import { RemoteError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { requestOf, signalOf, type Endpoint, type RequestOptions } from './endpoint.js';
import {
  discard,
  errorFromResponse,
  isRetryStatus,
  isTransientNetworkError,
  type BodySource,
  type HttpRequest,
  type RetryBudget,
} from './http.js';
import { checkTarget, redactUrl } from './origin.js';

/** Upload tuning of {@link pushBlob}. */
export interface UploadOptions {
  /** Blobs at least this large go up in chunks (PATCH), resumable. @default 64 MiB */
  readonly chunkThreshold?: number;
  /** Chunk size of chunked uploads (raised to the registry's `OCI-Chunk-Min-Length`). @default 32 MiB */
  readonly chunkSize?: number;
  /** Try a cross-repository mount from this repository (same registry) first. */
  readonly mountFrom?: string;
  /** Bytes sent so far (re-sent bytes after a restart are counted again as negative then positive). */
  readonly onBytes?: (delta: number) => void;
  /** The blob's retry budget: every retry, resume and restart of its upload takes from it. */
  readonly budget?: RetryBudget;
  readonly signal?: AbortSignal;
}

/** How a blob got to the registry. */
export type BlobPushResult = 'uploaded' | 'mounted';

/**
 * Whether the repository has a blob (a HEAD, as {@link module:remote/repository.Repository.hasBlob}
 * answers): asked after a closing PUT lost its connection, to learn whether it got through.
 */
export type HasBlob = (
  descriptor: Descriptor,
  options: RequestOptions & { scopes?: string[] }
) => Promise<boolean>;

/** Most restarts of an upload in a fresh session. */
const RESTART_LIMIT = 3;

/**
 * Uploads a blob: mount (when asked), else POST then one PUT, or chunked PATCHes resumed
 * from the server's offset for large blobs. Transient failures restart the session (a few
 * times), so a registry never sees a half blob under its digest.
 * @param endpoint - the repository
 * @param hasBlob - its blob check (HEAD)
 * @param descriptor - the blob
 * @param source - its bytes, re-openable at any offset
 * @param options - thresholds, mount source, progress, signal
 * @returns how it got there
 */
export async function pushBlob(
  endpoint: Endpoint,
  hasBlob: HasBlob,
  descriptor: Descriptor,
  source: (offset: number, length: number) => BodySource | Uint8Array,
  options: UploadOptions = {}
): Promise<BlobPushResult> {
  let lastError: unknown;
  for (let restart = 0; restart <= RESTART_LIMIT; restart++) {
    let sent = 0;
    // fetch may still pull a failed attempt's body after the failure: those bytes don't count.
    let current = true;
    const onBytes = (n: number): void => {
      if (!current) return;
      sent += n;
      options.onBytes?.(n);
    };
    try {
      return await uploadOnce(
        endpoint,
        hasBlob,
        descriptor,
        source,
        options,
        restart === 0,
        onBytes
      );
    } catch (e) {
      current = false;
      options.onBytes?.(-sent);
      if (!restartable(e) || options.signal?.aborted === true) throw e;
      lastError = e;
      // No pause before giving up.
      if (restart === RESTART_LIMIT || options.budget?.take() === false) break;
      await endpoint.sleep(200 * 2 ** restart, options.signal);
    }
  }
  throw lastError;
}

async function startSession(
  endpoint: Endpoint,
  descriptor: Descriptor,
  mountFrom: string | undefined,
  options: RequestOptions
): Promise<{ mounted: true } | { mounted: false; location: URL; minChunk: number }> {
  const url = endpoint.url('blobs/uploads/');
  const scopes = endpoint.pushScopes();
  if (mountFrom !== undefined && mountFrom !== endpoint.name) {
    url.searchParams.set('mount', descriptor.digest);
    url.searchParams.set('from', mountFrom);
    scopes.push(`repository:${mountFrom}:pull`);
  }
  const req: HttpRequest = {
    method: 'POST',
    url,
    headers: { 'content-length': '0' },
    scopes,
    ...requestOf(options),
  };
  const res = await endpoint.send(req);
  if (res.status === 201 && mountFrom !== undefined) {
    await discard(res);
    return { mounted: true };
  }
  if (res.status !== 202) {
    throw await errorFromResponse(
      res,
      req,
      `start an upload of ${descriptor.digest} to ${endpoint.label}`,
      {
        authorization: `your credentials may not push to ${endpoint.label}`,
      }
    );
  }
  const location = uploadLocation(endpoint, res, req);
  const minChunk = Number(res.headers.get('oci-chunk-min-length') ?? 0);
  await discard(res);
  return { mounted: false, location, minChunk: Number.isSafeInteger(minChunk) ? minChunk : 0 };
}

function uploadLocation(endpoint: Endpoint, res: Response, req: HttpRequest): URL {
  const value = res.headers.get('location');
  if (value === null) {
    throw new RemoteError(
      'PROTOCOL',
      `${endpoint.registry} answered ${req.method} ${redactUrl(req.url)} without an upload Location.`,
      { status: res.status, method: req.method, url: redactUrl(req.url) }
    );
  }
  const url = new URL(value, req.url);
  checkTarget(url, endpoint.http.base, 'upload location', req.method);
  return url;
}

async function uploadOnce(
  endpoint: Endpoint,
  hasBlob: HasBlob,
  descriptor: Descriptor,
  source: (offset: number, length: number) => BodySource | Uint8Array,
  options: UploadOptions,
  mayMount: boolean,
  onBytes: (n: number) => void
): Promise<BlobPushResult> {
  const signal = options.signal;
  const session = await startSession(
    endpoint,
    descriptor,
    mayMount ? options.mountFrom : undefined,
    options
  );
  if (session.mounted) return 'mounted';
  let location = session.location;
  const threshold = options.chunkThreshold ?? 64 * 1024 * 1024;
  const scopes = endpoint.pushScopes();
  if (descriptor.size >= threshold && descriptor.size > 0) {
    const chunkSize = Math.max(options.chunkSize ?? 32 * 1024 * 1024, session.minChunk, 1);
    let offset = 0;
    let resumes = 0;
    while (offset < descriptor.size) {
      const length = Math.min(chunkSize, descriptor.size - offset);
      // Bytes of this PATCH; a late read of its body after it failed is not counted.
      let inflight = 0;
      let live = true;
      const countInflight = (n: number): void => {
        if (!live) return;
        inflight += n;
        onBytes(n);
      };
      const req: HttpRequest = {
        method: 'PATCH',
        url: location,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + length - 1}`,
        },
        body: counted(source(offset, length), countInflight),
        scopes,
        retry: false,
        ...signalOf(signal),
      };
      let res: Response;
      try {
        res = await endpoint.send(req);
      } catch (e) {
        live = false;
        onBytes(-inflight);
        if (!isTransientNetworkError(e) || signal?.aborted === true || resumes >= 4) throw e;
        resumes++;
        // Where does the server stand? Resume there, or restart the session when it can't say.
        const at = await uploadOffset(endpoint, location, signal);
        if (at === undefined || at > offset + length || at < offset) throw e;
        if (options.budget?.take() === false) throw e;
        onBytes(at - offset);
        offset = at;
        continue;
      }
      if (res.status !== 202) {
        throw await errorFromResponse(
          res,
          req,
          `upload a chunk of ${descriptor.digest} to ${endpoint.label}`
        );
      }
      const next = uploadLocation(endpoint, res, req);
      const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
      await discard(res);
      location = next;
      const end = offset + length;
      if (range !== null && Number(range[1]) + 1 !== end) {
        throw new RemoteError(
          'PROTOCOL',
          `${endpoint.registry} reports ${Number(range[1]) + 1} bytes of ${descriptor.digest} after a chunk ending at ${end}.`,
          { status: 202, method: 'PATCH', url: redactUrl(req.url), data: { retryable: true } }
        );
      }
      offset = end;
    }
    return finish(
      endpoint,
      hasBlob,
      descriptor,
      location,
      () => new Uint8Array(0),
      descriptor.size,
      {
        options,
        onBytes,
        scopes,
      }
    );
  }
  return finish(endpoint, hasBlob, descriptor, location, () => source(0, descriptor.size), 0, {
    options,
    onBytes,
    scopes,
  });
}

async function uploadOffset(
  endpoint: Endpoint,
  location: URL,
  signal: AbortSignal | undefined
): Promise<number | undefined> {
  const req: HttpRequest = {
    method: 'GET',
    url: location,
    scopes: endpoint.pushScopes(),
    ...signalOf(signal),
  };
  let res: Response;
  try {
    res = await endpoint.send(req);
  } catch {
    return undefined;
  }
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
  await discard(res);
  if (res.status !== 204 || range === null) return undefined;
  // 2.8.2 reports an empty session as `0-0`, the same as one byte: take it as empty (the
  // digest check at the end catches the other case); reading it as 1 skipped byte 0.
  const last = Number(range[1]);
  return last === 0 ? 0 : last + 1;
}

/**
 * The closing PUT of an upload session, sent again in the same session (not a new one) while
 * the registry answers 408/429/5xx, or after a lost connection when the session still stands
 * where it stood before the PUT (`expected` bytes); a blob that arrived anyway is done. Other
 * failures are thrown for {@link pushBlob} to restart in a fresh session.
 */
async function finish(
  endpoint: Endpoint,
  hasBlob: HasBlob,
  descriptor: Descriptor,
  location: URL,
  body: () => BodySource | Uint8Array,
  expected: number,
  how: { options: UploadOptions; onBytes: (n: number) => void; scopes: string[] }
): Promise<BlobPushResult> {
  const { options, scopes } = how;
  const signal = options.signal;
  const url = new URL(location.href);
  url.searchParams.set('digest', descriptor.digest);
  let req: HttpRequest;
  let res: Response;
  for (let attempt = 0; ; attempt++) {
    // Bytes of this attempt; a late read of its body after it failed is not counted.
    let inflight = 0;
    let live = true;
    const count = (n: number): void => {
      if (!live) return;
      inflight += n;
      how.onBytes(n);
    };
    const uncount = (): void => {
      live = false;
      how.onBytes(-inflight);
    };
    req = {
      method: 'PUT',
      url,
      headers: { 'content-type': 'application/octet-stream' },
      body: counted(body(), count),
      scopes,
      retry: false,
      ...signalOf(signal),
    };
    try {
      res = await endpoint.send(req);
    } catch (e) {
      uncount();
      if (!isTransientNetworkError(e) || signal?.aborted === true) throw e;
      // Did the PUT get through before the connection was lost, or not start at all?
      const at = await uploadOffset(endpoint, location, signal);
      if (at === undefined) {
        const there = await hasBlob(descriptor, { scopes, ...requestOf(options) }).catch(
          () => false
        );
        if (there) {
          how.onBytes(descriptor.size - expected); // this PUT's body did arrive
          return 'uploaded';
        }
      }
      if (at !== expected || !endpoint.http.mayRetry(attempt, options.budget)) throw e;
      await endpoint.sleep(endpoint.http.retryDelay(attempt) ?? 0, signal);
      continue;
    }
    if (isRetryStatus(res.status)) {
      const wait = endpoint.http.retryDelay(attempt, res);
      if (wait !== undefined && endpoint.http.mayRetry(attempt, options.budget)) {
        uncount();
        await discard(res);
        await endpoint.sleep(wait, signal);
        continue;
      }
    }
    break;
  }
  if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
    throw await errorFromResponse(
      res,
      req,
      `finish the upload of ${descriptor.digest} to ${endpoint.label}`
    );
  }
  const header = res.headers.get('docker-content-digest');
  await discard(res);
  if (header !== null && header.startsWith('sha256:') && header !== descriptor.digest) {
    throw new RemoteError(
      'DIGEST_MISMATCH',
      `${endpoint.registry} stored the upload of ${descriptor.digest} as ${header}.`,
      { status: res.status, method: 'PUT', url: redactUrl(url) }
    );
  }
  return 'uploaded';
}

/** Whether an upload failure is worth a fresh session. */
function restartable(e: unknown): boolean {
  if (isTransientNetworkError(e)) return true;
  if (!(e instanceof RemoteError)) return false;
  if (e.data['retryable'] === true) return true;
  if (e.status !== undefined && (e.status >= 500 || e.status === 429 || e.status === 408))
    return true;
  return (
    e.registryErrors.some(
      (r) =>
        r.code === 'BLOB_UPLOAD_INVALID' ||
        r.code === 'BLOB_UPLOAD_UNKNOWN' ||
        r.code === 'DIGEST_INVALID'
    ) ||
    (e.status === 404 && e.method !== 'POST')
  );
}

function counted(
  body: BodySource | Uint8Array,
  onBytes: (n: number) => void
): BodySource | Uint8Array {
  if (body instanceof Uint8Array) {
    onBytes(body.byteLength); // small bodies go in one write
    return body;
  }
  return {
    size: body.size,
    ...(body.file === undefined ? {} : { file: body.file, onSent: onBytes }),
    async *open() {
      for await (const chunk of body.open()) {
        onBytes(chunk.byteLength);
        yield chunk;
      }
    },
  };
}
