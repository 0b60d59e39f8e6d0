/**
 * @module codecs/parametric-instance
 * The OMMX ParametricInstance codec: OMMX v2 protobuf (`application/org.ommx.v2.parametric-instance`), byte-compatible
 * with OMMX's SDKs. `run.logParametricInstance` stores the same bytes and also mirrors OMMX's descriptor
 * annotations; this codec is for `logWithCodec` / `getWithCodec` and anything else that wants
 * the bytes.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';
import { MEDIA_TYPE_PARAMETRIC_INSTANCE } from '../src/ommx/media-types.js';
import { ParametricInstance } from '../src/ommx/parametric-instance.js';

/**
 * Stores an OMMX ParametricInstance as v2 protobuf; equal values give equal bytes (map entries sorted by key).
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything but a ParametricInstance
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not one
 * @example
 * ```ts
 * const bytes = parametricInstanceCodec.encode(value);
 * parametricInstanceCodec.decode(bytes);
 * ```
 */
export const parametricInstanceCodec: AttachmentCodec<ParametricInstance> = {
  mediaType: MEDIA_TYPE_PARAMETRIC_INSTANCE,

  /**
   * @param value - a ParametricInstance
   * @returns its v2 protobuf bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but a ParametricInstance
   */
  encode(value: ParametricInstance): Uint8Array {
    if (!(value instanceof ParametricInstance)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The parametricInstanceCodec codec encodes only ParametricInstance objects.'
      );
    }
    return value.encode();
  },

  /**
   * @param bytes - v2 protobuf bytes
   * @returns the ParametricInstance
   * @throws RunledgerError `PAYLOAD_INVALID` for malformed bytes
   */
  decode(bytes: Uint8Array): ParametricInstance {
    return ParametricInstance.decode(bytes);
  },
};
