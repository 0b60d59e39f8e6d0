/**
 * @module remote/repository
 * One repository on an OCI registry: resolve, get/put/delete manifests, blobs (HEAD, verified
 * streaming GET resumed with `Range`), tag listing with pagination; and, through its methods,
 * blob uploads ({@link module:remote/upload}: monolithic POST+PUT, chunked PATCH uploads resumed
 * from the server's offset, cross-repository mount) and referrers ({@link module:remote/referrers}:
 * the API when offered, else the `<alg>-<hex>` tag schema with a read-after-write merge).
 */
import { RemoteError, RunledgerError } from '../errors.js';
import { Digester, digestOf, isDigest, type Digest } from '../oci/digest.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import { readManifestHeader, type ManifestHeader } from '../oci/manifest.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import {
  Endpoint,
  MAX_PAGE,
  MAX_PAGES,
  mediaTypeOf,
  nextLink,
  requestOf,
  signalOf,
  type RequestOptions,
} from './endpoint.js';
import {
  HttpClient,
  discard,
  errorFromResponse,
  isTransientNetworkError,
  readCapped,
  transportError,
  type BodySource,
  type HttpRequest,
} from './http.js';
import { redactUrl, sameOrigin } from './origin.js';
import { Referrers } from './referrers.js';
import { pushBlob, type BlobPushResult, type HasBlob, type UploadOptions } from './upload.js';

/** Every manifest type the client can handle, sent as `Accept`. */
export const MANIFEST_ACCEPT: string = [
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
].join(', ');

/** Manifests larger than this are refused before sending (2.8.2 answers 400 above 4 MiB). */
export const MAX_PUSH_MANIFEST: number = MAX_MANIFEST_SIZE;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

export type { RequestOptions } from './endpoint.js';
export type { BlobPushResult, UploadOptions } from './upload.js';

/** A manifest fetched and verified. */
export interface FetchedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/**
 * A repository on a registry. Built by {@link module:remote/client.RemoteClient.repository}.
 */
export class Repository {
  /** Registry host as in references (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** Repository path (`acme/qap`). */
  readonly name: string;
  readonly #at: Endpoint;
  readonly #referrers: Referrers;
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
    this.#at = new Endpoint(registry, name, http, sleep);
    this.#referrers = new Referrers(this.#at, this);
  }

  /** `registry/name`, for messages. */
  get label(): string {
    return this.#at.label;
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
    const url = this.#at.url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'HEAD',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.#at.pullScopes(),
      ...requestOf(options),
    };
    const res = await this.#at.send(req);
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
    const url = this.#at.url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'GET',
      url,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: this.#at.pullScopes(),
      ...requestOf(options),
    };
    let header: string | null;
    let contentType: string | undefined;
    let bytes: Uint8Array;
    for (let attempt = 0; ; attempt++) {
      const res = await this.#at.send(req);
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
        if (!this.#at.http.mayRetry(attempt, options.budget)) throw e;
        await this.#at.sleep(this.#at.http.retryDelay(attempt) ?? 0, options.signal);
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
    let declared: ManifestHeader;
    try {
      declared = readManifestHeader(bytes);
    } catch {
      throw new RemoteError(
        'PROTOCOL',
        `The manifest ${this.label}:${reference} that ${this.registry} sent is not a JSON object.`,
        { method: 'GET', url: redactUrl(url) }
      );
    }
    const field = declared.mediaType;
    const mediaType = field ?? contentType ?? MEDIA_TYPE_MANIFEST;
    if (field !== undefined && contentType !== undefined && field !== contentType) {
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
    if (declared.artifactType !== undefined) descriptor.artifactType = declared.artifactType;
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
    const url = this.#at.url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'PUT',
      url,
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: this.#at.pushScopes(),
      ...requestOf(options),
    };
    const res = await this.#at.send(req);
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
    const url = this.#at.url(`manifests/${checkReference(reference)}`);
    const req: HttpRequest = {
      method: 'DELETE',
      url,
      scopes: [`repository:${this.name}:delete`, ...this.#at.pushScopes()],
      ...signalOf(signal),
    };
    const res = await this.#at.send(req);
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
    const url = this.#at.url(`blobs/${descriptor.digest}`);
    const req: HttpRequest = {
      method: 'HEAD',
      url,
      scopes: options.scopes ?? this.#at.pullScopes(),
      ...requestOf(options),
    };
    const res = await this.#at.send(req);
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
    const url = this.#at.url(`blobs/${descriptor.digest}`);
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
        scopes: options.scopes ?? this.#at.pullScopes(),
        ...requestOf(options),
      };
      const res = await this.#at.send(req);
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
   * times), so a registry never sees a half blob under its digest. See {@link module:remote/upload}.
   * @param descriptor - the blob
   * @param source - its bytes, re-openable at any offset
   * @param options - thresholds, mount source, progress, signal
   * @returns how it got there
   */
  pushBlob(
    descriptor: Descriptor,
    source: (offset: number, length: number) => BodySource | Uint8Array,
    options: UploadOptions = {}
  ): Promise<BlobPushResult> {
    const hasBlob: HasBlob = (d, o) => this.hasBlob(d, o);
    return pushBlob(this.#at, hasBlob, descriptor, source, options);
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
    let url: URL | undefined = this.#at.url('tags/list');
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
        scopes: this.#at.pullScopes(),
        ...signalOf(options.signal),
      };
      const res = await this.#at.send(req);
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
   * See {@link module:remote/referrers}.
   * @param subject - the subject's digest
   * @param options - artifactType filter, signal
   * @returns descriptors (with artifactType and annotations)
   */
  referrers(
    subject: Digest,
    options: { artifactType?: string; signal?: AbortSignal } = {}
  ): Promise<Descriptor[]> {
    return this.#referrers.list(subject, options);
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
  updateReferrersTag(
    subject: Digest,
    change: { add: Descriptor } | { remove: Digest },
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    return this.#referrers.updateTag(subject, change, options);
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
