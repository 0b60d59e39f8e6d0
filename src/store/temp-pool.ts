/**
 * @module store/temp-pool
 * Empty temp files created ahead of need, for a writer of many small blobs. Creating a file is
 * the costliest step of writing a small blob (0.4–0.7 ms for each `open(O_CREAT)` on this ext4
 * while other processes keep its journal busy, against ~10 µs for the write and ~30 µs for the
 * link that publishes it), so once blobs come fast the pool keeps a few created in the thread
 * pool, off the writer's path. Its files live in `.runledger/tmp-spare/` and carry their
 * writer in their names: unused ones are removed when writes stop for a while and at exit, and
 * those a killed process left are removed by GC as any abandoned temp file.
 */
import * as fs from 'node:fs';
import { closeSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ownedTempName } from './owner.js';

/** Files kept ready. */
const TARGET = 32;
/** Creates in flight at once (one directory: more only queue on its lock). */
const CONCURRENCY = 4;
/** Takes within one idle period that start the pool. */
const WARM = 8;
/** Unused this long, the pool removes its files. */
const IDLE_MS = 2000;

const fdClose = promisify(fs.close);

/** The directory of a store's spare temp files. */
export function spareDir(root: string): string {
  return join(root, '.runledger', 'tmp-spare');
}

/** A created, empty, open temp file. */
export interface SpareFile {
  readonly path: string;
  readonly fd: number;
}

const pools = new Set<TempPool>();
let exitHook = false;

/** Spare temp files of one store (see the module comment). @internal */
export class TempPool {
  readonly #dir: string;
  readonly #ready: SpareFile[] = [];
  #creating = 0;
  /** Takes since the last idle check. */
  #takes = 0;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #failed = false;

  /** @param root - the store root */
  constructor(root: string) {
    this.#dir = spareDir(root);
  }

  /**
   * A spare temp file, if one is ready (the caller then owns it); each take also keeps the pool
   * filling while takes come fast.
   * @returns the file, or undefined: create one yourself
   */
  take(): SpareFile | undefined {
    this.#takes++;
    const file = this.#ready.pop();
    if (this.#takes >= WARM) this.#fill();
    this.#watch();
    return file;
  }

  #fill(): void {
    if (this.#failed) return;
    if (!this.#started) {
      try {
        mkdirSync(this.#dir); // not recursive: a store whose .runledger is gone stays gone
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          this.#failed = true;
          return;
        }
      }
      this.#started = true;
      pools.add(this);
      installExitHook();
    }
    while (this.#creating < CONCURRENCY && this.#ready.length + this.#creating < TARGET) {
      this.#create();
    }
  }

  #create(): void {
    const path = join(this.#dir, ownedTempName('blob'));
    this.#creating++;
    // The callback form: no promise per file (each costs ~20 µs more with async hooks on).
    fs.open(path, 'wx', 0o644, (error, fd) => {
      this.#creating--;
      if (error !== null) {
        // No spares, then (a full disk, a removed store): writers create their own files.
        this.#failed = true;
        return;
      }
      if (this.#timer === undefined) {
        // Drained meanwhile (no writes for a while): not kept.
        fs.close(fd, () => fs.unlink(path, () => undefined));
        return;
      }
      this.#ready.push({ path, fd });
      if (this.#takes >= WARM) this.#fill();
    });
  }

  /** Checks every idle period whether the pool is still used; if not, removes its files. */
  #watch(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#takes > 0) {
        this.#takes = 0;
        return;
      }
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#failed = false;
      void this.#drain();
    }, IDLE_MS);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    const files = this.#ready.splice(0);
    await Promise.all(
      files.map(async (f) => {
        await fdClose(f.fd).catch(() => undefined);
        await fs.promises.unlink(f.path).catch(() => undefined);
      })
    );
  }

  /** Removes the spare files now (the process is exiting). */
  drainSync(): void {
    for (const f of this.#ready.splice(0)) {
      try {
        closeSync(f.fd);
      } catch {
        // closed already
      }
      try {
        unlinkSync(f.path);
      } catch {
        // gone already
      }
    }
  }
}

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of pools) p.drainSync();
  });
}
