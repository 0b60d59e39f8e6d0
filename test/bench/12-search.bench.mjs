// Case: searchRuns over a store of many experiments (default 1,000 experiments × 100 runs × 20
// parameters + 3 metric points), with a `where` and an `orderBy`: ours = searchRuns warm, the
// median of three calls after a first, cold one that builds its derived-table cache (the cold
// time and the first warm call are reported too); peer = the loop a user writes without it —
// listExperiments(), then Experiment.load() + runsDf() + queryTable() per experiment — measured
// in the same run on the same store, and checked to keep the same runs (the same metric values).
// Also listExperiments() over the store, warm (the median of three).
//
// RUNLEDGER_BENCH_EXPERIMENTS and RUNLEDGER_BENCH_RUNS override the store's size.
import { join } from 'node:path';
import {
  AutosavePolicy,
  Experiment,
  LocalRegistry,
  listExperiments,
  queryTable,
  searchRuns,
} from '../../dist/src/index.js';
import { fmt } from './lib.mjs';

const EXPERIMENTS = Number(process.env['RUNLEDGER_BENCH_EXPERIMENTS'] ?? 1000);
const RUNS = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 100);
const WHERE = "status = 'finished' and params.p0 >= 50";
const ORDER = 'metrics.loss asc, run_id';

/** The store: EXPERIMENTS experiments of one project, RUNS runs each (20 parameters, 3 points). */
async function buildStore(root, log) {
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
    if ((e + 1) % 100 === 0)
      log(`built ${e + 1} experiments in ${fmt((performance.now() - t0) / 1000)} s`);
  }
  return registry;
}

/** The hand-written loop over every experiment. */
async function handLoop(registry) {
  const losses = [];
  for (const e of await listExperiments({ registry })) {
    const sealed = await Experiment.load(e.imageName, { registry, pull: false });
    const kept = queryTable(await sealed.runsDf(), { where: WHERE, orderBy: ORDER });
    losses.push(...kept.getChild('metrics.loss'));
  }
  return losses.sort((a, b) => a - b);
}

async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Three timed calls: the median, and each time. */
async function median3(fn) {
  const runs = [await timed(fn), await timed(fn), await timed(fn)];
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return { ...sorted[1], all: runs.map((r) => fmt(r.seconds)).join(' ') };
}

export const cases = [
  {
    name: `searchRuns: ${EXPERIMENTS.toLocaleString('en-US')} experiments × ${RUNS} runs × 20 params + 3 metric points, where + orderBy, warm`,
    unit: 's',
    higherIsBetter: false,
    targetRatio: 20,
    async run(ctx) {
      const registry = await buildStore(join(ctx.scratch, 'store'), ctx.log);
      const listCold = await timed(() => listExperiments({ registry }));
      const list = await median3(() => listExperiments({ registry }));
      const search = () => searchRuns({ registry, where: WHERE, orderBy: ORDER });
      const cold = await timed(search);
      const warm = await median3(search);
      const peer = await timed(() => handLoop(registry));
      const losses = [...warm.value.getChild('metrics.loss')];
      if (losses.length !== peer.value.length || losses.some((l, i) => l !== peer.value[i])) {
        throw new Error(`searchRuns kept ${losses.length} runs, the loop ${peer.value.length}`);
      }
      ctx.log(
        `cold ${fmt(cold.seconds)} s, warm ${warm.all} s, loop ${fmt(peer.seconds)} s, listExperiments warm ${list.all} s`
      );
      return {
        ours: warm.seconds,
        peer: peer.seconds,
        peerName: 'listExperiments + load + runsDf + queryTable per experiment (same run)',
        checks: [
          {
            label: `${fmt(warm.seconds)} s warm (target < 0.5 s)`,
            value: warm.seconds,
            pass: warm.seconds < 0.5,
          },
          {
            label: `${fmt(list.seconds)} s listExperiments over ${EXPERIMENTS}, warm (target < 0.2 s)`,
            value: list.seconds,
            pass: list.seconds < 0.2,
          },
        ],
        extra: {
          'cold s': fmt(cold.seconds),
          'warm s (3 calls)': warm.all,
          'listExperiments cold s': fmt(listCold.seconds),
          rows: warm.value.numRows,
        },
      };
    },
  },
];
