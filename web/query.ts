/**
 * The filter box and the sort keys speak the CLI's query language: this bundles the CLI's own
 * parser (src/tables/query.ts, `parseWhere` and `parseSort`, about 9 KB minified) and runs it
 * over row objects built once from the columnar study. Time columns are read as the CLI reads
 * them, RFC 3339 text, so `started_at > '2026-01-15'` and MLflow's `start_time` work alike.
 */
import { parseSort, parseWhere, type Cell, type Row } from '../src/tables/query.js';
import type { UiRunTable } from '../src/ui/model.js';

/** One key of a sort: a column and its direction. */
export interface SortKey {
  readonly column: string;
  readonly descending: boolean;
}

/** The run table's rows as the query language reads them. */
export class RunQuery {
  readonly names: readonly string[];
  readonly rows: readonly Row[];

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
    for (let i = 0; i < mask.length; i++) if (mask[i] === 1) out.push(i);
    if (keys.length > 0) {
      const compare = parseSort(formatSort(keys), this.names);
      const rows = this.rows;
      out.sort((a, b) => compare(rows[a]!, rows[b]!));
    }
    return out;
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
