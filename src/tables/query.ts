/**
 * @module tables/query
 * The `--where` filters and `--sort` specs of `runledger runs`, over the run table (MLflow
 * `search_runs` column names: `run_id`, `status`, `params.time_limit`, `metrics.loss`,
 * `tags.stage`…), and MLflow's `filter_string` spellings where they differ. Pure: text in,
 * closures out; over Arrow tables it reads the column buffers (no row objects).
 *
 * Filter grammar (keywords are case-insensitive; binding from loosest to tightest):
 * ```text
 * filter     := or
 * or         := and ( 'or' and )*
 * and        := not ( 'and' not )*
 * not        := 'not' not | '(' or ')' | comparison
 * comparison := COLUMN op LITERAL                    op: = == != <> < <= > >=
 *             | COLUMN [ 'not' ] 'in' '(' LITERAL ( ',' LITERAL )* ')'
 *             | COLUMN 'is' [ 'not' ] 'null'
 *             | COLUMN [ 'not' ] ( 'like' | 'ilike' ) STRING   % = any run, _ = one character
 * COLUMN     := WORD | `any name but a backquote` | WORD '.' ( `…` | "…" )
 * WORD       := [A-Za-z_][A-Za-z0-9_./-]*
 * LITERAL    := NUMBER | STRING | true | false | null
 * NUMBER     := -?(digits[.digits] | .digits)([eE][+-]?digits)?
 * STRING     := '…' | "…"   (a backslash takes the next character literally; \n, \t)
 * ```
 * The keywords `and or not in is like ilike` are not column names when bare: backquote such a
 * column. `metrics."a b"` and `` metrics.`a b` `` (MLflow's quoting) name the column `metrics.a b`.
 *
 * Column names: a name the table has is that column. Otherwise MLflow's spellings resolve:
 * `metric.`, `param.`, `parameter.`, `parameters.`, `tag.` stand for `metrics.`, `params.`,
 * `tags.`; `attribute.`, `attr.` and `run.` for `attributes.`; `attributes.<name>` is our typed
 * attribute column when the table has one, else MLflow's run attribute: `run_id`, `status`,
 * `run_name` (our `name`, also bare `run_name`), `start_time` and `end_time` (`started_at`,
 * `ended_at` read as epoch milliseconds, MLflow's unit; a text that is not a time is null).
 *
 * Semantics, SQL-like in two-valued logic: a missing cell (null) makes every comparison false
 * (`!=`, `in`, `not in`, `like`, `not like` included); test it with `is [not] null`. Numbers and
 * bigints compare exactly with each other (an integer literal is a bigint, so
 * `run_id = 9007199254740993` works); NaN is unordered, so only `!=` holds for it (IEEE 754).
 * Strings compare by code point, booleans only with booleans (false < true). Any other pairing
 * of types is false, not an error. `x in (a, b)` is `x = a or x = b`; `x not in (a, b)` is
 * `x != a and x != b`. `like` matches strings only, case-sensitively; `ilike` (MLflow's spelling)
 * ignoring case. MLflow's run statuses spelled as MLflow does — `'FINISHED'`, `'FAILED'`,
 * `'RUNNING'`, `'SCHEDULED'`, `'KILLED'` — compared (`=`, `!=`, `in`) with a column named
 * `status` match ours whatever their case, `KILLED` matching `interrupted`; any other literal is
 * compared as written.
 *
 * Sort spec: `column [asc|desc] (, column [asc|desc])*`. Nulls, then NaN, sort last in both
 * directions; otherwise booleans < numbers < strings, each in their own order.
 */
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import {
  cellAt,
  chunkedColumns,
  gatherColumns,
  isValidAt,
  type ChunkedColumns,
  type ColumnChunk,
} from './arrow.js';
import { closestNames } from './suggest.js';

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

/** A column as a query reads it: the table's column, maybe as epoch milliseconds (MLflow). */
type ColumnRef = { readonly name: string; readonly epochMs: boolean };

/** A parsed filter. `in` / `not in` are `or` / `and` of equalities. */
type Node =
  | { readonly kind: 'and'; readonly parts: readonly Node[] }
  | { readonly kind: 'or'; readonly parts: readonly Node[] }
  | { readonly kind: 'not'; readonly inner: Node }
  | {
      readonly kind: 'compare';
      readonly column: ColumnRef;
      readonly op: Op;
      readonly literal: Cell;
    }
  | { readonly kind: 'null'; readonly column: ColumnRef; readonly negated: boolean }
  | {
      readonly kind: 'test';
      readonly column: ColumnRef;
      readonly test: (s: string) => boolean;
      readonly negated: boolean;
    };

const STRUCTURAL = new Set(['and', 'or', 'not', 'in', 'is', 'like', 'ilike']);
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_./-]*/y;
const OPERATOR = /==|!=|<>|<=|>=|=|<|>/y;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t' };
/** A quoted string; a backslash takes the next character literally (\n, \t excepted). */
const SINGLE_QUOTED = /'(?:[^'\\]|\\.)*'/suy;
const DOUBLE_QUOTED = /"(?:[^"\\]|\\.)*"/suy;

/** Our column prefixes, and MLflow's entity names for each. */
const ENTITIES: readonly (readonly [string, readonly string[]])[] = [
  ['metrics.', ['metric', 'metrics']],
  ['params.', ['param', 'params', 'parameter', 'parameters']],
  ['tags.', ['tag', 'tags']],
  ['attributes.', ['attribute', 'attributes', 'attr', 'run']],
];

/** MLflow's run attributes → our columns. */
const RUN_ATTRIBUTES: ReadonlyMap<string, ColumnRef> = new Map([
  ['run_id', { name: 'run_id', epochMs: false }],
  ['run_name', { name: 'name', epochMs: false }],
  ['status', { name: 'status', epochMs: false }],
  ['start_time', { name: 'started_at', epochMs: true }],
  ['end_time', { name: 'ended_at', epochMs: true }],
]);

/** MLflow's run statuses, as MLflow spells them. */
const MLFLOW_STATUS = /^(?:FINISHED|FAILED|RUNNING|SCHEDULED|KILLED)$/;

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
  const fail = (at: number, message: string): RunledgerError =>
    usage(source, at, `${message} at position ${at} of the ${what}.`);
  /** The name between quotes `q` opening at i, or an error naming where it opened. */
  const quoted = (q: string, message: string): string => {
    const close = source.indexOf(q, i + 1);
    if (close < 0) throw fail(i, message);
    const name = source.slice(i + 1, close);
    i = close + 1;
    return name;
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
      i += word.length;
      const q = source.charAt(i);
      if (word.endsWith('.') && (q === '"' || q === '`')) {
        // MLflow quotes the name after the prefix: metrics."a b", params.`my param`.
        const text = word + quoted(q, 'Unterminated quoted name');
        tokens.push({ kind: 'name', text, value: text, position: start });
      } else {
        tokens.push({ kind: 'word', text: word, value: word, position: start });
      }
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
      const name = quoted('`', 'Unterminated backquoted name');
      tokens.push({ kind: 'name', text: name, value: name, position: start });
      continue;
    }
    if (c === "'" || c === '"') {
      const raw = match(c === "'" ? SINGLE_QUOTED : DOUBLE_QUOTED);
      if (raw === undefined) throw fail(start, 'Unterminated string starting');
      const value = raw.slice(1, -1).replace(/\\(.)/gsu, (_, e: string) => ESCAPES[e] ?? e);
      tokens.push({ kind: 'string', text: value, value, position: start });
      i += raw.length;
      continue;
    }
    throw fail(start, `Unexpected character ${JSON.stringify(c)}`);
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

/** A name as a column of the table: itself, else MLflow's spelling of one (module comment). */
function resolveColumn(name: string, columns: ReadonlySet<string>): ColumnRef | undefined {
  if (columns.has(name)) return { name, epochMs: false };
  if (name === 'run_name' && columns.has('name')) return { name: 'name', epochMs: false };
  const dot = name.indexOf('.');
  const prefix = ENTITIES.find(([, names]) => names.includes(name.slice(0, dot)))?.[0];
  if (dot < 0 || prefix === undefined) return undefined;
  const own = prefix + name.slice(dot + 1);
  if (columns.has(own)) return { name: own, epochMs: false };
  const attribute = prefix === 'attributes.' ? RUN_ATTRIBUTES.get(own.slice(11)) : undefined;
  return attribute !== undefined && columns.has(attribute.name) ? attribute : undefined;
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

  column(): ColumnRef {
    const token = this.next();
    const bare = token.kind === 'word' && !STRUCTURAL.has(token.text.toLowerCase());
    if (!bare && token.kind !== 'name') throw this.fail(token, 'a column name');
    const column = resolveColumn(token.text, this.#columns);
    if (column !== undefined) return column;
    const suggestions = closestNames(token.text, this.#known);
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

/** Whether an order (negative, 0, positive; NaN when unordered) satisfies each operator. */
const SATISFIES: Readonly<Record<Op, (c: number) => boolean>> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function holds(cell: Cell, op: Op, literal: Cell): boolean {
  if (cell === null || literal === null) return false;
  const c = compareCells(cell, literal);
  if (c === null) return false;
  return c === undefined ? op === '!=' : SATISFIES[op](c);
}

function likeRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let source = '';
  for (const ch of pattern) {
    source += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'sui' : 'su');
}

/** A cell as the column reads it: MLflow's start/end times are epoch milliseconds. */
function asRead(cell: Cell, column: ColumnRef): Cell {
  if (!column.epochMs || typeof cell !== 'string') return cell;
  const ms = Date.parse(cell);
  return Number.isNaN(ms) ? null : ms;
}

/** `column = literal` (or `!=`), MLflow's upper-case statuses matched against ours. */
function equality(column: ColumnRef, literal: Cell, negated: boolean): Node {
  if (column.name === 'status' && typeof literal === 'string' && MLFLOW_STATUS.test(literal)) {
    const ours = literal === 'KILLED' ? ['killed', 'interrupted'] : [literal.toLowerCase()];
    return { kind: 'test', column, test: (s) => ours.includes(s.toLowerCase()), negated };
  }
  return { kind: 'compare', column, op: negated ? '!=' : '=', literal };
}

function parseOr(cursor: Cursor): Node {
  const parts = [parseAnd(cursor)];
  while (cursor.keyword('or')) parts.push(parseAnd(cursor));
  return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
}

function parseAnd(cursor: Cursor): Node {
  const parts = [parseNot(cursor)];
  while (cursor.keyword('and')) parts.push(parseNot(cursor));
  return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
}

function parseNot(cursor: Cursor): Node {
  if (cursor.keyword('not')) return { kind: 'not', inner: parseNot(cursor) };
  if (cursor.punct('(')) {
    const inner = parseOr(cursor);
    cursor.expectPunct(')');
    return inner;
  }
  return parseComparison(cursor);
}

function parseComparison(cursor: Cursor): Node {
  const column = cursor.column();
  if (cursor.keyword('is')) {
    const negated = cursor.keyword('not');
    const token = cursor.peek();
    if (!cursor.keyword('null')) throw cursor.fail(token, '"null"');
    return { kind: 'null', column, negated };
  }
  const negated = cursor.keyword('not');
  if (cursor.keyword('in')) {
    cursor.expectPunct('(');
    const items = [cursor.literal()];
    while (cursor.punct(',')) items.push(cursor.literal());
    cursor.expectPunct(')');
    // x not in (a, b) = x != a and x != b: false on a null cell, as each != is.
    return { kind: negated ? 'and' : 'or', parts: items.map((v) => equality(column, v, negated)) };
  }
  const like = cursor.keyword('like');
  if (like || cursor.keyword('ilike')) {
    const token = cursor.next();
    if (token.kind !== 'string') throw cursor.fail(token, 'a quoted pattern');
    const re = likeRegExp(token.text, !like);
    return { kind: 'test', column, test: (s) => re.test(s), negated };
  }
  const token = cursor.next();
  const expected = negated
    ? '"in", "like" or "ilike"'
    : 'an operator, "in", "is", "like" or "ilike"';
  if (negated || token.kind !== 'op') throw cursor.fail(token, expected);
  const op = token.text as Op;
  const literal = cursor.literal();
  return op === '=' || op === '!='
    ? equality(column, literal, op === '!=')
    : { kind: 'compare', column, op, literal };
}

/** What a leaf says of one cell (read as its column reads it). */
function cellTest(leaf: Exclude<Node, { kind: 'and' | 'or' | 'not' }>): (cell: Cell) => boolean {
  switch (leaf.kind) {
    case 'compare':
      return (c) => holds(asRead(c, leaf.column), leaf.op, leaf.literal);
    case 'null':
      return (c) => (asRead(c, leaf.column) === null) !== leaf.negated;
    case 'test':
      return (c) => {
        const v = asRead(c, leaf.column);
        return typeof v === 'string' && leaf.test(v) !== leaf.negated;
      };
  }
}

function rowPredicate(node: Node): (row: Row) => boolean {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const parts = node.parts.map(rowPredicate);
      return node.kind === 'and'
        ? (row) => parts.every((p) => p(row))
        : (row) => parts.some((p) => p(row));
    }
    case 'not': {
      const inner = rowPredicate(node.inner);
      return (row) => !inner(row);
    }
    default: {
      const test = cellTest(node);
      const name = node.column.name;
      return (row) => test(row[name] ?? null);
    }
  }
}

/**
 * Parses a `--where` filter into a predicate over run-table rows. The grammar and semantics are
 * in this module's comment: `or` < `and` < `not` < comparison, SQL-like null handling, MLflow's
 * spellings accepted.
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
  return rowPredicate(parseFilter(expr, columns));
}

function parseFilter(expr: string, columns: readonly string[]): Node {
  const cursor = new Cursor(expr, columns, 'filter');
  const node = parseOr(cursor);
  cursor.end();
  return node;
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

type SortKey = { readonly column: ColumnRef; readonly descending: boolean };

/** The kept rows: for each, its batch and its row there. */
type Kept = { readonly batch: number[]; readonly local: number[] };

function parseSortKeys(spec: string, columns: readonly string[]): SortKey[] {
  const cursor = new Cursor(spec, columns, 'sort spec');
  const keys: SortKey[] = [];
  do {
    const column = cursor.column();
    const descending = cursor.keyword('desc');
    if (!descending) cursor.keyword('asc');
    keys.push({ column, descending });
  } while (cursor.punct(','));
  cursor.end();
  return keys;
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
  const keys = parseSortKeys(spec, columns);
  return (a, b) => {
    for (const { column, descending } of keys) {
      const x = asRead(a[column.name] ?? null, column);
      const c = compareForSort(x, asRead(b[column.name] ?? null, column), descending);
      if (c !== 0) return c;
    }
    return 0;
  };
}

// ---- over Arrow columns ----------------------------------------------------------------------

const utf8 = new TextEncoder();
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
const KINDS = { int64: 'number', float64: 'number', bool: 'boolean', utf8: 'string' } as const;

/**
 * `out[i] = 1` where row i of the chunk satisfies `cell op literal`, straight from its buffers;
 * false when the pairing has no such loop (the caller then reads cells one by one).
 */
function compareChunk(chunk: ColumnChunk, op: Op, literal: Cell, out: Uint8Array): boolean {
  const n = chunk.length;
  const ok = SATISFIES[op];
  // A literal of another kind than the column's is false on every row (`!=` too).
  const kind = typeof literal === 'bigint' ? 'number' : typeof literal;
  if (literal === null || KINDS[chunk.type] !== kind) return true;
  const at = chunk.at;
  if (chunk.type === 'utf8') {
    // UTF-8 bytes compare as code points do; a literal with surrogates takes the slow path.
    if (/[\ud800-\udfff]/.test(literal as string)) return false;
    const l = utf8.encode(literal as string);
    const { values: bytes, valueOffsets: offsets } = chunk;
    for (let i = 0; i < n; i++) {
      const s = offsets[at + i]!;
      const length = offsets[at + i + 1]! - s;
      let c = 0;
      for (let j = 0; c === 0 && j < length && j < l.length; j++) c = bytes[s + j]! - l[j]!;
      out[i] = ok(c === 0 ? length - l.length : c) ? 1 : 0;
    }
  } else {
    // The literal in the column's own kind, when exact there (else, and for bool, cell by
    // cell); NaN cells are unordered, as JavaScript's operators say.
    if (chunk.type === 'bool') return false;
    const x = exactAs(chunk.type, literal as number);
    if (x === undefined) return false;
    const v = chunk.values;
    for (let i = 0; i < n; i++) {
      const a = v[at + i]!;
      out[i] = ok(a < x ? -1 : a > x ? 1 : a === x ? 0 : NaN) ? 1 : 0;
    }
  }
  if (chunk.validity !== undefined)
    for (let i = 0; i < n; i++) if (!isValidAt(chunk, i)) out[i] = 0;
  return true;
}

/** A numeric literal as a double (float64) or bigint (int64) when exactly so, else undefined. */
function exactAs(type: 'int64' | 'float64', x: number | bigint): number | bigint | undefined {
  if (type === 'float64') {
    return typeof x === 'number' ? x : -MAX_EXACT <= x && x <= MAX_EXACT ? Number(x) : undefined;
  }
  return typeof x === 'bigint' ? x : Number.isSafeInteger(x) ? BigInt(x) : undefined;
}

type Chunks = ReadonlyMap<string, readonly ColumnChunk[]>;
type Masks = (depth: number) => Uint8Array;

/** The n rows of batch `b` a filter keeps, as 0/1 in a buffer per depth reused batch to batch. */
function mask(
  node: Node,
  chunks: Chunks,
  b: number,
  n: number,
  masks: Masks,
  depth = 0
): Uint8Array {
  if (node.kind === 'and' || node.kind === 'or') {
    const out = mask(node.parts[0]!, chunks, b, n, masks, depth);
    for (const part of node.parts.slice(1)) {
      const m = mask(part, chunks, b, n, masks, depth + 1);
      for (let i = 0; i < n; i++) out[i] = node.kind === 'and' ? out[i]! & m[i]! : out[i]! | m[i]!;
    }
    return out;
  }
  if (node.kind === 'not') {
    const out = mask(node.inner, chunks, b, n, masks, depth);
    for (let i = 0; i < n; i++) out[i]! ^= 1;
    return out;
  }
  const chunk = chunks.get(node.column.name)![b]!;
  const out = masks(depth).fill(0, 0, n);
  if (node.kind === 'null' && !node.column.epochMs) {
    for (let i = 0; i < n; i++) out[i] = isValidAt(chunk, i) === node.negated ? 1 : 0;
    return out;
  }
  if (node.kind === 'compare' && !node.column.epochMs) {
    if (compareChunk(chunk, node.op, node.literal, out)) return out;
  }
  const test = cellTest(node);
  for (let i = 0; i < n; i++) out[i] = test(cellAt(chunk, i)) ? 1 : 0;
  return out;
}

/** A float's bits, to read as two 32-bit words (little-endian hosts: the low word first). */
const FLOAT = new Float64Array(1);
const WORDS = new Uint32Array(FLOAT.buffer);
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/**
 * The kept rows (positions 0…m-1) sorted by one key, stably from the order given. A number key
 * is radix-sorted on 64 bits that order as the key does (direction applied; NaN, then null, last
 * whatever the direction); any other by a comparator.
 */
function sortBy(
  key: SortKey,
  chunks: readonly ColumnChunk[],
  rows: Kept,
  order: number[]
): number[] {
  const m = order.length;
  // By kept row p (what `order` holds), in table order.
  const cells = Array.from({ length: m }, (_, p) =>
    asRead(cellAt(chunks[rows.batch[p]!]!, rows.local[p]!), key.column)
  );
  const type = key.column.epochMs ? undefined : chunks[0]?.type;
  const exact = (c: Cell): boolean => typeof c !== 'bigint' || (-MAX_EXACT <= c && c <= MAX_EXACT);
  if (type === 'utf8' || type === undefined || !cells.every(exact)) {
    return order.sort((p, q) => compareForSort(cells[p]!, cells[q]!, key.descending));
  }
  const hi = new Uint32Array(m);
  const lo = new Uint32Array(m);
  for (let p = 0; p < m; p++) {
    const c = cells[p]!;
    FLOAT[0] = c === null || Number(c) === 0 ? 0 : Number(c);
    let h = WORDS[1 - LOW]!;
    let l = WORDS[LOW]!;
    // Negative numbers flip all bits, others the sign bit: the words then order as the numbers.
    if (h >>> 31 === 1) [h, l] = [~h, ~l];
    else h |= 0x80000000;
    if (key.descending) [h, l] = [~h, ~l];
    const special = rank(c) - 3; // 0: NaN, 1: null
    hi[p] = special >= 0 ? 0xffffffff : h;
    lo[p] = special >= 0 ? 0xfffffffe + special : l;
  }
  // Least significant 16 bits first; each pass a stable counting sort.
  let from = Int32Array.from(order);
  let to = new Int32Array(m);
  const count = new Int32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const [words, shift] = [pass < 2 ? lo : hi, 16 * (pass & 1)];
    count.fill(0);
    for (const p of from) count[((words[p]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 0; d < 65536; d++) count[d + 1]! += count[d]!;
    for (const p of from) to[count[(words[p]! >>> shift) & 0xffff]!++] = p;
    [from, to] = [to, from];
  }
  return Array.from(from);
}

/**
 * The rows a filter keeps, in the order a sort spec gives (ties in table order): the filter and
 * sort of {@link queryTable} over chunked columns, read from their buffers batch by batch, so no
 * row object is built. Both texts are parsed before any row is read.
 *
 * @param columns - the table's columns
 * @param options - where, orderBy
 * @returns row indices from 0 over all batches
 * @throws RunledgerError `USAGE` when a text does not parse or names an unknown column
 * @example
 * ```ts
 * const rows = queryColumns(chunkedColumns(df), { where: "status = 'finished'" });
 * ```
 */
export function queryColumns(columns: ChunkedColumns, options: QueryOptions = {}): number[] {
  const { names: all, lengths } = columns;
  const filter = options.where === undefined ? undefined : parseFilter(options.where, all);
  const keys = options.orderBy === undefined ? [] : parseSortKeys(options.orderBy, all);
  const chunks: Chunks = new Map(all.map((name, j) => [name, columns.chunks[j]!]));
  const rows: number[] = [];
  const kept: Kept = { batch: [], local: [] };
  const buffers: Uint8Array[] = [];
  const longest = lengths.reduce((a, n) => Math.max(a, n), 0);
  const masks = (depth: number): Uint8Array => (buffers[depth] ??= new Uint8Array(longest));
  let start = 0;
  for (const [b, n] of lengths.entries()) {
    const keep = filter === undefined ? undefined : mask(filter, chunks, b, n, masks);
    for (let i = 0; i < n; i++) {
      if (keep !== undefined && keep[i] !== 1) continue;
      rows.push(start + i);
      kept.batch.push(b);
      kept.local.push(i);
    }
    start += n;
  }
  // The last key first, each sort stable: the first key decides, ties in table order.
  let order = Array.from(rows, (_, p) => p);
  for (const key of [...keys].reverse()) {
    order = sortBy(key, chunks.get(key.column.name)!, kept, order);
  }
  return order.map((p) => rows[p]!);
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
 * are parsed before any row is read, so a bad one fails fast. The columns are read from their
 * Arrow buffers, batch by batch, and the rows kept gathered into one record batch.
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
  if (options.where === undefined && options.orderBy === undefined) return table;
  const columns = chunkedColumns(table);
  return gatherColumns(columns, queryColumns(columns, options));
}
