/**
 * @module tables/arrow
 * Arrow tables in and out — the run-parameter table (OMMX's `run_parameters_df`, ommx-reference
 * §6), typed columns, IPC files — and tables as typed-array chunks, which queries read,
 * concatenation stacks and gathering copies into one record batch. The only module that imports
 * `apache-arrow`.
 */
import {
  Bool,
  DataType,
  Field,
  Float64,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  Schema,
  Struct,
  RecordBatchReader,
  Table,
  tableToIPC,
  isArrowTable,
  Type,
  Utf8,
  type Data,
  type Vector,
} from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';

/**
 * One parameter column as the run-parameter table reads it: its name, its type, and its value
 * for each run id that has one (experiment/parameters' `ParameterTable` gives these).
 */
export interface ParameterColumnSource {
  readonly name: string;
  readonly type: 'bool' | 'int64' | 'float64' | 'string';
  readonly values: ReadonlyMap<number, boolean | number | bigint | string>;
}

/** Where the run-parameter table's columns come from. */
export interface ParameterSource {
  /** @returns every parameter column */
  columns(): readonly ParameterColumnSource[];
}

/** Rows ascending by run id, and the way back from a run id to its row. */
interface Rows {
  readonly ids: readonly number[];
  /** Run id → row, when run ids are small enough for an array; else `sparse` is set. */
  readonly dense: Int32Array | undefined;
  readonly sparse: Map<number, number> | undefined;
}

/**
 * Builds the run-parameter table: a non-null Int64 column `run_id` with one row per run,
 * ascending (the runs given plus every run with a value), then one nullable column per parameter
 * (bool → Bool, int64 → Int64, float64 → Float64, string → Utf8). A run without a value is null;
 * a logged NaN stays NaN (Arrow keeps validity apart from values, like pandas' `Float64`).
 *
 * Column order is OMMX's: first appearance walking the runs by run id, within a run by name
 * (code point order); e.g. run 0 {solver, time_limit}, run 1 {presolve, solver} → run_id, solver,
 * time_limit, presolve.
 *
 * Columns are written straight into typed arrays and validity bitmaps, so 100,000 runs × 20
 * parameters take well under a second.
 *
 * @param table - the parameters
 * @param runIds - every run of the experiment (runs without parameters still get a row)
 * @returns the Arrow table
 * @throws RunledgerError `ARGUMENT_INVALID` when a run id is not a non-negative safe integer
 * @example
 * ```ts
 * const df = runParametersTable(params, [0, 1, 2]);
 * df.getChild('solver')?.get(1); // 'scip', or null when run 1 logged no solver
 * ```
 */
export function runParametersTable(table: ParameterSource, runIds: readonly number[]): Table {
  const columns = table.columns();
  const rows = collectRows(columns, runIds);
  const n = rows.ids.length;
  const fields: Field[] = [new Field('run_id', new Int64(), false)];
  const children: Data[] = [dataOf(buildChunk('int64', n, (i) => rows.ids[i]!))];
  for (const column of orderColumns(columns)) {
    const data = columnData(column, rows);
    fields.push(new Field(column.name, data.type, true));
    children.push(data);
  }
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: n, nullCount: 0, children });
  return new Table([new RecordBatch(schema, struct)]);
}

/** The union of `runIds` and the table's run ids, ascending, with a run id → row lookup. */
function collectRows(columns: readonly ParameterColumnSource[], runIds: readonly number[]): Rows {
  let max = -1;
  let lowerBound = runIds.length; // no fewer rows than the largest single source of ids
  for (const id of runIds) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Run id ${String(id)} must be a non-negative safe integer.`,
        { data: { runId: id } }
      );
    }
    if (id > max) max = id;
  }
  for (const c of columns) {
    if (c.values.size > lowerBound) lowerBound = c.values.size;
    for (const id of c.values.keys()) if (id > max) max = id;
  }

  // Run ids are allocated from 0, so they are usually dense: index an array by run id then.
  if (max < Math.max(1 << 16, 8 * lowerBound)) {
    const dense = new Int32Array(max + 1);
    for (const id of runIds) dense[id] = 1;
    for (const c of columns) for (const id of c.values.keys()) dense[id] = 1;
    const ids: number[] = [];
    for (let id = 0; id <= max; id++) {
      if (dense[id] === 1) {
        dense[id] = ids.length;
        ids.push(id);
      } else {
        dense[id] = -1;
      }
    }
    return { ids, dense, sparse: undefined };
  }
  const set = new Set<number>(runIds);
  for (const c of columns) for (const id of c.values.keys()) set.add(id);
  const ids = [...set].sort((a, b) => a - b);
  const sparse = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) sparse.set(ids[i]!, i);
  return { ids, dense: undefined, sparse };
}

/** OMMX's order: by the first run that has the column, then by name within that run. */
function orderColumns(columns: readonly ParameterColumnSource[]): ParameterColumnSource[] {
  const first = new Map<ParameterColumnSource, number>();
  for (const c of columns) {
    let min = Infinity;
    for (const id of c.values.keys()) if (id < min) min = id;
    first.set(c, min);
  }
  return [...columns].sort(
    (a, b) => first.get(a)! - first.get(b)! || compareCodePoints(a.name, b.name)
  );
}

function columnData(column: ParameterColumnSource, rows: Rows): Data {
  const { dense, sparse } = rows;
  const byRow = new Array<Value | null>(rows.ids.length).fill(null);
  column.values.forEach((v, id) => {
    byRow[dense !== undefined ? dense[id]! : sparse!.get(id)!] = v;
  });
  const type = column.type === 'string' ? 'utf8' : column.type;
  return dataOf(buildChunk(type, byRow.length, (i) => byRow[i] ?? null));
}

const encoder = new TextEncoder();

function tooLong(bytes: number): RunledgerError {
  return new RunledgerError(
    'ARGUMENT_INVALID',
    'The text of one column exceeds 2 GiB, more than an Arrow Utf8 column holds.',
    { data: { bytes } }
  );
}

/** Arrow's Utf8 layout (n + 1 Int32 offsets, concatenated UTF-8) for strings by row. */
function utf8Column(byRow: readonly (string | undefined)[]): {
  valueOffsets: Int32Array;
  data: Uint8Array;
} {
  const n = byRow.length;
  const valueOffsets = new Int32Array(n + 1);
  let estimate = 0;
  for (let i = 0; i < n; i++) estimate += byRow[i]?.length ?? 0;
  let data = new Uint8Array(Math.max(16, estimate));
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const s = byRow[i];
    if (s !== undefined) {
      // Worst case 3 bytes per UTF-16 code unit; grow once for this string if that could overflow.
      if (pos + s.length * 3 > data.length) {
        const next = new Uint8Array(Math.max(data.length * 2, pos + s.length * 3));
        next.set(data.subarray(0, pos));
        data = next;
      }
      // ASCII is copied by hand (parameter values mostly are); anything else goes to the encoder.
      let j = 0;
      for (; j < s.length; j++) {
        const c = s.charCodeAt(j);
        if (c >= 0x80) break;
        data[pos + j] = c;
      }
      if (j === s.length) pos += j;
      else pos += encoder.encodeInto(s, data.subarray(pos)).written;
      if (pos > 0x7fffffff) throw tooLong(pos);
    }
    valueOffsets[i + 1] = pos;
  }
  return { valueOffsets, data: data.subarray(0, pos) };
}

/** `ARROW1`: an IPC file starts with it (padded to 8 bytes) and ends with it. */
const ARROW_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31] as const;

/**
 * Writes a table as an Arrow IPC file (`application/vnd.apache.arrow.file`), which pyarrow,
 * polars and DuckDB read. The same table (same schema, same record batches) gives the same bytes.
 * @param table - an apache-arrow `Table`
 * @returns the file bytes
 * @throws RunledgerError `ARGUMENT_INVALID` for anything but a table apache-arrow can write
 * @example
 * ```ts
 * await writeFile('runs.arrow', tableToArrowFile(sealed.runParametersDf()));
 * ```
 */
export function tableToArrowFile(table: Table): Uint8Array {
  // isArrowTable, not instanceof: it also accepts a table from another copy of apache-arrow.
  if (!isArrowTable(table)) {
    const data = { type: table === null ? 'null' : typeof table };
    const message = 'Only apache-arrow Tables can be written as Arrow files.';
    throw new RunledgerError('ARGUMENT_INVALID', message, { data });
  }
  try {
    return tableToIPC(table, 'file');
  } catch (cause) {
    throw new RunledgerError('ARGUMENT_INVALID', 'The Arrow table cannot be written as IPC.', {
      cause,
    });
  }
}

/**
 * Reads an Arrow IPC file. The framing (`ARROW1` at both ends) is checked first, since
 * apache-arrow reads unknown bytes as an empty table, and the record batches the footer lists
 * are read one by one: `tableFromIPC` loops forever on some damaged files (apache-arrow 21.2.0).
 * Arrow has no checksum, so damage inside a batch is not always detected; attachments are read
 * through their digest, which keeps accidental damage out.
 * @param bytes - the file bytes (copied: the table shares no memory with the caller)
 * @returns the table
 * @throws RunledgerError `PAYLOAD_INVALID` when the bytes are not an Arrow IPC file
 * @example
 * ```ts
 * const t = tableFromArrowFile(await readFile('runs.arrow'));
 * ```
 */
export function tableFromArrowFile(bytes: Uint8Array): Table {
  const end = bytes.byteLength - ARROW_MAGIC.length;
  if (
    bytes.byteLength < 2 * 8 + ARROW_MAGIC.length ||
    ARROW_MAGIC.some((b, i) => bytes[i] !== b || bytes[end + i] !== b)
  ) {
    const message = 'The bytes are not an Arrow IPC file (no ARROW1 magic at both ends).';
    throw new RunledgerError('PAYLOAD_INVALID', message, { data: { size: bytes.byteLength } });
  }
  try {
    const reader = RecordBatchReader.from(new Uint8Array(bytes));
    if (!reader.isFile()) throw new Error('apache-arrow did not open the bytes as an IPC file');
    reader.open();
    const batches: RecordBatch[] = [];
    for (let i = 0; i < reader.numRecordBatches; i++) {
      const batch = reader.readRecordBatch(i);
      if (batch === null) throw new Error(`record batch ${i} of the footer is missing`);
      batches.push(batch);
    }
    return new Table(reader.schema, batches);
  } catch (cause) {
    throw new RunledgerError('PAYLOAD_INVALID', 'The Arrow IPC file does not parse.', {
      data: { size: bytes.byteLength },
      cause,
    });
  }
}

/** One column of {@link typedColumnsTable}. */
export interface TypedColumn {
  readonly name: string;
  readonly type: CellType;
  /** One value per row; null is a missing cell (int64 takes safe integers or bigints). */
  readonly values: readonly (Value | null)[];
}

/** The column types of runledger's tables. */
export type CellType = 'int64' | 'float64' | 'bool' | 'utf8';
type Value = number | bigint | boolean | string;

/**
 * The cells of one column in one batch, as buffers: what concatenation, queries and gathering
 * read instead of row objects. Row `i` is null when `validity` has bit `validityAt + i` clear;
 * else its value is `values[at + i]` (int64, float64), bit `at + i` of `values` (bool), or the
 * UTF-8 bytes of `values` from `valueOffsets[at + i]` to `valueOffsets[at + i + 1]` (utf8). The
 * buffers may be shared with other chunks (say one file's): `at` says where this one starts.
 */
export type ColumnChunk = {
  readonly length: number;
  /** Absent when no cell is null. */
  readonly validity: Uint8Array | undefined;
  readonly validityAt: number;
  readonly at: number;
} & (
  | { readonly type: 'int64'; readonly values: BigInt64Array; readonly valueOffsets: undefined }
  | { readonly type: 'float64'; readonly values: Float64Array; readonly valueOffsets: undefined }
  | { readonly type: 'bool'; readonly values: Uint8Array; readonly valueOffsets: undefined }
  | { readonly type: 'utf8'; readonly values: Uint8Array; readonly valueOffsets: Int32Array }
);

/**
 * A chunk with its fields in one order (so code reading many chunks sees one object shape).
 * @param c - the fields
 * @returns the chunk
 * @example
 * ```ts
 * columnChunk(chunk); // the same fields, in the one order
 * ```
 */
export function columnChunk(c: ColumnChunk): ColumnChunk {
  const { type, length, validity, validityAt, values, at, valueOffsets } = c;
  return { type, length, validity, validityAt, values, at, valueOffsets } as ColumnChunk;
}

/** A table as typed columns split in batches of rows: one chunk per column and batch. */
export interface ChunkedColumns {
  readonly names: readonly string[];
  readonly types: readonly CellType[];
  /** Rows in each batch. */
  readonly lengths: readonly number[];
  /** By column (as `names`), then by batch (as `lengths`). */
  readonly chunks: readonly (readonly ColumnChunk[])[];
}

function arrowType(type: CellType): DataType {
  const make = { int64: Int64, float64: Float64, bool: Bool, utf8: Utf8 }[type];
  return new make();
}

/** The cell type of an Arrow type (any int → int64, any float → float64), else undefined. */
function cellTypeOf(type: DataType): CellType | undefined {
  if (DataType.isInt(type)) return 'int64';
  if (DataType.isFloat(type)) return 'float64';
  if (DataType.isBool(type)) return 'bool';
  if (type.typeId === Type.Utf8) return 'utf8';
  return undefined;
}

/** A chunk from its cells, written straight into typed arrays and a validity bitmap. */
function buildChunk(type: CellType, n: number, cell: (i: number) => Value | null): ColumnChunk {
  const validity = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  const big = new BigInt64Array(type === 'int64' ? n : 0);
  const float = new Float64Array(type === 'float64' ? n : 0);
  const bits = new Uint8Array(type === 'bool' ? (n + 7) >> 3 : 0);
  const text = new Array<string | undefined>(type === 'utf8' ? n : 0);
  for (let i = 0; i < n; i++) {
    const v = cell(i);
    if (v === null) {
      nulls++;
      continue;
    }
    validity[i >> 3]! |= 1 << (i & 7);
    if (type === 'int64') big[i] = typeof v === 'bigint' ? v : BigInt(v as number);
    else if (type === 'float64') float[i] = Number(v);
    else if (type === 'bool') bits[i >> 3]! |= v === true ? 1 << (i & 7) : 0;
    else text[i] = String(v);
  }
  const utf8 = type === 'utf8' ? utf8Column(text) : undefined;
  const values = utf8?.data ?? { int64: big, float64: float, bool: bits, utf8: bits }[type];
  const fields = { type, length: n, validity: nulls === 0 ? undefined : validity, validityAt: 0 };
  return columnChunk({ ...fields, values, at: 0, valueOffsets: utf8?.valueOffsets } as ColumnChunk);
}

/** A chunk as Arrow column data (copied when it shares its buffers at an offset). */
function dataOf(c: ColumnChunk): Data {
  const shared = c.at !== 0 || c.validityAt !== 0 || (c.type === 'utf8' && c.valueOffsets[0] !== 0);
  const { type, length, validity, values, valueOffsets } = shared
    ? buildChunk(c.type, c.length, (i) => cellAt(c, i))
    : c;
  return makeData({
    type: arrowType(type),
    length,
    ...(validity === undefined ? { nullCount: 0 } : { nullBitmap: validity }),
    data: values,
    ...(valueOffsets === undefined ? {} : { valueOffsets }),
  } as unknown as Parameters<typeof makeData>[0]) as Data;
}

/** A one-batch table of named chunks, every field nullable. */
function tableOf(names: readonly string[], chunks: readonly ColumnChunk[], length: number): Table {
  const children = chunks.map(dataOf);
  const fields = names.map((name, i) => new Field(name, children[i]!.type, true));
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children });
  return new Table(schema, [new RecordBatch(schema, struct)]);
}

/**
 * A table from typed columns (all of one length), in the order given, as one record batch.
 * Int64 columns take safe integers or bigints.
 * @param columns - the columns
 * @returns the Arrow table
 * @throws RunledgerError `ARGUMENT_INVALID` when column lengths differ or names repeat
 * @example
 * ```ts
 * typedColumnsTable([{ name: 'run_id', type: 'int64', values: [0, 1] }]);
 * ```
 */
export function typedColumnsTable(columns: readonly TypedColumn[]): Table {
  const length = columns[0]?.values.length ?? 0;
  const names = new Set<string>();
  for (const c of columns) {
    if (c.values.length !== length || names.has(c.name)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Column ${JSON.stringify(c.name)} repeats or has ${c.values.length} rows instead of ${length}.`
      );
    }
    names.add(c.name);
  }
  const chunks = columns.map((c) => buildChunk(c.type, length, (i) => c.values[i] ?? null));
  return tableOf([...names], chunks, length);
}

/** A batch's column data as a chunk of its cell type (other int and float widths rebuilt). */
function chunkOf(data: Data, type: CellType): ColumnChunk {
  const t = data.type as DataType & { bitWidth?: number; isSigned?: boolean };
  const canonical =
    type === 'int64'
      ? t.bitWidth === 64 && t.isSigned === true && data.values instanceof BigInt64Array
      : type !== 'float64' || data.values instanceof Float64Array;
  if (!canonical) {
    const v = makeVector(data);
    return buildChunk(type, data.length, (i) => {
      const x = v.isValid(i) ? (v.get(i) as number | bigint) : null;
      return x === null ? null : type === 'int64' ? BigInt(x) : Number(x);
    });
  }
  const bitmap = data.nullBitmap;
  const allValid = data.nullCount === 0 || bitmap === undefined || bitmap.length === 0;
  // Arrow slices fixed-width values and offsets, not bitmaps (validity, bool values).
  return columnChunk({
    type,
    length: data.length,
    validity: allValid ? undefined : bitmap,
    validityAt: data.offset,
    values: data.values,
    at: type === 'bool' ? data.offset : 0,
    valueOffsets: data.valueOffsets,
  } as ColumnChunk);
}

/**
 * A table's columns as chunks, one per record batch, read from the Arrow buffers without
 * copying (other int and float widths are rebuilt as int64 and float64).
 * @param table - the table
 * @returns its columns
 * @throws RunledgerError `ARGUMENT_INVALID` for a column of a type other than int, float, bool,
 *   utf8
 * @example
 * ```ts
 * chunkedColumns(df).lengths.reduce((a, b) => a + b, 0) === df.numRows; // true
 * ```
 */
export function chunkedColumns(table: Table): ChunkedColumns {
  const names = table.schema.fields.map((f) => f.name);
  const types = table.schema.fields.map((f) => {
    const type = cellTypeOf(f.type);
    if (type !== undefined) return type;
    throw new RunledgerError('ARGUMENT_INVALID', `Column ${f.name} has an unsupported type.`, {
      data: { column: f.name },
    });
  });
  // A zero-row batch may hold no usable child: an empty chunk stands for it.
  const chunks = types.map((type, j) =>
    table.batches.map((b) =>
      b.numRows === 0 ? buildChunk(type, 0, () => null) : chunkOf(b.data.children[j] as Data, type)
    )
  );
  return { names, types, lengths: table.batches.map((b) => b.numRows), chunks };
}

/**
 * Whether row `i` of a chunk holds a value.
 * @param c - the chunk
 * @param i - a row of it
 * @returns false for a null cell
 * @example
 * ```ts
 * isValidAt(chunkedColumns(df).chunks[0]![0]!, 0);
 * ```
 */
export function isValidAt(c: ColumnChunk, i: number): boolean {
  const v = c.validity;
  const bit = c.validityAt + i;
  return v === undefined || ((v[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

const decoder = new TextDecoder();

/**
 * Row `i` of a chunk as a value: a bigint (int64), number, boolean or string; null when missing.
 * @param c - the chunk
 * @param i - a row of it
 * @returns the cell
 * @example
 * ```ts
 * cellAt(chunkedColumns(df).chunks[0]![0]!, 0); // 0n, run 0
 * ```
 */
export function cellAt(c: ColumnChunk, i: number): Value | null {
  if (!isValidAt(c, i)) return null;
  const at = c.at + i;
  if (c.type === 'int64' || c.type === 'float64') return c.values[at]!;
  if (c.type === 'bool') return ((c.values[at >> 3]! >> (at & 7)) & 1) === 1;
  const bytes = c.values;
  const start = c.valueOffsets[at]!;
  const end = c.valueOffsets[at + 1]!;
  // ASCII is decoded by hand: most cells are, and short.
  let s = '';
  for (let j = start; j < end; j++) {
    const b = bytes[j]!;
    if (b >= 0x80 || end - start > 32) return decoder.decode(bytes.subarray(start, end));
    s += String.fromCharCode(b);
  }
  return s;
}

/**
 * Rows gathered from chunks: row k of the result is row `local[k]` of chunk `batch[k]`. The rows
 * are read in `order`, chunk by chunk (`runs`): reading them in the result's order, sorted, jumps
 * all over the chunks' memory, and those cache misses cost more than the copying.
 */
function gather(
  chunks: readonly ColumnChunk[],
  { local, order, runs }: Placement,
  words: (values: ArrayBufferView) => Int32Array
): ColumnChunk {
  const type = chunks[0]?.type ?? 'utf8';
  const n = order.length;
  // Each loop below walks the runs: chunk c, and positions q of `order` (rows k) it gives.
  let validity: Uint8Array | undefined;
  let nulls = 0;
  if (chunks.some((c) => c.validity !== undefined)) {
    const bits = (validity = new Uint8Array((n + 7) >> 3));
    for (let r = 0; r < runs.length; r += 2) {
      const c = chunks[runs[r]!]!;
      for (let q = runs[r + 1]!, end = runs[r + 3] ?? n; q < end; q++) {
        const k = order[q]!;
        if (isValidAt(c, local[k]!)) bits[k >> 3]! |= 1 << (k & 7);
        else nulls++;
      }
    }
  }
  let values: BigInt64Array | Float64Array | Uint8Array;
  let valueOffsets: Int32Array | undefined;
  if (type === 'int64' || type === 'float64') {
    // Eight-byte cells are copied as two 32-bit words: no bigint is made, NaN payloads stay.
    values = type === 'int64' ? new BigInt64Array(n) : new Float64Array(n);
    const out = new Int32Array(values.buffer);
    for (let r = 0; r < runs.length; r += 2) {
      const c = chunks[runs[r]!]!;
      const from = words(c.values);
      const base = c.values.byteOffset / 4 + 2 * c.at;
      for (let q = runs[r + 1]!, end = runs[r + 3] ?? n; q < end; q++) {
        const k = order[q]!;
        const i = base + 2 * local[k]!;
        out[2 * k] = from[i]!;
        out[2 * k + 1] = from[i + 1]!;
      }
    }
  } else if (type === 'bool') {
    values = new Uint8Array((n + 7) >> 3);
    for (let r = 0; r < runs.length; r += 2) {
      const c = chunks[runs[r]!]!;
      for (let q = runs[r + 1]!, end = runs[r + 3] ?? n; q < end; q++) {
        const k = order[q]!;
        if (cellAt(c, local[k]!) === true) values[k >> 3]! |= 1 << (k & 7);
      }
    }
  } else {
    const offsets = (valueOffsets = new Int32Array(n + 1));
    for (let r = 0; r < runs.length; r += 2) {
      const { valueOffsets: o, at } = chunks[runs[r]!]!;
      for (let q = runs[r + 1]!, end = runs[r + 3] ?? n; q < end; q++) {
        const k = order[q]!;
        offsets[k + 1] = o![at + local[k]! + 1]! - o![at + local[k]!]!;
      }
    }
    for (let k = 0; k < n; k++) offsets[k + 1]! += offsets[k]!;
    if (offsets[n]! > 0x7fffffff) throw tooLong(offsets[n]!);
    const out = (values = new Uint8Array(offsets[n]!));
    for (let r = 0; r < runs.length; r += 2) {
      const {
        values: bytes,
        valueOffsets: o,
        at,
      } = chunks[runs[r]!]! as ColumnChunk & { type: 'utf8' };
      for (let q = runs[r + 1]!, end = runs[r + 3] ?? n; q < end; q++) {
        const k = order[q]!;
        const i = at + local[k]!;
        for (let j = o[i]!, to = offsets[k]!; j < o[i + 1]!; ) out[to++] = bytes[j++]!;
      }
    }
  }
  const fields = { type, length: n, validity: nulls === 0 ? undefined : validity, validityAt: 0 };
  return columnChunk({ ...fields, values, at: 0, valueOffsets } as ColumnChunk);
}

/**
 * Where row k of a gathered result comes from (row `local[k]` of its chunk); `order` is the rows
 * by source row, in `runs` of (chunk, first position in `order`).
 */
type Placement = { local: Int32Array; order: Int32Array; runs: readonly number[] };

/**
 * Some rows of chunked columns as one Arrow record batch: the rows at the given indices (counted
 * from 0 over all batches), in that order, or every row; the columns named, or all of them.
 * Column data is copied buffer to buffer.
 * @param columns - the columns
 * @param rows - row indices; every row when absent
 * @param names - the columns to keep, in this order; all when absent
 * @returns the table
 * @throws RunledgerError `ARGUMENT_INVALID` for an index that is not a row, or a name that is not
 *   a column
 * @example
 * ```ts
 * gatherColumns(chunkedColumns(df), [2, 0], ['run_id']);
 * ```
 */
export function gatherColumns(
  columns: ChunkedColumns,
  rows?: ArrayLike<number>,
  names: readonly string[] = columns.names
): Table {
  const total = columns.lengths.reduce((x, y) => x + y, 0);
  const n = rows?.length ?? total;
  const source = rows === undefined ? Int32Array.from({ length: n }, (_, k) => k) : rows;
  // The result's rows sorted by source row (a counting sort), so sources are read in order.
  const before = new Int32Array(total + 1);
  for (let k = 0; k < n; k++) {
    const r = source[k]!;
    if (!(Number.isInteger(r) && r >= 0 && r < total)) {
      throw new RunledgerError('ARGUMENT_INVALID', `Row ${r} is not a row of the table.`, {
        data: { row: r, rows: total },
      });
    }
    before[r + 1]!++;
  }
  for (let r = 0; r < total; r++) before[r + 1]! += before[r]!;
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[before[source[k]!]!++] = k;
  const local = new Int32Array(n);
  const runs: number[] = [];
  for (let q = 0, b = 0, start = 0; q < n; q++) {
    const k = order[q]!;
    const r = source[k]!;
    for (; r >= start + columns.lengths[b]!; b++) start += columns.lengths[b]!;
    if (runs.at(-2) !== b) runs.push(b, q);
    local[k] = r - start;
  }
  const placement = { local, order, runs };
  // One 32-bit view per buffer, whichever columns share it (making views is what costs).
  const views = new Map<ArrayBufferLike, Int32Array>();
  const words = ({ buffer }: ArrayBufferView): Int32Array => {
    const view = views.get(buffer) ?? new Int32Array(buffer, 0, buffer.byteLength >> 2);
    views.set(buffer, view);
    return view;
  };
  const chunks = names.map((name) => {
    const j = columns.names.indexOf(name);
    if (j < 0) throw new RunledgerError('ARGUMENT_INVALID', `No column ${name} to gather.`);
    const type = columns.types[j]!;
    return n === 0 ? buildChunk(type, 0, () => null) : gather(columns.chunks[j]!, placement, words);
  });
  return tableOf(names, chunks, n);
}

/**
 * Some columns of a table, in the order given, optionally renamed.
 * @param table - the table
 * @param columns - the names to keep
 * @param rename - the new name of each kept column
 * @returns a new table sharing the column data
 * @example
 * ```ts
 * selectColumns(df, ['run_id', 'params.seed'], (n) => n.replace(/^params\./, ''));
 * ```
 */
export function selectColumns(
  table: Table,
  columns: readonly string[],
  rename: (name: string) => string = (n) => n
): Table {
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    const v = table.getChild(c);
    if (v !== null) vectors[rename(c)] = v;
  }
  return new Table(vectors);
}

/**
 * The table with more names for some of its columns (the same data under a second name), each
 * added after the columns it has.
 * @param table - the table
 * @param aliases - new name → the existing column it names (a new name the table has is skipped)
 * @returns a new table sharing the column data
 * @example
 * ```ts
 * withAliases(df, new Map([['seed', 'params.seed']]));
 * ```
 */
export function withAliases(table: Table, aliases: ReadonlyMap<string, string>): Table {
  const vectors: Record<string, Vector> = {};
  for (const f of table.schema.fields) vectors[f.name] = table.getChild(f.name) as Vector;
  for (const [alias, source] of aliases) {
    const v = table.getChild(source);
    if (v !== null && !Object.hasOwn(vectors, alias)) vectors[alias] = v;
  }
  return new Table(vectors);
}

/**
 * Stacks chunked columns row-wise, columns in first-appearance order; the batches are the
 * parts' batches, sharing their chunks. A part without a column has nulls there. A column whose
 * type differs between parts is promoted — int64 with float64 becomes float64 — or, when not
 * promotable (say a string beside a number), becomes utf8 holding each value's text (bigints in
 * full, `NaN`, `true`), so no value is lost; only the chunks of another type are converted.
 * @param parts - the parts
 * @returns the columns of all of them
 * @example
 * ```ts
 * concatColumns([chunkedColumns(a), chunkedColumns(b)]).names;
 * ```
 */
export function concatColumns(parts: readonly ChunkedColumns[]): ChunkedColumns {
  const index = new Map<string, number>();
  const seen: Set<CellType>[] = [];
  for (const p of parts) {
    p.names.forEach((name, j) => {
      let i = index.get(name);
      if (i === undefined) index.set(name, (i = seen.push(new Set()) - 1));
      seen[i]!.add(p.types[j]!);
    });
  }
  const types = seen.map((s): CellType => {
    if (s.size === 1) return [...s][0]!;
    return s.size === 2 && s.has('int64') && s.has('float64') ? 'float64' : 'utf8';
  });
  const lengths = parts.flatMap((p) => p.lengths);
  const chunks = types.map(() => new Array<ColumnChunk | undefined>(lengths.length));
  let first = 0;
  for (const p of parts) {
    p.names.forEach((name, j) => {
      const i = index.get(name)!;
      const to = types[i]!;
      p.chunks[j]!.forEach((c, b) => {
        // Only a chunk of another type than the column's is converted.
        chunks[i]![first + b] =
          p.types[j] === to
            ? c
            : buildChunk(to, c.length, (r) => {
                const v = cellAt(c, r);
                return v === null ? null : to === 'utf8' ? String(v) : Number(v);
              });
      });
    });
    first += p.lengths.length;
  }
  // A part without a column has nulls there; all-null chunks of one length are shared.
  const nulls = new Map<string, ColumnChunk>();
  const filled = chunks.map((column, i) =>
    Array.from(column, (c, b) => {
      if (c !== undefined) return c;
      const key = `${types[i]}:${lengths[b]}`;
      const empty = nulls.get(key) ?? buildChunk(types[i]!, lengths[b]!, () => null);
      nulls.set(key, empty);
      return empty;
    })
  );
  return { names: [...index.keys()], types, lengths, chunks: filled };
}

/**
 * Stacks tables row-wise into one record batch, columns in first-appearance order; a table
 * without a column has nulls there, and a column whose type differs between tables is promoted
 * or kept as text as {@link concatColumns} says.
 * @param tables - tables of int, float, bool and utf8 columns
 * @returns one table
 * @throws RunledgerError `ARGUMENT_INVALID` for another column type
 * @example
 * ```ts
 * concatTables([await a.runsDf(), await b.runsDf()]).numRows;
 * ```
 */
export function concatTables(tables: readonly Table[]): Table {
  return gatherColumns(concatColumns(tables.map(chunkedColumns)));
}
