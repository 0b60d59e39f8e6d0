/**
 * @module experiment/options
 * Options objects of the experiment API: a plain object whose keys are all ones the call
 * accepts. An unknown key — a misspelling, an option of another call, one a later version may
 * give a meaning — is refused, never silently dropped.
 */
import { RunledgerError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { Durability } from './journal.js';
import { openTracing, type TraceSpanProcessor, type Tracing } from './trace.js';

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
  /**
   * Record OpenTelemetry spans per run — a `Run` span, one span per `logSolve` / `logSample` /
   * `openSolve` under it — and store them at the run's close as its OMMX trace layer (OTLP
   * protobuf). Needs the optional packages `@opentelemetry/api`, `@opentelemetry/sdk-trace` and
   * `@opentelemetry/otlp-transformer`; not with `reproducible`. @default false
   */
  readonly storeTrace?: boolean;
  /**
   * Span processors that also get every span (with `storeTrace`), e.g. a `BatchSpanProcessor`
   * of your OTLP exporter. runledger never flushes or shuts them down: you do, before exit.
   */
  readonly spanProcessors?: readonly TraceSpanProcessor[];
}

/** The keys of {@link RecordingOptions}. */
export const RECORDING_OPTION_KEYS: OptionKeys<RecordingOptions> = {
  handleSignals: true,
  journal: true,
  durable: true,
  storeTrace: true,
  spanProcessors: true,
};

/** What an unsealed experiment records with: the options set, and its tracing. @internal */
export interface RecordingInit extends Omit<RecordingOptions, 'storeTrace' | 'spanProcessors'> {
  readonly tracing?: Tracing;
}

/**
 * The recording options that were given, and no others (`exactOptionalPropertyTypes`), with the
 * tracing `storeTrace` asks for (OpenTelemetry is loaded now).
 * @param options - options that extend {@link RecordingOptions} (and `reproducible`, which
 *   excludes traces)
 * @returns the recording options set
 * @throws RunledgerError `ARGUMENT_INVALID`, `DEPENDENCY_MISSING` (see `openTracing`)
 */
export async function recordingInit(
  options: RecordingOptions & { readonly reproducible?: boolean }
): Promise<RecordingInit> {
  const tracing = await openTracing(options);
  return {
    ...(options.handleSignals === undefined ? {} : { handleSignals: options.handleSignals }),
    ...(options.journal === undefined ? {} : { journal: options.journal }),
    ...(options.durable === undefined ? {} : { durable: options.durable }),
    ...(tracing === undefined ? {} : { tracing }),
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
  /**
   * Without a reference: the project (repository) the experiment is named under,
   * `<id8>.runledger.local/<project>:<time>-<nonce>`. With one, it must be its repository.
   */
  readonly project?: string;
  /** Tags (key/value, or a list of labels) every run of this experiment object gets; a run's own win. */
  readonly tags?: Readonly<Record<string, string>> | readonly string[];
}

/** The keys of {@link CreateExperimentOptions}. */
export const CREATE_OPTION_KEYS: OptionKeys<CreateExperimentOptions> = {
  registry: true,
  annotations: true,
  reproducible: true,
  project: true,
  tags: true,
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

/**
 * Checks a project name (an OCI repository path, e.g. `model-training` or `acme/qap`), and that
 * it agrees with the reference when both are given.
 */
export function checkProject(project: unknown, reference: string | undefined): string {
  let repository: string | undefined;
  try {
    if (typeof project === 'string') repository = parseReference(`x.local/${project}:t`).repository;
  } catch {
    repository = undefined;
  }
  if (repository === undefined || repository !== project) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Project ${JSON.stringify(project)} is not a repository name: use lowercase letters, digits and . _ - separators, with / between parts (e.g. model-training).`,
      { data: { project: typeof project === 'string' ? project : typeof project } }
    );
  }
  if (reference !== undefined && parseReference(reference).repository !== repository) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Project ${project} disagrees with the reference ${reference}: name one of them, or a reference in that project.`,
      { data: { project: repository, reference } }
    );
  }
  return repository;
}
