/**
 * @module ommx/annotations
 * The descriptor annotations OMMX mirrors from a typed payload onto its layer (ommx-reference
 * §2.2), and the way back: on read, descriptor annotations fill what the message lacks
 * (the protobuf wins).
 */
import type { Annotations } from '../oci/types.js';
import type { OmmxMessageKind } from './media-types.js';
import type {
  InstanceData,
  InstanceDescription,
  ParametricInstanceData,
  ProcessMetadata,
  SampleSetData,
  SolutionData,
} from './types.js';

/** Keys under this prefix belong to OMMX; a message's own annotations with it are not mirrored. */
const RESERVED = 'org.ommx.v1.';

type Payload = InstanceData | ParametricInstanceData | SolutionData | SampleSetData;

const DESCRIPTION_KEYS: readonly (readonly [keyof InstanceDescription, string])[] = [
  ['name', 'title'],
  ['description', 'description'],
  ['authors', 'authors'],
  ['createdBy', 'created_by'],
  ['created', 'created'],
  ['license', 'license'],
  ['dataset', 'dataset'],
];

const METADATA_KEYS: readonly (keyof ProcessMetadata)[] = [
  'instance',
  'solver',
  'parameters',
  'start',
  'end',
];

/**
 * The annotations of a typed payload's layer descriptor, as OMMX writes them: description or
 * process metadata under `org.ommx.v1.<kind>.*`, variable and constraint counts for instances,
 * then every non-reserved key of the message's own annotations.
 * @param kind - the message kind
 * @param payload - the message
 * @returns the descriptor annotations
 * @example
 * ```ts
 * payloadAnnotations('instance', instance)['org.ommx.v1.instance.variables']; // '3'
 * ```
 */
export function payloadAnnotations(kind: OmmxMessageKind, payload: Payload): Annotations {
  const out: Record<string, string> = {};
  const prefix = `${RESERVED}${kind}.`;
  if (kind === 'instance' || kind === 'parametric-instance') {
    const p = payload as InstanceData | ParametricInstanceData;
    const d = p.description;
    if (d !== undefined) {
      for (const [field, key] of DESCRIPTION_KEYS) {
        const v = d[field];
        if (typeof v === 'string') out[prefix + key] = v;
        else if (Array.isArray(v) && v.length > 0) out[prefix + key] = v.join(',');
      }
    }
    out[`${prefix}variables`] = String(p.decisionVariables.length);
    out[`${prefix}constraints`] = String(p.constraints.length);
  } else {
    const m = (payload as SolutionData | SampleSetData).metadata;
    if (m !== undefined) {
      for (const key of METADATA_KEYS) {
        const v = m[key];
        if (v !== undefined) out[prefix + key] = v;
      }
    }
  }
  for (const [k, v] of Object.entries(payload.annotations)) {
    if (!k.startsWith(RESERVED) && !(k in out)) out[k] = v;
  }
  return out;
}

/**
 * Merges a layer's descriptor annotations back into a decoded message where the message lacks
 * them: user annotations are added to `annotations`, and the mirrored description / process
 * metadata fields fill absent fields (an OMMX v1 Instance often carries its title only on the
 * descriptor).
 * @param kind - the message kind
 * @param payload - the decoded message data
 * @param annotations - the layer descriptor's annotations
 * @returns the message data with the gaps filled
 * @example
 * ```ts
 * const data = mergeDescriptorAnnotations('instance', decoded, descriptor.annotations ?? {});
 * ```
 */
export function mergeDescriptorAnnotations<T extends Payload>(
  kind: OmmxMessageKind,
  payload: T,
  annotations: Annotations
): T {
  const prefix = `${RESERVED}${kind}.`;
  const user: Record<string, string> = { ...payload.annotations };
  let changed = false;
  for (const [k, v] of Object.entries(annotations)) {
    if (k.startsWith(RESERVED) || k in user) continue;
    user[k] = v;
    changed = true;
  }
  let out: T = changed ? { ...payload, annotations: user } : payload;
  if (kind === 'instance' || kind === 'parametric-instance') {
    const d: InstanceDescription = (out as InstanceData).description ?? { authors: [] };
    const filled: Record<string, unknown> = { ...d };
    let any = false;
    for (const [field, key] of DESCRIPTION_KEYS) {
      const v = annotations[prefix + key];
      if (v === undefined) continue;
      if (field === 'authors') {
        if (d.authors.length === 0) {
          filled['authors'] = v.split(',');
          any = true;
        }
      } else if (d[field] === undefined) {
        filled[field] = v;
        any = true;
      }
    }
    if (any) out = { ...out, description: filled as unknown as InstanceDescription };
  } else {
    const m: ProcessMetadata = (out as SolutionData).metadata ?? {};
    const filled: Record<string, string> = { ...(m as Record<string, string>) };
    let any = false;
    for (const key of METADATA_KEYS) {
      const v = annotations[prefix + key];
      if (v !== undefined && m[key] === undefined) {
        filled[key] = v;
        any = true;
      }
    }
    if (any) out = { ...out, metadata: filled as ProcessMetadata };
  }
  return out;
}
