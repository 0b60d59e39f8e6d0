/**
 * @module ommx/wire/tables
 * The `ommx.v2` tables and collections the four roots share: decision-variable tables (created,
 * evaluated, sampled rows), the regular-constraint collection of an Instance, removed reasons,
 * constraint contexts (label + provenance), named-function tables, and the parameter table. In v2
 * the id is the map key and labels live in side maps, written only for rows that have one.
 */
import type {
  Bound,
  ConstraintData,
  DecisionVariableData,
  Equality,
  FunctionData,
  Label,
  NamedFunctionData,
  ParameterData,
  Provenance,
  RemovedConstraintData,
  VariableKind,
} from '../types.js';
import {
  checkUniqueIds,
  emptyLabel,
  hasLabel,
  I64,
  k,
  labelBodyLength,
  LD,
  ldLength,
  other,
  readEntryInto,
  readLabel,
  readPackedU64,
  readStringMapEntry,
  readU64DoubleEntry,
  sortById,
  stringLength,
  stringMapLength,
  VARINT,
  varintLength,
  withLabel,
  writeDouble,
  writeEntryHead,
  writeEnum,
  writeLabelBody,
  writeLabelMap,
  writePackedU64,
  writeString,
  writeStringMap,
  writeU64DoubleEntry,
  sortedEntries,
  type LabelDraft,
} from './fields.js';
import {
  equalityToWire,
  functionLength,
  groupSamples,
  kindToWire,
  readBound,
  readEquality,
  readFunction,
  readKind,
  readSampledValues,
  UNBOUNDED,
  writeBound,
  writeFunction,
  writeFunctionBody,
  writeSampledValues,
} from './messages.js';
import { malformed, type ProtoReader, type ProtoWriter } from './protobuf.js';

/** Rows in ascending id order: the input itself when already sorted, else a sorted copy. */
export function byId<T extends { readonly id: number }>(rows: readonly T[]): readonly T[] {
  for (let i = 1; i < rows.length; i++) {
    if ((rows[i - 1] as T).id > (rows[i] as T).id) return [...rows].sort((a, b) => a.id - b.id);
  }
  return rows;
}

/**
 * Writes a v2 table `{entries = 1, labels = 2}` as field `field`, rows ascending by id:
 * `writeEntry` writes one row's `entries` entry (field 1), then come the labels of the rows that
 * have one, then whatever `writeMore` writes (the created-stage variable table's
 * `fixed_values = 3`).
 */
export function writeTable<T extends Label & { readonly id: number }>(
  w: ProtoWriter,
  field: number,
  items: readonly T[],
  writeEntry: (w: ProtoWriter, row: T) => void,
  writeMore?: (w: ProtoWriter, rows: readonly T[]) => void
): void {
  const rows = byId(items);
  w.tag(field, LD).fork();
  for (const row of rows) writeEntry(w, row);
  writeLabelMap(w, 2, rows);
  if (writeMore !== undefined) writeMore(w, rows);
  w.join();
}

// ---- decision variables -------------------------------------------------------------------

/**
 * A decision-variable row as read: `value` only at the evaluated stage, `samples` only at the
 * sampled one. The draft becomes the model's row object (id and label are added to it).
 */
export interface VariableRowDraft {
  kind: VariableKind;
  bound?: Bound;
  value?: number;
  samples?: Map<number, number>;
}

function boundLength(b: Bound): number {
  return 2 + (b.lower === 0 ? 0 : 9) + (b.upper === 0 ? 0 : 9);
}

/**
 * Writes one `DecisionVariable` / `EvaluatedDecisionVariable` entry: `{kind = 1, bound = 2,
 * value = 3}`. An absent bound is written as `(-∞, ∞)`: OMMX's v2 reader requires the field, and
 * that is what absent means.
 */
export function writeVariableEntry(
  w: ProtoWriter,
  field: number,
  id: number,
  kind: VariableKind,
  bound: Bound | undefined,
  value: number | undefined
): void {
  const b = bound ?? UNBOUNDED;
  const kindWire = kindToWire(kind);
  const body =
    (kindWire === 0 ? 0 : 2) + boundLength(b) + (value === undefined || value === 0 ? 0 : 9);
  writeEntryHead(w, field, id, body);
  writeEnum(w, 1, kindWire);
  writeBound(w, 2, b);
  if (value !== undefined) writeDouble(w, 3, value);
}

/** Writes one `SampledDecisionVariable` entry: `{kind = 1, bound = 2, samples = 3}`. */
export function writeSampledVariableEntry(
  w: ProtoWriter,
  field: number,
  id: number,
  kind: VariableKind,
  bound: Bound | undefined,
  samples: ReadonlyMap<number, number>
): void {
  const b = bound ?? UNBOUNDED;
  const kindWire = kindToWire(kind);
  const groups = groupSamples(samples);
  writeEntryHead(
    w,
    field,
    id,
    (kindWire === 0 ? 0 : 2) + boundLength(b) + ldLength(3, groups.length)
  );
  writeEnum(w, 1, kindWire);
  writeBound(w, 2, b);
  writeSampledValues(w, 3, groups);
}

function writeCreatedVariable(w: ProtoWriter, v: DecisionVariableData): void {
  writeVariableEntry(w, 1, v.id, v.kind, v.bound, undefined);
}

function writeFixedValues(w: ProtoWriter, rows: readonly DecisionVariableData[]): void {
  for (const v of rows) {
    if (v.substitutedValue !== undefined) writeU64DoubleEntry(w, 3, v.id, v.substitutedValue);
  }
}

/** Writes `v2.DecisionVariableTable{entries = 1, labels = 2, fixed_values = 3}` as `field`. */
export function writeDecisionVariableTable(
  w: ProtoWriter,
  field: number,
  variables: readonly DecisionVariableData[]
): void {
  writeTable(w, field, variables, writeCreatedVariable, writeFixedValues);
}

/** A decision-variable table being read (maps merge if the table field repeats). */
export interface VariableTableDraft {
  readonly rows: Map<number, VariableRowDraft>;
  readonly labels: Map<number, LabelDraft>;
  readonly fixed: Map<number, number>;
}

/** An empty {@link VariableTableDraft}. */
export function variableTableDraft(): VariableTableDraft {
  return { rows: new Map(), labels: new Map(), fixed: new Map() };
}

type Stage = 'created' | 'evaluated' | 'sampled';

function readRow(r: ProtoReader, stage: Stage): VariableRowDraft {
  const row = defaultRow(stage);
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) row.kind = readKind(r);
    else if (t === k(2, LD)) {
      const bound = readBound(r);
      if (bound === undefined) delete row.bound;
      else row.bound = bound;
    } else if (stage === 'evaluated' && t === k(3, I64)) row.value = r.double();
    else if (stage === 'sampled' && t === k(3, LD)) row.samples = readSampledValues(r);
    else other(r, t, 'a decision variable row', stage === 'created' ? [1, 2] : [1, 2, 3]);
  }
  r.leave(end);
  return row;
}
function defaultRow(stage: Stage): VariableRowDraft {
  return stage === 'evaluated' ? { kind: 'unspecified', value: 0 } : { kind: 'unspecified' };
}
const readCreatedRow = (r: ProtoReader): VariableRowDraft => readRow(r, 'created');
const readEvaluatedRow = (r: ProtoReader): VariableRowDraft => readRow(r, 'evaluated');
const readSampledRow = (r: ProtoReader): VariableRowDraft => readRow(r, 'sampled');
const ROW_READERS = {
  created: readCreatedRow,
  evaluated: readEvaluatedRow,
  sampled: readSampledRow,
} as const;
const DEFAULT_ROWS = {
  created: (): VariableRowDraft => defaultRow('created'),
  evaluated: (): VariableRowDraft => defaultRow('evaluated'),
  sampled: (): VariableRowDraft => defaultRow('sampled'),
} as const;

/** Reads a decision-variable table (any stage) into `draft`. */
export function readVariableTable(r: ProtoReader, stage: Stage, draft: VariableTableDraft): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) {
      readEntryInto(
        r,
        draft.rows,
        'a decision variable entry',
        ROW_READERS[stage],
        DEFAULT_ROWS[stage]
      );
    } else if (t === k(2, LD)) {
      readEntryInto(r, draft.labels, 'a decision variable label', readLabel, emptyLabel);
    } else if (stage === 'created' && t === k(3, LD)) readU64DoubleEntry(r, draft.fixed);
    else other(r, t, 'DecisionVariableTable', stage === 'created' ? [1, 2, 3] : [1, 2]);
  }
  r.leave(end);
}

/** Checks that a side map only names ids of its table (OMMX refuses other ids too). */
export function checkSideKeys(
  side: ReadonlyMap<number, unknown>,
  owner: ReadonlyMap<number, unknown> | ReadonlySet<number>,
  what: string
): void {
  for (const id of side.keys()) {
    if (!owner.has(id)) throw malformed(`${what} name id ${id}, which has no row`);
  }
}

/**
 * Turns the rows of a table (any stage) into the model's rows, ascending by id: each draft gets
 * its id and label (and, at the created stage, its fixed value) and is returned as the row.
 */
export function finishVariableRows<T extends { readonly id: number }>(
  draft: VariableTableDraft
): T[] {
  checkSideKeys(draft.labels, draft.rows, 'decision variable labels');
  checkSideKeys(draft.fixed, draft.rows, 'fixed_values');
  const out: T[] = [];
  for (const [id, row] of draft.rows) {
    const v = row as VariableRowDraft & { id: number; substitutedValue?: number };
    v.id = id;
    withLabel(v, draft.labels.get(id));
    const fixed = draft.fixed.get(id);
    if (fixed !== undefined) v.substitutedValue = fixed;
    out.push(v as unknown as T);
  }
  return sortById(out);
}

/** Builds the variables of a created-stage table, ascending by id. */
export function finishVariables(draft: VariableTableDraft): DecisionVariableData[] {
  return finishVariableRows<DecisionVariableData>(draft);
}

// ---- constraints: shared pieces -----------------------------------------------------------

/** Writes one `removed_reasons` entry: `RemovedReason{reason = 1, parameters = 2}`. */
export function writeRemovedReasonEntry(
  w: ProtoWriter,
  field: number,
  id: number,
  reason: string,
  parameters: Readonly<Record<string, string>>
): void {
  if (writeEntryHead(w, field, id, stringLength(1, reason) + stringMapLength(2, parameters))) {
    writeString(w, 1, reason);
    writeStringMap(w, 2, parameters);
  }
}

/** A `RemovedReason` as read. */
export interface RemovedReasonDraft {
  reason: string;
  parameters: Record<string, string>;
}

function emptyReason(): RemovedReasonDraft {
  return { reason: '', parameters: {} };
}

function readRemovedReason(r: ProtoReader): RemovedReasonDraft {
  const out = emptyReason();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) out.reason = r.string();
    else if (t === k(2, LD)) readStringMapEntry(r, out.parameters);
    else other(r, t, 'RemovedReason', [1, 2]);
  }
  r.leave(end);
  return out;
}

/** Reads one `removed_reasons` entry into `into`. */
export function readRemovedReasonEntry(
  r: ProtoReader,
  into: Map<number, RemovedReasonDraft>
): void {
  readEntryInto(r, into, 'a removed_reasons entry', readRemovedReason, emptyReason);
}

const PROVENANCE_FIELD = { indicator: 1, 'one-hot': 2, sos1: 3 } as const;
const PROVENANCE_KIND = [undefined, 'indicator', 'one-hot', 'sos1'] as const;

/** Whether a constraint has a context to write (a label or provenance). */
function hasContext(c: Label & { readonly provenance: readonly Provenance[] }): boolean {
  return c.provenance.length > 0 || hasLabel(c);
}

/**
 * Writes one `contexts` entry: `ConstraintContext{label = 1, provenance = 2}`. The label is
 * always written, empty or not (OMMX's writer sets `label: Some(…)` on every context).
 */
function writeContextEntry(
  w: ProtoWriter,
  field: number,
  c: Label & { readonly id: number; readonly provenance: readonly Provenance[] }
): void {
  const labelLength = labelBodyLength(c);
  let body = ldLength(1, labelLength);
  for (const p of c.provenance) body += ldLength(2, 1 + varintLength(p.id));
  writeEntryHead(w, field, c.id, body);
  w.tag(1, LD).uint32(labelLength);
  writeLabelBody(w, c);
  for (const p of c.provenance) {
    // `Provenance` is a oneof {indicator_constraint_id = 1, one_hot = 2, sos1 = 3}: the member
    // is written even when the id is 0.
    w.tag(2, LD).uint32(1 + varintLength(p.id));
    w.tag(PROVENANCE_FIELD[p.kind], VARINT).u64(p.id);
  }
}

/** Writes the `contexts` map for rows sorted by id. */
export function writeContexts(
  w: ProtoWriter,
  field: number,
  rows: readonly (Label & { readonly id: number; readonly provenance: readonly Provenance[] })[]
): void {
  for (const c of rows) if (hasContext(c)) writeContextEntry(w, field, c);
}

/** A `ConstraintContext` as read. */
export interface ContextDraft {
  label: LabelDraft;
  provenance: Provenance[];
}

function emptyContext(): ContextDraft {
  return { label: emptyLabel(), provenance: [] };
}

function readProvenance(r: ProtoReader): Provenance {
  const end = r.enter();
  let out: Provenance | undefined;
  while (r.pos < end) {
    const t = r.key();
    const field = t >>> 3;
    const kind = (t & 7) === VARINT ? PROVENANCE_KIND[field] : undefined;
    if (kind !== undefined) out = { kind, id: r.u64() };
    else other(r, t, 'Provenance', [1, 2, 3]);
  }
  r.leave(end);
  if (out === undefined) throw malformed('a Provenance has no source');
  return out;
}

function readContext(r: ProtoReader): ContextDraft {
  const out = emptyContext();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) out.label = readLabel(r);
    else if (t === k(2, LD)) out.provenance.push(readProvenance(r));
    else other(r, t, 'ConstraintContext', [1, 2]);
  }
  r.leave(end);
  return out;
}

/** Reads one `contexts` entry into `into`. */
export function readContextEntry(r: ProtoReader, into: Map<number, ContextDraft>): void {
  readEntryInto(r, into, 'a contexts entry', readContext, emptyContext);
}

/** A row with its label and provenance from `contexts`. */
export function withContext<T extends object>(
  row: T,
  context: ContextDraft | undefined
): T & Label & { provenance: Provenance[] } {
  const out = withLabel(row, context?.label) as T & Label & { provenance: Provenance[] };
  out.provenance = context === undefined ? [] : context.provenance;
  return out;
}

// ---- constraints: the evaluated and sampled collections ------------------------------------

/** What an evaluated or a sampled constraint row has besides its stage's values. */
interface StageConstraint extends Label {
  readonly id: number;
  removedReason?: string;
  readonly removedReasonParameters: Readonly<Record<string, string>>;
  readonly provenance: readonly Provenance[];
}

/**
 * Writes an `EvaluatedRegularConstraintCollection` or a `SampledRegularConstraintCollection`
 * (`{entries = 1, removed_reasons = 2, contexts = 3}`) as field `field`, rows ascending by id;
 * `writeEntry` writes one row's `entries` entry (field 1).
 */
export function writeStageConstraints<T extends StageConstraint>(
  w: ProtoWriter,
  field: number,
  constraints: readonly T[],
  writeEntry: (w: ProtoWriter, c: T) => void
): void {
  const rows = byId(constraints);
  w.tag(field, LD).fork();
  for (const c of rows) writeEntry(w, c);
  for (const c of rows) {
    if (c.removedReason !== undefined)
      writeRemovedReasonEntry(w, 2, c.id, c.removedReason, c.removedReasonParameters);
  }
  writeContexts(w, 3, rows);
  w.join();
}

/** An evaluated or sampled constraint collection being read (maps merge if the field repeats). */
export interface StageConstraintsDraft<R> {
  readonly rows: Map<number, R>;
  readonly reasons: Map<number, RemovedReasonDraft>;
  readonly contexts: Map<number, ContextDraft>;
}

/** An empty {@link StageConstraintsDraft}. */
export function stageConstraintsDraft<R>(): StageConstraintsDraft<R> {
  return { rows: new Map(), reasons: new Map(), contexts: new Map() };
}

/**
 * Reads a collection written by {@link writeStageConstraints} into `draft`, its rows by
 * `readRow` (a missing row value is `defaultRow()`).
 * @param message - the collection's message name, for errors
 * @param entry - what one of its entries is called, for errors
 */
export function readStageConstraints<R>(
  r: ProtoReader,
  draft: StageConstraintsDraft<R>,
  readRow: (r: ProtoReader) => R,
  defaultRow: () => R,
  message: string,
  entry: string
): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) readEntryInto(r, draft.rows, entry, readRow, defaultRow);
    else if (t === k(2, LD)) readRemovedReasonEntry(r, draft.reasons);
    else if (t === k(3, LD)) readContextEntry(r, draft.contexts);
    else other(r, t, message, [1, 2, 3]);
  }
  r.leave(end);
}

/**
 * Builds the constraints of an evaluated or sampled collection, ascending by id: `build` turns a
 * row into the model's constraint, given its removal's parameters (`{}` without a removal) and
 * its context (for {@link withContext}); the removed reason, if any, is added last.
 */
export function finishStageConstraints<R, T extends StageConstraint>(
  draft: StageConstraintsDraft<R>,
  build: (
    id: number,
    row: R,
    removedReasonParameters: Record<string, string>,
    context: ContextDraft | undefined
  ) => T
): T[] {
  checkSideKeys(draft.reasons, draft.rows, 'removed_reasons');
  checkSideKeys(draft.contexts, draft.rows, 'constraint contexts');
  const out: T[] = [];
  for (const [id, row] of draft.rows) {
    const reason = draft.reasons.get(id);
    const c = build(id, row, reason?.parameters ?? {}, draft.contexts.get(id));
    if (reason !== undefined) c.removedReason = reason.reason;
    out.push(c);
  }
  return sortById(out);
}

// ---- constraints: the created-stage collection --------------------------------------------

function writeRegularConstraintEntry(w: ProtoWriter, field: number, c: ConstraintData): void {
  const equality = equalityToWire(c.equality);
  writeEntryHead(
    w,
    field,
    c.id,
    (equality === 0 ? 0 : 2) + ldLength(2, functionLength(c.function))
  );
  writeEnum(w, 1, equality);
  writeFunction(w, 2, c.function);
}

/**
 * Writes `v2.RegularConstraintCollection{active = 1, removed = 2, removed_reasons = 3,
 * contexts = 4}` as field `field`; rows `RegularConstraint{equality = 1, function = 2}`.
 */
export function writeConstraintCollection(
  w: ProtoWriter,
  field: number,
  constraints: readonly ConstraintData[],
  removedConstraints: readonly RemovedConstraintData[]
): void {
  const active = byId(constraints);
  const removed = byId(removedConstraints.map((rc) => ({ id: rc.constraint.id, rc })));
  w.tag(field, LD).fork();
  for (const c of active) writeRegularConstraintEntry(w, 1, c);
  for (const { rc } of removed) writeRegularConstraintEntry(w, 2, rc.constraint);
  for (const { id, rc } of removed)
    writeRemovedReasonEntry(w, 3, id, rc.reason, rc.reasonParameters);
  // contexts: one map over active and removed ids, so merge the two sorted lists.
  let i = 0;
  let j = 0;
  while (i < active.length || j < removed.length) {
    const a = active[i];
    const b = removed[j];
    if (b === undefined || (a !== undefined && a.id <= b.id)) {
      if (hasContext(a as ConstraintData)) writeContextEntry(w, 4, a as ConstraintData);
      i++;
    } else {
      if (hasContext(b.rc.constraint)) writeContextEntry(w, 4, b.rc.constraint);
      j++;
    }
  }
  w.join();
}

interface RegularRowDraft {
  equality: Equality;
  function: FunctionData | undefined;
}

function defaultRegularRow(): RegularRowDraft {
  return { equality: 'unspecified', function: undefined };
}

function readRegularRow(r: ProtoReader): RegularRowDraft {
  const row = defaultRegularRow();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) row.equality = readEquality(r);
    else if (t === k(2, LD)) row.function = readFunction(r);
    else other(r, t, 'RegularConstraint', [1, 2]);
  }
  r.leave(end);
  return row;
}

/** A created-stage regular-constraint collection being read. */
export interface ConstraintCollectionDraft {
  readonly active: Map<number, RegularRowDraft>;
  readonly removed: Map<number, RegularRowDraft>;
  readonly reasons: Map<number, RemovedReasonDraft>;
  readonly contexts: Map<number, ContextDraft>;
}

/** An empty {@link ConstraintCollectionDraft}. */
export function constraintCollectionDraft(): ConstraintCollectionDraft {
  return { active: new Map(), removed: new Map(), reasons: new Map(), contexts: new Map() };
}

/** Reads a `v2.RegularConstraintCollection` into `draft`. */
export function readConstraintCollection(r: ProtoReader, draft: ConstraintCollectionDraft): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD) || t === k(2, LD)) {
      const into = t === k(1, LD) ? draft.active : draft.removed;
      readEntryInto(r, into, 'a constraint entry', readRegularRow, defaultRegularRow);
    } else if (t === k(3, LD)) readRemovedReasonEntry(r, draft.reasons);
    else if (t === k(4, LD)) readContextEntry(r, draft.contexts);
    else other(r, t, 'RegularConstraintCollection', [1, 2, 3, 4]);
  }
  r.leave(end);
}

function toConstraint(
  id: number,
  row: RegularRowDraft,
  context: ContextDraft | undefined
): ConstraintData {
  if (row.function === undefined) throw malformed(`constraint ${id} has no function`);
  // The draft becomes the model's row (one object per constraint, not two).
  const c = row as RegularRowDraft & { id: number };
  c.id = id;
  return withContext(c as ConstraintData, context);
}

/** Builds the active and removed constraints of a collection, each ascending by id. */
export function finishConstraints(draft: ConstraintCollectionDraft): {
  constraints: ConstraintData[];
  removedConstraints: RemovedConstraintData[];
} {
  for (const id of draft.active.keys()) {
    if (draft.removed.has(id)) throw malformed(`constraint ${id} is both active and removed`);
  }
  checkSideKeys(draft.reasons, draft.removed, 'removed_reasons');
  for (const id of draft.removed.keys()) {
    if (!draft.reasons.has(id)) throw malformed(`removed constraint ${id} has no removed reason`);
  }
  for (const id of draft.contexts.keys()) {
    if (!draft.active.has(id) && !draft.removed.has(id))
      throw malformed(`constraint contexts name id ${id}, which has no row`);
  }
  const constraints: ConstraintData[] = [];
  for (const [id, row] of draft.active)
    constraints.push(toConstraint(id, row, draft.contexts.get(id)));
  const removedConstraints: RemovedConstraintData[] = [];
  for (const [id, row] of draft.removed) {
    const reason = draft.reasons.get(id) as RemovedReasonDraft;
    removedConstraints.push({
      constraint: toConstraint(id, row, draft.contexts.get(id)),
      reason: reason.reason,
      reasonParameters: reason.parameters,
    });
  }
  sortById(constraints);
  removedConstraints.sort((a, b) => a.constraint.id - b.constraint.id);
  return { constraints, removedConstraints };
}

// ---- decision-variable dependency --------------------------------------------------------

/** Writes `map<uint64, Function> decision_variable_dependency` as field `field`, by id. */
export function writeDependency(
  w: ProtoWriter,
  field: number,
  dependency: ReadonlyMap<number, FunctionData>
): void {
  for (const [id, f] of sortedEntries(dependency)) {
    writeEntryHead(w, field, id, functionLength(f));
    writeFunctionBody(w, f);
  }
}

function noFunction(): FunctionData | undefined {
  return undefined;
}

/** Reads one `decision_variable_dependency` entry into `into` (checked by {@link finishDependency}). */
export function readDependencyEntry(
  r: ProtoReader,
  into: Map<number, FunctionData | undefined>
): void {
  readEntryInto(r, into, 'a decision_variable_dependency entry', readFunction, noFunction);
}

/** The dependency map, ascending by id; an entry without a function is malformed. */
export function finishDependency(
  draft: ReadonlyMap<number, FunctionData | undefined>
): Map<number, FunctionData> {
  const out = new Map<number, FunctionData>();
  for (const [id, f] of sortedEntries(draft)) {
    if (f === undefined) throw malformed(`the dependency of variable ${id} has no function`);
    out.set(id, f);
  }
  return out;
}

// ---- named functions ----------------------------------------------------------------------

function writeNamedFunctionEntry(w: ProtoWriter, f: NamedFunctionData): void {
  writeEntryHead(w, 1, f.id, ldLength(1, functionLength(f.function)));
  writeFunction(w, 1, f.function);
}

/** Writes `v2.NamedFunctionTable{entries = 1 (NamedFunction{function = 1}), labels = 2}`. */
export function writeNamedFunctionTable(
  w: ProtoWriter,
  field: number,
  namedFunctions: readonly NamedFunctionData[]
): void {
  writeTable(w, field, namedFunctions, writeNamedFunctionEntry);
}

/** A named-function table (any stage) being read: rows of type `R` and labels. */
export interface NamedTableDraft<R> {
  readonly rows: Map<number, R>;
  readonly labels: Map<number, LabelDraft>;
}

/** An empty {@link NamedTableDraft}. */
export function namedTableDraft<R>(): NamedTableDraft<R> {
  return { rows: new Map(), labels: new Map() };
}

/** Reads a named-function table whose rows `readRow` reads. */
export function readNamedTable<R>(
  r: ProtoReader,
  draft: NamedTableDraft<R>,
  readRow: (r: ProtoReader) => R,
  defaultRow: () => R
): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) {
      readEntryInto(r, draft.rows, 'a named function entry', readRow, defaultRow);
    } else if (t === k(2, LD)) {
      readEntryInto(r, draft.labels, 'a named function label', readLabel, emptyLabel);
    } else other(r, t, 'NamedFunctionTable', [1, 2]);
  }
  r.leave(end);
}

function readNamedFunctionRow(r: ProtoReader): FunctionData | undefined {
  let f: FunctionData | undefined;
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) f = readFunction(r);
    else other(r, t, 'NamedFunction', [1]);
  }
  r.leave(end);
  return f;
}

/** An empty created-stage named-function table draft. */
export function namedFunctionDraft(): NamedTableDraft<FunctionData | undefined> {
  return namedTableDraft();
}

/** Reads a created-stage `v2.NamedFunctionTable` into `draft`. */
export function readNamedFunctionTable(
  r: ProtoReader,
  draft: NamedTableDraft<FunctionData | undefined>
): void {
  readNamedTable(r, draft, readNamedFunctionRow, () => undefined);
}

/** Builds rows of a named-function table with their labels, ascending by id. */
export function finishNamed<R, T extends { readonly id: number }>(
  draft: NamedTableDraft<R>,
  build: (id: number, row: R) => T
): (T & Label)[] {
  checkSideKeys(draft.labels, draft.rows, 'named function labels');
  const out: (T & Label)[] = [];
  for (const [id, row] of draft.rows) out.push(withLabel(build(id, row), draft.labels.get(id)));
  return sortById(out);
}

/** Builds created-stage named functions. */
export function finishNamedFunctions(
  draft: NamedTableDraft<FunctionData | undefined>
): NamedFunctionData[] {
  return finishNamed(draft, (id, f) => {
    if (f === undefined) throw malformed(`named function ${id} has no function`);
    return { id, function: f };
  });
}

// ---- parameters (ParametricInstance) ------------------------------------------------------

/** Writes `v2.ParameterTable{ids = 1 (packed, ascending), labels = 2}` as field `field`. */
export function writeParameterTable(
  w: ProtoWriter,
  field: number,
  parameters: readonly ParameterData[]
): void {
  const rows = byId(parameters);
  w.tag(field, LD).fork();
  writePackedU64(
    w,
    1,
    rows.map((p) => p.id)
  );
  writeLabelMap(w, 2, rows);
  w.join();
}

/** A parameter table being read. */
export interface ParameterTableDraft {
  readonly ids: number[];
  readonly labels: Map<number, LabelDraft>;
}

/** Reads a `v2.ParameterTable` into `draft`. */
export function readParameterTable(r: ProtoReader, draft: ParameterTableDraft): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD) || t === k(1, VARINT)) readPackedU64(r, t, draft.ids);
    else if (t === k(2, LD)) {
      readEntryInto(r, draft.labels, 'a parameter label', readLabel, emptyLabel);
    } else other(r, t, 'ParameterTable', [1, 2]);
  }
  r.leave(end);
}

/** Builds the parameters, ascending by id. */
export function finishParameters(draft: ParameterTableDraft): ParameterData[] {
  const out = sortById(draft.ids.map((id) => ({ id })));
  checkUniqueIds(out, 'parameter');
  checkSideKeys(draft.labels, new Set(draft.ids), 'parameter labels');
  return out.map((p) => withLabel(p, draft.labels.get(p.id)));
}
