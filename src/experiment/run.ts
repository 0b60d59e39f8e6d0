/**
 * @module experiment/run
 * An open run: parameters and attachments are logged into it until it closes, then it is
 * immutable. Its blobs are made durable together when it closes.
 */
import { RunledgerError } from '../errors.js';
import type { BlobBatch, LocalRegistry } from '../store/local-registry.js';
import {
  AttachmentWriter,
  type AttachmentRecord,
  type LogAttachmentOptions,
  type LogFileOptions,
} from './attachments.js';
import type { AttachmentCodec } from './codec.js';
import type { RunStatus } from './config.js';
import type { ParameterValue } from './parameters.js';

/** What an open run needs from its experiment. @internal */
export interface RunHost {
  readonly registry: LocalRegistry;
  /** Validates and records a parameter of an open run. */
  logParameter(runId: number, name: string, value: ParameterValue): void;
  /** Called once when the run closes, after its blobs are durable. */
  closed(run: ClosedRunState): void;
}

/** A run's state at close. @internal */
export interface ClosedRunState {
  readonly runId: number;
  readonly status: RunStatus;
  readonly reason: string | undefined;
  readonly attachments: ReadonlyMap<string, AttachmentRecord>;
}

const MAX_REASON = 512;

/**
 * OMMX's failure reason: `"<ErrorName>: <message>"` (just the name when the message is blank),
 * whitespace collapsed, at most 512 characters ending in `…` when cut.
 * @param error - what was thrown
 * @returns the reason text
 * @example
 * ```ts
 * failureReason(new TypeError('bad  input')); // 'TypeError: bad input'
 * ```
 */
export function failureReason(error: unknown): string {
  const name =
    error instanceof Error
      ? error.name || error.constructor.name || 'Error'
      : typeof error === 'object' && error !== null
        ? (error.constructor?.name ?? 'Object')
        : typeof error;
  const message = (error instanceof Error ? error.message : String(error))
    .replace(/\s+/g, ' ')
    .trim();
  const text = message.length === 0 ? name : `${name}: ${message}`;
  const chars = [...text];
  return chars.length <= MAX_REASON ? text : `${chars.slice(0, MAX_REASON - 1).join('')}…`;
}

/**
 * An open run. Get one from `experiment.run(fn)` (closed for you) or `experiment.startRun()`
 * (close it with `finish()`, or `await using` it).
 *
 * @example
 * ```ts
 * await exp.run(async (run) => {
 *   run.logParameter('solver', 'highs');
 *   await run.logJson('settings', { presolve: true });
 * });
 * ```
 */
export class Run {
  /** Allocated when the run opened, from 0. */
  readonly runId: number;
  readonly #host: RunHost;
  readonly #writer: AttachmentWriter;
  readonly #inflight = new Set<Promise<unknown>>();
  #batch: BlobBatch | undefined;
  #closing = false;
  #closed = false;

  /** @internal Use `experiment.run()` or `experiment.startRun()`. */
  constructor(runId: number, host: RunHost) {
    this.runId = runId;
    this.#host = host;
    this.#writer = new AttachmentWriter(
      `run ${runId}`,
      {
        registry: host.registry,
        batch: () => (this.#batch ??= host.registry.batch()),
        flush: async () => undefined,
      },
      () => this.#assertOpen()
    );
  }

  /** Whether the run is closed (finished, failed or interrupted). */
  get closed(): boolean {
    return this.#closed || this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed || this.#closing) {
      throw new RunledgerError(
        'RUN_CLOSED',
        `Run ${this.runId} is closed; it cannot be changed any more.`,
        {
          data: { runId: this.runId },
        }
      );
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Logs a scalar parameter, validated now: name non-empty, ≤ 256 characters, no control
   * characters; value a boolean, a number (integers are int64, others float64; NaN and ±Infinity
   * kept), a bigint in int64 range, or a string. Its type must agree with the column's type in
   * other runs (int64 promotes to float64). Logging a name again is allowed only with the same value.
   *
   * @param name - the parameter name
   * @param value - the value
   * @throws RunledgerError `PARAMETER_INVALID`, `PARAMETER_TYPE_CONFLICT`, `RUN_CLOSED`
   * @example
   * ```ts
   * run.logParameter('time_limit', 20);
   * ```
   */
  logParameter(name: string, value: ParameterValue): void {
    this.#assertOpen();
    this.#host.logParameter(this.runId, name, value);
  }

  /**
   * Logs bytes under a media type.
   * @param name - unique in this run
   * @param mediaType - the media type
   * @param bytes - the content
   * @param options - compression
   * @returns when the bytes are written (durable when the run closes)
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `NAME_RESERVED`, `RUN_CLOSED`
   */
  logAttachment(
    name: string,
    mediaType: string,
    bytes: Uint8Array,
    options?: LogAttachmentOptions
  ): Promise<void> {
    return this.#track(this.#writer.logAttachment(name, mediaType, bytes, options));
  }

  /**
   * Logs a JSON value (canonical JSON, `application/json`).
   * @param name - unique in this run
   * @param value - plain JSON data
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID` for non-JSON values, `ATTACHMENT_EXISTS`, `RUN_CLOSED`
   */
  logJson(name: string, value: unknown, options?: LogAttachmentOptions): Promise<void> {
    return this.#track(this.#writer.logJson(name, value, options));
  }

  /**
   * Logs UTF-8 text (`text/plain; charset=utf-8`).
   * @param name - unique in this run
   * @param text - the text
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `ATTACHMENT_EXISTS`, `RUN_CLOSED`
   */
  logText(name: string, text: string, options?: LogAttachmentOptions): Promise<void> {
    return this.#track(this.#writer.logText(name, text, options));
  }

  /**
   * Logs a file, streamed; media type from magic bytes, then extension; basename kept.
   * @param name - unique in this run
   * @param path - a regular file
   * @param options - mediaType, filename, compression, signal, onProgress
   * @returns when written
   * @throws RunledgerError `ARGUMENT_INVALID`, `IO_ERROR`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`
   */
  logFile(name: string, path: string, options?: LogFileOptions): Promise<void> {
    return this.#track(this.#writer.logFile(name, path, options));
  }

  /**
   * Logs a value through a codec.
   * @param codec - the codec
   * @param name - unique in this run
   * @param value - the value
   * @param options - compression
   * @returns when written
   * @throws RunledgerError `CODEC_INVALID`, `ATTACHMENT_EXISTS`, `RUN_CLOSED`; codec errors pass through
   */
  logWithCodec<T>(
    codec: AttachmentCodec<T>,
    name: string,
    value: T,
    options?: LogAttachmentOptions
  ): Promise<void> {
    return this.#track(this.#writer.logWithCodec(codec, name, value, options));
  }

  /**
   * Closes the run as finished.
   * @returns when its blobs are durable and the experiment records it
   * @throws RunledgerError `RUN_CLOSED` when already closed; `IO_ERROR` when its blobs cannot
   *   be made durable — the run then stays open with everything logged, and `finish()` can be
   *   called again
   */
  finish(): Promise<void> {
    return this.close('finished', undefined);
  }

  /** Closes the run as failed ("disposed before finish()") unless it was finished. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.close('failed', 'disposed before finish()');
  }

  /**
   * Closes the run with a status. Waits for attachment writes in flight, makes the run's blobs
   * durable in one step, then hands it to the experiment.
   * @internal
   */
  async close(status: RunStatus, reason: string | undefined): Promise<void> {
    this.#assertOpen();
    this.#closing = true;
    await Promise.allSettled([...this.#inflight]);
    // Content is flushed now; the directory entries become durable with the next manifest
    // written to the store (commit or checkpoint), which fsyncs blobs/sha256 before its ref.
    try {
      await this.#batch?.commit({ syncDirectory: false });
    } catch (e) {
      // Nothing logged is lost: the run stays open and finish() can be called again once the
      // cause (a full disk, say) is fixed.
      this.#closing = false;
      throw e;
    }
    this.#closed = true;
    this.#host.closed({
      runId: this.runId,
      status,
      reason,
      attachments: new Map(this.#writer.records),
    });
  }
}
