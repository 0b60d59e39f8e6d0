/**
 * @module codecs/msgpack
 * The MessagePack attachment codec: deterministic msgpack through runledger's own encoder and
 * strict decoder (formats/msgpack), with sorted map keys.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { decodeMsgpack, encodeMsgpack } from '../src/formats/msgpack.js';

const MEDIA_TYPE = 'application/msgpack';

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
 * Decoding also accepts maps with integer keys (they become string keys), float32, the 64- and
 * 96-bit timestamp forms and non-shortest headers from other writers, but no other extension
 * type and no map key given twice. See `encodeMsgpack` and `decodeMsgpack` (formats/msgpack)
 * for the exact rules.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything else (`undefined` outside
 * an object member, `Map`, `Set`, other typed arrays, class instances, functions, symbols), for
 * out-of-range bigints, invalid dates, strings with lone surrogates, cycles and arrays and maps
 * nested more than 512 deep
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` (with `data.path` and `data.offset`) for
 * bytes that are not exactly one msgpack value of the kinds above, or nested more than 512 deep
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
    return encodeMsgpack(value);
  },

  /**
   * @param bytes - one msgpack value
   * @returns the value, with maps as plain objects and bin as fresh `Uint8Array`s
   * @throws RunledgerError `PAYLOAD_INVALID` for truncated or trailing bytes, unknown types and
   * map keys that are not strings or integers
   */
  decode(bytes: Uint8Array): unknown {
    return decodeMsgpack(bytes, {
      subject: 'The msgpack attachment',
      data: { mediaType: MEDIA_TYPE },
    });
  },
};
