/**
 * @module formats/code-points
 * Unicode code point order of strings, the order of their UTF-8 bytes: the one order OMMX's
 * Rust writer sorts names in. JavaScript's `<` compares UTF-16 code units, which differs from it
 * around surrogates (U+FFFD sorts before U+1F600 here, after it there).
 */

/**
 * Compares two strings by code point, as their UTF-8 bytes compare.
 *
 * @param a - a string
 * @param b - another string
 * @returns negative when `a` sorts first, positive when `b` does, 0 when equal
 * @throws nothing
 * @example
 * ```ts
 * ['b', '\u{1F600}', '\uFFFD'].sort(compareCodePoints); // ['b', '\uFFFD', '\u{1F600}']
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate stands for a code point above U+FFFF, so it sorts after any other unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
