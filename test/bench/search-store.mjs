// The store the query benchmarks share (not a bench file itself): 1,000 experiments of one
// project × 100 runs × 20 parameters + 3 points of one metric, built once per bench process
// under the runner's scratch root (removed with it) and reused by every case that asks.
//
// RUNLEDGER_BENCH_EXPERIMENTS and RUNLEDGER_BENCH_RUNS override its size.
import { dirname, join } from 'node:path';
import { AutosavePolicy, Experiment, LocalRegistry } from '../../dist/src/index.js';
import { fmt } from './lib.mjs';

export const EXPERIMENTS = Number(process.env['RUNLEDGER_BENCH_EXPERIMENTS'] ?? 1000);
export const RUNS = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 100);

let built;

/**
 * The shared store, built on first use.
 * @param {{ scratch: string, log: (m: string) => void }} ctx - a case's context
 * @returns {Promise<{ root: string, registry: LocalRegistry }>}
 */
export function searchStore(ctx) {
  built ??= build(join(dirname(ctx.scratch), 'search-store'), ctx.log);
  return built;
}

async function build(root, log) {
  const registry = await LocalRegistry.open(root);
  const t0 = performance.now();
  for (let e = 0; e < EXPERIMENTS; e++) {
    const exp = await Experiment.create(`bench.local/search/study:e${e}`, {
      registry,
      journal: false,
      handleSignals: false,
    });
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    for (let r = 0; r < RUNS; r++) {
      const run = exp.startRun({ nested: false });
      const params = {};
      for (let p = 0; p < 20; p++) params[`p${p}`] = (e * 7 + r * 13 + p) % 100;
      run.logParams(params);
      for (let s = 0; s < 3; s++) run.logMetric('loss', 1 / (r + s + 1 + e));
      await run.finish();
    }
    await exp.commit();
    if ((e + 1) % 100 === 0) {
      log(`built ${e + 1} experiments in ${fmt((performance.now() - t0) / 1000)} s`);
    }
  }
  return { root, registry };
}
