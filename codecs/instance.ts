/**
 * @module codecs/instance
 * The OMMX Instance codec: OMMX v2 protobuf (`application/org.ommx.v2.instance`), byte-compatible
 * with OMMX's SDKs. `run.logInstance` stores the same bytes and also mirrors OMMX's descriptor
 * annotations; this codec is for `logWithCodec` / `getWithCodec` and anything else that wants
 * the bytes.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';
import { MEDIA_TYPE_INSTANCE } from '../src/ommx/media-types.js';
import { Instance } from '../src/ommx/instance.js';

/**
 * Stores an OMMX Instance as v2 protobuf; equal values give equal bytes (map entries sorted by key).
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything but a Instance
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not one
 * @example
 * ```ts
 * const bytes = instanceCodec.encode(value);
 * instanceCodec.decode(bytes);
 * ```
 */
export const instanceCodec: AttachmentCodec<Instance> = {
  mediaType: MEDIA_TYPE_INSTANCE,

  /**
   * @param value - a Instance
   * @returns its v2 protobuf bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but a Instance
   */
  encode(value: Instance): Uint8Array {
    if (!(value instanceof Instance)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The instanceCodec codec encodes only Instance objects.'
      );
    }
    return value.encode();
  },

  /**
   * @param bytes - v2 protobuf bytes
   * @returns the Instance
   * @throws RunledgerError `PAYLOAD_INVALID` for malformed bytes
   */
  decode(bytes: Uint8Array): Instance {
    return Instance.decode(bytes);
  },
};
