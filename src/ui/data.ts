/**
 * @module ui/data
 * The viewer's data, read from the local store through the public API: the study (experiments
 * and one runs table over them, `searchRuns`'s columns), one run in full, metric series,
 * attachment bytes, and the bundle a report inlines — the shapes of `ui/model`.
 */
import type { Table } from 'apache-arrow';
import { isRunledgerError, RunledgerError } from '../errors.js';
import { mapConcurrently } from '../experiment/concurrency.js';
import { loadCheckpoint } from '../experiment/checkpoint.js';
import { Experiment } from '../experiment/experiment.js';
import { readLiveExperiments, liveJournalStates, type LiveRun } from '../experiment/live-runs.js';
import {
  chooseCheckpoints,
  chooseExperiments,
  chooseNamed,
  selectsName,
  studyRunsTable,
  type Named,
  type StudyEntry,
} from '../experiment/search.js';
import type { ExperimentRef } from '../experiment/list.js';
import type { SealedExperiment, SealedRun } from '../experiment/sealed.js';
import type { SolveView } from '../experiment/solve.js';
import { ANNOTATION_CREATED } from '../oci/media-types.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import {
  formatReference,
  namesRepository,
  normalizeReference,
  parseReference,
} from '../oci/reference.js';
import { Solution } from '../ommx/solution.js';
import { SampleSet } from '../ommx/sample-set.js';
import { LocalRegistry } from '../store/local-registry.js';
import { tableToArrowFile, typedColumnsTable } from '../tables/arrow.js';
import { lastMetricValue, RUN_COLUMNS } from '../tables/runs.js';
import { durationMs } from '../tables/solves.js';
import { cellOf, kindOf, previewOf } from './cells.js';
import {
  appendLiveRows,
  draftId,
  liveAttachment,
  liveExperiment,
  liveMetricSeries,
  liveRunDetail,
  type RunRows,
} from './live.js';
import {
  UI_DATA_VERSION,
  type UiAttachment,
  type UiBundle,
  type UiCell,
  type UiColumn,
  type UiExperiment,
  type UiMetricSeries,
  type UiRunDetail,
  type UiSolve,
  type UiStatus,
  type UiStudy,
} from './model.js';

/** Options of {@link UiData.open}. */
export interface UiDataOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /**
   * Which experiments, as `searchRuns` takes them: a reference, a project, a prefix ending in
   * `/`, or several; every experiment of the store when absent.
   */
  readonly experiments?: string | readonly string[];
  /** The study's title; the selection joined by commas (or `all experiments`) when absent. */
  readonly title?: string;
}

/** Options of {@link UiData.bundle}. */
export interface UiBundleOptions {
  /** Largest attachment inlined, in bytes (decompressed). @default 262144 (256 KiB) */
  readonly maxAttachmentBytes?: number;
  /** Most attachment bytes inlined in all; attachments past it are left out. @default 16 MiB */
  readonly maxTotalAttachmentBytes?: number;
}

/** What {@link UiData.bundle} left out of the bundle's attachments, and why. */
export interface UiBundleOmitted {
  /** Previewable attachments larger than `maxAttachmentBytes`. */
  readonly tooLarge: number;
  /** Previewable attachments that would have taken the total past `maxTotalAttachmentBytes`. */
  readonly overTotal: number;
  /** Attachments the page cannot preview (never inlined). */
  readonly notPreviewable: number;
}

/** An attachment's content as served: bytes (decompressed) and logical media type. */
export interface UiAttachmentContent {
  readonly name: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

/** The most variable values a solve's detail carries. */
export const MAX_SOLVE_VALUES = 1000;

export { previewOf };

/** The first 12 hex digits of a manifest digest: an experiment's key in URLs. */
function idOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1).slice(0, 12);
}

/**
 * An experiment's key in URLs: a committed one's manifest; a checkpoint's the experiment's name,
 * which stays while it records (each autosave is another manifest), so an address naming one of
 * its runs still shows it after the page reloads.
 */
function entryId(e: StudyEntry): string {
  return e.checkpoint === undefined ? idOf(e.manifestDigest) : draftId(e.imageName);
}

/** The runs table's timestamps (RFC 3339 text) that the page shows as times. */
const TIME_COLUMNS = new Set(['started_at', 'ended_at']);

/** One Arrow column as a {@link UiColumn}. */
function columnOf(table: Table, name: string): RunRows['columns'][number] {
  const child = table.getChild(name);
  const field = table.schema.fields.find((f) => f.name === name);
  const arrowType = String(field?.type ?? '');
  const values: UiCell[] = new Array<UiCell>(table.numRows);
  if (TIME_COLUMNS.has(name)) {
    for (let i = 0; i < table.numRows; i++) {
      const v = child?.get(i) as string | null | undefined;
      const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
      values[i] = Number.isNaN(t) ? null : t;
    }
    return { name, kind: kindOf(name), type: 'time', values };
  }
  if (child !== null) {
    // A column's values at once (a typed array for numbers): far faster than `get` per cell.
    const all: ArrayLike<unknown> = arrowType === 'Bool' ? [...child] : child.toArray();
    const nulls = child.nullCount > 0;
    for (let i = 0; i < table.numRows; i++) {
      values[i] = nulls && !child.isValid(i) ? null : cellOf(all[i]);
    }
  } else values.fill(null);
  const type: UiColumn['type'] =
    arrowType.startsWith('Int') || arrowType.startsWith('Float') || arrowType.startsWith('Uint')
      ? 'number'
      : arrowType === 'Bool'
        ? 'boolean'
        : 'string';
  return { name, kind: kindOf(name), type, values };
}

/** The status of a run or experiment as the model spells it. */
function statusOf(s: string): UiStatus {
  return s === 'failed' || s === 'interrupted' || s === 'draft' ? s : 'finished';
}

/**
 * The viewer's data over the experiments of a store: the study is read once when opened (one
 * runs table for all experiments), runs, metrics and attachments on demand from the loaded
 * experiments. An instance reflects the store as it was opened; {@link UiData.stateKey} says
 * whether the store still names the same manifests.
 *
 * @example
 * ```ts
 * const data = await UiData.open({ experiments: 'runledger.local/demo/ml' });
 * const detail = await data.run(data.study.experiments[0].id, 0);
 * ```
 */
export class UiData {
  /** The experiments and their runs table. */
  readonly study: UiStudy;
  readonly #registry: LocalRegistry;
  /** `id → reference and manifest digest` of every experiment of the study. */
  readonly #sources: ReadonlyMap<string, Source>;
  /** `id → experiment`, loaded on first use. */
  readonly #loaded = new Map<string, Promise<SealedExperiment>>();
  /** Which manifests the study was read from (see {@link UiData.stateKey}). */
  readonly key: string;
  /** The runs table the study was made from (`runledger runs`'s columns), undefined when empty. */
  readonly #table: Table | undefined;
  /** `id → run id → run` of the runs still open in live processes, as their journals had it. */
  readonly #live: ReadonlyMap<string, ReadonlyMap<number, LiveRun>>;
  #arrow: Uint8Array | undefined;

  private constructor(
    study: UiStudy,
    registry: LocalRegistry,
    sources: ReadonlyMap<string, Source>,
    key: string,
    table: Table | undefined,
    live: ReadonlyMap<string, ReadonlyMap<number, LiveRun>>
  ) {
    this.study = study;
    this.#registry = registry;
    this.#sources = sources;
    this.key = key;
    this.#table = table;
    this.#live = live;
  }

  /**
   * The study's runs table as an Arrow IPC file: the columns of `runledger runs --all-columns`
   * (with `experiment` and `experiment_digest`), typed as stored — what pandas, polars or DuckDB
   * read without parsing JSON. Encoded once per study. Recorded runs only: a run still open in a
   * live process is in {@link UiData.study} (status `running`), not here.
   * @returns the file's bytes (an Arrow file of no columns when the study has no runs)
   */
  runsArrow(): Uint8Array {
    this.#arrow ??= tableToArrowFile(this.#table ?? typedColumnsTable([]));
    return this.#arrow;
  }

  /**
   * What the store names now for a selection: its experiments' references and manifest digests,
   * and how far each live process's crash journal of one of them has grown, as one string. Equal
   * keys, equal studies (manifests are content-addressed; a journal only grows).
   * @param registry - the local store
   * @param experiments - the selection, as {@link UiDataOptions.experiments}
   * @returns the key
   * @throws RunledgerError `REF_NOT_FOUND` for a reference the store has no experiment under
   */
  static async stateKey(
    registry: LocalRegistry,
    experiments: string | readonly string[] | undefined
  ): Promise<string> {
    const checkpoints = await chooseCheckpoints(registry, experiments);
    const committed = await committedSelection(registry, experiments, checkpoints);
    return stateKeyOf(registry, experiments, checkpoints, committed);
  }

  /**
   * Reads the study: every chosen experiment (each manifest once: references to one manifest are
   * one experiment, the first in store order) and one runs table over them.
   * @param options - registry, experiments, title
   * @returns the data
   * @throws RunledgerError `REF_NOT_FOUND` for a reference the store has no experiment under;
   *   `EXPERIMENT_INVALID`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID` for damaged ones
   * @example
   * ```ts
   * const { study } = await UiData.open({ experiments: ['demo/'] });
   * ```
   */
  static async open(options: UiDataOptions = {}): Promise<UiData> {
    const registry = options.registry ?? (await LocalRegistry.open());
    // An experiment still recording (or whose scope failed or was interrupted): its checkpoint.
    const listed = await chooseCheckpoints(registry, options.experiments);
    const selection = await committedSelection(registry, options.experiments, listed);
    // Taken before the study is read: a commit meanwhile makes the next request read it again.
    const key = await stateKeyOf(registry, options.experiments, listed, selection);
    const committed = await chosen(registry, selection);
    // A checkpoint replaced and collected since it was listed (or damaged) is left out: the next
    // look at the store finds what is there then.
    const read = await mapConcurrently(listed, LOADERS, (c) =>
      registry.readManifest(c.manifestDigest).catch((e: unknown) => {
        if (isRunledgerError(e)) return undefined;
        throw e;
      })
    );
    const checkpoints = listed.filter((_, i) => read[i] !== undefined);
    const refsByDigest = new Map<string, string>();
    for (const r of await registry.listRefs()) {
      if (!refsByDigest.has(r.descriptor.digest))
        refsByDigest.set(r.descriptor.digest, r.reference);
    }
    const entries: StudyEntry[] = [
      ...committed.map((r) => ({ imageName: r.imageName, manifestDigest: r.manifestDigest })),
      ...checkpoints,
    ];
    const facts = [
      ...committed.map((r) => ({
        status: r.status,
        // A committed experiment has no reason; a checkpoint's is in its config.
        reason: r.status === 'finished' ? undefined : r.config['reason'],
        runCount: r.runCount,
        createdAt: r.annotations[ANNOTATION_CREATED] ?? r.updatedAt ?? null,
      })),
      ...checkpoints.map((c) => ({
        status: c.status,
        reason: c.reason,
        runCount: c.runCount,
        createdAt: c.annotations[ANNOTATION_CREATED] ?? c.updatedAt ?? null,
      })),
    ];
    const table = entries.length === 0 ? undefined : await studyRunsTable(registry, entries);
    // A row finds its experiment by manifest digest: a checkpoint bears its experiment's name.
    const index = new Map(entries.map((e, i) => [e.manifestDigest as string, i]));
    const rowCount = table?.numRows ?? 0;
    const column = (name: string): unknown[] => {
      const child = table?.getChild(name);
      return child === null || child === undefined
        ? new Array<unknown>(rowCount)
        : Array.from(child.toArray() as ArrayLike<unknown>);
    };
    const rowExperiment = column('experiment_digest').map((d) => index.get(d as string) ?? -1);
    const rowStatus = column('status').map((v) => statusOf(String(v)));
    const failed = new Array<number>(entries.length).fill(0);
    const interrupted = new Array<number>(entries.length).fill(0);
    for (const [row, e] of rowExperiment.entries()) {
      if (rowStatus[row] === 'failed') failed[e] = (failed[e] ?? 0) + 1;
      if (rowStatus[row] === 'interrupted') interrupted[e] = (interrupted[e] ?? 0) + 1;
    }
    // The study needs each manifest (size, parent), not the experiment: that is read when a run
    // of it is first asked for.
    const manifests = [
      ...(await mapConcurrently(committed, LOADERS, (r) =>
        registry.readManifest(r.manifestDigest)
      )),
      ...read.filter((m) => m !== undefined),
    ];
    const experiments: UiExperiment[] = entries.map((entry, i) => {
      const { manifest, bytes } = manifests[i] as { manifest: Manifest; bytes: Uint8Array };
      const { repository, tag, registry: host } = parseReference(entry.imageName);
      const subject = manifest.subject;
      const f = facts[i]!;
      return {
        id: entryId(entry),
        reference: entry.imageName,
        project: repository,
        tag: tag ?? '',
        digest: entry.manifestDigest,
        status: statusOf(f.status),
        reason: typeof f.reason === 'string' ? f.reason : null,
        runCount: f.runCount,
        failedCount: failed[i] ?? 0,
        interruptedCount: interrupted[i] ?? 0,
        createdAt: f.createdAt,
        size: artifactSize(manifest, bytes.length),
        parent:
          subject === undefined
            ? null
            : (refsByDigest.get(subject.digest) ??
              formatReference({ registry: host, repository, digest: subject.digest })),
      };
    });
    const names = (table?.schema.fields ?? [])
      .map((f) => f.name)
      .filter((n) => n !== 'experiment_digest');
    const rows: RunRows = {
      experiment: rowExperiment,
      runId: column('run_id').map((v) => Number(v)),
      status: rowStatus,
      columns: table === undefined ? runColumns() : names.map((n) => columnOf(table, n)),
    };
    // Runs still open in live processes: in their experiment's checkpoint entry, or in one of
    // their own while no checkpoint holds the experiment yet.
    const live = new Map<string, Map<number, LiveRun>>();
    for (const l of await readLiveExperiments(registry)) {
      if (l.runs.length === 0 || !selectsName(options.experiments, l.reference)) continue;
      let at = entries.findIndex((e) => e.checkpoint !== undefined && e.imageName === l.reference);
      if (at < 0) at = experiments.push(liveExperiment(l)) - 1;
      else {
        const e = experiments[at] as UiExperiment;
        experiments[at] = { ...e, runCount: e.runCount + l.runs.length };
      }
      appendLiveRows(rows, at, l);
      const id = (experiments[at] as UiExperiment).id;
      // Two processes recording under one name (each its own journal): both in the entry.
      const runs = live.get(id) ?? new Map<number, LiveRun>();
      for (const r of l.runs) runs.set(r.runId, r);
      live.set(id, runs);
    }
    const study: UiStudy = {
      version: UI_DATA_VERSION,
      title: options.title ?? titleOf(options.experiments),
      experiments,
      runs: {
        ...rows,
        metricNames: rows.columns
          .filter((c) => c.kind === 'metric')
          .map((c) => c.name.slice('metrics.'.length)),
      },
      readAt: new Date().toISOString(),
    };
    const sources = new Map(
      entries.map((e) => [
        entryId(e),
        { reference: e.imageName, digest: e.manifestDigest, checkpoint: e.checkpoint },
      ])
    );
    return new UiData(study, registry, sources, key, table, live);
  }

  /**
   * A run of the study.
   * @throws RunledgerError `REF_NOT_FOUND` (no experiment of that id), `ARGUMENT_INVALID` (no run)
   */
  async #run(experiment: string, runId: number): Promise<SealedRun> {
    const source = this.#sources.get(experiment);
    const live = this.#live.get(experiment);
    if (source === undefined && live !== undefined) {
      // An experiment only a live process knows yet: its runs are the open ones.
      const open = [...live.keys()].join(', ');
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Experiment ${experiment} of this study has no run ${JSON.stringify(runId)} yet; its runs still open are ${open}.`,
        { data: { experiment, runId } }
      );
    }
    if (source === undefined) {
      throw new RunledgerError(
        'REF_NOT_FOUND',
        `No experiment ${JSON.stringify(experiment)} in this study.`,
        { data: { experiment } }
      );
    }
    let loading = this.#loaded.get(experiment);
    if (loading === undefined) {
      loading =
        source.checkpoint === undefined
          ? Experiment.load(source.reference, { registry: this.#registry, pull: false })
          : loadCheckpoint(this.#registry, source.reference, source.checkpoint);
      this.#loaded.set(experiment, loading);
      // A failed load is tried again next time (the store may have been repaired).
      loading.catch(() => this.#loaded.delete(experiment));
    }
    const exp = await loading;
    if (exp.manifestDigest !== source.digest) {
      // The reference was moved since the study was read: its runs are another experiment's.
      this.#loaded.delete(experiment);
      throw new RunledgerError(
        'REF_NOT_FOUND',
        `${source.reference} no longer names the experiment ${source.digest} of this study; read the study again.`,
        { data: { experiment, reference: source.reference, digest: source.digest } }
      );
    }
    const run = exp.runs.find((r) => r.runId === runId);
    if (run === undefined) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Experiment ${exp.reference} has no run ${JSON.stringify(runId)}.`,
        { data: { experiment, runId } }
      );
    }
    return run;
  }

  /**
   * One run in full: record, parameters, labels, attributes, metric summaries, attachments,
   * solves with their Solutions' values (at most {@link MAX_SOLVE_VALUES} each).
   * @param experiment - `UiExperiment.id`
   * @param runId - the run
   * @returns the detail
   * @throws RunledgerError `REF_NOT_FOUND`, `ARGUMENT_INVALID`; `DIGEST_MISMATCH`,
   *   `PAYLOAD_INVALID` for damaged records
   * @example
   * ```ts
   * (await data.run(id, 3)).solves[0]?.objective;
   * ```
   */
  async run(experiment: string, runId: number): Promise<UiRunDetail> {
    const live = this.#live.get(experiment)?.get(runId);
    if (live !== undefined) return liveRunDetail(experiment, live);
    const run = await this.#run(experiment, runId);
    const info = await run.getInfo();
    const metrics = [];
    for (const name of await run.metricNames()) {
      const m = await run.getMetric(name);
      const last = lastMetricValue(m);
      metrics.push({ name, points: m.values.length, last });
    }
    const attachments: UiAttachment[] = run.attachmentNames.map((name) => {
      const mediaType = run.attachmentMediaType(name);
      return {
        name,
        mediaType,
        size: run.attachmentSize(name),
        digest: run.attachmentDigest(name),
        preview: previewOf(mediaType, name),
      };
    });
    const solves: UiSolve[] = [];
    for (const s of run.solves) solves.push(await solveOf(s));
    for (const s of run.samplings) solves.push(await solveOf(s));
    return {
      experiment,
      runId,
      name: info.name ?? null,
      status: statusOf(run.status),
      reason: run.reason ?? null,
      error:
        info.error === undefined
          ? null
          : { type: info.error.type, message: info.error.message, stack: info.error.stack ?? null },
      description: info.description ?? null,
      startedAt: info.startedAt ?? null,
      endedAt: info.endedAt ?? null,
      host: info.host ?? null,
      runledgerVersion: info.runledgerVersion ?? null,
      parentRunId: info.parentRunId ?? null,
      resumedFrom: info.resumedFrom ?? null,
      parameters: Object.fromEntries(
        Object.entries(run.parameters).map(([k, v]) => [k, cellOf(v)])
      ),
      tags: { ...info.tags },
      labels: [...new Set(info.labels)],
      attributes: { ...info.attributes },
      metrics,
      attachments,
      solves,
    };
  }

  /**
   * Metric series of runs, in step order (logged order among equal steps), as the CLI shows
   * them. Non-finite values stay numbers here; JSON carries them as `null`.
   * @param runs - the runs (`experiment` is `UiExperiment.id`)
   * @param names - only these metrics (every metric of each run when absent)
   * @returns one series per run and metric the run has, in the order asked
   * @throws RunledgerError `REF_NOT_FOUND`, `ARGUMENT_INVALID` for a run not in the study
   * @example
   * ```ts
   * const [loss] = await data.metrics([{ experiment: id, runId: 0 }], ['loss']);
   * ```
   */
  async metrics(
    runs: readonly { readonly experiment: string; readonly runId: number }[],
    names?: readonly string[]
  ): Promise<UiMetricSeries[]> {
    const out: UiMetricSeries[] = [];
    for (const { experiment, runId } of runs) {
      const live = this.#live.get(experiment)?.get(runId);
      if (live !== undefined) {
        out.push(...liveMetricSeries(experiment, live, names));
        continue;
      }
      const run = await this.#run(experiment, runId);
      const have = await run.metricNames();
      for (const name of names === undefined ? have : names.filter((n) => have.includes(n))) {
        const m = await run.getMetric(name);
        const order = Array.from(m.steps, (_, i) => i).sort(
          (a, b) => (m.steps[a] as number) - (m.steps[b] as number) || a - b
        );
        out.push({
          experiment,
          runId,
          name,
          steps: order.map((i) => m.steps[i] as number),
          timestamps: order.map((i) => m.timestamps[i] as number),
          values: order.map((i) => m.values[i] as number),
        });
      }
    }
    return out;
  }

  /**
   * An attachment of a run: its bytes (decompressed, digest-verified) and media type. Only the
   * run's own attachment names are found (a name is a key, never a path).
   * @param experiment - `UiExperiment.id`
   * @param runId - the run
   * @param name - the attachment
   * @returns the content
   * @throws RunledgerError `REF_NOT_FOUND`, `ARGUMENT_INVALID`, `ATTACHMENT_NOT_FOUND`,
   *   `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const { bytes, mediaType } = await data.attachment(id, 0, 'summary.json');
   * ```
   */
  async attachment(experiment: string, runId: number, name: string): Promise<UiAttachmentContent> {
    const live = this.#live.get(experiment)?.get(runId);
    if (live !== undefined) return liveAttachment(this.#registry, experiment, live, name);
    const run = await this.#run(experiment, runId);
    if (!run.attachmentNames.includes(name)) {
      throw new RunledgerError(
        'ATTACHMENT_NOT_FOUND',
        `Run ${runId} of experiment ${experiment} has no attachment ${JSON.stringify(name)}.`,
        { data: { experiment, runId, name } }
      );
    }
    return { name, mediaType: run.attachmentMediaType(name), bytes: await run.getBlob(name) };
  }

  /**
   * Everything a report inlines: the study, every run's detail, every metric series, and the
   * bytes of previewable attachments within the size limits.
   * @param options - attachment limits
   * @returns the bundle and what was left out
   * @throws RunledgerError `DIGEST_MISMATCH`, `PAYLOAD_INVALID` for damaged records
   * @example
   * ```ts
   * const { bundle, omitted } = await data.bundle({ maxAttachmentBytes: 65536 });
   * ```
   */
  async bundle(
    options: UiBundleOptions = {}
  ): Promise<{ bundle: UiBundle; omitted: UiBundleOmitted }> {
    const maxOne = options.maxAttachmentBytes ?? 256 * 1024;
    const maxTotal = options.maxTotalAttachmentBytes ?? 16 * 1024 * 1024;
    const runs: UiRunDetail[] = [];
    const metrics: UiMetricSeries[] = [];
    const attachments: Record<string, string> = {};
    let total = 0;
    const omitted = { tooLarge: 0, overTotal: 0, notPreviewable: 0 };
    const { experiments, runs: table } = this.study;
    for (const [row, e] of table.experiment.entries()) {
      const id = experiments[e]?.id as string;
      const runId = table.runId[row] as number;
      const detail = await this.run(id, runId);
      runs.push(detail);
      metrics.push(...(await this.metrics([{ experiment: id, runId }])));
      for (const a of detail.attachments) {
        if (a.preview === 'none') {
          omitted.notPreviewable++;
          continue;
        }
        const { bytes } = await this.attachment(id, runId, a.name);
        if (bytes.length > maxOne) omitted.tooLarge++;
        else if (total + bytes.length > maxTotal) omitted.overTotal++;
        else {
          total += bytes.length;
          attachments[`${id}/${runId}/${a.name}`] = Buffer.from(bytes).toString('base64');
        }
      }
    }
    return { bundle: { study: this.study, runs, metrics, attachments }, omitted };
  }
}

/** The runs table's own columns, empty: the start of a study whose only runs are live. */
function runColumns(): RunRows['columns'] {
  const type = (name: string): UiColumn['type'] =>
    TIME_COLUMNS.has(name)
      ? 'time'
      : ['run_id', 'parent_run_id', 'resumed_from', 'duration_ms', 'solve_count'].includes(name)
        ? 'number'
        : 'string';
  return ['experiment', ...RUN_COLUMNS].map((name) => ({
    name,
    kind: kindOf(name),
    type: type(name),
    values: [],
  }));
}

/** Where an experiment of the study comes from. */
interface Source {
  readonly reference: string;
  readonly digest: string;
  /** The checkpoint's manifest, for an experiment not committed. */
  readonly checkpoint: Descriptor | undefined;
}

/** Experiments loaded at once: enough to keep the disk busy. */
const LOADERS = 8;

/** Bytes of an artifact: its manifest, config and each distinct layer once (as `runledger size`). */
function artifactSize(manifest: Manifest, manifestSize: number): number {
  const layers = new Map(manifest.layers.map((l) => [l.digest, l.size]));
  let size = manifestSize + manifest.config.size;
  for (const n of layers.values()) size += n;
  return size;
}

/** The experiments a selection names, each manifest once. */
async function chosen(
  registry: LocalRegistry,
  experiments: string | readonly string[] | undefined
): Promise<ExperimentRef[]> {
  return once(await chooseExperiments(registry, experiments));
}

/**
 * The selection less the references that name only a checkpoint (an experiment recording under a
 * name nothing was committed as yet): those are in the study by their checkpoint, and no error.
 */
async function committedSelection(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined,
  checkpoints: readonly StudyEntry[]
): Promise<string | readonly string[] | undefined> {
  if (selection === undefined || checkpoints.length === 0) return selection;
  const drafts = new Set(checkpoints.map((c) => c.imageName));
  const refs = new Set((await registry.listRefs()).map((r) => r.reference));
  return (typeof selection === 'string' ? [selection] : selection).filter((s) => {
    if (s.endsWith('/') || namesRepository(s)) return true;
    const name = normalizeReference(s);
    return !drafts.has(name) || refs.has(name);
  });
}

/**
 * {@link UiData.stateKey} from the checkpoints a caller listed and the selection's committed
 * part, so a study read lists them once.
 */
async function stateKeyOf(
  registry: LocalRegistry,
  experiments: string | readonly string[] | undefined,
  checkpoints: readonly StudyEntry[],
  committed: string | readonly string[] | undefined
): Promise<string> {
  const named = await chooseNamed(registry, committed);
  const live = (await liveJournalStates(registry))
    .filter((j) => selectsName(experiments, j.reference))
    .map((j) => `live ${j.path}@${j.size}`);
  return [keyOf([...once(named), ...checkpoints]), ...live].join('\n');
}

/** Each manifest once: the first reference (in store order) to it. */
function once<T extends Named>(refs: readonly T[]): T[] {
  const seen = new Set<string>();
  return refs.filter((e) => {
    const id = idOf(e.manifestDigest);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function keyOf(refs: readonly Named[]): string {
  return refs.map((r) => `${r.imageName}@${r.manifestDigest}`).join('\n');
}

function titleOf(experiments: string | readonly string[] | undefined): string {
  if (experiments === undefined) return 'all experiments';
  return typeof experiments === 'string' ? experiments : experiments.join(', ');
}

/** A variable's display name: its name and subscripts (`x[0,3]`), null without a name. */
function variableName(v: { readonly name?: string; readonly subscripts: readonly number[] }) {
  if (v.name === undefined) return null;
  return v.subscripts.length === 0 ? v.name : `${v.name}[${v.subscripts.join(',')}]`;
}

/** One solve or sampling as the run detail shows it. */
async function solveOf(s: SolveView): Promise<UiSolve> {
  const input = s.inputDescriptor.annotations ?? {};
  const count = (key: string): number | null => {
    const v = input[`org.ommx.v1.instance.${key}`];
    return v === undefined || !/^\d+$/.test(v) ? null : Number(v);
  };
  let options: unknown;
  try {
    options = s.adapterOptions;
  } catch {
    options = s.adapterOptionsJson;
  }
  const output = await s.getOutput();
  let objective: number | null = null;
  let feasible: boolean | null = null;
  let optimality: string | null = null;
  let values: UiSolve['values'] = [];
  let truncated = false;
  if (output instanceof Solution) {
    objective = Number.isFinite(output.objective) ? output.objective : null;
    feasible = output.feasible;
    optimality = output.optimality;
    truncated = output.decisionVariables.length > MAX_SOLVE_VALUES;
    values = output.decisionVariables
      .slice(0, MAX_SOLVE_VALUES)
      .map((v) => ({ id: v.id, name: variableName(v), value: v.value }));
  } else if (output instanceof SampleSet) {
    // A sampling: the best objective among its feasible samples.
    const sign = output.sense === 'maximize' ? -1 : 1;
    for (const [sample, value] of output.objectives) {
      if (output.feasible.get(sample) !== true) continue;
      if (objective === null || sign * value < sign * objective) objective = value;
    }
    feasible = [...output.feasible.values()].some((f) => f);
  }
  return {
    id: s.id,
    kind: s.kind === 'solve' ? 'solve' : 'sample',
    adapter: s.adapter,
    options,
    status: statusOf(s.status),
    objective,
    feasible,
    optimality,
    startedAt: s.startedAt ?? null,
    endedAt: s.endedAt ?? null,
    durationMs: durationMs(s.startedAt, s.endedAt),
    variables: count('variables'),
    constraints: count('constraints'),
    values,
    truncated,
  };
}
