// Case: the demo's 32-trial LP/MIP grid (HiGHS, time limits 0.05 s and 5 s) as a sweep with
// concurrency = the number of cores — ours — against the same trials one by one (concurrency 1),
// measured in the same run. Target: a speed-up of at least 0.9 × cores. Needs the optional
// `highs` package.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Experiment, LocalRegistry } from '../../dist/src/index.js';
import { demoConfigs, demoTrial } from '../../dist/src/cli/demo-study.js';
import { fmt } from './lib.mjs';

const CORES = availableParallelism();

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
      const serial = await sweep(registry, 'serial', 1);
      const parallel = await sweep(registry, 'parallel', CORES);
      ctx.log(`one by one ${fmt(serial)} s, ${CORES} at once ${fmt(parallel)} s`);
      return {
        ours: parallel,
        peer: serial,
        peerName: 'the same trials one by one (concurrency 1, same run)',
        extra: { cores: CORES, 'speed-up': fmt(serial / parallel) },
      };
    },
  },
];
