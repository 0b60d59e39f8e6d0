/**
 * @module ommx/wire/protobuf
 * The one module that imports `@bufbuild/protobuf`: its `BinaryWriter` / `BinaryReader`, extended
 * with what the OMMX codecs need — checked `u64`/`int64` ↔ safe-integer conversion, strict UTF-8,
 * length-prefixed message bounds, and a fast `double` writer.
 */
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export { WireType };

/** Why a payload could not be read; `index.ts` turns it into a `PAYLOAD_INVALID` RunledgerError. */
export type WireErrorKind =
  /** The bytes are not a well-formed message of the expected type. */
  | 'malformed'
  /** Well-formed, but it uses a feature (e.g. indicator constraints) runledger cannot represent. */
  | 'unsupported'
  /** A v1 `format_version` newer than runledger reads. */
  | 'version';

/** An internal decoding failure; `detail` is a sentence fragment without a final period. */
export class WireError extends Error {
  /** What kind of failure. */
  readonly kind: WireErrorKind;
  /**
   * @param kind - what kind of failure
   * @param detail - the reason, e.g. `a Quadratic has 2 rows but 3 values`
   */
  constructor(kind: WireErrorKind, detail: string) {
    super(detail);
    this.name = 'WireError';
    this.kind = kind;
  }
}

/** A `malformed` {@link WireError}. */
export function malformed(detail: string): WireError {
  return new WireError('malformed', detail);
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO_32 = 4294967296;

// `double` writes through a shared scratch buffer: the stock writer allocates an array and a
// DataView per value and moves the byte buffer into a new chunk each time.
const SCRATCH_F64 = new Float64Array(1);
const SCRATCH_U8 = new Uint8Array(SCRATCH_F64.buffer);
/** Whether this machine stores a double's bytes little end first (1.0 ends in 0x3f). */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

// Kept below V8's large-object threshold: a `number[]` past ~16K elements lives in large-object
// space and every growth step copies it there (measured: 10x slower encoding at 16K than at 4K).
const FLUSH_AT = 4096;
const EMPTY = new Uint8Array(0);

const encoder = new TextEncoder();
// Strict UTF-8 (`fatal`), and a leading U+FEFF is kept as text, not eaten as a byte-order mark.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (e) {
    throw Object.assign(malformed('a string field is not valid UTF-8'), { cause: e });
  }
}

/**
 * A `BinaryWriter` with the integer forms OMMX uses. Ids are written from safe integers; a value
 * that is not one is a programming error in the caller's model and throws a `WireError`.
 */
export class ProtoWriter extends BinaryWriter {
  constructor() {
    super((text) => encoder.encode(text));
  }

  /**
   * Moves the byte buffer into a chunk once it holds {@link FLUSH_AT} bytes. The stock writer
   * grows one `number[]` until `finish()` or a `raw()` write; for a large message that growth
   * dominated encoding time. `u64`, `double` and `string` call this; so do row writers.
   */
  flush(): this {
    if (this.buf.length >= FLUSH_AT) this.raw(EMPTY);
    return this;
  }

  /** Writes a 64-bit float, little-endian (fast path on little-endian hosts). */
  override double(value: number): this {
    this.flush();
    if (!LITTLE_ENDIAN) return super.double(value);
    SCRATCH_F64[0] = value;
    const u = SCRATCH_U8;
    this.buf.push(
      u[0] as number,
      u[1] as number,
      u[2] as number,
      u[3] as number,
      u[4] as number,
      u[5] as number,
      u[6] as number,
      u[7] as number
    );
    return this;
  }

  /**
   * Writes a length-prefixed UTF-8 string. Short ASCII goes straight into the buffer: the stock path
   * encodes to a new array and flushes the buffer into a new chunk for every string.
   */
  override string(value: string): this {
    const n = value.length;
    if (n > 256) return super.string(value);
    this.flush();
    for (let i = 0; i < n; i++) {
      if (value.charCodeAt(i) >= 0x80) return super.string(value);
    }
    this.uint32(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf.push(value.charCodeAt(i));
    return this;
  }

  /** Writes a `uint64` varint from a non-negative safe integer. */
  u64(value: number): this {
    this.flush();
    if (value >= 0 && value < TWO_32 && Number.isInteger(value)) return this.uint32(value);
    if (!Number.isSafeInteger(value) || value < 0)
      throw malformed(`the id ${String(value)} is not a non-negative safe integer`);
    return this.uint64(value);
  }

  /** Writes an `int64` varint from a safe integer (negative numbers take ten bytes). */
  i64(value: number): this {
    if (!Number.isSafeInteger(value))
      throw malformed(`the integer ${String(value)} is not a safe integer`);
    return this.int64(value);
  }
}

/**
 * A `BinaryReader` with strict UTF-8, bounds-checked nested messages, and `u64`/`int64` read as
 * safe integers.
 */
export class ProtoReader extends BinaryReader {
  /** @param bytes - the encoded message */
  constructor(bytes: Uint8Array) {
    super(bytes, decodeUtf8);
  }

  /**
   * Reads a field key (the tag as one number): field number `key >>> 3`, wire type `key & 7`.
   * Cheaper than `tag()`, which allocates a pair per field.
   */
  key(): number {
    const key = this.uint32();
    if (key >>> 3 === 0) throw malformed('a field has number 0');
    const wireType = key & 7;
    if (wireType > 5) throw malformed(`a field has wire type ${wireType}`);
    return key;
  }

  /** Skips the value of a field whose key was just read (proto3: unknown fields are ignored). */
  skipField(key: number): void {
    this.skip(key & 7, key >>> 3);
  }

  /**
   * Reads a length prefix and returns where the nested message ends.
   * @throws WireError when the length runs past the data
   */
  enter(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw malformed('a length-delimited field runs past the end of the data');
    return end;
  }

  /** Checks that a nested message's fields ended exactly at its declared end. */
  leave(end: number): void {
    if (this.pos !== end) throw malformed('a field runs past the end of its enclosing message');
  }

  /** Reads a `uint64` varint that must be a safe integer (ids, sample ids). */
  u64(): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let b = buf[pos++];
    if (b === undefined) throw malformed('the data ends inside a varint (truncated)');
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let scale = 128;
    for (let i = 1; i < 10; i++) {
      b = buf[pos++];
      if (b === undefined) throw malformed('the data ends inside a varint (truncated)');
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        // Exact while below 2^53; once a term reaches 2^53 the sum stays ≥ 2^53 (all terms ≥ 0).
        if (value > MAX_SAFE) {
          this.pos = start;
          throw malformed(
            `the id ${String(this.uint64())} is larger than 2^53 - 1, the largest runledger reads`
          );
        }
        return value;
      }
      scale *= 128;
    }
    throw malformed('a varint is longer than ten bytes');
  }

  /** Reads an `int64` varint that must be a safe integer (subscripts). */
  i64(): number {
    const value = this.int64();
    const big = typeof value === 'bigint' ? value : BigInt(value);
    if (big > BigInt(MAX_SAFE) || big < -BigInt(MAX_SAFE))
      throw malformed(
        `the integer ${String(big)} is outside ±(2^53 - 1), the range runledger reads`
      );
    return Number(big);
  }

  /** Reads an 8-byte double, checking that the data holds it. */
  override double(): number {
    if (this.pos + 8 > this.len) throw malformed('the data ends inside a double (truncated)');
    return super.double();
  }
}

/**
 * Compares strings by their UTF-8 bytes (= by code point), the order of Rust's `BTreeMap<String, _>`
 * keys; JavaScript's `<` compares UTF-16 code units, which differs once surrogates are involved.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // A surrogate (D800–DFFF) starts a code point above U+FFFF: it sorts after E000–FFFF.
      const fx = x >= 0xd800 ? (x >= 0xe000 ? x - 0x800 : x + 0x2000) : x;
      const fy = y >= 0xd800 ? (y >= 0xe000 ? y - 0x800 : y + 0x2000) : y;
      return fx - fy;
    }
  }
  return a.length - b.length;
}
