/**
 * @module web/charts/points
 * Finding points of a scatter plot by position: the one under the pointer, and, for the
 * keyboard, the next one in an arrow's direction. Points are pixel positions in two arrays, NaN
 * for a row not drawn. Pure: no DOM, unit-tested in node.
 */

/** The point nearest (x, y) within `radius` pixels, or -1. */
export function nearestPoint(
  xs: Float32Array,
  ys: Float32Array,
  x: number,
  y: number,
  radius: number
): number {
  let best = -1;
  let bestD = radius * radius;
  for (let r = 0; r < xs.length; r++) {
    const dx = xs[r]! - x;
    const dy = ys[r]! - y;
    const d = dx * dx + dy * dy;
    // NaN (not drawn) fails the comparison.
    if (d <= bestD) {
      best = r;
      bestD = d;
    }
  }
  return best;
}

/**
 * The point an arrow key moves to from point `from`: among the points ahead in direction
 * (dx, dy) (screen pixels: y grows downwards), the one with the least distance ahead plus twice
 * the distance aside, so a point straight ahead wins over a nearer one off to the side. From no
 * point (-1), the leftmost (then topmost) point. Stays at `from` when nothing is ahead.
 */
export function nextPoint(
  xs: Float32Array,
  ys: Float32Array,
  from: number,
  dx: -1 | 0 | 1,
  dy: -1 | 0 | 1
): number {
  let best = -1;
  if (from < 0 || Number.isNaN(xs[from]!)) {
    for (let r = 0; r < xs.length; r++) {
      if (Number.isNaN(xs[r]!)) continue;
      if (best < 0 || xs[r]! < xs[best]! || (xs[r] === xs[best] && ys[r]! < ys[best]!)) best = r;
    }
    return best;
  }
  let bestScore = Infinity;
  const x0 = xs[from]!;
  const y0 = ys[from]!;
  for (let r = 0; r < xs.length; r++) {
    if (r === from || Number.isNaN(xs[r]!)) continue;
    const ax = xs[r]! - x0;
    const ay = ys[r]! - y0;
    const ahead = ax * dx + ay * dy;
    if (!(ahead > 0)) continue;
    const aside = Math.abs(ax * dy - ay * dx);
    const score = ahead + 2 * aside;
    if (score < bestScore) {
      best = r;
      bestScore = score;
    }
  }
  return best < 0 ? from : best;
}
