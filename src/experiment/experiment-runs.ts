/**
 * @module experiment/experiment-runs
 * The runs of an unsealed experiment: run ids and names, the open runs and the closed ones, the
 * parameter table they log into, the run scope (`exp.run(fn)`, `run.child(fn)`), and the views
 * of the closed runs (sealed runs, the run-parameter table).
 */
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { runParametersTable } from '../tables/arrow.js';
import type { Journal } from './journal.js';
import type { Tracing } from './trace.js';
import { encodeValue, type JournalRecord } from './journal-format.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { manifestTooLarge, runLayerBytes, runLayerCount } from './manifest.js';
import { RunParametersEncoder } from './parameter-encoder.js';
import { ParameterTable, type ParameterValue } from './parameters.js';
import { Run, type ClosedRunState } from './run.js';
import {
  failureReason,
  checkDescription,
  checkLabels,
  checkRunName,
  generateRunName,
  splitTags,
  type RunOptions,
} from './run-record.js';
import type { ObserverSet } from './logger.js';
import { describeValue, isPlainRecord } from './options.js';
import type { JsonValue } from '../oci/canonical-json.js';
import { SealedRun, type ExperimentSeed } from './sealed.js';
import { currentScope } from './context.js';

/** What the runs need from their experiment. */
export interface RunsHost {
  readonly registry: LocalRegistry;
  /** Pins every blob a run writes. */
  readonly session: StoreSession;
  readonly journal: Journal | undefined;
  /** Leave wall-clock times and the host out of run records. */
  readonly reproducible: boolean;
  /** The experiment's name (generated run names derive from it). */
  reference(): string;
  /** Throws unless the experiment still takes runs. */
  assertUnsealed(): void;
  /** A run was opened by the user (not recovered from a journal). */
  opened(): void;
  /** `run` closed; `last` when no run is open any more. Resolves when the close may return. */
  closed(run: Run, last: boolean): Promise<void>;
  /** Runs `fn` with `run` as the current run of this experiment. */
  withRun<T>(run: Run, fn: () => T): T;
  /** Checkpoints after a run was interrupted by its signal (whatever the autosave policy). */
  checkpointInterrupted(): Promise<void>;
  /** The experiment's observers. */
  readonly observers: ObserverSet;
  /** Tags and labels every run of the experiment gets (a run's own tags win). */
  readonly runTags: {
    readonly tags: Readonly<Record<string, string>>;
    readonly labels: readonly string[];
  };
  /** A run begins to close (synchronously). */
  closing(run: Run): void;
  /** Starts each run's trace (`storeTrace`). */
  readonly tracing?: Tracing | undefined;
  /** Bytes of the experiment's manifest besides its runs' layers, at most (see manifest). */
  manifestBase(): number;
}

/** What a run with one small layer (its run record) takes in a manifest, at least. */
const MIN_RUN_BYTES = 192;
/**
 * Room a run start leaves free beyond the reserve of each open run (as large as the largest
 * closed run): a run closing larger than that by this much would pass the limit.
 */
const MANIFEST_HEADROOM = 64 * 1024;

/** What a resumed run starts from, read from the run it continues. */
export interface ResumePoint {
  readonly runId: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
  readonly attributes: Readonly<Record<string, JsonValue>>;
  readonly description: string | undefined;
  readonly params: Readonly<Record<string, ParameterValue>>;
  /** Metric name → the step after its last point. */
  readonly metricSteps: ReadonlyMap<string, number>;
}

/** The runs of one unsealed experiment. */
export class ExperimentRuns {
  readonly #host: RunsHost;
  /** Every parameter logged, open runs' included. */
  readonly parameters: ParameterTable;
  readonly #closed = new Map<number, ClosedRunState>();
  readonly #open = new Map<number, Run>();
  #nextRunId = 0;
  readonly #names = new Set<string>();
  /** The closed runs' parameter table, encoded as they close. */
  readonly #encoder: RunParametersEncoder;
  /** What the closed runs' layers take in the manifest: bytes, layers, the largest run's bytes. */
  #layerBytes = 0;
  #layers = 0;
  #largest = MIN_RUN_BYTES;

  /**
   * @param host - the experiment
   * @param seed - the closed runs of the experiment this one continues
   */
  constructor(host: RunsHost, seed: ExperimentSeed | undefined) {
    this.#host = host;
    this.parameters = seed?.parameters ?? new ParameterTable();
    this.#encoder = new RunParametersEncoder(this.parameters);
    for (const r of seed?.runs ?? []) {
      this.#addClosed(r);
      // Blobs of the manifest this experiment continues, which its session pins as a root.
      host.session.covers(layerDigests(r));
    }
    for (const n of seed?.runNames ?? []) this.#names.add(n);
  }

  /** Run ids of runs still open, ascending. */
  get openRunIds(): number[] {
    return [...this.#open.keys()].sort((a, b) => a - b);
  }

  /** The runs still open, in run id order. */
  get openRuns(): Run[] {
    return this.openRunIds.map((id) => this.#open.get(id) as Run);
  }

  /**
   * Throws unless every run is closed (before a commit).
   * @throws RunledgerError `RUNS_OPEN` naming the open runs
   */
  assertNoneOpen(): void {
    const ids = this.openRunIds;
    if (ids.length === 0) return;
    const reference = this.#host.reference();
    throw new RunledgerError(
      'RUNS_OPEN',
      `Cannot commit experiment ${reference} while ${ids.length} run(s) are still open (${ids.join(', ')}); finish them first.`,
      { data: { reference, openRunIds: ids } }
    );
  }

  /** Run ids of the closed runs. */
  get closedRunIds(): ReadonlySet<number> {
    return new Set(this.#closed.keys());
  }

  /** The closed runs' states, in run id order. */
  closedStates(): ClosedRunState[] {
    return [...this.#closed.values()].sort((a, b) => a.runId - b.runId);
  }

  /**
   * The run-parameter table of the closed runs, encoded (only the cells of runs closed since the
   * last call are encoded anew).
   * @returns the msgpack bytes
   */
  encodedParameters(): Uint8Array {
    return this.#encoder.encode(this.#closed.keys());
  }

  /** The parameters of the closed runs only. */
  closedParameters(): ParameterTable {
    return this.#open.size === 0
      ? this.parameters
      : this.parameters.onlyRuns(new Set(this.#closed.keys()));
  }

  /** The closed runs as sealed runs, in run id order. */
  sealedRuns(): SealedRun[] {
    const values = this.parameters.valuesByRun();
    return this.closedStates().map((s) => this.#sealedRun(s, values.get(s.runId) ?? {}));
  }

  #sealedRun(s: ClosedRunState, parameters: Record<string, ParameterValue>): SealedRun {
    return new SealedRun({
      runId: s.runId,
      status: s.status,
      reason: s.reason,
      parameters,
      records: s.attachments,
      solves: s.solves,
      samplings: s.samplings,
      trace: s.trace,
      registry: this.#host.registry,
      ...(s.record === undefined ? {} : { record: () => Promise.resolve(s.record) }),
    });
  }

  /** The run-parameter table of the closed runs. */
  parametersTable(): Table {
    return runParametersTable(
      this.closedParameters(),
      [...this.#closed.keys()].sort((a, b) => a - b)
    );
  }

  /**
   * Opens a run of the experiment `owner`: inside a run's scope (`exp.run(fn)`, `run.child`,
   * `run.step`) of that experiment, a child of that run unless `nested` is false; under a run
   * `startRun` made current, a child only with `nested: true` (MLflow's rule), else a sibling.
   * @param owner - the experiment
   * @param options - the run's options
   * @param resume - what a resumed run starts from
   * @returns the open run
   */
  openIn(owner: object, options: RunOptions, resume: ResumePoint | undefined): Run {
    const scope = currentScope();
    const parent =
      scope !== undefined &&
      scope.owner === owner &&
      !scope.run.closed &&
      (options.nested ?? scope.scoped)
        ? scope.run
        : undefined;
    const run = this.open(options, parent?.runId, undefined, resume);
    parent?.adoptChild(run);
    return run;
  }

  /**
   * What a resumed run starts from: the closed run's parameters, tags, labels, attributes,
   * description, and the step after each metric's last.
   * @param runId - a closed run
   * @returns the resume point
   * @throws RunledgerError `ARGUMENT_INVALID` when `runId` is no closed run
   */
  async resumePoint(runId: number): Promise<ResumePoint> {
    const state = this.#closed.get(runId);
    if (state === undefined) {
      const reference = this.#host.reference();
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Run ${String(runId)} is not a closed run of experiment ${reference}; resume one of ${this.#closed.size} closed run(s) (ids from exp.runs).`,
        { data: { reference, runId } }
      );
    }
    const old = this.#sealedRun(
      state,
      this.parameters
        .onlyRuns(new Set([runId]))
        .valuesByRun()
        .get(runId) ?? {}
    );
    const info = await old.getInfo();
    const metricSteps = new Map<string, number>();
    for (const name of await old.metricNames()) {
      const { steps } = await old.getMetric(name);
      let last = -1;
      for (const step of steps) if (step > last) last = step;
      metricSteps.set(name, last + 1);
    }
    return {
      runId,
      tags: info.tags,
      labels: info.labels,
      attributes: info.attributes,
      description: info.description,
      params: old.parameters,
      metricSteps,
    };
  }

  /**
   * Adds a closed run (one a crash journal recorded).
   * @param state - the run at its close
   * @param name - its name, when known
   */
  addClosed(state: ClosedRunState, name: string | undefined): void {
    this.#addClosed(state);
    if (name !== undefined) this.#names.add(name);
  }

  #addClosed(state: ClosedRunState): void {
    const before = this.#closed.get(state.runId);
    if (before !== undefined) this.#count(before, -1);
    this.#closed.set(state.runId, state);
    this.#count(state, 1);
    if (state.runId >= this.#nextRunId) this.#nextRunId = state.runId + 1;
  }

  /** Adds (or takes away) what a closed run's layers take in the manifest. */
  #count(state: ClosedRunState, sign: 1 | -1): void {
    const bytes = runLayerBytes(state);
    this.#layerBytes += sign * bytes;
    this.#layers += sign * runLayerCount(state);
    if (sign > 0 && bytes > this.#largest) this.#largest = bytes;
  }

  /**
   * The manifest's size with the closed runs and `extra` bytes more; the part besides the runs'
   * layers is worked out only when it could matter.
   */
  #manifestBytes(extra: number): number | undefined {
    const runs = this.#layerBytes + extra;
    if (runs < MAX_MANIFEST_SIZE / 2) return undefined;
    return runs + this.#host.manifestBase();
  }

  /**
   * Refuses a new run when the manifest could pass its limit with it: every open run and the new
   * one reserved as large as the largest closed run, and some room beyond.
   * @throws RunledgerError `MANIFEST_INVALID` saying what to do
   */
  #checkRoom(): void {
    const reserve = this.#largest * (this.#open.size + 1);
    const bytes = this.#manifestBytes(reserve + MANIFEST_HEADROOM);
    if (bytes === undefined || bytes <= MAX_MANIFEST_SIZE) return;
    throw manifestTooLarge(this.#host.reference(), 'another run', {
      runs: this.#closed.size,
      layers: this.#layers,
      bytes: bytes - MANIFEST_HEADROOM,
    });
  }

  /**
   * Opens a run.
   * @param options - name (checked; generated when absent), tags (checked)
   * @param parentRunId - the parent, for a child run
   * @param recovered - the id and start of a run a crash journal recorded as open
   * @returns the open run
   * @throws RunledgerError `EXPERIMENT_SEALED`, `EXPERIMENT_FAILED`, `ARGUMENT_INVALID`
   */
  open(
    options: RunOptions,
    parentRunId: number | undefined,
    recovered?: {
      runId: number;
      startedAt: Date;
      attributes?: Readonly<Record<string, JsonValue>>;
      resumedFrom?: number | undefined;
    },
    resume?: ResumePoint
  ): Run {
    const host = this.#host;
    host.assertUnsealed();
    // A run a crash journal recorded is restored whatever its size: it is recorded already.
    if (recovered === undefined) this.#checkRoom();
    if (options.name !== undefined) checkRunName(options.name);
    const given = options.tags === undefined ? { tags: {}, labels: [] } : splitTags(options.tags);
    if (options.labels !== undefined) checkLabels(options.labels);
    if (options.description !== undefined) checkDescription(options.description);
    const config = options.config;
    if (config !== undefined) this.#checkParameters(undefined, config);
    const runId = recovered?.runId ?? this.#nextRunId;
    const name = options.name ?? generateRunName(host.reference(), runId, this.#names);
    // The experiment's tags, then the resumed run's, then the run's own: the later ones win.
    const shared = recovered === undefined ? host.runTags : { tags: {}, labels: [] };
    const tags = { ...shared.tags, ...resume?.tags, ...given.tags };
    const labels = [
      ...new Set([
        ...shared.labels,
        ...(resume?.labels ?? []),
        ...given.labels,
        ...(options.labels ?? []),
      ]),
    ];
    const description = options.description ?? resume?.description;
    const attributes = recovered?.attributes ?? resume?.attributes;
    const journal = host.journal;
    const run = new Run(
      runId,
      {
        registry: host.registry,
        logParameter: (id, n, value) => this.#logParameter(id, n, value),
        logParameters: (id, params) => this.#logParameters(id, params),
        observers: host.observers,
        experiment: () => host.reference(),
        closing: (closing) => host.closing(closing),
        closed: (closed, state) => this.#runClosed(closed, state),
        startChild: (parent, childOptions) => this.open(childOptions, parent.runId),
        runScoped: (child, fn, signal) => this.scoped(child, fn, signal),
        journal,
        session: host.session,
        // A run recovered from a crash journal gets no trace: its spans died with the process.
        trace: recovered === undefined ? host.tracing?.startRun(runId, name) : undefined,
      },
      {
        name,
        tags,
        parentRunId,
        reproducible: host.reproducible,
        labels,
        description,
        ...(attributes === undefined ? {} : { attributes }),
        ...(resume === undefined
          ? { resumedFrom: recovered?.resumedFrom }
          : { resumedFrom: resume.runId, metricSteps: resume.metricSteps }),
        ...(recovered === undefined ? {} : { startedAt: recovered.startedAt }),
      }
    );
    if (runId >= this.#nextRunId) this.#nextRunId = runId + 1;
    this.#names.add(name);
    this.#open.set(runId, run);
    if (journal !== undefined) {
      // Built field by field (a run a few hundred µs long makes one of these).
      const record: JournalRecord & { t: 'open' } = {
        t: 'open',
        run: runId,
        name,
        tags: { ...tags },
        at: 0,
      };
      if (parentRunId !== undefined) record.parent = parentRunId;
      if (labels.length > 0) record.labels = labels;
      if (description !== undefined) record.description = description;
      if (attributes !== undefined && Object.keys(attributes).length > 0) {
        record.attrs = { ...attributes };
      }
      if (resume !== undefined) record.resumed = resume.runId;
      if (recovered?.resumedFrom !== undefined) record.resumed = recovered.resumedFrom;
      record.at = (recovered?.startedAt ?? new Date()).getTime();
      journal.append(record);
    }
    if (recovered === undefined) host.opened();
    if (host.observers.active) {
      host.observers.emit('onRunStart', {
        experiment: host.reference(),
        runId,
        name,
        parentRunId,
        tags: { ...tags },
        labels: [...labels],
        description,
        time: (recovered?.startedAt ?? new Date()).getTime(),
      });
    }
    const params = { ...resume?.params, ...config };
    if (Object.keys(params).length > 0) this.#logParameters(runId, params);
    return run;
  }

  #runClosed(run: Run, state: ClosedRunState): Promise<void> {
    // A close whose writes all completed synchronously would resolve through microtasks only:
    // a loop of such runs would never let the event loop turn — no timer (the journal's grouped
    // flush, a paced autosave), no finished I/O, no signal handler. One turn per close, taken
    // while the run still counts as open (as a close that waits for I/O is): a signal that came
    // meanwhile — during a callback that blocked the event loop — reaches its handler, which
    // waits for this close and then takes every run opened after it.
    return nextTurn().then(() => this.#recordClose(run, state));
  }

  /** The run closed: recorded (journaled before the close returns), then the experiment told. */
  #recordClose(run: Run, state: ClosedRunState): Promise<void> {
    this.#open.delete(state.runId);
    this.#addClosed(state);
    const journal = this.#host.journal;
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
        ...(state.trace === undefined ? {} : { trace: state.trace }),
        ...(state.record === undefined ? {} : { rec: state.record }),
        at: Date.now(),
      });
    }
    if (this.#host.observers.active) {
      this.#host.observers.emit('onRunEnd', {
        experiment: this.#host.reference(),
        runId: state.runId,
        name: run.name,
        status: state.status,
        reason: state.reason,
        time: Date.now(),
      });
    }
    const closed = this.#host.closed(run, this.#open.size === 0);
    const bytes = this.#manifestBytes(0);
    if (bytes === undefined || bytes <= MAX_MANIFEST_SIZE) return closed;
    // Far larger than any run before it: recorded (journaled), but past what one manifest holds.
    const error = manifestTooLarge(this.#host.reference(), `run ${state.runId}`, {
      runs: this.#closed.size,
      layers: this.#layers,
      bytes,
    });
    return closed.then(() => {
      throw error;
    });
  }

  /**
   * Runs `fn` in `run`: finished when `fn` returns, failed (or interrupted, for an abort) when
   * it throws, the error rethrown; `currentRun()` is `run` inside `fn`. With a signal the run
   * ends when the signal fires, whatever the callback is doing.
   * @param run - the open run
   * @param fn - the trial
   * @param signal - ends the run as interrupted
   * @returns what `fn` returns
   */
  async scoped<T>(
    run: Run,
    fn: (run: Run) => T | Promise<T>,
    signal: AbortSignal | undefined
  ): Promise<T> {
    let result: T;
    let onAbort: (() => void) | undefined;
    try {
      const body = Promise.resolve(this.#host.withRun(run, () => fn(run)));
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
        if (signal?.aborted === true) await this.#host.checkpointInterrupted();
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
    this.parameters.log(runId, name, value);
    this.#host.journal?.append({
      t: 'param',
      run: runId,
      name,
      value: encodeValue(value),
      at: Date.now(),
    });
    if (this.#host.observers.active) {
      this.#host.observers.emit('onParams', {
        experiment: this.#host.reference(),
        runId,
        params: { [name]: value },
        time: Date.now(),
      });
    }
  }

  /** Checks every entry of a parameter batch without logging any. */
  #checkParameters(runId: number | undefined, params: unknown): void {
    if (!isPlainRecord(params)) {
      throw new RunledgerError(
        'PARAMETER_INVALID',
        `Parameters must be a plain object of name → value, not ${describeValue(params)}.`
      );
    }
    for (const [name, value] of Object.entries(params)) {
      if (name === 'run_id') {
        throw new RunledgerError(
          'NAME_RESERVED',
          'Parameter name "run_id" is reserved for the run table key.',
          { data: { name, runId } }
        );
      }
      this.parameters.check(runId ?? this.#nextRunId, name, value as ParameterValue);
    }
  }

  /** Logs a batch of parameters: all checked first, none logged when one is refused. */
  #logParameters(runId: number, params: Readonly<Record<string, ParameterValue>>): void {
    this.#checkParameters(runId, params);
    const journal = this.#host.journal;
    for (const [name, value] of Object.entries(params)) {
      this.parameters.log(runId, name, value);
      journal?.append({ t: 'param', run: runId, name, value: encodeValue(value), at: Date.now() });
    }
    if (this.#host.observers.active) {
      this.#host.observers.emit('onParams', {
        experiment: this.#host.reference(),
        runId,
        params: { ...params },
        time: Date.now(),
      });
    }
  }
}

/**
 * Resolves after the event loop went through a poll phase (I/O, signals): two check phases
 * later, since a first `setImmediate` made during a poll phase runs right after it.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** The digests of a closed run's layers. */
function layerDigests(r: ClosedRunState): Digest[] {
  const out: Digest[] = [];
  for (const a of r.attachments.values()) out.push(a.descriptor.digest);
  if (r.trace !== undefined) out.push(r.trace.digest);
  for (const c of [...r.solves, ...r.samplings]) {
    out.push(c.input.digest);
    if (c.output !== undefined) out.push(c.output.digest);
    if (c.diagnostics !== undefined) out.push(c.diagnostics.digest);
  }
  return out;
}

/**
 * Whether an error means the work was interrupted rather than failed.
 * @param error - what was thrown
 * @returns true for an `AbortError` or a `TimeoutError`
 */
export function isInterruption(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** The error an aborted signal stands for. */
function abortReason(signal: AbortSignal): unknown {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new DOMException(r === undefined ? 'This operation was aborted' : String(r), 'AbortError');
}
