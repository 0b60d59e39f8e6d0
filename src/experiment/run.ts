/**
 * @module experiment/run
 * An open run: parameters and attachments are logged into it until it closes, then it is
 * immutable. Its blobs are made durable together when it closes.
 */
import { basename } from 'node:path';
import { RunledgerError } from '../errors.js';
import type { JsonValue } from '../oci/canonical-json.js';
import type { BlobBatch } from '../store/blob-batch.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { AttachmentWriter, type AttachmentRecord } from './attachments.js';
import type { RunStatus } from './config.js';
import type { Descriptor } from '../oci/types.js';
import type { Journal } from './journal.js';
import type { RunTrace } from './trace.js';
import type { ParameterValue } from './parameters.js';
import type { Instance } from '../ommx/instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';
import type { SamplerAdapter, SolverAdapter } from '../solve/adapter.js';
import { RunSolves } from './run-solves.js';
import { bindAttachmentLog, RunScope } from './scope.js';
import {
  MEDIA_TYPE_METRICS,
  METRICS_ATTACHMENT,
  MetricLog,
  checkPoint,
  type LogMetricOptions,
} from './metrics.js';
import { checkOptions, describeValue, isPlainRecord } from './options.js';
import type { LoggedRun, ObserverSet, RunEndStatus } from './logger.js';
import { validateName } from './parameters.js';
import {
  checkAttributes,
  checkTag,
  runRecordValue,
  type RunRecordValue,
  RUN_OPTION_KEYS,
  RUN_SCOPE_OPTION_KEYS,
  runError,
  splitTags,
  type RunOptions,
  type RunScopeOptions,
} from './run-record.js';
import {
  openSolve,
  recordCall,
  type OpenSolve,
  type SolveControls,
  type SolveRecord,
} from './solve.js';

/** What an open run needs from its experiment. @internal */
export interface RunHost {
  readonly registry: LocalRegistry;
  /** Validates and records a parameter of an open run. */
  logParameter(runId: number, name: string, value: ParameterValue): void;
  /** Called once when the run closes, after its blobs are durable; resolves after the autosave. */
  closed(run: Run, state: ClosedRunState): Promise<void>;
  /** Opens a child run of `parent`. */
  startChild(parent: Run, options: RunOptions): Run;
  /** Runs `fn` in `run` (current run, closed by the outcome). */
  runScoped<T>(
    run: Run,
    fn: (run: Run) => T | Promise<T>,
    signal: AbortSignal | undefined
  ): Promise<T>;
  /** The experiment's crash journal, when it keeps one. */
  readonly journal: Journal | undefined;
  /** The experiment's store session: every blob the run writes is pinned there first. */
  readonly session: StoreSession;
  /** The experiment's observers, and its reference for their events. */
  readonly observers: ObserverSet;
  experiment(): string;
  /** Logs several parameters of an open run at once: all checked first, none logged if one fails. */
  logParameters(runId: number, params: Readonly<Record<string, ParameterValue>>): void;
  /** The run begins to close (synchronously, before anything is awaited). */
  closing(run: Run): void;
  /** The run's trace (`storeTrace`), its `Run` span started. */
  readonly trace?: RunTrace | undefined;
}

/** Who a run is, set when it opens. @internal */
export interface RunIdentity {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly parentRunId: number | undefined;
  /** Leave wall-clock times and the host out of the run record. */
  readonly reproducible: boolean;
  /** When it opened (a run recovered from the journal keeps its original start). */
  readonly startedAt?: Date;
  readonly labels?: readonly string[];
  readonly description?: string | undefined;
  readonly attributes?: Readonly<Record<string, JsonValue>>;
  /** The run this one continues, and where its metrics' steps go on from. */
  readonly resumedFrom?: number | undefined;
  readonly metricSteps?: ReadonlyMap<string, number>;
}

/** A run's state at close. @internal */
export interface ClosedRunState {
  readonly runId: number;
  readonly status: RunStatus;
  readonly reason: string | undefined;
  readonly attachments: ReadonlyMap<string, AttachmentRecord>;
  /** Solves in solve id order. */
  readonly solves: readonly SolveRecord[];
  /** Samplings in sampling id order. */
  readonly samplings: readonly SolveRecord[];
  /** The trace layer (`storeTrace`, or carried from the experiment it continues). */
  readonly trace?: Descriptor;
  /**
   * The run record (name, tags, times, …), written with every manifest in the experiment's
   * `runledger.runs` attachment; absent for runs recorded without runledger, and for runs of an
   * earlier artifact that hold theirs as the attachment `runledger.run`.
   */
  readonly record?: RunRecordValue;
}

/**
 * An open run. Get one from `experiment.run(fn)` (closed for you) or `experiment.startRun()`
 * (close it with `finish()`, or `await using` it).
 *
 * @example
 * ```ts
 * await exp.run(async (run) => {
 *   run.logParameter('solver', 'highs');
 *   await run.logJson('settings', { presolve: true });
 * });
 * ```
 */
export class Run extends RunScope implements LoggedRun {
  /** Allocated when the run opened, from 0. */
  readonly runId: number;
  /** Given, or generated (`clever-rabbit-492`), unique in the experiment. */
  readonly name: string;
  /** The run this one was opened under (`run.child`), if any. */
  readonly parentRunId: number | undefined;
  readonly #tags: Record<string, string> = {};
  readonly #labels: string[] = [];
  readonly #attributes: Record<string, JsonValue> = {};
  /** A free-text description, if one was given. */
  readonly description: string | undefined;
  /** The run this one continues (`startRun({ resumeFrom })`), if any. */
  readonly resumedFrom: number | undefined;
  readonly #startedAt: Date;
  readonly #reproducible: boolean;
  readonly #children = new Set<Run>();
  readonly #host: RunHost;
  readonly #writer: AttachmentWriter;
  readonly #inflight = new Set<Promise<unknown>>();
  /** The run's solver calls: made on first use (most runs of a study make none). */
  #solves: RunSolves | undefined;
  readonly #metrics: MetricLog;
  #batch: BlobBatch | undefined;
  #closing = false;
  #closed = false;
  /** The close under way or done (never rejects): a failing scope waits for it. */
  #settled: Promise<void> = Promise.resolve();

  /** @internal Use `experiment.run()` or `experiment.startRun()`. */
  constructor(runId: number, host: RunHost, identity: RunIdentity) {
    super();
    bindAttachmentLog(this, (write) => this.#track(write(this.#writer)));
    this.runId = runId;
    this.#host = host;
    this.name = identity.name;
    this.parentRunId = identity.parentRunId;
    this.#reproducible = identity.reproducible;
    this.#metrics = new MetricLog({ reproducible: identity.reproducible });
    if (identity.metricSteps !== undefined) this.#metrics.continueSteps(identity.metricSteps);
    this.#startedAt = identity.startedAt ?? new Date();
    this.description = identity.description;
    this.resumedFrom = identity.resumedFrom;
    const journal = host.journal;
    for (const [k, v] of Object.entries(identity.tags)) {
      checkTag(k, v);
      this.#tags[k] = v;
    }
    for (const l of identity.labels ?? []) if (!this.#labels.includes(l)) this.#labels.push(l);
    Object.assign(this.#attributes, identity.attributes ?? {});
    this.#writer = new AttachmentWriter(
      `run ${runId}`,
      {
        registry: host.registry,
        batch: () => this.#openBatch(),
        flush: async () => undefined,
        ...(journal === undefined
          ? {}
          : {
              stored: (record: AttachmentRecord, batch: BlobBatch) =>
                journal.appendWithBlobs({ t: 'att', run: runId, record, at: Date.now() }, batch, [
                  record.descriptor.digest,
                ]),
            }),
        recorded: (record: AttachmentRecord) => {
          if (!host.observers.active) return;
          host.observers.emit('onAttachment', {
            experiment: host.experiment(),
            runId,
            name: record.name,
            mediaType: record.mediaType,
            size: record.descriptor.size,
            time: Date.now(),
          });
        },
      },
      () => this.#assertOpen()
    );
    journal?.watchMetrics(runId, this.#metrics);
  }

  get #calls(): RunSolves {
    const host = this.#host;
    return (this.#solves ??= new RunSolves({
      runId: this.runId,
      journal: host.journal,
      observers: host.observers,
      experiment: () => host.experiment(),
      assertOpen: () => this.#assertOpen(),
      openBatch: () => this.#openBatch(),
      currentBatch: () => this.#batch,
      track: (p) => this.#track(p),
      startSpan: (call) => host.trace?.startCall(call),
    }));
  }

  /** The run's blob batch (one per run, committed at close), its blobs pinned by the session. */
  #openBatch(): BlobBatch {
    return (this.#batch ??= this.#host.registry.batch({ session: this.#host.session }));
  }

  /**
   * Puts back what the crash journal recorded of this run (attachments, solves, metric points)
   * before it is closed as interrupted.
   * @internal
   */
  recover(entries: {
    attachments: readonly AttachmentRecord[];
    solves: readonly { kind: 'solve' | 'sampling'; record: SolveRecord }[];
    metrics: readonly { name: string; step: number; timestamp: number; value: number }[];
  }): void {
    this.#writer.adopt(entries.attachments);
    for (const s of entries.solves) this.#calls.adopt(s.kind, s.record);
    for (const m of entries.metrics) {
      this.#metrics.log(m.name, m.value, { step: m.step, timestamp: m.timestamp });
    }
  }

  /** Whether the run is closed (finished, failed or interrupted). */
  get closed(): boolean {
    return this.#closed || this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) {
      throw new RunledgerError(
        'RUN_CLOSED',
        `Run ${this.runId} is closed; it cannot be changed any more.`,
        { data: { runId: this.runId } }
      );
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Logs a scalar parameter, validated now: name non-empty, ≤ 256 characters, no control
   * characters; value a boolean, a number (integers are int64, others float64; NaN and ±Infinity
   * kept), a bigint in int64 range, or a string. Its type must agree with the column's type in
   * other runs (int64 promotes to float64). Logging a name again is allowed only with the same value.
   *
   * @param name - the parameter name
   * @param value - the value
   * @throws RunledgerError `PARAMETER_INVALID`, `PARAMETER_TYPE_CONFLICT`, `RUN_CLOSED`
   * @example
   * ```ts
   * run.logParameter('time_limit', 20);
   * ```
   */
  logParameter(name: string, value: ParameterValue): void {
    this.#assertOpen();
    this.#host.logParameter(this.runId, name, value);
  }

  /**
   * Logs several parameters (the logger protocol's batch): every entry is checked first, and
   * nothing is logged when one is refused.
   * @param params - name → value, as {@link Run.logParameter} takes them
   * @throws RunledgerError `PARAMETER_INVALID`, `PARAMETER_TYPE_CONFLICT`, `RUN_CLOSED`
   * @example
   * ```ts
   * run.logParams({ solver: 'highs', time_limit: 20 });
   * ```
   */
  logParams(params: Readonly<Record<string, ParameterValue>>): void {
    this.#assertOpen();
    if (!isPlainRecord(params)) {
      throw new RunledgerError(
        'PARAMETER_INVALID',
        `logParams takes a plain object of name → value, not ${describeValue(params)}.`
      );
    }
    this.#host.logParameters(this.runId, params);
  }

  /**
   * Logs a file as an attachment named `name` (its basename by default): the logger protocol's
   * `logArtifact`, {@link Run.logFile} underneath.
   * @param path - a regular file
   * @param options - name
   * @returns when written
   * @throws as {@link Run.logFile}
   */
  logArtifact(path: string, options: { readonly name?: string } = {}): Promise<void> {
    return this.logFile(options.name ?? basename(path), path);
  }

  /** The run's labels so far (tags without a value), in the order first given. */
  get labels(): readonly string[] {
    return [...this.#labels];
  }

  /** The run's attributes so far. */
  get attributes(): Readonly<Record<string, JsonValue>> {
    return { ...this.#attributes };
  }

  /**
   * Sets a typed attribute: a JSON value (number, string, boolean, null, array or object), kept
   * apart from parameters and shown in the runs table as `attributes.<name>`.
   * @param name - parameter-name rules
   * @param value - a JSON value
   * @throws RunledgerError `ARGUMENT_INVALID` (a name, or a value JSON cannot hold), `RUN_CLOSED`
   * @example
   * ```ts
   * run.setAttribute('dataset', { name: 'qaplib', size: 134 });
   * ```
   */
  setAttribute(name: string, value: JsonValue): void {
    this.setAttributes({ [name]: value });
  }

  /**
   * Sets several attributes; nothing is set if one is refused.
   * @param attributes - name → JSON value
   * @throws RunledgerError `ARGUMENT_INVALID`, `RUN_CLOSED`
   */
  setAttributes(attributes: Readonly<Record<string, JsonValue>>): void {
    this.#assertOpen();
    const checked = checkAttributes(attributes);
    Object.assign(this.#attributes, checked);
    this.#host.journal?.append({ t: 'attrs', run: this.runId, attrs: checked, at: Date.now() });
  }

  /** The run's tags so far. */
  get tags(): Readonly<Record<string, string>> {
    return { ...this.#tags };
  }

  /**
   * Sets a tag (replacing its value), while the run is open.
   * @param key - parameter-name rules
   * @param value - a string
   * @throws RunledgerError `ARGUMENT_INVALID`, `RUN_CLOSED`
   * @example
   * ```ts
   * run.setTag('stage', 'grid');
   * ```
   */
  setTag(key: string, value: string): void {
    this.#assertOpen();
    checkTag(key, value);
    this.setTags({ [key]: value });
  }

  /**
   * Sets several tags; nothing is set if one is invalid. A list of strings adds labels
   * (`run.setTags(['baseline', 'gpu'])`).
   * @param tags - a plain object, key → string value; or an array of labels
   * @throws RunledgerError `ARGUMENT_INVALID`, `RUN_CLOSED`
   */
  setTags(tags: Readonly<Record<string, string>> | readonly string[]): void {
    this.#assertOpen();
    const split = splitTags(tags);
    Object.assign(this.#tags, split.tags);
    const added = split.labels.filter((l) => !this.#labels.includes(l));
    this.#labels.push(...added);
    this.#host.journal?.append({
      t: 'tags',
      run: this.runId,
      tags: { ...split.tags },
      ...(added.length === 0 ? {} : { labels: added }),
      at: Date.now(),
    });
    if (this.#host.observers.active) {
      const event = { experiment: this.#host.experiment(), runId: this.runId, time: Date.now() };
      this.#host.observers.emit('onTags', { ...event, tags: { ...split.tags }, labels: added });
    }
  }

  /**
   * Opens a nested run: an ordinary run with its own id whose `parent_run_id` is this run.
   * Close it with `finish()`; this run cannot finish while a child is open.
   * @param options - name, tags
   * @returns the child run
   * @throws RunledgerError `RUN_CLOSED`, `ARGUMENT_INVALID`
   */
  startChild(options: RunOptions = {}): Run {
    return this.#startChild(checkOptions(options, RUN_OPTION_KEYS, 'run.startChild'));
  }

  /**
   * Makes `child` (opened by the experiment, e.g. `exp.run` inside this run's scope) a child
   * this run waits for before it can finish.
   * @internal
   */
  adoptChild(child: Run): void {
    this.#children.add(child);
  }

  #startChild(options: RunOptions): Run {
    this.#assertOpen();
    const child = this.#host.startChild(this, options);
    this.#children.add(child);
    return child;
  }

  /**
   * Runs `fn` in a nested run (the current run inside it), closed like `exp.run`: finished when
   * `fn` returns, failed when it throws (the error is rethrown; catch it and this run goes on).
   * @param fn - the nested trial
   * @param options - name, tags
   * @returns what `fn` returns
   * @throws whatever `fn` throws
   * @example
   * ```ts
   * await run.child(async (c) => { c.logParameter('fold', 1); }, { name: 'fold-1' });
   * ```
   */
  child<T>(fn: (run: Run) => T | Promise<T>, options: RunScopeOptions = {}): Promise<T> {
    let child: Run;
    try {
      child = this.#startChild(checkOptions(options, RUN_SCOPE_OPTION_KEYS, 'run.child'));
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#host.runScoped(child, fn, options.signal);
  }

  /**
   * Runs `fn` as a named step of this run: a child run named `<this run's name>/<name>`, so
   * grouped operations (search → fit → evaluate) show their boundaries. Closed like
   * {@link Run.child}: failed when `fn` throws (rethrown), finished when it returns.
   * @param name - the step's name
   * @param fn - the step
   * @param options - tags, description, signal
   * @returns what `fn` returns
   * @example
   * ```ts
   * await exp.run(async (run) => {
   *   await run.step('fit', async (fit) => fit.logMetric('loss', 0.1));
   * }, { name: 'trial' }); // a child run named trial/fit
   * ```
   */
  step<T>(
    name: string,
    fn: (run: Run) => T | Promise<T>,
    options: Omit<RunScopeOptions, 'name'> = {}
  ): Promise<T> {
    return this.child(fn, { ...options, name: `${this.name}/${name}` });
  }

  /**
   * Logs one point of a stepped metric (beyond OMMX): a float64 value at a step (a non-negative
   * integer; by default one more than this metric's last step, from 0) and a timestamp
   * (milliseconds since the epoch; default now, or 0 in a reproducible experiment). A refused
   * point changes nothing: its metric is not created. The history is stored columnar at run
   * close as the run attachment `runledger.metrics`.
   * @param name - the metric (same rules as parameter names)
   * @param value - a number (NaN and ±Infinity kept)
   * @param options - step, timestamp
   * @throws RunledgerError `METRIC_INVALID`, `RUN_CLOSED`
   * @example
   * ```ts
   * for (let epoch = 0; epoch < 3; epoch++) run.logMetric('loss', 1 / (epoch + 1));
   * ```
   */
  logMetric(name: string, value: number, options?: LogMetricOptions): void {
    this.#assertOpen();
    const step = this.#metrics.log(name, value, options);
    this.#host.journal?.metricLogged();
    if (this.#host.observers.active) {
      this.#emitMetrics({ [name]: value }, step, options?.timestamp);
    }
  }

  #emitMetrics(values: Record<string, number>, step: number, timestamp: number | undefined): void {
    this.#host.observers.emit('onMetrics', {
      experiment: this.#host.experiment(),
      runId: this.runId,
      values,
      step,
      time: timestamp ?? Date.now(),
    });
  }

  /**
   * Logs several metrics at once, sharing one step (when given) and one timestamp.
   * @param values - metric name → value
   * @param options - step, timestamp
   * @throws RunledgerError `METRIC_INVALID` (nothing of the record is logged), `RUN_CLOSED`
   * @example
   * ```ts
   * run.logMetrics({ loss: 0.3, accuracy: 0.91 }, { step: 10 });
   * ```
   */
  logMetrics(values: Readonly<Record<string, number>>, options: LogMetricOptions = {}): void {
    this.#assertOpen();
    const timestamp = options.timestamp ?? this.#metrics.defaultTimestamp();
    const shared: LogMetricOptions =
      options.step === undefined ? { timestamp } : { step: options.step, timestamp };
    if (values === null || typeof values !== 'object') {
      throw new RunledgerError('METRIC_INVALID', 'logMetrics takes an object of name → number.');
    }
    const entries = Object.entries(values);
    // Check the whole record first, so a bad entry logs nothing.
    for (const [name, value] of entries) {
      validateName(name, 'metric', 'METRIC_INVALID');
      checkPoint(name, value, shared.step ?? 0, timestamp);
    }
    // Without a step each metric takes its own next one: observers get one event per step.
    const byStep = new Map<number, Record<string, number>>();
    for (const [name, value] of entries) {
      const step = this.#metrics.log(name, value, shared);
      let group = byStep.get(step);
      if (group === undefined) byStep.set(step, (group = {}));
      group[name] = value;
    }
    this.#host.journal?.metricLogged();
    if (this.#host.observers.active) {
      for (const [step, group] of byStep) this.#emitMetrics(group, step, timestamp);
    }
  }

  /**
   * Solves `instance` with a solver adapter and records the call as a Solve: the caller's
   * Instance as input (the adapter gets a deep copy), the adapter's name, the options as JSON
   * (checked before solving), the Solution as output, and — with `storeDiagnostics` — what the
   * adapter reported. The Solution's process metadata gets the wall-clock start and end, the
   * input's digest and the options, where the adapter left them empty. When the adapter throws,
   * the Solve is recorded as failed (interrupted for an abort) without output, and the adapter's
   * own error is rethrown.
   * @param adapter - a {@link SolverAdapter}, e.g. `HighsAdapter`
   * @param instance - the problem
   * @param options - adapter options (a plain JSON object)
   * @param controls - storeDiagnostics, signal
   * @returns the recorded Solution
   * @throws RunledgerError `ADAPTER_INVALID`, `ARGUMENT_INVALID` (options not JSON, or naming
   *   `diagnostics`; the adapter is then never called), `RUN_CLOSED`; the adapter's errors
   * @example
   * ```ts
   * const solution = await run.logSolve(HighsAdapter, instance, { timeLimit: 10 });
   * ```
   */
  logSolve<O extends object>(
    adapter: SolverAdapter<O>,
    instance: Instance,
    options: O = {} as O,
    controls: SolveControls = {}
  ): Promise<Solution> {
    return this.#calls.call(
      recordCall<Solution>(
        this.#calls.host,
        'solve',
        adapter as SolverAdapter<object>,
        instance,
        options,
        controls
      )
    );
  }

  /**
   * Samples `instance` with a sampler adapter and records the call as a Sampling (SampleSet
   * output); otherwise as {@link Run.logSolve}. A sampling with no feasible sample is still
   * finished.
   * @param adapter - a {@link SamplerAdapter}
   * @param instance - the problem
   * @param options - adapter options (a plain JSON object)
   * @param controls - storeDiagnostics, signal
   * @returns the recorded SampleSet
   * @throws as {@link Run.logSolve}
   * @example
   * ```ts
   * const samples = await run.logSample(MySampler, instance, { reads: 100 });
   * ```
   */
  logSample<O extends object>(
    adapter: SamplerAdapter<O>,
    instance: Instance,
    options: O = {} as O,
    controls: SolveControls = {}
  ): Promise<SampleSet> {
    return this.#calls.call(
      recordCall<SampleSet>(
        this.#calls.host,
        'sampling',
        adapter as SamplerAdapter<object>,
        instance,
        options,
        controls
      )
    );
  }

  /**
   * Opens a solve driven by hand: the adapter's `prepare` builds the backend model
   * (`solverInput`), you run the backend and `decode` its output, then `close()` records it. A
   * failing `prepare` is recorded as a failed solve and rethrown.
   * @param adapter - a {@link SolverAdapter} with `prepare`
   * @param instance - the problem
   * @param options - adapter options (a plain JSON object)
   * @param controls - storeDiagnostics, signal
   * @returns the open solve
   * @throws as {@link Run.logSolve}
   * @example
   * ```ts
   * await using solve = await run.openSolve(HighsAdapter, instance);
   * await solve.decode(runHighsMyself(solve.solverInput));
   * ```
   */
  openSolve<O extends object, I, Out>(
    adapter: SolverAdapter<O, I, Out>,
    instance: Instance,
    options: O = {} as O,
    controls: SolveControls = {}
  ): Promise<OpenSolve<I, Out>> {
    return this.#track(
      openSolve(this.#calls.host, adapter, instance, options, controls).then((solve) => {
        this.#calls.opened(solve as OpenSolve);
        return solve;
      })
    );
  }

  /**
   * Closes the run as finished.
   * @returns when its blobs are durable and the experiment records it
   * @throws RunledgerError `RUN_CLOSED` when already closed; `IO_ERROR` when its blobs cannot
   *   be made durable — the run then stays open with everything logged, and `finish()` can be
   *   called again
   */
  finish(status: RunEndStatus = 'finished'): Promise<void> {
    if (status !== 'finished' && status !== 'failed' && status !== 'interrupted') {
      return Promise.reject(
        new RunledgerError(
          'ARGUMENT_INVALID',
          `A run finishes as finished, failed or interrupted, not ${describeValue(status)}.`
        )
      );
    }
    return this.close(status, status === 'finished' ? undefined : `ended ${status} by the caller`);
  }

  /**
   * Closes the run as failed unless it was finished: JavaScript gives a disposer no access to
   * the exception that left the scope, so the reason says the scope ended before `finish()`.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.close('failed', 'disposed before finish()');
  }

  /** The run record: no blob of its own (the experiment's `runledger.runs` holds it). */
  #runRecord(error: unknown, endedAt: Date | undefined): RunRecordValue {
    return runRecordValue({
      name: this.name,
      tags: this.#tags,
      parentRunId: this.parentRunId,
      startedAt: this.#startedAt,
      endedAt: endedAt ?? new Date(),
      error: error === undefined ? undefined : runError(error),
      reproducible: this.#reproducible,
      description: this.description,
      labels: this.#labels,
      attributes: this.#attributes,
      resumedFrom: this.resumedFrom,
    });
  }

  /** The metrics attachment (the run logged metrics), its blob put into the run's batch. */
  async #metricsRecord(): Promise<AttachmentRecord> {
    const put = await this.#openBatch().putBlob(this.#metrics.encode());
    const mediaType = MEDIA_TYPE_METRICS;
    const descriptor = { mediaType, ...put, annotations: {} };
    return { name: METRICS_ATTACHMENT, descriptor, mediaType, compression: 'none' };
  }

  /**
   * Closes the run with a status. Waits for attachment writes in flight, makes the run's blobs
   * durable in one step, then hands it to the experiment.
   * @internal
   */
  close(
    status: RunStatus,
    reason: string | undefined,
    error?: unknown,
    endedAt?: Date
  ): Promise<void> {
    const wasOpen = !this.closed;
    if (wasOpen) this.#host.closing(this);
    const closing = this.#close(status, reason, error, endedAt);
    if (wasOpen) {
      this.#settled = closing.then(
        () => undefined,
        () => undefined
      );
    }
    return closing;
  }

  /**
   * Resolves when the close under way (if any) has ended, whatever its outcome: a run whose
   * callback returned just as its experiment's scope failed is closed, and included, first.
   * @internal
   */
  get settled(): Promise<void> {
    return this.#settled;
  }

  async #close(
    status: RunStatus,
    reason: string | undefined,
    error: unknown,
    endedAt: Date | undefined
  ): Promise<void> {
    this.#assertOpen();
    const open = [...this.#children].filter((c) => !c.closed);
    if (open.length > 0 && status === 'finished') {
      const ids = open.map((c) => c.runId);
      throw new RunledgerError(
        'RUNS_OPEN',
        `Run ${this.runId} cannot finish while its child run(s) ${ids.join(', ')} are open; finish them first.`,
        { data: { runId: this.runId, openRunIds: ids } }
      );
    }
    // A parent that fails or is interrupted takes its open children with it.
    for (const c of open) {
      if (!c.closed) await c.close(status, `parent run ${this.runId} ${status}`);
    }
    this.#closing = true;
    // Solver calls still running are stopped (and recorded as interrupted) rather than awaited.
    if (status !== 'finished') this.#solves?.interruptRunning(reason ?? status);
    // Each step is awaited only when there is something to wait for (a run that logged a few
    // values and a JSON closes without a promise of its own).
    if (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    // A solve opened by hand and never closed is kept, as failed: what it took in is recorded.
    if (this.#solves?.anyOpen === true) await this.#solves.failOpen(this.runId);
    let metrics: AttachmentRecord | undefined;
    let trace: Descriptor | undefined;
    // Content is flushed now; the directory entries become durable with the next manifest
    // written to the store (commit or checkpoint), which fsyncs blobs/sha256 before its ref.
    try {
      if (this.#metrics.size > 0) metrics = await this.#metricsRecord();
      const tracing = this.#host.trace;
      if (tracing !== undefined) {
        trace = await tracing.store(status, reason, (b) => this.#openBatch().putBlob(b));
      }
      if (this.#batch !== undefined) await this.#batch.commit({ syncDirectory: false });
    } catch (e) {
      // Nothing logged is lost: the run stays open and finish() can be called again once the
      // cause (a full disk, say) is fixed.
      this.#closing = false;
      throw e;
    }
    const record = this.#runRecord(error, endedAt);
    this.#closed = true;
    await this.#host.closed(this, {
      runId: this.runId,
      status,
      reason,
      attachments: new Map([
        ...this.#writer.records,
        ...(metrics === undefined ? [] : ([[METRICS_ATTACHMENT, metrics]] as const)),
      ]),
      solves: this.#solves === undefined ? [] : [...this.#solves.solves],
      samplings: this.#solves === undefined ? [] : [...this.#solves.samplings],
      ...(trace === undefined ? {} : { trace }),
      record,
    });
  }
}
