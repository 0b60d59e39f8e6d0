/**
 * @module ommx/wire/solution
 * `ommx.v2.Solution`: encode from and decode to the model.
 */
import type {
  Equality,
  EvaluatedConstraintData,
  EvaluatedDecisionVariableData,
  EvaluatedNamedFunctionData,
  Optimality,
  ProcessMetadata,
  Relaxation,
  Sense,
  SolutionData,
} from '../types.js';
import {
  readRequiredFeatures,
  readSpecialCollections,
  writeSpecialCollections,
} from './features.js';
import {
  doubleLength,
  I64,
  k,
  LD,
  other,
  packedU64Length,
  readPackedU64,
  readStringMapEntry,
  VARINT,
  writeBool,
  writeDouble,
  writeEntryHead,
  writeEnum,
  writeOptionalBool,
  writeOptionalDouble,
  writePackedU64,
  writeStringMap,
  type Mutable,
} from './fields.js';
import {
  equalityToWire,
  optimalityToWire,
  readEquality,
  readMetadata,
  readOptimality,
  readRelaxation,
  readSense,
  relaxationToWire,
  senseToWire,
  writeMetadata,
} from './messages.js';
import { ProtoReader, ProtoWriter } from './protobuf.js';
import {
  finishNamed,
  finishStageConstraints,
  finishVariableRows,
  namedTableDraft,
  readNamedTable,
  readStageConstraints,
  readVariableTable,
  stageConstraintsDraft,
  variableTableDraft,
  withContext,
  writeStageConstraints,
  writeTable,
  writeVariableEntry,
  type ContextDraft,
} from './tables.js';

/** Writes one `EvaluatedDecisionVariableTable` entry: `{kind = 1, bound = 2, value = 3}`. */
function writeEvaluatedVariable(w: ProtoWriter, v: EvaluatedDecisionVariableData): void {
  writeVariableEntry(w, 1, v.id, v.kind, v.bound, v.value);
}

/**
 * Writes one `EvaluatedRegularConstraintCollection` entry: `EvaluatedRegularConstraint{
 * equality = 1, evaluated_value = 2, feasible = 3, used_decision_variable_ids = 4,
 * optional dual_variable = 5}`.
 */
function writeEvaluatedConstraint(w: ProtoWriter, c: EvaluatedConstraintData): void {
  const equality = equalityToWire(c.equality);
  const body =
    (equality === 0 ? 0 : 2) +
    doubleLength(2, c.evaluatedValue) +
    (c.feasible ? 2 : 0) +
    packedU64Length(4, c.usedDecisionVariableIds) +
    (c.dualVariable === undefined ? 0 : 9);
  if (writeEntryHead(w, 1, c.id, body)) {
    writeEnum(w, 1, equality);
    writeDouble(w, 2, c.evaluatedValue);
    writeBool(w, 3, c.feasible);
    writePackedU64(w, 4, c.usedDecisionVariableIds);
    writeOptionalDouble(w, 5, c.dualVariable);
  }
}

/** Writes one `EvaluatedNamedFunctionTable` entry: `{evaluated_value = 1, used ids = 2}`. */
function writeEvaluatedNamedFunction(w: ProtoWriter, f: EvaluatedNamedFunctionData): void {
  const body = doubleLength(1, f.evaluatedValue) + packedU64Length(2, f.usedDecisionVariableIds);
  if (writeEntryHead(w, 1, f.id, body)) {
    writeDouble(w, 1, f.evaluatedValue);
    writePackedU64(w, 2, f.usedDecisionVariableIds);
  }
}

/**
 * Encodes `ommx.v2.Solution`: required_features = 1 (none), objective = 2,
 * decision_variables = 3 (`EvaluatedDecisionVariableTable{entries = 1 ({kind, bound, value}),
 * labels = 2}`), evaluated_regular_constraints = 4, feasible = 5, optimality = 6,
 * relaxation = 7, optional feasible_relaxed = 8, sense = 9, evaluated_named_functions = 10
 * (`{entries = 1 ({evaluated_value = 1, used ids = 2}), labels = 2}`), metadata = 11,
 * annotations = 12, evaluated indicator/one-hot/SOS1 = 13/14/15 (written empty, as OMMX does),
 * optional feasibility_atol = 16.
 */
export function writeSolution(s: SolutionData): Uint8Array {
  const w = new ProtoWriter();
  writeDouble(w, 2, s.objective);
  writeTable(w, 3, s.decisionVariables, writeEvaluatedVariable);
  writeStageConstraints(w, 4, s.constraints, writeEvaluatedConstraint);
  writeBool(w, 5, s.feasible);
  writeEnum(w, 6, optimalityToWire(s.optimality));
  writeEnum(w, 7, relaxationToWire(s.relaxation));
  writeOptionalBool(w, 8, s.feasibleRelaxed);
  writeEnum(w, 9, senseToWire(s.sense));
  writeTable(w, 10, s.namedFunctions, writeEvaluatedNamedFunction);
  if (s.metadata !== undefined) writeMetadata(w, 11, s.metadata);
  writeStringMap(w, 12, s.annotations);
  writeSpecialCollections(w, 13);
  writeOptionalDouble(w, 16, s.feasibilityAtol);
  return w.finish();
}

interface EvaluatedRowDraft {
  equality: Equality;
  evaluatedValue: number;
  feasible: boolean;
  usedDecisionVariableIds: number[];
  dualVariable: number | undefined;
}

function defaultEvaluatedRow(): EvaluatedRowDraft {
  return {
    equality: 'unspecified',
    evaluatedValue: 0,
    feasible: false,
    usedDecisionVariableIds: [],
    dualVariable: undefined,
  };
}

function readEvaluatedRow(r: ProtoReader): EvaluatedRowDraft {
  const row = defaultEvaluatedRow();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, VARINT):
        row.equality = readEquality(r);
        break;
      case k(2, I64):
        row.evaluatedValue = r.double();
        break;
      case k(3, VARINT):
        row.feasible = r.bool();
        break;
      case k(4, LD):
      case k(4, VARINT):
        readPackedU64(r, t, row.usedDecisionVariableIds);
        break;
      case k(5, I64):
        row.dualVariable = r.double();
        break;
      default:
        other(r, t, 'EvaluatedRegularConstraint', [1, 2, 3, 4, 5]);
    }
  }
  r.leave(end);
  return row;
}

interface EvaluatedNamedDraft {
  evaluatedValue: number;
  usedDecisionVariableIds: number[];
}

function defaultEvaluatedNamed(): EvaluatedNamedDraft {
  return { evaluatedValue: 0, usedDecisionVariableIds: [] };
}

function readEvaluatedNamed(r: ProtoReader): EvaluatedNamedDraft {
  const row = defaultEvaluatedNamed();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, I64)) row.evaluatedValue = r.double();
    else if (t === k(2, LD) || t === k(2, VARINT)) readPackedU64(r, t, row.usedDecisionVariableIds);
    else other(r, t, 'EvaluatedNamedFunction', [1, 2]);
  }
  r.leave(end);
  return row;
}

/** A decoded evaluated constraint (its removed reason is added by `finishStageConstraints`). */
function toEvaluatedConstraint(
  id: number,
  row: EvaluatedRowDraft,
  removedReasonParameters: Record<string, string>,
  context: ContextDraft | undefined
): Mutable<EvaluatedConstraintData> {
  const c: Mutable<EvaluatedConstraintData> = withContext(
    {
      id,
      equality: row.equality,
      evaluatedValue: row.evaluatedValue,
      feasible: row.feasible,
      usedDecisionVariableIds: row.usedDecisionVariableIds,
      removedReasonParameters,
    },
    context
  );
  if (row.dualVariable !== undefined) c.dualVariable = row.dualVariable;
  return c;
}

/** Decodes `ommx.v2.Solution` (see {@link writeSolution} for the fields). */
export function readSolution(bytes: Uint8Array): SolutionData {
  const r = new ProtoReader(bytes);
  let objective = 0;
  const variables = variableTableDraft();
  const constraintDraft = stageConstraintsDraft<EvaluatedRowDraft>();
  let feasible = false;
  let optimality: Optimality = 'unspecified';
  let relaxation: Relaxation = 'unrelaxed';
  let feasibleRelaxed: boolean | undefined;
  let sense: Sense = 'unspecified';
  const named = namedTableDraft<EvaluatedNamedDraft>();
  let metadata: ProcessMetadata | undefined;
  const annotations: Record<string, string> = {};
  let feasibilityAtol: number | undefined;
  while (r.pos < r.len) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
      case k(1, VARINT):
        readRequiredFeatures(r, t);
        break;
      case k(2, I64):
        objective = r.double();
        break;
      case k(3, LD):
        readVariableTable(r, 'evaluated', variables);
        break;
      case k(4, LD):
        readStageConstraints(
          r,
          constraintDraft,
          readEvaluatedRow,
          defaultEvaluatedRow,
          'EvaluatedRegularConstraintCollection',
          'an evaluated constraint entry'
        );
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
        feasibleRelaxed = r.bool();
        break;
      case k(9, VARINT):
        sense = readSense(r);
        break;
      case k(10, LD):
        readNamedTable(r, named, readEvaluatedNamed, defaultEvaluatedNamed);
        break;
      case k(11, LD):
        metadata = readMetadata(r);
        break;
      case k(12, LD):
        readStringMapEntry(r, annotations);
        break;
      case k(16, I64):
        feasibilityAtol = r.double();
        break;
      default:
        if (!readSpecialCollections(r, t, 13, false))
          other(r, t, 'Solution', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    }
  }

  const out: Mutable<SolutionData> = {
    objective,
    decisionVariables: finishVariableRows<EvaluatedDecisionVariableData>(variables),
    constraints: finishStageConstraints(constraintDraft, toEvaluatedConstraint),
    feasible,
    optimality,
    relaxation,
    sense,
    namedFunctions: finishNamed(named, (id, row) => ({ id, ...row })),
    annotations,
  };
  if (feasibleRelaxed !== undefined) out.feasibleRelaxed = feasibleRelaxed;
  if (metadata !== undefined) out.metadata = metadata;
  if (feasibilityAtol !== undefined) out.feasibilityAtol = feasibilityAtol;
  return out;
}
