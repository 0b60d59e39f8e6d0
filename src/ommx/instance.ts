/**
 * @module ommx/instance
 * `Instance`: an optimization problem with behaviour — encode/decode (OMMX protobuf v2 written,
 * v1 and v2 read), `evaluate` a state into a Solution, `evaluateSamples` into a SampleSet.
 */
import { RunledgerError } from '../errors.js';
import { evaluateInstance, evaluateSamples, type EvaluateOptions } from './evaluate.js';
import { MEDIA_TYPE_INSTANCE, ommxPayloadType } from './media-types.js';
import { SampleSet } from './sample-set.js';
import { Solution } from './solution.js';
import type {
  ConstraintData,
  DecisionVariableData,
  FunctionData,
  InstanceData,
  InstanceDescription,
  NamedFunctionData,
  RemovedConstraintData,
  Sense,
  State,
} from './types.js';
import { decodeInstance, encodeInstance } from './wire/index.js';

/** A state as a map or a plain `{ [id]: value }` record. */
export type StateInput = State | Readonly<Record<number, number>>;

/**
 * An optimization problem (OMMX `Instance`). Immutable: build one with `InstanceBuilder`,
 * decode one from bytes, or construct it from plain data.
 *
 * @example
 * ```ts
 * const instance = Instance.decode(bytes, { mediaType: 'application/org.ommx.v1.instance' });
 * const solution = instance.evaluate({ 0: 1, 1: 0 });
 * solution.feasible;
 * ```
 */
export class Instance implements InstanceData {
  readonly description?: InstanceDescription;
  readonly decisionVariables: readonly DecisionVariableData[];
  readonly objective: FunctionData;
  readonly constraints: readonly ConstraintData[];
  readonly removedConstraints: readonly RemovedConstraintData[];
  readonly sense: Sense;
  readonly parameters?: ReadonlyMap<number, number>;
  readonly decisionVariableDependency: ReadonlyMap<number, FunctionData>;
  readonly namedFunctions: readonly NamedFunctionData[];
  readonly annotations: Readonly<Record<string, string>>;

  /**
   * @param data - the instance's data (taken as is; see {@link Instance.clone} for a deep copy)
   */
  constructor(data: InstanceData) {
    if (data.description !== undefined) this.description = data.description;
    this.decisionVariables = data.decisionVariables;
    this.objective = data.objective;
    this.constraints = data.constraints;
    this.removedConstraints = data.removedConstraints;
    this.sense = data.sense;
    if (data.parameters !== undefined) this.parameters = data.parameters;
    this.decisionVariableDependency = data.decisionVariableDependency;
    this.namedFunctions = data.namedFunctions;
    this.annotations = data.annotations;
  }

  /**
   * Decodes OMMX protobuf bytes.
   * @param bytes - an encoded Instance
   * @param options - `mediaType` (v1 or v2 Instance; default v2)
   * @returns the instance
   * @throws RunledgerError `PAYLOAD_INVALID` for malformed bytes, `MEDIA_TYPE_MISMATCH` for a
   *   media type that is not an OMMX Instance
   * @example
   * ```ts
   * const again = Instance.decode(instance.encode());
   * ```
   */
  static decode(bytes: Uint8Array, options: { readonly mediaType?: string } = {}): Instance {
    const mediaType = options.mediaType ?? MEDIA_TYPE_INSTANCE;
    const type = ommxPayloadType(mediaType);
    if (type?.kind !== 'instance') {
      throw new RunledgerError(
        'MEDIA_TYPE_MISMATCH',
        `Expected an OMMX Instance media type, got ${JSON.stringify(mediaType)}.`,
        { data: { mediaType } }
      );
    }
    return new Instance(decodeInstance(bytes, type.version));
  }

  /**
   * Encodes as OMMX v2 protobuf (`application/org.ommx.v2.instance`); map entries sorted by key,
   * so equal instances give equal bytes.
   * @returns the bytes
   * @example
   * ```ts
   * const bytes = instance.encode();
   * ```
   */
  encode(): Uint8Array {
    return encodeInstance(this);
  }

  /**
   * A deep copy (what a solver adapter is handed, so it cannot change the caller's instance).
   * @returns an equal, independent instance
   */
  clone(): Instance {
    return new Instance(structuredClone(toPlain(this)));
  }

  /** The decision variable with this id, if any. */
  variable(id: number): DecisionVariableData | undefined {
    return this.decisionVariables.find((v) => v.id === id);
  }

  /**
   * Evaluates the objective, constraints and named functions at a state.
   * @param state - a value for every decision variable the functions use
   * @param options - `atol`, the feasibility tolerance (default 1e-6)
   * @returns the Solution
   * @throws RunledgerError `ARGUMENT_INVALID` when the state misses a used variable or names an
   *   unknown one
   * @example
   * ```ts
   * instance.evaluate({ 0: 1, 1: 0 }).objective;
   * ```
   */
  evaluate(state: StateInput, options: EvaluateOptions = {}): Solution {
    return new Solution(evaluateInstance(this, toState(state), options));
  }

  /**
   * Evaluates many states at once.
   * @param samples - sample id → state
   * @param options - `atol`
   * @returns the SampleSet
   * @throws RunledgerError `ARGUMENT_INVALID` as {@link Instance.evaluate}
   * @example
   * ```ts
   * instance.evaluateSamples(new Map([[0, new Map([[0, 1]])]])).feasible.get(0);
   * ```
   */
  evaluateSamples(
    samples: ReadonlyMap<number, StateInput> | readonly StateInput[],
    options: EvaluateOptions = {}
  ): SampleSet {
    const entries: [number, StateInput][] = Array.isArray(samples)
      ? (samples as readonly StateInput[]).map((s, i) => [i, s])
      : [...(samples as ReadonlyMap<number, StateInput>)];
    const states = new Map(entries.map(([id, s]) => [id, toState(s)] as const));
    return new SampleSet(evaluateSamples(this, states, options));
  }
}

/** A state from a map or a record. @internal */
export function toState(state: StateInput): State {
  if (state instanceof Map) return state as State;
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(state as Record<string, number>)) out.set(Number(k), v);
  return out;
}

/** Own enumerable fields only, for structuredClone (class prototypes do not clone). @internal */
export function toPlain<T extends object>(value: T): T {
  return { ...value };
}
