/**
 * @module experiment/sweep
 * Parallel sweeps: one run per config with bounded concurrency (`Experiment.sweep`), the config
 * generators `grid` and seeded `random`, and shards — a slice of the configs per process, taken
 * from `shard: 'i/n'`, a Kubernetes Indexed Job or a Slurm job array.
 */
import { availableParallelism } from 'node:os';
import { RunledgerError } from '../errors.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { SweepEvent } from './logger.js';
import type { ParameterValue } from './parameters.js';
import type { Run } from './run.js';
import { splitMix32 } from './seeded.js';

/** One trial's parameters: logged as the run's parameters. */
export type SweepConfig = Readonly<Record<string, ParameterValue>>;

/** A shard: this process records the configs whose index `% count === index`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Options of `Experiment.sweep`. */
export interface SweepOptions {
  /** Trials at once. @default the number of cores (`os.availableParallelism()`) */
  readonly concurrency?: number;
  /**
   * Stop starting trials after the first failure (those running finish; the rest are
   * `skipped`), then throw that failure. @default false: a failed trial is a failed run and the
   * others go on.
   */
  readonly failFast?: boolean;
  /**
   * Record only this shard's slice of the configs: `'i/n'` (0-based) or `{ index, count }`.
   * Absent: taken from the environment — `RUNLEDGER_SHARD=i/n`, a Slurm job array
   * (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`), or a Kubernetes
   * Indexed Job (`JOB_COMPLETION_INDEX`, with `RUNLEDGER_SHARD_COUNT` set to its completions) —
   * else every config. `false`: every config, whatever the environment says.
   */
  readonly shard?: string | Shard | false;
  /** Aborting it stops starting trials and interrupts the running ones. */
  readonly signal?: AbortSignal;
  /** Each run's name (default: generated). */
  readonly name?: (config: SweepConfig, index: number) => string;
  /** Where shard settings are read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** What became of one config. */
export interface SweepResult<T> {
  /** The config's position in the whole sweep (across shards). */
  readonly index: number;
  readonly config: SweepConfig;
  /** `skipped`: not started (failFast after a failure, or an abort). */
  readonly status: 'finished' | 'failed' | 'interrupted' | 'skipped';
  /** The run (absent when skipped). */
  readonly runId?: number;
  /** What the trial returned (finished). */
  readonly value?: T;
  /** What the trial threw (failed, interrupted). */
  readonly error?: unknown;
}

/** The attribute every sweep run carries: its config's index in the whole sweep. */
export const SWEEP_INDEX_ATTRIBUTE = 'sweep.index';
/** Annotation: the shard an experiment recorded (`i/n`). */
export const SWEEP_SHARD_ANNOTATION = 'org.runledger.sweep.shard';
/** Annotation: how many configs the whole sweep has. */
export const SWEEP_CONFIGS_ANNOTATION = 'org.runledger.sweep.configs';

/**
 * Every combination of the values given, the first name varying slowest (as nested loops).
 * @param axes - name → the values it takes (at least one each)
 * @returns the configs, in order
 * @throws RunledgerError `ARGUMENT_INVALID` for an empty axis or a value that is not a parameter
 * @example
 * ```ts
 * grid({ lr: [0.1, 0.01], presolve: [true, false] }).length; // 4
 * ```
 */
export function grid(axes: Readonly<Record<string, readonly ParameterValue[]>>): SweepConfig[] {
  let out: Record<string, ParameterValue>[] = [{}];
  for (const [name, values] of Object.entries(axes)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `grid axis ${JSON.stringify(name)} needs a non-empty array of values.`,
        { data: { name } }
      );
    }
    for (const v of values) checkValue(name, v);
    out = out.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  }
  return out;
}

/** How `random` draws one parameter. */
export type Distribution =
  | readonly ParameterValue[]
  | {
      readonly min: number;
      readonly max: number;
      /** Whole numbers from min to max, both included. */
      readonly integer?: boolean;
      /** Uniform in log space (min > 0): learning rates, penalties. */
      readonly log?: boolean;
    };

/**
 * `n` configs drawn with a seeded generator: the same seed gives the same configs on every
 * machine. An array is a uniform choice among its values; `{ min, max }` a uniform real in
 * [min, max), `integer: true` a whole number in [min, max], `log: true` log-uniform.
 * @param space - name → how it is drawn
 * @param n - how many configs
 * @param seed - any integer
 * @returns the configs
 * @throws RunledgerError `ARGUMENT_INVALID` for a bad distribution, count or seed
 * @example
 * ```ts
 * random({ lr: { min: 1e-4, max: 1e-1, log: true }, depth: [2, 4, 8] }, 16, 42).length; // 16
 * ```
 */
export function random(
  space: Readonly<Record<string, Distribution>>,
  n: number,
  seed: number
): SweepConfig[] {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RunledgerError('ARGUMENT_INVALID', `random needs a whole count ≥ 0, not ${n}.`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RunledgerError('ARGUMENT_INVALID', `random needs an integer seed, not ${seed}.`);
  }
  for (const [name, d] of Object.entries(space)) checkDistribution(name, d);
  const next = splitMix32(seed);
  const out: SweepConfig[] = [];
  for (let i = 0; i < n; i++) {
    const config: Record<string, ParameterValue> = {};
    for (const [name, d] of Object.entries(space)) {
      const u = next();
      if (Array.isArray(d)) {
        config[name] = d[Math.floor(u * d.length)] as ParameterValue;
      } else {
        const { min, max } = d as { min: number; max: number };
        const r = d as { integer?: boolean; log?: boolean };
        if (r.integer === true) config[name] = min + Math.floor(u * (max - min + 1));
        else if (r.log === true) config[name] = Math.exp(Math.log(min) + u * Math.log(max / min));
        else config[name] = min + u * (max - min);
      }
    }
    out.push(config);
  }
  return out;
}

function checkValue(name: string, v: unknown): void {
  const ok =
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    typeof v === 'string' ||
    (typeof v === 'number' && Number.isFinite(v));
  if (!ok) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Sweep parameter ${JSON.stringify(name)} has a value that is not a parameter (a finite number, bigint, string or boolean).`,
      { data: { name } }
    );
  }
}

function checkDistribution(name: string, d: unknown): void {
  if (Array.isArray(d)) {
    if (d.length === 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `random parameter ${JSON.stringify(name)} has no values to choose from.`,
        { data: { name } }
      );
    }
    for (const v of d) checkValue(name, v);
    return;
  }
  const r = d as { min?: unknown; max?: unknown; integer?: unknown; log?: unknown } | null;
  const min = r?.min;
  const max = r?.max;
  const fine =
    typeof min === 'number' &&
    typeof max === 'number' &&
    Number.isFinite(min) &&
    Number.isFinite(max) &&
    min <= max &&
    (r?.integer !== true || (Number.isSafeInteger(min) && Number.isSafeInteger(max))) &&
    (r?.log !== true || (min > 0 && r?.integer !== true));
  if (!fine) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `random parameter ${JSON.stringify(name)} needs an array of values or { min, max } with min ≤ max (whole numbers with integer, min > 0 with log).`,
      { data: { name } }
    );
  }
}

/**
 * Reads a shard: `'i/n'` or `{ index, count }` with 0 ≤ i < n.
 * @param shard - the shard
 * @returns it, checked
 * @throws RunledgerError `ARGUMENT_INVALID`
 * @example
 * ```ts
 * parseShard('2/8'); // { index: 2, count: 8 }
 * ```
 */
export function parseShard(shard: string | Shard): Shard {
  let index: number;
  let count: number;
  if (typeof shard === 'string') {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(shard);
    index = m === null ? NaN : Number(m[1]);
    count = m === null ? NaN : Number(m[2]);
  } else {
    index = shard.index;
    count = shard.count;
  }
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `A shard is "i/n" with 0 ≤ i < n (say "0/4"), not ${JSON.stringify(shard)}.`,
      { data: { shard } }
    );
  }
  return { index, count };
}

/**
 * The shard the environment asks for: `RUNLEDGER_SHARD=i/n`; a Slurm job array
 * (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`); a Kubernetes
 * Indexed Job (`JOB_COMPLETION_INDEX` of `RUNLEDGER_SHARD_COUNT`, which the Job sets to its
 * `completions`: Kubernetes does not pass that number on).
 * @param env - the environment
 * @returns the shard, or undefined when none is asked for
 * @throws RunledgerError `ARGUMENT_INVALID` for settings that do not make a shard
 * @example
 * ```ts
 * shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }); // { index: 3, count: 4 }
 * ```
 */
export function shardFromEnv(env: Readonly<Record<string, string | undefined>>): Shard | undefined {
  const own = env['RUNLEDGER_SHARD'];
  if (own !== undefined && own !== '') return parseShard(own);
  const task = env['SLURM_ARRAY_TASK_ID'];
  if (task !== undefined && task !== '') {
    const count = env['SLURM_ARRAY_TASK_COUNT'];
    const min = env['SLURM_ARRAY_TASK_MIN'] ?? '0';
    if (count === undefined || count === '') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: run the sweep as a job array (sbatch --array=0-N).'
      );
    }
    return parseShard(`${Number(task) - Number(min)}/${count}`);
  }
  const k8s = env['JOB_COMPLETION_INDEX'];
  if (k8s !== undefined && k8s !== '') {
    const count = env['RUNLEDGER_SHARD_COUNT'];
    if (count === undefined || count === '') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        "JOB_COMPLETION_INDEX is set but not RUNLEDGER_SHARD_COUNT: set it in the Job's env to spec.completions (Kubernetes does not pass that number on)."
      );
    }
    return parseShard(`${k8s}/${count}`);
  }
  return undefined;
}

/**
 * The reference a shard commits under: `<repository>:<tag>-shard-<i>-of-<n>`.
 * @param reference - the sweep's reference, with a tag
 * @param shard - the shard
 * @returns the shard's reference
 * @example
 * ```ts
 * shardReference('ghcr.io/acme/qap:grid-1', { index: 0, count: 4 });
 * // 'ghcr.io/acme/qap:grid-1-shard-0-of-4'
 * ```
 */
export function shardReference(reference: string, shard: Shard): string {
  const r = parseReference(reference);
  const suffix = `-shard-${shard.index}-of-${shard.count}`;
  const tag = r.tag ?? 'latest';
  return tag.endsWith(suffix) ? reference : formatReference({ ...r, tag: `${tag}${suffix}` });
}

/** What a sweep needs of its experiment. @internal */
export interface SweepHost {
  readonly reference: string;
  run<T>(
    fn: (run: Run) => T | Promise<T>,
    options: {
      config: SweepConfig;
      nested: false;
      name?: string;
      signal?: AbortSignal;
    }
  ): Promise<T>;
  progress(event: SweepEvent): void;
}

/**
 * Runs the trials of a sweep (see `Experiment.sweep`).
 * @internal
 */
export async function runSweep<T>(
  host: SweepHost,
  configs: readonly SweepConfig[],
  shard: Shard | undefined,
  fn: (run: Run, config: SweepConfig) => T | Promise<T>,
  options: SweepOptions
): Promise<SweepResult<T>[]> {
  const concurrency = options.concurrency ?? availableParallelism();
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `concurrency must be a whole number ≥ 1, not ${concurrency}.`
    );
  }
  const mine = configs
    .map((config, index) => ({ config, index }))
    .filter(({ index }) => shard === undefined || index % shard.count === shard.index);
  const results: (SweepResult<T> | undefined)[] = new Array(mine.length);
  let next = 0;
  let done = 0;
  let failed = 0;
  let running = 0;
  let stop: unknown;
  const progress = (): void =>
    host.progress({
      experiment: host.reference,
      total: mine.length,
      done,
      failed,
      running,
      time: Date.now(),
    });
  const worker = async (): Promise<void> => {
    while (next < mine.length) {
      if (stop !== undefined || options.signal?.aborted === true) return;
      const at = next++;
      const { config, index } = mine[at] as { config: SweepConfig; index: number };
      let runId: number | undefined;
      running++;
      progress();
      try {
        const value = await host.run(
          async (run) => {
            runId = run.runId;
            run.setAttribute(SWEEP_INDEX_ATTRIBUTE, index);
            return fn(run, config);
          },
          {
            config,
            nested: false,
            ...(options.name === undefined ? {} : { name: options.name(config, index) }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          }
        );
        results[at] = { index, config, status: 'finished', runId: runId as number, value };
      } catch (error) {
        const interrupted = isAbort(error) || aborted(options.signal);
        failed++;
        results[at] = {
          index,
          config,
          status: interrupted ? 'interrupted' : 'failed',
          ...(runId === undefined ? {} : { runId }),
          error,
        };
        if (runId === undefined) throw error; // the run never opened: not a trial's failure
        if (options.failFast === true) stop ??= error;
      } finally {
        running--;
        done++;
        progress();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, mine.length) }, worker));
  const out = mine.map(
    ({ config, index }, at) =>
      results[at] ?? ({ index, config, status: 'skipped' } satisfies SweepResult<T>)
  );
  if (stop !== undefined) throw stop;
  return out;
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
