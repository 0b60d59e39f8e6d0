/**
 * @module experiment/parameters
 * Run parameters: the rules for names and values, the typed columns they form across runs, and
 * the OMMX run-parameter table blob (msgpack, ommx-reference §2.5) those columns are stored as.
 */
import { RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import { MsgpackWriter } from '../formats/msgpack-writer.js';
import { readRunParameterColumns } from './parameter-table-read.js';

/**
 * A value a run can log as a parameter. Stored normalised: `int64` cells as `bigint`, `float64`
 * cells as `number`.
 */
export type ParameterValue = boolean | number | bigint | string;

/** The type of a parameter column, spelled as in OMMX's run-parameter table. */
export type ParameterType = 'bool' | 'int64' | 'float64' | 'string';

/**
 * One column of a {@link ParameterTable}, as returned by {@link ParameterTable.columns}.
 *
 * @example
 * ```ts
 * const types = table.columns().map((c) => `${c.name}: ${c.type}`);
 * ```
 */
export interface ParameterColumn {
  /** The parameter name. */
  readonly name: string;
  /** The column type; every value has the matching JS type (`bigint` for int64). */
  readonly type: ParameterType;
  /** A run whose value fixed the column's type (the first, unless that run's value went away). */
  readonly setBy: number;
  /** Run id → value. A live view of the table: valid until the table changes. */
  readonly values: ReadonlyMap<number, ParameterValue>;
}

/** The longest parameter name accepted, in Unicode code points. */
export const PARAMETER_NAME_MAX_LENGTH = 256;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
// With the u flag a surrogate pair is one code point, so \p{Cs} only matches lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks a parameter name against runledger's rules (stricter than OMMX, which takes any string):
 * not empty, at most {@link PARAMETER_NAME_MAX_LENGTH} code points, no control characters
 * (U+0000–U+001F, U+007F–U+009F) and well-formed Unicode (no lone surrogates, which UTF-8 cannot
 * carry).
 *
 * @param name - the name to check
 * @throws RunledgerError `PARAMETER_INVALID` naming the rule the name breaks
 * @example
 * ```ts
 * validateParameterName('time_limit'); // ok
 * validateParameterName(''); // throws PARAMETER_INVALID
 * ```
 */
export function validateParameterName(name: unknown): asserts name is string {
  validateName(name, 'parameter', 'PARAMETER_INVALID');
}

/**
 * Checks a parameter, metric, tag or run name: a non-empty string of at most 256 characters, no control
 * characters, no lone surrogates.
 * @param name - the name to check
 * @param noun - `parameter`, `metric`, `tag` or `run`, for the message
 * @param code - the error code to throw
 * @throws RunledgerError with `code`, naming the rule the name breaks
 * @example
 * ```ts
 * validateName('loss', 'metric', 'METRIC_INVALID');
 * ```
 */
export function validateName(
  name: unknown,
  noun: 'parameter' | 'metric' | 'tag' | 'label' | 'attribute' | 'run',
  code: 'PARAMETER_INVALID' | 'METRIC_INVALID' | 'ARGUMENT_INVALID'
): asserts name is string {
  const Noun = noun[0]!.toUpperCase() + noun.slice(1);
  const fail = (why: string): never => {
    throw new RunledgerError(code, why, { data: { name } });
  };
  if (typeof name !== 'string') fail(`A ${noun} name must be a string, not ${describe(name)}.`);
  const s = name as string;
  if (s === '') fail(`A ${noun} name must not be empty.`);
  const m = CONTROL.exec(s);
  if (m !== null) {
    const cp = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    fail(`${Noun} name ${JSON.stringify(s)} contains the control character U+${cp}.`);
  }
  if (LONE_SURROGATE.test(s)) fail(`${Noun} name ${JSON.stringify(s)} has a lone surrogate.`);
  if (s.length > PARAMETER_NAME_MAX_LENGTH) {
    const length = [...s].length;
    if (length > PARAMETER_NAME_MAX_LENGTH) {
      fail(
        `${Noun} name ${JSON.stringify(s.slice(0, 32))}… has ${length} characters, ` +
          `more than the ${PARAMETER_NAME_MAX_LENGTH} allowed.`
      );
    }
  }
}

/**
 * The column type a value goes into: `boolean` → bool; a `bigint` within int64 → int64; a
 * `number` that is a safe integer → int64, any other number (fractions, NaN, ±∞, integers beyond
 * 2^53) → float64; a `string` → string.
 *
 * @param value - the value to classify
 * @returns its parameter type
 * @throws RunledgerError `PARAMETER_INVALID` for a bigint outside int64, a string with a lone
 * surrogate, or a value of any other JS type (null, undefined, objects, symbols, functions)
 * @example
 * ```ts
 * classifyValue(20); // 'int64'
 * classifyValue(0.5); // 'float64'
 * classifyValue(2n ** 63n); // throws PARAMETER_INVALID
 * ```
 */
export function classifyValue(value: unknown): ParameterType {
  return classify(value, undefined);
}

function classify(value: unknown, name: string | undefined): ParameterType {
  const of = name === undefined ? '' : ` of parameter \`${name}\``;
  const data = name === undefined ? {} : { name };
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isSafeInteger(value) ? 'int64' : 'float64';
    case 'bigint':
      if (value < INT64_MIN || value > INT64_MAX) {
        throw new RunledgerError(
          'PARAMETER_INVALID',
          `Value ${value}${of} must fit in int64 (−2^63 to 2^63 − 1).`,
          { data: { ...data, value: dataValue(value) } }
        );
      }
      return 'int64';
    case 'string':
      if (LONE_SURROGATE.test(value)) {
        throw new RunledgerError(
          'PARAMETER_INVALID',
          `Value ${JSON.stringify(value)}${of} has a lone surrogate, which UTF-8 cannot carry.`,
          { data: { ...data, value } }
        );
      }
      return 'string';
    default:
      throw new RunledgerError(
        'PARAMETER_INVALID',
        `The value${of === '' ? ' of a parameter' : of} must be bool, number, bigint or string, not ${describe(value)}.`,
        { data: { ...data, type: value === null ? 'null' : typeof value } }
      );
  }
}

/** A value for error `data`, which must survive `JSON.stringify` (bigints become strings). */
function dataValue(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function checkRunId(runId: unknown): asserts runId is number {
  if (!Number.isSafeInteger(runId) || (runId as number) < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Run id ${String(runId)} must be a non-negative safe integer.`,
      { data: { runId } }
    );
  }
}

/** The value as stored in a column of `type` (its classified type being compatible). */
function normalise(value: ParameterValue, type: ParameterType): ParameterValue {
  if (type === 'int64') return typeof value === 'bigint' ? value : BigInt(value);
  if (type === 'float64') return Number(value);
  return value;
}

/** A column as a table holds it. @internal */
export interface ParameterCells {
  readonly type: ParameterType;
  readonly setBy: number;
  readonly values: ReadonlyMap<number, ParameterValue>;
  /** In a float64 column: the exact values of the runs that logged an integer. */
  readonly ints: ReadonlyMap<number, bigint> | undefined;
}

interface Column {
  type: ParameterType;
  setBy: number;
  values: Map<number, ParameterValue>;
  /**
   * Only in a float64 column: the exact values of the runs that logged an integer, so the column
   * can go back to int64 when the last float leaves it (a run deleted or overwritten), and its
   * bytes match what OMMX builds from the remaining runs.
   */
  ints: Map<number, bigint> | undefined;
}

/** What a column looks like to one run: its type once that run's own cell is gone. */
interface OthersView {
  readonly type: ParameterType;
  readonly column: Column;
}

// Lets decodeRunParameters insert checked columns without going through the logging rules.
let insertColumn: (table: ParameterTable, name: string, column: Column) => void;
// Lets the incremental encoder read the columns and see whether a logged cell ever changed.
let internals: (table: ParameterTable) => TableInternals;

/** A table's columns as they are held, and a count bumped by every `set` and removal. */
export interface TableInternals {
  readonly columns: ReadonlyMap<string, ParameterCells>;
  readonly version: number;
}

/**
 * What `parameter-encoder` reads of a table (its columns as held, its change count).
 * @internal
 */
export function tableInternals(table: ParameterTable): TableInternals {
  return internals(table);
}

/**
 * The run parameters of an experiment as typed columns: name → type and run id → value.
 *
 * Types are checked when a value is logged, not at commit (OMMX only finds mixed columns at
 * commit, which then fails): a value must have its column's type in the other runs, except that
 * int64 and float64 mix, the column becoming float64 (ints converted, as OMMX does). `log` (what
 * a run uses) refuses a different value for a name the run already logged; `set` overwrites it,
 * as OMMX does, and may change the type when no other run has the name.
 *
 * @example
 * ```ts
 * const t = new ParameterTable();
 * t.log(0, 'solver', 'highs');
 * t.log(0, 'time_limit', 20);
 * t.check(1, 'solver', 0.5); // throws PARAMETER_TYPE_CONFLICT
 * ```
 */
export class ParameterTable {
  readonly #columns: Map<string, Column> = new Map();
  /** Bumped by every `set` and removal (`log`, which adds cells of open runs, leaves it alone). */
  #version = 0;

  static {
    insertColumn = (table, name, column) => table.#columns.set(name, column);
    internals = (table) => ({ columns: table.#columns, version: table.#version });
  }

  /**
   * Checks that `runId` may log `value` under `name`, without changing the table: the name and
   * value rules, the column's type in other runs, and (DESIGN §3) that a name the run already
   * logged gets the identical value again.
   *
   * @param runId - the logging run, a non-negative safe integer
   * @param name - the parameter name
   * @param value - the value
   * @throws RunledgerError `PARAMETER_INVALID` for a bad name or value (see
   * {@link validateParameterName}, {@link classifyValue}) or a different value for a name the
   * run already logged; `PARAMETER_TYPE_CONFLICT` when the column has another type in other runs;
   * `ARGUMENT_INVALID` for a bad run id
   * @example
   * ```ts
   * table.check(7, 'solver', 0.5);
   * // Parameter `solver` is string (set by run 3); run 7 logged a float64.
   * ```
   */
  check(runId: number, name: string, value: ParameterValue): void {
    this.#plan(runId, name, value, true);
  }

  /**
   * Stores `value` under `name` for `runId`, replacing that run's earlier value (OMMX's rule; use
   * {@link ParameterTable.log} to refuse a changed value). Types are checked as
   * {@link ParameterTable.check} does. A float into an int64 column makes it float64, its ints
   * converted to numbers; an integer into a float64 column is stored as a number.
   *
   * @param runId - the logging run, a non-negative safe integer
   * @param name - the parameter name
   * @param value - the value
   * @throws RunledgerError `PARAMETER_INVALID`, `PARAMETER_TYPE_CONFLICT`, `ARGUMENT_INVALID` as
   * {@link ParameterTable.check} (but not for a changed value); the table is unchanged then
   * @example
   * ```ts
   * table.set(0, 'time_limit', 20); // int64 column, 20n
   * table.set(1, 'time_limit', 2.5); // float64 column: run 0 now holds 20
   * ```
   */
  set(runId: number, name: string, value: ParameterValue): void {
    this.#commit(runId, name, value, this.#plan(runId, name, value, false));
    // Any run may be set (a replay, a merge), a closed one too: an encoder starts over.
    this.#version++;
  }

  /**
   * Logs a parameter the way `Run.logParameter` does: {@link ParameterTable.check}, then
   * {@link ParameterTable.set}. Logging the identical value again changes nothing.
   *
   * @param runId - the logging run, a non-negative safe integer
   * @param name - the parameter name
   * @param value - the value
   * @throws RunledgerError as {@link ParameterTable.check}; the table is unchanged then
   * @example
   * ```ts
   * table.log(0, 'solver', 'highs');
   * table.log(0, 'solver', 'highs'); // fine
   * table.log(0, 'solver', 'scip'); // throws PARAMETER_INVALID
   * ```
   */
  log(runId: number, name: string, value: ParameterValue): void {
    const type = this.#plan(runId, name, value, true);
    if (this.#columns.get(name)?.values.has(runId) !== true) this.#commit(runId, name, value, type);
  }

  /**
   * Removes every value `runId` logged. Columns left empty disappear; a float64 column whose
   * remaining values were all logged as integers goes back to int64 with its exact values.
   *
   * @param runId - the run
   * @returns whether the run had any values
   * @throws RunledgerError `ARGUMENT_INVALID` for a bad run id
   * @example
   * ```ts
   * table.deleteRun(3);
   * ```
   */
  deleteRun(runId: number): boolean {
    checkRunId(runId);
    let found = false;
    for (const [name, column] of [...this.#columns]) {
      if (column.values.has(runId)) {
        this.#removeCell(name, column, runId);
        found = true;
      }
    }
    return found;
  }

  /**
   * The columns, sorted by name in code point order (UTF-8 byte order, the order of OMMX's
   * table). The `values` maps are live views, valid until the table changes.
   *
   * @returns one entry per parameter name
   * @example
   * ```ts
   * table.columns().map((c) => `${c.name}: ${c.type}`);
   * ```
   */
  columns(): ParameterColumn[] {
    return [...this.#columns]
      .sort(([a], [b]) => compareCodePoints(a, b))
      .map(([name, c]) => ({ name, type: c.type, setBy: c.setBy, values: c.values }));
  }

  /**
   * Every run id that has at least one value, ascending.
   *
   * @returns the run ids
   * @example
   * ```ts
   * table.runIds(); // [0, 1, 4]
   * ```
   */
  runIds(): number[] {
    const ids = new Set<number>();
    for (const c of this.#columns.values()) for (const id of c.values.keys()) ids.add(id);
    return [...ids].sort((a, b) => a - b);
  }

  /**
   * Every run's values as one plain object per run (own data properties, so a name like
   * `__proto__` is a key like any other), keys in column order.
   *
   * @returns run id → name → value, for the runs that have values
   * @example
   * ```ts
   * table.valuesByRun().get(0); // { solver: 'highs', time_limit: 20n }
   * ```
   */
  valuesByRun(): Map<number, Record<string, ParameterValue>> {
    const byRun = new Map<number, Record<string, ParameterValue>>();
    for (const c of this.columns()) {
      // Assigning `__proto__` would set the prototype: that one name is defined instead.
      const special = c.name === '__proto__';
      for (const [id, v] of c.values) {
        let o = byRun.get(id);
        if (o === undefined) byRun.set(id, (o = {}));
        if (special) {
          Object.defineProperty(o, c.name, {
            value: v,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else {
          o[c.name] = v;
        }
      }
    }
    return new Map([...byRun].sort((a, b) => a[0] - b[0]));
  }

  /**
   * A copy holding only the given runs' values, typed as if only they had logged: a float64
   * column whose remaining values were all logged as integers is int64 in the copy.
   *
   * @param runIds - the runs to keep
   * @returns a new table
   * @example
   * ```ts
   * const closed = table.onlyRuns(new Set([0, 1, 2]));
   * ```
   */
  onlyRuns(runIds: ReadonlySet<number>): ParameterTable {
    const copy = new ParameterTable();
    for (const [name, c] of this.#columns) {
      const values = new Map<number, ParameterValue>();
      for (const [id, v] of c.values) if (runIds.has(id)) values.set(id, v);
      if (values.size === 0) continue;
      let ints: Map<number, bigint> | undefined;
      if (c.ints !== undefined) {
        ints = new Map();
        for (const [id, v] of c.ints) if (runIds.has(id)) ints.set(id, v);
      }
      const column: Column = { type: c.type, setBy: c.setBy, values, ints };
      if (ints !== undefined && ints.size === values.size) {
        column.type = 'int64';
        column.values = ints;
        column.ints = undefined;
      } else if (ints?.size === 0) {
        column.ints = undefined;
      }
      column.setBy = setterOf(column, column.type, undefined);
      copy.#columns.set(name, column);
    }
    return copy;
  }

  /**
   * Validates and returns the value's own type; throws on any rule the write would break.
   * `sameValue` adds the rule that a run cannot change a value it logged.
   */
  #plan(runId: number, name: string, value: ParameterValue, sameValue: boolean): ParameterType {
    checkRunId(runId);
    validateParameterName(name);
    const type = classify(value, name);
    const column = this.#columns.get(name);
    if (column === undefined) return type;
    if (sameValue && column.values.has(runId)) {
      // What the run logged, in its own type: ints kept exact even in a float64 column.
      const exact = column.ints?.get(runId);
      const loggedType = exact !== undefined ? 'int64' : column.type;
      const logged = exact ?? column.values.get(runId)!;
      if (loggedType !== type || !Object.is(logged, normalise(value, type))) {
        const show = (v: ParameterValue): string =>
          typeof v === 'string' ? JSON.stringify(v) : String(v);
        throw new RunledgerError(
          'PARAMETER_INVALID',
          `Run ${runId} already logged parameter \`${name}\` as ${show(logged)} (${loggedType}); ` +
            `it cannot change to ${show(value)} (${type}).`,
          { data: { name, runId, logged: dataValue(logged), value: dataValue(value) } }
        );
      }
      return type;
    }
    // The column's own type is always fine (the other runs' view is that type, or int64 in a
    // float64 column, which takes ints): skip the per-run lookups on this, the common path.
    if (column.type === type) return type;
    const others = othersView(column, runId);
    if (others === undefined || others.type === type) return type;
    const numeric = (t: ParameterType): boolean => t === 'int64' || t === 'float64';
    if (numeric(others.type) && numeric(type)) return type;
    const setBy = setterOf(others.column, others.type, runId);
    throw new RunledgerError(
      'PARAMETER_TYPE_CONFLICT',
      `Parameter \`${name}\` is ${others.type} (set by run ${setBy}); run ${runId} logged ${type === 'int64' ? 'an' : 'a'} ${type}.`,
      { data: { name, columnType: others.type, setBy, runId, valueType: type } }
    );
  }

  /** Writes a value `#plan` accepted (with `type`, its own type). */
  #commit(runId: number, name: string, value: ParameterValue, type: ParameterType): void {
    let column = this.#columns.get(name);
    if (column?.type === type) {
      // Same type: a new or replaced cell cannot change the column's type, only which runs
      // logged a float (a float replacing an int in a float64 column).
      column.ints?.delete(runId);
      column.values.set(runId, normalise(value, type));
      return;
    }
    if (column?.values.has(runId) === true) {
      this.#removeCell(name, column, runId);
      column = this.#columns.get(name);
    }
    if (column === undefined) {
      const values = new Map([[runId, normalise(value, type)]]);
      this.#columns.set(name, { type, setBy: runId, values, ints: undefined });
    } else if (column.type === type) {
      column.values.set(runId, normalise(value, type));
    } else if (type === 'float64') {
      // int64 column, float arrives: keep the exact ints for a later demotion (see Column.ints).
      const ints = column.values as Map<number, bigint>;
      const floats = new Map<number, ParameterValue>();
      for (const [id, v] of ints) floats.set(id, Number(v));
      floats.set(runId, value as number);
      column.type = 'float64';
      column.setBy = runId;
      column.values = floats;
      column.ints = ints;
    } else {
      // float64 column, integer arrives.
      const exact = normalise(value, 'int64') as bigint;
      column.values.set(runId, Number(exact));
      (column.ints ??= new Map()).set(runId, exact);
    }
  }

  #removeCell(name: string, column: Column, runId: number): void {
    this.#version++;
    column.values.delete(runId);
    column.ints?.delete(runId);
    if (column.values.size === 0) {
      this.#columns.delete(name);
      return;
    }
    if (column.ints !== undefined && column.ints.size === column.values.size) {
      column.type = 'int64';
      column.values = column.ints;
      column.ints = undefined;
      column.setBy = setterOf(column, 'int64', undefined);
    } else if (column.setBy === runId) {
      column.setBy = setterOf(column, column.type, undefined);
    }
  }
}

/** The column as the other runs see it, or undefined when only `runId` has a value. */
function othersView(column: Column, runId: number): OthersView | undefined {
  const own = column.values.has(runId) ? 1 : 0;
  const others = column.values.size - own;
  if (others === 0) return undefined;
  if (column.ints !== undefined) {
    const intOthers = column.ints.size - (column.ints.has(runId) ? 1 : 0);
    if (intOthers === others) return { type: 'int64', column };
  }
  return { type: column.type, column };
}

/**
 * A run (other than `exclude`) whose value gives the column `type`: the recorded setter when it
 * still qualifies, else the lowest qualifying run id.
 */
function setterOf(column: Column, type: ParameterType, exclude: number | undefined): number {
  // In a float64 column only runs that logged a float fixed the type.
  const qualifies = (id: number): boolean =>
    id !== exclude && (type !== 'float64' || column.ints?.has(id) !== true);
  if (column.values.has(column.setBy) && qualifies(column.setBy)) return column.setBy;
  let best = Infinity;
  for (const id of column.values.keys()) if (id < best && qualifies(id)) best = id;
  return best;
}

// ---- msgpack (ommx-reference §2.5) -------------------------------------------------------------

/**
 * Encodes the table as OMMX's run-parameter table blob:
 * `{"columns": {<name>: {"type": <t>, "values": {<run id>: <value>}}}}`. Canonical: columns in
 * code point order, keys `type` then `values`, run ids as msgpack uints ascending, ints in their
 * shortest msgpack form, floats always float64 (`0xcb`, also for 2.0, NaN and ±∞).
 *
 * @param table - the parameters
 * @returns the msgpack bytes (equal tables give equal bytes)
 * @example
 * ```ts
 * encodeRunParameters(new ParameterTable()); // 81 a7 'columns' 80
 * ```
 */
export function encodeRunParameters(table: ParameterTable): Uint8Array {
  const columns = table.columns();
  let cells = 0;
  for (const c of columns) cells += c.values.size;
  const w = new MsgpackWriter(64 + cells * 12);
  w.mapHeader(1);
  w.str('columns');
  w.mapHeader(columns.length);
  for (const c of columns) {
    w.str(c.name);
    w.mapHeader(2);
    w.str('type');
    w.str(c.type);
    w.str('values');
    const ids = [...c.values.keys()].sort((a, b) => a - b);
    w.mapHeader(ids.length);
    for (const id of ids) {
      w.uint(id);
      const v = c.values.get(id)!;
      if (c.type === 'float64') w.float64(v as number);
      else if (c.type === 'int64') w.int(v as bigint);
      else if (c.type === 'bool') w.bool(v as boolean);
      else w.str(v as string);
    }
  }
  return w.bytes();
}

/**
 * Decodes OMMX's run-parameter table blob, as strictly as OMMX's reader: exactly one msgpack
 * value, no unknown, missing or duplicate fields, a known type per column, run ids as msgpack
 * uints, float64 (not float32) in float columns, any msgpack int within int64 in int columns.
 * Names are taken as they are (OMMX does not restrict them); empty columns are refused, since no
 * writer produces them.
 *
 * @param bytes - the blob
 * @returns the table
 * @throws RunledgerError `PAYLOAD_INVALID` naming what is wrong and the byte offset
 * @example
 * ```ts
 * const table = decodeRunParameters(await registry.readBlob(layer.digest));
 * ```
 */
export function decodeRunParameters(bytes: Uint8Array): ParameterTable {
  const table = new ParameterTable();
  for (const [name, c] of readRunParameterColumns(bytes)) {
    insertColumn(table, name, { type: c.type, setBy: c.setBy, values: c.values, ints: undefined });
  }
  return table;
}
