/**
 * @module cli/demo-study
 * The demo study `runledger demo` records: random LP (production planning) and MIP
 * (multi-dimensional knapsack) instances, built with `InstanceBuilder`, each solved by HiGHS over
 * a grid of instance size, presolve and time limit. Every solve is recorded (input Instance,
 * options, Solution with its wall-clock start and end), and each run's parameters carry the
 * outcome, so `runledger runs` compares them at a glance. Instances are seeded; timings are
 * real, so each recording is a new artifact, committed under a fresh tag and moved to `:latest`.
 */
import { randomBytes } from 'node:crypto';
import { Experiment } from '../experiment/experiment.js';
import type { ExperimentObserver } from '../experiment/logger.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import { InstanceBuilder, sum } from '../ommx/builder.js';
import type { Instance } from '../ommx/instance.js';
import { HighsAdapter } from '../solve/adapters/highs.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { Run } from '../experiment/run.js';
import { mulberry32 } from '../experiment/seeded.js';
import { grid, type SweepConfig } from '../experiment/sweep.js';
import { isRunledgerError } from '../errors.js';

/** The repository the demo study is committed to; `:latest` names the newest recording. */
export const DEMO_REPOSITORY = 'runledger.local/demo/lp-mip';
/** The newest demo study. */
export const DEMO_REFERENCE: string = `${DEMO_REPOSITORY}:latest`;

/** Production planning LP: n products, n/4 resources; maximize profit. */
function productionLp(n: number, seed: number): Instance {
  const r = mulberry32(seed * 1000 + n);
  const b = new InstanceBuilder({
    name: `production-lp-${n}-s${seed}`,
    description: 'random production planning LP (runledger demo)',
    authors: ['runledger demo'],
  });
  const x = Array.from({ length: n }, (_, i) =>
    b.continuous('make', { subscripts: [i], lower: 0, upper: 5 + Math.floor(r() * 20) })
  );
  const resources = Math.max(2, Math.floor(n / 4));
  for (let k = 0; k < resources; k++) {
    const use = x.map((xi) => xi.times(Math.round(1 + r() * 9)));
    b.addConstraint(sum(use).leq(Math.round(n * 12 * (0.5 + r()))), {
      name: 'capacity',
      subscripts: [k],
    });
  }
  b.maximize(sum(x.map((xi) => xi.times(Math.round(5 + r() * 45)))));
  return b.build();
}

/** Multi-dimensional knapsack MIP: n binary items, 3 weight constraints; maximize value. */
function knapsackMip(n: number, seed: number): Instance {
  const r = mulberry32(seed * 2000 + n);
  const b = new InstanceBuilder({
    name: `knapsack-mip-${n}-s${seed}`,
    description: 'random multi-dimensional 0/1 knapsack (runledger demo)',
    authors: ['runledger demo'],
  });
  const x = Array.from({ length: n }, (_, i) => b.binary('take', { subscripts: [i] }));
  for (let k = 0; k < 3; k++) {
    const w = x.map(() => 1 + Math.floor(r() * 100));
    const cap = Math.floor(w.reduce((a, c) => a + c, 0) / 3);
    b.addConstraint(sum(x.map((xi, i) => xi.times(w[i] as number))).leq(cap), {
      name: 'weight',
      subscripts: [k],
    });
  }
  b.maximize(sum(x.map((xi) => xi.times(1 + Math.floor(r() * 80)))));
  return b.build();
}

/**
 * A fresh tag for one recording: the UTC time and a nonce (`grid-20260101T120000Z-1a2b3c`).
 * @param now - the time of the recording
 * @returns the tag
 */
export function freshTag(now: Date): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `grid-${t}-${randomBytes(3).toString('hex')}`;
}

/**
 * The demo's grid: MIP and LP × 2 sizes × 2 seeds × presolve on/off × 2 time limits, the larger
 * and longer first. A sweep hands trials out in config order, so ending on the four MIPs of a
 * second each (three quarters of the work) left a core idle for a second: 1.44–1.66× on 2 cores
 * with the LPs first, where largest first fills both to the end.
 */
const PROBLEMS = ['mip', 'lp'] as const;
const SIZES = { lp: [400, 40], mip: [120, 30] } as const;
const SEEDS = [1, 2];
const PRESOLVES = [true, false];
const TIME_LIMITS = [5, 0.05];

/**
 * The demo study's 32 configs, in the order it records them.
 * @returns problem, n, seed, presolve, time_limit of each trial
 */
export function demoConfigs(): SweepConfig[] {
  return PROBLEMS.flatMap((problem) =>
    grid({
      problem: [problem],
      n: [...SIZES[problem]],
      seed: SEEDS,
      presolve: PRESOLVES,
      time_limit: TIME_LIMITS,
    })
  );
}

/** The demo's instances, built once per (problem, n, seed). */
const instances = new Map<string, Instance>();

/**
 * One demo trial: builds (or reuses) the seeded instance, solves it with HiGHS, and logs the
 * outcome as parameters (objective, optimality, feasible, solve_ms).
 * @param run - the trial's run (its config already logged as parameters)
 * @param config - one of {@link demoConfigs}
 * @throws RunledgerError `DEPENDENCY_MISSING` when the `highs` package is not installed
 */
export async function demoTrial(run: Run, config: SweepConfig): Promise<void> {
  const problem = config['problem'] as 'lp' | 'mip';
  const n = Number(config['n']);
  const seed = Number(config['seed']);
  run.setTags({ problem, solver: 'highs' });
  const key = `${problem}/${n}/${seed}`;
  let instance = instances.get(key);
  if (instance === undefined) {
    instance = problem === 'lp' ? productionLp(n, seed) : knapsackMip(n, seed);
    instances.set(key, instance);
  }
  try {
    const solution = await run.logSolve(HighsAdapter, instance, {
      timeLimit: Number(config['time_limit']),
      presolve: config['presolve'] === true,
    });
    run.logParameter('objective', solution.objective);
    run.logParameter('optimality', solution.optimality);
    run.logParameter('feasible', solution.feasible);
    const start = Date.parse(solution.metadata?.start ?? '');
    const end = Date.parse(solution.metadata?.end ?? '');
    if (!Number.isNaN(start) && !Number.isNaN(end)) run.logParameter('solve_ms', end - start);
  } catch (e) {
    // A time limit hit before any feasible point is a result too: the failed solve is recorded
    // with its input and options, and the run says why.
    if (!isRunledgerError(e, 'SOLVER_FAILED')) throw e;
    run.logParameter('optimality', 'no solution');
  }
}

/**
 * Records the demo study (32 runs: LP and MIP × 2 sizes × 2 seeds × presolve on/off × 2 time
 * limits) into `registry` as a sweep (the trials run side by side, the solves in HiGHS's worker
 * pool when it has one), commits it under a fresh tag and points `:latest` at it.
 * @param registry - the local registry
 * @param options - concurrency: trials at once (default: the number of cores); observer: what
 *   watches the runs and the sweep while they go (`runledger demo` gives a `ConsoleLogger` on a
 *   terminal)
 * @returns the sealed experiment (under its fresh tag)
 * @throws RunledgerError `DEPENDENCY_MISSING` when the `highs` package is not installed
 */
export async function recordDemoStudy(
  registry: LocalRegistry,
  options: { readonly concurrency?: number; readonly observer?: ExperimentObserver } = {}
): Promise<SealedExperiment> {
  const reference = `${DEMO_REPOSITORY}:${freshTag(new Date())}`;
  const exp = await Experiment.create(reference, {
    registry,
    annotations: {
      'org.opencontainers.image.description':
        'runledger demo: random LP and MIP instances solved by HiGHS over a parameter grid',
    },
  });
  await exp.logJson('study', {
    problems: {
      lp: 'production planning LP (continuous)',
      mip: 'multi-dimensional 0/1 knapsack (3 weight constraints)',
    },
    sizes: SIZES,
    seeds: SEEDS,
    presolve: PRESOLVES,
    time_limit_s: TIME_LIMITS,
    solver: 'HiGHS (npm highs, WebAssembly)',
  });
  const unobserve = options.observer === undefined ? undefined : exp.observe(options.observer);
  // A trial that fails for another reason than a time limit (HiGHS missing, say) fails the demo.
  await exp.sweep(demoConfigs(), demoTrial, {
    shard: false,
    failFast: true,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    name: (c) =>
      `${String(c['problem'])}-n${String(c['n'])}-s${String(c['seed'])}-${c['presolve'] === true ? 'presolve' : 'nopresolve'}-t${String(c['time_limit'])}`,
  });
  unobserve?.();
  const sealed = await exp.commit();
  await registry.replaceRef(DEMO_REFERENCE, await registry.resolve(sealed.reference));
  return sealed;
}
