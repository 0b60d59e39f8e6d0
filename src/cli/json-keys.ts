/**
 * @module cli/json-keys
 * One key casing in every `--json` output: snake_case, as the tables' columns. Reports the
 * library returns in camelCase (`dryRun`, `mediaType`, `upToDate`) are converted on the way out;
 * keys that are data — annotation keys, attribute and tag names — are left as they are.
 */

/** Object members whose keys are data, not field names: their keys are never converted. */
const DATA_MEMBERS = new Set([
  'annotations',
  'attributes',
  'tags',
  'parameters',
  'params',
  'config',
]);

/**
 * `mediaType` → `media_type`, `upToDate` → `up_to_date`; a key with no upper-case letter is kept.
 * @param key - a field name
 * @returns it in snake_case
 * @example
 * ```ts
 * snakeCase('checkpointOf'); // 'checkpoint_of'
 * ```
 */
export function snakeCase(key: string): string {
  return /[A-Z]/.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

/**
 * A JSON value with every field name in snake_case, recursively (arrays and plain objects), but
 * for the keys inside {@link DATA_MEMBERS}.
 * @param value - what a command prints
 * @returns the same value, keys converted
 * @example
 * ```ts
 * snakeCaseKeys({ dryRun: true, annotations: { 'org.x.fooBar': '1' } });
 * // { dry_run: true, annotations: { 'org.x.fooBar': '1' } }
 * ```
 */
export function snakeCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCaseKeys);
  if (value === null || typeof value !== 'object') return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[snakeCase(k)] = DATA_MEMBERS.has(k) ? v : snakeCaseKeys(v);
  }
  return out;
}
