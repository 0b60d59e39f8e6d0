/**
 * @module experiment/sealed
 * Read-only views: a closed run, and a committed experiment loaded from the local registry with
 * OMMX's loader rules.
 */
import { exportArchive, type ExportArchiveOptions } from '../archive/export.js';
import { RunledgerError, isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { formatReference, normalizeReference, parseReference } from '../oci/reference.js';
import type { Annotations, Descriptor, Manifest } from '../oci/types.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { pushArtifact, type TransferOptions, type TransferReport } from '../remote/transfer.js';
import type { Table } from 'apache-arrow';
import { AttachmentReader, recordsFromTable, type AttachmentRecord } from './attachments.js';
import {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  parseExperimentConfig,
  type ExperimentConfig,
  type ExperimentStatus,
  type RunStatus,
  type SolveConfig,
} from './config.js';
import type { RecordingOptions } from './options.js';
import { decodeRunParameters, type ParameterTable, type ParameterValue } from './parameters.js';
import { ReadableScope } from './scope.js';
import { SolveView, type SolveRecord } from './solve.js';
import { solvesTable } from '../tables/solves.js';
import { runsTable } from '../tables/runs.js';
import {
  decodeRunRecord,
  decodeRunsAttachment,
  RUN_ATTACHMENT,
  runInfoOf,
  RUNS_ATTACHMENT,
  type RunInfo,
  type RunRecordValue,
} from './run-record.js';

const EMPTY_INFO: RunInfo = {
  name: undefined,
  tags: {},
  parentRunId: undefined,
  startedAt: undefined,
  endedAt: undefined,
  error: undefined,
  host: undefined,
  runledgerVersion: undefined,
  description: undefined,
  labels: [],
  attributes: {},
  resumedFrom: undefined,
};
import {
  decodeMetrics,
  METRICS_ATTACHMENT,
  metricSeries,
  type MetricSeries,
  type MetricTable,
} from './metrics.js';
import { runParametersTable } from '../tables/arrow.js';
import type { Experiment } from './experiment.js';
import type { ClosedRunState } from './run.js';
import { decodeTraceSpans, type RunTraceSpan } from './trace-spans.js';

/** A closed run: immutable. */
export class SealedRun extends ReadableScope {
  /** Allocated when the run opened; runs are listed in this order. */
  readonly runId: number;
  readonly status: RunStatus;
  /** `"<ErrorName>: <message>"` for failed and interrupted runs. */
  readonly reason: string | undefined;
  /** The run's parameters by name. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly #reader: AttachmentReader;
  /** @internal */
  readonly records: ReadonlyMap<string, AttachmentRecord>;
  /** Solver calls, in solve id order. */
  readonly solves: readonly SolveView[];
  /** Sampler calls, in sampling id order. */
  readonly samplings: readonly SolveView[];
  /** The run's trace layer (OTLP protobuf), when it was recorded with `storeTrace`. */
  readonly traceDescriptor: Descriptor | undefined;
  readonly #registry: LocalRegistry;

  /** @internal */
  constructor(init: {
    runId: number;
    status: RunStatus;
    reason: string | undefined;
    parameters: Record<string, ParameterValue>;
    records: ReadonlyMap<string, AttachmentRecord>;
    solves: readonly SolveRecord[];
    samplings: readonly SolveRecord[];
    trace?: Descriptor | undefined;
    registry: LocalRegistry;
    /** Its record, when the experiment holds it in `runledger.runs` (read when asked). */
    record?: () => Promise<RunRecordValue | undefined>;
  }) {
    super();
    this.#record = init.record;
    this.runId = init.runId;
    this.traceDescriptor = init.trace;
    this.#registry = init.registry;
    this.solves = init.solves.map((r) => new SolveView('solve', r, init.registry));
    this.samplings = init.samplings.map((r) => new SolveView('sampling', r, init.registry));
    this.status = init.status;
    this.reason = init.reason;
    this.parameters = Object.freeze({ ...init.parameters });
    this.records = init.records;
    this.#reader = new AttachmentReader(`run ${init.runId}`, () => init.records, init.registry);
  }

  /** @internal */
  protected get reader(): AttachmentReader {
    return this.#reader;
  }

  #info: Promise<RunInfo> | undefined;
  readonly #record: (() => Promise<RunRecordValue | undefined>) | undefined;

  /**
   * The run record (beyond OMMX): name, tags, parent, wall-clock start and end, the error that
   * ended it, host, runledger version. Runs recorded without runledger have no name.
   * @returns the record (read once, then cached)
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const { name, tags, startedAt } = await sealed.runs[0].getInfo();
   * ```
   */
  getInfo(): Promise<RunInfo> {
    this.#info ??= this.records.has(RUN_ATTACHMENT)
      ? this.#reader.getBlob(RUN_ATTACHMENT).then(decodeRunRecord)
      : this.#record === undefined
        ? Promise.resolve(EMPTY_INFO)
        : this.#record().then((r) => (r === undefined ? EMPTY_INFO : runInfoOf(r)));
    return this.#info;
  }

  /**
   * The run's trace: the OTLP protobuf bytes (`ExportTraceServiceRequest`) of its spans, as
   * stored (byte for byte what OMMX or runledger wrote).
   * @returns the bytes, or undefined when the run has no trace
   * @throws RunledgerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const otlp = await sealed.runs[0].getTrace(); // send it to any OTLP/HTTP collector
   * ```
   */
  async getTrace(): Promise<Uint8Array | undefined> {
    const d = this.traceDescriptor;
    return d === undefined
      ? undefined
      : this.#registry.readBlob(d.digest, { expectedSize: d.size });
  }

  /**
   * The spans of the run's trace, decoded (see `decodeTraceSpans`): name, start, end, duration,
   * status and attributes of each, ordered by start time.
   * @returns the spans (empty when the run has no trace)
   * @throws RunledgerError `PAYLOAD_INVALID` when the layer is not OTLP protobuf; `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const slow = (await sealed.runs[0].traceSpans()).filter((s) => s.durationMs > 1000);
   * ```
   */
  async traceSpans(): Promise<RunTraceSpan[]> {
    const bytes = await this.getTrace();
    return bytes === undefined ? [] : decodeTraceSpans(bytes, `The trace of run ${this.runId}`);
  }

  #metricTable: Promise<MetricTable | undefined> | undefined;

  /** The decoded metrics attachment (read once, then cached), if the run logged metrics. */
  #metrics(): Promise<MetricTable | undefined> {
    this.#metricTable ??= this.records.has(METRICS_ATTACHMENT)
      ? this.#reader.getBlob(METRICS_ATTACHMENT).then(decodeMetrics)
      : Promise.resolve(undefined);
    return this.#metricTable;
  }

  /**
   * The names of the metrics this run logged, in first-logged order.
   * @returns the names (empty when it logged none)
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   */
  async metricNames(): Promise<string[]> {
    return [...((await this.#metrics())?.names ?? [])];
  }

  /**
   * One metric's history: steps, timestamps and values in logged order.
   * @param name - the metric
   * @returns the series (empty arrays when the run never logged it)
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const loss = await sealed.runs[0].getMetric('loss');
   * loss.values; // Float64Array
   * ```
   */
  async getMetric(name: string): Promise<MetricSeries> {
    const table = await this.#metrics();
    return table === undefined
      ? {
          name,
          steps: new Float64Array(0),
          timestamps: new Float64Array(0),
          values: new Float64Array(0),
        }
      : metricSeries(table, name);
  }
}

/** A committed experiment, as stored: read-only. */
export class SealedExperiment extends ReadableScope {
  /** The full reference it was committed (or loaded) under. */
  readonly reference: string;
  /** The manifest's descriptor (what a fork records as its OCI `subject`). */
  readonly descriptor: Descriptor;
  readonly manifestDigest: Digest;
  readonly configDigest: Digest;
  readonly manifest: Manifest;
  readonly config: ExperimentConfig;
  readonly status: ExperimentStatus;
  readonly reason: string | undefined;
  /** The manifest's annotations (set with `setAnnotation`). */
  readonly annotations: Annotations;
  /** Every run, in run id order. */
  readonly runs: readonly SealedRun[];
  readonly registry: LocalRegistry;
  readonly #parameters: ParameterTable;
  readonly #reader: AttachmentReader;
  readonly #fork: ForkFunction;

  /** @internal Use `Experiment.load`. */
  constructor(init: {
    reference: string;
    descriptor: Descriptor;
    manifestDigest: Digest;
    manifest: Manifest;
    config: ExperimentConfig;
    parameters: ParameterTable;
    registry: LocalRegistry;
    fork: ForkFunction;
  }) {
    super();
    this.#fork = init.fork;
    this.reference = init.reference;
    this.descriptor = {
      mediaType: init.descriptor.mediaType,
      digest: init.descriptor.digest,
      size: init.descriptor.size,
      ...(init.manifest.artifactType === undefined
        ? {}
        : { artifactType: init.manifest.artifactType }),
    };
    this.manifestDigest = init.manifestDigest;
    this.configDigest = init.manifest.config.digest;
    this.manifest = init.manifest;
    this.config = init.config;
    this.status = init.config.status;
    this.reason = init.config.reason;
    this.annotations = init.manifest.annotations ?? {};
    this.registry = init.registry;
    this.#parameters = init.parameters;
    const layers = init.manifest.layers;
    const records = new Map(
      recordsFromTable(
        init.config.attachments.entries,
        init.config.attachments.filenames,
        layers
      ).map((r) => [r.name, r])
    );
    this.#reader = new AttachmentReader(
      `experiment ${init.reference}`,
      () => records,
      init.registry
    );
    const byRun = init.parameters.valuesByRun();
    const record = (runId: number) => async (): Promise<RunRecordValue | undefined> =>
      (await this.runRecords()).get(runId);
    this.runs = init.config.runs.map(
      (r) =>
        new SealedRun({
          runId: r.runId,
          status: r.status,
          reason: r.reason,
          parameters: byRun.get(r.runId) ?? {},
          records: new Map(
            recordsFromTable(r.attachments.entries, r.attachments.filenames, layers).map((a) => [
              a.name,
              a,
            ])
          ),
          solves: r.solves.map((c) => solveRecord(c, layers)),
          samplings: r.samplings.map((c) => solveRecord(c, layers)),
          trace: r.trace === undefined ? undefined : layers[r.trace],
          registry: init.registry,
          record: record(r.runId),
        })
    );
  }

  #runRecords: Promise<Map<number, RunRecordValue>> | undefined;

  /**
   * The run records the experiment's `runledger.runs` attachment holds, by run id (read once;
   * empty when it has none: an OMMX experiment, or one whose runs hold `runledger.run`).
   * @internal
   */
  runRecords(): Promise<Map<number, RunRecordValue>> {
    this.#runRecords ??= this.config.attachments.entries.has(RUNS_ATTACHMENT)
      ? this.#reader.getBlob(RUNS_ATTACHMENT).then(decodeRunsAttachment)
      : Promise.resolve(new Map());
    return this.#runRecords;
  }

  /** @internal */
  protected get reader(): AttachmentReader {
    return this.#reader;
  }

  /**
   * Saves the experiment as an `.ommx` archive (deterministic: equal experiments, equal files).
   * @param path - the archive to write
   * @param options - overwrite, signal, onProgress
   * @returns the archive size in bytes
   * @throws RunledgerError `FILE_EXISTS`, `IO_ERROR`
   * @example
   * ```ts
   * await sealed.save('study.ommx');
   * ```
   */
  async save(path: string, options: ExportArchiveOptions = {}): Promise<number> {
    return (await exportArchive(this.registry, this.reference, path, options)).size;
  }

  /**
   * Pushes the experiment to the registry its reference names (or to `options.to`): the blobs
   * the registry lacks, then the manifest, whose digest stays the same.
   * @param options - `to` (another reference), credentials, concurrency, `onProgress`, signal
   * @returns what was sent
   * @throws RemoteError `AUTHENTICATION`, `AUTHORIZATION`, `TRANSPORT`…; RunledgerError
   *   `REFERENCE_INVALID` for a local-only name without `to`
   * @example
   * ```ts
   * await sealed.push({ onProgress: (p) => bar.update(p.bytesDone / p.bytesTotal) });
   * ```
   */
  async push(options: PushOptions = {}): Promise<TransferReport> {
    const { to, ...rest } = options;
    return pushArtifact(this.reference, to ?? this.reference, { ...rest, registry: this.registry });
  }

  /**
   * The run-parameter table: `run_id` plus one nullable column per parameter (bool, int64,
   * float64, utf8), as OMMX's `run_parameters_df`.
   * @returns an Apache Arrow table
   * @example
   * ```ts
   * sealed.runParametersDf().getChild('solver')?.toArray();
   * ```
   */
  runParametersDf(): Table {
    return runParametersTable(
      this.#parameters,
      this.runs.map((r) => r.runId)
    );
  }

  /**
   * The runs table (beyond OMMX), in MLflow's `search_runs` naming: `run_id`, `project`, `name`,
   * `status`, `parent_run_id`, `resumed_from`, `started_at`, `ended_at`, `duration_ms`,
   * `description`, `labels`, `params.<name>`, `attributes.<name>`, `metrics.<name>` (the value at
   * the largest step), `tags.<name>`, `labels.<label>`, `solve_count`. Reads each run's record
   * and metrics.
   * @returns an Apache Arrow table
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const df = await sealed.runsDf();
   * df.getChild('metrics.loss')?.toArray();
   * ```
   */
  runsDf(): Promise<Table> {
    return runsTable(this.runs, this.runParametersDf(), { reference: this.reference });
  }

  /**
   * One metric of one run (see `SealedRun.getMetric`).
   * @param runId - the run
   * @param name - the metric
   * @returns the series
   * @throws RunledgerError `ARGUMENT_INVALID` for a run id the experiment does not have
   * @example
   * ```ts
   * (await sealed.runMetrics(0, 'loss')).values;
   * ```
   */
  runMetrics(runId: number, name: string): Promise<MetricSeries> {
    const run = this.runs.find((r) => r.runId === runId);
    if (run === undefined) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Experiment ${this.reference} has no run ${String(runId)}.`,
        { data: { reference: this.reference, runId } }
      );
    }
    return run.getMetric(name);
  }

  /**
   * The solves table: one row per Solve of every run (`run_id`, `solve_id`, `adapter`, `status`,
   * `objective`, `feasible`, `optimality`, `started_at`, `ended_at`, `duration_ms`, then
   * `options.<name>` per adapter option). Reads each Solution.
   * @returns an Apache Arrow table
   * @throws RunledgerError `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   * @example
   * ```ts
   * const solves = await sealed.solvesDf();
   * solves.getChild('objective')?.toArray();
   * ```
   */
  solvesDf(): Promise<Table> {
    return solvesTable(this.runs);
  }

  /**
   * The experiment this one was forked or restored from (its manifest's OCI `subject`), if any.
   * @returns the parent, loaded from the local registry, or undefined when there is none
   * @throws RunledgerError `BLOB_NOT_FOUND` when the parent's manifest is not in the store (pull
   *   it, or it was garbage-collected); `EXPERIMENT_INVALID`
   * @example
   * ```ts
   * (await child.parent())?.reference;
   * ```
   */
  async parent(): Promise<SealedExperiment | undefined> {
    const subject = this.manifest.subject;
    if (subject === undefined) return undefined;
    if (!(await this.registry.hasBlob(subject.digest))) {
      throw new RunledgerError(
        'BLOB_NOT_FOUND',
        `The parent ${subject.digest} of experiment ${this.reference} is not in the store ${this.registry.root}; pull it to walk further.`,
        { data: { reference: this.reference, digest: subject.digest } }
      );
    }
    const refs = await this.registry.listRefs({ includeInternal: true });
    const named = refs.filter((r) => r.descriptor.digest === subject.digest);
    const visible = named.find((r) => !r.reference.includes('.runledger.local/checkpoint:'));
    const ref = parseReference(this.reference);
    const name =
      (visible ?? named[0])?.reference ??
      formatReference({
        registry: ref.registry,
        repository: ref.repository,
        digest: subject.digest,
      });
    return loadSealedAt(this.registry, name, subject, { allowDraft: true, fork: this.#fork });
  }

  /**
   * The lineage: this experiment, its parent, the parent's parent… back to the first one (or to
   * the first parent no longer in the store).
   * @returns the chain, this experiment first
   * @throws RunledgerError `EXPERIMENT_INVALID`
   * @example
   * ```ts
   * (await sealed.history()).map((e) => e.reference);
   * ```
   */
  async history(): Promise<SealedExperiment[]> {
    const chain: SealedExperiment[] = [this];
    const seen = new Set<string>([this.manifestDigest]);
    for (;;) {
      const last = chain[chain.length - 1] as SealedExperiment;
      let parent: SealedExperiment | undefined;
      try {
        parent = await last.parent();
      } catch (e) {
        if (isRunledgerError(e, 'BLOB_NOT_FOUND')) return chain;
        throw e;
      }
      if (parent === undefined || seen.has(parent.manifestDigest)) return chain;
      seen.add(parent.manifestDigest);
      chain.push(parent);
    }
  }

  /**
   * Gives the experiment a further name: publishes `reference` for the same manifest (insert or
   * conflict). This view stays valid under its old name.
   * @param reference - the new name
   * @returns the experiment under its new name
   * @throws RunledgerError `REFERENCE_INVALID`, `REF_CONFLICT`
   * @example
   * ```ts
   * const renamed = await sealed.rename('ghcr.io/acme/qap:final');
   * ```
   */
  async rename(reference: string): Promise<SealedExperiment> {
    const name = normalizeReference(reference);
    await this.registry.publishRef(name, this.descriptor);
    return loadSealedAt(this.registry, name, this.descriptor, {
      allowDraft: true,
      fork: this.#fork,
    });
  }

  /**
   * A new unsealed experiment holding everything this one has (runs, solves, parameters,
   * attachments; blobs shared by digest), recording this manifest as its OCI `subject`. Manifest
   * annotations are not carried over. Run ids continue after the largest one here.
   * @param reference - the child's name; anonymous when omitted
   * @param options - handleSignals, journal options
   * @returns the unsealed child
   * @throws RunledgerError `REFERENCE_INVALID`, `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const more = await sealed.fork('ghcr.io/acme/qap:tai20a-more');
   * ```
   */
  fork(reference?: string, options: ForkOptions = {}): Promise<Experiment> {
    return this.#fork(this, reference, options);
  }

  /**
   * What an unsealed experiment built on this one starts from.
   * @internal
   */
  async seed(options: { readonly runNames?: boolean } = {}): Promise<ExperimentSeed> {
    const layers = this.manifest.layers;
    const records = await this.runRecords();
    const runNames: string[] = [];
    // The names read from every run record (generated names stay unique); a caller that reads
    // the records itself says `runNames: false` and fills them in.
    for (const run of options.runNames === false ? [] : this.runs) {
      const { name } = await run.getInfo();
      if (name !== undefined) runNames.push(name);
    }
    return {
      // The run records go on in the runs' states (the child writes its own runledger.runs).
      attachments: recordsFromTable(
        this.config.attachments.entries,
        this.config.attachments.filenames,
        layers
      ).filter((a) => a.name !== RUNS_ATTACHMENT),
      runs: this.config.runs.map((r) => {
        const record = records.get(r.runId);
        return {
          runId: r.runId,
          status: r.status,
          reason: r.reason,
          attachments: new Map(
            recordsFromTable(r.attachments.entries, r.attachments.filenames, layers).map((a) => [
              a.name,
              a,
            ])
          ),
          solves: r.solves.map((c) => solveRecord(c, layers)),
          samplings: r.samplings.map((c) => solveRecord(c, layers)),
          // The trace goes on byte for byte (same layer): a fork or restore keeps it (§9.20).
          ...(r.trace === undefined ? {} : { trace: layers[r.trace] as Descriptor }),
          ...(record === undefined ? {} : { record }),
        };
      }),
      parameters: this.#parameters.onlyRuns(new Set(this.runs.map((r) => r.runId))),
      runNames,
      annotations: this.annotations,
      subject: this.descriptor,
    };
  }
}

/** Options of `SealedExperiment.fork`: how the child records. */
export type ForkOptions = RecordingOptions;

/**
 * Makes the unsealed child of a sealed experiment; the experiment module passes it to every
 * loader (see `Experiment.load`), so a sealed experiment can fork without importing it.
 * @internal
 */
export type ForkFunction = (
  from: SealedExperiment,
  reference: string | undefined,
  options: ForkOptions
) => Promise<Experiment>;

/** What an unsealed experiment built on a stored one starts from. @internal */
export interface ExperimentSeed {
  readonly attachments: readonly AttachmentRecord[];
  readonly runs: readonly ClosedRunState[];
  readonly parameters: ParameterTable;
  readonly runNames: readonly string[];
  readonly annotations: Annotations;
  /** The experiment it continues (a fork's parent): the manifest's `subject`. */
  readonly subject: Descriptor | undefined;
  /** Manifests whose blobs it reuses, pinned until it commits (a merge's sources). */
  readonly roots?: readonly Descriptor[];
}

/** Options of {@link SealedExperiment.push}. */
export interface PushOptions extends Omit<TransferOptions, 'registry'> {
  /** Push under this reference instead of the experiment's own. */
  readonly to?: string;
}

/** Options of the sealed-experiment loaders. @internal */
export interface LoadSealedOptions {
  /** Accept a checkpoint's config (status draft, failed or interrupted). */
  readonly allowDraft?: boolean;
  /** How the loaded experiment forks. */
  readonly fork: ForkFunction;
}

/**
 * Loads a committed experiment from the local registry, validating it as OMMX's loader does.
 * @internal Use `Experiment.load`.
 */
export async function loadSealed(
  registry: LocalRegistry,
  reference: string,
  options: LoadSealedOptions
): Promise<SealedExperiment> {
  const name = normalizeReference(reference);
  return loadSealedAt(registry, name, await registry.resolve(name), options);
}

/**
 * Loads the experiment manifest `desc` (known as `name`) with OMMX's loader rules.
 * @internal
 */
export async function loadSealedAt(
  registry: LocalRegistry,
  name: string,
  desc: Descriptor,
  options: LoadSealedOptions
): Promise<SealedExperiment> {
  const { manifest } = await registry.readManifest(desc.digest);
  const fail = (why: string): never => {
    throw new RunledgerError('EXPERIMENT_INVALID', `${name} is not an OMMX experiment: ${why}.`, {
      data: { reference: name, digest: desc.digest },
    });
  };
  const artifactType = manifest.artifactType ?? manifest.config.mediaType;
  if (artifactType !== MEDIA_TYPE_EXPERIMENT) fail(`its artifact type is ${artifactType}`);
  if (manifest.config.mediaType !== MEDIA_TYPE_EXPERIMENT_CONFIG) {
    fail(`its config media type is ${manifest.config.mediaType}`);
  }
  const configBytes = await registry.readBlob(manifest.config.digest, {
    expectedSize: manifest.config.size,
  });
  const parseOptions: { allowDraft?: boolean; subject: string } = { subject: name };
  if (options.allowDraft !== undefined) parseOptions.allowDraft = options.allowDraft;
  const config = parseExperimentConfig(configBytes, manifest.layers, parseOptions);
  const paramLayer = manifest.layers[config.runParameters] as Descriptor;
  const parameters = decodeRunParameters(
    await registry.readBlob(paramLayer.digest, { expectedSize: paramLayer.size })
  );
  const runIds = new Set(config.runs.map((r) => r.runId));
  for (const id of parameters.runIds()) {
    if (!runIds.has(id)) fail(`its parameter table has run ${id}, which is not among its runs`);
  }
  return new SealedExperiment({
    reference: name,
    descriptor: desc,
    manifestDigest: desc.digest,
    manifest,
    config,
    parameters,
    registry,
    fork: options.fork,
  });
}

/** A solve record from the config's layer references (in bounds: checked at parse). */
function solveRecord(c: SolveConfig, layers: readonly Descriptor[]): SolveRecord {
  const at = (i: number): Descriptor => layers[i] as Descriptor;
  return {
    id: c.id,
    status: c.status,
    input: at(c.input),
    adapter: c.adapter,
    adapterOptions: c.adapterOptions,
    ...(c.output === undefined ? {} : { output: at(c.output) }),
    ...(c.diagnostics === undefined ? {} : { diagnostics: at(c.diagnostics) }),
  };
}
