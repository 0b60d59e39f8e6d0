/**
 * @module codecs/sample-set
 * The OMMX SampleSet codec: OMMX v2 protobuf (`application/org.ommx.v2.sample-set`), byte-compatible
 * with OMMX's SDKs. `run.logSampleSet` stores the same bytes and also mirrors OMMX's descriptor
 * annotations; this codec is for `logWithCodec` / `getWithCodec` and anything else that wants
 * the bytes.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';
import { MEDIA_TYPE_SAMPLE_SET } from '../src/ommx/media-types.js';
import { SampleSet } from '../src/ommx/sample-set.js';

/**
 * Stores an OMMX SampleSet as v2 protobuf; equal values give equal bytes (map entries sorted by key).
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` for anything but a SampleSet
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not one
 * @example
 * ```ts
 * const bytes = sampleSetCodec.encode(value);
 * sampleSetCodec.decode(bytes);
 * ```
 */
export const sampleSetCodec: AttachmentCodec<SampleSet> = {
  mediaType: MEDIA_TYPE_SAMPLE_SET,

  /**
   * @param value - a SampleSet
   * @returns its v2 protobuf bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but a SampleSet
   */
  encode(value: SampleSet): Uint8Array {
    if (!(value instanceof SampleSet)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The sampleSetCodec codec encodes only SampleSet objects.'
      );
    }
    return value.encode();
  },

  /**
   * @param bytes - v2 protobuf bytes
   * @returns the SampleSet
   * @throws RunledgerError `PAYLOAD_INVALID` for malformed bytes
   */
  decode(bytes: Uint8Array): SampleSet {
    return SampleSet.decode(bytes);
  },
};
