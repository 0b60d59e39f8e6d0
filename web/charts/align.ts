/**
 * @module web/charts/align
 * Puts metric series on one x axis for uPlot, which draws every series against a single sorted x
 * array: when every series has the same x values (the usual case of steps 0…n−1) they are used
 * as they are; otherwise the x values are merged (sorted, each once) and each series gets null
 * where it has no point (uPlot spans those gaps). Also counts the points a chart draws. Pure: no
 * DOM, unit-tested in node.
 */

/** Series aligned on one x array; `ys[i]` has one entry per x (null: no point there). */
export interface Aligned {
  readonly x: Float64Array;
  readonly ys: (Float64Array | (number | null)[])[];
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function ascending(a: ArrayLike<number>): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i]! > a[i - 1]!)) return false;
  return true;
}

/** Aligns series given as (x, y) pairs of equal length; see the module comment. */
export function alignSeries(
  series: readonly { x: ArrayLike<number>; y: ArrayLike<number> }[]
): Aligned {
  const first = series[0];
  if (first === undefined) return { x: new Float64Array(0), ys: [] };
  if (ascending(first.x) && series.every((s) => sameValues(s.x, first.x))) {
    return { x: Float64Array.from(first.x), ys: series.map((s) => Float64Array.from(s.y)) };
  }
  let total = 0;
  for (const s of series) total += s.x.length;
  const all = new Float64Array(total);
  let k = 0;
  for (const s of series) for (let i = 0; i < s.x.length; i++) all[k++] = s.x[i]!;
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    const v = all[i]!;
    if (Number.isNaN(v)) break; // sort() puts NaN last
    if (n === 0 || v !== all[n - 1]) all[n++] = v;
  }
  const x = all.slice(0, n);
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(n).fill(null);
    for (let i = 0; i < s.x.length; i++) {
      const j = indexOf(x, s.x[i]!);
      if (j >= 0) y[j] = s.y[i]!;
    }
    return y;
  });
  return { x, ys };
}

/** The index of `v` in the sorted array `xs`, or -1. */
function indexOf(xs: Float64Array, v: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = xs[mid]!;
    if (m === v) return mid;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
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
