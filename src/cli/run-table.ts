/**
 * @module cli/run-table
 * The run table the CLI prints: `run_id`, `status`, then one column per parameter, from an
 * experiment's Arrow parameter table.
 */
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { RUN_COLUMN_PREFIXES, RUN_COLUMNS } from '../tables/runs.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import { tableToArrowFile } from '../tables/arrow.js';
import { writeParquet } from '../sql/query.js';
import { formatTable } from './format.js';
import { writeOutput } from './output.js';
import type { CommandContext } from './types.js';

/** Plain rows for printing. */
export interface RunRows {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/**
 * The column name a parameter gets in the run views that show parameters without `params.`:
 * the bare name, unless it is one of the run's own columns (`status`, `labels`, …) or looks
 * prefixed itself (`params.`, `attributes.`, `metrics.`, `tags.`, `labels.`), which keep
 * `params.` so the run's columns always win the bare names.
 * @param parameter - the parameter's name
 * @returns its column name
 * @example
 * ```ts
 * parameterColumn('seed'); // 'seed'
 * parameterColumn('status'); // 'params.status'
 * ```
 */
export function parameterColumn(parameter: string): string {
  return RUN_COLUMNS.includes(parameter) || RUN_COLUMN_PREFIXES.some((p) => parameter.startsWith(p))
    ? `params.${parameter}`
    : parameter;
}

/**
 * Rows of the run table of an experiment; parameter columns named by {@link parameterColumn}.
 * @param sealed - the experiment
 * @returns column names and cell values (bigint for int64, null for missing)
 */
export function runRows(sealed: SealedExperiment): RunRows {
  const table: Table = sealed.runParametersDf();
  const params = table.schema.fields.map((f) => f.name).filter((n) => n !== 'run_id');
  const vectors = params.map((n) => table.getChild(n));
  const status = new Map(sealed.runs.map((r) => [r.runId, r.status]));
  const ids = table.getChild('run_id');
  const rows: unknown[][] = [];
  for (let i = 0; i < table.numRows; i++) {
    const id = Number(ids?.get(i));
    rows.push([id, status.get(id) ?? null, ...vectors.map((v) => v?.get(i) ?? null)]);
  }
  return { columns: ['run_id', 'status', ...params.map(parameterColumn)], rows };
}

/**
 * Rows of any Arrow table (column order kept; int64 as bigint, missing as null).
 * @param table - the table
 * @returns column names and cell values
 */
export function arrowRows(table: Table): RunRows {
  const names = table.schema.fields.map((f) => f.name);
  const vectors = names.map((n) => table.getChild(n));
  const rows: unknown[][] = [];
  for (let i = 0; i < table.numRows; i++) rows.push(vectors.map((v) => v?.get(i) ?? null));
  return { columns: names, rows };
}

/**
 * A cell as text: null as empty, floats as JavaScript prints them (NaN, Infinity kept).
 * @param v - a cell
 * @returns its text
 */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/**
 * RFC 4180 CSV of the rows.
 * @param t - the rows
 * @returns CSV text ending in a newline
 */
export function toCsv(t: RunRows): string {
  const field = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return (
    [t.columns, ...t.rows.map((r) => r.map(cellText))]
      .map((r) => r.map((c) => field(String(c))).join(','))
      .join('\n') + '\n'
  );
}

/**
 * The rows as JSON objects; int64 values that fit a double become numbers, others strings;
 * NaN and ±Infinity become the strings "NaN", "Infinity", "-Infinity".
 * @param t - the rows
 * @returns plain objects
 */
export function toJsonRows(t: RunRows): Record<string, unknown>[] {
  return t.rows.map((r) =>
    Object.fromEntries(
      r.map((v, i) => {
        let out = v;
        if (typeof v === 'bigint') out = Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
        else if (typeof v === 'number' && !Number.isFinite(v)) out = String(v);
        return [t.columns[i], out];
      })
    )
  );
}

/** The output options a table command takes: `--csv`, `--json` or `--arrow FILE` (`--force`). */
export const TABLE_OPTIONS = {
  csv: { type: 'boolean' },
  arrow: { type: 'string' },
  parquet: { type: 'string' },
  force: { type: 'boolean' },
} as const;

/**
 * Prints a table as the command line asked: an aligned text table, CSV (`--csv`), JSON
 * (`--json`), or an Arrow IPC file (`--arrow FILE`, `-` for stdout; see {@link writeOutput}).
 * @param ctx - the command context
 * @param table - the Arrow table (written as is with `--arrow`)
 * @param rows - its rows for the text forms
 * @param options - `what` names the rows in the `--arrow` message; `cell` formats text cells;
 *   `text` is for the aligned text table only: `lines` printed above it, and the columns it
 *   leaves out (`omit`, e.g. a column whose one value a line above already says)
 * @throws RunledgerError `USAGE` for more than one format; `FILE_EXISTS`, `ARGUMENT_INVALID`,
 *   `IO_ERROR` from {@link writeOutput}
 */
export async function printTable(
  ctx: CommandContext,
  table: Table,
  rows: RunRows,
  options: {
    readonly what: string;
    readonly cell?: (v: unknown) => string;
    readonly text?: { readonly lines?: readonly string[]; readonly omit?: readonly string[] };
  }
): Promise<void> {
  const formats = [
    ctx.values['csv'] === true,
    ctx.json,
    ctx.values['arrow'] !== undefined,
    ctx.values['parquet'] !== undefined,
  ];
  if (formats.filter(Boolean).length > 1) {
    throw new RunledgerError('USAGE', 'Choose one of --csv, --json, --arrow and --parquet.');
  }
  const arrow = ctx.values['arrow'];
  const parquet = ctx.values['parquet'];
  if (typeof parquet === 'string') {
    const path = await writeOutput(
      ctx.io,
      parquet,
      async (dir) => {
        const file = join(dir, 'table.parquet');
        await writeParquet(table, file);
        return file;
      },
      { force: ctx.values['force'] === true }
    );
    if (path !== '-') ctx.print(`Wrote ${table.numRows} ${options.what} to ${path}`);
  } else if (typeof arrow === 'string') {
    const path = await writeOutput(ctx.io, arrow, tableToArrowFile(table), {
      force: ctx.values['force'] === true,
    });
    if (path !== '-') ctx.print(`Wrote ${table.numRows} ${options.what} to ${path}`);
  } else if (ctx.json) ctx.printJson(toJsonRows(rows));
  else if (ctx.values['csv'] === true) ctx.io.stdout.write(toCsv(rows));
  else {
    const cell = options.cell ?? cellText;
    const omit = options.text?.omit ?? [];
    const kept = rows.columns.flatMap((c, i) => (omit.includes(c) ? [] : [i]));
    for (const line of options.text?.lines ?? []) ctx.print(line);
    for (const line of formatTable(
      kept.map((i) => rows.columns[i] as string),
      rows.rows.map((r) => kept.map((i) => cell(r[i])))
    )) {
      ctx.print(line);
    }
  }
}
