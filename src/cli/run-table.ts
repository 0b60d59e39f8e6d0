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
import { paint, statusStyle } from './color.js';
import {
  displayCell,
  displayOf,
  formatTable,
  isNumberColumn,
  type Display,
  type TableLayout,
} from './format.js';
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
 * A cell as CSV text: null as empty, numbers in full as JavaScript prints them (NaN, Infinity
 * kept); see `displayCell` for the text table's form.
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
  return t.rows.map((r) => Object.fromEntries(r.map((v, i) => [t.columns[i], jsonValue(v)])));
}

/**
 * A cell as a JSON value: an int64 that fits a double is a number, a larger one a string; NaN
 * and ±Infinity are the strings "NaN", "Infinity", "-Infinity"; anything else as it is.
 * @param v - the cell
 * @returns the JSON value
 * @example
 * ```ts
 * jsonValue(3n); // 3
 * ```
 */
export function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/**
 * The output options a table command takes: `--csv`, `--json`, `--arrow FILE` or
 * `--parquet FILE` (`--force`); with `DISPLAY_OPTIONS` for the text table.
 */
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
 * @param options - `what` names the rows in the `--arrow` message; `text` is for the aligned text table only: `lines` printed above it, and the columns it
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
    const omit = options.text?.omit ?? [];
    const kept = rows.columns.flatMap((c, i) => (omit.includes(c) ? [] : [i]));
    for (const line of options.text?.lines ?? []) ctx.print(line);
    for (const line of textTable(
      {
        columns: kept.map((i) => rows.columns[i] as string),
        rows: rows.rows.map((r) => kept.map((i) => r[i])),
      },
      displayOf(ctx)
    )) {
      ctx.print(line);
    }
  }
}

/**
 * Rows as the lines of a text table laid out for the display: numbers right-aligned and written
 * by `formatNumber` (full precision with `--raw`), text escaped, cut to the terminal's width, and
 * a `status` column's failed and interrupted cells coloured.
 * @param t - the rows
 * @param display - the terminal's width, colour, `--raw`
 * @returns the lines
 * @example
 * ```ts
 * for (const line of textTable(arrowRows(table), displayOf(ctx))) ctx.print(line);
 * ```
 */
export function textTable(t: RunRows, display: Display): string[] {
  const statusAt = t.columns.indexOf('status');
  return formatTable(
    t.columns,
    t.rows.map((r) => r.map((v) => displayCell(v, display.raw))),
    {
      align: t.columns.map((_, i) => (isNumberColumn(t.rows.map((r) => r[i])) ? 'right' : 'left')),
      // A reference keeps its tag when cut.
      cut: t.columns.map((c) => (c === 'experiment' ? 'middle' : 'end')),
      width: display.width,
      ...(display.color && statusAt >= 0
        ? {
            paint: statusPainter(
              statusAt,
              t.rows.map((r) => r[statusAt])
            ),
          }
        : {}),
    }
  );
}

/**
 * Colours the cells of a status column (failed red, interrupted yellow) by the row's status, so
 * a cut cell keeps its colour.
 * @param column - the status column's index
 * @param statuses - each row's status
 * @returns a `paint` for `formatTable`
 * @example
 * ```ts
 * formatTable(['RUN', 'STATUS'], rows, { paint: statusPainter(1, runs.map((r) => r.status)) });
 * ```
 */
export function statusPainter(
  column: number,
  statuses: readonly unknown[]
): NonNullable<TableLayout['paint']> {
  return (text, row, at) => {
    const style = at === column && row >= 0 ? statusStyle(statuses[row]) : undefined;
    return style === undefined ? text : paint(text, style);
  };
}
