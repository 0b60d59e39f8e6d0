/**
 * The page's shared state: the study, which experiments' runs are shown, the filter (query text),
 * the brushing mask a chart sets, the sort, the selection and the table's columns. Every view
 * reads it and listens for changes, so selecting in one view highlights in the others.
 */
import type { UiColumn, UiStudy } from '../src/ui/model.js';
import { RunQuery, type SortKey } from './query.js';

/** What changed: views redraw only what depends on it. */
export type Change = 'rows' | 'selection' | 'columns' | 'sort';

/** The shared state of one page. */
export class ViewState {
  readonly study: UiStudy;
  readonly query: RunQuery;
  /** Rows in all. */
  readonly size: number;
  readonly #columns = new Map<string, UiColumn>();
  readonly #rowOf = new Map<string, number>();
  readonly #listeners = new Set<(c: Change) => void>();

  /** Experiments (indices into `study.experiments`) whose runs are shown; empty: all. */
  shown: ReadonlySet<number> = new Set();
  where = '';
  /** The filter's error message, when it does not parse (the filter then keeps every row). */
  whereError: string | null = null;
  /** The rows a chart's brush keeps (1), or null for no brush. */
  brush: Uint8Array | null = null;
  sort: readonly SortKey[] = [];
  selection: ReadonlySet<number> = new Set();
  /** The table's chosen columns, in order. */
  columns: readonly string[];
  onlyDiffering = false;

  #filtered: Uint8Array | null = null;
  #visible: Uint8Array | null = null;
  #order: number[] | null = null;

  constructor(study: UiStudy) {
    this.study = study;
    this.query = new RunQuery(study.runs);
    this.size = study.runs.runId.length;
    for (const c of study.runs.columns) this.#columns.set(c.name, c);
    for (let i = 0; i < this.size; i++) this.#rowOf.set(this.keyOf(i), i);
    this.columns = defaultColumns(study);
  }

  /** A column by its name. */
  column(name: string): UiColumn | undefined {
    return this.#columns.get(name);
  }

  /** Row `i`'s key as URLs write it: `<experiment id>:<run id>`. */
  keyOf(i: number): string {
    const e = this.study.experiments[this.study.runs.experiment[i]!]!;
    return `${e.id}:${this.study.runs.runId[i]}`;
  }

  /** The row of a key, or undefined when the study has no such run. */
  rowOf(key: string): number | undefined {
    return this.#rowOf.get(key);
  }

  /** Row `i`'s experiment id and run id. */
  runOf(i: number): { experiment: string; runId: number } {
    return {
      experiment: this.study.experiments[this.study.runs.experiment[i]!]!.id,
      runId: this.study.runs.runId[i]!,
    };
  }

  /** Rows of the shown experiments that pass the filter (the brush not applied). */
  filtered(): Uint8Array {
    if (this.#filtered === null) {
      const within = new Uint8Array(this.size);
      const exp = this.study.runs.experiment;
      for (let i = 0; i < this.size; i++) {
        within[i] = this.shown.size === 0 || this.shown.has(exp[i]!) ? 1 : 0;
      }
      try {
        this.#filtered = this.query.filter(this.where, within);
        this.whereError = null;
      } catch (e) {
        this.whereError = e instanceof Error ? e.message : String(e);
        this.#filtered = within;
      }
    }
    return this.#filtered;
  }

  /** Rows shown: filtered, and kept by the brush. */
  visible(): Uint8Array {
    if (this.#visible === null) {
      const f = this.filtered();
      const b = this.brush;
      if (b === null) this.#visible = f;
      else {
        const v = new Uint8Array(this.size);
        for (let i = 0; i < this.size; i++) v[i] = f[i]! & b[i]!;
        this.#visible = v;
      }
    }
    return this.#visible;
  }

  /** The visible rows in the sort's order (table order when the sort names an unknown column). */
  order(): readonly number[] {
    if (this.#order === null) {
      try {
        this.#order = this.query.order(this.visible(), this.sort);
      } catch {
        this.#order = this.query.order(this.visible(), []);
      }
    }
    return this.#order;
  }

  /** Sets what rows are shown; listeners hear `rows`. */
  setRows(o: { shown?: ReadonlySet<number>; where?: string; brush?: Uint8Array | null }): void {
    if (o.shown !== undefined) this.shown = o.shown;
    if (o.where !== undefined) this.where = o.where;
    if (o.brush !== undefined) this.brush = o.brush;
    if (o.shown !== undefined || o.where !== undefined) this.#filtered = null;
    this.#visible = null;
    this.#order = null;
    this.emit('rows');
  }

  setSort(keys: readonly SortKey[]): void {
    this.sort = keys;
    this.#order = null;
    this.emit('sort');
  }

  setSelection(rows: ReadonlySet<number>): void {
    this.selection = rows;
    this.emit('selection');
  }

  /** Adds the row to the selection, or takes it out when there. */
  toggle(row: number): void {
    const next = new Set(this.selection);
    if (next.has(row)) next.delete(row);
    else next.add(row);
    this.setSelection(next);
  }

  setColumns(names: readonly string[], onlyDiffering = this.onlyDiffering): void {
    this.columns = names.filter((n) => this.#columns.has(n));
    this.onlyDiffering = onlyDiffering;
    this.emit('columns');
  }

  /** Calls `listener` on every change until the returned function is called. */
  on(listener: (c: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(change: Change): void {
    for (const l of [...this.#listeners]) l(change);
  }

  /** The selection's keys, in table order. */
  selectedKeys(): string[] {
    return [...this.selection].sort((a, b) => a - b).map((i) => this.keyOf(i));
  }

  /** The rows of keys, skipping unknown ones. */
  rowsOf(keys: readonly string[]): Set<number> {
    const out = new Set<number>();
    for (const k of keys) {
      const r = this.rowOf(k);
      if (r !== undefined) out.add(r);
    }
    return out;
  }
}

/** The columns shown before any choice: the run's own, parameters, metrics, tags (up to 24). */
export function defaultColumns(study: UiStudy): string[] {
  const skip = new Set(['description', 'labels', 'ended_at', 'resumed_from', 'parent_run_id']);
  // The experiment's reference and project only tell rows apart across experiments.
  const projects = new Set(study.experiments.map((e) => e.project));
  // The full reference only when a project has several experiments (its tags tell them apart).
  if (projects.size === study.experiments.length) skip.add('experiment');
  if (projects.size <= 1) skip.add('project');
  const out: string[] = [];
  for (const kind of ['run', 'param', 'metric', 'tag'] as const) {
    for (const c of study.runs.columns) {
      if (c.kind === kind && !skip.has(c.name) && out.length < 24) out.push(c.name);
    }
  }
  return out;
}
