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
import {
  readRequiredFeatures,
  readSpecialCollections,
  writeSpecialCollections,
} from './features.js';
import {
  boolMapLength,
  I64,
  k,
  LD,
  ldLength,
  other,
  packedU64Length,
  readPackedU64,
  readStringMapEntry,
  readU64BoolEntry,
  sortedMap,
  VARINT,
  writeEntryHead,
  writeEnum,
  writeOptionalDouble,
  writePackedU64,
  writeStringMap,
  writeU64BoolMap,
  type Mutable,
} from './fields.js';
import {
  equalityToWire,
  groupSamples,
  readEquality,
  readMetadata,
  readSampledValues,
  readSense,
  senseToWire,
  writeMetadata,
  writeSampledValues,
} from './messages.js';
import { malformed, ProtoReader, ProtoWriter } from './protobuf.js';
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
  writeSampledVariableEntry,
  writeStageConstraints,
  writeTable,
  type ContextDraft,
} from './tables.js';

/** Writes one `SampledDecisionVariableTable` entry: `{kind = 1, bound = 2, samples = 3}`. */
function writeSampledVariable(w: ProtoWriter, v: SampledDecisionVariableData): void {
  writeSampledVariableEntry(w, 1, v.id, v.kind, v.bound, v.samples);
}

/**
 * Writes one `SampledRegularConstraintCollection` entry: `SampledRegularConstraint{equality = 1,
 * evaluated_values = 2, feasible = 3, used_decision_variable_ids = 4, dual_variables = 5}`.
 */
function writeSampledConstraint(w: ProtoWriter, c: SampledConstraintData): void {
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

/** Writes one `SampledNamedFunctionTable` entry: `{evaluated_values = 1, used ids = 2}`. */
function writeSampledNamedFunction(w: ProtoWriter, f: SampledNamedFunctionData): void {
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
  writeTable(w, 3, s.decisionVariables, writeSampledVariable);
  writeStageConstraints(w, 4, s.constraints, writeSampledConstraint);
  writeU64BoolMap(w, 5, s.feasible);
  writeEnum(w, 6, senseToWire(s.sense));
  writeU64BoolMap(w, 7, s.feasibleRelaxed);
  writeTable(w, 8, s.namedFunctions, writeSampledNamedFunction);
  if (s.metadata !== undefined) writeMetadata(w, 9, s.metadata);
  writeStringMap(w, 10, s.annotations);
  writeSpecialCollections(w, 11);
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

/** A decoded sampled constraint (its removed reason is added by `finishStageConstraints`). */
function toSampledConstraint(
  id: number,
  row: SampledRowDraft,
  removedReasonParameters: Record<string, string>,
  context: ContextDraft | undefined
): Mutable<SampledConstraintData> {
  if (row.evaluatedValues === undefined)
    throw malformed(`constraint ${id} has no evaluated_values`);
  const c: Mutable<SampledConstraintData> = withContext(
    {
      id,
      equality: row.equality,
      evaluatedValues: row.evaluatedValues,
      feasible: sortedMap(row.feasible),
      usedDecisionVariableIds: row.usedDecisionVariableIds,
      removedReasonParameters,
    },
    context
  );
  if (row.dualVariables !== undefined) c.dualVariables = row.dualVariables;
  return c;
}

/** Decodes `ommx.v2.SampleSet` (see {@link writeSampleSet} for the fields). */
export function readSampleSet(bytes: Uint8Array): SampleSetData {
  const r = new ProtoReader(bytes);
  let objectives: Map<number, number> | undefined;
  const variables = variableTableDraft();
  const constraintDraft = stageConstraintsDraft<SampledRowDraft>();
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
      case k(4, LD):
        readStageConstraints(
          r,
          constraintDraft,
          readSampledRow,
          defaultSampledRow,
          'SampledRegularConstraintCollection',
          'a sampled constraint entry'
        );
        break;
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
      case k(14, I64):
        feasibilityAtol = r.double();
        break;
      default:
        if (!readSpecialCollections(r, t, 11, false))
          other(r, t, 'SampleSet', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    }
  }
  if (objectives === undefined) throw malformed('it has no objectives');

  for (const [id, row] of variables.rows) {
    if (row.samples === undefined) throw malformed(`decision variable ${id} has no samples`);
  }
  const decisionVariables = finishVariableRows<SampledDecisionVariableData>(variables);
  const constraints = finishStageConstraints(constraintDraft, toSampledConstraint);

  const namedFunctions: SampledNamedFunctionData[] = finishNamed(named, (id, row) => {
    if (row.evaluatedValues === undefined)
      throw malformed(`named function ${id} has no evaluated_values`);
    return {
      id,
      evaluatedValues: row.evaluatedValues,
      usedDecisionVariableIds: row.usedDecisionVariableIds,
    };
  });

  const out: Mutable<SampleSetData> = {
    objectives,
    decisionVariables,
    constraints,
    feasible: sortedMap(feasible),
    feasibleRelaxed: sortedMap(feasibleRelaxed),
    sense,
    namedFunctions,
    annotations,
  };
  if (metadata !== undefined) out.metadata = metadata;
  if (feasibilityAtol !== undefined) out.feasibilityAtol = feasibilityAtol;
  return out;
}
