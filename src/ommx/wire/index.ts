/**
 * @module ommx/wire
 * The one home of OMMX protobuf encoding and decoding (ommx-reference §10). Writes `ommx.v2`
 * roots by the rules of OMMX's prost encoder (field order, default omission, map entries sorted
 * by key — see `fields.ts`), so equal data gives equal bytes; reads `ommx.v1` and `ommx.v2` roots
 * into the model of `ommx/types`.
 */
import { RunledgerError } from '../../errors.js';
import type {
  InstanceData,
  ParametricInstanceData,
  SampleSetData,
  SolutionData,
} from '../types.js';
import {
  readInstance,
  readParametricInstance,
  writeInstance,
  writeParametricInstance,
} from './instance.js';
import { WireError } from './protobuf.js';
import { readSampleSet, writeSampleSet } from './sample-set.js';
import { readSolution, writeSolution } from './solution.js';
import {
  FORMAT_VERSION,
  readInstanceV1,
  readParametricInstanceV1,
  readSampleSetV1,
  readSolutionV1,
} from './v1.js';

type Root = 'Instance' | 'ParametricInstance' | 'Solution' | 'SampleSet';

/** Turns any failure while reading into the one `PAYLOAD_INVALID` error, with `cause`. */
function decode<T>(root: Root, version: 1 | 2, bytes: Uint8Array, read: (b: Uint8Array) => T): T {
  if (version !== 1 && version !== 2) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `OMMX protobuf version ${String(version)} is not 1 or 2.`,
      { data: { version } }
    );
  }
  try {
    return read(bytes);
  } catch (e) {
    if (e instanceof RunledgerError) throw e;
    const subject = `The OMMX v${version} ${root}`;
    const data = { root, version };
    if (e instanceof WireError && e.kind === 'unsupported') {
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `${subject} uses ${e.message}, which runledger cannot read yet.`,
        { data: { ...data, feature: e.message }, cause: e }
      );
    }
    if (e instanceof WireError && e.kind === 'version') {
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `${subject} has format_version ${e.message}, newer than the ${FORMAT_VERSION} runledger reads.`,
        { data: { ...data, formatVersion: Number(e.message) }, cause: e }
      );
    }
    throw new RunledgerError('PAYLOAD_INVALID', `${subject} is malformed: ${reason(e)}.`, {
      data,
      cause: e,
    });
  }
}

/** The sentence fragment for a low-level failure (ours, the protobuf runtime's, or a range error). */
function reason(e: unknown): string {
  if (e instanceof WireError) return e.message;
  if (e instanceof RangeError && e.message === 'premature EOF')
    return 'the data ends inside a field (truncated)';
  if (e instanceof Error) return `not a valid protobuf message (${e.message})`;
  return 'not a valid protobuf message';
}

/** Wraps an encoder's model error (e.g. a negative id) as `ARGUMENT_INVALID`. */
function encode<T>(root: Root, value: T, write: (v: T) => Uint8Array): Uint8Array {
  try {
    return write(value);
  } catch (e) {
    if (e instanceof WireError) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The ${root} cannot be encoded as OMMX protobuf: ${e.message}.`,
        { data: { root }, cause: e }
      );
    }
    throw e;
  }
}

/**
 * Encodes an Instance as `ommx.v2.Instance` protobuf. Rows may come in any order; map entries
 * are written sorted by id, so equal instances give equal bytes. An absent variable bound is
 * written as `(-∞, ∞)` (OMMX's v2 reader requires one); `-0` in a plain double field is written
 * as nothing (prost's default test), so it reads back as `0`.
 * @param i - the instance
 * @returns the protobuf bytes
 * @throws RunledgerError `ARGUMENT_INVALID` when an id is not a non-negative safe integer or a
 *   subscript not a safe integer
 * @example
 * ```ts
 * const bytes = encodeInstance(instance);
 * decodeInstance(bytes, 2); // an equal instance
 * ```
 */
export function encodeInstance(i: InstanceData): Uint8Array {
  return encode('Instance', i, writeInstance);
}

/**
 * Decodes `ommx.v1.Instance` or `ommx.v2.Instance` protobuf. Rows come back in ascending id
 * order; a bound of `(-∞, ∞)` reads as absent. v1 `constraint_hints` are ignored (advisory, as in
 * OMMX); unknown fields are skipped.
 * @param bytes - the protobuf bytes
 * @param version - 1 for `application/org.ommx.v1.instance`, 2 for `…v2.instance`
 * @returns the instance
 * @throws RunledgerError `PAYLOAD_INVALID` for truncated or malformed bytes, an id beyond
 *   2^53 − 1, an unknown enum value, a v1 `format_version` newer than 0, or indicator, one-hot or
 *   SOS1 constraints (which the model cannot hold); `ARGUMENT_INVALID` for another version
 * @example
 * ```ts
 * const instance = decodeInstance(bytes, 1);
 * instance.decisionVariables.length;
 * ```
 */
export function decodeInstance(bytes: Uint8Array, version: 1 | 2): InstanceData {
  return decode('Instance', version, bytes, version === 1 ? readInstanceV1 : readInstance);
}

/**
 * Encodes a ParametricInstance as `ommx.v2.ParametricInstance` protobuf (rules as
 * {@link encodeInstance}; parameter ids are written ascending).
 * @param p - the parametric instance
 * @returns the protobuf bytes
 * @throws RunledgerError `ARGUMENT_INVALID` when an id is not a non-negative safe integer
 * @example
 * ```ts
 * const bytes = encodeParametricInstance(parametric);
 * ```
 */
export function encodeParametricInstance(p: ParametricInstanceData): Uint8Array {
  return encode('ParametricInstance', p, writeParametricInstance);
}

/**
 * Decodes `ommx.v1.ParametricInstance` or `ommx.v2.ParametricInstance` protobuf.
 * @param bytes - the protobuf bytes
 * @param version - 1 or 2, from the media type
 * @returns the parametric instance, rows ascending by id
 * @throws RunledgerError `PAYLOAD_INVALID` as {@link decodeInstance}; `ARGUMENT_INVALID` for
 *   another version
 * @example
 * ```ts
 * const parametric = decodeParametricInstance(bytes, 2);
 * parametric.parameters.map((p) => p.id);
 * ```
 */
export function decodeParametricInstance(
  bytes: Uint8Array,
  version: 1 | 2
): ParametricInstanceData {
  return decode(
    'ParametricInstance',
    version,
    bytes,
    version === 1 ? readParametricInstanceV1 : readParametricInstance
  );
}

/**
 * Encodes a Solution as `ommx.v2.Solution` protobuf. A constraint with `removedReason` is
 * written with a `removed_reasons` row (its `removedReasonParameters` only exist with one).
 * @param s - the solution
 * @returns the protobuf bytes
 * @throws RunledgerError `ARGUMENT_INVALID` when an id is not a non-negative safe integer
 * @example
 * ```ts
 * const bytes = encodeSolution(solution);
 * ```
 */
export function encodeSolution(s: SolutionData): Uint8Array {
  return encode('Solution', s, writeSolution);
}

/**
 * Decodes `ommx.v1.Solution` or `ommx.v2.Solution` protobuf. From v1, variable values come from
 * `state` (or `substituted_value`), and each constraint's `feasible` is computed with OMMX's
 * default tolerance 1e-6, since v1 does not store it.
 * @param bytes - the protobuf bytes
 * @param version - 1 or 2, from the media type
 * @returns the solution, rows ascending by id
 * @throws RunledgerError `PAYLOAD_INVALID` as {@link decodeInstance}, or a v1 variable without a
 *   value; `ARGUMENT_INVALID` for another version
 * @example
 * ```ts
 * const solution = decodeSolution(bytes, 1);
 * solution.feasible;
 * ```
 */
export function decodeSolution(bytes: Uint8Array, version: 1 | 2): SolutionData {
  return decode('Solution', version, bytes, version === 1 ? readSolutionV1 : readSolution);
}

/**
 * Encodes a SampleSet as `ommx.v2.SampleSet` protobuf. Sampled values are compressed: one entry
 * per distinct value (NaN with NaN, `-0` with `0`), entries ordered by their smallest sample id.
 * @param s - the sample set
 * @returns the protobuf bytes
 * @throws RunledgerError `ARGUMENT_INVALID` when an id is not a non-negative safe integer
 * @example
 * ```ts
 * const bytes = encodeSampleSet(sampleSet);
 * ```
 */
export function encodeSampleSet(s: SampleSetData): Uint8Array {
  return encode('SampleSet', s, writeSampleSet);
}

/**
 * Decodes `ommx.v1.SampleSet` or `ommx.v2.SampleSet` protobuf.
 * @param bytes - the protobuf bytes
 * @param version - 1 or 2, from the media type
 * @returns the sample set, rows ascending by id, sampled values ascending by sample id
 * @throws RunledgerError `PAYLOAD_INVALID` as {@link decodeInstance}, or a sample id with two
 *   values; `ARGUMENT_INVALID` for another version
 * @example
 * ```ts
 * const samples = decodeSampleSet(bytes, 2);
 * samples.objectives.get(0);
 * ```
 */
export function decodeSampleSet(bytes: Uint8Array, version: 1 | 2): SampleSetData {
  return decode('SampleSet', version, bytes, version === 1 ? readSampleSetV1 : readSampleSet);
}
