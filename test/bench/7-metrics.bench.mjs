// Case: 1,000,000 logMetric calls in one run (4 metrics, steps from 0, default timestamps), then
// closing the run, which writes the columnar runledger.metrics attachment and makes it durable.
// ours = calls per second over the whole (calls + close). The peer is the straightforward way to
// keep the same history without runledger: push one { name, step, timestamp, value } object per
// call into an array, then write it as one JSON file and fsync it (as a simple tracker would);
// the peer does no validation. One untimed warm-up per side; trials alternate peer, ours and the
// best of each is kept. A check compares today's calls/s with the build before the write-through
// crash journal (baseline.mjs, built from git, measured in the same run; target ≥ 0.8×).
//
// RUNLEDGER_BENCH_METRICS overrides the number of calls (default 1000000);
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 3).
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as today from '../../dist/src/index.js';
import { loadBaseline } from './baseline.mjs';
import { fmt } from './lib.mjs';

const CALLS = Number(process.env['RUNLEDGER_BENCH_METRICS'] ?? 1_000_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));
const NAMES = ['loss', 'accuracy', 'lr', 'grad_norm'];

async function ours(dir, calls, lib = today) {
  const { Experiment, LocalRegistry } = lib;
  const registry = await LocalRegistry.open(dir);
  const exp = await Experiment.create('bench.local/metrics:v1', { registry });
  const t0 = performance.now();
  await exp.run((run) => {
    for (let i = 0; i < calls; i++) run.logMetric(NAMES[i & 3], 1 / (i + 1));
  });
  const seconds = (performance.now() - t0) / 1000;
  const sealed = await exp.commit();
  const series = await sealed.runs[0].getMetric('loss');
  if (series.values.length !== Math.ceil(calls / 4)) throw new Error('lost points');
  return seconds;
}

function peer(dir, calls) {
  const t0 = performance.now();
  const points = [];
  const steps = new Map();
  for (let i = 0; i < calls; i++) {
    const name = NAMES[i & 3];
    const step = steps.get(name) ?? 0;
    steps.set(name, step + 1);
    points.push({ name, step, timestamp: Date.now(), value: 1 / (i + 1) });
  }
  const fd = openSync(join(dir, `metrics-${process.hrtime.bigint()}.json`), 'w');
  writeSync(fd, JSON.stringify(points));
  fsyncSync(fd);
  closeSync(fd);
  return (performance.now() - t0) / 1000;
}

export const cases = [
  {
    name: `logMetric: ${CALLS.toLocaleString('en-US')} calls in one run, then close`,
    unit: 'calls/s',
    higherIsBetter: true,
    async run(ctx) {
      const { mkdtempSync } = await import('node:fs');
      await ours(mkdtempSync(join(ctx.scratch, 'warm-')), Math.min(CALLS, 100_000));
      peer(ctx.scratch, Math.min(CALLS, 100_000));
      const o = [];
      const p = [];
      for (let t = 0; t < TRIALS; t++) {
        p.push(CALLS / peer(ctx.scratch, CALLS));
        o.push(CALLS / (await ours(mkdtempSync(join(ctx.scratch, 'run-')), CALLS)));
        ctx.log(`trial ${t + 1}: ours ${fmt(o.at(-1))} calls/s, peer ${fmt(p.at(-1))} calls/s`);
      }
      const checks = [];
      const baseline = await loadBaseline(ctx);
      if (baseline.missing === undefined) {
        await ours(
          mkdtempSync(join(ctx.scratch, 'warm-base-')),
          Math.min(CALLS, 100_000),
          baseline
        );
        const b = [];
        for (let t = 0; t < TRIALS; t++) {
          b.push(CALLS / (await ours(mkdtempSync(join(ctx.scratch, 'base-')), CALLS, baseline)));
          ctx.log(`trial ${t + 1}: the build before write-through ${fmt(b.at(-1))} calls/s`);
        }
        const ratio = Math.max(...o) / Math.max(...b);
        checks.push({
          label: `vs the build before write-through, ${fmt(Math.max(...b))} calls/s (target ≥0.8×)`,
          value: `${fmt(ratio)}×`,
          pass: ratio >= 0.8,
        });
      } else ctx.log(baseline.missing);
      return {
        ours: Math.max(...o),
        peer: Math.max(...p),
        peerName: 'array of point objects + one fsynced JSON file',
        checks,
      };
    },
  },
];
