/**
 * @module ommx/wire/fields
 * Field-level protobuf encoding shared by every OMMX message, following prost (the Rust encoder
 * OMMX uses) so equal data gives the bytes OMMX would write:
 *
 * - fields in ascending field-number order;
 * - proto3 scalars equal to their default (`0`, `false`, `''`, enum `0`) are omitted, unless the
 *   field is `optional` or a `oneof` member. prost tests `value != 0.0`, and `-0.0 == 0.0`, so a
 *   plain `double` field holding `-0` is omitted and reads back as `+0`; NaN is written;
 * - repeated scalars are packed (readers also accept the unpacked form);
 * - a map is a repeated entry message `{key = 1, value = 2}`. Inside an entry prost omits the key
 *   when it is the default (`0`, `''`) and the value when it equals its type's default — for a
 *   message value, when every field of it is default (an empty encoding) —
 *   (`prost::encoding::map::encode_with_default`: `skip_key = key == K::default()`,
 *   `skip_val = val == val_default`). We do the same, and sort v2 entries by key (prost's
 *   `BTreeMap`): numeric keys ascending, string keys by UTF-8 bytes.
 */
import type { Label } from '../types.js';
import {
  compareUtf8,
  malformed,
  type ProtoReader,
  type ProtoWriter,
  WireType,
} from './protobuf.js';

/** Wire type 2: strings, bytes, messages, packed repeated scalars. */
export const LD: WireType = WireType.LengthDelimited;
/** Wire type 0. */
export const VARINT: WireType = WireType.Varint;
/** Wire type 1: doubles. */
export const I64: WireType = WireType.Bit64;

/** Bytes a non-negative safe integer takes as a varint. */
export function varintLength(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let len = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    len++;
    n = Math.floor(n / 128);
  }
  return len;
}

function int64Length(n: number): number {
  return n < 0 ? 10 : varintLength(n);
}

// ---- sizes --------------------------------------------------------------------------------
// Nested messages in hot paths (rows, terms, labels) are written with their length computed up
// front, as prost does with `encoded_len`, rather than with `fork()`/`join()`: each join copies
// the bytes written so far into a new array, so a fork per row made encoding a 100,000-row LP
// spend most of its time copying and collecting garbage.

/** Bytes of a field key (tag). */
function tagLength(field: number): number {
  return field < 16 ? 1 : field < 2048 ? 2 : 3;
}

/** Bytes of a length-delimited field whose body is `bodyLength` bytes. */
export function ldLength(field: number, bodyLength: number): number {
  return tagLength(field) + varintLength(bodyLength) + bodyLength;
}

/** UTF-8 byte length of a string (a lone surrogate counts as U+FFFD, as TextEncoder writes it). */
function utf8Length(s: string): number {
  let len = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        len += 4;
        i++;
      } else len += 3;
    } else len += 3;
  }
  return len;
}

/** Bytes of a plain `string` field (omitted when empty). */
export function stringLength(field: number, value: string): number {
  return value === '' ? 0 : ldLength(field, utf8Length(value));
}

/** Bytes of an `optional string` field. */
function optionalStringLength(field: number, value: string | undefined): number {
  return value === undefined ? 0 : ldLength(field, utf8Length(value));
}

/** Bytes of a plain `double` field. */
export function doubleLength(field: number, value: number): number {
  return value === 0 ? 0 : tagLength(field) + 8;
}

/** Bytes of a packed `repeated uint64` field. */
export function packedU64Length(field: number, values: readonly number[]): number {
  if (values.length === 0) return 0;
  let len = 0;
  for (const v of values) len += varintLength(v);
  return ldLength(field, len);
}

function packedI64Body(values: readonly number[]): number {
  let len = 0;
  for (const v of values) len += int64Length(v);
  return len;
}

/** Bytes of a `map<string, string>` field. */
export function stringMapLength(field: number, record: Readonly<Record<string, string>>): number {
  let len = 0;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    len += ldLength(field, stringLength(1, key) + stringLength(2, record[key] as string));
  }
  return len;
}

// ---- write: scalars -----------------------------------------------------------------------

/** A plain (non-optional) `double`: omitted when `== 0` (so `-0` too). */
export function writeDouble(w: ProtoWriter, field: number, value: number): void {
  if (value !== 0) w.tag(field, I64).double(value);
}

/** An `optional double` or a `oneof` double: written whenever present, `0` and `-0` included. */
export function writeOptionalDouble(
  w: ProtoWriter,
  field: number,
  value: number | undefined
): void {
  if (value !== undefined) w.tag(field, I64).double(value);
}

/** A plain `bool`: omitted when false. */
export function writeBool(w: ProtoWriter, field: number, value: boolean): void {
  if (value) w.tag(field, VARINT).bool(true);
}

/** An `optional bool`: written whenever present. */
export function writeOptionalBool(w: ProtoWriter, field: number, value: boolean | undefined): void {
  if (value !== undefined) w.tag(field, VARINT).bool(value);
}

/** An enum field: omitted when 0. */
export function writeEnum(w: ProtoWriter, field: number, value: number): void {
  if (value !== 0) w.tag(field, VARINT).uint32(value);
}

/** A plain `string`: omitted when empty. */
export function writeString(w: ProtoWriter, field: number, value: string): void {
  if (value !== '') w.tag(field, LD).string(value);
}

/** An `optional string`: written whenever present, `''` included. */
export function writeOptionalString(
  w: ProtoWriter,
  field: number,
  value: string | undefined
): void {
  if (value !== undefined) w.tag(field, LD).string(value);
}

/** `repeated uint64`, packed; nothing when empty. */
export function writePackedU64(w: ProtoWriter, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  let len = 0;
  for (const v of values) len += varintLength(v);
  w.tag(field, LD).uint32(len);
  for (const v of values) w.u64(v);
}

/** `repeated int64`, packed; nothing when empty. */
function writePackedI64(w: ProtoWriter, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.tag(field, LD).uint32(packedI64Body(values));
  for (const v of values) w.i64(v);
}

/** `repeated double`, packed (each element as is: `-0` stays `-0`); nothing when empty. */
export function writePackedDouble(w: ProtoWriter, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.tag(field, LD).uint32(values.length * 8);
  for (const v of values) w.double(v);
}

// ---- write: maps --------------------------------------------------------------------------

/** `map<string, string>`, entries sorted by UTF-8 key. */
export function writeStringMap(
  w: ProtoWriter,
  field: number,
  record: Readonly<Record<string, string>>
): void {
  const keys = Object.keys(record);
  if (keys.length === 0) return;
  if (keys.length > 1) keys.sort(compareUtf8);
  for (const key of keys) {
    const value = record[key] as string;
    w.tag(field, LD).uint32(stringLength(1, key) + stringLength(2, value));
    writeString(w, 1, key);
    writeString(w, 2, value);
  }
}

/** Entries of a numeric-keyed map, sorted by key. */
export function sortedEntries<V>(map: ReadonlyMap<number, V>): [number, V][] {
  const entries = [...map];
  entries.sort((a, b) => a[0] - b[0]);
  return entries;
}

/** A copy of a numeric-keyed map, ascending by key (v2 maps arrive sorted; v1 ones may not). */
export function sortedMap<V>(map: ReadonlyMap<number, V>): Map<number, V> {
  return new Map(sortedEntries(map));
}

/** Bytes of a `uint64` map key inside an entry (omitted when 0). */
function keyLength(key: number): number {
  return key === 0 ? 0 : 1 + varintLength(key);
}

/**
 * Writes the head of a `map<uint64, Message>` entry — tag, entry length, key, and the value's
 * tag and length — for a value whose body is `bodyLength` bytes. prost leaves out a value equal
 * to its default, i.e. one whose encoding is empty; returns whether the body is to be written.
 */
export function writeEntryHead(
  w: ProtoWriter,
  field: number,
  key: number,
  bodyLength: number
): boolean {
  const valueLength = bodyLength === 0 ? 0 : 1 + varintLength(bodyLength) + bodyLength;
  w.flush()
    .tag(field, LD)
    .uint32(keyLength(key) + valueLength);
  if (key !== 0) w.tag(1, VARINT).u64(key);
  if (bodyLength === 0) return false;
  w.tag(2, LD).uint32(bodyLength);
  return true;
}

/** One `map<uint64, double>` entry. */
export function writeU64DoubleEntry(
  w: ProtoWriter,
  field: number,
  key: number,
  value: number
): void {
  w.tag(field, LD).uint32(keyLength(key) + (value === 0 ? 0 : 9));
  if (key !== 0) w.tag(1, VARINT).u64(key);
  if (value !== 0) w.tag(2, I64).double(value);
}

/** `map<uint64, double>`, sorted by key. */
export function writeU64DoubleMap(
  w: ProtoWriter,
  field: number,
  map: ReadonlyMap<number, number>
): void {
  for (const [key, v] of sortedEntries(map)) writeU64DoubleEntry(w, field, key, v);
}

function boolEntryBody(key: number, value: boolean): number {
  return keyLength(key) + (value ? 2 : 0);
}

/** Bytes of a `map<uint64, bool>` field. */
export function boolMapLength(field: number, map: ReadonlyMap<number, boolean>): number {
  let len = 0;
  for (const [key, v] of map) len += ldLength(field, boolEntryBody(key, v));
  return len;
}

/** `map<uint64, bool>`, sorted by key. */
export function writeU64BoolMap(
  w: ProtoWriter,
  field: number,
  map: ReadonlyMap<number, boolean>
): void {
  for (const [key, v] of sortedEntries(map)) {
    w.tag(field, LD).uint32(boolEntryBody(key, v));
    if (key !== 0) w.tag(1, VARINT).u64(key);
    if (v) w.tag(2, VARINT).bool(true);
  }
}

/** An empty present message (`Some(Default::default())` in prost): the tag and length 0. */
export function writeEmptyMessage(w: ProtoWriter, field: number): void {
  w.tag(field, LD).uint32(0);
}

// ---- write: labels ------------------------------------------------------------------------

/** Whether a label has anything to write (OMMX keeps a label row only then). */
export function hasLabel(label: Label): boolean {
  if (label.name !== undefined || label.description !== undefined) return true;
  if (label.subscripts.length > 0) return true;
  for (const key in label.parameters) if (Object.hasOwn(label.parameters, key)) return true;
  return false;
}

/** Bytes of a `v2.ModelingLabel` body. */
export function labelBodyLength(label: Label): number {
  return (
    optionalStringLength(1, label.name) +
    (label.subscripts.length === 0 ? 0 : ldLength(2, packedI64Body(label.subscripts))) +
    stringMapLength(3, label.parameters) +
    optionalStringLength(4, label.description)
  );
}

/** `v2.ModelingLabel` body: name = 1 (optional), subscripts = 2, parameters = 3, description = 4. */
export function writeLabelBody(w: ProtoWriter, label: Label): void {
  writeOptionalString(w, 1, label.name);
  writePackedI64(w, 2, label.subscripts);
  writeStringMap(w, 3, label.parameters);
  writeOptionalString(w, 4, label.description);
}

/** A `map<uint64, ModelingLabel>` (field `field`) for the rows that have a label, by id. */
export function writeLabelMap(
  w: ProtoWriter,
  field: number,
  rows: readonly (Label & { readonly id: number })[]
): void {
  for (const row of rows) {
    if (!hasLabel(row)) continue;
    if (writeEntryHead(w, field, row.id, labelBodyLength(row))) writeLabelBody(w, row);
  }
}

// ---- read ---------------------------------------------------------------------------------

/**
 * Handles a field key no `case` matched: a known field number with the wrong wire type is
 * malformed; an unknown field is skipped (proto3).
 */
export function other(
  r: ProtoReader,
  key: number,
  message: string,
  known: readonly number[]
): void {
  const field = key >>> 3;
  if (known.includes(field))
    throw malformed(`field ${field} of ${message} has the wrong wire type ${key & 7}`);
  r.skipField(key);
}

/** Key of field `field` with wire type `wireType`, for `switch` cases. */
export function k(field: number, wireType: WireType): number {
  return ((field << 3) | wireType) >>> 0;
}

/** Reads a packed (or unpacked, one element) `repeated uint64` into `out`. */
export function readPackedU64(r: ProtoReader, key: number, out: number[]): void {
  if ((key & 7) === VARINT) {
    out.push(r.u64());
    return;
  }
  const end = r.enter();
  while (r.pos < end) out.push(r.u64());
  r.leave(end);
}

/** Reads a packed (or unpacked) `repeated int64` into `out`. */
export function readPackedI64(r: ProtoReader, key: number, out: number[]): void {
  if ((key & 7) === VARINT) {
    out.push(r.i64());
    return;
  }
  const end = r.enter();
  while (r.pos < end) out.push(r.i64());
  r.leave(end);
}

/** Reads a packed (or unpacked) `repeated double` into `out`. */
export function readPackedDouble(r: ProtoReader, key: number, out: number[]): void {
  if ((key & 7) === I64) {
    out.push(r.double());
    return;
  }
  const end = r.enter();
  if ((end - r.pos) % 8 !== 0)
    throw malformed('a packed double field is not a multiple of 8 bytes');
  while (r.pos < end) out.push(r.double());
  r.leave(end);
}

/** Sets `record[key] = value` as an own data property (also for the key `__proto__`). */
function setRecord(record: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else record[key] = value;
}

/** Reads one `map<string, string>` entry into `record` (last entry for a key wins). */
export function readStringMapEntry(r: ProtoReader, record: Record<string, string>): void {
  const end = r.enter();
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD)) key = r.string();
    else if (t === k(2, LD)) value = r.string();
    else other(r, t, 'a map<string, string> entry', [1, 2]);
  }
  r.leave(end);
  setRecord(record, key, value);
}

/** Reads one `map<uint64, double>` entry. */
export function readU64DoubleEntry(r: ProtoReader, map: Map<number, number>): void {
  const end = r.enter();
  let key = 0;
  let value = 0;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) key = r.u64();
    else if (t === k(2, I64)) value = r.double();
    else other(r, t, 'a map<uint64, double> entry', [1, 2]);
  }
  r.leave(end);
  map.set(key, value);
}

/** Reads one `map<uint64, bool>` entry. */
export function readU64BoolEntry(r: ProtoReader, map: Map<number, boolean>): void {
  const end = r.enter();
  let key = 0;
  let value = false;
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, VARINT)) key = r.u64();
    else if (t === k(2, VARINT)) value = r.bool();
    else other(r, t, 'a map<uint64, bool> entry', [1, 2]);
  }
  r.leave(end);
  map.set(key, value);
}

/**
 * Reads one `map<uint64, Message>` entry (the reader at its length prefix) into `into`; a
 * missing key is 0 and a missing value is `makeDefault()` (prost leaves both out when default).
 * A repeated key replaces the earlier entry, as in protobuf map semantics.
 */
export function readEntryInto<V>(
  r: ProtoReader,
  into: Map<number, V>,
  message: string,
  readValue: (r: ProtoReader) => V,
  makeDefault: () => V
): void {
  const end = r.enter();
  let key = 0;
  let value: V | undefined;
  let seen = false;
  while (r.pos < end) {
    const t = r.key();
    if (t === KEY_1_VARINT) key = r.u64();
    else if (t === KEY_2_LD) {
      value = readValue(r);
      seen = true;
    } else other(r, t, message, [1, 2]);
  }
  r.leave(end);
  into.set(key, seen ? (value as V) : makeDefault());
}

const KEY_1_VARINT = (1 << 3) | WireType.Varint;
const KEY_2_LD = (2 << 3) | WireType.LengthDelimited;

/** `T` with its properties writable: a model row or root while a reader builds it. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A mutable label under construction. */
export interface LabelDraft {
  name?: string;
  subscripts: number[];
  parameters: Record<string, string>;
  description?: string;
}

/** A label with nothing set. */
export function emptyLabel(): LabelDraft {
  return { subscripts: [], parameters: {} };
}

/** Reads a `v2.ModelingLabel` (the reader at its length prefix). */
export function readLabel(r: ProtoReader): LabelDraft {
  const label = emptyLabel();
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    switch (t) {
      case k(1, LD):
        label.name = r.string();
        break;
      case k(2, LD):
      case k(2, VARINT):
        readPackedI64(r, t, label.subscripts);
        break;
      case k(3, LD):
        readStringMapEntry(r, label.parameters);
        break;
      case k(4, LD):
        label.description = r.string();
        break;
      default:
        other(r, t, 'ModelingLabel', [1, 2, 3, 4]);
    }
  }
  r.leave(end);
  return label;
}

/** Copies a label's fields onto a row (leaving absent optional fields absent). */
export function withLabel<T extends object>(row: T, label: LabelDraft | undefined): T & Label {
  // Properties are added to `row` in one fixed order (no temporary objects): decoding a large
  // payload is dominated by allocation, and rows keep one hidden class.
  const out = row as T & LabelDraft;
  if (label === undefined) {
    out.subscripts = [];
    out.parameters = {};
    return out;
  }
  out.subscripts = label.subscripts;
  out.parameters = label.parameters;
  if (label.name !== undefined) out.name = label.name;
  if (label.description !== undefined) out.description = label.description;
  return out;
}

/** Sorts rows by id in place (skipped when already sorted, the usual case for v2 maps). */
export function sortById<T extends { readonly id: number }>(rows: T[]): T[] {
  for (let i = 1; i < rows.length; i++) {
    if ((rows[i - 1] as T).id > (rows[i] as T).id) {
      rows.sort((a, b) => a.id - b.id);
      break;
    }
  }
  return rows;
}

/** Throws when two rows share an id (v1 lists; v2 map keys cannot repeat after decoding). */
export function checkUniqueIds(rows: readonly { readonly id: number }[], what: string): void {
  for (let i = 1; i < rows.length; i++) {
    if ((rows[i - 1] as { id: number }).id === (rows[i] as { id: number }).id)
      throw malformed(`${what} id ${(rows[i] as { id: number }).id} appears more than once`);
  }
}
