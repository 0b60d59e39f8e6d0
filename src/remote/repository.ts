/**
 * @module remote/repository
 * One repository on an OCI registry: resolve, get/put/delete manifests, blobs (HEAD, verified
 * streaming GET resumed with `Range`, monolithic POST+PUT, chunked PATCH uploads resumed from
 * the server's offset, cross-repository mount), tag listing with pagination, and referrers (the
 * API when offered, else the `<alg>-<hex>` tag schema with a read-after-write merge).
 */
import { RemoteError, RunledgerError, isRunledgerError } from '../errors.js';
import { Digester, digestOf, isDigest, type Digest } from '../oci/digest.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import { parseImageIndex, serializeImageIndex } from '../oci/image-index.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import {
  HttpClient,
  discard,
  errorFromResponse,
  isRetryStatus,
  isTransientNetworkError,
  readCapped,
  transportError,
  type BodySource,
  type HttpRequest,
  type RetryBudget,
} from './http.js';
import { checkTarget, redactUrl, sameOrigin } from './origin.js';

/** Every manifest type the client can handle, sent as `Accept`. */
export const MANIFEST_ACCEPT: string = [
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
].join(', ');

/** Largest tag or referrers page read. */
const MAX_PAGE = 4 * 1024 * 1024;
/** Most pages followed through `Link`. */
const MAX_PAGES = 100;
/** Manifests larger than this are refused before sending (2.8.2 answers 400 above 4 MiB). */
export const MAX_PUSH_MANIFEST: number = MAX_MANIFEST_SIZE;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/** Upload tuning of {@link Repository.pushBlob}. */
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

/** Options of one request for a blob or manifest: its retry budget, signal. */
export interface RequestOptions {
  /** The retry budget of the blob or manifest (see {@link RetryBudget}). */
  readonly budget?: RetryBudget;
  readonly signal?: AbortSignal;
}

/** How a blob got to the registry. */
export type BlobPushResult = 'uploaded' | 'mounted';

/** A manifest fetched and verified. */
export interface FetchedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

function mediaTypeOf(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  return contentType.split(';')[0]?.trim().toLowerCase() || undefined;
}

/** Pauses between restarts of an upload. */
const RESTART_LIMIT = 3;

/**
 * A repository on a registry. Built by {@link module:remote/client.RemoteClient.repository}.
 */
export class Repository {
  /** Registry host as in references (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** Repository path (`acme/qap`). */
  readonly name: string;
  readonly #http: HttpClient;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #referrersApi: boolean | undefined;
  /** Per-process serialisation of referrers-tag updates per subject. */
  readonly #referrerLocks = new Map<string, Promise<unknown>>();
  /** Called with warnings a user should see (old referrers index not deleted…). */
  onWarning: ((text: string) => void) | undefined;

  /**
   * @param registry - the registry host
   * @param name - the repository path
   * @param http - the registry's HTTP client (shared by its repositories)
   * @param sleep - sleeps between upload restarts
   */
  constructor(
    registry: string,
    name: string,
    http: HttpClient,
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  ) {
    this.registry = registry;
    this.name = name;
    this.#http = http;
    this.#sleep = sleep;
  }

  /** `registry/name`, for messages. */
  get label(): string {
    return `${this.registry}/${this.name}`;
  }

  #url(path: string): URL {
    return new URL(`/v2/${this.name}/${path}`, this.#http.base);
  }

  #pull(): string[] {
    return [`repository:${this.name}:pull`];
  }

  #push(): string[] {
    return [`repository:${this.name}:pull,push`];
  }

  async #send(req: HttpRequest): Promise<Response> {
    return this.#http.send(req);
  }

  // ---- manifests ---------------------------------------------------------------------------

  /**
   * The descriptor a tag or digest points at (HEAD; GET when the registry sends no digest).
   * @param reference - a tag or a digest
   * @param options - signal
   * @returns the manifest's descriptor
   * @throws RemoteError `NOT_FOUND`, `AUTHENTICATION`, `AUTHORIZATION`, `TRANSPORT`, `PROTOCOL`
   */
  async resolve(reference: string, options: RequestOptions = {}): Promise<Descriptor> {
    const url = this.#url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'HEAD',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.#pull(),
      ...requestOf(options),
    };
    const res = await this.#send(req);
    if (res.status === 200) {
      const digest = res.headers.get('docker-content-digest');
      const size = Number(res.headers.get('content-length'));
      const mediaType = mediaTypeOf(res.headers.get('content-type'));
      await discard(res);
      if (
        digest !== null &&
        isDigest(digest) &&
        Number.isSafeInteger(size) &&
        size > 0 &&
        mediaType !== undefined &&
        (!isDigest(reference) || digest === reference)
      ) {
        return { mediaType, digest, size };
      }
      return (await this.fetchManifest(reference, options)).descriptor;
    }
    throw await errorFromResponse(res, req, `resolve ${this.label}:${reference}`, {
      notFound: `${this.label} has no manifest ${reference}`,
    });
  }

  /**
   * Fetches a manifest or index, verified: its digest is computed from the bytes and must equal
   * the digest asked for and any `Docker-Content-Digest`; its `mediaType` must agree with
   * `Content-Type`.
   * @param reference - a tag or a digest
   * @param options - signal
   * @returns descriptor and exact bytes
   * @throws RemoteError `NOT_FOUND`, `DIGEST_MISMATCH`, `PROTOCOL`, …
   */
  async fetchManifest(reference: string, options: RequestOptions = {}): Promise<FetchedManifest> {
    const url = this.#url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'GET',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.#pull(),
      ...requestOf(options),
    };
    let header: string | null;
    let contentType: string | undefined;
    let bytes: Uint8Array;
    for (let attempt = 0; ; attempt++) {
      const res = await this.#send(req);
      if (res.status !== 200) {
        throw await errorFromResponse(res, req, `fetch the manifest ${this.label}:${reference}`, {
          notFound: `${this.label} has no manifest ${reference}`,
        });
      }
      header = res.headers.get('docker-content-digest');
      contentType = mediaTypeOf(res.headers.get('content-type'));
      try {
        bytes = await readCapped(res, MAX_MANIFEST_SIZE, 'manifest', 'GET', url);
        break;
      } catch (e) {
        // A connection lost in the body: the request as a whole is sent again.
        if (!isTransientNetworkError(e) || options.signal?.aborted === true) throw e;
        if (!this.#http.mayRetry(attempt, options.budget)) throw e;
        await this.#sleep(this.#http.retryDelay(attempt) ?? 0, options.signal);
      }
    }
    const digest = digestOf(bytes);
    const mismatch = (what: string, other: string): never => {
      throw new RemoteError(
        'DIGEST_MISMATCH',
        `The manifest ${this.label}:${reference} that ${this.registry} sent hashes to ${digest}, not the ${what} ${other}; nothing was stored.`,
        { method: 'GET', url: redactUrl(url), data: { digest, expected: other } }
      );
    };
    if (isDigest(reference) && digest !== reference) mismatch('digest asked for', reference);
    if (header !== null && header.startsWith('sha256:') && header !== digest) {
      mismatch('Docker-Content-Digest', header);
    }
    let field: unknown;
    let artifactType: unknown;
    try {
      const v = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      field = v['mediaType'];
      artifactType = v['artifactType'];
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    } catch {
      throw new RemoteError(
        'PROTOCOL',
        `The manifest ${this.label}:${reference} that ${this.registry} sent is not a JSON object.`,
        { method: 'GET', url: redactUrl(url) }
      );
    }
    const mediaType = typeof field === 'string' ? field : (contentType ?? MEDIA_TYPE_MANIFEST);
    if (typeof field === 'string' && contentType !== undefined && field !== contentType) {
      throw new RemoteError(
        'PROTOCOL',
        `The manifest ${this.label}:${reference} says it is ${field} but ${this.registry} served it as ${contentType}; refused (type confusion).`,
        { method: 'GET', url: redactUrl(url) }
      );
    }
    const descriptor: { mediaType: string; digest: Digest; size: number; artifactType?: string } = {
      mediaType,
      digest,
      size: bytes.byteLength,
    };
    if (typeof artifactType === 'string') descriptor.artifactType = artifactType;
    return { descriptor, bytes };
  }

  /**
   * Uploads a manifest (its exact bytes) under a tag or its digest. Blobs must be there first.
   * @param reference - a tag, or the manifest's digest
   * @param bytes - the manifest's exact bytes
   * @param mediaType - its media type (sent as `Content-Type`)
   * @param options - signal
   * @returns its digest, and the `OCI-Subject` the registry answered (referrers API support)
   * @throws RunledgerError `MANIFEST_INVALID` above 4 MiB; RemoteError on refusal
   */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: RequestOptions = {}
  ): Promise<{ digest: Digest; subjectHeader: string | undefined }> {
    const digest = digestOf(bytes);
    if (bytes.byteLength > MAX_PUSH_MANIFEST) {
      throw new RunledgerError(
        'MANIFEST_INVALID',
        `The manifest ${digest} is ${bytes.byteLength} bytes; registries accept at most ${MAX_PUSH_MANIFEST} (docker-registry answers 400 MANIFEST_INVALID), so it was not sent to ${this.label}.`,
        { data: { digest, size: bytes.byteLength, limit: MAX_PUSH_MANIFEST } }
      );
    }
    if (isDigest(reference) && reference !== digest) {
      throw new RunledgerError(
        'DIGEST_MISMATCH',
        `Manifest bytes hash to ${digest}, not ${reference}.`,
        { data: { digest, expected: reference } }
      );
    }
    const url = this.#url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'PUT',
      url,
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: this.#push(),
      ...requestOf(options),
    };
    const res = await this.#send(req);
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
      throw await errorFromResponse(res, req, `push the manifest ${this.label}:${reference}`, {
        authorization: `your credentials may not push to ${this.label}`,
      });
    }
    const header = res.headers.get('docker-content-digest');
    const subjectHeader = res.headers.get('oci-subject') ?? undefined;
    await discard(res);
    if (header !== null && header.startsWith('sha256:') && header !== digest) {
      throw new RemoteError(
        'DIGEST_MISMATCH',
        `${this.registry} stored the manifest for ${this.label}:${reference} as ${header}, not ${digest} (it changed the bytes).`,
        { method: 'PUT', url: redactUrl(url), status: res.status }
      );
    }
    return { digest, subjectHeader };
  }

  /** Sends DELETE for a manifest; `res` is undefined when the registry accepted it. */
  async #delete(
    reference: string,
    signal: AbortSignal | undefined
  ): Promise<{ req: HttpRequest; res: Response | undefined; url: URL }> {
    const url = this.#url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'DELETE',
      url,
      scopes: [`repository:${this.name}:delete`, ...this.#push()],
      ...signalOf(signal),
    };
    const res = await this.#send(req);
    if (res.status === 202 || res.status === 200 || res.status === 204) {
      await discard(res);
      return { req, res: undefined, url };
    }
    return { req, res, url };
  }

  /**
   * Deletes a manifest by digest (on docker-registry 2.8 this removes every tag pointing at it).
   * @param digest - the manifest's digest
   * @param options - signal
   * @throws RemoteError `NOT_FOUND`, `PROTOCOL` (deletion disabled: 405 `UNSUPPORTED`)
   */
  async deleteManifest(digest: Digest, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { req, res, url } = await this.#delete(digest, options.signal);
    if (res === undefined) return;
    if (res.status === 405) {
      await discard(res);
      throw new RemoteError(
        'PROTOCOL',
        `${this.registry} does not allow deleting manifests (405): ask its operator to enable storage.delete, or leave ${digest} in ${this.label}.`,
        { status: 405, method: 'DELETE', url: redactUrl(url) }
      );
    }
    throw await errorFromResponse(res, req, `delete ${this.label}@${digest}`);
  }

  /**
   * Deletes a tag. Registries of the distribution 2.x line cannot (400 `DIGEST_INVALID`): the
   * error then says so, since deleting by digest would drop every tag of that manifest.
   * @param tag - the tag
   * @param options - signal
   */
  async deleteTag(tag: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { req, res, url } = await this.#delete(tag, options.signal);
    if (res === undefined) return;
    if (res.status === 400 || res.status === 405) {
      const err = await errorFromResponse(res, req, `delete the tag ${this.label}:${tag}`);
      throw new RemoteError(
        'PROTOCOL',
        `${this.registry} cannot delete the tag ${tag} alone (it answered ${res.status}${err.registryErrors[0] === undefined ? '' : ` ${err.registryErrors[0].code}`}): registries of the docker-registry 2.x line only delete by digest, which removes every tag of that manifest — delete ${this.label}@<digest> if that is what you want.`,
        {
          status: res.status,
          method: 'DELETE',
          url: redactUrl(url),
          registryErrors: err.registryErrors,
        }
      );
    }
    throw await errorFromResponse(res, req, `delete the tag ${this.label}:${tag}`);
  }

  // ---- blobs -------------------------------------------------------------------------------

  /**
   * Whether the registry has a blob (HEAD).
   * @param descriptor - the blob
   * @param options - signal
   * @returns true when present with the right size
   */
  async hasBlob(
    descriptor: Descriptor,
    options: RequestOptions & { scopes?: string[] } = {}
  ): Promise<boolean> {
    const url = this.#url(`blobs/${descriptor.digest}`);
    const req: HttpRequest = {
      method: 'HEAD',
      url,
      scopes: options.scopes ?? this.#pull(),
      ...requestOf(options),
    };
    const res = await this.#send(req);
    await discard(res);
    if (res.status === 200) {
      const length = res.headers.get('content-length');
      if (length !== null && Number(length) !== descriptor.size) {
        throw new RemoteError(
          'PROTOCOL',
          `${this.label} has the blob ${descriptor.digest} with ${length} bytes, not ${descriptor.size}.`,
          { status: 200, method: 'HEAD', url: redactUrl(url) }
        );
      }
      return true;
    }
    if (res.status === 404) return false;
    throw await errorFromResponse(
      res,
      req,
      `check for the blob ${descriptor.digest} in ${this.label}`
    );
  }

  /**
   * Streams a blob, verified: size and digest are checked as the bytes pass and the stream throws
   * `DIGEST_MISMATCH` instead of ending when they differ (including one byte too many). A broken
   * connection is resumed with `Range` from the bytes already given (each resume takes from the
   * blob's budget, when given).
   * @param descriptor - the blob
   * @param options - retry budget, signal
   * @returns the blob's bytes
   */
  async *openBlob(
    descriptor: Descriptor,
    options: RequestOptions & { scopes?: string[]; maxResumes?: number } = {}
  ): AsyncGenerator<Uint8Array> {
    const url = this.#url(`blobs/${descriptor.digest}`);
    const hash = new Digester();
    let offset = 0;
    let resumes = 0;
    const maxResumes = options.maxResumes ?? 4;
    const mismatch = (why: string): never => {
      throw new RemoteError(
        'DIGEST_MISMATCH',
        `The blob ${descriptor.digest} from ${this.label} ${why}; it was not stored.`,
        {
          method: 'GET',
          url: redactUrl(url),
          data: { digest: descriptor.digest, size: descriptor.size },
        }
      );
    };
    for (;;) {
      const headers: Record<string, string> = {};
      if (offset > 0) headers['range'] = `bytes=${offset}-`;
      const req: HttpRequest = {
        method: 'GET',
        url,
        headers,
        scopes: options.scopes ?? this.#pull(),
        ...requestOf(options),
      };
      const res = await this.#send(req);
      if (res.status !== 200 && res.status !== 206) {
        throw await errorFromResponse(
          res,
          req,
          `download the blob ${descriptor.digest} from ${this.label}`,
          {
            notFound: `the registry lost a blob its manifest names; the artifact on ${this.label} is incomplete`,
          }
        );
      }
      const header = res.headers.get('docker-content-digest');
      if (header !== null && header.startsWith('sha256:') && header !== descriptor.digest) {
        await discard(res);
        mismatch(`was served with Docker-Content-Digest ${header}`);
      }
      let skip = 0;
      if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
        if (m === null || Number(m[1]) !== offset) {
          await discard(res);
          throw new RemoteError(
            'PROTOCOL',
            `${this.registry} answered a resumed download of ${descriptor.digest} with the wrong range.`,
            { status: 206, method: 'GET', url: redactUrl(url) }
          );
        }
      } else {
        skip = offset; // the range was ignored: drop what we already have
      }
      if (res.body === null) {
        if (descriptor.size === offset) break;
        mismatch(`came without a body`);
      }
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let failed: unknown;
      try {
        for (;;) {
          let step: { done: boolean; value?: Uint8Array | undefined };
          try {
            step = await reader.read();
          } catch (e) {
            failed = e;
            break;
          }
          if (step.done || step.value === undefined) break;
          let chunk = step.value;
          if (skip > 0) {
            const drop = Math.min(skip, chunk.byteLength);
            skip -= drop;
            chunk = chunk.subarray(drop);
            if (chunk.byteLength === 0) continue;
          }
          if (offset + chunk.byteLength > descriptor.size) {
            await reader.cancel().catch(() => undefined);
            mismatch(`is longer than the ${descriptor.size} bytes its descriptor declares`);
          }
          hash.update(chunk);
          offset += chunk.byteLength;
          yield chunk;
        }
      } finally {
        reader.releaseLock();
      }
      if (failed === undefined) break;
      if (options.signal?.aborted === true) {
        throw new RunledgerError('ABORTED', 'The transfer was aborted.', {
          cause: options.signal.reason,
        });
      }
      if (
        !isTransientNetworkError(failed) ||
        resumes >= maxResumes ||
        options.budget?.take() === false
      ) {
        throw transportError(failed, 'GET', url, `downloading ${descriptor.digest}`);
      }
      resumes++;
    }
    if (offset !== descriptor.size) {
      mismatch(`ended after ${offset} of ${descriptor.size} bytes`);
    }
    const got = hash.finish().digest;
    if (got !== descriptor.digest) mismatch(`hashes to ${got}`);
  }

  /**
   * Uploads a blob: mount (when asked), else POST then one PUT, or chunked PATCHes resumed
   * from the server's offset for large blobs. Transient failures restart the session (a few
   * times), so a registry never sees a half blob under its digest.
   * @param descriptor - the blob
   * @param source - its bytes, re-openable at any offset
   * @param options - thresholds, mount source, progress, signal
   * @returns how it got there
   */
  async pushBlob(
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
        return await this.#uploadOnce(descriptor, source, options, restart === 0, onBytes);
      } catch (e) {
        current = false;
        options.onBytes?.(-sent);
        if (!restartable(e) || options.signal?.aborted === true) throw e;
        lastError = e;
        // No pause before giving up.
        if (restart === RESTART_LIMIT || options.budget?.take() === false) break;
        await this.#sleep(200 * 2 ** restart, options.signal);
      }
    }
    throw lastError;
  }

  async #startSession(
    descriptor: Descriptor,
    mountFrom: string | undefined,
    options: RequestOptions
  ): Promise<{ mounted: true } | { mounted: false; location: URL; minChunk: number }> {
    const url = this.#url('blobs/uploads/');
    const scopes = this.#push();
    if (mountFrom !== undefined && mountFrom !== this.name) {
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
    const res = await this.#send(req);
    if (res.status === 201 && mountFrom !== undefined) {
      await discard(res);
      return { mounted: true };
    }
    if (res.status !== 202) {
      throw await errorFromResponse(
        res,
        req,
        `start an upload of ${descriptor.digest} to ${this.label}`,
        {
          authorization: `your credentials may not push to ${this.label}`,
        }
      );
    }
    const location = this.#location(res, req);
    const minChunk = Number(res.headers.get('oci-chunk-min-length') ?? 0);
    await discard(res);
    return { mounted: false, location, minChunk: Number.isSafeInteger(minChunk) ? minChunk : 0 };
  }

  #location(res: Response, req: HttpRequest): URL {
    const value = res.headers.get('location');
    if (value === null) {
      throw new RemoteError(
        'PROTOCOL',
        `${this.registry} answered ${req.method} ${redactUrl(req.url)} without an upload Location.`,
        { status: res.status, method: req.method, url: redactUrl(req.url) }
      );
    }
    const url = new URL(value, req.url);
    checkTarget(url, this.#http.base, 'upload location', req.method);
    return url;
  }

  async #uploadOnce(
    descriptor: Descriptor,
    source: (offset: number, length: number) => BodySource | Uint8Array,
    options: UploadOptions,
    mayMount: boolean,
    onBytes: (n: number) => void
  ): Promise<BlobPushResult> {
    const signal = options.signal;
    const session = await this.#startSession(
      descriptor,
      mayMount ? options.mountFrom : undefined,
      options
    );
    if (session.mounted) return 'mounted';
    let location = session.location;
    const threshold = options.chunkThreshold ?? 64 * 1024 * 1024;
    const scopes = this.#push();
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
          res = await this.#send(req);
        } catch (e) {
          live = false;
          onBytes(-inflight);
          if (!isTransientNetworkError(e) || signal?.aborted === true || resumes >= 4) throw e;
          resumes++;
          // Where does the server stand? Resume there, or restart the session when it can't say.
          const at = await this.#uploadOffset(location, signal);
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
            `upload a chunk of ${descriptor.digest} to ${this.label}`
          );
        }
        const next = this.#location(res, req);
        const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
        await discard(res);
        location = next;
        const end = offset + length;
        if (range !== null && Number(range[1]) + 1 !== end) {
          throw new RemoteError(
            'PROTOCOL',
            `${this.registry} reports ${Number(range[1]) + 1} bytes of ${descriptor.digest} after a chunk ending at ${end}.`,
            { status: 202, method: 'PATCH', url: redactUrl(req.url), data: { retryable: true } }
          );
        }
        offset = end;
      }
      return this.#finish(descriptor, location, () => new Uint8Array(0), descriptor.size, {
        options,
        onBytes,
        scopes,
      });
    }
    return this.#finish(descriptor, location, () => source(0, descriptor.size), 0, {
      options,
      onBytes,
      scopes,
    });
  }

  async #uploadOffset(location: URL, signal: AbortSignal | undefined): Promise<number | undefined> {
    const req: HttpRequest = {
      method: 'GET',
      url: location,
      scopes: this.#push(),
      ...signalOf(signal),
    };
    let res: Response;
    try {
      res = await this.#send(req);
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
   * failures are thrown for {@link Repository.pushBlob} to restart in a fresh session.
   */
  async #finish(
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
        res = await this.#send(req);
      } catch (e) {
        uncount();
        if (!isTransientNetworkError(e) || signal?.aborted === true) throw e;
        // Did the PUT get through before the connection was lost, or not start at all?
        const at = await this.#uploadOffset(location, signal);
        if (at === undefined) {
          const there = await this.hasBlob(descriptor, { scopes, ...requestOf(options) }).catch(
            () => false
          );
          if (there) {
            how.onBytes(descriptor.size - expected); // this PUT's body did arrive
            return 'uploaded';
          }
        }
        if (at !== expected || !this.#http.mayRetry(attempt, options.budget)) throw e;
        await this.#sleep(this.#http.retryDelay(attempt) ?? 0, signal);
        continue;
      }
      if (isRetryStatus(res.status)) {
        const wait = this.#http.retryDelay(attempt, res);
        if (wait !== undefined && this.#http.mayRetry(attempt, options.budget)) {
          uncount();
          await discard(res);
          await this.#sleep(wait, signal);
          continue;
        }
      }
      break;
    }
    if (res.status !== 201 && res.status !== 204 && res.status !== 200) {
      throw await errorFromResponse(
        res,
        req,
        `finish the upload of ${descriptor.digest} to ${this.label}`
      );
    }
    const header = res.headers.get('docker-content-digest');
    await discard(res);
    if (header !== null && header.startsWith('sha256:') && header !== descriptor.digest) {
      throw new RemoteError(
        'DIGEST_MISMATCH',
        `${this.registry} stored the upload of ${descriptor.digest} as ${header}.`,
        { status: res.status, method: 'PUT', url: redactUrl(url) }
      );
    }
    return 'uploaded';
  }

  // ---- tags --------------------------------------------------------------------------------

  /**
   * Every tag of the repository, following `Link` pages on the same origin only, at most 100
   * pages; sorted (registries need not sort).
   * @param options - page size, signal
   * @returns the tags
   */
  async listTags(options: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const tags = new Set<string>();
    let url: URL | undefined = this.#url('tags/list');
    url.searchParams.set('n', String(options.pageSize ?? 1000));
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES) {
        throw new RemoteError(
          'PROTOCOL',
          `${this.label} kept sending tag pages past ${MAX_PAGES}; stopped.`,
          { method: 'GET', url: redactUrl(url) }
        );
      }
      const req: HttpRequest = {
        method: 'GET',
        url,
        scopes: this.#pull(),
        ...signalOf(options.signal),
      };
      const res = await this.#send(req);
      if (res.status !== 200) {
        throw await errorFromResponse(res, req, `list the tags of ${this.label}`, {
          notFound: `${this.label} does not exist`,
        });
      }
      const link = res.headers.get('link');
      const bytes = await readCapped(res, MAX_PAGE, 'tag list', 'GET', url);
      let body: { tags?: unknown };
      try {
        body = JSON.parse(new TextDecoder().decode(bytes)) as { tags?: unknown };
      } catch {
        throw new RemoteError('PROTOCOL', `The tag list of ${this.label} is not JSON.`, {
          method: 'GET',
          url: redactUrl(url),
        });
      }
      const list = body.tags;
      if (list !== null && list !== undefined && !Array.isArray(list)) {
        throw new RemoteError('PROTOCOL', `The tag list of ${this.label} has no tags array.`, {
          method: 'GET',
          url: redactUrl(url),
        });
      }
      let added = 0;
      for (const t of (list ?? []) as unknown[]) {
        if (typeof t === 'string' && !tags.has(t)) {
          tags.add(t);
          added++;
        }
      }
      const next = nextLink(link, url);
      if (next !== undefined) {
        if (!sameOrigin(next, url)) {
          throw new RemoteError(
            'REMOTE_REFUSED',
            `Refused the tag-list page link ${redactUrl(next)}: it leaves ${url.host}.`,
            { method: 'GET', url: redactUrl(next) }
          );
        }
        if (added === 0) break; // a page that adds nothing: a loop
      }
      url = next;
    }
    return [...tags].sort();
  }

  // ---- referrers ---------------------------------------------------------------------------

  /**
   * The manifests whose `subject` is `subject`: the referrers API when the registry has it,
   * else the `sha256-<hex>` tag index (checked to be an index and not the subject itself).
   * @param subject - the subject's digest
   * @param options - artifactType filter, signal
   * @returns descriptors (with artifactType and annotations)
   */
  async referrers(
    subject: Digest,
    options: { artifactType?: string; signal?: AbortSignal } = {}
  ): Promise<Descriptor[]> {
    const filter = (list: readonly Descriptor[], applied: boolean): Descriptor[] =>
      options.artifactType === undefined || applied
        ? [...list]
        : list.filter((d) => d.artifactType === options.artifactType);
    if (this.#referrersApi !== false) {
      const url = this.#url(`referrers/${subject}`);
      if (options.artifactType !== undefined)
        url.searchParams.set('artifactType', options.artifactType);
      const req: HttpRequest = {
        method: 'GET',
        url,
        headers: { accept: MEDIA_TYPE_IMAGE_INDEX },
        scopes: this.#pull(),
        ...signalOf(options.signal),
      };
      const res = await this.#send(req);
      const type = mediaTypeOf(res.headers.get('content-type'));
      if (res.status === 200 && type === MEDIA_TYPE_IMAGE_INDEX) {
        this.#referrersApi = true;
        const out: Descriptor[] = [];
        let link = res.headers.get('link');
        const applied = /artifactType/i.test(res.headers.get('oci-filters-applied') ?? '');
        out.push(
          ...parseImageIndex(await readCapped(res, MAX_PAGE, 'referrers list', 'GET', url))
            .manifests
        );
        let pageUrl = url;
        for (let page = 1; link !== null && page < MAX_PAGES; page++) {
          const next = nextLink(link, pageUrl);
          if (next === undefined) break;
          if (!sameOrigin(next, pageUrl)) {
            throw new RemoteError(
              'REMOTE_REFUSED',
              `Refused the referrers page link ${redactUrl(next)}: it leaves ${url.host}.`,
              { method: 'GET', url: redactUrl(next) }
            );
          }
          const r = await this.#send({ ...req, url: next });
          if (r.status !== 200)
            throw await errorFromResponse(r, { ...req, url: next }, `list referrers of ${subject}`);
          link = r.headers.get('link');
          out.push(
            ...parseImageIndex(await readCapped(r, MAX_PAGE, 'referrers list', 'GET', next))
              .manifests
          );
          pageUrl = next;
        }
        return filter(out, applied);
      }
      if (res.status === 404) {
        const err = await errorFromResponse(
          res,
          req,
          `list the referrers of ${subject} in ${this.label}`,
          {
            notFound: `${this.label} does not exist`,
          }
        );
        if (err.registryErrors.some((e) => e.code === 'NAME_UNKNOWN')) throw err;
        this.#referrersApi = false;
      } else if (res.status === 200 || res.status === 400 || res.status === 405) {
        await discard(res);
        this.#referrersApi = false;
      } else {
        throw await errorFromResponse(
          res,
          req,
          `list the referrers of ${subject} in ${this.label}`
        );
      }
    }
    const index = await this.#readReferrersTag(subject, options.signal);
    return filter(index?.manifests ?? [], false);
  }

  /** The tag-schema referrers index of a subject, or undefined when absent or not valid. */
  async #readReferrersTag(
    subject: Digest,
    signal: AbortSignal | undefined
  ): Promise<{ manifests: Descriptor[]; digest: Digest } | undefined> {
    const tag = referrersTag(subject);
    let fetched: FetchedManifest;
    try {
      fetched = await this.fetchManifest(tag, signalOf(signal));
    } catch (e) {
      if (isRunledgerError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    if (fetched.descriptor.digest === subject) {
      this.onWarning?.(
        `${this.label}:${tag} resolves to the subject itself, not a referrers index; treated as no referrers.`
      );
      return undefined;
    }
    if (fetched.descriptor.mediaType !== MEDIA_TYPE_IMAGE_INDEX) {
      this.onWarning?.(`${this.label}:${tag} is not an OCI image index; treated as no referrers.`);
      return undefined;
    }
    try {
      const index = parseImageIndex(fetched.bytes);
      return { manifests: [...index.manifests], digest: fetched.descriptor.digest };
    } catch {
      this.onWarning?.(`${this.label}:${tag} is not a valid image index; treated as no referrers.`);
      return undefined;
    }
  }

  /**
   * Records (or removes) a referrer of `subject` in the tag-schema index, for registries without
   * the referrers API: read, merge, write, delete the old index (a refusal is only a warning),
   * then read again (at once, and after a pause longer than the write took) and merge again when
   * another writer's update replaced ours.
   * @param subject - the subject's digest
   * @param change - the referrer to add, or the digest to remove
   * @param options - signal
   */
  async updateReferrersTag(
    subject: Digest,
    change: { add: Descriptor } | { remove: Digest },
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    const key = subject;
    const previous = this.#referrerLocks.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.#updateReferrers(subject, change, options.signal));
    this.#referrerLocks.set(key, run);
    try {
      await run;
    } finally {
      if (this.#referrerLocks.get(key) === run) this.#referrerLocks.delete(key);
    }
  }

  async #updateReferrers(
    subject: Digest,
    change: { add: Descriptor } | { remove: Digest },
    signal: AbortSignal | undefined
  ): Promise<void> {
    const tag = referrersTag(subject);
    const target = 'add' in change ? change.add.digest : change.remove;
    const satisfied = (list: readonly Descriptor[]): boolean =>
      'add' in change
        ? list.some((d) => d.digest === target)
        : !list.some((d) => d.digest === target);
    // Without If-Match (2.8.2) another writer may have read the tag before our PUT and still be
    // sending its own version, which drops ours: seen in 1 of 5 two-process runs. So a write is
    // confirmed by a second read after a pause several times longer than our PUT took.
    let settleMs: number | undefined;
    for (let round = 0; round < 8; round++) {
      const current = await this.#readReferrersTag(subject, signal);
      const list = current?.manifests ?? [];
      if (satisfied(list)) {
        if (settleMs === undefined) return; // nothing written by us since the last pause
        await this.#sleep(settleMs, signal);
        settleMs = undefined;
        continue;
      }
      const next =
        'add' in change
          ? [...list.filter((d) => d.digest !== target), change.add]
          : list.filter((d) => d.digest !== target);
      const bytes = serializeImageIndex({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_IMAGE_INDEX,
        manifests: next,
      });
      const started = performance.now();
      const { digest } = await this.putManifest(
        tag,
        bytes,
        MEDIA_TYPE_IMAGE_INDEX,
        signalOf(signal)
      );
      settleMs = Math.min(2000, Math.max(250, Math.round(4 * (performance.now() - started))));
      if (current !== undefined && current.digest !== digest) {
        try {
          await this.deleteManifest(current.digest, signalOf(signal));
        } catch (e) {
          this.onWarning?.(
            `The previous referrers index ${current.digest} of ${this.label} was left in place (${isRunledgerError(e) ? e.message : String(e)}).`
          );
        }
      }
    }
    throw new RemoteError(
      'PROTOCOL',
      `The referrers index ${this.label}:${tag} kept changing under concurrent writers; ${target} may be missing from it.`,
      { method: 'PUT', url: redactUrl(this.#url(`manifests/${tag}`)) }
    );
  }
}

/** The tag-schema tag of a subject: `sha256-<hex>`. */
export function referrersTag(subject: Digest): string {
  return subject.replace(':', '-');
}

/** The artifact type a referrers index entry gets: `artifactType`, else the config media type. */
export function referrerArtifactType(manifest: {
  artifactType?: unknown;
  config?: { mediaType?: unknown };
}): string | undefined {
  if (typeof manifest.artifactType === 'string') return manifest.artifactType;
  const t = manifest.config?.mediaType;
  return typeof t === 'string' ? t : undefined;
}

function nextLink(header: string | null, base: URL): URL | undefined {
  if (header === null) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(header);
  if (m === null) return undefined;
  try {
    return new URL(m[1] as string, base);
  } catch {
    return undefined;
  }
}

function checkReference(reference: string): string {
  if (isDigest(reference) || TAG_RE.test(reference)) return reference;
  throw new RunledgerError(
    'REFERENCE_INVALID',
    `${JSON.stringify(reference.slice(0, 200))} is neither a tag (at most 128 of [A-Za-z0-9_.-]) nor a sha256 digest.`,
    { data: { reference: reference.slice(0, 200) } }
  );
}

function signalOf(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

function requestOf(options: RequestOptions): { signal?: AbortSignal; budget?: RetryBudget } {
  return {
    ...signalOf(options.signal),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  };
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
