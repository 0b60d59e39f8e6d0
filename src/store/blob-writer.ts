/**
 * @module store/blob-writer
 * The background blob writer: small blobs whose bytes a crash journal holds already are written
 * into the store by a worker thread (`store/blob-writer-thread`), so the thread recording runs
 * pays for neither the temp file nor the link — a run that logs a small JSON costs one journal
 * write where it cost seven file-system calls. One thread a process, started with the first such
 * blob and `unref`'d (it never keeps a process alive); one queue a store.
 *
 * Why nothing is lost: a blob is handed over only by a caller that writes its bytes into a crash
 * journal (`write(2)`) before its call returns (`BlobBatch.handOff`), so a killed process loses
 * none — a restore writes them from the journal. Each blob is pinned in its session before the
 * thread links it (GC keeps it from then on, as any pinned blob), and is flushed with the
 * session's next grouped flush once written, like the blobs the main thread writes. Whatever
 * needs the blobs in the store waits for them first ({@link settleWrites}): a reference's closure
 * check, every read of a blob, a session's flush. A blob the thread could not write is written on
 * the main thread when they are awaited, where a failure is an `IO_ERROR` and the bytes are kept
 * for the next try.
 *
 * The queue is bounded ({@link BlobWriter.accepts}): when the thread falls behind (a slow disk),
 * a logged attachment waits for room ({@link BlobWriter.room}) — creating files in the same
 * directories from two threads only makes both wait on them — and other writers write on the
 * main thread, as before.
 */
import { Worker } from 'node:worker_threads';
import { digestHex, type Digest } from '../oci/digest.js';
import { ownedTempName } from './owner.js';
import { runnableModule, threadExecArgv } from './threads.js';

/** A blob written to a temp file (`PendingBlob`): `stored` when the store held it already. */
interface TempBlob {
  readonly stored?: Uint8Array;
}

/** What the writer asks of a store's blobs (`BlobStore`). @internal */
export interface WriterBlobs {
  readonly root: string;
  readonly blobDir: string;
  readonly tmpDir: string;
  writeTempBytes(bytes: Uint8Array, options: { expectedDigest: Digest }): TempBlob;
  publish(p: TempBlob): Promise<void>;
  discard(pending: readonly TempBlob[]): Promise<void>;
}

/** What the writer asks of the session that pins a blob (`StoreSession`, `groupedFlush`). */
interface PinningSession {
  pin(digests: readonly Digest[]): void;
  published(digests: readonly Digest[], unflushed: readonly Digest[]): void;
}

/**
 * A group of blobs for the thread: written in order, answered together. Packed (one buffer, one
 * string) and the buffer transferred: a message of many small objects costs more to clone than
 * writing them does. @internal
 */
export interface WriteGroup {
  readonly id: number;
  readonly blobDir: string;
  readonly tmpDir: string;
  /** Its temp files' name, less a 4-hex-digit index (see `store/owner`'s `ownedTempName`). */
  readonly tempName: string;
  /** The blobs' SHA-256 digests in hex, one after another (64 characters each). */
  readonly hexes: string;
  /** Where each blob's bytes end in {@link WriteGroup.bytes} (the first starts at 0). */
  readonly ends: readonly number[];
  /** Every blob's bytes, one after another. */
  readonly bytes: ArrayBuffer;
}

/** The thread's answer to a group: per blob, null or why it could not be written. @internal */
export interface WriteAnswer {
  readonly id: number;
  readonly errors: readonly (string | null)[];
}

/** Bytes waiting or being written, at most (a store's queue): beyond, writers write themselves. */
const QUEUE_MAX_BYTES = 4 * 1024 * 1024;
/** Blobs waiting or being written, at most. */
const QUEUE_MAX_BLOBS = 256;
/** Blobs a group holds at most: a group this large is sent at once, a smaller one after a delay. */
const GROUP_MAX = 64;
/** How long a group gathers blobs before it is sent (their bytes are in a journal meanwhile). */
const GROUP_DELAY_MS = 5;

const THREAD_PROGRAM = new URL('./blob-writer-thread.js', import.meta.url);

interface Entry {
  readonly digest: Digest;
  readonly bytes: Uint8Array;
  readonly session: PinningSession;
  /** Its place in the order blobs were handed over. */
  readonly seq: number;
  /** Waiting for a group, in the thread, not written by it, or being written on this thread. */
  state: 'queued' | 'sent' | 'failed' | 'writing';
}

interface Group {
  readonly writer: BlobWriter;
  readonly entries: readonly Entry[];
}

/** The thread (started on first use), its groups in flight, and whether it can start at all. */
let thread: Worker | undefined;
let unavailable = false;
let nextGroup = 1;
const inFlight = new Map<number, Group>();
/** A writer a store root, made on first use. */
const writers = new Map<string, BlobWriter>();

function startThread(): Worker | undefined {
  if (thread !== undefined || unavailable) return thread;
  try {
    const worker = new Worker(runnableModule(THREAD_PROGRAM), {
      execArgv: threadExecArgv(process.execArgv),
    });
    worker.unref();
    worker.on('message', (answer: WriteAnswer) => answered(answer));
    const lost = (): void => {
      if (thread !== worker) return;
      thread = undefined;
      // Its groups in flight are written on the main thread when awaited.
      const groups = [...inFlight.values()];
      inFlight.clear();
      for (const g of groups) {
        for (const e of g.entries) if (e.state === 'sent') e.state = 'failed';
        g.writer.changed();
      }
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    thread = worker;
  } catch {
    // No thread (e.g. running from sources without a build): writers write themselves.
    unavailable = true;
  }
  return thread;
}

function answered(answer: WriteAnswer): void {
  const group = inFlight.get(answer.id);
  if (group === undefined) return;
  inFlight.delete(answer.id);
  group.writer.written(group.entries, answer.errors);
}

/**
 * The background writer of a store (see the module comment), made on first use.
 * @param blobs - the store's blobs
 * @returns its writer
 * @internal
 */
export function backgroundWriter(blobs: WriterBlobs): BlobWriter {
  let w = writers.get(blobs.root);
  if (w === undefined) {
    w = new BlobWriter(blobs);
    writers.set(blobs.root, w);
  }
  return w;
}

/**
 * Waits until every blob handed to the background writer of the store at `root` is in it.
 * @param root - the store root
 * @returns undefined when there is nothing to wait for, else when they are written
 * @throws RunledgerError `IO_ERROR` (a rejection) when one cannot be written (it is kept)
 * @internal
 */
export function settleWrites(root: string): Promise<void> | undefined {
  return writers.get(root)?.settle();
}

/**
 * `stream()`, once every blob handed to the background writer of the store at `root` is in it.
 * @internal
 */
export function afterWrites<T>(root: string, stream: () => AsyncIterable<T>): AsyncIterable<T> {
  const settling = settleWrites(root);
  if (settling === undefined) return stream();
  return (async function* () {
    await settling;
    yield* stream();
  })();
}

/** The background writer of one store. @internal */
export class BlobWriter {
  readonly #blobs: WriterBlobs;
  /** Every blob handed over and not written yet, by digest. */
  readonly #entries = new Map<Digest, Entry>();
  #queue: Entry[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  #lastSeq = 0;

  constructor(blobs: WriterBlobs) {
    this.#blobs = blobs;
  }

  /** Whether a blob of `size` bytes can be handed over now (the queue has room, a thread can run). */
  accepts(size: number): boolean {
    return (
      !unavailable && this.#entries.size < QUEUE_MAX_BLOBS && this.#bytes + size <= QUEUE_MAX_BYTES
    );
  }

  /**
   * Waits for room for a blob of `size` bytes while the thread works through a full queue (a
   * slow disk): a writer that waits lets the thread create the files, where writing them itself
   * would contend with it for the same directories.
   * @returns undefined when there is room, or nothing in the thread's hands would make some (then
   *   write on this thread); else when there is
   */
  room(size: number): Promise<void> | undefined {
    if (unavailable || this.accepts(size)) return undefined;
    this.#send();
    if (![...this.#entries.values()].some((e) => e.state === 'sent')) return undefined;
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.room(size) === undefined) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  /**
   * Hands a blob over: pinned in `session` and written by the thread soon. The caller keeps its
   * bytes somewhere a crash cannot take (a crash journal) before it acknowledges anything.
   * @param session - the session that pins it (a `groupedFlush` one: it flushes it once written)
   * @param digest - the digest of `bytes`
   * @param bytes - the content (not changed afterwards)
   */
  enqueue(session: PinningSession, digest: Digest, bytes: Uint8Array): void {
    if (this.#entries.has(digest)) return;
    const entry: Entry = { digest, bytes, session, seq: ++this.#lastSeq, state: 'queued' };
    this.#entries.set(digest, entry);
    this.#bytes += bytes.byteLength;
    this.#queue.push(entry);
    if (this.#queue.length >= GROUP_MAX) this.#send();
    else if (this.#timer === undefined) {
      // A message to the thread costs ~20 µs whatever it holds: blobs go in groups.
      this.#timer = setTimeout(() => this.#send(), GROUP_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Pins the queued blobs and sends them to the thread as one group. */
  #send(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const entries = this.#queue;
    if (entries.length === 0) return;
    this.#queue = [];
    try {
      // Pinned before the thread can link them: GC keeps them from the moment they exist.
      for (const [session, digests] of bySession(entries)) session.pin(digests);
    } catch {
      // The session file cannot be written: they are written (and pinned) when awaited, where
      // the failure is reported.
      for (const e of entries) e.state = 'failed';
      return;
    }
    const worker = startThread();
    if (worker === undefined) {
      for (const e of entries) e.state = 'failed';
      return;
    }
    const id = nextGroup++;
    let size = 0;
    for (const e of entries) size += e.bytes.byteLength;
    const bytes = new Uint8Array(size);
    const ends: number[] = [];
    let hexes = '';
    let off = 0;
    for (const e of entries) {
      bytes.set(e.bytes, off);
      off += e.bytes.byteLength;
      ends.push(off);
      hexes += digestHex(e.digest);
    }
    const group: WriteGroup = {
      id,
      blobDir: this.#blobs.blobDir,
      tmpDir: this.#blobs.tmpDir,
      tempName: ownedTempName('blob'),
      hexes,
      ends,
      bytes: bytes.buffer,
    };
    for (const e of entries) e.state = 'sent';
    inFlight.set(id, { writer: this, entries });
    worker.ref(); // a group in flight keeps the process alive, as any pending I/O would
    worker.postMessage(group, [bytes.buffer]);
  }

  /** The thread answered a group: written blobs go to their session (to flush), failed ones wait. */
  written(entries: readonly Entry[], errors: readonly (string | null)[]): void {
    const done: Entry[] = [];
    entries.forEach((e, i) => {
      if (e.state !== 'sent') return;
      if (errors[i] !== null) {
        e.state = 'failed';
        return;
      }
      this.#forget(e);
      done.push(e);
    });
    for (const [session, digests] of bySession(done)) session.published(digests, digests);
    if (inFlight.size === 0) thread?.unref();
    this.changed();
  }

  #forget(e: Entry): void {
    this.#entries.delete(e.digest);
    this.#bytes -= e.bytes.byteLength;
  }

  /** Wakes those waiting: a group was answered, or a blob written here. */
  changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** See {@link settleWrites}: waits for the blobs handed over so far, not those handed later. */
  settle(): Promise<void> | undefined {
    if (this.#entries.size === 0) return undefined;
    return this.#settleUpTo(this.#lastSeq);
  }

  async #settleUpTo(target: number): Promise<void> {
    for (;;) {
      // Entries are in the order they were handed over: those up to `target` come first.
      const mine: Entry[] = [];
      for (const e of this.#entries.values()) {
        if (e.seq > target) break;
        mine.push(e);
      }
      if (mine.length === 0) return;
      if (mine.some((e) => e.state === 'queued')) this.#send();
      const failed = mine.find((e) => e.state === 'failed');
      if (failed === undefined) {
        // In the thread, or written here by another wait: woken by its end.
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
        continue;
      }
      // What the thread could not write (or was never sent): written here, errors reported.
      await this.#writeHere(failed);
    }
  }

  async #writeHere(e: Entry): Promise<void> {
    e.state = 'writing';
    try {
      e.session.pin([e.digest]);
      const p = this.#blobs.writeTempBytes(e.bytes, { expectedDigest: e.digest });
      try {
        await this.#blobs.publish(p);
      } catch (err) {
        await this.#blobs.discard([p]);
        throw err;
      }
      this.#forget(e);
      e.session.published([e.digest], p.stored === undefined ? [e.digest] : []);
    } catch (err) {
      e.state = 'failed';
      throw err;
    } finally {
      this.changed();
    }
  }
}

function bySession(entries: readonly Entry[]): Map<PinningSession, Digest[]> {
  const out = new Map<PinningSession, Digest[]>();
  for (const e of entries) {
    let list = out.get(e.session);
    if (list === undefined) out.set(e.session, (list = []));
    list.push(e.digest);
  }
  return out;
}
