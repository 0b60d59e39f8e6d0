/**
 * @module experiment/logger
 * The logger protocol experiment-runner code programs against (`startRun` → a run that takes
 * params, metrics, artifacts and tags, then finishes), and the observer hooks an experiment calls
 * as its runs live. runledger's `Experiment` is such a logger; `src/loggers/` holds the others
 * (a composite that fans one run out to several, a JSON Lines event log, a console line).
 */
import type { ParameterValue } from './parameters.js';

/** How a run ends. */
export type RunEndStatus = 'finished' | 'failed' | 'interrupted';

/** Tags: key/value pairs, or a list of labels (`['baseline', 'gpu']`). */
export type TagsInput = Readonly<Record<string, string>> | readonly string[];

/** Options of {@link Logger.startRun}. */
export interface StartRunOptions {
  /** The run's name; generated when absent. */
  readonly name?: string;
  /** Parameters logged as the run starts (a flat record of scalars). */
  readonly config?: Readonly<Record<string, ParameterValue>>;
  /** Key/value tags, or a list of labels. */
  readonly tags?: TagsInput;
  /**
   * Inside a run scope: `true` (the default) opens a child of the current run, `false` a
   * top-level run.
   */
  readonly nested?: boolean;
  /** A free-text description of the run. */
  readonly description?: string;
}

/** A run as a logger hands it out: log into it, then finish it (or let `await using` do it). */
export interface LoggedRun extends AsyncDisposable {
  /** The run's name. */
  readonly name: string;
  /** Logs parameters (scalars). */
  logParams(params: Readonly<Record<string, ParameterValue>>): void | Promise<void>;
  /** Logs metric values at one step (the next step when `step` is absent). */
  logMetrics(
    values: Readonly<Record<string, number>>,
    options?: { readonly step?: number }
  ): void | Promise<void>;
  /** Logs a file as an artifact, under `name` (its basename by default). */
  logArtifact(path: string, options?: { readonly name?: string }): Promise<void>;
  /** Sets key/value tags. */
  setTags(tags: Readonly<Record<string, string>>): void | Promise<void>;
  /**
   * Ends the run (`finished` by default). runledger's `Run` refuses a second call (`RUN_CLOSED`);
   * `CompositeLogger` makes it a no-op.
   */
  finish(status?: RunEndStatus): Promise<void>;
}

/** Something that records runs: runledger's Experiment, a JSON Lines log, a console line… */
export interface Logger {
  /** Opens a run. */
  startRun(options?: StartRunOptions): LoggedRun | Promise<LoggedRun>;
}

/** A run started (`onRunStart`). */
export interface RunStartEvent {
  /** The experiment's reference. */
  readonly experiment: string;
  readonly runId: number;
  readonly name: string;
  readonly parentRunId: number | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
  readonly description: string | undefined;
  /** When it opened (ms since the epoch). */
  readonly time: number;
}

/** Parameters logged (`onParams`). */
export interface ParamsEvent {
  readonly experiment: string;
  readonly runId: number;
  readonly params: Readonly<Record<string, ParameterValue>>;
  readonly time: number;
}

/** Metric points logged at one step (`onMetrics`). */
export interface MetricsEvent {
  readonly experiment: string;
  readonly runId: number;
  readonly values: Readonly<Record<string, number>>;
  readonly step: number;
  /** The points' timestamp (ms since the epoch). */
  readonly time: number;
}

/** An attachment stored (`onAttachment`); `runId` is undefined for an experiment attachment. */
export interface AttachmentEvent {
  readonly experiment: string;
  readonly runId: number | undefined;
  readonly name: string;
  readonly mediaType: string;
  /** Stored bytes. */
  readonly size: number;
  readonly time: number;
}

/** Tags set on an open run (`onTags`): key/value tags, and the labels it added. */
export interface TagsEvent {
  readonly experiment: string;
  readonly runId: number;
  readonly tags: Readonly<Record<string, string>>;
  /** Labels added (a list passed to `setTags`). */
  readonly labels: readonly string[];
  readonly time: number;
}

/** A solver or sampler call recorded (`onSolve`). */
export interface SolveEvent {
  readonly experiment: string;
  readonly runId: number;
  readonly kind: 'solve' | 'sampling';
  readonly solveId: number;
  readonly adapter: string;
  readonly status: RunEndStatus;
  readonly time: number;
}

/** A run closed (`onRunEnd`). */
export interface RunEndEvent {
  readonly experiment: string;
  readonly runId: number;
  readonly name: string;
  readonly status: RunEndStatus;
  readonly reason: string | undefined;
  readonly time: number;
}

/** A sweep's progress (`onSweep`). */
export interface SweepEvent {
  readonly experiment: string;
  /** Configs in this shard. */
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly time: number;
}

/** A checkpoint written (`onCheckpoint`). */
export interface CheckpointEvent {
  readonly experiment: string;
  readonly status: string;
  readonly runCount: number;
  readonly time: number;
}

/** The experiment committed (`onCommit`). */
export interface CommitEvent {
  readonly experiment: string;
  readonly manifestDigest: string;
  readonly runCount: number;
  readonly time: number;
}

/**
 * Lifecycle hooks of an experiment (`exp.observe(observer)`). Every hook is optional. A hook that
 * throws (or returns a promise that rejects) is reported once as a warning
 * (`RUNLEDGER_OBSERVER`) and never reaches the code that logged, nor the other observers.
 */
export interface ExperimentObserver {
  onRunStart?(event: RunStartEvent): void | Promise<void>;
  onParams?(event: ParamsEvent): void | Promise<void>;
  onMetrics?(event: MetricsEvent): void | Promise<void>;
  onTags?(event: TagsEvent): void | Promise<void>;
  onAttachment?(event: AttachmentEvent): void | Promise<void>;
  onSolve?(event: SolveEvent): void | Promise<void>;
  onRunEnd?(event: RunEndEvent): void | Promise<void>;
  onCheckpoint?(event: CheckpointEvent): void | Promise<void>;
  onCommit?(event: CommitEvent): void | Promise<void>;
  /** A sweep's progress: before each trial starts and after it ends. */
  onSweep?(event: SweepEvent): void | Promise<void>;
}

/** The name of one observer hook. */
export type ObserverHook = keyof ExperimentObserver;

/** What an observer hook receives. */
export type ObserverEvent<H extends ObserverHook> = Parameters<
  NonNullable<ExperimentObserver[H]>
>[0];

/**
 * The observers of one experiment, each isolated: a failing hook is recorded, warned about once
 * per observer, and changes nothing else.
 */
export class ObserverSet {
  readonly #observers = new Set<ExperimentObserver>();
  readonly #warned = new Set<ExperimentObserver>();
  /** Every failure of a hook, oldest first. */
  readonly failures: { readonly hook: ObserverHook; readonly error: unknown }[] = [];

  /**
   * Adds an observer.
   * @param observer - the hooks
   * @returns a function that removes it again
   */
  add(observer: ExperimentObserver): () => void {
    this.#observers.add(observer);
    return () => void this.#observers.delete(observer);
  }

  /** Whether anything observes (so callers can skip building events). */
  get active(): boolean {
    return this.#observers.size > 0;
  }

  /**
   * Calls one hook on every observer that has it.
   * @param hook - which
   * @param event - what happened
   */
  emit<H extends ObserverHook>(hook: H, event: ObserverEvent<H>): void {
    for (const observer of this.#observers) {
      const fn = observer[hook] as ((e: ObserverEvent<H>) => void | Promise<void>) | undefined;
      if (fn === undefined) continue;
      try {
        const out = fn.call(observer, event);
        if (out instanceof Promise) out.catch((e: unknown) => this.#failed(observer, hook, e));
      } catch (e) {
        this.#failed(observer, hook, e);
      }
    }
  }

  #failed(observer: ExperimentObserver, hook: ObserverHook, error: unknown): void {
    this.failures.push({ hook, error });
    if (this.#warned.has(observer)) return;
    this.#warned.add(observer);
    const name = observer.constructor?.name ?? 'an observer';
    process.emitWarning(
      `runledger: ${name} failed in ${hook}: ${error instanceof Error ? error.message : String(error)} (later failures of this observer are not reported).`,
      { code: 'RUNLEDGER_OBSERVER' }
    );
  }
}
