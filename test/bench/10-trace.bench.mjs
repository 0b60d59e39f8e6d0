// Case: what run traces cost. Record 10,000 runs through `exp.run`, each with 10 parameters
// (strings, ints, floats, bools) and 3 metric points, into an experiment created with
// `storeTrace: true` (ours: a Run span per run, encoded as OTLP protobuf and stored as the run's
// trace layer at its close) and into one created without it (the peer: the same build, same
// data, no traces), in two stores on the same file system.
//
// The two are recorded interleaved, run i of one then run i of the other (which goes first
// alternates), each run timed on its own: every run close makes its blobs durable (a fsync
// each), and this machine's fsync latency drifts by 3x within a minute, so sides measured one
// after the other compare the disk's moods, not the code. ours / peer = runs closed per second
// (the sum of each side's run times); ratio = ours / peer, target ≥ 0.8×. One untimed warm-up
// of 500 runs per side (loads OpenTelemetry, warms the JIT); RUNLEDGER_BENCH_TRIALS trials, the
// best ratio kept. Autosave is off on both sides: a checkpoint writes the whole manifest, which
// is not what this case measures.
//
// Then each side commits, and a check reports whether it could: a traced run adds a third layer
// (run record, metrics, trace), and 10,000 of them make a manifest over the 4 MiB a manifest may
// have (about 8,300 traced runs fit, about 12,400 untraced ones).
//
// RUNLEDGER_BENCH_RUNS overrides the number of runs (default 10000);
// RUNLEDGER_BENCH_TRIALS the number of trials (default 2).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AutosavePolicy, Experiment, LocalRegistry } from '../../dist/src/index.js';
import { benchParams, fmt, syncAll } from './lib.mjs';

const COUNT = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 10_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
if (!(COUNT >= 1)) throw new Error('RUNLEDGER_BENCH_RUNS must be a positive number');

/** Run i's 10 parameters. */
const paramsOf = (i) => benchParams(i, COUNT);

/** An experiment in a fresh store, autosave off. */
async function open(root, storeTrace) {
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create('localhost/bench/trace:v1', {
    registry,
    handleSignals: false,
    storeTrace,
  });
  exp.setAutosavePolicy(AutosavePolicy.disabled());
  return exp;
}

/** Run i: 10 parameters, 3 metric points; returns its time in ms (open to close). */
async function oneRun(exp, i) {
  const params = paramsOf(i);
  const t0 = performance.now();
  await exp.run((run) => {
    for (const [name, value] of params) run.logParameter(name, value);
    for (let step = 0; step < 3; step++) run.logMetric('loss', 1 / (i + step + 1));
  });
  return performance.now() - t0;
}

/** Checks what was recorded, then commits: how that went, as a line for the report. */
async function check(exp, count, storeTrace) {
  const runs = exp.runs;
  if (runs.length !== count) throw new Error(`recorded ${runs.length} runs`);
  const last = runs.at(-1);
  let traceBytes = 0;
  if (storeTrace) {
    const spans = await last.traceSpans();
    if (spans.length !== 1 || spans[0].name !== 'Run') throw new Error('the trace is not one Run');
    traceBytes = last.traceDescriptor.size;
  } else if (last.traceDescriptor !== undefined) throw new Error('a trace without storeTrace');
  const t0 = performance.now();
  try {
    const sealed = await exp.commit();
    // Per run: runledger.run, runledger.metrics and (ours) the trace; then the parameter table.
    const layers = sealed.manifest.layers.length;
    if (layers !== (storeTrace ? 3 : 2) * count + 1) throw new Error(`${layers} layers`);
    const manifestBytes = sealed.descriptor.size;
    return {
      committed: true,
      commit: `${layers} layers, manifest ${fmt(manifestBytes / 2 ** 20)} MiB, ${fmt((performance.now() - t0) / 1000)} s`,
      traceBytes,
    };
  } catch (e) {
    const why = String(e.message).replace(/^.*is invalid: /, '');
    return { committed: false, commit: `${e.code ?? 'failed'}: ${why}`, traceBytes };
  }
}

/** One trial: both sides recorded interleaved into fresh stores, then committed. */
async function trial(ctx, n, count) {
  const ours = await open(join(ctx.scratch, `ours-${n}`), true);
  const peer = await open(join(ctx.scratch, `peer-${n}`), false);
  await syncAll();
  let oursMs = 0;
  let peerMs = 0;
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      oursMs += await oneRun(ours, i);
      peerMs += await oneRun(peer, i);
    } else {
      peerMs += await oneRun(peer, i);
      oursMs += await oneRun(ours, i);
    }
  }
  const o = await check(ours, count, true);
  const p = await check(peer, count, false);
  for (const side of ['ours', 'peer']) {
    rmSync(join(ctx.scratch, `${side}-${n}`), { recursive: true, force: true });
  }
  await syncAll();
  return { oursSeconds: oursMs / 1000, peerSeconds: peerMs / 1000, ours: o, peer: p };
}

export const cases = [
  {
    name: `storeTrace: ${COUNT.toLocaleString('en-US')} runs × 10 parameters + 3 metric points`,
    unit: 'runs/s',
    higherIsBetter: true,
    targetRatio: 0.8,
    async run(ctx) {
      await trial(ctx, 'warm', Math.min(COUNT, 500));
      const trials = [];
      for (let t = 0; t < TRIALS; t++) {
        const r = await trial(ctx, t, COUNT);
        trials.push(r);
        ctx.log(
          `trial ${t + 1}: storeTrace ${fmt(COUNT / r.oursSeconds)} runs/s, ` +
            `without ${fmt(COUNT / r.peerSeconds)} runs/s (interleaved)`
        );
      }
      const ratio = (r) => r.peerSeconds / r.oursSeconds;
      const best = trials.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
      return {
        ours: COUNT / best.oursSeconds,
        peer: COUNT / best.peerSeconds,
        peerName: 'the same runs without storeTrace, interleaved (same build, same run)',
        checks: [
          { label: 'commit with storeTrace', value: best.ours.commit, pass: best.ours.committed },
          { label: 'commit without', value: best.peer.commit, pass: best.peer.committed },
        ],
        extra: {
          'trace bytes/run': best.ours.traceBytes,
          'close µs/run extra': Number(
            (((best.oursSeconds - best.peerSeconds) / COUNT) * 1e6).toFixed(1)
          ),
          'ratio per trial': trials.map((r) => Number(ratio(r).toFixed(3))),
          'ours s': trials.map((r) => Number(r.oursSeconds.toFixed(3))),
          'peer s': trials.map((r) => Number(r.peerSeconds.toFixed(3))),
        },
      };
    },
  },
];
