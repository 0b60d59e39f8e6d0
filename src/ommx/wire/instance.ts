/**
 * @module ommx/wire/instance
 * `ommx.v2.Instance` and `ommx.v2.ParametricInstance`: encode from and decode to the model.
 * The writer sets the message fields OMMX's own writer always sets (the tables, the empty
 * special-constraint collections), so an OMMX-written payload re-encodes to the same bytes.
 */
import type {
  FunctionData,
  InstanceData,
  InstanceDescription,
  ParametricInstanceData,
  Sense,
} from '../types.js';
import {
  readRequiredFeatures,
  readSpecialCollections,
  writeSpecialCollections,
} from './features.js';
import {
  k,
  LD,
  other,
  readStringMapEntry,
  VARINT,
  writeEnum,
  writeStringMap,
  type LabelDraft,
  type Mutable,
} from './fields.js';
import {
  readDescription,
  readFunction,
  readParameters,
  readSense,
  senseToWire,
  writeDescription,
  writeFunction,
  writeParameters,
} from './messages.js';
import { malformed, ProtoReader, ProtoWriter } from './protobuf.js';
import {
  constraintCollectionDraft,
  finishDependency,
  readDependencyEntry,
  writeDependency,
  finishConstraints,
  finishNamedFunctions,
  finishParameters,
  finishVariables,
  namedFunctionDraft,
  readConstraintCollection,
  readNamedFunctionTable,
  readParameterTable,
  readVariableTable,
  variableTableDraft,
  writeConstraintCollection,
  writeDecisionVariableTable,
  writeNamedFunctionTable,
  writeParameterTable,
} from './tables.js';

/**
 * Encodes `ommx.v2.Instance`: required_features = 1 (none), description = 2,
 * decision_variables = 3, objective = 4, regular_constraints = 5, sense = 6, parameters = 7,
 * indicator = 8, one_hot = 9, sos1 = 10 (written empty, as OMMX does), decision_variable_dependency
 * = 11, named_functions = 12, annotations = 13.
 */
export function writeInstance(i: InstanceData): Uint8Array {
  const w = new ProtoWriter();
  if (i.description !== undefined) writeDescription(w, 2, i.description);
  writeDecisionVariableTable(w, 3, i.decisionVariables);
  writeFunction(w, 4, i.objective);
  writeConstraintCollection(w, 5, i.constraints, i.removedConstraints);
  writeEnum(w, 6, senseToWire(i.sense));
  if (i.parameters !== undefined) writeParameters(w, 7, i.parameters);
  return writeRootTail(w, i);
}

/**
 * Encodes `ommx.v2.ParametricInstance`: required_features = 1 (none), description = 2,
 * decision_variables = 3, parameters = 4, objective = 5, regular_constraints = 6, sense = 7,
 * indicator = 8, one_hot = 9, sos1 = 10 (empty), decision_variable_dependency = 11,
 * named_functions = 12, annotations = 13.
 */
export function writeParametricInstance(p: ParametricInstanceData): Uint8Array {
  const w = new ProtoWriter();
  if (p.description !== undefined) writeDescription(w, 2, p.description);
  writeDecisionVariableTable(w, 3, p.decisionVariables);
  writeParameterTable(w, 4, p.parameters);
  writeFunction(w, 5, p.objective);
  writeConstraintCollection(w, 6, p.constraints, p.removedConstraints);
  writeEnum(w, 7, senseToWire(p.sense));
  return writeRootTail(w, p);
}

/** The model's fields both roots have, but for the description, variables and parameters. */
type RootTail = Omit<ParametricInstanceData, 'description' | 'decisionVariables' | 'parameters'>;

/**
 * Writes the fields both roots end with — the empty special-constraint collections 8–10,
 * decision_variable_dependency = 11, named_functions = 12, annotations = 13 — and returns the
 * bytes.
 */
function writeRootTail(w: ProtoWriter, d: RootTail): Uint8Array {
  writeSpecialCollections(w, 8);
  writeDependency(w, 11, d.decisionVariableDependency);
  writeNamedFunctionTable(w, 12, d.namedFunctions);
  writeStringMap(w, 13, d.annotations);
  return w.finish();
}

/** Field numbers that differ between the two v2 instance roots. */
interface RootLayout {
  readonly parameterTable: number | undefined;
  readonly parameters: number | undefined;
  readonly objective: number;
  readonly constraints: number;
  readonly sense: number;
}
const INSTANCE: RootLayout = {
  parameterTable: undefined,
  parameters: 7,
  objective: 4,
  constraints: 5,
  sense: 6,
};
const PARAMETRIC: RootLayout = {
  parameterTable: 4,
  parameters: undefined,
  objective: 5,
  constraints: 6,
  sense: 7,
};

interface CommonParts {
  description: InstanceDescription | undefined;
  variables: ReturnType<typeof variableTableDraft>;
  objective: FunctionData | undefined;
  constraints: ReturnType<typeof constraintCollectionDraft>;
  sense: Sense;
  parameters: Map<number, number> | undefined;
  parameterTable: { ids: number[]; labels: Map<number, LabelDraft> };
  dependency: Map<number, FunctionData | undefined>;
  namedFunctions: ReturnType<typeof namedFunctionDraft>;
  annotations: Record<string, string>;
}

function readRoot(bytes: Uint8Array, layout: RootLayout): CommonParts {
  const reader = new ProtoReader(bytes);
  const parts: CommonParts = {
    description: undefined,
    variables: variableTableDraft(),
    objective: undefined,
    constraints: constraintCollectionDraft(),
    sense: 'unspecified',
    parameters: undefined,
    parameterTable: { ids: [], labels: new Map() },
    dependency: new Map(),
    namedFunctions: namedFunctionDraft(),
    annotations: {},
  };
  const known = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  while (reader.pos < reader.len) {
    const t = reader.key();
    const field = t >>> 3;
    const ld = (t & 7) === LD;
    if (field === 1 && (ld || (t & 7) === VARINT)) readRequiredFeatures(reader, t);
    else if (t === k(2, LD)) parts.description = readDescription(reader);
    else if (t === k(3, LD)) readVariableTable(reader, 'created', parts.variables);
    else if (ld && field === layout.parameterTable)
      readParameterTable(reader, parts.parameterTable);
    else if (ld && field === layout.objective) parts.objective = readFunction(reader);
    else if (ld && field === layout.constraints)
      readConstraintCollection(reader, parts.constraints);
    else if (t === k(layout.sense, VARINT)) parts.sense = readSense(reader);
    else if (ld && field === layout.parameters) parts.parameters = readParameters(reader);
    else if (t === k(11, LD)) readDependencyEntry(reader, parts.dependency);
    else if (t === k(12, LD)) readNamedFunctionTable(reader, parts.namedFunctions);
    else if (t === k(13, LD)) readStringMapEntry(reader, parts.annotations);
    else if (!readSpecialCollections(reader, t, 8, true))
      other(reader, t, 'the root message', known);
  }
  if (parts.objective === undefined) throw malformed('it has no objective');
  return parts;
}

/**
 * The model's fields both roots have after their variables (and parameters), in the model's
 * order; `objective` is known to be present ({@link readRoot} checks it).
 */
function finishRootTail(p: CommonParts): RootTail {
  return {
    objective: p.objective as FunctionData,
    ...finishConstraints(p.constraints),
    sense: p.sense,
    decisionVariableDependency: finishDependency(p.dependency),
    namedFunctions: finishNamedFunctions(p.namedFunctions),
    annotations: p.annotations,
  };
}

/** Decodes `ommx.v2.Instance` (see {@link writeInstance} for the fields). */
export function readInstance(bytes: Uint8Array): InstanceData {
  const p = readRoot(bytes, INSTANCE);
  const out: Mutable<InstanceData> = {
    decisionVariables: finishVariables(p.variables),
    ...finishRootTail(p),
  };
  if (p.description !== undefined) out.description = p.description;
  if (p.parameters !== undefined) out.parameters = p.parameters;
  return out;
}

/** Decodes `ommx.v2.ParametricInstance` (see {@link writeParametricInstance}). */
export function readParametricInstance(bytes: Uint8Array): ParametricInstanceData {
  const p = readRoot(bytes, PARAMETRIC);
  const out: Mutable<ParametricInstanceData> = {
    decisionVariables: finishVariables(p.variables),
    parameters: finishParameters(p.parameterTable),
    ...finishRootTail(p),
  };
  if (p.description !== undefined) out.description = p.description;
  return out;
}
