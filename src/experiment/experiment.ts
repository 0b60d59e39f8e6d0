/**
 * @module experiment/experiment
 * Experiment: runs and experiment-level attachments, committed into one OMMX experiment artifact
 * in the local registry.
 */
import type { Table } from 'apache-arrow';
import { importArchive } from '../archive/import.js';
import { RunledgerError } from '../errors.js';
import { MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { LocalRegistry, type BlobBatch } from '../store/local-registry.js';
import {
  AttachmentReader,
  AttachmentWriter,
  type AttachmentRecord,
  type LogAttachmentOptions,
  type LogFileOptions,
} from './attachments.js';
import type { AttachmentCodec } from './codec.js';
import {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  MEDIA_TYPE_RUN_PARAMETERS,
  serializeExperimentConfig,
  type AttachmentTableConfig,
  type RunConfig,
  type SolveConfig,
} from './config.js';
import { encodeRunParameters, ParameterTable, type ParameterValue } from './parameters.js';
import { failureReason, Run, type ClosedRunState } from './run.js';
import { ReadableScope } from './scope.js';
import { encodePayload } from './payloads.js';
import type { Instance } from '../ommx/instance.js';
import type { ParametricInstance } from '../ommx/parametric-instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';
import type { SolveRecord } from './solve.js';
import { solvesTable } from './solves-table.js';
import { runsTable } from './runs-table.js';
import { withRun } from './context.js';
import { checkRunName, generateRunName, type RunOptions } from './run-record.js';
import { loadSealed, SealedExperiment, SealedRun } from './sealed.js';
import { runParametersTable } from './table.js';

/** Options of {@link Experiment.create}. */
export interface CreateExperimentOptions {
  /** The local registry. @default LocalRegistry.open() at RUNLEDGER_HOME */
  readonly registry?: LocalRegistry;
  /** Manifest annotations (keys starting `org.ommx.v1.` are reserved). */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Leave wall-clock times and the host name out of the run records, so the same study recorded
   * twice commits to the same digest. @default false
   */
  readonly reproducible?: boolean;
}

/** Manifest annotation keys with this prefix belong to OMMX. */
const RESERVED_ANNOTATION_PREFIX = 'org.ommx.v1.';

/**
 * An experiment being recorded: open runs, collect their parameters and attachments, attach
 * experiment-level data, then {@link Experiment.commit} it into one OMMX experiment artifact.
 *
 * @example
 * ```ts
 * const exp = await Experiment.create('ghcr.io/acme/qap:tai20a');
 * await exp.run(async (run) => { run.logParameter('seed', 1); });
 * const sealed = await exp.commit();
 * ```
 */
export class Experiment extends ReadableScope {
  /** The full reference the experiment commits under. */
  readonly reference: string;
  readonly registry: LocalRegistry;
  readonly #annotations = new Map<string, string>();
  readonly #parameters = new ParameterTable();
  readonly #writer: AttachmentWriter;
  readonly #reader: AttachmentReader;
  readonly #closedRuns = new Map<number, ClosedRunState>();
  readonly #openRuns = new Map<number, Run>();
  readonly #inflight = new Set<Promise<unknown>>();
  #batch: BlobBatch | undefined;
  #nextRunId = 0;
  readonly #runNames = new Set<string>();
  readonly #reproducible: boolean;
  #sealed: SealedExperiment | undefined;
  #committing = false;

  /** @internal Use {@link Experiment.create}. */
  constructor(
    reference: string,
    registry: LocalRegistry,
    options: { reproducible?: boolean } = {}
  ) {
    super();
    this.reference = reference;
    this.registry = registry;
    this.#reproducible = options.reproducible === true;
    const scope = `experiment ${reference}`;
    this.#writer = new AttachmentWriter(
      scope,
      {
        registry,
        batch: () => (this.#batch ??= registry.batch()),
        flush: () => this.#flush(),
      },
      () => this.#assertUnsealed()
    );
    this.#reader = new AttachmentReader(
      scope,
      () => this.#writer.records,
      registry,
      () => this.#flush()
    );
  }

  /**
   * Starts an experiment. Without a reference it gets an anonymous one,
   * `<id8>.runledger.local/experiment:<YYYYMMDDTHHMMSS>-<nonce>`.
   * @param reference - where it will be committed, e.g. `ghcr.io/acme/qap:tai20a`
   * @param options - registry, annotations
   * @returns the unsealed experiment
   * @throws RunledgerError `REFERENCE_INVALID`, `NAME_RESERVED`, `LAYOUT_INVALID`
   * @example
   * ```ts
   * const exp = await Experiment.create();
   * exp.reference; // e.g. '1a2b3c4d.runledger.local/experiment:20261123T101500-9f8e7d6c5b4a'
   * ```
   */
  static async create(
    reference?: string,
    options: CreateExperimentOptions = {}
  ): Promise<Experiment> {
    const name = reference === undefined ? undefined : normalizeReference(reference);
    for (const key of Object.keys(options.annotations ?? {})) checkAnnotationKey(key);
    const registry = options.registry ?? (await LocalRegistry.open());
    const exp = new Experiment(
      name ?? (await registry.anonymousReference('experiment')),
      registry,
      options.reproducible === undefined ? {} : { reproducible: options.reproducible }
    );
    for (const [k, v] of Object.entries(options.annotations ?? {})) exp.setAnnotation(k, v);
    return exp;
  }

  /**
   * Loads a committed experiment from the local registry, validated with OMMX's loader rules.
   * @param reference - its reference
   * @param options - registry
   * @returns the sealed experiment
   * @throws RunledgerError `REF_NOT_FOUND`, `EXPERIMENT_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const sealed = await Experiment.load('ghcr.io/acme/qap:tai20a');
   * ```
   */
  static async load(
    reference: string,
    options: { registry?: LocalRegistry } = {}
  ): Promise<SealedExperiment> {
    const name = normalizeReference(reference);
    return loadSealed(options.registry ?? (await LocalRegistry.open()), name);
  }

  /**
   * Imports an `.ommx` archive (or OCI layout directory) into the local registry and loads the
   * experiment it holds.
   * @param path - the archive or directory
   * @param options - registry; reference to publish under instead of the archive's name
   * @returns the sealed experiment
   * @throws RunledgerError `ARCHIVE_INVALID`, `EXPERIMENT_INVALID`, `REF_CONFLICT`
   * @example
   * ```ts
   * const sealed = await Experiment.importArchive('study.ommx');
   * ```
   */
  static async importArchive(
    path: string,
    options: { registry?: LocalRegistry; reference?: string; signal?: AbortSignal } = {}
  ): Promise<SealedExperiment> {
    const registry = options.registry ?? (await LocalRegistry.open());
    const imported = await importArchive(registry, path, {
      ...(options.reference === undefined ? {} : { reference: options.reference }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return loadSealed(registry, imported.reference);
  }

  /** @internal */
  protected get reader(): AttachmentReader {
    return this.#reader;
  }

  #assertUnsealed(): void {
    if (this.#sealed !== undefined || this.#committing) {
      throw new RunledgerError(
        'EXPERIMENT_SEALED',
        `Experiment ${this.reference} is committed and read-only; fork it to add runs.`,
        { data: { reference: this.reference } }
      );
    }
  }

  async #flush(): Promise<void> {
    // Writes in flight belong to the batch being committed: let them land first.
    await Promise.allSettled([...this.#inflight]);
    const batch = this.#batch;
    this.#batch = undefined;
    try {
      await batch?.commit();
    } catch (e) {
      this.#batch ??= batch; // kept, not lost: the next flush commits it again
      throw e;
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Whether {@link Experiment.commit} has succeeded. */
  get sealed(): boolean {
    return this.#sealed !== undefined;
  }

  /** Run ids of runs still open. */
  get openRunIds(): number[] {
    return [...this.#openRuns.keys()].sort((a, b) => a - b);
  }

  /** The runs still open, in run id order (e.g. to retry `finish()` after a failed close). */
  get openRuns(): Run[] {
    return this.openRunIds.map((id) => this.#openRuns.get(id) as Run);
  }

  /** The manifest annotations set so far. */
  get annotations(): Readonly<Record<string, string>> {
    return Object.fromEntries([...this.#annotations].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /**
   * Sets a manifest annotation.
   * @param key - any key not starting with `org.ommx.v1.`
   * @param value - a string
   * @throws RunledgerError `NAME_RESERVED`, `ARGUMENT_INVALID`, `EXPERIMENT_SEALED`
   */
  setAnnotation(key: string, value: string): void {
    this.#assertUnsealed();
    checkAnnotationKey(key);
    if (typeof value !== 'string') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The value of annotation ${JSON.stringify(key)} must be a string.`
      );
    }
    this.#annotations.set(key, value);
  }

  /**
   * Opens a run. Close it with `finish()` or `await using`; a run disposed before `finish()` is
   * recorded as failed. (It is not made the current run: `exp.run(fn)` does that.)
   * @param options - name (generated when absent), tags
   * @returns the open run, with the next run id
   * @throws RunledgerError `EXPERIMENT_SEALED`, `ARGUMENT_INVALID` (name, tags)
   * @example
   * ```ts
   * { await using run = exp.startRun(); run.logParameter('seed', 1); await run.finish(); }
   * ```
   */
  startRun(options: RunOptions = {}): Run {
    return this.#open(options, undefined);
  }

  #open(options: RunOptions, parentRunId: number | undefined): Run {
    this.#assertUnsealed();
    if (options.name !== undefined) checkRunName(options.name);
    const runId = this.#nextRunId;
    const name = options.name ?? generateRunName(this.reference, runId, this.#runNames);
    const run = new Run(
      runId,
      {
        registry: this.registry,
        logParameter: (id, n, value) => this.#logParameter(id, n, value),
        closed: (state) => {
          this.#openRuns.delete(state.runId);
          this.#closedRuns.set(state.runId, state);
        },
        startChild: (parent, childOptions) => this.#open(childOptions, parent.runId),
        runScoped: (child, fn) => this.#runScoped(child, fn),
      },
      { name, tags: options.tags ?? {}, parentRunId, reproducible: this.#reproducible }
    );
    this.#nextRunId++;
    this.#runNames.add(name);
    this.#openRuns.set(runId, run);
    return run;
  }

  /**
   * Runs `fn` in a new run: finished when `fn` returns, failed (reason `"<ErrorName>: <message>"`,
   * and the error's type, message and stack in the run record) when it throws, and the error
   * rethrown. An `AbortError` closes the run as interrupted. Inside `fn` and everything it awaits,
   * `currentRun()` is this run.
   * @param fn - the trial
   * @param options - name (generated when absent), tags
   * @returns what `fn` returns
   * @throws whatever `fn` throws; RunledgerError `EXPERIMENT_SEALED`, `ARGUMENT_INVALID`
   * @example
   * ```ts
   * const objective = await exp.run(async (run) => { run.logParameter('seed', 7); return 42; });
   * ```
   */
  run<T>(fn: (run: Run) => T | Promise<T>, options: RunOptions = {}): Promise<T> {
    let run: Run;
    try {
      run = this.startRun(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#runScoped(run, fn);
  }

  async #runScoped<T>(run: Run, fn: (run: Run) => T | Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await withRun(this, run, () => fn(run));
    } catch (error) {
      if (!run.closed) {
        const interrupted = error instanceof Error && error.name === 'AbortError';
        await run.close(interrupted ? 'interrupted' : 'failed', failureReason(error), error);
      }
      throw error;
    }
    if (!run.closed) await run.finish();
    return result;
  }

  #logParameter(runId: number, name: string, value: ParameterValue): void {
    if (name === 'run_id') {
      // The run table's key column: a parameter of that name would shadow it.
      throw new RunledgerError(
        'NAME_RESERVED',
        'Parameter name "run_id" is reserved for the run table key.',
        {
          data: { name, runId },
        }
      );
    }
    this.#parameters.log(runId, name, value);
  }

  /** The runs closed so far, in run id order (a closed run is final). */
  get runs(): SealedRun[] {
    const values = this.#parameters.valuesByRun();
    return [...this.#closedRuns.values()]
      .sort((a, b) => a.runId - b.runId)
      .map(
        (s) =>
          new SealedRun({
            runId: s.runId,
            status: s.status,
            reason: s.reason,
            parameters: values.get(s.runId) ?? {},
            records: s.attachments,
            solves: s.solves,
            samplings: s.samplings,
            registry: this.registry,
          })
      );
  }

  /**
   * The run-parameter table of the runs closed so far.
   * @returns an Arrow table: `run_id` plus one nullable column per parameter
   */
  runParametersDf(): Table {
    return runParametersTable(
      this.#closedParameters(),
      [...this.#closedRuns.keys()].sort((a, b) => a - b)
    );
  }

  /**
   * The runs table of the runs closed so far (see `SealedExperiment.runsDf`).
   * @returns an Arrow table, one row per closed run
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   */
  runsDf(): Promise<Table> {
    return runsTable(this.runs, this.runParametersDf());
  }

  /**
   * The solves table of the runs closed so far (see `SealedExperiment.solvesDf`).
   * @returns an Arrow table, one row per Solve
   * @throws RunledgerError `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  solvesDf(): Promise<Table> {
    return solvesTable(this.runs);
  }

  #closedParameters(): ParameterTable {
    return this.#openRuns.size === 0
      ? this.#parameters
      : this.#parameters.onlyRuns(new Set(this.#closedRuns.keys()));
  }

  /**
   * Logs bytes as an experiment-level attachment.
   * @param name - unique among the experiment's attachments
   * @param mediaType - the media type
   * @param bytes - the content
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `NAME_RESERVED`, `EXPERIMENT_SEALED`
   */
  logAttachment(
    name: string,
    mediaType: string,
    bytes: Uint8Array,
    options?: LogAttachmentOptions
  ): Promise<void> {
    return this.#track(this.#writer.logAttachment(name, mediaType, bytes, options));
  }

  /**
   * Logs a JSON value as an experiment-level attachment.
   * @param name - unique name
   * @param value - plain JSON data
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  logJson(name: string, value: unknown, options?: LogAttachmentOptions): Promise<void> {
    return this.#track(this.#writer.logJson(name, value, options));
  }

  /**
   * Logs text as an experiment-level attachment.
   * @param name - unique name
   * @param text - the text
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  logText(name: string, text: string, options?: LogAttachmentOptions): Promise<void> {
    return this.#track(this.#writer.logText(name, text, options));
  }

  /**
   * Logs a file as an experiment-level attachment, streamed.
   * @param name - unique name
   * @param path - a regular file
   * @param options - mediaType, filename, compression, signal, onProgress
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `IO_ERROR`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  logFile(name: string, path: string, options?: LogFileOptions): Promise<void> {
    return this.#track(this.#writer.logFile(name, path, options));
  }

  /**
   * Logs a value through a codec as an experiment-level attachment.
   * @param codec - the codec
   * @param name - unique name
   * @param value - the value
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `CODEC_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  logWithCodec<T>(
    codec: AttachmentCodec<T>,
    name: string,
    value: T,
    options?: LogAttachmentOptions
  ): Promise<void> {
    return this.#track(this.#writer.logWithCodec(codec, name, value, options));
  }

  /**
   * Logs an OMMX Instance as an experiment-level attachment (v2 protobuf, OMMX's mirrored
   * descriptor annotations).
   * @param name - unique name
   * @param instance - the Instance
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  async logInstance(name: string, instance: Instance): Promise<void> {
    return this.#track(this.#writer.logPayload(name, encodePayload('instance', instance)));
  }

  /**
   * Logs an OMMX ParametricInstance as an experiment-level attachment.
   * @param name - unique name
   * @param value - the ParametricInstance
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  async logParametricInstance(name: string, value: ParametricInstance): Promise<void> {
    return this.#track(this.#writer.logPayload(name, encodePayload('parametric-instance', value)));
  }

  /**
   * Logs an OMMX Solution as an experiment-level attachment.
   * @param name - unique name
   * @param solution - the Solution
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  async logSolution(name: string, solution: Solution): Promise<void> {
    return this.#track(this.#writer.logPayload(name, encodePayload('solution', solution)));
  }

  /**
   * Logs an OMMX SampleSet as an experiment-level attachment.
   * @param name - unique name
   * @param sampleSet - the SampleSet
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `ATTACHMENT_EXISTS`, `EXPERIMENT_SEALED`
   */
  async logSampleSet(name: string, sampleSet: SampleSet): Promise<void> {
    return this.#track(this.#writer.logPayload(name, encodePayload('sample-set', sampleSet)));
  }

  /**
   * Seals the experiment into one OMMX experiment artifact and publishes its reference
   * (insert-or-conflict). Layers: experiment attachments by name, then each run's attachments by
   * name in run id order, then the run-parameter table. On failure nothing is lost: the
   * experiment stays unsealed and can be committed again.
   * @param options - signal
   * @returns the sealed experiment, loaded back with OMMX's loader rules
   * @throws RunledgerError `RUNS_OPEN`, `EXPERIMENT_SEALED`, `REF_CONFLICT`, `IO_ERROR`
   * @example
   * ```ts
   * const sealed = await exp.commit();
   * sealed.manifestDigest;
   * ```
   */
  async commit(options: { signal?: AbortSignal } = {}): Promise<SealedExperiment> {
    this.#assertUnsealed();
    if (this.#openRuns.size > 0) {
      const ids = this.openRunIds;
      throw new RunledgerError(
        'RUNS_OPEN',
        `Cannot commit experiment ${this.reference} while ${ids.length} run(s) are still open (${ids.join(', ')}); finish them first.`,
        { data: { reference: this.reference, openRunIds: ids } }
      );
    }
    this.#committing = true;
    try {
      await this.#flush();
      const layers: Descriptor[] = [];
      const table = (records: ReadonlyMap<string, AttachmentRecord>): AttachmentTableConfig => {
        const entries = new Map<string, number>();
        const filenames = new Map<string, string>();
        for (const name of [...records.keys()].sort(byUtf8)) {
          const r = records.get(name) as AttachmentRecord;
          entries.set(name, layers.length);
          layers.push(r.descriptor);
          if (r.filename !== undefined) filenames.set(name, r.filename);
        }
        return { entries, filenames };
      };
      const attachments = table(this.#writer.records);
      const runs: RunConfig[] = [...this.#closedRuns.values()]
        .sort((a, b) => a.runId - b.runId)
        .map((r) => {
          const attachments = table(r.attachments);
          // OMMX's layer order: each solve's input, output, diagnostics, in id order; then samplings.
          const calls = (records: readonly SolveRecord[]): SolveConfig[] =>
            records.map((c) => {
              const push = (d: Descriptor): number => layers.push(d) - 1;
              const input = push(c.input);
              const output = c.output === undefined ? undefined : push(c.output);
              const diagnostics = c.diagnostics === undefined ? undefined : push(c.diagnostics);
              return {
                id: c.id,
                status: c.status,
                input,
                ...(output === undefined ? {} : { output }),
                adapter: c.adapter,
                adapterOptions: c.adapterOptions,
                ...(diagnostics === undefined ? {} : { diagnostics }),
              };
            });
          const solves = calls(r.solves);
          const samplings = calls(r.samplings);
          const run: RunConfig = {
            runId: r.runId,
            status: r.status,
            attachments,
            solves,
            samplings,
          };
          return r.reason === undefined ? run : { ...run, reason: r.reason };
        });
      const batch = this.registry.batch();
      const params = await batch.putBlob(encodeRunParameters(this.#parameters));
      const runParameters = layers.length;
      layers.push({ mediaType: MEDIA_TYPE_RUN_PARAMETERS, ...params, annotations: {} });
      const configBytes = serializeExperimentConfig({
        status: 'finished',
        attachments,
        runs,
        runParameters,
      });
      const config = await batch.putBlob(configBytes);
      await batch.commit(options.signal === undefined ? {} : { signal: options.signal });
      const annotations = this.annotations;
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        artifactType: MEDIA_TYPE_EXPERIMENT,
        config: { mediaType: MEDIA_TYPE_EXPERIMENT_CONFIG, ...config },
        layers,
        ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      };
      const descriptor = await this.registry.writeManifest(manifest);
      await this.registry.publishRef(
        this.reference,
        descriptor,
        options.signal === undefined ? {} : { signal: options.signal }
      );
      this.#sealed = await loadSealed(this.registry, this.reference);
      return this.#sealed;
    } finally {
      this.#committing = false;
    }
  }
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function checkAnnotationKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new RunledgerError('ARGUMENT_INVALID', 'An annotation key must be a non-empty string.');
  }
  if (key.startsWith(RESERVED_ANNOTATION_PREFIX)) {
    throw new RunledgerError(
      'NAME_RESERVED',
      `Annotation key ${JSON.stringify(key)} is reserved: keys starting with "${RESERVED_ANNOTATION_PREFIX}" belong to OMMX metadata.`,
      { data: { key } }
    );
  }
}
