// Case: the viewer beside a training run still open in another process — 1,000,000 steps of two
// metrics (2,000,000 points), journaled as they were logged. Ours: what a page (re)load costs the
// server then, `UiData.open` over the store (the live run read from its crash journal) and the
// run's two metric series (`UiData.metrics`, what the curves ask), timed together, best of 3.
// Peer: the same points as MLflow's file store keeps a running run's metrics (one text file per
// metric, a `timestamp value step` line per point), read back into arrays as its
// `get_metric_history` does — read, split, parse — best of 3, in the same run.
//
// RUNLEDGER_BENCH_LIVE_STEPS overrides the number of steps (default 1,000,000).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalRegistry } from '../../dist/src/index.js';
import { UiData } from '../../dist/src/ui/data.js';
import { fmt } from './lib.mjs';

const STEPS = Number(process.env['RUNLEDGER_BENCH_LIVE_STEPS'] ?? 1_000_000);
const TRIALS = 3;
const REFERENCE = 'bench.local/live/train:v1';

const loss = (i) => 1 / (i + 1);
const acc = (i) => i / STEPS;

/** A child recording REFERENCE with one run open that logged every step; resolves once journaled. */
async function recordingChild(dist, root) {
  const code = `
    const { Experiment } = await import(${JSON.stringify(pathToFileURL(dist).href)});
    const exp = await Experiment.create(${JSON.stringify(REFERENCE)}, { handleSignals: false });
    const run = exp.startRun({ name: 'train' });
    run.logParameter('lr', 0.001);
    for (let i = 0; i < ${STEPS}; i++) run.logMetrics({ loss: 1 / (i + 1), acc: i / ${STEPS} }, { step: i });
    setTimeout(() => process.stdout.write('ready\\n'), 500);
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, RUNLEDGER_HOME: root },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.on('exit', (c) => reject(new Error(`the recording child exited (${c})`)));
    child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
  });
  return child;
}

/** MLflow's file store layout for the same points: `metrics/<name>`, `<ts> <value> <step>` lines. */
function writeMlflowMetrics(dir) {
  mkdirSync(join(dir, 'metrics'), { recursive: true });
  const t0 = Date.now();
  for (const [name, f] of [
    ['loss', loss],
    ['acc', acc],
  ]) {
    const lines = new Array(STEPS);
    for (let i = 0; i < STEPS; i++) lines[i] = `${t0 + i} ${f(i)} ${i}`;
    writeFileSync(join(dir, 'metrics', name), `${lines.join('\n')}\n`);
  }
}

/** Peer: each metric's history read back as MLflow's file store does (read, split, parse). */
function readMlflowMetrics(dir) {
  const out = [];
  for (const name of ['loss', 'acc']) {
    const text = readFileSync(join(dir, 'metrics', name), 'utf8');
    const steps = [];
    const timestamps = [];
    const values = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const [ts, value, step] = line.split(' ');
      timestamps.push(Number(ts));
      values.push(Number(value));
      steps.push(Number(step));
    }
    out.push({ name, steps, timestamps, values });
  }
  return out;
}

export const cases = [
  {
    name: `viewer beside a run still open: ${(2 * STEPS).toLocaleString('en-US')} journaled points read (study + its curves, best of ${TRIALS})`,
    unit: 's',
    higherIsBetter: false,
    targetRatio: 1.0,
    async run(ctx) {
      const root = join(ctx.scratch, 'live-store');
      const dist = join(ctx.repoRoot, 'dist', 'src', 'index.js');
      const child = await recordingChild(dist, root);
      const mlflow = join(ctx.scratch, 'mlruns');
      writeMlflowMetrics(mlflow);
      const ours = [];
      const peer = [];
      let rss = 0;
      try {
        const registry = await LocalRegistry.open(root);
        for (let t = 0; t < TRIALS; t++) {
          const p0 = performance.now();
          const theirs = readMlflowMetrics(mlflow);
          peer.push((performance.now() - p0) / 1000);
          if (theirs[0].values.length !== STEPS) throw new Error('the peer read too few points');

          const t0 = performance.now();
          const data = await UiData.open({ registry });
          const id = data.study.experiments[0]?.id;
          const series = await data.metrics([{ experiment: id, runId: 0 }]);
          ours.push((performance.now() - t0) / 1000);
          if (data.study.runs.status[0] !== 'running') throw new Error('the run is not running');
          const counts = series.map((s) => s.values.length);
          if (counts.join() !== `${STEPS},${STEPS}`) throw new Error(`read ${counts} points`);
          rss = Math.max(rss, process.memoryUsage().rss);
          ctx.log(`trial ${t + 1}: ours ${fmt(ours[t])} s, MLflow file store ${fmt(peer[t])} s`);
        }
      } finally {
        child.kill('SIGKILL');
      }
      return {
        ours: Math.min(...ours),
        peer: Math.min(...peer),
        peerName: "MLflow file store's metric files read back (read, split, parse)",
        extra: {
          'ours s': ours.map((s) => Number(s.toFixed(3))),
          'peer s': peer.map((s) => Number(s.toFixed(3))),
          'bench process RSS': `${fmt(rss / 1e6)} MB`,
        },
      };
    },
  },
];
