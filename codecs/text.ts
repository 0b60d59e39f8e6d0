/**
 * @module codecs/text
 * The text attachment codec: a string as UTF-8, byte for byte.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';

const MEDIA_TYPE = 'text/plain; charset=utf-8';

// In a `u` regex a surrogate pair is one code point, so \p{Cs} matches only lone surrogates:
// the code units UTF-8 cannot carry (TextEncoder would silently write U+FFFD for them).
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Stores a string as `text/plain; charset=utf-8`. The bytes are exactly the string's UTF-8: no
 * byte order mark is added on encode or removed on decode, and line endings are kept as they are.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for a string UTF-8 cannot carry
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not UTF-8
 * @example
 * ```ts
 * const bytes = textCodec.encode('héllo\n'); // 7 bytes
 * textCodec.decode(bytes); // 'héllo\n'
 * ```
 */
export const textCodec: AttachmentCodec<string> = {
  mediaType: MEDIA_TYPE,

  /**
   * @param text - any well-formed string
   * @returns its UTF-8 bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for a non-string, or a string with a lone surrogate
   * (it has no UTF-8 form, so it could not round-trip)
   */
  encode(text: string): Uint8Array {
    if (typeof text !== 'string') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The text codec encodes strings, not a ${text === null ? 'null' : typeof text}.`,
        { data: { type: text === null ? 'null' : typeof text } }
      );
    }
    const match = LONE_SURROGATE.exec(text);
    if (match !== null) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The text has a lone surrogate at index ${match.index}, which UTF-8 cannot encode.`,
        { data: { index: match.index } }
      );
    }
    return new TextEncoder().encode(text);
  },

  /**
   * @param bytes - UTF-8 text
   * @returns the string, with a leading byte order mark kept as U+FEFF
   * @throws RunledgerError `PAYLOAD_INVALID` when the bytes are not valid UTF-8
   */
  decode(bytes: Uint8Array): string {
    try {
      // ignoreBOM keeps a leading U+FEFF in the string, so decode(encode(s)) === s for every s.
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (cause) {
      throw new RunledgerError('PAYLOAD_INVALID', 'The text attachment is not valid UTF-8.', {
        data: { mediaType: MEDIA_TYPE, size: bytes.byteLength },
        cause,
      });
    }
  },
};
