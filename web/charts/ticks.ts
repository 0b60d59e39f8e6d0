/**
 * @module web/charts/ticks
 * Tick marks for an axis: "nice" steps (1, 2 or 5 × 10^k) on a linear scale, powers of ten (with
 * 2 and 5 between when the range is short) on a log scale, every category on a categorical one,
 * and the labels they print with. Pure: no DOM, unit-tested in node.
 */
import type { Scale } from './scale.js';

/** One tick: its position in [0, 1] along the axis, and its label. */
export interface Tick {
  readonly t: number;
  readonly label: string;
}

/** The nice step (1, 2 or 5 × 10^k) that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return nice * power;
}

/** Multiples of the nice step between `min` and `max` (inclusive), free of float dust. */
export function niceTicks(min: number, max: number, count: number): number[] {
  const step = niceStep(max - min, count);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const out: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) {
    out.push(Number((k * step).toFixed(Math.min(decimals, 20))));
  }
  return out;
}

/** A number as a tick prints it: short, exponent form when very large or very small. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) {
    const [m, e] = v.toExponential(2).split('e');
    return `${String(Number(m))}e${String(Number(e))}`;
  }
  return String(Number(v.toPrecision(6)));
}

/** Ticks of a log scale whose exponents run from `lo` to `hi` (log10 of the ends). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  const mantissas = last - first < 2 ? [1, 2, 5] : [1];
  for (let e = first - 1; e <= last; e++) {
    for (const m of mantissas) {
      const v = m * 10 ** e;
      const x = Math.log10(v);
      if (x >= lo - 1e-9 && x <= hi + 1e-9) out.push(Number(v.toPrecision(12)));
    }
  }
  // Thin a long run of powers to about eight.
  const every = Math.ceil(out.length / 8);
  return every > 1 ? out.filter((_, i) => i % every === 0) : out;
}

/** The ticks of a scale; about `count` of them on a linear one. */
export function ticksOf(scale: Scale, count = 5): Tick[] {
  if (scale.kind === 'category') {
    const n = scale.categories.length;
    return scale.categories.map((label, i) => ({ t: (i + 0.5) / n, label }));
  }
  const span = scale.max - scale.min;
  if (scale.log) {
    return logTicks(scale.min, scale.max).map((v) => ({
      t: (Math.log10(v) - scale.min) / span,
      label: formatNumber(v),
    }));
  }
  return niceTicks(scale.min, scale.max, count).map((v) => ({
    t: (v - scale.min) / span,
    label: formatNumber(v),
  }));
}
