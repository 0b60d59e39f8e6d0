/**
 * @module solve/highs/options
 * The HiGHS adapter's options: checked and mapped to native HiGHS options (no HiGHS needed), then
 * checked against HiGHS's own option table when set on a model (a rejection names the option the
 * caller wrote).
 */
import type { Highs, Model, OptionValue } from 'highs';
import { RunledgerError } from '../../errors.js';

/**
 * Options of {@link HighsAdapter}. Plain JSON data: the experiment records them as JSON. Each
 * is checked before anything is solved; a bad one is `ARGUMENT_INVALID` naming it.
 *
 * @example
 * ```ts
 * const options: HighsOptions = {
 *   timeLimit: 60,
 *   mipGap: 1e-3,
 *   presolve: 'on',
 *   highs: { random_seed: 7 },
 * };
 * ```
 */
export interface HighsOptions {
  /** Wall-clock limit in seconds (HiGHS `time_limit`); finite and > 0. */
  readonly timeLimit?: number;
  /** Relative MIP gap at which HiGHS stops (HiGHS `mip_rel_gap`); finite and ≥ 0. */
  readonly mipGap?: number;
  /** HiGHS `presolve`: `true` = `'on'`, `false` = `'off'`; default `'choose'`. */
  readonly presolve?: boolean | 'on' | 'off' | 'choose';
  /**
   * HiGHS `threads`. The WebAssembly build runs on one thread, so only `0` (automatic) and `1`
   * are accepted; anything larger is refused rather than silently recorded.
   */
  readonly threads?: number;
  /**
   * Any other native HiGHS option by its snake_case name, passed through as is (e.g.
   * `{ random_seed: 7, mip_max_nodes: 1000 }`). Checked against HiGHS's option table before
   * solving. Names set by the options above are not allowed here.
   */
  readonly highs?: Readonly<Record<string, string | number | boolean>>;
}

const OPTION_KEYS = new Set(['timeLimit', 'mipGap', 'presolve', 'threads', 'highs']);

/** Native options, and for each the option the caller wrote (for messages). */
export interface NativeOptions {
  readonly values: Readonly<Record<string, OptionValue>>;
  readonly origin: Readonly<Record<string, string>>;
}

/**
 * Validates {@link HighsOptions} and maps them to native HiGHS options (no HiGHS needed).
 * @param options - what the caller passed
 * @returns the native options, each with the option the caller wrote
 * @throws RunledgerError `ARGUMENT_INVALID` naming the option
 * @example
 * ```ts
 * parseOptions({ timeLimit: 5 }).values; // { output_flag: false, time_limit: 5 }
 * ```
 */
export function parseOptions(options: unknown): NativeOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption('options', options, 'an object');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The HiGHS adapter has no option "${key}" (native HiGHS options go in \`highs\`).`,
        { data: { option: key } }
      );
    }
  }
  const native: Record<string, OptionValue> = { output_flag: false };
  const origin: Record<string, string> = { output_flag: 'output_flag' };
  const { timeLimit, mipGap, presolve, threads, highs } = o;
  if (timeLimit !== undefined) {
    if (typeof timeLimit !== 'number' || !Number.isFinite(timeLimit) || timeLimit <= 0) {
      throw invalidOption('timeLimit', timeLimit, 'a finite number of seconds > 0');
    }
    native['time_limit'] = timeLimit;
    origin['time_limit'] = 'timeLimit';
  }
  if (mipGap !== undefined) {
    if (typeof mipGap !== 'number' || !Number.isFinite(mipGap) || mipGap < 0) {
      throw invalidOption('mipGap', mipGap, 'a finite number ≥ 0');
    }
    native['mip_rel_gap'] = mipGap;
    origin['mip_rel_gap'] = 'mipGap';
  }
  if (presolve !== undefined) {
    if (presolve === true || presolve === false) native['presolve'] = presolve ? 'on' : 'off';
    else if (presolve === 'on' || presolve === 'off' || presolve === 'choose') {
      native['presolve'] = presolve;
    } else throw invalidOption('presolve', presolve, "a boolean, 'on', 'off' or 'choose'");
    origin['presolve'] = 'presolve';
  }
  if (threads !== undefined) {
    if (threads !== 0 && threads !== 1) {
      throw invalidOption(
        'threads',
        threads,
        '0 or 1 (the WebAssembly build of HiGHS runs on one thread)'
      );
    }
  }
  if (highs !== undefined) {
    if (typeof highs !== 'object' || highs === null || Array.isArray(highs)) {
      throw invalidOption('highs', highs, 'an object of HiGHS option names to values');
    }
    for (const [name, value] of Object.entries(highs as Record<string, unknown>)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) {
        throw invalidOption(`highs.${name}`, value, 'a snake_case HiGHS option name');
      }
      if (name in native) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The HiGHS option "highs.${name}" is already set by the adapter's own options; set it once.`,
          { data: { option: `highs.${name}` } }
        );
      }
      const ok =
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value));
      if (!ok) throw invalidOption(`highs.${name}`, value, 'a string, boolean or finite number');
      native[name] = value as OptionValue;
      origin[name] = `highs.${name}`;
    }
  }
  return { values: native, origin };
}

function invalidOption(option: string, value: unknown, expected: string): RunledgerError {
  return new RunledgerError(
    'ARGUMENT_INVALID',
    `The HiGHS option ${option} must be ${expected}, got ${describeValue(value)}.`,
    { data: { option } }
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * Checks native options against HiGHS's option table on a scratch model.
 * @param highs - the runtime
 * @param native - from {@link parseOptions}
 * @throws RunledgerError `ARGUMENT_INVALID` naming the option HiGHS refused
 * @example
 * ```ts
 * checkNativeOptions(runtime.highs, parseOptions({ highs: { random_seed: 7 } }));
 * ```
 */
export function checkNativeOptions(highs: Highs, native: NativeOptions): void {
  const scratch = highs.createModel();
  try {
    applyOptions(scratch, native);
  } finally {
    scratch.dispose();
  }
}

/**
 * Sets options on a model one by one, so a rejection names its option.
 * @param model - the HiGHS model
 * @param native - from {@link parseOptions}
 * @throws RunledgerError `ARGUMENT_INVALID` naming the option HiGHS refused
 * @example
 * ```ts
 * applyOptions(model, parseOptions(options));
 * ```
 */
export function applyOptions(model: Model, native: NativeOptions): void {
  for (const [name, value] of Object.entries(native.values)) {
    try {
      model.options.set(name, value);
    } catch (cause) {
      const option = native.origin[name] ?? `highs.${name}`;
      throw nativeOptionError(model, option, name, value, cause);
    }
  }
}

function nativeOptionError(
  model: Model,
  option: string,
  name: string,
  value: OptionValue,
  cause: unknown
): RunledgerError {
  let expected: string;
  if ((cause as { name?: unknown } | null)?.name === 'HighsUnsupportedOptionError') {
    expected = 'an option this WebAssembly build of HiGHS lets callers set (it does not)';
  } else {
    try {
      const d = model.options.describe(name);
      const range =
        d.minimum !== undefined && d.maximum !== undefined
          ? ` in [${d.minimum}, ${d.maximum}]`
          : '';
      expected = `a valid ${d.type}${range}`;
    } catch {
      expected = 'the name of a HiGHS option (HiGHS has none of that name)';
    }
  }
  return new RunledgerError(
    'ARGUMENT_INVALID',
    `The HiGHS option ${option} must be ${expected}, got ${describeValue(value)}.`,
    { data: { option, value }, cause }
  );
}
