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
