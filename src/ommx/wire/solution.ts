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
import { checkSpecialCollection, readRequiredFeatures } from './features.js';
import {
  I64,
  k,
  LD,
  other,
  readEntryInto,
  readPackedU64,
  readStringMapEntry,
  VARINT,
  writeBool,
  writeDouble,
  writeEmptyMessage,
  writeEnum,
  writeLabelMap,
  writeEntryHead,
  doubleLength,
  packedU64Length,
  writeOptionalBool,
  writeOptionalDouble,
  writePackedU64,
  writeStringMap,
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
  byId,
  checkSideKeys,
  finishVariableRows,
  finishNamed,
  namedTableDraft,
  readContextEntry,
  readNamedTable,
  readRemovedReasonEntry,
  readVariableTable,
  variableTableDraft,
  withContext,
  writeContexts,
  writeRemovedReasonEntry,
  writeVariableEntry,
  type ContextDraft,
  type RemovedReasonDraft,
} from './tables.js';

/**
 * Writes `EvaluatedRegularConstraintCollection{entries = 1, removed_reasons = 2, contexts = 3}`;
 * rows `EvaluatedRegularConstraint{equality = 1, evaluated_value = 2, feasible = 3,
 * used_decision_variable_ids = 4, optional dual_variable = 5}`.
 */
function writeEvaluatedConstraints(
  w: ProtoWriter,
  field: number,
  constraints: readonly EvaluatedConstraintData[]
): void {
  const rows = byId(constraints);
  w.tag(field, LD).fork();
  for (const c of rows) {
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
  for (const c of rows) {
    if (c.removedReason !== undefined)
      writeRemovedReasonEntry(w, 2, c.id, c.removedReason, c.removedReasonParameters);
  }
  writeContexts(w, 3, rows);
  w.join();
}

/** Writes `EvaluatedNamedFunctionTable{entries = 1 ({evaluated_value = 1, used ids = 2}), labels = 2}`. */
function writeEvaluatedNamedFunctions(
  w: ProtoWriter,
  field: number,
  namedFunctions: readonly EvaluatedNamedFunctionData[]
): void {
  const rows = byId(namedFunctions);
  w.tag(field, LD).fork();
  for (const f of rows) {
    const body = doubleLength(1, f.evaluatedValue) + packedU64Length(2, f.usedDecisionVariableIds);
    if (writeEntryHead(w, 1, f.id, body)) {
      writeDouble(w, 1, f.evaluatedValue);
      writePackedU64(w, 2, f.usedDecisionVariableIds);
    }
  }
  writeLabelMap(w, 2, rows);
  w.join();
}

/**
 * Encodes `ommx.v2.Solution`: required_features = 1 (none), objective = 2,
 * decision_variables = 3 (`EvaluatedDecisionVariableTable{entries = 1 ({kind, bound, value}),
 * labels = 2}`), evaluated_regular_constraints = 4, feasible = 5, optimality = 6,
 * relaxation = 7, optional feasible_relaxed = 8, sense = 9, evaluated_named_functions = 10,
 * metadata = 11, annotations = 12, evaluated indicator/one-hot/SOS1 = 13/14/15 (written
 * empty, as OMMX does), optional feasibility_atol = 16.
 */
export function writeSolution(s: SolutionData): Uint8Array {
  const w = new ProtoWriter();
  writeDouble(w, 2, s.objective);
  const variables = byId(s.decisionVariables);
  w.tag(3, LD).fork();
  for (const v of variables) writeVariableEntry(w, 1, v.id, v.kind, v.bound, v.value);
  writeLabelMap(w, 2, variables);
  w.join();
  writeEvaluatedConstraints(w, 4, s.constraints);
  writeBool(w, 5, s.feasible);
  writeEnum(w, 6, optimalityToWire(s.optimality));
  writeEnum(w, 7, relaxationToWire(s.relaxation));
  writeOptionalBool(w, 8, s.feasibleRelaxed);
  writeEnum(w, 9, senseToWire(s.sense));
  writeEvaluatedNamedFunctions(w, 10, s.namedFunctions);
  if (s.metadata !== undefined) writeMetadata(w, 11, s.metadata);
  writeStringMap(w, 12, s.annotations);
  writeEmptyMessage(w, 13);
  writeEmptyMessage(w, 14);
  writeEmptyMessage(w, 15);
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

/** Decodes `ommx.v2.Solution` (see {@link writeSolution} for the fields). */
export function readSolution(bytes: Uint8Array): SolutionData {
  const r = new ProtoReader(bytes);
  let objective = 0;
  const variables = variableTableDraft();
  const rows = new Map<number, EvaluatedRowDraft>();
  const reasons = new Map<number, RemovedReasonDraft>();
  const contexts = new Map<number, ContextDraft>();
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
      case k(4, LD): {
        const end = r.enter();
        while (r.pos < end) {
          const u = r.key();
          if (u === k(1, LD)) {
            readEntryInto(
              r,
              rows,
              'an evaluated constraint entry',
              readEvaluatedRow,
              defaultEvaluatedRow
            );
          } else if (u === k(2, LD)) readRemovedReasonEntry(r, reasons);
          else if (u === k(3, LD)) readContextEntry(r, contexts);
          else other(r, u, 'EvaluatedRegularConstraintCollection', [1, 2, 3]);
        }
        r.leave(end);
        break;
      }
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
      case k(13, LD):
        checkSpecialCollection(r, 'indicator', false);
        break;
      case k(14, LD):
        checkSpecialCollection(r, 'one-hot', false);
        break;
      case k(15, LD):
        checkSpecialCollection(r, 'SOS1', false);
        break;
      case k(16, I64):
        feasibilityAtol = r.double();
        break;
      default:
        other(r, t, 'Solution', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    }
  }

  const decisionVariables = finishVariableRows<EvaluatedDecisionVariableData>(variables);

  checkSideKeys(reasons, rows, 'removed_reasons');
  checkSideKeys(contexts, rows, 'constraint contexts');
  const constraints: EvaluatedConstraintData[] = [];
  for (const [id, row] of rows) {
    const reason = reasons.get(id);
    const c: { -readonly [K in keyof EvaluatedConstraintData]: EvaluatedConstraintData[K] } =
      withContext(
        {
          id,
          equality: row.equality,
          evaluatedValue: row.evaluatedValue,
          feasible: row.feasible,
          usedDecisionVariableIds: row.usedDecisionVariableIds,
          removedReasonParameters: reason?.parameters ?? {},
        },
        contexts.get(id)
      );
    if (row.dualVariable !== undefined) c.dualVariable = row.dualVariable;
    if (reason !== undefined) c.removedReason = reason.reason;
    constraints.push(c);
  }
  constraints.sort((a, b) => a.id - b.id);

  const out: { -readonly [K in keyof SolutionData]: SolutionData[K] } = {
    objective,
    decisionVariables,
    constraints,
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
