/**
 * The filter box and the sort keys speak the CLI's query language: this bundles the CLI's own
 * parser (src/tables/query.ts, `parseWhere` and `parseSort`, about 9 KB minified) and runs it
 * over row objects built once from the columnar study. Time columns are read as the CLI reads
 * them, RFC 3339 text, so `started_at > '2026-01-15'` and MLflow's `start_time` work alike.
 */
import { compareCodePoints } from '../src/formats/code-points.js';
import { parseSort, parseWhere, type Cell, type Row } from '../src/tables/query.js';
import type { UiRunTable } from '../src/ui/model.js';

/** One key of a sort: a column and its direction. */
export interface SortKey {
  readonly column: string;
  readonly descending: boolean;
}

/**
 * A column prepared for sorting, once: its rows in the CLI's ascending order (`perm`, ties in
 * table order), each row's place in that order (`pos`, equal for equal cells) and its kind's
 * rank (booleans 0, numbers 1, strings 2, NaN 3, null 4). A sort on one key is then a walk
 * along `perm`, and a sort on several compares integers.
 */
interface SortColumn {
  readonly rank: Uint8Array;
  readonly pos: Int32Array;
  readonly perm: Int32Array;
}

/** The run table's rows as the query language reads them. */
export class RunQuery {
  readonly names: readonly string[];
  readonly rows: readonly Row[];
  readonly #sortColumns = new Map<string, SortColumn>();

  constructor(table: UiRunTable) {
    this.names = table.columns.map((c) => c.name);
    const n = table.runId.length;
    const rows: Record<string, Cell>[] = Array.from({ length: n }, () => ({}));
    for (const c of table.columns) {
      const { name, values } = c;
      if (c.type === 'time') {
        for (let i = 0; i < n; i++) {
          const v = values[i];
          rows[i]![name] = typeof v === 'number' ? new Date(v).toISOString() : (v ?? null);
        }
      } else {
        for (let i = 0; i < n; i++) rows[i]![name] = values[i] ?? null;
      }
    }
    this.rows = rows;
  }

  /**
   * The rows the filter keeps (`1`) among those `within` keeps (all when absent).
   * @throws the CLI's `USAGE` error (its message names the problem) when `where` does not parse
   */
  filter(where: string, within?: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.rows.length);
    const keep = where.trim() === '' ? () => true : parseWhere(where, this.names);
    for (let i = 0; i < this.rows.length; i++) {
      if ((within === undefined || within[i] === 1) && keep(this.rows[i]!)) out[i] = 1;
    }
    return out;
  }

  /**
   * The row indices `mask` keeps, in the order of `keys` (stable: equal rows keep table order).
   * @throws the CLI's `USAGE` error when a key names an unknown column
   */
  order(mask: Uint8Array, keys: readonly SortKey[]): number[] {
    const out: number[] = [];
    if (keys.length === 0) {
      for (let i = 0; i < mask.length; i++) if (mask[i] === 1) out.push(i);
      return out;
    }
    // The CLI's comparator checks the names (and is the reference for the order).
    const compare = parseSort(formatSort(keys), this.names);
    const rows = this.rows;
    if (!keys.every((k) => this.names.includes(k.column))) {
      // An alias (MLflow's start_time…): the CLI's comparator, row by row.
      for (let i = 0; i < mask.length; i++) if (mask[i] === 1) out.push(i);
      out.sort((a, b) => compare(rows[a]!, rows[b]!));
      return out;
    }
    const cols = keys.map((k) => this.#sortColumn(k.column));
    if (keys.length === 1) {
      const { perm, pos, rank } = cols[0]!;
      if (!keys[0]!.descending) {
        for (const i of perm) if (mask[i] === 1) out.push(i);
        return out;
      }
      // Descending: the groups of equal cells from the last, each in table order; null and
      // NaN stay last.
      let end = perm.length;
      while (end > 0 && rank[perm[end - 1]!]! >= 3) end--;
      for (let hi = end; hi > 0; ) {
        let lo = hi - 1;
        while (lo > 0 && pos[perm[lo - 1]!] === pos[perm[hi - 1]!]) lo--;
        for (let j = lo; j < hi; j++) if (mask[perm[j]!] === 1) out.push(perm[j]!);
        hi = lo;
      }
      for (let j = end; j < perm.length; j++) if (mask[perm[j]!] === 1) out.push(perm[j]!);
      return out;
    }
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) out.push(i);
    const descending = keys.map((k) => k.descending);
    out.sort((a, b) => {
      for (let k = 0; k < cols.length; k++) {
        const { pos, rank } = cols[k]!;
        const c = pos[a]! - pos[b]!;
        if (c === 0) continue;
        // Null and NaN stay last whichever the direction.
        return descending[k] && rank[a]! < 3 && rank[b]! < 3 ? -c : c;
      }
      return 0;
    });
    return out;
  }

  #sortColumn(name: string): SortColumn {
    let prepared = this.#sortColumns.get(name);
    if (prepared !== undefined) return prepared;
    const n = this.rows.length;
    const rank = new Uint8Array(n);
    const value = new Float64Array(n);
    const strings = new Set<string>();
    for (let i = 0; i < n; i++) {
      const v = this.rows[i]![name] ?? null;
      if (typeof v === 'string') strings.add(v);
    }
    const ordinal = new Map([...strings].sort(compareCodePoints).map((t, i) => [t, i]));
    for (let i = 0; i < n; i++) {
      const v = this.rows[i]![name] ?? null;
      if (v === null) rank[i] = 4;
      else if (typeof v === 'boolean') value[i] = v ? 1 : 0;
      else if (typeof v === 'string') {
        rank[i] = 2;
        value[i] = ordinal.get(v)!;
      } else if (typeof v === 'number' && Number.isNaN(v)) rank[i] = 3;
      else {
        rank[i] = 1;
        value[i] = Number(v);
      }
    }
    // Not x - y: two infinities of one sign are equal, and their difference is NaN.
    const cmp = (a: number, b: number): number => {
      const ra = rank[a]!;
      const rb = rank[b]!;
      if (ra !== rb) return ra - rb;
      if (ra >= 3) return 0;
      const x = value[a]!;
      const y = value[b]!;
      return x < y ? -1 : x > y ? 1 : 0;
    };
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    // Stable: ties keep table order.
    const sorted = Array.from(perm).sort((a, b) => cmp(a, b) || a - b);
    perm.set(sorted);
    const pos = new Int32Array(n);
    for (let j = 1; j < n; j++) {
      const i = perm[j]!;
      pos[i] = cmp(perm[j - 1]!, i) === 0 ? pos[perm[j - 1]!]! : j;
    }
    prepared = { rank, pos, perm };
    this.#sortColumns.set(name, prepared);
    return prepared;
  }
}

const WORD = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'like', 'ilike', 'asc', 'desc']);

/** A column name as the query language writes it: bare when it can be, else in backquotes. */
export function quoteColumn(name: string): string {
  return WORD.test(name) && !KEYWORDS.has(name.toLowerCase()) ? name : `\`${name}\``;
}

/** Sort keys as the CLI's `--sort` spec: `metrics.loss desc, run_id`. */
export function formatSort(keys: readonly SortKey[]): string {
  return keys.map((k) => quoteColumn(k.column) + (k.descending ? ' desc' : '')).join(', ');
}

/** Reads a `--sort` spec back into keys (the names are checked when the keys are used). */
export function parseSortSpec(spec: string): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of spec.match(/(`[^`]*`|[^,`])+/g) ?? []) {
    const m = /^\s*(`[^`]*`|\S+?)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (m === null) continue;
    const raw = m[1]!;
    keys.push({
      column: raw.startsWith('`') ? raw.slice(1, -1) : raw,
      descending: m[2]?.toLowerCase() === 'desc',
    });
  }
  return keys;
}
