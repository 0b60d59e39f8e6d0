/**
 * JsonlLogger: the event lines (each documented event, its keys and their types, read back line
 * by line as pandas and DuckDB would), JSON for what JSON cannot hold, streaming and flushing, and
 * the two ways to use it: as a logger of its own runs and as an experiment observer.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { JsonlLogger } from '../../src/loggers/jsonl.js';
import { HighsAdapter } from '../../src/solve/adapters/highs.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { knapsack } from '../helpers/ommx.js';
import { tempDir } from '../helpers/temp.js';
import { columnTypes, expectOneTable, readEvents } from './events.js';

async function newLog(options: ConstructorParameters<typeof JsonlLogger>[1] = {}) {
  const path = join(await tempDir(), 'events.jsonl');
  return new JsonlLogger(path, options);
}

/** The keys of each event, in the order written (the documented table). */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  run_start: [
    'event',
    'time',
    'experiment',
    'run_id',
    'name',
    'parent_run_id',
    'tags',
    'labels',
    'description',
  ],
  params: ['event', 'time', 'experiment', 'run_id', 'params'],
  metrics: ['event', 'time', 'experiment', 'run_id', 'step', 'values'],
  tags: ['event', 'time', 'experiment', 'run_id', 'tags', 'labels'],
  attachment: ['event', 'time', 'experiment', 'run_id', 'name', 'media_type', 'size'],
  solve: ['event', 'time', 'experiment', 'run_id', 'kind', 'solve_id', 'adapter', 'status'],
  run_end: ['event', 'time', 'experiment', 'run_id', 'name', 'status', 'reason'],
  checkpoint: ['event', 'time', 'experiment', 'status', 'run_count'],
  commit: ['event', 'time', 'experiment', 'manifest_digest', 'run_count'],
};

describe('JsonlLogger as a logger', () => {
  it('writes one documented line per event, runs numbered from 0, one type per column', async () => {
    const log = await newLog({ experiment: 'local-study' });
    const a = log.startRun({
      name: 'baseline',
      config: { seed: 1, solver: 'highs', presolve: true, gap: 0.01 },
      tags: { stage: 'grid' },
      description: 'the first try',
    });
    a.logParams({ time_limit: 20 });
    a.logMetrics({ loss: 0.5, accuracy: 0.75 });
    a.logMetrics({ loss: 0.25 }); // the next step of the record's metrics
    a.logMetrics({ loss: 0.125, accuracy: 0.875 }, { step: 10 });
    a.setTags({ stage: 'final' });
    await a.finish();
    const b = log.startRun({ tags: ['gpu', 'gpu', 'baseline'] });
    await b.finish('interrupted');
    await log.close();

    const events = readEvents(log.path);
    expectOneTable(events);
    for (const e of events) expect(Object.keys(e)).toEqual(KEYS[e.event]);
    expect(events.map((e) => [e.event, e['run_id']])).toEqual([
      ['run_start', 0],
      ['params', 0],
      ['params', 0],
      ['metrics', 0],
      ['metrics', 0],
      ['metrics', 0],
      ['tags', 0],
      ['run_end', 0],
      ['run_start', 1],
      ['run_end', 1],
    ]);
    expect(events[0]).toMatchObject({
      experiment: 'local-study',
      name: 'baseline',
      parent_run_id: null,
      tags: { stage: 'grid' },
      labels: [],
      description: 'the first try',
    });
    expect(events[1]?.['params']).toEqual({ seed: 1, solver: 'highs', presolve: true, gap: 0.01 });
    expect(events.slice(3, 6).map((e) => [e['step'], e['values']])).toEqual([
      [0, { loss: 0.5, accuracy: 0.75 }],
      [1, { loss: 0.25 }],
      [10, { loss: 0.125, accuracy: 0.875 }],
    ]);
    expect(events[7]).toMatchObject({ name: 'baseline', status: 'finished', reason: null });
    expect(events[8]).toMatchObject({ name: 'run-1', labels: ['gpu', 'baseline'], tags: {} });
    expect(events[9]).toMatchObject({ status: 'interrupted' });
    // The columns a table reader makes, each of one JSON type.
    const types = Object.fromEntries([...columnTypes(events)].map(([c, t]) => [c, [...t][0]]));
    expect(types).toMatchObject({
      event: 'string',
      time: 'string',
      run_id: 'number',
      step: 'number',
      'values.loss': 'number',
      'params.presolve': 'boolean',
      'params.solver': 'string',
      tags: 'object',
      labels: 'array',
      description: 'string',
    });
  });

  it('writes NaN, ±Infinity and bigints as valid JSON', async () => {
    const log = await newLog();
    const run = log.startRun({ config: { small: 7n, big: 2n ** 63n - 1n, neg: -(2n ** 60n) } });
    run.logMetrics({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY });
    run.logParams({ inf: Number.POSITIVE_INFINITY });
    await run.finish();
    await log.close();
    const text = await readFile(log.path, 'utf8');
    expect(text).not.toMatch(/[:,[]-?(NaN|Infinity)/); // no bare token JSON refuses
    const [, params, metrics, params2] = readEvents(log.path);
    expect(params?.['params']).toEqual({
      small: 7,
      big: '9223372036854775807',
      neg: '-1152921504606846976',
    });
    expect(metrics?.['values']).toEqual({ a: 'NaN', b: 'Infinity', c: '-Infinity' });
    expect(params2?.['params']).toEqual({ inf: 'Infinity' });
    // What a reader's cast gives back.
    const values = metrics?.['values'] as Record<string, string>;
    expect(Object.values(values).map(Number)).toEqual([NaN, Infinity, -Infinity]);
  });

  it('streams: lines reach the file at the end of the turn, and at once when a run ends', async () => {
    const log = await newLog();
    const run = log.startRun({ name: 'live' });
    run.logMetrics({ loss: 1 });
    expect(readFileSync(log.path, 'utf8')).toBe(''); // batched within the turn
    await new Promise((r) => setImmediate(r));
    expect(readEvents(log.path).map((e) => e.event)).toEqual(['run_start', 'metrics']);
    run.logMetrics({ loss: 0.5 });
    const finished = run.finish();
    // run_end flushes synchronously: both lines are there before finish resolves.
    expect(readEvents(log.path).map((e) => e.event)).toEqual([
      'run_start',
      'metrics',
      'metrics',
      'run_end',
    ]);
    await finished;
    // Many lines in one turn: written past 64 KiB without waiting for the turn to end.
    const big = log.startRun({ name: 'big' });
    for (let step = 0; step < 2000; step++) big.logMetrics({ loss: 1 / (step + 1) });
    expect(readEvents(log.path).length).toBeGreaterThan(500);
    await big.finish();
    await log.close();
    expect(readEvents(log.path)).toHaveLength(4 + 2002);
  });

  it('ends a run once: the second finish does nothing, a disposed run ends failed, later calls are refused', async () => {
    const log = await newLog();
    const run = log.startRun({ name: 'once' });
    await run.finish('failed');
    await run.finish();
    expectError(() => run.logMetrics({ loss: 1 }), 'RUN_CLOSED');
    {
      await using disposed = log.startRun({ name: 'scope' });
      disposed.logParams({ a: 1 });
    }
    await log.close();
    const ends = readEvents(log.path).filter((e) => e.event === 'run_end');
    expect(ends.map((e) => [e['name'], e['status'], e['reason']])).toEqual([
      ['once', 'failed', null],
      ['scope', 'failed', 'disposed before finish()'],
    ]);
  });

  it('checks what it is given', async () => {
    const log = await newLog();
    expectError(() => log.startRun({ name: '' }), 'ARGUMENT_INVALID');
    expectError(() => log.startRun({ tags: { a: 1 as unknown as string } }), 'ARGUMENT_INVALID');
    expectError(
      () => log.startRun({ config: { a: {} as unknown as string } }),
      'PARAMETER_INVALID'
    );
    const run = log.startRun();
    expect(run.name).toBe('run-0'); // the refused ones took no id
    expectError(() => run.logMetrics({ loss: '1' as unknown as number }), 'METRIC_INVALID');
    expectError(() => run.logMetrics({ loss: 1 }, { step: -1 }), 'METRIC_INVALID');
    expectError(() => run.logParams([] as unknown as Record<string, string>), 'PARAMETER_INVALID');
    await expectCode(run.finish('done' as 'finished'), 'ARGUMENT_INVALID');
    await expectCode(run.logArtifact(join(log.path, 'missing')), 'IO_ERROR');
    await run.finish();
    await log.close();
    await log.close(); // the second close does nothing
    expectError(() => log.startRun(), 'IO_ERROR');
    expect(readEvents(log.path).map((e) => e.event)).toEqual(['run_start', 'run_end']);
  });

  it('truncates the file unless told to append; a path it cannot open fails at once', async () => {
    const log = await newLog();
    await writeFile(log.path, '{"event":"old"}\n');
    const fresh = new JsonlLogger(log.path);
    await fresh.startRun().finish();
    await fresh.close();
    const appended = new JsonlLogger(log.path, { append: true });
    await appended.startRun().finish();
    await appended.close();
    const events = readEvents(log.path);
    expect(events.map((e) => [e.event, e['run_id']])).toEqual([
      ['run_start', 0],
      ['run_end', 0],
      ['run_start', 0],
      ['run_end', 0],
    ]);
    // Two sessions in one file stay apart by their generated experiment names.
    expect(events[0]?.['experiment']).toMatch(/^jsonl-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(events[2]?.['experiment']).not.toBe(events[0]?.['experiment']);
    expectError(() => new JsonlLogger(join(log.path, 'not-a-dir', 'x.jsonl')), 'IO_ERROR');
  });
});

describe('JsonlLogger as an observer', () => {
  it('records runledger’s runs with their real ids: parents, solves, attachments, checkpoints, the commit', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create('ghcr.io/acme/observed:v1', {
      registry,
      handleSignals: false,
      tags: ['nightly'],
    });
    const log = await newLog();
    // Runs before observing are not in the log: ids there are runledger's, not the log's.
    await exp.run((r) => r.logParameter('warmup', true), { name: 'warmup' });
    const stop = exp.observe(log);
    await exp.run(
      async (run) => {
        run.logParams({ seed: 7, solver: 'highs' });
        run.logMetrics({ loss: 0.5 }, { step: 0 });
        await run.logJson('settings', { presolve: true });
        await run.logSolve(HighsAdapter, knapsack());
        await run.child(async (fold) => fold.logMetric('loss', 0.25), { name: 'fold-1' });
      },
      { name: 'trial', tags: { stage: 'grid' }, description: 'observed' }
    );
    await expect(
      exp.run(
        () => {
          throw new TypeError('bad input');
        },
        { name: 'broken' }
      )
    ).rejects.toThrow('bad input');
    await exp.logJson('summary', { best: 20 });
    await exp.checkpoint();
    const sealed = await exp.commit();
    stop();
    await log.close();

    const events = readEvents(log.path);
    expectOneTable(events);
    for (const e of events) {
      expect(Object.keys(e).filter((k) => k !== 'path')).toEqual(KEYS[e.event]);
      expect(e['experiment']).toBe(exp.reference);
    }
    const starts = events.filter((e) => e.event === 'run_start');
    expect(starts.map((e) => [e['run_id'], e['name'], e['parent_run_id']])).toEqual([
      [1, 'trial', null],
      [2, 'fold-1', 1],
      [3, 'broken', null],
    ]);
    expect(starts[0]).toMatchObject({
      tags: { stage: 'grid' },
      labels: ['nightly'],
      description: 'observed',
    });
    const ends = events.filter((e) => e.event === 'run_end');
    expect(ends.map((e) => [e['run_id'], e['status'], e['reason']])).toEqual([
      [2, 'finished', null],
      [1, 'finished', null],
      [3, 'failed', 'TypeError: bad input'],
    ]);
    expect(sealed.runs.map((r) => [r.runId, r.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
      [2, 'finished'],
      [3, 'failed'],
    ]);
    const solve = events.find((e) => e.event === 'solve');
    expect(solve).toMatchObject({
      run_id: 1,
      kind: 'solve',
      solve_id: 0,
      adapter: sealed.runs[1]?.solves[0]?.adapter,
      status: 'finished',
    });
    const attachments = events.filter((e) => e.event === 'attachment');
    expect(attachments.map((e) => [e['run_id'], e['name'], e['media_type']])).toEqual([
      [1, 'settings', 'application/json'],
      [null, 'summary', 'application/json'],
    ]);
    expect(attachments[0]?.['size']).toBe(sealed.runs[1]?.attachmentSize('settings'));
    expect(
      events.filter((e) => e.event === 'metrics').map((e) => [e['run_id'], e['values']])
    ).toEqual([
      [1, { loss: 0.5 }],
      [2, { loss: 0.25 }],
    ]);
    expect(events.find((e) => e.event === 'params')?.['params']).toEqual({
      seed: 7,
      solver: 'highs',
    });
    const checkpoints = events.filter((e) => e.event === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThanOrEqual(1); // autosaves after run closes, and ours
    expect(checkpoints.at(-1)).toMatchObject({ status: 'draft', run_count: 4 });
    expect(events.at(-1)).toMatchObject({
      event: 'commit',
      manifest_digest: sealed.manifestDigest,
      run_count: 4,
    });
  });
});
