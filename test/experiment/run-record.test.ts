/**
 * Run names, tags, timing, errors and nesting (the runledger.run record, beyond OMMX).
 */
import { describe, expect, it } from 'vitest';
import { currentRun } from '../../src/experiment/context.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { generateRunName, MEDIA_TYPE_RUN } from '../../src/experiment/run-record.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

async function newExperiment(ref = 'ghcr.io/acme/runs:v1', reproducible = false) {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  return { root, registry, exp: await Experiment.create(ref, { registry, reproducible }) };
}

describe('run names', () => {
  it('keeps a given name and generates unique two-word-and-number names otherwise', async () => {
    const { exp } = await newExperiment();
    await exp.run(() => undefined, { name: 'baseline' });
    for (let i = 0; i < 200; i++) await exp.run(() => undefined);
    const sealed = await exp.commit();
    const names = await Promise.all(sealed.runs.map(async (r) => (await r.getInfo()).name));
    expect(names[0]).toBe('baseline');
    for (const n of names.slice(1)) expect(n).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(new Set(names).size).toBe(201);
  });

  it('derives generated names from the reference and run id (the same study names its runs alike)', () => {
    const taken = new Set<string>();
    const a = generateRunName('ghcr.io/acme/x:v1', 3, taken);
    expect(generateRunName('ghcr.io/acme/x:v1', 3, taken)).toBe(a);
    expect(generateRunName('ghcr.io/acme/x:v1', 3, new Set([a]))).not.toBe(a);
  });

  it('refuses an invalid name', async () => {
    const { exp } = await newExperiment();
    expectError(() => exp.startRun({ name: '' }), 'ARGUMENT_INVALID');
    await expectCode(
      exp.run(() => undefined, { name: 'a\nb' }),
      'ARGUMENT_INVALID'
    );
    expect(exp.openRunIds).toEqual([]);
  });
});

describe('tags, timing and errors', () => {
  it('records tags (at start and later), start and end, host and version', async () => {
    const { exp } = await newExperiment();
    const before = Date.now();
    const run = exp.startRun({ name: 'tagged', tags: { stage: 'grid' } });
    run.setTag('solver', 'highs');
    run.setTags({ stage: 'final', seed: '7' });
    expect(run.tags).toEqual({ stage: 'final', solver: 'highs', seed: '7' });
    expectError(() => run.setTag('', 'x'), 'ARGUMENT_INVALID');
    expectError(() => run.setTag('k', 1 as never), 'ARGUMENT_INVALID');
    expectError(() => run.setTags({ ok: 'v', bad: 2 as never }), 'ARGUMENT_INVALID');
    expect(run.tags).toEqual({ stage: 'final', solver: 'highs', seed: '7' }); // nothing of it set
    expectError(() => exp.startRun({ tags: { k: 3 as never } }), 'ARGUMENT_INVALID');
    await run.finish();
    expectError(() => run.setTag('late', 'x'), 'RUN_CLOSED');
    const sealed = await exp.commit();
    const info = await sealed.runs[0]!.getInfo();
    expect(info.name).toBe('tagged');
    expect(info.tags).toEqual({ seed: '7', solver: 'highs', stage: 'final' });
    expect(info.parentRunId).toBeUndefined();
    expect(info.error).toBeUndefined();
    const start = Date.parse(info.startedAt ?? '');
    const end = Date.parse(info.endedAt ?? '');
    expect(start).toBeGreaterThanOrEqual(before - 1);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(typeof info.host).toBe('string');
    expect(info.runledgerVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(sealed.runs[0]!.attachmentMediaType('runledger.run')).toBe(MEDIA_TYPE_RUN);
    expect(sealed.runs[0]!.attachmentNames).toEqual([]); // runledger's own, left out
  });

  it('records the error that failed a run: type, message, stack', async () => {
    const { exp } = await newExperiment();
    await exp
      .run(() => {
        throw new TypeError('bad input');
      })
      .catch(() => undefined);
    const sealed = await exp.commit();
    expect(sealed.runs[0]!.reason).toBe('TypeError: bad input');
    const { error } = await sealed.runs[0]!.getInfo();
    expect(error?.type).toBe('TypeError');
    expect(error?.message).toBe('bad input');
    expect(error?.stack).toContain('TypeError: bad input');
  });

  it('a reproducible experiment leaves wall-clock times and host out', async () => {
    const { exp } = await newExperiment('ghcr.io/acme/runs:repro', true);
    await exp.run(() => undefined, { name: 'r', tags: { a: 'b' } });
    const info = await (await exp.commit()).runs[0]!.getInfo();
    expect(info).toMatchObject({ name: 'r', tags: { a: 'b' } });
    expect(info.startedAt).toBeUndefined();
    expect(info.endedAt).toBeUndefined();
    expect(info.host).toBeUndefined();
  });
});

describe('tags must be a plain object of strings', () => {
  it('refuses an array that is not of labels (or another non-plain object) at start, in child options and in setTags; nothing is changed', async () => {
    const { exp } = await newExperiment();
    for (const tags of [[1, 'b'], new Map([['a', 'b']]), 'a=b', null, new Date(0), ['\u0000']]) {
      const err = expectError(() => exp.startRun({ tags: tags as never }), 'ARGUMENT_INVALID');
      expect(err.message).toMatch(/tags|label/i);
      await expectCode(
        exp.run(() => undefined, { tags: tags as never }),
        'ARGUMENT_INVALID'
      );
    }
    expect(exp.openRunIds).toEqual([]);
    await exp.run(
      async (run) => {
        expectError(() => run.startChild({ tags: [7] as never }), 'ARGUMENT_INVALID');
        let called = false;
        const child = run.child(() => void (called = true), { tags: [{}] as never });
        await expectCode(child, 'ARGUMENT_INVALID');
        expect(called).toBe(false);
        expectError(() => run.setTags(['x', 3] as never), 'ARGUMENT_INVALID');
        expectError(() => run.setTags(new Map([['k', 'v']]) as never), 'ARGUMENT_INVALID');
        expect(run.tags).toEqual({ kept: 'yes' });
        // An object without a prototype is a plain object too.
        run.setTags(Object.assign(Object.create(null) as object, { more: 'ok' }));
      },
      { tags: { kept: 'yes' } }
    );
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => r.runId)).toEqual([0]);
    expect((await sealed.runs[0]!.getInfo()).tags).toEqual({ kept: 'yes', more: 'ok' });
  });
});

describe('nested runs', () => {
  it('child runs are ordinary runs with a parent; the current run follows them', async () => {
    const { exp, root } = await newExperiment();
    await exp.run(
      async (parent) => {
        parent.logParameter('level', 'parent');
        parent.logMetric('loss', 1);
        await parent.child(
          async (c) => {
            expect(currentRun()).toBe(c);
            expect(c.parentRunId).toBe(parent.runId);
            c.logParameter('level', 'child');
            await c.child((g) => g.logParameter('level', 'grandchild'), { name: 'grandchild' });
          },
          { name: 'child', tags: { fold: '1' } }
        );
        expect(currentRun()).toBe(parent);
        // A failed child does not fail its parent when the error is caught.
        await parent
          .child(() => {
            throw new Error('fold 2 diverged');
          })
          .catch(() => undefined);
      },
      { name: 'parent', tags: { study: 'cv' } }
    );
    const sealed = await exp.commit();
    const infos = await Promise.all(sealed.runs.map((r) => r.getInfo()));
    expect(sealed.runs.map((r) => [r.runId, r.status, r.parameters['level'] ?? null])).toEqual([
      [0, 'finished', 'parent'],
      [1, 'finished', 'child'],
      [2, 'finished', 'grandchild'],
      [3, 'failed', null],
    ]);
    expect(infos.map((i) => [i.name, i.parentRunId ?? null])).toEqual([
      ['parent', null],
      ['child', 0],
      ['grandchild', 1],
      [infos[3]!.name, 0],
    ]);
    expect(infos[1]!.tags).toEqual({ fold: '1' });
    // An artifact with nested runs, metrics and tags passes OMMX's loader rules.
    await validateOmmxExperimentLayout(root, sealed.reference);
  });

  it('a parent cannot finish while a child is open; failing, it takes its open children along', async () => {
    const { exp } = await newExperiment();
    const parent = exp.startRun({ name: 'p' });
    const child = parent.startChild({ name: 'c' });
    const err = await expectCode(parent.finish(), 'RUNS_OPEN');
    expect(err.message).toContain(`child run(s) ${child.runId}`);
    expect(parent.closed).toBe(false);
    await child.finish();
    await parent.finish();

    const p2 = exp.startRun();
    const c2 = p2.startChild();
    await p2.close('failed', 'Error: stop');
    expect(c2.closed).toBe(true);
    expectError(() => p2.startChild(), 'RUN_CLOSED');
    const sealed = await exp.commit();
    const byId = new Map(sealed.runs.map((r) => [r.runId, r]));
    expect(byId.get(c2.runId)?.status).toBe('failed');
    expect(byId.get(c2.runId)?.reason).toBe(`parent run ${p2.runId} failed`);
  });
});

describe('runsDf', () => {
  it("has MLflow's search_runs columns: record, params.*, metrics.* (last value), tags.*, solve_count", async () => {
    const { exp } = await newExperiment();
    await exp.run(
      async (run) => {
        run.logParameter('solver', 'highs');
        run.logParameter('time_limit', 10);
        run.logMetric('loss', 0.9, { step: 0 });
        run.logMetric('loss', 0.1, { step: 5 });
        run.logMetric('loss', 0.5, { step: 2 }); // logged last, but not the largest step
        await run.child((c) => c.logParameter('fold', 1), { name: 'fold-1', tags: { fold: '1' } });
      },
      { name: 'main', tags: { stage: 'grid' } }
    );
    await exp
      .run(
        (run) => {
          run.logParameter('solver', 'scip');
          throw new Error('no');
        },
        { name: 'broken' }
      )
      .catch(() => undefined);
    const live = await exp.runsDf();
    const sealed = await exp.commit();
    const df = await sealed.runsDf();
    expect(live.numRows).toBe(3);
    expect(df.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'project',
      'name',
      'status',
      'parent_run_id',
      'resumed_from',
      'started_at',
      'ended_at',
      'duration_ms',
      'description',
      'labels',
      'params.solver',
      'params.time_limit',
      'params.fold',
      'metrics.loss',
      'tags.fold',
      'tags.stage',
      'solve_count',
    ]);
    const col = (name: string): unknown[] => {
      const v = df.getChild(name);
      if (v === null) throw new Error(name);
      return [...v.toArray()].map((x: unknown, i: number) => (v.isValid(i) ? x : null));
    };
    expect(col('run_id')).toEqual([0n, 1n, 2n]);
    expect(col('name')).toEqual(['main', 'fold-1', 'broken']);
    expect(col('status')).toEqual(['finished', 'finished', 'failed']);
    expect(col('parent_run_id')).toEqual([null, 0n, null]);
    expect(col('params.solver')).toEqual(['highs', null, 'scip']);
    expect(col('params.time_limit')).toEqual([10n, null, null]);
    expect(col('params.fold')).toEqual([null, 1n, null]);
    expect(col('metrics.loss')).toEqual([0.1, null, null]);
    expect(col('tags.stage')).toEqual(['grid', null, null]);
    expect(col('tags.fold')).toEqual([null, '1', null]);
    expect(col('solve_count')).toEqual([0n, 0n, 0n]);
    expect((col('duration_ms') as number[]).every((d) => d >= 0)).toBe(true);
  });
});
