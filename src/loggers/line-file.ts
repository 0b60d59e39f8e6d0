/**
 * @module loggers/line-file
 * An append-only text file written a batch of lines at a time: lines given in one turn of the
 * event loop go out in one `write` at the end of that turn (or sooner past 64 KiB), so a log
 * streams as it happens without a system call per line. Writes are synchronous — the order of the
 * lines is the order they were given, and `flush()` has written everything when it returns — and
 * nothing is fsynced but at `close()`: a log, not a ledger.
 */
import { closeSync, fdatasync, openSync, writeSync } from 'node:fs';
import { RunledgerError } from '../errors.js';

/** Pending text that makes a write happen at once rather than at the end of the turn. */
const FLUSH_AT = 64 * 1024;

/**
 * An open append-only text file.
 *
 * @example
 * ```ts
 * const file = new LineFile('events.jsonl', { append: true });
 * file.write('{"a":1}\n');
 * await file.close();
 * ```
 */
export class LineFile {
  /** The file. */
  readonly path: string;
  #fd: number | undefined;
  #pending: string[] = [];
  #pendingLength = 0;
  #scheduled: NodeJS.Immediate | undefined;
  /** Why a write at the end of a turn failed, thrown by the next flush. */
  #error: unknown;
  /** The close under way or done. */
  #close: Promise<void> | undefined;

  /**
   * Opens (creates) the file.
   * @param path - where
   * @param options - append (else the file is truncated)
   * @throws RunledgerError `IO_ERROR` when it cannot be opened
   */
  constructor(path: string, options: { readonly append: boolean }) {
    this.path = path;
    try {
      this.#fd = openSync(path, options.append ? 'a' : 'w');
    } catch (e) {
      throw this.#ioError('open', e);
    }
  }

  /** Whether {@link LineFile.close} was called. */
  get closed(): boolean {
    return this.#close !== undefined;
  }

  /**
   * Queues text (whole lines, each ending in `\n`).
   * @param text - the lines
   * @throws RunledgerError `IO_ERROR` when the file is closed, or a write past 64 KiB fails
   */
  write(text: string): void {
    if (this.#close !== undefined) {
      throw new RunledgerError('IO_ERROR', `The log ${this.path} is closed.`, {
        data: { path: this.path },
      });
    }
    this.#pending.push(text);
    this.#pendingLength += text.length;
    if (this.#pendingLength >= FLUSH_AT) {
      this.flush();
    } else {
      this.#scheduled ??= setImmediate(() => {
        this.#scheduled = undefined;
        try {
          this.flush();
        } catch (e) {
          this.#error ??= e; // no caller to tell now: the next flush throws it
        }
      });
    }
  }

  /**
   * Writes every queued line now (to the operating system; no fsync).
   * @throws RunledgerError `IO_ERROR` when this write, or an earlier one made at the end of a
   *   turn, failed
   */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const failed = this.#error;
    if (failed !== undefined) {
      this.#error = undefined;
      throw failed;
    }
    if (this.#pending.length === 0 || this.#fd === undefined) return;
    const bytes = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    this.#pendingLength = 0;
    try {
      let written = 0;
      while (written < bytes.length) {
        written += writeSync(this.#fd, bytes, written, bytes.length - written);
      }
    } catch (e) {
      throw this.#ioError('write', e);
    }
  }

  /**
   * Writes what is queued, makes the file durable (one fdatasync) and closes it; later writes
   * are refused, and the second call returns the first one's promise.
   * @returns when closed
   * @throws RunledgerError `IO_ERROR`
   */
  close(): Promise<void> {
    this.#close ??= this.#closeNow();
    return this.#close;
  }

  async #closeNow(): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      this.flush();
      await new Promise<void>((resolve, reject) =>
        fdatasync(fd, (e) => (e === null ? resolve() : reject(this.#ioError('sync', e))))
      );
    } finally {
      this.#fd = undefined;
      closeSync(fd);
    }
  }

  #ioError(what: 'open' | 'write' | 'sync', cause: unknown): RunledgerError {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    return new RunledgerError('IO_ERROR', `Cannot ${what} the log ${this.path}${why}.`, {
      cause,
      data: { path: this.path },
    });
  }
}
