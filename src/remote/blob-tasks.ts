/**
 * @module remote/blob-tasks
 * The work of a transfer, one task per blob (or manifest): bounded concurrency, a retry budget
 * for each task, and failures of one blob collected while the others go on, then reported
 * together (how many, and the first).
 */
import { RemoteError, RunledgerError, isRunledgerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { abortableSleep, isTransientFailure, RetryBudget } from './http.js';

/** What {@link withBudget} takes from the transfer's options. */
export interface BudgetOptions {
  /** Retries of one blob or manifest in all. @default 8 × maxRetries */
  readonly blobRetries?: number;
  /** Retries of one request. @default 4 */
  readonly maxRetries?: number;
  /** First backoff step in ms. @default 250 */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Codes of failures that concern one blob only: the other blobs of the transfer go on. */
const BLOB_FAILURES: ReadonlySet<string> = new Set([
  'TRANSPORT',
  'RATE_LIMITED',
  'NOT_FOUND',
  'PROTOCOL',
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'BLOB_NOT_FOUND',
]);

function isBlobFailure(e: unknown): boolean {
  return isRunledgerError(e) && BLOB_FAILURES.has(e.code);
}

/**
 * Runs `fn` on every item with at most `limit` at once. A failure of one item only (see
 * {@link isBlobFailure}) is collected and the other items go on; any other failure (abort,
 * authentication, local I/O) stops the rest and is thrown.
 * @param items - the blobs (or anything)
 * @param limit - items in flight at once
 * @param fn - the task; its signal fires when the transfer is stopped
 * @param outer - the transfer's signal
 * @returns the collected failures, in the order they happened
 * @throws RunledgerError `ABORTED` when `outer` fired; else the first failure that stopped the rest
 * @example
 * ```ts
 * const failures = await mapLimit(blobs, 8, (d, signal) => fetchOne(d, signal), options.signal);
 * ```
 */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
  outer: AbortSignal | undefined
): Promise<{ item: T; error: unknown }[]> {
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const failures: { item: T; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      // One signal per item, unlinked when it is done: fetch (undici) leaves an abort listener
      // on the signal of every request until that request is garbage-collected, so a signal
      // shared by a whole transfer collected hundreds of them (824 in a 1,000-blob push) and
      // Node warned "MaxListenersExceededWarning: Possible EventTarget memory leak".
      const own = new AbortController();
      const link = (): void => own.abort(ctrl.signal.reason);
      if (ctrl.signal.aborted) link();
      else ctrl.signal.addEventListener('abort', link, { once: true });
      try {
        await fn(item, own.signal);
      } catch (e) {
        if (isBlobFailure(e) && outer?.aborted !== true) {
          failures.push({ item, error: e });
          continue;
        }
        if (failure === undefined) failure = { error: e };
        ctrl.abort(e);
      } finally {
        ctrl.signal.removeEventListener('abort', link);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) {
    if (outer?.aborted === true) {
      throw new RunledgerError('ABORTED', 'The transfer was aborted.', { cause: outer.reason });
    }
    throw failure.error;
  }
  return failures;
}

/**
 * Runs one blob's (or manifest's) transfer with its own retry budget, and again from the start
 * after a transient failure while the budget lasts (pausing with backoff, or as `Retry-After`
 * asked).
 * @param options - budget size, backoff, sleep
 * @param signal - stops the retries
 * @param fn - one attempt; its requests draw from `budget` too
 * @returns what the attempt that succeeded returned
 * @throws the last attempt's failure, once the budget is spent or the failure is not transient
 * @example
 * ```ts
 * const m = await withBudget(options, signal, (budget) => repo.fetchManifest('v1', { budget }));
 * ```
 */
export async function withBudget<T>(
  options: BudgetOptions,
  signal: AbortSignal | undefined,
  fn: (budget: RetryBudget) => Promise<T>
): Promise<T> {
  const budget = new RetryBudget(options.blobRetries ?? 8 * (options.maxRetries ?? 4));
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(budget);
    } catch (e) {
      if (signal?.aborted === true || !isTransientFailure(e) || !budget.take()) throw e;
      const asked = isRunledgerError(e) ? e.data['retryAfterMs'] : undefined;
      const backoff = Math.min(8000, (options.backoffMs ?? 250) * 2 ** attempt);
      await sleep(Math.max(typeof asked === 'number' ? asked : 0, backoff), signal);
    }
  }
}

/**
 * The error of a transfer some of whose blobs failed: how many of how many, the first one's
 * digest and message; the first one's code, request facts and registry errors.
 * @param failures - what {@link mapLimit} collected (at least one)
 * @param total - blobs of the transfer
 * @param doing - `pushed to <repository>`, `pulled from <repository>`
 * @param after - more of the sentence after `doing`, or ''
 * @returns a RemoteError when the first failure was one, else a RunledgerError, with its code
 * @example
 * ```ts
 * if (failures.length > 0) throw blobsFailed(failures, blobs.length, `pushed to ${repo.label}`, '');
 * ```
 */
export function blobsFailed(
  failures: readonly { item: Descriptor; error: unknown }[],
  total: number,
  doing: string,
  after: string
): RunledgerError {
  const first = failures[0] as { item: Descriptor; error: unknown };
  const cause = first.error as RunledgerError;
  const message = `${failures.length} of ${total} blobs could not be ${doing}${after}; the first, ${first.item.digest}, failed: ${cause.message}`;
  // The first failure's facts (its digest, errno, Retry-After…), and which blobs failed.
  const data = {
    ...cause.data,
    failed: failures.length,
    total,
    digests: failures.slice(0, 100).map((f) => f.item.digest),
  };
  return sameKindError(cause, message, data);
}

/**
 * An error of the same kind and code as `cause`, with another message and data: a RemoteError
 * keeps the status, method, url and registry errors of the request that failed.
 * @param cause - the failure it reports
 * @param message - the new message
 * @param data - the new data
 * @returns the error, `cause` as its cause
 * @example
 * ```ts
 * throw sameKindError(first, `3 of 9 tags could not be pulled; …`, { failed: 3 });
 * ```
 */
export function sameKindError(
  cause: RunledgerError,
  message: string,
  data: Readonly<Record<string, unknown>>
): RunledgerError {
  if (cause instanceof RemoteError) {
    return new RemoteError(cause.code, message, {
      ...(cause.status === undefined ? {} : { status: cause.status }),
      method: cause.method,
      url: cause.url,
      registryErrors: cause.registryErrors,
      data,
      cause,
    });
  }
  return new RunledgerError(cause.code, message, { data, cause });
}
