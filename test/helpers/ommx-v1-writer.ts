/**
 * A small `ommx.v1` protobuf writer for tests: runledger only reads v1, so v1 test payloads are
 * built here from the model, the way OMMX's Rust SDK converts its model to v1 (labels inline in
 * each row, removed constraints as `RemovedConstraint`, a Solution's values in `state`).
 * Written against the .proto field numbers alone, with the protobuf runtime's writer primitives
 * (tag, varint, double, string, fork/join) — none of `src/ommx/wire`'s field logic — so the
 * reader is checked against an independent encoder. Default scalars are omitted, as prost does.
 */
import { ProtoWriter, WireType } from '../../src/ommx/wire/protobuf.js';
import type {
  Bound,
  ConstraintData,
  EvaluatedConstraintData,
  FunctionData,
  InstanceData,
  InstanceDescription,
  Label,
  LinearData,
  NamedFunctionData,
  ParametricInstanceData,
  ProcessMetadata,
  SampledValues,
  SampleSetData,
  SolutionData,
  VariableKind,
} from '../../src/ommx/types.js';

const LD = WireType.LengthDelimited;
const VARINT = WireType.Varint;
const I64 = WireType.Bit64;

const KINDS = ['unspecified', 'binary', 'integer', 'continuous', 'semi-integer', 'semi-continuous'];
const EQUALITIES = ['unspecified', 'equal-to-zero', 'less-than-or-equal-to-zero'];
const SENSES = ['unspecified', 'minimize', 'maximize'];
const OPTIMALITIES = ['unspecified', 'optimal', 'not-optimal'];
const RELAXATIONS = ['unrelaxed', 'lp-relaxed'];

type W = ProtoWriter;

function message(w: W, field: number, body: () => void): void {
  w.tag(field, LD).fork();
  body();
  w.join();
}
function double(w: W, field: number, v: number): void {
  if (v !== 0) w.tag(field, I64).double(v);
}
function optDouble(w: W, field: number, v: number | undefined): void {
  if (v !== undefined) w.tag(field, I64).double(v);
}
function u64(w: W, field: number, v: number): void {
  if (v !== 0) w.tag(field, VARINT).uint64(v);
}
function enumField(w: W, field: number, names: readonly string[], v: string): void {
  const i = names.indexOf(v);
  if (i < 0) throw new Error(`unknown enum value ${v}`);
  if (i !== 0) w.tag(field, VARINT).int32(i);
}
function bool(w: W, field: number, v: boolean): void {
  if (v) w.tag(field, VARINT).bool(true);
}
function str(w: W, field: number, v: string): void {
  if (v !== '') w.tag(field, LD).string(v);
}
function optStr(w: W, field: number, v: string | undefined): void {
  if (v !== undefined) w.tag(field, LD).string(v);
}
function packedU64(w: W, field: number, v: readonly number[]): void {
  if (v.length === 0) return;
  w.tag(field, LD).fork();
  for (const x of v) w.uint64(x);
  w.join();
}
function packedI64(w: W, field: number, v: readonly number[]): void {
  if (v.length === 0) return;
  w.tag(field, LD).fork();
  for (const x of v) w.int64(x);
  w.join();
}
function stringMap(w: W, field: number, m: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(m)) {
    message(w, field, () => {
      str(w, 1, k);
      str(w, 2, v);
    });
  }
}
function u64DoubleMap(w: W, field: number, m: ReadonlyMap<number, number>): void {
  for (const [k, v] of m) {
    message(w, field, () => {
      u64(w, 1, k);
      double(w, 2, v);
    });
  }
}
function u64BoolMap(w: W, field: number, m: ReadonlyMap<number, boolean>): void {
  for (const [k, v] of m) {
    message(w, field, () => {
      u64(w, 1, k);
      bool(w, 2, v);
    });
  }
}

function linearBody(w: W, l: LinearData): void {
  for (const t of l.terms) {
    message(w, 1, () => {
      u64(w, 1, t.id);
      double(w, 2, t.coefficient);
    });
  }
  double(w, 2, l.constant);
}

/** `ommx.v1.Function` as field `field`. */
export function v1Function(w: W, field: number, f: FunctionData): void {
  message(w, field, () => {
    switch (f.kind) {
      case 'constant':
        w.tag(1, I64).double(f.constant);
        break;
      case 'linear':
        message(w, 2, () => linearBody(w, f));
        break;
      case 'quadratic':
        message(w, 3, () => {
          packedU64(w, 1, f.rows);
          packedU64(w, 2, f.columns);
          if (f.values.length > 0) {
            w.tag(3, LD).fork();
            for (const v of f.values) w.double(v);
            w.join();
          }
          if (f.linear !== undefined) {
            const linear = f.linear;
            message(w, 4, () => linearBody(w, linear));
          }
        });
        break;
      case 'polynomial':
        message(w, 4, () => {
          for (const m of f.terms) {
            message(w, 1, () => {
              packedU64(w, 1, m.ids);
              double(w, 2, m.coefficient);
            });
          }
        });
        break;
    }
  });
}

function bound(w: W, field: number, b: Bound | undefined): void {
  if (b === undefined) return;
  message(w, field, () => {
    double(w, 1, b.lower);
    double(w, 2, b.upper);
  });
}

/** Writes the four label fields at the given field numbers. */
function label(
  w: W,
  l: Label,
  f: { name: number; subscripts: number; parameters: number; description: number }
): void {
  // Ascending field order, as prost writes them.
  const parts: [number, () => void][] = [
    [f.name, () => optStr(w, f.name, l.name)],
    [f.subscripts, () => packedI64(w, f.subscripts, l.subscripts)],
    [f.parameters, () => stringMap(w, f.parameters, l.parameters)],
    [f.description, () => optStr(w, f.description, l.description)],
  ];
  parts.sort((a, b) => a[0] - b[0]);
  for (const [, write] of parts) write();
}

interface V1VariableRow extends Label {
  readonly id: number;
  readonly kind: VariableKind;
  readonly bound?: Bound;
  readonly substitutedValue?: number;
}

/** `DecisionVariable{id 1, kind 2, bound 3, name 4, subscripts 5, parameters 6, description 7, substituted_value 8}`. */
function variable(w: W, field: number, v: V1VariableRow): void {
  message(w, field, () => {
    u64(w, 1, v.id);
    enumField(w, 2, KINDS, v.kind);
    bound(w, 3, v.bound);
    label(w, v, { name: 4, subscripts: 5, parameters: 6, description: 7 });
    optDouble(w, 8, v.substitutedValue);
  });
}

/** `Constraint{id 1, equality 2, function 3, parameters 5, name 6, description 7, subscripts 8}`. */
function constraint(w: W, field: number, c: ConstraintData): void {
  message(w, field, () => {
    u64(w, 1, c.id);
    enumField(w, 2, EQUALITIES, c.equality);
    v1Function(w, 3, c.function);
    label(w, c, { name: 6, subscripts: 8, parameters: 5, description: 7 });
  });
}

/** `NamedFunction{id 1, function 2, subscripts 3, parameters 4, name 5, description 6}`. */
function namedFunction(w: W, field: number, f: NamedFunctionData): void {
  message(w, field, () => {
    u64(w, 1, f.id);
    v1Function(w, 2, f.function);
    label(w, f, { name: 5, subscripts: 3, parameters: 4, description: 6 });
  });
}

function description(w: W, field: number, d: InstanceDescription): void {
  message(w, field, () => {
    optStr(w, 1, d.name);
    optStr(w, 2, d.description);
    for (const a of d.authors) w.tag(3, LD).string(a);
    optStr(w, 4, d.createdBy);
    optStr(w, 5, d.created);
    optStr(w, 6, d.license);
    optStr(w, 7, d.dataset);
  });
}

function metadata(w: W, field: number, m: ProcessMetadata): void {
  message(w, field, () => {
    optStr(w, 1, m.instance);
    optStr(w, 2, m.solver);
    optStr(w, 3, m.parameters);
    optStr(w, 4, m.start);
    optStr(w, 5, m.end);
  });
}

function sampledValues(w: W, field: number, values: SampledValues): void {
  // Uncompressed, one entry per sample, as OMMX's reader also accepts.
  message(w, field, () => {
    for (const [id, v] of values) {
      message(w, 1, () => {
        double(w, 1, v);
        packedU64(w, 2, [id]);
      });
    }
  });
}

/** Extra v1-only fields a test may set. */
export interface V1Extras {
  /** `format_version` (field 100); omitted when 0 or absent. */
  readonly formatVersion?: number;
  /** Raw bytes of a `ConstraintHints` message for field 7. */
  readonly constraintHints?: Uint8Array;
}

function formatVersion(w: W, extras: V1Extras): void {
  if (extras.formatVersion !== undefined && extras.formatVersion !== 0)
    w.tag(100, VARINT).uint32(extras.formatVersion);
}

function instanceRoot(
  w: W,
  i: Omit<InstanceData, 'parameters'>,
  layout: { objective: number; constraints: number; sense: number },
  middle: () => void
): void {
  if (i.description !== undefined) description(w, 1, i.description);
  for (const v of i.decisionVariables) variable(w, 2, v);
  middle();
  v1Function(w, layout.objective, i.objective);
  for (const c of i.constraints) constraint(w, layout.constraints, c);
  enumField(w, layout.sense, SENSES, i.sense);
}

function instanceTail(w: W, i: Omit<InstanceData, 'parameters'>, extras: V1Extras): void {
  if (extras.constraintHints !== undefined) w.tag(7, LD).bytes(extras.constraintHints);
  for (const rc of i.removedConstraints) {
    message(w, 8, () => {
      constraint(w, 1, rc.constraint);
      str(w, 2, rc.reason);
      stringMap(w, 3, rc.reasonParameters);
    });
  }
  for (const [id, f] of i.decisionVariableDependency) {
    message(w, 9, () => {
      u64(w, 1, id);
      v1Function(w, 2, f);
    });
  }
  for (const f of i.namedFunctions) namedFunction(w, 10, f);
  stringMap(w, 11, i.annotations);
  formatVersion(w, extras);
}

/** `ommx.v1.Instance` bytes for a model instance (provenance has no v1 field and is dropped). */
export function encodeV1Instance(i: InstanceData, extras: V1Extras = {}): Uint8Array {
  const w = new ProtoWriter();
  instanceRoot(w, i, { objective: 3, constraints: 4, sense: 5 }, () => {});
  if (i.parameters !== undefined) {
    const parameters = i.parameters;
    message(w, 6, () => u64DoubleMap(w, 1, parameters));
  }
  instanceTail(w, i, extras);
  return w.finish();
}

/** `ommx.v1.ParametricInstance` bytes. */
export function encodeV1ParametricInstance(
  p: ParametricInstanceData,
  extras: V1Extras = {}
): Uint8Array {
  const w = new ProtoWriter();
  instanceRoot(w, p, { objective: 4, constraints: 5, sense: 6 }, () => {
    for (const parameter of p.parameters) {
      message(w, 3, () => {
        u64(w, 1, parameter.id);
        label(w, parameter, { name: 2, subscripts: 3, parameters: 4, description: 5 });
      });
    }
  });
  instanceTail(w, p, extras);
  return w.finish();
}

/** v1-only Solution fields. */
export interface V1SolutionExtras extends V1Extras {
  /** `state` (default: each variable's value); variables missing here use `substitutedValue`. */
  readonly state?: ReadonlyMap<number, number>;
  /** `substituted_value` per variable id. */
  readonly substituted?: ReadonlyMap<number, number>;
  /** The deprecated `feasible_unrelaxed` (field 8). */
  readonly feasibleUnrelaxed?: boolean;
}

function evaluatedConstraint(w: W, c: EvaluatedConstraintData): void {
  message(w, 4, () => {
    u64(w, 1, c.id);
    enumField(w, 2, EQUALITIES, c.equality);
    double(w, 3, c.evaluatedValue);
    packedU64(w, 4, c.usedDecisionVariableIds);
    label(w, c, { name: 6, subscripts: 9, parameters: 5, description: 7 });
    optDouble(w, 8, c.dualVariable);
    optStr(w, 10, c.removedReason);
    stringMap(w, 11, c.removedReasonParameters);
  });
}

/**
 * `ommx.v1.Solution` bytes: state = 1, objective = 2, decision_variables = 3,
 * evaluated_constraints = 4, feasible = 5, optimality = 6, relaxation = 7,
 * feasible_unrelaxed = 8, feasible_relaxed = 9 (when set), sense = 10,
 * evaluated_named_functions = 11, metadata = 12, annotations = 13, format_version = 100.
 */
export function encodeV1Solution(s: SolutionData, extras: V1SolutionExtras = {}): Uint8Array {
  const w = new ProtoWriter();
  const state = extras.state ?? new Map(s.decisionVariables.map((v) => [v.id, v.value]));
  message(w, 1, () => u64DoubleMap(w, 1, state));
  double(w, 2, s.objective);
  for (const v of s.decisionVariables) {
    const fixed = extras.substituted?.get(v.id);
    const row: V1VariableRow = {
      ...v,
      ...(fixed === undefined ? {} : { substitutedValue: fixed }),
    };
    variable(w, 3, row);
  }
  for (const c of s.constraints) evaluatedConstraint(w, c);
  bool(w, 5, s.feasible);
  enumField(w, 6, OPTIMALITIES, s.optimality);
  enumField(w, 7, RELAXATIONS, s.relaxation);
  bool(w, 8, extras.feasibleUnrelaxed ?? false);
  if (s.feasibleRelaxed !== undefined) w.tag(9, VARINT).bool(s.feasibleRelaxed);
  enumField(w, 10, SENSES, s.sense);
  for (const f of s.namedFunctions) {
    message(w, 11, () => {
      u64(w, 1, f.id);
      double(w, 2, f.evaluatedValue);
      packedU64(w, 3, f.usedDecisionVariableIds);
      label(w, f, { name: 6, subscripts: 4, parameters: 5, description: 7 });
    });
  }
  if (s.metadata !== undefined) metadata(w, 12, s.metadata);
  stringMap(w, 13, s.annotations);
  formatVersion(w, extras);
  return w.finish();
}

/** v1-only SampleSet fields. */
export interface V1SampleSetExtras extends V1Extras {
  /** The deprecated `feasible_unrelaxed` map (field 6). */
  readonly feasibleUnrelaxed?: ReadonlyMap<number, boolean>;
}

/**
 * `ommx.v1.SampleSet` bytes: objectives = 1, decision_variables = 2, constraints = 3,
 * feasible = 4, sense = 5, feasible_unrelaxed = 6, feasible_relaxed = 7, named_functions = 8,
 * metadata = 9, annotations = 10, format_version = 100 (v1 has no dual variables, provenance or
 * feasibility_atol).
 */
export function encodeV1SampleSet(s: SampleSetData, extras: V1SampleSetExtras = {}): Uint8Array {
  const w = new ProtoWriter();
  sampledValues(w, 1, s.objectives);
  for (const v of s.decisionVariables) {
    message(w, 2, () => {
      variable(w, 1, v);
      sampledValues(w, 2, v.samples);
    });
  }
  for (const c of s.constraints) {
    message(w, 3, () => {
      u64(w, 1, c.id);
      enumField(w, 2, EQUALITIES, c.equality);
      label(w, c, { name: 3, subscripts: 4, parameters: 5, description: 6 });
      optStr(w, 7, c.removedReason);
      stringMap(w, 8, c.removedReasonParameters);
      sampledValues(w, 9, c.evaluatedValues);
      packedU64(w, 10, c.usedDecisionVariableIds);
      u64BoolMap(w, 11, c.feasible);
    });
  }
  u64BoolMap(w, 4, s.feasible);
  enumField(w, 5, SENSES, s.sense);
  u64BoolMap(w, 6, extras.feasibleUnrelaxed ?? new Map());
  u64BoolMap(w, 7, s.feasibleRelaxed);
  for (const f of s.namedFunctions) {
    message(w, 8, () => {
      u64(w, 1, f.id);
      label(w, f, { name: 2, subscripts: 3, parameters: 4, description: 5 });
      sampledValues(w, 6, f.evaluatedValues);
      packedU64(w, 7, f.usedDecisionVariableIds);
    });
  }
  if (s.metadata !== undefined) metadata(w, 9, s.metadata);
  stringMap(w, 10, s.annotations);
  formatVersion(w, extras);
  return w.finish();
}
