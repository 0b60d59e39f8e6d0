/**
 * @module ommx/wire/v1
 * Readers for the `ommx.v1` roots (Instance, ParametricInstance, Solution, SampleSet), converted
 * to the model the way OMMX's Rust SDK converts v1 to its v2 semantics. runledger never writes v1.
 *
 * - `format_version` (field 100): OMMX's current version is 0 (`CURRENT_FORMAT_VERSION` in
 *   `rust/ommx/src/lib.rs`); readers accept `<= 0` and refuse newer data.
 * - `constraint_hints` (Instance/ParametricInstance field 7) are ignored, as OMMX ignores them:
 *   they are advisory, derived from regular constraints that stay in the payload.
 * - Solution: values come from `state`, or `substituted_value` for a variable missing there;
 *   kinds, bounds and labels from `decision_variables`. A constraint with `removed_reason` was
 *   removed. v1 has no per-constraint `feasible`: it is computed as OMMX does, with OMMX's
 *   default absolute tolerance 1e-6 (`ATol::default()`): `|v| < 1e-6` for `= 0`, `v < 1e-6`
 *   for `≤ 0` (an unspecified equality counts as infeasible).
 * - `feasible` / `feasible_relaxed` follow OMMX's reading of the 1.6 → 1.7 renaming (see
 *   {@link solutionFeasibility}).
 */
import type {
  Bound,
  ConstraintData,
  DecisionVariableData,
  Equality,
  EvaluatedConstraintData,
  EvaluatedDecisionVariableData,
  EvaluatedNamedFunctionData,
  FunctionData,
  InstanceData,
  InstanceDescription,
  NamedFunctionData,
  Optimality,
  ParameterData,
  ParametricInstanceData,
  ProcessMetadata,
  Relaxation,
  RemovedConstraintData,
  SampledConstraintData,
  SampledDecisionVariableData,
  SampledNamedFunctionData,
  SampleSetData,
  Sense,
  SolutionData,
  VariableKind,
} from '../types.js';
import {
  checkUniqueIds,
  emptyLabel,
  I64,
  k,
  LD,
  other,
  readPackedI64,
  readPackedU64,
  readStringMapEntry,
  readU64BoolEntry,
  sortById,
  sortedMap,
  VARINT,
  withLabel,
  type LabelDraft,
  type Mutable,
} from './fields.js';
import {
  readBound,
  readDescription,
  readDoubleMapMessage,
  readEquality,
  readFunction,
  readKind,
  readMetadata,
  readOptimality,
  readParameters,
  readRelaxation,
  readSampledValues,
  readSense,
} from './messages.js';
import { malformed, ProtoReader, WireError } from './protobuf.js';
import { finishDependency, readDependencyEntry } from './tables.js';

/** OMMX's `CURRENT_FORMAT_VERSION`: the newest v1 `format_version` runledger reads. */
export const FORMAT_VERSION = 0;

/** OMMX's default absolute tolerance (`ATol::default()`), for v1 per-constraint feasibility. */
export const DEFAULT_ATOL = 1e-6;

const FORMAT_VERSION_KEY = k(100, VARINT);

function checkFormatVersion(r: ProtoReader): void {
  const version = r.uint32();
  if (version > FORMAT_VERSION) throw new WireError('version', String(version));
}

/** Field numbers of the four label fields in one v1 message. */
interface LabelFields {
  readonly name: number;
  readonly subscripts: number;
  readonly parameters: number;
  readonly description: number;
}

/** Reads `t` into `label` if it is one of the label fields; returns whether it was. */
function readLabelField(r: ProtoReader, t: number, f: LabelFields, label: LabelDraft): boolean {
  if (t === k(f.name, LD)) label.name = r.string();
  else if (t === k(f.subscripts, LD) || t === k(f.subscripts, VARINT))
    readPackedI64(r, t, label.subscripts);
  else if (t === k(f.parameters, LD)) readStringMapEntry(r, label.parameters);
  else if (t === k(f.description, LD)) label.description = r.string();
  else return false;
  return true;
}

function fieldList(f: LabelFields, ...more: number[]): number[] {
  return [f.name, f.subscripts, f.parameters, f.description, ...more];
}

// ---- building blocks ----------------------------------------------------------------------

/** `DecisionVariable`: id = 1, kind = 2, bound = 3, then the label, substituted_value = 8. */
const VARIABLE_LABEL: LabelFields = { name: 4, subscripts: 5, parameters: 6, description: 7 };

interface V1Variable {
  id: number;
  kind: VariableKind;
  bound: Bound | undefined;
  substitutedValue: number | undefined;
  label: LabelDraft;
}

function readVariable(r: ProtoReader): V1Variable {
  const v: V1Variable = {
    id: 0,
    kind: 'unspecified',
    bound: undefined,
    substitutedValue: undefined,
    label: emptyLabel(),
  };
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) v.id = r.u64();
    else if (t === k(2, VARINT)) v.kind = readKind(r);
    else if (t === k(3, LD)) v.bound = readBound(r);
    else if (t === k(8, I64)) v.substitutedValue = r.double();
    else if (!readLabelField(r, t, VARIABLE_LABEL, v.label))
      other(r, t, 'DecisionVariable', fieldList(VARIABLE_LABEL, 1, 2, 3, 8));
  }
  r.leave(end);
  return v;
}

function toVariable(v: V1Variable): DecisionVariableData {
  const out: Mutable<DecisionVariableData> = withLabel({ id: v.id, kind: v.kind }, v.label);
  if (v.bound !== undefined) out.bound = v.bound;
  if (v.substitutedValue !== undefined) out.substitutedValue = v.substitutedValue;
  return out;
}

/** `Constraint`: id = 1, equality = 2, function = 3, parameters = 5, name = 6, description = 7, subscripts = 8. */
const CONSTRAINT_LABEL: LabelFields = { name: 6, subscripts: 8, parameters: 5, description: 7 };

function readConstraint(r: ProtoReader): ConstraintData {
  let id = 0;
  let equality: Equality = 'unspecified';
  let f: FunctionData | undefined;
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, VARINT)) equality = readEquality(r);
    else if (t === k(3, LD)) f = readFunction(r);
    else if (!readLabelField(r, t, CONSTRAINT_LABEL, label))
      other(r, t, 'Constraint', fieldList(CONSTRAINT_LABEL, 1, 2, 3));
  }
  r.leave(end);
  if (f === undefined) throw malformed(`constraint ${id} has no function`);
  return Object.assign(withLabel({ id, equality, function: f }, label), { provenance: [] });
}

/** `RemovedConstraint`: constraint = 1, removed_reason = 2, removed_reason_parameters = 3. */
function readRemovedConstraint(r: ProtoReader): RemovedConstraintData {
  let constraint: ConstraintData | undefined;
  let reason = '';
  const reasonParameters: Record<string, string> = {};
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) constraint = readConstraint(r);
    else if (t === k(2, LD)) reason = r.string();
    else if (t === k(3, LD)) readStringMapEntry(r, reasonParameters);
    else other(r, t, 'RemovedConstraint', [1, 2, 3]);
  }
  r.leave(end);
  if (constraint === undefined) throw malformed('a RemovedConstraint has no constraint');
  return { constraint, reason, reasonParameters };
}

/** `NamedFunction`: id = 1, function = 2, subscripts = 3, parameters = 4, name = 5, description = 6. */
const NAMED_LABEL: LabelFields = { name: 5, subscripts: 3, parameters: 4, description: 6 };

function readNamedFunction(r: ProtoReader): NamedFunctionData {
  let id = 0;
  let f: FunctionData | undefined;
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, LD)) f = readFunction(r);
    else if (!readLabelField(r, t, NAMED_LABEL, label))
      other(r, t, 'NamedFunction', fieldList(NAMED_LABEL, 1, 2));
  }
  r.leave(end);
  if (f === undefined) throw malformed(`named function ${id} has no function`);
  return withLabel({ id, function: f }, label);
}

/** `Parameter`: id = 1, name = 2, subscripts = 3, parameters = 4, description = 5. */
const PARAMETER_LABEL: LabelFields = { name: 2, subscripts: 3, parameters: 4, description: 5 };

function readParameter(r: ProtoReader): ParameterData {
  let id = 0;
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (!readLabelField(r, t, PARAMETER_LABEL, label))
      other(r, t, 'Parameter', fieldList(PARAMETER_LABEL, 1));
  }
  r.leave(end);
  return withLabel({ id }, label);
}

// ---- Instance, ParametricInstance ---------------------------------------------------------

/** Field numbers that differ between the two v1 instance roots. */
interface V1Layout {
  readonly parameterList: number | undefined;
  readonly objective: number;
  readonly constraints: number;
  readonly sense: number;
  readonly parameters: number | undefined;
}
const INSTANCE: V1Layout = {
  parameterList: undefined,
  objective: 3,
  constraints: 4,
  sense: 5,
  parameters: 6,
};
const PARAMETRIC: V1Layout = {
  parameterList: 3,
  objective: 4,
  constraints: 5,
  sense: 6,
  parameters: undefined,
};

interface V1InstanceParts {
  description: InstanceDescription | undefined;
  variables: DecisionVariableData[];
  parameterList: ParameterData[];
  objective: FunctionData | undefined;
  constraints: ConstraintData[];
  sense: Sense;
  parameters: Map<number, number> | undefined;
  removed: RemovedConstraintData[];
  dependency: Map<number, FunctionData | undefined>;
  namedFunctions: NamedFunctionData[];
  annotations: Record<string, string>;
}

/**
 * Reads a v1 Instance or ParametricInstance: description = 1, decision_variables = 2,
 * [parameters = 3 (Parametric)], objective, constraints, sense, [parameters = 6 (Instance)],
 * constraint_hints = 7 (ignored), removed_constraints = 8, decision_variable_dependency = 9,
 * named_functions = 10, annotations = 11, format_version = 100.
 */
function readV1InstanceParts(bytes: Uint8Array, layout: V1Layout): V1InstanceParts {
  const r = new ProtoReader(bytes);
  const p: V1InstanceParts = {
    description: undefined,
    variables: [],
    parameterList: [],
    objective: undefined,
    constraints: [],
    sense: 'unspecified',
    parameters: undefined,
    removed: [],
    dependency: new Map(),
    namedFunctions: [],
    annotations: {},
  };
  while (r.pos < r.len) {
    const t = r.key();
    const field = t >>> 3;
    const ld = (t & 7) === LD;
    if (t === k(1, LD)) p.description = readDescription(r);
    else if (t === k(2, LD)) p.variables.push(toVariable(readVariable(r)));
    else if (ld && field === layout.parameterList) p.parameterList.push(readParameter(r));
    else if (ld && field === layout.objective) p.objective = readFunction(r);
    else if (ld && field === layout.constraints) p.constraints.push(readConstraint(r));
    else if (t === k(layout.sense, VARINT)) p.sense = readSense(r);
    else if (ld && field === layout.parameters) p.parameters = readParameters(r);
    else if (t === k(7, LD)) r.skipField(t);
    else if (t === k(8, LD)) p.removed.push(readRemovedConstraint(r));
    else if (t === k(9, LD)) readDependencyEntry(r, p.dependency);
    else if (t === k(10, LD)) p.namedFunctions.push(readNamedFunction(r));
    else if (t === k(11, LD)) readStringMapEntry(r, p.annotations);
    else if (t === FORMAT_VERSION_KEY) checkFormatVersion(r);
    else other(r, t, 'the root message', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100]);
  }
  if (p.objective === undefined) throw malformed('it has no objective');
  checkUniqueIds(sortById(p.variables), 'decision variable');
  checkUniqueIds(sortById(p.parameterList), 'parameter');
  checkUniqueIds(sortById(p.namedFunctions), 'named function');
  sortById(p.constraints);
  p.removed.sort((a, b) => a.constraint.id - b.constraint.id);
  checkUniqueIds(
    sortById([...p.constraints, ...p.removed.map((rc) => rc.constraint)]),
    'constraint'
  );
  return p;
}

/**
 * The model's fields both roots have but for the description, variables and parameters, in the
 * model's order; `objective` is known to be present ({@link readV1InstanceParts} checks it).
 */
function finishInstanceTail(
  p: V1InstanceParts
): Omit<ParametricInstanceData, 'description' | 'decisionVariables' | 'parameters'> {
  return {
    objective: p.objective as FunctionData,
    constraints: p.constraints,
    removedConstraints: p.removed,
    sense: p.sense,
    decisionVariableDependency: finishDependency(p.dependency),
    namedFunctions: p.namedFunctions,
    annotations: p.annotations,
  };
}

/** Decodes an `ommx.v1.Instance` into the model. */
export function readInstanceV1(bytes: Uint8Array): InstanceData {
  const p = readV1InstanceParts(bytes, INSTANCE);
  const out: Mutable<InstanceData> = { decisionVariables: p.variables, ...finishInstanceTail(p) };
  if (p.description !== undefined) out.description = p.description;
  if (p.parameters !== undefined) out.parameters = p.parameters;
  return out;
}

/** Decodes an `ommx.v1.ParametricInstance` into the model. */
export function readParametricInstanceV1(bytes: Uint8Array): ParametricInstanceData {
  const p = readV1InstanceParts(bytes, PARAMETRIC);
  const out: Mutable<ParametricInstanceData> = {
    decisionVariables: p.variables,
    parameters: p.parameterList,
    ...finishInstanceTail(p),
  };
  if (p.description !== undefined) out.description = p.description;
  return out;
}

// ---- Solution -----------------------------------------------------------------------------

/** Sorts the rows of a v1 Solution or SampleSet by id in place, checking that no id repeats. */
function sortRows(
  variables: { readonly id: number }[],
  constraints: { readonly id: number }[],
  namedFunctions: { readonly id: number }[]
): void {
  checkUniqueIds(sortById(variables), 'decision variable');
  checkUniqueIds(sortById(constraints), 'constraint');
  checkUniqueIds(sortById(namedFunctions), 'named function');
}

/** Whether a constraint value is feasible under OMMX's default tolerance (v1 has no flag). */
function feasibleAt(equality: Equality, value: number): boolean {
  if (equality === 'equal-to-zero') return Math.abs(value) < DEFAULT_ATOL;
  if (equality === 'less-than-or-equal-to-zero') return value < DEFAULT_ATOL;
  return false;
}

/**
 * v1 `Solution.feasible` changed meaning in OMMX 1.7: with `feasible_relaxed` present (≥ 1.7),
 * `feasible` covers all constraints and `feasible_relaxed` the remaining ones; without it (1.6),
 * `feasible` was the relaxed one and the deprecated `feasible_unrelaxed` covered all. Data older
 * than 1.6 has neither and no removed constraints, so there both are `feasible`.
 */
function solutionFeasibility(
  feasible: boolean,
  feasibleRelaxed: boolean | undefined,
  feasibleUnrelaxed: boolean,
  anyRemoved: boolean
): { feasible: boolean; feasibleRelaxed: boolean } {
  if (feasibleRelaxed !== undefined) return { feasible, feasibleRelaxed };
  return {
    feasible: feasibleUnrelaxed || (feasible && !anyRemoved),
    feasibleRelaxed: feasible,
  };
}

/**
 * `EvaluatedConstraint`: id = 1, equality = 2, evaluated_value = 3, used ids = 4,
 * parameters = 5, name = 6, description = 7, dual_variable = 8, subscripts = 9,
 * removed_reason = 10, removed_reason_parameters = 11.
 */
const EVALUATED_CONSTRAINT_LABEL: LabelFields = {
  name: 6,
  subscripts: 9,
  parameters: 5,
  description: 7,
};

function readEvaluatedConstraint(r: ProtoReader): EvaluatedConstraintData {
  let id = 0;
  let equality: Equality = 'unspecified';
  let evaluatedValue = 0;
  const used: number[] = [];
  let dual: number | undefined;
  let removedReason: string | undefined;
  const removedReasonParameters: Record<string, string> = {};
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, VARINT)) equality = readEquality(r);
    else if (t === k(3, I64)) evaluatedValue = r.double();
    else if (t === k(4, LD) || t === k(4, VARINT)) readPackedU64(r, t, used);
    else if (t === k(8, I64)) dual = r.double();
    else if (t === k(10, LD)) removedReason = r.string();
    else if (t === k(11, LD)) readStringMapEntry(r, removedReasonParameters);
    else if (!readLabelField(r, t, EVALUATED_CONSTRAINT_LABEL, label))
      other(
        r,
        t,
        'EvaluatedConstraint',
        fieldList(EVALUATED_CONSTRAINT_LABEL, 1, 2, 3, 4, 8, 10, 11)
      );
  }
  r.leave(end);
  const c: Mutable<EvaluatedConstraintData> = Object.assign(
    withLabel(
      {
        id,
        equality,
        evaluatedValue,
        feasible: feasibleAt(equality, evaluatedValue),
        usedDecisionVariableIds: used,
        // Parameters of a removal only exist with a reason (the model has no other place).
        removedReasonParameters: removedReason === undefined ? {} : removedReasonParameters,
      },
      label
    ),
    { provenance: [] }
  );
  if (dual !== undefined) c.dualVariable = dual;
  if (removedReason !== undefined) c.removedReason = removedReason;
  return c;
}

/** `EvaluatedNamedFunction`: id = 1, evaluated_value = 2, used ids = 3, subscripts = 4, parameters = 5, name = 6, description = 7. */
const EVALUATED_NAMED_LABEL: LabelFields = {
  name: 6,
  subscripts: 4,
  parameters: 5,
  description: 7,
};

function readEvaluatedNamedFunction(r: ProtoReader): EvaluatedNamedFunctionData {
  let id = 0;
  let evaluatedValue = 0;
  const used: number[] = [];
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, I64)) evaluatedValue = r.double();
    else if (t === k(3, LD) || t === k(3, VARINT)) readPackedU64(r, t, used);
    else if (!readLabelField(r, t, EVALUATED_NAMED_LABEL, label))
      other(r, t, 'EvaluatedNamedFunction', fieldList(EVALUATED_NAMED_LABEL, 1, 2, 3));
  }
  r.leave(end);
  return withLabel({ id, evaluatedValue, usedDecisionVariableIds: used }, label);
}

/**
 * Decodes an `ommx.v1.Solution`: state = 1, objective = 2, decision_variables = 3,
 * evaluated_constraints = 4, feasible = 5, optimality = 6, relaxation = 7,
 * feasible_unrelaxed = 8, feasible_relaxed = 9, sense = 10, evaluated_named_functions = 11,
 * metadata = 12, annotations = 13, format_version = 100. State entries for ids that are not
 * decision variables are dropped (OMMX drops them too).
 */
export function readSolutionV1(bytes: Uint8Array): SolutionData {
  const r = new ProtoReader(bytes);
  const state = new Map<number, number>();
  let objective = 0;
  const variables: V1Variable[] = [];
  const constraints: EvaluatedConstraintData[] = [];
  let feasible = false;
  let optimality: Optimality = 'unspecified';
  let relaxation: Relaxation = 'unrelaxed';
  let feasibleUnrelaxed = false;
  let feasibleRelaxed: boolean | undefined;
  let sense: Sense = 'unspecified';
  const namedFunctions: EvaluatedNamedFunctionData[] = [];
  let metadata: ProcessMetadata | undefined;
  const annotations: Record<string, string> = {};
  while (r.pos < r.len) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
        readDoubleMapMessage(r, state, 'State');
        break;
      case k(2, I64):
        objective = r.double();
        break;
      case k(3, LD):
        variables.push(readVariable(r));
        break;
      case k(4, LD):
        constraints.push(readEvaluatedConstraint(r));
        break;
      case k(5, VARINT):
        feasible = r.bool();
        break;
      case k(6, VARINT):
        optimality = readOptimality(r);
        break;
      case k(7, VARINT):
        relaxation = readRelaxation(r);
        break;
      case k(8, VARINT):
        feasibleUnrelaxed = r.bool();
        break;
      case k(9, VARINT):
        feasibleRelaxed = r.bool();
        break;
      case k(10, VARINT):
        sense = readSense(r);
        break;
      case k(11, LD):
        namedFunctions.push(readEvaluatedNamedFunction(r));
        break;
      case k(12, LD):
        metadata = readMetadata(r);
        break;
      case k(13, LD):
        readStringMapEntry(r, annotations);
        break;
      case FORMAT_VERSION_KEY:
        checkFormatVersion(r);
        break;
      default:
        other(r, t, 'Solution', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 100]);
    }
  }
  const decisionVariables: EvaluatedDecisionVariableData[] = variables.map((v) => {
    const value = state.get(v.id) ?? v.substitutedValue;
    if (value === undefined)
      throw malformed(
        `decision variable ${v.id} has a value neither in state nor substituted_value`
      );
    const out: Mutable<EvaluatedDecisionVariableData> = withLabel(
      { id: v.id, kind: v.kind, value },
      v.label
    );
    if (v.bound !== undefined) out.bound = v.bound;
    return out;
  });
  sortRows(decisionVariables, constraints, namedFunctions);
  const out: Mutable<SolutionData> = {
    objective,
    decisionVariables,
    constraints,
    ...solutionFeasibility(
      feasible,
      feasibleRelaxed,
      feasibleUnrelaxed,
      constraints.some((c) => c.removedReason !== undefined)
    ),
    optimality,
    relaxation,
    sense,
    namedFunctions,
    annotations,
  };
  if (metadata !== undefined) out.metadata = metadata;
  return out;
}

// ---- SampleSet ----------------------------------------------------------------------------

/** `SampledDecisionVariable`: decision_variable = 1, samples = 2. */
function readSampledVariable(r: ProtoReader): SampledDecisionVariableData {
  let v: V1Variable | undefined;
  let samples: Map<number, number> | undefined;
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) v = readVariable(r);
    else if (t === k(2, LD)) samples = readSampledValues(r);
    else other(r, t, 'SampledDecisionVariable', [1, 2]);
  }
  r.leave(end);
  if (v === undefined) throw malformed('a SampledDecisionVariable has no decision_variable');
  // OMMX refuses a missing `samples`; "not sampled" reads here as no samples.
  const out: Mutable<SampledDecisionVariableData> = withLabel(
    { id: v.id, kind: v.kind, samples: samples ?? new Map() },
    v.label
  );
  if (v.bound !== undefined) out.bound = v.bound;
  return out;
}

/**
 * `SampledConstraint`: id = 1, equality = 2, name = 3, subscripts = 4, parameters = 5,
 * description = 6, removed_reason = 7, removed_reason_parameters = 8, evaluated_values = 9,
 * used ids = 10, feasible = 11.
 */
const SAMPLED_CONSTRAINT_LABEL: LabelFields = {
  name: 3,
  subscripts: 4,
  parameters: 5,
  description: 6,
};

function readSampledConstraint(r: ProtoReader): SampledConstraintData {
  let id = 0;
  let equality: Equality = 'unspecified';
  let removedReason: string | undefined;
  const removedReasonParameters: Record<string, string> = {};
  let evaluatedValues: Map<number, number> | undefined;
  const used: number[] = [];
  const feasible = new Map<number, boolean>();
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, VARINT)) equality = readEquality(r);
    else if (t === k(7, LD)) removedReason = r.string();
    else if (t === k(8, LD)) readStringMapEntry(r, removedReasonParameters);
    else if (t === k(9, LD)) evaluatedValues = readSampledValues(r);
    else if (t === k(10, LD) || t === k(10, VARINT)) readPackedU64(r, t, used);
    else if (t === k(11, LD)) readU64BoolEntry(r, feasible);
    else if (!readLabelField(r, t, SAMPLED_CONSTRAINT_LABEL, label))
      other(r, t, 'SampledConstraint', fieldList(SAMPLED_CONSTRAINT_LABEL, 1, 2, 7, 8, 9, 10, 11));
  }
  r.leave(end);
  if (evaluatedValues === undefined) throw malformed(`constraint ${id} has no evaluated_values`);
  const c: Mutable<SampledConstraintData> = Object.assign(
    withLabel(
      {
        id,
        equality,
        evaluatedValues,
        feasible: sortedMap(feasible),
        usedDecisionVariableIds: used,
        removedReasonParameters: removedReason === undefined ? {} : removedReasonParameters,
      },
      label
    ),
    { provenance: [] }
  );
  if (removedReason !== undefined) c.removedReason = removedReason;
  return c;
}

/** `SampledNamedFunction`: id = 1, name = 2, subscripts = 3, parameters = 4, description = 5, evaluated_values = 6, used ids = 7. */
const SAMPLED_NAMED_LABEL: LabelFields = { name: 2, subscripts: 3, parameters: 4, description: 5 };

function readSampledNamedFunction(r: ProtoReader): SampledNamedFunctionData {
  let id = 0;
  let evaluatedValues: Map<number, number> | undefined;
  const used: number[] = [];
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(6, LD)) evaluatedValues = readSampledValues(r);
    else if (t === k(7, LD) || t === k(7, VARINT)) readPackedU64(r, t, used);
    else if (!readLabelField(r, t, SAMPLED_NAMED_LABEL, label))
      other(r, t, 'SampledNamedFunction', fieldList(SAMPLED_NAMED_LABEL, 1, 6, 7));
  }
  r.leave(end);
  if (evaluatedValues === undefined)
    throw malformed(`named function ${id} has no evaluated_values`);
  return withLabel({ id, evaluatedValues, usedDecisionVariableIds: used }, label);
}

/**
 * Decodes an `ommx.v1.SampleSet`: objectives = 1, decision_variables = 2, constraints = 3,
 * feasible = 4, sense = 5, feasible_unrelaxed = 6, feasible_relaxed = 7, named_functions = 8,
 * metadata = 9, annotations = 10, format_version = 100. Feasibility maps as in
 * {@link solutionFeasibility}, per sample: with `feasible_relaxed` empty, `feasible` was the
 * relaxed map and `feasible_unrelaxed` (when present) the full one.
 */
export function readSampleSetV1(bytes: Uint8Array): SampleSetData {
  const r = new ProtoReader(bytes);
  let objectives: Map<number, number> | undefined;
  const decisionVariables: SampledDecisionVariableData[] = [];
  const constraints: SampledConstraintData[] = [];
  const feasible = new Map<number, boolean>();
  let sense: Sense = 'unspecified';
  const feasibleUnrelaxed = new Map<number, boolean>();
  const feasibleRelaxed = new Map<number, boolean>();
  const namedFunctions: SampledNamedFunctionData[] = [];
  let metadata: ProcessMetadata | undefined;
  const annotations: Record<string, string> = {};
  while (r.pos < r.len) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
        objectives = readSampledValues(r);
        break;
      case k(2, LD):
        decisionVariables.push(readSampledVariable(r));
        break;
      case k(3, LD):
        constraints.push(readSampledConstraint(r));
        break;
      case k(4, LD):
        readU64BoolEntry(r, feasible);
        break;
      case k(5, VARINT):
        sense = readSense(r);
        break;
      case k(6, LD):
        readU64BoolEntry(r, feasibleUnrelaxed);
        break;
      case k(7, LD):
        readU64BoolEntry(r, feasibleRelaxed);
        break;
      case k(8, LD):
        namedFunctions.push(readSampledNamedFunction(r));
        break;
      case k(9, LD):
        metadata = readMetadata(r);
        break;
      case k(10, LD):
        readStringMapEntry(r, annotations);
        break;
      case FORMAT_VERSION_KEY:
        checkFormatVersion(r);
        break;
      default:
        other(r, t, 'SampleSet', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]);
    }
  }
  if (objectives === undefined) throw malformed('it has no objectives');
  sortRows(decisionVariables, constraints, namedFunctions);
  const relaxedKnown = feasibleRelaxed.size > 0;
  const out: Mutable<SampleSetData> = {
    objectives,
    decisionVariables,
    constraints,
    feasible: sortedMap(
      relaxedKnown || feasibleUnrelaxed.size === 0 ? feasible : feasibleUnrelaxed
    ),
    feasibleRelaxed: sortedMap(relaxedKnown ? feasibleRelaxed : feasible),
    sense,
    namedFunctions,
    annotations,
  };
  if (metadata !== undefined) out.metadata = metadata;
  return out;
}
