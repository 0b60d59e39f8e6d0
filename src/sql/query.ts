/**
 * @module sql/query
 * `query(sql)`: a read-only SQL statement over everything the store holds, on DuckDB (an
 * optional peer dependency), through the views of `sql/views`; and Parquet files of a query or
 * of any runledger table.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { chooseExperiments } from '../experiment/search.js';
import { LocalRegistry } from '../store/local-registry.js';
import { typedColumnsTable } from '../tables/arrow.js';
import { quoteIdentifier, quoteLiteral, SqlEngine, type ResultColumn } from './duckdb.js';
import { arrowColumns, createViews, viewsNamedIn } from './views.js';

/** Options of {@link query} and {@link queryToParquet}. */
export interface SqlQueryOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /**
   * Which experiments the views cover: a project, a reference, a prefix ending in `/`, or
   * several (as `searchRuns` takes them). Every experiment when absent.
   */
  readonly experiments?: string | readonly string[];
}

/**
 * Runs one read-only SQL statement (DuckDB's dialect) over the store's views:
 * - `experiments` — one row per experiment: experiment, project, tag, digest, status, reason,
 *   updated_at, run_count, solve_count, sampling_count;
 * - `runs` — the runs table, wide (`"params.lr"`, `"metrics.loss"`, … quoted), with
 *   experiment and experiment_digest in front;
 * - `params` — long: experiment, run_id, name, type (`int64`, `float64`, `bool`, `string`),
 *   value (text), number (the value when numeric);
 * - `tags` — experiment, run_id, name, value;
 * - `metrics` — every point: experiment, run_id, name, step, timestamp, value;
 * - `solves` — the solves table with experiment in front;
 * - `attachments` — experiment, run_id (null for the experiment's own), name, media_type,
 *   size, digest.
 * Only a single `SELECT` (or `EXPLAIN`) runs; nothing outside the views can be read or written.
 * Times are TIMESTAMPTZ in SQL and RFC 3339 text in the returned table.
 * @param sql - the statement
 * @param options - registry, experiments
 * @returns the result as an Arrow table (integers int64, reals float64, booleans bool, anything
 *   else text)
 * @throws RunledgerError `DEPENDENCY_MISSING` (no `@duckdb/node-api`), `SQL_INVALID`,
 *   `SQL_REFUSED`, `REF_NOT_FOUND`
 * @example
 * ```ts
 * const best = await query(
 *   "select experiment, min(value) as best from metrics where name = 'loss' group by all"
 * );
 * ```
 */
export async function query(sql: string, options: SqlQueryOptions = {}): Promise<Table> {
  const engine = await openViews(sql, options);
  try {
    return resultTable(await engine.queryReadOnly(sql));
  } finally {
    engine.close();
  }
}

/**
 * Runs one read-only statement as {@link query} does and writes its result as a Parquet file
 * (zstd; times stay timestamps), whole or not at all.
 * @param sql - the statement
 * @param path - the file to write (replaced when it exists)
 * @param options - registry, experiments
 * @returns the number of rows written
 * @throws RunledgerError as {@link query}, and `IO_ERROR`
 * @example
 * ```ts
 * await queryToParquet('select * from metrics', 'metrics.parquet');
 * ```
 */
export async function queryToParquet(
  sql: string,
  path: string,
  options: SqlQueryOptions = {}
): Promise<number> {
  const target = resolve(path);
  const temp = tempBeside(target);
  const engine = await openViews(sql, options, [temp]);
  try {
    await engine.assertReadOnly(sql);
    const body = sql.trim().replace(/;\s*$/, '');
    const rows = await engine.copy(
      `COPY (\n${body}\n) TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION zstd)`
    );
    await placeFile(temp, target);
    return rows;
  } finally {
    engine.close();
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/**
 * Writes a runledger table (`runsDf()`, `solvesDf()`, `searchRuns()`, `query()` …) as a Parquet
 * file, whole or not at all: int64, float64, bool and text columns keep their types, and the
 * RFC 3339 text of `started_at`, `ended_at`, `timestamp` and other `…_at` columns becomes
 * TIMESTAMPTZ — so DuckDB, pandas and Polars read it natively.
 * @param table - the table
 * @param path - the file to write (replaced when it exists)
 * @returns the number of rows written
 * @throws RunledgerError `DEPENDENCY_MISSING` (no `@duckdb/node-api`), `IO_ERROR`
 * @example
 * ```ts
 * await writeParquet(await sealed.runsDf(), 'runs.parquet');
 * ```
 */
export async function writeParquet(table: Table, path: string): Promise<number> {
  const target = resolve(path);
  const temp = tempBeside(target);
  const engine = await SqlEngine.open();
  try {
    await engine.createTable('t', arrowColumns(table));
    await engine.run(
      `COPY ${quoteIdentifier('t')} TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION zstd)`
    );
    await placeFile(temp, target);
    return table.numRows;
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (e instanceof RunledgerError) throw e;
    throw new RunledgerError('IO_ERROR', `Could not write the Parquet file ${target}.`, {
      data: { path: target },
      cause: e,
    });
  } finally {
    engine.close();
  }
}

/** An engine with the views `sql` names, locked down to them (and to `writable` files). */
async function openViews(
  sql: string,
  options: SqlQueryOptions,
  writable: readonly string[] = []
): Promise<SqlEngine> {
  const registry = options.registry ?? (await LocalRegistry.open());
  const experiments = await chooseExperiments(registry, options.experiments);
  const engine = await SqlEngine.open();
  try {
    const dirs = await createViews(engine, registry, experiments, viewsNamedIn(sql));
    await engine.lockDown(dirs, writable);
    return engine;
  } catch (e) {
    engine.close();
    throw e;
  }
}

/** A temp file beside `target`, renamed onto it once whole. */
function tempBeside(target: string): string {
  const name = `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  return join(dirname(target), name);
}

async function placeFile(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target);
  } catch (cause) {
    throw new RunledgerError('IO_ERROR', `Could not write the Parquet file ${target}.`, {
      data: { path: target },
      cause,
    });
  }
}

/** Result columns as an Arrow table; timestamps as RFC 3339 text. */
function resultTable(columns: readonly ResultColumn[]): Table {
  const seen = new Map<string, number>();
  return typedColumnsTable(
    columns.map((c) => {
      // SQL allows two result columns of one name (`select 1 as a, 2 as a`); a table does not.
      const n = seen.get(c.name) ?? 0;
      seen.set(c.name, n + 1);
      return {
        name: n === 0 ? c.name : `${c.name}_${n}`,
        type: c.kind === 'timestamp' ? 'utf8' : c.kind,
        values: c.values,
      };
    })
  );
}
