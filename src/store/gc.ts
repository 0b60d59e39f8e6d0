/**
 * @module store/gc
 * Mark-and-sweep garbage collection of a local registry: mark the closure of every reference
 * (following `subject` chains), then report — and, when asked, delete under the store lock —
 * unreferenced blobs older than a grace period, and abandoned temp files.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RunledgerError, throwIfAborted } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { walkClosure, type Closure } from './closure.js';
import { parseDuration } from './duration.js';
import { readRefTable, type RefTable } from './index-json.js';
import type { GcOptions, StoreContext } from './local-registry.js';
import type { GcReport } from './types.js';

const GC_CHUNK = 256;

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
  let table = await readRefTable(store.root);
  let marked = await mark(store, table);
  const digests = await store.blobs.list();
  let reachableSize = 0;
  let reachableCount = 0;
  const candidates: { digest: Digest; size: number }[] = [];
  let deferredCount = 0;
  let deferredSize = 0;
  for (const digest of digests) {
    throwIfAborted(options.signal);
    const s = await store.blobs.stat(digest);
    if (s === undefined) continue;
    if (marked.present.has(digest) || marked.wrongSize.has(digest)) {
      reachableCount++;
      reachableSize += s.size;
    } else if (now - s.mtimeMs >= grace) {
      candidates.push({ digest, size: s.size });
    } else {
      deferredCount++;
      deferredSize += s.size;
    }
  }
  let deletedCount = 0;
  let deletedSize = 0;
  let tempFilesRemoved = 0;
  if (options.delete === true) {
    for (let i = 0; i < candidates.length; i += GC_CHUNK) {
      const chunk = candidates.slice(i, i + GC_CHUNK);
      await store.lock(async () => {
        // A reference published since the mark may need a candidate: mark again if so.
        const latest = await readRefTable(store.root);
        if (latest !== table) {
          table = latest;
          marked = await mark(store, table);
        }
        for (const c of chunk) {
          throwIfAborted(options.signal);
          if (marked.present.has(c.digest) || marked.wrongSize.has(c.digest)) continue;
          const s = await store.blobs.stat(c.digest);
          // A writer that re-used the blob touched its mtime: it is no longer a candidate.
          if (s === undefined || Date.now() - s.mtimeMs < grace) continue;
          await store.blobs.delete(c.digest);
          deletedCount++;
          deletedSize += c.size;
        }
      }, options.signal);
    }
    tempFilesRemoved = await removeStaleTemps(store, grace);
  }
  return {
    dryRun: options.delete !== true,
    refs: table.named.size,
    reachable: { count: reachableCount, size: reachableSize },
    candidates: {
      count: candidates.length,
      size: candidates.reduce((a, c) => a + c.size, 0),
      digests: candidates.map((c) => c.digest),
    },
    deferred: { count: deferredCount, size: deferredSize },
    deleted: { count: deletedCount, size: deletedSize },
    missing: [...marked.missing.keys()].sort(),
    tempFilesRemoved,
  };
}

async function mark(store: StoreContext, table: RefTable): Promise<Closure> {
  return walkClosure(store.blobs, [...table.named.values(), ...table.unnamed], {
    subjects: true,
  });
}

async function removeStaleTemps(store: StoreContext, grace: number): Promise<number> {
  let removed = 0;
  for (const dir of [store.blobs.tmpDir, join(store.root, '.runledger')]) {
    const names = await listNames(dir);
    for (const n of names) {
      const isTemp = dir === store.blobs.tmpDir || /^lock\.\d+\.[0-9a-f]+$/.test(n);
      if (!isTemp) continue;
      const p = join(dir, n);
      const s = await lstat(p).catch(() => undefined);
      if (s === undefined || !s.isFile() || Date.now() - s.mtimeMs < grace) continue;
      await unlink(p).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

async function listNames(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}
