/**
 * @module ui/live
 * Runs still open in a live process, as the viewer shows them (status `running`): their rows in
 * the runs table, their detail, their metric series so far — all from what their crash journal
 * holds (see `experiment/live-runs`), nothing from a checkpoint.
 */
import { createHash } from 'node:crypto';
import { AttachmentReader, RESERVED_PREFIX } from '../experiment/attachments.js';
import type { LiveExperiment, LiveRun, LiveSeries } from '../experiment/live-runs.js';
import { canonicalJson, type JsonValue } from '../oci/canonical-json.js';
import { parseReference } from '../oci/reference.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { cellOf, kindOf, previewOf } from './cells.js';
import type {
  UiCell,
  UiColumn,
  UiExperiment,
  UiMetricSeries,
  UiRunDetail,
  UiStatus,
} from './model.js';

/** The runs table being assembled: one entry per row in each array. */
export interface RunRows {
  readonly experiment: number[];
  readonly runId: number[];
  readonly status: UiStatus[];
  /** Columns by name, in order; a live run's new parameter or metric adds one. */
  readonly columns: {
    name: string;
    kind: UiColumn['kind'];
    type: UiColumn['type'];
    values: UiCell[];
  }[];
}

/**
 * An experiment's key in URLs while it is not committed: its name's, so it stays from the first
 * open run through every autosave (each another manifest) until the commit.
 * @param name - the experiment's name
 * @returns the key
 */
export function draftId(name: string): string {
  return createHash('sha256').update(`checkpoint\u0000${name}`).digest('hex').slice(0, 12);
}

/**
 * An experiment a live process records and no checkpoint holds yet (its first runs still open).
 * @param live - the experiment
 * @returns it as the study lists it
 */
export function liveExperiment(live: LiveExperiment): UiExperiment {
  const { repository, tag } = parseReference(live.reference);
  return {
    id: draftId(live.reference),
    reference: live.reference,
    project: repository,
    tag: tag ?? '',
    digest: '',
    status: 'draft',
    reason: null,
    runCount: live.runs.length,
    failedCount: 0,
    interruptedCount: 0,
    createdAt: new Date(live.startedAt).toISOString(),
    size: 0,
    parent: null,
  };
}

/** A metric's value at its largest step (the later of equal steps), as the runs table has it. */
function lastValue(s: LiveSeries): number | null {
  const n = s.values.length;
  return n === 0 ? null : (s.values[n - 1] as number);
}

/** An attribute as a cell: numbers, booleans and strings as they are, anything else as JSON. */
function attributeCell(v: JsonValue): UiCell {
  if (v === null) return null;
  return typeof v === 'object' ? canonicalJson(v) : cellOf(v);
}

/** A cell's column type. */
function typeOf(v: UiCell): UiColumn['type'] {
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
}

/**
 * Appends the rows of a live experiment's open runs to the runs table: the run's own columns,
 * `params.*`, `metrics.*` (last value), `tags.*`, `labels.*`, `attributes.*`; a name the table
 * lacks becomes a new column (empty for the rows before), a value of another type than its
 * column's is kept as text.
 * @param rows - the table
 * @param experiment - the experiment's index in the study
 * @param live - the experiment and its open runs
 */
export function appendLiveRows(rows: RunRows, experiment: number, live: LiveExperiment): void {
  const byName = new Map(rows.columns.map((c) => [c.name, c]));
  const project = parseReference(live.reference).repository;
  for (const run of live.runs) {
    const cells = new Map<string, UiCell>([
      ['experiment', live.reference],
      ['run_id', run.runId],
      ['project', project],
      ['name', run.name],
      ['status', 'running'],
      ['parent_run_id', run.parentRunId ?? null],
      ['resumed_from', run.resumedFrom ?? null],
      ['started_at', run.startedAt],
      ['description', run.description ?? null],
      ['labels', run.labels.length === 0 ? null : run.labels.join(', ')],
      ['solve_count', run.solveCount],
    ]);
    for (const [k, v] of run.parameters) cells.set(`params.${k}`, cellOf(v));
    for (const [k, s] of run.metrics) cells.set(`metrics.${k}`, lastValue(s));
    for (const [k, v] of Object.entries(run.tags)) cells.set(`tags.${k}`, v);
    for (const l of run.labels) cells.set(`labels.${l}`, true);
    for (const [k, v] of Object.entries(run.attributes)) {
      cells.set(`attributes.${k}`, attributeCell(v));
    }
    const row = rows.experiment.length;
    rows.experiment.push(experiment);
    rows.runId.push(run.runId);
    rows.status.push('running');
    for (const [name, v] of cells) {
      if (byName.has(name) || v === null || kindOf(name) === 'run') continue;
      const column = {
        name,
        kind: kindOf(name),
        type: typeOf(v),
        values: new Array<UiCell>(row).fill(null),
      };
      rows.columns.push(column);
      byName.set(name, column);
    }
    for (const column of rows.columns) {
      let v = cells.get(column.name) ?? null;
      if (v !== null && column.type !== 'time' && column.type !== typeOf(v)) v = String(v);
      column.values.push(v);
    }
  }
}

/**
 * A live run in full, as far as its journal goes: no end, no error, no solves yet (they are in
 * the run once it closes).
 * @param experiment - `UiExperiment.id`
 * @param run - the run
 * @returns the detail
 */
export function liveRunDetail(experiment: string, run: LiveRun): UiRunDetail {
  const metrics = [...run.metrics].map(([name, s]) => ({
    name,
    points: s.values.length,
    last: lastValue(s),
  }));
  return {
    experiment,
    runId: run.runId,
    name: run.name,
    status: 'running',
    reason: null,
    error: null,
    description: run.description ?? null,
    startedAt: new Date(run.startedAt).toISOString(),
    endedAt: null,
    host: run.host,
    runledgerVersion: null,
    parentRunId: run.parentRunId ?? null,
    resumedFrom: run.resumedFrom ?? null,
    parameters: Object.fromEntries([...run.parameters].map(([k, v]) => [k, cellOf(v)])),
    tags: { ...run.tags },
    labels: [...run.labels],
    attributes: { ...run.attributes },
    metrics,
    attachments: run.attachments
      .filter((a) => !a.name.startsWith(RESERVED_PREFIX))
      .map((a) => ({
        name: a.name,
        mediaType: a.mediaType,
        size: a.descriptor.size,
        digest: a.descriptor.digest,
        preview: previewOf(a.mediaType, a.name),
      })),
    solves: [],
  };
}

/**
 * A live run's metric series so far, in step order.
 * @param experiment - `UiExperiment.id`
 * @param run - the run
 * @param names - only these metrics (every metric when absent)
 * @returns one series per metric the run has, in the order asked
 */
export function liveMetricSeries(
  experiment: string,
  run: LiveRun,
  names: readonly string[] | undefined
): UiMetricSeries[] {
  const all = run.metrics;
  const wanted = names === undefined ? [...all.keys()] : names.filter((n) => all.has(n));
  return wanted.map((name) => {
    const s = all.get(name) as LiveSeries;
    return {
      experiment,
      runId: run.runId,
      name,
      steps: Array.from(s.steps),
      timestamps: Array.from(s.timestamps),
      values: Array.from(s.values),
    };
  });
}

/**
 * An attachment a live run logged (its blob is in the store), decompressed and digest-verified.
 * @param registry - the local store
 * @param experiment - `UiExperiment.id`, for messages
 * @param run - the run
 * @param name - the attachment
 * @returns the content
 * @throws RunledgerError `ATTACHMENT_NOT_FOUND`, `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`
 */
export async function liveAttachment(
  registry: LocalRegistry,
  experiment: string,
  run: LiveRun,
  name: string
): Promise<{ name: string; mediaType: string; bytes: Uint8Array }> {
  const records = new Map(
    run.attachments.filter((a) => !a.name.startsWith(RESERVED_PREFIX)).map((a) => [a.name, a])
  );
  const reader = new AttachmentReader(
    `run ${run.runId} of experiment ${experiment}`,
    () => records,
    registry
  );
  return { name, mediaType: reader.mediaType(name), bytes: await reader.getBlob(name) };
}
