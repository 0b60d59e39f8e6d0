/**
 * @module solve/adapter
 * The solver and sampler adapter protocol (OMMX's `ommx.adapter`, ommx-reference §5.1, in
 * TypeScript shape): an adapter turns an Instance into a backend model, runs the backend, and
 * returns a Solution (or SampleSet). Adapters know nothing about experiments; `run.logSolve`
 * records what goes in and what comes out. An adapter whose backend computes synchronously opts
 * into runledger's pool of worker threads by naming a {@link WorkerEntry} (see
 * `solve/worker-solve`).
 */
import { RunledgerError } from '../errors.js';
import type { Instance } from '../ommx/instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';

/**
 * Where an adapter reports diagnostics (msgpack-able plain objects). `record` never throws.
 * Only passed when the caller asked to store diagnostics.
 */
export interface DiagnosticsSink {
  record(report: Readonly<Record<string, unknown>>): void;
}

/** What an adapter gets besides the instance and options. */
export interface SolveContext {
  /**
   * Aborts a long solve where the backend allows it (a solve in the worker pool always: its
   * thread is terminated). Inside a worker thread there is none: the thread itself is stopped.
   */
  readonly signal?: AbortSignal;
  /** Present only when the caller asked for diagnostics (`storeDiagnostics: true`). */
  readonly diagnostics?: DiagnosticsSink;
}

/** A backend model built from an Instance, for a solve driven by hand (`run.openSolve`). */
export interface PreparedSolve<Input = unknown, Output = unknown> {
  /** The backend's own input (a model object, LP text…). */
  readonly solverInput: Input;
  /**
   * Turns the backend's output into a Solution of the instance.
   * @param output - what the backend returned
   */
  decode(output: Output): Solution | Promise<Solution>;
}

/**
 * Where a worker thread finds an adapter's work: an ES module, by URL, and the name of one of its
 * exports — a function shaped like {@link SolverAdapter.solve} (or `sample`): `(instance,
 * options, context) → Solution` (or `SampleSet`), synchronous or not. The module must be
 * JavaScript a worker thread can import (resolve it next to the adapter with
 * `new URL('./x.js', import.meta.url)`); it is loaded once per thread and stays loaded, so
 * whatever it sets up (a compiled WebAssembly runtime) is reused by the thread's next calls.
 *
 * @example
 * ```ts
 * const entry: WorkerEntry = {
 *   module: new URL('./knapsack-thread.js', import.meta.url),
 *   export: 'solveKnapsack',
 * };
 * ```
 */
export interface WorkerEntry {
  readonly module: string | URL;
  readonly export: string;
}

/**
 * A solver adapter. `name` is recorded as the Solve's `adapter` (OMMX records
 * `"<module>.<qualname>"`, e.g. `runledger.adapters.highs.HighsAdapter`).
 *
 * @example
 * ```ts
 * const Greedy: SolverAdapter<{ seed?: number }> = {
 *   name: 'example.Greedy',
 *   solve: (instance, options) => instance.evaluate({ 0: 1 }),
 * };
 * ```
 */
export interface SolverAdapter<
  Options extends object = Record<string, unknown>,
  Input = unknown,
  Output = unknown,
> {
  readonly name: string;
  /**
   * Solves the instance (a private copy: the adapter may change it).
   * @param instance - the problem
   * @param options - adapter options (recorded as JSON)
   * @param context - signal, diagnostics sink
   * @returns the Solution
   * @throws RunledgerError `UNSUPPORTED_INSTANCE`, `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`,
   *   `SOLVER_FAILED`
   */
  solve(instance: Instance, options: Options, context: SolveContext): Solution | Promise<Solution>;
  /**
   * Builds the backend model without solving (needed by `run.openSolve`).
   * @param instance - the problem (a private copy)
   * @param options - adapter options
   * @param context - signal, diagnostics sink
   */
  prepare?(
    instance: Instance,
    options: Options,
    context: SolveContext
  ): PreparedSolve<Input, Output> | Promise<PreparedSolve<Input, Output>>;
}

/**
 * A sampler adapter: returns many samples as a SampleSet.
 *
 * @example
 * ```ts
 * const Sampler: SamplerAdapter = {
 *   name: 'example.Sampler',
 *   sample: (instance) => instance.evaluateSamples([{ 0: 0 }, { 0: 1 }]),
 * };
 * ```
 */
export interface SamplerAdapter<Options extends object = Record<string, unknown>> {
  readonly name: string;
  /**
   * Samples the instance (a private copy).
   * @param instance - the problem
   * @param options - adapter options (recorded as JSON)
   * @param context - signal, diagnostics sink
   * @returns the SampleSet
   */
  sample(
    instance: Instance,
    options: Options,
    context: SolveContext
  ): SampleSet | Promise<SampleSet>;
}

/**
 * Checks that `adapter` is a solver adapter (a name and a `solve` function).
 * @param adapter - anything passed as an adapter
 * @param method - `solve` or `sample`
 * @throws RunledgerError `ADAPTER_INVALID` naming what is missing
 * @example
 * ```ts
 * assertAdapter(HighsAdapter, 'solve');
 * ```
 */
export function assertAdapter(adapter: unknown, method: 'solve' | 'sample' | 'prepare'): void {
  const a = adapter as { name?: unknown } & Record<string, unknown>;
  const kind = method === 'sample' ? 'SamplerAdapter' : 'SolverAdapter';
  if (typeof a !== 'object' || a === null) {
    throw new RunledgerError(
      'ADAPTER_INVALID',
      `Expected a ${kind} object, got ${typeof adapter}.`
    );
  }
  if (typeof a.name !== 'string' || a.name.length === 0) {
    throw new RunledgerError('ADAPTER_INVALID', `The ${kind} has no name (a non-empty string).`);
  }
  if (typeof a[method] !== 'function') {
    throw new RunledgerError(
      'ADAPTER_INVALID',
      `The adapter ${a.name} is not a ${kind}: it has no ${method}() method.`,
      { data: { adapter: a.name } }
    );
  }
}
