/**
 * @module web/charts/surface
 * The DOM every canvas chart stands on: a focusable root element (class `rl-chart`, carrying
 * `data-points` and `data-rows-visible` for tests), a canvas sized to its container at the
 * device's pixel ratio, a legend and a tooltip, and a ResizeObserver that redraws on resize.
 */

/** A chart's root, canvas and the size it draws at, in CSS pixels. */
export interface Surface {
  readonly root: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  readonly ctx: CanvasRenderingContext2D;
  readonly legend: HTMLDivElement;
  readonly tooltip: HTMLDivElement;
  width: number;
  height: number;
  /** Sizes the canvas to the container (call before drawing); true when the size changed. */
  fit(): boolean;
  destroy(): void;
}

/** Default chart height when the container has none of its own. */
export const DEFAULT_HEIGHT = 360;

/** Builds the surface inside `el`; `onResize` runs when the container's width changes. */
export function createSurface(
  el: HTMLElement,
  kind: string,
  label: string,
  onResize: () => void
): Surface {
  const root = document.createElement('div');
  root.className = `rl-chart rl-${kind}`;
  root.tabIndex = 0;
  root.setAttribute('role', 'img');
  root.setAttribute('aria-label', label);
  root.style.position = 'relative';
  root.style.outlineOffset = '2px';
  const canvas = document.createElement('canvas');
  canvas.style.display = 'block';
  canvas.style.touchAction = 'none';
  const legend = document.createElement('div');
  legend.className = 'rl-legend';
  const tooltip = document.createElement('div');
  tooltip.className = 'rl-tooltip';
  tooltip.setAttribute('role', 'tooltip');
  Object.assign(tooltip.style, {
    position: 'absolute',
    pointerEvents: 'none',
    display: 'none',
    padding: '4px 6px',
    borderRadius: '4px',
    font: '12px system-ui, sans-serif',
    whiteSpace: 'pre',
    zIndex: '2',
    background: 'var(--bg, #fff)',
    color: 'var(--fg, #000)',
    border: '1px solid var(--grid, #ccc)',
    boxShadow: '0 2px 6px rgb(0 0 0 / 0.2)',
  });
  root.append(canvas, legend, tooltip);
  // The height is the container's own, taken before the chart is in it: read after, a container
  // sized by its content would grow by its padding at every redraw.
  const own = contentHeight(el);
  el.append(root);
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('This browser cannot draw on a canvas.');

  let lastWidth = -1;
  const surface: Surface = {
    root,
    canvas,
    ctx,
    legend,
    tooltip,
    width: 0,
    height: 0,
    fit() {
      const width = Math.max(240, contentWidth(el) || 640);
      const room = own - legend.offsetHeight;
      const height = Math.max(200, room > 120 ? Math.floor(room) : DEFAULT_HEIGHT);
      const dpr = window.devicePixelRatio || 1;
      const changed = width !== surface.width || height !== surface.height;
      if (changed || canvas.width !== Math.round(width * dpr)) {
        surface.width = width;
        surface.height = height;
        canvas.width = Math.round(width * dpr);
        canvas.height = Math.round(height * dpr);
        canvas.style.width = `${width}px`;
        canvas.style.height = `${height}px`;
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      return changed;
    },
    destroy() {
      observer.disconnect();
      root.remove();
    },
  };
  const observer = new ResizeObserver(() => {
    const w = Math.floor(el.clientWidth);
    if (w !== lastWidth) {
      const first = lastWidth === -1;
      lastWidth = w;
      if (!first) onResize();
    }
  });
  observer.observe(el);
  return surface;
}

/** The height inside a container's padding (0 when it has none of its own yet). */
export function contentHeight(el: HTMLElement): number {
  const style = getComputedStyle(el);
  const padding = (parseFloat(style.paddingTop) || 0) + (parseFloat(style.paddingBottom) || 0);
  return Math.max(0, el.clientHeight - padding);
}

/** The width inside a container's padding: what a chart in it may take. */
export function contentWidth(el: HTMLElement): number {
  const style = getComputedStyle(el);
  const padding = (parseFloat(style.paddingLeft) || 0) + (parseFloat(style.paddingRight) || 0);
  return Math.max(0, Math.floor(el.clientWidth - padding));
}

/** Shows the tooltip near (x, y) inside the root, kept within it. */
export function showTooltip(s: Surface, text: string, x: number, y: number): void {
  s.tooltip.textContent = text;
  s.tooltip.style.display = 'block';
  const w = s.tooltip.offsetWidth;
  const h = s.tooltip.offsetHeight;
  const left = x + 12 + w > s.width ? x - 12 - w : x + 12;
  const top = Math.max(0, y - h - 8);
  s.tooltip.style.left = `${Math.max(0, left)}px`;
  s.tooltip.style.top = `${top}px`;
}

/** Hides the tooltip. */
export function hideTooltip(s: Surface): void {
  s.tooltip.style.display = 'none';
}

/** A position of a pointer event in the canvas's CSS pixels. */
export function pointerAt(s: Surface, e: MouseEvent): { x: number; y: number } {
  const r = s.canvas.getBoundingClientRect();
  return { x: e.clientX - r.left, y: e.clientY - r.top };
}

/** Records that a chart drew: the `rl:<kind>:drawn` mark and the figures on the root. */
export function markDrawn(
  s: Surface,
  kind: string,
  points: number,
  visible: number,
  ms: number
): void {
  s.root.dataset['points'] = String(points);
  s.root.dataset['rowsVisible'] = String(visible);
  s.root.dataset['drawMs'] = ms.toFixed(1);
  performance.mark(`rl:${kind}:drawn`, { detail: { points, visible, ms } });
}
