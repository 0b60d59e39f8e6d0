/**
 * @module experiment/search
 * `searchRuns`: one runs table over many experiments of the local store — a project, a prefix,
 * references, or everything — with the experiment each run belongs to, filtered and ordered with
 * the query language of `runledger runs --where/--sort`; and the runs-table cache it reads.
 */
import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { isRunledgerError, RunledgerError } from '../errors.js';
import { namesRepository, normalizeReference, parseReference } from '../oci/reference.js';
import { LocalRegistry } from '../store/local-registry.js';
import { readDerived, writeDerived } from '../store/derived.js';
import type { RefEntry } from '../store/types.js';
import type { Annotations, Descriptor } from '../oci/types.js';
import {
  chunkedColumns,
  concatColumns,
  gatherColumns,
  columnChunk,
  type CellType,
  type ChunkedColumns,
  type ColumnChunk,
} from '../tables/arrow.js';
import { queryColumns } from '../tables/query.js';
import { MEDIA_TYPE_EXPERIMENT } from './config.js';
import { mapConcurrently } from './concurrency.js';
import { Experiment } from './experiment.js';
import { listExperimentCheckpoints, loadCheckpoint, type CheckpointStatus } from './checkpoint.js';
import { listExperiments, readListed, type ExperimentRef } from './list.js';

/** Options of {@link searchRuns}. */
export interface SearchRunsOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /**
   * Which experiments: a project (`ghcr.io/acme/qap`, a reference without a tag: all its
   * experiments, `:latest` not counted twice), a reference with a tag or digest (that one), or a
   * prefix ending in `/` (`ghcr.io/acme/`); several as an array. Every experiment when absent.
   */
  readonly experiments?: string | readonly string[];
  /** A filter in the query language (`status = 'finished' and metrics.gap < 0.1`). */
  readonly where?: string;
  /** A sort spec (`metrics.gap asc, run_id desc`). */
  readonly orderBy?: string;
  /** The columns to keep, in this order (after the filter and the sort). */
  readonly columns?: readonly string[];
  /** At most this many rows (after the filter and the sort). */
  readonly limit?: number;
}

/** What naming an experiment takes: its reference and the manifest it points at. */
export type Named = Pick<ExperimentRef, 'imageName' | 'manifestDigest'>;

/** A reference of the store that may name an experiment, before anything of it is read. */
interface Candidate extends Named {
  readonly ref: RefEntry;
}

/**
 * An experiment of a study (the viewer's): a committed one, or the checkpoint of one still
 * recording (or failed, or interrupted), named by the experiment's own name.
 */
export interface StudyEntry extends Named {
  /** The checkpoint's manifest, when this is one (its `imageName` is the experiment's name). */
  readonly checkpoint?: Descriptor;
}

/** A checkpoint as a study entry, with what the viewer shows of it. */
export interface CheckpointEntry extends StudyEntry {
  readonly checkpoint: Descriptor;
  readonly status: CheckpointStatus;
  /** Why a failed or interrupted scope ended. */
  readonly reason: string | undefined;
  readonly runCount: number;
  /** When it was written (RFC 3339). */
  readonly updatedAt: string | undefined;
  readonly annotations: Annotations;
}

/** Cache files read (or experiments built) at once: enough to keep the disk busy. */
const READERS = 16;

/**
 * One runs table over many experiments: `experiment` (its reference), `experiment_digest`, then
 * each experiment's runs-table columns (`run_id`, `project`, `name`, `status`, `params.*`,
 * `metrics.*`, …). A column whose type differs between experiments is promoted (int64 → float64)
 * or, when not promotable, kept as text without losing a value (see `concatColumns`). The `where`
 * and `orderBy` run over the column buffers of all experiments, and only the rows kept are
 * copied into the table returned (one record batch).
 * @param options - experiments, where, orderBy, columns, limit, registry
 * @returns an Arrow table, one row per run
 * @throws RunledgerError `USAGE` (a filter, sort or column the table does not have),
 *   `ARGUMENT_INVALID`, `REF_NOT_FOUND`
 * @example
 * ```ts
 * const best = await searchRuns({
 *   experiments: 'ghcr.io/acme/qap',
 *   where: "status = 'finished'",
 *   orderBy: 'metrics.gap',
 *   limit: 5,
 * });
 * ```
 */
export async function searchRuns(options: SearchRunsOptions = {}): Promise<Table> {
  const limit = options.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RunledgerError('ARGUMENT_INVALID', `limit must be a whole number ≥ 0, not ${limit}.`);
  }
  const registry = options.registry ?? (await LocalRegistry.open());
  const chosen = await chooseCandidates(registry, options.experiments);
  const offsets = new Map<string, Int32Array>(); // shared by the text columns of one length
  const parts = await mapConcurrently(chosen, READERS, (c) =>
    experimentColumns(registry, c, offsets)
  );
  const all = concatColumns(parts.filter((p): p is ChunkedColumns => p !== undefined));
  const { where, orderBy } = options;
  let rows: number[] | undefined =
    where === undefined && orderBy === undefined
      ? undefined
      : queryColumns(all, {
          ...(where === undefined ? {} : { where }),
          ...(orderBy === undefined ? {} : { orderBy }),
        });
  const missing = (options.columns ?? []).filter((c) => !all.names.includes(c));
  if (missing.length > 0) {
    throw new RunledgerError(
      'USAGE',
      `No column ${missing.map((c) => JSON.stringify(c)).join(', ')} in the runs of these experiments; they have ${all.names.join(', ')}.`,
      { data: { missing } }
    );
  }
  if (limit !== undefined) {
    const total = all.lengths.reduce((a, b) => a + b, 0);
    rows = (rows ?? Array.from({ length: Math.min(limit, total) }, (_, i) => i)).slice(0, limit);
  }
  return gatherColumns(all, rows, options.columns ?? all.names);
}

/**
 * One experiment's runs as columns, `experiment` and `experiment_digest` in front: from the cache
 * when it has them; undefined when the reference turns out not to name an experiment.
 */
async function experimentColumns(
  registry: LocalRegistry,
  c: Candidate | StudyEntry,
  offsets: Map<string, Int32Array>
): Promise<ChunkedColumns | undefined> {
  const cached = await readDerived(registry.root, 'runs', c.manifestDigest, cacheKey(c));
  let decoded = cached === undefined ? undefined : decodeRunsCache(cached);
  if (decoded === undefined) {
    // Not cached: an experiment listings leave out (damaged, or not one) is left out here too.
    if ('ref' in c && (await readListed(registry, c.ref)) === undefined) return undefined;
    try {
      decoded = chunkedColumns(await buildRunsTable(registry, c));
    } catch (e) {
      // A checkpoint replaced and collected meanwhile, or damaged: left out, as a damaged
      // experiment is from listings.
      if ('checkpoint' in c && c.checkpoint !== undefined && isRunledgerError(e)) return undefined;
      throw e;
    }
  }
  const runs = decoded;
  const text = (value: string): ColumnChunk[] =>
    runs.lengths.map((n) => repeatedText(value, n, offsets));
  return {
    names: ['experiment', 'experiment_digest', ...runs.names],
    types: ['utf8', 'utf8', ...runs.types],
    lengths: runs.lengths,
    chunks: [text(c.imageName), text(c.manifestDigest), ...runs.chunks],
  };
}

/**
 * A utf8 chunk of one value in every row (the experiment each row comes from); its offsets are
 * those of any other text of as many bytes and rows, taken from `offsets` when there.
 */
function repeatedText(
  value: string,
  length: number,
  offsets: Map<string, Int32Array>
): ColumnChunk {
  const bytes = new TextEncoder().encode(value);
  const values = new Uint8Array(bytes.length * length);
  if (length > 0) values.set(bytes);
  for (let done = bytes.length; done < values.length; done *= 2) values.copyWithin(done, 0, done);
  const key = `${bytes.length}:${length}`;
  const valueOffsets =
    offsets.get(key) ?? Int32Array.from({ length: length + 1 }, (_, i) => i * bytes.length);
  offsets.set(key, valueOffsets);
  const fields = { type: 'utf8', length, validity: undefined, validityAt: 0 } as const;
  return columnChunk({ ...fields, values, at: 0, valueOffsets });
}

/** The cache key beside the manifest digest: the reference, which gives the `project` column. */
function cacheKey(e: Named): string {
  return createHash('sha256').update(e.imageName).digest('hex').slice(0, 16);
}

/** Builds an experiment's runs table from the store, and caches it. */
async function buildRunsTable(registry: LocalRegistry, e: Named | StudyEntry): Promise<Table> {
  const checkpoint = 'checkpoint' in e ? e.checkpoint : undefined;
  const sealed =
    checkpoint === undefined
      ? await Experiment.load(e.imageName, { registry, pull: false })
      : await loadCheckpoint(registry, e.imageName, checkpoint);
  const table = await sealed.runsDf();
  await writeDerived(registry.root, 'runs', e.manifestDigest, cacheKey(e), encodeRunsCache(table));
  return table;
}

/**
 * The runs table of one experiment, from the derived-table cache when it has it (keyed by the
 * manifest digest, and the reference, which gives the `project` column): built once, never
 * stale, rebuilt when damaged.
 * @param registry - the local store
 * @param e - the experiment: its reference and manifest digest
 * @returns its runs table (`runsDf()`)
 * @throws RunledgerError `REF_NOT_FOUND`, `PAYLOAD_INVALID` when it cannot be built
 * @example
 * ```ts
 * const runs = await cachedRunsTable(registry, (await listExperiments({ registry }))[0]!);
 * ```
 */
export async function cachedRunsTable(registry: LocalRegistry, e: Named): Promise<Table> {
  const cached = await readDerived(registry.root, 'runs', e.manifestDigest, cacheKey(e));
  const columns = cached === undefined ? undefined : decodeRunsCache(cached);
  return columns === undefined ? buildRunsTable(registry, e) : gatherColumns(columns);
}

// ---- the cache file ---------------------------------------------------------------------------
//
// A runs table is cached as its column buffers, as they are, so reading one back is a JSON
// header and four typed-array views of the whole file, which every column's chunk shares: opening
// an Arrow IPC file costs apache-arrow ~0.2 ms, which over 1,000 experiments is most of a search.
// Layout: `RLC1`, the header's length (u32 LE), the header `[rows, [[name, type, has nulls], …]]`
// (JSON), then per column its validity bitmap (when it has nulls) and its values (utf8: the
// n + 1 Int32 offsets, counted from the start of the file, then the bytes), each starting on a
// multiple of 8 bytes. Anything else there (an older Arrow file) is read as absent and rebuilt.

const CACHE_MAGIC = 0x31434c52; // 'RLC1' read as a little-endian u32
const CELL_TYPES: readonly string[] = ['int64', 'float64', 'bool', 'utf8'];
const pad8 = (n: number): number => (n + 7) & ~7;

function encodeRunsCache(table: Table): Uint8Array {
  // Gathered into one batch: every chunk starts at row 0, its bitmaps at bit 0.
  const columns = chunkedColumns(gatherColumns(chunkedColumns(table)));
  const rows = columns.lengths[0] ?? 0;
  const chunks = columns.chunks.map((c) => c[0]!);
  const header = new TextEncoder().encode(
    JSON.stringify([
      rows,
      columns.names.map((name, j) => [name, columns.types[j], chunks[j]!.validity !== undefined]),
    ])
  );
  const bytes = (a: ArrayBufferView): Uint8Array =>
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const buffers: Uint8Array[] = [];
  let at = pad8(8 + header.length);
  const place = (b: Uint8Array): void => {
    buffers.push(b);
    at += pad8(b.length);
  };
  for (const c of chunks) {
    if (c.validity !== undefined) place(c.validity);
    if (c.type !== 'utf8') {
      place(bytes(c.values));
      continue;
    }
    // Offsets count from the start of the file: a reader then needs no view of its own.
    const data = at + pad8(4 * (rows + 1));
    const offsets = c.valueOffsets.subarray(c.at, c.at + rows + 1);
    place(bytes(Int32Array.from(offsets, (o) => o - offsets[0]! + data)));
    place(c.values.subarray(offsets[0], offsets[rows]));
  }
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  view.setUint32(0, CACHE_MAGIC, true);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  at = pad8(8 + header.length);
  for (const b of buffers) {
    out.set(b, at);
    at += pad8(b.length);
  }
  return out;
}

function decodeRunsCache(file: Uint8Array): ChunkedColumns | undefined {
  // Typed-array views need their element alignment; a payload read from disk starts at 0.
  const u8 = file.byteOffset % 8 === 0 ? file : file.slice();
  const { buffer, byteOffset, length } = u8;
  const view = new DataView(buffer, byteOffset, length);
  if (length < 8 || view.getUint32(0, true) !== CACHE_MAGIC) return undefined;
  const size = view.getUint32(4, true);
  const i32 = new Int32Array(buffer, byteOffset, length >> 2);
  const i64 = new BigInt64Array(buffer, byteOffset, length >> 3);
  const f64 = new Float64Array(buffer, byteOffset, length >> 3);
  let at = pad8(8 + size);
  /** Where the next buffer of `n` bytes starts. */
  const next = (n: number): number => {
    const start = at;
    at = pad8(at + n);
    if (at > length || n < 0) throw new RangeError('the cache file ends early');
    return start;
  };
  try {
    const [rows, columns] = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + size))) as [
      number,
      [string, CellType, boolean][],
    ];
    if (!Number.isSafeInteger(rows) || rows < 0) return undefined;
    const bits = (rows + 7) >> 3;
    const chunks = columns.map(([, type, nulls]): ColumnChunk => {
      if (!CELL_TYPES.includes(type)) throw new TypeError(`no column type ${type}`);
      const validity = nulls ? u8 : undefined;
      const validityAt = nulls ? 8 * next(bits) : 0;
      const length = rows;
      if (type === 'utf8') {
        const at = next(4 * (rows + 1)) / 4;
        const data = next(i32[at + rows]! - i32[at]!);
        if (i32[at] !== data) throw new RangeError('the text is not where its offsets say');
        return columnChunk({
          type,
          length,
          validity,
          validityAt,
          values: u8,
          at,
          valueOffsets: i32,
        });
      }
      const values = type === 'int64' ? i64 : type === 'float64' ? f64 : u8;
      const at = type === 'bool' ? 8 * next(bits) : next(8 * rows) / 8;
      const valueOffsets = undefined;
      return columnChunk({
        type,
        length,
        validity,
        validityAt,
        values,
        at,
        valueOffsets,
      } as ColumnChunk);
    });
    if (at !== length) return undefined;
    return {
      names: columns.map(([name]) => name),
      types: columns.map(([, type]) => type),
      lengths: [rows],
      chunks: chunks.map((c) => [c]),
    };
  } catch {
    return undefined;
  }
}

// ---- choosing experiments ---------------------------------------------------------------------

/**
 * The experiments `selection` names, each once, in the store's reference order, with what
 * listings show of them (`listExperiments`).
 * @param registry - the local store
 * @param selection - a project, a reference, a prefix ending in `/`, or several; all when absent
 * @returns the experiments
 * @throws RunledgerError `REF_NOT_FOUND` for a reference the store has no experiment under
 * @example
 * ```ts
 * (await chooseExperiments(registry, 'ghcr.io/acme/qap')).map((e) => e.imageName);
 * ```
 */
export async function chooseExperiments(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined
): Promise<ExperimentRef[]> {
  const all = await listExperiments({ registry });
  return choose(all, selection, (name) => all.some((e) => e.imageName === name), registry.root);
}

/**
 * What `selection` names, as {@link chooseExperiments} picks, from `index.json` alone: a
 * reference whose descriptor does not say what it is stays a candidate until its manifest is read.
 */
async function chooseCandidates(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined
): Promise<Candidate[]> {
  const all: Candidate[] = [];
  for (const ref of await registry.listRefs()) {
    const type = ref.descriptor.artifactType;
    if (type !== undefined && type !== MEDIA_TYPE_EXPERIMENT) continue;
    all.push({ imageName: ref.reference, manifestDigest: ref.descriptor.digest, ref });
  }
  const isExperiment = async (name: string): Promise<boolean> => {
    const c = all.find((e) => e.imageName === name);
    return c !== undefined && (await readListed(registry, c.ref)) !== undefined;
  };
  return choose(all, selection, isExperiment, registry.root);
}

/**
 * What `selection` names, as {@link chooseExperiments} picks, read from `index.json` alone (a
 * reference whose descriptor does not say what it is is looked at once): each reference with its
 * manifest digest, in store order. Cheap enough to ask on every request — the viewer's server
 * does, to see whether its study still is what the store names. A prefix or project may also
 * name artifacts that are not experiments but do not say so in `index.json`.
 * @param registry - the local store
 * @param selection - as {@link SearchRunsOptions.experiments}
 * @returns the references and manifest digests
 * @throws RunledgerError `REF_NOT_FOUND` for a reference the store has no experiment under
 */
export async function chooseNamed(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined
): Promise<Named[]> {
  return (await chooseCandidates(registry, selection)).map(({ imageName, manifestDigest }) => ({
    imageName,
    manifestDigest,
  }));
}

/**
 * Whether a selection (as the viewer and `runledger runs` take it: every experiment when
 * undefined; a prefix ending in `/`; a repository; a reference) names an experiment name.
 * @param selection - the selection
 * @param name - a normalized experiment name, e.g. `ghcr.io/acme/qap:v1`
 * @returns whether it is selected
 * @throws RunledgerError `REFERENCE_INVALID` for a selection that does not parse
 */
export function selectsName(
  selection: string | readonly string[] | undefined,
  name: string
): boolean {
  if (selection === undefined) return true;
  return (typeof selection === 'string' ? [selection] : selection).some((s) => {
    if (s.endsWith('/')) return name.startsWith(s);
    if (namesRepository(s)) {
      const { registry: host, repository } = parseReference(s);
      return name.startsWith(`${host}/${repository}:`);
    }
    return name === normalizeReference(s);
  });
}

/**
 * The checkpoints (draft, failed, interrupted) of the experiments `selection` names — by the
 * experiment's own name, as {@link chooseNamed} takes it, except that a reference naming no
 * checkpoint is no error — in name order.
 * @param registry - the local store
 * @param selection - as {@link SearchRunsOptions.experiments}
 * @returns each as a study entry named by its experiment
 */
export async function chooseCheckpoints(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined
): Promise<CheckpointEntry[]> {
  const all = await listExperimentCheckpoints({ registry });
  if (all.length === 0) return [];
  const descriptors = new Map(
    (await registry.listRefs({ includeInternal: true })).map((r) => [r.reference, r.descriptor])
  );
  const picked = all.filter((c) => selectsName(selection, c.requestedImageName));
  return picked.flatMap((c) => {
    const checkpoint = descriptors.get(c.checkpointImageName);
    // Replaced or removed since it was listed: the next look finds what is there then.
    if (checkpoint?.digest !== c.manifestDigest) return [];
    return [
      {
        imageName: c.requestedImageName,
        manifestDigest: c.manifestDigest,
        checkpoint,
        status: c.status,
        reason: c.reason,
        runCount: c.runCount,
        updatedAt: c.updatedAt,
        annotations: c.annotations,
      },
    ];
  });
}

/**
 * One runs table over the given experiments, checkpoints among them, as {@link searchRuns} makes
 * it (no filter, no sort): `experiment` is each entry's `imageName`.
 * @param registry - the local store
 * @param entries - committed experiments (their references) and checkpoints
 * @returns an Arrow table, one row per closed run
 * @throws RunledgerError `EXPERIMENT_INVALID`, `PAYLOAD_INVALID` for a damaged one
 */
export async function studyRunsTable(
  registry: LocalRegistry,
  entries: readonly StudyEntry[]
): Promise<Table> {
  const offsets = new Map<string, Int32Array>();
  const parts = await mapConcurrently(entries, READERS, (e) =>
    experimentColumns(registry, e, offsets)
  );
  const all = concatColumns(parts.filter((p): p is ChunkedColumns => p !== undefined));
  return gatherColumns(all, undefined, all.names);
}

/** The entries `selection` names, each once, in `all`'s order. */
async function choose<T extends Named>(
  all: readonly T[],
  selection: string | readonly string[] | undefined,
  isExperiment: (name: string) => boolean | Promise<boolean>,
  root: string
): Promise<T[]> {
  if (selection === undefined) return withoutLatestAliases(all);
  const out = new Map<string, T>();
  for (const s of typeof selection === 'string' ? [selection] : selection) {
    let picked: T[];
    if (s.endsWith('/')) {
      picked = withoutLatestAliases(all.filter((e) => e.imageName.startsWith(s)));
    } else if (namesRepository(s)) {
      const { registry: host, repository } = parseReference(s);
      const prefix = `${host}/${repository}:`;
      picked = withoutLatestAliases(all.filter((e) => e.imageName.startsWith(prefix)));
    } else {
      const name = normalizeReference(s);
      if (!(await isExperiment(name))) {
        throw new RunledgerError(
          'REF_NOT_FOUND',
          `No experiment ${name} in the store ${root}; "runledger ls" lists them.`,
          { data: { reference: name } }
        );
      }
      picked = all.filter((e) => e.imageName === name);
    }
    for (const e of picked) out.set(e.imageName, e);
  }
  return [...out.values()];
}

/** Drops a `:latest` that only repeats another reference of the same manifest. */
function withoutLatestAliases<T extends Named>(list: readonly T[]): T[] {
  const named = new Map<string, number>();
  for (const e of list) named.set(e.manifestDigest, (named.get(e.manifestDigest) ?? 0) + 1);
  // Only a name ending in ':latest' can carry that tag: parsing every name of a big store costs.
  const latest = (name: string): boolean =>
    name.endsWith(':latest') && parseReference(name).tag === 'latest';
  return list.filter((e) => named.get(e.manifestDigest) === 1 || !latest(e.imageName));
}
