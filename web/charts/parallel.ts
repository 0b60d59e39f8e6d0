/**
 * @module web/charts/parallel
 * Parallel coordinates on a canvas: one vertical axis per column (numbers on a linear or log
 * scale, strings and booleans as categories), one polyline per row. Rows are stroked in one path
 * per colour (a gradient bucket or a category of `colorBy`; failed rows in `--failed`), so
 * 10,000 rows × 8 axes are a handful of strokes. Dragging along an axis brushes a range there;
 * brushes on several axes combine with AND; rows outside them are drawn faint and `onBrush`
 * gets the mask (null when no brush is left). Clicking a brush, or Escape, clears it; clicking
 * a line picks its row. Highlighted rows are drawn last, on top, in `--accent`.
 */
import { brushMask, countMask, nudgeBrush, type Brush } from './brush.js';
import { colorSlot } from './color.js';
import type { Axis, ChartHandle } from './common.js';
import { positions, scaleOf, valueAt, type Scale } from './scale.js';
import {
  createSurface,
  hideTooltip,
  markDrawn,
  pointerAt,
  showTooltip,
  type Surface,
} from './surface.js';
import { colorsFor, readTheme, type Theme } from './theme.js';
import { formatNumber, ticksOf } from './ticks.js';

/** What the chart draws; see the module comment. */
export interface ParallelOptions {
  axes: readonly Axis[];
  rows: number;
  /** 1 = the row passes the page's filter (0: not drawn at all). */
  visible: Uint8Array;
  highlighted: ReadonlySet<number>;
  colorBy?: Axis;
  failed?: Uint8Array;
  onBrush(mask: Uint8Array | null): void;
  onPick?(row: number): void;
  /** A row's name for the tooltip over its line (the run's name); `row <n>` when absent. */
  label?(row: number): string;
  /**
   * The brush the page holds (what `onBrush` last gave it, or null once the page cleared it, e.g.
   * from a "clear the brush" button): `update({ brush: null })` removes the chart's brushes
   * without calling `onBrush`. Optional; a mask given here is not read (the chart keeps its ranges).
   */
  brush?: Uint8Array | null;
}

const MARGIN = { top: 40, bottom: 22, left: 48, right: 48 };
/** How close (CSS px) to an axis a press must be to brush it. */
const AXIS_GRAB = 14;

interface Layout {
  readonly xs: number[];
  readonly top: number;
  readonly height: number;
}

/** Draws parallel coordinates into `el` (see the module comment). */
export function createParallel(
  el: HTMLElement,
  options: ParallelOptions
): ChartHandle<ParallelOptions> {
  let o = options;
  let scales: Scale[] = [];
  let cols: Float32Array[] = [];
  let colorScale: Scale | undefined;
  let colorCol: Float32Array | undefined;
  let brushes: Brush[] = [];
  let brushed: Uint8Array | null = null;
  let drag: { axis: number; from: number; to: number; moved: boolean } | undefined;
  let frame = 0;
  let theme: Theme;
  /** The axis the keyboard brushes (-1: none picked yet). */
  let active = -1;

  const s: Surface = createSurface(el, 'parallel', 'Parallel coordinates', () => schedule());

  function prepare(): void {
    scales = o.axes.map((a) => scaleOf(a));
    cols = o.axes.map((a, i) => positions(scales[i]!, a.values, o.rows));
    if (o.colorBy !== undefined) {
      colorScale = scaleOf(o.colorBy);
      colorCol = positions(colorScale, o.colorBy.values, o.rows);
    } else {
      colorScale = undefined;
      colorCol = undefined;
    }
  }

  function layout(): Layout {
    const n = o.axes.length;
    const inner = s.width - MARGIN.left - MARGIN.right;
    const xs = o.axes.map((_, i) =>
      n === 1 ? MARGIN.left + inner / 2 : MARGIN.left + (i * inner) / (n - 1)
    );
    return { xs, top: MARGIN.top, height: s.height - MARGIN.top - MARGIN.bottom };
  }

  function currentBrushes(): Brush[] {
    if (drag === undefined || !drag.moved) return brushes;
    return [
      ...brushes.filter((b) => b.axis !== drag!.axis),
      { axis: drag.axis, lo: Math.min(drag.from, drag.to), hi: Math.max(drag.from, drag.to) },
    ];
  }

  function draw(): void {
    frame = 0;
    const t0 = performance.now();
    s.fit();
    theme = readTheme(s.root);
    const { ctx } = s;
    ctx.clearRect(0, 0, s.width, s.height);
    const L = layout();
    const live = currentBrushes();
    const mask = live === brushes ? brushed : brushMask(cols, o.rows, live);
    const n = o.axes.length;

    // Buckets: 0 … k−1 the colours, then failed, then faint (outside the brushes).
    const palette = colorsFor(theme, colorScale);
    const FAILED = palette.length;
    const FAINT = palette.length + 1;
    const bucketRows: number[][] = Array.from({ length: palette.length + 2 }, () => []);
    let drawn = 0;
    let passing = 0;
    for (let r = 0; r < o.rows; r++) {
      if (o.visible[r] !== 1) continue;
      drawn++;
      if (mask !== null && mask[r] !== 1) {
        bucketRows[FAINT]!.push(r);
        continue;
      }
      passing++;
      if (o.highlighted.has(r)) continue;
      if (o.failed?.[r] === 1) bucketRows[FAILED]!.push(r);
      else bucketRows[colorSlot(colorScale, colorCol?.[r] ?? NaN, palette.length)]!.push(r);
    }
    const alpha = drawn > 2000 ? 0.35 : drawn > 300 ? 0.6 : 0.9;
    ctx.lineWidth = 1;
    ctx.lineJoin = 'round';
    const stroke = (rows: readonly number[], color: string, a: number, width = 1): void => {
      if (rows.length === 0) return;
      ctx.globalAlpha = a;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (const r of rows) polyline(r, L);
      ctx.stroke();
    };
    stroke(bucketRows[FAINT]!, theme.grid, 0.5);
    for (let b = 0; b < palette.length; b++) stroke(bucketRows[b]!, palette[b]!, alpha);
    stroke(bucketRows[FAILED]!, theme.failed, Math.max(alpha, 0.6));
    const top: number[] = [];
    for (const r of o.highlighted) {
      if (r >= 0 && r < o.rows && o.visible[r] === 1) top.push(r);
    }
    stroke(top, theme.accent, 1, 2);
    ctx.globalAlpha = 1;

    // Axes, ticks, names, brushes.
    ctx.font = theme.font;
    const keyed = document.activeElement === s.root ? active : -1;
    for (let a = 0; a < n; a++) {
      const x = L.xs[a]!;
      ctx.strokeStyle = a === keyed ? theme.accent : theme.fg;
      ctx.lineWidth = a === keyed ? 3 : 1;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, L.top);
      ctx.lineTo(x + 0.5, L.top + L.height);
      ctx.stroke();
      const b = live.find((k) => k.axis === a);
      if (b !== undefined) {
        const y0 = L.top + (1 - b.hi) * L.height;
        const y1 = L.top + (1 - b.lo) * L.height;
        ctx.globalAlpha = 0.25;
        ctx.fillStyle = theme.accent;
        ctx.fillRect(x - 8, y0, 16, y1 - y0);
        ctx.globalAlpha = 1;
        ctx.strokeStyle = theme.accent;
        ctx.strokeRect(x - 8 + 0.5, y0 + 0.5, 15, Math.max(1, y1 - y0 - 1));
      }
      ctx.fillStyle = theme.muted;
      ctx.strokeStyle = theme.bg;
      ctx.lineWidth = 3;
      ctx.lineJoin = 'round';
      ctx.textAlign = a === n - 1 && n > 1 ? 'right' : 'left';
      ctx.textBaseline = 'middle';
      const ticks = ticksOf(scales[a]!, 6);
      const every = Math.max(1, Math.ceil(ticks.length / Math.max(2, L.height / 14)));
      ticks.forEach((t, i) => {
        if (i % every !== 0) return;
        const y = L.top + (1 - t.t) * L.height;
        ctx.fillRect(x - 3, Math.round(y), 6, 1);
        const label = t.label.length > 14 ? `${t.label.slice(0, 13)}…` : t.label;
        // A halo in the background colour keeps labels readable over thousands of lines.
        const lx = ctx.textAlign === 'right' ? x - 6 : x + 6;
        ctx.strokeText(label, lx, y);
        ctx.fillText(label, lx, y);
      });
      ctx.fillStyle = theme.fg;
      ctx.textBaseline = 'bottom';
      ctx.textAlign = n === 1 ? 'center' : a === 0 ? 'left' : a === n - 1 ? 'right' : 'center';
      const name = o.axes[a]!.name;
      const room = n === 1 ? s.width : (s.width - MARGIN.left - MARGIN.right) / (n - 1);
      ctx.fillText(fit(ctx, name, Math.max(40, room - 6)), x, L.top - 10);
    }
    // Where the axes stand, for tests and for the page's own drag tests.
    s.root.dataset['axes'] = L.xs.map((x) => x.toFixed(1)).join(',');
    s.root.dataset['plot'] = `${String(L.top)},${String(L.height)}`;
    markDrawn(s, 'parallel', drawn, passing, performance.now() - t0);
  }

  function polyline(r: number, L: Layout): void {
    let pen = false;
    for (let a = 0; a < cols.length; a++) {
      const t = cols[a]![r]!;
      if (Number.isNaN(t)) {
        pen = false;
        continue;
      }
      const y = L.top + (1 - t) * L.height;
      if (pen) s.ctx.lineTo(L.xs[a]!, y);
      else s.ctx.moveTo(L.xs[a]!, y);
      pen = true;
    }
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(draw);
  }

  function setBrushes(next: Brush[]): void {
    brushes = next;
    brushed = brushMask(cols, o.rows, brushes);
    o.onBrush(brushed);
    schedule();
  }

  function axisAt(x: number, y: number, L: Layout): number {
    if (y < L.top - 8 || y > L.top + L.height + 8) return -1;
    let best = -1;
    let bestD = AXIS_GRAB;
    L.xs.forEach((ax, i) => {
      const d = Math.abs(ax - x);
      if (d <= bestD) {
        best = i;
        bestD = d;
      }
    });
    return best;
  }

  const tAt = (y: number, L: Layout): number =>
    Math.min(1, Math.max(0, 1 - (y - L.top) / L.height));

  function rowAt(x: number, y: number, L: Layout): number {
    const a = L.xs.findIndex((ax, i) => i < L.xs.length - 1 && x >= ax && x <= L.xs[i + 1]!);
    if (a < 0) return -1;
    const f = (x - L.xs[a]!) / (L.xs[a + 1]! - L.xs[a]!);
    let best = -1;
    let bestD = 6;
    const scan = (r: number): void => {
      const t0 = cols[a]![r]!;
      const t1 = cols[a + 1]![r]!;
      if (Number.isNaN(t0) || Number.isNaN(t1)) return;
      const d = Math.abs(L.top + (1 - (t0 + (t1 - t0) * f)) * L.height - y);
      if (d < bestD) {
        best = r;
        bestD = d;
      }
    };
    for (const r of o.highlighted) if (o.visible[r] === 1) scan(r);
    if (best >= 0) return best;
    for (let r = 0; r < o.rows; r++) {
      if (o.visible[r] === 1 && (brushed === null || brushed[r] === 1)) scan(r);
    }
    return best;
  }

  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const p = pointerAt(s, e);
    const L = layout();
    const axis = axisAt(p.x, p.y, L);
    if (axis < 0) return;
    e.preventDefault();
    s.canvas.setPointerCapture(e.pointerId);
    const t = tAt(p.y, L);
    drag = { axis, from: t, to: t, moved: false };
  };
  const onMove = (e: PointerEvent): void => {
    const p = pointerAt(s, e);
    const L = layout();
    if (drag !== undefined) {
      const t = tAt(p.y, L);
      if (Math.abs(t - drag.from) * L.height >= 3) drag.moved = true;
      drag.to = t;
      if (drag.moved) schedule();
      return;
    }
    s.canvas.style.cursor = axisAt(p.x, p.y, L) >= 0 ? 'ns-resize' : 'default';
    const r = o.onPick !== undefined ? rowAt(p.x, p.y, L) : -1;
    if (r >= 0) {
      showTooltip(s, rowText(r), p.x, p.y);
      s.canvas.style.cursor = 'pointer';
    } else hideTooltip(s);
  };
  const onUp = (e: PointerEvent): void => {
    if (drag === undefined) return;
    const d = drag;
    drag = undefined;
    if (s.canvas.hasPointerCapture(e.pointerId)) s.canvas.releasePointerCapture(e.pointerId);
    if (d.moved) {
      setBrushes([
        ...brushes.filter((b) => b.axis !== d.axis),
        { axis: d.axis, lo: Math.min(d.from, d.to), hi: Math.max(d.from, d.to) },
      ]);
    } else if (brushes.some((b) => b.axis === d.axis)) {
      // A click on an axis that has a brush clears that brush.
      setBrushes(brushes.filter((b) => b.axis !== d.axis));
    }
  };
  const onClick = (e: MouseEvent): void => {
    if (o.onPick === undefined) return;
    const p = pointerAt(s, e);
    const L = layout();
    if (axisAt(p.x, p.y, L) >= 0) return;
    const r = rowAt(p.x, p.y, L);
    if (r >= 0) o.onPick(r);
  };
  // The keyboard: Left and Right pick an axis (drawn in the accent colour while the chart has
  // the focus), Up and Down brush it (see nudgeBrush; Shift moves the upper end), Delete clears
  // its brush, Escape every brush.
  const onKey = (e: KeyboardEvent): void => {
    const n = o.axes.length;
    const b = brushes.find((k) => k.axis === active);
    if (e.key === 'Escape' && brushes.length > 0) {
      setBrushes([]);
    } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && n > 0) {
      active =
        active < 0 ? 0 : Math.min(n - 1, Math.max(0, active + (e.key === 'ArrowRight' ? 1 : -1)));
      announce();
      schedule();
    } else if ((e.key === 'ArrowUp' || e.key === 'ArrowDown') && n > 0) {
      if (active < 0) active = 0;
      const next = nudgeBrush(
        brushes.find((k) => k.axis === active),
        active,
        e.key === 'ArrowUp' ? 1 : -1,
        e.shiftKey
      );
      setBrushes([...brushes.filter((k) => k.axis !== active), next]);
      announce();
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && b !== undefined) {
      setBrushes(brushes.filter((k) => k !== b));
      announce();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  /** Says which axis the keyboard is on and its brush, for screen readers. */
  function announce(): void {
    const axis = o.axes[active];
    if (axis === undefined) return;
    const b = brushes.find((k) => k.axis === active);
    const scale = scales[active]!;
    const range =
      b === undefined
        ? 'no brush'
        : scale.kind === 'number'
          ? `brushed from ${formatNumber(valueAt(scale, b.lo))} to ${formatNumber(valueAt(scale, b.hi))}`
          : `brushed: ${scale.categories
              .filter((_, i) => {
                const t = (i + 0.5) / scale.categories.length;
                return t >= b.lo && t <= b.hi;
              })
              .join(', ')}`;
    live.textContent = `Axis ${axis.name}, ${range}; ${String(countMask(brushed, o.rows))} rows inside.`;
  }
  const onLeave = (): void => hideTooltip(s);

  function rowText(r: number): string {
    return [
      o.label?.(r) ?? `row ${r}`,
      ...o.axes.map((a) => `${a.name}: ${String(a.values[r] ?? '—')}`),
    ].join('\n');
  }

  s.canvas.addEventListener('pointerdown', onDown);
  s.canvas.addEventListener('pointermove', onMove);
  s.canvas.addEventListener('pointerup', onUp);
  s.canvas.addEventListener('pointercancel', onUp);
  s.canvas.addEventListener('pointerleave', onLeave);
  s.canvas.addEventListener('click', onClick);
  s.root.addEventListener('keydown', onKey);
  s.root.addEventListener('focus', () => schedule());
  s.root.addEventListener('blur', () => schedule());
  s.root.title =
    'Drag along an axis to brush a range; click a brush or press Escape to clear it. Keyboard: ← → pick an axis, ↑ ↓ brush it (Shift: its upper end), Delete clears it.';
  const live = document.createElement('span');
  live.className = 'rl-live';
  live.setAttribute('aria-live', 'polite');
  // Visually hidden, read by screen readers.
  live.style.cssText =
    'position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap;';
  s.root.append(live);

  prepare();
  draw();

  return {
    update(next: Partial<ParallelOptions>): void {
      const reshape =
        (next.axes !== undefined && next.axes !== o.axes) ||
        (next.rows !== undefined && next.rows !== o.rows) ||
        ('colorBy' in next && next.colorBy !== o.colorBy);
      const axesChanged =
        next.axes !== undefined &&
        (next.axes.length !== o.axes.length ||
          next.axes.some((a, i) => a.name !== o.axes[i]!.name || a.log !== o.axes[i]!.log));
      const rowsChanged = next.rows !== undefined && next.rows !== o.rows;
      o = { ...o, ...next };
      if (reshape) prepare();
      if ('brush' in next && next.brush === null && brushes.length > 0) {
        // The page cleared the brush: drop the ranges it no longer filters by.
        brushes = [];
        brushed = null;
      }
      if (axesChanged) active = -1;
      if ((axesChanged || rowsChanged) && brushes.length > 0) {
        // Brushes belong to axes (and their positions to the rows): drop them with the axes.
        brushes = [];
        brushed = null;
        o.onBrush(null);
      } else if (brushes.length > 0 && (next.axes !== undefined || next.rows !== undefined)) {
        // Same axes with new values (data read again): the brushes stay, their rows may not.
        brushed = brushMask(cols, o.rows, brushes);
        o.onBrush(brushed);
      }
      schedule();
    },
    destroy(): void {
      if (frame !== 0) cancelAnimationFrame(frame);
      s.destroy();
    },
  };
}

/** Text cut with an ellipsis to fit `width` pixels. */
function fit(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}
