// Case: the demo's 32-trial LP/MIP grid (HiGHS, time limits 0.05 s and 5 s) as a sweep with
// concurrency = the number of cores — ours — against the same trials one by one (concurrency 1),
// measured in the same run, three trials a side alternated and the median of each reported.
// Target: a speed-up of at least 0.9 × cores. Needs the optional `highs` package.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Experiment, LocalRegistry } from '../../dist/src/index.js';
import { demoConfigs, demoTrial } from '../../dist/src/cli/demo-study.js';
import { fmt, median } from './lib.mjs';

const CORES = availableParallelism();
/** Trials a side (RUNLEDGER_BENCH_TRIALS overrides), alternated; the median of each is reported. */
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));

async function sweep(registry, tag, concurrency) {
  const exp = await Experiment.create(`bench.local/sweep/demo:${tag}`, {
    registry,
    journal: false,
    handleSignals: false,
  });
  const t0 = performance.now();
  const results = await exp.sweep(demoConfigs(), demoTrial, { concurrency, shard: false });
  const seconds = (performance.now() - t0) / 1000;
  await exp.commit();
  const failed = results.filter((r) => r.status !== 'finished');
  if (failed.length > 0) throw failed[0].error;
  return seconds;
}

export const cases = [
  {
    name: `sweep: the demo's 32 LP/MIP trials, concurrency ${CORES} (cores)`,
    unit: 's',
    higherIsBetter: false,
    targetRatio: 0.9 * CORES,
    async run(ctx) {
      const registry = await LocalRegistry.open(join(ctx.scratch, 'store'));
      // Warm: HiGHS's WebAssembly compiled (in every worker) before either side is timed.
      await sweep(registry, 'warm', CORES);
      const serials = [];
      const parallels = [];
      for (let t = 0; t < TRIALS; t++) {
        serials.push(await sweep(registry, `serial-${t}`, 1));
        parallels.push(await sweep(registry, `parallel-${t}`, CORES));
        ctx.log(
          `trial ${t + 1}: one by one ${fmt(serials[t])} s, ${CORES} at once ${fmt(parallels[t])} s`
        );
      }
      const serial = median(serials);
      const parallel = median(parallels);
      return {
        ours: parallel,
        peer: serial,
        peerName: 'the same trials one by one (concurrency 1, same run)',
        extra: {
          cores: CORES,
          'speed-up': fmt(serial / parallel),
          'one by one s': serials.map((x) => Number(x.toFixed(3))),
          'at once s': parallels.map((x) => Number(x.toFixed(3))),
        },
      };
    },
  },
];
