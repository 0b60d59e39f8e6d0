/**
 * @module web/charts/align
 * Shapes metric series for uPlot. When every series has the same ascending x values (the usual
 * case: steps 0…n−1) they share one x array (uPlot's aligned mode, with a live legend);
 * otherwise (the time axis, or runs logged at different steps) each series keeps its own x
 * array (uPlot's faceted mode), its drawable points only, sorted by x — rather than merging
 * every x value into one array, which for 50 runs × 2,000 distinct times means 50 arrays of
 * 100,000 entries, mostly empty. Also counts the points a chart draws. Pure: no DOM.
 */

/** One series as x and y values of equal length. */
export interface XY {
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

function ascending(a: ArrayLike<number>): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i]! > a[i - 1]!)) return false;
  return true;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The x values every series shares, when they are the same and ascending; else null. */
export function sharedX(series: readonly XY[]): Float64Array | null {
  const first = series[0];
  if (first === undefined || !ascending(first.x)) return null;
  return series.every((s) => sameValues(s.x, first.x)) ? Float64Array.from(first.x) : null;
}

/** A series' drawable points (finite x and y), sorted by x (stably). */
export function compact(s: XY): [Float64Array, Float64Array] {
  const n = Math.min(s.x.length, s.y.length);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(s.x[i]!) && Number.isFinite(s.y[i]!)) keep.push(i);
  }
  if (!ascending(Array.from(keep, (i) => s.x[i]!))) {
    keep.sort((a, b) => s.x[a]! - s.x[b]! || a - b);
  }
  return [Float64Array.from(keep, (i) => s.x[i]!), Float64Array.from(keep, (i) => s.y[i]!)];
}

/** Finite values (and, for a log scale, positive ones): the points a chart can draw. */
export function drawablePoints(values: ArrayLike<number>, logY: boolean): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v) && (!logY || v > 0)) n++;
  }
  return n;
}
