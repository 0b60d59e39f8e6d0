/**
 * @module ommx/parametric-instance
 * `ParametricInstance`: an Instance with parameter placeholders, with OMMX protobuf encode/decode.
 */
import { RunledgerError } from '../errors.js';
import { MEDIA_TYPE_PARAMETRIC_INSTANCE, ommxPayloadType } from './media-types.js';
import type {
  ConstraintData,
  DecisionVariableData,
  FunctionData,
  InstanceDescription,
  NamedFunctionData,
  ParameterData,
  ParametricInstanceData,
  RemovedConstraintData,
  Sense,
} from './types.js';
import { decodeParametricInstance, encodeParametricInstance } from './wire/index.js';

/**
 * A ParametricInstance (OMMX): functions may use parameter ids as well as variable ids.
 *
 * @example
 * ```ts
 * const p = ParametricInstance.decode(bytes);
 * p.parameters.map((q) => q.name);
 * ```
 */
export class ParametricInstance implements ParametricInstanceData {
  readonly description?: InstanceDescription;
  readonly decisionVariables: readonly DecisionVariableData[];
  readonly parameters: readonly ParameterData[];
  readonly objective: FunctionData;
  readonly constraints: readonly ConstraintData[];
  readonly removedConstraints: readonly RemovedConstraintData[];
  readonly sense: Sense;
  readonly decisionVariableDependency: ReadonlyMap<number, FunctionData>;
  readonly namedFunctions: readonly NamedFunctionData[];
  readonly annotations: Readonly<Record<string, string>>;

  /** @param data - the parametric instance's data */
  constructor(data: ParametricInstanceData) {
    if (data.description !== undefined) this.description = data.description;
    this.decisionVariables = data.decisionVariables;
    this.parameters = data.parameters;
    this.objective = data.objective;
    this.constraints = data.constraints;
    this.removedConstraints = data.removedConstraints;
    this.sense = data.sense;
    this.decisionVariableDependency = data.decisionVariableDependency;
    this.namedFunctions = data.namedFunctions;
    this.annotations = data.annotations;
  }

  /**
   * Decodes OMMX protobuf bytes.
   * @param bytes - an encoded ParametricInstance
   * @param options - `mediaType` (v1 or v2; default v2)
   * @returns the parametric instance
   * @throws RunledgerError `PAYLOAD_INVALID`, `MEDIA_TYPE_MISMATCH`
   */
  static decode(
    bytes: Uint8Array,
    options: { readonly mediaType?: string } = {}
  ): ParametricInstance {
    const mediaType = options.mediaType ?? MEDIA_TYPE_PARAMETRIC_INSTANCE;
    const type = ommxPayloadType(mediaType);
    if (type?.kind !== 'parametric-instance') {
      throw new RunledgerError(
        'MEDIA_TYPE_MISMATCH',
        `Expected an OMMX ParametricInstance media type, got ${JSON.stringify(mediaType)}.`,
        { data: { mediaType } }
      );
    }
    return new ParametricInstance(decodeParametricInstance(bytes, type.version));
  }

  /**
   * Encodes as OMMX v2 protobuf (`application/org.ommx.v2.parametric-instance`).
   * @returns the bytes
   */
  encode(): Uint8Array {
    return encodeParametricInstance(this);
  }
}
