// Case: searchRuns over a store of many experiments (default 1,000 experiments × 100 runs × 20
// parameters + 3 metric points), with a `where` and an `orderBy`: ours = searchRuns warm, the
// median of three calls after a first, cold one that builds its derived-table cache (the cold
// time and the first warm call are reported too); peer = the loop a user writes without it —
// listExperiments(), then Experiment.load() + runsDf() + queryTable() per experiment — measured
// in the same run on the same store, and checked to keep the same runs (the same metric values).
// Also listExperiments() over the store, warm (the median of three).
//
// The store is search-store.mjs's, shared with the SQL case (RUNLEDGER_BENCH_EXPERIMENTS and
// RUNLEDGER_BENCH_RUNS override its size).
import { Experiment, listExperiments, queryTable, searchRuns } from '../../dist/src/index.js';
import { fmt } from './lib.mjs';
import { EXPERIMENTS, RUNS, searchStore } from './search-store.mjs';

const WHERE = "status = 'finished' and params.p0 >= 50";
const ORDER = 'metrics.loss asc, run_id';

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
      const { registry } = await searchStore(ctx);
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
