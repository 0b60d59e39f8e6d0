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
// have (about 8,300 traced runs fit, about 12,400 untraced ones). A side stops at the run the
// experiment refuses when it starts (MANIFEST_INVALID, reason too-large: its manifest could pass
// the limit with it), and its rate counts the runs it recorded.
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

/**
 * Run i: 10 parameters, 3 metric points; returns its time in ms (open to close), or the error of
 * a run the experiment refused at its start because its manifest could pass 4 MiB with it.
 */
async function oneRun(exp, i) {
  const params = paramsOf(i);
  const t0 = performance.now();
  try {
    await exp.run((run) => {
      for (const [name, value] of params) run.logParameter(name, value);
      for (let step = 0; step < 3; step++) run.logMetric('loss', 1 / (i + step + 1));
    });
  } catch (e) {
    if (e?.code === 'MANIFEST_INVALID' && e.data?.reason === 'too-large') return e;
    throw e;
  }
  return performance.now() - t0;
}

/** One side of a trial: its experiment, time so far, and the run it was refused, if any. */
function side(exp) {
  return { exp, ms: 0, runs: 0, refused: undefined };
}

/** Records run i on a side that has not been refused yet. */
async function record(s, i) {
  if (s.refused !== undefined) return;
  const r = await oneRun(s.exp, i);
  if (typeof r === 'number') {
    s.ms += r;
    s.runs++;
  } else {
    const mib = (r.data.size / 2 ** 20).toFixed(3);
    s.refused = `run ${i} refused at its start (MANIFEST_INVALID: ${mib} MiB with it)`;
  }
}

/** Checks what was recorded, then commits: how that went, as a line for the report. */
async function check(exp, count, storeTrace, refused) {
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
    const committed = `${layers} layers, manifest ${fmt(manifestBytes / 2 ** 20)} MiB, ${fmt((performance.now() - t0) / 1000)} s`;
    return {
      committed: true,
      commit:
        refused === undefined ? committed : `${refused}; ${count} runs committed: ${committed}`,
      traceBytes,
    };
  } catch (e) {
    const why = String(e.message).replace(/^.*is invalid: /, '');
    return { committed: false, commit: `${e.code ?? 'failed'}: ${why}`, traceBytes };
  }
}

/** One trial: both sides recorded interleaved into fresh stores, then committed. */
async function trial(ctx, n, count) {
  const ours = side(await open(join(ctx.scratch, `ours-${n}`), true));
  const peer = side(await open(join(ctx.scratch, `peer-${n}`), false));
  await syncAll();
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      await record(ours, i);
      await record(peer, i);
    } else {
      await record(peer, i);
      await record(ours, i);
    }
  }
  const o = await check(ours.exp, ours.runs, true, ours.refused);
  const p = await check(peer.exp, peer.runs, false, peer.refused);
  for (const side of ['ours', 'peer']) {
    rmSync(join(ctx.scratch, `${side}-${n}`), { recursive: true, force: true });
  }
  await syncAll();
  // Rates: runs recorded per second of their own time.
  return {
    oursRate: ours.runs / (ours.ms / 1000),
    peerRate: peer.runs / (peer.ms / 1000),
    ours: o,
    peer: p,
  };
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
          `trial ${t + 1}: storeTrace ${fmt(r.oursRate)} runs/s, ` +
            `without ${fmt(r.peerRate)} runs/s (interleaved)`
        );
      }
      const ratio = (r) => r.oursRate / r.peerRate;
      const best = trials.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
      return {
        ours: best.oursRate,
        peer: best.peerRate,
        peerName: 'the same runs without storeTrace, interleaved (same build, same run)',
        checks: [
          { label: 'commit with storeTrace', value: best.ours.commit, pass: best.ours.committed },
          { label: 'commit without', value: best.peer.commit, pass: best.peer.committed },
        ],
        extra: {
          'trace bytes/run': best.ours.traceBytes,
          'close µs/run extra': Number((1e6 / best.oursRate - 1e6 / best.peerRate).toFixed(1)),
          'ratio per trial': trials.map((r) => Number(ratio(r).toFixed(3))),
          'ours runs/s': trials.map((r) => Number(r.oursRate.toFixed(1))),
          'peer runs/s': trials.map((r) => Number(r.peerRate.toFixed(1))),
        },
      };
    },
  },
];
