/**
 * @module experiment/autosave
 * An experiment's checkpoint queue: checkpoint writes one after another, and the autosaves run
 * closes ask for — coalesced, paced when a crash journal already keeps the closed runs, and
 * reported rather than thrown when they fail. Nothing a user waits on waits out a pause.
 */
import { existsSync } from 'node:fs';
import { RunledgerError } from '../errors.js';
import { AutosavePolicy, AutosaveSchedule } from './checkpoint.js';

/** The shortest pause between background checkpoints (with a crash journal). */
const MIN_PAUSE_MS = 1000;

/** What the queue needs from its experiment. */
export interface AutosaveHost {
  /** Writes a `draft` checkpoint of the current state. */
  checkpoint(): Promise<unknown>;
  /** Whether an autosave may still write (the experiment is unsealed and not committing). */
  canSave(): boolean;
  /** Whether closed runs are already safe in a crash journal (autosaves may then be paced). */
  readonly journaled: boolean;
  /** The experiment's name, for the warning of a failed checkpoint. */
  reference(): string;
  /** The store's root: no warning once the store itself is gone. */
  readonly root: string;
}

/** The checkpoint writes of one experiment, one after another. */
export class CheckpointQueue {
  readonly #host: AutosaveHost;
  #schedule = new AutosaveSchedule(AutosavePolicy.everyRunClose());
  #queue: Promise<void> = Promise.resolve();
  #autosaveQueued: Promise<void> | undefined;
  #autosaveNotBefore = 0;
  #wake: (() => void) | undefined;
  /** Callers waiting on the queue (a checkpoint, a commit, a failing scope). */
  #waiters = 0;
  /** Why the last checkpoint attempt failed. */
  lastError: unknown;

  /** @param host - the experiment */
  constructor(host: AutosaveHost) {
    this.#host = host;
  }

  /** The autosave policy (`everyRunClose` until set). */
  get policy(): AutosavePolicy {
    return this.#schedule.policy;
  }

  /**
   * Sets the autosave policy; the schedule starts afresh.
   * @throws RunledgerError `ARGUMENT_INVALID` for anything but an {@link AutosavePolicy}
   */
  set policy(policy: AutosavePolicy) {
    if (!(policy instanceof AutosavePolicy)) {
      throw new RunledgerError('ARGUMENT_INVALID', 'setAutosavePolicy takes an AutosavePolicy.');
    }
    this.#schedule = new AutosaveSchedule(policy);
  }

  /**
   * A run closed: the autosave the policy asks for, if any.
   * @param now - the time of the close
   * @returns when the close may return: at once with a journal (the closed run is already safe
   *   there, within a second or at once with durable: 'always'); without one the checkpoint is
   *   the only way back, and the close waits for it, as in OMMX
   */
  runClosed(now: number): Promise<void> {
    if (!this.#schedule.runClosed(now)) return Promise.resolve();
    const saving = this.autosave();
    return this.#host.journaled ? Promise.resolve() : saving;
  }

  /**
   * Runs `fn` after every checkpoint write queued before it. A caller that waits (anything but a
   * background autosave) cuts short an autosave's pause, and keeps one queued before it from
   * pausing.
   * @param fn - the write
   * @param background - an autosave nobody waits on
   * @returns what `fn` returns
   */
  serial<T>(fn: () => Promise<T>, background = false): Promise<T> {
    this.#wake?.();
    if (!background) this.#waiters++;
    const p = this.#queue.then(() => {
      if (!background) this.#waiters--;
      return fn();
    });
    this.#queue = p.then(
      () => undefined,
      () => undefined
    );
    return p;
  }

  /**
   * An autosave: coalesced (run closes while one waits in the queue share it), errors reported,
   * not thrown. Resolves once the checkpoint holding the run that asked is written.
   * @returns when written (or failed, reported)
   */
  autosave(): Promise<void> {
    if (this.#autosaveQueued !== undefined) return this.#autosaveQueued;
    this.#autosaveQueued = this.serial(async () => {
      // With a journal, background checkpoints take at most a fifth of the time: each waits four
      // times as long as the previous one took, and at least a second — a checkpoint writes the
      // whole manifest, the one cost of recording that grows with the runs recorded, and the
      // journal keeps every close meanwhile (closes join it; anything else queued, a commit or an
      // explicit checkpoint, ends the wait).
      const wait = this.#autosaveNotBefore - Date.now();
      if (this.#host.journaled && wait > 0 && this.#waiters === 0) await this.#pause(wait);
      this.#autosaveQueued = undefined;
      if (!this.#host.canSave()) return;
      this.#schedule.attempted(Date.now());
      const schedule = this.#schedule;
      const started = Date.now();
      try {
        await this.#host.checkpoint();
        schedule.saved();
        this.lastError = undefined;
        this.#autosaveNotBefore = Date.now() + Math.max(4 * (Date.now() - started), MIN_PAUSE_MS);
      } catch (e) {
        this.failed(e, 'autosave');
      }
    }, true);
    return this.#autosaveQueued;
  }

  /**
   * A checkpoint that must not hide the error that caused it: queued, its failure reported.
   * @param write - the checkpoint write
   * @returns when written or reported
   */
  async quietly(write: () => Promise<unknown>): Promise<void> {
    await this.serial(write).catch((e: unknown) => this.failed(e, 'checkpoint'));
  }

  /**
   * A checkpoint that failed where it must not throw: kept and reported as a warning.
   * @param e - the error
   * @param what - which kind of checkpoint
   */
  failed(e: unknown, what: 'autosave' | 'checkpoint'): void {
    this.lastError = e;
    if (!existsSync(this.#host.root)) return; // the store itself was removed
    process.emitWarning(
      `runledger: ${what} of experiment ${this.#host.reference()} failed: ${(e as Error).message}`,
      { code: 'RUNLEDGER_AUTOSAVE' }
    );
  }

  /**
   * Waits for the queue to empty, letting no autosave pause meanwhile.
   * @returns when every checkpoint queued so far is written or failed
   */
  async settled(): Promise<void> {
    this.#wake?.();
    this.#waiters++;
    try {
      await this.#queue;
    } finally {
      this.#waiters--;
    }
  }

  /** A wait that anything queued after it cuts short. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}
