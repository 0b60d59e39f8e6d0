/**
 * @module codecs/json
 * The JSON attachment codec: canonical JSON out (sorted keys, no whitespace), any JSON in.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';
import { canonicalJsonBytes, type JsonValue } from '../src/oci/canonical-json.js';

/**
 * Stores plain data as `application/json`. `encode` writes canonical JSON (object keys sorted by
 * UTF-16 code units, no whitespace), so equal values give equal bytes whatever order their keys
 * were inserted in. `undefined` object members are left out, array holes become `null` and `-0`
 * becomes `0`, as in `JSON.stringify`.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for what JSON cannot hold
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not UTF-8 JSON
 * @example
 * ```ts
 * const bytes = jsonCodec.encode({ b: 1, a: [true, null] }); // the text {"a":[true,null],"b":1}
 * jsonCodec.decode(bytes); // { a: [true, null], b: 1 }
 * ```
 */
export const jsonCodec: AttachmentCodec<unknown> = {
  mediaType: 'application/json',

  /**
   * @param value - plain data: null, booleans, finite numbers, strings, arrays, plain objects
   * @returns the canonical JSON text as UTF-8
   * @throws RunledgerError `ARGUMENT_INVALID` for `NaN`, `Infinity`, bigints, functions, class
   * instances and cycles
   */
  encode(value: unknown): Uint8Array {
    // canonicalJsonBytes checks the value at run time, so the cast only satisfies the compiler.
    return canonicalJsonBytes(value as JsonValue);
  },

  /**
   * @param bytes - UTF-8 JSON text (any key order, any whitespace)
   * @returns the parsed value
   * @throws RunledgerError `PAYLOAD_INVALID` when the bytes are not UTF-8 or not JSON
   */
  decode(bytes: Uint8Array): unknown {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (cause) {
      throw new RunledgerError('PAYLOAD_INVALID', 'The JSON attachment is not valid UTF-8.', {
        data: { mediaType: 'application/json', size: bytes.byteLength },
        cause,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new RunledgerError('PAYLOAD_INVALID', 'The JSON attachment does not parse as JSON.', {
        data: { mediaType: 'application/json', size: bytes.byteLength },
        cause,
      });
    }
  },
};
