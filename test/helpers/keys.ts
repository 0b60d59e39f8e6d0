/**
 * Key-order helpers for canonical-serialization tests.
 */

/** Deep copy with every object's keys inserted in reverse order. */
export function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reverseKeys(x)])
    );
  }
  return v;
}
