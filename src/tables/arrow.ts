/**
 * @module tables/arrow
 * The run-parameter table as an Apache Arrow table (OMMX's `run_parameters_df`, ommx-reference
 * §6). The only module that imports `apache-arrow`.
 */
import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  RecordBatchReader,
  Table,
  tableToIPC,
  isArrowTable,
  Utf8,
  vectorFromArray,
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

  const runIdData = new BigInt64Array(n);
  for (let i = 0; i < n; i++) runIdData[i] = BigInt(rows.ids[i]!);
  const fields: Field[] = [new Field('run_id', new Int64(), false)];
  const children: Data[] = [
    makeData({ type: new Int64(), length: n, nullCount: 0, data: runIdData }),
  ];

  for (const column of orderColumns(columns)) {
    const { type, data } = columnData(column, rows);
    fields.push(new Field(column.name, type, true));
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

function columnData(
  column: ParameterColumnSource,
  rows: Rows
): { type: Bool | Int64 | Float64 | Utf8; data: Data } {
  const n = rows.ids.length;
  const { dense, sparse } = rows;
  const validity = new Uint8Array((n + 7) >> 3);
  const nullCount = n - column.values.size;
  const base = { length: n, nullCount, nullBitmap: validity };
  const rowOf = (id: number): number => (dense !== undefined ? dense[id]! : sparse!.get(id)!);

  switch (column.type) {
    case 'int64': {
      const data = new BigInt64Array(n);
      column.values.forEach((v, id) => {
        const row = rowOf(id);
        validity[row >> 3]! |= 1 << (row & 7);
        data[row] = v as bigint;
      });
      const type = new Int64();
      return { type, data: makeData({ ...base, type, data }) };
    }
    case 'float64': {
      const data = new Float64Array(n);
      column.values.forEach((v, id) => {
        const row = rowOf(id);
        validity[row >> 3]! |= 1 << (row & 7);
        data[row] = v as number;
      });
      const type = new Float64();
      return { type, data: makeData({ ...base, type, data }) };
    }
    case 'bool': {
      const data = new Uint8Array((n + 7) >> 3);
      column.values.forEach((v, id) => {
        const row = rowOf(id);
        const bit = 1 << (row & 7);
        validity[row >> 3]! |= bit;
        if (v === true) data[row >> 3]! |= bit;
      });
      const type = new Bool();
      return { type, data: makeData({ ...base, type, data }) };
    }
    case 'string': {
      const byRow: (string | undefined)[] = new Array<string | undefined>(n);
      column.values.forEach((v, id) => {
        const row = rowOf(id);
        validity[row >> 3]! |= 1 << (row & 7);
        byRow[row] = v as string;
      });
      const { valueOffsets, data } = utf8Column(byRow);
      const type = new Utf8();
      return { type, data: makeData({ ...base, type, valueOffsets, data }) };
    }
  }
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
          'The string parameter values of one column exceed 2 GiB, more than an Arrow Utf8 column holds.',
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

/**
 * A table from typed columns (all of one length), in the order given. Int64 columns take safe
 * integers.
 * @param columns - the columns
 * @returns the Arrow table
 * @throws RunledgerError `ARGUMENT_INVALID` when column lengths differ or names repeat
 * @example
 * ```ts
 * typedColumnsTable([{ name: 'run_id', type: 'int64', values: [0, 1] }]);
 * ```
 */
export function typedColumnsTable(columns: readonly TypedColumn[]): Table {
  const vectors: Record<string, Vector> = {};
  const length = columns[0]?.values.length ?? 0;
  for (const c of columns) {
    if (c.values.length !== length || Object.prototype.hasOwnProperty.call(vectors, c.name)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Column ${JSON.stringify(c.name)} repeats or has ${c.values.length} rows instead of ${length}.`
      );
    }
    switch (c.type) {
      case 'int64':
        vectors[c.name] = vectorFromArray(
          c.values.map((v) =>
            v === null ? null : typeof v === 'bigint' ? v : BigInt(v as number)
          ),
          new Int64()
        );
        break;
      case 'float64':
        vectors[c.name] = vectorFromArray(c.values as (number | null)[], new Float64());
        break;
      case 'bool':
        vectors[c.name] = vectorFromArray(c.values as (boolean | null)[], new Bool());
        break;
      case 'utf8':
        vectors[c.name] = vectorFromArray(c.values as (string | null)[], new Utf8());
        break;
    }
  }
  return new Table(vectors);
}

/**
 * The rows of a table at the given indices, in that order (columns of the four types
 * {@link typedColumnsTable} builds: int64, float64, bool, utf8).
 * @param table - the table
 * @param rows - row indices
 * @returns a new table with the same columns
 * @throws RunledgerError `ARGUMENT_INVALID` for a column of another type
 * @example
 * ```ts
 * takeRows(df, [2, 0]);
 * ```
 */
export function takeRows(table: Table, rows: readonly number[]): Table {
  const columns: TypedColumn[] = table.schema.fields.map((f) => {
    const v = table.getChild(f.name);
    const type = Int64.isInt(f.type)
      ? 'int64'
      : Float64.isFloat(f.type)
        ? 'float64'
        : Bool.isBool(f.type)
          ? 'bool'
          : Utf8.isUtf8(f.type)
            ? 'utf8'
            : undefined;
    if (type === undefined || v === null) {
      throw new RunledgerError('ARGUMENT_INVALID', `Column ${f.name} has an unsupported type.`);
    }
    return {
      name: f.name,
      type,
      values: rows.map((i) =>
        v.isValid(i) ? (v.get(i) as number | bigint | boolean | string) : null
      ),
    };
  });
  return typedColumnsTable(columns);
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

type CellType = TypedColumn['type'];

/** The typed-column type of an Arrow field, or undefined for a type the tables never hold. */
function cellTypeOf(field: Field): CellType | undefined {
  if (Int64.isInt(field.type)) return 'int64';
  if (Float64.isFloat(field.type)) return 'float64';
  if (Bool.isBool(field.type)) return 'bool';
  if (Utf8.isUtf8(field.type)) return 'utf8';
  return undefined;
}

/** A cell as text, losing nothing: bigints in full, NaN and ±Infinity spelled out. */
function cellText(v: number | bigint | boolean | string): string {
  return typeof v === 'string' ? v : String(v);
}

/**
 * Stacks tables row-wise, columns in first-appearance order; a table without a column has nulls
 * there. A column whose type differs between tables is promoted — int64 with float64 becomes
 * float64 — or, when not promotable (say a string beside a number), becomes utf8 holding each
 * value's text (bigints in full, `NaN`, `true`), so no value is lost.
 * @param tables - tables of int64, float64, bool and utf8 columns
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
      const type = cellTypeOf(f);
      if (type === undefined) {
        throw new RunledgerError('ARGUMENT_INVALID', `Column ${f.name} has an unsupported type.`);
      }
      let types = seen.get(f.name);
      if (types === undefined) {
        order.push(f.name);
        seen.set(f.name, (types = new Set()));
      }
      types.add(type);
    }
  }
  const columns: TypedColumn[] = order.map((name) => {
    const types = seen.get(name) as Set<CellType>;
    const type: CellType =
      types.size === 1
        ? ([...types][0] as CellType)
        : types.size === 2 && types.has('int64') && types.has('float64')
          ? 'float64'
          : 'utf8';
    const values: (number | bigint | boolean | string | null)[] = [];
    for (const t of tables) {
      const v = t.getChild(name);
      for (let i = 0; i < t.numRows; i++) {
        if (v === null || !v.isValid(i)) {
          values.push(null);
          continue;
        }
        const cell = v.get(i) as number | bigint | boolean | string;
        values.push(type === 'utf8' ? cellText(cell) : type === 'float64' ? Number(cell) : cell);
      }
    }
    return { name, type, values };
  });
  return typedColumnsTable(columns);
}
