/**
 * @module tables/runs
 * The runs table (beyond OMMX), in MLflow's `search_runs` naming: one row per run with its
 * record, parameters, last metric values, tags and solve count.
 */
import type { Table } from 'apache-arrow';
import { durationMs } from './solves.js';
import { typedColumnsTable, type TypedColumn } from './arrow.js';

/** A metric's history as the runs table reads it: steps and values, point by point. */
export interface MetricHistory {
  readonly steps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/** What the runs table reads of a run record. */
export interface RunRecordSource {
  readonly name: string | undefined;
  readonly parentRunId: number | undefined;
  readonly startedAt: string | undefined;
  readonly endedAt: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/** One run as the runs table reads it (a `SealedRun` is one). */
export interface RunSource {
  readonly runId: number;
  readonly status: string;
  readonly solves: { readonly length: number };
  /** @returns the run record */
  getInfo(): Promise<RunRecordSource>;
  /** @returns the names of the run's metrics, in first-logged order */
  metricNames(): Promise<readonly string[]>;
  /** @returns one metric's history */
  getMetric(name: string): Promise<MetricHistory>;
}

/**
 * MLflow's summary value of a metric: the value at the largest step, the latest logged on ties.
 * @param series - the metric's history
 * @returns the value, or null without points
 */
export function lastMetricValue(series: MetricHistory): number | null {
  let best = -1;
  for (let i = 0; i < series.steps.length; i++) {
    if (best < 0 || (series.steps[i] as number) >= (series.steps[best] as number)) best = i;
  }
  return best < 0 ? null : (series.values[best] as number);
}

/**
 * The runs table's own columns, from the run record: these bare names always mean the run's
 * value; a parameter of the same name is only ever `params.<name>`.
 * @example
 * ```ts
 * RUN_COLUMNS.includes('status'); // true
 * ```
 */
export const RUN_COLUMNS: readonly string[] = [
  'run_id',
  'name',
  'status',
  'parent_run_id',
  'started_at',
  'ended_at',
  'duration_ms',
  'solve_count',
];

/**
 * Builds the runs table: `run_id`, `name`, `status`, `parent_run_id`, `started_at`, `ended_at`,
 * `duration_ms`, then `params.<name>` (the parameter table's columns and types, OMMX order),
 * `metrics.<name>` (last value; first-logged order), `tags.<name>` (sorted), `solve_count`.
 * @param runs - the runs, in run id order
 * @param parameters - the run-parameter table of the same runs (`runParametersDf()`)
 * @returns the Arrow table
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH` when a run record is damaged
 * @example
 * ```ts
 * const df = await runsTable(sealed.runs, sealed.runParametersDf());
 * ```
 */
export async function runsTable(runs: readonly RunSource[], parameters: Table): Promise<Table> {
  const infos = await Promise.all(runs.map((r) => r.getInfo()));
  const metricNames = await Promise.all(runs.map((r) => r.metricNames()));
  const lasts = await Promise.all(
    runs.map(async (r, i) => {
      const out = new Map<string, number | null>();
      for (const name of metricNames[i] ?? []) {
        out.set(name, lastMetricValue(await r.getMetric(name)));
      }
      return out;
    })
  );
  const columns: TypedColumn[] = [
    { name: 'run_id', type: 'int64', values: runs.map((r) => r.runId) },
    { name: 'name', type: 'utf8', values: infos.map((i) => i.name ?? null) },
    { name: 'status', type: 'utf8', values: runs.map((r) => r.status) },
    { name: 'parent_run_id', type: 'int64', values: infos.map((i) => i.parentRunId ?? null) },
    { name: 'started_at', type: 'utf8', values: infos.map((i) => i.startedAt ?? null) },
    { name: 'ended_at', type: 'utf8', values: infos.map((i) => i.endedAt ?? null) },
    {
      name: 'duration_ms',
      type: 'float64',
      values: infos.map((i) => durationMs(i.startedAt, i.endedAt)),
    },
  ];
  // Parameters: the parameter table's rows are the runs in run id order (plus any run id only
  // the table knows; those have no run here and are skipped).
  const ids = parameters.getChild('run_id');
  const rowOf = new Map<number, number>();
  for (let i = 0; i < parameters.numRows; i++) rowOf.set(Number(ids?.get(i)), i);
  for (const field of parameters.schema.fields) {
    if (field.name === 'run_id') continue;
    const v = parameters.getChild(field.name);
    const type = String(field.type);
    columns.push({
      name: `params.${field.name}`,
      type: type.startsWith('Int')
        ? 'int64'
        : type.startsWith('Float')
          ? 'float64'
          : type === 'Bool'
            ? 'bool'
            : 'utf8',
      values: runs.map((r) => {
        const row = rowOf.get(r.runId);
        return row === undefined || v === null || !v.isValid(row)
          ? null
          : (v.get(row) as number | bigint | boolean | string);
      }),
    });
  }
  const metrics: string[] = [];
  for (const names of metricNames) for (const n of names) if (!metrics.includes(n)) metrics.push(n);
  for (const name of metrics) {
    columns.push({
      name: `metrics.${name}`,
      type: 'float64',
      values: lasts.map((m) => m.get(name) ?? null),
    });
  }
  const tags = [...new Set(infos.flatMap((i) => Object.keys(i.tags)))].sort();
  for (const tag of tags) {
    columns.push({
      name: `tags.${tag}`,
      type: 'utf8',
      values: infos.map((i) => i.tags[tag] ?? null),
    });
  }
  columns.push({ name: 'solve_count', type: 'int64', values: runs.map((r) => r.solves.length) });
  return typedColumnsTable(columns);
}
