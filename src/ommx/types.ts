/**
 * @module ommx/types
 * The OMMX message model as readonly plain data: what `ommx/wire` decodes from and encodes to
 * protobuf (ommx-reference §10), what `ommx/evaluate` computes with, what solver adapters read.
 * Ids (decision variables, constraints, samples, parameters) are `u64` on the wire and safe
 * integers here; a payload with a larger id is rejected when decoded.
 */

/** Optimization direction. */
export type Sense = 'unspecified' | 'minimize' | 'maximize';

/** `ommx.v1.DecisionVariable.Kind`. */
export type VariableKind =
  | 'unspecified'
  | 'binary'
  | 'integer'
  | 'continuous'
  | 'semi-integer'
  | 'semi-continuous';

/** `ommx.v1.Equality`: the constraint is `f(x) = 0` or `f(x) ≤ 0`. */
export type Equality = 'unspecified' | 'equal-to-zero' | 'less-than-or-equal-to-zero';

/** `ommx.v1.Optimality`. */
export type Optimality = 'unspecified' | 'optimal' | 'not-optimal';

/** `ommx.v1.Relaxation`. */
export type Relaxation = 'unrelaxed' | 'lp-relaxed';

/** One `coefficient · x[id]` term. */
export interface LinearTerm {
  readonly id: number;
  readonly coefficient: number;
}

/** A linear function: Σ terms + constant (`ommx.v1.Linear`). */
export interface LinearData {
  readonly terms: readonly LinearTerm[];
  readonly constant: number;
}

/** `coefficient · Π x[ids]` (ids may repeat; empty ids = a constant). */
export interface Monomial {
  readonly ids: readonly number[];
  readonly coefficient: number;
}

/**
 * `ommx.v1.Function`, in the shape it has on the wire (so a decoded payload re-encodes to the
 * same bytes): a constant, a linear function, a quadratic in COO form (Σ values[k] ·
 * x[rows[k]] · x[columns[k]] + linear), or a polynomial.
 */
export type FunctionData =
  | { readonly kind: 'constant'; readonly constant: number }
  | ({ readonly kind: 'linear' } & LinearData)
  | {
      readonly kind: 'quadratic';
      readonly rows: readonly number[];
      readonly columns: readonly number[];
      readonly values: readonly number[];
      readonly linear?: LinearData;
    }
  | { readonly kind: 'polynomial'; readonly terms: readonly Monomial[] };

/** Modelling metadata shared by variables, constraints, named functions and parameters (`v2.ModelingLabel`). */
export interface Label {
  readonly name?: string;
  /** int64 subscripts, e.g. `[i, j]` of `x[i][j]`. */
  readonly subscripts: readonly number[];
  readonly parameters: Readonly<Record<string, string>>;
  readonly description?: string;
}

/** `ommx.v1.Bound`. */
export interface Bound {
  readonly lower: number;
  readonly upper: number;
}

/** A decision variable of an Instance. */
export interface DecisionVariableData extends Label {
  readonly id: number;
  readonly kind: VariableKind;
  /** Absent: unbounded (OMMX reads an absent bound as (-∞, ∞)). */
  readonly bound?: Bound;
  /** Fixed value (v1 `substituted_value`, v2 `fixed_values`). */
  readonly substitutedValue?: number;
}

/** Where a constraint came from (`v2.Provenance`), when it was derived from a special constraint. */
export interface Provenance {
  readonly kind: 'indicator' | 'one-hot' | 'sos1';
  readonly id: number;
}

/** A regular constraint `function (=|≤) 0`. */
export interface ConstraintData extends Label {
  readonly id: number;
  readonly equality: Equality;
  readonly function: FunctionData;
  /** v2 `ConstraintContext.provenance`; empty for constraints written by hand. */
  readonly provenance: readonly Provenance[];
}

/** A constraint taken out of the model (by presolve, relaxation…), with the reason. */
export interface RemovedConstraintData {
  readonly constraint: ConstraintData;
  readonly reason: string;
  readonly reasonParameters: Readonly<Record<string, string>>;
}

/** A named auxiliary function evaluated alongside the objective. */
export interface NamedFunctionData extends Label {
  readonly id: number;
  readonly function: FunctionData;
}

/** `ommx.v1.Instance.Description`. */
export interface InstanceDescription {
  readonly name?: string;
  readonly description?: string;
  readonly authors: readonly string[];
  readonly createdBy?: string;
  /** RFC 3339 text. */
  readonly created?: string;
  readonly license?: string;
  readonly dataset?: string;
}

/** An optimization problem (`ommx.v2.Instance`; v1 is converted on decode). */
export interface InstanceData {
  readonly description?: InstanceDescription;
  /** In ascending id order. */
  readonly decisionVariables: readonly DecisionVariableData[];
  readonly objective: FunctionData;
  /** Active regular constraints, in ascending id order. */
  readonly constraints: readonly ConstraintData[];
  /** In ascending constraint id order. */
  readonly removedConstraints: readonly RemovedConstraintData[];
  readonly sense: Sense;
  /** Parameter values this instance was made with (`ommx.v1.Parameters`), if any. */
  readonly parameters?: ReadonlyMap<number, number>;
  /** Variables defined as functions of others. */
  readonly decisionVariableDependency: ReadonlyMap<number, FunctionData>;
  readonly namedFunctions: readonly NamedFunctionData[];
  readonly annotations: Readonly<Record<string, string>>;
}

/** A placeholder of a ParametricInstance (`v2.ParameterTable` row). */
export interface ParameterData extends Label {
  readonly id: number;
}

/** An Instance with parameter placeholders in its functions (`ommx.v2.ParametricInstance`). */
export interface ParametricInstanceData {
  readonly description?: InstanceDescription;
  readonly decisionVariables: readonly DecisionVariableData[];
  /** In ascending id order. */
  readonly parameters: readonly ParameterData[];
  readonly objective: FunctionData;
  readonly constraints: readonly ConstraintData[];
  readonly removedConstraints: readonly RemovedConstraintData[];
  readonly sense: Sense;
  readonly decisionVariableDependency: ReadonlyMap<number, FunctionData>;
  readonly namedFunctions: readonly NamedFunctionData[];
  readonly annotations: Readonly<Record<string, string>>;
}

/** `ommx.v1.ProcessMetadata`: who produced a Solution or SampleSet, and when. */
export interface ProcessMetadata {
  /** Digest of the input Instance. */
  readonly instance?: string;
  /** JSON text naming the solver. */
  readonly solver?: string;
  /** JSON text of the solver parameters. */
  readonly parameters?: string;
  /** RFC 3339. */
  readonly start?: string;
  /** RFC 3339. */
  readonly end?: string;
}

/** A decision variable with its value in a Solution. */
export interface EvaluatedDecisionVariableData extends Label {
  readonly id: number;
  readonly kind: VariableKind;
  readonly bound?: Bound;
  readonly value: number;
}

/** A constraint evaluated at a Solution's state. */
export interface EvaluatedConstraintData extends Label {
  readonly id: number;
  readonly equality: Equality;
  readonly evaluatedValue: number;
  readonly feasible: boolean;
  readonly usedDecisionVariableIds: readonly number[];
  readonly dualVariable?: number;
  /** Set for constraints that were removed from the Instance. */
  readonly removedReason?: string;
  readonly removedReasonParameters: Readonly<Record<string, string>>;
  readonly provenance: readonly Provenance[];
}

/** A named function evaluated at a Solution's state. */
export interface EvaluatedNamedFunctionData extends Label {
  readonly id: number;
  readonly evaluatedValue: number;
  readonly usedDecisionVariableIds: readonly number[];
}

/** A solver's answer evaluated against its Instance (`ommx.v2.Solution`). */
export interface SolutionData {
  readonly objective: number;
  /** In ascending id order. */
  readonly decisionVariables: readonly EvaluatedDecisionVariableData[];
  /** Active and removed constraints, in ascending id order. */
  readonly constraints: readonly EvaluatedConstraintData[];
  /** Every constraint, removed ones included, holds. */
  readonly feasible: boolean;
  /** The active (not removed) constraints hold. */
  readonly feasibleRelaxed?: boolean;
  readonly optimality: Optimality;
  readonly relaxation: Relaxation;
  readonly sense: Sense;
  readonly namedFunctions: readonly EvaluatedNamedFunctionData[];
  readonly metadata?: ProcessMetadata;
  readonly annotations: Readonly<Record<string, string>>;
  /** Tolerance feasibility was judged with. */
  readonly feasibilityAtol?: number;
}

/** A value per sample id (`ommx.v1.SampledValues`, stored compressed: one value, many ids). */
export type SampledValues = ReadonlyMap<number, number>;

/** A decision variable with its value in each sample. */
export interface SampledDecisionVariableData extends Label {
  readonly id: number;
  readonly kind: VariableKind;
  readonly bound?: Bound;
  readonly samples: SampledValues;
}

/** A constraint evaluated in each sample. */
export interface SampledConstraintData extends Label {
  readonly id: number;
  readonly equality: Equality;
  readonly evaluatedValues: SampledValues;
  readonly feasible: ReadonlyMap<number, boolean>;
  readonly usedDecisionVariableIds: readonly number[];
  readonly dualVariables?: SampledValues;
  readonly removedReason?: string;
  readonly removedReasonParameters: Readonly<Record<string, string>>;
  readonly provenance: readonly Provenance[];
}

/** A named function evaluated in each sample. */
export interface SampledNamedFunctionData extends Label {
  readonly id: number;
  readonly evaluatedValues: SampledValues;
  readonly usedDecisionVariableIds: readonly number[];
}

/** Many samples of one Instance, evaluated (`ommx.v2.SampleSet`). */
export interface SampleSetData {
  readonly objectives: SampledValues;
  readonly decisionVariables: readonly SampledDecisionVariableData[];
  readonly constraints: readonly SampledConstraintData[];
  readonly feasible: ReadonlyMap<number, boolean>;
  readonly feasibleRelaxed: ReadonlyMap<number, boolean>;
  readonly sense: Sense;
  readonly namedFunctions: readonly SampledNamedFunctionData[];
  readonly metadata?: ProcessMetadata;
  readonly annotations: Readonly<Record<string, string>>;
  readonly feasibilityAtol?: number;
}

/** A point: variable id → value (`ommx.v1.State`). */
export type State = ReadonlyMap<number, number>;
