/**
 * @module experiment/context
 * The run of the current async context (beyond OMMX; dreadnode's contextvars behaviour): inside
 * `exp.run(fn)` and everything `fn` awaits, `currentRun()` is that run — also when many runs
 * execute concurrently in one process, where a thread-local stack like MLflow's would mix them up.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunEndStatus } from './logger.js';
import type { Run } from './run.js';

/** The run current in an async context, whose experiment it is, and how it became current. */
export interface Scope {
  readonly owner: object;
  readonly run: Run;
  /** A callback's scope (`exp.run(fn)`, `run.child`), where new runs nest by default. */
  readonly scoped: boolean;
}

const storage = new AsyncLocalStorage<Scope>();
let lastClosed: Run | undefined;

/**
 * The run of the current async context: inside `exp.run(fn)` (and whatever `fn` awaits or
 * starts), that run; elsewhere undefined.
 * @returns the run, or undefined
 * @example
 * ```ts
 * await exp.run(async () => { currentRun()?.logParameter('seed', 1); });
 * ```
 */
export function currentRun(): Run | undefined {
  return storage.getStore()?.run;
}

/**
 * Whose `run(fn)` is executing in the current async context (experiment/experiment's
 * `currentExperiment` narrows it to the experiment).
 * @returns the scope's owner, or undefined
 * @internal
 */
export function currentScopeOwner(): object | undefined {
  return storage.getStore()?.owner;
}

/**
 * The current scope, whole.
 * @returns the scope, or undefined
 * @internal
 */
export function currentScope(): Scope | undefined {
  return storage.getStore();
}

/**
 * The current run, else the run closed last in this process (MLflow's `last_active_run`), e.g.
 * to read what a helper that opened its own run recorded.
 * @returns the run, or undefined before any run closed
 * @example
 * ```ts
 * await exp.run(train); lastRun()?.runId;
 * ```
 */
export function lastRun(): Run | undefined {
  return storage.getStore()?.run ?? lastClosed;
}

/**
 * Runs `fn` with `run` as the current run.
 * @internal
 */
export function withRun<T>(owner: object, run: Run, fn: () => T): T {
  return storage.run({ owner, run, scoped: true }, fn);
}

/** What was current before a run `startRun` made current, to go back to when it closes. */
const before = new Map<Run, Scope | undefined>();

/**
 * Makes `run` the current run of the current async context and of what it goes on to do, until
 * {@link leaveRun} (MLflow's `start_run()` without a `with`).
 * @internal
 */
export function enterRun(owner: object, run: Run): void {
  before.set(run, storage.getStore());
  storage.enterWith({ owner, run, scoped: false });
}

/**
 * A run made current by {@link enterRun} closes: the run that was current before it is current
 * again where it is still current. Called synchronously by the close, so the caller's next
 * `await` sees the change.
 * @internal
 */
export function leaveRun(run: Run): void {
  if (!before.has(run)) return;
  const previous = before.get(run);
  before.delete(run);
  if (storage.getStore()?.run === run) storage.enterWith(previous as Scope);
}

/**
 * Remembers a run that closed, for {@link lastRun}.
 * @internal
 */
export function runClosed(run: Run): void {
  lastClosed = run;
}

/**
 * MLflow's name for {@link currentRun}: the run of the current async context.
 * @returns the run, or undefined
 */
export function activeRun(): Run | undefined {
  return currentRun();
}

/**
 * MLflow's name for {@link lastRun}: the current run, else the run closed last in this process.
 * @returns the run, or undefined
 */
export function lastActiveRun(): Run | undefined {
  return lastRun();
}

/**
 * Ends the current run with a status (MLflow's `end_run`): `finished` by default.
 * @param status - finished, failed or interrupted
 * @returns when it is closed; at once when there is no open current run
 * @throws as `Run.finish`
 * @example
 * ```ts
 * exp.startRun({ name: 'trial' });
 * currentRun()?.logParameter('seed', 1);
 * await endRun();
 * ```
 */
export function endRun(status: RunEndStatus = 'finished'): Promise<void> {
  const run = currentRun();
  if (run === undefined || run.closed) return Promise.resolve();
  return run.finish(status);
}
