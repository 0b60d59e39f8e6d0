/**
 * @module cli/run-view
 * One run as the CLI looks at it: found by its id, its metric histories summed up, and
 * `runledger show <ref> --run N` — record, parameters, metrics (with a sparkline on a terminal),
 * error, attachments and solves, as text or JSON.
 */
import { RunledgerError } from '../errors.js';
import type { SealedExperiment, SealedRun } from '../experiment/sealed.js';
import { canonicalJson } from '../oci/canonical-json.js';
import { projectOf } from '../tables/runs.js';
import { durationMs, solvesTable } from '../tables/solves.js';
import {
  displayCell,
  escapeText,
  formatBytes,
  formatMilliseconds,
  formatTable,
  formatUtc,
  isNumberColumn,
  type Display,
} from './format.js';
import { arrowRows, jsonValue, statusPainter } from './run-table.js';
import { sparkline } from './sparkline.js';
import { paint, statusStyle } from './color.js';

/**
 * The run of an experiment a command line names (`--run N`, `diff <ref> N M`).
 * @param sealed - the experiment
 * @param text - the run id as typed
 * @returns the run
 * @throws RunledgerError `USAGE` when it is not a run id of the experiment (names those it has)
 * @example
 * ```ts
 * const run = findRun(sealed, '2');
 * ```
 */
export function findRun(sealed: SealedExperiment, text: string): SealedRun {
  const id = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  const run = sealed.runs.find((r) => r.runId === id);
  if (run === undefined) {
    throw new RunledgerError(
      'USAGE',
      `Run ${JSON.stringify(text)} is not in ${sealed.reference}; it has runs ${sealed.runs.map((r) => r.runId).join(', ') || 'none'}.`,
      { data: { run: text } }
    );
  }
  return run;
}

/** A metric's history, in step order, with what the tables say of it. */
export interface MetricSummary {
  readonly name: string;
  /** Steps, timestamps (ms) and values, ordered by step (logged order among equal steps). */
  readonly steps: readonly number[];
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
  /** The value at the largest step (the runs table's `metrics.<name>`); null without points. */
  readonly last: number | null;
  /** The smallest and largest value that is not NaN; null when there is none. */
  readonly min: number | null;
  readonly max: number | null;
}

/**
 * A run's metric histories, in first-logged order.
 * @param run - the run
 * @param names - only these (default: every metric the run logged)
 * @returns one summary per metric the run has
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
 * @example
 * ```ts
 * const [loss] = await metricSummaries(run, ['loss']);
 * ```
 */
export async function metricSummaries(
  run: SealedRun,
  names?: readonly string[]
): Promise<MetricSummary[]> {
  const have = await run.metricNames();
  const out: MetricSummary[] = [];
  for (const name of names === undefined ? have : have.filter((n) => names.includes(n))) {
    const m = await run.getMetric(name);
    const order = Array.from(m.steps, (_, i) => i).sort(
      (a, b) => (m.steps[a] as number) - (m.steps[b] as number) || a - b
    );
    const values = order.map((i) => m.values[i] as number);
    const numbers = values.filter((v) => !Number.isNaN(v));
    out.push({
      name,
      steps: order.map((i) => m.steps[i] as number),
      timestamps: order.map((i) => m.timestamps[i] as number),
      values,
      // The largest step, the latest logged on ties: the last in this order.
      last: values.length === 0 ? null : (values.at(-1) as number),
      min: numbers.length === 0 ? null : Math.min(...numbers),
      max: numbers.length === 0 ? null : Math.max(...numbers),
    });
  }
  return out;
}

/** What `show --run` prints and `--json` gives. */
interface RunReport {
  readonly reference: string;
  readonly run: SealedRun;
  readonly info: Awaited<ReturnType<SealedRun['getInfo']>>;
  readonly metrics: readonly MetricSummary[];
  readonly solves: readonly (readonly unknown[])[];
  readonly solveColumns: readonly string[];
}

async function report(sealed: SealedExperiment, run: SealedRun): Promise<RunReport> {
  const solves = arrowRows(await solvesTable([{ runId: run.runId, solves: run.solves }]));
  return {
    reference: sealed.reference,
    run,
    info: await run.getInfo(),
    metrics: await metricSummaries(run),
    solves: solves.rows,
    solveColumns: solves.columns,
  };
}

/** The columns of the solves table `show --run` prints, with their titles. */
const SOLVE_COLUMNS: readonly (readonly [string, string])[] = [
  ['solve_id', 'SOLVE'],
  ['adapter', 'ADAPTER'],
  ['status', 'STATUS'],
  ['objective', 'OBJECTIVE'],
  ['feasible', 'FEASIBLE'],
  ['optimality', 'OPTIMALITY'],
  ['duration_ms', 'TIME'],
];

/**
 * One run as JSON (snake_case keys, as the runs table's columns): the record, parameters, metric
 * summaries, error, attachments, solves and samplings.
 * @param sealed - the experiment
 * @param run - the run
 * @returns a plain object
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
 * @example
 * ```ts
 * ctx.printJson(await runJson(sealed, findRun(sealed, '2')));
 * ```
 */
export async function runJson(
  sealed: SealedExperiment,
  run: SealedRun
): Promise<Record<string, unknown>> {
  const r = await report(sealed, run);
  const { info } = r;
  const optional = (key: string, value: unknown): Record<string, unknown> =>
    value === undefined ? {} : { [key]: value };
  const duration = durationMs(info.startedAt, info.endedAt);
  return {
    reference: sealed.reference,
    project: projectOf(sealed.reference),
    run_id: run.runId,
    ...optional('name', info.name),
    status: run.status,
    ...optional('reason', run.reason),
    ...optional('started_at', info.startedAt),
    ...optional('ended_at', info.endedAt),
    ...optional('duration_ms', duration ?? undefined),
    ...optional('host', info.host),
    ...optional('runledger_version', info.runledgerVersion),
    ...optional('parent_run_id', info.parentRunId),
    ...optional('resumed_from', info.resumedFrom),
    ...optional('description', info.description),
    labels: info.labels,
    tags: info.tags,
    attributes: info.attributes,
    parameters: Object.fromEntries(
      Object.entries(run.parameters).map(([k, v]) => [k, jsonValue(v)])
    ),
    metrics: r.metrics.map((m) => ({
      name: m.name,
      points: m.values.length,
      last_step: m.steps.at(-1) ?? null,
      last: jsonValue(m.last),
      min: jsonValue(m.min),
      max: jsonValue(m.max),
    })),
    ...optional(
      'error',
      info.error === undefined
        ? undefined
        : {
            type: info.error.type,
            message: info.error.message,
            ...optional('stack', info.error.stack),
          }
    ),
    attachments: run.attachmentNames.map((name) => ({
      name,
      media_type: run.attachmentMediaType(name),
      size: run.attachmentSize(name),
      digest: run.attachmentDigest(name),
    })),
    solves: r.solves.map((row) =>
      Object.fromEntries(
        r.solveColumns.flatMap((c, i) => (c === 'run_id' ? [] : [[c, jsonValue(row[i])]]))
      )
    ),
    samplings: run.samplings.map((c) => ({
      sampling_id: c.id,
      adapter: c.adapter,
      status: c.status,
    })),
  };
}

/**
 * One run as text: its record as `Label  value` lines, then tables of its parameters, metrics
 * (with a sparkline on a terminal), attachments and solves, and its error with the stack.
 * @param sealed - the experiment
 * @param run - the run
 * @param display - the terminal's width, colour, `--raw`
 * @returns the lines
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
 * @example
 * ```ts
 * for (const line of await runLines(sealed, run, displayOf(ctx))) ctx.print(line);
 * ```
 */
export async function runLines(
  sealed: SealedExperiment,
  run: SealedRun,
  display: Display
): Promise<string[]> {
  const r = await report(sealed, run);
  const { info } = r;
  const fields: [string, string][] = [
    ['Experiment', sealed.reference],
    ['Run', `${run.runId}${info.name === undefined ? '' : `  ${info.name}`}`],
    ['Status', `${run.status}${run.reason === undefined ? '' : ` (${run.reason})`}`],
  ];
  const duration = durationMs(info.startedAt, info.endedAt);
  if (info.startedAt !== undefined) fields.push(['Started', `${formatUtc(info.startedAt)} UTC`]);
  if (info.endedAt !== undefined) {
    const took = duration === null ? '' : ` (${formatMilliseconds(duration)})`;
    fields.push(['Ended', `${formatUtc(info.endedAt)} UTC${took}`]);
  }
  if (info.host !== undefined) fields.push(['Host', info.host]);
  const lineage = [
    ...(info.parentRunId === undefined ? [] : [`parent ${info.parentRunId}`]),
    ...(info.resumedFrom === undefined ? [] : [`resumed from ${info.resumedFrom}`]),
  ];
  if (lineage.length > 0) fields.push(['Lineage', lineage.join(', ')]);
  if (info.labels.length > 0) fields.push(['Labels', info.labels.join(', ')]);
  const tags = Object.entries(info.tags);
  if (tags.length > 0) fields.push(['Tags', tags.map(([k, v]) => `${k}=${v}`).join(', ')]);
  for (const [k, v] of Object.entries(info.attributes)) {
    fields.push(['Attribute', `${k}=${canonicalJson(v)}`]);
  }
  const width = Math.max(...fields.map(([label]) => label.length), 'Description'.length);
  const style = display.color ? statusStyle(run.status) : undefined;
  const lines = fields.map(([label, value]) => {
    const text = escapeText(value);
    // A failed or interrupted run's status line stands out.
    return `${label.padEnd(width)}  ${label === 'Status' && style !== undefined ? paint(text, style) : text}`;
  });
  if (info.description !== undefined) {
    const [first, ...rest] = info.description.split(/\r?\n/);
    lines.push(`${'Description'.padEnd(width)}  ${escapeText(first ?? '')}`);
    for (const line of rest) lines.push(`${' '.repeat(width)}  ${escapeText(line)}`.trimEnd());
  }
  const cell = (v: unknown): string => displayCell(v, display.raw);
  const table = (
    header: readonly string[],
    rows: readonly (readonly string[])[],
    align: readonly ('left' | 'right')[],
    statusColumn?: number,
    statuses?: readonly unknown[]
  ): void => {
    if (rows.length === 0) return;
    lines.push('');
    lines.push(
      ...formatTable(header, rows, {
        align,
        width: display.width,
        ...(display.color && statusColumn !== undefined
          ? { paint: statusPainter(statusColumn, statuses ?? []) }
          : {}),
      })
    );
  };
  const params = Object.entries(run.parameters);
  table(
    ['PARAMETER', 'VALUE'],
    params.map(([k, v]) => [k, cell(v)]),
    ['left', isNumberColumn(params.map(([, v]) => v)) ? 'right' : 'left']
  );
  table(
    ['METRIC', 'POINTS', 'LAST', 'MIN', 'MAX', ...(display.tty ? ['TREND'] : [])],
    r.metrics.map((m) => [
      m.name,
      String(m.values.length),
      cell(m.last),
      cell(m.min),
      cell(m.max),
      ...(display.tty ? [sparkline(m.values, 24)] : []),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'left']
  );
  if (info.error !== undefined) {
    lines.push('');
    lines.push(`Error  ${escapeText(`${info.error.type}: ${info.error.message}`)}`);
    const stack = (info.error.stack ?? '').split('\n');
    // A V8 stack starts with the error's own lines (said just above), then its frames.
    const at = stack.findIndex((l) => /^\s+at /.test(l));
    const frames = (at < 0 ? stack.slice(1) : stack.slice(at)).filter((l) => l.trim() !== '');
    for (const frame of frames) lines.push(`  ${escapeText(frame.trim())}`);
  }
  table(
    ['ATTACHMENT', 'MEDIA TYPE', 'SIZE'],
    run.attachmentNames.map((name) => [
      name,
      run.attachmentMediaType(name),
      formatBytes(run.attachmentSize(name)),
    ]),
    ['left', 'left', 'right']
  );
  const at = (name: string): number => r.solveColumns.indexOf(name);
  table(
    SOLVE_COLUMNS.map(([, title]) => title),
    r.solves.map((row) =>
      SOLVE_COLUMNS.map(([name]) => {
        const v = row[at(name)];
        return name === 'duration_ms' && typeof v === 'number' ? formatMilliseconds(v) : cell(v);
      })
    ),
    ['right', 'left', 'left', 'right', 'left', 'left', 'right'],
    2,
    r.solves.map((row) => row[at('status')])
  );
  table(
    ['SAMPLING', 'ADAPTER', 'STATUS'],
    run.samplings.map((c) => [String(c.id), c.adapter, c.status]),
    ['right', 'left', 'left'],
    2,
    run.samplings.map((c) => c.status)
  );
  return lines;
}
