/**
 * Signals and crashes, with real child processes running the built package: SIGINT / SIGTERM
 * close open runs as interrupted and checkpoint them (exit 130 / 143); a process killed with
 * SIGKILL at random moments loses nothing its journal acknowledged. Also the journal's frame
 * format (torn tails, damaged frames) in-process.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { AutosavePolicy, listExperimentCheckpoints } from '../../src/experiment/checkpoint.js';
import {
  decodeValue,
  encodeValue,
  frame as frameParts,
  frames,
  journalDir,
  parseJournal,
  type JournalRecord,
} from '../../src/experiment/journal-format.js';
import { foldJournal } from '../../src/experiment/crash-journals.js';
import { MEDIA_TYPE_RUN, RUN_ATTACHMENT } from '../../src/experiment/run-record.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { isRunledgerError } from '../../src/errors.js';
import type { Solution } from '../../src/ommx/solution.js';
import type { Run } from '../../src/experiment/run.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../helpers/crash-child.mjs', import.meta.url));
const NAME = 'ghcr.io/acme/crash:v1';

interface Child {
  /** Resolves with the complete lines printed so far once `ready` was printed. */
  ready: Promise<void>;
  lines: () => string[];
  /** Resolves once a complete line equal to `line` was printed (or the child exited). */
  waitFor: (line: string) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill: (signal: NodeJS.Signals) => void;
}

function startChild(root: string, mode: string): Child {
  const child = spawn(process.execPath, [CHILD, DIST_INDEX, NAME, mode], {
    env: { ...process.env, RUNLEDGER_HOME: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const waiting: { line: string; resolve: () => void }[] = [];
  const check = (): void => {
    const lines = out.split('\n').slice(0, -1);
    for (const w of waiting.splice(0)) {
      if (lines.includes(w.line)) w.resolve();
      else waiting.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr: err })));
  exited.then(() => {
    // a child that dies before `ready` (or a line waited for) must not hang the test
    onReady();
    for (const w of waiting.splice(0)) w.resolve();
  });
  return {
    ready,
    waitFor: (line) =>
      new Promise<void>((resolve) => {
        waiting.push({ line, resolve });
        check();
      }),
    // Only complete lines: a line is printed after its write returned.
    lines: () => out.split('\n').slice(0, -1),
    exited,
    kill: (signal) => child.kill(signal),
  };
}

beforeAll(() => requireBuilt());

/** `p`, or a failure naming the step that hung (instead of the suite's time-out saying nothing). */
function within<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('signals (child process)', () => {
  it('SIGINT closes the open runs as interrupted, writes an interrupted checkpoint and exits 130', async () => {
    const root = await tempDir();
    const child = startChild(root, 'signal');
    await child.ready;
    child.kill('SIGINT');
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(130);
    const registry = await LocalRegistry.open(root);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect([cp!.requestedImageName, cp!.status, cp!.reason, cp!.runCount]).toEqual([
      NAME,
      'interrupted',
      'SIGINT',
      3,
    ]);
    // The journal was folded into that checkpoint and removed.
    expect(await readdir(journalDir(registry)).catch(() => [])).toEqual([]);
    const exp = await Experiment.restoreFromCheckpoint(NAME, { registry, handleSignals: false });
    expect(exp.runs.map((r) => [r.runId, r.status, r.reason, r.parameters])).toEqual([
      [0, 'finished', undefined, { seed: 1n }],
      [1, 'interrupted', 'SIGINT', { seed: 2n }],
      [2, 'interrupted', 'SIGINT', { seed: 3n }],
    ]);
    expect(await exp.runs[2]!.getInfo()).toMatchObject({ name: 'inner', parentRunId: 1 });
    expect(Array.from((await exp.runs[1]!.getMetric('gap')).values)).toEqual([0.5]);
    const sealed = await exp.commit();
    expect(sealed.runs.length).toBe(3);
    expect((await registry.fsck()).ok).toBe(true);
  });

  it('SIGTERM does the same and exits 143', async () => {
    const root = await tempDir();
    const child = startChild(root, 'signal');
    await child.ready;
    child.kill('SIGTERM');
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(143);
    const registry = await LocalRegistry.open(root);
    const cps = await listExperimentCheckpoints({ registry });
    expect(cps.map((c) => [c.status, c.reason, c.runCount])).toEqual([
      ['interrupted', 'SIGTERM', 3],
    ]);
  });

  it('handleSignals: false leaves the signal its default action (no interrupted checkpoint)', async () => {
    const root = await tempDir();
    const child = startChild(root, 'signal-off');
    await child.ready;
    child.kill('SIGINT');
    const { code, signal } = await child.exited;
    expect([code, signal]).toEqual([null, 'SIGINT']);
    const registry = await LocalRegistry.open(root);
    expect(await listExperimentCheckpoints({ registry, statuses: ['interrupted'] })).toEqual([]);
  });
});

/** A small deterministic generator, so a failing iteration can be replayed from its seed. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('crash recovery (SIGKILL at random moments)', () => {
  const ITERATIONS = 30;
  const seed = Number(process.env['RUNLEDGER_CRASH_SEED'] ?? 20261124);

  it(`${ITERATIONS} kills: every acknowledged write comes back, closed runs finished, open runs interrupted; fsck-clean (seed ${seed})`, async () => {
    const random = lcg(seed);
    const seen = { closed: 0, interrupted: 0 };
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const root = await tempDir();
      const child = startChild(root, 'loop');
      await child.ready;
      await new Promise((r) => setTimeout(r, 20 + Math.floor(random() * 400)));
      child.kill('SIGKILL');
      const { signal, stderr } = await child.exited;
      const where = `iteration ${iteration} (seed ${seed})`;
      expect(stderr, where).toBe('');
      expect(signal, where).toBe('SIGKILL');

      // What the child acknowledged: each line was printed after its write returned.
      const acked = { params: new Map<number, Set<number>>(), points: new Map<number, number>() };
      const closedAcked = new Set<number>();
      const attachmentAcked = new Set<number>();
      let last = -1;
      for (const line of child.lines().slice(1)) {
        const [kind, a, b] = line.split(' ');
        const i = Number(a);
        last = Math.max(last, i);
        if (kind === 'P') {
          const set = acked.params.get(i) ?? new Set<number>();
          set.add(Number(b));
          acked.params.set(i, set);
        } else if (kind === 'M') acked.points.set(i, Number(b) + 1);
        else if (kind === 'A') attachmentAcked.add(i);
        else if (kind === 'C') closedAcked.add(i);
      }

      const registry = await LocalRegistry.open(root);
      if (last === -1) {
        // Killed before its first write returned: there may be nothing to restore at all.
        const restored = await Experiment.restoreFromCheckpoint(NAME, {
          registry,
          handleSignals: false,
          journal: false,
        }).catch((e: unknown) => {
          expect(isRunledgerError(e, 'CHECKPOINT_NOT_FOUND'), where).toBe(true);
          return undefined;
        });
        expect(restored?.runs.length ?? 0, where).toBeLessThanOrEqual(1);
        expect((await registry.fsck()).ok, where).toBe(true);
        continue;
      }
      const exp = await Experiment.restoreFromCheckpoint(NAME, {
        registry,
        handleSignals: false,
        journal: false,
      });
      const runs = exp.runs;
      // Run ids are contiguous from 0; at most one run beyond the last acknowledged one (it may
      // have opened, journaled, and died before printing).
      expect(
        runs.map((r) => r.runId),
        where
      ).toEqual(runs.map((_, k) => k));
      expect(runs.length, where).toBeGreaterThanOrEqual(closedAcked.size);
      expect(runs.length, where).toBeLessThanOrEqual(last + 2);
      for (const run of runs) {
        const i = run.runId;
        const w = `${where}, run ${i}`;
        expect(['finished', 'interrupted'], w).toContain(run.status);
        if (closedAcked.has(i)) expect(run.status, w).toBe('finished');
        if (run.status === 'interrupted') {
          expect(run.reason, w).toBe('process ended');
          seen.interrupted++;
        } else seen.closed++;
        const info = await run.getInfo();
        expect([info.name, info.tags], w).toEqual([`r${i}`, { i: String(i) }]);
        // Every acknowledged parameter is there, and nothing is invented.
        for (const k of acked.params.get(i) ?? []) {
          expect(run.parameters[`p${k}`], w).toBe(BigInt(i * 10 + k));
        }
        for (const [name, value] of Object.entries(run.parameters)) {
          expect(value, `${w} ${name}`).toBe(BigInt(i * 10 + Number(name.slice(1))));
        }
        const m = await run.getMetric('m');
        expect(m.values.length, w).toBeGreaterThanOrEqual(acked.points.get(i) ?? 0);
        for (let s = 0; s < m.values.length; s++) {
          expect([m.steps[s], m.values[s]], w).toEqual([s, i + s / 10]);
        }
        if (attachmentAcked.has(i)) expect(await run.getJson('result'), w).toEqual({ i });
        if (run.status === 'finished') {
          expect(Object.keys(run.parameters).length, w).toBe(5);
          expect(m.values.length, w).toBe(5);
        }
      }
      expect((await registry.fsck()).ok, where).toBe(true);
      // The journal was consumed: a second restore finds exactly the checkpoint just written.
      expect(await readdir(journalDir(registry)), where).toEqual([]);
      const again = await Experiment.restoreFromCheckpoint(NAME, {
        registry,
        handleSignals: false,
        journal: false,
      });
      expect(
        again.runs.map((r) => [r.runId, r.status]),
        where
      ).toEqual(runs.map((r) => [r.runId, r.status]));
      const sealed = await again.commit();
      expect(sealed.runs.length, where).toBe(runs.length);
    }
    // The random moments did land both between and inside runs.
    expect(seen.closed).toBeGreaterThan(0);
    expect(seen.interrupted).toBeGreaterThan(0);
  }, 300_000);
});

describe('Ctrl-C during synchronous work (child process)', () => {
  it('a run whose callback was blocking the event loop when SIGINT came, and then returned, is in the interrupted checkpoint', async () => {
    const root = await tempDir();
    const child = startChild(root, 'sigint-sync');
    await child.waitFor('busy');
    child.kill('SIGINT'); // handled only once the callback returns and its close has begun
    const { code, stderr } = await child.exited;
    expect(stderr).toBe('');
    expect(code).toBe(130);
    const registry = await LocalRegistry.open(root);
    const [checkpoint] = await listExperimentCheckpoints({ registry });
    expect(checkpoint?.status).toBe('interrupted');
    const exp = await Experiment.restoreFromCheckpoint(NAME, {
      registry,
      handleSignals: false,
      journal: false,
    });
    expect(exp.runs.map((r) => [r.runId, r.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
    ]);
    expect(exp.runs[1]?.parameters).toEqual({ seed: 2n, done: true });
    expect((await registry.fsck()).ok).toBe(true);
  });
});

describe('crash recovery with the default durability (SIGKILL, SIGINT, SIGTERM at random moments, gc beside)', () => {
  const ITERATIONS = 30;
  /** Open-run writes older than this at a SIGKILL must be back (the write window is 100 ms). */
  const WINDOW_MS = 500;
  const seed = Number(process.env['RUNLEDGER_CRASH_SEED'] ?? 20261206);
  const SIGNALS = ['SIGKILL', 'SIGKILL', 'SIGINT', 'SIGTERM'] as const;

  it(`${ITERATIONS} kills: every acknowledged close, attachment and solve comes back whole, and open-run parameters older than the write window (seed ${seed})`, async () => {
    const random = lcg(seed);
    const seen = { closedAcked: 0, interrupted: 0, oldParams: 0, gcDeleted: 0 };
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const root = await tempDir();
      const child = startChild(root, 'default-loop');
      const where = `iteration ${iteration} (seed ${seed})`;
      await within(child.ready, `${where}: the child's ready`);
      // gc --delete --grace 0 runs beside the study the whole time: it must take nothing the
      // journal or the live process still needs.
      const gcRegistry = await LocalRegistry.open(root);
      let stop = false;
      const gcLoop = (async () => {
        while (!stop) {
          const report = await gcRegistry.gc({ delete: true, gracePeriod: 0 });
          seen.gcDeleted += report.deleted.count;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 1400)));
      const kill = SIGNALS[Math.floor(random() * SIGNALS.length)]!;
      const killedAt = Date.now();
      child.kill(kill);
      const { code, signal, stderr } = await within(
        child.exited,
        `${where}: exit after ${kill}`
      ).catch(async (e: unknown) => {
        // Say what the child was doing (its stderr) and do not leave it running.
        child.kill('SIGKILL');
        const { stderr: said } = await child.exited;
        throw new Error(`${(e as Error).message}; its stderr: ${said || '(empty)'}`);
      });
      stop = true;
      await within(gcLoop, `${where}: the gc beside it`);
      expect(stderr, `${where}, ${kill}`).toBe('');
      // With no run open (between a close and the next start) Node's default action applies:
      // the signal ends the process like a SIGKILL would. Else the handler checkpoints and exits.
      const handled = signal === null;
      if (handled) expect(code, where).toBe(kill === 'SIGINT' ? 130 : 143);
      else expect(signal, where).toBe(kill);

      const params = new Map<number, Map<number, number>>(); // run → k → acknowledged at
      const closed = new Set<number>();
      const attached = new Set<number>();
      const solved = new Set<number>();
      let last = -1;
      for (const line of child.lines().slice(1)) {
        const [kind, a, b, c] = line.split(' ');
        const i = Number(a);
        last = Math.max(last, i);
        if (kind === 'P') {
          const m = params.get(i) ?? new Map<number, number>();
          m.set(Number(b), Number(c));
          params.set(i, m);
        } else if (kind === 'A') attached.add(i);
        else if (kind === 'S') solved.add(i);
        else if (kind === 'C') closed.add(i);
      }
      const registry = await LocalRegistry.open(root);
      if (last === -1) continue; // killed before its first write returned
      const exp = await within(
        Experiment.restoreFromCheckpoint(NAME, {
          registry,
          handleSignals: false,
          journal: false,
        }),
        `${where}: restore`
      );
      const byId = new Map(exp.runs.map((r) => [r.runId, r]));
      for (const i of closed) {
        const run = byId.get(i);
        const w = `${where}, closed run ${i}`;
        expect(run?.status, w).toBe('finished');
        expect(run?.parameters, w).toEqual({
          p0: BigInt(i * 10),
          p1: BigInt(i * 10 + 1),
          p2: BigInt(i * 10 + 2),
        });
        expect([...((await run?.getMetric('m'))?.values ?? [])], w).toEqual([i]);
        expect((await run?.getInfo())?.name, w).toBe(`r${i}`);
        seen.closedAcked++;
      }
      for (const i of attached) {
        expect(await byId.get(i)?.getJson('result'), `${where}, attachment of run ${i}`).toEqual({
          i,
        });
      }
      for (const i of solved) {
        const solves = byId.get(i)?.solves ?? [];
        expect(solves.length, `${where}, solve of run ${i}`).toBe(1);
        const output = (await solves[0]?.getOutput()) as Solution | undefined;
        expect(output?.objective, `${where}, solve of run ${i}`).toBeCloseTo(12);
      }
      for (const [i, m] of params) {
        for (const [k, at] of m) {
          // A signal is handled: everything acknowledged is in its checkpoint, whatever its age.
          if (!handled && killedAt - at < WINDOW_MS) continue;
          const run = byId.get(i);
          const w = `${where}, run ${i} p${k} (acknowledged ${killedAt - at} ms before the kill)`;
          expect(run?.parameters[`p${k}`], w).toBe(BigInt(i * 10 + k));
          if (!closed.has(i)) seen.oldParams++;
        }
      }
      for (const run of exp.runs) if (run.status === 'interrupted') seen.interrupted++;
      expect((await registry.fsck()).ok, where).toBe(true);
      expect((await exp.commit()).runs.length, where).toBe(exp.runs.length);
    }
    expect(seen.closedAcked).toBeGreaterThan(0);
    expect(seen.interrupted).toBeGreaterThan(0);
    // gc was not idle: it collected superseded checkpoints while the studies ran.
    expect(seen.gcDeleted).toBeGreaterThan(0);
  }, 300_000);
});

describe('crash recovery, default durability', () => {
  it('a flush later (within a second) the open run, its attachment and solve, and the experiment attachment survive SIGKILL', async () => {
    const root = await tempDir();
    const child = startChild(root, 'batched');
    await child.ready;
    child.kill('SIGKILL');
    const { signal, stderr } = await child.exited;
    expect([signal, stderr]).toEqual(['SIGKILL', '']);
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.restoreFromCheckpoint(NAME, { registry, handleSignals: false });
    expect(exp.runs.map((r) => [r.runId, r.status, r.reason, r.parameters])).toEqual([
      [0, 'finished', undefined, { seed: 1n }],
      [1, 'interrupted', 'process ended', { seed: 2n }],
    ]);
    expect(await exp.runs[1]!.getText('log')).toBe('half way');
    const [solve] = exp.runs[1]!.solves;
    expect([solve?.status, solve?.adapter]).toEqual(['finished', expect.stringContaining('Highs')]);
    const output = (await solve!.getOutput()) as Solution;
    expect(output.objective).toBe(12);
    expect(Array.from((await exp.runs[1]!.getMetric('gap')).values)).toEqual([0.5]);
    expect(await exp.getJson('dataset')).toEqual({ n: 20 });
    await exp.commit();
    expect((await registry.fsck()).ok).toBe(true);
  });
});

describe('a failed scope keeps its journal while anything acknowledged is not in its checkpoint', () => {
  it('a run opened while the failed checkpoint is written survives in the journal', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create(NAME, { registry, handleSignals: false });
    const replaceRef = registry.replaceRef.bind(registry);
    let late: Run | undefined;
    let armed = false;
    registry.replaceRef = async (...args: Parameters<typeof replaceRef>) => {
      // Another task of the program logs while the scope's checkpoint is being published.
      if (armed && late === undefined) {
        late = exp.startRun({ name: 'late' });
        late.logParameter('x', 1);
      }
      return replaceRef(...args);
    };
    await expect(
      exp.use(async (e) => {
        await e.run((run) => run.logParameter('a', 1));
        await e.autosaveSettled(); // the autosave is not the scope's checkpoint
        armed = true;
        throw new Error('boom');
      })
    ).rejects.toThrow('boom');
    expect(late).toBeDefined();
    const journals = await readdir(journalDir(registry));
    expect(journals).toHaveLength(1);
    const again = await restoreCrashed(root);
    expect(again.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual([
      [0, 'finished', { a: 1n }],
      [1, 'interrupted', { x: 1n }],
    ]);
  });
});

describe('small blobs the journal carries (the default durability)', () => {
  const blobFile = (root: string, text: string): string =>
    join(root, 'blobs', 'sha256', createHash('sha256').update(text).digest('hex'));

  /** The `carried` child run to its SIGKILL; the open run's blob is not in the store yet. */
  async function killedBeforeTheWriter(): Promise<{ root: string; lost: string }> {
    const root = await tempDir();
    const child = startChild(root, 'carried');
    const { signal, stderr } = await within(child.exited, 'the carried child');
    expect([signal, stderr]).toEqual(['SIGKILL', '']);
    expect(child.lines()).toEqual(['C 0']);
    const lost = blobFile(root, '{"run":1}');
    // What this suite is about: the journal names a blob the store does not hold, with its bytes.
    await expect(readFile(lost)).rejects.toMatchObject({ code: 'ENOENT' });
    const registry = await LocalRegistry.open(root);
    const { path, bytes } = await ownJournal(registry);
    const atts = parseJournal(path, bytes)!.records.filter((r) => r.t === 'att');
    const base64 = (text: string): string => Buffer.from(text).toString('base64');
    expect(atts.map((r) => r.blobs?.map(([, bytes]) => bytes))).toEqual([
      [base64('{"run":0}')],
      [base64('{"run":1}')],
    ]);
    return { root, lost };
  }

  async function expectRestored(root: string): Promise<void> {
    const again = await restoreCrashed(root);
    expect(again.runs.map((r) => [r.runId, r.status])).toEqual([
      [0, 'finished'],
      [1, 'interrupted'],
    ]);
    expect(await again.runs[0]!.getJson('result')).toEqual({ run: 0 });
    expect(await again.runs[1]!.getJson('result')).toEqual({ run: 1 });
    const sealed = await again.commit();
    expect(await sealed.runs[1]!.getJson('result')).toEqual({ run: 1 });
    expect((await sealed.registry.fsck()).problems).toEqual([]);
  }

  it('a process killed before its background writer wrote a blob loses nothing: the restore writes it from the journal', async () => {
    const { root, lost } = await killedBeforeTheWriter();
    await expectRestored(root);
    expect(await readFile(lost, 'utf8')).toBe('{"run":1}');
  });

  it('a blob left empty under its name (a power loss after the link) is replaced from the journal', async () => {
    const { root, lost } = await killedBeforeTheWriter();
    await writeFile(lost, '');
    await expectRestored(root);
    expect(await readFile(lost, 'utf8')).toBe('{"run":1}');
  });
});

describe('restore after a power loss', () => {
  it('a journaled attachment whose blob did not reach the disk is left out with a warning; the rest is restored and commits', async () => {
    const { root, registry, exp } = await journalOnly();
    await exp.run(async (run) => {
      run.logParameter('x', 1);
      await run.logJson('keep', { k: 1 });
      await run.logText('lost', 'lost bytes');
    });
    const open = exp.startRun({ name: 'open' });
    await open.logText('lost-too', 'gone');
    // The journal as a dead process would have left it, minus two blobs the power loss took.
    const [file] = await readdir(journalDir(registry));
    const copy = join(journalDir(registry), 'crashed.journal');
    await writeFile(copy, await readFile(join(journalDir(registry), file!)));
    const digestOf = async (text: string): Promise<string> =>
      (await registry.putBlob(new TextEncoder().encode(text))).digest;
    const lostDigests = [await digestOf('lost bytes'), await digestOf('gone')];
    for (const d of lostDigests) await rm(join(root, 'blobs', 'sha256', d.slice(7)));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const again = await restoreCrashed(root);
      expect(again.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual([
        [0, 'finished', { x: 1n }],
        [1, 'interrupted', {}],
      ]);
      expect(again.runs[0]!.attachmentNames).toEqual(['keep']);
      expect(again.runs[1]!.attachmentNames).toEqual([]);
      expect(await again.runs[0]!.getJson('keep')).toEqual({ k: 1 });
      const sealed = await again.commit();
      expect(sealed.runs).toHaveLength(2);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('is not in the store'))).toHaveLength(2);
  });
});

describe('a journal an earlier version wrote', () => {
  it('restores a closed run whose record it names as a runledger.run attachment (no record in its close)', async () => {
    const { root, registry, exp } = await journalOnly();
    await exp.run(
      async (run) => {
        run.logParameter('x', 1);
        await run.logJson('keep', { k: 1 });
      },
      { name: 'today' }
    );
    // The same journal as a version before runledger.runs wrote it: the close names the record's
    // blob among the run's attachments, and carries no record of its own.
    const { path, bytes } = await ownJournal(registry);
    const parsed = parseJournal(path, bytes)!;
    const legacy = new TextEncoder().encode(
      '{"host":"then","name":"earlier","runledger":"0.1.0","tags":{"from":"old"}}'
    );
    const put = await registry.putBlob(legacy);
    const record = {
      name: RUN_ATTACHMENT,
      descriptor: { mediaType: MEDIA_TYPE_RUN, ...put, annotations: {} },
      mediaType: MEDIA_TYPE_RUN,
      compression: 'none' as const,
    };
    const closes = parsed.records.filter((r) => r.t === 'close');
    expect(closes).toHaveLength(1);
    expect(closes[0]).toHaveProperty('rec'); // today's close carries the record
    const old = parsed.records.map((r) => {
      if (r.t !== 'close') return r;
      const { rec: _dropped, ...rest } = r;
      return { ...rest, attachments: [...r.attachments, record] };
    });
    const headerLength = 8 + bytes.readUInt32LE(0);
    await writeFile(
      join(journalDir(registry), 'crashed.journal'),
      Buffer.concat([bytes.subarray(0, headerLength), frames(old)])
    );
    const again = await restoreCrashed(root);
    expect(again.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual([
      [0, 'finished', { x: 1n }],
    ]);
    expect(await again.runs[0]!.getInfo()).toMatchObject({
      name: 'earlier',
      tags: { from: 'old' },
    });
    expect(again.runs[0]!.attachmentNames).toEqual(['keep']);
    const sealed = await again.commit();
    expect(await sealed.runs[0]!.getInfo()).toMatchObject({ name: 'earlier', host: 'then' });
    expect(await sealed.runs[0]!.getJson('keep')).toEqual({ k: 1 });
    expect((await registry.fsck()).ok).toBe(true);
  });
});

/** A fresh store and an experiment whose journal is all there is (written through, no autosave). */
async function journalOnly(): Promise<{ root: string; registry: LocalRegistry; exp: Experiment }> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(NAME, { registry, handleSignals: false, durable: 'always' });
  exp.setAutosavePolicy(AutosavePolicy.disabled());
  return { root, registry, exp };
}

/** The experiment restored from the journals of the store at `root` (journaling no more). */
async function restoreCrashed(root: string): Promise<Experiment> {
  const registry = await LocalRegistry.open(root);
  return Experiment.restoreFromCheckpoint(NAME, { registry, handleSignals: false, journal: false });
}

/** A fresh store and an experiment in it that journals every write before the call returns. */
async function journaling(): Promise<{ registry: LocalRegistry; exp: Experiment }> {
  const registry = await LocalRegistry.open(await tempDir());
  const exp = await Experiment.create(NAME, { registry, durable: 'always', handleSignals: false });
  return { registry, exp };
}

/** The one journal file of a store, and its bytes. */
async function ownJournal(registry: LocalRegistry): Promise<{ path: string; bytes: Buffer }> {
  const [file] = await readdir(journalDir(registry));
  const path = join(journalDir(registry), file!);
  return { path, bytes: await readFile(path) };
}

describe('journal frames', () => {
  it('reads up to a torn tail or a damaged frame, keeping what precedes it', async () => {
    const { registry, exp } = await journaling();
    const run = exp.startRun({ name: 'a' });
    run.logParameter('x', 1);
    run.logParameter('y', 2);
    const { path, bytes } = await ownJournal(registry);
    const whole = parseJournal(path, bytes)!;
    expect(whole.reference).toBe(NAME);
    expect(whole.torn).toBe(false);
    expect(whole.records.map((r) => r.t)).toEqual(['open', 'param', 'param']);
    // Torn: the last frame cut short.
    const torn = parseJournal(path, bytes.subarray(0, bytes.length - 3))!;
    expect([torn.torn, torn.records.map((r) => r.t)]).toEqual([true, ['open', 'param']]);
    // Damaged: one byte of the second record's payload flipped; its CRC fails, reading stops.
    const damaged = Buffer.from(bytes);
    const headerLen = 8 + damaged.readUInt32LE(0);
    const openLen = 8 + damaged.readUInt32LE(headerLen);
    damaged[headerLen + openLen + 12]! ^= 0xff;
    const d = parseJournal(path, damaged)!;
    expect([d.torn, d.records.map((r) => r.t)]).toEqual([true, ['open']]);
    // No readable header: not a journal at all.
    expect(parseJournal(path, Buffer.from('garbage'))).toBeUndefined();
    await writeFile(join(journalDir(registry), 'x.journal'), 'garbage');
    await run.finish();
    await exp.commit();
    // Commit removed this experiment's journal; the garbage file is not one and is left alone.
    expect(await readdir(journalDir(registry))).toEqual(['x.journal']);
  });

  it('writes a run of parameters as one frame, and reads every one back in order', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create(NAME, { registry, handleSignals: false });
    const a = exp.startRun({ name: 'a' });
    const b = exp.startRun({ name: 'b' });
    for (let k = 0; k < 10; k++) a.logParameter(`p${k}`, k === 3 ? 2n ** 60n : k + 0.5);
    b.logParameter('q', 'one');
    a.logParameter('z', true);
    // An attachment is written before its call returns, with everything buffered before it.
    await a.logJson('result', { ok: true });
    const { path, bytes } = await ownJournal(registry);
    const j = parseJournal(path, bytes)!;
    expect(j.records.map((r) => r.t)).toEqual(['open', 'open', 'params', 'param', 'param', 'att']);
    const folded = foldJournal(j);
    expect(folded.runs.get(0)?.params).toEqual([
      ...Array.from({ length: 10 }, (_, k) => [`p${k}`, k === 3 ? 2n ** 60n : k + 0.5]),
      ['z', true],
    ]);
    expect(folded.runs.get(1)?.params).toEqual([['q', 'one']]);
    await a.finish();
    await b.finish();
    await exp.commit();
  });

  it('frames records of any size in one buffer each call, every one read back as written', () => {
    const header: JournalRecord = { t: 'header', v: 1, reference: NAME, pid: 1, host: 'h', at: 1 };
    const points = 5000; // 28 bytes a point: a frame past the first buffer's 64 KiB
    const metrics: JournalRecord = {
      t: 'metrics',
      run: 0,
      names: ['loss'],
      ids: new Uint32Array(points),
      steps: Float64Array.from({ length: points }, (_, i) => i),
      ts: Float64Array.from({ length: points }, (_, i) => 1000 + i),
      values: Float64Array.from({ length: points }, (_, i) => i / 7),
      at: 2,
    };
    const batches: JournalRecord[][] = [
      [header, { t: 'open', run: 0, name: 'naïve-ラン-🚀', tags: { k: 'é' }, at: 3 }],
      [
        { t: 'param', run: 0, name: 'α', value: 'x'.repeat(40_000), at: 4 },
        metrics,
        { t: 'ann', key: 'k', value: '終', at: 5 },
      ],
      [{ t: 'param', run: 0, name: 'b', value: 1.5, at: 6 }],
    ];
    const written: Buffer[] = [];
    // Each call's buffer is copied before the next call (it is reused), as a write would.
    for (const b of batches) written.push(Buffer.from(frames(b)));
    const j = parseJournal('x.journal', Buffer.concat(written))!;
    expect(j.torn).toBe(false);
    const plain = (r: JournalRecord): unknown =>
      r.t === 'metrics' ? { ...r, ids: [...r.ids], values: [...r.values] } : r;
    const all = batches.flat();
    expect(j.records.map(plain)).toEqual(all.slice(1).map(plain));
    // The same bytes as framing each record on its own.
    const whole = Buffer.concat(
      all.map((r) => (r.t === 'metrics' ? Buffer.concat(frameParts(r)) : Buffer.from(frames([r]))))
    );
    expect(Buffer.concat(written).equals(whole)).toBe(true);
    // A call made inside another (a value's toJSON framing something) leaves the outer intact.
    let inner: Buffer | undefined;
    const sneaky = {
      toJSON: () => {
        inner = Buffer.from(frames([{ t: 'ann', key: 'inner', value: 'y'.repeat(300), at: 8 }]));
        return 'v';
      },
    } as unknown as string;
    const outer = frames([header, { t: 'ann', key: 'outer', value: sneaky, at: 9 }]);
    const both = parseJournal('x.journal', Buffer.concat([outer, inner!.subarray(0)]))!;
    expect(both.records).toEqual([
      { t: 'ann', key: 'outer', value: 'v', at: 9 },
      { t: 'ann', key: 'inner', value: 'y'.repeat(300), at: 8 },
    ]);
  });

  it('reads metric points from binary frames and from the base64 JSON frames of earlier versions', async () => {
    const { registry, exp } = await journaling();
    const run = exp.startRun({ name: 'm' });
    run.logMetric('loss', 0.5, { step: 3, timestamp: 1000 });
    run.logMetric('acc', NaN, { step: 4, timestamp: 2000 });
    const { path, bytes } = await ownJournal(registry);
    const metrics = parseJournal(path, bytes)!.records.filter((r) => r.t === 'metrics');
    const points = (r: JournalRecord): unknown[] =>
      r.t === 'metrics' ? [r.names, [...r.ids], [...r.steps], [...r.ts], [...r.values]] : [];
    expect(metrics.map(points)).toEqual([
      [['loss'], [0], [3], [1000], [0.5]],
      [['loss', 'acc'], [1], [4], [2000], [NaN]],
    ]);
    // The frame an earlier version wrote: JSON, columns in base64.
    const b64 = (a: Uint32Array | Float64Array): string =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
    const old = Buffer.from(
      JSON.stringify({
        t: 'metrics',
        run: 0,
        names: ['loss'],
        ids: b64(new Uint32Array([0, 0])),
        steps: b64(new Float64Array([0, 1])),
        ts: b64(new Float64Array([5, 6])),
        values: b64(new Float64Array([0.25, -Infinity])),
        at: 7,
      })
    );
    const head = Buffer.alloc(8);
    head.writeUInt32LE(old.length, 0);
    head.writeUInt32LE(crc32(old), 4);
    const headerFrame = bytes.subarray(0, 8 + bytes.readUInt32LE(0));
    const legacy = parseJournal(path, Buffer.concat([headerFrame, head, old]))!;
    expect(legacy.torn).toBe(false);
    expect(legacy.records.map(points)).toEqual([
      [['loss'], [0, 0], [0, 1], [5, 6], [0.25, -Infinity]],
    ]);
    await run.finish();
    await exp.commit();
  });

  it('encodes every parameter value type losslessly', () => {
    for (const v of [
      true,
      false,
      0,
      -1.5,
      2 ** 60,
      12n,
      -(2n ** 63n),
      NaN,
      Infinity,
      -Infinity,
      'é',
    ]) {
      const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(v))) as never);
      expect(Object.is(back, v) || back === v).toBe(true);
    }
  });
});
