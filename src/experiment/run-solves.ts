/**
 * @module experiment/run-solves
 * The solver and sampler calls of one open run: their ids, their records in id order, the
 * `openSolve` scopes still open, and what happens as each call is recorded (observers told, the
 * crash journal written, blobs first). A run that closes failed or interrupted while calls run
 * stops them (their adapters' signal fires); each is recorded as interrupted before the close
 * goes on, and its caller's promise is left pending: the run, and usually the process, is ending.
 */
import { RunledgerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobBatch } from '../store/blob-batch.js';
import type { Journal } from './journal.js';
import type { ObserverSet } from './logger.js';
import type { OpenSolve, SolveHost, SolveRecord } from './solve.js';

/** What a run's calls need from the run. */
export interface RunSolvesHost {
  readonly runId: number;
  readonly journal: Journal | undefined;
  readonly observers: ObserverSet;
  /** The experiment's reference, for observer events. */
  experiment(): string;
  /** Throws unless the run is open. */
  assertOpen(): void;
  /** The run's blob batch, opened on first use. */
  openBatch(): BlobBatch;
  /** The run's blob batch if it was opened. */
  currentBatch(): BlobBatch | undefined;
  /** Tracks a write until it lands (the run's close waits for it). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Starts a call's span, when the run is traced. */
  startSpan?: SolveHost['startSpan'];
}

/** The calls of one run. */
export class RunSolves {
  /** Solves, in solve id order. */
  readonly solves: SolveRecord[] = [];
  /** Samplings, in sampling id order. */
  readonly samplings: SolveRecord[] = [];
  readonly #nextIds = { solve: 0, sampling: 0 };
  readonly #open = new Set<OpenSolve>();
  /** Fires when the run closes while calls run; made on first use (most runs make no call). */
  #interrupt: AbortController | undefined;
  readonly #track: RunSolvesHost['track'];
  /** What solve.ts calls into. */
  readonly host: SolveHost;

  /** @param run - the run */
  constructor(run: RunSolvesHost) {
    const { runId, journal } = run;
    this.#track = (p) => run.track(p);
    const interrupt = (): AbortController => (this.#interrupt ??= new AbortController());
    this.host = {
      get interrupted() {
        return interrupt().signal;
      },
      assertOpen: () => run.assertOpen(),
      putBlob: (bytes) => run.openBatch().putBlob(bytes),
      publish: (digest) => run.track(run.openBatch().publishNow([digest])),
      nextId: (kind) => this.#nextIds[kind]++,
      ...(run.startSpan === undefined ? {} : { startSpan: run.startSpan }),
      record: (kind, record) => {
        this.adopt(kind, record);
        if (run.observers.active) {
          run.observers.emit('onSolve', {
            experiment: run.experiment(),
            runId,
            kind,
            solveId: record.id,
            adapter: record.adapter,
            status: record.status,
            time: Date.now(),
          });
        }
        if (journal === undefined) return Promise.resolve();
        const digests = [record.input, record.output, record.diagnostics]
          .filter((d): d is Descriptor => d !== undefined)
          .map((d) => d.digest);
        return run.track(
          journal.appendWithBlobs(
            { t: 'solve', run: runId, kind, record, at: Date.now() },
            run.currentBatch(),
            digests
          ) ?? Promise.resolve()
        );
      },
    };
  }

  /**
   * Tracks a `logSolve` / `logSample` call: the run's close waits until it is recorded. Its
   * result goes to the caller, except for a call the run's close stopped, whose promise stays
   * pending: rejecting it would hand the caller an error to crash on while the run is still
   * being checkpointed (a top-level `await` ends the process on a rejection at once).
   * @param call - the recording call
   * @returns what the caller awaits
   */
  call<T>(call: Promise<T>): Promise<T> {
    this.#track(call.then(noop, noop));
    return new Promise<T>((resolve, reject) => {
      call.then(resolve, (error: unknown) => {
        if (this.#interrupt?.signal.aborted !== true) reject(error);
      });
    });
  }

  /**
   * Stops the calls running: the run closes as failed or interrupted.
   * @param reason - why the run ends, e.g. `SIGINT`
   */
  interruptRunning(reason: string): void {
    (this.#interrupt ??= new AbortController()).abort(
      new RunledgerError('ABORTED', `The run closed (${reason}) while the call was running.`)
    );
  }

  /**
   * Adds a recorded call (also one a crash journal recorded), in id order.
   * @param kind - solve or sampling
   * @param record - the call
   */
  adopt(kind: 'solve' | 'sampling', record: SolveRecord): void {
    const list = kind === 'solve' ? this.solves : this.samplings;
    list.push(record);
    list.sort((a, b) => a.id - b.id);
    if (record.id >= this.#nextIds[kind]) this.#nextIds[kind] = record.id + 1;
  }

  /**
   * Remembers an `openSolve` scope until it is closed.
   * @param solve - the open solve
   * @returns it
   */
  opened<S extends OpenSolve>(solve: S): S {
    this.#open.add(solve);
    return solve;
  }

  /** Whether a solve opened by hand is still open (see {@link RunSolves.failOpen}). */
  get anyOpen(): boolean {
    return this.#open.size > 0;
  }

  /**
   * Fails every `openSolve` never closed (what it took in is recorded).
   * @param runId - the run closing
   */
  async failOpen(runId: number): Promise<void> {
    for (const solve of this.#open) {
      if (solve.outcome === undefined) {
        await solve.fail(new Error(`run ${runId} closed before the solve was`));
      }
    }
    this.#open.clear();
  }
}

function noop(): void {
  // settled either way
}
