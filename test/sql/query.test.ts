/**
 * SQL over the store (`query`, `queryToParquet`, `writeParquet`) on the real DuckDB: every view
 * against answers computed by hand from what the test recorded, the read-only rules, the
 * per-experiment Parquet cache (damage → rebuilt, gc drops it), and Parquet files read back by
 * DuckDB itself.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { listExperiments } from '../../src/experiment/list.js';
import { query, queryToParquet, writeParquet } from '../../src/sql/query.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { fixedStateAdapter, knapsack } from '../helpers/ommx.js';
import { tempDir } from '../helpers/temp.js';

/** Row objects with bigints as numbers, for comparing with hand-written answers. */
function rows(table: Table): Record<string, unknown>[] {
  return table
    .toArray()
    .map((r) =>
      Object.fromEntries(
        Object.entries(r.toJSON() as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'bigint' ? Number(v) : v,
        ])
      )
    );
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/**
 * Three experiments of project `t.local/acme/qap`: tags a, b, c; runs with a parameter `k` whose
 * type clashes between experiments (int64, string, float64), `lr`, metric `loss` at steps 0..1
 * with fixed timestamps, a tag, attachments (the experiment's and a run's), and one solve in c.
 */
async function store(root: string): Promise<LocalRegistry> {
  const registry = await LocalRegistry.open(root);
  const ks = { a: 1, b: 'x', c: 2.5 } as const;
  for (const [tag, k] of Object.entries(ks)) {
    const exp = await Experiment.create(`t.local/acme/qap:${tag}`, {
      registry,
      journal: false,
      handleSignals: false,
    });
    await exp.logText('notes.txt', `notes of ${tag}`);
    for (let r = 0; r < 2; r++) {
      const run = exp.startRun({ nested: false });
      run.logParams({ k, lr: (r + 1) / 10 });
      run.setTag('who', `${tag}${r}`);
      for (let s = 0; s < 2; s++) {
        run.logMetric('loss', (r + 1) * 10 + s, { step: s, timestamp: T0 + 1000 * s });
      }
      if (tag === 'b') await run.logJson('cfg.json', { r });
      if (tag === 'c' && r === 1) {
        await run.logSolve(fixedStateAdapter({ 0: 0, 1: 1, 2: 1 }), knapsack(), { seed: 7 });
      }
      await run.finish(tag === 'a' && r === 1 ? 'failed' : 'finished');
    }
    await exp.commit();
  }
  return registry;
}

// One store for the read-only suites (tempDir() is removed after each test, this after all).
let registry: LocalRegistry;
let shared: string;
beforeAll(async () => {
  shared = await mkdtemp(join(tmpdir(), 'runledger-sql-'));
  registry = await store(shared);
}, 60_000);
afterAll(async () => {
  await rm(shared, { recursive: true, force: true });
});

describe('query: the views', () => {
  it('metrics holds every point, with timestamps', async () => {
    const t = await query(
      'select experiment, run_id, name, step, timestamp, value from metrics order by all',
      { registry }
    );
    const expected: Record<string, unknown>[] = [];
    for (const tag of ['a', 'b', 'c']) {
      for (let r = 0; r < 2; r++) {
        for (let s = 0; s < 2; s++) {
          expected.push({
            experiment: `t.local/acme/qap:${tag}`,
            run_id: r,
            name: 'loss',
            step: s,
            timestamp: new Date(T0 + 1000 * s).toISOString(),
            value: (r + 1) * 10 + s,
          });
        }
      }
    }
    expect(rows(t)).toEqual(expected);
  });

  it('a group-by over metrics gives the hand-computed answer', async () => {
    const t = await query(
      "select run_id, avg(value) as mean, count(*) as n from metrics where name = 'loss' group by run_id order by run_id",
      { registry }
    );
    expect(rows(t)).toEqual([
      { run_id: 0, mean: 10.5, n: 6 },
      { run_id: 1, mean: 20.5, n: 6 },
    ]);
  });

  it('params is long and typed: type, value as text, number when numeric', async () => {
    const t = await query("select * from params where name = 'k' order by experiment, run_id", {
      registry,
    });
    expect(rows(t)).toEqual([
      {
        experiment: 't.local/acme/qap:a',
        run_id: 0,
        name: 'k',
        type: 'int64',
        value: '1',
        number: 1,
      },
      {
        experiment: 't.local/acme/qap:a',
        run_id: 1,
        name: 'k',
        type: 'int64',
        value: '1',
        number: 1,
      },
      {
        experiment: 't.local/acme/qap:b',
        run_id: 0,
        name: 'k',
        type: 'string',
        value: 'x',
        number: null,
      },
      {
        experiment: 't.local/acme/qap:b',
        run_id: 1,
        name: 'k',
        type: 'string',
        value: 'x',
        number: null,
      },
      {
        experiment: 't.local/acme/qap:c',
        run_id: 0,
        name: 'k',
        type: 'float64',
        value: '2.5',
        number: 2.5,
      },
      {
        experiment: 't.local/acme/qap:c',
        run_id: 1,
        name: 'k',
        type: 'float64',
        value: '2.5',
        number: 2.5,
      },
    ]);
    const sum = await query("select sum(number) as s from params where name = 'lr'", { registry });
    expect(rows(sum)[0]?.['s']).toBeCloseTo(3 * (0.1 + 0.2), 12);
  });

  it('runs is the wide runs table; a clashing column keeps every value (as text)', async () => {
    const t = await query(
      'select experiment, run_id, status, "params.k", "params.lr", "metrics.loss", started_at from runs order by experiment, run_id',
      { registry }
    );
    const r = rows(t);
    expect(r.map((x) => [x['experiment'], x['run_id'], x['status'], x['params.k']])).toEqual([
      ['t.local/acme/qap:a', 0, 'finished', '1'],
      ['t.local/acme/qap:a', 1, 'failed', '1'],
      ['t.local/acme/qap:b', 0, 'finished', 'x'],
      ['t.local/acme/qap:b', 1, 'finished', 'x'],
      ['t.local/acme/qap:c', 0, 'finished', '2.5'],
      ['t.local/acme/qap:c', 1, 'finished', '2.5'],
    ]);
    expect(r.map((x) => x['params.lr'])).toEqual([0.1, 0.2, 0.1, 0.2, 0.1, 0.2]);
    expect(r.map((x) => x['metrics.loss'])).toEqual([11, 21, 11, 21, 11, 21]);
    // started_at is a TIMESTAMPTZ in SQL: date arithmetic works on it.
    expect(r.every((x) => typeof x['started_at'] === 'string')).toBe(true);
    const age = await query(
      "select count(*) as n from runs where started_at > timestamptz '2000-01-01' and ended_at >= started_at",
      { registry }
    );
    expect(rows(age)).toEqual([{ n: 6 }]);
  });

  it('tags, experiments, attachments and solves answer as recorded', async () => {
    expect(rows(await query('select * from tags order by all', { registry }))).toEqual(
      ['a', 'b', 'c'].flatMap((tag) =>
        [0, 1].map((r) => ({
          experiment: `t.local/acme/qap:${tag}`,
          run_id: r,
          name: 'who',
          value: `${tag}${r}`,
        }))
      )
    );
    const exps = rows(
      await query(
        'select experiment, project, tag, digest, status, run_count, solve_count from experiments order by experiment',
        { registry }
      )
    );
    const listed = await listExperiments({ registry });
    expect(exps).toEqual(
      listed.map((e) => ({
        experiment: e.imageName,
        project: 'acme/qap',
        tag: e.imageName.slice(-1),
        digest: e.manifestDigest,
        status: 'finished',
        run_count: 2,
        solve_count: e.imageName.endsWith(':c') ? 1 : 0,
      }))
    );
    const atts = rows(
      await query(
        'select experiment, run_id, name, media_type, size, digest from attachments order by all',
        { registry }
      )
    );
    const expected: Record<string, unknown>[] = [];
    for (const e of listed) {
      const sealed = await Experiment.load(e.imageName, { registry, pull: false });
      for (const scope of [sealed, ...sealed.runs]) {
        for (const name of scope.attachmentNames) {
          expected.push({
            experiment: e.imageName,
            run_id: 'runId' in scope ? scope.runId : null,
            name,
            media_type: scope.attachmentMediaType(name),
            size: scope.attachmentSize(name),
            digest: scope.attachmentDigest(name),
          });
        }
      }
    }
    const byKey = (x: Record<string, unknown>): string =>
      `${String(x['experiment'])} ${String(x['run_id'])} ${String(x['name'])}`;
    expect(atts.map(byKey)).toEqual(expected.map(byKey).sort());
    expect(atts.length).toBe(5); // three notes.txt, two cfg.json in b
    expect(new Set(atts.map(byKey))).toEqual(new Set(expected.map(byKey)));
    for (const a of atts) expect(expected).toContainEqual(a);
    const solves = rows(
      await query(
        'select experiment, run_id, solve_id, adapter, status, objective, "options.seed" from solves',
        {
          registry,
        }
      )
    );
    expect(solves).toEqual([
      {
        experiment: 't.local/acme/qap:c',
        run_id: 1,
        solve_id: 0,
        adapter: 'tests.FixedState',
        status: 'finished',
        objective: expect.any(Number),
        'options.seed': 7,
      },
    ]);
  });

  it('scopes the views to a reference, a project or a prefix', async () => {
    const one = await query('select distinct experiment from runs', {
      registry,
      experiments: 't.local/acme/qap:b',
    });
    expect(rows(one)).toEqual([{ experiment: 't.local/acme/qap:b' }]);
    const project = await query('select count(*) as n from experiments', {
      registry,
      experiments: 't.local/acme/qap',
    });
    expect(rows(project)).toEqual([{ n: 3 }]);
    const none = await query('select count(*) as n from metrics', {
      registry,
      experiments: 'elsewhere.local/',
    });
    expect(rows(none)).toEqual([{ n: 0 }]);
    await expectCode(
      query('select 1', { registry, experiments: 't.local/acme/qap:zz' }),
      'REF_NOT_FOUND'
    );
  });
});

describe('query: read-only', () => {
  it.each([
    ['insert into runs select * from runs', 'INSERT'],
    ['delete from metrics', 'DELETE'],
    ['create table x as select 1', 'CREATE'],
    ["copy runs to 'out.csv'", 'COPY'],
    ["attach 'other.db'", 'ATTACH'],
    ['install httpfs', 'INSTALL'],
    ['set enable_external_access = true', 'SET'],
    ['pragma version', 'PRAGMA'],
  ])('refuses %s', async (sql, kind) => {
    const before = await listExperiments({ registry });
    const e = await expectCode(query(sql, { registry }), 'SQL_REFUSED');
    expect(e.message).toBe(
      `The store is read-only to SQL: ${kind} statements are refused; only SELECT runs.`
    );
    expect(await listExperiments({ registry })).toEqual(before);
  });

  it('refuses two statements, and a SELECT that reads a file outside the views', async () => {
    await expectCode(query('select 1; select 2', { registry }), 'SQL_REFUSED');
    const e = await expectCode(
      query("select * from read_csv('/etc/passwd')", { registry }),
      'SQL_REFUSED'
    );
    expect(e.message).toContain('/etc/passwd');
    await expectCode(query("select * from glob('/*')", { registry }), 'SQL_REFUSED');
  });

  it('names what is wrong with a statement that does not parse or bind', async () => {
    const syntax = await expectCode(query('select from where', { registry }), 'SQL_INVALID');
    expect(syntax.message).toMatch(/^The SQL statement does not parse: .*syntax error/);
    const table = await expectCode(query('select * from nope', { registry }), 'SQL_INVALID');
    expect(table.message).toContain('nope');
  });
});

describe('query: the derived Parquet cache', () => {
  it('is built once per experiment and view, rebuilt when damaged, same answer', async () => {
    const reg = await store(await tempDir());
    const sql = 'select experiment, run_id, step, value from metrics order by all';
    const first = rows(await query(sql, { registry: reg }));
    const dir = join(reg.root, '.runledger', 'derived', 'sql-metrics');
    const sets = `${dir}-sets`;
    const parquet = async (d: string): Promise<string[]> =>
      (await readdir(d)).filter((f) => f.endsWith('.parquet')).sort();
    const files = await parquet(dir);
    expect(files.length).toBe(3);
    const combined = await parquet(sets);
    expect(combined.length).toBe(1);
    const flip = async (path: string): Promise<Buffer> => {
      const bytes = await readFile(path);
      const at = bytes.length >> 1;
      bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
      await writeFile(path, bytes);
      return bytes;
    };
    // The combined file damaged: rebuilt from the per-experiment files, same answer.
    const damagedSet = await flip(join(sets, combined[0] as string));
    expect(rows(await query(sql, { registry: reg }))).toEqual(first);
    expect(await parquet(sets)).toEqual(combined);
    expect((await readFile(join(sets, combined[0] as string))).equals(damagedSet)).toBe(false);
    // A per-experiment file damaged (and the combined one gone): rebuilt, same answer.
    const damaged = await flip(join(dir, files[0] as string));
    await rm(join(sets, combined[0] as string));
    expect(rows(await query(sql, { registry: reg }))).toEqual(first);
    expect(await parquet(dir)).toEqual(files);
    expect((await readFile(join(dir, files[0] as string))).equals(damaged)).toBe(false);
  }, 60_000);

  it('two queries building the same cache at once both answer right', async () => {
    const reg = await store(await tempDir());
    const sql = 'select count(*) as n, sum(value) as s from metrics';
    const [a, b] = await Promise.all([
      query(sql, { registry: reg }),
      query(sql, { registry: reg }),
    ]);
    expect(rows(a)).toEqual([{ n: 12, s: 3 * (10 + 11 + 20 + 21) }]);
    expect(rows(b)).toEqual(rows(a));
  }, 60_000);

  it('gc --delete drops the files of a removed experiment', async () => {
    const reg = await store(await tempDir());
    await query('select count(*) from metrics join params using (experiment, run_id)', {
      registry: reg,
    });
    const dirs = ['sql-metrics', 'sql-params'].map((k) =>
      join(reg.root, '.runledger', 'derived', k)
    );
    const count = async (): Promise<number[]> =>
      Promise.all(
        dirs.map(async (d) => (await readdir(d)).filter((f) => f.endsWith('.parquet')).length)
      );
    expect(await count()).toEqual([3, 3]);
    await reg.deleteRef('t.local/acme/qap:a');
    await reg.gc({ delete: true, gracePeriod: 0 });
    expect(await count()).toEqual([2, 2]);
    expect(rows(await query('select count(*) as n from metrics', { registry: reg }))).toEqual([
      { n: 8 },
    ]);
  }, 60_000);
});

describe('Parquet files', () => {
  async function readBack(path: string, sql = 'select * from t') {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      await c.run(`create view t as select * from read_parquet('${path}')`);
      const r = await c.runAndReadAll(sql);
      return {
        types: Object.fromEntries(r.columnNames().map((n, i) => [n, String(r.columnTypes()[i])])),
        rows: r.getRowObjectsJS(),
      };
    } finally {
      c.closeSync();
      db.closeSync();
    }
  }

  it('writeParquet keeps types, and times become timestamps', async () => {
    const sealed = await Experiment.load('t.local/acme/qap:a', { registry, pull: false });
    const path = join(await tempDir(), 'runs.parquet');
    expect(await writeParquet(await sealed.runsDf(), path)).toBe(2);
    const back = await readBack(path, 'select * from t order by run_id');
    expect(back.types).toMatchObject({
      run_id: 'BIGINT',
      status: 'VARCHAR',
      'params.k': 'BIGINT',
      'params.lr': 'DOUBLE',
      'metrics.loss': 'DOUBLE',
      started_at: 'TIMESTAMP WITH TIME ZONE',
      ended_at: 'TIMESTAMP WITH TIME ZONE',
    });
    const info = await sealed.runs[1]?.getInfo();
    expect(back.rows[1]).toMatchObject({
      run_id: 1n,
      status: 'failed',
      'params.lr': 0.2,
      started_at: new Date(info?.startedAt as string),
    });
  });

  it('queryToParquet writes the result straight from DuckDB', async () => {
    const path = join(await tempDir(), 'm.parquet');
    const n = await queryToParquet(
      'select experiment, step, timestamp, value from metrics where run_id = 0 order by all;',
      path,
      { registry }
    );
    expect(n).toBe(6);
    const back = await readBack(path, 'select * from t order by all');
    expect(back.types['timestamp']).toBe('TIMESTAMP WITH TIME ZONE');
    expect(back.rows.map((r) => r['value'])).toEqual([10, 11, 10, 11, 10, 11]);
    await expectCode(queryToParquet('delete from runs', path, { registry }), 'SQL_REFUSED');
  });
});
