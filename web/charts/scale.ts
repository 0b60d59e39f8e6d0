/**
 * @module web/charts/scale
 * Scales: how a column's cells map to a position in [0, 1] along an axis. A column whose every
 * non-null cell is a number gets a numeric scale (linear, or log10 when asked and the values
 * allow it); any other column gets a categorical one, its distinct values (booleans and numbers
 * as text) in code point order, `false` before `true`, each at the middle of its band. Null,
 * missing, non-finite and (on a log scale) non-positive values map to NaN: drawn nowhere, never
 * inside a brush. Pure: no DOM, unit-tested in node.
 */
import type { Axis, Cell } from './common.js';

/** A numeric scale over [min, max] (log10 of both when `log`). */
export interface NumericScale {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
}

/** A categorical scale: one band per distinct value, in this order. */
export interface CategoryScale {
  readonly kind: 'category';
  readonly categories: readonly string[];
  /** Category key → index into `categories`. */
  readonly index: ReadonlyMap<string, number>;
}

export type Scale = NumericScale | CategoryScale;

/** The text a non-null cell is known by on a categorical axis (`true`, `0.5`, `adam`). */
export function categoryKey(cell: Cell): string | null {
  if (cell === null || cell === undefined) return null;
  return typeof cell === 'string' ? cell : String(cell);
}

function compareKeys(a: string, b: string): number {
  // Booleans read false → true; everything else in code point order, numbers as numbers.
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The scale an axis gets from its values (see the module comment). */
export function scaleOf(axis: Axis): Scale {
  let numeric = true;
  let min = Infinity;
  let max = -Infinity;
  let positiveMin = Infinity;
  for (const v of axis.values) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number') {
      numeric = false;
      break;
    }
    // NaN and ±Infinity have no place on the axis (position() gives them NaN): left out, like null.
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v > 0 && v < positiveMin) positiveMin = v;
  }
  if (numeric) {
    const log = axis.log === true && positiveMin !== Infinity;
    if (log) min = positiveMin;
    if (min === Infinity) return { kind: 'number', min: 0, max: 1, log: false };
    if (log) {
      let lo = Math.log10(min);
      let hi = Math.log10(max);
      if (lo === hi) {
        lo -= 1;
        hi += 1;
      }
      return { kind: 'number', min: lo, max: hi, log: true };
    }
    if (min === max) {
      // One value: put it in the middle of a unit-wide range around it.
      const pad = min === 0 ? 1 : Math.abs(min) / 2;
      return { kind: 'number', min: min - pad, max: max + pad, log: false };
    }
    return { kind: 'number', min, max, log: false };
  }
  const seen = new Set<string>();
  for (const v of axis.values) {
    const k = categoryKey(v);
    if (k !== null) seen.add(k);
  }
  const categories = [...seen].sort(compareKeys);
  return { kind: 'category', categories, index: new Map(categories.map((c, i) => [c, i])) };
}

/** A cell's position on a scale in [0, 1], or NaN when it has none. */
export function position(scale: Scale, cell: Cell): number {
  if (scale.kind === 'category') {
    const k = categoryKey(cell);
    const i = k === null ? undefined : scale.index.get(k);
    return i === undefined ? NaN : (i + 0.5) / scale.categories.length;
  }
  if (typeof cell !== 'number' || !Number.isFinite(cell)) return NaN;
  if (scale.log) {
    if (cell <= 0) return NaN;
    return (Math.log10(cell) - scale.min) / (scale.max - scale.min);
  }
  return (cell - scale.min) / (scale.max - scale.min);
}

/** Every cell's position, as one array (NaN for none). */
export function positions(scale: Scale, values: readonly Cell[], rows: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = position(scale, values[i] ?? null);
  return out;
}

/** The value at a position of a numeric scale (the inverse of {@link position}). */
export function valueAt(scale: NumericScale, t: number): number {
  const v = scale.min + t * (scale.max - scale.min);
  return scale.log ? 10 ** v : v;
}
