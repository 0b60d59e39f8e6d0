/**
 * @module ommx/wire/sample-set
 * `ommx.v2.SampleSet`: encode from and decode to the model.
 */
import type {
  Equality,
  ProcessMetadata,
  SampledConstraintData,
  SampledDecisionVariableData,
  SampledNamedFunctionData,
  SampleSetData,
  Sense,
} from '../types.js';
import { checkSpecialCollection, readRequiredFeatures } from './features.js';
import {
  boolMapLength,
  I64,
  k,
  LD,
  ldLength,
  packedU64Length,
  writeEntryHead,
  other,
  readEntryInto,
  readPackedU64,
  readStringMapEntry,
  readU64BoolEntry,
  VARINT,
  writeEmptyMessage,
  writeEnum,
  writeLabelMap,
  writeOptionalDouble,
  writePackedU64,
  writeStringMap,
  writeU64BoolMap,
} from './fields.js';
import {
  equalityToWire,
  readEquality,
  readMetadata,
  readSampledValues,
  readSense,
  senseToWire,
  writeMetadata,
  writeSampledValues,
  groupSamples,
} from './messages.js';
import { malformed, ProtoReader, ProtoWriter } from './protobuf.js';
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
  writeSampledVariableEntry,
  type ContextDraft,
  type RemovedReasonDraft,
} from './tables.js';

/**
 * Writes `SampledRegularConstraintCollection{entries = 1, removed_reasons = 2, contexts = 3}`;
 * rows `SampledRegularConstraint{equality = 1, evaluated_values = 2, feasible = 3,
 * used_decision_variable_ids = 4, dual_variables = 5}`.
 */
function writeSampledConstraints(
  w: ProtoWriter,
  field: number,
  constraints: readonly SampledConstraintData[]
): void {
  const rows = byId(constraints);
  w.tag(field, LD).fork();
  for (const c of rows) {
    const equality = equalityToWire(c.equality);
    const values = groupSamples(c.evaluatedValues);
    const duals = c.dualVariables === undefined ? undefined : groupSamples(c.dualVariables);
    const body =
      (equality === 0 ? 0 : 2) +
      ldLength(2, values.length) +
      boolMapLength(3, c.feasible) +
      packedU64Length(4, c.usedDecisionVariableIds) +
      (duals === undefined ? 0 : ldLength(5, duals.length));
    writeEntryHead(w, 1, c.id, body);
    writeEnum(w, 1, equality);
    writeSampledValues(w, 2, values);
    writeU64BoolMap(w, 3, c.feasible);
    writePackedU64(w, 4, c.usedDecisionVariableIds);
    if (duals !== undefined) writeSampledValues(w, 5, duals);
  }
  for (const c of rows) {
    if (c.removedReason !== undefined)
      writeRemovedReasonEntry(w, 2, c.id, c.removedReason, c.removedReasonParameters);
  }
  writeContexts(w, 3, rows);
  w.join();
}

/**
 * Encodes `ommx.v2.SampleSet`: required_features = 1 (none), objectives = 2,
 * decision_variables = 3 (`SampledDecisionVariableTable{entries = 1 ({kind, bound, samples}),
 * labels = 2}`), sampled_regular_constraints = 4, feasible = 5, sense = 6, feasible_relaxed = 7,
 * sampled_named_functions = 8 (`{entries = 1 ({evaluated_values = 1, used ids = 2}),
 * labels = 2}`), metadata = 9, annotations = 10, sampled indicator/one-hot/SOS1 = 11/12/13
 * (written empty, as OMMX does), optional feasibility_atol = 14.
 */
export function writeSampleSet(s: SampleSetData): Uint8Array {
  const w = new ProtoWriter();
  writeSampledValues(w, 2, groupSamples(s.objectives));
  const variables = byId(s.decisionVariables);
  w.tag(3, LD).fork();
  for (const v of variables) writeSampledVariableEntry(w, 1, v.id, v.kind, v.bound, v.samples);
  writeLabelMap(w, 2, variables);
  w.join();
  writeSampledConstraints(w, 4, s.constraints);
  writeU64BoolMap(w, 5, s.feasible);
  writeEnum(w, 6, senseToWire(s.sense));
  writeU64BoolMap(w, 7, s.feasibleRelaxed);
  const named = byId(s.namedFunctions);
  w.tag(8, LD).fork();
  for (const f of named) {
    const values = groupSamples(f.evaluatedValues);
    writeEntryHead(
      w,
      1,
      f.id,
      ldLength(1, values.length) + packedU64Length(2, f.usedDecisionVariableIds)
    );
    writeSampledValues(w, 1, values);
    writePackedU64(w, 2, f.usedDecisionVariableIds);
  }
  writeLabelMap(w, 2, named);
  w.join();
  if (s.metadata !== undefined) writeMetadata(w, 9, s.metadata);
  writeStringMap(w, 10, s.annotations);
  writeEmptyMessage(w, 11);
  writeEmptyMessage(w, 12);
  writeEmptyMessage(w, 13);
  writeOptionalDouble(w, 14, s.feasibilityAtol);
  return w.finish();
}

interface SampledRowDraft {
  equality: Equality;
  evaluatedValues: Map<number, number> | undefined;
  feasible: Map<number, boolean>;
  usedDecisionVariableIds: number[];
  dualVariables: Map<number, number> | undefined;
}

function defaultSampledRow(): SampledRowDraft {
  return {
    equality: 'unspecified',
    evaluatedValues: undefined,
    feasible: new Map(),
    usedDecisionVariableIds: [],
    dualVariables: undefined,
  };
}

function readSampledRow(r: ProtoReader): SampledRowDraft {
  const row = defaultSampledRow();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, VARINT):
        row.equality = readEquality(r);
        break;
      case k(2, LD):
        row.evaluatedValues = readSampledValues(r);
        break;
      case k(3, LD):
        readU64BoolEntry(r, row.feasible);
        break;
      case k(4, LD):
      case k(4, VARINT):
        readPackedU64(r, t, row.usedDecisionVariableIds);
        break;
      case k(5, LD):
        row.dualVariables = readSampledValues(r);
        break;
      default:
        other(r, t, 'SampledRegularConstraint', [1, 2, 3, 4, 5]);
    }
  }
  r.leave(end);
  return row;
}

interface SampledNamedDraft {
  evaluatedValues: Map<number, number> | undefined;
  usedDecisionVariableIds: number[];
}

function defaultSampledNamed(): SampledNamedDraft {
  return { evaluatedValues: undefined, usedDecisionVariableIds: [] };
}

function readSampledNamed(r: ProtoReader): SampledNamedDraft {
  const row = defaultSampledNamed();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) row.evaluatedValues = readSampledValues(r);
    else if (t === k(2, LD) || t === k(2, VARINT)) readPackedU64(r, t, row.usedDecisionVariableIds);
    else other(r, t, 'SampledNamedFunction', [1, 2]);
  }
  r.leave(end);
  return row;
}

/** Sorts a map by key (v2 maps arrive sorted; v1-derived ones may not). */
function sortedBoolMap(map: Map<number, boolean>): Map<number, boolean> {
  return new Map([...map].sort((a, b) => a[0] - b[0]));
}

/** Decodes `ommx.v2.SampleSet` (see {@link writeSampleSet} for the fields). */
export function readSampleSet(bytes: Uint8Array): SampleSetData {
  const r = new ProtoReader(bytes);
  let objectives: Map<number, number> | undefined;
  const variables = variableTableDraft();
  const rows = new Map<number, SampledRowDraft>();
  const reasons = new Map<number, RemovedReasonDraft>();
  const contexts = new Map<number, ContextDraft>();
  const feasible = new Map<number, boolean>();
  let sense: Sense = 'unspecified';
  const feasibleRelaxed = new Map<number, boolean>();
  const named = namedTableDraft<SampledNamedDraft>();
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
      case k(2, LD):
        objectives = readSampledValues(r);
        break;
      case k(3, LD):
        readVariableTable(r, 'sampled', variables);
        break;
      case k(4, LD): {
        const end = r.enter();
        while (r.pos < end) {
          const u = r.key();
          if (u === k(1, LD)) {
            readEntryInto(r, rows, 'a sampled constraint entry', readSampledRow, defaultSampledRow);
          } else if (u === k(2, LD)) readRemovedReasonEntry(r, reasons);
          else if (u === k(3, LD)) readContextEntry(r, contexts);
          else other(r, u, 'SampledRegularConstraintCollection', [1, 2, 3]);
        }
        r.leave(end);
        break;
      }
      case k(5, LD):
        readU64BoolEntry(r, feasible);
        break;
      case k(6, VARINT):
        sense = readSense(r);
        break;
      case k(7, LD):
        readU64BoolEntry(r, feasibleRelaxed);
        break;
      case k(8, LD):
        readNamedTable(r, named, readSampledNamed, defaultSampledNamed);
        break;
      case k(9, LD):
        metadata = readMetadata(r);
        break;
      case k(10, LD):
        readStringMapEntry(r, annotations);
        break;
      case k(11, LD):
        checkSpecialCollection(r, 'indicator', false);
        break;
      case k(12, LD):
        checkSpecialCollection(r, 'one-hot', false);
        break;
      case k(13, LD):
        checkSpecialCollection(r, 'SOS1', false);
        break;
      case k(14, I64):
        feasibilityAtol = r.double();
        break;
      default:
        other(r, t, 'SampleSet', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    }
  }
  if (objectives === undefined) throw malformed('it has no objectives');

  for (const [id, row] of variables.rows) {
    if (row.samples === undefined) throw malformed(`decision variable ${id} has no samples`);
  }
  const decisionVariables = finishVariableRows<SampledDecisionVariableData>(variables);

  checkSideKeys(reasons, rows, 'removed_reasons');
  checkSideKeys(contexts, rows, 'constraint contexts');
  const constraints: SampledConstraintData[] = [];
  for (const [id, row] of rows) {
    if (row.evaluatedValues === undefined)
      throw malformed(`constraint ${id} has no evaluated_values`);
    const reason = reasons.get(id);
    const c: { -readonly [K in keyof SampledConstraintData]: SampledConstraintData[K] } =
      withContext(
        {
          id,
          equality: row.equality,
          evaluatedValues: row.evaluatedValues,
          feasible: sortedBoolMap(row.feasible),
          usedDecisionVariableIds: row.usedDecisionVariableIds,
          removedReasonParameters: reason?.parameters ?? {},
        },
        contexts.get(id)
      );
    if (row.dualVariables !== undefined) c.dualVariables = row.dualVariables;
    if (reason !== undefined) c.removedReason = reason.reason;
    constraints.push(c);
  }
  constraints.sort((a, b) => a.id - b.id);

  const namedFunctions: SampledNamedFunctionData[] = finishNamed(named, (id, row) => {
    if (row.evaluatedValues === undefined)
      throw malformed(`named function ${id} has no evaluated_values`);
    return {
      id,
      evaluatedValues: row.evaluatedValues,
      usedDecisionVariableIds: row.usedDecisionVariableIds,
    };
  });

  const out: { -readonly [K in keyof SampleSetData]: SampleSetData[K] } = {
    objectives,
    decisionVariables,
    constraints,
    feasible: sortedBoolMap(feasible),
    feasibleRelaxed: sortedBoolMap(feasibleRelaxed),
    sense,
    namedFunctions,
    annotations,
  };
  if (metadata !== undefined) out.metadata = metadata;
  if (feasibilityAtol !== undefined) out.feasibilityAtol = feasibilityAtol;
  return out;
}
