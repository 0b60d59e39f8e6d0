// Case: the cost of the crash journal. 10,000 runs recorded one after the other with `exp.run`,
// each logging 10 parameters and 3 metric points, with the journal (the default durability:
// every run close written to the journal before it returns, open-run writes within 100 ms, one
// grouped fdatasync a second) against the same runs recorded by the build before that
// write-through change (baseline.mjs: closes journaled within a second), built from git and
// measured in the same run. Autosave is disabled on both sides so the figure is the journal's
// alone. ours = runs/s today, peer = runs/s of the baseline, ratio = today's relative speed
// (target ≥ 0.85×). Extra figures, each from one trial in this run: `journal: false`, the
// default configuration (journal + background autosave after every run close), and
// `durable: 'always'` (an fsync per logged write) on a tenth of the runs. Each trial starts after
// a `sync`, the sides take turns going first, and the best of each is kept.
//
// RUNLEDGER_BENCH_RUNS overrides the number of runs (default 10000); RUNLEDGER_BENCH_TRIALS the
// number of trials per side (default 3).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as today from '../../dist/src/index.js';
import { loadBaseline } from './baseline.mjs';
import { fmt } from './lib.mjs';

const COUNT = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 10_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));

/** Records `count` runs; returns runs/s over the recording (commit not timed). */
async function record(lib, dir, count, options, autosave) {
  const { AutosavePolicy, Experiment, LocalRegistry } = lib;
  const registry = await LocalRegistry.open(dir);
  const exp = await Experiment.create('bench.local/journal:v1', {
    registry,
    handleSignals: false,
    ...options,
  });
  if (!autosave) exp.setAutosavePolicy(AutosavePolicy.disabled());
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    await exp.run((run) => {
      run.logParameter('solver', i % 3 === 0 ? 'scip' : 'highs');
      run.logParameter('seed', i);
      for (let k = 0; k < 8; k++) run.logParameter(`x${k}`, i * 0.5 + k);
      for (let s = 0; s < 3; s++) run.logMetric('gap', 1 / (i + s + 1), { step: s });
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  await exp.autosaveSettled();
  const sealed = await exp.commit();
  if (sealed.runs.length !== count) throw new Error(`sealed ${sealed.runs.length} runs`);
  const journals = readdirSync(join(dir, '.runledger')).includes('journal')
    ? readdirSync(join(dir, '.runledger', 'journal'))
    : [];
  if (journals.length !== 0) throw new Error(`commit left journals: ${journals.join(', ')}`);
  return count / seconds;
}

export const cases = [
  {
    name: `crash journal: ${COUNT.toLocaleString('en-US')} runs × 10 parameters + 3 metric points, write-through vs before`,
    unit: 'runs/s',
    higherIsBetter: true,
    targetRatio: 0.85,
    async run(ctx) {
      const fresh = (p) => mkdtempSync(join(ctx.scratch, p));
      const baseline = await loadBaseline(ctx);
      if (baseline.missing !== undefined) throw new Error(baseline.missing);
      await record(today, fresh('warm-'), Math.min(COUNT, 500), {}, false);
      await record(baseline, fresh('warm-base-'), Math.min(COUNT, 500), {}, false);
      const o = [];
      const p = [];
      // Each trial starts with nothing left to write back (`sync`), and the sides take turns
      // going first: a trial must not pay for the dirty pages of the one before it.
      for (let t = 0; t < TRIALS; t++) {
        const sides = [
          async () => p.push(await record(baseline, fresh('base-'), COUNT, {}, false)),
          async () => o.push(await record(today, fresh('on-'), COUNT, {}, false)),
        ];
        for (const side of t % 2 === 0 ? sides : sides.reverse()) {
          execFileSync('sync');
          await side();
        }
        ctx.log(`trial ${t + 1}: today ${fmt(o.at(-1))} runs/s, before ${fmt(p.at(-1))} runs/s`);
      }
      const off = await record(today, fresh('off-'), COUNT, { journal: false }, false);
      ctx.log(`journal: false: ${fmt(off)} runs/s`);
      const defaults = await record(today, fresh('default-'), COUNT, {}, true);
      ctx.log(
        `default (journal + autosave every run close, in the background): ${fmt(defaults)} runs/s`
      );
      const alwaysCount = Math.max(1, Math.floor(COUNT / 10));
      const always = await record(
        today,
        fresh('always-'),
        alwaysCount,
        { durable: 'always' },
        false
      );
      ctx.log(`durable 'always' (${alwaysCount} runs): ${fmt(always)} runs/s`);
      return {
        ours: Math.max(...o),
        peer: Math.max(...p),
        peerName: 'the build before write-through (same run)',
        extra: {
          'journal: false runs/s': Number(off.toFixed(1)),
          'default config runs/s': Number(defaults.toFixed(1)),
          "durable 'always' runs/s": Number(always.toFixed(1)),
        },
      };
    },
  },
];
