/**
 * @module experiment/seeded
 * Small seeded generators of uniform numbers in [0, 1), the same on every platform: equal seeds,
 * equal sequences. `random()` configs of a sweep draw from SplitMix32; the demos' instances and
 * data from mulberry32. Neither is for anything secret.
 */

/**
 * SplitMix32 (what `random(space, n, seed)` draws sweep configs with).
 * @param seed - any integer
 * @returns a function giving the next number in [0, 1)
 * @example
 * ```ts
 * const next = splitMix32(7); next(); // the same number on every run
 * ```
 */
export function splitMix32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 2 ** 32;
  };
}

/**
 * mulberry32 (the demo studies' instances and data, and the tests' synthetic studies).
 * @param seed - any integer
 * @returns a function giving the next number in [0, 1)
 * @example
 * ```ts
 * const next = mulberry32(1); next(); // the same number on every run
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
