import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCodePoints } from '../../src/formats/code-points.js';

describe('compareCodePoints', () => {
  it('orders strings as their UTF-8 bytes compare', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const bytes = Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
        expect(Math.sign(compareCodePoints(a, b))).toBe(bytes);
      }),
      { numRuns: 2000 }
    );
  });

  it('puts U+FFFD before U+1F600, unlike a plain sort', () => {
    expect(['\u{1F600}', 'b', '\uFFFD'].sort(compareCodePoints)).toEqual([
      'b',
      '\uFFFD',
      '\u{1F600}',
    ]);
    expect(['\u{1F600}', '\uFFFD'].sort()).toEqual(['\u{1F600}', '\uFFFD']);
  });
});
