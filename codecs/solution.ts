/**
 * @module codecs/solution
 * The OMMX Solution codec: OMMX v2 protobuf (`application/org.ommx.v2.solution`), byte-compatible
 * with OMMX's SDKs. `run.logSolution` stores the same bytes and also mirrors OMMX's descriptor
 * annotations; this codec is for `logWithCodec` / `getWithCodec` and anything else that wants
 * the bytes.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';
import { MEDIA_TYPE_SOLUTION } from '../src/ommx/media-types.js';
import { Solution } from '../src/ommx/solution.js';

/**
 * Stores an OMMX Solution as v2 protobuf; equal values give equal bytes (map entries sorted by key).
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything but a Solution
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not one
 * @example
 * ```ts
 * const bytes = solutionCodec.encode(value);
 * solutionCodec.decode(bytes);
 * ```
 */
export const solutionCodec: AttachmentCodec<Solution> = {
  mediaType: MEDIA_TYPE_SOLUTION,

  /**
   * @param value - a Solution
   * @returns its v2 protobuf bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but a Solution
   */
  encode(value: Solution): Uint8Array {
    if (!(value instanceof Solution)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The solutionCodec codec encodes only Solution objects.'
      );
    }
    return value.encode();
  },

  /**
   * @param bytes - v2 protobuf bytes
   * @returns the Solution
   * @throws RunledgerError `PAYLOAD_INVALID` for malformed bytes
   */
  decode(bytes: Uint8Array): Solution {
    return Solution.decode(bytes);
  },
};
