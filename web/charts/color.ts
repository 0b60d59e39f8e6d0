/**
 * @module web/charts/color
 * Colours by value: a categorical palette (the theme's `--c0…--c9`, cycling), and a numeric
 * gradient cut into a fixed number of buckets so a chart strokes one path per bucket. Pure: no
 * DOM (the theme's colours arrive already parsed to RGB), unit-tested in node.
 */

import type { Scale } from './scale.js';

/** A colour as red, green, blue in 0…255. */
export type Rgb = readonly [number, number, number];

/** How many colour buckets a numeric gradient has. */
export const GRADIENT_BUCKETS = 8;

/** `rgb(r g b)` / `rgba(…)` text for a canvas. */
export function rgbCss(c: Rgb, alpha = 1): string {
  const [r, g, b] = c;
  return alpha >= 1 ? `rgb(${r} ${g} ${b})` : `rgb(${r} ${g} ${b} / ${alpha})`;
}

/** The colour a fraction `t` (0…1) of the way from `a` to `b`, rounded to whole channels. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  const u = Math.min(Math.max(t, 0), 1);
  return [
    Math.round(a[0] + (b[0] - a[0]) * u),
    Math.round(a[1] + (b[1] - a[1]) * u),
    Math.round(a[2] + (b[2] - a[2]) * u),
  ];
}

/** The bucket (0 … buckets−1) of a position in [0, 1]; -1 for NaN. */
export function bucketOf(t: number, buckets: number = GRADIENT_BUCKETS): number {
  if (Number.isNaN(t)) return -1;
  return Math.min(buckets - 1, Math.max(0, Math.floor(t * buckets)));
}

/** The colours of a gradient's buckets, each at its bucket's middle, through the given stops. */
export function gradient(stops: readonly Rgb[], buckets: number = GRADIENT_BUCKETS): Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < buckets; i++) {
    const t = (i + 0.5) / buckets;
    const x = t * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2);
    out.push(stops.length === 1 ? stops[0]! : mix(stops[k]!, stops[k + 1]!, x - k));
  }
  return out;
}

/**
 * The colour slot of a row whose position on the colour column's scale is `t`, among `slots`
 * colours whose last is for rows without a value: a category's palette slot (cycling through
 * the others), or a number's gradient bucket; always 0 when nothing colours the rows.
 */
export function colorSlot(scale: Scale | undefined, t: number, slots: number): number {
  if (scale === undefined) return 0;
  if (Number.isNaN(t)) return slots - 1;
  if (scale.kind === 'category') {
    return Math.round(t * scale.categories.length - 0.5) % (slots - 1);
  }
  return bucketOf(t, slots - 1);
}
