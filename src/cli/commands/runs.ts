/**
 * @module cli/commands/runs
 * `runledger runs <ref>`: the run table, as text, CSV, JSON or an Arrow IPC file.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RunledgerError, ioError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { tableToArrowFile } from '../../experiment/table.js';
import { formatTable } from '../format.js';
import { cellText, runRows, toCsv, toJsonRows } from '../run-table.js';
import type { Command } from '../types.js';

export const runs: Command = {
  name: 'runs',
  usage: 'runs <ref> [--csv | --json | --arrow FILE]',
  summary: 'the run table: run_id, status and one column per parameter',
  options: { csv: { type: 'boolean' }, arrow: { type: 'string' } },
  arity: [1, 1],
  async run(ctx) {
    const formats = [
      ctx.values['csv'] === true,
      ctx.json,
      ctx.values['arrow'] !== undefined,
    ].filter(Boolean);
    if (formats.length > 1)
      throw new RunledgerError('USAGE', 'Choose one of --csv, --json and --arrow.');
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(ctx.positionals[0] as string, { registry });
    const arrow = ctx.values['arrow'];
    if (typeof arrow === 'string') {
      const path = resolve(ctx.io.cwd ?? process.cwd(), arrow);
      try {
        await writeFile(path, tableToArrowFile(sealed.runParametersDf()));
      } catch (e) {
        throw ioError(e, 'write', path);
      }
      ctx.print(`Wrote ${sealed.runs.length} runs to ${path}`);
      return 0;
    }
    const rows = runRows(sealed);
    if (ctx.json) ctx.printJson(toJsonRows(rows));
    else if (ctx.values['csv'] === true) ctx.io.stdout.write(toCsv(rows));
    else
      for (const line of formatTable(
        rows.columns,
        rows.rows.map((r) => r.map(cellText))
      ))
        ctx.print(line);
    return 0;
  },
};
