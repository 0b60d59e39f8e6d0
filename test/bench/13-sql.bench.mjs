// Case: `runledger sql` of a group-by over the `metrics` view of the shared search store
// (search-store.mjs: 1,000 experiments × 100 runs × 3 points = 300,000 rows), warm — the whole
// command, process start and DuckDB's load included. Peer: the loop a user writes without SQL —
// listExperiments(), then Experiment.load() and getMetric() per run, averaging by run id —
// measured in the same run, in-process (so without a process start). Needs @duckdb/node-api.
import { join } from 'node:path';
import { Experiment, listExperiments, query } from '../../dist/src/index.js';
import { fmt, run } from './lib.mjs';
import { EXPERIMENTS, RUNS, searchStore } from './search-store.mjs';

const SQL =
  "select run_id, avg(value) as mean, count(*) as n from metrics where name = 'loss' group by run_id order by run_id";

async function handLoop(registry) {
  const sums = new Map();
  for (const e of await listExperiments({ registry })) {
    const sealed = await Experiment.load(e.imageName, { registry, pull: false });
    for (const r of sealed.runs) {
      const s = await r.getMetric('loss');
      const acc = sums.get(r.runId) ?? { sum: 0, n: 0 };
      for (const v of s.values) {
        acc.sum += v;
        acc.n += 1;
      }
      sums.set(r.runId, acc);
    }
  }
  return [...sums].sort(([a], [b]) => a - b).map(([id, { sum, n }]) => [id, sum / n, n]);
}

export const cases = [
  {
    name: `runledger sql: group-by over metrics (${(EXPERIMENTS * RUNS * 3).toLocaleString('en-US')} rows), warm`,
    unit: 's',
    higherIsBetter: false,
    async run(ctx) {
      const { root, registry } = await searchStore(ctx);
      const bin = join(ctx.repoRoot, 'dist', 'src', 'cli', 'bin.js');
      const cli = () => run(process.execPath, [bin, '--root', root, '--json', 'sql', SQL]);
      const cold = await cli();
      const warm = [];
      for (let i = 0; i < 3; i++) warm.push(await cli());
      const best = Math.min(...warm.map((w) => w.seconds));
      const t0 = performance.now();
      await query(SQL, { registry });
      const inProcess = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const expected = await handLoop(registry);
      const peer = (performance.now() - t1) / 1000;
      const got = JSON.parse(warm[0].stdout);
      const same =
        got.length === expected.length &&
        got.every(
          (row, i) =>
            row.run_id === expected[i][0] &&
            Math.abs(row.mean - expected[i][1]) <= 1e-12 * Math.abs(expected[i][1]) &&
            row.n === expected[i][2]
        );
      if (!same) throw new Error('runledger sql and the hand loop disagree');
      ctx.log(`cold ${fmt(cold.seconds)} s, warm ${fmt(best)} s, loop ${fmt(peer)} s`);
      return {
        ours: best,
        peer,
        peerName: 'listExperiments + load + getMetric per run, in-process (same run)',
        checks: [{ label: `${fmt(best)} s warm (target < 1 s)`, value: best, pass: best < 1 }],
        extra: {
          'cold s': fmt(cold.seconds),
          'query() in-process warm s': fmt(inProcess),
          rows: EXPERIMENTS * RUNS * 3,
        },
      };
    },
  },
];
