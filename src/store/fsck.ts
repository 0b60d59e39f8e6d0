/**
 * @module store/fsck
 * The store check: re-hash every blob and walk every reference's closure, reporting corrupt,
 * missing, wrong-size and unreadable content with the references affected.
 */
import { isRunledgerError, throwIfAborted } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { walkClosure, type Closure } from './closure.js';
import { readRefTable } from './index-json.js';
import type { StoreContext } from './local-registry.js';
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
  const table = await readRefTable(store.root);
  const owners = new Map<Digest, string[]>();
  const perRef: [string, Closure][] = [];
  for (const [name, d] of table.named) {
    const c = await walkClosure(store.blobs, [d], { subjects: true });
    perRef.push([name, c]);
    for (const m of [c.present, c.missing, c.wrongSize]) {
      for (const digest of m.keys()) owners.set(digest, [...(owners.get(digest) ?? []), name]);
    }
  }
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

function dedupeProblems(problems: FsckProblem[]): FsckProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.kind}:${p.digest ?? p.path ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
