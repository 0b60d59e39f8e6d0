/**
 * @module formats/msgpack
 * A small, strict msgpack encoder and decoder of our own: plain data in, deterministic bytes out,
 * and exactly one well-formed value back. Writes through {@link MsgpackWriter}; reads through
 * {@link MsgpackReader}, the token reader the run-parameter table decoder shares.
 */
import { RunledgerError, type ErrorData } from '../errors.js';
import { MsgpackWriter } from './msgpack-writer.js';

/**
 * How deep arrays and maps may nest, in both directions: {@link encodeMsgpack} refuses deeper
 * values, {@link decodeMsgpack} deeper bytes (so a hostile input cannot exhaust the stack).
 */
export const MSGPACK_MAX_DEPTH = 512;

/** The msgpack ext type of the timestamp extension. */
const TIMESTAMP = -1;
const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;
const MS_PER_S = 1000;
const NS_PER_MS = 1_000_000;
/** The last valid `tv_nsec`: the spec's nanoseconds field stays below one second. */
const NS_MAX = 999_999_999;
/** The largest |time value| a `Date` holds, in ms (ECMA-262 TimeClip). */
const DATE_MS_MAX = 8.64e15;
const SECONDS_MAX = BigInt(DATE_MS_MAX / MS_PER_S) + 1n;
// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

// ---- encode -------------------------------------------------------------------------------------

/**
 * Encodes plain data as msgpack, deterministically: equal values give equal bytes.
 *
 * What is written, and read back as the same JS value by {@link decodeMsgpack}:
 * - `null` as nil, booleans, strings as str (UTF-8, shortest header);
 * - numbers: integers from −2^31 to 2^32 − 1 as the shortest msgpack int, every other number
 *   (fractions, `NaN`, `±Infinity`, larger integers) as float64, never float32; `-0` becomes
 *   `0`. Larger integers are not written as int64/uint64 because those read back as bigints;
 * - bigints from −2^63 to 2^64 − 1 always as 9-byte int64 (`0xd3`), uint64 (`0xcf`) above
 *   2^63 − 1, read back as bigints;
 * - `Uint8Array` (and `Buffer`) as bin;
 * - `Date` as the timestamp extension (type −1): timestamp32 for whole seconds from 0 to
 *   2^32 − 1, timestamp64 for other times after the epoch below 2^32 s, timestamp96 for the
 *   rest. This is the rule msgpackr followed, kept so stored attachments keep their bytes (it
 *   differs from the spec's smallest form only for times from 2^32 s to 2^34 s, years 2106–2514);
 * - arrays as arrays, plain objects (prototype `Object.prototype` or `null`) as maps with keys
 *   sorted by UTF-16 code units at every depth, so key insertion order never changes the bytes.
 *   `undefined` members are left out.
 *
 * @param value - the data
 * @returns the msgpack bytes, in a buffer of their own
 * @throws RunledgerError `ARGUMENT_INVALID` (with `data.path`, e.g. `$.a[2]`) for anything else
 * (`undefined` outside an object member, array holes, `Map`, `Set`, other typed arrays, class
 * instances, functions, symbols), bigints outside int64/uint64, invalid dates, strings or keys
 * with lone surrogates, cycles, and arrays and maps nested deeper than {@link MSGPACK_MAX_DEPTH}
 * @example
 * ```ts
 * encodeMsgpack({ b: 1, a: [true, null] }); // 82 a1 61 92 c3 c0 a1 62 01
 * ```
 */
export function encodeMsgpack(value: unknown): Uint8Array {
  const w = new MsgpackWriter();
  write(w, value, '$', new Set(), 0);
  return w.bytes();
}

function invalidArgument(path: string, what: string): RunledgerError {
  return new RunledgerError('ARGUMENT_INVALID', `The msgpack value at ${path} ${what}.`, {
    data: { path },
  });
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const proto: unknown = Object.getPrototypeOf(value);
  const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

function write(
  w: MsgpackWriter,
  value: unknown,
  path: string,
  seen: Set<object>,
  depth: number
): void {
  switch (typeof value) {
    case 'boolean':
      w.bool(value);
      return;
    case 'number':
      // `>= -0x80000000` also holds for -0, which int() writes as 0.
      if (Number.isInteger(value) && value >= -0x80000000 && value <= 0xffffffff) w.int(value);
      else w.float64(value);
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) {
        throw invalidArgument(path, 'is a string with a lone surrogate');
      }
      w.str(value);
      return;
    case 'bigint':
      if (value < INT64_MIN || value >= UINT64_END) {
        throw invalidArgument(path, 'is a bigint outside the int64 and uint64 ranges');
      }
      w.int64(value);
      return;
    case 'object':
      break;
    case 'undefined':
      throw invalidArgument(path, 'is undefined, which msgpack cannot hold');
    default:
      throw invalidArgument(path, `is a ${typeof value}, which msgpack cannot hold`);
  }
  if (value === null) {
    w.nil();
    return;
  }
  if (value instanceof Uint8Array) {
    w.bin(value);
    return;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    if (Number.isNaN(time)) throw invalidArgument(path, 'is an invalid Date');
    w.ext(TIMESTAMP, timestampData(time));
    return;
  }
  if (seen.has(value)) throw invalidArgument(path, 'is part of a cycle');
  if (depth >= MSGPACK_MAX_DEPTH) {
    throw invalidArgument(path, `nests deeper than ${MSGPACK_MAX_DEPTH} arrays and maps`);
  }
  seen.add(value);
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    w.arrayHeader(items.length);
    // Indexed, not forEach/map: those skip holes, which must be refused.
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === undefined) throw invalidArgument(`${path}[${i}]`, 'is undefined');
      write(w, item, `${path}[${i}]`, seen, depth + 1);
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw invalidArgument(path, `is a ${typeName(value)}; use plain objects and arrays`);
    }
    const record = value as Readonly<Record<string, unknown>>;
    const members: [string, unknown][] = [];
    // Default sort: UTF-16 code units, the order canonical JSON uses too.
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member !== undefined) members.push([key, member]);
    }
    w.mapHeader(members.length);
    for (const [key, member] of members) {
      if (LONE_SURROGATE.test(key)) throw invalidArgument(path, 'has a key with a lone surrogate');
      w.str(key);
      write(w, member, `${path}.${key}`, seen, depth + 1);
    }
  }
  seen.delete(value);
}

/** The timestamp extension's data for a time value in ms (msgpackr's choice of form). */
function timestampData(time: number): Uint8Array {
  const ms = ((time % MS_PER_S) + MS_PER_S) % MS_PER_S;
  const seconds = (time - ms) / MS_PER_S;
  if (ms === 0 && seconds >= 0 && seconds <= 0xffffffff) {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, seconds);
    return data;
  }
  const nanoseconds = ms * NS_PER_MS;
  if (time > 0 && seconds <= 0xffffffff) {
    // timestamp64: nanoseconds in the upper 30 bits, seconds (here below 2^32) in the lower 34.
    const data = new Uint8Array(8);
    const view = new DataView(data.buffer);
    view.setUint32(0, nanoseconds * 4);
    view.setUint32(4, seconds);
    return data;
  }
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nanoseconds);
  view.setBigInt64(4, BigInt(seconds));
  return data;
}

// ---- tokens -------------------------------------------------------------------------------------

/**
 * One msgpack token: a scalar, or the header of an array or map whose items follow. Ints keep
 * their wire width: `number` from the 8-, 16- and 32-bit forms and fixints, `bigint` from int64
 * and uint64. `bin` and `ext` data are views into the input, valid while it is.
 */
export type MsgpackToken =
  | { readonly kind: 'map' | 'array'; readonly size: number }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'uint' | 'int'; readonly value: number | bigint }
  | { readonly kind: 'float64' | 'float32'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'bin'; readonly value: Uint8Array }
  | { readonly kind: 'ext'; readonly type: number; readonly data: Uint8Array }
  | { readonly kind: 'nil' | 'reserved' };

const KIND_NAMES: Readonly<Record<MsgpackToken['kind'], string>> = {
  map: 'a map',
  array: 'an array',
  str: 'a string',
  uint: 'an integer',
  int: 'an integer',
  float64: 'a float64',
  float32: 'a float32',
  bool: 'a bool',
  bin: 'binary data',
  ext: 'an ext value',
  nil: 'nil',
  reserved: 'the reserved byte 0xc1',
};

/**
 * A token kind in words, for error messages.
 *
 * @param kind - the kind of a {@link MsgpackToken}
 * @returns e.g. `a map`, `an integer`, `binary data`
 * @example
 * ```ts
 * `has ${msgpackKindName(token.kind)} where a string belongs`;
 * ```
 */
export function msgpackKindName(kind: MsgpackToken['kind']): string {
  return KIND_NAMES[kind];
}

/**
 * Builds the error a {@link MsgpackReader} throws.
 *
 * @param why - what is wrong, e.g. `ends early`
 * @param offset - the byte offset it was found at
 * @param cause - the underlying error, if any
 */
export type MsgpackReadError = (why: string, offset: number, cause?: unknown) => RunledgerError;

/**
 * A strict msgpack token reader: one token per {@link MsgpackReader.token} call, refusing input
 * that ends early, array and map headers declaring more items than the bytes left could hold,
 * and strings that are not valid UTF-8 (a BOM is kept). The reserved byte `0xc1` comes back as a
 * token of its own, for the caller to refuse with context.
 *
 * @example
 * ```ts
 * const r = new MsgpackReader(bytes, (why, at) => new RunledgerError('PAYLOAD_INVALID', `${why} at ${at}`));
 * const t = r.token();
 * if (t.kind !== 'map') r.fail(`has ${msgpackKindName(t.kind)} where a map belongs`, 0);
 * ```
 */
export class MsgpackReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #error: MsgpackReadError;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  #pos = 0;

  /**
   * @param bytes - the input (any view; it is read, never changed)
   * @param error - builds the error thrown for what is wrong and where
   */
  constructor(bytes: Uint8Array, error: MsgpackReadError) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#error = error;
  }

  /** The offset of the next token. */
  get pos(): number {
    return this.#pos;
  }

  /** The bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /**
   * Throws the error for `why` at `at`.
   * @param why - what is wrong
   * @param at - the byte offset, by default the next token's
   * @throws the error the constructor's `error` builds, always
   */
  fail(why: string, at: number = this.#pos): never {
    throw this.#error(why, at);
  }

  #take(n: number): number {
    if (n > this.remaining) this.fail('ends early');
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  #view8(n: number): Uint8Array {
    const at = this.#take(n);
    return new Uint8Array(this.#bytes.buffer, this.#bytes.byteOffset + at, n);
  }

  /**
   * Reads the next token.
   * @returns the token; for an array or map, its items are the next tokens
   * @throws the constructor's error when the input ends early, a header declares more items
   * than the input could hold, or a string is not valid UTF-8
   */
  token(): MsgpackToken {
    const m = this.#bytes[this.#take(1)]!;
    if (m <= 0x7f) return { kind: 'uint', value: m };
    if (m <= 0x8f) return this.#map(m & 0x0f);
    if (m <= 0x9f) return this.#array(m & 0x0f);
    if (m <= 0xbf) return this.#str(m & 0x1f);
    if (m >= 0xe0) return { kind: 'int', value: m - 0x100 };
    const v = this.#view;
    switch (m) {
      case 0xc0:
        return { kind: 'nil' };
      case 0xc2:
        return { kind: 'bool', value: false };
      case 0xc3:
        return { kind: 'bool', value: true };
      case 0xc4:
        return { kind: 'bin', value: this.#view8(v.getUint8(this.#take(1))) };
      case 0xc5:
        return { kind: 'bin', value: this.#view8(v.getUint16(this.#take(2))) };
      case 0xc6:
        return { kind: 'bin', value: this.#view8(v.getUint32(this.#take(4))) };
      case 0xc7:
        return this.#ext(v.getUint8(this.#take(1)));
      case 0xc8:
        return this.#ext(v.getUint16(this.#take(2)));
      case 0xc9:
        return this.#ext(v.getUint32(this.#take(4)));
      case 0xca:
        return { kind: 'float32', value: v.getFloat32(this.#take(4)) };
      case 0xcb:
        return { kind: 'float64', value: v.getFloat64(this.#take(8)) };
      case 0xcc:
        return { kind: 'uint', value: v.getUint8(this.#take(1)) };
      case 0xcd:
        return { kind: 'uint', value: v.getUint16(this.#take(2)) };
      case 0xce:
        return { kind: 'uint', value: v.getUint32(this.#take(4)) };
      case 0xcf:
        return { kind: 'uint', value: v.getBigUint64(this.#take(8)) };
      case 0xd0:
        return { kind: 'int', value: v.getInt8(this.#take(1)) };
      case 0xd1:
        return { kind: 'int', value: v.getInt16(this.#take(2)) };
      case 0xd2:
        return { kind: 'int', value: v.getInt32(this.#take(4)) };
      case 0xd3:
        return { kind: 'int', value: v.getBigInt64(this.#take(8)) };
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
        return this.#str(v.getUint8(this.#take(1)));
      case 0xda:
        return this.#str(v.getUint16(this.#take(2)));
      case 0xdb:
        return this.#str(v.getUint32(this.#take(4)));
      case 0xdc:
        return this.#array(v.getUint16(this.#take(2)));
      case 0xdd:
        return this.#array(v.getUint32(this.#take(4)));
      case 0xde:
        return this.#map(v.getUint16(this.#take(2)));
      case 0xdf:
        return this.#map(v.getUint32(this.#take(4)));
      default:
        return { kind: 'reserved' };
    }
  }

  #map(size: number): MsgpackToken {
    // Every entry takes at least two bytes: refuse sizes the input cannot hold before looping.
    if (size * 2 > this.remaining) this.fail(`declares a map of ${size} entries but ends early`);
    return { kind: 'map', size };
  }

  #array(size: number): MsgpackToken {
    if (size > this.remaining) this.fail(`declares an array of ${size} items but ends early`);
    return { kind: 'array', size };
  }

  #ext(length: number): MsgpackToken {
    const type = this.#view.getInt8(this.#take(1));
    return { kind: 'ext', type, data: this.#view8(length) };
  }

  #str(length: number): MsgpackToken {
    const at = this.#take(length);
    try {
      return { kind: 'str', value: this.#utf8.decode(this.#bytes.subarray(at, at + length)) };
    } catch (cause) {
      throw this.#error('has a string that is not valid UTF-8', at, cause);
    }
  }
}

// ---- decode -------------------------------------------------------------------------------------

/** How {@link decodeMsgpack} names the bytes in its errors. */
export interface MsgpackDecodeOptions {
  /** The start of every error message; `The msgpack value` when left out. */
  readonly subject?: string;
  /** Facts added to every error's `data` (besides `path` and `offset`), e.g. a media type. */
  readonly data?: ErrorData;
}

/**
 * Decodes exactly one msgpack value, strictly.
 *
 * What comes back: nil → `null`; bool; ints from fixints and 8/16/32-bit forms → `number`,
 * int64/uint64 → `bigint` (never rounded); float32/float64 → `number`; str → `string`; bin → a
 * fresh `Uint8Array` of its own; array → array; map → a plain object (keys defined as own data
 * properties, so `__proto__` is an ordinary key); the timestamp extension (−1) in its 32-, 64-
 * and 96-bit forms → `Date` (rounded toward zero to milliseconds, as `new Date` does).
 *
 * Map keys must be strings or integers; integer keys become their decimal strings (`1` → `"1"`).
 *
 * @param bytes - the msgpack bytes
 * @param options - how errors name the bytes
 * @returns the value
 * @throws RunledgerError `PAYLOAD_INVALID` (with `data.path`, e.g. `$[0].a`, and `data.offset`)
 * for input that ends early or has bytes after the value, the reserved byte `0xc1`, strings
 * that are not valid UTF-8, map keys of other types or given twice (also `1` and `"1"`), ext
 * types other than the timestamp, timestamps with a wrong length, nanoseconds above 999999999 or
 * outside the `Date` range, and arrays and maps nested deeper than {@link MSGPACK_MAX_DEPTH}
 * @example
 * ```ts
 * decodeMsgpack(Uint8Array.of(0x81, 0xa1, 0x61, 0x01)); // { a: 1 }
 * decodeMsgpack(Uint8Array.of(0xd6, 0xff, 0, 0, 0, 1)); // new Date(1000)
 * ```
 */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackDecodeOptions = {}): unknown {
  const subject = options.subject ?? 'The msgpack value';
  const facts = options.data ?? {};
  // Where the reader is, for the errors it throws from inside token().
  let path = '$';
  const r = new MsgpackReader(
    bytes,
    (why, offset, cause) =>
      new RunledgerError('PAYLOAD_INVALID', `${subject} at ${path} ${why} (byte ${offset}).`, {
        data: { ...facts, path, offset },
        cause,
      })
  );
  const fail = (at: string, why: string, offset: number): never => {
    path = at;
    return r.fail(why, offset);
  };

  const read = (at: string, depth: number): unknown => {
    path = at;
    const offset = r.pos;
    const t = r.token();
    switch (t.kind) {
      case 'nil':
        return null;
      case 'bool':
      case 'str':
      case 'uint':
      case 'int':
      case 'float32':
      case 'float64':
        return t.value;
      case 'bin':
        return new Uint8Array(t.value);
      case 'ext':
        if (t.type !== TIMESTAMP) {
          return fail(at, `holds an ext value of type ${t.type}, which is not read`, offset);
        }
        return readTimestamp(t.data, (why) => fail(at, why, offset));
      case 'reserved':
        return fail(at, 'holds the reserved byte 0xc1', offset);
      default:
        break;
    }
    if (depth >= MSGPACK_MAX_DEPTH) {
      return fail(at, `nests deeper than ${MSGPACK_MAX_DEPTH} arrays and maps`, offset);
    }
    if (t.kind === 'array') {
      const items: unknown[] = [];
      for (let i = 0; i < t.size; i++) items.push(read(`${at}[${i}]`, depth + 1));
      return items;
    }
    const out: Record<string, unknown> = {};
    for (let i = 0; i < t.size; i++) {
      path = at;
      const keyOffset = r.pos;
      const k = r.token();
      let key: string;
      if (k.kind === 'str') key = k.value;
      else if (k.kind === 'uint' || k.kind === 'int') key = String(k.value);
      else return fail(at, `has ${KIND_NAMES[k.kind]} as a map key`, keyOffset);
      if (Object.hasOwn(out, key)) {
        return fail(at, `has the map key ${JSON.stringify(key)} twice`, keyOffset);
      }
      const value = read(`${at}.${key}`, depth + 1);
      // Defined, not assigned: assigning "__proto__" would set the prototype instead.
      Object.defineProperty(out, key, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  };

  const value = read('$', 0);
  if (r.remaining > 0) fail('$', `is followed by ${r.remaining} trailing byte(s)`, r.pos);
  return value;
}

/** The `Date` of a timestamp extension's data (32, 64 or 96 bits). */
function readTimestamp(data: Uint8Array, fail: (why: string) => never): Date {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let seconds: bigint;
  let nanoseconds: number;
  if (data.byteLength === 4) {
    seconds = BigInt(view.getUint32(0));
    nanoseconds = 0;
  } else if (data.byteLength === 8) {
    const high = view.getUint32(0);
    nanoseconds = high >>> 2;
    seconds = (BigInt(high & 0x3) << 32n) | BigInt(view.getUint32(4));
  } else if (data.byteLength === 12) {
    nanoseconds = view.getUint32(0);
    seconds = view.getBigInt64(4);
  } else {
    return fail(`holds a timestamp of ${data.byteLength} bytes (4, 8 or 12 expected)`);
  }
  if (nanoseconds > NS_MAX) fail(`holds a timestamp with ${nanoseconds} nanoseconds`);
  if (seconds > SECONDS_MAX || seconds < -SECONDS_MAX) {
    return fail(`holds the timestamp ${seconds} s, outside the Date range`);
  }
  // seconds·1000 + ns/10^6, rounded toward zero like `new Date(x)`, without float rounding.
  const whole = Number(seconds) * MS_PER_S + Math.floor(nanoseconds / NS_PER_MS);
  const time = whole < 0 && nanoseconds % NS_PER_MS !== 0 ? whole + 1 : whole;
  if (Math.abs(time) > DATE_MS_MAX)
    fail(`holds the timestamp ${seconds} s, outside the Date range`);
  return new Date(time);
}
