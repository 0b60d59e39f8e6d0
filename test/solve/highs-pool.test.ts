/**
 * HiGHS off the main thread: `HighsAdapter.solve` runs in the solve pool, so timers keep ticking
 * during a solve, an abort stops a long MIP within 100 ms, `timeLimit` is HiGHS's own, solves
 * under `Promise.all` run side by side, and a thread is reused from solve to solve. The long MIP
 * is a random market split instance (test/solve/market-split.mjs) HiGHS does not finish in a
 * minute; every solve here is stopped by an abort or a time limit.
 */
import { availableParallelism } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { Instance } from '../../src/ommx/instance.js';
import { HighsAdapter } from '../../src/solve/adapters/highs.js';
import { solvePool } from '../../src/solve/worker-pool.js';
import { requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { knapsack } from '../helpers/ommx.js';
import { marketSplitData } from './market-split.mjs';

const longMip = (): Instance => new Instance(marketSplitData(4, 1));

beforeAll(() => requireBuilt());

/** Counts timer ticks while `work` runs; the longest gap between two ticks. */
async function ticking<T>(
  work: () => Promise<T>
): Promise<{ result: T; ticks: number; gap: number }> {
  let ticks = 0;
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    gap = Math.max(gap, performance.now() - last);
    return { result, ticks, gap };
  } finally {
    clearInterval(timer);
  }
}

/** Runs as many small solves at once as the pool has threads. */
async function warmPool(): Promise<void> {
  const n = solvePool().size;
  await Promise.all(Array.from({ length: n }, () => HighsAdapter.solve(knapsack(), {})));
  expect(solvePool().stats.threads).toBe(n);
}

describe('HighsAdapter in the solve pool', () => {
  it('keeps the event loop free during a solve, and honours timeLimit', async () => {
    const started = performance.now();
    const { result, ticks, gap } = await ticking(() =>
      HighsAdapter.solve(longMip(), { timeLimit: 1.5 })
    );
    const wall = performance.now() - started;
    // HiGHS stopped itself at its limit with a feasible point (x = 0 with slacks always is one).
    expect(result.optimality).toBe('not-optimal');
    expect(result.feasible).toBe(true);
    const ran = Date.parse(result.metadata!.end!) - Date.parse(result.metadata!.start!);
    expect(ran).toBeGreaterThanOrEqual(1400);
    expect(ran).toBeLessThan(2500);
    // A thread's first solve may wait a while for its start on a loaded machine; not 60 s.
    expect(wall).toBeLessThan(15_000);
    // On the main thread no timer fires until the solve returns.
    expect(ticks).toBeGreaterThan(50);
    expect(gap).toBeLessThan(500);
  });

  it('an abort stops a solve of the long MIP within 100 ms', async () => {
    const controller = new AbortController();
    const solving = HighsAdapter.solve(longMip(), {}, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 500));
    const abortedAt = performance.now();
    controller.abort();
    const e = await expectCode(solving, 'ABORTED');
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(e.message).toMatch(
      /^The call to solveWithHighs \(highs\/thread\.js\) was aborted after/
    );
    // The next solve gets a fresh thread and works.
    expect((await HighsAdapter.solve(knapsack(), {})).objective).toBe(20);
  });

  it.skipIf(availableParallelism() < 2)(
    'runs solves under Promise.all side by side, one per core',
    async () => {
      // Every thread started and HiGHS compiled in it: a thread started beside a busy one gets
      // going only once V8 has done optimizing HiGHS's WebAssembly in the background (seconds,
      // on two cores).
      await warmPool();
      const solutions = await Promise.all(
        [1, 2].map((seed) =>
          HighsAdapter.solve(new Instance(marketSplitData(4, seed)), { timeLimit: 1 })
        )
      );
      const [a, b] = solutions.map((s) => [
        Date.parse(s.metadata!.start!),
        Date.parse(s.metadata!.end!),
      ]);
      // The two solves overlapped (wall clock, so on a loaded machine too); on one thread they
      // cannot.
      expect(a![0]! < b![1]! && b![0]! < a![1]!).toBe(true);
    }
  );

  it('reuses its threads: solves one after another start no new thread', async () => {
    await HighsAdapter.solve(knapsack(), {});
    const { started } = solvePool().stats;
    for (let i = 0; i < 5; i++)
      expect((await HighsAdapter.solve(knapsack(), {})).objective).toBe(20);
    expect(solvePool().stats.started).toBe(started);
    expect(solvePool().stats.threads).toBeLessThanOrEqual(solvePool().size);
  });

  it('checks options, the signal and the package on the calling thread, before any thread works', async () => {
    const before = solvePool().stats.started;
    const e = await expectCode(
      HighsAdapter.solve(longMip(), { timeLimit: -1 }),
      'ARGUMENT_INVALID'
    );
    expect(e.data['option']).toBe('timeLimit');
    await expectCode(HighsAdapter.solve(longMip(), {}, { signal: AbortSignal.abort() }), 'ABORTED');
    expect(solvePool().stats.started).toBe(before);
  });
});
