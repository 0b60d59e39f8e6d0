/**
 * @module cli/commands/runs
 * `runledger runs <ref>`: the run table, as text, CSV, JSON or an Arrow IPC file; with
 * `--all-columns` the full runs table (names, tags, parents, times, metrics, solve counts), and
 * `--where` / `--sort` over its columns.
 */
import type { Table } from 'apache-arrow';
import { Experiment } from '../../experiment/experiment.js';
import { queryTable } from '../../tables/query.js';
import { selectColumns } from '../../tables/arrow.js';
import { arrowRows, parameterColumn, printTable, runRows, TABLE_OPTIONS } from '../run-table.js';
import type { Command } from '../types.js';

export const runs: Command = {
  name: 'runs',
  usage:
    'runs <ref> [--all-columns] [--where EXPR] [--sort "COL [asc|desc], …"] [--csv | --json | --arrow FILE|- [--force]]',
  summary: 'the run table: run_id, status and one column per parameter (or every column)',
  options: {
    ...TABLE_OPTIONS,
    'all-columns': { type: 'boolean' },
    where: { type: 'string' },
    sort: { type: 'string' },
  },
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(ctx.positionals[0] as string, { registry, pull: false });
    const all = ctx.values['all-columns'] === true;
    const where = ctx.values['where'];
    const sort = ctx.values['sort'];
    if (!all && where === undefined && sort === undefined) {
      await printTable(ctx, sealed.runParametersDf(), runRows(sealed), { what: 'runs' });
      return 0;
    }
    const selected = queryTable(await sealed.runsDf(), {
      ...(typeof where === 'string' ? { where } : {}),
      ...(typeof sort === 'string' ? { orderBy: sort } : {}),
    });
    const shown = all ? selected : defaultView(selected);
    await printTable(ctx, shown, arrowRows(shown), { what: 'runs' });
    return 0;
  },
};

/**
 * The default view of the runs table: run_id, status and the parameters (without `params.`
 * unless the bare name would collide, see {@link parameterColumn}).
 */
function defaultView(table: Table): Table {
  const keep = table.schema.fields
    .map((f) => f.name)
    .filter((n) => n === 'run_id' || n === 'status' || n.startsWith('params.'));
  return selectColumns(table, keep, (n) =>
    n.startsWith('params.') ? parameterColumn(n.slice('params.'.length)) : n
  );
}
