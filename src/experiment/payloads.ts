/**
 * @module experiment/payloads
 * OMMX messages as experiment layers: v2 bytes, media type and mirrored descriptor annotations
 * out; v1 or v2 bytes with the descriptor's annotations in.
 */
import { RunledgerError } from '../errors.js';
import { mergeDescriptorAnnotations, payloadAnnotations } from '../ommx/annotations.js';
import { Instance } from '../ommx/instance.js';
import {
  MEDIA_TYPE_INSTANCE,
  MEDIA_TYPE_PARAMETRIC_INSTANCE,
  MEDIA_TYPE_SAMPLE_SET,
  MEDIA_TYPE_SOLUTION,
  ommxPayloadType,
  type OmmxMessageKind,
} from '../ommx/media-types.js';
import { ParametricInstance } from '../ommx/parametric-instance.js';
import { SampleSet } from '../ommx/sample-set.js';
import { Solution } from '../ommx/solution.js';
import type { Annotations } from '../oci/types.js';

/** The class of each OMMX message kind. */
export interface OmmxPayloadTypes {
  instance: Instance;
  'parametric-instance': ParametricInstance;
  solution: Solution;
  'sample-set': SampleSet;
}

/** The decoded class of a message kind. */
export type OmmxPayload<K extends OmmxMessageKind> = OmmxPayloadTypes[K];

/** A message ready to be stored as a layer. */
export interface EncodedPayload {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly annotations: Annotations;
}

const CLASSES = {
  instance: Instance,
  'parametric-instance': ParametricInstance,
  solution: Solution,
  'sample-set': SampleSet,
} as const;

const WRITE_TYPES: Readonly<Record<OmmxMessageKind, string>> = {
  instance: MEDIA_TYPE_INSTANCE,
  'parametric-instance': MEDIA_TYPE_PARAMETRIC_INSTANCE,
  solution: MEDIA_TYPE_SOLUTION,
  'sample-set': MEDIA_TYPE_SAMPLE_SET,
};

const NAMES: Readonly<Record<OmmxMessageKind, string>> = {
  instance: 'Instance',
  'parametric-instance': 'ParametricInstance',
  solution: 'Solution',
  'sample-set': 'SampleSet',
};

/**
 * Encodes an OMMX message for storage (v2 media type, OMMX's mirrored annotations).
 * @param kind - the message kind
 * @param value - an instance of the kind's class
 * @returns media type, bytes and descriptor annotations
 * @throws RunledgerError `ARGUMENT_INVALID` when `value` is not of the kind's class
 * @example
 * ```ts
 * const { mediaType, bytes, annotations } = encodePayload('instance', instance);
 * ```
 */
export function encodePayload<K extends OmmxMessageKind>(
  kind: K,
  value: OmmxPayload<K>
): EncodedPayload {
  if (!(value instanceof CLASSES[kind])) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Expected an OMMX ${NAMES[kind]} object, got ${describe(value)}.`,
      { data: { kind } }
    );
  }
  return {
    mediaType: WRITE_TYPES[kind],
    bytes: value.encode(),
    annotations: payloadAnnotations(kind, value),
  };
}

/**
 * Decodes a stored OMMX message and merges its descriptor annotations where it lacks them.
 * @param kind - the message kind
 * @param bytes - the layer content
 * @param mediaType - its logical media type (v1 or v2 of the kind)
 * @param annotations - the layer descriptor's annotations
 * @returns the decoded message
 * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`
 * @example
 * ```ts
 * const instance = decodePayload('instance', bytes, 'application/org.ommx.v1.instance', {});
 * ```
 */
export function decodePayload<K extends OmmxMessageKind>(
  kind: K,
  bytes: Uint8Array,
  mediaType: string,
  annotations: Annotations = {}
): OmmxPayload<K> {
  if (ommxPayloadType(mediaType)?.kind !== kind) {
    throw new RunledgerError(
      'MEDIA_TYPE_MISMATCH',
      `Expected an OMMX ${NAMES[kind]} attachment, got media type ${JSON.stringify(mediaType)}.`,
      { data: { kind, mediaType } }
    );
  }
  const Class = CLASSES[kind];
  const decoded = Class.decode(bytes, { mediaType });
  const merged = mergeDescriptorAnnotations(kind, decoded as never, annotations);
  return (merged === decoded ? decoded : new Class(merged as never)) as OmmxPayload<K>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'an object';
}
