/**
 * @module cli/commands/sql
 * `runledger sql "<SELECT …>" [ref | project | prefix/]…`: one read-only SQL statement over the
 * store's views (DuckDB, an optional peer dependency), as text, CSV, JSON, an Arrow IPC file or a
 * Parquet file.
 */
import { join } from 'node:path';
import { query, queryToParquet } from '../../sql/query.js';
import { writeOutput } from '../output.js';
import { arrowRows, printTable, TABLE_OPTIONS } from '../run-table.js';
import { DISPLAY_OPTIONS } from '../format.js';
import type { Command } from '../types.js';
import { resolveScope } from '../resolve.js';

export const sql: Command = {
  name: 'sql',
  usage:
    'sql "<SELECT …>" [ref | project | prefix/]… [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
  summary:
    'a read-only SQL query over the views experiments, runs, params, tags, metrics, solves, attachments (needs @duckdb/node-api)',
  options: { ...TABLE_OPTIONS, ...DISPLAY_OPTIONS },
  arity: [1, Infinity],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const [statement, ...given] = ctx.positionals as [string, ...string[]];
    const scope = await resolveScope(registry, given);
    const options = { registry, ...(scope.length === 0 ? {} : { experiments: scope }) };
    const parquet = ctx.values['parquet'];
    if (
      typeof parquet === 'string' &&
      !(ctx.json || ctx.values['csv'] === true || ctx.values['arrow'] !== undefined)
    ) {
      // Straight from DuckDB to the file: times stay timestamps, nothing passes through JS.
      let rows = 0;
      const path = await writeOutput(
        ctx.io,
        parquet,
        async (dir) => {
          const file = join(dir, 'query.parquet');
          rows = await queryToParquet(statement, file, options);
          return file;
        },
        { force: ctx.values['force'] === true }
      );
      if (path !== '-') ctx.print(`Wrote ${rows} rows to ${path}`);
      return 0;
    }
    const table = await query(statement, options);
    await printTable(ctx, table, arrowRows(table), { what: 'rows' });
    return 0;
  },
};
