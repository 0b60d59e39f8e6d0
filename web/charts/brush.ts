/**
 * @module web/charts/brush
 * Brushes on parallel coordinates: a range of positions on one axis. A row passes when, on
 * every brushed axis, its position lies inside the range (ends included): several brushes
 * combine with AND. A row without a position on a brushed axis (null, missing) never passes.
 * Pure: no DOM, unit-tested in node.
 */

/** A range [lo, hi] of positions (0 = bottom, 1 = top) on axis `axis`. */
export interface Brush {
  readonly axis: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * The rows that pass every brush: 1 = passes; null when there is no brush (every row passes).
 * `positions[a]` holds axis a's position of each row (NaN for none).
 */
export function brushMask(
  positions: readonly Float32Array[],
  rows: number,
  brushes: readonly Brush[]
): Uint8Array | null {
  if (brushes.length === 0) return null;
  const mask = new Uint8Array(rows).fill(1);
  for (const b of brushes) {
    const col = positions[b.axis];
    if (col === undefined) continue;
    const lo = Math.min(b.lo, b.hi);
    const hi = Math.max(b.lo, b.hi);
    for (let r = 0; r < rows; r++) {
      const t = col[r]!;
      // NaN fails both comparisons' negation: !(NaN >= lo) is true.
      if (!(t >= lo && t <= hi)) mask[r] = 0;
    }
  }
  return mask;
}

/** How many entries of a mask are 1 (all `rows` when the mask is null). */
export function countMask(mask: Uint8Array | null, rows: number): number {
  if (mask === null) return rows;
  let n = 0;
  for (let i = 0; i < rows; i++) n += mask[i]!;
  return n;
}

/** How far one key press moves or grows a brush, as a fraction of the axis. */
export const BRUSH_STEP = 0.05;

/**
 * A brush after one arrow key on its axis (the keyboard's way to brush): without a brush, Up
 * brushes the upper half and Down the lower half; with one, Up and Down move it by
 * {@link BRUSH_STEP} (stopping at the axis' ends), and with Shift they move its upper end
 * instead (keeping it at least one step above the lower end).
 */
export function nudgeBrush(
  brush: Brush | undefined,
  axis: number,
  direction: 1 | -1,
  grow: boolean
): Brush {
  if (brush === undefined) {
    return direction > 0 ? { axis, lo: 0.5, hi: 1 } : { axis, lo: 0, hi: 0.5 };
  }
  const step = direction * BRUSH_STEP;
  if (grow) {
    const hi = Math.min(1, Math.max(brush.lo + BRUSH_STEP, brush.hi + step));
    return { axis, lo: brush.lo, hi: round(hi) };
  }
  const move = Math.min(1 - brush.hi, Math.max(-brush.lo, step));
  return { axis, lo: round(brush.lo + move), hi: round(brush.hi + move) };
}

/** A position rounded to 1e-9, so repeated steps do not drift (0.45 + 0.05 is 0.5, not 0.5000…1). */
function round(t: number): number {
  return Math.round(t * 1e9) / 1e9;
}
