/**
 * @module web/charts/smooth
 * Exponential moving average for metric curves, debiased as TensorBoard's smoothing slider does
 * (so the first points are not dragged towards zero): with weight w,
 * `acc = acc·w + (1−w)·v`, and the smoothed value is `acc / (1 − w^n)` after n finite points.
 * A non-finite value passes through unchanged and does not feed the average. Pure: no DOM.
 */

/** The smoothed values; weight 0 returns a copy. Weight must be in [0, 1). */
export function emaSmooth(values: ArrayLike<number>, weight: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  const w = Number.isFinite(weight) ? Math.min(Math.max(weight, 0), 0.999) : 0;
  let acc = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    count++;
    out[i] = w === 0 ? v : acc / (1 - w ** count);
  }
  return out;
}
