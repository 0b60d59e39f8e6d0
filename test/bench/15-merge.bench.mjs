// Case: merge the 8 shards of a sweep, 1,250 runs each (10,000 runs; each run: its config as 4
// parameters and 5 points of a metric — a metrics layer, so the merged manifest of 10,002 layers,
// the run records' and the parameter table's among them, stays under the 4 MiB every registry
// takes), into one experiment — ours =
// mergeExperiments (payload blobs reused by digest). Peer: what a user does without it, measured
// in the same run on the same store: load each shard and record every run again into a new
// experiment (parameters, metric points), then commit.
//
// RUNLEDGER_BENCH_MERGE_RUNS overrides the runs per shard (default 1250).
import { join } from 'node:path';
import {
  AutosavePolicy,
  Experiment,
  LocalRegistry,
  grid,
  mergeExperiments,
} from '../../dist/src/index.js';
import { fmt } from './lib.mjs';

const SHARDS = 8;
const PER_SHARD = Number(process.env['RUNLEDGER_BENCH_MERGE_RUNS'] ?? 1250);

async function buildShards(registry, log) {
  const configs = grid({
    a: Array.from({ length: (SHARDS * PER_SHARD) / 10 }, (_, i) => i),
    b: Array.from({ length: 10 }, (_, i) => i / 10),
  }).map((c, i) => ({ ...c, solver: i % 2 === 0 ? 'highs' : 'glpk', presolve: i % 3 === 0 }));
  const refs = [];
  const t0 = performance.now();
  for (let s = 0; s < SHARDS; s++) {
    const exp = await Experiment.create('bench.local/merge/sweep:grid', {
      registry,
      journal: false,
      handleSignals: false,
    });
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    await exp.sweep(
      configs,
      async (run, c) => {
        for (let step = 0; step < 5; step++) run.logMetric('loss', c.a * c.b + step, { step });
      },
      { shard: `${s}/${SHARDS}`, concurrency: 8 }
    );
    refs.push((await exp.commit()).reference);
  }
  log(`built ${SHARDS} shards × ${PER_SHARD} runs in ${fmt((performance.now() - t0) / 1000)} s`);
  return refs;
}

async function handMerge(registry, refs) {
  const exp = await Experiment.create('bench.local/merge/sweep:by-hand', {
    registry,
    journal: false,
    handleSignals: false,
  });
  exp.setAutosavePolicy(AutosavePolicy.disabled());
  for (const ref of refs) {
    const shard = await Experiment.load(ref, { registry, pull: false });
    for (const old of shard.runs) {
      const run = exp.startRun({ nested: false });
      run.logParams(old.parameters);
      const loss = await old.getMetric('loss');
      for (let i = 0; i < loss.values.length; i++) {
        run.logMetric('loss', loss.values[i], { step: loss.steps[i] });
      }
      await run.finish();
    }
  }
  return exp.commit();
}

export const cases = [
  {
    name: `mergeExperiments: ${SHARDS} shards × ${PER_SHARD.toLocaleString('en-US')} runs`,
    unit: 's',
    higherIsBetter: false,
    async run(ctx) {
      const registry = await LocalRegistry.open(join(ctx.scratch, 'store'));
      const refs = await buildShards(registry, ctx.log);
      const t0 = performance.now();
      const merged = await mergeExperiments(refs, 'bench.local/merge/sweep:grid', { registry });
      const ours = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const again = await mergeExperiments(refs, 'bench.local/merge/sweep:grid-again', {
        registry,
      });
      const second = (performance.now() - t1) / 1000;
      if (again.manifestDigest !== merged.manifestDigest)
        throw new Error('merge is not idempotent');
      const t2 = performance.now();
      const byHand = await handMerge(registry, refs);
      const peer = (performance.now() - t2) / 1000;
      if (byHand.runs.length !== merged.runs.length) throw new Error('the merges disagree');
      ctx.log(`merge ${fmt(ours)} s (again ${fmt(second)} s), by hand ${fmt(peer)} s`);
      return {
        ours,
        peer,
        peerName: 'load each shard, record every run again, commit (same run)',
        checks: [{ label: `${fmt(ours)} s (target < 2 s)`, value: ours, pass: ours < 2 }],
        extra: {
          runs: merged.runs.length,
          layers: merged.manifest.layers.length,
          'again s': fmt(second),
        },
      };
    },
  },
];
