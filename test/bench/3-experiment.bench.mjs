// Case: record 10,000 runs through the experiment API, each with 10 parameters (strings, ints,
// floats, bools) and one small JSON attachment (~100 bytes, unique per run), then commit the
// experiment. Runs are recorded one after the other with `exp.run`, in this process; every run
// close makes the run's blobs durable (fsync of the blob, then of the blob directory).
//
// ours = runs closed per second during recording (commit not included; its time, the total and
// the artifact's layer count are in `extra`). The peer is the most direct durable way to keep the
// same data without runledger ("naive durable JSON files"): per run, one JSON file holding its
// parameters and the attachment, written with fs.writeFileSync and fsynced with fs.fsyncSync,
// then one fsync of the directory at the end. Both sides serialize the same pre-built values
// inside the timed loop; registry/experiment creation and the peer's mkdir are not timed.
// Trials alternate peer, ours, peer, ours and the best of each is kept. The issue sets no target
// ratio: the figure is reported only.
//
// Peak RSS is this (runner) process's maxRSS, so it includes the runner and any case that ran
// before; it is taken in the first trial (later ones cannot lower it) at the end of recording and
// at the end of commit, with the RSS just before recording started next to it.
//
// RUNLEDGER_BENCH_RUNS overrides the number of runs (default 10000) for quick runs;
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 2).
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Experiment, LocalRegistry } from '../../dist/src/index.js';
import { MB, benchParams, fmt, syncAll } from './lib.mjs';

const COUNT = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 10_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
if (!(COUNT >= 1)) throw new Error('RUNLEDGER_BENCH_RUNS must be a positive number');

/**
 * The values of run i: 10 parameters (2 strings, 3 ints, 3 floats, 2 bools; floats never
 * integral, so every column keeps one type) and a ~100-byte JSON result unique to the run.
 */
function workOf(i) {
  return {
    params: benchParams(i, COUNT),
    result: {
      run: i,
      objective: 1234.5678 + i * 0.001,
      bound: 1200.25 + (i % 97) * 0.5,
      nodes: (i * 7919) % 100_003,
      status: 'optimal',
      feasible: true,
    },
  };
}

/** fsync of a directory (its entries made durable). */
function fsyncDir(dir) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Peer: one JSON file per run, written and fsynced, then one fsync of the directory. */
function naiveJsonFiles(dir, work) {
  const t0 = performance.now();
  for (let i = 0; i < work.length; i++) {
    const w = /** @type {ReturnType<typeof workOf>} */ (work[i]);
    const text = JSON.stringify({
      run_id: i,
      parameters: Object.fromEntries(w.params),
      attachments: { result: w.result },
    });
    const fd = openSync(join(dir, `run-${i}.json`), 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  fsyncDir(dir);
  return (performance.now() - t0) / 1000;
}

/** Ours: every run through exp.run, then commit. Times recording and commit separately. */
async function recordExperiment(root, work) {
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create('localhost/bench/exp:v1', { registry });
  await syncAll();
  const rssBefore = process.memoryUsage().rss;
  let inFn = 0; // time spent inside the callbacks (logParameter ×10, logJson)
  let close = 0; // time from the callback's return to exp.run resolving (run close: fsyncs)
  const t0 = performance.now();
  for (const w of work) {
    let fnEnd = 0;
    await exp.run(async (run) => {
      const fnStart = performance.now();
      for (const [name, value] of w.params) run.logParameter(name, value);
      await run.logJson('result', w.result);
      fnEnd = performance.now();
      inFn += fnEnd - fnStart;
    });
    close += performance.now() - fnEnd;
  }
  const t1 = performance.now();
  const maxRssRecordKiB = process.resourceUsage().maxRSS;
  const sealed = await exp.commit();
  const t2 = performance.now();
  const maxRssCommitKiB = process.resourceUsage().maxRSS;

  // The artifact: one JSON layer per run, plus the run-parameter table.
  if (sealed.runs.length !== work.length) throw new Error(`sealed ${sealed.runs.length} runs`);
  // Per run: its JSON result and its runledger.run record; then the parameter table.
  if (sealed.manifest.layers.length !== 2 * work.length + 1) {
    throw new Error(`the artifact has ${sealed.manifest.layers.length} layers`);
  }
  const last = sealed.runs.at(-1);
  // Integer parameters come back as int64 (bigint).
  if (last?.parameters['seed'] !== BigInt(work.length - 1) || last?.status !== 'finished') {
    throw new Error('the last run was not recorded as logged');
  }
  const layerBytes = sealed.manifest.layers.reduce((sum, l) => sum + l.size, 0);
  return {
    recordSeconds: (t1 - t0) / 1000,
    commitSeconds: (t2 - t1) / 1000,
    inFnSeconds: inFn / 1000,
    closeSeconds: close / 1000,
    layers: sealed.manifest.layers.length,
    layerBytes,
    rssBefore,
    maxRssRecordKiB,
    maxRssCommitKiB,
  };
}

export const cases = [
  {
    name: `${COUNT.toLocaleString('en-US')} runs × 10 parameters + 1 JSON each`,
    unit: 'runs/s',
    higherIsBetter: true,
    async run(ctx) {
      const work = Array.from({ length: COUNT }, (_, i) => workOf(i));
      const jsonBytes = JSON.stringify(work[0]?.result).length;

      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        const dir = join(ctx.scratch, `json-${t}`);
        mkdirSync(dir);
        await syncAll();
        const seconds = naiveJsonFiles(dir, work);
        const files = readdirSync(dir).length;
        if (files !== COUNT) throw new Error(`the peer wrote ${files} files`);
        peerRuns.push(seconds);
        ctx.log(`json files trial ${t + 1}: ${fmt(COUNT / seconds)} runs/s`);
        rmSync(dir, { recursive: true, force: true });
        await syncAll();

        const root = join(ctx.scratch, `store-${t}`);
        const r = await recordExperiment(root, work);
        ourRuns.push(r);
        ctx.log(
          `ours trial ${t + 1}: ${fmt(COUNT / r.recordSeconds)} runs/s recording ` +
            `(in fn ${fmt((r.inFnSeconds / COUNT) * 1e6)} µs/run, close ${fmt((r.closeSeconds / COUNT) * 1e6)} µs/run), ` +
            `commit ${fmt(r.commitSeconds)} s`
        );
        rmSync(root, { recursive: true, force: true });
        await syncAll();
      }

      const best = ourRuns.reduce((a, b) => (b.recordSeconds < a.recordSeconds ? b : a));
      const first = /** @type {Awaited<ReturnType<typeof recordExperiment>>} */ (ourRuns[0]);
      const kibToMB = (kib) => `${fmt((kib * 1024) / MB)} MB`; // maxRSS is KiB on Linux
      return {
        ours: COUNT / best.recordSeconds,
        peer: COUNT / Math.min(...peerRuns),
        peerName: 'naive durable JSON files (writeFileSync+fsyncSync each, dir fsync)',
        extra: {
          target: 'no target (reported)',
          'commit s': Number(best.commitSeconds.toFixed(3)),
          'total s': Number((best.recordSeconds + best.commitSeconds).toFixed(3)),
          'close µs/run': Number(((best.closeSeconds / COUNT) * 1e6).toFixed(1)),
          'in fn µs/run': Number(((best.inFnSeconds / COUNT) * 1e6).toFixed(1)),
          'artifact layers': best.layers,
          'artifact bytes': best.layerBytes,
          'JSON bytes': jsonBytes,
          'peak RSS (process) after recording': kibToMB(first.maxRssRecordKiB),
          'after commit': kibToMB(first.maxRssCommitKiB),
          'RSS before recording': `${fmt(first.rssBefore / MB)} MB`,
          'ours record s': ourRuns.map((r) => Number(r.recordSeconds.toFixed(3))),
          'peer s': peerRuns.map((s) => Number(s.toFixed(3))),
        },
      };
    },
  },
];
