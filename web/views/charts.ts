/**
 * The chart views around H-C's charts (web/charts/): parallel coordinates whose brush filters
 * every view, a scatter of any column against any other coloured by a third, and the metric
 * curves of the selected runs (or the first 50 shown when none is selected). Each chart reads
 * the shared state and redraws when it changes.
 */
import type { UiColumn } from '../../src/ui/model.js';
import type { Axis, ChartHandle } from '../charts/common.js';
import { createCurves, type CurveSeries, type CurvesOptions } from '../charts/curves.js';
import { createParallel, type ParallelOptions } from '../charts/parallel.js';
import { createScatter, type ScatterOptions } from '../charts/scatter.js';
import { viewHash, type Context, type View } from '../context.js';
import { h } from '../dom.js';
import { listParam, param, type Route } from '../router.js';
import type { ViewState } from '../state.js';

/** The most runs the curves view draws when none is selected. */
export const CURVES_DEFAULT_RUNS = 50;

function axisOf(c: UiColumn): Axis {
  return { name: c.name, values: c.values };
}

/** Columns a chart can draw: parameters, metrics and the run's numbers (not names or times). */
function chartColumns(state: ViewState): UiColumn[] {
  return state.study.runs.columns.filter(
    (c) =>
      c.kind === 'param' ||
      c.kind === 'metric' ||
      c.kind === 'attribute' ||
      c.kind === 'tag' ||
      c.name === 'duration_ms' ||
      c.name === 'status' ||
      c.name === 'project'
  );
}

function columnSelect(
  columns: readonly UiColumn[],
  value: string,
  label: string,
  allowNone: boolean
): HTMLSelectElement {
  const select = h(
    'select',
    { 'aria-label': label, name: label },
    allowNone ? h('option', { value: '' }, '(none)') : null,
    columns.map((c) => h('option', { value: c.name }, c.name))
  );
  select.value = value;
  return select;
}

/** A run's name for a chart's tooltip, else `run <id>`. */
function runLabel(state: ViewState, row: number): string {
  const name = state.column('name')?.values[row];
  return typeof name === 'string' && name !== '' ? name : `run ${state.study.runs.runId[row]}`;
}

function failedMask(state: ViewState): Uint8Array {
  const out = new Uint8Array(state.size);
  const s = state.study.runs.status;
  for (let i = 0; i < state.size; i++) out[i] = s[i] === 'failed' || s[i] === 'interrupted' ? 1 : 0;
  return out;
}

/** `#/parallel?axes=…&color=…` */
export function parallelView(ctx: Context, route: Route): View {
  const { state } = ctx;
  const columns = chartColumns(state);
  const names = new Set(columns.map((c) => c.name));
  let axes = listParam(route, 'axes').filter((n) => names.has(n));
  if (axes.length === 0) {
    const params = columns.filter((c) => c.kind === 'param').slice(0, 6);
    const metrics = columns.filter((c) => c.kind === 'metric').slice(0, 2);
    axes = [...params, ...metrics].map((c) => c.name);
  }
  let color = param(route, 'color', columns.find((c) => c.kind === 'metric')?.name ?? '');
  const chips = h('span', { class: 'chips' });
  const add = columnSelect(columns, '', 'add axis', true);
  add.options[0]!.textContent = 'add an axis…';
  const colorSelect = columnSelect(columns, color, 'colour', true);
  const brushNote = h('span', { class: 'muted' });
  const chartEl = h('div', { class: 'chart-host', 'data-chart': 'parallel' });
  const el = h(
    'section',
    { class: 'view chart-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('strong', null, 'Axes'),
      chips,
      add,
      h('label', null, 'colour ', colorSelect),
      brushNote
    ),
    chartEl,
    h(
      'p',
      { class: 'muted' },
      'Drag along an axis to brush (filters every view); click a brushed range to clear it; click a line to select its run.'
    )
  );
  const axisList = (): Axis[] =>
    axes
      .map((n) => state.column(n))
      .filter((c) => c !== undefined)
      .map(axisOf);
  const colorAxis = (): Axis | undefined => {
    const c = state.column(color);
    return c === undefined ? undefined : axisOf(c);
  };
  const base = {
    rows: state.size,
    visible: state.filtered(),
    highlighted: state.selection,
    failed: failedMask(state),
    onBrush: (mask: Uint8Array | null) => state.setRows({ brush: mask }),
    onPick: (row: number) => state.toggle(row),
    label: (row: number) => runLabel(state, row),
  };
  let chart: ChartHandle<ParallelOptions> | null = null;
  // Charts are made once the view is in the document: they size themselves to their host.
  const mount = (): void => {
    const c = colorAxis();
    chart = createParallel(chartEl, {
      ...base,
      axes: axisList(),
      ...(c !== undefined ? { colorBy: c } : {}),
    });
  };

  function renderChips(): void {
    chips.replaceChildren(
      ...axes.map((n, i) =>
        h(
          'span',
          { class: 'chip' },
          n,
          h(
            'button',
            {
              type: 'button',
              class: 'chip-x',
              'aria-label': `Remove axis ${n}`,
              onclick: () => {
                axes = axes.filter((_, j) => j !== i);
                changed();
              },
            },
            '×'
          )
        )
      )
    );
    brushNote.textContent = state.brush === null ? '' : 'brushed';
  }
  function changed(): void {
    renderChips();
    // A changed set of axes drops the brush: its ranges were on the old axes.
    if (state.brush !== null) state.setRows({ brush: null });
    const ca = colorAxis();
    chart?.update({ axes: axisList(), ...(ca !== undefined ? { colorBy: ca } : {}) });
    ctx.refreshHash();
  }
  add.addEventListener('change', () => {
    if (add.value !== '' && !axes.includes(add.value)) axes = [...axes, add.value];
    add.value = '';
    changed();
  });
  colorSelect.addEventListener('change', () => {
    color = colorSelect.value;
    const ca = colorAxis();
    chart?.update(ca !== undefined ? { colorBy: ca } : {});
    ctx.refreshHash();
  });
  renderChips();
  const off = state.on((change) => {
    if (change === 'rows') {
      // The brush cleared elsewhere (the header's chip): the chart drops its ranges too.
      chart?.update({
        visible: state.filtered(),
        ...(state.brush === null ? { brush: null } : {}),
      });
      brushNote.textContent = state.brush === null ? '' : 'brushed';
    } else if (change === 'selection') chart?.update({ highlighted: state.selection });
    ctx.refreshHash();
  });
  return {
    el,
    mounted: mount,
    hash: () => viewHash(state, 'parallel', { axes, color }),
    dispose: () => {
      off();
      chart?.destroy();
    },
  };
}

/** `#/scatter?x=…&y=…&color=…` */
export function scatterView(ctx: Context, route: Route): View {
  const { state } = ctx;
  const columns = chartColumns(state);
  const firstParam = columns.find((c) => c.kind === 'param' && c.type === 'number') ?? columns[0];
  const firstMetric = columns.find((c) => c.kind === 'metric') ?? columns[1] ?? firstParam;
  let x = param(route, 'x', firstParam?.name ?? '');
  let y = param(route, 'y', firstMetric?.name ?? '');
  let color = param(route, 'color', '');
  let xlog = param(route, 'xlog') === '1';
  let ylog = param(route, 'ylog') === '1';
  const xs = columnSelect(columns, x, 'x', false);
  const ys = columnSelect(columns, y, 'y', false);
  const cs = columnSelect(columns, color, 'colour', true);
  const xl = h('input', { type: 'checkbox', name: 'xlog' });
  const yl = h('input', { type: 'checkbox', name: 'ylog' });
  xl.checked = xlog;
  yl.checked = ylog;
  const chartEl = h('div', { class: 'chart-host', 'data-chart': 'scatter' });
  const el = h(
    'section',
    { class: 'view chart-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'x ', xs),
      h('label', { class: 'toggle' }, xl, ' log'),
      h('label', null, 'y ', ys),
      h('label', { class: 'toggle' }, yl, ' log'),
      h('label', null, 'colour ', cs)
    ),
    chartEl,
    h(
      'p',
      { class: 'muted' },
      'Click a point to select its run; Ctrl/⌘-click adds it to the selection.'
    )
  );
  const axis = (n: string, log = false): Axis => {
    const c = state.column(n);
    if (c === undefined) return { name: n, values: [] };
    return log ? { ...axisOf(c), log: true } : axisOf(c);
  };
  let chart: ChartHandle<ScatterOptions> | null = null;
  const mount = (): void => {
    chart = createScatter(chartEl, {
      x: axis(x, xlog),
      y: axis(y, ylog),
      ...(color !== '' ? { color: axis(color) } : {}),
      rows: state.size,
      visible: state.visible(),
      highlighted: state.selection,
      onPick: (row, additive) =>
        additive ? state.toggle(row) : state.setSelection(new Set([row])),
      label: (row) => runLabel(state, row),
    });
  };
  const changed = (): void => {
    x = xs.value;
    y = ys.value;
    color = cs.value;
    xlog = xl.checked;
    ylog = yl.checked;
    // Made anew: an update cannot take the colour away.
    chart?.destroy();
    chartEl.replaceChildren();
    mount();
    ctx.refreshHash();
  };
  for (const s of [xs, ys, cs, xl, yl]) s.addEventListener('change', changed);
  const off = state.on((change) => {
    if (change === 'rows') chart?.update({ visible: state.visible() });
    else if (change === 'selection') chart?.update({ highlighted: state.selection });
    ctx.refreshHash();
  });
  return {
    el,
    mounted: mount,
    hash: () => viewHash(state, 'scatter', { x, y, color, xlog, ylog }),
    dispose: () => {
      off();
      chart?.destroy();
    },
  };
}

/** `#/curves?metric=…&x=step|time&smooth=…&log=1` */
export function curvesView(ctx: Context, route: Route): View {
  const { state, ds } = ctx;
  const metricNames = state.study.runs.metricNames;
  let metric = param(route, 'metric', metricNames[0] ?? '');
  let x: 'step' | 'time' = param(route, 'x') === 'time' ? 'time' : 'step';
  let smooth = Math.min(0.99, Math.max(0, Number(param(route, 'smooth', '0')) || 0));
  let logY = param(route, 'log') === '1';
  const metricSelect = h(
    'select',
    { 'aria-label': 'metric', name: 'metric' },
    metricNames.map((n) => h('option', { value: n }, n))
  );
  metricSelect.value = metric;
  const xSelect = h(
    'select',
    { 'aria-label': 'x axis', name: 'x' },
    h('option', { value: 'step' }, 'step'),
    h('option', { value: 'time' }, 'time')
  );
  xSelect.value = x;
  const smoothInput = h('input', {
    type: 'range',
    min: 0,
    max: 0.99,
    step: 0.01,
    'aria-label': 'smoothing',
    name: 'smooth',
  });
  smoothInput.value = String(smooth);
  const logBox = h('input', { type: 'checkbox', name: 'log' });
  logBox.checked = logY;
  const note = h('span', { class: 'muted', 'data-testid': 'curves-note' });
  const chartEl = h('div', { class: 'chart-host', 'data-chart': 'curves' });
  const el = h(
    'section',
    { class: 'view chart-view' },
    h(
      'div',
      { class: 'toolbar' },
      h('label', null, 'metric ', metricSelect),
      h('label', null, 'x ', xSelect),
      h('label', null, 'smoothing ', smoothInput),
      h('label', { class: 'toggle' }, logBox, ' log scale'),
      note
    ),
    chartEl
  );
  let chart: ChartHandle<CurvesOptions> | null = null;
  let asked = 0;

  function runsToDraw(): { rows: number[]; fromSelection: boolean } {
    if (state.selection.size > 0)
      return { rows: [...state.selection].sort((a, b) => a - b), fromSelection: true };
    return { rows: state.order().slice(0, CURVES_DEFAULT_RUNS), fromSelection: false };
  }

  function load(): void {
    const { rows, fromSelection } = runsToDraw();
    const ticket = ++asked;
    note.textContent = metricNames.length === 0 ? 'This study logged no metrics.' : 'loading…';
    if (metric === '') return;
    const keys = rows.map((r) => state.runOf(r));
    ds.metrics(keys, [metric]).then(
      (list) => {
        if (ticket !== asked) return;
        const label = new Map(rows.map((r) => [state.keyOf(r), r]));
        const series: CurveSeries[] = list.map((s) => {
          const r = label.get(`${s.experiment}:${s.runId}`);
          const name = r === undefined ? undefined : state.column('name')?.values[r];
          const base =
            typeof name === 'string' && name !== ''
              ? name
              : `${s.experiment.slice(0, 6)} #${s.runId}`;
          // A run still open: its curve so far, and the legend says so.
          const running = r !== undefined && state.study.runs.status[r] === 'running';
          return {
            label: running ? `${base} (running)` : base,
            steps: s.steps,
            timestamps: s.timestamps,
            values: s.values,
            highlighted: r !== undefined && state.selection.has(r),
          };
        });
        chart?.update({ series, title: metric });
        note.textContent = `${series.length} runs (${fromSelection ? 'the selection' : `the first ${rows.length} shown; select runs to choose`})`;
      },
      (e: unknown) => {
        note.textContent = e instanceof Error ? e.message : String(e);
      }
    );
  }
  metricSelect.addEventListener('change', () => {
    metric = metricSelect.value;
    load();
    ctx.refreshHash();
  });
  xSelect.addEventListener('change', () => {
    x = xSelect.value === 'time' ? 'time' : 'step';
    chart?.update({ x });
    ctx.refreshHash();
  });
  smoothInput.addEventListener('input', () => {
    smooth = Number(smoothInput.value);
    chart?.update({ smoothing: smooth });
    ctx.refreshHash();
  });
  logBox.addEventListener('change', () => {
    logY = logBox.checked;
    chart?.update({ logY });
    ctx.refreshHash();
  });
  const off = state.on((change) => {
    if (change === 'selection' || change === 'rows' || change === 'sort') load();
    ctx.refreshHash();
  });
  return {
    el,
    mounted: () => {
      chart = createCurves(chartEl, { series: [], x, smoothing: smooth, logY, title: metric });
      load();
    },
    hash: () =>
      viewHash(state, 'curves', {
        metric,
        x: x === 'step' ? null : x,
        smooth: smooth === 0 ? null : String(smooth),
        log: logY,
      }),
    dispose: () => {
      off();
      chart?.destroy();
    },
  };
}
