/**
 * @module ommx/wire/features
 * OMMX v2's forward-compatibility gate (`required_features`, field 1 of every v2 root) and the
 * special-constraint collections (indicator, one-hot, SOS1) the model cannot hold. runledger
 * writes no features; a payload that needs one is refused rather than read as a weaker problem.
 */
import { k, LD, other, VARINT, writeEmptyMessage } from './fields.js';
import { malformed, type ProtoReader, type ProtoWriter, WireError } from './protobuf.js';

/** What each `ommx.v2.Feature` value means, for the refusal message. */
const FEATURE_NAMES: Readonly<Record<number, string>> = {
  1: 'indicator constraints',
  2: 'one-hot constraints',
  3: 'SOS1 constraints',
};

/** The three special-constraint families. */
export type SpecialConstraint = 'indicator' | 'one-hot' | 'SOS1';

/** The families in the order of their collection fields in every v2 root. */
const FAMILIES: readonly SpecialConstraint[] = ['indicator', 'one-hot', 'SOS1'];

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

/**
 * Reads field `key` when it is one of a v2 root's three special-constraint collections, which
 * stand at fields `first` (indicator), `first + 1` (one-hot) and `first + 2` (SOS1); see
 * {@link checkSpecialCollection}.
 * @returns whether `key` was one of them (else nothing was read)
 * @throws WireError `unsupported` naming the family of a collection that holds a constraint
 */
export function readSpecialCollections(
  r: ProtoReader,
  key: number,
  first: number,
  definition: boolean
): boolean {
  if ((key & 7) !== LD) return false;
  const family = FAMILIES[(key >>> 3) - first];
  if (family === undefined) return false;
  checkSpecialCollection(r, family, definition);
  return true;
}

/**
 * Writes the three special-constraint collections of a v2 root as empty messages at fields
 * `first`, `first + 1` and `first + 2`, as OMMX's writer always does.
 */
export function writeSpecialCollections(w: ProtoWriter, first: number): void {
  writeEmptyMessage(w, first);
  writeEmptyMessage(w, first + 1);
  writeEmptyMessage(w, first + 2);
}
