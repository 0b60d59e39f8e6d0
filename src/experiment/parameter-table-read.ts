/**
 * @module experiment/parameter-table-read
 * Reads OMMX's run-parameter table blob (msgpack, ommx-reference §2.5) into columns, as strictly
 * as OMMX's reader. A well-formed table as writers produce it — keys `type` then `values`, run ids
 * and values in their msgpack forms — is read by a direct pass over the bytes; anything else goes
 * through the token reader, which accepts what is valid in another form and names what is not.
 */
import { RunledgerError } from '../errors.js';
import { MsgpackReader, msgpackKindName, type MsgpackToken } from '../formats/msgpack.js';

/** A column type, as `parameters` spells it (declared here too: that module imports this one). */
type ParameterType = 'bool' | 'int64' | 'float64' | 'string';
/** A cell value, as `parameters` holds it. */
type ParameterValue = boolean | number | bigint | string;

const PARAMETER_TYPES: readonly ParameterType[] = ['bool', 'int64', 'float64', 'string'];
const INT64_MAX = 2n ** 63n - 1n;

/** One column as read: its type, its lowest run id, run id → value (int64 cells as bigint). */
export interface ReadColumn {
  readonly type: ParameterType;
  readonly setBy: number;
  readonly values: Map<number, ParameterValue>;
}

/**
 * The columns of a run-parameter table blob, in stored order.
 * @param bytes - the blob
 * @returns name and column, per column
 * @throws RunledgerError `PAYLOAD_INVALID` naming what is wrong and the byte offset
 */
export function readRunParameterColumns(bytes: Uint8Array): [string, ReadColumn][] {
  return directRead(bytes) ?? strictRead(bytes);
}

// ---- the direct pass ---------------------------------------------------------------------------

/**
 * The table read in one pass over the bytes, as the writers lay it out; undefined at the first
 * thing out of that layout (valid or not), for the token reader to judge. A string with U+FFFD is
 * left to it too: it tells a real U+FFFD from invalid UTF-8.
 */
function directRead(bytes: Uint8Array): [string, ReadColumn][] | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = buf.length;
  let pos = 0;
  const map = (): number => {
    if (pos >= end) return -1;
    const b = buf[pos] as number;
    if (b >= 0x80 && b <= 0x8f) {
      pos++;
      return b & 0x0f;
    }
    if (b === 0xde && pos + 3 <= end) {
      pos += 3;
      return buf.readUInt16BE(pos - 2);
    }
    if (b === 0xdf && pos + 5 <= end) {
      pos += 5;
      return buf.readUInt32BE(pos - 4);
    }
    return -1;
  };
  const str = (): string | undefined => {
    if (pos >= end) return undefined;
    const b = buf[pos] as number;
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) {
      length = b & 0x1f;
      pos += 1;
    } else if (b === 0xd9 && pos + 2 <= end) {
      length = buf[pos + 1] as number;
      pos += 2;
    } else if (b === 0xda && pos + 3 <= end) {
      length = buf.readUInt16BE(pos + 1);
      pos += 3;
    } else if (b === 0xdb && pos + 5 <= end) {
      length = buf.readUInt32BE(pos + 1);
      pos += 5;
    } else {
      return undefined;
    }
    if (pos + length > end) return undefined;
    const s = buf.toString('utf8', pos, pos + length);
    pos += length;
    return s.includes('\ufffd') ? undefined : s;
  };
  if (map() !== 1 || str() !== 'columns') return undefined;
  const count = map();
  if (count < 0) return undefined;
  const columns: [string, ReadColumn][] = [];
  const seen = new Set<string>();
  for (let c = 0; c < count; c++) {
    const name = str();
    if (name === undefined || seen.has(name)) return undefined;
    seen.add(name);
    if (map() !== 2 || str() !== 'type') return undefined;
    const type = str() as ParameterType | undefined;
    if (type === undefined || !PARAMETER_TYPES.includes(type)) return undefined;
    if (str() !== 'values') return undefined;
    const n = map();
    if (n <= 0) return undefined;
    const values = new Map<number, ParameterValue>();
    let setBy = Infinity;
    for (let i = 0; i < n; i++) {
      // The run id: a uint up to 2^32 − 1 here (larger ones go to the token reader).
      if (pos >= end) return undefined;
      const b = buf[pos] as number;
      let id: number;
      if (b <= 0x7f) {
        id = b;
        pos += 1;
      } else if (b === 0xcc && pos + 2 <= end) {
        id = buf[pos + 1] as number;
        pos += 2;
      } else if (b === 0xcd && pos + 3 <= end) {
        id = buf.readUInt16BE(pos + 1);
        pos += 3;
      } else if (b === 0xce && pos + 5 <= end) {
        id = buf.readUInt32BE(pos + 1);
        pos += 5;
      } else {
        return undefined;
      }
      const value = cell(type);
      if (value === undefined) return undefined;
      values.set(id, value);
      if (values.size !== i + 1) return undefined; // a run twice
      if (id < setBy) setBy = id;
    }
    columns.push([name, { type, setBy, values }]);
  }
  return pos === end ? columns : undefined;

  function cell(type: ParameterType): ParameterValue | undefined {
    if (pos >= end) return undefined;
    const b = buf[pos] as number;
    switch (type) {
      case 'float64':
        if (b !== 0xcb || pos + 9 > end) return undefined;
        pos += 9;
        return buf.readDoubleBE(pos - 8);
      case 'bool':
        if (b !== 0xc2 && b !== 0xc3) return undefined;
        pos += 1;
        return b === 0xc3;
      case 'string':
        return str();
      case 'int64': {
        if (b <= 0x7f || b >= 0xe0) {
          pos += 1;
          return BigInt(b <= 0x7f ? b : b - 0x100);
        }
        const size = INT_SIZES[b - 0xcc];
        if (size === undefined || pos + 1 + size > end) return undefined;
        const at = pos + 1;
        pos += 1 + size;
        switch (b) {
          case 0xcc:
            return BigInt(buf[at] as number);
          case 0xcd:
            return BigInt(buf.readUInt16BE(at));
          case 0xce:
            return BigInt(buf.readUInt32BE(at));
          case 0xcf: {
            const v = buf.readBigUInt64BE(at);
            return v > INT64_MAX ? undefined : v;
          }
          case 0xd0:
            return BigInt(buf.readInt8(at));
          case 0xd1:
            return BigInt(buf.readInt16BE(at));
          case 0xd2:
            return BigInt(buf.readInt32BE(at));
          default:
            return buf.readBigInt64BE(at);
        }
      }
    }
  }
}

/** Bytes after the marker of uint8/16/32/64 and int8/16/32/64 (0xcc…0xd3). */
const INT_SIZES: readonly (number | undefined)[] = [1, 2, 4, 8, 1, 2, 4, 8];

// ---- the token reader --------------------------------------------------------------------------

/** A strict token reader whose errors name the run-parameter table and the byte offset. */
function tableReader(bytes: Uint8Array): MsgpackReader {
  return new MsgpackReader(
    bytes,
    (why, at, cause) =>
      new RunledgerError(
        'PAYLOAD_INVALID',
        `The run-parameter table (msgpack) ${why} at byte ${at}.`,
        {
          data: { offset: at },
          cause,
        }
      )
  );
}

function readMap(r: MsgpackReader, what: string): number {
  const at = r.pos;
  const t = r.token();
  if (t.kind !== 'map') r.fail(`has ${msgpackKindName(t.kind)} where ${what} map belongs`, at);
  return t.size;
}

function readStr(r: MsgpackReader, what: string): string {
  const at = r.pos;
  const t = r.token();
  if (t.kind !== 'str') r.fail(`has ${msgpackKindName(t.kind)} where ${what} belongs`, at);
  return t.value;
}

function strictRead(bytes: Uint8Array): [string, ReadColumn][] {
  const r = tableReader(bytes);
  const columns: [string, ReadColumn][] = [];
  let sawColumns = false;
  const topSize = readMap(r, 'the top-level');
  for (let i = 0; i < topSize; i++) {
    const at = r.pos;
    const key = readStr(r, 'a field name');
    if (key !== 'columns') r.fail(`has an unknown field ${JSON.stringify(key)}`, at);
    if (sawColumns) r.fail('has the field "columns" twice', at);
    sawColumns = true;
    const count = readMap(r, 'the "columns"');
    const seen = new Set<string>();
    for (let j = 0; j < count; j++) {
      const nameAt = r.pos;
      const name = readStr(r, 'a column name');
      if (seen.has(name)) r.fail(`has the column ${JSON.stringify(name)} twice`, nameAt);
      seen.add(name);
      columns.push([name, readColumn(r, name)]);
    }
  }
  if (!sawColumns) r.fail('has no "columns" field', 0);
  if (r.remaining > 0) r.fail(`has ${r.remaining} trailing byte(s) after its value`);
  return columns;
}

function readColumn(r: MsgpackReader, name: string): ReadColumn {
  const subject = `column ${JSON.stringify(name)}`;
  let type: ParameterType | undefined;
  let cells: { id: number; token: MsgpackToken; at: number }[] | undefined;
  const size = readMap(r, `the ${subject}`);
  for (let i = 0; i < size; i++) {
    const at = r.pos;
    const key = readStr(r, `a field name in ${subject}`);
    if (key === 'type') {
      if (type !== undefined) r.fail(`has the field "type" twice in ${subject}`, at);
      const typeAt = r.pos;
      const t = readStr(r, `the type of ${subject}`);
      if (!(PARAMETER_TYPES as readonly string[]).includes(t)) {
        r.fail(`has the unknown type ${JSON.stringify(t)} in ${subject}`, typeAt);
      }
      type = t as ParameterType;
    } else if (key === 'values') {
      if (cells !== undefined) r.fail(`has the field "values" twice in ${subject}`, at);
      cells = [];
      const ids = new Set<number>();
      const n = readMap(r, `the values of ${subject}`);
      for (let j = 0; j < n; j++) {
        const idAt = r.pos;
        const idToken = r.token();
        if (idToken.kind !== 'uint') {
          r.fail(`has ${msgpackKindName(idToken.kind)} where a run id (uint) belongs`, idAt);
        }
        // Only uint64 (a bigint) can go beyond 2^53 − 1.
        if (typeof idToken.value === 'bigint' && idToken.value > BigInt(Number.MAX_SAFE_INTEGER)) {
          r.fail(`has the run id ${idToken.value}, beyond 2^53 − 1`, idAt);
        }
        const id = Number(idToken.value);
        if (ids.has(id)) r.fail(`has run ${id} twice in ${subject}`, idAt);
        ids.add(id);
        const valueAt = r.pos;
        const token = r.token();
        // No column type holds a map or an array; refuse it before its items are misread.
        if (token.kind === 'map' || token.kind === 'array') {
          r.fail(`has ${msgpackKindName(token.kind)} as a value in ${subject}`, valueAt);
        }
        cells.push({ id, token, at: valueAt });
      }
    } else {
      r.fail(`has an unknown field ${JSON.stringify(key)} in ${subject}`, at);
    }
  }
  if (type === undefined) r.fail(`has no "type" in ${subject}`);
  if (cells === undefined) r.fail(`has no "values" in ${subject}`);
  if (cells.length === 0) r.fail(`has no values in ${subject}`);
  const values = new Map<number, ParameterValue>();
  let setBy = Infinity;
  for (const { id, token, at } of cells) {
    values.set(id, cellValue(r, token, type, subject, at));
    if (id < setBy) setBy = id;
  }
  return { type, setBy, values };
}

function cellValue(
  r: MsgpackReader,
  t: MsgpackToken,
  type: ParameterType,
  subject: string,
  at: number
): ParameterValue {
  if (type === 'bool' && t.kind === 'bool') return t.value;
  if (type === 'string' && t.kind === 'str') return t.value;
  if (type === 'float64' && t.kind === 'float64') return t.value;
  if (type === 'int64' && (t.kind === 'uint' || t.kind === 'int')) {
    const n = BigInt(t.value);
    if (n > INT64_MAX) r.fail(`has ${n}, beyond int64, in ${subject}`, at);
    return n;
  }
  const extra = type === 'float64' && t.kind === 'float32' ? ' (OMMX requires float64)' : '';
  return r.fail(`has ${msgpackKindName(t.kind)} in the ${type} ${subject}${extra}`, at);
}
