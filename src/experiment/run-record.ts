/**
 * @module experiment/run-record
 * What runledger knows about a run beyond OMMX — name, tags, parent, wall-clock start and end,
 * the error that ended it. Kept at close in the run's state and the crash journal, and written
 * with every manifest as one experiment attachment for all runs, `runledger.runs`
 * (`application/vnd.runledger.runs.v1+json`, canonical JSON `{"runs":[record, …]}` in run id
 * order, each record with its `run_id`): an ordinary attachment to OMMX's readers, one blob for
 * the experiment instead of one a run. Earlier artifacts hold each record as the run attachment
 * `runledger.run` (`application/vnd.runledger.run.v1+json`); both are read.
 * Also: run names (given, or generated like `clever-rabbit-492`) and tag checks.
 */
import { hostname } from 'node:os';
import { RunledgerError } from '../errors.js';
import { canonicalJson, type JsonValue } from '../oci/canonical-json.js';
import { runledgerVersion } from '../version.js';
import { describeValue, isPlainRecord, type OptionKeys } from './options.js';
import { validateName } from './parameters.js';

/** The run attachment holding a run's record in earlier artifacts (read, no longer written). */
export const RUN_ATTACHMENT = 'runledger.run';
/** Its media type. */
export const MEDIA_TYPE_RUN = 'application/vnd.runledger.run.v1+json';
/** The experiment attachment holding every run's record. */
export const RUNS_ATTACHMENT = 'runledger.runs';
/** Its media type. */
export const MEDIA_TYPE_RUNS = 'application/vnd.runledger.runs.v1+json';

/** A run record as stored: a JSON object (snake_case keys; no `run_id`, which is added on write). */
export type RunRecordValue = Readonly<Record<string, JsonValue>>;

/** What ended a failed or interrupted run. */
export interface RunError {
  /** The error's name, e.g. `TypeError`. */
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
}

/** A run's record (from the experiment's `runledger.runs`, or an earlier artifact's `runledger.run`). */
export interface RunInfo {
  /** Undefined for runs recorded without runledger (e.g. by OMMX). */
  readonly name: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly parentRunId: number | undefined;
  /** RFC 3339; absent in reproducible experiments. */
  readonly startedAt: string | undefined;
  readonly endedAt: string | undefined;
  readonly error: RunError | undefined;
  /** The machine it ran on; absent in reproducible experiments. */
  readonly host: string | undefined;
  /** The runledger version that recorded it. */
  readonly runledgerVersion: string | undefined;
  /** A free-text description. */
  readonly description: string | undefined;
  /** Labels (tags without a value), in the order first given. */
  readonly labels: readonly string[];
  /** Typed attributes: JSON values, apart from parameters. */
  readonly attributes: Readonly<Record<string, JsonValue>>;
  /** The run this one continues (`startRun({ resumeFrom })`). */
  readonly resumedFrom: number | undefined;
}

/** Options of a new run. */
export interface RunOptions {
  /** Its name; generated (`<adjective>-<animal>-<number>`, unique in the experiment) when absent. */
  readonly name?: string;
  /**
   * Tags: string keys (parameter-name rules) → string values; or a list of labels
   * (`['baseline', 'gpu']`, each following the parameter-name rules).
   */
  readonly tags?: Readonly<Record<string, string>> | readonly string[];
  /** Labels beside key/value tags. */
  readonly labels?: readonly string[];
  /** A free-text description (at most 5,000 characters). */
  readonly description?: string;
  /** Parameters logged as the run opens (the logger protocol's `config`). */
  readonly config?: Readonly<Record<string, boolean | number | bigint | string>>;
  /**
   * Inside a run scope of the same experiment: `true` (the default) opens a child of the current
   * run, `false` a top-level run. Outside a run scope it changes nothing.
   */
  readonly nested?: boolean;
  /**
   * Continue a closed run (say one a crash or a signal interrupted): the new run records
   * `resumed_from`, starts with its parameters, tags, labels and attributes, and its metric steps
   * continue where the old run's stopped. The old run stays as it was.
   */
  readonly resumeFrom?: number;
}

/** Options of a run scoped to a callback (`exp.run(fn, options)`, `run.child(fn, options)`). */
export interface RunScopeOptions extends RunOptions {
  /**
   * Aborting it closes the run as `interrupted` (reason from the signal), writes a checkpoint and
   * rejects with the signal's reason; the callback's later writes to the run fail `RUN_CLOSED`.
   */
  readonly signal?: AbortSignal;
}

/** The keys of {@link RunOptions} (`startRun`, `startChild`). @internal */
export const RUN_OPTION_KEYS: OptionKeys<RunOptions> = {
  name: true,
  tags: true,
  labels: true,
  description: true,
  config: true,
  nested: true,
  resumeFrom: true,
};
/** The keys of {@link RunScopeOptions} (`exp.run`, `run.child`). @internal */
export const RUN_SCOPE_OPTION_KEYS: OptionKeys<RunScopeOptions> = {
  ...RUN_OPTION_KEYS,
  signal: true,
};

/**
 * Checks a tag.
 * @param key - parameter-name rules
 * @param value - a string
 * @throws RunledgerError `ARGUMENT_INVALID`
 * @example
 * ```ts
 * checkTag('stage', 'grid');
 * ```
 */
export function checkTag(key: string, value: unknown): void {
  validateName(key, 'tag', 'ARGUMENT_INVALID');
  if (typeof value !== 'string') {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The value of tag ${JSON.stringify(key)} must be a string, not ${typeof value}.`,
      { data: { key } }
    );
  }
}

/**
 * Checks a set of tags: a plain object (not an array, whose indexes would become keys, nor a
 * `Map`) of string values, each key following the parameter-name rules.
 * @param tags - what was passed as tags
 * @throws RunledgerError `ARGUMENT_INVALID`
 * @example
 * ```ts
 * checkTags({ stage: 'grid' });
 * checkTags(['grid']); // throws ARGUMENT_INVALID
 * ```
 */
export function checkTags(tags: unknown): asserts tags is Readonly<Record<string, string>> {
  if (!isPlainRecord(tags)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Tags must be a plain object of string values ({ key: 'value' }), not ${describeValue(tags)}.`,
      { data: { tags: describeValue(tags) } }
    );
  }
  for (const [k, v] of Object.entries(tags)) checkTag(k, v);
}

/**
 * Checks attributes: a plain object whose keys follow the parameter-name rules and whose values
 * JSON can hold (finite numbers, strings, booleans, null, arrays and plain objects of those).
 * @param attributes - what was passed
 * @returns a copy, through JSON (so later changes to the caller's objects change nothing)
 * @throws RunledgerError `ARGUMENT_INVALID`
 */
export function checkAttributes(attributes: unknown): Record<string, JsonValue> {
  if (!isPlainRecord(attributes)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Attributes must be a plain object of name → JSON value, not ${describeValue(attributes)}.`
    );
  }
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(attributes)) {
    validateName(k, 'attribute', 'ARGUMENT_INVALID');
    let text: string;
    try {
      text = canonicalJson(v as JsonValue);
    } catch (cause) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The value of attribute ${JSON.stringify(k)} is not JSON data (${describeValue(v)}): use numbers, strings, booleans, null, arrays and plain objects.`,
        { data: { name: k }, cause }
      );
    }
    out[k] = JSON.parse(text) as JsonValue;
  }
  return out;
}

/** The longest description a run takes. */
const MAX_DESCRIPTION = 5000;

/**
 * Checks labels: an array of strings, each following the parameter-name rules.
 * @param labels - what was passed as labels
 * @throws RunledgerError `ARGUMENT_INVALID`
 */
export function checkLabels(labels: unknown): asserts labels is readonly string[] {
  if (!Array.isArray(labels)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Labels must be an array of strings (['baseline', 'gpu']), not ${describeValue(labels)}.`,
      { data: { labels: describeValue(labels) } }
    );
  }
  for (const l of labels as unknown[]) validateName(l, 'label', 'ARGUMENT_INVALID');
}

/**
 * Splits what was passed as `tags` into key/value tags and labels, checking both.
 * @param tags - a plain object of strings, or an array of labels
 * @returns the tags and the labels
 * @throws RunledgerError `ARGUMENT_INVALID`
 */
export function splitTags(tags: unknown): {
  readonly tags: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
} {
  if (Array.isArray(tags)) {
    checkLabels(tags);
    return { tags: {}, labels: [...tags] };
  }
  checkTags(tags);
  return { tags, labels: [] };
}

/**
 * Checks a run description: a string of at most 5,000 characters (MLflow's tag value limit).
 * @param description - what was passed
 * @throws RunledgerError `ARGUMENT_INVALID`
 */
export function checkDescription(description: unknown): asserts description is string {
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `A run description must be a string of at most ${MAX_DESCRIPTION} characters, not ${typeof description === 'string' ? `${description.length} characters` : describeValue(description)}.`
    );
  }
}

/**
 * Checks a run name: parameter-name rules.
 * @param name - the name
 * @throws RunledgerError `ARGUMENT_INVALID`
 */
export function checkRunName(name: unknown): asserts name is string {
  validateName(name, 'run', 'ARGUMENT_INVALID');
}

const ADJECTIVES = [
  'amber',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'crisp',
  'daring',
  'eager',
  'fancy',
  'fast',
  'gentle',
  'glad',
  'golden',
  'grand',
  'happy',
  'humble',
  'jolly',
  'keen',
  'kind',
  'lively',
  'lucky',
  'merry',
  'mighty',
  'noble',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'shiny',
  'silent',
  'smart',
  'snowy',
  'steady',
  'sunny',
  'swift',
  'tidy',
  'vivid',
  'warm',
  'witty',
];
const ANIMALS = [
  'badger',
  'bat',
  'bear',
  'beaver',
  'bison',
  'crane',
  'crow',
  'deer',
  'dolphin',
  'eagle',
  'falcon',
  'ferret',
  'finch',
  'fox',
  'gecko',
  'heron',
  'ibis',
  'jaguar',
  'koala',
  'lark',
  'lemur',
  'lion',
  'lynx',
  'mole',
  'moose',
  'newt',
  'otter',
  'owl',
  'panda',
  'puffin',
  'rabbit',
  'raven',
  'seal',
  'shark',
  'sparrow',
  'swan',
  'tiger',
  'toad',
  'walrus',
  'wolf',
];

/**
 * A generated run name, `<adjective>-<animal>-<number>`, derived from the experiment's reference
 * and the run id (so a study recorded twice names its runs alike), skipping names in use.
 * @param reference - the experiment's reference
 * @param runId - the run id
 * @param taken - names already used in the experiment
 * @returns the name
 * @example
 * ```ts
 * generateRunName('ghcr.io/acme/qap:v1', 0, new Set()); // e.g. 'clever-rabbit-492'
 * ```
 */
export function generateRunName(
  reference: string,
  runId: number,
  taken: ReadonlySet<string>
): string {
  // The reference's hash once, then a few multiplications a run (a SHA-256 cost as much as the
  // rest of opening a run); names need to look random, not to resist anyone.
  const base = fnv1a(reference);
  for (let attempt = 0; ; attempt++) {
    const h = mix(mix(base ^ runId) ^ attempt);
    const name = `${ADJECTIVES[(h & 0xff) % ADJECTIVES.length]}-${ANIMALS[((h >>> 8) & 0xff) % ANIMALS.length]}-${(h >>> 16) % 1000}`;
    if (!taken.has(name)) return name;
  }
}

/** FNV-1a of a string's UTF-16 units, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit integer mixed so that every input bit moves every output bit (murmur3's finalizer). */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The error of a failed run, as recorded. */
export function runError(error: unknown): RunError {
  if (error instanceof Error) {
    const out: { type: string; message: string; stack?: string } = {
      type: error.name || error.constructor.name || 'Error',
      message: error.message,
    };
    if (typeof error.stack === 'string') out.stack = error.stack;
    return out;
  }
  return { type: typeof error, message: String(error) };
}

/** This machine's name, asked once (a `uname` call on every run close otherwise). */
let hostName: string | undefined;

/**
 * A run's record, as stored (see the module comment).
 * @internal
 */
export function runRecordValue(record: {
  name: string;
  tags: Readonly<Record<string, string>>;
  parentRunId: number | undefined;
  startedAt: Date;
  endedAt: Date;
  error: RunError | undefined;
  reproducible: boolean;
  description?: string | undefined;
  labels?: readonly string[];
  attributes?: Readonly<Record<string, JsonValue>>;
  resumedFrom?: number | undefined;
}): RunRecordValue {
  const value: Record<string, JsonValue> = {
    name: record.name,
    tags: { ...record.tags },
    runledger: runledgerVersion(),
  };
  if (record.parentRunId !== undefined) value['parent_run_id'] = record.parentRunId;
  if (record.description !== undefined) value['description'] = record.description;
  if (record.labels !== undefined && record.labels.length > 0) value['labels'] = [...record.labels];
  if (record.attributes !== undefined && Object.keys(record.attributes).length > 0) {
    value['attributes'] = { ...record.attributes };
  }
  if (record.resumedFrom !== undefined) value['resumed_from'] = record.resumedFrom;
  if (record.error !== undefined) value['error'] = { ...record.error };
  if (!record.reproducible) {
    value['started_at'] = record.startedAt.toISOString();
    value['ended_at'] = record.endedAt.toISOString();
    value['host'] = hostName ??= hostname();
  }
  return value;
}

/**
 * One run's entry of the `runledger.runs` attachment: its record with its `run_id`, as canonical
 * JSON.
 * @internal
 */
export function runRecordText(runId: number, value: RunRecordValue): string {
  // The keys runledger writes, in code point order (canonical JSON's), `run_id` among them. A
  // record with any other key (one another tool wrote) takes the generic writer.
  for (const k in value) {
    if (!RECORD_KEYS.has(k) || k === 'run_id') {
      return canonicalJson({ ...value, run_id: runId });
    }
  }
  let out = '{';
  for (const k of RECORD_KEY_ORDER) {
    const v = k === 'run_id' ? runId : value[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    // Strings as JSON.stringify writes them (canonical JSON's strings); the rest generic.
    out += `"${k}":${typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** The keys of a run record runledger writes, `run_id` included, in code point order. */
const RECORD_KEY_ORDER = [
  'attributes',
  'description',
  'ended_at',
  'error',
  'host',
  'labels',
  'name',
  'parent_run_id',
  'resumed_from',
  'run_id',
  'runledger',
  'started_at',
  'tags',
] as const;
const RECORD_KEYS: ReadonlySet<string> = new Set(RECORD_KEY_ORDER);

/** The start and end of the `runledger.runs` attachment's text, around its runs' entries. */
export const RUNS_HEAD = '{"runs":[';
export const RUNS_TAIL = ']}';

/**
 * Reads the `runledger.runs` attachment: each run's record by run id (tolerant as
 * {@link decodeRunRecord}; an entry without an integer `run_id` is skipped).
 * @param bytes - the attachment
 * @returns run id → its record as stored (without `run_id`)
 * @throws RunledgerError `PAYLOAD_INVALID` when it is not JSON or has no `runs` list
 * @internal
 */
export function decodeRunsAttachment(bytes: Uint8Array): Map<number, RunRecordValue> {
  const v = parseObject(bytes, RUNS_ATTACHMENT);
  const list = v['runs'];
  if (!Array.isArray(list)) {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `The ${RUNS_ATTACHMENT} attachment has no "runs" list.`
    );
  }
  const out = new Map<number, RunRecordValue>();
  for (const entry of list as unknown[]) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const { run_id: id, ...record } = entry as Record<string, JsonValue>;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) out.set(id, record);
  }
  return out;
}

/** A JSON object read from an attachment's bytes. */
function parseObject(bytes: Uint8Array, attachment: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new RunledgerError('PAYLOAD_INVALID', `The ${attachment} attachment is not JSON.`, {
      cause,
    });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new RunledgerError('PAYLOAD_INVALID', `The ${attachment} attachment is not an object.`);
  }
  return v as Record<string, unknown>;
}

/**
 * Reads a `runledger.run` attachment (tolerant: unknown fields are ignored).
 * @param bytes - the attachment
 * @returns the record
 * @throws RunledgerError `PAYLOAD_INVALID`
 * @example
 * ```ts
 * decodeRunRecord(await sealedRun.getBlob('runledger.run')).name;
 * ```
 */
export function decodeRunRecord(bytes: Uint8Array): RunInfo {
  return runInfoOf(parseObject(bytes, RUN_ATTACHMENT));
}

/**
 * A run record as {@link RunInfo} (tolerant: fields of another type are left out).
 * @param v - the record as stored
 * @returns the record
 * @internal
 */
export function runInfoOf(v: Readonly<Record<string, unknown>>): RunInfo {
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  const tags: Record<string, string> = {};
  const t = v['tags'];
  if (t !== null && typeof t === 'object' && !Array.isArray(t)) {
    for (const [k, val] of Object.entries(t)) if (typeof val === 'string') tags[k] = val;
  }
  const e = v['error'] as Record<string, unknown> | undefined;
  const error: RunError | undefined =
    e !== null && typeof e === 'object' && typeof e['type'] === 'string'
      ? {
          type: e['type'],
          message: typeof e['message'] === 'string' ? e['message'] : '',
          ...(typeof e['stack'] === 'string' ? { stack: e['stack'] } : {}),
        }
      : undefined;
  const parent = v['parent_run_id'];
  const resumed = v['resumed_from'];
  const l = v['labels'];
  const labels = Array.isArray(l) ? l.filter((x): x is string => typeof x === 'string') : [];
  const a = v['attributes'];
  const attributes: Record<string, JsonValue> =
    a !== null && typeof a === 'object' && !Array.isArray(a)
      ? { ...(a as Record<string, JsonValue>) }
      : {};
  return {
    name: str('name'),
    tags,
    parentRunId: Number.isSafeInteger(parent) ? (parent as number) : undefined,
    startedAt: str('started_at'),
    endedAt: str('ended_at'),
    error,
    host: str('host'),
    runledgerVersion: str('runledger'),
    description: str('description'),
    labels,
    attributes,
    resumedFrom: Number.isSafeInteger(resumed) ? (resumed as number) : undefined,
  };
}

const MAX_REASON = 512;

/**
 * OMMX's failure reason: `"<ErrorName>: <message>"` (just the name when the message is blank),
 * whitespace collapsed, at most 512 characters ending in `…` when cut.
 * @param error - what was thrown
 * @returns the reason text
 * @example
 * ```ts
 * failureReason(new TypeError('bad  input')); // 'TypeError: bad input'
 * ```
 */
export function failureReason(error: unknown): string {
  const name =
    error instanceof Error
      ? error.name || error.constructor.name || 'Error'
      : typeof error === 'object' && error !== null
        ? (error.constructor?.name ?? 'Object')
        : typeof error;
  const message = normalizeReason(error instanceof Error ? error.message : String(error));
  return normalizeReason(message.length === 0 ? name : `${name}: ${message}`);
}

/**
 * A lifecycle reason as OMMX stores it: whitespace collapsed to single spaces, at most 512
 * characters, ending in `…` when cut.
 * @param text - any text
 * @returns the reason
 */
export function normalizeReason(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  const chars = [...collapsed];
  return chars.length <= MAX_REASON ? collapsed : `${chars.slice(0, MAX_REASON - 1).join('')}…`;
}
