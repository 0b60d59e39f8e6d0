/**
 * @module ommx/evaluate
 * Evaluates an Instance at a state (→ `SolutionData`) or at many states (→ `SampleSetData`),
 * following OMMX's Rust core (`rust/ommx/src/instance/evaluate.rs`, `Instance::populate_state`):
 *
 * 1. Every state entry must name a decision variable and hold a finite value.
 * 2. Every variable *used* — in the objective or an active constraint, OMMX's
 *    `used_decision_variable_ids` — needs a value, unless it is fixed (`substitutedValue`) or
 *    dependent (`decisionVariableDependency`). Named functions and removed constraints do not
 *    make a variable used.
 * 3. Fixed variables take their fixed value; a state value for one must agree within `atol`.
 * 4. Variables that are neither used, fixed nor dependent and missing from the state take the
 *    value of their bound nearest to zero (0 for semi-continuous and semi-integer), as OMMX does.
 * 5. Dependent variables are computed from their functions in dependency order; a state value
 *    for one must agree within `atol`.
 *
 * Feasibility, as OMMX judges it (`rust/ommx/src/constraint/evaluate.rs`): `f = 0` holds when
 * `|f| < atol`, `f ≤ 0` when `f < atol` (strict). A Solution's `feasible` and `feasibleRelaxed`
 * also require every variable to respect its kind and bound (`Solution::feasible` in
 * `rust/ommx/src/solution.rs`); a SampleSet's per-sample `feasible` maps judge constraints only
 * (`SampleSet::compute_feasibility` in `rust/ommx/src/sample_set.rs`). A variable respects its
 * kind and bound when it lies in the bound widened by `atol` (OMMX's `Bound::contains`; binary
 * and integer bounds first rounded inward as `Kind::consistent_bound` does) and, for binary,
 * integer and semi-integer variables, is within `atol` (strictly) of an integer. One deliberate
 * difference: a semi-continuous or semi-integer variable at 0 is valid even when 0 is outside its
 * bound (OMMX's `EvaluatedDecisionVariable::is_valid` checks the bound alone, which would reject
 * the very value OMMX fills such variables with when they are unused).
 */
import { RunledgerError } from '../errors.js';
import { evaluateFunctionWith, usedVariableIds, type VariableLookup } from './function.js';
import type {
  Bound,
  ConstraintData,
  DecisionVariableData,
  EvaluatedConstraintData,
  EvaluatedDecisionVariableData,
  EvaluatedNamedFunctionData,
  FunctionData,
  InstanceData,
  Label,
  NamedFunctionData,
  RemovedConstraintData,
  SampledConstraintData,
  SampledDecisionVariableData,
  SampledNamedFunctionData,
  SampleSetData,
  SolutionData,
  State,
  VariableKind,
} from './types.js';

/** Options of {@link evaluateInstance} and {@link evaluateSamples}. */
export interface EvaluateOptions {
  /** Absolute feasibility tolerance, > 0 (default 1e-6, OMMX's `ATol::default()`). */
  readonly atol?: number;
}

/** OMMX's default absolute tolerance (`rust/ommx/src/atol.rs`). */
export const DEFAULT_ATOL = 1e-6;

/**
 * Evaluates an instance at a state: the objective, every constraint (removed ones included),
 * every named function, and feasibility (see the module comment for the rules).
 *
 * @param instance - the instance
 * @param state - variable id → value; needs every used variable that is not fixed or dependent
 * @param options - `atol`, the feasibility tolerance (default 1e-6)
 * @returns the Solution data: `optimality` `'unspecified'`, `relaxation` `'unrelaxed'`, the
 *   instance's sense, `feasibilityAtol` = the tolerance used, no annotations
 * @throws RunledgerError `ARGUMENT_INVALID` when the state names an id that is not a decision
 *   variable, misses a used variable, holds a non-finite value, disagrees with a fixed or
 *   dependent value beyond `atol`; when `atol` is not positive; or when the instance itself is
 *   malformed (a cyclic dependency, duplicate constraint ids, an unspecified equality)
 * @example
 * ```ts
 * const solution = evaluateInstance(instance, new Map([[0, 1], [1, 0]]), { atol: 1e-6 });
 * solution.objective; solution.feasible;
 * ```
 */
export function evaluateInstance(
  instance: InstanceData,
  state: State,
  options: EvaluateOptions
): SolutionData {
  const plan = new Plan(instance, checkAtol(options.atol));
  const values = plan.populate(state);
  const get: VariableLookup = (id) => values.get(id);
  const atol = plan.atol;

  const objective = evaluateFunctionWith(instance.objective, get, 'the objective');

  let feasible = true;
  let feasibleRelaxed = true;
  const { constraintData, constraintRemoved, constraintUsed } = plan;
  const constraints: EvaluatedConstraintData[] = new Array(constraintData.length);
  for (let k = 0; k < constraintData.length; k++) {
    const c = constraintData[k]!;
    const removed = constraintRemoved[k];
    const value = evaluateFunctionWith(c.function, get, 'constraint', c.id);
    const ok = holds(c.equality, value, atol);
    if (!ok) {
      feasible = false;
      if (removed === undefined) feasibleRelaxed = false;
    }
    const row: Mutable<EvaluatedConstraintData> = {
      id: c.id,
      equality: c.equality,
      evaluatedValue: value,
      feasible: ok,
      usedDecisionVariableIds: constraintUsed[k]!,
      subscripts: c.subscripts,
      parameters: c.parameters,
      removedReasonParameters: removed?.reasonParameters ?? NO_PARAMETERS,
      provenance: c.provenance,
    };
    if (removed !== undefined) row.removedReason = removed.reason;
    constraints[k] = withLabel(row, c);
  }

  const decisionVariables: EvaluatedDecisionVariableData[] = [];
  let variablesValid = true;
  for (let i = 0; i < plan.variables.length; i++) {
    const v = plan.variables[i]!;
    const value = values.get(v.id)!;
    if (variablesValid && !plan.valid(i, value)) variablesValid = false;
    const row: Mutable<EvaluatedDecisionVariableData> = {
      id: v.id,
      kind: v.kind,
      value,
      subscripts: v.subscripts,
      parameters: v.parameters,
    };
    if (v.bound !== undefined) row.bound = v.bound;
    decisionVariables.push(withLabel(row, v));
  }

  const namedFunctions: EvaluatedNamedFunctionData[] = plan.namedFunctions.map((n) =>
    withLabel(
      {
        id: n.data.id,
        evaluatedValue: evaluateFunctionWith(n.data.function, get, 'named function', n.data.id),
        usedDecisionVariableIds: n.used,
        subscripts: n.data.subscripts,
        parameters: n.data.parameters,
      },
      n.data
    )
  );

  return {
    objective,
    decisionVariables,
    constraints,
    feasible: feasible && variablesValid,
    feasibleRelaxed: feasibleRelaxed && variablesValid,
    optimality: 'unspecified',
    relaxation: 'unrelaxed',
    sense: instance.sense,
    namedFunctions,
    annotations: {},
    feasibilityAtol: atol,
  };
}

/**
 * Evaluates an instance at many states, as {@link evaluateInstance} does at each; sample ids
 * are reported in ascending order. Per OMMX, a sample's `feasible` / `feasibleRelaxed` judge
 * constraints only (all / active), not variable bounds and kinds.
 *
 * @param instance - the instance
 * @param samples - sample id (a non-negative safe integer) → state
 * @param options - `atol` (default 1e-6)
 * @returns the SampleSet data
 * @throws RunledgerError `ARGUMENT_INVALID` as {@link evaluateInstance} (the message names the
 *   sample), or for a sample id that is not a non-negative safe integer
 * @example
 * ```ts
 * const set = evaluateSamples(instance, new Map([[0, stateA], [1, stateB]]), {});
 * set.objectives.get(1); set.feasible.get(0);
 * ```
 */
export function evaluateSamples(
  instance: InstanceData,
  samples: ReadonlyMap<number, State>,
  options: EvaluateOptions
): SampleSetData {
  const plan = new Plan(instance, checkAtol(options.atol));
  const atol = plan.atol;
  const sampleIds = [...samples.keys()].sort((a, b) => a - b);
  for (const id of sampleIds) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Sample id ${String(id)} is not a non-negative safe integer.`,
        { data: { sampleId: id } }
      );
    }
  }

  const objectives = new Map<number, number>();
  const variableSamples = plan.variables.map(() => new Map<number, number>());
  const { constraintData, constraintRemoved, constraintUsed } = plan;
  const constraintValues = constraintData.map(() => new Map<number, number>());
  const constraintFeasible = constraintData.map(() => new Map<number, boolean>());
  const namedValues = plan.namedFunctions.map(() => new Map<number, number>());
  const feasible = new Map<number, boolean>();
  const feasibleRelaxed = new Map<number, boolean>();

  for (const sampleId of sampleIds) {
    let values: ValueStore;
    try {
      values = plan.populate(samples.get(sampleId)!);
    } catch (e) {
      throw inSample(e, sampleId);
    }
    const get: VariableLookup = (id) => values.get(id);
    try {
      objectives.set(sampleId, evaluateFunctionWith(instance.objective, get, 'the objective'));
      let all = true;
      let active = true;
      for (let k = 0; k < constraintData.length; k++) {
        const c = constraintData[k]!;
        const value = evaluateFunctionWith(c.function, get, 'constraint', c.id);
        const ok = holds(c.equality, value, atol);
        if (!ok) {
          all = false;
          if (constraintRemoved[k] === undefined) active = false;
        }
        constraintValues[k]!.set(sampleId, value);
        constraintFeasible[k]!.set(sampleId, ok);
      }
      feasible.set(sampleId, all);
      feasibleRelaxed.set(sampleId, active);
      for (let k = 0; k < plan.namedFunctions.length; k++) {
        const n = plan.namedFunctions[k]!.data;
        namedValues[k]!.set(
          sampleId,
          evaluateFunctionWith(n.function, get, 'named function', n.id)
        );
      }
    } catch (e) {
      throw inSample(e, sampleId);
    }
    for (let i = 0; i < plan.variables.length; i++) {
      variableSamples[i]!.set(sampleId, values.get(plan.variables[i]!.id)!);
    }
  }

  const decisionVariables: SampledDecisionVariableData[] = plan.variables.map((v, i) => {
    const row: Mutable<SampledDecisionVariableData> = {
      id: v.id,
      kind: v.kind,
      samples: variableSamples[i]!,
      subscripts: v.subscripts,
      parameters: v.parameters,
    };
    if (v.bound !== undefined) row.bound = v.bound;
    return withLabel(row, v);
  });

  const constraints: SampledConstraintData[] = constraintData.map((c, k) => {
    const removed = constraintRemoved[k];
    const row: Mutable<SampledConstraintData> = {
      id: c.id,
      equality: c.equality,
      evaluatedValues: constraintValues[k]!,
      feasible: constraintFeasible[k]!,
      usedDecisionVariableIds: constraintUsed[k]!,
      subscripts: c.subscripts,
      parameters: c.parameters,
      removedReasonParameters: removed?.reasonParameters ?? NO_PARAMETERS,
      provenance: c.provenance,
    };
    if (removed !== undefined) row.removedReason = removed.reason;
    return withLabel(row, c);
  });

  const namedFunctions: SampledNamedFunctionData[] = plan.namedFunctions.map((n, k) =>
    withLabel(
      {
        id: n.data.id,
        evaluatedValues: namedValues[k]!,
        usedDecisionVariableIds: n.used,
        subscripts: n.data.subscripts,
        parameters: n.data.parameters,
      },
      n.data
    )
  );

  return {
    objectives,
    decisionVariables,
    constraints,
    feasible,
    feasibleRelaxed,
    sense: instance.sense,
    namedFunctions,
    annotations: {},
    feasibilityAtol: atol,
  };
}

function checkAtol(atol: number | undefined): number {
  if (atol === undefined) return DEFAULT_ATOL;
  // OMMX's ATol::new rejects NaN, zero and negative values.
  if (!(atol > 0)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The feasibility tolerance atol must be a positive number, got ${String(atol)}.`,
      { data: { atol } }
    );
  }
  return atol;
}

function inSample(e: unknown, sampleId: number): unknown {
  if (!(e instanceof RunledgerError)) return e;
  const message = e.message.replace(/\.$/, '');
  return new RunledgerError(e.code, `Sample ${sampleId}: ${message}.`, {
    data: { ...e.data, sampleId },
    cause: e,
  });
}

/** OMMX's feasibility rule: strict `< atol`. */
function holds(equality: ConstraintData['equality'], value: number, atol: number): boolean {
  return equality === 'equal-to-zero' ? Math.abs(value) < atol : value < atol;
}

/** Shared by every row without removal parameters (one object, not one per row). */
const NO_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Adds a label's optional fields to a row that has its required ones, leaving absent fields
 * absent (rows are built as literals plus assignments: object spread measured 20× slower here).
 */
function withLabel<T extends Label>(row: Mutable<T>, from: Label): T {
  if (from.name !== undefined) row.name = from.name;
  if (from.description !== undefined) row.description = from.description;
  return row;
}

interface PlannedNamedFunction {
  readonly data: NamedFunctionData;
  readonly used: readonly number[];
}

/** Variable values during one evaluation. */
interface ValueStore {
  get(id: number): number | undefined;
  set(id: number, value: number): void;
}

/** Values in a Float64Array indexed by id; NaN marks "no value" (state values are finite). */
class DenseValues implements ValueStore {
  readonly #values: Float64Array;
  constructor(size: number) {
    this.#values = new Float64Array(size).fill(Number.NaN);
  }
  get(id: number): number | undefined {
    const v = this.#values[id];
    return v === undefined || v !== v ? undefined : v;
  }
  set(id: number, value: number): void {
    this.#values[id] = value;
  }
}

class MapValues implements ValueStore {
  readonly #values = new Map<number, number>();
  get(id: number): number | undefined {
    return this.#values.get(id);
  }
  set(id: number, value: number): void {
    this.#values.set(id, value);
  }
}

/** Ids above this many times the variable count use a Map instead of a dense array. */
const DENSE_FACTOR = 4;
const DENSE_SLACK = 1024;

/**
 * What does not depend on the state, computed once per instance (OMMX's
 * `StatePopulationPlan`): variable lookups, which variables are used / fixed / dependent /
 * irrelevant, the dependency order, constraints sorted by id with their used ids.
 */
class Plan {
  readonly atol: number;
  /** Decision variables in ascending id order. */
  readonly variables: readonly DecisionVariableData[];
  /** Active and removed constraints in ascending id order, with the removal (if removed) and
   * the used variable ids of each at the same index. */
  readonly constraintData: readonly ConstraintData[];
  readonly constraintRemoved: readonly (RemovedConstraintData | undefined)[];
  readonly constraintUsed: readonly (readonly number[])[];
  readonly namedFunctions: readonly PlannedNamedFunction[];
  /** Used ids that are neither fixed nor dependent: the state must give them. */
  readonly #required: readonly number[];
  readonly #fixed: readonly (readonly [number, number])[];
  /** Irrelevant variables (not used, fixed or dependent) and their default value. */
  readonly #defaults: readonly (readonly [number, number])[];
  /** Dependent variables in an order where each comes after those its function needs. */
  readonly #dependencies: readonly (readonly [number, FunctionData])[];
  readonly #denseSize: number;
  readonly #position: Map<number, number> | Int32Array;
  /** Effective bounds (OMMX's `Kind::consistent_bound`) and kinds, by position. */
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #integral: Uint8Array;
  readonly #semi: Uint8Array;

  constructor(instance: InstanceData, atol: number) {
    this.atol = atol;
    const variables = sortedById(instance.decisionVariables, 'decision variable');
    this.variables = variables;
    const n = variables.length;
    const maxId = n === 0 ? -1 : variables[n - 1]!.id;
    this.#denseSize = maxId < DENSE_FACTOR * n + DENSE_SLACK ? maxId + 1 : -1;
    if (this.#denseSize >= 0) {
      const position = new Int32Array(this.#denseSize).fill(-1);
      variables.forEach((v, i) => (position[v.id] = i));
      this.#position = position;
    } else {
      this.#position = new Map(variables.map((v, i) => [v.id, i]));
    }

    this.#lower = new Float64Array(n);
    this.#upper = new Float64Array(n);
    this.#integral = new Uint8Array(n);
    this.#semi = new Uint8Array(n);
    const fixed: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      const v = variables[i]!;
      const [lo, hi] = consistentBound(v.kind, v.bound, atol);
      this.#lower[i] = lo;
      this.#upper[i] = hi;
      this.#integral[i] =
        v.kind === 'binary' || v.kind === 'integer' || v.kind === 'semi-integer' ? 1 : 0;
      this.#semi[i] = v.kind === 'semi-integer' || v.kind === 'semi-continuous' ? 1 : 0;
      if (v.substitutedValue !== undefined) fixed.push([v.id, v.substitutedValue]);
    }
    this.#fixed = fixed;

    // Constraints: active and removed together, by id.
    // Constraints: active and removed together, by id, as parallel arrays (one object fewer
    // per constraint; 10⁵-row instances are the common large case).
    const data: ConstraintData[] = [...instance.constraints];
    const removed: (RemovedConstraintData | undefined)[] = data.map(() => undefined);
    for (const r of instance.removedConstraints) {
      data.push(r.constraint);
      removed.push(r);
    }
    let order: number[] | undefined;
    for (let k = 1; k < data.length; k++) {
      if (!(data[k - 1]!.id < data[k]!.id)) {
        order = data.map((_, i) => i).sort((a, b) => data[a]!.id - data[b]!.id);
        break;
      }
    }
    this.constraintData = order === undefined ? data : order.map((i) => data[i]!);
    this.constraintRemoved = order === undefined ? removed : order.map((i) => removed[i]);
    this.constraintUsed = this.constraintData.map((c) => usedVariableIds(c.function));
    for (let k = 0; k < this.constraintData.length; k++) {
      const c = this.constraintData[k]!;
      if (k > 0 && this.constraintData[k - 1]!.id === c.id) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Constraint id ${c.id} appears more than once in the instance.`,
          { data: { id: c.id } }
        );
      }
      if (c.equality !== 'equal-to-zero' && c.equality !== 'less-than-or-equal-to-zero') {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Constraint ${c.id} has an unspecified equality.`,
          { data: { id: c.id } }
        );
      }
    }
    this.namedFunctions = sortedById(instance.namedFunctions, 'named function').map((f) => ({
      data: f,
      used: usedVariableIds(f.function),
    }));

    // OMMX's used_decision_variable_ids: objective and active constraints only.
    const used = new Uint8Array(n);
    const markUsed = (ids: readonly number[], what: string, whatId?: number): void => {
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        const i = this.positionOf(id);
        if (i < 0) {
          const subject = whatId === undefined ? what : `${what} ${whatId}`;
          throw new RunledgerError(
            'ARGUMENT_INVALID',
            `Variable ${id} used by ${subject} is not a decision variable of the instance.`,
            { data: { id } }
          );
        }
        used[i] = 1;
      }
    };
    markUsed(usedVariableIds(instance.objective), 'the objective');
    for (let k = 0; k < this.constraintData.length; k++) {
      if (this.constraintRemoved[k] === undefined) {
        markUsed(this.constraintUsed[k]!, 'constraint', this.constraintData[k]!.id);
      }
    }

    const dependent = new Uint8Array(n);
    for (const id of instance.decisionVariableDependency.keys()) {
      const i = this.positionOf(id);
      if (i < 0) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Variable ${id} in the instance's decision variable dependency is not a decision variable.`,
          { data: { id } }
        );
      }
      dependent[i] = 1;
    }
    const isFixed = new Uint8Array(n);
    for (const [id] of fixed) isFixed[this.positionOf(id)] = 1;

    const required: number[] = [];
    const defaults: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      if (isFixed[i] === 1 || dependent[i] === 1) continue;
      const v = variables[i]!;
      if (used[i] === 1) required.push(v.id);
      else
        defaults.push([
          v.id,
          this.#semi[i] === 1 ? 0 : nearestToZero(this.#lower[i]!, this.#upper[i]!),
        ]);
    }
    this.#required = required;
    this.#defaults = defaults;
    this.#dependencies = dependencyOrder(instance.decisionVariableDependency);
  }

  /** The position of a variable in `variables`, -1 when the id is not a decision variable. */
  positionOf(id: number): number {
    const position = this.#position;
    return (position instanceof Int32Array ? position[id] : position.get(id)) ?? -1;
  }

  /** OMMX's `EvaluatedDecisionVariable::is_valid`, plus: a semi-* variable may be 0. */
  valid(i: number, value: number): boolean {
    const atol = this.atol;
    if (!Number.isFinite(value)) return false;
    if (this.#semi[i] === 1 && Math.abs(value) <= atol) return true;
    if (!(this.#lower[i]! - atol <= value && value <= this.#upper[i]! + atol)) return false;
    return this.#integral[i] === 0 || Math.abs(Math.round(value) - value) < atol;
  }

  /** OMMX's `populate_state`: check the state, then fill fixed, irrelevant, dependent values. */
  populate(state: State): ValueStore {
    const atol = this.atol;
    const values: ValueStore =
      this.#denseSize >= 0 ? new DenseValues(this.#denseSize) : new MapValues();

    let unknown: number[] | undefined;
    for (const id of state.keys()) {
      if (this.positionOf(id) < 0) (unknown ??= []).push(id);
    }
    if (unknown !== undefined) {
      unknown.sort((a, b) => a - b);
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The state names ${plural(unknown, 'id')} ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not a decision variable' : 'are not decision variables'} of the instance.`,
        { data: { ids: unknown } }
      );
    }

    let missing: number[] | undefined;
    for (const id of this.#required) if (!state.has(id)) (missing ??= []).push(id);
    if (missing !== undefined) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The state has no value for ${plural(missing, 'variable')} ${missing.join(', ')} used by the objective or the constraints.`,
        { data: { ids: missing } }
      );
    }

    for (const [id, value] of state) {
      if (!Number.isFinite(value)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The state value ${String(value)} of variable ${id} is not finite.`,
          { data: { id, value } }
        );
      }
      values.set(id, value);
    }

    for (const [id, fixedValue] of this.#fixed) {
      const given = values.get(id);
      if (given === undefined) values.set(id, fixedValue);
      else if (!(Math.abs(given - fixedValue) <= atol)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The state value ${given} of variable ${id} disagrees with its fixed value ${fixedValue}.`,
          { data: { id, value: given, fixedValue, atol } }
        );
      }
    }

    for (const [id, value] of this.#defaults)
      if (values.get(id) === undefined) values.set(id, value);

    const get: VariableLookup = (id) => values.get(id);
    for (const [id, f] of this.#dependencies) {
      const value = evaluateFunctionWith(f, get, 'the dependency of variable', id);
      if (!Number.isFinite(value)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Dependent variable ${id} evaluates to ${value}, which is not finite.`,
          { data: { id, value } }
        );
      }
      const given = state.get(id);
      if (given !== undefined && !(Math.abs(given - value) <= atol)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The state value ${given} of variable ${id} disagrees with its dependency, which gives ${value}.`,
          { data: { id, value: given, dependencyValue: value, atol } }
        );
      }
      values.set(id, given ?? value);
    }
    return values;
  }
}

function plural(ids: readonly number[], word: string): string {
  return ids.length === 1 ? word : `${word}s`;
}

function sortedById<T extends { readonly id: number }>(
  rows: readonly T[],
  what: string
): readonly T[] {
  let sorted = true;
  for (let k = 1; k < rows.length; k++) {
    if (!(rows[k - 1]!.id < rows[k]!.id)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return rows;
  const out = [...rows].sort((a, b) => a.id - b.id);
  for (let k = 1; k < out.length; k++) {
    if (out[k - 1]!.id === out[k]!.id) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The ${what} id ${out[k]!.id} appears more than once in the instance.`,
        { data: { id: out[k]!.id } }
      );
    }
  }
  return out;
}

/**
 * OMMX's `Kind::consistent_bound` (`rust/ommx/src/decision_variable.rs`): integer kinds round
 * their bound inward, binary is clipped to [0, 1]. An empty result is [+∞, −∞] (nothing valid).
 */
function consistentBound(
  kind: VariableKind,
  bound: Bound | undefined,
  atol: number
): [number, number] {
  const lower = bound?.lower ?? Number.NEGATIVE_INFINITY;
  const upper = bound?.upper ?? Number.POSITIVE_INFINITY;
  switch (kind) {
    case 'binary':
      if (lower > 1 + atol || upper < -atol) return [Infinity, -Infinity];
      if (lower > atol) return [1, 1];
      if (upper < 1 - atol) return [0, 0];
      return [0, 1];
    case 'integer':
    case 'semi-integer': {
      const lo = Number.isFinite(lower) ? Math.ceil(lower - atol) + 0 : lower; // + 0: no -0
      const hi = Number.isFinite(upper) ? Math.floor(upper + atol) : upper;
      if (hi < lo) return kind === 'integer' ? [Infinity, -Infinity] : [0, 0];
      return [lo, hi];
    }
    default:
      return [lower, upper];
  }
}

/** OMMX's `Bound::nearest_to_zero`. */
function nearestToZero(lower: number, upper: number): number {
  if (lower > upper) return 0; // an empty bound: OMMX would have rejected the instance
  if (lower >= 0) return lower;
  if (upper <= 0) return upper;
  return 0;
}

/**
 * Dependent variables in evaluation order (OMMX's `AcyclicAssignments::evaluation_order_iter`):
 * each after the dependent variables its function uses; ties by ascending id.
 */
function dependencyOrder(
  dependency: ReadonlyMap<number, FunctionData>
): (readonly [number, FunctionData])[] {
  const order: (readonly [number, FunctionData])[] = [];
  if (dependency.size === 0) return order;
  const state = new Map<number, 1 | 2>(); // 1 visiting, 2 done
  const ids = [...dependency.keys()].sort((a, b) => a - b);
  for (const root of ids) {
    if (state.has(root)) continue;
    // Iterative depth-first search: a chain of dependencies may be long.
    const stack: { id: number; next: number; needs: number[] }[] = [];
    const enter = (id: number): void => {
      state.set(id, 1);
      const needs = usedVariableIds(dependency.get(id)!).filter((u) => dependency.has(u));
      stack.push({ id, next: 0, needs });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.needs.length) {
        const dep = top.needs[top.next++]!;
        const s = state.get(dep);
        if (s === 1) {
          throw new RunledgerError(
            'ARGUMENT_INVALID',
            `The instance's decision variable dependency has a cycle through variable ${dep}.`,
            { data: { id: dep } }
          );
        }
        if (s === undefined) enter(dep);
      } else {
        stack.pop();
        state.set(top.id, 2);
        order.push([top.id, dependency.get(top.id)!]);
      }
    }
  }
  return order;
}
