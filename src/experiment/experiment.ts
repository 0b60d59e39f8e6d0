/**
 * @module experiment/experiment
 * Experiment: runs and experiment-level attachments, committed into one OMMX experiment artifact
 * in the local registry.
 */
import { basename } from 'node:path';
import type { Table } from 'apache-arrow';
import { importArchive } from '../archive/import.js';
import { RunledgerError } from '../errors.js';
import {
  formatReference,
  isProjectTag,
  namesRepository,
  normalizeReference,
  parseReference,
  projectTag,
} from '../oci/reference.js';
import { randomBytes } from 'node:crypto';
import type { Descriptor } from '../oci/types.js';
import { pullIfMissing, type LoadOptions, type TransferReport } from '../remote/transfer.js';
import { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { runsTable } from '../tables/runs.js';
import { solvesTable } from '../tables/solves.js';
import type { AttachmentReader } from './attachments.js';
import { ExperimentAttachments } from './experiment-attachments.js';
import { CheckpointQueue } from './autosave.js';
import {
  AutosavePolicy,
  checkCheckpointStatus,
  checkpointReference,
  existingCheckpoint,
  removeCheckpoint,
  type CheckpointStatus,
  type ExperimentCheckpoint,
} from './checkpoint.js';
import type { ExperimentStatus } from './config.js';
import {
  currentRun,
  currentScopeOwner,
  enterRun,
  leaveRun,
  runClosed,
  withRun,
} from './context.js';
import { removeJournals } from './crash-journals.js';
import { Journal } from './journal.js';
import {
  checkAnnotationKey,
  checkAnnotation,
  ManifestHead,
  writeExperimentManifest,
} from './manifest.js';
import {
  checkOptions,
  checkProject,
  CREATE_OPTION_KEYS,
  RECORDING_OPTION_KEYS,
  recordingInit,
  RESTORE_OPTION_KEYS,
  type CreateExperimentOptions,
  type OptionKeys,
  type RecordingInit,
  type RestoreOptions,
} from './options.js';
import { findRestorePoint, replayJournal, type ReplayTarget } from './restore.js';
import type { Run } from './run.js';
import { ExperimentRuns, isInterruption } from './experiment-runs.js';
import { ObserverSet, type ExperimentObserver, type Logger, type RunEndStatus } from './logger.js';
import {
  normalizeReason,
  failureReason,
  RUN_OPTION_KEYS,
  RUN_SCOPE_OPTION_KEYS,
  splitTags,
  type RunOptions,
  type RunScopeOptions,
} from './run-record.js';
import { bindAttachmentLog, ExperimentScope } from './scope.js';
import {
  loadSealed,
  SealedExperiment,
  SealedRun,
  type ExperimentSeed,
  type ForkOptions,
  type PushOptions,
} from './sealed.js';
import { unwatchSignals, watchSignals, type Interruptible } from './signals.js';
import {
  parseShard,
  runSweep,
  shardFromEnv,
  shardReference,
  SWEEP_CONFIGS_ANNOTATION,
  SWEEP_SHARD_ANNOTATION,
  type SweepConfig,
  type SweepOptions,
  type SweepResult,
} from './sweep.js';

/** What an experiment object is: recording, committed, or ended by a failure. */
export type ExperimentState = 'unsealed' | 'sealed' | 'failed';

const SWEEP_OPTION_KEYS: OptionKeys<SweepOptions> = {
  concurrency: true,
  failFast: true,
  shard: true,
  signal: true,
  name: true,
  env: true,
};

/** Internal construction options. */
interface ExperimentInit extends RecordingInit {
  readonly reproducible?: boolean;
  readonly seed?: ExperimentSeed;
}

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
export class Experiment extends ExperimentScope implements Interruptible, Logger {
  #reference: string;
  readonly registry: LocalRegistry;
  readonly #head = new ManifestHead();
  readonly #attachments: ExperimentAttachments;
  readonly #runs: ExperimentRuns;
  #sealed: SealedExperiment | undefined;
  #committing = false;
  #failure: string | undefined;
  readonly #subject: Descriptor | undefined;
  /** Checkpoint writes, one after another, and the autosaves run closes ask for. */
  readonly #checkpoints: CheckpointQueue;
  /** Set while closes are part of a larger step (failure, recovery) that checkpoints itself. */
  #quiet = false;
  readonly #handleSignals: boolean;
  readonly #observers = new ObserverSet();
  /** Tags and labels every run gets. */
  #runTags: { tags: Readonly<Record<string, string>>; labels: readonly string[] } = {
    tags: {},
    labels: [],
  };
  readonly #journal: Journal | undefined;
  /** Pins every blob this experiment writes, so GC keeps it until a reference holds it. */
  readonly #session: StoreSession;

  /** @internal Use {@link Experiment.create}. */
  constructor(reference: string, registry: LocalRegistry, options: ExperimentInit = {}) {
    super();
    bindAttachmentLog(this, (write) => this.#attachments.track(write(this.#attachments.writer)));
    this.#reference = reference;
    this.registry = registry;
    this.#handleSignals = options.handleSignals !== false;
    const seed = options.seed;
    this.#subject = seed?.subject;
    for (const [k, v] of Object.entries(seed?.annotations ?? {})) this.#head.set(k, v);
    const journal =
      options.journal === false
        ? undefined
        : new Journal(registry, reference, seed?.subject, options.durable ?? 'batched');
    this.#journal = journal;
    this.#checkpoints = new CheckpointQueue({
      checkpoint: () => this.#checkpointNow('draft', undefined),
      canSave: () => this.state === 'unsealed' && !this.#committing,
      journaled: journal !== undefined,
      reference: () => this.reference,
      root: registry.root,
    });
    // Named after the crash journal: after a crash its pins keep what the journal names. With
    // the default durability small blobs are flushed in groups, by the journal's grouped flush
    // (within a second) or the next checkpoint or commit, whichever comes first.
    this.#session = registry.openSession(
      journal === undefined
        ? { recoverable: false }
        : {
            id: journal.id,
            recoverable: true,
            recoverFrom: journal.path,
            groupedFlush: options.durable !== 'always',
          }
    );
    if (seed?.subject !== undefined) this.#session.pinRoot(seed.subject);
    for (const root of seed?.roots ?? []) this.#session.pinRoot(root);
    journal?.syncWith(this.#session);
    const session = this.#session;
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    this.#runs = new ExperimentRuns(
      {
        registry,
        session,
        journal,
        reproducible: options.reproducible === true,
        reference: () => this.reference,
        assertUnsealed: () => this.#assertUnsealed(),
        opened: () => {
          if (this.#handleSignals) watchSignals(this);
        },
        closed: (run, last) => this.#runClosed(run, last),
        withRun: (run, fn) => withRun(this, run, fn),
        checkpointInterrupted: () =>
          this.#checkpoints.quietly(() => this.#checkpointNow('draft', undefined)),
        observers: this.#observers,
        get runTags() {
          return self.#runTags;
        },
        closing: (run) => leaveRun(run),
        tracing: options.tracing,
        manifestBase: () => this.#head.baseBytes(this.#subject, this.#attachments.writer.records),
      },
      seed
    );
    this.#attachments = new ExperimentAttachments({
      scope: `experiment ${reference}`,
      registry,
      session,
      journal,
      assertWritable: () => this.#assertUnsealed(),
      seed: seed?.attachments ?? [],
      recorded: (record) =>
        this.#observers.emit('onAttachment', {
          experiment: this.reference,
          runId: undefined,
          name: record.name,
          mediaType: record.mediaType,
          size: record.descriptor.size,
          time: Date.now(),
        }),
    });
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
    const name = reference === undefined ? undefined : projectOrReference(reference);
    for (const key of Object.keys(options.annotations ?? {})) checkAnnotationKey(key);
    const project = options.project === undefined ? undefined : checkProject(options.project, name);
    const runTags = options.tags === undefined ? undefined : splitTags(options.tags);
    const registry = options.registry ?? (await LocalRegistry.open());
    const anonymous = async (): Promise<string> => {
      const ref = await registry.anonymousReference('experiment');
      return project === undefined ? ref : ref.replace('/experiment:', `/${project}:`);
    };
    const exp = new Experiment(name ?? (await anonymous()), registry, {
      ...(options.reproducible === undefined ? {} : { reproducible: options.reproducible }),
      ...(await recordingInit(options)),
    });
    for (const [k, v] of Object.entries(options.annotations ?? {})) exp.setAnnotation(k, v);
    if (runTags !== undefined) exp.#runTags = runTags;
    return exp;
  }

  /**
   * An unsealed experiment built on a seed, without journal or signal handling (a merge, which
   * commits at once).
   * @internal
   */
  static async fromSeed(
    reference: string,
    seed: ExperimentSeed,
    registry: LocalRegistry
  ): Promise<Experiment> {
    return new Experiment(projectOrReference(reference), registry, {
      ...(await recordingInit({ journal: false, handleSignals: false })),
      seed,
    });
  }

  /** The experiment's project: the repository part of its reference (`acme/qap`). */
  get project(): string {
    return parseReference(this.#reference).repository;
  }

  /**
   * Observes the experiment's life: runs starting and ending, parameters, metrics, attachments,
   * solves, checkpoints, the commit. A hook that fails is reported once as a warning
   * (`RUNLEDGER_OBSERVER`) and changes nothing else; hooks are not awaited.
   * @param observer - the hooks (each optional), e.g. a `JsonlLogger` or a `ConsoleLogger`
   * @returns a function that stops observing
   * @example
   * ```ts
   * const ended: string[] = [];
   * const stop = exp.observe({ onRunEnd: (e) => void ended.push(`${e.name} ${e.status}`) });
   * ```
   */
  observe(observer: ExperimentObserver): () => void {
    return this.#observers.add(observer);
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
    return loadSealed(registry, name, { fork: forkExperiment });
  }

  /**
   * Fails: an experiment is pushed once committed (`(await exp.commit()).push()`), as in OMMX.
   * After a successful commit this pushes the committed experiment.
   * @param options - as {@link SealedExperiment.push}
   * @returns what was sent
   * @throws RunledgerError `EXPERIMENT_UNCOMMITTED` before a successful commit
   */
  push(options: PushOptions = {}): Promise<TransferReport> {
    return this.#whenCommitted(
      'pushed; call commit() and push the sealed experiment it returns',
      (sealed) => sealed.push(options)
    );
  }

  /** `use(sealed)` once committed; before, `EXPERIMENT_UNCOMMITTED` saying it must be `what`. */
  #whenCommitted<T>(what: string, use: (sealed: SealedExperiment) => Promise<T>): Promise<T> {
    if (this.#sealed !== undefined) return use(this.#sealed);
    return Promise.reject(
      new RunledgerError(
        'EXPERIMENT_UNCOMMITTED',
        `Experiment ${this.reference} must be committed before it can be ${what}.`,
        { data: { reference: this.reference } }
      )
    );
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
    return loadSealed(registry, imported.reference, { fork: forkExperiment });
  }

  /** @internal */
  protected get reader(): AttachmentReader {
    return this.#attachments.reader;
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

  /** Whether {@link Experiment.commit} has succeeded. */
  get sealed(): boolean {
    return this.#sealed !== undefined;
  }

  /** Run ids of runs still open. */
  get openRunIds(): number[] {
    return this.#runs.openRunIds;
  }

  /** The runs still open, in run id order (e.g. to retry `finish()` after a failed close). */
  get openRuns(): Run[] {
    return this.#runs.openRuns;
  }

  /** The manifest annotations set so far. */
  get annotations(): Readonly<Record<string, string>> {
    return this.#head.annotations;
  }

  /**
   * Sets a manifest annotation.
   * @param key - any key not starting with `org.ommx.v1.`
   * @param value - a string
   * @throws RunledgerError `NAME_RESERVED`, `ARGUMENT_INVALID`, `EXPERIMENT_SEALED`
   */
  setAnnotation(key: string, value: string): void {
    this.#assertUnsealed();
    checkAnnotation(key, value);
    this.#head.set(key, value);
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
  startRun(options: RunOptions & { readonly resumeFrom: number }): Promise<Run>;
  startRun(options?: RunOptions): Run;
  startRun(options: RunOptions = {}): Run | Promise<Run> {
    checkOptions(options, RUN_OPTION_KEYS, 'startRun');
    const enter = (run: Run): Run => {
      enterRun(this, run);
      return run;
    };
    if (options.resumeFrom === undefined) return enter(this.#runs.openIn(this, options, undefined));
    // Read from the store first, so it cannot become current in the caller's context: inside
    // `exp.run(fn, { resumeFrom })` it is.
    return this.#runs
      .resumePoint(options.resumeFrom)
      .then((resume) => this.#runs.openIn(this, options, resume));
  }

  /**
   * Ends the current run of this experiment (the one `startRun` made current, or the one whose
   * `exp.run(fn)` is executing) with a status — MLflow's `end_run`.
   * @param status - finished (the default), failed or interrupted
   * @returns when it is closed; at once when this experiment has no current run
   */
  endRun(status: RunEndStatus = 'finished'): Promise<void> {
    const run = currentRun();
    if (run === undefined || currentScopeOwner() !== this || run.closed) return Promise.resolve();
    return run.finish(status);
  }

  /** A run closed: the autosave its close asks for (waited for only without a journal). */
  #runClosed(run: Run, last: boolean): Promise<void> {
    runClosed(run);
    if (last) unwatchSignals(this);
    return this.#quiet ? Promise.resolve() : this.#checkpoints.runClosed(Date.now());
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
  async run<T>(fn: (run: Run) => T | Promise<T>, options: RunScopeOptions = {}): Promise<T> {
    checkOptions(options, RUN_SCOPE_OPTION_KEYS, 'run');
    const resume =
      options.resumeFrom === undefined
        ? undefined
        : await this.#runs.resumePoint(options.resumeFrom);
    return this.#runs.scoped(this.#runs.openIn(this, options, resume), fn, options.signal);
  }

  /**
   * Runs one run per config, `concurrency` at a time (default: the number of cores): each run's
   * parameters are its config, its attribute `sweep.index` the config's position. A trial that
   * throws is a failed run and the others go on (unless `failFast`). With a shard (`shard:
   * 'i/n'`, or from a Slurm job array or a Kubernetes Indexed Job, see {@link SweepOptions}) only
   * that slice of the configs runs, and the experiment is renamed
   * `<repository>:<tag>-shard-<i>-of-<n>`; `mergeExperiments` (`runledger merge`) puts the
   * shards back together.
   * @param configs - the configs (`grid(…)`, `random(…)`, or any list)
   * @param fn - the trial
   * @param options - concurrency, failFast, shard, signal, name
   * @returns one result per config of this shard, in config order
   * @throws the first failure with `failFast`; RunledgerError `ARGUMENT_INVALID` (a bad shard or
   *   concurrency, a shard of an experiment without an explicit tag), `EXPERIMENT_SEALED`
   * @example
   * ```ts
   * const results = await exp.sweep(grid({ lr: [0.1, 0.01], seed: [1, 2] }), async (run, c) => {
   *   run.logMetric('loss', Number(c['lr']) * Number(c['seed']));
   * });
   * ```
   */
  async sweep<T>(
    configs: Iterable<SweepConfig>,
    fn: (run: Run, config: SweepConfig) => T | Promise<T>,
    options: SweepOptions = {}
  ): Promise<SweepResult<T>[]> {
    checkOptions(options, SWEEP_OPTION_KEYS, 'sweep');
    this.#assertUnsealed();
    const all = [...configs];
    const shard =
      options.shard === false
        ? undefined
        : options.shard === undefined
          ? shardFromEnv(options.env ?? process.env)
          : parseShard(options.shard);
    if (shard !== undefined) {
      const tag = parseReference(this.reference).tag;
      if (tag === undefined || isProjectTag(tag)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `A sharded sweep needs a tag every shard shares, and ${this.reference} has ${tag === undefined ? 'none' : 'a fresh project tag'}: create it as, say, ${parseReference(this.reference).registry}/${this.project}:sweep-1.`,
          { data: { reference: this.reference } }
        );
      }
      await this.rename(shardReference(this.reference, shard));
      this.setAnnotation(SWEEP_SHARD_ANNOTATION, `${shard.index}/${shard.count}`);
    }
    this.setAnnotation(SWEEP_CONFIGS_ANNOTATION, String(all.length));
    return runSweep(
      {
        reference: this.reference,
        run: (trial, o) => this.run(trial, o),
        progress: (event) => this.#observers.emit('onSweep', event),
      },
      all,
      shard,
      fn,
      options
    );
  }

  /** The runs closed so far, in run id order (a closed run is final). */
  get runs(): SealedRun[] {
    return this.#runs.sealedRuns();
  }

  /**
   * The run-parameter table of the runs closed so far.
   * @returns an Arrow table: `run_id` plus one nullable column per parameter
   */
  runParametersDf(): Table {
    return this.#runs.parametersTable();
  }

  /**
   * The runs table of the runs closed so far (see `SealedExperiment.runsDf`).
   * @returns an Arrow table, one row per closed run
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   */
  runsDf(): Promise<Table> {
    return runsTable(this.runs, this.runParametersDf(), { reference: this.reference });
  }

  /**
   * The solves table of the runs closed so far (see `SealedExperiment.solvesDf`).
   * @returns an Arrow table, one row per Solve
   * @throws RunledgerError `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  solvesDf(): Promise<Table> {
    return solvesTable(this.runs);
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
    this.#runs.assertNoneOpen();
    this.#committing = true;
    try {
      await this.#checkpoints.settled(); // a checkpoint being written lands first (none starts after)
      const signal = options.signal === undefined ? {} : { signal: options.signal };
      await this.#writeManifest('finished', undefined, options.signal, async (descriptor) => {
        await this.registry.publishRef(this.reference, descriptor, signal);
        // An experiment of a project (a reference given without a tag): `:latest` follows it.
        const ref = parseReference(this.reference);
        if (isProjectTag(ref.tag)) {
          const latest = formatReference({ registry: ref.registry, repository: ref.repository });
          await this.registry.replaceRef(latest, descriptor, signal);
        }
      });
      this.#sealed = await loadSealed(this.registry, this.reference, { fork: forkExperiment });
    } finally {
      this.#committing = false;
    }
    // Best effort, as OMMX: the commit stands even if the checkpoint cannot be removed.
    await removeCheckpoint(this.registry, this.reference).catch(() => undefined);
    await this.#journal?.close(true);
    this.#session.close(); // the reference holds everything it pinned
    this.#observers.emit('onCommit', {
      experiment: this.reference,
      manifestDigest: this.#sealed.manifestDigest,
      runCount: this.#sealed.runs.length,
      time: Date.now(),
    });
    return this.#sealed;
  }

  /**
   * Stores the manifest of the current state (closed runs only, see experiment/manifest) and
   * publishes it with `publish`; returns it with how many journaled writes that state covers.
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
    const attachments = new Map(this.#attachments.writer.records);
    const runs = this.#runs.closedStates();
    // Encoded now: runs opened while this checkpoint is written log into the live table.
    const parameters = this.#runs.encodedParameters();
    await this.#attachments.flush();
    // The small blobs of the last runs, left for a grouped flush, before a reference names them.
    await this.#session.flush();
    const descriptor = await writeExperimentManifest(
      this.registry,
      {
        reference: this.reference,
        status,
        reason,
        attachments,
        runs,
        parameters,
        annotations: this.annotations,
        subject: this.#subject,
      },
      signal,
      publish
    );
    return { descriptor, journalSeq };
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
    const runCount = this.#runs.closedRunIds.size;
    this.#observers.emit('onCheckpoint', {
      experiment: this.reference,
      status,
      runCount,
      time: Date.now(),
    });
    return { reference, descriptor, status, runCount, journalSeq };
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
    return this.#checkpoints.serial(async () => {
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
    return this.#checkpoints.settled();
  }

  /** Why the last checkpoint attempt failed (autosave errors are reported, not thrown). */
  get lastCheckpointError(): unknown {
    return this.#checkpoints.lastError;
  }

  /** The autosave policy of this session (`everyRunClose` until set). */
  get autosavePolicy(): AutosavePolicy {
    return this.#checkpoints.policy;
  }

  /**
   * Sets when run closes write a `draft` checkpoint; the schedule starts afresh.
   * @param policy - e.g. `AutosavePolicy.everyNRuns(10)`
   * @throws RunledgerError `ARGUMENT_INVALID`
   */
  setAutosavePolicy(policy: AutosavePolicy): void {
    this.#checkpoints.policy = policy;
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
    await this.#checkpoints
      .serial(() => this.#checkpointNow(status, reason))
      .then((c) => (covered = c.journalSeq))
      .catch((e: unknown) => {
        this.#checkpoints.lastError = e;
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
    await this.#checkpoints.serial(async () => {
      const old = await existingCheckpoint(this.registry, this.reference);
      this.#reference = name;
      this.#journal?.appendNow({ t: 'rename', reference: name, at: Date.now() });
      if (old !== undefined) {
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
    return this.#whenCommitted(
      'forked; commit it first (a checkpoint is continued with Experiment.restoreFromCheckpoint)',
      (sealed) => sealed.fork(reference, options)
    );
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
    const { base, journals } = await findRestorePoint(registry, name, forkExperiment);
    const exp = new Experiment(name, registry, {
      ...(await recordingInit(options)),
      ...(base === undefined ? {} : { seed: await base.seed() }),
    });
    if (journals.length > 0) {
      exp.#quiet = true;
      exp.#journal?.pause(true); // what is replayed goes into the checkpoint below, not a journal
      try {
        for (const j of journals) await replayJournal(exp.#replayTarget(), j);
      } finally {
        exp.#quiet = false;
      }
      await exp.#checkpoints.serial(() => exp.#checkpointNow('draft', undefined));
      await removeJournals(journals);
      await registry.removeSessions(journals.map((j) => basename(j.path, '.journal')));
      exp.#journal?.pause(false);
    }
    return exp;
  }

  /** This experiment's state, as a journal replay changes it. */
  #replayTarget(): ReplayTarget {
    return {
      registry: this.registry,
      reference: this.reference,
      runs: this.#runs,
      adoptAttachments: (records) => this.#attachments.writer.adopt(records),
      addAnnotation: (key, value) => this.#head.set(key, value, true),
      session: this.#session,
    };
  }
}

/**
 * The experiment of the current async context (the one whose `run(fn)` is executing).
 * @returns the experiment, or undefined
 * @example
 * ```ts
 * await exp.run(async () => currentExperiment() === exp); // true
 * ```
 */
export function currentExperiment(): Experiment | undefined {
  const owner = currentScopeOwner();
  return owner instanceof Experiment ? owner : undefined;
}

/**
 * The fork of a sealed experiment: a new unsealed one seeded with its state (annotations left
 * behind). Passed to every sealed-experiment loader, so `SealedExperiment.fork` needs no import
 * of this module.
 */
async function forkExperiment(
  from: SealedExperiment,
  reference: string | undefined,
  options: ForkOptions
): Promise<Experiment> {
  checkOptions(options, RECORDING_OPTION_KEYS, 'fork');
  const registry = from.registry;
  const name =
    reference === undefined
      ? await registry.anonymousReference('experiment')
      : projectOrReference(reference);
  const seed = await from.seed();
  return new Experiment(name, registry, {
    ...(await recordingInit(options)),
    seed: { ...seed, annotations: {} },
  });
}

/**
 * The full reference an experiment is created under: a reference without a tag names a project,
 * and the experiment gets a fresh sortable tag in it (`<UTC time>-<nonce>`), so re-running a
 * study never conflicts; any other reference is taken as given.
 */
function projectOrReference(reference: string): string {
  if (!namesRepository(reference)) return normalizeReference(reference);
  const { registry, repository } = parseReference(reference);
  const tag = projectTag(randomBytes(4).toString('hex'));
  return formatReference({ registry, repository, tag });
}
