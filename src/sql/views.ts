/**
 * @module sql/views
 * The SQL views over the store — `experiments`, `runs`, `params`, `tags`, `metrics`, `solves`,
 * `attachments` — and their per-experiment Parquet files in the derived cache
 * (`.runledger/derived/sql-<view>/`), named by the experiment's manifest digest and checked
 * against the SHA-256 in their name on every use, so they are never stale and a damaged one is
 * rebuilt.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { Experiment } from '../experiment/experiment.js';
import type { ExperimentRef } from '../experiment/list.js';
import { cachedRunsTable } from '../experiment/search.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import { parseReference } from '../oci/reference.js';
import {
  adoptDerivedFile,
  checkDerivedFile,
  derivedFileKey,
  derivedTempFile,
  listDerivedFiles,
} from '../store/derived.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { quoteIdentifier, quoteLiteral, type SqlColumn, type SqlEngine } from './duckdb.js';

/** The views, in the order the README documents them. */
export const VIEWS = [
  'experiments',
  'runs',
  'params',
  'tags',
  'metrics',
  'solves',
  'attachments',
] as const;

/** A view's name. */
export type ViewName = (typeof VIEWS)[number];

/** The views kept per experiment as Parquet (`experiments` is one small table, built each time). */
type FileView = Exclude<ViewName, 'experiments'>;

/**
 * Bumped when what a view file holds changes: part of every file's key, so an older file is
 * simply not found (and `gc` drops it with its manifest).
 */
const FORMAT = 'sql-views-1';

/** Each view's own columns, also the columns of an empty view. */
const BASE_COLUMNS: Readonly<Record<ViewName, readonly (readonly [string, SqlColumn['type']])[]>> =
  {
    experiments: [
      ['experiment', 'VARCHAR'],
      ['project', 'VARCHAR'],
      ['tag', 'VARCHAR'],
      ['digest', 'VARCHAR'],
      ['status', 'VARCHAR'],
      ['reason', 'VARCHAR'],
      ['updated_at', 'TIMESTAMPTZ'],
      ['run_count', 'BIGINT'],
      ['solve_count', 'BIGINT'],
      ['sampling_count', 'BIGINT'],
    ],
    runs: [
      ['experiment', 'VARCHAR'],
      ['experiment_digest', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['project', 'VARCHAR'],
      ['name', 'VARCHAR'],
      ['status', 'VARCHAR'],
      ['parent_run_id', 'BIGINT'],
      ['resumed_from', 'BIGINT'],
      ['started_at', 'TIMESTAMPTZ'],
      ['ended_at', 'TIMESTAMPTZ'],
      ['duration_ms', 'DOUBLE'],
      ['description', 'VARCHAR'],
      ['labels', 'VARCHAR'],
      ['solve_count', 'BIGINT'],
    ],
    params: [
      ['experiment', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['name', 'VARCHAR'],
      ['type', 'VARCHAR'],
      ['value', 'VARCHAR'],
      ['number', 'DOUBLE'],
    ],
    tags: [
      ['experiment', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['name', 'VARCHAR'],
      ['value', 'VARCHAR'],
    ],
    metrics: [
      ['experiment', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['name', 'VARCHAR'],
      ['step', 'BIGINT'],
      ['timestamp', 'TIMESTAMPTZ'],
      ['value', 'DOUBLE'],
    ],
    solves: [
      ['experiment', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['solve_id', 'BIGINT'],
      ['adapter', 'VARCHAR'],
      ['status', 'VARCHAR'],
      ['objective', 'DOUBLE'],
      ['feasible', 'BOOLEAN'],
      ['optimality', 'VARCHAR'],
      ['started_at', 'TIMESTAMPTZ'],
      ['ended_at', 'TIMESTAMPTZ'],
      ['duration_ms', 'DOUBLE'],
    ],
    attachments: [
      ['experiment', 'VARCHAR'],
      ['run_id', 'BIGINT'],
      ['name', 'VARCHAR'],
      ['media_type', 'VARCHAR'],
      ['size', 'BIGINT'],
      ['digest', 'VARCHAR'],
    ],
  };

/** The text columns of the runs and solves tables that hold RFC 3339 times. */
const TIME_COLUMNS = new Set(['started_at', 'ended_at']);

/**
 * The views a statement may read: those whose name appears in it as a word (a name inside a
 * string literal counts too, which only costs a view built for nothing).
 * @param sql - the statement
 * @returns the views, in {@link VIEWS} order
 */
export function viewsNamedIn(sql: string): ViewName[] {
  return VIEWS.filter((v) => new RegExp(`(^|[^A-Za-z0-9_$])${v}($|[^A-Za-z0-9_$])`, 'i').test(sql));
}

/**
 * An Arrow table's columns (int64, float64, bool, utf8) as SQL columns; the `started_at` and
 * `ended_at` of runs and solves tables become TIMESTAMPTZ, as does any other text column whose
 * name is `timestamp` or ends in `_at` when every value it has is an RFC 3339 time.
 * @param table - the table
 * @param first - columns to put in front, as given
 * @returns the columns
 */
export function arrowColumns(table: Table, first: readonly SqlColumn[] = []): SqlColumn[] {
  const out: SqlColumn[] = [...first];
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name);
    const values: (number | bigint | boolean | string | null)[] = new Array(table.numRows);
    for (let i = 0; i < table.numRows; i++) {
      values[i] =
        vector === null || !vector.isValid(i)
          ? null
          : (vector.get(i) as number | bigint | boolean | string);
    }
    const t = String(field.type);
    let type: SqlColumn['type'] = t.startsWith('Int')
      ? 'BIGINT'
      : t.startsWith('Float')
        ? 'DOUBLE'
        : t === 'Bool'
          ? 'BOOLEAN'
          : 'VARCHAR';
    if (type === 'VARCHAR' && isTimeColumn(field.name, values)) type = 'TIMESTAMPTZ';
    if (type === 'VARCHAR' && t !== 'Utf8') {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) values[i] = String(v);
      }
    }
    out.push({ name: field.name, type, values });
  }
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isTimeColumn(name: string, values: readonly unknown[]): boolean {
  if (!(TIME_COLUMNS.has(name) || name === 'timestamp' || name.endsWith('_at'))) return false;
  return values.every((v) => v === null || (typeof v === 'string' && RFC3339.test(v)));
}

/** A column of one value repeated. */
function constant(name: string, value: string, rows: number): SqlColumn {
  return { name, type: 'VARCHAR', values: new Array<string>(rows).fill(value) };
}

/** The columns of one experiment's file for a view. */
async function viewColumns(
  view: FileView,
  e: ExperimentRef,
  sealed: () => Promise<SealedExperiment>,
  registry: LocalRegistry
): Promise<SqlColumn[]> {
  const experiment = e.imageName;
  switch (view) {
    case 'runs': {
      const runs = await cachedRunsTable(registry, e);
      return arrowColumns(runs, [
        constant('experiment', experiment, runs.numRows),
        constant('experiment_digest', e.manifestDigest, runs.numRows),
      ]);
    }
    case 'params': {
      const table = (await sealed()).runParametersDf();
      const ids = table.getChild('run_id');
      const runId: bigint[] = [];
      const name: string[] = [];
      const type: string[] = [];
      const value: string[] = [];
      const number: (number | null)[] = [];
      for (const field of table.schema.fields) {
        if (field.name === 'run_id') continue;
        const t = String(field.type);
        const kind = t.startsWith('Int')
          ? 'int64'
          : t.startsWith('Float')
            ? 'float64'
            : t === 'Bool'
              ? 'bool'
              : 'string';
        const column = table.getChild(field.name);
        for (let i = 0; i < table.numRows; i++) {
          if (column === null || !column.isValid(i)) continue;
          const v = column.get(i) as number | bigint | boolean | string;
          runId.push(BigInt(ids?.get(i) as number | bigint));
          name.push(field.name);
          type.push(kind);
          value.push(String(v));
          number.push(typeof v === 'number' || typeof v === 'bigint' ? Number(v) : null);
        }
      }
      return [
        constant('experiment', experiment, runId.length),
        { name: 'run_id', type: 'BIGINT', values: runId },
        { name: 'name', type: 'VARCHAR', values: name },
        { name: 'type', type: 'VARCHAR', values: type },
        { name: 'value', type: 'VARCHAR', values: value },
        { name: 'number', type: 'DOUBLE', values: number },
      ];
    }
    case 'tags': {
      const runId: number[] = [];
      const name: string[] = [];
      const value: string[] = [];
      for (const run of (await sealed()).runs) {
        const tags = (await run.getInfo()).tags;
        for (const k of Object.keys(tags).sort()) {
          runId.push(run.runId);
          name.push(k);
          value.push(tags[k] as string);
        }
      }
      return [
        constant('experiment', experiment, runId.length),
        { name: 'run_id', type: 'BIGINT', values: runId },
        { name: 'name', type: 'VARCHAR', values: name },
        { name: 'value', type: 'VARCHAR', values: value },
      ];
    }
    case 'metrics': {
      const runId: number[] = [];
      const name: string[] = [];
      const step: number[] = [];
      const timestamp: number[] = [];
      const value: number[] = [];
      for (const run of (await sealed()).runs) {
        for (const metric of await run.metricNames()) {
          const series = await run.getMetric(metric);
          for (let i = 0; i < series.values.length; i++) {
            runId.push(run.runId);
            name.push(metric);
            step.push(series.steps[i] as number);
            timestamp.push(series.timestamps[i] as number);
            value.push(series.values[i] as number);
          }
        }
      }
      return [
        constant('experiment', experiment, runId.length),
        { name: 'run_id', type: 'BIGINT', values: runId },
        { name: 'name', type: 'VARCHAR', values: name },
        { name: 'step', type: 'BIGINT', values: step },
        { name: 'timestamp', type: 'TIMESTAMPTZ', values: timestamp },
        { name: 'value', type: 'DOUBLE', values: value },
      ];
    }
    case 'solves': {
      const table = await (await sealed()).solvesDf();
      return arrowColumns(table, [constant('experiment', experiment, table.numRows)]);
    }
    case 'attachments': {
      const s = await sealed();
      const runId: (number | null)[] = [];
      const name: string[] = [];
      const mediaType: string[] = [];
      const size: number[] = [];
      const digest: string[] = [];
      for (const scope of [s, ...s.runs]) {
        for (const a of scope.attachmentNames) {
          runId.push('runId' in scope ? scope.runId : null);
          name.push(a);
          mediaType.push(scope.attachmentMediaType(a));
          size.push(scope.attachmentSize(a));
          digest.push(scope.attachmentDigest(a));
        }
      }
      return [
        constant('experiment', experiment, runId.length),
        { name: 'run_id', type: 'BIGINT', values: runId },
        { name: 'name', type: 'VARCHAR', values: name },
        { name: 'media_type', type: 'VARCHAR', values: mediaType },
        { name: 'size', type: 'BIGINT', values: size },
        { name: 'digest', type: 'VARCHAR', values: digest },
      ];
    }
  }
}

/** The key of an experiment's view files: the format and the reference (its `experiment`). */
function fileKey(e: ExperimentRef): string {
  return createHash('sha256').update(`${FORMAT}\0${e.imageName}`).digest('hex').slice(0, 16);
}

/**
 * Creates the views a statement names, over the experiments given: each experiment's Parquet
 * file is taken from the derived cache when it is there and whole, else built (which needs the
 * engine's file access: call this before {@link SqlEngine.lockDown}).
 * @param engine - the database
 * @param registry - the store
 * @param experiments - the experiments the views cover
 * @param views - the views to create
 * @returns the directories the views read (for `lockDown`)
 */
export async function createViews(
  engine: SqlEngine,
  registry: LocalRegistry,
  experiments: readonly ExperimentRef[],
  views: readonly ViewName[]
): Promise<string[]> {
  const dirs: string[] = [];
  const files = new Map<FileView, string[]>();
  const listings = new Map<FileView, Map<string, string>>();
  for (const view of views) {
    if (view === 'experiments') continue;
    listings.set(view, await listDerivedFiles(registry.root, `sql-${view}`, 'parquet'));
    files.set(view, []);
    dirs.push(join(registry.root, '.runledger', 'derived', `sql-${view}`));
  }
  for (const e of experiments) {
    const key = fileKey(e);
    let loaded: Promise<SealedExperiment> | undefined;
    const sealed = (): Promise<SealedExperiment> =>
      (loaded ??= Experiment.load(e.imageName, { registry, pull: false }));
    for (const [view, listing] of listings) {
      let path = listing.get(derivedFileKey(e.manifestDigest, key));
      if (path !== undefined && !(await checkDerivedFile(path))) path = undefined;
      path ??= await buildFile(engine, registry, view, e, key, sealed);
      files.get(view)?.push(path);
    }
  }
  for (const view of views) {
    if (view === 'experiments') {
      await engine.createTable('experiments', experimentColumns(experiments));
      continue;
    }
    const list = files.get(view) ?? [];
    if (list.length === 0) {
      await engine.createTable(
        view,
        BASE_COLUMNS[view].map(([name, type]) => ({ name, type, values: [] }))
      );
    } else {
      await engine.run(
        `CREATE VIEW ${quoteIdentifier(view)} AS SELECT * FROM read_parquet([${list
          .map(quoteLiteral)
          .join(', ')}], union_by_name = true)`
      );
    }
  }
  return dirs;
}

/** Writes one experiment's file for a view and places it in the cache. */
async function buildFile(
  engine: SqlEngine,
  registry: LocalRegistry,
  view: FileView,
  e: ExperimentRef,
  key: string,
  sealed: () => Promise<SealedExperiment>
): Promise<string> {
  const columns = await viewColumns(view, e, sealed, registry);
  const staging = `build_${view}`;
  await engine.createTable(staging, columns);
  const temp = await derivedTempFile(
    registry.root,
    `sql-${view}`,
    e.manifestDigest,
    key,
    'parquet'
  );
  try {
    await engine.run(
      `COPY ${quoteIdentifier(staging)} TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION zstd)`
    );
  } finally {
    await engine.run(`DROP TABLE ${quoteIdentifier(staging)}`);
  }
  const placed = await adoptDerivedFile(
    temp,
    registry.root,
    `sql-${view}`,
    e.manifestDigest,
    key,
    'parquet'
  );
  if (placed === undefined) {
    throw new Error(`runledger: could not place the ${view} view file of ${e.imageName}`);
  }
  return placed;
}

/** The `experiments` view: one row per experiment. */
function experimentColumns(experiments: readonly ExperimentRef[]): SqlColumn[] {
  const refs = experiments.map((e) => parseReference(e.imageName));
  return [
    { name: 'experiment', type: 'VARCHAR', values: experiments.map((e) => e.imageName) },
    { name: 'project', type: 'VARCHAR', values: refs.map((r) => r.repository) },
    { name: 'tag', type: 'VARCHAR', values: refs.map((r) => r.tag ?? null) },
    { name: 'digest', type: 'VARCHAR', values: experiments.map((e) => e.manifestDigest) },
    { name: 'status', type: 'VARCHAR', values: experiments.map((e) => e.status) },
    {
      name: 'reason',
      type: 'VARCHAR',
      values: experiments.map((e) =>
        typeof e.config['reason'] === 'string' ? e.config['reason'] : null
      ),
    },
    {
      name: 'updated_at',
      type: 'TIMESTAMPTZ',
      values: experiments.map((e) => e.updatedAt ?? null),
    },
    { name: 'run_count', type: 'BIGINT', values: experiments.map((e) => e.runCount) },
    { name: 'solve_count', type: 'BIGINT', values: experiments.map((e) => e.solveCount) },
    { name: 'sampling_count', type: 'BIGINT', values: experiments.map((e) => e.samplingCount) },
  ];
}
