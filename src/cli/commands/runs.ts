/**
 * @module cli/commands/runs
 * `runledger runs <ref>`: the runs table, as text, CSV, JSON or an Arrow IPC file. The default
 * view is run_id, project, status, the parameters, the labels and attributes when any run has
 * them, and the metrics (each run's latest value); `--all-columns` gives every column (names,
 * parents, times, description, tags, labels, solve counts), `--columns` the ones named, and
 * `--where` / `--sort` work over all of them, by the names the table shows. In text the project
 * is said once, above the table, instead of in a column.
 */
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { searchRuns } from '../../experiment/search.js';
import { namesRepository } from '../../oci/reference.js';
import { queryTable } from '../../tables/query.js';
import { selectColumns, withAliases } from '../../tables/arrow.js';
import { projectOf } from '../../tables/runs.js';
import { arrowRows, parameterColumn, printTable, TABLE_OPTIONS } from '../run-table.js';
import { DISPLAY_OPTIONS } from '../format.js';
import type { Command } from '../types.js';
import { resolveScope } from '../resolve.js';

export const runs: Command = {
  name: 'runs',
  usage:
    'runs <ref | project | prefix/>… | --all [--all-columns | --columns A,B,…] [--where EXPR] [--sort "COL [asc|desc], …"] [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
  summary:
    'the runs table: run_id, project, status, parameters, labels and attributes (or every column)',
  options: {
    ...TABLE_OPTIONS,
    ...DISPLAY_OPTIONS,
    'all-columns': { type: 'boolean' },
    all: { type: 'boolean' },
    columns: { type: 'string' },
    where: { type: 'string' },
    sort: { type: 'string' },
  },
  arity: [0, Infinity],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const refs = await resolveScope(registry, ctx.positionals);
    const columnsText = ctx.values['columns'];
    const columns = typeof columnsText === 'string' ? splitColumns(columnsText) : undefined;
    const where = ctx.values['where'];
    const sort = ctx.values['sort'];
    const query = {
      ...(typeof where === 'string' ? { where } : {}),
      ...(typeof sort === 'string' ? { orderBy: sort } : {}),
    };
    if (refs.length === 0 && ctx.values['all'] !== true) {
      throw new RunledgerError(
        'USAGE',
        'runs takes a reference, a project or a prefix ending in / (several are fine), or --all.'
      );
    }
    // Several experiments (or a project, or a prefix): one table over all of them.
    if (refs.length !== 1 || ctx.values['all'] === true || !namesOneExperiment(refs[0] as string)) {
      const table = await searchRuns({
        registry,
        ...(ctx.values['all'] === true ? {} : { experiments: refs }),
        ...query,
      });
      const shown =
        columns !== undefined
          ? pickColumns(withParameterAliases(table), columns)
          : ctx.values['all-columns'] === true
            ? table
            : selectColumns(
                table,
                table.schema.fields
                  .map((f) => f.name)
                  .filter(
                    (n) =>
                      n === 'experiment' ||
                      n === 'run_id' ||
                      n === 'status' ||
                      n.startsWith('params.') ||
                      n.startsWith('metrics.')
                  )
              );
      await printTable(ctx, shown, arrowRows(shown), { what: 'runs' });
      return 0;
    }
    const sealed = await Experiment.load(refs[0] as string, { registry, pull: false });
    const table = await sealed.runsDf();
    // The default view names parameters without `params.`: --where, --sort and --columns take
    // those names too (as well as the full ones).
    const selected = queryTable(withParameterAliases(table), query);
    const shown =
      columns !== undefined
        ? pickColumns(selected, columns)
        : ctx.values['all-columns'] === true
          ? selectColumns(
              selected,
              table.schema.fields.map((f) => f.name)
            )
          : defaultView(table, selected);
    await printTable(ctx, shown, arrowRows(shown), {
      what: 'runs',
      text: { lines: [`Project  ${projectOf(sealed.reference)}`, ''], omit: ['project'] },
    });
    return 0;
  },
};

/**
 * The default view of the runs table: run_id, project, status, labels (when any run of the
 * experiment has one), the parameters (without `params.` unless the bare name would collide, see
 * {@link parameterColumn}), the attributes (`attributes.<name>`) and the metrics
 * (`metrics.<name>`, each run's latest value).
 * @param table - the whole runs table, which decides whether labels are shown
 * @param selected - its rows as filtered and sorted
 */
function defaultView(table: Table, selected: Table): Table {
  const labels = table.getChild('labels');
  const withLabels = labels !== null && labels.nullCount < table.numRows;
  const names = table.schema.fields.map((f) => f.name);
  const keep = names.filter(
    (n) =>
      n === 'run_id' ||
      n === 'project' ||
      n === 'status' ||
      (n === 'labels' && withLabels) ||
      n.startsWith('params.') ||
      n.startsWith('attributes.') ||
      n.startsWith('metrics.')
  );
  return selectColumns(selected, keep, (n) =>
    n.startsWith('params.') ? parameterColumn(n.slice('params.'.length)) : n
  );
}

/**
 * The table with, beside each `params.<name>` column, the same column under the name the default
 * view shows it by (`seed` for `params.seed`; see {@link parameterColumn}), when that differs
 * and is free.
 */
function withParameterAliases(table: Table): Table {
  const aliases = new Map<string, string>();
  for (const f of table.schema.fields) {
    if (!f.name.startsWith('params.')) continue;
    const alias = parameterColumn(f.name.slice('params.'.length));
    if (alias !== f.name) aliases.set(alias, f.name);
  }
  return withAliases(table, aliases);
}

/** Whether a positional names one experiment (a tag or a digest), not a project or a prefix. */
function namesOneExperiment(ref: string): boolean {
  return !ref.endsWith('/') && !namesRepository(ref);
}

/** `--columns a,b,c` as names (blank entries dropped). */
function splitColumns(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

/** The columns asked for, in that order; a name the table lacks is a usage error naming them. */
function pickColumns(table: Table, names: readonly string[]): Table {
  const have = table.schema.fields.map((f) => f.name);
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length > 0) {
    throw new RunledgerError(
      'USAGE',
      `No column ${missing.map((c) => JSON.stringify(c)).join(', ')} in the runs table; it has ${have.join(', ')}.`,
      { data: { missing } }
    );
  }
  return selectColumns(table, names);
}
