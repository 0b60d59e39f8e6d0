/**
 * @module store/blob-batch
 * BlobBatch: a group of blob writes made durable together (one flush for many files), then
 * published. `LocalRegistry.batch` starts one.
 */
import { readFile } from 'node:fs/promises';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { serializeManifest } from '../oci/manifest.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { rememberManifest } from './closure.js';
import type { BlobStore, PendingBlob } from './blob-store.js';
import { backgroundWriter } from './blob-writer.js';
import { SYNCFS_THRESHOLD } from './flush.js';
import { GROUPED_FLUSH_MAX, type StoreSession } from './session.js';
import type { BlobInfo, PutBlobOptions } from './types.js';

const PUBLISH_CONCURRENCY = 32;
/**
 * The largest blob a grouped-flush batch holds in memory for the background writer (a crash
 * journal carries its bytes, base64: a small JSON result, a run's solver record).
 */
const HOLD_MAX = 16 * 1024;

/**
 * Blobs written as one group and made durable together: each write lands in a temp file; one
 * {@link BlobBatch.commit} flushes them all (one `syncfs` for many files) and publishes them.
 * Publish the reference that needs them only after `commit` resolved.
 *
 * @example
 * ```ts
 * const batch = registry.batch();
 * const a = await batch.putBlob(bytesA);
 * const b = await batch.putBlobStream(fs.createReadStream('log.txt'));
 * await batch.commit();
 * ```
 */
export class BlobBatch {
  readonly #blobs: BlobStore;
  readonly #session: StoreSession | undefined;
  readonly #pending = new Map<Digest, PendingBlob>();
  #closed = false;
  #op: Promise<void> = Promise.resolve();
  /** Operations queued or under way in {@link BlobBatch.#exclusive}. */
  #ops = 0;

  /** @internal */
  constructor(blobs: BlobStore, session: StoreSession | undefined) {
    this.#blobs = blobs;
    this.#session = session;
  }

  /** Number of distinct blobs waiting for {@link BlobBatch.commit}. */
  get size(): number {
    return this.#pending.size;
  }

  #add(p: PendingBlob): BlobInfo {
    if (this.#closed) {
      // Committed while this blob was being written: it would never be published.
      void this.#blobs.discard([p]);
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Blob ${p.digest} was written into a batch that was committed meanwhile; write it again.`
      );
    }
    if (this.#pending.has(p.digest)) void this.#blobs.discard([p]);
    else this.#pending.set(p.digest, p);
    return { digest: p.digest, size: p.size };
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'This blob batch was already committed or discarded.'
      );
    }
  }

  /**
   * Writes bytes into the batch.
   * @param bytes - the content
   * @param options - expected digest/size, signal
   * @returns the blob's digest and size
   * @throws RunledgerError `DIGEST_MISMATCH`, `SIZE_MISMATCH`, `IO_ERROR`
   */
  async putBlob(bytes: Uint8Array, options: PutBlobOptions = {}): Promise<BlobInfo> {
    return this.putBlobNow(bytes, options);
  }

  /**
   * {@link BlobBatch.putBlob}, done on this thread before it returns (the bytes are in memory:
   * a temp file written with synchronous calls): for callers that would only await it.
   * @internal
   */
  putBlobNow(bytes: Uint8Array, options: PutBlobOptions = {}): BlobInfo {
    this.#checkOpen();
    // A small blob of a grouped-flush session is held in memory: a crash journal that records it
    // hands it to the background writer with its bytes (handOff), else it is written when
    // published.
    if (
      this.#session?.groupedFlush === true &&
      bytes.byteLength <= HOLD_MAX &&
      backgroundWriter(this.#blobs).accepts(bytes.byteLength)
    ) {
      return this.#add(this.#blobs.holdBytes(bytes, options));
    }
    return this.#add(this.#blobs.writeTempBytes(bytes, { ...options, keepOpen: this.#keepOpen }));
  }

  /**
   * Before {@link BlobBatch.putBlobNow} of `size` bytes: a promise to await first when the blob
   * would be held for the store's background writer and its queue is full (it resolves once the
   * writer has room), else undefined.
   * @internal
   */
  roomFor(size: number): Promise<void> | undefined {
    if (this.#session?.groupedFlush !== true || size > HOLD_MAX) return undefined;
    return backgroundWriter(this.#blobs).room(size);
  }

  /**
   * Small batches keep their temp files open so the fsync at commit needs no reopen; large ones
   * are flushed by one syncfs, which needs no descriptors.
   */
  get #keepOpen(): boolean {
    return this.#pending.size < SYNCFS_THRESHOLD;
  }

  /**
   * Hands the held blobs among `digests` (see {@link BlobBatch.putBlobNow}) to the store's
   * background writer, which pins and writes them soon: the caller must keep the returned bytes
   * where a crash cannot take them (a crash journal's record) before it acknowledges anything.
   * They count as published for this batch.
   * @param digests - blobs of this batch
   * @returns the blobs handed over, `[digest, base64]`; undefined when none was held
   * @internal
   */
  handOff(digests: readonly Digest[]): [Digest, string][] | undefined {
    const session = this.#session;
    if (session === undefined) return undefined;
    let out: [Digest, string][] | undefined;
    for (const d of digests) {
      const p = this.#pending.get(d);
      if (p?.held === undefined || p.published === true) continue;
      backgroundWriter(this.#blobs).enqueue(session, d, p.held);
      p.published = true;
      const bytes = Buffer.from(p.held.buffer, p.held.byteOffset, p.held.byteLength);
      (out ??= []).push([d, bytes.toString('base64')]);
    }
    return out;
  }

  /** The held ones among `pending` (not published) written to temp files now, in their place. */
  #materialize(pending: readonly PendingBlob[]): PendingBlob[] {
    return pending.map((p) => {
      if (p.held === undefined || p.published === true) return p;
      const written = this.#blobs.writeTempBytes(p.held, {
        expectedDigest: p.digest,
        keepOpen: this.#keepOpen,
      });
      this.#pending.set(p.digest, written);
      return written;
    });
  }

  /**
   * Streams content into the batch, hashing while writing, never holding it whole in memory.
   * @param source - any async iterable of bytes (e.g. `fs.createReadStream(path)`)
   * @param options - expected digest/size, signal, progress
   * @returns the blob's digest and size
   * @throws RunledgerError `SIZE_MISMATCH` (stream ends early or runs over), `DIGEST_MISMATCH`, `ABORTED`, `IO_ERROR`
   */
  async putBlobStream(
    source: AsyncIterable<Uint8Array>,
    options: PutBlobOptions = {}
  ): Promise<BlobInfo> {
    this.#checkOpen();
    return this.#add(await this.#blobs.writeTempStream(source, options));
  }

  /**
   * Writes a manifest into the batch (canonical JSON): with its config and layers in the same
   * batch, one flush makes them all durable. The closure check of the reference that publishes it
   * then takes its children from memory instead of reading it back.
   * @param manifest - the manifest
   * @param options - `serialized`: its canonical bytes when the caller assembled them already
   *   (they must be exactly what `serializeManifest(manifest)` gives)
   * @returns its descriptor (media type, digest, size, artifactType)
   * @throws RunledgerError `IO_ERROR`
   */
  async putManifest(
    manifest: Manifest,
    options: { readonly serialized?: Uint8Array } = {}
  ): Promise<Descriptor> {
    const { digest, size } = await this.putBlob(options.serialized ?? serializeManifest(manifest));
    rememberManifest(digest, manifest);
    const { mediaType, artifactType } = manifest;
    return artifactType === undefined
      ? { mediaType, digest, size }
      : { mediaType, digest, size, artifactType };
  }

  /**
   * Reads back a blob written into this batch and not yet committed (small blobs only).
   * @param digest - a blob of this batch
   * @param maxSize - refuse larger blobs
   * @returns its bytes, or undefined when the batch has no such blob or it is larger
   * @throws RunledgerError `IO_ERROR`
   */
  async readPending(digest: Digest, maxSize: number): Promise<Uint8Array | undefined> {
    const p = this.#pending.get(digest);
    if (p === undefined || p.size > maxSize) return undefined;
    if (p.stored !== undefined) return new Uint8Array(p.stored);
    if (p.held !== undefined) return p.held.slice();
    try {
      return new Uint8Array(await readFile(p.tempPath));
    } catch (e) {
      throw ioError(e, 'read back', p.tempPath);
    }
  }

  /** The size of a blob written into the batch, or undefined when it has none of that digest. */
  pendingSize(digest: Digest): number | undefined {
    return this.#pending.get(digest)?.size;
  }

  /**
   * Copies a file into the batch, hashing while copying, never holding it whole in memory.
   * @param path - a regular file; it must keep its size while being read
   * @param options - expected digest/size, signal, progress
   * @returns the blob's digest and size
   * @throws RunledgerError `SIZE_MISMATCH`, `DIGEST_MISMATCH`, `ABORTED`, `IO_ERROR`
   */
  async putBlobFile(path: string, options: PutBlobOptions = {}): Promise<BlobInfo> {
    this.#checkOpen();
    return this.#add(await this.#blobs.writeTempFile(path, options));
  }

  /**
   * Makes every blob of the batch durable and publishes it.
   * @param options - signal; `syncDirectory: false` leaves the fsync of `blobs/sha256` (which
   *   makes the new names durable) to a later write in the same store, e.g. the manifest that
   *   references them: content is flushed either way — except, with a `groupedFlush` session,
   *   that of small blobs, left to the session's next grouped flush (they are published at once,
   *   so a crash of the process loses none). With `syncDirectory` the session's grouped flush
   *   runs now. @default syncDirectory true
   * @returns the committed blobs
   * @throws RunledgerError `IO_ERROR`, `ABORTED` — the batch stays as it was: commit it again
   *   once the cause is fixed, or discard it
   */
  async commit(
    options: { signal?: AbortSignal; syncDirectory?: boolean } = {}
  ): Promise<BlobInfo[]> {
    this.#checkOpen();
    this.#closed = true;
    if (this.#ops === 0 && options.syncDirectory === false && this.#allPublished()) {
      // Nothing left to do (publishNow published every blob; grouped ones wait for the
      // session's flush, as #commit would leave them): no promise chain.
      return [...this.#pending.values()].map((p) => ({ digest: p.digest, size: p.size }));
    }
    return this.#exclusive(() => this.#commit(options));
  }

  #allPublished(): boolean {
    for (const p of this.#pending.values()) if (p.published !== true) return false;
    return true;
  }

  /**
   * Flushes the temp files of `pending` that must be durable before they are published: all of
   * them, except with a `groupedFlush` session the small ones, which the session flushes later
   * (before anything durable names them) — returned.
   */
  async #flushTemps(pending: readonly PendingBlob[]): Promise<PendingBlob[]> {
    if (this.#session?.groupedFlush !== true) {
      await this.#blobs.syncTemps(pending);
      return [];
    }
    const deferred = pending.filter((p) => !p.synced && p.size <= GROUPED_FLUSH_MAX);
    await this.#blobs.syncTemps(pending.filter((p) => p.synced || p.size > GROUPED_FLUSH_MAX));
    this.#blobs.closeTemps(deferred);
    return deferred;
  }

  async #commit(options: { signal?: AbortSignal; syncDirectory?: boolean }): Promise<BlobInfo[]> {
    const pending = [...this.#pending.values()];
    try {
      throwIfAborted(options.signal);
      // Blobs publishNow published already were flushed then (or wait in the session's group);
      // handed-off ones are the background writer's.
      const todo = this.#materialize(pending.filter((p) => p.published !== true));
      const deferred = await this.#flushTemps(todo);
      // Pinned before any of them is published (or an existing copy re-used): GC keeps them.
      this.#session?.pin(todo.map((p) => p.digest));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < todo.length) await this.#blobs.publish(todo[next++] as PendingBlob);
      };
      await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, todo.length) }, worker));
      this.#published(todo, deferred);
      if (pending.length > 0 && options.syncDirectory !== false) {
        if (deferred.length > 0) await this.#session?.flush();
        await this.#blobs.syncBlobDir();
      }
    } catch (e) {
      // Nothing is thrown away: the batch can be committed again once the cause is fixed
      // (disk space, permissions), or discarded.
      this.#closed = false;
      throw e;
    }
    return pending.map((p) => ({ digest: p.digest, size: p.size }));
  }

  /**
   * Publishes some blobs of the batch now, content flushed (the fsync of `blobs/sha256` is left to
   * the caller, as with `commit({ syncDirectory: false })`). They stay in the batch, so a later
   * {@link BlobBatch.commit} skips them. Digests the batch does not hold are ignored.
   * @param digests - blobs of this batch
   * @throws RunledgerError `IO_ERROR`
   */
  publishNow(digests: readonly Digest[]): Promise<void> {
    return this.publishEarly(digests) ?? Promise.resolve();
  }

  /**
   * {@link BlobBatch.publishNow}, done on this thread when that is all it takes — nothing else
   * under way, a grouped-flush session (nothing to flush first), one small blob written now —
   * and then undefined; otherwise its promise.
   * @internal
   */
  publishEarly(digests: readonly Digest[]): Promise<void> | undefined {
    if (this.#ops === 0 && this.#session?.groupedFlush === true) {
      try {
        if (this.#publishSmallNow(digests)) return undefined;
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    return this.#exclusive(async () => {
      const todo = this.#materialize(
        digests
          .map((d) => this.#pending.get(d))
          .filter((p): p is PendingBlob => p !== undefined && p.published !== true)
      );
      if (todo.length === 0) return;
      const deferred = await this.#flushTemps(todo);
      this.#session?.pin(todo.map((p) => p.digest));
      for (const p of todo) if (p.published !== true) await this.#blobs.publish(p);
      this.#published(todo, deferred);
    });
  }

  /** Tells the session what it now holds, and which of it waits for its grouped flush. */
  #published(done: readonly PendingBlob[], deferred: readonly PendingBlob[]): void {
    if (this.#session === undefined || done.length === 0) return;
    this.#session.published(
      done.map((p) => p.digest),
      deferred.map((p) => p.digest)
    );
  }

  /**
   * Publishes `digests` (those pending, not published yet) on this thread when that is one small
   * blob written now (not synced, no stored copy) and a link publishes it; false otherwise, the
   * blob then pinned at most (the async path pins nothing twice).
   * @throws RunledgerError `IO_ERROR` when the link fails (the temp file is kept)
   */
  #publishSmallNow(digests: readonly Digest[]): boolean {
    const todo: PendingBlob[] = [];
    for (const d of digests) {
      const p = this.#pending.get(d);
      if (p === undefined || p.published === true) continue;
      if (p.synced || p.stored !== undefined || p.size > GROUPED_FLUSH_MAX) return false;
      todo.push(p);
    }
    if (todo.length === 0) return true;
    if (todo.length > 1) return false;
    const p = this.#materialize(todo)[0] as PendingBlob;
    this.#blobs.closeTemps([p]);
    this.#session?.pin([p.digest]);
    if (!this.#blobs.publishSmallNow(p)) return false;
    this.#published([p], [p]);
    return true;
  }

  /**
   * Runs flushes and publishes of this batch one at a time: two at once would share temp files
   * (one closing a descriptor the other syncs, or unlinking a temp file the other opens).
   */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#ops++;
    const run = this.#op.then(fn);
    this.#op = run.then(
      () => void this.#ops--,
      () => void this.#ops--
    );
    return run;
  }

  /** Drops every blob of the batch (their temp files are removed). */
  async discard(): Promise<void> {
    this.#closed = true;
    await this.#blobs.discard([...this.#pending.values()]);
    this.#pending.clear();
  }
}
