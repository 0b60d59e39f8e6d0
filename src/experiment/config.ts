/**
 * @module experiment/config
 * The experiment config blob (`application/org.ommx.v1.experiment.config+json`): the one
 * parse/serialize pair, in OMMX's field order (serde struct order, compact), and OMMX's loader
 * rules (ommx-reference §2.4) applied on parse.
 */
import { RunledgerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { logicalMediaType } from './compression.js';
import { compareCodePoints } from '../formats/code-points.js';

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
  let out = '{';
  for (const m of members) {
    if (m === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${str(m[0])}:${m[1]}`;
  }
  return `${out}}`;
}

// With the u flag a surrogate pair is one code point, so \p{Cs} only matches lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/** Sorted like Rust's BTreeMap<String, _>: by UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  // That is code point order, but for lone surrogates, which UTF-8 writes as U+FFFD.
  if (LONE_SURROGATE.test(a) || LONE_SURROGATE.test(b)) {
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return compareCodePoints(a, b);
}

function attachmentTable(t: AttachmentTableConfig): string {
  const names = [...t.entries.keys()];
  if (names.length > 1) names.sort(byteOrder);
  const fileNames = [...t.filenames.keys()];
  if (fileNames.length > 1) fileNames.sort(byteOrder);
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
  return assembleExperimentConfig(config, config.runs.map(serializeRunConfig));
}

/**
 * One run of the config as {@link serializeExperimentConfig} writes it: a checkpoint keeps each
 * closed run's text and serializes only the runs closed since the last one.
 * @param r - the run
 * @returns its JSON text
 * @example
 * ```ts
 * serializeRunConfig(run); // '{"run_id":0,"status":"finished","attachments":{"entries":{}},…}'
 * ```
 */
export function serializeRunConfig(r: RunConfig): string {
  // Most runs: no outcome, trace, solves or samplings, attachments without file names, their
  // names in order. Written directly (a checkpoint writes one per run closed since the last).
  if (
    r.reason === undefined &&
    r.trace === undefined &&
    r.solves.length === 0 &&
    r.samplings.length === 0 &&
    r.attachments.filenames.size === 0
  ) {
    let entries = '';
    let last: string | undefined;
    for (const [name, index] of r.attachments.entries) {
      if (last !== undefined && byteOrder(last, name) >= 0) return generalRunConfig(r);
      entries += `${entries.length > 0 ? ',' : ''}${str(name)}:${index}`;
      last = name;
    }
    return `{"run_id":${r.runId},"status":${str(r.status)},"attachments":{"entries":{${entries}}},"solves":[],"samplings":[]}`;
  }
  return generalRunConfig(r);
}

function generalRunConfig(r: RunConfig): string {
  return object([
    ['run_id', String(r.runId)],
    ['status', str(r.status)],
    outcome(r.reason),
    ['attachments', attachmentTable(r.attachments)],
    r.trace === undefined ? undefined : ['trace', String(r.trace)],
    ['solves', `[${r.solves.map((s) => solve(s, 'solve_id')).join(',')}]`],
    ['samplings', `[${r.samplings.map((s) => solve(s, 'sampling_id')).join(',')}]`],
  ]);
}

/**
 * The config's bytes from its experiment-level fields and its runs' texts
 * ({@link serializeRunConfig}, in run id order, given as pieces of one or more runs each,
 * comma-separated): the same bytes as {@link serializeExperimentConfig}, written into one buffer.
 * @param config - status, reason, requested image name, attachments, run_parameters
 * @param runs - the runs' JSON texts, in pieces of comma-separated runs
 * @returns the config JSON bytes
 * @example
 * ```ts
 * const bytes = assembleExperimentConfig(config, config.runs.map(serializeRunConfig));
 * ```
 */
export function assembleExperimentConfig(
  config: Omit<ExperimentConfig, 'runs'>,
  runs: readonly string[]
): Uint8Array {
  // A NUL is escaped in any JSON string, so the one in the text is where the runs go.
  const text = object([
    ['status', str(config.status)],
    outcome(config.reason),
    config.requestedImageName === undefined
      ? undefined
      : ['requested_image_name', str(config.requestedImageName)],
    ['attachments', attachmentTable(config.attachments)],
    ['runs', '[\u0000]'],
    ['run_parameters', String(config.runParameters)],
  ]);
  const at = text.indexOf('\u0000');
  return joinedBytes(text.slice(0, at), runs, text.slice(at + 1));
}

/**
 * `head`, the non-empty `pieces` joined by commas, then `tail`, as UTF-8, written into one
 * buffer (no string of the whole is built: a 10,000-run manifest is 3 MB).
 * @internal
 */
export function joinedBytes(head: string, pieces: readonly string[], tail: string): Uint8Array {
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail);
  let count = 0;
  for (const p of pieces) {
    if (p === '') continue;
    size += Buffer.byteLength(p) + (count++ > 0 ? 1 : 0);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  let first = true;
  for (const p of pieces) {
    if (p === '') continue;
    if (!first) at += out.write(',', at);
    first = false;
    at += out.write(p, at);
  }
  out.write(tail, at);
  return out;
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
  // What a message names is built only when it is needed: a config of 10,000 runs checks some
  // 60,000 things, each with its own name.
  type Where = string | (() => string);
  const said = (w: Where): string => (typeof w === 'string' ? w : w());
  const obj = (v: unknown, where: Where): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(`has ${said(where)} that is not an object`);
  const c = obj(root, 'a root');
  const layerRef = (v: unknown, where: Where, mediaTypes?: ReadonlySet<string>): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= layers.length) {
      return fail(
        `has ${said(where)} = ${JSON.stringify(v)}, not a layer index below ${layers.length}`
      );
    }
    if (mediaTypes !== undefined && !mediaTypes.has((layers[v] as Descriptor).mediaType)) {
      fail(
        `has ${said(where)} pointing at a ${(layers[v] as Descriptor).mediaType} layer, expected ${[...mediaTypes].join(' or ')}`
      );
    }
    return v;
  };
  const id = (v: unknown, where: Where): number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? v
      : fail(`has ${said(where)} that is not a non-negative integer`);
  const status = <T extends string>(
    v: unknown,
    allowed: readonly T[],
    where: Where,
    dflt?: T
  ): T => {
    if (v === undefined && dflt !== undefined) return dflt;
    return allowed.includes(v as T)
      ? (v as T)
      : fail(`has ${said(where)} status ${JSON.stringify(v)}`);
  };
  const reasonOf = (v: unknown, st: string, where: Where): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (st === 'finished') fail(`has an outcome on finished ${said(where)}`);
    const r = obj(v, () => `the outcome of ${said(where)}`)['reason'];
    if (r === undefined || r === null) return undefined;
    return typeof r === 'string' ? r : fail(`has a non-string outcome reason on ${said(where)}`);
  };
  const table = (v: unknown, where: Where): AttachmentTableConfig => {
    const t = obj(v ?? { entries: {} }, () => `attachments of ${said(where)}`);
    const entries = new Map<string, number>();
    const listed = obj(t['entries'] ?? {}, () => `attachment entries of ${said(where)}`);
    for (const name in listed) {
      if (!Object.hasOwn(listed, name)) continue;
      const index = layerRef(
        listed[name],
        () => `attachment ${JSON.stringify(name)} of ${said(where)}`
      );
      try {
        const layer = layers[index] as Descriptor;
        logicalMediaType(layer.mediaType, layer.annotations ?? {});
      } catch (cause) {
        fail(
          `has attachment ${JSON.stringify(name)} of ${said(where)} with an invalid storage format (${(cause as Error).message})`
        );
      }
      entries.set(name, index);
    }
    const filenames = new Map<string, string>();
    if (t['filenames'] === undefined || t['filenames'] === null) return { entries, filenames };
    for (const [name, file] of Object.entries(
      obj(t['filenames'], () => `filenames of ${said(where)}`)
    )) {
      if (!entries.has(name))
        fail(
          `has a filename for attachment ${JSON.stringify(name)} of ${said(where)}, which does not exist`
        );
      if (typeof file !== 'string')
        fail(`has a non-string filename for ${JSON.stringify(name)} of ${said(where)}`);
      filenames.set(name, file as string);
    }
    return { entries, filenames };
  };
  const diagnosticsTypes = new Set([MEDIA_TYPE_DIAGNOSTICS]);
  const solves = (
    v: unknown,
    idKey: string,
    outputTypes: ReadonlySet<string>,
    where: Where
  ): SolveConfig[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) return fail(`has ${idKey}s of ${said(where)} that are not an array`);
    if (v.length === 0) return [];
    const seen = new Set<number>();
    return v.map((item: unknown) => {
      const s = obj(item, () => `a ${idKey} of ${said(where)}`);
      const sid = id(s[idKey], () => `a ${idKey} of ${said(where)}`);
      const at = (): string => `${idKey} ${sid} of ${said(where)}`;
      if (seen.has(sid)) fail(`has a duplicate ${idKey} ${sid} in ${said(where)}`);
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
        input: layerRef(s['input'], () => `the input of ${at()}`, INSTANCE_TYPES),
        adapter:
          typeof s['adapter'] === 'string' ? s['adapter'] : fail(`has no adapter name on ${at()}`),
        adapterOptions:
          s['adapter_options'] === undefined
            ? '{}'
            : typeof s['adapter_options'] === 'string'
              ? s['adapter_options']
              : fail(`has non-string adapter_options on ${at()}`),
      };
      if (s['output'] !== undefined && s['output'] !== null)
        out.output = layerRef(s['output'], () => `the output of ${at()}`, outputTypes);
      if ((st === 'finished') !== (out.output !== undefined))
        fail(`has ${at()} ${st} ${out.output === undefined ? 'without' : 'with'} an output`);
      if (s['diagnostics'] !== undefined && s['diagnostics'] !== null)
        out.diagnostics = layerRef(
          s['diagnostics'],
          () => `the diagnostics of ${at()}`,
          diagnosticsTypes
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
  const traceTypes = new Set([MEDIA_TYPE_TRACE]);
  const runStatuses = ['finished', 'failed', 'interrupted'] as const;
  let ordered = true;
  let lastRunId = -1;
  const runs = (rawRuns as unknown[]).map((item) => {
    const r = obj(item, 'a run');
    const runId = id(r['run_id'], 'a run id');
    if (seenRuns.has(runId)) fail(`has a duplicate run_id ${runId}`);
    seenRuns.add(runId);
    if (runId < lastRunId) ordered = false;
    lastRunId = runId;
    const where = (): string => `run ${runId}`;
    const rs = status(r['status'], runStatuses, where, 'finished');
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
      run.trace = layerRef(r['trace'], () => `the trace of ${where()}`, traceTypes);
    return run as RunConfig;
  });
  const config: { -readonly [K in keyof ExperimentConfig]: ExperimentConfig[K] } = {
    status: st,
    attachments: table(c['attachments'], 'the experiment'),
    runs: ordered ? runs : [...runs].sort((a, b) => a.runId - b.runId),
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
