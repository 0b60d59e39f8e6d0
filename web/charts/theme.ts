/**
 * @module web/charts/theme
 * The charts' colours, read from the page's CSS variables (`--fg --bg --muted --accent --failed
 * --interrupted --grid --c0…--c9`, defined by the page for light and dark) with
 * getComputedStyle, so a chart follows `prefers-color-scheme` like the rest of the page. Colours
 * are also parsed to RGB (any CSS colour syntax: a 1×1 canvas paints it and reads it back) for
 * the gradients.
 */
import { gradient, GRADIENT_BUCKETS, rgbCss, type Rgb } from './color.js';
import type { Scale } from './scale.js';

/** The palette a chart paints with; every colour is CSS text the canvas accepts. */
export interface Theme {
  readonly fg: string;
  readonly bg: string;
  readonly muted: string;
  readonly accent: string;
  readonly failed: string;
  readonly interrupted: string;
  readonly grid: string;
  /** `--c0` … `--c9`. */
  readonly palette: readonly string[];
  /** The font of labels, from the element's computed style. */
  readonly font: string;
}

const FALLBACK = {
  fg: '#1f2328',
  bg: '#ffffff',
  muted: '#6e7781',
  accent: '#d63384',
  failed: '#cf222e',
  interrupted: '#bf8700',
  grid: '#d0d7de',
};
const FALLBACK_PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#17becf',
  '#bcbd22',
  '#7f7f7f',
  '#e377c2',
  '#393b79',
];

/** The theme in effect at `el`. */
export function readTheme(el: Element): Theme {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string): string => {
    const s = style.getPropertyValue(`--${name}`).trim();
    return s === '' ? fallback : s;
  };
  return {
    fg: v('fg', FALLBACK.fg),
    bg: v('bg', FALLBACK.bg),
    muted: v('muted', FALLBACK.muted),
    accent: v('accent', FALLBACK.accent),
    failed: v('failed', FALLBACK.failed),
    interrupted: v('interrupted', FALLBACK.interrupted),
    grid: v('grid', FALLBACK.grid),
    palette: FALLBACK_PALETTE.map((f, i) => v(`c${i}`, f)),
    font: `11px ${style.fontFamily || 'system-ui, sans-serif'}`,
  };
}

const parsed = new Map<string, Rgb>();
let probe: CanvasRenderingContext2D | null = null;

/** A CSS colour as RGB (black when the browser cannot paint it). */
export function toRgb(css: string): Rgb {
  const known = parsed.get(css);
  if (known !== undefined) return known;
  probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  let rgb: Rgb = [0, 0, 0];
  if (probe !== null) {
    probe.clearRect(0, 0, 1, 1);
    probe.fillStyle = '#000';
    probe.fillStyle = css;
    probe.fillRect(0, 0, 1, 1);
    const d = probe.getImageData(0, 0, 1, 1).data;
    rgb = [d[0]!, d[1]!, d[2]!];
  }
  parsed.set(css, rgb);
  return rgb;
}

/**
 * The colours rows take by a colour column with scale `scale` (see `colorSlot`): one colour when
 * there is none; the palette for categories, or a gradient from `--c0` to `--c1` in
 * `GRADIENT_BUCKETS` steps for numbers; then `--muted` for rows without a value.
 */
export function colorsFor(theme: Theme, scale: Scale | undefined): string[] {
  if (scale === undefined) return [theme.palette[0]!];
  if (scale.kind === 'category') return [...theme.palette, theme.muted];
  const stops = [theme.palette[0]!, theme.palette[1]!].map(toRgb);
  return [...gradient(stops, GRADIENT_BUCKETS).map((c) => rgbCss(c)), theme.muted];
}
