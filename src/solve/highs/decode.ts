/**
 * @module solve/highs/decode
 * HiGHS's answer → Solution: the model status mapped to an optimality or an error, the column
 * values evaluated against the Instance, row duals for continuous models, the solver in the
 * metadata; and the diagnostics report of a solve.
 */
import type { Model } from 'highs';
import { RunledgerError } from '../../errors.js';
import type { Instance } from '../../ommx/instance.js';
import type { Solution } from '../../ommx/solution.js';
import type {
  EvaluatedConstraintData,
  ProcessMetadata,
  SolutionData,
  State,
} from '../../ommx/types.js';
import type { Conversion } from './model.js';
import type { HighsOptions } from './options.js';

/**
 * What {@link HighsAdapter}'s `decode` reads: a HiGHS `Model` after `run()` satisfies it (only
 * these members are used, so a recorded result can be replayed through a plain object too).
 *
 * @example
 * ```ts
 * const output: HighsRawOutput = {
 *   getModelStatus: () => 7, // Optimal
 *   getSolution: () => ({ colValue: [4, 0], rowDual: [3, 0] }),
 *   info: { get: () => 2 }, // primal and dual solutions feasible
 * };
 * const solution = await decode(output);
 * ```
 */
export interface HighsRawOutput {
  /** HiGHS model status code (`highs.constants.modelStatus`). */
  getModelStatus(): number;
  /** Primal column values and row duals. */
  getSolution(): { readonly colValue?: ArrayLike<number>; readonly rowDual?: ArrayLike<number> };
  /** Solve information; `primal_solution_status` and `dual_solution_status` are read. */
  readonly info: { get(name: string): number | bigint };
}

/** `highs.constants.modelStatus` codes, named as HiGHS prints them. */
const STATUS_NAMES: readonly string[] = [
  'Not Set',
  'Load error',
  'Model error',
  'Presolve error',
  'Solve error',
  'Postsolve error',
  'Empty',
  'Optimal',
  'Infeasible',
  'Primal infeasible or unbounded',
  'Unbounded',
  'Bound on objective reached',
  'Target for objective reached',
  'Time limit reached',
  'Iteration limit reached',
  'Unknown',
  'Solution limit reached',
  'Interrupted',
];
const STATUS_EMPTY = 6;
const STATUS_OPTIMAL = 7;
const STATUS_INFEASIBLE = 8;
/** HiGHS's "Primal infeasible or unbounded": presolve could not tell which. */
export const STATUS_UNBOUNDED_OR_INFEASIBLE = 9;
const STATUS_UNBOUNDED = 10;
/** Limits and interrupts: the answer is usable when HiGHS holds a feasible primal solution. */
const STATUS_STOPPED = new Set([11, 12, 13, 14, 15, 16, 17]);
const SOLUTION_FEASIBLE = 2;
/** Integer columns within this distance of an integer are rounded to it. */
const INTEGRALITY_TOLERANCE = 1e-6;

/**
 * A model status code as HiGHS prints it.
 * @param status - `highs.constants.modelStatus` code
 * @returns its name, e.g. `Time limit reached`
 * @example
 * ```ts
 * statusName(7); // 'Optimal'
 * ```
 */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

/**
 * HiGHS's answer as a Solution of the instance (see `HighsAdapter` for the rules).
 * @param instance - the problem
 * @param conversion - how the instance became HiGHS's model
 * @param output - the model after `run()`, or a plain object shaped like it
 * @param metadata - the Solution's process metadata
 * @returns the Solution
 * @throws RunledgerError `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`, `SOLVER_FAILED`
 * @example
 * ```ts
 * const solution = decodeOutput(instance, conversion, model, { solver: '…' });
 * ```
 */
export function decodeOutput(
  instance: Instance,
  conversion: Conversion,
  output: HighsRawOutput,
  metadata: ProcessMetadata
): Solution {
  const status = output.getModelStatus();
  const subject = instanceSubject(instance);
  const data = { status: statusName(status), modelStatus: status };
  if (status === STATUS_INFEASIBLE) {
    throw new RunledgerError('SOLVER_INFEASIBLE', `HiGHS proved ${subject} infeasible.`, {
      data,
    });
  }
  if (status === STATUS_UNBOUNDED) {
    throw new RunledgerError('SOLVER_UNBOUNDED', `HiGHS proved ${subject} unbounded.`, { data });
  }
  if (status === STATUS_UNBOUNDED_OR_INFEASIBLE) {
    throw new RunledgerError(
      'SOLVER_UNBOUNDED',
      `HiGHS proved ${subject} has no finite optimum but could not tell whether it is infeasible or unbounded.`,
      { data }
    );
  }
  let optimality: 'optimal' | 'not-optimal';
  if (status === STATUS_EMPTY) {
    // No columns: HiGHS does not look at the (constant) rows.
    if (conversion.violatedConstantRow !== undefined) {
      throw new RunledgerError(
        'SOLVER_INFEASIBLE',
        `HiGHS proved ${subject} infeasible: constraint ${conversion.violatedConstantRow} has no variables and does not hold.`,
        { data: { ...data, constraintId: conversion.violatedConstantRow } }
      );
    }
    optimality = 'optimal';
  } else if (status === STATUS_OPTIMAL) {
    optimality = 'optimal';
  } else if (STATUS_STOPPED.has(status) && primalFeasible(output)) {
    optimality = 'not-optimal';
  } else {
    throw new RunledgerError(
      'SOLVER_FAILED',
      `HiGHS stopped on ${subject} with status "${statusName(status)}" and no feasible solution.`,
      { data }
    );
  }

  // HiGHS has no solution arrays for an Empty model (and throws when asked for them).
  const result = status === STATUS_EMPTY ? {} : output.getSolution();
  const state = decodeState(conversion, result.colValue);
  let solution = instance.evaluate(state);
  const patch: { -readonly [K in keyof SolutionData]?: SolutionData[K] } = {
    optimality,
    metadata,
  };
  const rowDual = result.rowDual;
  if (
    !conversion.isMip &&
    status === STATUS_OPTIMAL &&
    rowDual !== undefined &&
    rowDual.length === conversion.rowIds.length &&
    dualFeasible(output)
  ) {
    patch.constraints = withDuals(solution.constraints, conversion.rowIds, rowDual);
  }
  solution = solution.with(patch);
  return solution;
}

function decodeState(conversion: Conversion, colValue: ArrayLike<number> | undefined): State {
  const state = new Map<number, number>();
  const { columnIds, integerColumns, fixedColumns } = conversion;
  for (let col = 0; col < columnIds.length; col++) {
    // evaluate() supplies the exact fixed value itself.
    if (fixedColumns[col] === 1) continue;
    let value = colValue?.[col] ?? 0;
    if (integerColumns[col] === 1) {
      const rounded = Math.round(value);
      if (Math.abs(value - rounded) <= INTEGRALITY_TOLERANCE) value = rounded;
    }
    state.set(columnIds[col]!, value === 0 ? 0 : value); // −0 → 0
  }
  return state;
}

function withDuals(
  constraints: readonly EvaluatedConstraintData[],
  rowIds: readonly number[],
  rowDual: ArrayLike<number>
): EvaluatedConstraintData[] {
  const dualOf = new Map<number, number>();
  rowIds.forEach((id, row) => {
    const dual = rowDual[row] ?? 0;
    dualOf.set(id, dual === 0 ? 0 : dual);
  });
  return constraints.map((c) => {
    const dual = c.removedReason === undefined ? dualOf.get(c.id) : undefined;
    return dual === undefined ? c : { ...c, dualVariable: dual };
  });
}

function primalFeasible(output: HighsRawOutput): boolean {
  return infoNumber(output, 'primal_solution_status') === SOLUTION_FEASIBLE;
}

function dualFeasible(output: HighsRawOutput): boolean {
  return infoNumber(output, 'dual_solution_status') === SOLUTION_FEASIBLE;
}

function infoNumber(output: Pick<HighsRawOutput, 'info'>, name: string): number | undefined {
  try {
    return Number(output.info.get(name));
  } catch {
    return undefined;
  }
}

function instanceSubject(instance: Instance): string {
  const name = instance.description?.name;
  return name === undefined ? 'the instance' : `the instance ${JSON.stringify(name)}`;
}

/**
 * The Solution's metadata naming the solver and the options.
 * @param version - the `highs` package version
 * @param options - the adapter options
 * @returns `solver` and `parameters` (JSON text)
 * @example
 * ```ts
 * solverMetadata('1.15.3', { timeLimit: 5 }).parameters; // '{"timeLimit":5}'
 * ```
 */
export function solverMetadata(version: string, options: HighsOptions): ProcessMetadata {
  return {
    solver: JSON.stringify({ name: 'highs', version }),
    parameters: JSON.stringify(options),
  };
}

/**
 * What `diagnostics` receives after a solve (plain numbers and strings, msgpack-able).
 * @param model - the model after `run()`
 * @param status - its model status
 * @param presolveRetried - whether HiGHS ran again without presolve
 * @returns the report: status, run time, objective, MIP gap and bound, node and iteration counts
 * @example
 * ```ts
 * context.diagnostics?.record(terminationReport(model, status, false));
 * ```
 */
export function terminationReport(
  model: Model,
  status: number,
  presolveRetried: boolean
): Record<string, unknown> {
  const report: Record<string, unknown> = {
    kind: 'highs.termination',
    status: statusName(status),
    presolveRetried,
    runTimeSec: model.getRunTime(),
  };
  for (const [key, name] of [
    ['objectiveValue', 'objective_function_value'],
    ['mipGap', 'mip_gap'],
    ['mipDualBound', 'mip_dual_bound'],
    ['mipNodeCount', 'mip_node_count'],
    ['simplexIterationCount', 'simplex_iteration_count'],
    ['ipmIterationCount', 'ipm_iteration_count'],
    ['primalSolutionStatus', 'primal_solution_status'],
    ['dualSolutionStatus', 'dual_solution_status'],
  ] as const) {
    const value = infoNumber(model, name);
    if (value !== undefined) report[key] = value;
  }
  return report;
}
