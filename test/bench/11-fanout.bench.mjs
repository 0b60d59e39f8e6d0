// Case: what a logger fan-out costs. Record 10,000 runs, each with 10 parameters (strings, ints,
// floats, bools; one logParams call) and 3 metric points (one logMetrics call each, loss and
// accuracy at steps 0-2), through the logger protocol: ours through a CompositeLogger of
// runledger and a JsonlLogger (every call passed to both, each logger's failures isolated; the
// JSON Lines file streamed to the scratch directory), the peer through runledger alone
// (`exp.startRun()`, the same calls on its Run). Same build, same data, in this process.
//
// ours / peer = runs closed per second during recording; ratio = ours / peer, target ≥ 0.8×.
// The two sides record into two experiments (two stores) open side by side, interleaved run by
// run (which side goes first alternates), each run timed on its own and summed per side: on a
// busy machine, load that comes and goes falls on both sides alike (timed one after the other,
// whole trial against whole trial, the same build measured 0.72× to 0.83× against itself plus
// ~35 µs of CPU per run). One untimed warm-up (warms the JIT); the best of the trials is kept
// per side. Every run close makes its blobs durable (a fsync each) on both sides; the JSONL log
// is written at each run end (one write, no fsync) and fsynced once at close. Autosave is off on
// both sides: a checkpoint writes the whole manifest, which is not what this case measures.
//
// Checks: the composite recorded no failure; the log holds 6 lines per run (run_start, params, 3
// metrics, run_end), and the committed experiment as many runs as were recorded.
//
// RUNLEDGER_BENCH_RUNS overrides the number of runs (default 10000);
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 2).
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutosavePolicy,
  CompositeLogger,
  Experiment,
  JsonlLogger,
  LocalRegistry,
} from '../../dist/src/index.js';
import { benchParams, fmt, syncAll } from './lib.mjs';

const COUNT = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 10_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
if (!(COUNT >= 1)) throw new Error('RUNLEDGER_BENCH_RUNS must be a positive number');
const WARM_UP = Math.min(COUNT, 200);

/** Run i's 10 parameters. */
const paramsOf = (i) => Object.fromEntries(benchParams(i, COUNT));

/** Run i's metric points: loss and accuracy at steps 0, 1, 2. */
function metricsOf(i) {
  return [0, 1, 2].map((step) => ({
    step,
    values: { loss: 1 / (i + step + 1), accuracy: 0.5 + step / 8 },
  }));
}

/** A fresh store and experiment, autosave off, with the logger that records into it. */
async function open(dir, fanOut) {
  mkdirSync(dir, { recursive: true });
  const registry = await LocalRegistry.open(join(dir, 'store'));
  const exp = await Experiment.create('localhost/bench/fanout:v1', {
    registry,
    handleSignals: false,
  });
  exp.setAutosavePolicy(AutosavePolicy.disabled());
  const jsonl = fanOut ? new JsonlLogger(join(dir, 'events.jsonl')) : undefined;
  return { exp, jsonl, logger: jsonl === undefined ? exp : new CompositeLogger([exp, jsonl]) };
}

/** One run through the protocol: startRun, logParams, 3 × logMetrics, finish. */
async function oneRun(logger, w) {
  const run = await logger.startRun();
  await run.logParams(w.params);
  for (const m of w.metrics) await run.logMetrics(m.values, { step: m.step });
  await run.finish();
}

/**
 * Records `count` runs on both sides, interleaved run by run (the side that goes first
 * alternating), each run timed on its own: both sides see the same machine, load and file
 * system state, so the ratio holds up on a busy machine. Then both commit.
 */
async function record(dir, count) {
  const peer = await open(join(dir, 'peer'), false);
  const ours = await open(join(dir, 'ours'), true);
  const work = Array.from({ length: count }, (_, i) => ({
    params: paramsOf(i),
    metrics: metricsOf(i),
  }));
  await syncAll();
  let peerMs = 0;
  let ourMs = 0;
  for (let i = 0; i < count; i++) {
    const w = /** @type {(typeof work)[number]} */ (work[i]);
    for (const side of i % 2 === 0 ? [peer, ours] : [ours, peer]) {
      const t0 = performance.now();
      await oneRun(side.logger, w);
      const ms = performance.now() - t0;
      if (side === peer) peerMs += ms;
      else ourMs += ms;
    }
  }
  await ours.jsonl?.close();
  const [ourSealed, peerSealed] = [await ours.exp.commit(), await peer.exp.commit()];
  const path = /** @type {JsonlLogger} */ (ours.jsonl).path;
  return {
    ourSeconds: ourMs / 1000,
    peerSeconds: peerMs / 1000,
    runs: [ourSealed.runs.length, peerSealed.runs.length],
    failures: /** @type {CompositeLogger} */ (ours.logger).failures.length,
    lines: readFileSync(path, 'utf8').split('\n').length - 1,
    jsonlBytes: statSync(path).size,
  };
}

export const cases = [
  {
    name: `${COUNT.toLocaleString('en-US')} runs × 10 params + 3 metric points: runledger + JSONL composite`,
    unit: 'runs/s',
    higherIsBetter: true,
    targetRatio: 0.8,
    async run(ctx) {
      // Warm-up, untimed: both paths, so neither pays for the JIT.
      await record(join(ctx.scratch, 'warm'), WARM_UP);
      rmSync(join(ctx.scratch, 'warm'), { recursive: true, force: true });
      const trials = [];
      for (let t = 0; t < TRIALS; t++) {
        const dir = join(ctx.scratch, `trial-${t}`);
        const r = await record(dir, COUNT);
        trials.push(r);
        ctx.log(
          `trial ${t + 1}: composite ${fmt(COUNT / r.ourSeconds)} runs/s, ` +
            `runledger alone ${fmt(COUNT / r.peerSeconds)} runs/s`
        );
        rmSync(dir, { recursive: true, force: true });
        await syncAll();
      }
      const best = (key) => Math.min(...trials.map((r) => r[key]));
      const ours = best('ourSeconds');
      const peer = best('peerSeconds');
      const last = /** @type {(typeof trials)[number]} */ (trials.at(-1));
      return {
        ours: COUNT / ours,
        peer: COUNT / peer,
        peerName: 'runledger alone (exp.startRun, same calls, same build, interleaved run by run)',
        checks: [
          {
            label: 'composite failures',
            value: Math.max(...trials.map((r) => r.failures)),
            pass: trials.every((r) => r.failures === 0),
          },
          {
            label: 'JSONL lines = 6 per run',
            value: last.lines,
            pass: trials.every((r) => r.lines === 6 * COUNT),
          },
          {
            label: 'committed runs (ours, peer)',
            value: last.runs.join(', '),
            pass: trials.every((r) => r.runs.every((n) => n === COUNT)),
          },
        ],
        extra: {
          'overhead µs/run': Number((((ours - peer) / COUNT) * 1e6).toFixed(1)),
          'JSONL bytes': last.jsonlBytes,
          'ours s': trials.map((r) => Number(r.ourSeconds.toFixed(3))),
          'peer s': trials.map((r) => Number(r.peerSeconds.toFixed(3))),
        },
      };
    },
  },
];
