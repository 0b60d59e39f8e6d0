/**
 * @module web/charts/curves
 * Metric curves of many runs on one chart, drawn by uPlot (typed-array input, canvas, a path
 * decimated to the pixel: 100,000 points draw in a few tens of milliseconds). The x axis is the
 * step or the time since each run's first point (seconds); values can be smoothed by a debiased
 * EMA and shown on a log scale (non-positive values are then left out). Highlighted series are
 * drawn thicker in `--accent`, the others fade. Drag to zoom, double-click or Escape to reset.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compact, drawablePoints, sharedX } from './align.js';
import type { ChartHandle } from './common.js';
import { rgbCss } from './color.js';
import { emaSmooth } from './smooth.js';
import { contentHeight, contentWidth, DEFAULT_HEIGHT } from './surface.js';
import { readTheme, toRgb } from './theme.js';

/** One run's metric. */
export interface CurveSeries {
  readonly label: string;
  readonly steps: ArrayLike<number>;
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly highlighted?: boolean;
}

/** What the chart draws; see the module comment. */
export interface CurvesOptions {
  series: readonly CurveSeries[];
  x: 'step' | 'time';
  /** EMA weight, 0 (none) … 0.99. */
  smoothing: number;
  logY: boolean;
  title?: string;
}

/** The x values of a series: its steps, or seconds since its first timestamp. */
function xOf(s: CurveSeries, x: 'step' | 'time'): ArrayLike<number> {
  if (x === 'step') return s.steps;
  const t0 = s.timestamps[0] ?? 0;
  const out = new Float64Array(s.timestamps.length);
  for (let i = 0; i < out.length; i++) out[i] = (s.timestamps[i]! - t0) / 1000;
  return out;
}

/** Draws metric curves into `el` (see the module comment). */
export function createCurves(el: HTMLElement, options: CurvesOptions): ChartHandle<CurvesOptions> {
  let o = options;
  let plot: uPlot | undefined;
  let started = 0;
  let xRange: [number, number] = [0, -1];
  const root = document.createElement('div');
  root.className = 'rl-chart rl-curves';
  root.tabIndex = 0;
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', 'Metric curves');
  const empty = document.createElement('p');
  empty.className = 'rl-empty';
  empty.textContent = 'No points to draw.';
  // The container's own height, taken before the chart is in it (see surface's contentHeight).
  const own = contentHeight(el);
  el.append(root);

  const size = (): { width: number; height: number } => ({
    width: Math.max(240, contentWidth(el) || 640),
    // Room below the plot for the title and the legend's first lines.
    height: own > 200 ? Math.floor(own) - 60 : DEFAULT_HEIGHT,
  });

  function build(): void {
    started = performance.now();
    plot?.destroy();
    plot = undefined;
    root.replaceChildren();
    const theme = readTheme(root);
    const data = o.series.map((s) => {
      const raw = s.values;
      const y = o.smoothing > 0 ? emaSmooth(raw, o.smoothing) : Float64Array.from(raw);
      if (o.logY) for (let i = 0; i < y.length; i++) if (!(y[i]! > 0)) y[i] = NaN;
      return { x: xOf(s, o.x), y };
    });
    let points = 0;
    for (const d of data) points += drawablePoints(d.y, false);
    root.dataset['points'] = '0';
    root.dataset['rowsVisible'] = String(o.series.length);
    if (points === 0) {
      root.append(empty);
      done(0);
      return;
    }
    // Highlighting sets runs apart: when every run is highlighted (the curves of a selection),
    // none is, and each keeps its own colour.
    const count = o.series.filter((s) => s.highlighted === true).length;
    const anyHighlighted = count > 0 && count < o.series.length;
    const shared = sharedX(data);
    const series: uPlot.Series[] = [
      { label: o.x === 'step' ? 'step' : 'time (s)' },
      ...o.series.map((s, i): uPlot.Series => {
        const base = theme.palette[i % theme.palette.length]!;
        const on = anyHighlighted && s.highlighted === true;
        return {
          label: s.label,
          stroke: on ? theme.accent : anyHighlighted ? rgbCss(toRgb(base), 0.35) : base,
          // Whole widths: a 1 px line is Skia's hairline, several times faster to rasterise than
          // 1.25 px (measured: 50 × 2,000 points, 400 ms → 60 ms in software-rendered Chromium).
          width: on ? 2 : 1,
          spanGaps: true,
          points: { show: false },
          ...(shared === null
            ? {
                paths: uPlot.paths.linear!(),
                facets: [
                  { scale: 'x', auto: true },
                  { scale: 'y', auto: true },
                ],
              }
            : {}),
        };
      }),
    ];
    const axis = (label: string): uPlot.Axis => ({
      label,
      stroke: theme.fg,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
    });
    const opts: uPlot.Options = {
      ...size(),
      ...(o.title === undefined ? {} : { title: o.title }),
      // Faceted mode (each series its own x) when the x values differ: see web/charts/align.
      ...(shared === null ? { mode: 2 as const } : {}),
      series,
      scales: {
        x: { time: false, auto: true },
        y: o.logY ? { distr: 3, log: 10 } : {},
      },
      axes: [axis(o.x === 'step' ? 'step' : 'seconds since the run began'), axis('')],
      // A live legend (each run's value under the cursor) needs one shared x.
      // The legend in a box of its own that scrolls past a few lines: 50 runs' names would
      // otherwise push the chart off the screen.
      legend: {
        show: true,
        live: shared !== null,
        mount: (_, table) => legendBox.append(table),
      },
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [() => done(points)] },
    };
    const payload =
      shared === null
        ? [null, ...data.map((d) => compact(d))]
        : // uPlot leaves a gap at null; NaN would poison its scales, so it becomes null.
          [
            shared,
            ...data.map((d) =>
              d.y.every((v) => Number.isFinite(v))
                ? d.y
                : Array.from(d.y, (v) => (Number.isFinite(v) ? v : null))
            ),
          ];
    xRange = [Infinity, -Infinity];
    for (const d of data) {
      for (let i = 0; i < d.x.length; i++) {
        const v = d.x[i]!;
        if (v < xRange[0]) xRange[0] = v;
        if (v > xRange[1]) xRange[1] = v;
      }
    }
    const legendBox = document.createElement('div');
    legendBox.className = 'rl-legend';
    legendBox.style.cssText = 'max-height:6.5em;overflow-y:auto;';
    plot = new uPlot(opts, payload as uPlot.AlignedData, root);
    // Below the chart (uPlot mounts its legend while it builds, before the chart is in place).
    root.append(legendBox);
  }

  function done(points: number): void {
    root.dataset['points'] = String(points);
    const ms = performance.now() - started;
    root.dataset['drawMs'] = ms.toFixed(1);
    performance.mark('rl:curves:drawn', { detail: { points, series: o.series.length, ms } });
  }

  const onKey = (e: KeyboardEvent): void => {
    // Escape undoes a drag-zoom: the x scale back to every point.
    if (e.key === 'Escape' && plot !== undefined && xRange[0] <= xRange[1]) {
      plot.setScale('x', { min: xRange[0], max: xRange[1] });
    }
  };
  root.addEventListener('keydown', onKey);
  let lastWidth = Math.floor(el.clientWidth);
  const observer = new ResizeObserver(() => {
    const w = Math.floor(el.clientWidth);
    if (w !== lastWidth && plot !== undefined) {
      lastWidth = w;
      plot.setSize(size());
    }
  });
  observer.observe(el);

  build();

  return {
    update(next: Partial<CurvesOptions>): void {
      o = { ...o, ...next };
      build();
    },
    destroy(): void {
      observer.disconnect();
      plot?.destroy();
      root.remove();
    },
  };
}
