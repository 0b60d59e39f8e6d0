/**
 * @module experiment/parameter-encoder
 * The run-parameter table of an experiment's closed runs, encoded as runs close (the bytes
 * `encodeRunParameters` gives for them), so a checkpoint encodes only the runs closed since the
 * one before.
 */
import { compareCodePoints } from '../formats/code-points.js';
import { MsgpackWriter } from '../formats/msgpack-writer.js';
import {
  tableInternals,
  type ParameterCells,
  type ParameterTable,
  type ParameterType,
} from './parameters.js';

/** One column of the closed runs, encoded so far. */
interface EncodedColumn {
  /** The type in the closed runs' view: int64 until one of them logged a float. */
  type: ParameterType;
  /** Closed runs with a cell, and how many of those logged a float. */
  count: number;
  floats: number;
  /** The largest run id encoded: cells go in ascending run id order. */
  last: number;
  /** The cells (run id, value), in run id order. */
  body: MsgpackWriter;
}

/**
 * The run-parameter table of an experiment's closed runs, encoded as runs close: each column's
 * cells are appended once, so a checkpoint encodes only the runs closed since the last one
 * (a column is encoded again only when a closed run's float turns its int64 cells into float64,
 * or a run closes out of id order). The bytes are those of
 * {@link encodeRunParameters} over `table.onlyRuns(closed)`.
 *
 * @example
 * ```ts
 * const encoder = new RunParametersEncoder(table);
 * encoder.encode([0, 1, 2]); // the table of runs 0–2
 * encoder.encode([0, 1, 2, 3]); // appends run 3's cells
 * ```
 */
export class RunParametersEncoder {
  readonly #table: ParameterTable;
  #columns = new Map<string, EncodedColumn>();
  readonly #done = new Set<number>();
  #version = -1;
  #last: Uint8Array | undefined;

  /** @param table - the live table, open runs' cells included */
  constructor(table: ParameterTable) {
    this.#table = table;
  }

  /**
   * The table of the given runs (the closed ones: their cells never change).
   * @param closed - every closed run id, in any order
   * @returns the msgpack bytes
   */
  encode(closed: Iterable<number>): Uint8Array {
    const { columns, version } = tableInternals(this.#table);
    if (version !== this.#version) {
      // A cell was set or removed (a replay, a merge, a deleted run): start over.
      this.#columns.clear();
      this.#done.clear();
      this.#version = version;
      this.#last = undefined;
    }
    const fresh: number[] = [];
    for (const id of closed) if (!this.#done.has(id)) fresh.push(id);
    if (fresh.length === 0 && this.#last !== undefined) return this.#last;
    for (const id of fresh) this.#done.add(id);
    if (4 * fresh.length >= this.#done.size) {
      // Mostly new runs (the first checkpoint, a commit without one before): every column anew.
      this.#columns.clear();
      for (const [name, column] of columns) {
        const enc = this.#encodeColumn(column);
        if (enc !== undefined) this.#columns.set(name, enc);
      }
    } else {
      fresh.sort((a, b) => a - b);
      for (const [name, column] of columns) this.#append(name, column, fresh);
    }
    this.#last = this.#bytes();
    return this.#last;
  }

  /** Appends the cells of newly closed runs to a column (encoded anew when it must be). */
  #append(name: string, column: ParameterCells, fresh: readonly number[]): void {
    const enc = this.#columns.get(name);
    let added = 0;
    let floats = 0;
    let ordered = true;
    for (const id of fresh) {
      if (!column.values.has(id)) continue;
      added++;
      if (isFloat(column, id)) floats++;
      if (enc !== undefined && id < enc.last) ordered = false;
    }
    if (added === 0) return;
    if (enc === undefined || !ordered || enc.type !== viewType(column.type, enc.floats + floats)) {
      const again = this.#encodeColumn(column);
      if (again !== undefined) this.#columns.set(name, again);
      return;
    }
    for (const id of fresh) if (column.values.has(id)) writeCell(enc, column, id);
    enc.count += added;
    enc.floats += floats;
  }

  /** A column's cells of every closed run, from scratch; undefined when no closed run has one. */
  #encodeColumn(column: ParameterCells): EncodedColumn | undefined {
    const ids: number[] = [];
    let floats = 0;
    let sorted = true;
    for (const id of column.values.keys()) {
      if (!this.#done.has(id)) continue;
      if (ids.length > 0 && id < (ids[ids.length - 1] as number)) sorted = false;
      if (isFloat(column, id)) floats++;
      ids.push(id);
    }
    if (ids.length === 0) return undefined;
    if (!sorted) ids.sort((a, b) => a - b);
    const enc: EncodedColumn = {
      type: viewType(column.type, floats),
      count: ids.length,
      floats,
      last: -1,
      body: new MsgpackWriter(64 + ids.length * 12),
    };
    for (const id of ids) writeCell(enc, column, id);
    return enc;
  }

  #bytes(): Uint8Array {
    const names = [...this.#columns.keys()].sort(compareCodePoints);
    const bodies = names.map((n) => (this.#columns.get(n) as EncodedColumn).body.bytes());
    const w = new MsgpackWriter(64 + names.length * 64);
    w.mapHeader(1);
    w.str('columns');
    w.mapHeader(names.length);
    const heads: Uint8Array[] = [];
    for (const [i, name] of names.entries()) {
      const enc = this.#columns.get(name) as EncodedColumn;
      const h = new MsgpackWriter(32 + name.length * 3);
      h.str(name);
      h.mapHeader(2);
      h.str('type');
      h.str(enc.type);
      h.str('values');
      h.mapHeader(enc.count);
      heads[i] = h.bytes();
    }
    const top = w.bytes();
    let size = top.byteLength;
    for (let i = 0; i < names.length; i++) size += heads[i]!.byteLength + bodies[i]!.byteLength;
    const out = new Uint8Array(size);
    out.set(top, 0);
    let at = top.byteLength;
    for (let i = 0; i < names.length; i++) {
      out.set(heads[i]!, at);
      at += heads[i]!.byteLength;
      out.set(bodies[i]!, at);
      at += bodies[i]!.byteLength;
    }
    return out;
  }
}

/** Whether the run's cell of a column holds a float (in a float64 column, not logged as an int). */
function isFloat(column: ParameterCells, id: number): boolean {
  return column.type === 'float64' && column.ints?.has(id) !== true;
}

/** A column's type as the closed runs see it: int64 while none of them logged a float. */
function viewType(type: ParameterType, floats: number): ParameterType {
  if (type === 'float64' && floats === 0) return 'int64';
  return type;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Appends one cell (run id, value in the encoded column's type). */
function writeCell(enc: EncodedColumn, column: ParameterCells, id: number): void {
  const w = enc.body;
  w.uint(id);
  if (enc.type === 'float64') w.float64(Number(column.values.get(id)!));
  else if (enc.type === 'int64') {
    const v = column.ints?.get(id) ?? (column.values.get(id) as bigint);
    // The same bytes either way; the number form spares the writer's bigint arithmetic.
    w.int(v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v);
  } else if (enc.type === 'bool') w.bool(column.values.get(id) as boolean);
  else w.str(column.values.get(id) as string);
  enc.last = id;
}
