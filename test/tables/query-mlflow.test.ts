/**
 * MLflow's `search_runs` filter_string spellings, accepted where they differ from ours: entity
 * prefixes and their aliases, quoted entity names, `attributes.<run attribute>`, `run_name`,
 * start and end times in epoch milliseconds, and MLflow's upper-case run statuses.
 */
import { describe, expect, it } from 'vitest';
import { isRunledgerError, type RunledgerError } from '../../src/errors.js';
import { typedColumnsTable } from '../../src/tables/arrow.js';
import { parseSort, parseWhere, queryTable, type Row } from '../../src/tables/query.js';

const COLUMNS = [
  'run_id',
  'name',
  'status',
  'started_at',
  'ended_at',
  'params.my param',
  'params.lr',
  'metrics.a b',
  'metrics.loss',
  'tags.mlflow.source.type',
  'tags.stage',
];

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const ROWS: readonly Row[] = [
  {
    run_id: 0n,
    name: 'alpha',
    status: 'finished',
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:00:01.500Z',
    'params.my param': 'x',
    'params.lr': 0.1,
    'metrics.a b': 1,
    'metrics.loss': 0.5,
    'tags.mlflow.source.type': 'LOCAL',
    'tags.stage': 'dev',
  },
  {
    run_id: 1n,
    name: 'beta',
    status: 'failed',
    started_at: '2026-01-01T00:00:02.000Z',
    ended_at: null,
    'params.my param': 'y',
    'params.lr': 0.01,
    'metrics.a b': 3,
    'metrics.loss': 0.2,
    'tags.mlflow.source.type': 'NOTEBOOK',
    'tags.stage': 'prod',
  },
  {
    run_id: 2n,
    name: 'gamma',
    status: 'interrupted',
    started_at: '2026-01-01T00:00:01.000Z',
    ended_at: '2026-01-01T00:00:09.000Z',
    'params.my param': null,
    'params.lr': 0.1,
    'metrics.a b': null,
    'metrics.loss': 0.9,
    'tags.mlflow.source.type': 'LOCAL',
    'tags.stage': null,
  },
  {
    run_id: 3n,
    name: null,
    status: 'running',
    started_at: 'not a time',
    ended_at: null,
    'params.my param': 'x',
    'params.lr': null,
    'metrics.a b': 2,
    'metrics.loss': null,
    'tags.mlflow.source.type': null,
    'tags.stage': 'dev',
  },
];

function ids(expr: string, columns: readonly string[] = COLUMNS, rows = ROWS): number[] {
  return rows.filter(parseWhere(expr, columns)).map((r) => Number(r['run_id']));
}

function usageOf(f: () => unknown): RunledgerError {
  try {
    f();
  } catch (e) {
    if (isRunledgerError(e, 'USAGE')) return e;
    throw e;
  }
  throw new Error('expected a USAGE error');
}

describe('MLflow filter_string spellings', () => {
  it.each([
    // quoted entity names: double quotes or backquotes after the prefix
    ['metrics."a b" >= 2', [1, 3]],
    ['metrics.`a b` < 2', [0]],
    ["params.`my param` = 'x'", [0, 3]],
    ['params."my param" = "y"', [1]],
    ["tags.`mlflow.source.type` = 'LOCAL'", [0, 2]],
    ["tags.mlflow.source.type = 'LOCAL'", [0, 2]],
    // MLflow's entity aliases (metric, param, parameter, parameters, tag)
    ['metric.loss < 0.6', [0, 1]],
    ['param.lr = 0.1', [0, 2]],
    ['parameter.lr = 0.1', [0, 2]],
    ['parameters.lr = 0.1', [0, 2]],
    ["tag.stage = 'dev'", [0, 3]],
    // run attributes: attributes.X (also attribute., attr., run.) and bare run_name
    ["attributes.status = 'failed'", [1]],
    ["attribute.status = 'failed'", [1]],
    ["attr.status = 'failed'", [1]],
    ["run.status = 'failed'", [1]],
    ["attributes.run_name = 'alpha'", [0]],
    ["attributes.`run_name` = 'alpha'", [0]],
    ["run_name = 'alpha'", [0]],
    ["run_name LIKE '%a'", [0, 1, 2]],
    ['attributes.run_id = 1', [1]],
    ['attributes.run_id IN (1, 2)', [1, 2]],
    // start_time / end_time: MLflow's epoch milliseconds, read from started_at / ended_at
    [`attributes.start_time >= ${T0 + 1000}`, [1, 2]],
    [`attributes.start_time = ${T0}`, [0]],
    [`attributes.end_time < ${T0 + 2000}`, [0]],
    ['attributes.end_time IS NULL', [1, 3]],
    // a text that is not a time is null in epoch milliseconds
    ['attributes.start_time IS NULL', [3]],
    ["attributes.start_time = '2026-01-01T00:00:00.000Z'", []],
    // MLflow's upper-case statuses match ours whatever the case (KILLED is interrupted)
    ["status = 'FINISHED'", [0]],
    ["attributes.status = 'FAILED'", [1]],
    ["attributes.status != 'FINISHED'", [1, 2, 3]],
    ["status IN ('FINISHED', 'RUNNING')", [0, 3]],
    ["status NOT IN ('FINISHED', 'RUNNING')", [1, 2]],
    ["status = 'KILLED'", [2]],
    ["status = 'SCHEDULED'", []],
    // ours stays case-sensitive: a lower-case or mixed-case literal is compared as written
    ["status = 'Finished'", []],
    // keywords in any case, MLflow's usual shape
    ["metrics.loss < 1 AND params.`my param` = 'x' AND tags.`mlflow.source.type` = 'LOCAL'", [0]],
    ["tags.stage IS NOT NULL and name ILIKE 'B%'", [1]],
    ["tags.stage is null OR run_name LIKE 'a%'", [0, 2]],
  ] as const)('%s', (expr, expected) => {
    expect(ids(expr)).toEqual(expected);
  });

  it('lets a column of that exact name win over an alias', () => {
    const columns = [...COLUMNS, 'attributes.status', 'run_name', 'metric.loss'];
    const rows: Row[] = ROWS.map((r, i) => ({
      ...r,
      'attributes.status': i === 3 ? 'weird' : null,
      run_name: i === 2 ? 'own' : null,
      'metric.loss': i === 1 ? 7 : null,
    }));
    expect(ids("attributes.status = 'weird'", columns, rows)).toEqual([3]);
    expect(ids("attributes.status = 'failed'", columns, rows)).toEqual([]);
    expect(ids("run_name = 'own'", columns, rows)).toEqual([2]);
    expect(ids('metric.loss = 7', columns, rows)).toEqual([1]);
    // Our typed attributes are attributes.<name> too, when MLflow has no attribute of that name.
    expect(
      ids('attr.lr = 1', ['run_id', 'attributes.lr'], [{ run_id: 5n, 'attributes.lr': 1 }])
    ).toEqual([5]);
  });

  it('sorts by MLflow spellings too', () => {
    const order = (spec: string): number[] =>
      [...ROWS].sort(parseSort(spec, COLUMNS)).map((r) => Number(r['run_id']));
    expect(order('attributes.start_time DESC')).toEqual([1, 2, 0, 3]);
    expect(order('metrics."a b" desc')).toEqual([1, 3, 0, 2]);
    expect(order('attributes.run_name, run_id')).toEqual([0, 1, 2, 3]);
  });

  it('works on Arrow tables through queryTable', () => {
    const table = typedColumnsTable([
      { name: 'run_id', type: 'int64', values: [0, 1, 2] },
      { name: 'status', type: 'utf8', values: ['finished', 'failed', 'interrupted'] },
      {
        name: 'started_at',
        type: 'utf8',
        values: ROWS.slice(0, 3).map((r) => r['started_at'] as string),
      },
      { name: 'metrics.a b', type: 'float64', values: [1, 3, null] },
    ]);
    const out = queryTable(table, {
      where: "attributes.status IN ('FINISHED', 'KILLED')",
      orderBy: 'attributes.start_time desc',
    });
    expect([...out.getChild('run_id')!].map(Number)).toEqual([2, 0]);
    expect(queryTable(table, { where: 'metrics."a b" > 2' }).numRows).toBe(1);
  });

  it.each([
    ['metrics."a b', 8, /Unterminated quoted name at position 8/],
    ['metrics.`a b', 8, /Unterminated quoted name at position 8/],
    ['metrics."nope" > 1', 0, /Unknown column "metrics.nope" at position 0/],
    ["attributes.user_id = 'me'", 0, /Unknown column "attributes.user_id" at position 0/],
    ['metric.los < 1', 0, /Unknown column "metric.los" at position 0.*did you mean metrics\.loss/],
    ["status = 'FINISHED' and", 23, /Expected a column name at position 23/],
    ['status = \'FINISHED\' AND metrics."a b" >', 39, /Expected a literal .* at position 39/],
    ['run_name LIKE', 13, /Expected a quoted pattern at position 13/],
  ] as const)('rejects %j at position %i', (expr, position, message) => {
    const e = usageOf(() => parseWhere(expr, COLUMNS));
    expect(e.message).toMatch(message);
    expect(e.data).toMatchObject({ expr, position });
  });
});
