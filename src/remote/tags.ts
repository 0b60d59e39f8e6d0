/**
 * @module remote/tags
 * What a repository on a registry holds, tag by tag: every tag (`tags/list`, following `Link`
 * pages on the registry's own origin only), the manifest each points at (fetched and verified
 * against its bytes, a few at a time) and when it was made — the manifest's
 * `org.opencontainers.image.created` annotation, else the time a project tag carries.
 */
import { RunledgerError, isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseManifestOrIndex } from '../oci/manifest.js';
import { ANNOTATION_CREATED } from '../oci/media-types.js';
import { formatReference, isProjectTag, parseReference } from '../oci/reference.js';
import { compareCodePoints } from '../formats/code-points.js';
import { mapLimit, withBudget } from './blob-tasks.js';
import { RemoteClient, requireRemoteReference, type RemoteOptions } from './client.js';

/** One tag of a remote repository, with the manifest it points at and when that was made. */
export interface RemoteTag {
  readonly tag: string;
  /** `registry/repository:tag`. */
  readonly reference: string;
  /** The manifest's digest, computed from the bytes the registry sent. */
  readonly digest: Digest;
  readonly mediaType: string;
  /** The manifest's size in bytes. */
  readonly size: number;
  readonly artifactType?: string;
  /**
   * When it was made (RFC 3339, UTC, to the millisecond): the manifest's
   * `org.opencontainers.image.created` annotation; else the time in the tag when it is a project
   * tag (`20261206T060113.500Z-0a1b2c3d`); else, for another tag of the same manifest (`latest`),
   * the earliest project tag's time; else null.
   */
  readonly created: string | null;
}

/** Options of {@link listRemoteTags}. */
export interface ListRemoteTagsOptions extends RemoteOptions {
  /** A client to reuse (its tokens); otherwise one is made from these options. */
  readonly client?: RemoteClient;
  /** Tags asked for per `tags/list` page (`n`); the registry may send fewer. @default 1000 */
  readonly pageSize?: number;
  /** Manifests fetched at once. @default 8 */
  readonly concurrency?: number;
  /** Retries one manifest may take in all. @default 8 × maxRetries (32) */
  readonly blobRetries?: number;
  readonly signal?: AbortSignal;
}

/** The time prefix of a project tag: `20261206T060113.500Z`. */
const COMPACT_TIME_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/;
/** An RFC 3339 date or timestamp; without an offset it is UTC. */
const ISO_TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads a time as users and manifests write it: a date (`2026-12-01`, midnight UTC), a timestamp
 * (`2026-12-01T06:00:00Z`, `2026-12-01T07:00:00.250+01:00`, `2026-12-01 06:00`; UTC when it has no
 * offset) or the time of a project tag (`20261201T060000.000Z`).
 * @param value - the text
 * @returns the instant
 * @throws RunledgerError `ARGUMENT_INVALID` for anything else, an impossible date included
 * @example
 * ```ts
 * parseTime('2026-12-01').toISOString(); // '2026-12-01T00:00:00.000Z'
 * ```
 */
export function parseTime(value: string): Date {
  const text = value.trim();
  const iso = ISO_TIME_RE.exec(text);
  const compact = iso === null ? COMPACT_TIME_RE.exec(text) : null;
  const m = iso ?? (compact !== null && compact[0] === text ? compact : null);
  if (m !== null) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as number[];
    const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
    const utc = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
    const back = new Date(utc);
    // Date.UTC rolls 2026-02-30 over into March: a date that does not come back is refused.
    if (
      back.getUTCFullYear() === y &&
      back.getUTCMonth() === (mo as number) - 1 &&
      back.getUTCDate() === d &&
      (h as number) < 24 &&
      (mi as number) < 60 &&
      (s as number) < 60
    ) {
      const zone = iso === null ? undefined : iso[8];
      const offset = zone === undefined || /^z$/i.test(zone) ? 0 : offsetMinutes(zone);
      if (offset !== undefined) return new Date(utc - offset * 60_000);
    }
  }
  throw new RunledgerError(
    'ARGUMENT_INVALID',
    `${JSON.stringify(value.slice(0, 100))} is not a date (2026-12-01) or a timestamp (2026-12-01T06:00:00Z).`,
    { data: { value: value.slice(0, 100) } }
  );
}

/** `+01:00` → 60; undefined beyond ±23:59. */
function offsetMinutes(zone: string): number | undefined {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (m === null || Number(m[2]) > 23 || Number(m[3]) > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * The time a project tag carries, as RFC 3339.
 * @param tag - a tag
 * @returns `2026-12-06T06:01:13.500Z` for `20261206T060113.500Z-0a1b2c3d`; undefined for a tag
 *   that is not a project tag, or whose time is impossible
 */
function projectTagTime(tag: string): string | undefined {
  if (!isProjectTag(tag)) return undefined;
  try {
    return parseTime(tag.slice(0, 20)).toISOString();
  } catch {
    return undefined;
  }
}

/** An annotation's time as RFC 3339 in UTC, or undefined when it is not one. */
function annotationTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTime(value).toISOString();
  } catch {
    return undefined;
  }
}

/** Orders tags by time (those without one last), then by tag. */
function compareRemoteTags(a: RemoteTag, b: RemoteTag): number {
  if (a.created !== b.created) {
    if (a.created === null) return 1;
    if (b.created === null) return -1;
    return a.created < b.created ? -1 : 1;
  }
  return compareCodePoints(a.tag, b.tag);
}

/**
 * Lists a remote repository's tags with the manifest each points at and when it was made. The
 * tag list is read page by page through `Link` headers, which are followed only on the
 * registry's own origin (scheme, host and port; a link elsewhere is refused with
 * `REMOTE_REFUSED` before it is requested) and for at most 100 pages. Each tag's manifest is then
 * fetched (8 at a time), its digest computed from its bytes and checked against the registry's
 * `Docker-Content-Digest`. A tag that is not a valid tag name is left out (it could not be
 * addressed), and so is one deleted between the listing and its fetch.
 *
 * @param repository - `registry/repository` (a tag or digest in it is ignored)
 * @param options - credentials, page size, concurrency, signal
 * @returns the tags, by time (those without one last), then by tag
 * @throws RunledgerError `REFERENCE_INVALID` (a local-only name too); RemoteError `NOT_FOUND`
 *   when the repository does not exist, `REMOTE_REFUSED` for a `Link` to another origin,
 *   `PROTOCOL`, `DIGEST_MISMATCH`, `AUTHENTICATION`, …
 * @example
 * ```ts
 * const tags = await listRemoteTags('127.0.0.1:5000/acme/qap');
 * const newest = tags.filter((t) => t.created !== null).at(-1);
 * ```
 */
export async function listRemoteTags(
  repository: string,
  options: ListRemoteTagsOptions = {}
): Promise<RemoteTag[]> {
  const ref = requireRemoteReference(repository);
  const client = options.client ?? new RemoteClient(options);
  const repo = client.repository(ref);
  const signal = options.signal;
  const names = await repo.listTags({
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(signal === undefined ? {} : { signal }),
  });
  const project = { registry: ref.registry, repository: ref.repository };
  const valid = names.filter((tag) => {
    try {
      return parseReference(formatReference({ ...project, tag })).tag === tag;
    } catch {
      return false;
    }
  });
  const found: (Omit<RemoteTag, 'created'> & { annotated: string | undefined })[] = [];
  const failures = await mapLimit(
    valid,
    options.concurrency ?? 8,
    async (tag, sig) => {
      const { descriptor, bytes } = await withBudget(options, sig, (budget) =>
        repo.fetchManifest(tag, { budget, signal: sig })
      );
      let annotated: string | undefined;
      try {
        const node = parseManifestOrIndex(bytes, descriptor.mediaType);
        const annotations =
          node.kind === 'index' ? node.index.annotations : node.manifest.annotations;
        annotated = annotationTime(annotations?.[ANNOTATION_CREATED]);
      } catch (e) {
        // A manifest of a kind runledger does not read (Docker schema 1…) has no time, not an error.
        if (!isRunledgerError(e, 'MANIFEST_INVALID')) throw e;
      }
      found.push({
        tag,
        reference: formatReference({ ...project, tag }),
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        ...(descriptor.artifactType === undefined ? {} : { artifactType: descriptor.artifactType }),
        annotated,
      });
    },
    signal
  );
  const failed = failures.find((f) => !isRunledgerError(f.error, 'NOT_FOUND'));
  if (failed !== undefined) throw failed.error;
  // A tag that only follows another (`latest`) takes the time of the project tags beside it.
  const earliest = new Map<Digest, string>();
  for (const t of found) {
    const time = projectTagTime(t.tag);
    const seen = earliest.get(t.digest);
    if (time !== undefined && (seen === undefined || time < seen)) earliest.set(t.digest, time);
  }
  return found
    .map(({ annotated, ...t }) => ({
      ...t,
      created: annotated ?? projectTagTime(t.tag) ?? earliest.get(t.digest) ?? null,
    }))
    .sort(compareRemoteTags);
}
