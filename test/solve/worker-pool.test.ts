/**
 * The solve pool: worker functions (test/solve/spin-thread.mjs, plain JavaScript as a third-party
 * adapter would ship) run in worker threads while the event loop keeps ticking; an abort rejects
 * at once and replaces the thread; calls queue beyond the pool's size; errors, diagnostics and
 * outputs come back whole; idle threads never keep a process alive. Threads run the built package
 * (dist/), as they do under vitest.
 */
import { availableParallelism } from 'node:os';
import { threadId } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPlain } from '../../src/ommx/instance.js';
import { SampleSet } from '../../src/ommx/sample-set.js';
import { Solution } from '../../src/ommx/solution.js';
import type { WorkerEntry } from '../../src/solve/adapter.js';
import { solvePool, WorkerPool } from '../../src/solve/worker-pool.js';
import { runnableModule } from '../../src/store/threads.js';
import { sampleInWorker, solveInWorker } from '../../src/solve/worker-solve.js';
import { requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { expectCode } from '../helpers/expect-code.js';
import { knapsack } from '../helpers/ommx.js';

const SPIN = new URL('./spin-thread.mjs', import.meta.url);
const entry = (name: string): WorkerEntry => ({ module: SPIN, export: name });

beforeAll(() => requireBuilt());

/** A call for a pool used directly. */
function call(name: string, options: object, signal?: AbortSignal) {
  return {
    message: {
      kind: 'solve' as const,
      module: SPIN.href,
      export: name,
      instance: toPlain(knapsack()),
      options,
      diagnostics: false,
    },
    signal,
  };
}

/** The thread a spin Solution was made in. */
function threadOf(answer: Awaited<ReturnType<WorkerPool['run']>>): string {
  if (!answer.ok) throw answer.error;
  return (answer.output as { annotations: Record<string, string> }).annotations['threadId']!;
}

/** Resolves once `pool` runs a call. */
async function untilBusy(pool: WorkerPool): Promise<void> {
  while (pool.stats.busy === 0) await new Promise((r) => setTimeout(r, 5));
}

describe('solve pool', () => {
  it('runs a worker function in another thread while the event loop keeps ticking', async () => {
    let ticks = 0;
    let last = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 5);
    try {
      const solution = await solveInWorker(entry('spin'), knapsack(), { ms: 600 });
      expect(solution).toBeInstanceOf(Solution);
      expect(solution.annotations['threadId']).not.toBe(String(threadId));
      expect(solution.feasible).toBe(true);
    } finally {
      clearInterval(timer);
    }
    // On the main thread the spin would have held every tick back for 600 ms.
    expect(ticks).toBeGreaterThan(30);
    expect(longest).toBeLessThan(300);
  });

  it('aborting a running call rejects within 100 ms with ABORTED, and its thread is replaced', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const first = threadOf(await pool.run(call('spin', {})));
      const controller = new AbortController();
      const running = pool.run(call('spin', { ms: 30_000 }, controller.signal));
      await untilBusy(pool);
      await new Promise((r) => setTimeout(r, 100));
      const abortedAt = performance.now();
      controller.abort(new Error('enough'));
      const e = await expectCode(running, 'ABORTED');
      expect(performance.now() - abortedAt).toBeLessThan(100);
      expect(e.message).toMatch(
        /^The call to spin \(solve\/spin-thread\.mjs\) was aborted after \d+ ms/
      );
      expect((e.cause as Error).message).toBe('enough');
      expect(pool.stats).toMatchObject({ threads: 0, busy: 0, terminated: 1, started: 1 });
      const next = threadOf(await pool.run(call('spin', {})));
      expect(next).not.toBe(first);
      expect(pool.stats).toMatchObject({ threads: 1, started: 2, terminated: 1 });
    } finally {
      await pool.close();
    }
  });

  it('a call waiting for a thread is aborted without touching the running one', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const running = pool.run(call('spin', { ms: 400 }));
      const controller = new AbortController();
      const waiting = pool.run(call('spin', {}, controller.signal));
      expect(pool.stats.queued).toBe(1);
      controller.abort();
      const e = await expectCode(waiting, 'ABORTED');
      expect(e.message).toContain('aborted before it started');
      expect((await running).ok).toBe(true);
      expect(pool.stats).toMatchObject({ terminated: 0, started: 1, queued: 0 });
      // An aborted signal is refused before anything is queued.
      await expectCode(pool.run(call('spin', {}, AbortSignal.abort())), 'ABORTED');
    } finally {
      await pool.close();
    }
  });

  it('queues calls beyond its size and runs them in order, reusing its threads', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const done: number[] = [];
      const answers = await Promise.all(
        [0, 1, 2, 3].map((i) => pool.run(call('spin', { ms: 50 })).then((a) => (done.push(i), a)))
      );
      expect(done).toEqual([0, 1, 2, 3]);
      expect(new Set(answers.map(threadOf)).size).toBe(1);
      expect(pool.stats).toMatchObject({ threads: 1, started: 1 });
    } finally {
      await pool.close();
    }
  });

  it.skipIf(availableParallelism() < 2)(
    'runs calls in parallel, one thread per core (the shared pool)',
    async () => {
      expect(solvePool().size).toBe(availableParallelism());
      const [a, b] = await Promise.all([
        solveInWorker(entry('spin'), knapsack(), { ms: 1000 }),
        solveInWorker(entry('spin'), knapsack(), { ms: 1000 }),
      ]);
      expect(a.annotations['threadId']).not.toBe(b.annotations['threadId']);
      // The two spins overlapped in time (wall clock: true on a loaded machine too); one after the
      // other, as on one thread, they cannot.
      const [a0, a1, b0, b1] = [a, b].flatMap((s) => [
        s.annotations['start'],
        s.annotations['end'],
      ]);
      expect(Number(a0) < Number(b1) && Number(b0) < Number(a1)).toBe(true);
    }
  );

  it("revives the function's errors and keeps the diagnostics it recorded before failing", async () => {
    const reports: unknown[] = [];
    const diagnostics = { record: (r: Readonly<Record<string, unknown>>) => void reports.push(r) };
    const e = await expectCode(
      solveInWorker(entry('fail'), knapsack(), {}, { diagnostics }),
      'SOLVER_INFEASIBLE'
    );
    expect(e.message).toBe('The spin solver proved it infeasible.');
    expect(e.data).toEqual({ why: 'test', nested: { at: [1, 2] } });
    expect(e.stack).toContain('spin-thread.mjs');
    expect(reports).toEqual([{ kind: 'before-failure' }]);
    const plain = (await solveInWorker(entry('fail'), knapsack(), { plain: true }).catch(
      (x: unknown) => x
    )) as Error;
    expect([plain.name, plain.message]).toEqual(['TypeError', 'plain failure']);
  });

  it('relays diagnostics and returns SampleSets from sampler functions', async () => {
    const reports: unknown[] = [];
    await solveInWorker(
      entry('spin'),
      knapsack(),
      {},
      { diagnostics: { record: (r) => void reports.push(r) } }
    );
    expect(reports).toEqual([{ kind: 'spin', threadId: expect.any(Number) }]);
    const samples = await sampleInWorker(entry('sample'), knapsack(), {});
    expect(samples).toBeInstanceOf(SampleSet);
    expect([...samples.feasible.keys()]).toEqual([0, 1]);
  });

  it('ADAPTER_INVALID for a module or function it cannot use, or an output of the wrong kind', async () => {
    const missing = new URL('./no-such-module.mjs', import.meta.url);
    await expectCode(
      solveInWorker({ module: missing, export: 'x' }, knapsack(), {}),
      'ADAPTER_INVALID'
    );
    for (const name of ['noSuchExport', 'notAFunction']) {
      const e = await expectCode(solveInWorker(entry(name), knapsack(), {}), 'ADAPTER_INVALID');
      expect(e.message).toContain(`exports no function named "${name}"`);
    }
    const e = await expectCode(
      solveInWorker(entry('wrongOutput'), knapsack(), {}),
      'ADAPTER_INVALID'
    );
    expect(e.message).toContain('returned number, not a Solution');
    await expectCode(sampleInWorker(entry('spin'), knapsack(), {}), 'ADAPTER_INVALID');
  });

  it('SOLVER_FAILED when the thread dies, and the pool goes on', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const e = await expectCode(pool.run(call('exit', {})), 'SOLVER_FAILED');
      expect(e.message).toBe(
        'The worker thread running exit (solve/spin-thread.mjs) exited with code 3 before answering.'
      );
      expect((await pool.run(call('spin', {}))).ok).toBe(true);
      expect(pool.stats).toMatchObject({ threads: 1, started: 2 });
    } finally {
      await pool.close();
    }
  });

  it('a closed pool rejects what it was running or holding', async () => {
    const pool = new WorkerPool({ size: 1 });
    const running = pool.run(call('spin', { ms: 30_000 }));
    const waiting = pool.run(call('spin', {}));
    await untilBusy(pool);
    const rejected = [expectCode(running, 'ABORTED'), expectCode(waiting, 'ABORTED')];
    await pool.close();
    await Promise.all(rejected);
    expect(pool.stats.threads).toBe(0);
  });

  it('refuses a size that is not a positive integer', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      expect(() => new WorkerPool({ size })).toThrow(/positive integer/);
    }
  });

  it('idle threads do not keep a process alive', async () => {
    const url = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
    const script = `
      const { solveInWorker } = await import(${url('../../dist/src/solve/worker-solve.js')});
      const { Instance } = await import(${url('../../dist/src/ommx/instance.js')});
      const { marketSplitData } = await import(${url('./market-split.mjs')});
      const entry = { module: ${JSON.stringify(SPIN.href)}, export: 'spin' };
      const s = await solveInWorker(entry, new Instance(marketSplitData(3, 1)), {});
      process.stdout.write('solved ' + s.constructor.name + '\\n');
    `;
    const child = startNode(['--input-type=module', '-e', script]);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const exit = await child.exited.finally(() => clearTimeout(timer));
    expect(exit.stderr).toBe('');
    // Killed after 15 s (signal SIGKILL) if an idle thread held the process.
    expect([exit.code, exit.signal, exit.stdout]).toEqual([0, null, 'solved Solution\n']);
  });

  it("maps runledger's own sources to their compiled copies; other modules load as they are", async () => {
    const source = new URL('../../src/solve/highs/thread.js', import.meta.url);
    expect(runnableModule(source).href).toBe(
      new URL('../../dist/src/solve/highs/thread.js', import.meta.url).href
    );
    expect(runnableModule(SPIN).href).toBe(SPIN.href);
    await expectCode(
      async () => runnableModule(new URL('../../src/solve/no-such-file.js', import.meta.url)),
      'DEPENDENCY_MISSING'
    );
  });
});
