/**
 * `runledger sql` and `--parquet` on the command line; `DEPENDENCY_MISSING` when DuckDB is not
 * installed, seen by running the built package from a copy whose node_modules lacks
 * `@duckdb/node-api` (a real missing package, not a mock); and DuckDB staying behind one module.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { requireBuilt } from '../helpers/built.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** Two experiments of one project, two runs each; `loss` logged at steps 0 and 1. */
async function study(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  for (const tag of ['v1', 'v2']) {
    const exp = await Experiment.create(`ghcr.io/acme/sqlcli:${tag}`, {
      registry,
      journal: false,
      handleSignals: false,
    });
    for (let r = 0; r < 2; r++) {
      await exp.run((run) => {
        run.logParams({ lr: r === 0 ? 0.1 : 0.01 });
        run.logMetric('loss', 1 + r, { step: 0, timestamp: 0 });
        run.logMetric('loss', 0.5 + r, { step: 1, timestamp: 1000 });
      });
    }
    await exp.commit();
  }
  return root;
}

// tempDir() is removed after each test; this store lives for the file.
let root: string;
beforeAll(async () => {
  root = await study();
  kept = await mkdtemp(join(tmpdir(), 'runledger-sqlcli-'));
  await cp(root, kept, { recursive: true });
  root = kept;
}, 60_000);
let kept: string;
afterAll(async () => {
  await rm(kept, { recursive: true, force: true });
});

describe('runledger sql', () => {
  const GROUP =
    "select experiment, count(*) as points, min(value) as best from metrics where name = 'loss' group by experiment order by experiment";

  it('prints a table, CSV and JSON', async () => {
    const text = await cli(['--root', root, 'sql', GROUP]);
    expect(text.code, text.err).toBe(0);
    const lines = text.out.trimEnd().split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual(['experiment', 'points', 'best']);
    expect(lines.slice(-2).map((l) => l.split(/\s+/))).toEqual([
      ['ghcr.io/acme/sqlcli:v1', '4', '0.5'],
      ['ghcr.io/acme/sqlcli:v2', '4', '0.5'],
    ]);
    const csv = await cli(['--root', root, 'sql', GROUP, '--csv']);
    expect(csv.out).toBe(
      'experiment,points,best\nghcr.io/acme/sqlcli:v1,4,0.5\nghcr.io/acme/sqlcli:v2,4,0.5\n'
    );
    const json = await cli(['--root', root, '--json', 'sql', GROUP]);
    expect(JSON.parse(json.out)).toEqual([
      { experiment: 'ghcr.io/acme/sqlcli:v1', points: 4, best: 0.5 },
      { experiment: 'ghcr.io/acme/sqlcli:v2', points: 4, best: 0.5 },
    ]);
  });

  it('limits the views to the references, projects or prefixes after the statement', async () => {
    const one = await cli([
      '--root',
      root,
      'sql',
      'select distinct experiment from runs',
      'ghcr.io/acme/sqlcli:v2',
      '--csv',
    ]);
    expect(one.out).toBe('experiment\nghcr.io/acme/sqlcli:v2\n');
  });

  it('writes Arrow and Parquet files (timestamps stay timestamps in Parquet)', async () => {
    const dir = await tempDir();
    const arrow = await cli(
      ['--root', root, 'sql', 'select * from metrics', '--arrow', 'm.arrow'],
      dir
    );
    expect(arrow.code, arrow.err).toBe(0);
    expect(tableFromArrowFile(await readFile(join(dir, 'm.arrow'))).numRows).toBe(8);
    const parquet = await cli(
      ['--root', root, 'sql', 'select * from metrics', '--parquet', 'm.parquet'],
      dir
    );
    expect(parquet.code, parquet.err).toBe(0);
    expect(parquet.out).toBe(`Wrote 8 rows to ${join(dir, 'm.parquet')}\n`);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `select typeof(timestamp) as t, count(*) as n from read_parquet('${join(dir, 'm.parquet')}') group by all`
    );
    expect(r.getRowObjectsJS()).toEqual([{ t: 'TIMESTAMP WITH TIME ZONE', n: 8n }]);
    c.closeSync();
    db.closeSync();
    // An existing file needs --force, as with --arrow.
    const again = await cli(['--root', root, 'sql', 'select 1', '--parquet', 'm.parquet'], dir);
    expect(again.code).toBe(1);
    expect(again.err).toContain('FILE_EXISTS');
  });

  it('runs and solves take --parquet too', async () => {
    const dir = await tempDir();
    const runs = await cli(
      ['--root', root, 'runs', 'ghcr.io/acme/sqlcli', '--all-columns', '--parquet', 'runs.parquet'],
      dir
    );
    expect(runs.code, runs.err).toBe(0);
    expect(runs.out).toBe(`Wrote 4 runs to ${join(dir, 'runs.parquet')}\n`);
    const solves = await cli(
      ['--root', root, 'solves', 'ghcr.io/acme/sqlcli:v1', '--parquet', 's.parquet'],
      dir
    );
    expect(solves.code, solves.err).toBe(0);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `select experiment, typeof(started_at) as t, "params.lr" as lr from read_parquet('${join(dir, 'runs.parquet')}') order by all`
    );
    expect(r.getRowObjectsJS()).toEqual([
      { experiment: 'ghcr.io/acme/sqlcli:v1', t: 'TIMESTAMP WITH TIME ZONE', lr: 0.01 },
      { experiment: 'ghcr.io/acme/sqlcli:v1', t: 'TIMESTAMP WITH TIME ZONE', lr: 0.1 },
      { experiment: 'ghcr.io/acme/sqlcli:v2', t: 'TIMESTAMP WITH TIME ZONE', lr: 0.01 },
      { experiment: 'ghcr.io/acme/sqlcli:v2', t: 'TIMESTAMP WITH TIME ZONE', lr: 0.1 },
    ]);
    c.closeSync();
    db.closeSync();
    const both = await cli(['--root', root, 'runs', '--all', '--csv', '--parquet', 'x.parquet']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('Choose one of --csv, --json, --arrow and --parquet.');
  });

  it('refuses a write with one line and a hint, and leaves the store as it was', async () => {
    const before = await cli(['--root', root, 'ls', '--json']);
    const refused = await cli(['--root', root, 'sql', 'drop table runs']);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      'runledger: SQL_REFUSED: The store is read-only to SQL: DROP statements are refused; only SELECT runs.\n' +
        'hint: runledger sql reads the store and never writes it: run one SELECT, and use --csv, --json, --arrow or --parquet to save the result.\n'
    );
    const invalid = await cli(['--root', root, 'sql', 'select * from params where lr > 1']);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/^runledger: SQL_INVALID: .*lr/);
    expect(invalid.err).toContain('hint: The views are experiments, runs, params');
    expect((await cli(['--root', root, 'ls', '--json'])).out).toBe(before.out);
  });
});

describe('without @duckdb/node-api', () => {
  it('sql and --parquet fail with DEPENDENCY_MISSING and the install command', async () => {
    requireBuilt();
    // The built package in a directory of its own, with every dependency but DuckDB.
    const pkg = await tempDir();
    await cp(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    await mkdir(join(pkg, 'node_modules'));
    for (const name of await readdir(join(ROOT, 'node_modules'))) {
      if (name === '@duckdb' || name === '.bin') continue;
      await symlink(join(ROOT, 'node_modules', name), join(pkg, 'node_modules', name));
    }
    const bin = join(pkg, 'dist', 'src', 'cli', 'bin.js');
    // Nothing above the copy may hold the package (a node_modules in a parent directory would).
    expect(
      () => createRequire(bin).resolve('@duckdb/node-api'),
      'a node_modules above the temp directory holds @duckdb/node-api'
    ).toThrow();
    const run = async (args: string[]) => {
      try {
        const r = await promisify(execFile)(process.execPath, [bin, '--root', root, ...args]);
        return { code: 0, err: r.stderr };
      } catch (e) {
        const x = e as { code: number; stderr: string };
        return { code: x.code, err: x.stderr };
      }
    };
    const message =
      'runledger: DEPENDENCY_MISSING: SQL and Parquet need the optional package @duckdb/node-api: run `npm install @duckdb/node-api`.\n';
    const sql = await run(['sql', 'select 1']);
    expect(sql).toEqual({
      code: 1,
      err:
        message +
        'hint: Install the optional package the message names (npm install …) and retry.\n',
    });
    const dir = await tempDir();
    const parquet = await run(['runs', '--all', '--parquet', join(dir, 'r.parquet')]);
    expect(parquet.code).toBe(1);
    expect(parquet.err.startsWith(message)).toBe(true);
    // Everything else still works without it.
    const runs = await run(['runs', '--all', '--csv']);
    expect(runs).toEqual({ code: 0, err: '' });
  }, 60_000);
});

describe('DuckDB stays behind one module', () => {
  it('only src/sql/duckdb.ts imports @duckdb/node-api at run time', async () => {
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(join(ROOT, dir), { withFileTypes: true })) {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory()) await walk(p);
        else if (p.endsWith('.ts')) {
          const text = await readFile(join(ROOT, p), 'utf8');
          if (/(^\s*(import|export)\s+(?!type\s)[^;]*?from\s+|import\()'@duckdb\//m.test(text)) {
            offenders.push(p);
          }
        }
      }
    };
    await walk('src');
    expect(offenders).toEqual(['src/sql/duckdb.ts']);
  });
});
