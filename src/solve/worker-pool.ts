/**
 * @module solve/worker-pool
 * The pool of worker threads solver calls run in, so a solve never blocks the event loop: as
 * many threads as the machine has cores (`os.availableParallelism()`), each started when a call
 * first needs it and reused by the next (a solver's module, and the WebAssembly it compiled, stay
 * loaded in its thread); calls beyond that wait their turn in order. An idle thread is `unref`'d,
 * so it never keeps a process alive; a thread running a call whose signal fires is terminated at
 * once (the call rejects with `ABORTED` without waiting for the solver) and replaced by a fresh
 * one when a call next needs it.
 *
 * Worker threads run JavaScript: the thread program and the adapters' modules are the compiled
 * files (`dist/`). When runledger itself runs from its TypeScript sources (vitest runs `src/`),
 * a `src/…` module is mapped to its compiled copy under `dist/src/…`, which `npm run build`
 * makes (and `npm test` runs first).
 */
import { availableParallelism } from 'node:os';
import { basename, dirname } from 'node:path';
import { Worker, type Transferable } from 'node:worker_threads';
import { RunledgerError } from '../errors.js';
import { runnableModule, threadExecArgv } from '../store/threads.js';
import { reviveError, type AnswerMessage, type CallMessage } from './worker-messages.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Threads at most. @default os.availableParallelism() */
  readonly size?: number;
}

/** A call's envelope: the message without its id, and how to name it in errors. */
export interface PoolCall {
  readonly message: Omit<CallMessage, 'id'>;
  /** Buffers moved to the thread rather than copied. */
  readonly transfer?: readonly Transferable[];
  /** Stops the call: a running one's thread is terminated. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * How a call ended in its thread: the output's data, or the error the function threw (revived);
 * either way the diagnostics reports it recorded.
 */
export type PoolAnswer =
  | Extract<AnswerMessage, { ok: true }>
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: Error;
      readonly reports: readonly unknown[];
    };

/** What {@link WorkerPool.stats} reports. */
export interface WorkerPoolStats {
  /** Threads alive now. */
  readonly threads: number;
  /** Threads running a call. */
  readonly busy: number;
  /** Calls waiting for a thread. */
  readonly queued: number;
  /** Threads started since the pool was made. */
  readonly started: number;
  /** Threads terminated because their call was aborted. */
  readonly terminated: number;
}

interface Job {
  readonly id: number;
  readonly call: PoolCall;
  readonly resolve: (answer: PoolAnswer) => void;
  readonly reject: (error: unknown) => void;
  onAbort?: (() => void) | undefined;
  thread?: Thread;
  startedAt?: number;
}

interface Thread {
  readonly worker: Worker;
  job: Job | undefined;
}

/** The thread program, compiled. */
const THREAD_PROGRAM = new URL('./worker-thread.js', import.meta.url);

/**
 * A pool of worker threads running solver calls (see the module comment).
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ size: 2 });
 * const answer = await pool.run({ message, signal });
 * await pool.close();
 * ```
 */
export class WorkerPool {
  /** Threads at most. */
  readonly size: number;
  readonly #threads = new Set<Thread>();
  readonly #queue: Job[] = [];
  #nextId = 0;
  #started = 0;
  #terminated = 0;

  /**
   * No thread starts before the first call.
   * @param options - size
   * @throws RunledgerError `ARGUMENT_INVALID` for a size that is not a positive integer
   */
  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `A worker pool's size must be a positive integer, got ${String(size)}.`,
        { data: { size } }
      );
    }
    this.size = size;
  }

  /** How many threads there are and what they do. */
  get stats(): WorkerPoolStats {
    let busy = 0;
    for (const t of this.#threads) if (t.job !== undefined) busy++;
    return {
      threads: this.#threads.size,
      busy,
      queued: this.#queue.length,
      started: this.#started,
      terminated: this.#terminated,
    };
  }

  /**
   * Runs a call in the first free thread (starting one when fewer than `size` run).
   * @param call - the message, buffers to transfer, signal
   * @returns the output's data, or the function's error; the reports
   * @throws RunledgerError `ABORTED` when the signal fires (the thread is terminated),
   *   `SOLVER_FAILED` when the thread dies, `DEPENDENCY_MISSING` when the thread program is not
   *   built, `ARGUMENT_INVALID` when the message cannot be copied to a thread
   */
  run(call: PoolCall): Promise<PoolAnswer> {
    return new Promise<PoolAnswer>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, call, resolve, reject };
      const signal = call.signal;
      if (signal !== undefined) {
        if (signal.aborted) {
          reject(abortError(job, 0));
          return;
        }
        job.onAbort = () => this.#abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  /**
   * Terminates every thread; running and waiting calls reject with `ABORTED`.
   * @returns once the threads have exited
   */
  async close(): Promise<void> {
    const threads = [...this.#threads];
    this.#threads.clear();
    for (const job of this.#queue.splice(0)) this.#settle(job, abortError(job, 0));
    for (const t of threads) {
      if (t.job !== undefined) this.#settle(t.job, abortError(t.job, elapsed(t.job)));
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let thread: Thread | undefined;
      for (const t of this.#threads) {
        if (t.job === undefined) {
          thread = t;
          break;
        }
      }
      if (thread === undefined) {
        if (this.#threads.size >= this.size) return;
        try {
          thread = this.#spawn();
        } catch (error) {
          for (const job of this.#queue.splice(0)) this.#settle(job, error);
          return;
        }
      }
      this.#start(thread, this.#queue.shift() as Job);
    }
  }

  #spawn(): Thread {
    const worker = new Worker(runnableModule(THREAD_PROGRAM), {
      execArgv: threadExecArgv(process.execArgv),
    });
    const thread: Thread = { worker, job: undefined };
    worker.unref();
    worker.on('message', (answer: AnswerMessage) => this.#answer(thread, answer));
    worker.on('error', (error: unknown) => this.#lost(thread, error));
    worker.on('exit', (code: number) => this.#lost(thread, code));
    this.#threads.add(thread);
    this.#started++;
    return thread;
  }

  #start(thread: Thread, job: Job): void {
    thread.job = job;
    job.thread = thread;
    job.startedAt = performance.now();
    // A busy thread keeps the process alive, as any pending I/O would.
    thread.worker.ref();
    try {
      thread.worker.postMessage({ ...job.call.message, id: job.id }, job.call.transfer);
    } catch (cause) {
      this.#release(thread);
      this.#settle(
        job,
        new RunledgerError(
          'ARGUMENT_INVALID',
          `The call to ${label(job)} cannot be sent to a worker thread: ${(cause as Error).message}`,
          { data: { module: job.call.message.module, export: job.call.message.export }, cause }
        )
      );
    }
  }

  #release(thread: Thread): void {
    thread.job = undefined;
    thread.worker.unref();
  }

  #answer(thread: Thread, answer: AnswerMessage): void {
    const job = thread.job;
    if (job === undefined || job.id !== answer.id) return;
    this.#release(thread);
    this.#settle(
      job,
      undefined,
      answer.ok ? answer : { ...answer, error: reviveError(answer.error) }
    );
    this.#dispatch();
  }

  #abort(job: Job): void {
    const thread = job.thread;
    if (thread === undefined) {
      const at = this.#queue.indexOf(job);
      if (at >= 0) this.#queue.splice(at, 1);
      this.#settle(job, abortError(job, 0));
      return;
    }
    if (thread.job !== job) return;
    // The solver cannot be asked to stop from outside its thread: end the thread (its call
    // settles now; the thread itself may take a moment more to go, e.g. while V8 finishes
    // optimizing its WebAssembly) and start a fresh one for the next call that needs it.
    this.#threads.delete(thread);
    this.#terminated++;
    thread.job = undefined;
    thread.worker.unref();
    void thread.worker.terminate();
    this.#settle(job, abortError(job, elapsed(job)));
    this.#dispatch();
  }

  #lost(thread: Thread, why: unknown): void {
    if (!this.#threads.delete(thread)) return;
    const job = thread.job;
    if (job !== undefined) {
      const how = typeof why === 'number' ? `exited with code ${why}` : `failed: ${String(why)}`;
      this.#settle(
        job,
        new RunledgerError(
          'SOLVER_FAILED',
          `The worker thread running ${label(job)} ${how} before answering.`,
          {
            data: { module: job.call.message.module, export: job.call.message.export },
            ...(typeof why === 'number' ? {} : { cause: why }),
          }
        )
      );
    }
    this.#dispatch();
  }

  /** Settles a job: with its answer, else rejected with `error`. */
  #settle(job: Job, error: unknown, answer?: PoolAnswer): void {
    if (job.onAbort !== undefined) job.call.signal?.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
    if (answer !== undefined) job.resolve(answer);
    else job.reject(error);
  }
}

/** `solveWithHighs (highs/thread.js)`: the function and the end of its module's path. */
function label(job: Job): string {
  const { module, export: name } = job.call.message;
  const path = new URL(module).pathname;
  return `${name} (${basename(dirname(path))}/${basename(path)})`;
}

function elapsed(job: Job): number {
  return job.startedAt === undefined ? 0 : Math.round(performance.now() - job.startedAt);
}

function abortError(job: Job, ms: number): RunledgerError {
  const { module, export: name } = job.call.message;
  const when =
    job.startedAt === undefined
      ? 'before it started'
      : `after ${ms} ms, and its worker thread was stopped`;
  return new RunledgerError('ABORTED', `The call to ${label(job)} was aborted ${when}.`, {
    data: { module, export: name, elapsedMs: ms },
    cause: job.call.signal?.reason,
  });
}

let shared: WorkerPool | undefined;

/**
 * The process's solve pool, made on first use (sized to the cores; no thread starts before a
 * call needs one).
 * @returns the pool
 * @example
 * ```ts
 * solvePool().stats.threads; // 0 until the first solve
 * ```
 */
export function solvePool(): WorkerPool {
  return (shared ??= new WorkerPool());
}
