/**
 * @module cli/commands/solves
 * `runledger solves <ref>`: the solves table (one row per solver call), as text, CSV, JSON or an
 * Arrow IPC file.
 */
import { Experiment } from '../../experiment/experiment.js';
import { arrowRows, printTable, TABLE_OPTIONS } from '../run-table.js';
import { DISPLAY_OPTIONS } from '../format.js';
import type { Command } from '../types.js';
import { resolveReference } from '../resolve.js';

export const solves: Command = {
  name: 'solves',
  usage: 'solves <ref> [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
  summary: 'the solves table: run, solve, adapter, status, objective, feasibility, time, options',
  options: { ...TABLE_OPTIONS, ...DISPLAY_OPTIONS },
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(
      await resolveReference(registry, ctx.positionals[0] as string),
      { registry, pull: false }
    );
    const table = await sealed.solvesDf();
    await printTable(ctx, table, arrowRows(table), { what: 'solves' });
    return 0;
  },
};
