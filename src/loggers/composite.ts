/**
 * @module loggers/composite
 * Several loggers as one: a run started on each, every call fanned out to all of them, and each
 * logger's failures kept to itself (recorded, warned about once, never reaching the others nor
 * the code that logged).
 */
import type { LoggedRun, Logger, RunEndStatus, StartRunOptions } from '../experiment/logger.js';
import type { ParameterValue } from '../experiment/parameters.js';
import { checkRunEndStatus } from './observed-run.js';

/** The methods a logger's failure is recorded under. */
export type LoggerMethod =
  | 'startRun'
  | 'logParams'
  | 'logMetrics'
  | 'logArtifact'
  | 'setTags'
  | 'finish'
  | 'dispose';

/** One failure of a logger inside a {@link CompositeLogger}. */
export interface LoggerFailure {
  /** The logger that failed. */
  readonly logger: Logger;
  /** The call it failed in. */
  readonly method: LoggerMethod;
  /** What it threw, or what its promise rejected with. */
  readonly error: unknown;
}

/** A logger, or several (a plain array stands for their composite, at any depth). */
export type LoggerInput = Logger | readonly LoggerInput[];

/**
 * A logger from a logger or an array of loggers (Lightning's `logger=[a, b]`).
 * @param input - a logger, or an array of loggers
 * @returns the logger itself, or a {@link CompositeLogger} of the array
 * @example
 * ```ts
 * const logger = asLogger([exp, new JsonlLogger('events.jsonl')]);
 * ```
 */
export function asLogger(input: LoggerInput): Logger {
  return isLoggerArray(input) ? new CompositeLogger(input) : input;
}

function isLoggerArray(input: LoggerInput): input is readonly LoggerInput[] {
  return Array.isArray(input);
}

/** Whether a call's result is a promise (or any thenable) to wait for. */
function isThenable(value: unknown): value is PromiseLike<void> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A settled promise to hand back when no logger is asynchronous. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * Several loggers as one. `startRun` starts a run on each and returns one run that passes every
 * call to all of them. A logger that throws (or rejects) is isolated: the failure is recorded in
 * {@link CompositeLogger.failures}, warned about once per logger
 * (`process.emitWarning`, code `RUNLEDGER_LOGGER`), and the other loggers and the caller go on; a
 * logger whose `startRun` failed takes no part in that run. A member's refusal (say runledger's
 * `PARAMETER_INVALID`) is such a failure too: look at `failures` to see it.
 *
 * Without a `name`, the first logger that starts names the run and the others get that name, so
 * one run has one name everywhere.
 *
 * @example
 * ```ts
 * const logger = new CompositeLogger([exp, new JsonlLogger('events.jsonl')]);
 * await using run = await logger.startRun({ name: 'trial', config: { seed: 1 } });
 * run.logMetrics({ loss: 0.5 }, { step: 0 });
 * await run.finish();
 * ```
 */
export class CompositeLogger implements Logger {
  /** The loggers, in the order given. */
  readonly loggers: readonly Logger[];
  /** Every failure of a logger, oldest first. */
  readonly failures: LoggerFailure[] = [];
  readonly #warned = new Set<Logger>();

  /**
   * @param loggers - the loggers (an array inside becomes a composite of its own)
   * @example
   * ```ts
   * const logger = new CompositeLogger([exp, new ConsoleLogger()]);
   * ```
   */
  constructor(loggers: readonly LoggerInput[]) {
    this.loggers = loggers.map(asLogger);
  }

  /**
   * Starts a run on every logger: the first one first when no name is given (its run's name is
   * passed to the others), else all at once.
   * @param options - as {@link Logger.startRun}
   * @returns one run fanning out to the runs that started; never rejects
   */
  async startRun(options: StartRunOptions = {}): Promise<CompositeRun> {
    const members: Member[] = [];
    let rest = this.loggers;
    let named = options;
    if (options.name === undefined) {
      // The first logger that starts names the run for the others.
      let i = 0;
      for (; i < this.loggers.length && named.name === undefined; i++) {
        const logger = this.loggers[i]!;
        const run = await this.#start(logger, options);
        if (run !== undefined) {
          members.push(new Member(logger, run));
          named = { ...options, name: run.name };
        }
      }
      rest = this.loggers.slice(i);
    }
    const started = await Promise.all(rest.map((logger) => this.#start(logger, named)));
    started.forEach((run, i) => {
      if (run !== undefined) members.push(new Member(rest[i]!, run));
    });
    return new CompositeRun(named.name ?? '', members, (logger, method, error) =>
      this.#failed(logger, method, error)
    );
  }

  async #start(logger: Logger, options: StartRunOptions): Promise<LoggedRun | undefined> {
    try {
      return await logger.startRun(options);
    } catch (e) {
      this.#failed(logger, 'startRun', e);
      return undefined;
    }
  }

  #failed(logger: Logger, method: LoggerMethod, error: unknown): void {
    this.failures.push({ logger, method, error });
    if (this.#warned.has(logger)) return;
    this.#warned.add(logger);
    const index = this.loggers.indexOf(logger);
    const kind = logger.constructor?.name;
    const name =
      kind === undefined || kind === '' || kind === 'Object'
        ? `logger ${index}`
        : `logger ${index} (${kind})`;
    process.emitWarning(
      `runledger: ${name} failed in ${method}: ${error instanceof Error ? error.message : String(error)} (later failures of this logger are not reported).`,
      { code: 'RUNLEDGER_LOGGER' }
    );
  }
}

/** One logger's run inside a composite run, and the calls to it not yet settled. @internal */
export class Member {
  readonly logger: Logger;
  readonly run: LoggedRun;
  readonly pending: Set<Promise<void>> = new Set();

  constructor(logger: Logger, run: LoggedRun) {
    this.logger = logger;
    this.run = run;
  }
}

/** Reports a member's failure to its composite. @internal */
export type OnFailure = (logger: Logger, method: LoggerMethod, error: unknown) => void;

/**
 * A run of a {@link CompositeLogger}: each call goes to the run of every logger that started. The
 * calls return promises that resolve once every logger has settled and never reject (a logger's
 * failure is in the composite's `failures`); synchronous loggers have done their part when the
 * call returns. `finish` waits for each logger's calls still under way before finishing it; the
 * second `finish` does nothing. Disposing an unfinished run (`await using`) disposes each logger's
 * run, which ends it as failed.
 *
 * @example
 * ```ts
 * await using run = await logger.startRun({ name: 'trial' });
 * run.logParams({ seed: 1 });
 * ```
 */
export class CompositeRun implements LoggedRun {
  /** The run's name: given, or the first logger's. */
  readonly name: string;
  /** The runs of the loggers that started, in the loggers' order. */
  readonly runs: readonly LoggedRun[];
  readonly #members: readonly Member[];
  readonly #onFailure: OnFailure;
  #end: Promise<void> | undefined;

  /** @internal Use {@link CompositeLogger.startRun}. */
  constructor(name: string, members: readonly Member[], onFailure: OnFailure) {
    this.name = name;
    this.#members = members;
    this.runs = members.map((m) => m.run);
    this.#onFailure = onFailure;
  }

  /** Whether `finish` (or disposal) has been called. */
  get finished(): boolean {
    return this.#end !== undefined;
  }

  /**
   * Logs parameters on every logger.
   * @param params - name → value
   * @returns when every logger has settled; never rejects
   */
  logParams(params: Readonly<Record<string, ParameterValue>>): Promise<void> {
    return this.#all('logParams', (run) => run.logParams(params));
  }

  /**
   * Logs metric values on every logger.
   * @param values - name → number
   * @param options - step
   * @returns when every logger has settled; never rejects
   */
  logMetrics(
    values: Readonly<Record<string, number>>,
    options?: { readonly step?: number }
  ): Promise<void> {
    return this.#all('logMetrics', (run) => run.logMetrics(values, options));
  }

  /**
   * Logs a file as an artifact on every logger.
   * @param path - the file
   * @param options - name
   * @returns when every logger has settled; never rejects
   */
  logArtifact(path: string, options?: { readonly name?: string }): Promise<void> {
    return this.#all('logArtifact', (run) => run.logArtifact(path, options));
  }

  /**
   * Sets tags on every logger.
   * @param tags - key → string
   * @returns when every logger has settled; never rejects
   */
  setTags(tags: Readonly<Record<string, string>>): Promise<void> {
    return this.#all('setTags', (run) => run.setTags(tags));
  }

  /**
   * Finishes every logger's run (after its calls under way); the second call does nothing and
   * returns the first one's promise.
   * @param status - finished (the default), failed or interrupted
   * @returns when every logger has settled; rejects only for a status the protocol has not (then
   *   nothing is finished)
   * @throws RunledgerError `ARGUMENT_INVALID` for another status
   */
  finish(status: RunEndStatus = 'finished'): Promise<void> {
    try {
      checkRunEndStatus(status);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#end ??= this.#endAll('finish', (run) => run.finish(status));
    return this.#end;
  }

  /** Disposes each logger's run (ending it as failed) unless the run was finished. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#end ??= this.#endAll('dispose', (run) =>
      typeof run[Symbol.asyncDispose] === 'function'
        ? run[Symbol.asyncDispose]()
        : run.finish('failed')
    );
    return this.#end;
  }

  async #endAll(method: LoggerMethod, call: (run: LoggedRun) => PromiseLike<void>): Promise<void> {
    await Promise.all(
      this.#members.map(async (m) => {
        if (m.pending.size > 0) await Promise.all(m.pending);
        try {
          await call(m.run);
        } catch (e) {
          this.#onFailure(m.logger, method, e);
        }
      })
    );
  }

  /**
   * Calls every member; synchronous failures are caught at once, asynchronous ones when they
   * settle. Returns one promise for the asynchronous calls (the settled one when there are none).
   */
  #all(method: LoggerMethod, call: (run: LoggedRun) => void | Promise<void>): Promise<void> {
    let waits: Promise<void>[] | undefined;
    for (const m of this.#members) {
      let out: void | Promise<void>;
      try {
        out = call(m.run);
      } catch (e) {
        this.#onFailure(m.logger, method, e);
        continue;
      }
      if (isThenable(out)) {
        const settled: Promise<void> = Promise.resolve(out).then(
          () => void m.pending.delete(settled),
          (e: unknown) => {
            m.pending.delete(settled);
            this.#onFailure(m.logger, method, e);
          }
        );
        m.pending.add(settled);
        (waits ??= []).push(settled);
      }
    }
    return waits === undefined ? SETTLED : Promise.all(waits).then(() => undefined);
  }
}
