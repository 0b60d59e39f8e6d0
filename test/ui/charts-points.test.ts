// Finding scatter points by position and by arrow key (web/charts/points.ts), against answers
// worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { nearestPoint, nextPoint } from '../../web/charts/points.js';

// Five rows; the last is not drawn.
const xs = Float32Array.from([10, 20, 20, 40, NaN]);
const ys = Float32Array.from([50, 50, 10, 52, 0]);

describe('nearestPoint', () => {
  it('finds the point within the radius, nearest first', () => {
    expect(nearestPoint(xs, ys, 21, 49, 5)).toBe(1); // √2 away
    expect(nearestPoint(xs, ys, 30, 30, 5)).toBe(-1);
    expect(nearestPoint(xs, ys, NaN, 0, 5)).toBe(-1);
  });
});

describe('nextPoint', () => {
  it('starts at the leftmost point, the topmost of a tie', () => {
    expect(nextPoint(xs, ys, -1, 1, 0)).toBe(0);
    expect(nextPoint(Float32Array.from([5, 5]), Float32Array.from([9, 3]), -1, 0, 1)).toBe(1);
    expect(nextPoint(Float32Array.from([NaN]), Float32Array.from([NaN]), -1, 1, 0)).toBe(-1);
  });

  it('prefers the point straight ahead', () => {
    // From row 0 to the right: row 1 scores 10 + 0, row 2 10 + 2·40 = 90, row 3 30 + 2·2 = 34.
    expect(nextPoint(xs, ys, 0, 1, 0)).toBe(1);
    // From row 1 to the right: row 2 is not ahead (same x); row 3 scores 20 + 4.
    expect(nextPoint(xs, ys, 1, 1, 0)).toBe(3);
    // From row 1 up (y grows downwards): row 2, 40 px straight up.
    expect(nextPoint(xs, ys, 1, 0, -1)).toBe(2);
  });

  it('stays put when nothing is ahead', () => {
    expect(nextPoint(xs, ys, 3, 1, 0)).toBe(3);
    expect(nextPoint(xs, ys, 2, 0, -1)).toBe(2);
  });
});
