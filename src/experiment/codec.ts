/**
 * @module experiment/codec
 * The attachment codec contract: a media type and a deterministic encode/decode pair.
 */
import { RunledgerError } from '../errors.js';
import { isMediaType } from '../oci/media-types.js';

/**
 * Turns values of type `T` into attachment bytes and back. `encode` must be deterministic (equal
 * values, equal bytes), since attachments are content-addressed.
 *
 * @example
 * ```ts
 * const upper: AttachmentCodec<string> = {
 *   mediaType: 'text/x-upper',
 *   encode: (s) => new TextEncoder().encode(s.toUpperCase()),
 *   decode: (b) => new TextDecoder().decode(b),
 * };
 * ```
 */
export interface AttachmentCodec<T> {
  /** The media type stored with the attachment and checked before decoding. */
  readonly mediaType: string;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/**
 * Checks that `codec` follows the contract before it is used.
 * @param codec - anything passed as a codec
 * @throws RunledgerError `CODEC_INVALID` naming what is missing
 * @example
 * ```ts
 * assertCodec(jsonCodec);
 * ```
 */
export function assertCodec(codec: unknown): asserts codec is AttachmentCodec<unknown> {
  const c = codec as Partial<AttachmentCodec<unknown>> | null;
  const fail = (why: string): never => {
    throw new RunledgerError('CODEC_INVALID', `The codec ${why}.`);
  };
  if (typeof c !== 'object' || c === null) fail('is not an object');
  const mediaType = (c as AttachmentCodec<unknown>).mediaType;
  if (!isMediaType(mediaType)) fail(`has no valid mediaType (got ${JSON.stringify(mediaType)})`);
  if (typeof c?.encode !== 'function') fail('must define a callable encode');
  if (typeof c?.decode !== 'function') fail('must define a callable decode');
}

/**
 * Runs `codec.encode` and checks it returned bytes.
 * @param codec - a checked codec
 * @param value - the value
 * @returns the encoded bytes
 * @throws RunledgerError `CODEC_INVALID` when encode returns something else; the codec's own errors pass through unchanged
 * @example
 * ```ts
 * const bytes = encodeWith(jsonCodec, { a: 1 });
 * ```
 */
export function encodeWith<T>(codec: AttachmentCodec<T>, value: T): Uint8Array {
  const bytes: unknown = codec.encode(value);
  if (!(bytes instanceof Uint8Array)) {
    throw new RunledgerError(
      'CODEC_INVALID',
      `The encode of codec ${codec.mediaType} returned ${bytes === null ? 'null' : typeof bytes}, not a Uint8Array.`,
      { data: { mediaType: codec.mediaType } }
    );
  }
  return bytes;
}
