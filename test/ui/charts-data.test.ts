// The pure parts of the viewer's charts besides scales: brush masks, colour buckets, EMA
// smoothing and the alignment of metric series for uPlot (web/charts/brush.ts, color.ts,
// smooth.ts, align.ts), against answers worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { compact, drawablePoints, sharedX } from '../../web/charts/align.js';
import { brushMask, countMask, nudgeBrush } from '../../web/charts/brush.js';
import { bucketOf, colorSlot, gradient, mix, rgbCss } from '../../web/charts/color.js';
import { scaleOf } from '../../web/charts/scale.js';
import { emaSmooth } from '../../web/charts/smooth.js';

describe('brushMask', () => {
  const cols = [Float32Array.from([0, 0.5, 1, NaN]), Float32Array.from([0.2, 0.4, 0.6, 0.8])];

  it('is null without a brush', () => {
    expect(brushMask(cols, 4, [])).toBeNull();
    expect(countMask(null, 4)).toBe(4);
  });

  it('keeps rows inside the range, ends included, and never a row with no position', () => {
    const m = brushMask(cols, 4, [{ axis: 0, lo: 0.5, hi: 1 }])!;
    expect([...m]).toEqual([0, 1, 1, 0]);
    expect(countMask(m, 4)).toBe(2);
  });

  it('combines brushes on several axes with AND, whichever way a range was dragged', () => {
    const m = brushMask(cols, 4, [
      { axis: 0, lo: 1, hi: 0.4 },
      { axis: 1, lo: 0.5, hi: 1 },
    ])!;
    // axis 0 keeps rows 1, 2; axis 1 keeps rows 2, 3: both keep row 2.
    expect([...m]).toEqual([0, 0, 1, 0]);
  });
});

describe('nudgeBrush', () => {
  it('starts with the upper or the lower half', () => {
    expect(nudgeBrush(undefined, 2, 1, false)).toEqual({ axis: 2, lo: 0.5, hi: 1 });
    expect(nudgeBrush(undefined, 2, -1, true)).toEqual({ axis: 2, lo: 0, hi: 0.5 });
  });

  it('moves a brush by a twentieth of the axis, stopping at the ends', () => {
    expect(nudgeBrush({ axis: 0, lo: 0.5, hi: 1 }, 0, -1, false)).toEqual({
      axis: 0,
      lo: 0.45,
      hi: 0.95,
    });
    expect(nudgeBrush({ axis: 0, lo: 0.5, hi: 1 }, 0, 1, false)).toEqual({
      axis: 0,
      lo: 0.5,
      hi: 1,
    });
    expect(nudgeBrush({ axis: 0, lo: 0.02, hi: 0.5 }, 0, -1, false)).toEqual({
      axis: 0,
      lo: 0,
      hi: 0.48,
    });
  });

  it('moves the upper end with Shift, keeping a step above the lower one', () => {
    expect(nudgeBrush({ axis: 1, lo: 0.45, hi: 0.95 }, 1, -1, true)).toEqual({
      axis: 1,
      lo: 0.45,
      hi: 0.9,
    });
    expect(nudgeBrush({ axis: 1, lo: 0.45, hi: 0.52 }, 1, -1, true)).toEqual({
      axis: 1,
      lo: 0.45,
      hi: 0.5,
    });
    expect(nudgeBrush({ axis: 1, lo: 0.45, hi: 0.98 }, 1, 1, true)).toEqual({
      axis: 1,
      lo: 0.45,
      hi: 1,
    });
  });
});

describe('colours', () => {
  it('mixes channels and rounds them', () => {
    expect(mix([0, 0, 0], [255, 255, 255], 0.5)).toEqual([128, 128, 128]); // 127.5 rounds up
    expect(mix([10, 20, 30], [20, 40, 60], 2)).toEqual([20, 40, 60]); // clamped to b
    expect(rgbCss([1, 2, 3])).toBe('rgb(1 2 3)');
    expect(rgbCss([1, 2, 3], 0.5)).toBe('rgb(1 2 3 / 0.5)');
  });

  it('cuts [0, 1] into buckets', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.5)).toBe(4); // ⌊0.5 × 8⌋
    expect(bucketOf(1)).toBe(7); // the top end belongs to the last bucket
    expect(bucketOf(0.26, 4)).toBe(1);
    expect(bucketOf(NaN)).toBe(-1);
  });

  it('samples a gradient at the middle of each bucket', () => {
    // t = 0.125, 0.375, 0.625, 0.875 of the way from black to (80, 160, 240).
    expect(
      gradient(
        [
          [0, 0, 0],
          [80, 160, 240],
        ],
        4
      )
    ).toEqual([
      [10, 20, 30],
      [30, 60, 90],
      [50, 100, 150],
      [70, 140, 210],
    ]);
    // Three stops: t = 0.25 is halfway along the first leg, t = 0.75 halfway along the second.
    expect(
      gradient(
        [
          [0, 0, 0],
          [100, 100, 100],
          [100, 0, 0],
        ],
        2
      )
    ).toEqual([
      [50, 50, 50],
      [100, 50, 50],
    ]);
  });
});

describe('colorSlot', () => {
  it('gives categories their palette slot, cycling, and the last slot to rows without a value', () => {
    const cats = scaleOf({
      name: 'c',
      values: Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`),
    });
    // 12 categories, 11 slots (10 colours and one for none): band i is at (i + 0.5) / 12.
    expect(colorSlot(cats, 0.5 / 12, 11)).toBe(0);
    expect(colorSlot(cats, 3.5 / 12, 11)).toBe(3);
    expect(colorSlot(cats, 10.5 / 12, 11)).toBe(0); // the 11th category reuses the first colour
    expect(colorSlot(cats, NaN, 11)).toBe(10);
  });

  it('gives numbers their gradient bucket, and one colour when nothing colours the rows', () => {
    const num = scaleOf({ name: 'n', values: [0, 1] });
    // 9 slots: 8 buckets and one for none.
    expect(colorSlot(num, 0, 9)).toBe(0);
    expect(colorSlot(num, 0.3, 9)).toBe(2); // ⌊0.3 × 8⌋
    expect(colorSlot(num, 1, 9)).toBe(7);
    expect(colorSlot(num, NaN, 9)).toBe(8);
    expect(colorSlot(undefined, NaN, 1)).toBe(0);
  });
});

describe('emaSmooth', () => {
  it('is a debiased exponential moving average', () => {
    // w = 0.5: acc = 0.5, 1.25, 2.125; divided by 1 − 0.5ⁿ = 0.5, 0.75, 0.875.
    const s = emaSmooth([1, 2, 3], 0.5);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeCloseTo(1.25 / 0.75, 12);
    expect(s[2]).toBeCloseTo(2.125 / 0.875, 12);
  });

  it('passes non-finite values through without feeding them to the average', () => {
    const s = emaSmooth([1, NaN, 3], 0.5);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBeCloseTo(1.75 / 0.75, 12); // acc = 0.25 + 1.5, second finite point
  });

  it('returns the values unchanged at weight 0', () => {
    expect([...emaSmooth([3, 1, 2], 0)]).toEqual([3, 1, 2]);
  });
});

describe('sharedX and compact', () => {
  it('gives the x values every series shares, when ascending', () => {
    const x = sharedX([
      { x: [0, 1, 2], y: [5, 6, 7] },
      { x: [0, 1, 2], y: [1, NaN, 3] },
    ]);
    expect(x === null ? null : [...x]).toEqual([0, 1, 2]);
    expect(
      sharedX([
        { x: [0, 2], y: [1, 2] },
        { x: [0, 1], y: [1, 2] },
      ])
    ).toBeNull();
    expect(sharedX([{ x: [2, 1], y: [1, 2] }])).toBeNull(); // not ascending
    expect(sharedX([])).toBeNull();
  });

  it("keeps a series' drawable points, sorted by x", () => {
    const [x, y] = compact({ x: [3, 1, 2, 0], y: [30, NaN, 20, 0] });
    // (1, NaN) goes; the rest sorted by x.
    expect([...x]).toEqual([0, 2, 3]);
    expect([...y]).toEqual([0, 20, 30]);
  });

  it('counts the drawable points', () => {
    expect(drawablePoints([1, NaN, -1, Infinity, 2], false)).toBe(3);
    expect(drawablePoints([1, NaN, -1, Infinity, 2], true)).toBe(2);
  });
});
