/**
 * @module ommx/wire/features
 * OMMX v2's forward-compatibility gate (`required_features`, field 1 of every v2 root) and the
 * special-constraint collections (indicator, one-hot, SOS1) the model cannot hold. runledger
 * writes no features; a payload that needs one is refused rather than read as a weaker problem.
 */
import { k, LD, other, VARINT } from './fields.js';
import { malformed, type ProtoReader, WireError } from './protobuf.js';

/** What each `ommx.v2.Feature` value means, for the refusal message. */
const FEATURE_NAMES: Readonly<Record<number, string>> = {
  1: 'indicator constraints',
  2: 'one-hot constraints',
  3: 'SOS1 constraints',
};

/** The three special-constraint families. */
export type SpecialConstraint = 'indicator' | 'one-hot' | 'SOS1';

function checkFeature(value: number): void {
  if (value === 0) throw malformed('required_features lists FEATURE_UNSPECIFIED');
  throw new WireError('unsupported', FEATURE_NAMES[value] ?? `required feature ${value}`);
}

/**
 * Reads `repeated Feature required_features = 1` (packed or not). Any listed feature is refused:
 * runledger implements none of them.
 * @throws WireError `unsupported` for a known or unknown feature, `malformed` for 0
 */
export function readRequiredFeatures(r: ProtoReader, key: number): void {
  if ((key & 7) === VARINT) {
    checkFeature(r.int32());
    return;
  }
  const end = r.enter();
  // Checked one by one, so the first feature listed is the one named.
  while (r.pos < end) checkFeature(r.int32());
  r.leave(end);
}

/**
 * Reads a special-constraint collection and refuses it when it holds a constraint: for a
 * definition-stage collection `active = 1` / `removed = 2`, for an evaluated or sampled one
 * `entries = 1`. An empty collection (which OMMX always writes) passes.
 * @param definition - whether this is a definition-stage (`*ConstraintCollection`) message
 * @throws WireError `unsupported` naming the family
 */
export function checkSpecialCollection(
  r: ProtoReader,
  family: SpecialConstraint,
  definition: boolean
): void {
  const end = r.enter();
  while (r.pos < end) {
    const t = r.key();
    if (t === k(1, LD) || (definition && t === k(2, LD)))
      throw new WireError('unsupported', `${family} constraints`);
    other(r, t, `the ${family} constraint collection`, definition ? [1, 2] : [1]);
  }
  r.leave(end);
}
