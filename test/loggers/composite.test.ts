/**
 * CompositeLogger: runledger, a JSON Lines log and loggers that fail, as one. A failing logger
 * changes nothing in the others (after commit, the log and the committed experiment agree run for
 * run), is warned about once, and never reaches the code that logged.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import type { LoggedRun, Logger, StartRunOptions } from '../../src/experiment/logger.js';
import type { SealedExperiment } from '../../src/experiment/sealed.js';
import { asLogger, CompositeLogger, CompositeRun } from '../../src/loggers/composite.js';
import { JsonlLogger } from '../../src/loggers/jsonl.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';
import { expectOneTable, readEvents, type EventLine } from './events.js';

async function newExperiment(): Promise<Experiment> {
  const registry = await LocalRegistry.open(await tempDir());
  return Experiment.create('ghcr.io/acme/loggers:v1', { registry, handleSignals: false });
}

/** Every call a run got, in order. */
type Call = readonly [method: string, ...args: unknown[]];

/** A logger that remembers what it was told (a third party that works). */
class RecordingLogger implements Logger {
  readonly runs: { options: StartRunOptions; calls: Call[] }[] = [];
  startRun(options: StartRunOptions = {}): Promise<LoggedRun> {
    const calls: Call[] = [];
    this.runs.push({ options, calls });
    let ended = false;
    const end = async (how: string): Promise<void> => {
      await new Promise((r) => setTimeout(r, 1)); // an asynchronous logger
      calls.push([how]);
      ended = true;
    };
    return Promise.resolve({
      name: options.name ?? `recorded-${this.runs.length - 1}`,
      logParams: (p) => void calls.push(['logParams', p]),
      logMetrics: async (v, o) => {
        await new Promise((r) => setTimeout(r, 5));
        calls.push(['logMetrics', v, o?.step]);
      },
      logArtifact: async (path, o) => void calls.push(['logArtifact', path, o?.name]),
      setTags: (t) => void calls.push(['setTags', t]),
      finish: (status) => (ended ? Promise.resolve() : end(`finish:${status ?? 'finished'}`)),
      [Symbol.asyncDispose]: () => (ended ? Promise.resolve() : end('dispose')),
    });
  }
}

/** Starts runs, and every method of its runs throws (or rejects). */
class BrokenLogger implements Logger {
  startRun(options: StartRunOptions = {}): LoggedRun {
    const fail = (what: string): never => {
      throw new Error(`broken ${what}`);
    };
    return {
      name: options.name ?? 'broken',
      logParams: () => fail('logParams'),
      logMetrics: () => Promise.reject(new Error('broken logMetrics')),
      logArtifact: () => Promise.reject(new Error('broken logArtifact')),
      setTags: () => fail('setTags'),
      finish: () => Promise.reject(new Error('broken finish')),
      [Symbol.asyncDispose]: () => fail('dispose'),
    };
  }
}

/** Throws in startRun only. */
class NoStartLogger implements Logger {
  calls = 0;
  startRun(): LoggedRun {
    this.calls++;
    throw new Error('cannot start');
  }
}

let warnings: MockInstance<typeof process.emitWarning>;
beforeEach(() => {
  warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => {
  warnings.mockRestore();
});

function loggerWarnings(): string[] {
  return warnings.mock.calls
    .filter((c) => (c[1] as { code?: string } | undefined)?.code === 'RUNLEDGER_LOGGER')
    .map((c) => String(c[0]));
}

/** What the log says of each run, by run id. */
function runsInLog(events: readonly EventLine[]) {
  const runs = new Map<
    number,
    {
      name: unknown;
      params: Record<string, unknown>;
      metrics: [number, Record<string, unknown>][];
      status?: unknown;
      reason?: unknown;
    }
  >();
  for (const e of events) {
    const id = e['run_id'] as number;
    if (e.event === 'run_start') runs.set(id, { name: e['name'], params: {}, metrics: [] });
    const run = runs.get(id);
    if (e.event === 'params') Object.assign(run!.params, e['params']);
    if (e.event === 'metrics')
      run!.metrics.push([e['step'] as number, e['values'] as Record<string, unknown>]);
    if (e.event === 'run_end') Object.assign(run!, { status: e['status'], reason: e['reason'] });
  }
  return runs;
}

/** What the committed experiment says of each run, in the log's terms. */
async function runsInExperiment(sealed: SealedExperiment) {
  return Promise.all(
    sealed.runs.map(async (r) => {
      const loss = await r.getMetric('loss');
      return {
        runId: r.runId,
        name: (await r.getInfo()).name,
        // Integers come back as int64 (bigint); the log writes a safe one as a number.
        params: Object.fromEntries(
          Object.entries(r.parameters).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])
        ),
        metrics: [...loss.steps].map((s, i) => [s, { loss: loss.values[i] }]),
        status: r.status,
      };
    })
  );
}

describe('CompositeLogger', () => {
  it('runledger + JSONL + two failing loggers: the log and the committed experiment agree run for run', async () => {
    const exp = await newExperiment();
    const path = join(await tempDir(), 'events.jsonl');
    const jsonl = new JsonlLogger(path);
    const broken = new BrokenLogger();
    const noStart = new NoStartLogger();
    const logger = new CompositeLogger([exp, jsonl, broken, noStart]);

    for (let i = 0; i < 4; i++) {
      // Run 2 has no name: runledger (first) names it, and the others get that name.
      const run = await logger.startRun({
        ...(i === 2 ? {} : { name: `trial-${i}` }),
        config: { seed: i },
        tags: { stage: 'grid' },
      });
      // Every call resolves: the broken logger's throws and rejections stay inside.
      await run.logParams({ solver: i % 2 === 0 ? 'highs' : 'scip', alpha: 0.5 + i });
      for (let step = 0; step < 3; step++) await run.logMetrics({ loss: 1 / (step + 1 + i) });
      await run.setTags({ done: 'yes' });
      await run.finish(i === 3 ? 'failed' : 'finished');
      // The second finish does nothing.
      await run.finish('interrupted');
      expect(run.runs).toHaveLength(3); // the one that could not start takes no part
    }
    const sealed = await exp.commit();
    await jsonl.close();

    const events = readEvents(path);
    expectOneTable(events);
    const logged = runsInLog(events);
    const committed = await runsInExperiment(sealed);
    expect(committed.map((r) => r.runId)).toEqual([0, 1, 2, 3]);
    expect([...logged.keys()]).toEqual([0, 1, 2, 3]);
    for (const r of committed) {
      const l = logged.get(r.runId)!;
      expect(l.name).toBe(r.name);
      expect(l.params).toEqual(r.params);
      expect(l.metrics).toEqual(r.metrics);
      expect(l.status).toBe(r.status);
    }
    expect(committed[2]?.name).toMatch(/^[a-z]+-[a-z]+-\d+$/); // runledger's generated name
    expect(committed.map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'failed']);
    expect(committed[1]?.params).toEqual({ seed: 1, solver: 'scip', alpha: 1.5 });
    expect((await sealed.runs[0]!.getInfo()).tags).toEqual({ stage: 'grid', done: 'yes' });

    // Every failure is recorded, each logger warned about once.
    const methods = (l: Logger) =>
      [...new Set(logger.failures.filter((f) => f.logger === l).map((f) => f.method))].sort();
    expect(methods(broken)).toEqual(['finish', 'logMetrics', 'logParams', 'setTags']);
    expect(methods(noStart)).toEqual(['startRun']);
    expect(noStart.calls).toBe(4);
    expect(logger.failures.filter((f) => f.logger === exp || f.logger === jsonl)).toEqual([]);
    const warned = loggerWarnings();
    expect(warned).toHaveLength(2);
    // The first run's startRun failure comes before its first logParams.
    expect(warned[0]).toBe(
      'runledger: logger 3 (NoStartLogger) failed in startRun: cannot start (later failures of this logger are not reported).'
    );
    expect(warned[1]).toContain('logger 2 (BrokenLogger) failed in logParams: broken logParams');
  });

  it('await using: a scope that throws ends every logger’s run as failed', async () => {
    const exp = await newExperiment();
    const path = join(await tempDir(), 'events.jsonl');
    const jsonl = new JsonlLogger(path);
    const recorder = new RecordingLogger();
    const broken = new BrokenLogger();
    const logger = new CompositeLogger([exp, jsonl, recorder, broken]);

    const trial = async (): Promise<void> => {
      await using run = await logger.startRun({ name: 'doomed' });
      await run.logParams({ x: 1 });
      throw new Error('boom');
    };
    await expect(trial()).rejects.toThrow('boom');
    // Disposal after a finish does nothing.
    {
      await using run = await logger.startRun({ name: 'fine' });
      await run.finish();
    }
    const sealed = await exp.commit();
    await jsonl.close();

    expect(sealed.runs.map((r) => [r.status, r.reason])).toEqual([
      ['failed', 'disposed before finish()'],
      ['finished', undefined],
    ]);
    const ends = readEvents(path).filter((e) => e.event === 'run_end');
    expect(ends.map((e) => [e['name'], e['status'], e['reason']])).toEqual([
      ['doomed', 'failed', 'disposed before finish()'],
      ['fine', 'finished', null],
    ]);
    expect(recorder.runs.map((r) => r.calls.at(-1))).toEqual([['dispose'], ['finish:finished']]);
    expect(logger.failures.map((f) => [f.method, (f.error as Error).message])).toEqual([
      ['logParams', 'broken logParams'],
      ['dispose', 'broken dispose'],
      ['finish', 'broken finish'],
    ]);
    expect(loggerWarnings()).toHaveLength(1);
  });

  it('runs the asynchronous calls of all loggers at once and finishes each after its calls', async () => {
    const recorders = [new RecordingLogger(), new RecordingLogger(), new RecordingLogger()];
    const logger = new CompositeLogger(recorders);
    const run = await logger.startRun();
    // The first logger names the run for the others.
    expect(recorders.map((r) => r.runs[0]?.options.name)).toEqual([
      undefined,
      'recorded-0',
      'recorded-0',
    ]);
    expect(run.name).toBe('recorded-0');
    const t0 = performance.now();
    const calls = Array.from({ length: 10 }, (_, step) =>
      run.logMetrics({ loss: 1 / (step + 1) }, { step })
    );
    // Not awaited: finish waits for each logger's calls under way.
    await run.finish();
    const ms = performance.now() - t0;
    await Promise.all(calls);
    for (const r of recorders) {
      const calls = r.runs[0]!.calls;
      expect(calls.filter((c) => c[0] === 'logMetrics')).toHaveLength(10);
      expect(calls.at(-1)).toEqual(['finish:finished']);
    }
    // 30 calls of 5 ms each, all at once.
    expect(ms).toBeLessThan(100);
    expect(logger.failures).toEqual([]);
  });

  it('fans logArtifact and setTags out; a run with no logger left still takes every call', async () => {
    const dir = await tempDir();
    const file = join(dir, 'report.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const jsonl = new JsonlLogger(join(dir, 'events.jsonl'));
    const recorder = new RecordingLogger();
    const run = await new CompositeLogger([jsonl, recorder]).startRun({ name: 'r' });
    await run.logArtifact(file, { name: 'report' });
    await run.setTags({ k: 'v' });
    await run.finish();
    await jsonl.close();
    expect(recorder.runs[0]?.calls.slice(0, 2)).toEqual([
      ['logArtifact', file, 'report'],
      ['setTags', { k: 'v' }],
    ]);
    const attachment = readEvents(jsonl.path).find((e) => e.event === 'attachment');
    expect(attachment).toMatchObject({
      run_id: 0,
      name: 'report',
      media_type: 'text/csv',
      size: 8,
      path: file,
    });

    // A status the protocol has not is the caller's mistake: refused, nothing finished.
    const again = await new CompositeLogger([recorder]).startRun({ name: 'again' });
    await expectCode(again.finish('done' as 'finished'), 'ARGUMENT_INVALID');
    expect(again.finished).toBe(false);
    await again.finish('interrupted');
    expect(recorder.runs[1]?.calls).toEqual([['finish:interrupted']]);

    const none = new CompositeLogger([new NoStartLogger(), new NoStartLogger()]);
    const empty = await none.startRun({ name: 'nobody' });
    expect(empty).toBeInstanceOf(CompositeRun);
    expect(empty.name).toBe('nobody');
    expect(empty.runs).toEqual([]);
    await empty.logParams({ a: 1 });
    await empty.finish();
    expect(none.failures.map((f) => f.method)).toEqual(['startRun', 'startRun']);
    expect(loggerWarnings()).toHaveLength(2); // once per logger, even of the same class
  });

  it('asLogger: a plain array stands for its composite; a logger stays itself', async () => {
    const exp = await newExperiment();
    expect(asLogger(exp)).toBe(exp);
    const recorder = new RecordingLogger();
    const both = asLogger([exp, [recorder]]);
    expect(both).toBeInstanceOf(CompositeLogger);
    const run = await both.startRun({ name: 'nested', config: { lr: 0.1 } });
    await run.finish();
    expect(exp.runs.map((r) => [r.runId, r.parameters])).toEqual([[0, { lr: 0.1 }]]);
    expect(recorder.runs[0]?.options).toEqual({ name: 'nested', config: { lr: 0.1 } });
    await exp.commit();
  });

  it('takes a member’s refusal as that member’s failure (runledger refuses a parameter type change)', async () => {
    const exp = await newExperiment();
    const path = join(await tempDir(), 'events.jsonl');
    const jsonl = new JsonlLogger(path);
    const logger = new CompositeLogger([exp, jsonl]);
    const a = await logger.startRun({ name: 'a', config: { seed: 1 } });
    await a.finish();
    const b = await logger.startRun({ name: 'b' });
    await b.logParams({ seed: 'one' }); // runledger: PARAMETER_TYPE_CONFLICT
    await b.finish();
    expect(logger.failures.map((f) => [f.logger, f.method])).toEqual([[exp, 'logParams']]);
    expect((logger.failures[0]?.error as { code?: string }).code).toBe('PARAMETER_TYPE_CONFLICT');
    expect(loggerWarnings()[0]).toContain('logger 0 (Experiment) failed in logParams');
    await exp.commit();
    await jsonl.close();
    expect(readEvents(path).filter((e) => e.event === 'params')).toHaveLength(2);
  });
});
