/**
 * Run names, tags, timing, errors and nesting (the runledger.run record, beyond OMMX).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentRun } from '../../src/experiment/context.js';
import { Experiment } from '../../src/experiment/experiment.js';
import {
  generateRunName,
  MEDIA_TYPE_RUNS,
  runRecordText,
} from '../../src/experiment/run-record.js';
import { canonicalJson } from '../../src/oci/canonical-json.js';
import { mergeExperiments } from '../../src/experiment/merge.js';
import { searchRuns } from '../../src/experiment/search.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { legacyExperiment } from '../helpers/legacy-records.js';
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
    // Kept in the experiment's runledger.runs (no blob a run), left out of the names.
    expect(sealed.attachmentMediaType('runledger.runs')).toBe(MEDIA_TYPE_RUNS);
    expect(sealed.attachmentNames).toEqual([]);
    expect(sealed.runs[0]!.attachmentNames).toEqual([]);
    expect(sealed.manifest.layers.map((l) => l.mediaType)).toEqual([
      MEDIA_TYPE_RUNS,
      'application/org.ommx.v1.experiment.run-parameters+msgpack',
    ]);
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

describe('where the records are kept', () => {
  it('one runledger.runs attachment for every run (no blob a run), records in run id order', async () => {
    const { registry, exp } = await newExperiment();
    const before = (await readdir(join(registry.root, 'blobs', 'sha256'))).length;
    for (let i = 0; i < 5; i++) {
      await exp.run((run) => run.logParameter('i', i), { name: `r${i}`, tags: { k: `${i}` } });
    }
    // Five runs that logged only parameters wrote no blob while they closed.
    expect((await readdir(join(registry.root, 'blobs', 'sha256'))).length).toBe(before);
    const sealed = await exp.commit();
    const text = new TextDecoder().decode(await sealed.getBlob('runledger.runs'));
    const parsed = JSON.parse(text) as { runs: { run_id: number; name: string; tags: object }[] };
    expect(parsed.runs.map((r) => [r.run_id, r.name, r.tags])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [i, `r${i}`, { k: `${i}` }])
    );
    const infos = await Promise.all(sealed.runs.map((r) => r.getInfo()));
    expect(infos.map((i) => i.name)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    // The unsealed experiment answers from the runs' states, before any manifest.
    const more = await sealed.fork('ghcr.io/acme/runs:more');
    await more.run(() => undefined, { name: 'r5' });
    expect((await more.runs[5]!.getInfo()).name).toBe('r5');
    expect((await more.runs[0]!.getInfo()).name).toBe('r0');
    const child = await more.commit();
    expect(child.attachmentNames).toEqual([]);
    expect(await Promise.all(child.runs.map(async (r) => (await r.getInfo()).name))).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
    ]);
    await validateOmmxExperimentLayout(registry.root, 'ghcr.io/acme/runs:more');
  });

  it('reads the records of earlier artifacts (a runledger.run attachment a run), forks and merges them', async () => {
    const { registry } = await newExperiment();
    const old = await legacyExperiment(registry, 'ghcr.io/acme/runs:old', [
      { name: 'old-parent', tags: { stage: 'a' }, params: { x: 1 }, result: { v: 1 } },
      { name: 'old-child', parent: 0, params: { x: 2 } },
    ]);
    expect(old.manifest.layers.map((l) => l.mediaType)).toEqual([
      'application/json',
      'application/vnd.runledger.run.v1+json',
      'application/vnd.runledger.run.v1+json',
      'application/org.ommx.v1.experiment.run-parameters+msgpack',
    ]);
    const loaded = await Experiment.load('ghcr.io/acme/runs:old', { registry });
    expect(await loaded.runs[0]!.getInfo()).toMatchObject({
      name: 'old-parent',
      tags: { stage: 'a' },
      host: 'earlier-host',
    });
    expect((await loaded.runs[1]!.getInfo()).parentRunId).toBe(0);
    expect(loaded.runs[0]!.attachmentNames).toEqual(['result']);
    const table = await searchRuns({ registry, experiments: ['ghcr.io/acme/runs:old'] });
    expect(table.getChild('name')?.toArray()).toEqual(['old-parent', 'old-child']);

    // A fork keeps the old runs' attachments as they are; its own runs go in runledger.runs.
    const fork = await loaded.fork('ghcr.io/acme/runs:forked');
    await fork.run(() => undefined, { name: 'new-run' });
    const forked = await fork.commit();
    expect(forked.runs[0]!.records.has('runledger.run')).toBe(true);
    expect(forked.runs[2]!.records.has('runledger.run')).toBe(false);
    expect(await Promise.all(forked.runs.map(async (r) => (await r.getInfo()).name))).toEqual([
      'old-parent',
      'old-child',
      'new-run',
    ]);
    expect(forked.config.attachments.entries.has('runledger.runs')).toBe(true);

    // A merge folds every record into its runledger.runs, parents renumbered.
    const fresh = await Experiment.create('ghcr.io/acme/runs:fresh', { registry });
    await fresh.run(() => undefined, { name: 'fresh-run' });
    await fresh.commit();
    const merged = await mergeExperiments(
      ['ghcr.io/acme/runs:fresh', 'ghcr.io/acme/runs:old'],
      'ghcr.io/acme/runs:merged',
      { registry }
    );
    expect(merged.runs.some((r) => r.records.has('runledger.run'))).toBe(false);
    const rows = await Promise.all(
      merged.runs.map(async (r) => {
        const info = await r.getInfo();
        return [r.runId, info.name, info.parentRunId];
      })
    );
    expect(rows).toEqual([
      [0, 'fresh-run', undefined],
      [1, 'old-parent', undefined],
      [2, 'old-child', 1],
    ]);
    expect(await merged.runs[1]!.getJson('result')).toEqual({ v: 1 });
    await validateOmmxExperimentLayout(registry.root, 'ghcr.io/acme/runs:merged');
    expect((await registry.fsck()).ok).toBe(true);
  });
});

describe('runRecordText', () => {
  it('writes the canonical JSON of the record with its run id, whatever keys it has', () => {
    const full = {
      tags: { z: '1', a: 'é\u2028"' },
      name: 'clever-rabbit-492',
      runledger: '0.1.0',
      parent_run_id: 3,
      description: 'a "quoted" text\n',
      labels: ['gpu', 'baseline'],
      attributes: { b: [1, { y: null, x: true }], a: 1.5 },
      resumed_from: 2,
      error: { type: 'TypeError', message: 'bad', stack: 'at x' },
      started_at: '2026-12-06T10:00:00.000Z',
      ended_at: '2026-12-06T10:00:01.000Z',
      host: 'box',
    };
    const minimal = { name: 'n', tags: {}, runledger: '0.1.0' };
    const foreign = { name: 'n', tags: {}, zeta: 1, alpha: 'a' }; // another tool's keys
    const withId = { name: 'n', tags: {}, run_id: 99 }; // its own run_id is replaced
    for (const value of [full, minimal, foreign, withId]) {
      expect(runRecordText(7, value)).toBe(canonicalJson({ ...value, run_id: 7 }));
    }
    expect(JSON.parse(runRecordText(7, full))).toEqual({ ...full, run_id: 7 });
  });
});
