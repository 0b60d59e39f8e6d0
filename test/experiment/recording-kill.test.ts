/**
 * Recording at full speed with the default durability — small blobs published at once and
 * flushed in groups (one `syncfs` for many, within a second), background checkpoints written from
 * parts serialized once — killed with SIGKILL, SIGINT or SIGTERM at random moments while
 * `runledger gc --delete --grace 0s` (and the same collection in this process) runs beside it:
 * every run whose close was acknowledged comes back whole, the store stays valid (fsck clean),
 * and what the killed process left (journal, session, temp files) is consumed by the restore and
 * gc.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { journalDir } from '../../src/experiment/journal-format.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { runCli, startNode } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('./children/recording-child.mjs', import.meta.url));
const NAME = 'ghcr.io/acme/fast:v1';
const SIGNALS = ['SIGKILL', 'SIGKILL', 'SIGINT', 'SIGTERM'] as const;

beforeAll(() => requireBuilt());

/** `p`, or a failure naming the step that hung (instead of the suite's time-out saying nothing). */
function within<T>(p: Promise<T>, what: () => string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} did not end within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A small deterministic generator (the seed is printed with every failure). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('recording at full speed, killed at random moments with gc beside it', () => {
  const ITERATIONS = 8;
  const seed = Number(process.env['RUNLEDGER_CRASH_SEED'] ?? 20261207);

  it(`${ITERATIONS} kills: every acknowledged close comes back whole; fsck clean; nothing left behind (seed ${seed})`, async () => {
    const random = lcg(seed);
    let closes = 0;
    let gcDeleted = 0;
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const root = await tempDir();
      const where = `iteration ${iteration} (seed ${seed})`;
      // Every other iteration, the blob writer flushes the file system after each group (as it
      // does when creating files is slow), so that the flush is killed at random moments too.
      const flushEveryGroup = iteration % 2 === 1 ? { RUNLEDGER_TEST_FLUSH_EVERY_GROUP: '1' } : {};
      const child = startNode([CHILD, DIST_INDEX, NAME], {
        RUNLEDGER_HOME: root,
        ...flushEveryGroup,
      });
      await child.waitFor('ready');
      const gcRegistry = await LocalRegistry.open(root);
      let stop = false;
      // Collections in this process, and `runledger gc --delete --grace 0s` as a user runs it.
      const gcLoop = (async () => {
        while (!stop) {
          gcDeleted += (await gcRegistry.gc({ delete: true, gracePeriod: 0 })).deleted.count;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const cliLoop = (async () => {
        const failures: string[] = [];
        while (!stop) {
          const r = await runCli(['gc', '--delete', '--grace', '0s', '--root', root]);
          if (r.code !== 0) failures.push(r.stderr);
        }
        return failures;
      })();
      // Past the first grouped flush and background checkpoints, or well before them.
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 2300)));
      const kill = SIGNALS[Math.floor(random() * SIGNALS.length)]!;
      child.kill(kill);
      const { code, signal, stderr } = await within(
        child.exited,
        () => `${where}: exit after ${kill} (last lines: ${child.lines().slice(-3).join(' | ')})`
      ).catch(async (e: unknown) => {
        child.kill('SIGKILL');
        await child.exited;
        throw e;
      });
      stop = true;
      await gcLoop;
      expect(await cliLoop, where).toEqual([]);
      expect(stderr, where).toBe('');
      // A run open: the handler checkpoints and exits; between runs the default action applies.
      if (signal === null) expect(code, where).toBe(kill === 'SIGINT' ? 130 : 143);
      else expect(signal, where).toBe(kill);

      const acked = child
        .lines()
        .filter((l) => l.startsWith('C '))
        .map((l) => Number(l.slice(2)));
      const registry = await LocalRegistry.open(root);
      const exp = await within(
        Experiment.restoreFromCheckpoint(NAME, {
          registry,
          handleSignals: false,
          journal: false,
        }),
        () => `${where}: restore`
      ).catch((e: unknown) => {
        if (acked.length > 0) throw e;
        return undefined; // killed before anything was recorded
      });
      if (exp === undefined) continue;
      const runs = exp.runs;
      expect(
        runs.map((r) => r.runId),
        where
      ).toEqual(runs.map((_, k) => k));
      const byId = new Map(runs.map((r) => [r.runId, r]));
      let interrupted = 0;
      for (const i of acked) {
        const run = byId.get(i);
        const w = `${where}, run ${i}`;
        // `exp.run` resolves once its callback returned and the run is closed — by the signal
        // handler, as interrupted, when the signal came while the callback awaited a write.
        if (run?.status === 'interrupted') {
          expect([kill, run.reason], w).toEqual([kill === 'SIGKILL' ? '(none)' : kill, kill]);
          interrupted++;
        } else expect(run?.status, w).toBe('finished');
        expect(run?.parameters, w).toEqual(
          Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`p${k}`, BigInt(i * 10 + k)]))
        );
        expect(await run?.getJson('result'), w).toEqual({ i });
        expect(await run?.getJson('shared'), w).toEqual({ group: i % 7 });
        if (i % 25 === 0) expect((await run?.getText('big'))?.length, w).toBe(100 * 1024);
        closes++;
      }
      expect(interrupted, where).toBeLessThanOrEqual(1);
      const sealed = await within(exp.commit(), () => `${where}: commit`);
      expect(sealed.runs.length, where).toBe(runs.length);
      const report = await registry.fsck();
      expect(report.problems, where).toEqual([]);
      // The journal was consumed; gc takes what the dead process left: temp files, its session,
      // superseded checkpoints.
      expect(await readdir(journalDir(registry)), where).toEqual([]);
      await registry.gc({ delete: true, gracePeriod: 0 });
      expect(await readdir(join(root, '.runledger', 'tmp')), where).toEqual([]);
      expect(await readdir(join(root, '.runledger', 'sessions')), where).toEqual([]);
      expect((await registry.fsck()).ok, where).toBe(true);
    }
    expect(closes).toBeGreaterThan(ITERATIONS * 20);
    expect(gcDeleted).toBeGreaterThan(0);
  }, 300_000);
});
