/**
 * Parallel sweeps: `grid` and seeded `random`, `Experiment.sweep` (bounded concurrency, results
 * in config order, a throwing trial is a failed run, failFast), shards from options and from the
 * environment of Slurm and Kubernetes, and the progress observers see.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import type { SweepEvent } from '../../src/experiment/logger.js';
import {
  grid,
  parseShard,
  random,
  shardFromEnv,
  shardReference,
  type SweepConfig,
} from '../../src/experiment/sweep.js';
import { ConsoleLogger } from '../../src/loggers/console.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

async function experiment(reference = 'ghcr.io/acme/sweep:grid-1') {
  const registry = await LocalRegistry.open(await tempDir());
  return Experiment.create(reference, { registry, journal: false, handleSignals: false });
}

/** Resolves when `n` waiters are in, or when told to give up waiting for more. */
function barrier(n: number) {
  let inside = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    async enter(): Promise<void> {
      if (++inside >= n) open();
      await opened;
    },
    release: () => open(),
  };
}

describe('grid and random', () => {
  it('grid gives every combination, the first axis slowest', () => {
    expect(grid({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
    expect(grid({})).toEqual([{}]);
    expectError(() => grid({ a: [] }), 'ARGUMENT_INVALID');
    expectError(() => grid({ a: [Number.NaN] }), 'ARGUMENT_INVALID');
  });

  it('random is seeded: the same seed, the same configs; every value in its range', () => {
    const space = {
      lr: { min: 1e-4, max: 1e-1, log: true },
      depth: { min: 2, max: 5, integer: true },
      x: { min: -1, max: 1 },
      solver: ['highs', 'glpk'],
    } as const;
    const a = random(space, 200, 42);
    expect(random(space, 200, 42)).toEqual(a);
    expect(random(space, 200, 43)).not.toEqual(a);
    // The values do not depend on the platform: pinned.
    expect(a[0]).toEqual(random(space, 1, 42)[0]);
    for (const c of a) {
      expect(c['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(c['lr']).toBeLessThan(1e-1);
      expect([2, 3, 4, 5]).toContain(c['depth']);
      expect(c['x']).toBeGreaterThanOrEqual(-1);
      expect(c['x']).toBeLessThan(1);
      expect(['highs', 'glpk']).toContain(c['solver']);
    }
    // Every integer and both choices come up in 200 draws; log-uniform puts about a third of
    // the draws in each decade.
    expect(new Set(a.map((c) => c['depth']))).toEqual(new Set([2, 3, 4, 5]));
    expect(new Set(a.map((c) => c['solver']))).toEqual(new Set(['highs', 'glpk']));
    const lowDecade = a.filter((c) => (c['lr'] as number) < 1e-3).length;
    expect(lowDecade).toBeGreaterThan(40);
    expect(lowDecade).toBeLessThan(95);
    expectError(() => random({ lr: { min: 0, max: 1, log: true } }, 1, 1), 'ARGUMENT_INVALID');
    expectError(() => random({ k: [] }, 1, 1), 'ARGUMENT_INVALID');
    expectError(() => random({ k: [1] }, -1, 1), 'ARGUMENT_INVALID');
    expectError(() => random({ k: [1] }, 1, 0.5), 'ARGUMENT_INVALID');
  });
});

describe('Experiment.sweep', () => {
  it('runs one run per config, at most `concurrency` at once, results in config order', async () => {
    const exp = await experiment();
    const configs = grid({ lr: [0.1, 0.01, 0.001], seed: [1, 2] });
    let running = 0;
    let most = 0;
    const gate = barrier(3);
    const results = await exp.sweep(
      configs,
      async (run, c) => {
        running++;
        most = Math.max(most, running);
        // The first three wait until three are in: they can only all be in at once.
        if (run.runId < 3) await gate.enter();
        running--;
        return `${String(c['lr'])}/${String(c['seed'])}`;
      },
      { concurrency: 3 }
    );
    expect(most).toBe(3);
    expect(results.map((r) => [r.index, r.status, r.value])).toEqual(
      configs.map((c, i) => [i, 'finished', `${String(c['lr'])}/${String(c['seed'])}`])
    );
    const sealed = await exp.commit();
    expect(sealed.runs).toHaveLength(6);
    for (const r of results) {
      const run = sealed.runs.find((x) => x.runId === r.runId);
      // Whole numbers come back as int64 (bigint), as every logged parameter does.
      const c = configs[r.index] as SweepConfig;
      expect(run?.parameters).toEqual({ lr: c['lr'], seed: BigInt(c['seed'] as number) });
      expect((await run?.getInfo())?.attributes).toEqual({ 'sweep.index': r.index });
    }
    expect(sealed.annotations['org.runledger.sweep.configs']).toBe('6');
  });

  it('a throwing trial is a failed run, and the others go on', async () => {
    const exp = await experiment();
    const results = await exp.sweep(
      grid({ k: [0, 1, 2, 3] }),
      (run, c) => {
        if (c['k'] === 2) throw new Error('trial 2 broke');
        run.logMetric('loss', Number(c['k']));
        return Number(c['k']) * 10;
      },
      { concurrency: 2 }
    );
    expect(results.map((r) => r.status)).toEqual(['finished', 'finished', 'failed', 'finished']);
    expect((results[2]?.error as Error).message).toBe('trial 2 broke');
    expect(results.map((r) => r.value)).toEqual([0, 10, undefined, 30]);
    const sealed = await exp.commit();
    const failed = sealed.runs.find((r) => r.runId === results[2]?.runId);
    expect(failed?.status).toBe('failed');
    expect(failed?.reason).toBe('Error: trial 2 broke');
    expect(sealed.runs.filter((r) => r.status === 'finished')).toHaveLength(3);
  });

  it('failFast: no trial starts after a failure, and the failure is thrown', async () => {
    const exp = await experiment();
    const started: number[] = [];
    const error = await exp
      .sweep(
        grid({ k: [0, 1, 2, 3, 4] }),
        (_run, c) => {
          started.push(Number(c['k']));
          if (c['k'] === 1) throw new Error('stop here');
        },
        { concurrency: 1, failFast: true }
      )
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('stop here');
    expect(started).toEqual([0, 1]);
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => r.status)).toEqual(['finished', 'failed']);
  });

  it('a shard records its slice, under <tag>-shard-<i>-of-<n>', async () => {
    const exp = await experiment('ghcr.io/acme/sweep:grid-1');
    const configs = grid({ k: [0, 1, 2, 3, 4, 5, 6] });
    const results = await exp.sweep(configs, (run) => run.runId, { shard: '1/3' });
    expect(results.map((r) => r.index)).toEqual([1, 4]);
    expect(exp.reference).toBe('ghcr.io/acme/sweep:grid-1-shard-1-of-3');
    const sealed = await exp.commit();
    expect(sealed.reference).toBe('ghcr.io/acme/sweep:grid-1-shard-1-of-3');
    expect(sealed.annotations['org.runledger.sweep.shard']).toBe('1/3');
    expect(sealed.runs.map((r) => r.parameters['k'])).toEqual([1n, 4n]);
  });

  it('takes the shard from a Slurm job array or a Kubernetes Indexed Job', async () => {
    const slurm = {
      SLURM_ARRAY_TASK_ID: '3',
      SLURM_ARRAY_TASK_COUNT: '4',
      SLURM_ARRAY_TASK_MIN: '1',
    };
    expect(shardFromEnv(slurm)).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', RUNLEDGER_SHARD_COUNT: '2' })).toEqual({
      index: 0,
      count: 2,
    });
    expect(shardFromEnv({ RUNLEDGER_SHARD: '5/8', SLURM_ARRAY_TASK_ID: '1' })).toEqual({
      index: 5,
      count: 8,
    });
    expect(shardFromEnv({})).toBeUndefined();
    const k8s = expectError(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' }), 'ARGUMENT_INVALID');
    expect(k8s.message).toContain('RUNLEDGER_SHARD_COUNT');
    expectError(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1' }), 'ARGUMENT_INVALID');
    expectError(() => parseShard('3/3'), 'ARGUMENT_INVALID');
    expectError(() => parseShard('a/b'), 'ARGUMENT_INVALID');
    expect(shardReference('ghcr.io/a/b:t', { index: 0, count: 2 })).toBe(
      'ghcr.io/a/b:t-shard-0-of-2'
    );

    const exp = await experiment('ghcr.io/acme/sweep:env');
    const env = { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' };
    const results = await exp.sweep(grid({ k: [0, 1, 2, 3] }), () => 0, { env });
    expect(results.map((r) => r.index)).toEqual([1, 3]);
    expect(exp.reference).toBe('ghcr.io/acme/sweep:env-shard-1-of-2');
    // shard: false runs everything, whatever the environment says.
    const all = await experiment('ghcr.io/acme/sweep:all');
    expect((await all.sweep(grid({ k: [0, 1] }), () => 0, { env, shard: false })).length).toBe(2);
    expect(all.reference).toBe('ghcr.io/acme/sweep:all');
  });

  it('refuses to shard an experiment without a shared tag', async () => {
    const exp = await experiment('ghcr.io/acme/sweep');
    const e = await expectCode(
      exp.sweep(grid({ k: [0] }), () => 0, { shard: '0/2' }),
      'ARGUMENT_INVALID'
    );
    expect(e.message).toContain('ghcr.io/acme/sweep:sweep-1');
    await expectCode(
      exp.sweep([], () => 0, { concurrency: 0 }),
      'ARGUMENT_INVALID'
    );
    await expectCode(
      exp.sweep([], () => 0, { bogus: 1 } as never),
      'ARGUMENT_INVALID'
    );
  });

  it('reports progress to observers, and the console logger prints the end', async () => {
    const exp = await experiment();
    const events: SweepEvent[] = [];
    exp.observe({ onSweep: (e) => void events.push(e) });
    let text = '';
    const screen = new ConsoleLogger({ stream: { write: (t: string) => (text += t) } });
    exp.observe(screen);
    const configs: SweepConfig[] = grid({ k: [0, 1, 2] });
    await exp.sweep(
      configs,
      (_run, c) => {
        if (c['k'] === 1) throw new Error('no');
      },
      { concurrency: 1 }
    );
    screen.close();
    // Before and after each trial, one at a time.
    expect(events.map((e) => [e.done, e.running, e.failed])).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [1, 1, 0],
      [2, 0, 1],
      [2, 1, 1],
      [3, 0, 1],
    ]);
    expect(events.every((e) => e.total === 3 && e.experiment === exp.reference)).toBe(true);
    expect(text.trimEnd().split('\n').at(-1)).toBe('sweep done: 3 trials, 1 failed');
  });
});
