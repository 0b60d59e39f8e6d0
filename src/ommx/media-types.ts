/**
 * @module ommx/media-types
 * OMMX payload media types (ommx-reference §2.1): v2 is written, v1 and v2 are read.
 */

export const MEDIA_TYPE_INSTANCE = 'application/org.ommx.v2.instance';
export const MEDIA_TYPE_INSTANCE_V1 = 'application/org.ommx.v1.instance';
export const MEDIA_TYPE_PARAMETRIC_INSTANCE = 'application/org.ommx.v2.parametric-instance';
export const MEDIA_TYPE_PARAMETRIC_INSTANCE_V1 = 'application/org.ommx.v1.parametric-instance';
export const MEDIA_TYPE_SOLUTION = 'application/org.ommx.v2.solution';
export const MEDIA_TYPE_SOLUTION_V1 = 'application/org.ommx.v1.solution';
export const MEDIA_TYPE_SAMPLE_SET = 'application/org.ommx.v2.sample-set';
export const MEDIA_TYPE_SAMPLE_SET_V1 = 'application/org.ommx.v1.sample-set';

/** The four OMMX message kinds. */
export type OmmxMessageKind = 'instance' | 'parametric-instance' | 'solution' | 'sample-set';

/**
 * Which OMMX message and wire version a media type names.
 * @param mediaType - a logical media type
 * @returns the kind and version, or undefined for any other media type
 * @example
 * ```ts
 * ommxPayloadType('application/org.ommx.v1.instance'); // { kind: 'instance', version: 1 }
 * ```
 */
export function ommxPayloadType(
  mediaType: string
): { readonly kind: OmmxMessageKind; readonly version: 1 | 2 } | undefined {
  const m =
    /^application\/org\.ommx\.v([12])\.(instance|parametric-instance|solution|sample-set)$/.exec(
      mediaType
    );
  if (m === null) return undefined;
  return { kind: m[2] as OmmxMessageKind, version: m[1] === '1' ? 1 : 2 };
}
