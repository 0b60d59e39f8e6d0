/**
 * @module experiment/search
 * `searchRuns`: one runs table over many experiments of the local store — a project, a prefix,
 * references, or everything — with the experiment each run belongs to, filtered and ordered with
 * the query language of `runledger runs --where/--sort`.
 */
import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { RunledgerError } from '../errors.js';
import { namesRepository, normalizeReference, parseReference } from '../oci/reference.js';
import { LocalRegistry } from '../store/local-registry.js';
import { readDerived, writeDerived } from '../store/derived.js';
import {
  concatTables,
  selectColumns,
  tableFromArrowFile,
  tableToArrowFile,
  takeRows,
  typedColumnsTable,
} from '../tables/arrow.js';
import { queryTable } from '../tables/query.js';
import { Experiment } from './experiment.js';
import { listExperiments, type ExperimentRef } from './list.js';

/** Options of {@link searchRuns}. */
export interface SearchRunsOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /**
   * Which experiments: a project (`ghcr.io/acme/qap`, a reference without a tag: all its
   * experiments, `:latest` not counted twice), a reference with a tag or digest (that one), or a
   * prefix ending in `/` (`ghcr.io/acme/`); several as an array. Every experiment when absent.
   */
  readonly experiments?: string | readonly string[];
  /** A filter in the query language (`status = 'finished' and metrics.gap < 0.1`). */
  readonly where?: string;
  /** A sort spec (`metrics.gap asc, run_id desc`). */
  readonly orderBy?: string;
  /** The columns to keep, in this order (after the filter and the sort). */
  readonly columns?: readonly string[];
  /** At most this many rows (after the filter and the sort). */
  readonly limit?: number;
}

/**
 * One runs table over many experiments: `experiment` (its reference), `experiment_digest`, then
 * each experiment's runs-table columns (`run_id`, `project`, `name`, `status`, `params.*`,
 * `metrics.*`, …). A column whose type differs between experiments is promoted (int64 → float64)
 * or, when not promotable, kept as text without losing a value (see `concatTables`).
 * @param options - experiments, where, orderBy, columns, limit, registry
 * @returns an Arrow table, one row per run
 * @throws RunledgerError `USAGE` (a filter, sort or column the table does not have),
 *   `ARGUMENT_INVALID`, `REF_NOT_FOUND`
 * @example
 * ```ts
 * const best = await searchRuns({
 *   experiments: 'ghcr.io/acme/qap',
 *   where: "status = 'finished'",
 *   orderBy: 'metrics.gap',
 *   limit: 5,
 * });
 * ```
 */
export async function searchRuns(options: SearchRunsOptions = {}): Promise<Table> {
  const limit = options.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
    throw new RunledgerError('ARGUMENT_INVALID', `limit must be a whole number ≥ 0, not ${limit}.`);
  }
  const registry = options.registry ?? (await LocalRegistry.open());
  const chosen = await chooseExperiments(registry, options.experiments);
  const parts: Table[] = [];
  for (const e of chosen) {
    const runs = await cachedRunsTable(registry, e);
    const n = runs.numRows;
    const head = typedColumnsTable([
      { name: 'experiment', type: 'utf8', values: new Array<string>(n).fill(e.imageName) },
      {
        name: 'experiment_digest',
        type: 'utf8',
        values: new Array<string>(n).fill(e.manifestDigest),
      },
    ]);
    parts.push(head.assign(runs));
  }
  let table = queryTable(concatTables(parts), {
    ...(options.where === undefined ? {} : { where: options.where }),
    ...(options.orderBy === undefined ? {} : { orderBy: options.orderBy }),
  });
  if (options.columns !== undefined) {
    const have = table.schema.fields.map((f) => f.name);
    const missing = options.columns.filter((c) => !have.includes(c));
    if (missing.length > 0) {
      throw new RunledgerError(
        'USAGE',
        `No column ${missing.map((c) => JSON.stringify(c)).join(', ')} in the runs of these experiments; they have ${have.join(', ')}.`,
        { data: { missing } }
      );
    }
    table = selectColumns(table, options.columns);
  }
  if (limit !== undefined && limit < table.numRows) {
    table = takeRows(
      table,
      Array.from({ length: limit }, (_, i) => i)
    );
  }
  return table;
}

/**
 * The runs table of one experiment, from the derived-table cache when it has it (keyed by the
 * manifest digest, and the reference, which gives the `project` column): built once, never
 * stale, rebuilt when damaged.
 */
export async function cachedRunsTable(registry: LocalRegistry, e: ExperimentRef): Promise<Table> {
  const key = createHash('sha256').update(e.imageName).digest('hex').slice(0, 16);
  const cached = await readDerived(registry.root, 'runs', e.manifestDigest, key);
  if (cached !== undefined) {
    try {
      return tableFromArrowFile(cached);
    } catch {
      // rebuilt below
    }
  }
  const sealed = await Experiment.load(e.imageName, { registry, pull: false });
  const table = await sealed.runsDf();
  await writeDerived(registry.root, 'runs', e.manifestDigest, key, tableToArrowFile(table));
  return table;
}

/** The experiments `selection` names, each once, in the store's reference order. */
export async function chooseExperiments(
  registry: LocalRegistry,
  selection: string | readonly string[] | undefined
): Promise<ExperimentRef[]> {
  const all = await listExperiments({ registry });
  if (selection === undefined) return withoutLatestAliases(all);
  const out = new Map<string, ExperimentRef>();
  for (const s of typeof selection === 'string' ? [selection] : selection) {
    let picked: ExperimentRef[];
    if (s.endsWith('/')) {
      picked = withoutLatestAliases(all.filter((e) => e.imageName.startsWith(s)));
    } else if (namesRepository(s)) {
      const { registry: host, repository } = parseReference(s);
      const prefix = `${host}/${repository}:`;
      picked = withoutLatestAliases(all.filter((e) => e.imageName.startsWith(prefix)));
    } else {
      const name = normalizeReference(s);
      picked = all.filter((e) => e.imageName === name);
      if (picked.length === 0) {
        throw new RunledgerError(
          'REF_NOT_FOUND',
          `No experiment ${name} in the store ${registry.root}; "runledger ls" lists them.`,
          { data: { reference: name } }
        );
      }
    }
    for (const e of picked) out.set(e.imageName, e);
  }
  return [...out.values()];
}

/** Drops a `:latest` that only repeats another reference of the same manifest. */
function withoutLatestAliases(list: readonly ExperimentRef[]): ExperimentRef[] {
  return list.filter(
    (e) =>
      parseReference(e.imageName).tag !== 'latest' ||
      !list.some((o) => o !== e && o.manifestDigest === e.manifestDigest)
  );
}
