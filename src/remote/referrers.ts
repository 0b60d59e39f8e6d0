/**
 * @module remote/referrers
 * The referrers of a subject in one repository: the referrers API when the registry offers it,
 * else the `<alg>-<hex>` tag schema, whose index is updated by read, merge, write and a
 * read-after-write merge against concurrent writers.
 */
import { RemoteError, isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseImageIndex, serializeImageIndex } from '../oci/image-index.js';
import { MEDIA_TYPE_IMAGE_INDEX } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import {
  MAX_PAGE,
  MAX_PAGES,
  mediaTypeOf,
  nextLink,
  signalOf,
  type Endpoint,
  type RequestOptions,
} from './endpoint.js';
import { discard, errorFromResponse, readCapped, type HttpRequest } from './http.js';
import { redactUrl, sameOrigin } from './origin.js';

/**
 * What the referrers of a repository need of its manifests: a
 * {@link module:remote/repository.Repository} has it all.
 */
export interface ReferrersRepository {
  fetchManifest(
    reference: string,
    options?: RequestOptions
  ): Promise<{ readonly descriptor: Descriptor; readonly bytes: Uint8Array }>;
  putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options?: RequestOptions
  ): Promise<{ readonly digest: Digest }>;
  deleteManifest(digest: Digest, options?: { signal?: AbortSignal }): Promise<void>;
  /** Called with warnings a user should see (read at each warning). */
  readonly onWarning: ((text: string) => void) | undefined;
}

/**
 * The referrers of one repository: whether the registry has the referrers API (learnt on the
 * first listing), and the per-process serialisation of tag-schema updates per subject.
 */
export class Referrers {
  readonly #at: Endpoint;
  readonly #repository: ReferrersRepository;
  #api: boolean | undefined;
  /** Per-process serialisation of referrers-tag updates per subject. */
  readonly #locks = new Map<string, Promise<unknown>>();

  /**
   * @param at - where the repository's requests go
   * @param repository - its manifests
   */
  constructor(at: Endpoint, repository: ReferrersRepository) {
    this.#at = at;
    this.#repository = repository;
  }

  /**
   * The manifests whose `subject` is `subject`: the referrers API when the registry has it,
   * else the `sha256-<hex>` tag index (checked to be an index and not the subject itself).
   * @param subject - the subject's digest
   * @param options - artifactType filter, signal
   * @returns descriptors (with artifactType and annotations)
   */
  async list(
    subject: Digest,
    options: { artifactType?: string; signal?: AbortSignal } = {}
  ): Promise<Descriptor[]> {
    const filter = (list: readonly Descriptor[], applied: boolean): Descriptor[] =>
      options.artifactType === undefined || applied
        ? [...list]
        : list.filter((d) => d.artifactType === options.artifactType);
    if (this.#api !== false) {
      const url = this.#at.url(`referrers/${subject}`);
      if (options.artifactType !== undefined)
        url.searchParams.set('artifactType', options.artifactType);
      const req: HttpRequest = {
        method: 'GET',
        url,
        headers: { accept: MEDIA_TYPE_IMAGE_INDEX },
        scopes: this.#at.pullScopes(),
        ...signalOf(options.signal),
      };
      const res = await this.#at.send(req);
      const type = mediaTypeOf(res.headers.get('content-type'));
      if (res.status === 200 && type === MEDIA_TYPE_IMAGE_INDEX) {
        this.#api = true;
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
          const r = await this.#at.send({ ...req, url: next });
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
          `list the referrers of ${subject} in ${this.#at.label}`,
          {
            notFound: `${this.#at.label} does not exist`,
          }
        );
        if (err.registryErrors.some((e) => e.code === 'NAME_UNKNOWN')) throw err;
        this.#api = false;
      } else if (res.status === 200 || res.status === 400 || res.status === 405) {
        await discard(res);
        this.#api = false;
      } else {
        throw await errorFromResponse(
          res,
          req,
          `list the referrers of ${subject} in ${this.#at.label}`
        );
      }
    }
    const index = await this.#readTag(subject, options.signal);
    return filter(index?.manifests ?? [], false);
  }

  /** The tag-schema referrers index of a subject, or undefined when absent or not valid. */
  async #readTag(
    subject: Digest,
    signal: AbortSignal | undefined
  ): Promise<{ manifests: Descriptor[]; digest: Digest } | undefined> {
    const tag = referrersTag(subject);
    let fetched: { readonly descriptor: Descriptor; readonly bytes: Uint8Array };
    try {
      fetched = await this.#repository.fetchManifest(tag, signalOf(signal));
    } catch (e) {
      if (isRunledgerError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
    if (fetched.descriptor.digest === subject) {
      this.#repository.onWarning?.(
        `${this.#at.label}:${tag} resolves to the subject itself, not a referrers index; treated as no referrers.`
      );
      return undefined;
    }
    if (fetched.descriptor.mediaType !== MEDIA_TYPE_IMAGE_INDEX) {
      this.#repository.onWarning?.(
        `${this.#at.label}:${tag} is not an OCI image index; treated as no referrers.`
      );
      return undefined;
    }
    try {
      const index = parseImageIndex(fetched.bytes);
      return { manifests: [...index.manifests], digest: fetched.descriptor.digest };
    } catch {
      this.#repository.onWarning?.(
        `${this.#at.label}:${tag} is not a valid image index; treated as no referrers.`
      );
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
  async updateTag(
    subject: Digest,
    change: { add: Descriptor } | { remove: Digest },
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    const key = subject;
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => this.#update(subject, change, options.signal));
    this.#locks.set(key, run);
    try {
      await run;
    } finally {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    }
  }

  async #update(
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
      const current = await this.#readTag(subject, signal);
      const list = current?.manifests ?? [];
      if (satisfied(list)) {
        if (settleMs === undefined) return; // nothing written by us since the last pause
        await this.#at.sleep(settleMs, signal);
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
      const { digest } = await this.#repository.putManifest(
        tag,
        bytes,
        MEDIA_TYPE_IMAGE_INDEX,
        signalOf(signal)
      );
      settleMs = Math.min(2000, Math.max(250, Math.round(4 * (performance.now() - started))));
      if (current !== undefined && current.digest !== digest) {
        try {
          await this.#repository.deleteManifest(current.digest, signalOf(signal));
        } catch (e) {
          this.#repository.onWarning?.(
            `The previous referrers index ${current.digest} of ${this.#at.label} was left in place (${isRunledgerError(e) ? e.message : String(e)}).`
          );
        }
      }
    }
    throw new RemoteError(
      'PROTOCOL',
      `The referrers index ${this.#at.label}:${tag} kept changing under concurrent writers; ${target} may be missing from it.`,
      { method: 'PUT', url: redactUrl(this.#at.url(`manifests/${tag}`)) }
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
