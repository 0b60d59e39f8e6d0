/**
 * @module ommx/solution
 * `Solution`: a solver's answer evaluated against its Instance, with OMMX protobuf encode/decode.
 */
import { RunledgerError } from '../errors.js';
import { MEDIA_TYPE_SOLUTION, ommxPayloadType } from './media-types.js';
import type {
  EvaluatedConstraintData,
  EvaluatedDecisionVariableData,
  EvaluatedNamedFunctionData,
  Optimality,
  ProcessMetadata,
  Relaxation,
  Sense,
  SolutionData,
  State,
} from './types.js';
import { decodeSolution, encodeSolution } from './wire/index.js';

/**
 * A Solution (OMMX `Solution`): objective, variable values, evaluated constraints, feasibility.
 *
 * @example
 * ```ts
 * const solution = instance.evaluate({ 0: 1 });
 * solution.objective; solution.feasible; solution.state.get(0);
 * ```
 */
export class Solution implements SolutionData {
  readonly objective: number;
  readonly decisionVariables: readonly EvaluatedDecisionVariableData[];
  readonly constraints: readonly EvaluatedConstraintData[];
  readonly feasible: boolean;
  readonly feasibleRelaxed?: boolean;
  readonly optimality: Optimality;
  readonly relaxation: Relaxation;
  readonly sense: Sense;
  readonly namedFunctions: readonly EvaluatedNamedFunctionData[];
  readonly metadata?: ProcessMetadata;
  readonly annotations: Readonly<Record<string, string>>;
  readonly feasibilityAtol?: number;

  /** @param data - the solution's data */
  constructor(data: SolutionData) {
    this.objective = data.objective;
    this.decisionVariables = data.decisionVariables;
    this.constraints = data.constraints;
    this.feasible = data.feasible;
    if (data.feasibleRelaxed !== undefined) this.feasibleRelaxed = data.feasibleRelaxed;
    this.optimality = data.optimality;
    this.relaxation = data.relaxation;
    this.sense = data.sense;
    this.namedFunctions = data.namedFunctions;
    if (data.metadata !== undefined) this.metadata = data.metadata;
    this.annotations = data.annotations;
    if (data.feasibilityAtol !== undefined) this.feasibilityAtol = data.feasibilityAtol;
  }

  /**
   * Decodes OMMX protobuf bytes.
   * @param bytes - an encoded Solution
   * @param options - `mediaType` (v1 or v2 Solution; default v2)
   * @returns the solution
   * @throws RunledgerError `PAYLOAD_INVALID`, `MEDIA_TYPE_MISMATCH`
   * @example
   * ```ts
   * const again = Solution.decode(solution.encode());
   * ```
   */
  static decode(bytes: Uint8Array, options: { readonly mediaType?: string } = {}): Solution {
    const mediaType = options.mediaType ?? MEDIA_TYPE_SOLUTION;
    const type = ommxPayloadType(mediaType);
    if (type?.kind !== 'solution') {
      throw new RunledgerError(
        'MEDIA_TYPE_MISMATCH',
        `Expected an OMMX Solution media type, got ${JSON.stringify(mediaType)}.`,
        { data: { mediaType } }
      );
    }
    return new Solution(decodeSolution(bytes, type.version));
  }

  /**
   * Encodes as OMMX v2 protobuf (`application/org.ommx.v2.solution`).
   * @returns the bytes
   */
  encode(): Uint8Array {
    return encodeSolution(this);
  }

  /** Variable id → value. */
  get state(): State {
    return new Map(this.decisionVariables.map((v) => [v.id, v.value]));
  }

  /**
   * A copy with other fields replaced (e.g. `metadata`, `optimality`, `annotations`).
   * @param patch - the fields to replace
   * @returns a new Solution
   */
  with(patch: Partial<SolutionData>): Solution {
    return new Solution({ ...this, ...patch });
  }
}
