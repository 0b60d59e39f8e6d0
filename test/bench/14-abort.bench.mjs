// Case: abort latency during a 10 s MIP. A random market split instance (test/solve/
// market-split.mjs, m = 4: HiGHS does not finish it in a minute) solved by HighsAdapter with
// timeLimit 10 through `run.logSolve` and aborted 1 s in: the time from `abort()` to `logSolve`
// rejecting — the solve already recorded as `interrupted` (journaled) by then; the figure is the
// median of the trials, the worst is a second check, and `stopped` is the time to the adapter's
// own rejection. HighsAdapter runs HiGHS in a worker thread of the solve pool, which the abort
// terminates.
//
// Peer, same run: the same MIP solved on the main thread (the adapter's thread function,
// `solveWithHighs`, called directly as the adapter's `solve`, which is how HighsAdapter ran before
// the pool), with the same abort scheduled 1 s in: the abort's timer cannot fire while HiGHS
// holds the event loop, so the call ends when the solve does — the latency is from the moment
// the abort was due to the moment the call settled.
//
// RUNLEDGER_BENCH_TRIALS sets the trials of ours (default 5); the peer runs once (it takes the
// whole 10 s).
import { Experiment, Instance, LocalRegistry } from '../../dist/src/index.js';
import { HighsAdapter } from '../../dist/src/solve/adapters/highs.js';
import { solveWithHighs } from '../../dist/src/solve/highs/thread.js';
import { marketSplitData } from '../solve/market-split.mjs';
import { fmt, median } from './lib.mjs';

const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 5));
const TIME_LIMIT = 10;
const ABORT_AFTER_MS = 1000;

/** The same HiGHS solve, on the calling thread. */
const MainThreadHighs = {
  name: 'bench.MainThreadHighs',
  solve: (instance, options, context) => solveWithHighs(instance, options, context),
};

/**
 * One aborted solve: logSolve with a signal aborted ABORT_AFTER_MS in. Returns, in ms, from the
 * moment `abort()` was called (or, when its timer could not fire on time because the solve held
 * the event loop, from the moment it was due) to the moment the adapter's call settled (`stop`)
 * and to the moment logSolve settled, the solve recorded (`recorded`); and the recorded status.
 */
async function abortedSolve(exp, adapter, i) {
  const controller = new AbortController();
  const due = performance.now() + ABORT_AFTER_MS;
  let firedAt;
  const timer = setTimeout(() => {
    firedAt = performance.now();
    controller.abort();
  }, ABORT_AFTER_MS);
  let stoppedAt;
  const timed = {
    name: adapter.name,
    solve: (instance, options, context) =>
      Promise.resolve(adapter.solve(instance, options, context)).finally(
        () => (stoppedAt = performance.now())
      ),
  };
  const run = exp.startRun({ name: `${adapter.name}-${i}` });
  const instance = new Instance(marketSplitData(4, 1));
  const outcome = await run
    .logSolve(timed, instance, { timeLimit: TIME_LIMIT }, { signal: controller.signal })
    .then(
      () => 'returned',
      (e) => e.code ?? e.name
    );
  const settledAt = performance.now();
  clearTimeout(timer);
  await run.finish();
  const solve = exp.runs.at(-1).solves[0];
  // From the abort() call when it could act (an event loop free to run its timer), else from
  // the moment it was due.
  const from = firedAt !== undefined && firedAt <= stoppedAt ? firedAt : due;
  return {
    stopMs: stoppedAt - from,
    recordedMs: settledAt - from,
    outcome,
    status: solve.status,
    solveMs: Date.parse(solve.endedAt) - Date.parse(solve.startedAt),
  };
}

export const cases = [
  {
    name: `abort latency during a ${TIME_LIMIT} s MIP (HighsAdapter, logSolve → interrupted)`,
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const registry = await LocalRegistry.open(ctx.scratch);
      const exp = await Experiment.create('bench.runledger.local/abort:latency', {
        registry,
        handleSignals: false,
      });
      // Warm-up: the pool's first thread starts and compiles HiGHS (not timed).
      await HighsAdapter.solve(new Instance(marketSplitData(3, 1)), { timeLimit: 0.2 });
      const ours = [];
      for (let i = 0; i < TRIALS; i++) {
        const r = await abortedSolve(exp, HighsAdapter, i);
        if (r.status !== 'interrupted') throw new Error(`trial ${i}: solve recorded ${r.status}`);
        ours.push(r);
        ctx.log(
          `trial ${i + 1}: stopped ${fmt(r.stopMs)} ms, recorded ${r.status} ${fmt(r.recordedMs)} ms after abort()`
        );
      }
      const peer = await abortedSolve(exp, MainThreadHighs, 0);
      ctx.log(
        `main thread: ${fmt(peer.recordedMs)} ms after the abort was due (${peer.outcome}, recorded ${peer.status}, solve ${fmt(peer.solveMs / 1000)} s)`
      );
      await exp.commit();
      const recorded = ours.map((r) => r.recordedMs);
      const worst = Math.max(...recorded);
      return {
        ours: median(recorded),
        peer: peer.recordedMs,
        peerName: 'same MIP on the main thread (abort waits for the solve)',
        checks: [
          {
            label: `median of ${TRIALS} (target < 100 ms)`,
            value: fmt(median(recorded)),
            pass: median(recorded) < 100,
          },
          { label: `worst of ${TRIALS} (target < 100 ms)`, value: fmt(worst), pass: worst < 100 },
        ],
        extra: {
          'stopped ms (median)': Number(median(ours.map((r) => r.stopMs)).toFixed(2)),
          'peer recorded': peer.status,
          'peer solve s': Number((peer.solveMs / 1000).toFixed(2)),
        },
      };
    },
  },
];
