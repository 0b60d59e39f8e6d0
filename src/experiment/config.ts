/**
 * @module experiment/config
 * The experiment config blob (`application/org.ommx.v1.experiment.config+json`): the one
 * parse/serialize pair, in OMMX's field order (serde struct order, compact), and OMMX's loader
 * rules (ommx-reference §2.4) applied on parse.
 */
import { RunledgerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { logicalMediaType } from './compression.js';

/** How a run ended. */
export type RunStatus = 'finished' | 'failed' | 'interrupted';
/** An experiment's status: `finished` when committed, the others for checkpoints. */
export type ExperimentStatus = 'finished' | 'draft' | 'failed' | 'interrupted';

/** OMMX media types the config refers to (ommx-reference §2.1). */
export const MEDIA_TYPE_EXPERIMENT = 'application/org.ommx.v1.experiment';
export const MEDIA_TYPE_EXPERIMENT_CONFIG = 'application/org.ommx.v1.experiment.config+json';
export const MEDIA_TYPE_RUN_PARAMETERS =
  'application/org.ommx.v1.experiment.run-parameters+msgpack';
export const MEDIA_TYPE_TRACE = 'application/org.ommx.trace.otlp+protobuf';
export const MEDIA_TYPE_DIAGNOSTICS = 'application/org.ommx.diagnostic+msgpack';
const INSTANCE_TYPES = new Set([
  'application/org.ommx.v1.instance',
  'application/org.ommx.v2.instance',
]);
const SOLUTION_TYPES = new Set([
  'application/org.ommx.v1.solution',
  'application/org.ommx.v2.solution',
]);
const SAMPLE_SET_TYPES = new Set([
  'application/org.ommx.v1.sample-set',
  'application/org.ommx.v2.sample-set',
]);

/** Attachment name → layer index, and name → export file name. */
export interface AttachmentTableConfig {
  readonly entries: ReadonlyMap<string, number>;
  readonly filenames: ReadonlyMap<string, string>;
}

/** One solver (or sampler) call as the config records it. */
export interface SolveConfig {
  readonly id: number;
  readonly status: RunStatus;
  readonly input: number;
  readonly output?: number;
  readonly adapter: string;
  /** JSON text of the adapter options. */
  readonly adapterOptions: string;
  readonly diagnostics?: number;
}

/** One run as the config records it. */
export interface RunConfig {
  readonly runId: number;
  readonly status: RunStatus;
  readonly reason?: string;
  readonly attachments: AttachmentTableConfig;
  readonly trace?: number;
  readonly solves: readonly SolveConfig[];
  readonly samplings: readonly SolveConfig[];
}

/** The whole experiment config. */
export interface ExperimentConfig {
  readonly status: ExperimentStatus;
  readonly reason?: string;
  readonly requestedImageName?: string;
  readonly attachments: AttachmentTableConfig;
  readonly runs: readonly RunConfig[];
  readonly runParameters: number;
}

const MAX_CONFIG_SIZE = 256 * 1024 * 1024;

// ---- serialize ---------------------------------------------------------------------------

const str = (s: string): string => JSON.stringify(s);

/** A JSON object from ordered members; keys are written as given (no JS key reordering). */
function object(members: readonly (readonly [string, string] | undefined)[]): string {
  return `{${members
    .filter((m): m is readonly [string, string] => m !== undefined)
    .map(([k, v]) => `${str(k)}:${v}`)
    .join(',')}}`;
}

/** Sorted like Rust's BTreeMap<String, _>: by UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function attachmentTable(t: AttachmentTableConfig): string {
  const names = [...t.entries.keys()].sort(byteOrder);
  const fileNames = [...t.filenames.keys()].sort(byteOrder);
  return object([
    ['entries', object(names.map((n) => [n, String(t.entries.get(n))]))],
    fileNames.length === 0
      ? undefined
      : ['filenames', object(fileNames.map((n) => [n, str(t.filenames.get(n) as string)]))],
  ]);
}

function outcome(reason: string | undefined): readonly [string, string] | undefined {
  return reason === undefined ? undefined : ['outcome', object([['reason', str(reason)]])];
}

function solve(s: SolveConfig, idKey: string): string {
  return object([
    [idKey, String(s.id)],
    ['status', str(s.status)],
    ['input', String(s.input)],
    s.output === undefined ? undefined : ['output', String(s.output)],
    ['adapter', str(s.adapter)],
    ['adapter_options', str(s.adapterOptions)],
    s.diagnostics === undefined ? undefined : ['diagnostics', String(s.diagnostics)],
  ]);
}

/**
 * Serializes a config exactly as OMMX does: serde struct field order, compact, maps by key.
 * @param config - the config
 * @returns its JSON bytes
 * @example
 * ```ts
 * const bytes = serializeExperimentConfig(config);
 * ```
 */
export function serializeExperimentConfig(config: ExperimentConfig): Uint8Array {
  const runs = config.runs.map((r) =>
    object([
      ['run_id', String(r.runId)],
      ['status', str(r.status)],
      outcome(r.reason),
      ['attachments', attachmentTable(r.attachments)],
      r.trace === undefined ? undefined : ['trace', String(r.trace)],
      ['solves', `[${r.solves.map((s) => solve(s, 'solve_id')).join(',')}]`],
      ['samplings', `[${r.samplings.map((s) => solve(s, 'sampling_id')).join(',')}]`],
    ])
  );
  const text = object([
    ['status', str(config.status)],
    outcome(config.reason),
    config.requestedImageName === undefined
      ? undefined
      : ['requested_image_name', str(config.requestedImageName)],
    ['attachments', attachmentTable(config.attachments)],
    ['runs', `[${runs.join(',')}]`],
    ['run_parameters', String(config.runParameters)],
  ]);
  return new TextEncoder().encode(text);
}

// ---- parse ---------------------------------------------------------------------------------

/** Options of {@link parseExperimentConfig}. */
export interface ParseConfigOptions {
  /** Accept `draft` (checkpoints). @default false */
  readonly allowDraft?: boolean;
  /** Names the artifact in error messages. */
  readonly subject?: string;
}

/**
 * Parses a config blob and applies OMMX's loader rules against the manifest's layers: statuses,
 * layer references in bounds, media types of traces, solves, samplings, diagnostics and the
 * parameter table, compression consistency, unique ids, finished ⇔ output, filenames ⊆ entries.
 * Unknown fields are ignored (forward compatibility); absent ones take OMMX's defaults.
 *
 * @param bytes - the config JSON
 * @param layers - the manifest's layers
 * @param options - allowDraft, subject
 * @returns the validated config
 * @throws RunledgerError `EXPERIMENT_INVALID` naming the rule broken
 * @example
 * ```ts
 * const config = parseExperimentConfig(configBytes, manifest.layers);
 * ```
 */
export function parseExperimentConfig(
  bytes: Uint8Array,
  layers: readonly Descriptor[],
  options: ParseConfigOptions = {}
): ExperimentConfig {
  const subject = options.subject ?? 'the experiment';
  const fail = (why: string): never => {
    throw new RunledgerError('EXPERIMENT_INVALID', `The config of ${subject} ${why}.`, {
      data: { subject },
    });
  };
  if (bytes.byteLength > MAX_CONFIG_SIZE) fail(`is over ${MAX_CONFIG_SIZE} bytes`);
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    fail('is not valid UTF-8 JSON');
  }
  const obj = (v: unknown, where: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(`has ${where} that is not an object`);
  const c = obj(root, 'a root');
  const layerRef = (v: unknown, where: string, mediaTypes?: ReadonlySet<string>): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= layers.length) {
      return fail(`has ${where} = ${JSON.stringify(v)}, not a layer index below ${layers.length}`);
    }
    if (mediaTypes !== undefined && !mediaTypes.has((layers[v] as Descriptor).mediaType)) {
      fail(
        `has ${where} pointing at a ${(layers[v] as Descriptor).mediaType} layer, expected ${[...mediaTypes].join(' or ')}`
      );
    }
    return v;
  };
  const id = (v: unknown, where: string): number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? v
      : fail(`has ${where} that is not a non-negative integer`);
  const status = <T extends string>(
    v: unknown,
    allowed: readonly T[],
    where: string,
    dflt?: T
  ): T => {
    if (v === undefined && dflt !== undefined) return dflt;
    return allowed.includes(v as T) ? (v as T) : fail(`has ${where} status ${JSON.stringify(v)}`);
  };
  const reasonOf = (v: unknown, st: string, where: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (st === 'finished') fail(`has an outcome on finished ${where}`);
    const r = obj(v, `the outcome of ${where}`)['reason'];
    if (r === undefined || r === null) return undefined;
    return typeof r === 'string' ? r : fail(`has a non-string outcome reason on ${where}`);
  };
  const table = (v: unknown, where: string): AttachmentTableConfig => {
    const t = obj(v ?? { entries: {} }, `attachments of ${where}`);
    const entries = new Map<string, number>();
    for (const [name, ref] of Object.entries(
      obj(t['entries'] ?? {}, `attachment entries of ${where}`)
    )) {
      const index = layerRef(ref, `attachment ${JSON.stringify(name)} of ${where}`);
      try {
        const layer = layers[index] as Descriptor;
        logicalMediaType(layer.mediaType, layer.annotations ?? {});
      } catch (cause) {
        fail(
          `has attachment ${JSON.stringify(name)} of ${where} with an invalid storage format (${(cause as Error).message})`
        );
      }
      entries.set(name, index);
    }
    const filenames = new Map<string, string>();
    for (const [name, file] of Object.entries(obj(t['filenames'] ?? {}, `filenames of ${where}`))) {
      if (!entries.has(name))
        fail(
          `has a filename for attachment ${JSON.stringify(name)} of ${where}, which does not exist`
        );
      if (typeof file !== 'string')
        fail(`has a non-string filename for ${JSON.stringify(name)} of ${where}`);
      filenames.set(name, file as string);
    }
    return { entries, filenames };
  };
  const solves = (
    v: unknown,
    idKey: string,
    outputTypes: ReadonlySet<string>,
    where: string
  ): SolveConfig[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) return fail(`has ${idKey}s of ${where} that are not an array`);
    const seen = new Set<number>();
    return v.map((item: unknown) => {
      const s = obj(item, `a ${idKey} of ${where}`);
      const sid = id(s[idKey], `a ${idKey} of ${where}`);
      const at = `${idKey} ${sid} of ${where}`;
      if (seen.has(sid)) fail(`has a duplicate ${idKey} ${sid} in ${where}`);
      seen.add(sid);
      const st = status(
        s['status'],
        ['finished', 'failed', 'interrupted'] as const,
        at,
        'finished'
      );
      const out: { -readonly [K in keyof SolveConfig]: SolveConfig[K] } = {
        id: sid,
        status: st,
        input: layerRef(s['input'], `the input of ${at}`, INSTANCE_TYPES),
        adapter:
          typeof s['adapter'] === 'string' ? s['adapter'] : fail(`has no adapter name on ${at}`),
        adapterOptions:
          s['adapter_options'] === undefined
            ? '{}'
            : typeof s['adapter_options'] === 'string'
              ? s['adapter_options']
              : fail(`has non-string adapter_options on ${at}`),
      };
      if (s['output'] !== undefined && s['output'] !== null)
        out.output = layerRef(s['output'], `the output of ${at}`, outputTypes);
      if ((st === 'finished') !== (out.output !== undefined))
        fail(`has ${at} ${st} ${out.output === undefined ? 'without' : 'with'} an output`);
      if (s['diagnostics'] !== undefined && s['diagnostics'] !== null)
        out.diagnostics = layerRef(
          s['diagnostics'],
          `the diagnostics of ${at}`,
          new Set([MEDIA_TYPE_DIAGNOSTICS])
        );
      return out;
    });
  };

  const st = status(
    c['status'],
    [
      'finished',
      'failed',
      'interrupted',
      ...(options.allowDraft === true ? (['draft'] as const) : []),
    ],
    'experiment'
  );
  const rawRuns = c['runs'] ?? [];
  if (!Array.isArray(rawRuns)) fail('has runs that are not an array');
  const seenRuns = new Set<number>();
  const runs = (rawRuns as unknown[]).map((item) => {
    const r = obj(item, 'a run');
    const runId = id(r['run_id'], 'a run id');
    if (seenRuns.has(runId)) fail(`has a duplicate run_id ${runId}`);
    seenRuns.add(runId);
    const where = `run ${runId}`;
    const rs = status(
      r['status'],
      ['finished', 'failed', 'interrupted'] as const,
      where,
      'finished'
    );
    const run: { -readonly [K in keyof RunConfig]: RunConfig[K] } = {
      runId,
      status: rs,
      attachments: table(r['attachments'], where),
      solves: solves(r['solves'], 'solve_id', SOLUTION_TYPES, where),
      samplings: solves(r['samplings'], 'sampling_id', SAMPLE_SET_TYPES, where),
    };
    const reason = reasonOf(r['outcome'], rs, where);
    if (reason !== undefined) run.reason = reason;
    if (r['trace'] !== undefined && r['trace'] !== null)
      run.trace = layerRef(r['trace'], `the trace of ${where}`, new Set([MEDIA_TYPE_TRACE]));
    return run as RunConfig;
  });
  const config: { -readonly [K in keyof ExperimentConfig]: ExperimentConfig[K] } = {
    status: st,
    attachments: table(c['attachments'], 'the experiment'),
    runs: [...runs].sort((a, b) => a.runId - b.runId),
    runParameters: layerRef(
      c['run_parameters'],
      'run_parameters',
      new Set([MEDIA_TYPE_RUN_PARAMETERS])
    ),
  };
  const reason = reasonOf(c['outcome'], st, 'the experiment');
  if (reason !== undefined) config.reason = reason;
  const requested = c['requested_image_name'];
  if (requested !== undefined && requested !== null) {
    if (typeof requested !== 'string') fail('has a non-string requested_image_name');
    config.requestedImageName = requested as string;
  }
  return config;
}
