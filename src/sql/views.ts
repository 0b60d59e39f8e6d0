/**
 * @module sql/views
 * The SQL views over the store — `experiments`, `runs`, `params`, `tags`, `metrics`, `solves`,
 * `attachments` — and their per-experiment Parquet files in the derived cache
 * (`.runledger/derived/sql-<view>/`), named by the experiment's manifest digest and checked
 * against the SHA-256 in their name on every use, so they are never stale and a damaged one is
 * rebuilt.
 */
import { createHash } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Table } from 'apache-arrow';
import { Experiment } from '../experiment/experiment.js';
import type { ExperimentRef } from '../experiment/list.js';
import { cachedRunsTable } from '../experiment/search.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import type { Digest } from '../oci/digest.js';
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

/** A long view's columns, typed as {@link BASE_COLUMNS} says, `experiment` filled in. */
function viewTable(
  view: 'params' | 'tags' | 'metrics' | 'attachments',
  experiment: string,
  values: Readonly<Record<string, SqlColumn['values']>>
): SqlColumn[] {
  const rows = values['run_id']?.length ?? 0;
  return BASE_COLUMNS[view].map(([name, type]) =>
    name === 'experiment'
      ? constant(name, experiment, rows)
      : { name, type, values: values[name] ?? new Array<null>(rows).fill(null) }
  );
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
      return viewTable('params', experiment, { run_id: runId, name, type, value, number });
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
      return viewTable('tags', experiment, { run_id: runId, name, value });
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
      return viewTable('metrics', experiment, { run_id: runId, name, step, timestamp, value });
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
      return viewTable('attachments', experiment, {
        run_id: runId,
        name,
        media_type: mediaType,
        size,
        digest,
      });
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
 * engine's file access: call this before {@link SqlEngine.lockDown}). Over several experiments
 * the files are also combined into one (`sql-<view>-sets/`, keyed by the names — and so the
 * hashes — of the files it combines): DuckDB reads one file much faster than a thousand, and
 * the next statement over the same experiments reads only that one.
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
  const loaded = new Map<string, Promise<SealedExperiment>>();
  const sealed = (e: ExperimentRef) => (): Promise<SealedExperiment> => {
    let p = loaded.get(e.imageName);
    if (p === undefined) {
      p = Experiment.load(e.imageName, { registry, pull: false });
      loaded.set(e.imageName, p);
    }
    return p;
  };
  for (const view of views) {
    if (view === 'experiments') {
      await engine.createTable('experiments', experimentColumns(experiments));
      continue;
    }
    const kind = `sql-${view}`;
    dirs.push(
      join(registry.root, '.runledger', 'derived', kind),
      join(registry.root, '.runledger', 'derived', `${kind}-sets`)
    );
    const listing = await listDerivedFiles(registry.root, kind, 'parquet');
    const named = experiments.map((e) => listing.get(derivedFileKey(e.manifestDigest, fileKey(e))));
    let sources: string[] | undefined;
    if (experiments.length > 1 && named.every((p) => p !== undefined)) {
      const set = await findSet(registry.root, kind, named as string[]);
      if (set !== undefined) sources = [set];
    }
    if (sources === undefined) {
      const paths: string[] = [];
      for (const [i, e] of experiments.entries()) {
        let path = named[i];
        if (path !== undefined && !(await checkDerivedFile(path))) path = undefined;
        path ??= await buildFile(engine, registry, view, e, fileKey(e), sealed(e));
        paths.push(path);
      }
      sources =
        paths.length > 1
          ? [(await buildSet(engine, registry.root, kind, paths)) ?? paths].flat()
          : paths;
    }
    if (sources.length === 0) {
      await engine.createTable(
        view,
        BASE_COLUMNS[view].map(([name, type]) => ({ name, type, values: [] }))
      );
    } else {
      await engine.run(
        `CREATE VIEW ${quoteIdentifier(view)} AS SELECT * FROM read_parquet([${sources
          .map(quoteLiteral)
          .join(', ')}], union_by_name = true)`
      );
    }
  }
  return dirs;
}

/** The key of a combined file: the view format and the names of the files it combines. */
function setKey(paths: readonly string[]): Digest {
  const hash = createHash('sha256').update(FORMAT);
  for (const p of paths) hash.update(`\n${basename(p)}`);
  return `sha256:${hash.digest('hex')}` as Digest;
}

/** A whole combined file of these per-experiment files, if the cache has one (touched: in use). */
async function findSet(
  root: string,
  kind: string,
  paths: readonly string[]
): Promise<string | undefined> {
  const key = derivedFileKey(setKey(paths), '0');
  const path = (await listDerivedFiles(root, `${kind}-sets`, 'parquet')).get(key);
  if (path === undefined || !(await checkDerivedFile(path))) return undefined;
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
  return path;
}

/** Combines per-experiment files into one, placed in the cache; undefined when it cannot be. */
async function buildSet(
  engine: SqlEngine,
  root: string,
  kind: string,
  paths: readonly string[]
): Promise<string | undefined> {
  const key = setKey(paths);
  const temp = await derivedTempFile(root, `${kind}-sets`, key, '0', 'parquet');
  await engine.run(
    `COPY (SELECT * FROM read_parquet([${paths.map(quoteLiteral).join(', ')}], union_by_name = true)) TO ${quoteLiteral(temp)} (FORMAT parquet, COMPRESSION zstd)`
  );
  return adoptDerivedFile(temp, root, `${kind}-sets`, key, '0', 'parquet');
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
