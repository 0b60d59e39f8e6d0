/**
 * @module store/prune
 * Removal of anonymous references (`<id8>.runledger.local/anonymous:…` and
 * `…/experiment:…`): listed first, then removed compare-and-delete under the store lock.
 */
import type { StoreContext } from './context.js';
import { parseDuration } from './duration.js';
import { ANNOTATION_UPDATED_AT, readRefTable, writeRefTable, type RefTable } from './index-json.js';
import type { PrunedRef, PruneOptions, PruneReport } from './types.js';

/** Anonymous names: both the 8-hex host and the exact tag shape (so `x.runledger.local/anonymous:v1` is not). */
const ANONYMOUS_RE =
  /^[0-9a-f]{8}\.runledger\.local\/(anonymous|experiment):\d{8}T\d{6}-[0-9a-f]{12}$/;

/**
 * Prunes a store's anonymous references (see `LocalRegistry.prune`).
 * @internal
 */
export async function pruneRefs(store: StoreContext, options: PruneOptions): Promise<PruneReport> {
  const olderThan =
    options.olderThan === undefined
      ? undefined
      : typeof options.olderThan === 'number'
        ? options.olderThan
        : parseDuration(options.olderThan);
  const now = options.now ?? Date.now();
  const table = await readRefTable(store.root);
  const refs: PrunedRef[] = [];
  for (const [reference, d] of [...table.named].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const m = ANONYMOUS_RE.exec(reference);
    if (m === null) continue;
    const kind = m[1] === 'experiment' ? 'experiment' : 'artifact';
    if (kind === 'experiment' && options.experiments !== true) continue;
    const updatedAt = d.annotations?.[ANNOTATION_UPDATED_AT];
    if (olderThan !== undefined) {
      const t = updatedAt === undefined ? NaN : Date.parse(updatedAt);
      if (!(now - t >= olderThan)) continue;
    }
    refs.push({
      reference,
      kind,
      digest: d.digest,
      ...(updatedAt === undefined ? {} : { updatedAt }),
    });
  }
  if (options.delete === true && refs.length > 0) {
    await removeRefs(store, options.signal, (current) => {
      // Compare-and-delete: a reference replaced since the listing is kept.
      const gone = refs.filter((r) => current.named.get(r.reference)?.digest === r.digest);
      return gone.map((r) => r.reference);
    });
  }
  return { dryRun: options.delete !== true, refs };
}

/** Removes, under the store lock, the references `pick` chooses from the current table. */
async function removeRefs(
  store: StoreContext,
  signal: AbortSignal | undefined,
  pick: (table: RefTable) => string[]
): Promise<void> {
  await store.lock(async () => {
    const table = await readRefTable(store.root);
    const remove = pick(table);
    if (remove.length === 0) return;
    const named = new Map(table.named);
    for (const r of remove) named.delete(r);
    await writeRefTable(store.root, { named, unnamed: table.unnamed });
  }, signal);
}
