/**
 * @module experiment/context
 * The run of the current async context (beyond OMMX; dreadnode's contextvars behaviour): inside
 * `exp.run(fn)` and everything `fn` awaits, `currentRun()` is that run — also when many runs
 * execute concurrently in one process, where a thread-local stack like MLflow's would mix them up.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Run } from './run.js';

interface Scope {
  readonly owner: object;
  readonly run: Run;
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
  return storage.run({ owner, run }, fn);
}

/**
 * Remembers a run that closed, for {@link lastRun}.
 * @internal
 */
export function runClosed(run: Run): void {
  lastClosed = run;
}
