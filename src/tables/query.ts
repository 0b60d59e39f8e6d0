/**
 * @module tables/query
 * The `--where` filters and `--sort` specs of `runledger runs`, over rows of the run table
 * (MLflow `search_runs` column names: `run_id`, `status`, `params.time_limit`, `metrics.loss`,
 * `tags.stage`…). Pure: text in, closures out.
 *
 * Filter grammar (keywords are case-insensitive; binding from loosest to tightest):
 * ```text
 * filter     := or
 * or         := and ( 'or' and )*
 * and        := not ( 'and' not )*
 * not        := 'not' not | '(' or ')' | comparison
 * comparison := IDENT op LITERAL                     op: = == != <> < <= > >=
 *             | IDENT [ 'not' ] 'in' '(' LITERAL ( ',' LITERAL )* ')'
 *             | IDENT 'is' [ 'not' ] 'null'
 *             | IDENT [ 'not' ] ( 'like' | 'ilike' ) STRING   % = any run, _ = one character
 * IDENT      := [A-Za-z_][A-Za-z0-9_./-]*  |  `any name but a backquote`
 * LITERAL    := NUMBER | STRING | true | false | null
 * NUMBER     := -?(digits[.digits] | .digits)([eE][+-]?digits)?
 * STRING     := '…' | "…"   (a backslash takes the next character literally; \n, \t)
 * ```
 * The keywords `and or not in is like ilike` are not column names when bare: backquote such a column.
 *
 * Semantics, SQL-like in two-valued logic: a missing cell (null) makes every comparison false
 * (`!=`, `in`, `not in`, `like`, `not like` included); test it with `is [not] null`. Numbers and
 * bigints compare exactly with each other (an integer literal is a bigint, so
 * `run_id = 9007199254740993` works); NaN is unordered, so only `!=` holds for it (IEEE 754).
 * Strings compare by code point, booleans only with booleans (false < true). Any other pairing
 * of types is false, not an error. `x in (a, b)` is `x = a or x = b`; `x not in (a, b)` is
 * `x != a and x != b`. `like` matches strings only, case-sensitively; `ilike` (MLflow's spelling)
 * ignoring case.
 *
 * Sort spec: `column [asc|desc] (, column [asc|desc])*`. Nulls, then NaN, sort last in both
 * directions; otherwise booleans < numbers < strings, each in their own order.
 */
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import { takeRows } from './arrow.js';

/** One cell of the run table; null is a missing value. Int64 columns may hold bigints. */
export type Cell = string | number | bigint | boolean | null;

/** One row of the run table: column name → cell. A column absent from the object is null. */
export type Row = Readonly<Record<string, Cell>>;

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

interface Token {
  readonly kind: 'word' | 'name' | 'number' | 'string' | 'op' | 'punct' | 'end';
  /** The word, name, string value, operator or punctuation; the source text of a number. */
  readonly text: string;
  readonly value: Cell;
  /** Offset in the source, in UTF-16 code units from 0. */
  readonly position: number;
}

const STRUCTURAL = new Set(['and', 'or', 'not', 'in', 'is', 'like', 'ilike']);
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_./-]*/y;
const OPERATOR = /==|!=|<>|<=|>=|=|<|>/y;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t' };

function usage(
  source: string,
  position: number,
  message: string,
  extra: Readonly<Record<string, unknown>> = {}
): RunledgerError {
  return new RunledgerError('USAGE', message, { data: { expr: source, position, ...extra } });
}

function tokenize(source: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    return re.exec(source)?.[0];
  };
  while (i < source.length) {
    const c = source.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const number = match(NUMBER);
    if (number !== undefined) {
      // Integer literals stay exact as bigints, so they compare exactly with int64 cells.
      const value = /[.eE]/.test(number) ? Number(number) : BigInt(number);
      tokens.push({ kind: 'number', text: number, value, position: start });
      i += number.length;
      continue;
    }
    const word = match(WORD);
    if (word !== undefined) {
      tokens.push({ kind: 'word', text: word, value: word, position: start });
      i += word.length;
      continue;
    }
    const op = match(OPERATOR);
    if (op !== undefined) {
      const text = op === '==' ? '=' : op === '<>' ? '!=' : op;
      tokens.push({ kind: 'op', text, value: null, position: start });
      i += op.length;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, value: null, position: start });
      i++;
      continue;
    }
    if (c === '`') {
      const close = source.indexOf('`', i + 1);
      if (close < 0) {
        throw usage(
          source,
          start,
          `Unterminated backquoted name at position ${start} of the ${what}.`
        );
      }
      const name = source.slice(i + 1, close);
      tokens.push({ kind: 'name', text: name, value: name, position: start });
      i = close + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) {
          throw usage(
            source,
            start,
            `Unterminated string starting at position ${start} of the ${what}.`
          );
        }
        const d = source.charAt(i);
        if (d === c) break;
        if (d === '\\' && i + 1 < source.length) {
          const e = source.charAt(i + 1);
          value += ESCAPES[e] ?? e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, value, position: start });
      continue;
    }
    throw usage(
      source,
      start,
      `Unexpected character ${JSON.stringify(c)} at position ${start} of the ${what}.`
    );
  }
  tokens.push({ kind: 'end', text: '', value: null, position: source.length });
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end';
  if (token.kind === 'string') return JSON.stringify(token.text);
  if (token.kind === 'name') return `\`${token.text}\``;
  return `"${token.text}"`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitute, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Up to three known columns close to `name` (case differences count as nothing). */
function closeMatches(name: string, columns: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  return columns
    .map((column) => ({ column, d: editDistance(lower, column.toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d)
    .slice(0, 3)
    .map(({ column }) => column);
}

/** A cursor over tokens, shared by the filter and sort parsers. */
class Cursor {
  #i = 0;
  readonly #tokens: readonly Token[];
  readonly #source: string;
  readonly #columns: ReadonlySet<string>;
  readonly #known: readonly string[];
  readonly #what: string;

  constructor(source: string, columns: readonly string[], what: string) {
    this.#tokens = tokenize(source, what);
    this.#source = source;
    this.#known = columns;
    this.#columns = new Set(columns);
    this.#what = what;
  }

  peek(): Token {
    return this.#tokens[Math.min(this.#i, this.#tokens.length - 1)] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.#i++;
    return token;
  }

  /** Consumes the bare keyword `word` if it comes next. */
  keyword(word: string): boolean {
    const token = this.peek();
    if (token.kind !== 'word' || token.text.toLowerCase() !== word) return false;
    this.#i++;
    return true;
  }

  punct(text: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== text) return false;
    this.#i++;
    return true;
  }

  fail(token: Token, expected: string): RunledgerError {
    return usage(
      this.#source,
      token.position,
      `Expected ${expected} at position ${token.position} of the ${this.#what}, found ${describe(token)}.`
    );
  }

  expectPunct(text: string): void {
    if (!this.punct(text)) throw this.fail(this.peek(), `"${text}"`);
  }

  column(): string {
    const token = this.next();
    const bare = token.kind === 'word' && !STRUCTURAL.has(token.text.toLowerCase());
    if (!bare && token.kind !== 'name') throw this.fail(token, 'a column name');
    if (this.#columns.has(token.text)) return token.text;
    const suggestions = closeMatches(token.text, this.#known);
    const hint = suggestions.length === 0 ? '' : `; did you mean ${suggestions.join(', ')}?`;
    throw usage(
      this.#source,
      token.position,
      `Unknown column ${JSON.stringify(token.text)} at position ${token.position} of the ${this.#what}${hint === '' ? '.' : hint}`,
      { column: token.text, suggestions }
    );
  }

  literal(): Cell {
    const token = this.next();
    if (token.kind === 'number' || token.kind === 'string') return token.value;
    if (token.kind === 'word') {
      const word = token.text.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
    }
    throw this.fail(token, 'a literal (a number, a quoted string, true, false or null)');
  }

  end(): void {
    const token = this.peek();
    if (token.kind !== 'end') throw this.fail(token, 'the end');
  }
}

type Predicate = (row: Row) => boolean;

function isNumeric(v: Cell): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Exact order of two numerics; undefined when either is NaN. */
function compareNumeric(a: number | bigint, b: number | bigint): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number') {
    const c = compareNumeric(b, a);
    return c === undefined ? undefined : c === 0 ? 0 : -c;
  }
  const n = b as number;
  if (Number.isNaN(n)) return undefined;
  if (n === Infinity) return -1;
  if (n === -Infinity) return 1;
  // A non-integer n lies strictly between floor(n) and floor(n) + 1, both exact as bigints.
  const floor = BigInt(Math.floor(n));
  if (Number.isInteger(n)) return a < floor ? -1 : a > floor ? 1 : 0;
  return a <= floor ? -1 : 1;
}

/** Order of two cells of the same kind; null when the kinds differ; undefined for NaN. */
function compareCells(a: Cell, b: Cell): number | undefined | null {
  if (isNumeric(a) && isNumeric(b)) return compareNumeric(a, b);
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return null;
}

function holds(cell: Cell, op: Op, literal: Cell): boolean {
  if (cell === null || literal === null) return false;
  const c = compareCells(cell, literal);
  if (c === null) return false;
  if (c === undefined) return op === '!=';
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function likeRegExp(pattern: string, ignoreCase = false): RegExp {
  let source = '';
  for (const ch of pattern) {
    source += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'sui' : 'su');
}

function cellOf(row: Row, column: string): Cell {
  return row[column] ?? null;
}

function parseOr(cursor: Cursor): Predicate {
  const parts = [parseAnd(cursor)];
  while (cursor.keyword('or')) parts.push(parseAnd(cursor));
  const [first] = parts;
  return parts.length === 1 && first !== undefined ? first : (row) => parts.some((p) => p(row));
}

function parseAnd(cursor: Cursor): Predicate {
  const parts = [parseNot(cursor)];
  while (cursor.keyword('and')) parts.push(parseNot(cursor));
  const [first] = parts;
  return parts.length === 1 && first !== undefined ? first : (row) => parts.every((p) => p(row));
}

function parseNot(cursor: Cursor): Predicate {
  if (cursor.keyword('not')) {
    const inner = parseNot(cursor);
    return (row) => !inner(row);
  }
  if (cursor.punct('(')) {
    const inner = parseOr(cursor);
    cursor.expectPunct(')');
    return inner;
  }
  return parseComparison(cursor);
}

function parseComparison(cursor: Cursor): Predicate {
  const column = cursor.column();
  if (cursor.keyword('is')) {
    const negated = cursor.keyword('not');
    const token = cursor.peek();
    if (!cursor.keyword('null')) throw cursor.fail(token, '"null"');
    return negated ? (row) => cellOf(row, column) !== null : (row) => cellOf(row, column) === null;
  }
  const negated = cursor.keyword('not');
  if (cursor.keyword('in')) {
    cursor.expectPunct('(');
    const items = [cursor.literal()];
    while (cursor.punct(',')) items.push(cursor.literal());
    cursor.expectPunct(')');
    return negated
      ? (row) =>
          cellOf(row, column) !== null && items.every((v) => holds(cellOf(row, column), '!=', v))
      : (row) => items.some((v) => holds(cellOf(row, column), '=', v));
  }
  const like = cursor.keyword('like');
  if (like || cursor.keyword('ilike')) {
    const token = cursor.next();
    if (token.kind !== 'string') throw cursor.fail(token, 'a quoted pattern');
    const re = likeRegExp(token.text, !like);
    return (row) => {
      const cell = cellOf(row, column);
      return typeof cell === 'string' && re.test(cell) !== negated;
    };
  }
  const token = cursor.next();
  if (negated || token.kind !== 'op') {
    throw cursor.fail(
      token,
      negated ? '"in", "like" or "ilike"' : 'an operator, "in", "is", "like" or "ilike"'
    );
  }
  const op = token.text as Op;
  const literal = cursor.literal();
  return (row) => holds(cellOf(row, column), op, literal);
}

/**
 * Parses a `--where` filter into a predicate over run-table rows. The grammar and semantics are
 * in this module's comment: `or` < `and` < `not` < comparison, SQL-like null handling.
 *
 * @param expr - the filter text
 * @param columns - the known column names; any other identifier is an error
 * @returns a predicate, true for the rows the filter keeps
 * @throws RunledgerError `USAGE` when the text does not parse or names an unknown column (the
 *   message and `data.position` give the offset; an unknown column lists close matches)
 * @example
 * ```ts
 * const keep = parseWhere("status = 'finished' and metrics.loss < 0.1", columns);
 * const finished = rows.filter(keep);
 * ```
 */
export function parseWhere(expr: string, columns: readonly string[]): (row: Row) => boolean {
  const cursor = new Cursor(expr, columns, 'filter');
  const predicate = parseOr(cursor);
  cursor.end();
  return predicate;
}

function rank(v: Cell): number {
  if (v === null) return 4;
  if (typeof v === 'number' && Number.isNaN(v)) return 3;
  return typeof v === 'boolean' ? 0 : isNumeric(v) ? 1 : 2;
}

function compareForSort(a: Cell, b: Cell, descending: boolean): number {
  const ra = rank(a);
  const rb = rank(b);
  // Null and NaN stay last whichever the direction.
  if (ra >= 3 || rb >= 3) return Math.sign(ra - rb);
  const c = ra !== rb ? ra - rb : (compareCells(a, b) ?? 0);
  return c === 0 ? 0 : c < 0 !== descending ? -1 : 1;
}

/**
 * Parses a `--sort` spec, comma-separated `column [asc|desc]` keys (ascending by default), into
 * a comparator for `Array.prototype.sort`. Nulls (then NaN) come last in both directions; rows
 * equal on every key compare as 0, so the stable sort keeps their order.
 *
 * @param spec - the sort spec, e.g. `"metrics.loss asc, run_id desc"`
 * @param columns - the known column names; any other identifier is an error
 * @returns a comparator returning -1, 0 or 1
 * @throws RunledgerError `USAGE` when the spec does not parse or names an unknown column
 * @example
 * ```ts
 * rows.sort(parseSort('metrics.loss, run_id desc', columns));
 * ```
 */
export function parseSort(spec: string, columns: readonly string[]): (a: Row, b: Row) => number {
  const cursor = new Cursor(spec, columns, 'sort spec');
  const keys: { readonly column: string; readonly descending: boolean }[] = [];
  do {
    const column = cursor.column();
    const descending = cursor.keyword('desc');
    if (!descending) cursor.keyword('asc');
    keys.push({ column, descending });
  } while (cursor.punct(','));
  cursor.end();
  return (a, b) => {
    for (const { column, descending } of keys) {
      const c = compareForSort(cellOf(a, column), cellOf(b, column), descending);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/** Options of {@link queryTable}. */
export interface QueryOptions {
  /** A filter in the `--where` language (this module's comment); every row when absent. */
  readonly where?: string;
  /** A sort spec in the `--sort` language; the table's order when absent. */
  readonly orderBy?: string;
}

/**
 * Filters and orders the rows of an Arrow table (a runs, solves or parameter table) with the
 * query language of `runledger runs --where/--sort`; column names are the table's. Both texts
 * are parsed before any row is read, so a bad one fails fast.
 *
 * @param table - the table
 * @param options - where, orderBy
 * @returns a table of the same columns with the rows kept, in order
 * @throws RunledgerError `USAGE` when a text does not parse or names an unknown column
 * @example
 * ```ts
 * const best = queryTable(await sealed.runsDf(), {
 *   where: "status = 'finished' and params.solver = 'highs'",
 *   orderBy: 'metrics.gap asc, run_id',
 * });
 * ```
 */
export function queryTable(table: Table, options: QueryOptions = {}): Table {
  const columns = table.schema.fields.map((f) => f.name);
  const keep = options.where === undefined ? undefined : parseWhere(options.where, columns);
  const order = options.orderBy === undefined ? undefined : parseSort(options.orderBy, columns);
  if (keep === undefined && order === undefined) return table;
  const vectors = columns.map((c) => table.getChild(c));
  const rows: Row[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, Cell> = {};
    columns.forEach((c, j) => (row[c] = (vectors[j]?.get(i) ?? null) as Cell));
    rows.push(row);
  }
  let picked = rows.map((_, i) => i);
  if (keep !== undefined) picked = picked.filter((i) => keep(rows[i] as Row));
  if (order !== undefined) picked.sort((a, b) => order(rows[a] as Row, rows[b] as Row));
  return takeRows(table, picked);
}
