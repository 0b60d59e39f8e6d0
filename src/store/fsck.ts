/**
 * @module store/fsck
 * The store check: re-hash every blob and walk every reference's closure, reporting corrupt,
 * missing, wrong-size and unreadable content with the references affected.
 */
import { isRunledgerError, throwIfAborted } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { walkClosure, type Closure } from './closure.js';
import { readRefTable, type RefTable } from './index-json.js';
import type { StoreContext } from './context.js';
import type { FsckProblem, FsckReport, Progress } from './types.js';

/**
 * Checks a store (see `LocalRegistry.fsck`).
 * @internal
 */
export async function checkStore(
  store: StoreContext,
  options: { signal?: AbortSignal; onProgress?: (p: Progress) => void }
): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  let table = await readRefTable(store.root);
  let { owners, perRef } = await walkRefs(store, table);
  const digests = await store.blobs.list();
  let bytes = 0;
  for (const digest of digests) {
    throwIfAborted(options.signal);
    let actual: { digest: Digest; size: number };
    try {
      actual = await store.blobs.hashFile(digest, options.signal);
    } catch (e) {
      if (isRunledgerError(e, 'BLOB_NOT_FOUND')) continue; // removed meanwhile
      throw e;
    }
    bytes += actual.size;
    options.onProgress?.({ phase: 'hash', loaded: bytes, total: undefined });
    if (actual.digest !== digest) {
      problems.push({
        kind: 'corrupt',
        digest,
        path: store.blobs.path(digest),
        refs: owners.get(digest) ?? [],
        detail: `content hashes to ${actual.digest}`,
      });
    }
  }
  const incomplete = perRef.some(
    ([, c]) => c.missing.size > 0 || c.wrongSize.size > 0 || c.invalid.size > 0
  );
  if (incomplete) {
    // A reference replaced meanwhile (a checkpoint moving on) may have let GC remove what the
    // old manifest held: check the closures again under the store lock, where nothing moves.
    ({ table, owners, perRef } = await store.lock(async () => {
      const latest = await readRefTable(store.root);
      return { table: latest, ...(await walkRefs(store, latest)) };
    }, options.signal));
  }
  for (const [name, c] of perRef) {
    for (const [digest] of c.missing) {
      problems.push({
        kind: 'missing',
        digest,
        refs: owners.get(digest) ?? [name],
        detail: 'referenced but absent',
      });
    }
    for (const [digest, w] of c.wrongSize) {
      problems.push({
        kind: 'size-mismatch',
        digest,
        path: store.blobs.path(digest),
        refs: owners.get(digest) ?? [name],
        detail: `declared ${w.descriptor.size} bytes, file has ${w.actual}`,
      });
    }
    for (const [digest, why] of c.invalid) {
      problems.push({
        kind: 'invalid-manifest',
        digest,
        refs: owners.get(digest) ?? [name],
        detail: why,
      });
    }
  }
  const unique = dedupeProblems(problems);
  return {
    ok: unique.length === 0,
    blobs: digests.length,
    bytes,
    refs: table.named.size,
    problems: unique,
  };
}

async function walkRefs(
  store: StoreContext,
  table: RefTable
): Promise<{ owners: Map<Digest, string[]>; perRef: [string, Closure][] }> {
  const owners = new Map<Digest, string[]>();
  const perRef: [string, Closure][] = [];
  for (const [name, d] of table.named) {
    const c = await walkClosure(store.blobs, [d], { subjects: true });
    perRef.push([name, c]);
    for (const m of [c.present, c.missing, c.wrongSize]) {
      for (const digest of m.keys()) owners.set(digest, [...(owners.get(digest) ?? []), name]);
    }
  }
  return { owners, perRef };
}

function dedupeProblems(problems: FsckProblem[]): FsckProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.kind}:${p.digest ?? p.path ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
