/**
 * @module tables/runs
 * The runs table (beyond OMMX), in MLflow's `search_runs` naming: one row per run with its
 * project, record, parameters, attributes, last metric values, tags, labels and solve count.
 */
import type { Table } from 'apache-arrow';
import { compareCodePoints } from '../formats/code-points.js';
import { canonicalJson, type JsonValue } from '../oci/canonical-json.js';
import { parseReference } from '../oci/reference.js';
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
  /** A free-text description. */
  readonly description: string | undefined;
  /** Labels (tags without a value), in the order first given. */
  readonly labels: readonly string[];
  /** Typed attributes: JSON values by name. */
  readonly attributes: Readonly<Record<string, JsonValue>>;
  /** The run this one continues. */
  readonly resumedFrom: number | undefined;
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
 * The runs table's own columns, from the experiment and the run record: these bare names always
 * mean the run's value; a parameter of the same name is only ever `params.<name>`.
 * @example
 * ```ts
 * RUN_COLUMNS.includes('status'); // true
 * ```
 */
export const RUN_COLUMNS: readonly string[] = [
  'run_id',
  'project',
  'name',
  'status',
  'parent_run_id',
  'resumed_from',
  'started_at',
  'ended_at',
  'duration_ms',
  'description',
  'labels',
  'solve_count',
];

/** The prefixes of the runs table's per-name column families. */
export const RUN_COLUMN_PREFIXES: readonly string[] = [
  'params.',
  'attributes.',
  'metrics.',
  'tags.',
  'labels.',
];

/**
 * An experiment's project: the repository part of its reference (`ghcr.io/acme/qap:v1` →
 * `acme/qap`; an anonymous `1a2b3c4d.runledger.local/model-training:…` → `model-training`).
 * @param reference - the experiment's reference
 * @returns the project
 * @throws RunledgerError `REFERENCE_INVALID` when the reference does not parse
 * @example
 * ```ts
 * projectOf('ghcr.io/acme/qap:v1'); // 'acme/qap'
 * ```
 */
export function projectOf(reference: string): string {
  return parseReference(reference).repository;
}

/** Options of {@link runsTable}. */
export interface RunsTableOptions {
  /** The experiment's reference: its repository is the `project` column (null without one). */
  readonly reference?: string;
}

/**
 * One `attributes.<name>` column, typed by its values: all numbers → float64 (int64 when all are
 * safe integers), all booleans → bool, all strings → utf8, anything else or a mix → each value's
 * canonical JSON text in utf8. A run without the attribute, or with JSON `null`, is a null cell.
 */
function attributeColumn(name: string, values: readonly (JsonValue | undefined)[]): TypedColumn {
  const present = values.filter(
    (v): v is Exclude<JsonValue, null> => v !== undefined && v !== null
  );
  const all = (type: string): boolean => present.every((v) => typeof v === type);
  const column = `attributes.${name}`;
  const cell = <T>(f: (v: Exclude<JsonValue, null>) => T): (T | null)[] =>
    values.map((v) => (v === undefined || v === null ? null : f(v)));
  if (present.length > 0 && all('number')) {
    const int = present.every((v) => Number.isSafeInteger(v));
    return { name: column, type: int ? 'int64' : 'float64', values: cell((v) => v as number) };
  }
  if (present.length > 0 && all('boolean')) {
    return { name: column, type: 'bool', values: cell((v) => v as boolean) };
  }
  if (all('string')) return { name: column, type: 'utf8', values: cell((v) => v as string) };
  return { name: column, type: 'utf8', values: cell((v) => canonicalJson(v)) };
}

/**
 * Builds the runs table. Its columns, in order:
 * - `run_id` (int64), `project` (utf8: the repository of `options.reference`, the same on every
 *   row), `name`, `status` (utf8), `parent_run_id`, `resumed_from` (int64), `started_at`,
 *   `ended_at` (utf8, RFC 3339), `duration_ms` (float64), `description` (utf8), `labels` (utf8:
 *   the run's labels joined by `, `; null without any);
 * - `params.<name>`: the parameter table's columns and types, OMMX order;
 * - `attributes.<name>`, by name (code point order), typed by their values: all numbers →
 *   float64 (int64 when all are safe integers), all booleans → bool, all strings → utf8, else
 *   each value's canonical JSON text (utf8); JSON `null` and a missing attribute are null cells;
 * - `metrics.<name>` (float64): the last value, first-logged order;
 * - `tags.<name>` (utf8), sorted; `labels.<label>` (bool): true where the run has the label, null
 *   elsewhere, by name (code point order) — so `labels.gpu = true` filters;
 * - `solve_count` (int64).
 * @param runs - the runs, in run id order
 * @param parameters - the run-parameter table of the same runs (`runParametersDf()`)
 * @param options - the experiment's reference, for `project`
 * @returns the Arrow table
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH` when a run record is damaged;
 *   `REFERENCE_INVALID` when the reference does not parse
 * @example
 * ```ts
 * const df = await runsTable(sealed.runs, sealed.runParametersDf(), {
 *   reference: sealed.reference,
 * });
 * ```
 */
export async function runsTable(
  runs: readonly RunSource[],
  parameters: Table,
  options: RunsTableOptions = {}
): Promise<Table> {
  const project = options.reference === undefined ? null : projectOf(options.reference);
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
  // A record written by hand may repeat a label: each counts once, in first-given order.
  const labels = infos.map((i) => [...new Set(i.labels)]);
  const columns: TypedColumn[] = [
    { name: 'run_id', type: 'int64', values: runs.map((r) => r.runId) },
    { name: 'project', type: 'utf8', values: runs.map(() => project) },
    { name: 'name', type: 'utf8', values: infos.map((i) => i.name ?? null) },
    { name: 'status', type: 'utf8', values: runs.map((r) => r.status) },
    { name: 'parent_run_id', type: 'int64', values: infos.map((i) => i.parentRunId ?? null) },
    { name: 'resumed_from', type: 'int64', values: infos.map((i) => i.resumedFrom ?? null) },
    { name: 'started_at', type: 'utf8', values: infos.map((i) => i.startedAt ?? null) },
    { name: 'ended_at', type: 'utf8', values: infos.map((i) => i.endedAt ?? null) },
    {
      name: 'duration_ms',
      type: 'float64',
      values: infos.map((i) => durationMs(i.startedAt, i.endedAt)),
    },
    { name: 'description', type: 'utf8', values: infos.map((i) => i.description ?? null) },
    {
      name: 'labels',
      type: 'utf8',
      values: labels.map((l) => (l.length === 0 ? null : l.join(', '))),
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
  const attributes = [...new Set(infos.flatMap((i) => Object.keys(i.attributes)))].sort(
    compareCodePoints
  );
  for (const name of attributes) {
    columns.push(
      attributeColumn(
        name,
        infos.map((i) => (Object.hasOwn(i.attributes, name) ? i.attributes[name] : undefined))
      )
    );
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
  for (const label of [...new Set(labels.flat())].sort(compareCodePoints)) {
    columns.push({
      name: `labels.${label}`,
      type: 'bool',
      values: labels.map((l) => (l.includes(label) ? true : null)),
    });
  }
  columns.push({ name: 'solve_count', type: 'int64', values: runs.map((r) => r.solves.length) });
  return typedColumnsTable(columns);
}
