/**
 * @module experiment/journal
 * The crash journal of an unsealed experiment (beyond OMMX, which loses open runs on a crash):
 * an append-only file under `<root>/.runledger/journal/` of checksummed records — runs opened,
 * parameters, tags, metric points, attachments and solves of open runs, run closes, experiment
 * attachments and annotations. `Experiment.restoreFromCheckpoint` replays it after the process
 * died, so nothing logged before the last flush is lost.
 *
 * Its format is `journal-format`; what a dead process left is read back by `crash-journals`.
 *
 * Durability: a run close, an attachment or a solve is written (`write(2)`) before its call
 * returns, parameters, tags and metric points of open runs within 100 ms, so a killed process
 * loses no acknowledged close and at most 100 ms of an open run; one grouped flush follows within
 * a second (`durable: 'batched'`), or before each call returns (`durable: 'always'`), which
 * bounds what a power loss takes. Blobs a record names are in the store before the record is
 * written, or — the small ones a grouped-flush batch held in memory — their bytes are in the
 * record (`blobs`) and the store's background writer writes them after it (a restore writes them
 * from the journal when it did not); the grouped flush makes the content of the small ones the
 * store session left unflushed durable (one `syncfs`, in the background), then — with nothing in
 * between — the last few, `blobs/sha256`, the session's pins, and the journal.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Descriptor } from '../oci/types.js';
import type { Digest } from '../oci/digest.js';
import type { BlobBatch } from '../store/blob-batch.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { currentOwner } from '../store/owner.js';
import {
  coalesceParams,
  frames,
  journalDir,
  type CarryingRecord,
  type JournalRecord,
} from './journal-format.js';
import type { MetricLog } from './metrics.js';

/** How soon a logged write is durable. */
export type Durability = 'always' | 'batched';

/** Records that name blobs: `blobs/sha256` is fsynced before the journal that holds them. */
const NAMES_BLOBS = new Set(['att', 'solve', 'close', 'eatt']);
/** A buffered record (a parameter, a tag, metric points) reaches the OS within this. */
const WRITE_DELAY_MS = 100;
/** A written record reaches the disk within this (`durable: 'batched'`). */
const SYNC_DELAY_MS = 1000;
/**
 * Background rounds of a grouped flush before its blocking last step: each round flushes what
 * was published while the one before ran, so the last step blocks on a few blobs only.
 */
const FLUSH_ROUNDS = 3;
/** Blobs few enough for the blocking last step of a grouped flush (one `fdatasync` each). */
const FLUSH_LAST_STEP = 16;
/** Every journal of this process still open, flushed on exit. */
const live = new Set<Journal>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const j of live) j.flush();
  });
}

/** The files of this process's journals still being written. @internal */
export function liveJournalPaths(): Set<string> {
  return new Set([...live].map((j) => j.path));
}

/**
 * The journal of one unsealed experiment in this process. Created lazily: an experiment that
 * logs nothing leaves no file.
 *
 * Two failure models, two bounds. A process crash (SIGKILL, an uncaught exception, the OOM
 * killer) loses nothing acknowledged: a run close, an attachment or a solve is written to the
 * file (`write(2)`, so it is in the operating system) before its call returns, and parameters,
 * tags and metric points of open runs within {@link WRITE_DELAY_MS}. A power loss or kernel
 * crash loses at most what was written in the last {@link SYNC_DELAY_MS}: one grouped
 * `fdatasync` follows every write within that delay (`durable: 'always'` syncs before each call
 * returns instead).
 * @internal
 */
export class Journal {
  readonly #root: string;
  readonly #dir: string;
  readonly #blobDir: string;
  readonly #id: string;
  readonly #path: string;
  readonly #durable: Durability;
  #header: JournalRecord & { t: 'header' };
  #pending: JournalRecord[] = [];
  #fd: number | undefined;
  /** Bytes of whole frames in the file: a failed write is cut back to it. */
  #size = 0;
  #writeTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Written since the last fdatasync. */
  #unsynced = false;
  /** A record written since the last fdatasync names blobs: sync `blobs/sha256` first. */
  #namesBlobs = false;
  #dirSynced = false;
  /** The store session whose blobs and pins are made durable before the journal is. */
  #session: StoreSession | undefined;
  /** A grouped flush is under way (its background rounds). */
  #syncing = false;
  /** Writes accepted so far (records and metric points): what a checkpoint must cover. */
  #seq = 0;
  readonly #metrics = new Map<number, { log: MetricLog; done: number }>();
  #closed = false;
  #paused = false;

  constructor(
    registry: LocalRegistry,
    reference: string,
    base: Descriptor | undefined,
    durable: Durability
  ) {
    this.#root = registry.root;
    this.#dir = journalDir(registry);
    this.#blobDir = join(registry.root, 'blobs', 'sha256');
    this.#id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    this.#path = join(this.#dir, `${this.#id}.journal`);
    this.#durable = durable;
    this.#header = {
      t: 'header',
      v: 1,
      reference,
      pid: process.pid,
      host: hostname(),
      start: currentOwner().start,
      at: Date.now(),
      ...(base === undefined ? {} : { base }),
    };
    live.add(this);
    installExitHook();
  }

  /** The journal file (it exists once something was written). */
  get path(): string {
    return this.#path;
  }

  /** The file's name without `.journal` (`<pid>-<12 hex>`): names the store session too. */
  get id(): string {
    return this.#id;
  }

  /**
   * How many writes the journal has accepted. A checkpoint that captured this number covers
   * every one of them; a later, larger number means something acknowledged is not in it.
   */
  get seq(): number {
    return this.#seq;
  }

  /** Buffers a record of an open run: in the OS within {@link WRITE_DELAY_MS}. */
  append(record: JournalRecord): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    this.#pending.push(record);
    if (this.#durable === 'always') this.flush();
    else this.#scheduleWrite();
  }

  /** Writes a record (and everything buffered before it) now: in the OS when this returns. */
  appendNow(record: JournalRecord): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    this.#pending.push(record);
    if (this.#durable === 'always') this.flush();
    else if (this.#write()) this.#scheduleSync();
    else this.#scheduleWrite(); // kept; the warning is out, the timer retries
  }

  /**
   * Writes a record naming blobs of a batch not yet in the store: the small ones the batch holds
   * in memory go into the record (`blobs`, base64) and to the store's background writer; the
   * others are published first (content flushed). Either way the journal never names a blob
   * that neither the store nor the journal holds. The record is written now.
   * @returns undefined when done before it returned, else when done
   * @throws RunledgerError `IO_ERROR` (a rejection) when the blobs cannot be published (nothing
   *   is written)
   */
  appendWithBlobs(
    record: CarryingRecord,
    batch: BlobBatch | undefined,
    digests: readonly Digest[]
  ): Promise<void> | undefined {
    if (this.#closed || this.#paused) return undefined;
    const carried = batch?.handOff(digests);
    if (carried !== undefined) record.blobs = carried; // the caller's record, made for this call
    // Published on this thread when that is all it takes: then written now, and no promise.
    const publishing = batch?.publishEarly(digests);
    if (publishing !== undefined) return publishing.then(() => this.appendNow(record));
    this.appendNow(record);
    return undefined;
  }

  /**
   * Sets the store session whose blobs (those it left for a grouped flush) and pins are made
   * durable before the journal is, at every sync.
   */
  syncWith(session: StoreSession): void {
    this.#session = session;
  }

  /** Journals the metric points of an open run as they are logged (taken at each write). */
  watchMetrics(runId: number, log: MetricLog): void {
    this.#metrics.set(runId, { log, done: 0 });
  }

  /** A metric point was logged: written within {@link WRITE_DELAY_MS}. */
  metricLogged(): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    if (this.#durable === 'always') this.flush();
    else this.#scheduleWrite();
  }

  /** While paused nothing is journaled (a restore replays into a checkpoint instead). */
  pause(paused: boolean): void {
    this.#paused = paused;
  }

  /** Stops journaling a run's points (it closed: its metrics attachment holds them). */
  unwatchMetrics(runId: number): void {
    this.#metrics.delete(runId);
  }

  #scheduleWrite(): void {
    if (this.#writeTimer !== undefined) return;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = undefined;
      if (this.#write()) this.#scheduleSync();
      else if (this.#pending.length > 0) this.#scheduleWrite();
    }, WRITE_DELAY_MS);
    this.#writeTimer.unref();
  }

  #scheduleSync(): void {
    if (this.#syncTimer !== undefined || !this.#unsynced || this.#syncing) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      void this.#groupSync();
    }, SYNC_DELAY_MS);
    this.#syncTimer.unref();
  }

  /**
   * The grouped flush: the session's unflushed blobs in the background (one `syncfs` for many,
   * the event loop free), round after round while many more were published meanwhile, then the
   * blocking last step ({@link Journal.#sync}), which nothing can interleave with.
   */
  async #groupSync(): Promise<void> {
    if (this.#syncing || this.#closed) return;
    this.#syncing = true;
    try {
      const session = this.#session;
      for (let round = 0; session !== undefined && round < FLUSH_ROUNDS; round++) {
        if (session.unflushed <= FLUSH_LAST_STEP) break;
        await session.flush();
      }
    } catch {
      // The blocking step below flushes these blobs again; a failure there is reported, retried.
    } finally {
      this.#syncing = false;
    }
    if (!this.#closed) this.#sync();
  }

  /**
   * Writes what is buffered (records, then new metric points of open runs) with one `write(2)`.
   * A write error is reported as a process warning; the file is cut back to its last whole
   * frame and the records are kept for the next try.
   * @returns false when something could not be written
   */
  #write(): boolean {
    if (this.#paused) return true;
    if (this.#writeTimer !== undefined) {
      clearTimeout(this.#writeTimer);
      this.#writeTimer = undefined;
    }
    const at = Date.now();
    const metricRecords: JournalRecord[] = [];
    const progress: [{ done: number }, number][] = [];
    for (const [run, m] of this.#metrics) {
      if (m.log.size === m.done) continue;
      const p = m.log.since(m.done);
      metricRecords.push({
        t: 'metrics',
        run,
        names: [...p.names],
        ids: p.ids,
        steps: p.steps,
        ts: p.timestamps,
        values: p.values,
        at,
      });
      progress.push([m, m.log.size]);
    }
    const records = [...coalesceParams(this.#pending), ...metricRecords];
    if (records.length === 0) return true;
    const first = this.#fd === undefined;
    const buf = frames(first ? [this.#header, ...records] : records);
    try {
      if (first) {
        // Not recursive: a store whose .runledger is gone is not recreated here.
        try {
          mkdirSync(this.#dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        this.#fd = openSync(this.#path, 'a');
      }
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(this.#fd as number, buf, off);
      } catch (e) {
        // A torn frame would end the readable journal: later records would be unreadable.
        ftruncateSync(this.#fd as number, this.#size);
        throw e;
      }
      this.#size += buf.length;
    } catch (e) {
      if (!existsSync(this.#root)) {
        // The store itself is gone (a temporary one, removed): nothing left to protect.
        this.#end();
        return true;
      }
      if (first && this.#fd !== undefined && this.#size === 0) {
        closeSync(this.#fd);
        this.#fd = undefined;
      }
      process.emitWarning(
        `runledger: the crash journal ${this.#path} could not be written (${(e as Error).message}); retrying with the next write.`,
        { code: 'RUNLEDGER_JOURNAL' }
      );
      return false;
    }
    this.#pending = [];
    for (const r of records) if (NAMES_BLOBS.has(r.t)) this.#namesBlobs = true;
    this.#unsynced = true;
    for (const [m, done] of progress) m.done = done;
    return true;
  }

  /**
   * Makes what was written durable, blocking: the session's blobs left unflushed and its pins,
   * `blobs/sha256` when a record names blobs, then the journal.
   */
  #sync(): void {
    if (this.#syncTimer !== undefined) {
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
    }
    if (!this.#unsynced || this.#fd === undefined) return;
    try {
      // Blob contents, pins, then blob names, then the journal: a durable record never names a
      // blob that a power loss could leave empty, unpinned or unnamed.
      this.#session?.sync();
      if (this.#namesBlobs) syncDirectory(this.#blobDir);
      fdatasyncSync(this.#fd);
      if (!this.#dirSynced) {
        syncDirectory(this.#dir);
        this.#dirSynced = true;
      }
    } catch (e) {
      if (!existsSync(this.#root)) {
        this.#end();
        return;
      }
      process.emitWarning(
        `runledger: the crash journal ${this.#path} could not be flushed to disk (${(e as Error).message}); retrying.`,
        { code: 'RUNLEDGER_JOURNAL' }
      );
      this.#scheduleSync();
      return;
    }
    this.#unsynced = false;
    this.#namesBlobs = false;
  }

  /**
   * Writes what is buffered and makes it durable (synchronous: it runs in the exit hook too).
   */
  flush(): void {
    if (this.#paused || this.#closed) return;
    this.#write();
    this.#sync();
  }

  #end(): void {
    this.#closed = true;
    live.delete(this);
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#writeTimer = undefined;
    this.#syncTimer = undefined;
  }

  /**
   * Stops journaling; with `remove`, deletes the file (its content is in a checkpoint or commit),
   * else writes and syncs what is buffered first.
   */
  async close(remove: boolean): Promise<void> {
    if (this.#closed) return;
    if (!remove) this.flush();
    this.#end();
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
      if (remove) await unlink(this.#path).catch(() => undefined);
    }
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
