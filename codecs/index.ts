/**
 * @module codecs
 * All built-in attachment codecs in one import; each is also its own entry,
 * `runledger/codecs/<name>`, so an app that needs one does not load the others' dependencies.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { arrowCodec } from './arrow.js';
import { bytesCodec } from './bytes.js';
import { jsonCodec } from './json.js';
import { msgpackCodec } from './msgpack.js';
import { npyCodec } from './npy.js';
import { textCodec } from './text.js';
import { instanceCodec } from './instance.js';
import { parametricInstanceCodec } from './parametric-instance.js';
import { sampleSetCodec } from './sample-set.js';
import { solutionCodec } from './solution.js';

export {
  arrowCodec,
  bytesCodec,
  instanceCodec,
  jsonCodec,
  msgpackCodec,
  npyCodec,
  parametricInstanceCodec,
  sampleSetCodec,
  solutionCodec,
  textCodec,
};
export { npyArray } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';

/**
 * The ten built-in codecs: JSON, text, bytes, msgpack, npy, Arrow, and OMMX's Instance,
 * ParametricInstance, Solution and SampleSet. Their media types differ, so
 * a reader can pick the codec for stored content by its media type.
 *
 * @example
 * ```ts
 * const codec = builtinCodecs.find((c) => c.mediaType === descriptor.mediaType);
 * ```
 */
export const builtinCodecs: readonly AttachmentCodec<unknown>[] = Object.freeze([
  jsonCodec,
  textCodec,
  bytesCodec,
  msgpackCodec,
  npyCodec,
  arrowCodec,
  instanceCodec as AttachmentCodec<unknown>,
  parametricInstanceCodec as AttachmentCodec<unknown>,
  solutionCodec as AttachmentCodec<unknown>,
  sampleSetCodec as AttachmentCodec<unknown>,
]);
