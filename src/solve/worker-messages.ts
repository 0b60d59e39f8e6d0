/**
 * @module solve/worker-messages
 * What the solve pool and its worker threads say to each other: a call (the adapter's module
 * and export, the Instance's data, the options) and its answer (the Solution's or SampleSet's
 * data and the diagnostics reports, or the error). OMMX messages cross the thread boundary as
 * their plain data (what `Instance.clone()` copies), so the other side rebuilds exactly the same
 * object; errors cross as plain data too and come back as the same kind of error: a
 * `RunledgerError` keeps its code, message and data.
 */
import { RunledgerError, type ErrorCode } from '../errors.js';
import type { InstanceData, SampleSetData, SolutionData } from '../ommx/types.js';

/** A solver or sampler call sent to a worker thread. */
export interface CallMessage {
  readonly id: number;
  readonly kind: 'solve' | 'sample';
  /** URL of the ES module that exports the function. */
  readonly module: string;
  /** The name of the exported function. */
  readonly export: string;
  /** The Instance's own fields. */
  readonly instance: InstanceData;
  /** The adapter options (plain JSON data). */
  readonly options: unknown;
  /** Whether the function gets a diagnostics sink. */
  readonly diagnostics: boolean;
}

/** A worker thread's answer to a {@link CallMessage}. */
export type AnswerMessage =
  | {
      readonly id: number;
      readonly ok: true;
      /** The Solution's or SampleSet's own fields. */
      readonly output: SolutionData | SampleSetData;
      readonly reports: readonly unknown[];
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: SerializedError;
      readonly reports: readonly unknown[];
    };

/** An error as plain data (structured clone drops an error's own fields). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** Set for a `RunledgerError`. */
  readonly code?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly cause?: SerializedError;
}

/**
 * An error as plain data, its `cause` chain included (three levels).
 * @param error - anything thrown
 * @returns the data to post
 * @example
 * ```ts
 * port.postMessage({ id, ok: false, error: serializeError(e), reports: [] });
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  return serialize(error, 0);
}

function serialize(error: unknown, depth: number): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & { code?: unknown; data?: unknown };
  const out: {
    name: string;
    message: string;
    stack?: string;
    code?: string;
    data?: Readonly<Record<string, unknown>>;
    cause?: SerializedError;
  } = { name: e.name, message: e.message };
  if (e.stack !== undefined) out.stack = e.stack;
  if ((e as { isRunledgerError?: unknown }).isRunledgerError === true) {
    out.code = String(e.code);
    if (typeof e.data === 'object' && e.data !== null) out.data = cloneable(e.data);
  }
  if (e.cause !== undefined && depth < 3) out.cause = serialize(e.cause, depth + 1);
  return out;
}

/** Error data as it can be posted: values structured clone cannot copy are left out. */
function cloneable(data: object): Readonly<Record<string, unknown>> {
  try {
    return structuredClone(data) as Record<string, unknown>;
  } catch {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      try {
        out[k] = structuredClone(v);
      } catch {
        out[k] = String(v);
      }
    }
    return out;
  }
}

/**
 * The error a {@link SerializedError} stands for: a `RunledgerError` with its code and data, or
 * an `Error` of the same name and message; the worker's stack is kept.
 * @param error - the posted data
 * @returns the error to throw
 * @example
 * ```ts
 * if (!answer.ok) throw reviveError(answer.error);
 * ```
 */
export function reviveError(error: SerializedError): Error {
  const cause = error.cause === undefined ? undefined : reviveError(error.cause);
  const out =
    error.code !== undefined
      ? new RunledgerError(error.code as ErrorCode, error.message, {
          ...(error.data === undefined ? {} : { data: error.data }),
          ...(cause === undefined ? {} : { cause }),
        })
      : new Error(error.message, cause === undefined ? undefined : { cause });
  out.name = error.name;
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}
