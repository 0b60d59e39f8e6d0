/**
 * @module errors
 * The one error type runledger throws: a closed set of codes, structured `data`, and `cause`.
 */

/**
 * Every code a {@link RunledgerError} can carry. Each one is thrown somewhere in `src/`
 * (`test/errors.test.ts` checks that).
 */
export type ErrorCode =
  /** A string that should be a digest is not `sha256:` followed by 64 lowercase hex digits. */
  | 'DIGEST_INVALID'
  /** Bytes read from disk, an archive or the network do not hash to the expected digest. */
  | 'DIGEST_MISMATCH'
  /** A blob is shorter or longer than the size it was declared with. */
  | 'SIZE_MISMATCH'
  /** A string that should be an OCI reference does not parse. */
  | 'REFERENCE_INVALID'
  /** A directory is not (and cannot become) a runledger OCI image layout. */
  | 'LAYOUT_INVALID'
  /** A manifest or image index is not valid JSON of the expected shape. */
  | 'MANIFEST_INVALID'
  /** A blob the caller asked for is not in the store. */
  | 'BLOB_NOT_FOUND'
  /** A reference is not in the store. */
  | 'REF_NOT_FOUND'
  /** Publishing a reference that already points at a different manifest. */
  | 'REF_CONFLICT'
  /** A manifest's closure (config, layers, subject chain) is not complete in the store. */
  | 'CLOSURE_INCOMPLETE'
  /** The store's cross-process lock could not be taken in time. */
  | 'LOCK_TIMEOUT'
  /** The operation was cancelled through its `AbortSignal`. */
  | 'ABORTED'
  /** An argument is outside what the function accepts (a malformed duration, a bad option). */
  | 'ARGUMENT_INVALID'
  /** The file system refused an operation (full disk, permissions, I/O error). */
  | 'IO_ERROR'
  /** A command line could not be understood. */
  | 'USAGE'
  /** A parameter name or value is not accepted (type, range, a different value for a logged name). */
  | 'PARAMETER_INVALID'
  /** A metric name, value, step or timestamp is not accepted. */
  | 'METRIC_INVALID'
  /** A parameter's type clashes with the type of its column in other runs. */
  | 'PARAMETER_TYPE_CONFLICT'
  /** An attachment name is already used in its scope (experiment or run). */
  | 'ATTACHMENT_EXISTS'
  /** No attachment has that name in the scope. */
  | 'ATTACHMENT_NOT_FOUND'
  /** A name, annotation key or prefix reserved for OMMX or runledger was used. */
  | 'NAME_RESERVED'
  /** Stored content has another media type than the reader or codec expects. */
  | 'MEDIA_TYPE_MISMATCH'
  /** A codec does not follow the AttachmentCodec contract. */
  | 'CODEC_INVALID'
  /** Bytes do not decode as the format their media type names (npy, Arrow, msgpack, JSON…). */
  | 'PAYLOAD_INVALID'
  /** A write to a run that was already closed. */
  | 'RUN_CLOSED'
  /** Commit while runs are still open. */
  | 'RUNS_OPEN'
  /** A write to an experiment that was already committed. */
  | 'EXPERIMENT_SEALED'
  /** An artifact is not a valid OMMX experiment (OMMX's loader rules). */
  | 'EXPERIMENT_INVALID'
  /** A write to an experiment whose scope failed (its failed checkpoint is what to restore). */
  | 'EXPERIMENT_FAILED'
  /** Fork or push of an experiment that was never committed. */
  | 'EXPERIMENT_UNCOMMITTED'
  /** No checkpoint (nor crash journal) of the requested experiment name. */
  | 'CHECKPOINT_NOT_FOUND'
  /** A file exists where runledger would write, and overwriting was not asked for. */
  | 'FILE_EXISTS'
  /** An archive (or layout directory) is malformed or hostile; the message names the entry. */
  | 'ARCHIVE_INVALID'
  /** A solver adapter cannot take this Instance (a kind of variable or constraint it lacks). */
  | 'UNSUPPORTED_INSTANCE'
  /** The solver proved the Instance infeasible. */
  | 'SOLVER_INFEASIBLE'
  /** The solver proved the Instance unbounded. */
  | 'SOLVER_UNBOUNDED'
  /** The solver stopped without a usable solution (error, or a limit before any feasible point). */
  | 'SOLVER_FAILED'
  /** Something passed as a solver or sampler adapter does not follow the adapter contract. */
  | 'ADAPTER_INVALID'
  /** A solve opened with `openSolve` was closed before `decode` gave it a Solution. */
  | 'SOLVE_NOT_DECODED'
  /** An optional dependency (e.g. the `highs` package) is not installed. */
  | 'DEPENDENCY_MISSING'
  /** A SQL statement did not parse, named something the views do not have, or failed as it ran. */
  | 'SQL_INVALID'
  /** A SQL statement would write, or read outside the views: the store is read-only to SQL. */
  | 'SQL_REFUSED'
  /** A registry refused the credentials (or asked for some and none were found): log in. */
  | 'AUTHENTICATION'
  /** A registry knows who you are but refuses the operation (no push/pull right on that repository). */
  | 'AUTHORIZATION'
  /** A registry has no such repository, manifest, tag or blob. */
  | 'NOT_FOUND'
  /** A registry asked to slow down (429) and kept asking after the retries. */
  | 'RATE_LIMITED'
  /** The network failed: connection refused or reset, timeout, a 5xx after the retries. */
  | 'TRANSPORT'
  /** A registry answered something the OCI Distribution protocol does not allow, or refused a request as invalid. */
  | 'PROTOCOL'
  /** A registry (or a redirect, upload location or token realm) was refused by runledger's security rules. */
  | 'REMOTE_REFUSED';

/** Structured facts about an error: the digest, reference, path… it concerns. */
export type ErrorData = Readonly<Record<string, unknown>>;

/**
 * The error every runledger API throws. `message` is one sentence naming the subject;
 * `code` is stable and meant for programs; `data` holds the facts.
 *
 * @example
 * ```ts
 * try { parseDigest('sha256:../../x'); }
 * catch (e) { if (isRunledgerError(e, 'DIGEST_INVALID')) rejected = e.data['value']; }
 * ```
 */
export class RunledgerError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /** Structured facts about the error. */
  readonly data: ErrorData;

  /**
   * @param code - the error code
   * @param message - one sentence naming the subject
   * @param options - `data` with the facts, `cause` with the underlying error
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: { readonly data?: ErrorData; readonly cause?: unknown } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunledgerError';
    this.code = code;
    this.data = options.data ?? {};
  }

  /** Brand checked by {@link isRunledgerError}, so the guard works across module copies. */
  get isRunledgerError(): true {
    return true;
  }

  /**
   * A JSON-safe form: `{ name, code, message, data, cause? }`.
   * @returns the plain object the CLI prints for `--json`
   */
  toJSON(): {
    name: string;
    code: ErrorCode;
    message: string;
    data: ErrorData;
    cause?: string;
  } {
    const out: { name: string; code: ErrorCode; message: string; data: ErrorData; cause?: string } =
      { name: this.name, code: this.code, message: this.message, data: this.data };
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  try {
    return typeof cause === 'object' ? JSON.stringify(cause) : String(cause);
  } catch {
    return Object.prototype.toString.call(cause);
  }
}

/** One entry of a registry's `{"errors":[…]}` body. */
export interface RegistryErrorEntry {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/**
 * An error from talking to a remote registry: a {@link RunledgerError} that also carries the HTTP
 * status, method, URL (query and credentials removed) and the registry's `errors[]`.
 *
 * @example
 * ```ts
 * try { await sealed.push(); }
 * catch (e) { if (e instanceof RemoteError && e.code === 'AUTHENTICATION') needsLogin = e.status === 401; }
 * ```
 */
export class RemoteError extends RunledgerError {
  /** The HTTP status of the answer, when there was one. */
  readonly status: number | undefined;
  /** The HTTP method of the request. */
  readonly method: string;
  /** The request URL, without query string, fragment or user info. */
  readonly url: string;
  /** The registry's error entries (`errors[]` of its JSON body), if any. */
  readonly registryErrors: readonly RegistryErrorEntry[];

  /**
   * @param code - the error code
   * @param message - one sentence naming the subject, with what to do
   * @param options - request facts, registry errors, cause
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: {
      readonly status?: number;
      readonly method: string;
      readonly url: string;
      readonly registryErrors?: readonly RegistryErrorEntry[];
      readonly data?: ErrorData;
      readonly cause?: unknown;
    }
  ) {
    const registryErrors = options.registryErrors ?? [];
    super(code, message, {
      data: {
        ...(options.data ?? {}),
        ...(options.status === undefined ? {} : { status: options.status }),
        method: options.method,
        url: options.url,
        ...(registryErrors.length === 0 ? {} : { registryErrors }),
      },
      cause: options.cause,
    });
    this.name = 'RemoteError';
    this.status = options.status;
    this.method = options.method;
    this.url = options.url;
    this.registryErrors = registryErrors;
  }
}

/**
 * Whether `e` is a {@link RunledgerError}, optionally with the given code.
 *
 * @param e - anything caught
 * @param code - when given, the code `e` must carry
 * @returns true when `e` is a runledger error (with that code)
 * @example
 * ```ts
 * if (isRunledgerError(err, 'REF_CONFLICT')) { … }
 * ```
 */
export function isRunledgerError(e: unknown, code?: ErrorCode): e is RunledgerError {
  if (typeof e !== 'object' || e === null) return false;
  if ((e as { isRunledgerError?: unknown }).isRunledgerError !== true) return false;
  return code === undefined || (e as RunledgerError).code === code;
}

/**
 * Wraps a Node file-system error as `IO_ERROR` (or passes a runledger error through).
 * @internal
 */
export function ioError(err: unknown, action: string, path: string): RunledgerError {
  if (isRunledgerError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === 'ENOSPC'
      ? ' (the disk is full: free space and retry)'
      : code === 'EACCES' || code === 'EPERM'
        ? ' (permission denied: check the owner and mode of the path)'
        : '';
  return new RunledgerError('IO_ERROR', `Could not ${action} ${path}${hint}.`, {
    data: { path, errno: code },
    cause: err,
  });
}

/**
 * Throws `ABORTED` when `signal` is aborted.
 * @internal
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw new RunledgerError('ABORTED', 'The operation was aborted.', { cause: signal.reason });
  }
}
