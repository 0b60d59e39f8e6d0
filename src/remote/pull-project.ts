/**
 * @module remote/pull-project
 * A whole project (a repository's tags) brought from a registry into the local store: every tag,
 * or those made since a time; tags the store already has under their name skipped without a
 * request for their content; each manifest fetched once however many tags share it, the other
 * tags then pointed at it locally.
 */
import { RunledgerError, isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { namesRepository } from '../oci/reference.js';
import type { Descriptor } from '../oci/types.js';
import { LocalRegistry } from '../store/local-registry.js';
import { sameKindError } from './blob-tasks.js';
import { RemoteClient, requireRemoteReference } from './client.js';
import { listRemoteTags, parseTime, type RemoteTag } from './tags.js';
import { pullArtifact, type TransferOptions } from './transfer.js';

/** Options of {@link pullProject}. */
export interface PullProjectOptions extends TransferOptions {
  /**
   * Only the tags made at or after this time (see {@link RemoteTag.created}; a tag without a time
   * is left out): a `Date`, or text as {@link parseTime} reads it (`2026-12-01`,
   * `2026-12-01T06:00:00Z`).
   */
  readonly since?: Date | string;
  /** Tags asked for per `tags/list` page. @default 1000 */
  readonly pageSize?: number;
}

/** What {@link pullProject} did with one tag. */
export interface ProjectTagPull {
  readonly tag: string;
  /** The local (and remote) reference, `registry/repository:tag`. */
  readonly reference: string;
  readonly digest: Digest;
  readonly created: string | null;
  /**
   * `pulled`: its manifest was fetched from the registry; `tagged`: it now points at a manifest
   * the store already had (fetched for another tag of it, or here before); `skipped`: the store
   * already had it under this name; `kept`: it is `latest`, the local `latest` points at another
   * manifest and stays — one the registry does not have (work not pushed yet), or the registry's
   * `latest` points at a manifest no other tag brought.
   */
  readonly result: 'pulled' | 'tagged' | 'skipped' | 'kept';
  /** For a `latest` that moved on: the manifest it pointed at before. */
  readonly previous?: Digest;
}

/** What {@link pullProject} did. */
export interface ProjectPullReport {
  /** `registry/repository`. */
  readonly project: string;
  /** The tags it considered (those `since` left in), by time then tag. */
  readonly tags: readonly ProjectTagPull[];
  readonly pulled: number;
  readonly tagged: number;
  readonly skipped: number;
  readonly kept: number;
  /** Tags left out by `since` (made before it, or without a time). */
  readonly older: number;
  /** Blobs of the pulled manifests: how many, fetched, already in the store. */
  readonly blobs: {
    readonly total: number;
    readonly transferred: number;
    readonly skipped: number;
  };
  readonly bytes: { readonly total: number; readonly transferred: number };
  readonly seconds: number;
}

/** The tags of the referrers tag schema (`sha256-<hex>`): the registry's bookkeeping, not pulled. */
const REFERRERS_TAG_RE = /^sha256-[0-9a-f]{64}$/;

/** Failures of one tag only: the other tags go on, and the failure is reported at the end. */
const TAG_FAILURES: ReadonlySet<string> = new Set([
  'TRANSPORT',
  'RATE_LIMITED',
  'NOT_FOUND',
  'PROTOCOL',
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'BLOB_NOT_FOUND',
  'MANIFEST_INVALID',
  'REF_CONFLICT',
  'CLOSURE_INCOMPLETE',
]);

type Result = Omit<ProjectTagPull, 'tag' | 'reference' | 'digest' | 'created'>;

/**
 * Pulls a project — every tag of a repository, or those made since a time — into the local store,
 * under the same names. The tags are listed as {@link listRemoteTags} lists them (`Link` pages on
 * the registry's origin only, each manifest verified); a tag the store already has under its name
 * for the same manifest is skipped; each other manifest is pulled once, verified as
 * {@link pullArtifact} pulls (by digest, so a tag moved meanwhile cannot slip in another), and its
 * other tags are pointed at it locally. Local names never move, with one exception: `latest`
 * follows the registry's when the local one points at a manifest the registry also has (it was a
 * teammate's `latest` that moved on); when it points at work the registry lacks, it is kept. The
 * `sha256-<hex>` tags of the referrers tag schema are not pulled. A tag that fails does not stop
 * the others: once they are done, the pull fails naming how many failed and the first.
 *
 * @param project - `registry/repository`, without a tag or digest
 * @param options - since, the local store, credentials, concurrency, progress, signal
 * @returns what was done with each tag, and the totals
 * @throws RunledgerError `ARGUMENT_INVALID` for a reference with a tag or digest or a bad `since`,
 *   `REFERENCE_INVALID`; `REF_CONFLICT` (after the other tags) when a local tag points at another
 *   manifest; RemoteError `NOT_FOUND` when the repository does not exist, `REMOTE_REFUSED` for a
 *   `Link` to another origin, `AUTHENTICATION`, … (a failure of one tag after the others, with its
 *   code)
 * @example
 * ```ts
 * const report = await pullProject('127.0.0.1:5000/acme/qap', { since: '2026-12-01' });
 * const fetched = report.pulled; // manifests fetched; report.skipped were here already
 * ```
 */
export async function pullProject(
  project: string,
  options: PullProjectOptions = {}
): Promise<ProjectPullReport> {
  const t0 = performance.now();
  const ref = requireRemoteReference(project);
  const name = `${ref.registry}/${ref.repository}`;
  if (!namesRepository(project)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `${project} names one artifact (it has a tag or digest), not a project: name the repository alone (${name}).`,
      { data: { reference: project } }
    );
  }
  const since = sinceTime(options.since);
  const registry = options.registry ?? (await LocalRegistry.open());
  const client = options.client ?? new RemoteClient(options);
  const signal = options.signal;
  const remote = await listRemoteTags(name, { ...options, client });
  const onRegistry = new Set(remote.map((t) => t.digest));
  const wanted = remote.filter((t) => !REFERRERS_TAG_RE.test(t.tag));
  const chosen =
    since === undefined
      ? wanted
      : wanted.filter((t) => t.created !== null && Date.parse(t.created) >= since.getTime());
  const refs = await registry.listRefs();
  const local = new Map(refs.map((r) => [r.reference, r.descriptor.digest]));
  const stored = new Set(refs.map((r) => r.descriptor.digest));

  const results = new Map<string, Result>();
  const failures: { tag: RemoteTag; error: unknown }[] = [];
  const toFetch = new Map<Digest, RemoteTag[]>();
  const moves: { tag: RemoteTag; previous: Digest }[] = [];
  for (const t of chosen) {
    const have = local.get(t.reference);
    if (have === undefined) toFetch.set(t.digest, [...(toFetch.get(t.digest) ?? []), t]);
    else if (have === t.digest) results.set(t.tag, { result: 'skipped' });
    else if (t.tag === 'latest' && onRegistry.has(have)) moves.push({ tag: t, previous: have });
    else if (t.tag === 'latest') results.set(t.tag, { result: 'kept' });
    else {
      failures.push({
        tag: t,
        error: new RunledgerError(
          'REF_CONFLICT',
          `The local reference ${t.reference} already points at ${have}, not at ${t.digest} as on ${ref.registry}.`,
          { data: { reference: t.reference, current: have, wanted: t.digest } }
        ),
      });
    }
  }

  const blobs = { total: 0, transferred: 0, skipped: 0 };
  const bytes = { total: 0, transferred: 0 };
  const pointAt = async (t: RemoteTag): Promise<void> => {
    await registry.publishRef(t.reference, descriptorOf(t), signal === undefined ? {} : { signal });
  };
  for (const [digest, group] of toFetch) {
    const [first, ...rest] = group as [RemoteTag, ...RemoteTag[]];
    let done = 0;
    try {
      // A manifest the store holds is only tagged; one whose content went missing (gc, damage)
      // is pulled again.
      const here =
        stored.has(digest) &&
        (await pointAt(first).then(
          () => true,
          (e: unknown) => {
            if (isRunledgerError(e, 'CLOSURE_INCOMPLETE')) return false;
            throw e;
          }
        ));
      if (!here) {
        const r = await pullArtifact(`${name}@${digest}`, {
          ...options,
          registry,
          client,
          as: first.reference,
        });
        blobs.total += r.blobs.total;
        blobs.transferred += r.blobs.transferred;
        blobs.skipped += r.blobs.skipped;
        bytes.total += r.bytes.total;
        bytes.transferred += r.bytes.transferred;
        stored.add(digest);
      }
      results.set(first.tag, { result: here ? 'tagged' : 'pulled' });
      done = 1;
      for (const t of rest) {
        await pointAt(t);
        results.set(t.tag, { result: 'tagged' });
        done++;
      }
    } catch (e) {
      if (!isRunledgerError(e) || !TAG_FAILURES.has(e.code) || signal?.aborted === true) throw e;
      for (const t of group.slice(done)) failures.push({ tag: t, error: e });
    }
  }
  for (const { tag, previous } of moves) {
    if (!stored.has(tag.digest)) {
      results.set(tag.tag, { result: 'kept' });
      continue;
    }
    await registry.replaceRef(
      tag.reference,
      descriptorOf(tag),
      signal === undefined ? {} : { signal }
    );
    results.set(tag.tag, { result: 'tagged', previous });
  }

  const tags = chosen.flatMap((t) => {
    const r = results.get(t.tag);
    return r === undefined
      ? []
      : [{ tag: t.tag, reference: t.reference, digest: t.digest, created: t.created, ...r }];
  });
  const count = (result: ProjectTagPull['result']): number =>
    tags.filter((t) => t.result === result).length;
  const report: ProjectPullReport = {
    project: name,
    tags,
    pulled: count('pulled'),
    tagged: count('tagged'),
    skipped: count('skipped'),
    kept: count('kept'),
    older: wanted.length - chosen.length,
    blobs,
    bytes,
    seconds: (performance.now() - t0) / 1000,
  };
  if (failures.length > 0) throw tagsFailed(failures, chosen.length, report);
  return report;
}

/** The descriptor of the manifest a remote tag points at, for a local reference. */
function descriptorOf(t: RemoteTag): Descriptor {
  return {
    mediaType: t.mediaType,
    digest: t.digest,
    size: t.size,
    ...(t.artifactType === undefined ? {} : { artifactType: t.artifactType }),
  };
}

/** `since` as an instant, or undefined. */
function sinceTime(since: Date | string | undefined): Date | undefined {
  if (since === undefined) return undefined;
  const at = typeof since === 'string' ? parseTime(since) : since;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new RunledgerError('ARGUMENT_INVALID', '`since` is not a valid Date.');
  }
  return at;
}

/** The error of a project pull some of whose tags failed: how many, and the first one's. */
function tagsFailed(
  failures: readonly { tag: RemoteTag; error: unknown }[],
  total: number,
  report: ProjectPullReport
): RunledgerError {
  const first = failures[0] as { tag: RemoteTag; error: unknown };
  const cause = first.error as RunledgerError;
  const rest = total - failures.length;
  const message = `${failures.length} of ${total} tags of ${report.project} could not be pulled${rest > 0 ? ` (the other ${rest} are in the store, so pulling again fetches only the missing ones)` : ''}; the first, ${first.tag.tag}, failed: ${cause.message}`;
  const data = {
    ...cause.data,
    project: report.project,
    failed: failures.length,
    total,
    tags: failures.slice(0, 100).map((f) => f.tag.tag),
    pulled: report.pulled,
    tagged: report.tagged,
    skipped: report.skipped,
  };
  return sameKindError(cause, message, data);
}
