/**
 * Recorded solves that run in the solve pool (HighsAdapter): an abort mid-solve ends the solve as
 * `interrupted` within 100 ms; a run closed while its solve runs stops the solve instead of
 * waiting for it; failed and interrupted solves keep their start, end and duration as finished
 * ones do (solvesDf, SolveView), without touching the instance read back; solves under
 * `Promise.all` run side by side while timers keep ticking.
 */
import { availableParallelism } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { Instance } from '../../src/ommx/instance.js';
import type { Solution } from '../../src/ommx/solution.js';
import { HighsAdapter } from '../../src/solve/adapters/highs.js';
import { solvePool } from '../../src/solve/worker-pool.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { knapsack } from '../helpers/ommx.js';
import { tempDir } from '../helpers/temp.js';
import { marketSplitData } from '../solve/market-split.mjs';

beforeAll(() => requireBuilt());

/** Seconds to minutes for HiGHS: only an abort or a time limit ends it here. */
const longMip = (): Instance => new Instance(marketSplitData(4, 1));

/** The knapsack with a second capacity row no point meets: HiGHS proves it infeasible. */
function infeasible(): Instance {
  const k = knapsack();
  const row = k.constraints[0]!;
  return new Instance({
    ...k,
    constraints: [
      row,
      {
        ...row,
        id: 1,
        function: { kind: 'linear', terms: [{ id: 0, coefficient: -1 }], constant: 2 },
      },
    ],
  });
}

async function newExperiment() {
  const registry = await LocalRegistry.open(await tempDir());
  return Experiment.create('ghcr.io/acme/pool:v1', { registry, handleSignals: false });
}

/** Milliseconds between two RFC 3339 times. */
const span = (start: string | undefined, end: string | undefined): number =>
  Date.parse(end!) - Date.parse(start!);

describe('solves in the worker pool, recorded', () => {
  it('an abort mid-solve ends the solve as interrupted within 100 ms, with its start, end and duration', async () => {
    const exp = await newExperiment();
    const controller = new AbortController();
    let abortedAt = 0;
    let latency = Number.NaN;
    const run = exp.startRun({ name: 'aborted' });
    const solving = run.logSolve(
      HighsAdapter,
      longMip(),
      { timeLimit: 60 },
      { signal: controller.signal }
    );
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 400);
    const e = await expectCode(
      solving.finally(() => (latency = performance.now() - abortedAt)),
      'ABORTED'
    );
    expect(latency).toBeLessThan(100);
    expect(e.message).toContain('was aborted after');
    // The run goes on: another solve, then it finishes.
    expect((await run.logSolve(HighsAdapter, knapsack())).objective).toBe(20);
    await run.finish();
    const sealed = await exp.commit();
    const [stopped, solved] = sealed.runs[0]!.solves;
    expect([stopped?.status, solved?.status]).toEqual(['interrupted', 'finished']);
    expect(stopped?.outputDescriptor).toBeUndefined();
    expect(span(stopped?.startedAt, stopped?.endedAt)).toBeGreaterThanOrEqual(350);
    expect(span(stopped?.startedAt, stopped?.endedAt)).toBeLessThan(1500);
    const df = await sealed.solvesDf();
    const row = df.get(0)!.toJSON();
    expect(row['status']).toBe('interrupted');
    expect(row['started_at']).toBe(stopped?.startedAt);
    expect(row['ended_at']).toBe(stopped?.endedAt);
    expect(row['duration_ms']).toBe(span(stopped?.startedAt, stopped?.endedAt));
  });

  it('a failed solve records its start, end and duration as a finished one does', async () => {
    const exp = await newExperiment();
    const input = infeasible();
    await exp
      .run(async (run) => {
        await run.logSolve(HighsAdapter, knapsack());
        await run.logSolve(HighsAdapter, input, { presolve: false });
      })
      .catch((e: unknown) => expect((e as { code?: unknown }).code).toBe('SOLVER_INFEASIBLE'));
    const sealed = await exp.commit();
    const [finished, failed] = sealed.runs[0]!.solves;
    expect([finished?.status, failed?.status]).toEqual(['finished', 'failed']);
    for (const s of [finished, failed]) {
      expect(s?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(span(s?.startedAt, s?.endedAt)).toBeGreaterThanOrEqual(0);
    }
    // A finished solve's times are its Solution's; a failed one's are on its input layer.
    const solution = (await finished!.getOutput()) as Solution;
    expect([finished?.startedAt, finished?.endedAt]).toEqual([
      solution.metadata?.start,
      solution.metadata?.end,
    ]);
    expect(failed?.inputDescriptor.annotations).toMatchObject({
      'io.runledger.call.start': failed?.startedAt,
      'io.runledger.call.end': failed?.endedAt,
    });
    // …and are not annotations of the instance read back.
    const back = await failed!.getInput();
    expect(back.annotations).toEqual({});
    expect(back.constraints).toEqual(input.constraints);
    const df = await sealed.solvesDf();
    for (const i of [0, 1]) {
      const row = df.get(i)!.toJSON();
      expect(row['started_at']).not.toBeNull();
      expect(row['ended_at']).not.toBeNull();
      expect(row['duration_ms']).toBeGreaterThanOrEqual(0);
    }
  });

  it('a run ended by its signal while a solve runs stops the solve instead of waiting for it', async () => {
    const exp = await newExperiment();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const started = performance.now();
    const caught = await exp
      .run((run) => run.logSolve(HighsAdapter, longMip(), { timeLimit: 60 }), {
        name: 'cut short',
        signal: controller.signal,
      })
      .catch((e: unknown) => e);
    // The run closed and checkpointed in well under the solve's minute.
    expect(performance.now() - started).toBeLessThan(3000);
    expect((caught as Error).name).toBe('AbortError');
    const run = exp.runs[0]!;
    expect([run.status, run.solves[0]?.status]).toEqual(['interrupted', 'interrupted']);
    expect(span(run.solves[0]?.startedAt, run.solves[0]?.endedAt)).toBeLessThan(1500);
  });

  it('a run that fails while another of its solves runs stops that solve too', async () => {
    const exp = await newExperiment();
    const started = performance.now();
    const caught = await exp
      .run(async (run) => {
        const long = run.logSolve(HighsAdapter, longMip(), { timeLimit: 60 });
        await new Promise((r) => setTimeout(r, 300));
        await run.logSolve(HighsAdapter, infeasible(), { presolve: false });
        await long;
      })
      .catch((e: unknown) => e);
    expect((caught as { code?: unknown }).code).toBe('SOLVER_INFEASIBLE');
    // Not the long solve's 60 s (the second solve's thread may take seconds to start beside a
    // busy one: see test/solve/highs-pool.test.ts).
    expect(performance.now() - started).toBeLessThan(10_000);
    const run = exp.runs[0]!;
    expect(run.status).toBe('failed');
    expect(run.solves.map((s) => s.status)).toEqual(['interrupted', 'failed']);
  });

  it.skipIf(availableParallelism() < 2)(
    'solves under Promise.all run side by side while timers keep ticking',
    async () => {
      // Every thread started and HiGHS compiled in it (see test/solve/highs-pool.test.ts).
      await Promise.all(
        Array.from({ length: solvePool().size }, () => HighsAdapter.solve(knapsack(), {}))
      );
      const exp = await newExperiment();
      const ticks: number[] = [];
      const timer = setInterval(() => ticks.push(Date.now()), 10);
      try {
        await exp.run((run) =>
          Promise.all(
            [1, 2, 3, 4].map((seed) =>
              run.logSolve(HighsAdapter, new Instance(marketSplitData(4, seed)), { timeLimit: 0.6 })
            )
          )
        );
      } finally {
        clearInterval(timer);
      }
      const times = exp.runs[0]!.solves.map((s) => [
        Date.parse(s.startedAt!),
        Date.parse(s.endedAt!),
      ]);
      // A solve holding the main thread would let no timer fire between its start and its end;
      // in the pool, ticks land inside every solve (wall-clock order, not a rate: load-proof).
      for (const [start, end] of times) {
        expect(
          ticks.some((t) => t > start! && t < end!),
          `a tick inside ${start}–${end}`
        ).toBe(true);
      }
      // On one thread no two solves overlap (each holds it to its end); this is wall-clock, so
      // it holds on a loaded machine too.
      const overlapping = times.some(([a0, a1], i) =>
        times.some(([b0, b1], j) => i !== j && a0! < b1! && b0! < a1!)
      );
      expect(overlapping).toBe(true);
    }
  );
});
