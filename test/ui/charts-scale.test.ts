// Scales and ticks of the viewer's charts (web/charts/scale.ts, ticks.ts), against answers
// worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { categoryKey, position, positions, scaleOf, valueAt } from '../../web/charts/scale.js';
import { formatNumber, logTicks, niceStep, niceTicks, ticksOf } from '../../web/charts/ticks.js';

describe('scaleOf and position', () => {
  it('maps numbers linearly over their extent, null to NaN', () => {
    const s = scaleOf({ name: 'a', values: [1, 3, null, 5] });
    expect(s).toEqual({ kind: 'number', min: 1, max: 5, log: false });
    expect(position(s, 1)).toBe(0);
    expect(position(s, 3)).toBe(0.5); // (3 − 1) / (5 − 1)
    expect(position(s, 5)).toBe(1);
    expect(position(s, null)).toBeNaN();
    expect(position(s, 'x')).toBeNaN();
  });

  it('maps a log axis by log10, leaving out non-positive values', () => {
    const s = scaleOf({ name: 'lr', values: [0.001, 0.1, 10, 0, -1], log: true });
    // log10 0.001 = −3, log10 10 = 1: 0.1 (−1) is halfway.
    expect(s).toEqual({ kind: 'number', min: -3, max: 1, log: true });
    expect(position(s, 0.1)).toBeCloseTo(0.5, 12);
    expect(position(s, 0)).toBeNaN();
    expect(position(s, -1)).toBeNaN();
    expect(s.kind === 'number' && valueAt(s, 0.5)).toBeCloseTo(0.1, 12);
  });

  it('keeps a column of numbers numeric when some are not finite, leaving those out', () => {
    const s = scaleOf({ name: 'loss', values: [1, NaN, 3, Infinity, -Infinity] });
    expect(s).toEqual({ kind: 'number', min: 1, max: 3, log: false });
    expect(position(s, Infinity)).toBeNaN();
    expect(position(s, 2)).toBe(0.5);
  });

  it('widens a one-value axis so the value sits in the middle', () => {
    const s = scaleOf({ name: 'k', values: [4, 4] });
    expect(s).toEqual({ kind: 'number', min: 2, max: 6, log: false });
    expect(position(s, 4)).toBe(0.5);
    expect(scaleOf({ name: 'z', values: [0] })).toEqual({
      kind: 'number',
      min: -1,
      max: 1,
      log: false,
    });
    expect(scaleOf({ name: 'n', values: [null, null] })).toEqual({
      kind: 'number',
      min: 0,
      max: 1,
      log: false,
    });
  });

  it('puts strings and booleans in bands, in code point order, each at its middle', () => {
    const s = scaleOf({ name: 'opt', values: ['b', 'a', true, false, 'b', null] });
    expect(s.kind).toBe('category');
    if (s.kind !== 'category') return;
    expect(s.categories).toEqual(['a', 'b', 'false', 'true']);
    expect(position(s, 'a')).toBe(0.125); // band 0 of 4: (0 + 0.5) / 4
    expect(position(s, 'b')).toBe(0.375);
    expect(position(s, false)).toBe(0.625);
    expect(position(s, true)).toBe(0.875);
    expect(position(s, null)).toBeNaN();
    expect(position(s, 'c')).toBeNaN();
  });

  it('orders numbers among categories as numbers, before text', () => {
    const s = scaleOf({ name: 'm', values: [10, 'x', 2] });
    expect(s.kind === 'category' && s.categories).toEqual(['2', '10', 'x']);
    expect(categoryKey(2)).toBe('2');
    expect(categoryKey(null)).toBeNull();
  });

  it('computes a column of positions', () => {
    const s = scaleOf({ name: 'a', values: [0, 10, 5] });
    expect([...positions(s, [0, 10, 5, null], 4)]).toEqual([0, 1, 0.5, NaN]);
  });
});

describe('ticks', () => {
  it('picks steps of 1, 2 or 5 × 10^k', () => {
    expect(niceStep(10, 5)).toBe(2); // 10 / 5 = 2
    expect(niceStep(0.79, 4)).toBeCloseTo(0.2, 12); // 0.1975 → 0.2
    expect(niceStep(14, 3)).toBe(5); // 4.67 → 5
    expect(niceStep(1000, 10)).toBe(100);
  });

  it('lists the multiples of the step inside the range, without float dust', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.13, 0.92, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(-7, 7, 3)).toEqual([-5, 0, 5]);
  });

  it('puts log ticks at powers of ten, with 2 and 5 between on a short range', () => {
    expect(logTicks(-3, 1)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0, 1)).toEqual([1, 2, 5, 10]);
  });

  it('formats numbers short', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(1234567)).toBe('1.23e6');
    expect(formatNumber(0.00005)).toBe('5e-5');
    expect(formatNumber(-42.5)).toBe('-42.5');
  });

  it('gives each scale its ticks with positions', () => {
    const cat = scaleOf({ name: 'c', values: ['a', 'b'] });
    expect(ticksOf(cat)).toEqual([
      { t: 0.25, label: 'a' },
      { t: 0.75, label: 'b' },
    ]);
    const lin = scaleOf({ name: 'n', values: [0, 10] });
    expect(ticksOf(lin, 5).map((t) => t.label)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(ticksOf(lin, 5)[1]!.t).toBe(0.2);
    const log = scaleOf({ name: 'l', values: [1, 100], log: true });
    expect(ticksOf(log).map((t) => [t.t, t.label])).toEqual([
      [0, '1'],
      [0.5, '10'],
      [1, '100'],
    ]);
  });
});
