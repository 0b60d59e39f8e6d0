/**
 * @module store/gc
 * Mark-and-sweep garbage collection of a local registry. Roots: the closure of every reference
 * (following `subject` chains), and the pins of every session whose pins count — a live
 * writer's, or a dead one's that backs a crash journal (see `store/session`). Unmarked blobs
 * older than a grace period are reported, and with `delete` removed chunk by chunk under the
 * store lock; abandoned temp files and lock files of ended processes likewise.
 *
 * Why a blob is never lost to a racing writer: a writer pins a blob (one `write(2)`) before it
 * publishes it or re-uses an existing copy. Under the lock GC moves each candidate aside to
 * `.runledger/trash/` (an atomic rename), then reads the pins again: a blob pinned meanwhile is
 * put back (no-clobber link), the rest unlinked. A writer that pinned before the rename is seen by
 * that second read; one that pinned after it finds the blob gone and links its own copy. A
 * reference can never be published over a trashed blob: `publishRef` checks the closure under
 * the same lock.
 */
import { link, lstat, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { settleWrites } from './blob-writer.js';
import { walkClosure } from './closure.js';
import { dropDerived } from './derived.js';
import { parseDuration } from './duration.js';
import { readRefTable, type RefTable } from './index-json.js';
import type { StoreContext } from './context.js';
import { LOCK_CANDIDATE_NAME, lockCandidateAbandoned } from './lock.js';
import { tempOwnerState } from './owner.js';
import { SessionScan } from './session.js';
import type { GcOptions, GcReport } from './types.js';

const GC_CHUNK = 256;

interface Candidate {
  readonly digest: Digest;
  readonly size: number;
}

/**
 * Runs GC over a store (see `LocalRegistry.gc`).
 * @internal
 */
export async function collectGarbage(store: StoreContext, options: GcOptions): Promise<GcReport> {
  const grace =
    typeof options.gracePeriod === 'number'
      ? options.gracePeriod
      : parseDuration(options.gracePeriod ?? '24h');
  if (!Number.isFinite(grace) || grace < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Grace period ${grace} ms is not a non-negative number.`
    );
  }
  const now = options.now ?? Date.now();
  // What this process's background writer holds is written (and pinned) first.
  await settleWrites(store.root);
  const sessions = new SessionScan(store.root);
  const marks = new Marks(store);
  let table = await readRefTable(store.root);
  await marks.addRefs(table);
  await marks.addRoots(await sessions.refresh());
  const sessionCounts = sessions.counts();
  const digests = await store.blobs.list();
  const reachable = { count: 0, size: 0 };
  const pinned = { count: 0, size: 0 };
  const deferred = { count: 0, size: 0 };
  const candidates: Candidate[] = [];
  for (const digest of digests) {
    throwIfAborted(options.signal);
    const s = await store.blobs.stat(digest);
    if (s === undefined) continue;
    const tally = marks.byRef(digest)
      ? reachable
      : marks.byPin(digest) || sessions.has(digest)
        ? pinned
        : now - s.mtimeMs >= grace
          ? undefined
          : deferred;
    if (tally === undefined) {
      candidates.push({ digest, size: s.size });
    } else {
      tally.count++;
      tally.size += s.size;
    }
  }
  const temps = await findAbandoned(store, grace, now);
  const deleted = { count: 0, size: 0 };
  let tempFilesRemoved = 0;
  if (options.delete === true) {
    // What a GC killed mid-chunk left aside goes back first: it may be pinned by now.
    await store.lock(() => restoreTrash(store), options.signal);
    for (let i = 0; i < candidates.length; i += GC_CHUNK) {
      const chunk = candidates.slice(i, i + GC_CHUNK);
      await store.lock(async () => {
        const latest = await readRefTable(store.root);
        if (latest !== table) {
          table = latest;
          await marks.addRefs(table);
        }
        await marks.addRoots(await sessions.refresh());
        const gone = await sweep(store, chunk, { marks, sessions, grace, signal: options.signal });
        for (const c of gone) {
          deleted.count++;
          deleted.size += c.size;
        }
      }, options.signal);
    }
    await store.lock(async () => {
      tempFilesRemoved = await removeAbandoned(store, grace);
      // Derived files (cached tables) go with the manifests they derive from.
      await dropDerived(
        store.root,
        async (digest) => (await store.blobs.stat(digest)) !== undefined
      );
      await sessions.refresh();
      for (const path of sessions.ended()) await unlink(path).catch(() => undefined);
    }, options.signal);
  }
  return {
    dryRun: options.delete !== true,
    refs: table.named.size,
    reachable,
    pinned,
    sessions: sessionCounts,
    candidates: {
      count: candidates.length,
      size: candidates.reduce((a, c) => a + c.size, 0),
      digests: candidates.map((c) => c.digest),
    },
    deferred,
    deleted,
    missing: marks.missing(),
    tempFiles: { count: temps.length, size: temps.reduce((a, t) => a + t.size, 0) },
    tempFilesRemoved,
  };
}

/** The marked blobs: closures of references, and of manifests sessions pinned as roots. */
class Marks {
  readonly #store: StoreContext;
  readonly #refs = new Set<Digest>();
  readonly #pins = new Set<Digest>();
  readonly #missing = new Set<Digest>();

  constructor(store: StoreContext) {
    this.#store = store;
  }

  /** Marks the closures of the table's references not marked yet (closures never change). */
  async addRefs(table: RefTable): Promise<void> {
    const fresh = [...table.named.values(), ...table.unnamed].filter(
      (d) => !this.#refs.has(d.digest)
    );
    if (fresh.length === 0) return;
    const c = await walkClosure(this.#store.blobs, fresh, { subjects: true });
    for (const d of [...c.present.keys(), ...c.wrongSize.keys()]) this.#refs.add(d);
    for (const d of c.missing.keys()) this.#missing.add(d);
  }

  async addRoots(roots: readonly Descriptor[]): Promise<void> {
    const fresh = roots.filter((d) => !this.#pins.has(d.digest));
    if (fresh.length === 0) return;
    const c = await walkClosure(this.#store.blobs, fresh, { subjects: true });
    for (const d of [...c.present.keys(), ...c.wrongSize.keys()]) this.#pins.add(d);
  }

  byRef(d: Digest): boolean {
    return this.#refs.has(d);
  }

  byPin(d: Digest): boolean {
    return this.#pins.has(d);
  }

  has(d: Digest): boolean {
    return this.#refs.has(d) || this.#pins.has(d);
  }

  /** Referenced blobs that are absent, sorted. */
  missing(): Digest[] {
    return [...this.#missing].sort();
  }
}

function trashDir(store: StoreContext): string {
  return join(store.root, '.runledger', 'trash');
}

/**
 * Removes the chunk's blobs that are still garbage (under the lock): moved aside, pins read
 * again, put back when pinned meanwhile, else unlinked.
 * @returns the candidates removed
 */
async function sweep(
  store: StoreContext,
  chunk: readonly Candidate[],
  ctx: { marks: Marks; sessions: SessionScan; grace: number; signal: AbortSignal | undefined }
): Promise<Candidate[]> {
  const dir = trashDir(store);
  await mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw ioError(e, 'create', dir);
  });
  const aside: Candidate[] = [];
  const trashPath = (d: Digest): string => join(dir, d.slice('sha256:'.length));
  try {
    for (const c of chunk) {
      throwIfAborted(ctx.signal);
      if (ctx.marks.has(c.digest) || ctx.sessions.has(c.digest)) continue;
      const s = await store.blobs.stat(c.digest);
      // A writer without a session that re-used the blob touched its mtime: not a candidate now.
      if (s === undefined || Date.now() - s.mtimeMs < ctx.grace) continue;
      try {
        await rename(store.blobs.path(c.digest), trashPath(c.digest));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw ioError(e, 'move aside', store.blobs.path(c.digest));
      }
      aside.push(c);
    }
    // Pins written since the rename: their blobs go back. A new root manifest cannot be walked
    // while its closure may be aside, so the whole chunk goes back (rare: a fork or restore
    // starting this instant); the next GC decides again.
    const roots = await ctx.sessions.refresh();
    if (roots.length > 0) {
      await ctx.marks.addRoots(roots);
      await restoreAll(store, aside.splice(0), trashPath);
      return [];
    }
    const removed: Candidate[] = [];
    for (const c of aside.splice(0)) {
      if (ctx.sessions.has(c.digest)) {
        await putBack(store, c.digest, trashPath(c.digest));
      } else {
        await unlink(trashPath(c.digest)).catch(() => undefined);
        removed.push(c);
      }
    }
    return removed;
  } catch (e) {
    await restoreAll(store, aside, trashPath).catch(() => undefined);
    throw e;
  }
}

async function restoreAll(
  store: StoreContext,
  aside: readonly Candidate[],
  trashPath: (d: Digest) => string
): Promise<void> {
  for (const c of aside) await putBack(store, c.digest, trashPath(c.digest));
}

/** Puts a blob moved aside back under its name: no clobber (a writer may have linked its own). */
async function putBack(store: StoreContext, digest: Digest, from: string): Promise<void> {
  const target = store.blobs.path(digest);
  try {
    await link(from, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // nothing aside
    if (code !== 'EEXIST') throw ioError(e, 'put back', target);
  }
  await unlink(from).catch(() => undefined);
}

/** Blobs left aside by a GC that died mid-chunk (none can be in flight: we hold the lock). */
async function restoreTrash(store: StoreContext): Promise<void> {
  const dir = trashDir(store);
  for (const name of await listNames(dir)) {
    const digest = `sha256:${name}`;
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    await putBack(store, digest as Digest, join(dir, name));
  }
}

interface Abandoned {
  readonly path: string;
  readonly size: number;
}

/**
 * Temp files whose writer is gone (or, when it cannot be told, older than the grace period), and
 * owner files of lock waiters that are gone.
 */
async function findAbandoned(
  store: StoreContext,
  grace: number,
  now: number
): Promise<Abandoned[]> {
  const out: Abandoned[] = [];
  for (const n of await listNames(store.blobs.tmpDir)) {
    const p = join(store.blobs.tmpDir, n);
    const s = await lstat(p).catch(() => undefined);
    if (s === undefined || !s.isFile()) continue;
    const owner = tempOwnerState(n);
    if (owner === 'gone' || (owner === 'unknown' && now - s.mtimeMs >= grace)) {
      out.push({ path: p, size: s.size });
    }
  }
  const state = join(store.root, '.runledger');
  for (const n of await listNames(state)) {
    if (!LOCK_CANDIDATE_NAME.test(n)) continue;
    const p = join(state, n);
    const s = await lstat(p).catch(() => undefined);
    if (s === undefined || !s.isFile()) continue;
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text !== undefined && lockCandidateAbandoned(text, now - s.mtimeMs)) {
      out.push({ path: p, size: s.size });
    }
  }
  return out;
}

/** Removes abandoned temp and lock owner files, judged again now (under the lock). */
async function removeAbandoned(store: StoreContext, grace: number): Promise<number> {
  let removed = 0;
  for (const a of await findAbandoned(store, grace, Date.now())) {
    try {
      await unlink(a.path);
      removed++;
    } catch {
      // removed meanwhile
    }
  }
  return removed;
}

async function listNames(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
