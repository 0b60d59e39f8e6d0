/**
 * @module store/context
 * What the store's maintenance modules (GC, fsck, prune) need of a registry: kept apart from
 * `store/types` because it names {@link BlobStore}, which itself uses those types.
 */
import type { BlobStore } from './blob-store.js';

/** What GC and fsck need of a registry. @internal */
export interface StoreContext {
  readonly root: string;
  readonly blobs: BlobStore;
  /** Runs `fn` under the store's cross-process lock. */
  lock<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T>;
}
