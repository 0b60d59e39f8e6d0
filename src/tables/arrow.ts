/**
 * @module tables/arrow
 * The run-parameter table as an Apache Arrow table (OMMX's `run_parameters_df`, ommx-reference
 * §6). The only module that imports `apache-arrow`.
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
  const children: Data[] = [buildData('int64', n, (i) => rows.ids[i]!)];
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
  return buildData(type, byRow.length, (i) => byRow[i] ?? null);
}

const encoder = new TextEncoder();

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
      if (pos > 0x7fffffff) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          'The text of one column exceeds 2 GiB, more than an Arrow Utf8 column holds.',
          { data: { bytes: pos } }
        );
      }
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
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      'Only apache-arrow Tables can be written as Arrow files.',
      {
        data: { type: table === null ? 'null' : typeof table },
      }
    );
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
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      'The bytes are not an Arrow IPC file (no ARROW1 magic at both ends).',
      {
        data: { size: bytes.byteLength },
      }
    );
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
  readonly type: 'int64' | 'float64' | 'bool' | 'utf8';
  /** One value per row; null is a missing cell (int64 takes safe integers or bigints). */
  readonly values: readonly (number | bigint | boolean | string | null)[];
}

type CellType = TypedColumn['type'];
type Value = number | bigint | boolean | string;

/**
 * The cells of one column in one record batch, as its Arrow buffers: what queries read instead
 * of row objects. Row `i` is valid when `validity` is absent or has bit `offset + i` set; its
 * value is `values[i]` (int64, float64), bit `offset + i` of `values` (bool), or the UTF-8 bytes
 * `values[valueOffsets[i]]` up to `values[valueOffsets[i + 1]]` (utf8).
 */
export type ColumnChunk = {
  readonly length: number;
  readonly offset: number;
  readonly validity: Uint8Array | undefined;
} & (
  | { readonly type: 'int64'; readonly values: BigInt64Array }
  | { readonly type: 'float64'; readonly values: Float64Array }
  | { readonly type: 'bool'; readonly values: Uint8Array }
  | { readonly type: 'utf8'; readonly values: Uint8Array; readonly valueOffsets: Int32Array }
);

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

function unsupported(name: string): RunledgerError {
  return new RunledgerError('ARGUMENT_INVALID', `Column ${name} has an unsupported type.`, {
    data: { column: name },
  });
}

/** A column's data from its cells: typed arrays and a validity bitmap, written directly. */
function buildData(type: CellType, n: number, cell: (i: number) => Value | null): Data {
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const present = (i: number, v: Value | null): v is Value => {
    if (v === null) {
      nullCount++;
      return false;
    }
    validity[i >> 3]! |= 1 << (i & 7);
    return true;
  };
  let data: BigInt64Array | Float64Array | Uint8Array;
  let valueOffsets: Int32Array | undefined;
  if (type === 'int64') {
    const out = (data = new BigInt64Array(n));
    for (let i = 0; i < n; i++) {
      const v = cell(i);
      if (present(i, v)) out[i] = typeof v === 'bigint' ? v : BigInt(v as number);
    }
  } else if (type === 'float64') {
    const out = (data = new Float64Array(n));
    for (let i = 0; i < n; i++) {
      const v = cell(i);
      if (present(i, v)) out[i] = Number(v);
    }
  } else if (type === 'bool') {
    const out = (data = new Uint8Array((n + 7) >> 3));
    for (let i = 0; i < n; i++) {
      const v = cell(i);
      if (present(i, v) && v === true) out[i >> 3]! |= 1 << (i & 7);
    }
  } else {
    const byRow = new Array<string | undefined>(n);
    for (let i = 0; i < n; i++) {
      const v = cell(i);
      if (present(i, v)) byRow[i] = String(v);
    }
    ({ valueOffsets, data } = utf8Column(byRow));
  }
  return dataOf(type, n, nullCount, validity, data, valueOffsets);
}

/** Column data of `type` from its buffers (no bitmap without a null). */
function dataOf(
  type: CellType,
  length: number,
  nullCount: number,
  nullBitmap: Uint8Array,
  data: BigInt64Array | Float64Array | Uint8Array,
  valueOffsets: Int32Array | undefined
): Data {
  return makeData({
    type: arrowType(type),
    length,
    nullCount,
    ...(nullCount === 0 ? {} : { nullBitmap }),
    data,
    ...(valueOffsets === undefined ? {} : { valueOffsets }),
  } as Parameters<typeof makeData>[0]) as Data;
}

/** A one-batch table of named column data, every field nullable. */
function tableOf(names: readonly string[], children: readonly Data[], length: number): Table {
  const fields = names.map((name, i) => new Field(name, children[i]!.type, true));
  const schema = new Schema(fields);
  const struct = makeData({
    type: new Struct(fields),
    length,
    nullCount: 0,
    children: [...children],
  });
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
  return tableOf(
    columns.map((c) => c.name),
    columns.map((c) => buildData(c.type, length, (i) => c.values[i] ?? null)),
    length
  );
}

/** Whether data already has the buffers a {@link ColumnChunk} of `type` reads. */
function isCanonical(data: Data, type: CellType): boolean {
  const t = data.type as DataType & { bitWidth?: number; isSigned?: boolean };
  if (type === 'int64')
    return t.bitWidth === 64 && t.isSigned === true && data.values instanceof BigInt64Array;
  if (type === 'float64') return data.values instanceof Float64Array;
  return true;
}

/** A batch's column data in the layout of its cell type (other int and float widths rebuilt). */
function canonicalData(data: Data, type: CellType): Data {
  if (isCanonical(data, type)) return data;
  const v = makeVector(data);
  return buildData(type, data.length, (i) => {
    if (!v.isValid(i)) return null;
    const x = v.get(i) as number | bigint;
    return type === 'int64' ? (typeof x === 'bigint' ? x : BigInt(x)) : Number(x);
  });
}

function chunkOf(data: Data, type: CellType): ColumnChunk {
  const bitmap = data.nullBitmap;
  const allValid = data.nullCount === 0 || bitmap === undefined || bitmap.length === 0;
  const { length, offset, values, valueOffsets } = data;
  const validity = allValid ? undefined : bitmap;
  return { type, length, offset, validity, values, valueOffsets } as ColumnChunk;
}

/** An empty or all-null column of `length` rows (zero buffers of the sizes Arrow expects). */
function nullData(type: CellType, length: number): Data {
  return buildData(type, length, () => null);
}

/** Each batch's data of column `index` (a zero-row batch may hold no usable child: rebuilt). */
function batchData(table: Table, index: number, type: CellType): Data[] {
  return table.batches.map((b) =>
    b.numRows === 0 ? nullData(type, 0) : canonicalData(b.data.children[index] as Data, type)
  );
}

/**
 * The cells of a column, one {@link ColumnChunk} per record batch (in batch order), read from
 * the Arrow buffers without copying (other int and float widths are rebuilt as int64, float64).
 * @param table - the table
 * @param name - a column of it
 * @returns its chunks; empty when the table has no such column
 * @throws RunledgerError `ARGUMENT_INVALID` for a column of a type other than int, float, bool,
 *   utf8
 * @example
 * ```ts
 * const total = columnChunks(df, 'metrics.gap').reduce((n, c) => n + c.length, 0);
 * ```
 */
export function columnChunks(table: Table, name: string): ColumnChunk[] {
  const index = table.schema.fields.findIndex((f) => f.name === name);
  const field = table.schema.fields[index];
  if (field === undefined) return [];
  const type = cellTypeOf(field.type);
  if (type === undefined) throw unsupported(name);
  return batchData(table, index, type).map((d) => chunkOf(d, type));
}

/**
 * Whether row `i` of a chunk holds a value.
 * @param chunk - the chunk
 * @param i - a row of it
 * @returns false for a null cell
 * @example
 * ```ts
 * isValidAt(columnChunks(df, 'metrics.gap')[0]!, 0);
 * ```
 */
export function isValidAt(chunk: ColumnChunk, i: number): boolean {
  const v = chunk.validity;
  if (v === undefined) return true;
  const bit = chunk.offset + i;
  return ((v[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

const decoder = new TextDecoder();

/** The text of row `i` of a utf8 chunk (ASCII decoded by hand: most cells are). */
function textAt(chunk: ColumnChunk & { readonly type: 'utf8' }, i: number): string {
  const bytes = chunk.values;
  const start = chunk.valueOffsets[i]!;
  const end = chunk.valueOffsets[i + 1]!;
  if (end - start > 24) return decoder.decode(bytes.subarray(start, end));
  let s = '';
  for (let j = start; j < end; j++) {
    const c = bytes[j]!;
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Row `i` of a chunk as a value: a bigint (int64), number, boolean or string; null when missing.
 * @param chunk - the chunk
 * @param i - a row of it
 * @returns the cell
 * @example
 * ```ts
 * cellAt(columnChunks(df, 'run_id')[0]!, 0); // 0n
 * ```
 */
export function cellAt(chunk: ColumnChunk, i: number): Value | null {
  if (!isValidAt(chunk, i)) return null;
  switch (chunk.type) {
    case 'int64':
    case 'float64':
      return chunk.values[i]!;
    case 'bool': {
      const bit = chunk.offset + i;
      return ((chunk.values[bit >> 3]! >> (bit & 7)) & 1) === 1;
    }
    case 'utf8':
      return textAt(chunk, i);
  }
}

/** Rows gathered from chunks: `batch[k]`, `local[k]` say where row k of the result comes from. */
function gather(
  chunks: readonly ColumnChunk[],
  type: CellType,
  batch: Int32Array,
  local: Int32Array
): Data {
  const n = batch.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const valid = (k: number): boolean => {
    if (isValidAt(chunks[batch[k]!]!, local[k]!)) {
      validity[k >> 3]! |= 1 << (k & 7);
      return true;
    }
    nullCount++;
    return false;
  };
  let data: BigInt64Array | Float64Array | Uint8Array;
  let valueOffsets: Int32Array | undefined;
  if (type === 'int64' || type === 'float64') {
    // Eight-byte cells are copied as two 32-bit words: no bigint is made, NaN payloads stay.
    data = type === 'int64' ? new BigInt64Array(n) : new Float64Array(n);
    const out = new Int32Array(data.buffer);
    const words = chunks.map(
      (c) => new Int32Array(c.values.buffer, c.values.byteOffset, c.length * 2)
    );
    for (let k = 0; k < n; k++) {
      if (!valid(k)) continue;
      const w = words[batch[k]!]!;
      const i = 2 * local[k]!;
      out[2 * k] = w[i]!;
      out[2 * k + 1] = w[i + 1]!;
    }
  } else if (type === 'bool') {
    data = new Uint8Array((n + 7) >> 3);
    for (let k = 0; k < n; k++) {
      if (valid(k) && cellAt(chunks[batch[k]!]!, local[k]!) === true) data[k >> 3]! |= 1 << (k & 7);
    }
  } else {
    const texts = chunks as readonly (ColumnChunk & { readonly type: 'utf8' })[];
    valueOffsets = new Int32Array(n + 1);
    let size = 0;
    for (let k = 0; k < n; k++) {
      if (valid(k)) {
        const o = texts[batch[k]!]!.valueOffsets;
        size += o[local[k]! + 1]! - o[local[k]!]!;
      }
      if (size > 0x7fffffff) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          'A text column exceeds 2 GiB, more than an Arrow Utf8 column holds.'
        );
      }
      valueOffsets[k + 1] = size;
    }
    const out = (data = new Uint8Array(size));
    for (let k = 0; k < n; k++) {
      const c = texts[batch[k]!]!;
      const start = c.valueOffsets[local[k]!]!;
      const length = valueOffsets[k + 1]! - valueOffsets[k]!;
      if (length > 16) out.set(c.values.subarray(start, start + length), valueOffsets[k]!);
      else for (let j = 0; j < length; j++) out[valueOffsets[k]! + j] = c.values[start + j]!;
    }
  }
  return dataOf(type, n, nullCount, validity, data, valueOffsets);
}

/**
 * The rows of a table at the given indices, in that order, as one record batch (columns of the
 * four types {@link typedColumnsTable} builds: int64, float64, bool, utf8; other int and float
 * widths come out as int64 and float64). Column data is copied buffer to buffer.
 * @param table - the table (any number of record batches)
 * @param rows - row indices, from 0 over the whole table
 * @returns a new table with the same columns
 * @throws RunledgerError `ARGUMENT_INVALID` for a column of another type, or an index that is
 *   not a row of the table
 * @example
 * ```ts
 * takeRows(df, [2, 0]);
 * ```
 */
export function takeRows(table: Table, rows: ArrayLike<number>): Table {
  const starts: number[] = [];
  let total = 0;
  for (const b of table.batches) {
    starts.push(total);
    total += b.numRows;
  }
  const n = rows.length;
  const batch = new Int32Array(n);
  const local = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    if (!(Number.isInteger(r) && r >= 0 && r < total)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Row ${r} is not a row of the table (it has ${total}).`,
        {
          data: { row: r, rows: total },
        }
      );
    }
    // The last batch starting at or before r (empty batches share their start with the next).
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= r) lo = mid;
      else hi = mid - 1;
    }
    batch[k] = lo;
    local[k] = r - starts[lo]!;
  }
  const names = table.schema.fields.map((f) => f.name);
  const children = table.schema.fields.map((f, index) => {
    const type = cellTypeOf(f.type);
    if (type === undefined) throw unsupported(f.name);
    return gather(
      batchData(table, index, type).map((d) => chunkOf(d, type)),
      type,
      batch,
      local
    );
  });
  return tableOf(names, children, n);
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

/** A cell as text, losing nothing: bigints in full, NaN and ±Infinity spelled out. */
function cellText(v: Value): string {
  return typeof v === 'string' ? v : String(v);
}

/** One batch's column data as the concatenated column's type (promoted, or as text). */
function convertData(data: Data, from: CellType, to: CellType): Data {
  if (from === to) return canonicalData(data, to);
  const chunk = chunkOf(canonicalData(data, from), from);
  return buildData(to, data.length, (i) => {
    const v = cellAt(chunk, i);
    return v === null ? null : to === 'utf8' ? cellText(v) : Number(v);
  });
}

/**
 * Stacks tables row-wise, columns in first-appearance order, as one record batch per input
 * batch: a column whose type every table agrees on keeps its data as it is (no copy); a table
 * without a column has nulls there. A column whose type differs between tables is promoted —
 * int64 with float64 becomes float64 — or, when not promotable (say a string beside a number),
 * becomes utf8 holding each value's text (bigints in full, `NaN`, `true`), so no value is lost;
 * only the batches of another type are converted.
 * @param tables - tables of int, float, bool and utf8 columns
 * @returns one table
 * @throws RunledgerError `ARGUMENT_INVALID` for another column type
 * @example
 * ```ts
 * concatTables([await a.runsDf(), await b.runsDf()]).numRows;
 * ```
 */
export function concatTables(tables: readonly Table[]): Table {
  const order: string[] = [];
  const seen = new Map<string, Set<CellType>>();
  for (const t of tables) {
    for (const f of t.schema.fields) {
      const type = cellTypeOf(f.type);
      if (type === undefined) throw unsupported(f.name);
      let types = seen.get(f.name);
      if (types === undefined) {
        order.push(f.name);
        seen.set(f.name, (types = new Set()));
      }
      types.add(type);
    }
  }
  if (order.length === 0) return typedColumnsTable([]);
  const types = order.map((name): CellType => {
    const s = seen.get(name)!;
    if (s.size === 1) return [...s][0]!;
    return s.size === 2 && s.has('int64') && s.has('float64') ? 'float64' : 'utf8';
  });
  const fields = order.map((name, j) => new Field(name, arrowType(types[j]!), true));
  const schema = new Schema(fields);
  const struct = new Struct(fields);
  const nulls = new Map<string, Data>();
  const batches: RecordBatch[] = [];
  for (const t of tables) {
    const index = new Map(t.schema.fields.map((f, i) => [f.name, i]));
    for (const b of t.batches) {
      const length = b.numRows;
      const children = order.map((name, j) => {
        const to = types[j]!;
        const i = index.get(name);
        if (i === undefined || length === 0) {
          // All-null columns of one length are the same data: shared, not rebuilt.
          const key = `${to}:${length}`;
          let d = nulls.get(key);
          if (d === undefined) nulls.set(key, (d = nullData(to, length)));
          return d;
        }
        return convertData(b.data.children[i] as Data, cellTypeOf(t.schema.fields[i]!.type)!, to);
      });
      batches.push(
        new RecordBatch(schema, makeData({ type: struct, length, nullCount: 0, children }))
      );
    }
  }
  if (batches.length === 0) {
    const children = types.map((type) => nullData(type, 0));
    batches.push(
      new RecordBatch(schema, makeData({ type: struct, length: 0, nullCount: 0, children }))
    );
  }
  return new Table(schema, batches);
}
