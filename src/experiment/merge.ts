/**
 * @module experiment/merge
 * `mergeExperiments`: sealed experiments — the shards of a sweep, pulled from a team's registry,
 * or any studies — combined into one, runs renumbered deterministically, every payload blob
 * reused by digest, the sources named in annotations; the same sources always give the same
 * manifest digest.
 */
import { RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import type { JsonValue } from '../oci/canonical-json.js';
import { normalizeReference } from '../oci/reference.js';
import type { Annotations } from '../oci/types.js';
import { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import type { AttachmentRecord } from './attachments.js';
import { mapConcurrently } from './concurrency.js';
import { Experiment } from './experiment.js';
import { ParameterTable, type ParameterValue } from './parameters.js';
import { RUN_ATTACHMENT } from './run-record.js';
import type { ClosedRunState } from './run.js';
import type { ExperimentSeed, SealedExperiment } from './sealed.js';
import {
  SWEEP_CONFIGS_ANNOTATION,
  SWEEP_INDEX_ATTRIBUTE,
  SWEEP_SHARD_ANNOTATION,
} from './sweep.js';

/** Annotation of a merged experiment: its sources, `<reference>@<manifest digest>`, in order. */
export const MERGE_SOURCES_ANNOTATION = 'org.runledger.merge.sources';

/** Options of {@link mergeExperiments}. */
export interface MergeOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
}

interface SourceRun {
  readonly source: number;
  readonly state: ClosedRunState;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly record: Record<string, JsonValue> | undefined;
  readonly sweepIndex: number | undefined;
}

/**
 * Combines committed experiments of the local store into one, committed under `into`. Runs are
 * renumbered 0, 1, … : in sweep order (their `sweep.index` attribute) when every run has one —
 * so the shards of a sweep merge into the sweep, whatever order they are given in — else source
 * by source (sources in reference order, runs in run id order); parents and `resumed_from` follow
 * their runs. Payload layers are reused by digest (nothing is copied or re-uploaded); the run
 * records are gathered into the merge's own `runledger.runs` (parents and resumed runs renumbered;
 * a source's per-run `runledger.run` attachments, from earlier versions, folded in). The experiment-level
 * attachments are the union of the sources' (one name, one content). Annotations: the sources'
 * common ones, `org.runledger.merge.sources` (`<reference>@<digest>`, comma-separated, in
 * reference order), and the sweep's config count when the sources agree on it. The same sources give the
 * same digest.
 * @param sources - references of committed experiments (at least one, each once)
 * @param into - where the merge is committed (insert-or-conflict; a project reference gets a
 *   fresh tag, as `Experiment.create`)
 * @param options - registry
 * @returns the merged experiment
 * @throws RunledgerError `ARGUMENT_INVALID` (no sources, a source twice, two runs of one sweep
 *   config, experiment attachments of one name and different content), `REF_NOT_FOUND`,
 *   `REF_CONFLICT`, `PARAMETER_TYPE_CONFLICT`
 * @example
 * ```ts
 * const merged = await mergeExperiments(
 *   ['ghcr.io/acme/qap:grid-1-shard-0-of-2', 'ghcr.io/acme/qap:grid-1-shard-1-of-2'],
 *   'ghcr.io/acme/qap:grid-1'
 * );
 * ```
 */
export async function mergeExperiments(
  sources: readonly string[],
  into: string,
  options: MergeOptions = {}
): Promise<SealedExperiment> {
  if (sources.length === 0) {
    throw new RunledgerError('ARGUMENT_INVALID', 'mergeExperiments needs at least one source.');
  }
  // Sources in reference order (numbers compared as numbers: shard-10 after shard-9), so the
  // order they are given in changes nothing.
  const names = sources.map((s) => normalizeReference(s)).sort(naturalOrder);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new RunledgerError('ARGUMENT_INVALID', `${twice} is given twice to merge.`, {
      data: { reference: twice },
    });
  }
  const registry = options.registry ?? (await LocalRegistry.open());
  // Pins what the merge reads and writes until its commit holds it (GC may run beside it).
  const session = registry.openSession({ recoverable: false });
  try {
    return await merge(registry, session, names, into);
  } finally {
    session.close();
  }
}

async function merge(
  registry: LocalRegistry,
  session: StoreSession,
  names: readonly string[],
  into: string
): Promise<SealedExperiment> {
  const sealed: SealedExperiment[] = [];
  for (const name of names) {
    const s = await Experiment.load(name, { registry, pull: false });
    session.pinRoot(s.descriptor);
    sealed.push(s);
  }
  const seeds = await Promise.all(sealed.map((s) => s.seed({ runNames: false })));

  // Every run, with what ordering and renumbering need.
  const runs: SourceRun[] = [];
  const all = seeds.flatMap((seed, source) => {
    const byRun = seed.parameters.valuesByRun();
    return seed.runs.map((state) => ({ source, state, parameters: byRun.get(state.runId) ?? {} }));
  });
  // Run records: in the states (the sources' runledger.runs), or, for runs of an earlier
  // artifact, their runledger.run attachments, read many at a time.
  const records = await mapConcurrently(all, READ_CONCURRENCY, async ({ state }) => {
    if (state.record !== undefined) return state.record as Record<string, JsonValue>;
    const layer = state.attachments.get(RUN_ATTACHMENT);
    if (layer === undefined) return undefined;
    const bytes = await registry.readBlob(layer.descriptor.digest, {
      expectedSize: layer.descriptor.size,
    });
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, JsonValue>;
  });
  for (const [i, { source, state, parameters }] of all.entries()) {
    const record = records[i];
    const attributes = record?.['attributes'];
    const index =
      typeof attributes === 'object' && attributes !== null
        ? (attributes as Record<string, unknown>)[SWEEP_INDEX_ATTRIBUTE]
        : undefined;
    runs.push({
      source,
      state,
      parameters,
      record,
      sweepIndex: typeof index === 'number' && Number.isSafeInteger(index) ? index : undefined,
    });
  }
  const bySweep = runs.length > 0 && runs.every((r) => r.sweepIndex !== undefined);
  if (bySweep) {
    const seen = new Map<number, SourceRun>();
    for (const r of runs) {
      const other = seen.get(r.sweepIndex as number);
      if (other !== undefined) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Sweep config ${String(r.sweepIndex)} has a run in ${names[other.source]} (run ${other.state.runId}) and in ${names[r.source]} (run ${r.state.runId}); merge each shard once.`,
          { data: { index: r.sweepIndex } }
        );
      }
      seen.set(r.sweepIndex as number, r);
    }
    runs.sort((a, b) => (a.sweepIndex as number) - (b.sweepIndex as number));
  }
  const newId = new Map<string, number>();
  runs.forEach((r, i) => newId.set(`${r.source}:${r.state.runId}`, i));

  // The renumbered runs: a run record that names another run is rewritten, nothing else is; a
  // record an earlier artifact kept as a run attachment joins the merged runledger.runs.
  const merged: ClosedRunState[] = [];
  const parameters = new ParameterTable();
  for (const [i, r] of runs.entries()) {
    let attachments = r.state.attachments;
    let record = r.record;
    if (record !== undefined) {
      const renamed = { ...record };
      for (const key of ['parent_run_id', 'resumed_from']) {
        const old = record[key];
        if (typeof old !== 'number') continue;
        const now = newId.get(`${r.source}:${old}`);
        if (now === undefined) delete renamed[key];
        else renamed[key] = now;
      }
      record = renamed;
      if (attachments.has(RUN_ATTACHMENT)) {
        attachments = new Map(attachments);
        (attachments as Map<string, AttachmentRecord>).delete(RUN_ATTACHMENT);
      }
    }
    merged.push({
      ...r.state,
      runId: i,
      attachments,
      ...(record === undefined ? {} : { record }),
    });
    for (const [name, value] of Object.entries(r.parameters)) parameters.set(i, name, value);
  }

  // The experiment's own attachments: one content per name.
  const attachments = new Map<string, { record: AttachmentRecord; source: number }>();
  for (const [source, seed] of seeds.entries()) {
    for (const a of seed.attachments) {
      const had = attachments.get(a.name);
      if (had === undefined) attachments.set(a.name, { record: a, source });
      else if (had.record.descriptor.digest !== a.descriptor.digest) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The experiment attachment ${JSON.stringify(a.name)} differs between ${names[had.source]} and ${names[source]}; merge them apart or remove one.`,
          { data: { name: a.name } }
        );
      }
    }
  }

  const seed: ExperimentSeed = {
    attachments: [...attachments.values()].map((a) => a.record),
    runs: merged,
    parameters,
    runNames: [
      ...new Set(
        runs.flatMap((r) => (typeof r.record?.['name'] === 'string' ? [r.record['name']] : []))
      ),
    ],
    annotations: mergedAnnotations(seeds, names, sealed),
    subject: undefined,
    roots: sealed.map((s) => s.descriptor),
  };
  const exp = await Experiment.fromSeed(into, seed, registry);
  return exp.commit();
}

/** Blob reads in flight at once. */
const READ_CONCURRENCY = 32;

/** Code point order, but runs of digits compared as numbers (no locale: the same everywhere). */
function naturalOrder(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
    }
    return compareCodePoints(x, y);
  }
  return pa.length - pb.length;
}

/** The sources' common annotations (but the shard), the sources, the sweep's config count. */
function mergedAnnotations(
  seeds: readonly ExperimentSeed[],
  names: readonly string[],
  sealed: readonly SealedExperiment[]
): Annotations {
  const out: Record<string, string> = {};
  const first = seeds[0]?.annotations ?? {};
  for (const [k, v] of Object.entries(first)) {
    if (k === SWEEP_SHARD_ANNOTATION || k === MERGE_SOURCES_ANNOTATION) continue;
    if (seeds.every((s) => s.annotations[k] === v)) out[k] = v;
  }
  const configs = seeds.map((s) => s.annotations[SWEEP_CONFIGS_ANNOTATION]);
  if (configs[0] !== undefined && configs.every((c) => c === configs[0])) {
    out[SWEEP_CONFIGS_ANNOTATION] = configs[0];
  }
  out[MERGE_SOURCES_ANNOTATION] = names
    .map((n, i) => `${n}@${(sealed[i] as SealedExperiment).manifestDigest}`)
    .join(',');
  return out;
}
