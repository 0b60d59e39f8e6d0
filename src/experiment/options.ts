/**
 * @module experiment/options
 * Options objects of the experiment API: a plain object whose keys are all ones the call
 * accepts. An unknown key — a misspelling, an option of another call, one a later version may
 * give a meaning — is refused, never silently dropped.
 */
import { RunledgerError } from '../errors.js';

/**
 * Every key of an options type, each listed once: declaring a constant of this type fails to
 * compile when the type gains a key the list lacks (or the list names one the type lacks).
 *
 * @example
 * ```ts
 * const RUN_OPTION_KEYS: OptionKeys<RunOptions> = { name: true, tags: true };
 * ```
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Whether `value` is a plain object: made by `{…}` or `Object.create(null)` (in any realm), not
 * an array, a `Map`, a `Date` or another class instance.
 *
 * @param value - anything
 * @returns true for a plain object
 * @example
 * ```ts
 * isPlainRecord({ a: 'b' }); // true
 * isPlainRecord(['b']); // false
 * ```
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * What a value is, for a message: `an array`, `null`, `a Map`, `a string`…
 * @param value - anything
 * @returns a short description
 * @example
 * ```ts
 * describeValue([1]); // 'an array'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
  }
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`;
}

/**
 * Checks the options object of a call: absent, or a plain object with only accepted keys.
 *
 * @param options - what the caller passed
 * @param keys - every key the call accepts
 * @param call - the call, for the message (`startRun`, `Experiment.create`…)
 * @returns the options (`{}` when absent)
 * @throws RunledgerError `ARGUMENT_INVALID` naming the unknown key (or what was passed instead of
 *   an object) and the keys accepted
 * @example
 * ```ts
 * checkOptions({ name: 'a', project: 'x' }, RUN_OPTION_KEYS, 'startRun');
 * // throws: Unknown option "project" of startRun: the options accepted are name, tags.
 * ```
 */
export function checkOptions<T extends object>(
  options: T | undefined,
  keys: OptionKeys<T>,
  call: string
): T {
  if (options === undefined) return {} as T;
  const accepted = Object.keys(keys).sort();
  if (!isPlainRecord(options)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The options of ${call} must be a plain object with the keys ${accepted.join(', ')}, not ${describeValue(options)}.`,
      { data: { call, accepted } }
    );
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(keys, key)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Unknown option ${JSON.stringify(key)} of ${call}: the options accepted are ${accepted.join(', ')}.`,
        { data: { call, key, accepted } }
      );
    }
  }
  return options;
}
