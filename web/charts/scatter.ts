/**
 * @module web/charts/scatter
 * A scatter plot on a canvas: any column against any other (numbers on a linear or log scale;
 * strings and booleans as categories, points jittered inside their band so they do not stack),
 * coloured by a third column (a gradient for numbers, the palette for categories) with a legend.
 * Points are filled in one path per colour; highlighted rows are drawn last, larger, in
 * `--accent`. Hovering shows the nearest point's run; clicking picks it (Shift, Ctrl or ⌘ to add
 * it to the selection).
 */
import { colorSlot } from './color.js';
import type { Axis, ChartHandle } from './common.js';
import { nextPoint, nearestPoint } from './points.js';
import { categoryKey, positions, scaleOf, type Scale } from './scale.js';
import {
  createSurface,
  hideTooltip,
  markDrawn,
  pointerAt,
  showTooltip,
  type Surface,
} from './surface.js';
import { colorsFor, readTheme } from './theme.js';
import { ticksOf } from './ticks.js';

/** What the chart draws; see the module comment. */
export interface ScatterOptions {
  x: Axis;
  y: Axis;
  color?: Axis;
  rows: number;
  /** 1 = the row passes the page's filter (0: not drawn). */
  visible: Uint8Array;
  highlighted: ReadonlySet<number>;
  onPick?(row: number, additive: boolean): void;
  /** A row's name for the tooltip (the run's name); `row <n>` when absent. */
  label?(row: number): string;
}

const MARGIN = { top: 14, right: 16, bottom: 42, left: 64 };
const RADIUS = 3;
/** How close (CSS px) the pointer must be to a point to hover or pick it. */
const HIT = 8;

/** Draws a scatter plot into `el` (see the module comment). */
export function createScatter(
  el: HTMLElement,
  options: ScatterOptions
): ChartHandle<ScatterOptions> {
  let o = options;
  let xs: Scale;
  let ys: Scale;
  let cs: Scale | undefined;
  let px: Float32Array = new Float32Array(0);
  let py: Float32Array = new Float32Array(0);
  let pc: Float32Array = new Float32Array(0);
  // Pixel positions of drawn points (NaN: not drawn), for hovering and picking.
  let sx: Float32Array = new Float32Array(0);
  let sy: Float32Array = new Float32Array(0);
  let frame = 0;
  /** The point the keyboard is on (-1: none). */
  let cursor = -1;

  const s: Surface = createSurface(el, 'scatter', 'Scatter plot', () => schedule());
  s.legend.style.cssText =
    'display:flex;flex-wrap:wrap;gap:4px 12px;font:12px system-ui,sans-serif;padding:4px 0 0 8px;';

  function prepare(): void {
    xs = scaleOf(o.x);
    ys = scaleOf(o.y);
    px = jittered(xs, positions(xs, o.x.values, o.rows));
    py = jittered(ys, positions(ys, o.y.values, o.rows));
    cs = o.color === undefined ? undefined : scaleOf(o.color);
    pc = cs === undefined ? new Float32Array(0) : positions(cs, o.color!.values, o.rows);
    legend();
  }

  const colors = (): string[] => colorsFor(readTheme(s.root), cs);

  function legend(): void {
    s.legend.replaceChildren();
    if (o.color === undefined || cs === undefined) return;
    const palette = colors();
    const title = document.createElement('strong');
    title.textContent = o.color.name;
    s.legend.append(title);
    const swatch = (color: string, text: string): void => {
      const item = document.createElement('span');
      const box = document.createElement('span');
      box.style.cssText = `display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:50%;background:${color}`;
      item.append(box, text);
      s.legend.append(item);
    };
    if (cs.kind === 'category') {
      const shown = cs.categories.slice(0, 20);
      shown.forEach((c, i) => swatch(palette[i % (palette.length - 1)]!, c));
      if (cs.categories.length > shown.length) {
        s.legend.append(`… ${String(cs.categories.length - shown.length)} more`);
      }
      return;
    }
    const ticks = ticksOf(cs, 2);
    const bar = document.createElement('span');
    bar.className = 'rl-gradient';
    bar.style.cssText = `display:inline-block;width:120px;height:10px;background:linear-gradient(to right, ${palette.slice(0, -1).join(', ')})`;
    const lo = document.createElement('span');
    lo.textContent = ticks[0]?.label ?? '';
    const hi = document.createElement('span');
    hi.textContent = ticks.at(-1)?.label ?? '';
    s.legend.append(lo, bar, hi);
  }

  function draw(): void {
    frame = 0;
    const t0 = performance.now();
    s.fit();
    const theme = readTheme(s.root);
    const { ctx } = s;
    const w = s.width - MARGIN.left - MARGIN.right;
    const h = s.height - MARGIN.top - MARGIN.bottom;
    ctx.clearRect(0, 0, s.width, s.height);
    ctx.font = theme.font;

    // Grid and ticks.
    ctx.lineWidth = 1;
    ctx.fillStyle = theme.muted;
    const xt = ticksOf(xs, Math.max(2, Math.floor(w / 90)));
    const yt = ticksOf(ys, Math.max(2, Math.floor(h / 50)));
    ctx.strokeStyle = theme.grid;
    ctx.beginPath();
    for (const t of xt) {
      const x = Math.round(MARGIN.left + t.t * w) + 0.5;
      ctx.moveTo(x, MARGIN.top);
      ctx.lineTo(x, MARGIN.top + h);
    }
    for (const t of yt) {
      const y = Math.round(MARGIN.top + (1 - t.t) * h) + 0.5;
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(MARGIN.left + w, y);
    }
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const xEvery = Math.max(1, Math.ceil(xt.length / Math.max(1, w / 70)));
    xt.forEach((t, i) => {
      if (i % xEvery === 0) ctx.fillText(short(t.label), MARGIN.left + t.t * w, MARGIN.top + h + 4);
    });
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yEvery = Math.max(1, Math.ceil(yt.length / Math.max(1, h / 16)));
    yt.forEach((t, i) => {
      if (i % yEvery === 0)
        ctx.fillText(short(t.label), MARGIN.left - 6, MARGIN.top + (1 - t.t) * h);
    });
    ctx.fillStyle = theme.fg;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(o.x.name, MARGIN.left + w / 2, s.height - 2);
    ctx.save();
    ctx.translate(12, MARGIN.top + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(o.y.name, 0, 0);
    ctx.restore();
    ctx.strokeStyle = theme.muted;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, w, h);

    // Points, one path per colour.
    const palette = colors();
    const buckets: number[][] = palette.map(() => []);
    sx = new Float32Array(o.rows).fill(NaN);
    sy = new Float32Array(o.rows).fill(NaN);
    let points = 0;
    let visible = 0;
    for (let r = 0; r < o.rows; r++) {
      if (o.visible[r] !== 1) continue;
      visible++;
      const tx = px[r]!;
      const ty = py[r]!;
      if (Number.isNaN(tx) || Number.isNaN(ty)) continue;
      sx[r] = MARGIN.left + tx * w;
      sy[r] = MARGIN.top + (1 - ty) * h;
      points++;
      if (!o.highlighted.has(r)) buckets[colorSlot(cs, pc[r] ?? NaN, palette.length)]!.push(r);
    }
    ctx.globalAlpha = points > 3000 ? 0.5 : 0.8;
    buckets.forEach((rows, b) => {
      if (rows.length === 0) return;
      ctx.fillStyle = palette[b]!;
      ctx.beginPath();
      for (const r of rows) {
        ctx.moveTo(sx[r]! + RADIUS, sy[r]!);
        ctx.arc(sx[r]!, sy[r]!, RADIUS, 0, Math.PI * 2);
      }
      ctx.fill();
    });
    ctx.globalAlpha = 1;
    ctx.fillStyle = theme.accent;
    ctx.strokeStyle = theme.fg;
    ctx.beginPath();
    for (const r of o.highlighted) {
      if (r < 0 || r >= o.rows || Number.isNaN(sx[r]!)) continue;
      ctx.moveTo(sx[r]! + RADIUS + 2, sy[r]!);
      ctx.arc(sx[r]!, sy[r]!, RADIUS + 2, 0, Math.PI * 2);
    }
    ctx.fill();
    ctx.stroke();
    if (cursor >= 0 && !Number.isNaN(sx[cursor]!)) {
      // The keyboard's point: a ring around it.
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(sx[cursor]!, sy[cursor]!, RADIUS + 5, 0, Math.PI * 2);
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    s.root.dataset['cursor'] = String(cursor);
    s.root.dataset['plot'] = [MARGIN.left, MARGIN.top, w, h].join(',');
    markDrawn(s, 'scatter', points, visible, performance.now() - t0);
  }

  const nearest = (x: number, y: number): number => nearestPoint(sx, sy, x, y, HIT);

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(draw);
  }

  const cell = (a: Axis, r: number): string => {
    const k = categoryKey(a.values[r] ?? null);
    return k === null ? '—' : k;
  };
  function tooltipText(r: number): string {
    const lines = [
      o.label?.(r) ?? `row ${String(r)}`,
      `${o.x.name}: ${cell(o.x, r)}`,
      `${o.y.name}: ${cell(o.y, r)}`,
    ];
    if (o.color !== undefined) lines.push(`${o.color.name}: ${cell(o.color, r)}`);
    return lines.join('\n');
  }
  const onMove = (e: PointerEvent): void => {
    const p = pointerAt(s, e);
    const r = nearest(p.x, p.y);
    if (r < 0) {
      hideTooltip(s);
      s.canvas.style.cursor = 'default';
      return;
    }
    s.canvas.style.cursor = o.onPick === undefined ? 'default' : 'pointer';
    showTooltip(s, tooltipText(r), sx[r]!, sy[r]!);
  };
  const onClick = (e: MouseEvent): void => {
    const p = pointerAt(s, e);
    const r = nearest(p.x, p.y);
    if (r >= 0) o.onPick?.(r, e.shiftKey || e.ctrlKey || e.metaKey);
  };
  // The keyboard: arrows move a cursor from point to point (see nextPoint), Enter or Space picks
  // its run (with Shift, Ctrl or ⌘: adds it), Escape leaves.
  const ARROWS: Readonly<Record<string, readonly [-1 | 0 | 1, -1 | 0 | 1]>> = {
    ArrowLeft: [-1, 0],
    ArrowRight: [1, 0],
    ArrowUp: [0, -1],
    ArrowDown: [0, 1],
  };
  const onKey = (e: KeyboardEvent): void => {
    const arrow = ARROWS[e.key];
    if (arrow !== undefined) {
      const next = nextPoint(sx, sy, cursor, arrow[0], arrow[1]);
      if (next < 0) return;
      cursor = next;
      showTooltip(s, tooltipText(cursor), sx[cursor]!, sy[cursor]!);
      schedule();
    } else if ((e.key === 'Enter' || e.key === ' ') && cursor >= 0) {
      o.onPick?.(cursor, e.shiftKey || e.ctrlKey || e.metaKey);
    } else if (e.key === 'Escape' && cursor >= 0) {
      cursor = -1;
      hideTooltip(s);
      schedule();
    } else {
      if (e.key === 'Escape') hideTooltip(s);
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };
  s.root.addEventListener('blur', () => {
    if (cursor >= 0) {
      cursor = -1;
      hideTooltip(s);
      schedule();
    }
  });
  const onLeave = (): void => hideTooltip(s);
  s.canvas.addEventListener('pointermove', onMove);
  s.canvas.addEventListener('pointerleave', onLeave);
  s.canvas.addEventListener('click', onClick);
  s.root.addEventListener('keydown', onKey);

  prepare();
  draw();

  return {
    update(next: Partial<ScatterOptions>): void {
      const reshape =
        (next.x !== undefined && next.x !== o.x) ||
        (next.y !== undefined && next.y !== o.y) ||
        ('color' in next && next.color !== o.color) ||
        (next.rows !== undefined && next.rows !== o.rows);
      o = { ...o, ...next };
      if (reshape) prepare();
      schedule();
    },
    destroy(): void {
      if (frame !== 0) cancelAnimationFrame(frame);
      s.destroy();
    },
  };
}

/**
 * Positions on a categorical scale spread across 60 % of their band by a fixed hash of the row,
 * so points of one category do not stack (and stay put from one draw to the next).
 */
function jittered(scale: Scale, t: Float32Array): Float32Array {
  if (scale.kind !== 'category') return t;
  const band = 0.6 / scale.categories.length;
  for (let r = 0; r < t.length; r++) {
    // A multiplicative hash of the row index, in [0, 1).
    const u = (Math.imul(r + 1, 2654435761) >>> 0) / 2 ** 32;
    t[r] = t[r]! + (u - 0.5) * band;
  }
  return t;
}

function short(label: string): string {
  return label.length > 12 ? `${label.slice(0, 11)}…` : label;
}
