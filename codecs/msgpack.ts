/**
 * @module codecs/msgpack
 * The MessagePack attachment codec: deterministic msgpack through msgpackr, with sorted map keys.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';

const MEDIA_TYPE = 'application/msgpack';

/**
 * Plain msgpack only: no msgpackr records (its non-standard 0x40–0x7f structure ids), no
 * structured-clone extensions, never float32 (a float32 would round the value).
 */
const packr = new Packr({ useRecords: false, useFloat32: 0, moreTypes: false });

/**
 * Maps come back as `Map`s so keys are turned into object members by us, not by msgpackr (which
 * renames a `__proto__` key); int64 and uint64 come back as bigints, never rounded.
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint' });

const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;
// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Stores plain data as `application/msgpack`, deterministically: equal values give equal bytes.
 *
 * What is written, and read back as the same JS value:
 * - `null`, booleans, strings (as msgpack str, shortest header);
 * - numbers: integers in the int32/uint32 range as the shortest msgpack int, every other number
 *   (fractions, `NaN`, `±Infinity`, larger integers) as float64, never float32; `-0` becomes `0`;
 * - bigints from -2^63 to 2^64 - 1 as int64/uint64 (decoded as bigints, so not rounded);
 * - `Uint8Array` (and `Buffer`) as msgpack bin, decoded as a plain `Uint8Array` copy;
 * - `Date` as the msgpack timestamp extension (type -1);
 * - arrays, and plain objects as msgpack maps whose keys are sorted by UTF-16 code units at
 *   every depth, so key insertion order never changes the bytes. `undefined` members are left out.
 *
 * Decoding also accepts maps with integer keys (they become string keys), but no other
 * extension type.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything else (`undefined` outside
 * an object member, `Map`, `Set`, other typed arrays, class instances, functions, symbols), for
 * out-of-range bigints, invalid dates, strings with lone surrogates and cycles
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not exactly one
 * msgpack value of the kinds above
 * @example
 * ```ts
 * const bytes = msgpackCodec.encode({ b: 2n ** 40n, a: new Uint8Array([1, 2]), c: [1.5, NaN] });
 * msgpackCodec.decode(bytes); // { a: Uint8Array [1, 2], b: 1099511627776n, c: [1.5, NaN] }
 * ```
 */
export const msgpackCodec: AttachmentCodec<unknown> = {
  mediaType: MEDIA_TYPE,

  /**
   * @param value - plain data of the kinds listed on {@link msgpackCodec}
   * @returns the msgpack bytes, in a buffer of their own
   * @throws RunledgerError `ARGUMENT_INVALID` for a value msgpack cannot hold deterministically
   */
  encode(value: unknown): Uint8Array {
    const packable = toPackable(value, '$', new Set());
    // Packr returns a view into a buffer it reuses for the next call: copy it out.
    return new Uint8Array(packr.pack(packable));
  },

  /**
   * @param bytes - one msgpack value
   * @returns the value, with maps as plain objects and bin as fresh `Uint8Array`s
   * @throws RunledgerError `PAYLOAD_INVALID` for truncated or trailing bytes, unknown types and
   * map keys that are not strings or integers
   */
  decode(bytes: Uint8Array): unknown {
    let raw: unknown;
    try {
      raw = unpackr.unpack(bytes);
    } catch (cause) {
      throw new RunledgerError('PAYLOAD_INVALID', 'The msgpack attachment does not decode.', {
        data: { mediaType: MEDIA_TYPE, size: bytes.byteLength },
        cause,
      });
    }
    return fromUnpacked(raw, '$');
  },
};

function invalidArgument(path: string, what: string): RunledgerError {
  return new RunledgerError('ARGUMENT_INVALID', `The msgpack value at ${path} ${what}.`, {
    data: { path },
  });
}

function invalidPayload(path: string, what: string): RunledgerError {
  return new RunledgerError('PAYLOAD_INVALID', `The msgpack attachment at ${path} ${what}.`, {
    data: { mediaType: MEDIA_TYPE, path },
  });
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const proto: unknown = Object.getPrototypeOf(value);
  const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

/** A copy of `value` msgpackr writes deterministically: plain objects become key-sorted Maps. */
function toPackable(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'boolean':
    case 'number':
      return value;
    case 'string':
      if (LONE_SURROGATE.test(value))
        throw invalidArgument(path, 'is a string with a lone surrogate');
      return value;
    case 'bigint':
      if (value < INT64_MIN || value >= UINT64_END) {
        throw invalidArgument(path, 'is a bigint outside the int64 and uint64 ranges');
      }
      return value;
    case 'object':
      break;
    default:
      throw invalidArgument(path, `is a ${typeof value}, which msgpack cannot hold`);
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidArgument(path, 'is an invalid Date');
    return value;
  }
  if (seen.has(value)) throw invalidArgument(path, 'is part of a cycle');
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    // Not map(): it skips holes, which would be written as msgpackr's undefined extension.
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw invalidArgument(`${path}[${i}]`, 'is undefined');
      items.push(toPackable(item, `${path}[${i}]`, seen));
    }
    out = items;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw invalidArgument(path, `is a ${typeName(value)}; use plain objects and arrays`);
    }
    const record = value as Record<string, unknown>;
    const map = new Map<string, unknown>();
    // Default sort: UTF-16 code units, the order canonical JSON uses too.
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      if (LONE_SURROGATE.test(key)) throw invalidArgument(path, 'has a key with a lone surrogate');
      map.set(key, toPackable(member, `${path}.${key}`, seen));
    }
    out = map;
  }
  seen.delete(value);
  return out;
}

/** Checks what msgpackr decoded and turns it into plain data (objects, plain Uint8Arrays). */
function fromUnpacked(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return value;
    case 'bigint':
      // msgpackr also reads its own big-integer extension (0x42); encode could not write it back.
      if (value < INT64_MIN || value >= UINT64_END) {
        throw invalidPayload(path, 'holds an integer outside the int64 and uint64 ranges');
      }
      return value;
    case 'object':
      break;
    default:
      throw invalidPayload(path, `holds a ${typeof value}, which the msgpack codec does not read`);
  }
  if (value === null) return null;
  // msgpackr returns bin as a Buffer over the input: copy, so the result owns its bytes.
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof Date) return value;
  if (Array.isArray(value))
    return value.map((item: unknown, i) => fromUnpacked(item, `${path}[${i}]`));
  if (value instanceof Map) {
    const entries: [string, unknown][] = [];
    for (const [key, member] of value as Map<unknown, unknown>) {
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') {
        throw invalidPayload(path, `has a map key of type ${typeName(key)}`);
      }
      if (typeof key === 'number' && !Number.isInteger(key)) {
        throw invalidPayload(path, `has a non-integer map key ${key}`);
      }
      entries.push([String(key), fromUnpacked(member, `${path}.${String(key)}`)]);
    }
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return Object.fromEntries(entries);
  }
  throw invalidPayload(path, `holds a ${typeName(value)}, which the msgpack codec does not read`);
}
