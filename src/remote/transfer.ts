/**
 * @module remote/transfer
 * push, pull and copy of whole artifacts: a graph copy (manifest → config and layers; index →
 * child manifests) with bounded concurrency, blobs the target has skipped, manifests last
 * (children before parents, the tagged root at the very end) so a registry never shows a
 * manifest before all its blobs. Pull streams every blob into the local store verified, and
 * publishes the local reference only after the whole closure is stored. Each blob has its own
 * retry budget; a blob that spends it fails alone while the others finish, and the verified
 * blobs of a failed pull stay in the store, so running it again fetches only what is missing.
 */
import { open, readFile } from 'node:fs/promises';
import { RemoteError, RunledgerError, isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseManifestOrIndex } from '../oci/manifest.js';
import { formatReference, parseReference, type Reference } from '../oci/reference.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import { isManifestType } from '../store/closure.js';
import { LocalRegistry } from '../store/local-registry.js';
import {
  RemoteClient,
  isLocalOnlyRegistry,
  requireRemoteReference,
  type RemoteOptions,
} from './client.js';
import { blobsFailed, mapLimit, withBudget } from './blob-tasks.js';
import type { BodySource, RetryBudget } from './http.js';
import { referrerArtifactType } from './referrers.js';
import type { Repository } from './repository.js';

/** Progress of a push, pull or copy. */
export interface TransferProgress {
  readonly phase: 'push' | 'pull' | 'copy';
  /** The reference being transferred (the target for push and copy). */
  readonly reference: string;
  readonly blobsTotal: number;
  /** Blobs finished: transferred, skipped (already there) or mounted. */
  readonly blobsDone: number;
  readonly blobsSkipped: number;
  /** Bytes of every blob of the artifact. */
  readonly bytesTotal: number;
  /** Bytes finished, skipped ones included. */
  readonly bytesDone: number;
  /** True on the last event. */
  readonly done: boolean;
}

/** What a transfer did. */
export interface TransferReport {
  /** Where the artifact now is (`registry/repository:tag`). */
  readonly reference: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly blobs: {
    readonly total: number;
    readonly transferred: number;
    readonly skipped: number;
    readonly mounted: number;
  };
  readonly bytes: { readonly total: number; readonly transferred: number };
  /** True when the target already had the manifest under that tag: nothing was sent. */
  readonly upToDate: boolean;
  readonly seconds: number;
}

/** Options of {@link pushArtifact}, {@link pullArtifact} and {@link copyArtifact}. */
export interface TransferOptions extends RemoteOptions {
  /** A client to reuse (its tokens); otherwise one is made from these options. */
  readonly client?: RemoteClient;
  /** The local store. @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /** Blobs in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Blobs at least this large are uploaded in resumable chunks. @default 64 MiB */
  readonly chunkThreshold?: number;
  /** Chunk size of chunked uploads. @default 32 MiB */
  readonly chunkSize?: number;
  /**
   * Retries one blob (or manifest) may take in all: its requests, upload sessions, download
   * resumes and new attempts from the start together. A blob that spends them is reported failed
   * once the other blobs have finished.
   * @default 8 × maxRetries (32)
   */
  readonly blobRetries?: number;
  readonly onProgress?: (p: TransferProgress) => void;
  readonly signal?: AbortSignal;
}

const MAX_DEPTH = 8;
const MAX_NODES = 100_000;
/**
 * Blobs up to this size are read into memory for upload (one write, no stream); larger ones are
 * sent from their file (through reused buffers, see remote/file-upload).
 */
const SMALL_BLOB = 256 * 1024;
/**
 * A pull publishes its verified blobs when this many wait, or this many bytes, or this long
 * after the first of a group verified: a killed pull loses at most about that much verified work.
 */
const PUBLISH_BLOBS = 256;
const PUBLISH_BYTES = 64 * 1024 * 1024;
const PUBLISH_MS = 1000;

class Tracker {
  readonly phase: TransferProgress['phase'];
  readonly #emit: ((p: TransferProgress) => void) | undefined;
  readonly #base: { phase: TransferProgress['phase']; reference: string };
  blobsTotal = 0;
  bytesTotal = 0;
  blobsDone = 0;
  blobsSkipped = 0;
  blobsMounted = 0;
  bytesDone = 0;
  bytesTransferred = 0;
  #last = 0;

  constructor(
    phase: TransferProgress['phase'],
    reference: string,
    emit: ((p: TransferProgress) => void) | undefined
  ) {
    this.phase = phase;
    this.#base = { phase, reference };
    this.#emit = emit;
  }

  bytes(n: number): void {
    this.bytesDone += n;
    this.bytesTransferred += n;
    this.tick(false);
  }

  blob(how: 'transferred' | 'skipped' | 'mounted', size: number): void {
    this.blobsDone++;
    if (how === 'skipped') this.blobsSkipped++;
    if (how === 'mounted') this.blobsMounted++;
    if (how !== 'transferred') this.bytesDone += size;
    this.tick(false);
  }

  tick(final: boolean): void {
    if (this.#emit === undefined) return;
    const now = performance.now();
    if (!final && now - this.#last < 100) return;
    this.#last = now;
    this.#emit({
      ...this.#base,
      blobsTotal: this.blobsTotal,
      blobsDone: this.blobsDone,
      blobsSkipped: this.blobsSkipped,
      bytesTotal: this.bytesTotal,
      bytesDone: this.bytesDone,
      done: final,
    });
  }
}

/** The blobs and manifests under a root, manifests in push order (children first). */
interface Graph {
  readonly blobs: Descriptor[];
  /** Every manifest with its bytes, children before parents; the root last. */
  readonly manifests: { descriptor: Descriptor; bytes: Uint8Array }[];
}

async function walk(
  root: Descriptor,
  read: (d: Descriptor) => Promise<Uint8Array>,
  what: string
): Promise<Graph> {
  const blobs = new Map<Digest, Descriptor>();
  const manifests: { descriptor: Descriptor; bytes: Uint8Array }[] = [];
  const seen = new Set<Digest>();
  let nodes = 0;
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
      throw new RunledgerError(
        'MANIFEST_INVALID',
        `The artifact ${what} nests deeper than ${MAX_DEPTH} levels or has more than ${MAX_NODES} nodes.`,
        { data: { reference: what } }
      );
    }
    const bytes = await read(d);
    const node = parseManifestOrIndex(bytes, d.mediaType);
    if (node.kind === 'index') {
      for (const child of node.index.manifests) {
        if (isManifestType(child.mediaType)) await visit(child, depth + 1);
        else if (!blobs.has(child.digest)) blobs.set(child.digest, child);
      }
    } else {
      const m = node.manifest;
      for (const b of [m.config, ...m.layers]) {
        if (!blobs.has(b.digest) && !seen.has(b.digest)) blobs.set(b.digest, b);
      }
    }
    manifests.push({ descriptor: d, bytes });
  };
  await visit(root, 0);
  return { blobs: [...blobs.values()], manifests };
}

/** A blob's bytes by range, ready for {@link Repository.pushBlob}. */
type RangeSource = (offset: number, length: number) => BodySource | Uint8Array;

/**
 * The bytes of a local blob: a small one read into memory once, a large one as file ranges
 * (sent from the file through reused buffers, re-read on every attempt).
 */
async function localBlobSource(registry: LocalRegistry, d: Descriptor): Promise<RangeSource> {
  const { path } = await registry.statBlob(d.digest);
  const short = (): RunledgerError =>
    new RunledgerError(
      'SIZE_MISMATCH',
      `The blob ${d.digest} at ${path} is shorter than ${d.size} bytes.`,
      {
        data: { digest: d.digest, path },
      }
    );
  if (d.size <= SMALL_BLOB) {
    const whole = await readFile(path);
    if (whole.byteLength !== d.size) throw short();
    return (offset, length) => whole.subarray(offset, offset + length);
  }
  return (offset, length) => ({
    size: length,
    file: { path, offset },
    async *open() {
      const fh = await open(path, 'r');
      try {
        let at = 0;
        while (at < length) {
          const want = Math.min(1024 * 1024, length - at);
          // A fresh buffer per read, handed over as is: fetch may still hold the previous
          // chunk while we read the next. (Copying out of one reused buffer with
          // Uint8Array.prototype.slice took FastBuffer's zero-filling species path and doubled
          // the CPU of a large push: 4.5 s for 512 MiB, measured.)
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await fh.read(buf, 0, want, offset + at);
          if (bytesRead === 0) throw short();
          at += bytesRead;
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    },
  });
}

/** Uploads one blob whose bytes `source` prepares (once, before the first attempt). */
async function uploadBlob(
  repo: Repository,
  d: Descriptor,
  source: () => Promise<RangeSource>,
  options: TransferOptions,
  tracker: Tracker,
  request: { signal: AbortSignal; budget: RetryBudget },
  mountFrom?: string
): Promise<'uploaded' | 'mounted'> {
  return repo.pushBlob(d, await source(), {
    ...(options.chunkThreshold === undefined ? {} : { chunkThreshold: options.chunkThreshold }),
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    ...(mountFrom === undefined ? {} : { mountFrom }),
    onBytes: (n) => tracker.bytes(n),
    ...request,
  });
}

/**
 * Pushes a manifest graph to `repo` under `tag`: blobs (skipping those present), then child
 * manifests by digest, then the root under its tag. A blob that fails (its budget spent) does not
 * stop the others: once they are done, the failures are thrown and no manifest is sent. With a
 * `subject` and no `OCI-Subject` in the answer, the referrers tag index is updated (a failure
 * there is a warning).
 */
async function pushGraph(
  repo: Repository,
  graph: Graph,
  tag: string | undefined,
  blobSource: (d: Descriptor) => () => Promise<RangeSource>,
  options: TransferOptions,
  tracker: Tracker,
  mountFrom?: string
): Promise<{ transferred: number; upToDate: boolean }> {
  const root = graph.manifests[graph.manifests.length - 1] as {
    descriptor: Descriptor;
    bytes: Uint8Array;
  };
  tracker.blobsTotal = graph.blobs.length;
  tracker.bytesTotal = graph.blobs.reduce((n, d) => n + d.size, 0);
  const signal = options.signal;
  // Cheapest case first: the target already has this manifest (then it has all its blobs).
  const existing = await withBudget(options, signal, (budget) =>
    resolveOrUndefined(repo, tag ?? root.descriptor.digest, { budget, ...signalOpt(signal) })
  );
  if (existing?.digest === root.descriptor.digest) {
    for (const d of graph.blobs) tracker.blob('skipped', d.size);
    return { transferred: 0, upToDate: true };
  }
  const rootThere =
    tag !== undefined &&
    (
      await withBudget(options, signal, (budget) =>
        resolveOrUndefined(repo, root.descriptor.digest, { budget, ...signalOpt(signal) })
      )
    )?.digest === root.descriptor.digest;
  let transferred = 0;
  const putManifest = (reference: string, m: { descriptor: Descriptor; bytes: Uint8Array }) =>
    withBudget(options, signal, (budget) =>
      repo.putManifest(reference, m.bytes, m.descriptor.mediaType, {
        budget,
        ...signalOpt(signal),
      })
    );
  if (!rootThere) {
    const scopes = [`repository:${repo.name}:pull,push`];
    const failures = await mapLimit(
      graph.blobs,
      options.concurrency ?? 8,
      (d, sig) =>
        withBudget(options, sig, async (budget) => {
          if (await repo.hasBlob(d, { signal: sig, budget, scopes })) {
            tracker.blob('skipped', d.size);
            return;
          }
          const request = { signal: sig, budget };
          const how = await uploadBlob(
            repo,
            d,
            blobSource(d),
            options,
            tracker,
            request,
            mountFrom
          );
          if (how === 'mounted') tracker.blob('mounted', d.size);
          else {
            transferred++;
            tracker.blob('transferred', d.size);
          }
        }),
      signal
    );
    if (failures.length > 0) {
      const doing = tracker.phase === 'copy' ? 'copied to' : 'pushed to';
      throw blobsFailed(failures, graph.blobs.length, `${doing} ${repo.label}`, '');
    }
    for (const m of graph.manifests.slice(0, -1)) await putManifest(m.descriptor.digest, m);
  } else {
    for (const d of graph.blobs) tracker.blob('skipped', d.size);
  }
  const { subjectHeader } = await putManifest(tag ?? root.descriptor.digest, root);
  await recordReferrer(repo, root, subjectHeader, options);
  return { transferred, upToDate: false };
}

async function recordReferrer(
  repo: Repository,
  root: { descriptor: Descriptor; bytes: Uint8Array },
  subjectHeader: string | undefined,
  options: TransferOptions
): Promise<void> {
  let parsed: Manifest | ImageIndex;
  try {
    // Already validated by the walk that found it: this reads the same bytes the same way.
    const node = parseManifestOrIndex(root.bytes, root.descriptor.mediaType);
    parsed = node.kind === 'index' ? node.index : node.manifest;
  } catch {
    return;
  }
  const subject = parsed.subject;
  if (subject === undefined || subjectHeader !== undefined) return;
  const entry: {
    mediaType: string;
    digest: Digest;
    size: number;
    artifactType?: string;
    annotations?: Record<string, string>;
  } = {
    mediaType: root.descriptor.mediaType,
    digest: root.descriptor.digest,
    size: root.descriptor.size,
  };
  const artifactType = referrerArtifactType(parsed);
  if (artifactType !== undefined) entry.artifactType = artifactType;
  if (parsed.annotations !== undefined && Object.keys(parsed.annotations).length > 0) {
    entry.annotations = parsed.annotations;
  }
  try {
    await repo.updateReferrersTag(subject.digest, { add: entry }, signalOpt(options.signal));
  } catch (e) {
    if (isRunledgerError(e, 'ABORTED')) throw e;
    options.onWarning?.(
      `Pushed ${root.descriptor.digest}, but could not record it as a referrer of ${subject.digest} in ${repo.label}: ${isRunledgerError(e) ? e.message : String(e)}`
    );
  }
}

async function resolveOrUndefined(
  repo: Repository,
  reference: string,
  request: { budget: RetryBudget; signal?: AbortSignal }
): Promise<Descriptor | undefined> {
  try {
    return await repo.resolve(reference, request);
  } catch (e) {
    if (isRunledgerError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

function signalOpt(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

function clientFor(options: TransferOptions): RemoteClient {
  return options.client ?? new RemoteClient(options);
}

/**
 * Pushes an artifact of the local store to a registry: blobs the registry lacks (HEAD first,
 * 8 at a time, large ones in resumable chunks), then the manifest. The registry never sees the
 * manifest before its blobs.
 *
 * @param source - a local reference (`ghcr.io/acme/qap:v1`)
 * @param target - where to push; defaults to `source` itself
 * @param options - credentials, concurrency, progress, signal
 * @returns what was sent
 * @throws RunledgerError `REF_NOT_FOUND`, `REFERENCE_INVALID`; RemoteError on registry failures
 * (when blobs failed: once the others are done, with the first failure's code, naming how many
 * failed and the first; no manifest was sent)
 * @example
 * ```ts
 * await pushArtifact('127.0.0.1:5000/acme/qap:v1');
 * ```
 */
export async function pushArtifact(
  source: string,
  target: string = source,
  options: TransferOptions = {}
): Promise<TransferReport> {
  const t0 = performance.now();
  const registry = options.registry ?? (await LocalRegistry.open());
  const ref = requireRemoteReference(target);
  const root = await registry.resolve(source);
  const graph = await walk(
    root,
    (d) => registry.readBlob(d.digest, { expectedSize: d.size }),
    source
  );
  const client = clientFor(options);
  const repo = client.repository(ref);
  const shown = formatReference({
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag === undefined ? {} : { tag: ref.tag }),
  });
  const tracker = new Tracker('push', shown, options.onProgress);
  if (ref.digest !== undefined && ref.digest !== root.digest) {
    throw new RunledgerError(
      'DIGEST_MISMATCH',
      `${source} is ${root.digest}, not the digest ${ref.digest} named in ${target}.`,
      { data: { reference: target, digest: root.digest } }
    );
  }
  const { transferred, upToDate } = await pushGraph(
    repo,
    graph,
    ref.tag,
    (d) => () => localBlobSource(registry, d),
    options,
    tracker
  );
  tracker.tick(true);
  return report(shown, root, tracker, transferred, upToDate, t0);
}

function report(
  reference: string,
  root: Descriptor,
  tracker: Tracker,
  transferred: number,
  upToDate: boolean,
  t0: number
): TransferReport {
  return {
    reference,
    digest: root.digest,
    mediaType: root.mediaType,
    blobs: {
      total: tracker.blobsTotal,
      transferred,
      skipped: tracker.blobsSkipped,
      mounted: tracker.blobsMounted,
    },
    bytes: { total: tracker.bytesTotal, transferred: tracker.bytesTransferred },
    upToDate,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Options of {@link pullArtifact}. */
export interface PullOptions extends TransferOptions {
  /** The local name to publish; defaults to the pulled reference. */
  readonly as?: string;
}

/**
 * Pulls an artifact into the local store: the manifest (verified against its digest and the
 * registry's `Docker-Content-Digest`), then every blob the store lacks, streamed into temp files
 * with size and digest checked and published in groups as they verify; the local reference is
 * published last. A blob that fails (its retry budget spent) does not stop the others; a failed
 * pull leaves no reference and no blob that did not verify, and keeps every blob that did
 * (content-addressed: `gc` removes them if nothing comes to use them), so pulling again fetches
 * only the missing ones.
 *
 * @param reference - `registry/repository:tag` or `…@sha256:…`
 * @param options - credentials, concurrency, progress, local name, signal
 * @returns what was fetched
 * @throws RunledgerError `REF_CONFLICT` when the local name points at another manifest; RemoteError
 * (when blobs failed: once the others are done, with the first failure's code, naming how many
 * failed and the first; the verified ones are kept)
 * @example
 * ```ts
 * await pullArtifact('127.0.0.1:5000/acme/qap:v1');
 * ```
 */
export async function pullArtifact(
  reference: string,
  options: PullOptions = {}
): Promise<TransferReport> {
  const t0 = performance.now();
  const registry = options.registry ?? (await LocalRegistry.open());
  const ref = requireRemoteReference(reference);
  const client = clientFor(options);
  const repo = client.repository(ref);
  const signal = options.signal;
  const localName =
    options.as ??
    formatReference(
      ref.digest !== undefined && ref.tag === undefined
        ? { ...withoutDigest(ref), tag: digestTag(ref) }
        : withoutDigest(ref)
    );
  const tracker = new Tracker('pull', localName, options.onProgress);
  const fetchManifest = (reference: string) =>
    withBudget(options, signal, (budget) =>
      repo.fetchManifest(reference, { budget, ...signalOpt(signal) })
    );
  const rootFetched = await fetchManifest(ref.digest ?? (ref.tag as string));
  if (ref.digest !== undefined && rootFetched.descriptor.digest !== ref.digest) {
    throw new RemoteError(
      'DIGEST_MISMATCH',
      `${reference} resolved to ${rootFetched.descriptor.digest}.`,
      {
        method: 'GET',
        url: repo.label,
      }
    );
  }
  const fetched = new Map<Digest, Uint8Array>([[rootFetched.descriptor.digest, rootFetched.bytes]]);
  const graph = await walk(
    rootFetched.descriptor,
    async (d) => {
      const hit = fetched.get(d.digest);
      if (hit !== undefined) return hit;
      return (await fetchManifest(d.digest)).bytes;
    },
    reference
  );
  tracker.blobsTotal = graph.blobs.length;
  tracker.bytesTotal = graph.blobs.reduce((n, d) => n + d.size, 0);
  // Every blob is pinned before it is published or re-used, until the reference holds it: a gc
  // running beside the pull cannot take what the reference is about to need.
  const session = registry.openSession({ recoverable: false });
  const batch = registry.batch({ session });
  // Verified blobs are published in groups as the pull goes, so a killed pull keeps them too:
  // at once when PUBLISH_BLOBS or PUBLISH_BYTES wait, else PUBLISH_MS after the first of a group
  // (its content is flushed first: one syncfs from 16 blobs on). A failed interim publish is
  // left to the final commit, which publishes the same blobs again and reports it.
  let group: Digest[] = [];
  let groupBytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const publish = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    const now = group;
    group = [];
    groupBytes = 0;
    return now.length === 0 ? Promise.resolve() : batch.publishNow(now).catch(() => undefined);
  };
  const verified = async (d: Descriptor): Promise<void> => {
    group.push(d.digest);
    groupBytes += d.size;
    if (group.length >= PUBLISH_BLOBS || groupBytes >= PUBLISH_BYTES) await publish();
    else timer ??= setTimeout(() => void publish(), PUBLISH_MS);
  };
  let transferred = 0;
  try {
    const failures = await mapLimit(
      graph.blobs,
      options.concurrency ?? 8,
      (d, sig) =>
        withBudget(options, sig, async (budget) => {
          session.pin([d.digest]);
          const have = await registry.statBlob(d.digest).catch(() => undefined);
          if (have !== undefined && have.size === d.size) {
            tracker.blob('skipped', d.size);
            return;
          }
          // Bytes of this attempt, taken back when it fails (the next one starts from zero).
          let got = 0;
          const count = (n: number): void => {
            got += n;
            tracker.bytes(n);
          };
          try {
            await batch.putBlobStream(counting(repo.openBlob(d, { signal: sig, budget }), count), {
              expectedDigest: d.digest,
              expectedSize: d.size,
              signal: sig,
            });
          } catch (e) {
            tracker.bytes(-got);
            throw e;
          }
          transferred++;
          tracker.blob('transferred', d.size);
          await verified(d);
        }),
      signal
    );
    clearTimeout(timer);
    if (failures.length > 0) {
      const rest = graph.blobs.length - failures.length;
      throw blobsFailed(
        failures,
        graph.blobs.length,
        `pulled from ${repo.label}`,
        ` (the other ${rest} are verified in ${registry.root}, so pulling again fetches only the missing ones)`
      );
    }
    for (const m of graph.manifests) {
      await batch.putBlob(m.bytes, {
        expectedDigest: m.descriptor.digest,
        expectedSize: m.descriptor.size,
      });
    }
    await batch.commit(signalOpt(signal));
  } catch (e) {
    // Keep what verified: content-addressed, so the next pull skips it.
    clearTimeout(timer);
    await batch.commit().catch(() => batch.discard().catch(() => undefined));
    session.close();
    throw e;
  }
  const root = graph.manifests[graph.manifests.length - 1]?.descriptor as Descriptor;
  try {
    await registry.publishRef(localName, root, signalOpt(signal));
  } finally {
    session.close();
  }
  tracker.tick(true);
  return report(localName, root, tracker, transferred, false, t0);
}

function withoutDigest(ref: Reference): Reference {
  return {
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag === undefined ? {} : { tag: ref.tag }),
  };
}

/** A local tag for an artifact pulled by digest alone: `sha256-<first 32 hex>`. */
function digestTag(ref: Reference): string {
  return (ref.digest as string).replace(':', '-').slice(0, 7 + 32);
}

async function* counting(
  source: AsyncIterable<Uint8Array>,
  count: (n: number) => void
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    count(chunk.byteLength);
    yield chunk;
  }
}

/**
 * Copies an artifact between two remote repositories, blob by blob without touching the local
 * store: mounted when both are on one registry, else streamed from the source into the target.
 *
 * @param source - `registry/repository:tag` (or digest)
 * @param target - `registry/repository:tag`
 * @param options - credentials, concurrency, progress, signal
 * @returns what was sent
 */
export async function copyArtifact(
  source: string,
  target: string,
  options: TransferOptions = {}
): Promise<TransferReport> {
  const t0 = performance.now();
  const src = requireRemoteReference(source);
  const dst = requireRemoteReference(target);
  const client = clientFor(options);
  const from = client.repository(src);
  const to = client.repository(dst);
  const signal = options.signal;
  const fetchManifest = (reference: string) =>
    withBudget(options, signal, (budget) =>
      from.fetchManifest(reference, { budget, ...signalOpt(signal) })
    );
  const rootFetched = await fetchManifest(src.digest ?? (src.tag as string));
  const fetched = new Map<Digest, Uint8Array>([[rootFetched.descriptor.digest, rootFetched.bytes]]);
  const graph = await walk(
    rootFetched.descriptor,
    async (d) => fetched.get(d.digest) ?? (await fetchManifest(d.digest)).bytes,
    source
  );
  const shown = formatReference(withoutDigest(dst));
  const tracker = new Tracker('copy', shown, options.onProgress);
  const sameRegistry = src.registry === dst.registry;
  const { transferred, upToDate } = await pushGraph(
    to,
    graph,
    dst.tag ?? (src.tag === undefined ? undefined : src.tag),
    (d) => () =>
      Promise.resolve((offset: number, length: number): BodySource => {
        if (offset !== 0 || length !== d.size) {
          throw new RunledgerError(
            'ARGUMENT_INVALID',
            'Range reads of a remote source are not supported.'
          );
        }
        return { size: d.size, open: () => from.openBlob(d, signalOpt(signal)) };
      }),
    // Streams from the source cannot be re-read at an offset: send them whole.
    { ...options, chunkThreshold: Number.POSITIVE_INFINITY },
    tracker,
    sameRegistry ? src.repository : undefined
  );
  tracker.tick(true);
  return report(shown, rootFetched.descriptor, tracker, transferred, upToDate, t0);
}

/** Options of `Experiment.load` / `Artifact.load`: the local store, and how to pull when it lacks the reference. */
export interface LoadOptions extends TransferOptions {
  /** Pull from the registry the reference names when the local store lacks it. @default true */
  readonly pull?: boolean;
}

/**
 * Makes sure `reference` is in the local store: nothing when it resolves there (no network at
 * all), else a pull from the registry it names. Local-only names (`*.runledger.local`) are
 * never pulled.
 * @internal Used by `Experiment.load` and `Artifact.load`.
 */
export async function pullIfMissing(
  registry: LocalRegistry,
  reference: string,
  options: LoadOptions
): Promise<void> {
  try {
    await registry.resolve(reference);
    return;
  } catch (e) {
    if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
    if (options.pull === false || isLocalOnlyRegistry(parseReference(reference).registry)) throw e;
  }
  await pullArtifact(reference, { ...options, registry });
}
