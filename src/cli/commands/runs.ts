/**
 * @module cli/commands/runs
 * `runledger runs <ref>`: the run table, as text, CSV, JSON or an Arrow IPC file.
 */
import { Experiment } from '../../experiment/experiment.js';
import { printTable, runRows, TABLE_OPTIONS } from '../run-table.js';
import type { Command } from '../types.js';

export const runs: Command = {
  name: 'runs',
  usage: 'runs <ref> [--csv | --json | --arrow FILE]',
  summary: 'the run table: run_id, status and one column per parameter',
  options: TABLE_OPTIONS,
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(ctx.positionals[0] as string, { registry });
    await printTable(ctx, sealed.runParametersDf(), runRows(sealed), { what: 'runs' });
    return 0;
  },
};
