/**
 * @module ommx/sample-set
 * `SampleSet`: many samples of one Instance, evaluated, with OMMX protobuf encode/decode.
 */
import { RunledgerError } from '../errors.js';
import { MEDIA_TYPE_SAMPLE_SET, ommxPayloadType } from './media-types.js';
import type {
  ProcessMetadata,
  SampledConstraintData,
  SampledDecisionVariableData,
  SampledNamedFunctionData,
  SampledValues,
  SampleSetData,
  Sense,
} from './types.js';
import { decodeSampleSet, encodeSampleSet } from './wire/index.js';

/**
 * A SampleSet (OMMX `SampleSet`): per sample id, the objective, variable values, constraint
 * values and feasibility.
 *
 * @example
 * ```ts
 * const samples = instance.evaluateSamples([{ 0: 1 }, { 0: 0 }]);
 * samples.objectives.get(1); samples.feasible.get(0);
 * ```
 */
export class SampleSet implements SampleSetData {
  readonly objectives: SampledValues;
  readonly decisionVariables: readonly SampledDecisionVariableData[];
  readonly constraints: readonly SampledConstraintData[];
  readonly feasible: ReadonlyMap<number, boolean>;
  readonly feasibleRelaxed: ReadonlyMap<number, boolean>;
  readonly sense: Sense;
  readonly namedFunctions: readonly SampledNamedFunctionData[];
  readonly metadata?: ProcessMetadata;
  readonly annotations: Readonly<Record<string, string>>;
  readonly feasibilityAtol?: number;

  /** @param data - the sample set's data */
  constructor(data: SampleSetData) {
    this.objectives = data.objectives;
    this.decisionVariables = data.decisionVariables;
    this.constraints = data.constraints;
    this.feasible = data.feasible;
    this.feasibleRelaxed = data.feasibleRelaxed;
    this.sense = data.sense;
    this.namedFunctions = data.namedFunctions;
    if (data.metadata !== undefined) this.metadata = data.metadata;
    this.annotations = data.annotations;
    if (data.feasibilityAtol !== undefined) this.feasibilityAtol = data.feasibilityAtol;
  }

  /**
   * Decodes OMMX protobuf bytes.
   * @param bytes - an encoded SampleSet
   * @param options - `mediaType` (v1 or v2 SampleSet; default v2)
   * @returns the sample set
   * @throws RunledgerError `PAYLOAD_INVALID`, `MEDIA_TYPE_MISMATCH`
   */
  static decode(bytes: Uint8Array, options: { readonly mediaType?: string } = {}): SampleSet {
    const mediaType = options.mediaType ?? MEDIA_TYPE_SAMPLE_SET;
    const type = ommxPayloadType(mediaType);
    if (type?.kind !== 'sample-set') {
      throw new RunledgerError(
        'MEDIA_TYPE_MISMATCH',
        `Expected an OMMX SampleSet media type, got ${JSON.stringify(mediaType)}.`,
        { data: { mediaType } }
      );
    }
    return new SampleSet(decodeSampleSet(bytes, type.version));
  }

  /**
   * Encodes as OMMX v2 protobuf (`application/org.ommx.v2.sample-set`).
   * @returns the bytes
   */
  encode(): Uint8Array {
    return encodeSampleSet(this);
  }

  /** Sample ids, ascending. */
  get sampleIds(): number[] {
    return [...this.objectives.keys()].sort((a, b) => a - b);
  }

  /**
   * A copy with other fields replaced.
   * @param patch - the fields to replace
   * @returns a new SampleSet
   */
  with(patch: Partial<SampleSetData>): SampleSet {
    return new SampleSet({ ...this, ...patch });
  }
}
