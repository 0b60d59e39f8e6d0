/**
 * @module formats/msgpack-writer
 * A tiny msgpack writer for every msgpack family (nil, bools, ints, float64, strings, bin,
 * arrays, maps, ext), so the bytes runledger writes are pinned by our code and not by a library's
 * encoder options. Used for the run-parameter table and by `encodeMsgpack` (formats/msgpack).
 */
import { RunledgerError } from '../errors.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UNITS = { map: 'entries', array: 'items', bin: 'bytes', ext: 'bytes' } as const;
// Data length → fixext marker.
const FIXEXT: ReadonlyMap<number, number> = new Map([
  [1, 0xd4],
  [2, 0xd5],
  [4, 0xd6],
  [8, 0xd7],
  [16, 0xd8],
]);

const outOfRange = (message: string): RunledgerError =>
  new RunledgerError('ARGUMENT_INVALID', message);

/**
 * Appends msgpack tokens to a growing buffer. Every write uses the shortest encoding the msgpack
 * spec allows for its family (the "compact" rule of rmp and msgpack-python), except floats,
 * which are always float64 (`0xcb`), because OMMX's reader requires F64 for float columns.
 *
 * @example
 * ```ts
 * const w = new MsgpackWriter();
 * w.mapHeader(1);
 * w.str('a');
 * w.float64(2);
 * w.bytes(); // 81 a1 61 cb 40 00 00 00 00 00 00 00
 * ```
 */
export class MsgpackWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  readonly #encoder = new TextEncoder();

  /**
   * @param initialCapacity - bytes to allocate up front (the buffer doubles as needed)
   */
  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /**
   * Writes a length header: the fix form (`fix | n`, below 16) when the family has one, else the
   * 8-bit form when it has one, else the 16-bit or 32-bit form.
   */
  #length(
    n: number,
    what: 'map' | 'array' | 'bin' | 'ext',
    fix: number | undefined,
    h8: number | undefined,
    h16: number,
    h32: number
  ): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw outOfRange(`A msgpack ${what} cannot hold ${n} ${UNITS[what]}.`);
    }
    this.#reserve(5);
    if (fix !== undefined && n < 16) {
      this.#buf[this.#pos++] = fix | n;
    } else if (h8 !== undefined && n < 0x100) {
      this.#buf[this.#pos++] = h8;
      this.#buf[this.#pos++] = n;
    } else if (n < 0x10000) {
      this.#buf[this.#pos++] = h16;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = h32;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
  }

  /**
   * Writes a map header (fixmap, map16 or map32); the caller then writes `size` key/value pairs.
   * @param size - number of entries, 0 to 2^32 − 1
   * @throws RunledgerError `ARGUMENT_INVALID` when `size` is not a valid map length (a bug in the caller)
   * @example
   * ```ts
   * w.mapHeader(0); // 80
   * ```
   */
  mapHeader(size: number): void {
    this.#length(size, 'map', 0x80, undefined, 0xde, 0xdf);
  }

  /**
   * Writes an array header (fixarray, array16 or array32); the caller then writes `size` values.
   * @param size - number of items, 0 to 2^32 − 1
   * @throws RunledgerError `ARGUMENT_INVALID` when `size` is not a valid array length (a bug in the caller)
   * @example
   * ```ts
   * w.arrayHeader(16); // dc 00 10
   * ```
   */
  arrayHeader(size: number): void {
    this.#length(size, 'array', 0x90, undefined, 0xdc, 0xdd);
  }

  /**
   * Writes bytes as msgpack bin (bin8, bin16 or bin32).
   * @param data - the bytes, up to 2^32 − 1 of them
   * @throws RunledgerError `ARGUMENT_INVALID` for more than 2^32 − 1 bytes
   * @example
   * ```ts
   * w.bin(Uint8Array.of(1, 2)); // c4 02 01 02
   * ```
   */
  bin(data: Uint8Array): void {
    this.#length(data.byteLength, 'bin', undefined, 0xc4, 0xc5, 0xc6);
    this.#raw(data);
  }

  /**
   * Writes an ext value: fixext 1/2/4/8/16 for those data lengths, else ext8, ext16 or ext32.
   * @param type - the ext type, −128 to 127 (negative types are reserved by the spec, −1 is the
   * timestamp)
   * @param data - the ext payload, up to 2^32 − 1 bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for a type outside int8 or too much data
   * @example
   * ```ts
   * w.ext(-1, Uint8Array.of(0, 0, 0, 1)); // d6 ff 00 00 00 01
   * ```
   */
  ext(type: number, data: Uint8Array): void {
    if (!Number.isInteger(type) || type < -128 || type > 127) {
      throw outOfRange(`${type} is not a msgpack ext type.`);
    }
    const fixext = FIXEXT.get(data.byteLength);
    if (fixext === undefined) {
      this.#length(data.byteLength, 'ext', undefined, 0xc7, 0xc8, 0xc9);
    } else {
      this.#reserve(1);
      this.#buf[this.#pos++] = fixext;
    }
    this.#reserve(1);
    this.#buf[this.#pos++] = type & 0xff;
    this.#raw(data);
  }

  #raw(data: Uint8Array): void {
    this.#reserve(data.byteLength);
    this.#buf.set(data, this.#pos);
    this.#pos += data.byteLength;
  }

  /**
   * Writes a string as UTF-8 (fixstr, str8, str16 or str32).
   * @param s - a well-formed string (lone surrogates would be written as U+FFFD)
   * @example
   * ```ts
   * w.str('columns'); // a7 63 6f 6c 75 6d 6e 73
   * ```
   */
  str(s: string): void {
    // Worst case 3 bytes per UTF-16 code unit, plus a 5-byte header.
    this.#reserve(s.length * 3 + 5);
    // Encode first at the longest header's offset, then move if the header is shorter.
    const start = this.#pos;
    const { written } = this.#encoder.encodeInto(s, this.#buf.subarray(start + 5));
    let header: number;
    if (written < 32) {
      this.#buf[start] = 0xa0 | written;
      header = 1;
    } else if (written < 0x100) {
      this.#buf[start] = 0xd9;
      this.#buf[start + 1] = written;
      header = 2;
    } else if (written < 0x10000) {
      this.#buf[start] = 0xda;
      this.#view.setUint16(start + 1, written);
      header = 3;
    } else {
      this.#buf[start] = 0xdb;
      this.#view.setUint32(start + 1, written);
      header = 5;
    }
    if (header !== 5) this.#buf.copyWithin(start + header, start + 5, start + 5 + written);
    this.#pos = start + header + written;
  }

  /**
   * Writes a non-negative integer (positive fixint, uint8, uint16, uint32 or uint64).
   * @param n - a non-negative safe integer
   * @throws RunledgerError `ARGUMENT_INVALID` when `n` is negative or not a safe integer (a bug in the caller)
   * @example
   * ```ts
   * w.uint(200); // cc c8
   * ```
   */
  uint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw outOfRange(`${n} is not a msgpack uint.`);
    this.#reserve(9);
    if (n < 0x80) {
      this.#buf[this.#pos++] = n;
    } else if (n < 0x100) {
      this.#buf[this.#pos++] = 0xcc;
      this.#buf[this.#pos++] = n;
    } else if (n < 0x10000) {
      this.#buf[this.#pos++] = 0xcd;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else if (n <= 0xffffffff) {
      this.#buf[this.#pos++] = 0xce;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    } else {
      this.#fixed(0xcf, BigInt(n));
    }
  }

  /**
   * Writes a signed integer with rmp's `write_sint` rule: non-negative values take the uint
   * family (positive fixint, uint8…uint64), negative ones negative fixint or int8…int64.
   * @param n - an integer from −2^63 to 2^64 − 1 (a `number` must be a safe integer)
   * @throws RunledgerError `ARGUMENT_INVALID` when `n` is outside that range (a bug in the caller)
   * @example
   * ```ts
   * w.int(-33n); // d0 df
   * w.int(-1); // ff
   * ```
   */
  int(n: bigint | number): void {
    if (typeof n === 'number') {
      if (!Number.isSafeInteger(n)) throw outOfRange(`${n} is not a msgpack int.`);
      if (n >= 0) this.uint(n);
      else if (n >= -0x80000000) this.#negative(n);
      else this.#fixed(0xd3, BigInt(n));
      return;
    }
    if (n >= 0n) {
      if (n > UINT64_MAX) throw outOfRange(`${n} does not fit in a msgpack int.`);
      if (n <= BigInt(Number.MAX_SAFE_INTEGER)) this.uint(Number(n));
      else this.#fixed(0xcf, n);
      return;
    }
    if (n < INT64_MIN) throw outOfRange(`${n} does not fit in a msgpack int.`);
    if (n >= -0x80000000n) this.#negative(Number(n));
    else this.#fixed(0xd3, n);
  }

  /**
   * Writes a bigint always as 9 bytes: int64 (`0xd3`) from −2^63 to 2^63 − 1, uint64 (`0xcf`)
   * above, so that a reader which returns 64-bit ints as bigints gives a bigint back.
   * @param n - an integer from −2^63 to 2^64 − 1
   * @throws RunledgerError `ARGUMENT_INVALID` when `n` is outside that range (a bug in the caller)
   * @example
   * ```ts
   * w.int64(5n); // d3 00 00 00 00 00 00 00 05
   * ```
   */
  int64(n: bigint): void {
    if (n < INT64_MIN || n > UINT64_MAX) throw outOfRange(`${n} does not fit in a msgpack int.`);
    this.#fixed(n <= INT64_MAX ? 0xd3 : 0xcf, n);
  }

  /** Negative fixint, int8, int16 or int32 for `n` from −2^31 to −1. */
  #negative(n: number): void {
    this.#reserve(5);
    if (n >= -32) {
      this.#buf[this.#pos++] = n & 0xff; // negative fixint 0xe0…0xff
    } else if (n >= -0x80) {
      this.#buf[this.#pos++] = 0xd0;
      this.#view.setInt8(this.#pos, n);
      this.#pos += 1;
    } else if (n >= -0x8000) {
      this.#buf[this.#pos++] = 0xd1;
      this.#view.setInt16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = 0xd2;
      this.#view.setInt32(this.#pos, n);
      this.#pos += 4;
    }
  }

  /** `0xd3` + int64 or `0xcf` + uint64, big-endian. */
  #fixed(marker: 0xd3 | 0xcf, n: bigint): void {
    this.#reserve(9);
    this.#buf[this.#pos++] = marker;
    if (marker === 0xd3) this.#view.setBigInt64(this.#pos, n);
    else this.#view.setBigUint64(this.#pos, n);
    this.#pos += 8;
  }

  /**
   * Writes a float64 (`0xcb` + 8 bytes big-endian), also for integral values, NaN and ±∞. NaN
   * is always written as the quiet NaN `7ff8000000000000` (what Python and Rust write), so equal
   * tables give equal bytes whatever NaN payload the engine carries.
   * @param x - any number
   * @example
   * ```ts
   * w.float64(2); // cb 40 00 00 00 00 00 00 00
   * ```
   */
  float64(x: number): void {
    this.#reserve(9);
    this.#buf[this.#pos++] = 0xcb;
    if (Number.isNaN(x)) {
      this.#view.setUint32(this.#pos, 0x7ff80000);
      this.#view.setUint32(this.#pos + 4, 0);
    } else {
      this.#view.setFloat64(this.#pos, x);
    }
    this.#pos += 8;
  }

  /**
   * Writes `false` (`0xc2`) or `true` (`0xc3`).
   * @param b - the value
   * @example
   * ```ts
   * w.bool(true); // c3
   * ```
   */
  bool(b: boolean): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = b ? 0xc3 : 0xc2;
  }

  /**
   * Writes nil (`0xc0`).
   * @example
   * ```ts
   * w.nil(); // c0
   * ```
   */
  nil(): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = 0xc0;
  }

  /**
   * The bytes written so far, as a copy that later writes do not touch.
   * @returns the encoded bytes
   * @example
   * ```ts
   * const bytes = w.bytes();
   * ```
   */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }
}
