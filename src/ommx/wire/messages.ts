/**
 * @module ommx/wire/messages
 * The `ommx.v1` building blocks both v1 and v2 roots embed: `Function` (with `Linear`,
 * `Quadratic`, `Polynomial`), `Bound`, `SampledValues`, `Parameters`, `Instance.Description`,
 * `ProcessMetadata`, and the enums (ommx-reference §10, "Shared v1 building blocks").
 */
import type {
  Bound,
  Equality,
  FunctionData,
  InstanceDescription,
  LinearData,
  LinearTerm,
  Monomial,
  Optimality,
  ProcessMetadata,
  Relaxation,
  SampledValues,
  Sense,
  VariableKind,
} from '../types.js';
import {
  I64,
  k,
  LD,
  ldLength,
  packedU64Length,
  other,
  readPackedDouble,
  readPackedU64,
  readU64DoubleEntry,
  sortedMap,
  VARINT,
  varintLength,
  writeDouble,
  writeOptionalString,
  writePackedDouble,
  writePackedU64,
  writeU64DoubleMap,
  type Mutable,
} from './fields.js';
import { malformed, type ProtoReader, type ProtoWriter } from './protobuf.js';

// ---- enums --------------------------------------------------------------------------------

/** `DecisionVariable.Kind` by wire value. */
const KINDS: readonly VariableKind[] = [
  'unspecified',
  'binary',
  'integer',
  'continuous',
  'semi-integer',
  'semi-continuous',
];
/** `Equality` by wire value. */
const EQUALITIES: readonly Equality[] = [
  'unspecified',
  'equal-to-zero',
  'less-than-or-equal-to-zero',
];
/** `Instance.Sense` by wire value. */
const SENSES: readonly Sense[] = ['unspecified', 'minimize', 'maximize'];
/** `Optimality` by wire value. */
const OPTIMALITIES: readonly Optimality[] = ['unspecified', 'optimal', 'not-optimal'];
/** `Relaxation` by wire value. */
const RELAXATIONS: readonly Relaxation[] = ['unrelaxed', 'lp-relaxed'];

function toWire<T extends string>(names: readonly T[], value: T, what: string): number {
  const i = names.indexOf(value);
  if (i < 0) throw malformed(`${JSON.stringify(value)} is not a ${what}`);
  return i;
}

function fromWire<T>(names: readonly T[], value: number, what: string): T {
  const name = names[value];
  if (name === undefined) throw malformed(`${what} has the unknown value ${value}`);
  return name;
}

/** Wire value of a variable kind. */
export const kindToWire = (v: VariableKind): number => toWire(KINDS, v, 'variable kind');
/** Wire value of an equality. */
export const equalityToWire = (v: Equality): number => toWire(EQUALITIES, v, 'equality');
/** Wire value of a sense. */
export const senseToWire = (v: Sense): number => toWire(SENSES, v, 'sense');
/** Wire value of an optimality. */
export const optimalityToWire = (v: Optimality): number => toWire(OPTIMALITIES, v, 'optimality');
/** Wire value of a relaxation. */
export const relaxationToWire = (v: Relaxation): number => toWire(RELAXATIONS, v, 'relaxation');

/** Reads a `DecisionVariable.Kind`. */
export const readKind = (r: ProtoReader): VariableKind =>
  fromWire(KINDS, r.int32(), 'a DecisionVariable kind');
/** Reads an `Equality`. */
export const readEquality = (r: ProtoReader): Equality =>
  fromWire(EQUALITIES, r.int32(), 'an equality');
/** Reads an `Instance.Sense`. */
export const readSense = (r: ProtoReader): Sense => fromWire(SENSES, r.int32(), 'the sense');
/** Reads an `Optimality`. */
export const readOptimality = (r: ProtoReader): Optimality =>
  fromWire(OPTIMALITIES, r.int32(), 'the optimality');
/** Reads a `Relaxation`. */
export const readRelaxation = (r: ProtoReader): Relaxation =>
  fromWire(RELAXATIONS, r.int32(), 'the relaxation');

// ---- Function -----------------------------------------------------------------------------

/** Encoded size of a `Linear.Term`'s body. */
function termLength(t: LinearTerm): number {
  return (t.id === 0 ? 0 : 1 + varintLength(t.id)) + (t.coefficient === 0 ? 0 : 9);
}

/** Encoded size of a `Linear` body. */
function linearLength(linear: LinearData): number {
  let len = linear.constant === 0 ? 0 : 9;
  for (const t of linear.terms) {
    const tl = termLength(t);
    len += 1 + varintLength(tl) + tl;
  }
  return len;
}

/** `Linear` body: terms = 1 (repeated Term{id = 1, coefficient = 2}), constant = 2. */
function writeLinearBody(w: ProtoWriter, linear: LinearData): void {
  for (const t of linear.terms) {
    w.flush().tag(1, LD).uint32(termLength(t));
    if (t.id !== 0) w.tag(1, VARINT).u64(t.id);
    if (t.coefficient !== 0) w.tag(2, I64).double(t.coefficient);
  }
  writeDouble(w, 2, linear.constant);
}

function monomialLength(m: Monomial): number {
  return packedU64Length(1, m.ids) + (m.coefficient === 0 ? 0 : 9);
}

/** Encoded size of the body of the `Function` member (the `Linear`, `Quadratic`…). */
function memberLength(f: FunctionData): number {
  switch (f.kind) {
    case 'constant':
      return 8;
    case 'linear':
      return linearLength(f);
    case 'quadratic':
      return (
        packedU64Length(1, f.rows) +
        packedU64Length(2, f.columns) +
        (f.values.length === 0 ? 0 : ldLength(3, f.values.length * 8)) +
        (f.linear === undefined ? 0 : ldLength(4, linearLength(f.linear)))
      );
    case 'polynomial': {
      let len = 0;
      for (const m of f.terms) len += ldLength(1, monomialLength(m));
      return len;
    }
    default:
      throw malformed(`${JSON.stringify((f as { kind: unknown }).kind)} is not a function kind`);
  }
}

/** Encoded size of an `ommx.v1.Function` body (one oneof member). */
export function functionLength(f: FunctionData): number {
  const member = memberLength(f);
  return f.kind === 'constant' ? 9 : 1 + varintLength(member) + member;
}

/** Writes an `ommx.v1.Function` body; see {@link writeFunction}. */
export function writeFunctionBody(w: ProtoWriter, f: FunctionData): void {
  switch (f.kind) {
    case 'constant':
      w.tag(1, I64).double(f.constant);
      return;
    case 'linear':
      w.tag(2, LD).uint32(linearLength(f));
      writeLinearBody(w, f);
      return;
    case 'quadratic':
      w.tag(3, LD).uint32(memberLength(f));
      writePackedU64(w, 1, f.rows);
      writePackedU64(w, 2, f.columns);
      writePackedDouble(w, 3, f.values);
      if (f.linear !== undefined) {
        w.tag(4, LD).uint32(linearLength(f.linear));
        writeLinearBody(w, f.linear);
      }
      return;
    case 'polynomial':
      w.tag(4, LD).uint32(memberLength(f));
      for (const m of f.terms) {
        w.tag(1, LD).uint32(monomialLength(m));
        writePackedU64(w, 1, m.ids);
        writeDouble(w, 2, m.coefficient);
      }
      return;
    default:
      throw malformed(`${JSON.stringify((f as { kind: unknown }).kind)} is not a function kind`);
  }
}

/**
 * Writes `ommx.v1.Function` as field `field`: a oneof of constant = 1, linear = 2,
 * quadratic = 3 (rows = 1, columns = 2, values = 3, optional linear = 4), polynomial = 4
 * (repeated Monomial{ids = 1, coefficient = 2}). The oneof member is always written, so a
 * constant `0` (OMMX's zero function) is `09 00…00` and `-0` stays `-0`.
 */
export function writeFunction(w: ProtoWriter, field: number, f: FunctionData): void {
  w.tag(field, LD).uint32(functionLength(f));
  writeFunctionBody(w, f);
}

function readTerm(r: ProtoReader): LinearTerm {
  const end = r.enter();
  let id = 0;
  let coefficient = 0;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) id = r.u64();
    else if (t === k(2, I64)) coefficient = r.double();
    else other(r, t, 'Linear.Term', [1, 2]);
  }
  r.leave(end);
  return { id, coefficient };
}

function readLinear(r: ProtoReader, asFunction: true): FunctionData;
function readLinear(r: ProtoReader, asFunction: false): LinearData;
function readLinear(r: ProtoReader, asFunction: boolean): LinearData | FunctionData {
  const end = r.enter();
  const terms: LinearTerm[] = [];
  let constant = 0;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) terms.push(readTerm(r));
    else if (t === k(2, I64)) constant = r.double();
    else other(r, t, 'Linear', [1, 2]);
  }
  r.leave(end);
  // Built in its final shape, not spread into one later: one object fewer per function.
  return asFunction ? { kind: 'linear', terms, constant } : { terms, constant };
}

function readQuadratic(r: ProtoReader): FunctionData {
  const end = r.enter();
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  let linear: LinearData | undefined;
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
      case k(1, VARINT):
        readPackedU64(r, t, rows);
        break;
      case k(2, LD):
      case k(2, VARINT):
        readPackedU64(r, t, columns);
        break;
      case k(3, LD):
      case k(3, I64):
        readPackedDouble(r, t, values);
        break;
      case k(4, LD):
        linear = readLinear(r, false);
        break;
      default:
        other(r, t, 'Quadratic', [1, 2, 3, 4]);
    }
  }
  r.leave(end);
  if (rows.length !== columns.length || rows.length !== values.length)
    throw malformed(
      `a Quadratic has ${rows.length} rows, ${columns.length} columns and ${values.length} values`
    );
  return linear === undefined
    ? { kind: 'quadratic', rows, columns, values }
    : { kind: 'quadratic', rows, columns, values, linear };
}

function readMonomial(r: ProtoReader): Monomial {
  const end = r.enter();
  const ids: number[] = [];
  let coefficient = 0;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD) || t === k(1, VARINT)) readPackedU64(r, t, ids);
    else if (t === k(2, I64)) coefficient = r.double();
    else other(r, t, 'Monomial', [1, 2]);
  }
  r.leave(end);
  return { ids, coefficient };
}

function readPolynomial(r: ProtoReader): FunctionData {
  const end = r.enter();
  const terms: Monomial[] = [];
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) terms.push(readMonomial(r));
    else other(r, t, 'Polynomial', [1]);
  }
  r.leave(end);
  return { kind: 'polynomial', terms };
}

/**
 * Reads an `ommx.v1.Function` (the reader at its length prefix). A Function with no member set —
 * what a newer OMMX's unknown function kind looks like to this reader — is refused, as OMMX does.
 */
export function readFunction(r: ProtoReader): FunctionData {
  const end = r.enter();
  let f: FunctionData | undefined;
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, I64):
        f = { kind: 'constant', constant: r.double() };
        break;
      case k(2, LD):
        f = readLinear(r, true);
        break;
      case k(3, LD):
        f = readQuadratic(r);
        break;
      case k(4, LD):
        f = readPolynomial(r);
        break;
      default:
        other(r, t, 'Function', [1, 2, 3, 4]);
    }
  }
  r.leave(end);
  if (f === undefined)
    throw malformed('a Function has none of constant, linear, quadratic or polynomial set');
  return f;
}

// ---- Bound --------------------------------------------------------------------------------

/** `(-∞, ∞)`: what an absent bound means. */
export const UNBOUNDED: Bound = { lower: -Infinity, upper: Infinity };

/** Writes `ommx.v1.Bound{lower = 1, upper = 2}` as field `field` (a present message). */
export function writeBound(w: ProtoWriter, field: number, bound: Bound): void {
  w.tag(field, LD).uint32((bound.lower === 0 ? 0 : 9) + (bound.upper === 0 ? 0 : 9));
  writeDouble(w, 1, bound.lower);
  writeDouble(w, 2, bound.upper);
}

/**
 * Reads an `ommx.v1.Bound`. `(-∞, ∞)` reads as `undefined`: the model's one spelling of
 * "unbounded" (so the two encodings of it decode alike and re-encode to the same bytes).
 */
export function readBound(r: ProtoReader): Bound | undefined {
  const end = r.enter();
  let lower = 0;
  let upper = 0;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, I64)) lower = r.double();
    else if (t === k(2, I64)) upper = r.double();
    else other(r, t, 'Bound', [1, 2]);
  }
  r.leave(end);
  return lower === -Infinity && upper === Infinity ? undefined : { lower, upper };
}

// ---- SampledValues ------------------------------------------------------------------------

/** Sampled values grouped for writing: one entry per distinct value. */
export interface SampledGroups {
  readonly values: number[];
  readonly ids: number[][];
  /** Bytes of the whole `SampledValues` body. */
  readonly length: number;
}

function groupEntryLength(value: number, ids: readonly number[]): number {
  return (value === 0 ? 0 : 9) + packedU64Length(2, ids);
}

/**
 * Groups sampled values for {@link writeSampledValues}: one entry per distinct value
 * (SameValueZero, so NaN joins NaN and `-0` joins `0`), entries ordered by their smallest sample
 * id, ids ascending.
 */
export function groupSamples(values: SampledValues): SampledGroups {
  const ids = [...values.keys()].sort((a, b) => a - b);
  const byValue = new Map<number, number[]>();
  for (const id of ids) {
    const v = values.get(id) as number;
    const group = byValue.get(v);
    if (group === undefined) byValue.set(v, [id]);
    else group.push(id);
  }
  const out: { values: number[]; ids: number[][]; length: number } = {
    values: [],
    ids: [],
    length: 0,
  };
  for (const [value, group] of byValue) {
    out.values.push(value);
    out.ids.push(group);
    out.length += ldLength(1, groupEntryLength(value, group));
  }
  return out;
}

/** Writes `ommx.v1.SampledValues{entries = 1: repeated {value = 1, ids = 2}}` as `field`. */
export function writeSampledValues(w: ProtoWriter, field: number, groups: SampledGroups): void {
  w.tag(field, LD).uint32(groups.length);
  for (let i = 0; i < groups.values.length; i++) {
    const value = groups.values[i] as number;
    const ids = groups.ids[i] as number[];
    w.tag(1, LD).uint32(groupEntryLength(value, ids));
    writeDouble(w, 1, value);
    writePackedU64(w, 2, ids);
  }
}

/** Reads an `ommx.v1.SampledValues` into a map in ascending sample-id order. */
export function readSampledValues(r: ProtoReader): Map<number, number> {
  const end = r.enter();
  const pairs: [number, number][] = [];
  const ids: number[] = [];
  while (r.pos < end) {
    const t = r.key();
    if (t !== k(1, LD)) {
      other(r, t, 'SampledValues', [1]);
      continue;
    }
    const entryEnd = r.enter();
    let value = 0;
    ids.length = 0;
    while (r.pos < entryEnd) {
      const u = r.key();
      if (u === k(1, I64)) value = r.double();
      else if (u === k(2, LD) || u === k(2, VARINT)) readPackedU64(r, u, ids);
      else other(r, u, 'SampledValues entry', [1, 2]);
    }
    r.leave(entryEnd);
    for (const id of ids) pairs.push([id, value]);
  }
  r.leave(end);
  pairs.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < pairs.length; i++) {
    if ((pairs[i - 1] as [number, number])[0] === (pairs[i] as [number, number])[0])
      throw malformed(`sample id ${(pairs[i] as [number, number])[0]} has two values`);
  }
  return new Map(pairs);
}

// ---- Parameters ---------------------------------------------------------------------------

/** Writes `ommx.v1.Parameters{entries = 1: map<uint64, double>}` as field `field`. */
export function writeParameters(
  w: ProtoWriter,
  field: number,
  parameters: ReadonlyMap<number, number>
): void {
  w.tag(field, LD).fork();
  writeU64DoubleMap(w, 1, parameters);
  w.join();
}

/**
 * Reads a message whose one field is `map<uint64, double> entries = 1` (`ommx.v1.Parameters`,
 * `ommx.v1.State`) into `into`, in the order of the entries.
 * @param message - the message's name, for errors
 */
export function readDoubleMapMessage(
  r: ProtoReader,
  into: Map<number, number>,
  message: string
): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) readU64DoubleEntry(r, into);
    else other(r, t, message, [1]);
  }
  r.leave(end);
}

/** Reads an `ommx.v1.Parameters` into a map in ascending id order. */
export function readParameters(r: ProtoReader): Map<number, number> {
  const map = new Map<number, number>();
  readDoubleMapMessage(r, map, 'Parameters');
  return sortedMap(map);
}

// ---- Description, ProcessMetadata ---------------------------------------------------------

/**
 * Writes `ommx.v1.Instance.Description` as field `field`: name = 1, description = 2,
 * authors = 3, created_by = 4, created = 5, license = 6, dataset = 7 (all but authors optional).
 */
export function writeDescription(w: ProtoWriter, field: number, d: InstanceDescription): void {
  w.tag(field, LD).fork();
  writeOptionalString(w, 1, d.name);
  writeOptionalString(w, 2, d.description);
  for (const author of d.authors) w.tag(3, LD).string(author);
  writeOptionalString(w, 4, d.createdBy);
  writeOptionalString(w, 5, d.created);
  writeOptionalString(w, 6, d.license);
  writeOptionalString(w, 7, d.dataset);
  w.join();
}

/** Reads an `ommx.v1.Instance.Description`. */
export function readDescription(r: ProtoReader): InstanceDescription {
  const end = r.enter();
  const d: Mutable<InstanceDescription> & { authors: string[] } = { authors: [] };
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
        d.name = r.string();
        break;
      case k(2, LD):
        d.description = r.string();
        break;
      case k(3, LD):
        d.authors.push(r.string());
        break;
      case k(4, LD):
        d.createdBy = r.string();
        break;
      case k(5, LD):
        d.created = r.string();
        break;
      case k(6, LD):
        d.license = r.string();
        break;
      case k(7, LD):
        d.dataset = r.string();
        break;
      default:
        other(r, t, 'Instance.Description', [1, 2, 3, 4, 5, 6, 7]);
    }
  }
  r.leave(end);
  return d;
}

/**
 * Writes `ommx.v1.ProcessMetadata` as field `field`: instance = 1, solver = 2, parameters = 3,
 * start = 4, end = 5 (all optional strings).
 */
export function writeMetadata(w: ProtoWriter, field: number, m: ProcessMetadata): void {
  w.tag(field, LD).fork();
  writeOptionalString(w, 1, m.instance);
  writeOptionalString(w, 2, m.solver);
  writeOptionalString(w, 3, m.parameters);
  writeOptionalString(w, 4, m.start);
  writeOptionalString(w, 5, m.end);
  w.join();
}

/** Reads an `ommx.v1.ProcessMetadata`. */
export function readMetadata(r: ProtoReader): ProcessMetadata {
  const end = r.enter();
  const m: Mutable<ProcessMetadata> = {};
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
        m.instance = r.string();
        break;
      case k(2, LD):
        m.solver = r.string();
        break;
      case k(3, LD):
        m.parameters = r.string();
        break;
      case k(4, LD):
        m.start = r.string();
        break;
      case k(5, LD):
        m.end = r.string();
        break;
      default:
        other(r, t, 'ProcessMetadata', [1, 2, 3, 4, 5]);
    }
  }
  r.leave(end);
  return m;
}
