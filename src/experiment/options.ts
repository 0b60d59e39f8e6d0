/**
 * @module experiment/options
 * Options objects of the experiment API: a plain object whose keys are all ones the call
 * accepts. An unknown key — a misspelling, an option of another call, one a later version may
 * give a meaning — is refused, never silently dropped.
 */
import { RunledgerError } from '../errors.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { Durability } from './journal.js';

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

/** How an unsealed experiment records (the options create, fork and restore share). */
export interface RecordingOptions {
  /**
   * While runs are open, SIGINT / SIGTERM close them as `interrupted`, write an `interrupted`
   * checkpoint and end the process with 130 / 143. @default true
   */
  readonly handleSignals?: boolean;
  /**
   * Keep a crash journal of open runs under `<root>/.runledger/journal/`, so
   * `restoreFromCheckpoint` recovers them after the process is killed. @default true
   */
  readonly journal?: boolean;
  /**
   * How soon a journaled write is durable: `'batched'` within a second, `'always'` before the log
   * call returns (one fsync per call). @default 'batched'
   */
  readonly durable?: Durability;
}

/** The keys of {@link RecordingOptions}. */
export const RECORDING_OPTION_KEYS: OptionKeys<RecordingOptions> = {
  handleSignals: true,
  journal: true,
  durable: true,
};

/**
 * The recording options that were given, and no others (`exactOptionalPropertyTypes`).
 * @param options - options that extend {@link RecordingOptions}
 * @returns just the recording options set
 */
export function recordingOptions(options: RecordingOptions): RecordingOptions {
  return {
    ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
    ...(options.journal === undefined ? {} : { journal: options.journal }),
    ...(options.durable === undefined ? {} : { durable: options.durable }),
  };
}

/** Options of {@link Experiment.create}. */
export interface CreateExperimentOptions extends RecordingOptions {
  /** The local registry. @default LocalRegistry.open() at RUNLEDGER_HOME */
  readonly registry?: LocalRegistry;
  /** Manifest annotations (keys starting `org.ommx.v1.` are reserved). */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Leave wall-clock times and the host name out of the run records, so the same study recorded
   * twice commits to the same digest. @default false
   */
  readonly reproducible?: boolean;
}

/** The keys of {@link CreateExperimentOptions}. */
export const CREATE_OPTION_KEYS: OptionKeys<CreateExperimentOptions> = {
  registry: true,
  annotations: true,
  reproducible: true,
  ...RECORDING_OPTION_KEYS,
};

/** Options of {@link Experiment.restoreFromCheckpoint}. */
export interface RestoreOptions extends RecordingOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
}

/** The keys of {@link RestoreOptions}. */
export const RESTORE_OPTION_KEYS: OptionKeys<RestoreOptions> = {
  registry: true,
  ...RECORDING_OPTION_KEYS,
};
