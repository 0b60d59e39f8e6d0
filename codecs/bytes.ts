/**
 * @module codecs/bytes
 * The raw bytes attachment codec: stores a `Uint8Array` as it is.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';

/**
 * Stores raw bytes as `application/octet-stream`. Both directions copy, so the caller and the
 * store never share memory: changing the array after `encode`, or the bytes after `decode`, has
 * no effect on the other side. Results are plain `Uint8Array`s, even for a Node `Buffer` input.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything but a `Uint8Array`
 * @example
 * ```ts
 * const stored = bytesCodec.encode(new Uint8Array([1, 2, 3]));
 * bytesCodec.decode(stored); // Uint8Array [1, 2, 3], a fresh copy
 * ```
 */
export const bytesCodec: AttachmentCodec<Uint8Array> = {
  mediaType: 'application/octet-stream',

  /**
   * @param bytes - the bytes to store (a `Buffer` is fine)
   * @returns a copy, as a plain `Uint8Array`
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but a `Uint8Array`
   */
  encode(bytes: Uint8Array): Uint8Array {
    if (!(bytes instanceof Uint8Array)) {
      throw new RunledgerError('ARGUMENT_INVALID', 'The bytes codec encodes Uint8Arrays only.', {
        data: { type: bytes === null ? 'null' : typeof bytes },
      });
    }
    // The typed-array constructor copies; Buffer#slice would not.
    return new Uint8Array(bytes);
  },

  /**
   * @param bytes - any bytes
   * @returns a copy, as a plain `Uint8Array`
   */
  decode(bytes: Uint8Array): Uint8Array {
    return new Uint8Array(bytes);
  },
};
