/**
 * The runs table over structural run sources: plain objects with the fields a `SealedRun` has
 * (the table never sees an experiment), then once through a real committed experiment.
 */
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import type { JsonValue } from '../../src/oci/canonical-json.js';
import { runParametersTable, type ParameterColumnSource } from '../../src/tables/arrow.js';
import { queryTable } from '../../src/tables/query.js';
import {
  projectOf,
  RUN_COLUMN_PREFIXES,
  RUN_COLUMNS,
  runsTable,
  type RunRecordSource,
  type RunSource,
} from '../../src/tables/runs.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

interface FakeRun {
  readonly runId: number;
  readonly status?: string;
  readonly solves?: number;
  readonly record?: Partial<RunRecordSource>;
  readonly metrics?: Readonly<Record<string, readonly (readonly [step: number, value: number])[]>>;
}

/** A run source as plain data: what `SealedRun` gives, without an experiment behind it. */
function source(run: FakeRun): RunSource {
  const metrics = run.metrics ?? {};
  return {
    runId: run.runId,
    status: run.status ?? 'finished',
    solves: { length: run.solves ?? 0 },
    getInfo: () =>
      Promise.resolve({
        name: undefined,
        parentRunId: undefined,
        startedAt: undefined,
        endedAt: undefined,
        tags: {},
        description: undefined,
        labels: [],
        attributes: {},
        resumedFrom: undefined,
        ...run.record,
      }),
    metricNames: () => Promise.resolve(Object.keys(metrics)),
    getMetric: (name) =>
      Promise.resolve({
        steps: (metrics[name] ?? []).map(([s]) => s),
        values: (metrics[name] ?? []).map(([, v]) => v),
      }),
  };
}

/** A run-parameter table from `{ column: { runId: value } }`. */
function parameters(
  runIds: readonly number[],
  columns: readonly ParameterColumnSource[] = []
): Table {
  return runParametersTable({ columns: () => columns }, runIds);
}

/** A column's cells, null where invalid. */
function cells(table: Table, name: string): unknown[] {
  const v = table.getChild(name);
  if (v === null) throw new Error(`no column ${name}`);
  return Array.from({ length: table.numRows }, (_, i) => (v.isValid(i) ? v.get(i) : null));
}

/** Column name → Arrow type name. */
function types(table: Table): Record<string, string> {
  return Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
}

async function tableOf(runs: readonly FakeRun[], reference?: string): Promise<Table> {
  const ids = runs.map((r) => r.runId);
  return runsTable(runs.map(source), parameters(ids), reference === undefined ? {} : { reference });
}

describe('runsTable', () => {
  it('orders the columns: identity, lineage, times, description and labels, params, attributes, metrics, tags, labels.*, solve_count', async () => {
    const runs: FakeRun[] = [
      {
        runId: 0,
        solves: 2,
        record: {
          name: 'baseline',
          startedAt: '2026-01-01T00:00:00.000Z',
          endedAt: '2026-01-01T00:00:01.500Z',
          description: 'the first try',
          labels: ['gpu', 'baseline'],
          attributes: { lr: 0.1 },
          tags: { stage: 'grid' },
        },
        metrics: { loss: [[0, 0.9]] },
      },
      {
        runId: 1,
        status: 'failed',
        record: { name: 'child', parentRunId: 0, resumedFrom: 0, labels: ['cpu'] },
      },
    ];
    const df = await runsTable(
      runs.map(source),
      parameters([0, 1], [{ name: 'seed', type: 'int64', values: new Map([[0, 7n]]) }]),
      { reference: 'ghcr.io/acme/qap:v1' }
    );
    expect(types(df)).toEqual({
      run_id: 'Int64',
      project: 'Utf8',
      name: 'Utf8',
      status: 'Utf8',
      parent_run_id: 'Int64',
      resumed_from: 'Int64',
      started_at: 'Utf8',
      ended_at: 'Utf8',
      duration_ms: 'Float64',
      description: 'Utf8',
      labels: 'Utf8',
      'params.seed': 'Int64',
      'attributes.lr': 'Float64',
      'metrics.loss': 'Float64',
      'tags.stage': 'Utf8',
      'labels.baseline': 'Bool',
      'labels.cpu': 'Bool',
      'labels.gpu': 'Bool',
      solve_count: 'Int64',
    });
    // toEqual on an object ignores key order: the order is checked on its own.
    expect(df.schema.fields.map((f) => f.name)).toEqual(Object.keys(types(df)));
    expect(cells(df, 'project')).toEqual(['acme/qap', 'acme/qap']);
    expect(cells(df, 'parent_run_id')).toEqual([null, 0n]);
    expect(cells(df, 'resumed_from')).toEqual([null, 0n]);
    expect(cells(df, 'description')).toEqual(['the first try', null]);
    expect(cells(df, 'duration_ms')).toEqual([1500, null]);
    expect(cells(df, 'labels')).toEqual(['gpu, baseline', 'cpu']);
    expect(cells(df, 'labels.gpu')).toEqual([true, null]);
    expect(cells(df, 'labels.cpu')).toEqual([null, true]);
    expect(cells(df, 'solve_count')).toEqual([2n, 0n]);
  });

  it('keeps the columns it had, in their order', async () => {
    const df = await tableOf([
      { runId: 0, record: { labels: ['x'], attributes: { a: 1 }, tags: { t: 'v' } } },
    ]);
    const before = [
      'run_id',
      'name',
      'status',
      'parent_run_id',
      'started_at',
      'ended_at',
      'duration_ms',
      'tags.t',
      'solve_count',
    ];
    expect(df.schema.fields.map((f) => f.name).filter((n) => before.includes(n))).toEqual(before);
  });

  it('names in RUN_COLUMNS exactly the bare columns, in table order, and prefixes the rest', async () => {
    const df = await tableOf([
      { runId: 0, record: { labels: ['x'], attributes: { a: 1 }, tags: { t: 'v' } } },
    ]);
    const names = df.schema.fields.map((f) => f.name);
    expect(names.filter((n) => !n.includes('.'))).toEqual(RUN_COLUMNS);
    for (const n of names.filter((n) => n.includes('.'))) {
      expect(RUN_COLUMN_PREFIXES.some((p) => n.startsWith(p))).toBe(true);
    }
    // With no runs at all, the run's own columns are still there.
    const empty = await tableOf([]);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(RUN_COLUMNS);
  });

  it('types each attribute column by its values; null and absence are null cells', async () => {
    const attributes: Record<string, JsonValue>[] = [
      {
        ints: 1,
        floats: 1,
        flags: true,
        words: 'a',
        mixed: 1,
        objects: { b: 2, a: [1, 'x'] },
        lists: [1, 2],
        nulls: null,
        huge: 2 ** 60,
        sometimes: 3,
      },
      {
        ints: -2,
        floats: 0.5,
        flags: false,
        words: 'b',
        mixed: 'one',
        objects: {},
        lists: [],
        nulls: null,
        huge: 1,
        sometimes: null,
      },
      { ints: 9007199254740991, mixed: true },
    ];
    const df = await tableOf(attributes.map((a, runId) => ({ runId, record: { attributes: a } })));
    const t = types(df);
    expect(t['attributes.ints']).toBe('Int64');
    expect(cells(df, 'attributes.ints')).toEqual([1n, -2n, 9007199254740991n]);
    expect(t['attributes.floats']).toBe('Float64');
    expect(cells(df, 'attributes.floats')).toEqual([1, 0.5, null]);
    expect(t['attributes.flags']).toBe('Bool');
    expect(cells(df, 'attributes.flags')).toEqual([true, false, null]);
    expect(t['attributes.words']).toBe('Utf8');
    expect(cells(df, 'attributes.words')).toEqual(['a', 'b', null]);
    // A mix is JSON text in every cell, strings quoted, so the types stay readable.
    expect(t['attributes.mixed']).toBe('Utf8');
    expect(cells(df, 'attributes.mixed')).toEqual(['1', '"one"', 'true']);
    // Objects and arrays are canonical JSON (keys sorted).
    expect(cells(df, 'attributes.objects')).toEqual(['{"a":[1,"x"],"b":2}', '{}', null]);
    expect(cells(df, 'attributes.lists')).toEqual(['[1,2]', '[]', null]);
    expect(t['attributes.nulls']).toBe('Utf8');
    expect(cells(df, 'attributes.nulls')).toEqual([null, null, null]);
    // 2^60 is not a safe integer: float64, not a rounded int64.
    expect(t['attributes.huge']).toBe('Float64');
    expect(cells(df, 'attributes.huge')).toEqual([2 ** 60, 1, null]);
    expect(t['attributes.sometimes']).toBe('Int64');
    expect(cells(df, 'attributes.sometimes')).toEqual([3n, null, null]);
    // Attribute columns come by name, in code point order.
    expect(df.schema.fields.map((f) => f.name).filter((n) => n.startsWith('attributes.'))).toEqual([
      'attributes.flags',
      'attributes.floats',
      'attributes.huge',
      'attributes.ints',
      'attributes.lists',
      'attributes.mixed',
      'attributes.nulls',
      'attributes.objects',
      'attributes.sometimes',
      'attributes.words',
    ]);
  });

  it('joins labels, counts a repeated one once, and gives each label a bool column the query language filters on', async () => {
    const df = await tableOf([
      { runId: 0, record: { labels: ['gpu', 'baseline', 'gpu'] } },
      { runId: 1, record: { labels: ['cpu'] } },
      { runId: 2 },
      { runId: 3, record: { labels: ['gpu', 'needs review'] } },
    ]);
    expect(cells(df, 'labels')).toEqual(['gpu, baseline', 'cpu', null, 'gpu, needs review']);
    expect(df.schema.fields.map((f) => f.name).filter((n) => n.startsWith('labels.'))).toEqual([
      'labels.baseline',
      'labels.cpu',
      'labels.gpu',
      'labels.needs review',
    ]);
    const ids = (where: string): unknown[] => cells(queryTable(df, { where }), 'run_id');
    expect(ids('labels.gpu = true')).toEqual([0n, 3n]);
    expect(ids('labels.gpu is null')).toEqual([1n, 2n]);
    expect(ids('`labels.needs review` = true')).toEqual([3n]);
    expect(ids("labels like '%baseline%'")).toEqual([0n]);
    expect(ids('labels is null')).toEqual([2n]);
  });

  it('gives every row the project of the reference, null without one', async () => {
    const runs = [{ runId: 0 }, { runId: 1 }];
    expect(cells(await tableOf(runs, 'ghcr.io/acme/qap:v1'), 'project')).toEqual([
      'acme/qap',
      'acme/qap',
    ]);
    expect(cells(await tableOf(runs), 'project')).toEqual([null, null]);
    expect(
      cells(
        await tableOf(runs, '1a2b3c4d.runledger.local/model-training:20261123T101500-9f8e7d6c'),
        'project'
      )
    ).toEqual(['model-training', 'model-training']);
    await expectCode(tableOf(runs, 'Not A Reference'), 'REFERENCE_INVALID');
  });

  it('keeps the MLflow summary of metrics and the run parameters beside the new columns', async () => {
    const df = await runsTable(
      [
        source({
          runId: 0,
          metrics: {
            loss: [
              [0, 0.9],
              [5, 0.1],
              [2, 0.5],
            ],
          },
        }),
        source({ runId: 2 }),
      ],
      parameters([0, 2], [{ name: 'labels', type: 'string', values: new Map([[2, 'param']]) }])
    );
    expect(cells(df, 'metrics.loss')).toEqual([0.1, null]);
    // A parameter named like a run column stays apart under params.
    expect(cells(df, 'params.labels')).toEqual([null, 'param']);
    expect(cells(df, 'labels')).toEqual([null, null]);
  });
});

describe('projectOf', () => {
  it('is the repository part of a reference', () => {
    expect(projectOf('ghcr.io/acme/qap:v1')).toBe('acme/qap');
    expect(projectOf('localhost:5000/team/study@sha256:' + '0'.repeat(64))).toBe('team/study');
    expect(projectOf('ubuntu')).toBe('library/ubuntu');
  });
});

describe('runsDf of a real experiment', () => {
  it('reads the project, labels, attributes, description and resumed_from back from the run records', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create(undefined, { registry, project: 'model-training' });
    await exp.run(
      (run) => {
        run.logParameter('seed', 1);
        run.setAttribute('lr', 0.1);
        run.setAttribute('layers', [64, 64]);
      },
      { name: 'baseline', tags: ['baseline', 'gpu'], description: 'the first try' }
    );
    await exp.run(
      (run) => {
        run.setAttribute('lr', 3);
        run.setAttribute('frozen', true);
      },
      { name: 'other', labels: ['cpu'] }
    );
    await exp.run(() => undefined, { name: 'again', resumeFrom: 0 });
    const live = await exp.runsDf();
    const sealed = await exp.commit();
    const df = await sealed.runsDf();
    expect(live.schema.fields.map((f) => f.name)).toEqual(df.schema.fields.map((f) => f.name));
    expect(df.schema.fields.map((f) => f.name)).toEqual([
      ...RUN_COLUMNS.slice(0, -1),
      'params.seed',
      'attributes.frozen',
      'attributes.layers',
      'attributes.lr',
      'labels.baseline',
      'labels.cpu',
      'labels.gpu',
      'solve_count',
    ]);
    expect(cells(df, 'project')).toEqual(['model-training', 'model-training', 'model-training']);
    expect(cells(live, 'project')).toEqual(cells(df, 'project'));
    expect(cells(df, 'name')).toEqual(['baseline', 'other', 'again']);
    expect(cells(df, 'description')).toEqual(['the first try', null, 'the first try']);
    expect(cells(df, 'resumed_from')).toEqual([null, null, 0n]);
    expect(cells(df, 'labels')).toEqual(['baseline, gpu', 'cpu', 'baseline, gpu']);
    expect(cells(df, 'labels.gpu')).toEqual([true, null, true]);
    expect(types(df)['attributes.lr']).toBe('Float64');
    expect(cells(df, 'attributes.lr')).toEqual([0.1, 3, 0.1]);
    expect(types(df)['attributes.frozen']).toBe('Bool');
    expect(cells(df, 'attributes.frozen')).toEqual([null, true, null]);
    expect(cells(df, 'attributes.layers')).toEqual(['[64,64]', null, '[64,64]']);
    expect(cells(queryTable(df, { where: 'labels.gpu = true' }), 'name')).toEqual([
      'baseline',
      'again',
    ]);
  });
});
