/**
 * An independent check of OMMX's experiment loader rules (ommx-reference §2.1–2.5) over a plain
 * OCI image layout directory, as `skopeo copy … oci:<dir>:<ref>` writes it. Written from the
 * spec alone: it imports nothing from src/, so it does not share runledger's bugs.
 *
 * Beyond the loader's rules it checks the writer's byte rules of the same sections, so that what
 * passes is what OMMX itself would write: serde field order and presence (fields OMMX always
 * writes are required even where the loader has a default), compact JSON, BTreeMap (UTF-8) key
 * order, no unknown fields, `filenames` omitted when empty, the parameter table sorted, and the
 * layers in LayerTable order (config refs, in order, are exactly 0…n-1; a run's trace right after
 * its attachments; run parameters last).
 *
 * Every violation throws an {@link OmmxRuleError} whose message starts with the rule's id in
 * brackets, e.g. `OMMX rule [config.status] violated: …`; tests match on the id.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// ---- constants (§2.1, §2.2) ---------------------------------------------------------------

export const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_ARTIFACT_MANIFEST = 'application/vnd.oci.artifact.manifest.v1+json';
export const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
export const OMMX_EXPERIMENT = 'application/org.ommx.v1.experiment';
export const OMMX_EXPERIMENT_CONFIG = 'application/org.ommx.v1.experiment.config+json';
export const OMMX_RUN_PARAMETERS = 'application/org.ommx.v1.experiment.run-parameters+msgpack';
export const OMMX_TRACE = 'application/org.ommx.trace.otlp+protobuf';
export const OMMX_DIAGNOSTICS = 'application/org.ommx.diagnostic+msgpack';
export const OMMX_COMPRESSION_ANNOTATION = 'org.ommx.v1.attachment.compression';
const INSTANCE_TYPES = ['application/org.ommx.v1.instance', 'application/org.ommx.v2.instance'];
const SOLUTION_TYPES = ['application/org.ommx.v1.solution', 'application/org.ommx.v2.solution'];
const SAMPLE_SET_TYPES = [
  'application/org.ommx.v1.sample-set',
  'application/org.ommx.v2.sample-set',
];
const RUN_STATUSES = ['finished', 'failed', 'interrupted'];
const PARAMETER_TYPES = ['bool', 'int64', 'float64', 'string'];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** Options of {@link validateOmmxExperimentLayout}. */
export interface OmmxValidatorOptions {
  /** Accept experiment status `draft` (checkpoint restore only). @default false */
  readonly allowDraft?: boolean;
}

/** A broken OMMX rule: `rule` is a short id such as `config.status` or `params.float64`. */
export class OmmxRuleError extends Error {
  readonly rule: string;
  constructor(rule: string, detail: string) {
    super(`OMMX rule [${rule}] violated: ${detail}`);
    this.name = 'OmmxRuleError';
    this.rule = rule;
  }
}

function violated(rule: string, detail: string): never {
  throw new OmmxRuleError(rule, detail);
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Rust's BTreeMap<String, _> order: UTF-8 bytes. */
function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// ---- descriptors and blobs ----------------------------------------------------------------

interface Desc {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string, rule = 'manifest.descriptor'): Desc {
  if (!isObject(v)) violated(rule, `${where} is not a JSON object`);
  const { mediaType, digest, size, annotations } = v;
  if (typeof mediaType !== 'string' || mediaType.length === 0)
    violated(rule, `${where} has no string mediaType`);
  if (typeof digest !== 'string') violated(rule, `${where} has no string digest`);
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    violated('blob.digest-format', `${where} has digest ${show(digest)}, not sha256:<64 hex>`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    violated(rule, `${where} has size ${show(size)}, not a non-negative integer`);
  if (annotations !== undefined) {
    if (!isObject(annotations)) violated(rule, `${where} has annotations that are not an object`);
    for (const [k, a] of Object.entries(annotations))
      if (typeof a !== 'string') violated(rule, `${where} has non-string annotation ${show(k)}`);
  }
  return {
    mediaType,
    digest,
    size,
    annotations: (annotations ?? {}) as Record<string, string>,
  };
}

/** Reads `blobs/sha256/<hex>`, checking it exists, has the declared size and hashes to the digest. */
async function readBlob(dir: string, d: Desc, where: string): Promise<Buffer> {
  const hex = d.digest.slice('sha256:'.length);
  const path = join(dir, 'blobs', 'sha256', hex);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return violated('blob.missing', `${where} (${d.digest}) has no blob at ${path}: ${String(e)}`);
  }
  if (bytes.length !== d.size)
    violated('blob.size', `${where} declares size ${d.size}, its blob has ${bytes.length} bytes`);
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== d.digest)
    violated('blob.digest', `${where} declares ${d.digest}, its blob hashes to ${actual}`);
  return bytes;
}

async function readJsonFile(path: string, rule: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return violated(rule, `cannot read ${path}: ${String(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return violated(rule, `${path} is not JSON: ${String(e)}`);
  }
}

// ---- an order-preserving JSON reader (for serde field order) ------------------------------

/** A JSON value with object members in text order, numbers as their literal text. */
export type OrderedJson =
  | { readonly k: 'obj'; readonly m: readonly (readonly [string, OrderedJson])[] }
  | { readonly k: 'arr'; readonly a: readonly OrderedJson[] }
  | { readonly k: 'str'; readonly s: string }
  | { readonly k: 'num'; readonly raw: string }
  | { readonly k: 'lit'; readonly raw: 'true' | 'false' | 'null' };

/**
 * Parses JSON text keeping member order and duplicate keys (which `JSON.parse` hides).
 * @returns the value, and whether the text had no whitespace outside strings (serde compact)
 */
export function parseOrderedJson(text: string): { value: OrderedJson; compact: boolean } {
  try {
    JSON.parse(text); // the grammar check; the walk below assumes valid JSON
  } catch (e) {
    violated('config.json', `the config is not valid JSON: ${String(e)}`);
  }
  let i = 0;
  let compact = true;
  const ws = (): void => {
    const start = i;
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
    if (i > start) compact = false;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): OrderedJson => {
    ws();
    const c = text[i];
    let out: OrderedJson;
    if (c === '{') {
      i++;
      const m: (readonly [string, OrderedJson])[] = [];
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          const key = string();
          ws();
          i++; // ':'
          m.push([key, value()]);
          ws();
          if (text[i++] === '}') break; // else ','
        }
      }
      out = { k: 'obj', m };
    } else if (c === '[') {
      i++;
      const a: OrderedJson[] = [];
      ws();
      if (text[i] === ']') i++;
      else {
        for (;;) {
          a.push(value());
          ws();
          if (text[i++] === ']') break;
        }
      }
      out = { k: 'arr', a };
    } else if (c === '"') {
      out = { k: 'str', s: string() };
    } else if (c === 't' || c === 'f' || c === 'n') {
      const raw = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      i += raw.length;
      out = { k: 'lit', raw };
    } else {
      const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
      re.lastIndex = i;
      const raw = (re.exec(text) as RegExpExecArray)[0];
      i += raw.length;
      out = { k: 'num', raw };
    }
    ws();
    return out;
  };
  const v = value();
  return { value: v, compact };
}

// ---- a small independent msgpack reader ---------------------------------------------------

/** One msgpack value, keeping the wire family (uint vs int, float64 vs float32). */
export type Msgpack =
  | { readonly t: 'map'; readonly entries: readonly (readonly [Msgpack, Msgpack])[] }
  | { readonly t: 'array'; readonly items: readonly Msgpack[] }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'uint' | 'int'; readonly v: bigint }
  | { readonly t: 'float64' | 'float32'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'nil' }
  | { readonly t: 'bin' | 'ext'; readonly bytes: Uint8Array };

const MAX_DEPTH = 64;

class MsgpackReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #rule: string;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  pos = 0;

  constructor(bytes: Uint8Array, rule: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#rule = rule;
  }

  get atEnd(): boolean {
    return this.pos === this.#bytes.length;
  }

  #need(n: number): number {
    if (this.pos + n > this.#bytes.length)
      violated(this.#rule, `msgpack truncated at byte ${this.pos} (needs ${n} more)`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  #uint(width: 1 | 2 | 4 | 8): bigint {
    const at = this.#need(width);
    if (width === 1) return BigInt(this.#view.getUint8(at));
    if (width === 2) return BigInt(this.#view.getUint16(at));
    if (width === 4) return BigInt(this.#view.getUint32(at));
    return this.#view.getBigUint64(at);
  }

  #int(width: 1 | 2 | 4 | 8): bigint {
    const at = this.#need(width);
    if (width === 1) return BigInt(this.#view.getInt8(at));
    if (width === 2) return BigInt(this.#view.getInt16(at));
    if (width === 4) return BigInt(this.#view.getInt32(at));
    return this.#view.getBigInt64(at);
  }

  #raw(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#bytes.subarray(at, at + n);
  }

  #str(n: number): Msgpack {
    const start = this.pos;
    const raw = this.#raw(n);
    try {
      return { t: 'str', v: this.#utf8.decode(raw) };
    } catch {
      return violated(this.#rule, `msgpack str at byte ${start} is not valid UTF-8`);
    }
  }

  #map(n: number, depth: number): Msgpack {
    const entries: (readonly [Msgpack, Msgpack])[] = [];
    for (let k = 0; k < n; k++) entries.push([this.value(depth + 1), this.value(depth + 1)]);
    return { t: 'map', entries };
  }

  #array(n: number, depth: number): Msgpack {
    const items: Msgpack[] = [];
    for (let k = 0; k < n; k++) items.push(this.value(depth + 1));
    return { t: 'array', items };
  }

  #ext(n: number): Msgpack {
    this.#need(1); // type byte
    return { t: 'ext', bytes: this.#raw(n) };
  }

  value(depth = 0): Msgpack {
    if (depth > MAX_DEPTH) violated(this.#rule, `msgpack nested deeper than ${MAX_DEPTH}`);
    const b = this.#bytes[this.#need(1)] as number;
    if (b <= 0x7f) return { t: 'uint', v: BigInt(b) };
    if (b >= 0xe0) return { t: 'int', v: BigInt(b - 0x100) };
    if (b <= 0x8f) return this.#map(b & 0x0f, depth);
    if (b <= 0x9f) return this.#array(b & 0x0f, depth);
    if (b <= 0xbf) return this.#str(b & 0x1f);
    const n = (width: 1 | 2 | 4): number => Number(this.#uint(width));
    switch (b) {
      case 0xc0:
        return { t: 'nil' };
      case 0xc2:
        return { t: 'bool', v: false };
      case 0xc3:
        return { t: 'bool', v: true };
      case 0xc4:
        return { t: 'bin', bytes: this.#raw(n(1)) };
      case 0xc5:
        return { t: 'bin', bytes: this.#raw(n(2)) };
      case 0xc6:
        return { t: 'bin', bytes: this.#raw(n(4)) };
      case 0xc7:
        return this.#ext(n(1));
      case 0xc8:
        return this.#ext(n(2));
      case 0xc9:
        return this.#ext(n(4));
      case 0xca:
        return { t: 'float32', v: this.#view.getFloat32(this.#need(4)) };
      case 0xcb:
        return { t: 'float64', v: this.#view.getFloat64(this.#need(8)) };
      case 0xcc:
        return { t: 'uint', v: this.#uint(1) };
      case 0xcd:
        return { t: 'uint', v: this.#uint(2) };
      case 0xce:
        return { t: 'uint', v: this.#uint(4) };
      case 0xcf:
        return { t: 'uint', v: this.#uint(8) };
      case 0xd0:
        return { t: 'int', v: this.#int(1) };
      case 0xd1:
        return { t: 'int', v: this.#int(2) };
      case 0xd2:
        return { t: 'int', v: this.#int(4) };
      case 0xd3:
        return { t: 'int', v: this.#int(8) };
      case 0xd4:
        return this.#ext(1);
      case 0xd5:
        return this.#ext(2);
      case 0xd6:
        return this.#ext(4);
      case 0xd7:
        return this.#ext(8);
      case 0xd8:
        return this.#ext(16);
      case 0xd9:
        return this.#str(n(1));
      case 0xda:
        return this.#str(n(2));
      case 0xdb:
        return this.#str(n(4));
      case 0xdc:
        return this.#array(n(2), depth);
      case 0xdd:
        return this.#array(n(4), depth);
      case 0xde:
        return this.#map(n(2), depth);
      case 0xdf:
        return this.#map(n(4), depth);
      default:
        return violated(this.#rule, `msgpack byte 0x${b.toString(16)} at ${this.pos - 1}`);
    }
  }
}

/**
 * Decodes exactly one msgpack value (trailing bytes are an error).
 * @param bytes - the msgpack bytes
 * @param rule - the rule id a malformed input is reported under
 * @returns the value, wire families kept
 */
export function decodeMsgpack(bytes: Uint8Array, rule = 'msgpack'): Msgpack {
  const r = new MsgpackReader(bytes, rule);
  const v = r.value();
  if (!r.atEnd)
    violated(rule, `${bytes.length - r.pos} trailing byte(s) after the msgpack value at ${r.pos}`);
  return v;
}

// ---- the run-parameter table (§2.5) -------------------------------------------------------

function msgpackKeys(
  m: Msgpack,
  where: string,
  rule: string
): Map<string, Msgpack> & { order: string[] } {
  if (m.t !== 'map') violated(rule, `${where} is a msgpack ${m.t}, not a map`);
  const out = new Map<string, Msgpack>() as Map<string, Msgpack> & { order: string[] };
  out.order = [];
  for (const [k, v] of m.entries) {
    if (k.t !== 'str') violated(rule, `${where} has a ${k.t} key, not a str`);
    if (out.has(k.v)) violated(rule, `${where} has the key ${show(k.v)} twice`);
    out.set(k.v, v);
    out.order.push(k.v);
  }
  return out;
}

function exactKeys(m: Msgpack, where: string, keys: readonly string[]): Map<string, Msgpack> {
  const got = msgpackKeys(m, where, 'params.shape');
  for (const k of got.keys())
    if (!keys.includes(k)) violated('params.shape', `${where} has the unknown field ${show(k)}`);
  for (const k of keys)
    if (!got.has(k)) violated('params.shape', `${where} lacks the field ${show(k)}`);
  return got;
}

function checkRunParameters(bytes: Uint8Array, runIds: ReadonlySet<bigint>): void {
  const r = new MsgpackReader(bytes, 'params.msgpack');
  const root = r.value();
  if (!r.atEnd)
    violated(
      'params.trailing-bytes',
      `the run-parameter table has ${bytes.length - r.pos} byte(s) after its msgpack value`
    );
  const columns = msgpackKeys(
    exactKeys(root, 'the table root', ['columns']).get('columns') as Msgpack,
    '"columns"',
    'params.shape'
  );
  const names = columns.order;
  for (let k = 1; k < names.length; k++)
    if (utf8Compare(names[k - 1] as string, names[k] as string) >= 0)
      violated('params.order', `columns ${show(names[k - 1])}, ${show(names[k])} are not sorted`);
  for (const name of names) {
    const where = `column ${show(name)}`;
    const col = exactKeys(columns.get(name) as Msgpack, where, ['type', 'values']);
    const type = col.get('type') as Msgpack;
    if (type.t !== 'str' || !PARAMETER_TYPES.includes(type.v))
      violated('params.type', `${where} has type ${show(type.t === 'str' ? type.v : type.t)}`);
    const values = col.get('values') as Msgpack;
    if (values.t !== 'map')
      violated('params.shape', `${where} values are a ${values.t}, not a map`);
    let last = -1n;
    for (const [key, cell] of values.entries) {
      if (key.t !== 'uint')
        violated('params.shape', `${where} has a ${key.t} key; run ids are msgpack uints`);
      if (key.v <= last)
        violated(
          'params.order',
          `${where} has run id ${key.v} after ${last} (duplicate or unsorted)`
        );
      last = key.v;
      const at = `${where}, run ${key.v}`;
      switch (type.v) {
        case 'float64':
          if (cell.t !== 'float64')
            violated('params.float64', `${at} is a msgpack ${cell.t}; float columns need float64`);
          break;
        case 'int64':
          if (cell.t !== 'uint' && cell.t !== 'int')
            violated('params.int64', `${at} is a msgpack ${cell.t}, not an integer`);
          if (cell.v > I64_MAX || cell.v < I64_MIN)
            violated('params.int64', `${at} = ${cell.v} is outside int64`);
          break;
        case 'bool':
          if (cell.t !== 'bool') violated('params.bool', `${at} is a msgpack ${cell.t}`);
          break;
        default:
          if (cell.t !== 'str') violated('params.string', `${at} is a msgpack ${cell.t}`);
      }
      if (!runIds.has(key.v))
        violated('params.run-id', `${where} has run id ${key.v}, which is not among the runs`);
    }
  }
}

// ---- the experiment config (§2.4) ---------------------------------------------------------

type FieldSpec = readonly (readonly [name: string, required: boolean])[];

/** A serde struct: no duplicate, unknown or missing fields, present ones in declaration order. */
function struct(j: OrderedJson, where: string, spec: FieldSpec): Map<string, OrderedJson> {
  if (j.k !== 'obj') violated('config.shape', `${where} is not a JSON object`);
  const out = new Map<string, OrderedJson>();
  const declared = spec.map(([n]) => n);
  for (const [key, v] of j.m) {
    if (out.has(key)) violated('config.duplicate-key', `${where} has the field ${show(key)} twice`);
    if (!declared.includes(key))
      violated('config.unknown-field', `${where} has the field ${show(key)}, not in OMMX's struct`);
    out.set(key, v);
  }
  for (const [name, required] of spec)
    if (required && !out.has(name))
      violated('config.missing-field', `${where} lacks the field ${show(name)}`);
  const order = j.m.map(([k]) => k);
  const expected = declared.filter((n) => out.has(n));
  if (order.join('\0') !== expected.join('\0'))
    violated(
      'config.field-order',
      `${where} has fields ${show(order)}; serde struct order is ${show(expected)}`
    );
  return out;
}

/** A serde map (BTreeMap<String, _>): unique keys, sorted by UTF-8 bytes. */
function sortedMap(j: OrderedJson, where: string): (readonly [string, OrderedJson])[] {
  if (j.k !== 'obj') violated('config.shape', `${where} is not a JSON object`);
  const seen = new Set<string>();
  for (const [key] of j.m) {
    if (seen.has(key)) violated('config.duplicate-key', `${where} has the key ${show(key)} twice`);
    seen.add(key);
  }
  return [...j.m];
}

function checkSorted(keys: readonly string[], where: string): void {
  for (let k = 1; k < keys.length; k++)
    if (utf8Compare(keys[k - 1] as string, keys[k] as string) >= 0)
      violated(
        'config.map-order',
        `${where} has ${show(keys[k - 1])} before ${show(keys[k])} (BTreeMap order is UTF-8 bytes)`
      );
}

/** An ordered JSON value as short text for messages. */
function literal(j: OrderedJson | undefined): string {
  if (j === undefined) return 'absent';
  if (j.k === 'num' || j.k === 'lit') return j.raw;
  if (j.k === 'str') return show(j.s);
  return j.k === 'obj' ? 'an object' : 'an array';
}

function str(j: OrderedJson | undefined, where: string): string {
  if (j?.k !== 'str') violated('config.shape', `${where} is not a string`);
  return j.s;
}

function u64(j: OrderedJson | undefined, where: string): bigint {
  if (j?.k !== 'num' || !/^(?:0|[1-9]\d*)$/.test(j.raw) || BigInt(j.raw) > U64_MAX)
    violated('config.shape', `${where} is ${literal(j)}, not a u64 integer`);
  return BigInt(j.raw);
}

class ConfigChecker {
  readonly #layers: readonly Desc[];
  readonly #blobs: ReadonlyMap<string, Buffer>;
  /** Every LayerRef in the order the config lists them (= OMMX's LayerTable order). */
  readonly refs: number[] = [];

  constructor(layers: readonly Desc[], blobs: ReadonlyMap<string, Buffer>) {
    this.#layers = layers;
    this.#blobs = blobs;
  }

  layerRef(
    j: OrderedJson | undefined,
    where: string,
    expect?: { readonly types: readonly string[]; readonly rule: string }
  ): Desc {
    if (j?.k !== 'num' || !/^(?:0|[1-9]\d*)$/.test(j.raw))
      violated('config.layer-ref', `${where} is ${literal(j)}, not a non-negative integer`);
    const index = Number(j.raw);
    if (index >= this.#layers.length)
      violated(
        'config.layer-ref',
        `${where} = ${index} is out of bounds (the manifest has ${this.#layers.length} layers)`
      );
    const layer = this.#layers[index] as Desc;
    if (expect !== undefined && !expect.types.includes(layer.mediaType))
      violated(
        expect.rule,
        `${where} points at layer ${index} of type ${layer.mediaType}, expected ${expect.types.join(' or ')}`
      );
    this.refs.push(index);
    return layer;
  }

  blob(d: Desc): Buffer {
    return this.#blobs.get(d.digest) as Buffer;
  }

  status(j: OrderedJson | undefined, where: string, allowed: readonly string[]): string {
    if (j?.k !== 'str' || !allowed.includes(j.s))
      violated('config.status', `${where} has status ${literal(j)}, allowed ${allowed.join('/')}`);
    return j.s;
  }

  outcome(j: OrderedJson | undefined, status: string, where: string): void {
    if (j === undefined) return;
    if (status !== 'failed' && status !== 'interrupted')
      violated('config.outcome', `${where} is ${status} but has an outcome`);
    const f = struct(j, `the outcome of ${where}`, [['reason', false]]);
    if (f.has('reason')) str(f.get('reason'), `the outcome reason of ${where}`);
  }

  attachments(j: OrderedJson | undefined, where: string): void {
    const f = struct(j as OrderedJson, `the attachments of ${where}`, [
      ['entries', true],
      ['filenames', false],
    ]);
    const entries = sortedMap(f.get('entries') as OrderedJson, `the entries of ${where}`);
    const names = new Set<string>();
    for (const [name, ref] of entries) {
      const at = `attachment ${show(name)} of ${where}`;
      const layer = this.layerRef(ref, at);
      this.#compression(layer, at);
      names.add(name);
    }
    checkSorted(
      entries.map(([n]) => n),
      `the entries of ${where}`
    );
    const rawFilenames = f.get('filenames');
    if (rawFilenames === undefined) return;
    const filenames = sortedMap(rawFilenames, `the filenames of ${where}`);
    if (filenames.length === 0)
      violated('config.filenames', `the filenames of ${where} are present but empty`);
    for (const [name, file] of filenames) {
      if (!names.has(name))
        violated(
          'config.filenames',
          `${where} has a filename for ${show(name)}, which is not among its entries`
        );
      const base = str(file, `the filename of ${show(name)} in ${where}`);
      if (base.length === 0 || /[/\\]/.test(base) || base === '.' || base === '..')
        violated('config.filename', `the filename ${show(base)} of ${show(name)} is no basename`);
    }
    checkSorted(
      filenames.map(([n]) => n),
      `the filenames of ${where}`
    );
  }

  /** §4.3: the annotation says zstd ⇒ the stored type ends in `+zstd` and the blob is zstd. */
  #compression(layer: Desc, where: string): void {
    const value = layer.annotations[OMMX_COMPRESSION_ANNOTATION];
    if (value === undefined) return; // a logical type may itself end in +zstd
    if (value !== 'zstd')
      violated(
        'attachment.compression',
        `${where} has ${OMMX_COMPRESSION_ANNOTATION}=${show(value)}; the only value is zstd`
      );
    if (!layer.mediaType.endsWith('+zstd') || layer.mediaType.length === '+zstd'.length)
      violated(
        'attachment.compression',
        `${where} is annotated zstd but its media type ${show(layer.mediaType)} lacks the +zstd suffix`
      );
    const head = this.blob(layer).subarray(0, 4);
    if (!ZSTD_MAGIC.every((b, k) => head[k] === b))
      violated('attachment.compression', `${where} is annotated zstd but is not a zstd frame`);
  }

  solves(
    j: OrderedJson | undefined,
    idKey: 'solve_id' | 'sampling_id',
    outputTypes: readonly string[],
    where: string
  ): void {
    if (j?.k !== 'arr') violated('config.shape', `the ${idKey}s of ${where} are not an array`);
    const seen = new Set<bigint>();
    let last = -1n;
    for (const item of j.a) {
      const f = struct(item, `a ${idKey.replace('_id', '')} of ${where}`, [
        [idKey, true],
        ['status', true],
        ['input', true],
        ['output', false],
        ['adapter', true],
        ['adapter_options', true],
        ['diagnostics', false],
      ]);
      const id = u64(f.get(idKey), `a ${idKey} of ${where}`);
      if (seen.has(id)) violated('config.duplicate-id', `${where} has ${idKey} ${id} twice`);
      seen.add(id);
      if (id < last) violated('config.id-order', `${where} lists ${idKey} ${id} after ${last}`);
      last = id;
      const at = `${idKey} ${id} of ${where}`;
      const status = this.status(f.get('status'), at, RUN_STATUSES);
      this.layerRef(f.get('input'), `the input of ${at}`, {
        types: INSTANCE_TYPES,
        rule: 'config.solve-input',
      });
      const output = f.get('output');
      if ((status === 'finished') !== (output !== undefined))
        violated(
          'config.finished-output',
          `${at} is ${status} ${output === undefined ? 'without' : 'with'} an output`
        );
      if (output !== undefined)
        this.layerRef(output, `the output of ${at}`, {
          types: outputTypes,
          rule: 'config.solve-output',
        });
      str(f.get('adapter'), `the adapter of ${at}`);
      str(f.get('adapter_options'), `the adapter_options of ${at}`);
      const diagnostics = f.get('diagnostics');
      if (diagnostics !== undefined) {
        const layer = this.layerRef(diagnostics, `the diagnostics of ${at}`, {
          types: [OMMX_DIAGNOSTICS],
          rule: 'config.diagnostics',
        });
        const payload = decodeMsgpack(this.blob(layer), 'config.diagnostics');
        if (payload.t !== 'array')
          violated('config.diagnostics', `the diagnostics of ${at} are a msgpack ${payload.t}`);
      }
    }
  }
}

function checkConfig(
  bytes: Uint8Array,
  layers: readonly Desc[],
  blobs: ReadonlyMap<string, Buffer>,
  options: OmmxValidatorOptions
): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return violated('config.json', 'the config is not valid UTF-8');
  }
  const { value, compact } = parseOrderedJson(text);
  if (!compact) violated('config.compact', 'the config JSON has whitespace (serde writes compact)');
  const c = new ConfigChecker(layers, blobs);
  const top = struct(value, 'the config', [
    ['status', true],
    ['outcome', false],
    ['requested_image_name', false],
    ['attachments', true],
    ['runs', true],
    ['run_parameters', true],
  ]);
  const status = c.status(top.get('status'), 'the experiment', [
    ...RUN_STATUSES,
    ...(options.allowDraft === true ? ['draft'] : []),
  ]);
  c.outcome(top.get('outcome'), status, 'the experiment');
  if (top.has('requested_image_name')) str(top.get('requested_image_name'), 'requested_image_name');
  c.attachments(top.get('attachments'), 'the experiment');
  const runs = top.get('runs') as OrderedJson;
  if (runs.k !== 'arr') violated('config.shape', 'runs is not an array');
  const runIds = new Set<bigint>();
  let last = -1n;
  for (const item of runs.a) {
    const r = struct(item, 'a run', [
      ['run_id', true],
      ['status', true],
      ['outcome', false],
      ['attachments', true],
      ['trace', false],
      ['solves', true],
      ['samplings', true],
    ]);
    const id = u64(r.get('run_id'), 'a run_id');
    if (runIds.has(id)) violated('config.duplicate-id', `the config has run_id ${id} twice`);
    runIds.add(id);
    if (id < last) violated('config.id-order', `the config lists run ${id} after run ${last}`);
    last = id;
    const where = `run ${id}`;
    const runStatus = c.status(r.get('status'), where, RUN_STATUSES);
    c.outcome(r.get('outcome'), runStatus, where);
    c.attachments(r.get('attachments'), where);
    if (r.has('trace')) {
      // §2.3: the run's trace is the layer right after its attachments, before its solves.
      const expected = c.refs.length;
      c.layerRef(r.get('trace'), `the trace of ${where}`, {
        types: [OMMX_TRACE],
        rule: 'config.trace',
      });
      const at = c.refs[c.refs.length - 1];
      if (at !== expected)
        violated(
          'config.trace-position',
          `the trace of ${where} is layer ${at}; OMMX's LayerTable puts it right after the run's attachments, at layer ${expected}`
        );
    }
    c.solves(r.get('solves'), 'solve_id', SOLUTION_TYPES, where);
    c.solves(r.get('samplings'), 'sampling_id', SAMPLE_SET_TYPES, where);
  }
  const params = c.layerRef(top.get('run_parameters'), 'run_parameters', {
    types: [OMMX_RUN_PARAMETERS],
    rule: 'config.run-parameters',
  });
  checkRunParameters(c.blob(params), runIds);
  // §2.3 LayerTable: append-only, no dedup, run parameters last — so the refs, in config
  // order, are exactly 0, 1, …, n-1.
  const expected = layers.map((_, k) => k);
  if (c.refs.join(',') !== expected.join(','))
    violated(
      'manifest.layer-order',
      `the config refers to layers [${c.refs.join(',')}], OMMX's LayerTable gives [${expected.join(',')}]`
    );
}

// ---- the layout and the manifest (§2.3) ---------------------------------------------------

/**
 * Validates the OMMX experiment named `reference` in the OCI image layout `dir` against OMMX's
 * loader rules (and the writer's byte rules of ommx-reference §2.3–2.5).
 * @param dir - an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`)
 * @param reference - the `org.opencontainers.image.ref.name` of the experiment's manifest
 * @param options - allowDraft
 * @throws OmmxRuleError on the first violation, naming the rule
 */
export async function validateOmmxExperimentLayout(
  dir: string,
  reference: string,
  options: OmmxValidatorOptions = {}
): Promise<void> {
  const layout = await readJsonFile(join(dir, 'oci-layout'), 'layout.oci-layout');
  if (!isObject(layout) || layout['imageLayoutVersion'] !== '1.0.0')
    violated(
      'layout.oci-layout',
      `oci-layout is ${show(layout)}, expected imageLayoutVersion 1.0.0`
    );
  const index = await readJsonFile(join(dir, 'index.json'), 'layout.index');
  if (!isObject(index) || index['schemaVersion'] !== 2 || !Array.isArray(index['manifests']))
    violated('layout.index', 'index.json is not an image index (schemaVersion 2, manifests[])');
  const named = (index['manifests'] as unknown[]).filter(
    (m) => isObject(m) && isObject(m['annotations']) && m['annotations'][OCI_REF_NAME] === reference
  );
  if (named.length !== 1)
    violated('layout.ref', `index.json has ${named.length} manifests named ${show(reference)}`);
  const entry = descriptor(named[0], `the index.json entry of ${reference}`, 'layout.index');
  if (entry.mediaType !== OCI_IMAGE_MANIFEST)
    violated(
      'manifest.media-type',
      `index.json lists ${reference} as ${entry.mediaType}, not ${OCI_IMAGE_MANIFEST}`
    );
  const manifestBytes = await readBlob(dir, entry, `the manifest of ${reference}`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (e) {
    violated('manifest.json', `the manifest is not UTF-8 JSON: ${String(e)}`);
  }
  if (!isObject(manifest)) return violated('manifest.json', 'the manifest is not a JSON object');
  const mediaType = manifest['mediaType'];
  if (mediaType !== undefined && mediaType !== OCI_IMAGE_MANIFEST)
    violated(
      'manifest.media-type',
      mediaType === OCI_ARTIFACT_MANIFEST
        ? `the manifest is an OCI artifact manifest (${OCI_ARTIFACT_MANIFEST}), which OMMX rejects`
        : `the manifest has mediaType ${show(mediaType)}, not ${OCI_IMAGE_MANIFEST}`
    );
  if (manifest['schemaVersion'] !== 2)
    violated('manifest.schema-version', `schemaVersion is ${show(manifest['schemaVersion'])}`);
  if (manifest['artifactType'] !== OMMX_EXPERIMENT)
    violated(
      'manifest.artifact-type',
      `artifactType is ${show(manifest['artifactType'])}, not ${OMMX_EXPERIMENT}`
    );
  const config = descriptor(manifest['config'], 'the config descriptor');
  if (config.mediaType !== OMMX_EXPERIMENT_CONFIG)
    violated(
      'manifest.config-media-type',
      `the config has media type ${config.mediaType}, not ${OMMX_EXPERIMENT_CONFIG}`
    );
  if (!Array.isArray(manifest['layers'])) violated('manifest.descriptor', 'layers is no array');
  const layers = (manifest['layers'] as unknown[]).map((l, k) => descriptor(l, `layer ${k}`));
  if (manifest['subject'] !== undefined) {
    const subject = descriptor(manifest['subject'], 'the subject', 'manifest.subject');
    if (subject.mediaType !== OCI_IMAGE_MANIFEST)
      violated('manifest.subject', `the subject has media type ${subject.mediaType}`);
  }
  const annotations = manifest['annotations'];
  if (annotations !== undefined) {
    if (!isObject(annotations)) violated('manifest.annotations', 'annotations is not an object');
    for (const v of Object.values(annotations))
      if (typeof v !== 'string') violated('manifest.annotations', 'an annotation is no string');
  }

  const blobs = new Map<string, Buffer>();
  const configBytes = await readBlob(dir, config, 'the config');
  for (const [k, layer] of layers.entries()) {
    const bytes = await readBlob(dir, layer, `layer ${k} (${layer.mediaType})`);
    blobs.set(layer.digest, bytes);
  }
  checkConfig(configBytes, layers, blobs, options);
}
