/**
 * @module solve/adapters/highs
 * The HiGHS solver adapter: turns an Instance into HiGHS's sparse-array model, runs HiGHS (the
 * optional `highs` package, WebAssembly) in a worker thread of the solve pool, and evaluates
 * HiGHS's answer into a Solution. Split along the thread boundary: this module is what the
 * caller's thread runs (option checks, the package's presence, the hand-off to the pool, and
 * `prepare` for solves driven by hand); `solve/highs/thread` is the solve a worker thread runs,
 * on `solve/highs/options`, `model` (Instance → model), `decode` (answer → Solution) and
 * `runtime` (loading `highs`).
 *
 * Why the persistent array API (`model.passModel(modelData)`) and not the one-shot
 * `highs.solve(lpText)`: measured on a random LP with 100,000 columns, 100,000 rows and 3
 * nonzeros per row (highs 1.15.3, Node 20), loading the arrays took 0.2 s and the solve 1.8 s,
 * while writing the same model as LP text took 0.5 s and `solve(text)` 2.7 s (parsing, then
 * results keyed by column name). The array API also has no names or number formatting to get
 * wrong, takes a Hessian, and reports solution statuses and row duals.
 */
import type { ModelData, OptionValue } from 'highs';
import { RunledgerError } from '../../errors.js';
import type { Instance } from '../../ommx/instance.js';
import type { Solution } from '../../ommx/solution.js';
import type { PreparedSolve, SolveContext, SolverAdapter, WorkerEntry } from '../adapter.js';
import { solveInWorker } from '../worker-solve.js';
import { decodeOutput, solverMetadata, type HighsRawOutput } from '../highs/decode.js';
import { convertInstance } from '../highs/model.js';
import { checkNativeOptions, parseOptions, type HighsOptions } from '../highs/options.js';
import { loadHighsModule, loadHighsRuntime } from '../highs/runtime.js';

export type { HighsOptions } from '../highs/options.js';
export type { HighsRawOutput } from '../highs/decode.js';

/**
 * What {@link HighsAdapter.prepare} hands over for a solve driven by hand: the model in HiGHS's
 * array form and the native options to set before `run()`.
 *
 * @example
 * ```ts
 * const { solverInput, decode } = await HighsAdapter.prepare(instance, { timeLimit: 5 });
 * const model = highs.createModel(solverInput.model);
 * try {
 *   model.options.set(solverInput.options);
 *   model.run();
 *   solution = await decode(model);
 * } finally {
 *   model.dispose();
 * }
 * ```
 */
export interface HighsModelInput {
  /** Columns are the instance's decision variables in ascending id order; rows its active constraints. */
  readonly model: ModelData;
  /** Native HiGHS option names and values (`output_flag: false` first, then the mapped options). */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Variable id of each column. */
  readonly columnIds: readonly number[];
  /** Constraint id of each row. */
  readonly rowIds: readonly number[];
}

/**
 * The adapter's type: a {@link SolverAdapter} whose `prepare` is always present.
 *
 * @example
 * ```ts
 * const adapter: HighsSolverAdapter = HighsAdapter;
 * await adapter.prepare(instance, {});
 * ```
 */
export interface HighsSolverAdapter
  extends SolverAdapter<HighsOptions, HighsModelInput, HighsRawOutput> {
  /**
   * Solves the instance with HiGHS.
   * @param instance - the problem (a private copy)
   * @param options - {@link HighsOptions}
   * @param context - `signal` (aborting it terminates the worker thread running the solve:
   *   `ABORTED` at once), `diagnostics` (receives one termination report)
   * @returns the Solution, with `metadata` (solver, parameters, start, end)
   * @throws RunledgerError `ARGUMENT_INVALID` (an option, or a function naming an unknown
   *   variable), `UNSUPPORTED_INSTANCE`, `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`,
   *   `SOLVER_FAILED`, `DEPENDENCY_MISSING` (no `highs` package), `ABORTED`
   */
  solve(instance: Instance, options: HighsOptions, context?: SolveContext): Promise<Solution>;
  /**
   * Builds the HiGHS model without solving.
   * @param instance - the problem (a private copy)
   * @param options - {@link HighsOptions}
   * @param context - `signal`
   * @returns the model input and a `decode` that takes the HiGHS model after `run()` (and
   *   throws `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED` or `SOLVER_FAILED` as `solve` does;
   *   its Solution's metadata has no `start`/`end`, which only the caller knows)
   * @throws RunledgerError `ARGUMENT_INVALID`, `UNSUPPORTED_INSTANCE`, `DEPENDENCY_MISSING`,
   *   `ABORTED`
   */
  prepare(
    instance: Instance,
    options: HighsOptions,
    context?: SolveContext
  ): Promise<PreparedSolve<HighsModelInput, HighsRawOutput>>;
}

/**
 * The HiGHS solver adapter (LP, MIP, convex continuous QP), on the optional peer package
 * `highs`, loaded on first use.
 *
 * Instance → HiGHS:
 * - sense `maximize` → maximize; `minimize` and `unspecified` → minimize (OMMX reads an
 *   unspecified v1 sense as minimize);
 * - every decision variable becomes a column, used or not, in ascending id order — except
 *   variables defined by `decisionVariableDependency`, which the Solution computes from the
 *   others; a `substitutedValue` fixes the column (lower = upper = value); an absent bound is
 *   (−∞, ∞); `binary` is an integer column with the bound intersected with [0, 1];
 *   `semi-continuous` / `semi-integer` map to HiGHS's semi-continuous / semi-integer columns
 *   (0, or within the bound);
 * - each active constraint becomes a row: `f(x) = 0` → `−c ≤ a·x ≤ −c`, `f(x) ≤ 0` →
 *   `a·x ≤ −c` (c the constant term); removed constraints are not given to HiGHS;
 * - the objective may be linear or quadratic (`½xᵀQx + cᵀx`, the constant as offset);
 *   quadratic only over continuous columns (HiGHS has no MIQP).
 *
 * HiGHS → Solution: the column values form the state (values of integer columns within 1e-6
 * of an integer are rounded to it, and −0 becomes 0, so the state is exact and encodes
 * canonically), `instance.evaluate(state)` computes objective and constraints, then
 * `optimality` is `optimal` for HiGHS `Optimal` (and `Empty`: nothing to optimize) and
 * `not-optimal` when a limit (time, iterations, objective bound/target, solutions) or an
 * interrupt stopped HiGHS with a feasible primal solution. For continuous models with a
 * feasible dual solution, each constraint gets HiGHS's row dual as `dualVariable` (HiGHS's
 * sign convention, as OMMX's adapter). `metadata` records the solver and version, the options
 * as JSON, and the wall clock around the solve.
 *
 * Statuses: `Infeasible` → `SOLVER_INFEASIBLE`; `Unbounded` → `SOLVER_UNBOUNDED`;
 * `Primal infeasible or unbounded` (presolve could not tell which) → `solve()` runs HiGHS once
 * more with presolve off, which settles LPs; if HiGHS still cannot tell (or in `decode`), it
 * is `SOLVER_UNBOUNDED` with `data.status` saying so — the instance has no finite optimum
 * either way; any other status without a feasible primal solution → `SOLVER_FAILED`.
 *
 * HiGHS runs synchronously, so `solve` runs it in a worker thread of runledger's solve pool
 * (one thread per core, started on first use and reused: HiGHS's WebAssembly is compiled once
 * per thread): the event loop stays free, solves under `Promise.all` run in parallel, `timeLimit`
 * is HiGHS's own, and an aborted `signal` terminates the thread at once (the thread is replaced
 * when next needed). `prepare` runs on the caller's thread, as does what you do with its model.
 *
 * @throws RunledgerError from `solve`/`prepare`: `ARGUMENT_INVALID`, `UNSUPPORTED_INSTANCE`,
 *   `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`, `SOLVER_FAILED`, `DEPENDENCY_MISSING`, `ABORTED`
 *
 * @example
 * ```ts
 * const solution = await HighsAdapter.solve(instance, { timeLimit: 20, mipGap: 1e-4 });
 * solution.objective; solution.optimality; solution.state;
 * ```
 */
export const HighsAdapter: HighsSolverAdapter = {
  name: 'runledger.adapters.highs.HighsAdapter',

  async solve(instance, options, context = {}) {
    // Checked here, before a thread is asked for: a bad option, an aborted signal or a missing
    // package is reported by the caller's thread at once.
    parseOptions(options);
    throwIfAborted(context.signal);
    await loadHighsModule();
    return solveInWorker(HIGHS_THREAD, instance, options, context);
  },

  async prepare(instance, options, context = {}) {
    const native = parseOptions(options);
    throwIfAborted(context.signal);
    const runtime = await loadHighsRuntime();
    checkNativeOptions(runtime.highs, native);
    const conversion = convertInstance(instance, runtime.highs);
    const metadata = solverMetadata(runtime.version, options);
    return {
      solverInput: {
        model: conversion.model,
        options: native.values,
        columnIds: conversion.columnIds,
        rowIds: conversion.rowIds,
      },
      decode: (output: HighsRawOutput) => decodeOutput(instance, conversion, output, metadata),
    };
  },
};

/** The solve a worker thread runs for {@link HighsAdapter}. */
const HIGHS_THREAD: WorkerEntry = {
  module: new URL('../highs/thread.js', import.meta.url),
  export: 'solveWithHighs',
};

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new RunledgerError('ABORTED', 'The HiGHS solve was aborted before it started.', {
      cause: signal.reason,
    });
  }
}
