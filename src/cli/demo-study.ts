/**
 * @module cli/demo-study
 * The demo study `runledger demo` records: random 0/1 knapsack instances (a small integer
 * program) solved by a greedy heuristic and by local search over a parameter grid, each scored
 * against the exact optimum from dynamic programming. Everything is seeded, so the study commits
 * to the same digest every time. (The HiGHS LP/MIP study replaces it once the solver adapter lands.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Experiment } from '../experiment/experiment.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import type { LocalRegistry } from '../store/local-registry.js';

/** Where the demo study is committed. */
export const DEMO_REFERENCE = 'runledger.local/demo/knapsack:grid-v1';

interface Instance {
  readonly weights: readonly number[];
  readonly values: readonly number[];
  readonly capacity: number;
}

/** mulberry32: a small seeded PRNG, so the study is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeInstance(n: number, seed: number): Instance {
  const r = rng(seed * 7919 + n);
  const weights = Array.from({ length: n }, () => 1 + Math.floor(r() * 100));
  const values = Array.from(
    { length: n },
    (_, i) => 1 + Math.floor(r() * 60) + Math.floor((weights[i] as number) * 0.4)
  );
  return { weights, values, capacity: Math.floor(weights.reduce((a, b) => a + b, 0) / 2) };
}

function optimum(inst: Instance): number {
  const best = new Array<number>(inst.capacity + 1).fill(0);
  inst.weights.forEach((w, i) => {
    const v = inst.values[i] as number;
    for (let c = inst.capacity; c >= w; c--)
      best[c] = Math.max(best[c] as number, (best[c - w] as number) + v);
  });
  return best[inst.capacity] as number;
}

function evaluate(inst: Instance, x: readonly boolean[]): { value: number; weight: number } {
  let value = 0;
  let weight = 0;
  x.forEach((on, i) => {
    if (on) {
      value += inst.values[i] as number;
      weight += inst.weights[i] as number;
    }
  });
  return { value, weight };
}

function greedy(inst: Instance): boolean[] {
  const order = inst.weights
    .map((_, i) => i)
    .sort(
      (a, b) =>
        (inst.values[b] as number) / (inst.weights[b] as number) -
          (inst.values[a] as number) / (inst.weights[a] as number) || a - b
    );
  const x = new Array<boolean>(inst.weights.length).fill(false);
  let room = inst.capacity;
  for (const i of order) {
    if ((inst.weights[i] as number) <= room) {
      x[i] = true;
      room -= inst.weights[i] as number;
    }
  }
  return x;
}

/** Greedy start, then random swap moves kept when feasible and not worse. */
function localSearch(inst: Instance, iterations: number, seed: number, log: string[]): boolean[] {
  const r = rng(seed);
  const x = greedy(inst);
  let { value, weight } = evaluate(inst, x);
  for (let it = 0; it < iterations; it++) {
    const i = Math.floor(r() * x.length);
    const j = Math.floor(r() * x.length);
    const dv =
      (x[i] ? -(inst.values[i] as number) : (inst.values[i] as number)) +
      (i !== j ? (x[j] ? -(inst.values[j] as number) : (inst.values[j] as number)) : 0);
    const dw =
      (x[i] ? -(inst.weights[i] as number) : (inst.weights[i] as number)) +
      (i !== j ? (x[j] ? -(inst.weights[j] as number) : (inst.weights[j] as number)) : 0);
    if (weight + dw <= inst.capacity && dv >= 0) {
      x[i] = !x[i];
      if (i !== j) x[j] = !x[j];
      if (dv > 0) log.push(`iteration ${it}: value ${value} -> ${value + dv}`);
      value += dv;
      weight += dw;
    }
  }
  return x;
}

/**
 * Records the demo study (24 runs) into `registry` and commits it.
 * @param registry - the local registry
 * @returns the sealed experiment
 */
export async function recordDemoStudy(registry: LocalRegistry): Promise<SealedExperiment> {
  const exp = await Experiment.create(DEMO_REFERENCE, {
    registry,
    annotations: {
      'org.opencontainers.image.description':
        'runledger demo: 0/1 knapsack, greedy vs local search',
    },
  });
  const sizes = [20, 40, 80];
  const seeds = [1, 2];
  const strategies = ['greedy', 'local-search'];
  const budgets = [200, 2000];
  await exp.logJson('study', {
    problem: '0/1 knapsack',
    sizes,
    seeds,
    strategies,
    iterations: budgets,
    reference: 'exact optimum by dynamic programming',
  });
  const scratch = await mkdtemp(join(tmpdir(), 'runledger-demo-'));
  try {
    for (const n of sizes) {
      for (const seed of seeds) {
        const inst = makeInstance(n, seed);
        const best = optimum(inst);
        for (const strategy of strategies) {
          for (const iterations of budgets) {
            await exp.run(async (run) => {
              run.logParameter('n', n);
              run.logParameter('seed', seed);
              run.logParameter('strategy', strategy);
              run.logParameter('iterations', iterations);
              const log = [
                `knapsack n=${n} seed=${seed} capacity=${inst.capacity} strategy=${strategy} iterations=${iterations}`,
              ];
              const x =
                strategy === 'greedy' ? greedy(inst) : localSearch(inst, iterations, seed, log);
              const { value, weight } = evaluate(inst, x);
              log.push(`final value ${value} (optimum ${best}), weight ${weight}/${inst.capacity}`);
              run.logParameter('objective', value);
              run.logParameter('optimum', best);
              run.logParameter('gap', (best - value) / best);
              await run.logJson('solution', {
                selected: x.flatMap((on, i) => (on ? [i] : [])),
                value,
                weight,
                capacity: inst.capacity,
              });
              const logPath = join(scratch, `run-${run.runId}.log`);
              await writeFile(logPath, `${log.join('\n')}\n`);
              await run.logFile('log', logPath, { filename: 'solver.log' });
            });
          }
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return exp.commit();
}
