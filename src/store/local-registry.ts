/**
 * @module store/local-registry
 * LocalRegistry: runledger's content-addressed store on disk. Its root is a valid OCI image
 * layout (`oci-layout`, `index.json`, `blobs/sha256/…`), so skopeo and any OCI tool read it;
 * runledger's own state lives under `.runledger/`, which the layout ignores.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import { parseImageIndex, serializeImageIndex } from '../oci/image-index.js';
import { INDEX_FILE, OCI_LAYOUT_FILE, parseOciLayout, serializeOciLayout } from '../oci/layout.js';
import { parseManifest, serializeManifest } from '../oci/manifest.js';
import { MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import { BlobStore, SYNCFS_THRESHOLD, type PendingBlob, type TempFile } from './blob-store.js';
import { walkClosure } from './closure.js';
import { parseDuration } from './duration.js';
import { readRefTable, writeRefTable, type RefTable } from './index-json.js';
import { checkStore } from './fsck.js';
import { collectGarbage } from './gc.js';
import { withLock } from './lock.js';
import { ownedTempName } from './owner.js';
import { removeSessionFiles, StoreSession, type SessionOptions } from './session.js';
import type { BlobInfo, FsckReport, GcReport, Progress, RefEntry, SizeReport } from './types.js';

/** Options of {@link LocalRegistry.open}. */
export interface LocalRegistryOptions {
  /** Environment to read `RUNLEDGER_HOME` / `XDG_DATA_HOME` / `HOME` from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for another process holding the store lock. @default 30000 */
  readonly lockTimeoutMs?: number;
}

/** Options of blob writes. */
export interface PutBlobOptions {
  /** The digest the content must have; otherwise `DIGEST_MISMATCH` and nothing is stored. */
  readonly expectedDigest?: Digest;
  /** The size the content must have; otherwise `SIZE_MISMATCH` and nothing is stored. */
  readonly expectedSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/** The session of a write: what it publishes is pinned there first (see {@link StoreSession}). */
export interface SessionWriteOptions {
  /** Pins each blob in this session before it is published, so GC keeps it until the session ends. */
  readonly session?: StoreSession;
}

/** Options of {@link LocalRegistry.gc}. */
export interface GcOptions {
  /** Delete the candidates; without it GC only reports. @default false */
  readonly delete?: boolean;
  /** Unreferenced blobs younger than this are kept: a duration (`24h`) or milliseconds. @default '24h' */
  readonly gracePeriod?: string | number;
  /** The clock, for tests. @default Date.now() */
  readonly now?: number;
  readonly signal?: AbortSignal;
}

/** What GC and fsck need of a registry. @internal */
export interface StoreContext {
  readonly root: string;
  readonly blobs: BlobStore;
  /** Runs `fn` under the store's cross-process lock. */
  lock<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T>;
}

/** Options of {@link LocalRegistry.prune}. */
export interface PruneOptions {
  /** Remove the references; without it prune only reports. @default false */
  readonly delete?: boolean;
  /** Include anonymous experiments, not only anonymous artifacts. @default false */
  readonly experiments?: boolean;
  /** Only references set at least this long ago (`30d`, or milliseconds). */
  readonly olderThan?: string | number;
  /** The clock, for tests. @default Date.now() */
  readonly now?: number;
  readonly signal?: AbortSignal;
}

/** One reference {@link LocalRegistry.prune} found. */
export interface PrunedRef {
  readonly reference: string;
  readonly kind: 'artifact' | 'experiment';
  readonly digest: Digest;
  readonly updatedAt?: string;
}

/** What {@link LocalRegistry.prune} found and did. */
export interface PruneReport {
  readonly dryRun: boolean;
  readonly refs: readonly PrunedRef[];
}

/** Options of {@link LocalRegistry.listRefs}. */
export interface ListRefsOptions {
  /** Only references starting with this text. */
  readonly prefix?: string;
  /** Include runledger's internal checkpoint references. @default false */
  readonly includeInternal?: boolean;
}

/** Annotation on an `index.json` entry: when runledger last set that reference (RFC 3339). */
const ANNOTATION_UPDATED_AT = 'io.runledger.ref.updated-at';
const CHECKPOINT_RE = /^[0-9a-f]{8}\.runledger\.local\/checkpoint:/;
/** Anonymous names: both the 8-hex host and the exact tag shape (so `x.runledger.local/anonymous:v1` is not). */
const ANONYMOUS_RE =
  /^[0-9a-f]{8}\.runledger\.local\/(anonymous|experiment):\d{8}T\d{6}-[0-9a-f]{12}$/;
const PUBLISH_CONCURRENCY = 32;

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
    this.#checkOpen();
    // Small batches keep their temp files open so the fsync at commit needs no reopen; large
    // ones are flushed by one syncfs, which needs no descriptors.
    const keepOpen = this.#pending.size < SYNCFS_THRESHOLD;
    return this.#add(this.#blobs.writeTempBytes(bytes, { ...options, keepOpen }));
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
   * Reads back a blob written into this batch and not yet committed (small blobs only).
   * @param digest - a blob of this batch
   * @param maxSize - refuse larger blobs
   * @returns its bytes, or undefined when the batch has no such blob or it is larger
   * @throws RunledgerError `IO_ERROR`
   */
  async readPending(digest: Digest, maxSize: number): Promise<Uint8Array | undefined> {
    const p = this.#pending.get(digest);
    if (p === undefined || p.size > maxSize) return undefined;
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
   *   references them: content is flushed either way. @default syncDirectory true
   * @returns the committed blobs
   * @throws RunledgerError `IO_ERROR`, `ABORTED` — the batch stays as it was: commit it again
   *   once the cause is fixed, or discard it
   */
  async commit(
    options: { signal?: AbortSignal; syncDirectory?: boolean } = {}
  ): Promise<BlobInfo[]> {
    this.#checkOpen();
    this.#closed = true;
    return this.#exclusive(() => this.#commit(options));
  }

  async #commit(options: { signal?: AbortSignal; syncDirectory?: boolean }): Promise<BlobInfo[]> {
    const pending = [...this.#pending.values()];
    try {
      throwIfAborted(options.signal);
      await this.#blobs.syncTemps(pending);
      const todo = pending.filter((p) => p.published !== true);
      // Pinned before any of them is published (or an existing copy re-used): GC keeps them.
      this.#session?.pin(todo.map((p) => p.digest));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < todo.length) await this.#blobs.publish(todo[next++] as PendingBlob);
      };
      await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, todo.length) }, worker));
      if (pending.length > 0 && options.syncDirectory !== false) await this.#blobs.syncBlobDir();
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
    return this.#exclusive(async () => {
      const todo = digests
        .map((d) => this.#pending.get(d))
        .filter((p): p is PendingBlob => p !== undefined && p.published !== true);
      if (todo.length === 0) return;
      await this.#blobs.syncTemps(todo);
      this.#session?.pin(todo.map((p) => p.digest));
      for (const p of todo) if (p.published !== true) await this.#blobs.publish(p);
    });
  }

  /**
   * Runs flushes and publishes of this batch one at a time: two at once would share temp files
   * (one closing a descriptor the other syncs, or unlinking a temp file the other opens).
   */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#op.then(fn);
    this.#op = run.then(
      () => undefined,
      () => undefined
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

/**
 * runledger's local registry: a content-addressed blob store and a table of references, on
 * disk as an OCI image layout. Safe for several processes at once.
 *
 * @example
 * ```ts
 * const registry = await LocalRegistry.open('/tmp/store');
 * const desc = await registry.writeManifest(manifest);
 * await registry.publishRef('ghcr.io/acme/qap:v1', desc);
 * ```
 */
export class LocalRegistry {
  /** The layout root (absolute, symlinks resolved). */
  readonly root: string;
  readonly #blobs: BlobStore;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number | undefined;

  /** @internal Use {@link LocalRegistry.open}. */
  constructor(root: string, options: LocalRegistryOptions = {}) {
    this.root = root;
    this.#blobs = new BlobStore(root);
    this.#lockPath = join(root, '.runledger', 'lock');
    this.#lockTimeoutMs = options.lockTimeoutMs;
  }

  /**
   * The default root: `$RUNLEDGER_HOME`, else `${XDG_DATA_HOME:-~/.local/share}/runledger`.
   * @param env - the environment @default process.env
   * @returns an absolute path
   * @example
   * ```ts
   * LocalRegistry.defaultRoot({ RUNLEDGER_HOME: '/data/runs' }); // '/data/runs'
   * ```
   */
  static defaultRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
    const home = env['RUNLEDGER_HOME'];
    if (home !== undefined && home !== '') return resolve(home);
    const xdg = env['XDG_DATA_HOME'];
    const base =
      xdg !== undefined && xdg !== '' ? xdg : join(env['HOME'] ?? homedir(), '.local', 'share');
    return resolve(base, 'runledger');
  }

  /**
   * Opens (creating when absent or empty) the local registry at `root`.
   *
   * @param root - the layout directory @default {@link LocalRegistry.defaultRoot}
   * @param options - environment and lock timeout
   * @returns the registry
   * @throws RunledgerError `LAYOUT_INVALID` when `root` is a file, a non-empty directory that is
   *   not an OCI image layout, or a layout with a broken `oci-layout`/`index.json`
   * @example
   * ```ts
   * const registry = await LocalRegistry.open();
   * ```
   */
  static async open(root?: string, options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
    const dir = resolve(root ?? LocalRegistry.defaultRoot(options.env));
    const entries = await listDir(dir);
    if (entries === undefined) {
      await mkdir(dir, { recursive: true }).catch((e: unknown) => {
        throw ioError(e, 'create the registry directory', dir);
      });
    }
    const names = new Set(entries ?? []);
    if (names.has(OCI_LAYOUT_FILE)) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(dir, OCI_LAYOUT_FILE));
      } catch (e) {
        throw layoutInvalid(dir, 'its oci-layout file cannot be read', e);
      }
      try {
        parseOciLayout(bytes);
      } catch (e) {
        throw layoutInvalid(dir, 'its oci-layout file is not valid', e);
      }
      if (!names.has(INDEX_FILE)) throw layoutInvalid(dir, 'it has no index.json');
    } else if (names.size > 0 && !names.has('.runledger')) {
      throw layoutInvalid(
        dir,
        'it is a non-empty directory without an oci-layout file; choose an empty or new directory'
      );
    }
    await initLayout(dir, names);
    const real = await realpath(dir);
    const registry = new LocalRegistry(real, options);
    await readRefTable(real); // fail now, not later, when index.json is damaged
    return registry;
  }

  /**
   * This store's random identity (32 hex digits), created on first use; its first 8 digits name
   * anonymous experiments (`<id8>.runledger.local/…`).
   * @returns the id
   * @throws RunledgerError `IO_ERROR`
   * @example
   * ```ts
   * (await registry.id()).slice(0, 8);
   * ```
   */
  async id(): Promise<string> {
    const path = join(this.root, '.runledger', 'registry-id');
    const read = async (): Promise<string | undefined> => {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      return text !== undefined && /^[0-9a-f]{32}$/.test(text.trim()) ? text.trim() : undefined;
    };
    const existing = await read();
    if (existing !== undefined) return existing;
    try {
      await createWhole(
        this.root,
        join('.runledger', 'registry-id'),
        new TextEncoder().encode(randomBytes(16).toString('hex'))
      );
    } catch (e) {
      throw ioError(e, 'create the registry id', path);
    }
    const created = await read();
    if (created === undefined) {
      throw new RunledgerError(
        'LAYOUT_INVALID',
        `The registry id file ${path} is damaged; delete it to make a new one.`,
        { data: { path } }
      );
    }
    return created;
  }

  /**
   * A fresh anonymous reference in this store: `<id8>.runledger.local/<kind>:<YYYYMMDDTHHMMSS>-<12 hex>`
   * (local time), the shape {@link LocalRegistry.prune} recognises.
   * @param kind - `experiment` for anonymous experiments, `anonymous` for other artifacts
   * @returns the reference
   * @throws RunledgerError `IO_ERROR`
   * @example
   * ```ts
   * await registry.anonymousReference('experiment');
   * ```
   */
  async anonymousReference(kind: 'experiment' | 'anonymous'): Promise<string> {
    const d = new Date();
    const p = (n: number): string => String(n).padStart(2, '0');
    const ts = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
    return `${(await this.id()).slice(0, 8)}.runledger.local/${kind}:${ts}-${randomBytes(6).toString('hex')}`;
  }

  // ---- blobs -------------------------------------------------------------------------------

  /**
   * Whether a blob is present (by name; {@link LocalRegistry.readBlob} verifies content).
   * @param digest - the blob's digest
   * @returns true when the file exists
   * @throws RunledgerError `DIGEST_INVALID`
   */
  async hasBlob(digest: string): Promise<boolean> {
    return (await this.#blobs.stat(parseDigest(digest))) !== undefined;
  }

  /**
   * A blob's size, file path and modification time.
   * @param digest - the blob's digest
   * @returns its facts
   * @throws RunledgerError `DIGEST_INVALID`, `BLOB_NOT_FOUND`
   */
  async statBlob(digest: string): Promise<BlobInfo & { path: string; mtimeMs: number }> {
    const d = parseDigest(digest);
    const s = await this.#blobs.stat(d);
    if (s === undefined) {
      throw new RunledgerError('BLOB_NOT_FOUND', `Blob ${d} is not in the store ${this.root}.`, {
        data: { digest: d, root: this.root },
      });
    }
    return { digest: d, size: s.size, path: this.#blobs.path(d), mtimeMs: s.mtimeMs };
  }

  /**
   * Reads a whole blob, verifying its size (when given) and digest.
   * @param digest - the blob's digest
   * @param options - the size it must have
   * @returns the bytes
   * @throws RunledgerError `DIGEST_INVALID`, `BLOB_NOT_FOUND`, `SIZE_MISMATCH`, `DIGEST_MISMATCH` (naming blob and path)
   */
  async readBlob(digest: string, options: { expectedSize?: number } = {}): Promise<Uint8Array> {
    return this.#blobs.read(parseDigest(digest), options.expectedSize);
  }

  /**
   * Streams a blob. The digest is verified at the end: the stream throws `DIGEST_MISMATCH`
   * instead of finishing when the content is corrupt, so consume it to the end before trusting it.
   * @param digest - the blob's digest
   * @param options - expected size, signal
   * @returns an async iterable of chunks
   * @throws RunledgerError `DIGEST_INVALID`, `BLOB_NOT_FOUND`, `SIZE_MISMATCH`, `DIGEST_MISMATCH`
   */
  streamBlob(
    digest: string,
    options: { expectedSize?: number; signal?: AbortSignal } = {}
  ): AsyncIterable<Uint8Array> {
    return this.#blobs.stream(parseDigest(digest), options);
  }

  /**
   * Stores bytes as a blob, durably (fsynced before this resolves).
   * @param bytes - the content
   * @param options - expected digest/size, signal
   * @returns the digest and size
   * @throws RunledgerError `DIGEST_MISMATCH`, `SIZE_MISMATCH`, `IO_ERROR`
   * @example
   * ```ts
   * const { digest } = await registry.putBlob(new TextEncoder().encode('{}'));
   * ```
   */
  async putBlob(
    bytes: Uint8Array,
    options: PutBlobOptions & SessionWriteOptions = {}
  ): Promise<BlobInfo> {
    const p = this.#blobs.writeTempBytes(bytes, { ...options, sync: true });
    await this.#publishOne(p, options.session);
    return { digest: p.digest, size: p.size };
  }

  /**
   * Streams content into a blob, hashing while writing, durably. Nothing is published when the
   * stream fails, ends early, runs over `expectedSize` or does not match `expectedDigest`.
   * @param source - an async iterable of bytes (e.g. `fs.createReadStream(path)`)
   * @param options - expected digest/size, signal, progress
   * @returns the digest and size
   * @throws RunledgerError `SIZE_MISMATCH`, `DIGEST_MISMATCH`, `ABORTED`, `IO_ERROR`
   */
  async putBlobStream(
    source: AsyncIterable<Uint8Array>,
    options: PutBlobOptions & SessionWriteOptions = {}
  ): Promise<BlobInfo> {
    const p = await this.#blobs.writeTempStream(source, { ...options, sync: true });
    await this.#publishOne(p, options.session);
    return { digest: p.digest, size: p.size };
  }

  /**
   * Appends a blob, verified, to an output file being written (archive export).
   * @internal
   */
  async copyBlobInto(
    out: TempFile,
    digest: Digest,
    size: number,
    options: { signal?: AbortSignal; scratch?: Buffer } = {}
  ): Promise<void> {
    await this.#blobs.copyInto(out, parseDigest(digest), size, options.signal, options.scratch);
  }

  /**
   * Copies a file into a blob, hashing while copying, durably: the fastest way to store a file
   * (reads, hashing and writes overlap).
   * @param path - a regular file; it must keep its size while being read
   * @param options - expected digest/size, signal, progress
   * @returns the digest and size
   * @throws RunledgerError `SIZE_MISMATCH`, `DIGEST_MISMATCH`, `ABORTED`, `IO_ERROR`
   * @example
   * ```ts
   * const { digest } = await registry.putBlobFile('solver.log');
   * ```
   */
  async putBlobFile(
    path: string,
    options: PutBlobOptions & SessionWriteOptions = {}
  ): Promise<BlobInfo> {
    const p = await this.#blobs.writeTempFile(path, { ...options, sync: true });
    await this.#publishOne(p, options.session);
    return { digest: p.digest, size: p.size };
  }

  async #publishOne(p: PendingBlob, session: StoreSession | undefined): Promise<void> {
    try {
      session?.pin([p.digest]);
      await this.#blobs.publish(p);
      await this.#blobs.syncBlobDir();
    } catch (e) {
      await this.#blobs.discard([p]);
      throw e;
    }
  }

  /**
   * Starts a group of blob writes made durable together by {@link BlobBatch.commit}.
   * @param options - the session that pins its blobs
   * @returns a new batch
   */
  batch(options: SessionWriteOptions = {}): BlobBatch {
    return new BlobBatch(this.#blobs, options.session);
  }

  /**
   * Opens a session: pins on the blobs a writer needs before a reference holds them (see
   * {@link StoreSession}). GC keeps what a live session pinned, and what a recoverable one pinned
   * after its process died, until {@link LocalRegistry.removeSessions}.
   * @param options - id, recoverable, recoverFrom
   * @returns the session (its file is created with the first pin)
   * @throws RunledgerError `ARGUMENT_INVALID` for a malformed or taken id, or a recoverFrom
   *   outside the store
   * @example
   * ```ts
   * const session = registry.openSession({ recoverable: false });
   * const desc = await registry.writeManifest(manifest, { session });
   * await registry.publishRef('ghcr.io/acme/qap:v1', desc);
   * session.close();
   * ```
   */
  openSession(options: SessionOptions): StoreSession {
    return new StoreSession(this.root, options);
  }

  /**
   * Removes sessions whose work is recovered (a restore removes those of the crash journals it
   * consumed); their pins no longer keep blobs from GC.
   * @param ids - session ids
   * @returns when removed
   * @throws RunledgerError `ARGUMENT_INVALID` for a malformed id
   * @example
   * ```ts
   * await registry.removeSessions(['4242-0123456789ab']);
   * ```
   */
  async removeSessions(ids: readonly string[]): Promise<void> {
    removeSessionFiles(this.root, ids);
  }

  /**
   * Serializes a manifest canonically and stores it durably.
   * @param manifest - the manifest
   * @param options - the session that pins it
   * @returns its descriptor (media type, digest, size, artifactType)
   * @throws RunledgerError `IO_ERROR`
   */
  async writeManifest(manifest: Manifest, options: SessionWriteOptions = {}): Promise<Descriptor> {
    const bytes = serializeManifest(manifest);
    const { digest, size } = await this.putBlob(bytes, options);
    return descriptorFor(manifest.mediaType, digest, size, manifest.artifactType);
  }

  /**
   * Reads and parses a manifest blob (verified).
   * @param digest - the manifest's digest
   * @returns the manifest and its exact bytes
   * @throws RunledgerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`, `MANIFEST_INVALID`
   */
  async readManifest(digest: string): Promise<{ manifest: Manifest; bytes: Uint8Array }> {
    const bytes = await this.readBlob(digest);
    return { manifest: parseManifest(bytes), bytes };
  }

  // ---- references --------------------------------------------------------------------------

  /**
   * Every reference, sorted, optionally filtered by prefix. Checkpoint references are hidden
   * unless asked for.
   * @param options - prefix, includeInternal
   * @returns the references with their descriptors
   * @throws RunledgerError `LAYOUT_INVALID` when `index.json` is damaged
   */
  async listRefs(options: ListRefsOptions = {}): Promise<RefEntry[]> {
    const table = await readRefTable(this.root);
    const prefix = options.prefix ?? '';
    return [...table.named]
      .filter(([name]) => name.startsWith(prefix))
      .filter(([name]) => options.includeInternal === true || !CHECKPOINT_RE.test(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([reference, descriptor]) => {
        const updatedAt = descriptor.annotations?.[ANNOTATION_UPDATED_AT];
        const entry: RefEntry = { reference, descriptor: stripRefName(descriptor) };
        return updatedAt === undefined ? entry : { ...entry, updatedAt };
      });
  }

  /**
   * The descriptor a reference points at.
   * @param reference - any spelling of the reference (normalised first)
   * @returns the manifest descriptor
   * @throws RunledgerError `REFERENCE_INVALID`, `REF_NOT_FOUND`
   */
  async resolve(reference: string): Promise<Descriptor> {
    const name = normalizeReference(reference);
    const d = (await readRefTable(this.root)).named.get(name);
    if (d === undefined) {
      throw new RunledgerError(
        'REF_NOT_FOUND',
        `Reference ${name} is not in the store ${this.root}.`,
        {
          data: { reference: name, root: this.root },
        }
      );
    }
    return stripRefName(d);
  }

  /**
   * Publishes a reference: insert, or nothing when it already points at the same manifest.
   * The manifest's closure must be present (checked under the lock, so GC cannot race it).
   *
   * @param reference - the reference to create
   * @param descriptor - the manifest it points at
   * @param options - signal
   * @returns `'created'` or `'unchanged'`
   * @throws RunledgerError `REF_CONFLICT` when it points at another manifest; `CLOSURE_INCOMPLETE`
   * @example
   * ```ts
   * await registry.publishRef('ghcr.io/acme/qap:v1', desc);
   * ```
   */
  async publishRef(
    reference: string,
    descriptor: Descriptor,
    options: { signal?: AbortSignal } = {}
  ): Promise<'created' | 'unchanged'> {
    const name = normalizeReference(reference);
    const desc = cleanDescriptor(descriptor);
    return this.#mutate(options.signal, async (table) => {
      const existing = table.named.get(name);
      if (existing !== undefined) {
        if (existing.digest === desc.digest) return { result: 'unchanged' as const };
        throw refConflict(name, existing.digest, desc.digest);
      }
      await this.#requireClosure(name, desc);
      return { result: 'created' as const, set: [name, desc] };
    });
  }

  /**
   * Points a reference at a manifest whatever it pointed at before (checkpoints use this).
   * @param reference - the reference
   * @param descriptor - the manifest
   * @param options - signal
   * @returns the descriptor it pointed at before, if any
   * @throws RunledgerError `CLOSURE_INCOMPLETE`, `REFERENCE_INVALID`
   */
  async replaceRef(
    reference: string,
    descriptor: Descriptor,
    options: { signal?: AbortSignal } = {}
  ): Promise<Descriptor | undefined> {
    const name = normalizeReference(reference);
    const desc = cleanDescriptor(descriptor);
    return this.#mutate(options.signal, async (table) => {
      const previous = table.named.get(name);
      if (previous?.digest === desc.digest) return { result: stripRefName(previous) };
      await this.#requireClosure(name, desc);
      return {
        result: previous === undefined ? undefined : stripRefName(previous),
        set: [name, desc],
      };
    });
  }

  /**
   * Removes a reference. Its blobs stay until {@link LocalRegistry.gc} (so it can be restored).
   * @param reference - the reference
   * @param options - signal
   * @returns the descriptor it pointed at
   * @throws RunledgerError `REF_NOT_FOUND`
   */
  async deleteRef(reference: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    const name = normalizeReference(reference);
    return this.#mutate(options.signal, async (table) => {
      const previous = table.named.get(name);
      if (previous === undefined) {
        throw new RunledgerError(
          'REF_NOT_FOUND',
          `Reference ${name} is not in the store ${this.root}.`,
          {
            data: { reference: name, root: this.root },
          }
        );
      }
      return { result: stripRefName(previous), remove: name };
    });
  }

  /**
   * Re-creates a reference to a manifest still in the store (undo of {@link LocalRegistry.deleteRef}),
   * after verifying its whole closure is present.
   * @param reference - the reference
   * @param digest - the manifest's digest
   * @param options - signal
   * @returns `'created'`, or `'unchanged'` when it already points there
   * @throws RunledgerError `BLOB_NOT_FOUND`, `CLOSURE_INCOMPLETE`, `REF_CONFLICT` (points elsewhere)
   */
  async restoreRef(
    reference: string,
    digest: string,
    options: { signal?: AbortSignal } = {}
  ): Promise<'created' | 'unchanged'> {
    const name = normalizeReference(reference);
    const d = parseDigest(digest);
    const bytes = await this.#blobs.read(d);
    const desc = describeManifestBytes(d, bytes);
    return this.#mutate(options.signal, async (table) => {
      const existing = table.named.get(name);
      if (existing !== undefined) {
        if (existing.digest === d) return { result: 'unchanged' as const };
        throw refConflict(name, existing.digest, d);
      }
      await this.#requireClosure(name, desc);
      return { result: 'created' as const, set: [name, desc] };
    });
  }

  /**
   * Removes anonymous references (`<id8>.runledger.local/anonymous:…`, and with `experiments`
   * also `…/experiment:…`): a dry run unless `delete` is set. Blobs stay until `gc`. Deletion is
   * compare-and-delete under the lock, so a reference replaced since the listing is kept.
   * @param options - delete, experiments, olderThan (`7d` or ms, by when the ref was set), signal
   * @returns the references found (and removed unless dry run)
   * @throws RunledgerError `ARGUMENT_INVALID` for a bad duration, `LOCK_TIMEOUT`
   * @example
   * ```ts
   * await registry.prune({ delete: true, experiments: true, olderThan: '30d' });
   * ```
   */
  async prune(options: PruneOptions = {}): Promise<PruneReport> {
    const olderThan =
      options.olderThan === undefined
        ? undefined
        : typeof options.olderThan === 'number'
          ? options.olderThan
          : parseDuration(options.olderThan);
    const now = options.now ?? Date.now();
    const table = await readRefTable(this.root);
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
      await this.#mutateMany(options.signal, (current) => {
        // Compare-and-delete: a reference replaced since the listing is kept.
        const gone = refs.filter((r) => current.named.get(r.reference)?.digest === r.digest);
        return gone.map((r) => r.reference);
      });
    }
    return { dryRun: options.delete !== true, refs };
  }

  async #mutateMany(
    signal: AbortSignal | undefined,
    pick: (table: RefTable) => string[]
  ): Promise<void> {
    await withLock(
      this.#lockPath,
      async () => {
        const table = await readRefTable(this.root);
        const remove = pick(table);
        if (remove.length === 0) return;
        const named = new Map(table.named);
        for (const r of remove) named.delete(r);
        await writeRefTable(this.root, { named, unnamed: table.unnamed });
      },
      this.#lockOptions(signal)
    );
  }

  /**
   * Points `target` at what `source` points at (insert-or-conflict).
   * @param source - an existing reference
   * @param target - the new reference
   * @returns `'created'` or `'unchanged'`
   * @throws RunledgerError `REF_NOT_FOUND`, `REF_CONFLICT`
   */
  async tag(source: string, target: string): Promise<'created' | 'unchanged'> {
    return this.publishRef(target, await this.resolve(source));
  }

  async #mutate<T>(
    signal: AbortSignal | undefined,
    fn: (table: RefTable) => Promise<{ result: T; set?: [string, Descriptor]; remove?: string }>
  ): Promise<T> {
    throwIfAborted(signal);
    return withLock(
      this.#lockPath,
      async () => {
        const table = await readRefTable(this.root);
        const change = await fn(table);
        if (change.set !== undefined || change.remove !== undefined) {
          const named = new Map(table.named);
          if (change.set !== undefined) {
            const [name, d] = change.set;
            named.set(name, {
              ...d,
              annotations: { [ANNOTATION_UPDATED_AT]: new Date().toISOString() },
            });
          }
          if (change.remove !== undefined) named.delete(change.remove);
          await writeRefTable(this.root, { named, unnamed: table.unnamed });
        }
        return change.result;
      },
      this.#lockOptions(signal)
    );
  }

  #lockOptions(signal: AbortSignal | undefined): { timeoutMs?: number; signal?: AbortSignal } {
    const o: { timeoutMs?: number; signal?: AbortSignal } = {};
    if (this.#lockTimeoutMs !== undefined) o.timeoutMs = this.#lockTimeoutMs;
    if (signal !== undefined) o.signal = signal;
    return o;
  }

  async #requireClosure(name: string, desc: Descriptor): Promise<void> {
    const c = await walkClosure(this.#blobs, [desc], { subjects: true });
    const bad = [...c.missing.keys(), ...c.wrongSize.keys(), ...c.invalid.keys()];
    if (bad.length > 0) {
      throw new RunledgerError(
        'CLOSURE_INCOMPLETE',
        `Reference ${name} cannot point at ${desc.digest}: ${bad.length} blob(s) of its closure are missing or damaged, first ${bad[0]}.`,
        {
          data: {
            reference: name,
            digest: desc.digest,
            missing: [...c.missing.keys()],
            wrongSize: [...c.wrongSize.keys()],
            invalid: [...c.invalid.keys()],
          },
        }
      );
    }
  }

  // ---- maintenance -------------------------------------------------------------------------

  /**
   * The size of what a reference needs: manifest bytes, config, and each distinct layer once
   * (the subject is not counted).
   * @param reference - the reference
   * @returns the size report
   * @throws RunledgerError `REF_NOT_FOUND`, `BLOB_NOT_FOUND`, `MANIFEST_INVALID`
   */
  async size(reference: string): Promise<SizeReport> {
    const desc = await this.resolve(reference);
    const c = await walkClosure(this.#blobs, [desc], { subjects: false });
    if (c.invalid.size > 0) {
      const [digest, why] = [...c.invalid][0] as [Digest, string];
      throw new RunledgerError(
        'MANIFEST_INVALID',
        `Manifest ${digest} of ${normalizeReference(reference)} is unreadable: ${why}`,
        {
          data: { digest },
        }
      );
    }
    let size = 0;
    let blobs = 0;
    for (const m of [c.present, c.missing]) {
      for (const d of m.values()) {
        size += d.size;
        blobs++;
      }
    }
    for (const { descriptor } of c.wrongSize.values()) {
      size += descriptor.size;
      blobs++;
    }
    return { reference: normalizeReference(reference), digest: desc.digest, size, blobs };
  }

  /**
   * Mark-and-sweep garbage collection. Marks the closure of every reference (following
   * `subject` chains); unmarked blobs older than the grace period are candidates, deleted only
   * with `delete: true`, each re-checked under the store lock right before removal.
   * @param options - delete, gracePeriod, signal
   * @returns what was found and done
   * @throws RunledgerError `ARGUMENT_INVALID` for a bad grace period, `LOCK_TIMEOUT`
   * @example
   * ```ts
   * const report = await registry.gc({ delete: true, gracePeriod: '1h' });
   * ```
   */
  async gc(options: GcOptions = {}): Promise<GcReport> {
    return collectGarbage(this.#context(), options);
  }

  /**
   * Checks the whole store: re-hashes every blob and walks every reference's closure.
   * @param options - signal, progress (`phase: 'hash'`, bytes)
   * @returns the report; `ok` is false on any corrupt, missing, wrong-size or unreadable content
   * @throws RunledgerError `ABORTED`, `LAYOUT_INVALID`
   * @example
   * ```ts
   * const { ok, problems } = await registry.fsck();
   * ```
   */
  async fsck(
    options: { signal?: AbortSignal; onProgress?: (p: Progress) => void } = {}
  ): Promise<FsckReport> {
    return checkStore(this.#context(), options);
  }

  #context(): StoreContext {
    return {
      root: this.root,
      blobs: this.#blobs,
      lock: (fn, signal) => withLock(this.#lockPath, fn, this.#lockOptions(signal)),
    };
  }
}

async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw layoutInvalid(dir, 'it is a file, not a directory');
    throw ioError(e, 'read the directory', dir);
  }
}

function layoutInvalid(dir: string, why: string, cause?: unknown): RunledgerError {
  return new RunledgerError('LAYOUT_INVALID', `${dir} is not a runledger store: ${why}.`, {
    data: { root: dir },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Creates what a layout lacks; files appear whole (temp + link), so racing openers agree. */
async function initLayout(dir: string, names: ReadonlySet<string>): Promise<void> {
  try {
    await mkdir(join(dir, '.runledger', 'tmp'), { recursive: true });
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    if (!names.has(INDEX_FILE)) {
      const empty = serializeImageIndex({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_IMAGE_INDEX,
        manifests: [],
      });
      await createWhole(dir, INDEX_FILE, empty);
    }
    if (!names.has(OCI_LAYOUT_FILE)) await createWhole(dir, OCI_LAYOUT_FILE, serializeOciLayout());
  } catch (e) {
    throw ioError(e, 'initialise the store', dir);
  }
}

async function createWhole(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, '.runledger', 'tmp', ownedTempName('init'));
  await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, join(dir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function descriptorFor(
  mediaType: string,
  digest: Digest,
  size: number,
  artifactType: string | undefined
): Descriptor {
  return artifactType === undefined
    ? { mediaType, digest, size }
    : { mediaType, digest, size, artifactType };
}

/** Builds a descriptor for manifest or index bytes already verified against `digest`. */
function describeManifestBytes(digest: Digest, bytes: Uint8Array): Descriptor {
  let index: ImageIndex | undefined;
  try {
    const m = parseManifest(bytes);
    return descriptorFor(m.mediaType, digest, bytes.byteLength, m.artifactType);
  } catch (e) {
    try {
      index = parseImageIndex(bytes);
    } catch {
      throw e;
    }
  }
  return descriptorFor(
    index.mediaType ?? MEDIA_TYPE_IMAGE_INDEX,
    digest,
    bytes.byteLength,
    index.artifactType
  );
}

function cleanDescriptor(d: Descriptor): Descriptor {
  parseDigest(d.digest);
  if (!Number.isSafeInteger(d.size) || d.size < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Descriptor ${d.digest} has an invalid size ${d.size}.`
    );
  }
  return descriptorFor(d.mediaType ?? MEDIA_TYPE_MANIFEST, d.digest, d.size, d.artifactType);
}

function stripRefName(d: Descriptor): Descriptor {
  return descriptorFor(d.mediaType, d.digest, d.size, d.artifactType);
}

function refConflict(name: string, current: Digest, wanted: Digest): RunledgerError {
  return new RunledgerError(
    'REF_CONFLICT',
    `Reference ${name} already points at ${current}, not ${wanted}; remove it first ("runledger rm ${name}") or choose another name.`,
    { data: { reference: name, current, wanted } }
  );
}
