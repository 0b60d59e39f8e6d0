/**
 * The runs table: virtualised (only the rows in sight are in the DOM), sorted by clicking headers
 * (shift adds a key), filtered by the shared filter box, with a column picker that remembers its
 * choice per set of columns, an "only columns that differ" toggle, failed and interrupted runs
 * marked. Click selects (Ctrl/⌘ toggles, Shift extends), double-click or Enter opens the run.
 */
import type { UiColumn } from '../../src/ui/model.js';
import { viewHash, type Context, type View } from '../context.js';
import { clear, fill, formatCell, h } from '../dom.js';
import { formatSort, type SortKey } from '../query.js';
import { formatHash } from '../router.js';
import { defaultColumns } from '../state.js';

/** Row height in pixels (the CSS's `--row`). */
export const ROW_HEIGHT = 28;
const OVERSCAN = 8;

function width(c: UiColumn): number {
  if (c.name === 'run_id') return 72;
  if (c.name === 'status') return 104;
  if (c.type === 'time') return 168;
  if (c.name === 'name' || c.name === 'project') return 170;
  return Math.min(190, Math.max(96, c.name.length * 7.5 + 28));
}

/** A stable short hash of a string (FNV-1a), for the column picker's storage key. */
function fnv(s: string): string {
  let x = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return (x >>> 0).toString(36);
}

/** The localStorage key of the column choice for a study's set of columns. */
export function columnsKey(names: readonly string[]): string {
  return `runledger.columns.${fnv([...names].sort().join('\n'))}`;
}

/** The columns whose values differ among `rows` (a column with one value everywhere does not). */
export function differingColumns(
  columns: readonly UiColumn[],
  rows: readonly number[]
): Set<string> {
  const out = new Set<string>();
  for (const c of columns) {
    if (rows.length === 0) continue;
    const first = c.values[rows[0]!] ?? null;
    for (const r of rows) {
      if ((c.values[r] ?? null) !== first) {
        out.add(c.name);
        break;
      }
    }
  }
  return out;
}

/** The runs table view. */
export function runsView(ctx: Context): View {
  const { state } = ctx;
  const table = state.study.runs;
  let cursor = 0; // position in order() of the keyboard cursor
  let anchor: number | null = null;

  const grid = h('div', {
    class: 'grid',
    role: 'grid',
    tabindex: 0,
    'aria-label': 'Runs',
    'aria-multiselectable': 'true',
  });
  const head = h('div', { class: 'grid-head', role: 'row' });
  const body = h('div', { class: 'grid-body', role: 'rowgroup' });
  grid.append(head, body);
  const count = h('span', { class: 'count', 'data-testid': 'row-count' });
  const differ = h('input', { type: 'checkbox', id: 'only-differ' });
  const picker = columnPicker(ctx, () => render());
  const selectionBar = h('span', { class: 'selection-bar' });
  const el = h(
    'section',
    { class: 'view runs-view' },
    h(
      'div',
      { class: 'toolbar' },
      count,
      picker,
      h('label', { class: 'toggle' }, differ, ' only columns that differ'),
      selectionBar
    ),
    grid
  );
  differ.checked = state.onlyDiffering;
  differ.addEventListener('change', () => state.setColumns(state.columns, differ.checked));

  let shownColumns: UiColumn[] = [];
  let totalWidth = 0;

  function computeColumns(): void {
    let cols = state.columns.map((n) => state.column(n)).filter((c) => c !== undefined);
    if (state.onlyDiffering) {
      const differing = differingColumns(cols, state.order());
      // The run's key stays: rows must stay recognisable.
      cols = cols.filter((c) => c.name === 'run_id' || differing.has(c.name));
    }
    shownColumns = cols;
    totalWidth = cols.reduce((n, c) => n + width(c), 0);
  }

  function sortMark(name: string): string {
    const i = state.sort.findIndex((k) => k.column === name);
    if (i < 0) return '';
    const arrow = state.sort[i]!.descending ? '▼' : '▲';
    return state.sort.length > 1 ? `${arrow}${i + 1}` : arrow;
  }

  function renderHead(): void {
    clear(head);
    head.style.width = `${totalWidth}px`;
    for (const c of shownColumns) {
      const i = state.sort.findIndex((k) => k.column === c.name);
      const sortState = i < 0 ? 'none' : state.sort[i]!.descending ? 'descending' : 'ascending';
      const cell = h(
        'div',
        {
          class: `cell head-cell ${c.type === 'number' ? 'num' : ''}`,
          role: 'columnheader',
          'aria-sort': sortState,
          'data-column': c.name,
          tabindex: 0,
          title: `${c.name} (${c.kind}, ${c.type}): click to sort, shift-click to add a key`,
        },
        h('span', { class: 'head-name' }, c.name),
        h('span', { class: 'sort-mark' }, sortMark(c.name))
      );
      cell.style.width = `${width(c)}px`;
      cell.addEventListener('click', (e) => clickSort(c.name, e.shiftKey));
      cell.addEventListener('keydown', (e) => {
        // A header sorts from the keyboard as by a click; the rows' keys stay the rows'.
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        e.stopPropagation();
        clickSort(c.name, e.shiftKey);
        head.querySelector<HTMLElement>(`[data-column="${CSS.escape(c.name)}"]`)?.focus();
      });
      head.append(cell);
    }
  }

  function clickSort(name: string, add: boolean): void {
    const i = state.sort.findIndex((k) => k.column === name);
    let keys: SortKey[];
    const current = i < 0 ? undefined : state.sort[i];
    // Each click goes ascending → descending → unsorted.
    const next: SortKey | null =
      current === undefined
        ? { column: name, descending: false }
        : current.descending
          ? null
          : { column: name, descending: true };
    if (add) {
      keys = [...state.sort];
      if (i < 0) keys.push(next!);
      else if (next === null) keys.splice(i, 1);
      else keys[i] = next;
    } else {
      keys = next === null ? [] : [next];
    }
    state.setSort(keys);
  }

  function renderRows(): void {
    const order = state.order();
    body.style.height = `${order.length * ROW_HEIGHT}px`;
    body.style.width = `${totalWidth}px`;
    const top = Math.max(0, grid.scrollTop - ROW_HEIGHT);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const inSight = Math.ceil((grid.clientHeight || 800) / ROW_HEIGHT);
    const last = Math.min(order.length, first + inSight + 2 * OVERSCAN);
    const rows: HTMLElement[] = [];
    const status = table.status;
    for (let p = first; p < last; p++) {
      const r = order[p]!;
      const selected = state.selection.has(r);
      const row = h('div', {
        class: `row status-${status[r]}${selected ? ' selected' : ''}${p === cursor ? ' cursor' : ''}`,
        role: 'row',
        'aria-selected': selected ? 'true' : 'false',
        'aria-rowindex': p + 2,
        'data-row': r,
        'data-key': state.keyOf(r),
      });
      row.style.transform = `translateY(${p * ROW_HEIGHT}px)`;
      for (const c of shownColumns) {
        const v = c.values[r] ?? null;
        const cell = h(
          'div',
          { class: `cell ${c.type === 'number' ? 'num' : ''}`, role: 'gridcell' },
          c.name === 'status'
            ? h('span', { class: `badge status-${String(v)}` }, formatCell(v))
            : formatCell(v, c.type)
        );
        cell.style.width = `${width(c)}px`;
        row.append(cell);
      }
      rows.push(row);
    }
    body.replaceChildren(...rows);
    grid.setAttribute('aria-rowcount', String(order.length + 1));
    const total = state.filtered();
    let filtered = 0;
    for (let i = 0; i < total.length; i++) filtered += total[i]!;
    count.textContent =
      `${order.length.toLocaleString('en')} of ${state.size.toLocaleString('en')} runs` +
      (state.brush !== null && filtered !== order.length ? ' (brushed)' : '');
    count.dataset['rows'] = String(order.length);
    renderSelectionBar();
  }

  function renderSelectionBar(): void {
    const n = state.selection.size;
    if (n === 0) {
      selectionBar.replaceChildren(
        h(
          'span',
          { class: 'muted' },
          'click a row to select it, double-click (or Enter) to open it'
        )
      );
      return;
    }
    const sel = state.selectedKeys();
    fill(
      selectionBar,
      h('span', null, `${n} selected`),
      n >= 2
        ? h('a', { href: formatHash('diff', [], { runs: sel, sel }), class: 'button' }, 'Compare')
        : null,
      h('a', { href: viewHash(state, 'curves'), class: 'button' }, 'Curves'),
      h('button', { type: 'button', onclick: () => state.setSelection(new Set()) }, 'Clear')
    );
  }

  function render(): void {
    computeColumns();
    renderHead();
    renderRows();
  }

  let frame = 0;
  grid.addEventListener('scroll', () => {
    if (frame === 0) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        renderRows();
      });
    }
  });

  function rowAt(target: EventTarget | null): number | undefined {
    const row = (target as HTMLElement | null)?.closest?.('.row') as HTMLElement | null;
    return row === null || row === undefined ? undefined : Number(row.dataset['row']);
  }

  function open(r: number): void {
    const { experiment, runId } = state.runOf(r);
    ctx.go(formatHash('run', [experiment, runId], { sel: state.selectedKeys() }));
  }

  body.addEventListener('click', (e) => {
    const r = rowAt(e.target);
    if (r === undefined) return;
    const order = state.order();
    const p = order.indexOf(r);
    if (e.shiftKey && anchor !== null) {
      const a = order.indexOf(anchor);
      const next = new Set(state.selection);
      for (let i = Math.min(a, p); i <= Math.max(a, p); i++) next.add(order[i]!);
      state.setSelection(next);
    } else if (e.ctrlKey || e.metaKey) {
      state.toggle(r);
      anchor = r;
    } else {
      const only = state.selection.size === 1 && state.selection.has(r);
      state.setSelection(only ? new Set() : new Set([r]));
      anchor = r;
    }
    cursor = p;
    renderRows();
  });
  body.addEventListener('dblclick', (e) => {
    const r = rowAt(e.target);
    if (r !== undefined) open(r);
  });

  function moveCursor(p: number): void {
    const order = state.order();
    if (order.length === 0) return;
    cursor = Math.max(0, Math.min(order.length - 1, p));
    const y = cursor * ROW_HEIGHT;
    const headH = head.offsetHeight;
    if (y < grid.scrollTop) grid.scrollTop = y;
    else if (y + ROW_HEIGHT > grid.scrollTop + grid.clientHeight - headH) {
      grid.scrollTop = y + ROW_HEIGHT - grid.clientHeight + headH;
    }
    renderRows();
  }

  grid.addEventListener('keydown', (e) => {
    const order = state.order();
    const page = Math.max(1, Math.floor(grid.clientHeight / ROW_HEIGHT) - 1);
    const r = order[cursor];
    switch (e.key) {
      case 'ArrowDown':
        moveCursor(cursor + 1);
        break;
      case 'ArrowUp':
        moveCursor(cursor - 1);
        break;
      case 'PageDown':
        moveCursor(cursor + page);
        break;
      case 'PageUp':
        moveCursor(cursor - page);
        break;
      case 'Home':
        moveCursor(0);
        break;
      case 'End':
        moveCursor(order.length - 1);
        break;
      case ' ':
        if (r !== undefined) state.toggle(r);
        break;
      case 'Enter':
        if (r !== undefined) open(r);
        break;
      case 'Escape':
        if (state.selection.size === 0) return;
        state.setSelection(new Set());
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  const off = state.on((change) => {
    if (change === 'selection') renderRows();
    else {
      if (change === 'rows' || change === 'sort')
        cursor = Math.min(cursor, Math.max(0, state.order().length - 1));
      render();
    }
    ctx.refreshHash();
  });

  // First paint after the element is in the document (the window needs its height).
  requestAnimationFrame(() => {
    render();
    grid.focus({ preventScroll: true });
  });
  render();

  return {
    el,
    hash: () =>
      viewHash(state, 'runs', {
        sort: formatSort(state.sort),
        cols: state.columns.join(',') === '' ? null : state.columns,
        differ: state.onlyDiffering,
      }),
    dispose: () => {
      off();
      cancelAnimationFrame(frame);
    },
  };
}

/** The column picker: a pop-over of checkboxes by kind, remembered in localStorage. */
function columnPicker(ctx: Context, onChange: () => void): HTMLElement {
  const { state } = ctx;
  const all = state.study.runs.columns;
  const list = h('div', { class: 'picker-list' });
  const search = h('input', {
    type: 'search',
    placeholder: 'find a column',
    'aria-label': 'Find a column',
  });
  const details = h(
    'details',
    { class: 'picker' },
    h('summary', { class: 'button' }, 'Columns'),
    h(
      'div',
      { class: 'picker-panel' },
      search,
      h(
        'div',
        { class: 'picker-actions' },
        h('button', { type: 'button', onclick: () => choose(all.map((c) => c.name)) }, 'All'),
        h('button', { type: 'button', onclick: () => choose(['run_id']) }, 'None'),
        h('button', { type: 'button', onclick: () => choose(null) }, 'Default')
      ),
      list
    )
  );

  function choose(names: readonly string[] | null): void {
    const key = columnsKey(all.map((c) => c.name));
    if (names === null) {
      localStorage.removeItem(key);
      state.setColumns(defaultOf());
    } else {
      state.setColumns(names);
      localStorage.setItem(key, JSON.stringify(state.columns));
    }
    renderList();
    onChange();
  }

  const defaultOf = (): string[] => defaultColumns(state.study);

  function renderList(): void {
    const q = search.value.trim().toLowerCase();
    const chosen = new Set(state.columns);
    const groups: HTMLElement[] = [];
    for (const kind of ['run', 'param', 'metric', 'tag', 'attribute'] as const) {
      const cols = all.filter((c) => c.kind === kind && c.name.toLowerCase().includes(q));
      if (cols.length === 0) continue;
      groups.push(
        h(
          'fieldset',
          null,
          h('legend', null, kind === 'run' ? 'run' : `${kind}s`),
          cols.map((c) => {
            const box = h('input', { type: 'checkbox', 'data-column': c.name });
            box.checked = chosen.has(c.name);
            box.addEventListener('change', () => {
              const next = box.checked
                ? all.map((x) => x.name).filter((n) => n === c.name || chosen.has(n))
                : state.columns.filter((n) => n !== c.name);
              choose(next);
            });
            return h('label', null, box, ' ', c.name);
          })
        )
      );
    }
    list.replaceChildren(...groups);
  }
  search.addEventListener('input', renderList);
  details.addEventListener('toggle', renderList);
  details.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && details.open) {
      details.open = false;
      e.stopPropagation();
    }
  });
  return details;
}
