/**
 * @module cli/commands/solves
 * `runledger solves <ref>`: the solves table (one row per solver call), as text, CSV, JSON or an
 * Arrow IPC file.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RunledgerError, ioError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { tableToArrowFile } from '../../experiment/table.js';
import { formatTable } from '../format.js';
import { arrowRows, cellText, toCsv, toJsonRows } from '../run-table.js';
import type { Command } from '../types.js';

export const solves: Command = {
  name: 'solves',
  usage: 'solves <ref> [--csv | --json | --arrow FILE]',
  summary: 'the solves table: run, solve, adapter, status, objective, feasibility, time, options',
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
    const table = await sealed.solvesDf();
    const arrow = ctx.values['arrow'];
    if (typeof arrow === 'string') {
      const path = resolve(ctx.io.cwd ?? process.cwd(), arrow);
      try {
        await writeFile(path, tableToArrowFile(table));
      } catch (e) {
        throw ioError(e, 'write', path);
      }
      ctx.print(`Wrote ${table.numRows} solves to ${path}`);
      return 0;
    }
    const rows = arrowRows(table);
    if (ctx.json) ctx.printJson(toJsonRows(rows));
    else if (ctx.values['csv'] === true) ctx.io.stdout.write(toCsv(rows));
    else {
      const shown = rows.rows.map((r) =>
        r.map((c) => (typeof c === 'number' && !Number.isInteger(c) ? formatFloat(c) : cellText(c)))
      );
      for (const line of formatTable(rows.columns, shown)) ctx.print(line);
    }
    return 0;
  },
};

function formatFloat(v: number): string {
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toFixed(4);
}
