/**
 * @module experiment/journal-format
 * The crash journal's file format, read and written: checksummed frames, one record each.
 *
 * Frame: `u32 LE payload length`, `u32 LE CRC-32 of the payload`, payload — UTF-8 JSON, or for
 * metric points a binary payload (see {@link frame}). A torn or damaged frame ends the readable
 * journal: what precedes it is kept.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { JsonValue } from '../oci/canonical-json.js';
import type { Descriptor } from '../oci/types.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { AttachmentRecord } from './attachments.js';
import type { RunStatus } from './config.js';
import type { ParameterValue } from './parameters.js';
import type { SolveRecord } from './solve.js';

const MAX_FRAME = 512 * 1024 * 1024;

/** A parameter value as JSON (bigint and non-finite numbers spelled out). */
export type EncodedValue = boolean | number | string | { b: string } | { f: string };

/** One journal record. @internal */
export type JournalRecord =
  | {
      t: 'header';
      v: 1;
      reference: string;
      pid: number;
      host: string;
      /** The writer's start time (`/proc/<pid>/stat`), so a reused pid is not taken for it. */
      start?: string | null;
      at: number;
      base?: Descriptor;
    }
  | {
      t: 'open';
      run: number;
      name: string;
      tags: Record<string, string>;
      parent?: number;
      labels?: string[];
      description?: string;
      attrs?: Record<string, JsonValue>;
      resumed?: number;
      at: number;
    }
  | { t: 'param'; run: number; name: string; value: EncodedValue; at: number }
  /** Parameters of one run logged one after another, as one record (see {@link coalesceParams}). */
  | { t: 'params'; run: number; values: [string, EncodedValue][]; at: number }
  | { t: 'tags'; run: number; tags: Record<string, string>; labels?: string[]; at: number }
  | { t: 'attrs'; run: number; attrs: Record<string, JsonValue>; at: number }
  | {
      t: 'metrics';
      run: number;
      names: string[];
      /** Columns: index into `names`, step, timestamp, value (a binary frame on disk). */
      ids: Uint32Array;
      steps: Float64Array;
      ts: Float64Array;
      values: Float64Array;
      at: number;
    }
  | { t: 'att'; run: number; record: AttachmentRecord; at: number; blobs?: CarriedBlobs }
  | {
      t: 'solve';
      run: number;
      kind: 'solve' | 'sampling';
      record: SolveRecord;
      at: number;
      blobs?: CarriedBlobs;
    }
  | {
      t: 'close';
      run: number;
      status: RunStatus;
      reason?: string;
      attachments: AttachmentRecord[];
      solves: SolveRecord[];
      samplings: SolveRecord[];
      /** The run's trace layer, written into the store before this record. */
      trace?: Descriptor | undefined;
      /** The run record (journals before it held a `runledger.run` attachment instead). */
      rec?: Record<string, JsonValue>;
      at: number;
    }
  | { t: 'eatt'; record: AttachmentRecord; at: number; blobs?: CarriedBlobs }
  | { t: 'ann'; key: string; value: string; at: number }
  | { t: 'rename'; reference: string; at: number };

/**
 * The bytes of small blobs a record names that the store may not hold yet (the background
 * writer writes them after the record): `[digest, base64]` pairs. A restore writes them into the
 * store.
 */
export type CarriedBlobs = [string, string][];

/** The records that name blobs, and may carry their bytes. @internal */
export type CarryingRecord = JournalRecord & { t: 'att' | 'solve' | 'eatt' };

/**
 * The bytes a journal's records carry, decoded, by digest (see {@link CarriedBlobs}).
 * @param records - the journal's records
 * @returns digest → bytes
 */
export function carriedBlobs(records: readonly JournalRecord[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const r of records) {
    if (!('blobs' in r) || !Array.isArray(r.blobs)) continue;
    for (const pair of r.blobs as unknown[]) {
      if (!Array.isArray(pair)) continue;
      const [digest, text] = pair as unknown[];
      if (typeof digest === 'string' && typeof text === 'string') {
        out.set(digest, new Uint8Array(Buffer.from(text, 'base64')));
      }
    }
  }
  return out;
}

/**
 * The records as written: each run of consecutive `param` records of one run becomes one `params`
 * record (the last one's time), in logged order — ten parameters of a run cost one JSON text and
 * one frame instead of ten. Everything else stays as it is, in order.
 * @param records - records in the order they were logged
 * @returns the records to frame
 */
export function coalesceParams(records: readonly JournalRecord[]): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const r of records) {
    const last = out[out.length - 1];
    if (r.t === 'param' && (last?.t === 'param' || last?.t === 'params') && last.run === r.run) {
      if (last.t === 'params') {
        last.values.push([r.name, r.value]);
        last.at = r.at;
        continue;
      }
      const values: [string, EncodedValue][] = [
        [last.name, last.value],
        [r.name, r.value],
      ];
      out[out.length - 1] = { t: 'params', run: r.run, values, at: r.at };
      continue;
    }
    out.push(r);
  }
  return out;
}

/** The directory of a store's journals. */
export function journalDir(registry: LocalRegistry): string {
  return join(registry.root, '.runledger', 'journal');
}

/** Encodes a parameter value for JSON. */
export function encodeValue(v: ParameterValue): EncodedValue {
  if (typeof v === 'bigint') return { b: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

/** The value {@link encodeValue} encoded. */
export function decodeValue(v: EncodedValue): ParameterValue {
  if (typeof v === 'object') {
    if ('b' in v) return BigInt(v.b);
    return Number(v.f);
  }
  return v;
}

/**
 * Decodes a base64 column of a metrics record in JSON (as versions before binary metric frames
 * wrote them), in this platform's byte order (the journal never travels).
 */
function column<T extends Uint32Array | Float64Array>(
  text: string,
  Kind: { new (buffer: ArrayBuffer): T }
): T {
  const bytes = Buffer.from(text, 'base64');
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Kind(copy);
}

/** First payload byte of a binary metrics frame (a JSON payload starts with `{`). */
const BINARY_METRICS = 0;

/**
 * A record's frame, in parts (one `Buffer.concat` joins a whole write). Metric points go in a
 * binary payload — `0x00`, `u32 LE` length of a JSON header `{t, run, names, n, at}`, the header,
 * then the four columns' bytes (ids `u32`, steps, timestamps, values `f64`, this platform's byte
 * order) — so a million points cost one copy, not a base64 JSON text five times their size.
 */
export function frame(record: JournalRecord): Buffer[] {
  let payload: Buffer[];
  if (record.t === 'metrics') {
    const { ids, steps, ts, values, ...rest } = record;
    const header = Buffer.from(JSON.stringify({ ...rest, n: ids.length }), 'utf8');
    const lead = Buffer.alloc(5);
    lead.writeUInt8(BINARY_METRICS, 0);
    lead.writeUInt32LE(header.length, 1);
    const bytes = (a: Uint32Array | Float64Array): Buffer =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    // Views of the columns: the caller writes them before anything can change them.
    payload = [lead, header, bytes(ids), bytes(steps), bytes(ts), bytes(values)];
  } else {
    payload = [Buffer.from(JSON.stringify(record), 'utf8')];
  }
  let length = 0;
  let sum = 0;
  for (const part of payload) {
    length += part.length;
    sum = crc32(part, sum);
  }
  const head = Buffer.alloc(8);
  head.writeUInt32LE(length, 0);
  head.writeUInt32LE(sum, 4);
  return [head, ...payload];
}

/** The buffer {@link frames} writes into, reused while it stays this small. */
const SCRATCH_KEEP = 1024 * 1024;
let scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
/** A {@link frames} call is writing into {@link scratch}. */
let framing = false;

/**
 * The frames of several records as one buffer, ready for one `write(2)`: the bytes
 * {@link frame} gives for each, in order, written in one pass into a buffer this module reuses
 * (each JSON text encoded once, straight into place). The buffer is valid until the next call:
 * the caller writes it at once.
 */
export function frames(records: readonly JournalRecord[]): Buffer {
  // A call made while another one runs (a value's toJSON logging something) gets a buffer of
  // its own.
  if (framing) {
    const { out, length } = writeFrames(records, Buffer.allocUnsafe(4096));
    return out.subarray(0, length);
  }
  framing = true;
  try {
    const { out, length } = writeFrames(records, scratch);
    if (out.length <= SCRATCH_KEEP) scratch = out;
    return out.subarray(0, length);
  } finally {
    framing = false;
  }
}

/** Writes the frames of `records` into `start`, or a larger copy of it: that buffer and the length. */
function writeFrames(
  records: readonly JournalRecord[],
  start: Buffer
): { out: Buffer; length: number } {
  let out = start;
  let off = 0;
  const room = (n: number): void => {
    if (off + n <= out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(off + n, 2 * out.length));
    out.copy(bigger, 0, 0, off);
    out = bigger;
  };
  for (const record of records) {
    if (record.t === 'metrics') {
      const parts = frame(record);
      let size = 0;
      for (const b of parts) size += b.length;
      room(size);
      for (const b of parts) {
        out.set(b, off);
        off += b.length;
      }
      continue;
    }
    const json = record.t === 'param' ? paramJson(record) : JSON.stringify(record);
    // At most three UTF-8 bytes a UTF-16 unit.
    room(8 + 3 * json.length);
    const length = out.write(json, off + 8, 'utf8');
    out.writeUInt32LE(length, off);
    out.writeUInt32LE(crc32(out.subarray(off + 8, off + 8 + length)), off + 4);
    off += 8 + length;
  }
  return { out, length: off };
}

/**
 * A parameter record's JSON, written directly: the same text as `JSON.stringify` gives for it
 * (keys in its order), at a third of the cost — a run of ten parameters writes ten of them.
 */
function paramJson(r: JournalRecord & { t: 'param' }): string {
  return `{"t":"param","run":${JSON.stringify(r.run)},"name":${JSON.stringify(r.name)},"value":${JSON.stringify(r.value)},"at":${JSON.stringify(r.at)}}`;
}

/** A frame's payload as a record: JSON, or a binary metrics frame (see {@link frame}). */
function parseRecord(payload: Buffer): JournalRecord {
  if (payload[0] !== BINARY_METRICS) {
    const record = JSON.parse(payload.toString('utf8')) as JournalRecord;
    if (record?.t === 'metrics') {
      // Written as base64 JSON by an earlier version.
      const old = record as unknown as Record<'ids' | 'steps' | 'ts' | 'values', string>;
      return {
        ...record,
        ids: column(old.ids, Uint32Array),
        steps: column(old.steps, Float64Array),
        ts: column(old.ts, Float64Array),
        values: column(old.values, Float64Array),
      };
    }
    return record;
  }
  const headerLength = payload.readUInt32LE(1);
  const header = JSON.parse(payload.subarray(5, 5 + headerLength).toString('utf8')) as {
    t: 'metrics';
    run: number;
    names: string[];
    n: number;
    at: number;
  };
  const { n, ...rest } = header;
  let at = 5 + headerLength;
  const take = <T extends Uint32Array | Float64Array>(Kind: {
    new (buffer: ArrayBuffer): T;
    BYTES_PER_ELEMENT: number;
  }): T => {
    const size = n * Kind.BYTES_PER_ELEMENT;
    if (at + size > payload.length) throw new RangeError('metrics frame cut short');
    const copy = new ArrayBuffer(size);
    new Uint8Array(copy).set(payload.subarray(at, at + size));
    at += size;
    return new Kind(copy);
  };
  return {
    ...rest,
    t: 'metrics',
    ids: take(Uint32Array),
    steps: take(Float64Array),
    ts: take(Float64Array),
    values: take(Float64Array),
  };
}

/** A journal read back. @internal */
export interface JournalContents {
  readonly path: string;
  readonly header: JournalRecord & { t: 'header' };
  /** The reference it journals now (after renames). */
  readonly reference: string;
  /** Records after the header, up to the first torn or damaged frame. */
  readonly records: readonly JournalRecord[];
  /** Whether the file ended in a torn or damaged frame (the usual end after a crash). */
  readonly torn: boolean;
}

/**
 * Reads a journal file: frames until the end or the first one that is torn or fails its CRC.
 * @returns undefined when the file has no readable header
 */
export function parseJournal(path: string, bytes: Uint8Array): JournalContents | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let off = 0;
  let torn = false;
  while (off < buf.length) {
    if (buf.length - off < 8) {
      torn = true;
      break;
    }
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    if (len > MAX_FRAME || off + 8 + len > buf.length) {
      torn = true;
      break;
    }
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== sum) {
      torn = true;
      break;
    }
    let record: JournalRecord;
    try {
      record = parseRecord(payload);
    } catch {
      torn = true;
      break;
    }
    if (typeof record !== 'object' || record === null || typeof record.t !== 'string') {
      torn = true;
      break;
    }
    records.push(record);
    off += 8 + len;
  }
  const header = records.shift();
  if (header?.t !== 'header' || typeof header.reference !== 'string') return undefined;
  let reference = header.reference;
  for (const r of records) if (r.t === 'rename') reference = r.reference;
  return { path, header, reference, records, torn };
}
