/**
 * @module solve/highs/thread
 * One HiGHS solve on the calling thread, start to end: options set (a rejected one named before
 * the instance is looked at), the instance translated, HiGHS run (again without presolve when
 * presolve could not tell infeasible from unbounded), the answer evaluated into a Solution.
 * `HighsAdapter.solve` runs it in a worker thread of the solve pool; called directly it blocks
 * its thread for the length of the solve.
 */
import type { Model, ModelData } from 'highs';
import { RunledgerError } from '../../errors.js';
import type { Instance } from '../../ommx/instance.js';
import type { Solution } from '../../ommx/solution.js';
import type { SolveContext } from '../adapter.js';
import {
  decodeOutput,
  solverMetadata,
  STATUS_UNBOUNDED_OR_INFEASIBLE,
  terminationReport,
} from './decode.js';
import { convertInstance } from './model.js';
import { applyOptions, parseOptions, type HighsOptions } from './options.js';
import { loadHighsRuntime } from './runtime.js';

/**
 * Solves the instance with HiGHS on this thread (the function the solve pool's threads run for
 * `HighsAdapter`). HiGHS is synchronous: the thread does nothing else until it returns.
 * @param instance - the problem (it is not changed)
 * @param options - {@link HighsOptions}
 * @param context - `diagnostics` (receives one termination report); no signal is looked at
 * @returns the Solution, with `metadata` (solver, parameters, start, end)
 * @throws RunledgerError `ARGUMENT_INVALID`, `UNSUPPORTED_INSTANCE`, `SOLVER_INFEASIBLE`,
 *   `SOLVER_UNBOUNDED`, `SOLVER_FAILED`, `DEPENDENCY_MISSING`
 * @example
 * ```ts
 * // On the main thread, blocking it (HighsAdapter.solve does the same in a worker thread):
 * const solution = await solveWithHighs(instance, { timeLimit: 10 }, {});
 * ```
 */
export async function solveWithHighs(
  instance: Instance,
  options: HighsOptions,
  context: SolveContext
): Promise<Solution> {
  const native = parseOptions(options);
  const runtime = await loadHighsRuntime();
  const model = runtime.highs.createModel();
  try {
    // Options first: a rejected option is reported before the instance is looked at.
    applyOptions(model, native);
    const conversion = convertInstance(instance, runtime.highs);
    passModel(model, conversion.model);
    const start = new Date();
    let status = runModel(model);
    let presolveRetried = false;
    if (status === STATUS_UNBOUNDED_OR_INFEASIBLE && native.values['presolve'] !== 'off') {
      // Presolve could not tell infeasible from unbounded; HiGHS's advice is to solve again
      // without it, which settles it for LPs (the time limit is cumulative across runs).
      model.options.set('presolve', 'off');
      model.clearSolver();
      status = runModel(model);
      presolveRetried = true;
    }
    const end = new Date();
    context.diagnostics?.record(terminationReport(model, status, presolveRetried));
    return decodeOutput(instance, conversion, model, {
      ...solverMetadata(runtime.version, options),
      start: start.toISOString(),
      end: end.toISOString(),
    });
  } finally {
    model.dispose();
  }
}

function passModel(model: Model, data: ModelData): void {
  try {
    model.passModel(data);
  } catch (cause) {
    throw new RunledgerError(
      'UNSUPPORTED_INSTANCE',
      `HiGHS refused the model built from the instance: ${errorMessage(cause)}.`,
      { data: { numCols: data.numCols, numRows: data.numRows }, cause }
    );
  }
}

function runModel(model: Model): number {
  try {
    return model.run().modelStatus;
  } catch (cause) {
    // HiGHS returns an error status for, e.g., a non-convex QP.
    throw new RunledgerError('SOLVER_FAILED', `HiGHS failed: ${errorMessage(cause)}.`, {
      data: { status: 'Solve error' },
      cause,
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
