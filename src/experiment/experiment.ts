/**
 * @module experiment/experiment
 * Experiment: runs and experiment-level attachments, committed into one OMMX experiment artifact
 * in the local registry.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Table } from 'apache-arrow';
import { importArchive } from '../archive/import.js';
import { RunledgerError, isRunledgerError } from '../errors.js';
import { MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import { compareCodePoints } from '../formats/code-points.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import type { BlobBatch } from '../store/blob-batch.js';
import { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { pullIfMissing, type LoadOptions, type TransferReport } from '../remote/transfer.js';
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
  type ExperimentStatus,
  type RunConfig,
  type SolveConfig,
} from './config.js';
import { checkOptions, type OptionKeys } from './options.js';
import { encodeRunParameters, ParameterTable, type ParameterValue } from './parameters.js';
import { failureReason, normalizeReason, Run, type ClosedRunState } from './run.js';
import { ReadableScope } from './scope.js';
import { encodePayload } from './payloads.js';
import type { Instance } from '../ommx/instance.js';
import type { ParametricInstance } from '../ommx/parametric-instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';
import type { SolveRecord } from './solve.js';
import { solvesTable } from '../tables/solves.js';
import { runsTable } from '../tables/runs.js';
import { withRun } from './context.js';
import {
  checkRunName,
  checkTags,
  generateRunName,
  RUN_OPTION_KEYS,
  RUN_SCOPE_OPTION_KEYS,
  type RunOptions,
  type RunScopeOptions,
} from './run-record.js';
import {
  loadSealed,
  loadSealedAt,
  SealedExperiment,
  SealedRun,
  setForkFactory,
  FORK_OPTION_KEYS,
  type ExperimentSeed,
  type ForkOptions,
  type PushOptions,
} from './sealed.js';
import {
  AutosavePolicy,
  AutosaveSchedule,
  checkCheckpointStatus,
  checkpointReference,
  type CheckpointStatus,
} from './checkpoint.js';
import {
  findStaleJournals,
  removeJournals,
  foldStored,
  type JournalRun,
} from './crash-journals.js';
import { Journal, type Durability } from './journal.js';
import { encodeValue, type JournalContents } from './journal-format.js';
import { unwatchSignals, watchSignals, type Interruptible } from './signals.js';
import { runParametersTable } from '../tables/arrow.js';

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
  /**
   * While runs are open, SIGINT / SIGTERM close them as `interrupted`, write an `interrupted`
   * checkpoint and end the process with 130 / 143. @default true
   */
  readonly handleSignals?: boolean;
  /**
   * Keep a crash journal of open runs under `<root>/.runledger/journal/`, so
   * `restoreFromCheckpoint` recovers them after the process is killed. @default true
   */
  readonly journal?: boolean;
  /**
   * How soon a journaled write is durable: `'batched'` within a second, `'always'` before the log
   * call returns (one fsync per call). @default 'batched'
   */
  readonly durable?: Durability;
}

/** The keys of {@link CreateExperimentOptions}. */
const CREATE_OPTION_KEYS: OptionKeys<CreateExperimentOptions> = {
  registry: true,
  annotations: true,
  reproducible: true,
  handleSignals: true,
  journal: true,
  durable: true,
};

/** What an experiment object is: recording, committed, or ended by a failure. */
export type ExperimentState = 'unsealed' | 'sealed' | 'failed';

/** Internal construction options. */
interface ExperimentInit {
  readonly reproducible?: boolean;
  readonly handleSignals?: boolean;
  readonly journal?: boolean;
  readonly durable?: Durability;
  readonly seed?: ExperimentSeed;
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
export class Experiment extends ReadableScope implements Interruptible {
  #reference: string;
  readonly registry: LocalRegistry;
  readonly #annotations = new Map<string, string>();
  readonly #parameters: ParameterTable;
  readonly #writer: AttachmentWriter;
  readonly #reader: AttachmentReader;
  readonly #closedRuns = new Map<number, ClosedRunState>();
  readonly #openRuns = new Map<number, Run>();
  readonly #inflight = new Set<Promise<unknown>>();
  #batch: BlobBatch | undefined;
  readonly #committingBatches = new Set<Promise<unknown>>();
  #nextRunId = 0;
  readonly #runNames = new Set<string>();
  readonly #reproducible: boolean;
  #sealed: SealedExperiment | undefined;
  #committing = false;
  #failure: string | undefined;
  readonly #subject: Descriptor | undefined;
  #schedule = new AutosaveSchedule(AutosavePolicy.everyRunClose());
  /** Checkpoint writes, one after another. */
  #queue: Promise<void> = Promise.resolve();
  #autosaveQueued: Promise<void> | undefined;
  #autosaveNotBefore = 0;
  #wake: (() => void) | undefined;
  /** Callers waiting on the checkpoint queue (a checkpoint, a commit, a failing scope). */
  #waiters = 0;
  /** Set while closes are part of a larger step (failure, recovery) that checkpoints itself. */
  #quiet = false;
  #lastCheckpointError: unknown;
  readonly #handleSignals: boolean;
  readonly #journal: Journal | undefined;
  /** Pins every blob this experiment writes, so GC keeps it until a reference holds it. */
  readonly #session: StoreSession;

  /** @internal Use {@link Experiment.create}. */
  constructor(reference: string, registry: LocalRegistry, options: ExperimentInit = {}) {
    super();
    this.#reference = reference;
    this.registry = registry;
    this.#reproducible = options.reproducible === true;
    this.#handleSignals = options.handleSignals !== false;
    const seed = options.seed;
    this.#subject = seed?.subject;
    this.#parameters = seed?.parameters ?? new ParameterTable();
    for (const r of seed?.runs ?? []) {
      this.#closedRuns.set(r.runId, r);
      if (r.runId >= this.#nextRunId) this.#nextRunId = r.runId + 1;
    }
    for (const n of seed?.runNames ?? []) this.#runNames.add(n);
    for (const [k, v] of Object.entries(seed?.annotations ?? {})) this.#annotations.set(k, v);
    const journal =
      options.journal === false
        ? undefined
        : new Journal(registry, reference, seed?.subject, options.durable ?? 'batched');
    this.#journal = journal;
    // Named after the crash journal: after a crash its pins keep what the journal names.
    this.#session = registry.openSession(
      journal === undefined
        ? { recoverable: false }
        : { id: journal.id, recoverable: true, recoverFrom: journal.path }
    );
    if (seed !== undefined) this.#session.pinRoot(seed.subject);
    journal?.beforeSync(() => this.#session.sync());
    const scope = `experiment ${reference}`;
    this.#writer = new AttachmentWriter(
      scope,
      {
        registry,
        batch: () => (this.#batch ??= registry.batch({ session: this.#session })),
        flush: () => this.#flush(),
        ...(journal === undefined
          ? {}
          : {
              stored: (record: AttachmentRecord, batch: BlobBatch) =>
                journal.appendWithBlobs({ t: 'eatt', record, at: Date.now() }, batch, [
                  record.descriptor.digest,
                ]),
            }),
      },
      () => this.#assertUnsealed(),
      seed?.attachments ?? []
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
    checkOptions(options, CREATE_OPTION_KEYS, 'Experiment.create');
    const name = reference === undefined ? undefined : normalizeReference(reference);
    for (const key of Object.keys(options.annotations ?? {})) checkAnnotationKey(key);
    const registry = options.registry ?? (await LocalRegistry.open());
    const exp = new Experiment(
      name ?? (await registry.anonymousReference('experiment')),
      registry,
      {
        ...(options.reproducible === undefined ? {} : { reproducible: options.reproducible }),
        ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
        ...(options.journal === undefined ? {} : { journal: options.journal }),
        ...(options.durable === undefined ? {} : { durable: options.durable }),
      }
    );
    for (const [k, v] of Object.entries(options.annotations ?? {})) exp.setAnnotation(k, v);
    return exp;
  }

  /**
   * Loads a committed experiment, validated with OMMX's loader rules: from the local registry
   * when it has the reference (no network at all), else pulled from the registry the reference
   * names first (verified, then published locally).
   * @param reference - its reference
   * @param options - registry; for a pull: credentials, concurrency, onProgress, signal
   * @returns the sealed experiment
   * @throws RunledgerError `REF_NOT_FOUND` (local-only name), `EXPERIMENT_INVALID`, `DIGEST_MISMATCH`;
   *   RemoteError `NOT_FOUND`, `AUTHENTICATION`, … when the pull fails
   * @example
   * ```ts
   * const sealed = await Experiment.load('ghcr.io/acme/qap:tai20a');
   * ```
   */
  static async load(reference: string, options: LoadOptions = {}): Promise<SealedExperiment> {
    const name = normalizeReference(reference);
    const registry = options.registry ?? (await LocalRegistry.open());
    await pullIfMissing(registry, name, options);
    return loadSealed(registry, name);
  }

  /**
   * Fails: an experiment is pushed once committed (`(await exp.commit()).push()`), as in OMMX.
   * After a successful commit this pushes the committed experiment.
   * @param options - as {@link SealedExperiment.push}
   * @returns what was sent
   * @throws RunledgerError `EXPERIMENT_UNCOMMITTED` before a successful commit
   */
  push(options: PushOptions = {}): Promise<TransferReport> {
    if (this.#sealed === undefined) {
      return Promise.reject(
        new RunledgerError(
          'EXPERIMENT_UNCOMMITTED',
          `Experiment ${this.reference} must be committed before it can be pushed; call commit() and push the sealed experiment it returns.`,
          { data: { reference: this.reference } }
        )
      );
    }
    return this.#sealed.push(options);
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

  /** The full reference the experiment commits under (changed by {@link Experiment.rename}). */
  get reference(): string {
    return this.#reference;
  }

  /** `unsealed` while recording, `sealed` once committed, `failed` after its scope failed. */
  get state(): ExperimentState {
    return this.#sealed !== undefined
      ? 'sealed'
      : this.#failure !== undefined
        ? 'failed'
        : 'unsealed';
  }

  /** Why the experiment's scope failed (`"<ErrorName>: <message>"`), once `state` is `failed`. */
  get failureReason(): string | undefined {
    return this.#failure;
  }

  /** The manifest this experiment was forked or restored from (its OCI `subject`), if any. */
  get subject(): Descriptor | undefined {
    return this.#subject;
  }

  #assertUnsealed(): void {
    if (this.#failure !== undefined) {
      throw new RunledgerError(
        'EXPERIMENT_FAILED',
        `Experiment ${this.reference} failed (${this.#failure}) and is read-only; continue it with Experiment.restoreFromCheckpoint(${JSON.stringify(this.reference)}).`,
        { data: { reference: this.reference, reason: this.#failure } }
      );
    }
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
    // A flush started earlier (a background checkpoint's) may still be publishing what this
    // one's caller wants to read: wait for it too (its own caller handles its failure).
    const others = Promise.allSettled([...this.#committingBatches]);
    if (batch !== undefined) {
      const commit = batch.commit();
      this.#committingBatches.add(commit);
      try {
        await commit;
      } catch (e) {
        this.#batch ??= batch; // kept, not lost: the next flush commits it again
        throw e;
      } finally {
        this.#committingBatches.delete(commit);
      }
    }
    await others;
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
    this.#journal?.append({ t: 'ann', key, value, at: Date.now() });
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
    return this.#open(checkOptions(options, RUN_OPTION_KEYS, 'startRun'), undefined);
  }

  #open(
    options: RunOptions,
    parentRunId: number | undefined,
    recovered?: { runId: number; startedAt: Date }
  ): Run {
    this.#assertUnsealed();
    if (options.name !== undefined) checkRunName(options.name);
    if (options.tags !== undefined) checkTags(options.tags);
    const runId = recovered?.runId ?? this.#nextRunId;
    const name = options.name ?? generateRunName(this.reference, runId, this.#runNames);
    const tags = options.tags ?? {};
    const journal = this.#journal;
    const run = new Run(
      runId,
      {
        registry: this.registry,
        logParameter: (id, n, value) => this.#logParameter(id, n, value),
        closed: (state) => this.#runClosed(state),
        startChild: (parent, childOptions) => this.#open(childOptions, parent.runId),
        runScoped: (child, fn, signal) => this.#runScoped(child, fn, signal),
        journal,
        session: this.#session,
      },
      {
        name,
        tags,
        parentRunId,
        reproducible: this.#reproducible,
        ...(recovered === undefined ? {} : { startedAt: recovered.startedAt }),
      }
    );
    if (runId >= this.#nextRunId) this.#nextRunId = runId + 1;
    this.#runNames.add(name);
    this.#openRuns.set(runId, run);
    journal?.append({
      t: 'open',
      run: runId,
      name,
      tags: { ...tags },
      ...(parentRunId === undefined ? {} : { parent: parentRunId }),
      at: (recovered?.startedAt ?? new Date()).getTime(),
    });
    if (this.#handleSignals && recovered === undefined) watchSignals(this);
    return run;
  }

  #runClosed(state: ClosedRunState): Promise<void> {
    this.#openRuns.delete(state.runId);
    this.#closedRuns.set(state.runId, state);
    const journal = this.#journal;
    if (journal !== undefined) {
      journal.unwatchMetrics(state.runId);
      // Written before the close returns: a process killed right after keeps the closed run.
      journal.appendNow({
        t: 'close',
        run: state.runId,
        status: state.status,
        ...(state.reason === undefined ? {} : { reason: state.reason }),
        attachments: [...state.attachments.values()],
        solves: [...state.solves],
        samplings: [...state.samplings],
        at: Date.now(),
      });
    }
    if (this.#openRuns.size === 0) unwatchSignals(this);
    if (this.#quiet || !this.#schedule.runClosed(Date.now())) return Promise.resolve();
    const saving = this.#autosave();
    // With a journal the closed run is already safe (within a second, or at once with
    // durable: 'always'): the close does not wait for the checkpoint. Without one the
    // checkpoint is the only way back, and the close waits for it, as in OMMX.
    return this.#journal === undefined ? saving : Promise.resolve();
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
  run<T>(fn: (run: Run) => T | Promise<T>, options: RunScopeOptions = {}): Promise<T> {
    let run: Run;
    try {
      run = this.#open(checkOptions(options, RUN_SCOPE_OPTION_KEYS, 'run'), undefined);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#runScoped(run, fn, options.signal);
  }

  async #runScoped<T>(
    run: Run,
    fn: (run: Run) => T | Promise<T>,
    signal: AbortSignal | undefined
  ): Promise<T> {
    let result: T;
    let onAbort: (() => void) | undefined;
    try {
      const body = Promise.resolve(withRun(this, run, () => fn(run)));
      if (signal === undefined) {
        result = await body;
      } else {
        // The run ends when the signal fires, whatever the callback is doing.
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => reject(abortReason(signal));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
        body.then(undefined, () => undefined); // its later failure is not unhandled
        result = await Promise.race([body, aborted]);
      }
    } catch (error) {
      if (!run.closed) {
        // The signal's own reason (whatever its type) means the run was aborted, not failed.
        const aborted = signal?.aborted === true && error === signal.reason;
        await run.close(
          aborted || isInterruption(error) ? 'interrupted' : 'failed',
          failureReason(error),
          error
        );
        // An interrupted run is checkpointed whatever the autosave policy.
        if (signal?.aborted === true) await this.#checkpointQuietly('draft', undefined);
      }
      throw error;
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
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
    this.#journal?.append({
      t: 'param',
      run: runId,
      name,
      value: encodeValue(value),
      at: Date.now(),
    });
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
   * @param mediaType - the media type (`type/subtype`, optional `; name=value` parameters)
   * @param bytes - the content
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID` (a media type the manifest reader would refuse),
   *   `ATTACHMENT_EXISTS`, `NAME_RESERVED`, `EXPERIMENT_SEALED`
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
   * experiment stays unsealed and can be committed again. On success its checkpoint and crash
   * journal are removed.
   * @param options - signal
   * @returns the sealed experiment, loaded back with OMMX's loader rules
   * @throws RunledgerError `RUNS_OPEN`, `EXPERIMENT_SEALED`, `EXPERIMENT_FAILED`, `REF_CONFLICT`,
   *   `IO_ERROR`; `MANIFEST_INVALID` when the manifest built does not validate (a bug: say so)
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
      await this.#waitForQueue(); // a checkpoint being written lands first (none starts after)
      await this.#writeManifest('finished', undefined, options.signal, (descriptor) =>
        this.registry.publishRef(
          this.reference,
          descriptor,
          options.signal === undefined ? {} : { signal: options.signal }
        )
      );
      this.#sealed = await loadSealed(this.registry, this.reference);
    } finally {
      this.#committing = false;
    }
    // Best effort, as OMMX: the commit stands even if the checkpoint cannot be removed.
    await this.#removeCheckpoint().catch(() => undefined);
    await this.#journal?.close(true);
    this.#session.close(); // the reference holds everything it pinned
    return this.#sealed;
  }

  /**
   * Stores the manifest of the current state: closed runs only, experiment attachments, the
   * run-parameter table of the closed runs; `requested_image_name` for checkpoints; the OCI
   * `subject` of a fork or restore — and publishes it with `publish` (a reference), its blobs
   * pinned against GC until then.
   */
  async #writeManifest(
    status: ExperimentStatus,
    reason: string | undefined,
    signal: AbortSignal | undefined,
    publish: (descriptor: Descriptor) => Promise<unknown>
  ): Promise<{ descriptor: Descriptor; journalSeq: number | undefined }> {
    // What is recorded now: attachments whose blobs the flush below makes durable, runs whose
    // blobs their close made durable; and how many journaled writes that state covers.
    const journalSeq = this.#journal?.seq;
    const records = new Map(this.#writer.records);
    const closed = [...this.#closedRuns.values()].sort((a, b) => a.runId - b.runId);
    // Encoded now: runs opened while this checkpoint is written log into the live table.
    const parameterBytes = encodeRunParameters(this.#closedParameters());
    await this.#flush();
    const layers: Descriptor[] = [];
    const table = (all: ReadonlyMap<string, AttachmentRecord>): AttachmentTableConfig => {
      const entries = new Map<string, number>();
      const filenames = new Map<string, string>();
      for (const name of [...all.keys()].sort(compareCodePoints)) {
        const r = all.get(name) as AttachmentRecord;
        entries.set(name, layers.length);
        layers.push(r.descriptor);
        if (r.filename !== undefined) filenames.set(name, r.filename);
      }
      return { entries, filenames };
    };
    const attachments = table(records);
    const runs: RunConfig[] = closed.map((r) => {
      const attachments = table(r.attachments);
      // OMMX's layer order: each solve's input, output, diagnostics, in id order; then samplings.
      const calls = (list: readonly SolveRecord[]): SolveConfig[] =>
        list.map((c) => {
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
      const run: RunConfig = { runId: r.runId, status: r.status, attachments, solves, samplings };
      return r.reason === undefined ? run : { ...run, reason: r.reason };
    });
    // Its own session: the blobs of a manifest are pinned only until `publish` returns, so
    // superseded checkpoints can be collected while the study goes on.
    const pins = this.registry.openSession({ recoverable: false });
    try {
      const batch = this.registry.batch({ session: pins });
      const params = await batch.putBlob(parameterBytes);
      const runParameters = layers.length;
      layers.push({ mediaType: MEDIA_TYPE_RUN_PARAMETERS, ...params, annotations: {} });
      const configBytes = serializeExperimentConfig({
        status,
        ...(reason === undefined ? {} : { reason }),
        ...(status === 'finished' ? {} : { requestedImageName: this.reference }),
        attachments,
        runs,
        runParameters,
      });
      const config = await batch.putBlob(configBytes);
      await batch.commit(signal === undefined ? {} : { signal });
      const annotations = this.annotations;
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        artifactType: MEDIA_TYPE_EXPERIMENT,
        config: { mediaType: MEDIA_TYPE_EXPERIMENT_CONFIG, ...config },
        layers,
        ...(this.#subject === undefined ? {} : { subject: this.#subject }),
        ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
      };
      const descriptor = await this.registry.writeManifest(manifest, { session: pins });
      await publish(descriptor).catch((e: unknown) => this.#publishFailed(e, descriptor));
      return { descriptor, journalSeq };
    } finally {
      pins.close();
    }
  }

  /** A wait that anything queued after it cuts short. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  /**
   * Runs checkpoint writes one after another. A caller that waits (anything but a background
   * autosave) cuts short an autosave's pause, and keeps one queued before it from pausing.
   */
  #serial<T>(fn: () => Promise<T>, background = false): Promise<T> {
    this.#wake?.();
    if (!background) this.#waiters++;
    const p = this.#queue.then(() => {
      if (!background) this.#waiters--;
      return fn();
    });
    this.#queue = p.then(
      () => undefined,
      () => undefined
    );
    return p;
  }

  /** Writes a checkpoint of the current state under the rolling checkpoint reference. */
  async #checkpointNow(
    status: CheckpointStatus,
    reason: string | undefined
  ): Promise<ExperimentCheckpoint & { journalSeq: number | undefined }> {
    const reference = await checkpointReference(this.registry, this.reference);
    const { descriptor, journalSeq } = await this.#writeManifest(status, reason, undefined, (d) =>
      this.registry.replaceRef(reference, d)
    );
    return { reference, descriptor, status, runCount: this.#closedRuns.size, journalSeq };
  }

  /**
   * A commit or checkpoint could not publish the manifest just written. When that manifest is
   * what the reader refuses, say so (`MANIFEST_INVALID` naming it and why) rather than pass on
   * the store's closure error, which would call our own manifest missing or damaged. Checked
   * only on failure: a manifest that publishes was validated by the closure check.
   */
  async #publishFailed(error: unknown, descriptor: Descriptor): Promise<never> {
    let invalid: RunledgerError | undefined;
    try {
      await this.registry.readManifest(descriptor.digest);
    } catch (e) {
      if (isRunledgerError(e, 'MANIFEST_INVALID')) invalid = e;
    }
    if (invalid === undefined) throw error;
    throw new RunledgerError(
      'MANIFEST_INVALID',
      `The manifest ${descriptor.digest} built for experiment ${this.reference} is invalid: ${invalid.message.replace(/\.$/, '')}.`,
      { data: { reference: this.reference, digest: descriptor.digest }, cause: invalid }
    );
  }

  async #removeCheckpoint(): Promise<void> {
    const reference = await checkpointReference(this.registry, this.reference);
    await this.registry.deleteRef(reference).catch((e: unknown) => {
      if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
    });
  }

  /**
   * An autosave: coalesced (run closes while one waits in the queue share it), errors reported,
   * not thrown. Resolves once the checkpoint holding the run that asked is written.
   */
  #autosave(): Promise<void> {
    if (this.#autosaveQueued !== undefined) return this.#autosaveQueued;
    this.#autosaveQueued = this.#serial(async () => {
      // With a journal, background checkpoints take at most a fifth of the time: each waits four
      // times as long as the previous one took (closes meanwhile join it; anything else queued,
      // a commit or an explicit checkpoint, ends the wait).
      const wait = this.#autosaveNotBefore - Date.now();
      if (this.#journal !== undefined && wait > 0 && this.#waiters === 0) await this.#pause(wait);
      this.#autosaveQueued = undefined;
      if (this.state !== 'unsealed' || this.#committing) return;
      this.#schedule.attempted(Date.now());
      const schedule = this.#schedule;
      const started = Date.now();
      try {
        await this.#checkpointNow('draft', undefined);
        schedule.saved();
        this.#lastCheckpointError = undefined;
        this.#autosaveNotBefore = Date.now() + 4 * (Date.now() - started);
      } catch (e) {
        this.#checkpointFailed(e, 'autosave');
      }
    }, true);
    return this.#autosaveQueued;
  }

  /** A checkpoint that must not hide the error that caused it. */
  async #checkpointQuietly(status: CheckpointStatus, reason: string | undefined): Promise<void> {
    await this.#serial(() => this.#checkpointNow(status, reason)).catch((e: unknown) =>
      this.#checkpointFailed(e, 'checkpoint')
    );
  }

  /** A checkpoint that failed where it must not throw: kept and reported as a warning. */
  #checkpointFailed(e: unknown, what: 'autosave' | 'checkpoint'): void {
    this.#lastCheckpointError = e;
    if (!existsSync(this.registry.root)) return; // the store itself was removed
    process.emitWarning(
      `runledger: ${what} of experiment ${this.reference} failed: ${(e as Error).message}`,
      { code: 'RUNLEDGER_AUTOSAVE' }
    );
  }

  /**
   * Writes a checkpoint now (whatever the autosave policy): the closed runs and the experiment's
   * attachments, under its rolling checkpoint reference, replacing the previous one.
   * @param options - status (`draft` by default), reason
   * @returns the checkpoint written
   * @throws RunledgerError `EXPERIMENT_SEALED`, `EXPERIMENT_FAILED`, `ARGUMENT_INVALID` (a status
   *   other than draft, failed, interrupted), `IO_ERROR`, `MANIFEST_INVALID` (as for commit)
   * @example
   * ```ts
   * await exp.checkpoint();
   * ```
   */
  checkpoint(
    options: { status?: CheckpointStatus; reason?: string } = {}
  ): Promise<ExperimentCheckpoint> {
    let status: CheckpointStatus;
    try {
      this.#assertUnsealed();
      // A bad status would replace the rolling checkpoint with one no restore can read.
      status = checkCheckpointStatus(options.status ?? 'draft');
      if (options.reason !== undefined && typeof options.reason !== 'string') {
        throw new RunledgerError('ARGUMENT_INVALID', 'A checkpoint reason must be a string.');
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const reason = options.reason === undefined ? undefined : normalizeReason(options.reason);
    return this.#serial(async () => {
      const { journalSeq: _, ...checkpoint } = await this.#checkpointNow(status, reason);
      return checkpoint;
    });
  }

  /**
   * Waits until every checkpoint already due (autosaves after run closes) is written.
   * @returns when the checkpoint queue is empty; the error of the last one that failed is in
   *   {@link Experiment.lastCheckpointError}
   */
  autosaveSettled(): Promise<void> {
    return this.#waitForQueue();
  }

  /** Waits for the checkpoint queue to empty, letting no autosave pause meanwhile. */
  async #waitForQueue(): Promise<void> {
    this.#wake?.();
    this.#waiters++;
    try {
      await this.#queue;
    } finally {
      this.#waiters--;
    }
  }

  /** Why the last checkpoint attempt failed (autosave errors are reported, not thrown). */
  get lastCheckpointError(): unknown {
    return this.#lastCheckpointError;
  }

  /** The autosave policy of this session (`everyRunClose` until set). */
  get autosavePolicy(): AutosavePolicy {
    return this.#schedule.policy;
  }

  /**
   * Sets when run closes write a `draft` checkpoint; the schedule starts afresh.
   * @param policy - e.g. `AutosavePolicy.everyNRuns(10)`
   * @throws RunledgerError `ARGUMENT_INVALID`
   */
  setAutosavePolicy(policy: AutosavePolicy): void {
    if (!(policy instanceof AutosavePolicy)) {
      throw new RunledgerError('ARGUMENT_INVALID', 'setAutosavePolicy takes an AutosavePolicy.');
    }
    this.#schedule = new AutosaveSchedule(policy);
  }

  /**
   * Ends the experiment's scope with an error: open runs are closed (as `interrupted` for an
   * `AbortError` or a signal, else `failed`), a checkpoint of that status with the reason is
   * written (always attempted), the crash journal is removed once it is, and the experiment
   * becomes read-only (`state` `failed`).
   */
  async #failScope(status: 'failed' | 'interrupted', reason: string): Promise<void> {
    if (this.state !== 'unsealed') return;
    // A close already under way (a callback that returned while a signal waited behind a
    // blocked event loop) lands first and is part of the checkpoint below.
    await Promise.all(this.openRuns.map((run) => run.settled));
    this.#quiet = true;
    try {
      // Children (always opened after their parents) first: each gets the scope's reason.
      for (const run of this.openRuns.reverse()) {
        if (!run.closed) await run.close(status, reason).catch(() => undefined);
      }
    } finally {
      this.#quiet = false;
    }
    let covered: number | undefined;
    await this.#serial(() => this.#checkpointNow(status, reason))
      .then((c) => (covered = c.journalSeq))
      .catch((e: unknown) => {
        this.#lastCheckpointError = e;
      });
    this.#failure = reason;
    unwatchSignals(this);
    // The journal goes only when the checkpoint holds every write it acknowledged: anything
    // accepted after the checkpoint's snapshot keeps it for restoreFromCheckpoint.
    const journal = this.#journal;
    await journal?.close(covered !== undefined && covered === journal.seq);
    if (journal !== undefined && covered === journal.seq) this.#session.close();
  }

  /**
   * Runs `fn` as the scope of this experiment (the callback form of Python's
   * `with Experiment(...)`): commits when it returns; when it throws, closes the open runs,
   * writes a `failed` (or, for an `AbortError`, `interrupted`) checkpoint with the reason, and
   * rethrows — `Experiment.restoreFromCheckpoint` continues from there.
   * @param fn - the study
   * @returns the committed experiment
   * @throws whatever `fn` throws; what {@link Experiment.commit} throws
   * @example
   * ```ts
   * const sealed = await exp.use(async (e) => {
   *   await e.run((run) => run.logParameter('seed', 1));
   * });
   * ```
   */
  async use(fn: (exp: Experiment) => unknown): Promise<SealedExperiment> {
    try {
      await fn(this);
      return await this.commit();
    } catch (error) {
      await this.#failScope(isInterruption(error) ? 'interrupted' : 'failed', failureReason(error));
      throw error;
    }
  }

  /**
   * Creates an experiment and runs `fn` as its scope (see {@link Experiment#use}).
   * @param reference - where it commits; anonymous when undefined
   * @param fn - the study
   * @param options - as {@link Experiment.create}
   * @returns the committed experiment
   * @example
   * ```ts
   * const sealed = await Experiment.use('ghcr.io/acme/qap:tai20a', async (exp) => {
   *   await exp.run((run) => run.logParameter('seed', 1));
   * });
   * ```
   */
  static async use(
    reference: string | undefined,
    fn: (exp: Experiment) => unknown,
    options: CreateExperimentOptions = {}
  ): Promise<SealedExperiment> {
    const exp = await Experiment.create(reference, options);
    return exp.use(fn);
  }

  /** @internal Closes every open run as interrupted and writes an interrupted checkpoint. */
  async interruptAll(signal: NodeJS.Signals): Promise<void> {
    await this.#failScope('interrupted', signal);
  }

  /**
   * Changes the experiment's name. Unsealed: later commits and checkpoints use the new name, and
   * an existing checkpoint moves to the new name's slot. Committed: the new name is published for
   * the same manifest too (the old one stays).
   * @param reference - the new name
   * @throws RunledgerError `REFERENCE_INVALID`, `REF_CONFLICT`, `EXPERIMENT_FAILED`
   * @example
   * ```ts
   * await exp.rename('ghcr.io/acme/qap:tai20a-v2');
   * ```
   */
  async rename(reference: string): Promise<void> {
    const name = normalizeReference(reference);
    if (this.#sealed !== undefined) {
      this.#sealed = await this.#sealed.rename(name);
      this.#reference = name;
      return;
    }
    this.#assertUnsealed();
    await this.#serial(async () => {
      const old = await checkpointReference(this.registry, this.reference);
      let had = false;
      try {
        await this.registry.resolve(old);
        had = true;
      } catch (e) {
        if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
      }
      this.#reference = name;
      this.#journal?.appendNow({ t: 'rename', reference: name, at: Date.now() });
      if (had) {
        await this.#checkpointNow('draft', undefined);
        await this.registry.deleteRef(old).catch(() => undefined);
      }
    });
  }

  /**
   * A new unsealed experiment from this committed one (see `SealedExperiment.fork`).
   * @param reference - the child's name; anonymous when omitted
   * @param options - handleSignals, journal, durable
   * @returns the unsealed child
   * @throws RunledgerError `EXPERIMENT_UNCOMMITTED` before a successful commit
   */
  fork(reference?: string, options: ForkOptions = {}): Promise<Experiment> {
    if (this.#sealed === undefined) {
      return Promise.reject(
        new RunledgerError(
          'EXPERIMENT_UNCOMMITTED',
          `Experiment ${this.reference} must be committed before it can be forked; commit it first (a checkpoint is continued with Experiment.restoreFromCheckpoint).`,
          { data: { reference: this.reference } }
        )
      );
    }
    return this.#sealed.fork(reference, options);
  }

  /**
   * Continues an experiment from its checkpoint (draft, failed or interrupted) — and, beyond
   * OMMX, from the crash journal a killed process left: every closed run, and every open run up
   * to its last journaled write, closed as `interrupted` with reason `"process ended"`. The
   * result is unsealed, has the same name, the checkpoint's runs, attachments and annotations,
   * records the checkpoint as its OCI `subject`, and opens new runs after the largest run id.
   * What the journal added is checkpointed at once and the journal removed.
   * @param reference - the experiment's name (the name it was created with)
   * @param options - registry, handleSignals, journal, durable
   * @returns the unsealed experiment
   * @throws RunledgerError `CHECKPOINT_NOT_FOUND`, `EXPERIMENT_INVALID`, `DIGEST_MISMATCH`
   * @example
   * ```ts
   * const exp = await Experiment.restoreFromCheckpoint('ghcr.io/acme/qap:tai20a');
   * ```
   */
  static async restoreFromCheckpoint(
    reference: string,
    options: RestoreOptions = {}
  ): Promise<Experiment> {
    checkOptions(options, RESTORE_OPTION_KEYS, 'Experiment.restoreFromCheckpoint');
    const name = normalizeReference(reference);
    const registry = options.registry ?? (await LocalRegistry.open());
    const slot = await checkpointReference(registry, name);
    let base: SealedExperiment | undefined;
    try {
      base = await loadSealed(registry, slot, { allowDraft: true });
    } catch (e) {
      if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
    }
    if (base !== undefined && base.config.requestedImageName !== name) {
      throw new RunledgerError(
        'EXPERIMENT_INVALID',
        `Checkpoint ${slot} is of ${String(base.config.requestedImageName)}, not of ${name}.`,
        { data: { reference: name, checkpoint: slot } }
      );
    }
    const journals = await findStaleJournals(registry, name);
    if (base === undefined) {
      const headerBase = journals.find((j) => j.header.base !== undefined)?.header.base;
      if (headerBase !== undefined && (await registry.hasBlob(headerBase.digest))) {
        base = await loadSealedAt(registry, name, headerBase, { allowDraft: true });
      }
    }
    if (base === undefined && journals.length === 0) {
      throw new RunledgerError(
        'CHECKPOINT_NOT_FOUND',
        `No checkpoint of experiment ${name} in the store ${registry.root}; list them with \`runledger checkpoints\`.`,
        { data: { reference: name, root: registry.root } }
      );
    }
    const init: ExperimentInit = {
      ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
      ...(options.journal === undefined ? {} : { journal: options.journal }),
      ...(options.durable === undefined ? {} : { durable: options.durable }),
      ...(base === undefined ? {} : { seed: await base.seed() }),
    };
    const exp = new Experiment(name, registry, init);
    if (journals.length > 0) {
      exp.#quiet = true;
      exp.#journal?.pause(true); // what is replayed goes into the checkpoint below, not a journal
      try {
        for (const j of journals) await exp.#replay(j);
      } finally {
        exp.#quiet = false;
      }
      await exp.#serial(() => exp.#checkpointNow('draft', undefined));
      await removeJournals(journals);
      await registry.removeSessions(journals.map((j) => basename(j.path, '.journal')));
      exp.#journal?.pause(false);
    }
    return exp;
  }

  /** Puts back what a dead process's journal recorded that this state lacks. */
  async #replay(j: JournalContents): Promise<void> {
    const folded = await foldStored(this.registry, j, {
      experiment: this.reference,
      known: new Set(this.#closedRuns.keys()),
    });
    this.#writer.adopt(folded.experimentAttachments);
    for (const [k, v] of folded.annotations) {
      if (!this.#annotations.has(k)) this.#annotations.set(k, v);
    }
    const setParams = (runId: number, r: JournalRun): void => {
      for (const [n, v] of r.params) this.#parameters.set(runId, n, v);
    };
    const missing = [...folded.runs].sort(([a], [b]) => a - b);
    // Closed runs the state lacks: their close record has everything but the parameters.
    for (const [runId, r] of missing) {
      const c = r.close;
      if (c === undefined) continue;
      setParams(runId, r);
      this.#closedRuns.set(runId, {
        runId,
        status: c.status,
        reason: c.reason,
        attachments: new Map(c.attachments.map((a) => [a.name, a])),
        solves: c.solves,
        samplings: c.samplings,
      });
      if (r.open !== undefined) this.#runNames.add(r.open.name);
      if (runId >= this.#nextRunId) this.#nextRunId = runId + 1;
    }
    // Open runs: rebuilt in id order (parents first), then closed as interrupted, children first.
    const rebuilt: [Run, number][] = [];
    for (const [runId, r] of missing) {
      const o = r.open;
      if (r.close !== undefined || o === undefined) continue;
      const run = this.#open({ name: o.name, tags: { ...o.tags, ...r.tags } }, o.parent, {
        runId,
        startedAt: new Date(o.at),
      });
      setParams(runId, r);
      run.recover({
        attachments: r.attachments,
        solves: r.solves,
        metrics: r.points,
      });
      rebuilt.push([run, Math.max(o.at, r.lastWrite)]);
    }
    for (const [run, lastWrite] of rebuilt.reverse()) {
      if (!run.closed)
        await run.close('interrupted', 'process ended', undefined, new Date(lastWrite));
    }
  }
}

/** A checkpoint written by {@link Experiment.checkpoint}. */
export interface ExperimentCheckpoint {
  /** The checkpoint reference (`<id8>.runledger.local/checkpoint:<sha256 of the name>`). */
  readonly reference: string;
  readonly descriptor: Descriptor;
  readonly status: CheckpointStatus;
  /** Closed runs it holds. */
  readonly runCount: number;
}

/** Options of {@link Experiment.restoreFromCheckpoint}. */
export interface RestoreOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /** As {@link CreateExperimentOptions.handleSignals}. */
  readonly handleSignals?: boolean;
  /** As {@link CreateExperimentOptions.journal}. */
  readonly journal?: boolean;
  /** As {@link CreateExperimentOptions.durable}. */
  readonly durable?: Durability;
}

/** The keys of {@link RestoreOptions}. */
const RESTORE_OPTION_KEYS: OptionKeys<RestoreOptions> = {
  registry: true,
  handleSignals: true,
  journal: true,
  durable: true,
};

/** Whether an error means the work was interrupted rather than failed. */
function isInterruption(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** The error an aborted signal stands for. */
function abortReason(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new DOMException(r === undefined ? 'This operation was aborted' : String(r), 'AbortError');
}

setForkFactory(async (from, reference, options) => {
  checkOptions(options, FORK_OPTION_KEYS, 'fork');
  const registry = from.registry;
  const name =
    reference === undefined
      ? await registry.anonymousReference('experiment')
      : normalizeReference(reference);
  const seed = await from.seed();
  return new Experiment(name, registry, {
    ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
    ...(options.journal === undefined ? {} : { journal: options.journal }),
    ...(options.durable === undefined ? {} : { durable: options.durable }),
    seed: { ...seed, annotations: {} },
  });
});

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
