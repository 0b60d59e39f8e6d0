/**
 * @module store/local-registry
 * LocalRegistry: runledger's content-addressed store on disk. Its root is a valid OCI image
 * layout (`oci-layout`, `index.json`, `blobs/sha256/…`), so skopeo and any OCI tool read it;
 * runledger's own state lives under `.runledger/`, which the layout ignores.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import { parseImageIndex } from '../oci/image-index.js';
import { parseManifest, serializeManifest } from '../oci/manifest.js';
import { MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import { BlobBatch } from './blob-batch.js';
import { afterWrites, settleWrites } from './blob-writer.js';
import { BlobStore, type PendingBlob, type TempFile } from './blob-store.js';
import { flushFiles } from './flush.js';
import { rememberedManifest, rememberManifest, walkClosure } from './closure.js';
import type { StoreContext } from './context.js';
import { ANNOTATION_UPDATED_AT, readRefTable, writeRefTable, type RefTable } from './index-json.js';
import { checkStore } from './fsck.js';
import { collectGarbage } from './gc.js';
import { withLock } from './lock.js';
import { createWhole, openLayout } from './open-layout.js';
import { pruneRefs } from './prune.js';
import {
  confirmPresent,
  knownPresent,
  removeSessionFiles,
  StoreSession,
  type SessionOptions,
} from './session.js';
import type {
  BlobInfo,
  FsckReport,
  GcOptions,
  GcReport,
  ListRefsOptions,
  Progress,
  PruneOptions,
  PruneReport,
  PutBlobOptions,
  RefEntry,
  SessionWriteOptions,
  SizeReport,
} from './types.js';

/** Options of {@link LocalRegistry.open}. */
export interface LocalRegistryOptions {
  /** Environment to read `RUNLEDGER_HOME` / `XDG_DATA_HOME` / `HOME` from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for another process holding the store lock. @default 30000 */
  readonly lockTimeoutMs?: number;
}

const CHECKPOINT_RE = /^[0-9a-f]{8}\.runledger\.local\/checkpoint:/;

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
    const real = await openLayout(dir);
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
    await settleWrites(this.root);
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
    await settleWrites(this.root);
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
    await settleWrites(this.root);
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
    const d = parseDigest(digest);
    return afterWrites(this.root, () => this.#blobs.stream(d, options));
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
   * Makes blobs already in the store durable: their content (one `syncfs` for many), then
   * `blobs/sha256`. For blobs another process published for a grouped flush it may never have
   * made (a crash journal's, before a restore checkpoints them); absent blobs are skipped.
   * @param digests - the blobs
   * @returns when flushed
   * @throws RunledgerError `IO_ERROR`
   * @example
   * ```ts
   * await registry.flushBlobs([layer.digest]);
   * ```
   */
  async flushBlobs(digests: Iterable<Digest>): Promise<void> {
    await settleWrites(this.root);
    const paths: string[] = [];
    for (const d of new Set(digests)) {
      if ((await this.#blobs.stat(d)) !== undefined) paths.push(this.#blobs.path(d));
    }
    await flushFiles(this.#blobs.blobDir, paths);
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
      session?.published([p.digest]);
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
   * Serializes a manifest canonically and stores it durably. The closure check of the reference
   * that publishes it then takes its children from memory instead of reading it back.
   * @param manifest - the manifest
   * @param options - the session that pins it; `serialized`, the manifest's canonical bytes when
   *   the caller assembled them already (from parts serialized once, for a manifest of many
   *   layers): stored as given, so they must be exactly what `serializeManifest(manifest)` gives
   * @returns its descriptor (media type, digest, size, artifactType)
   * @throws RunledgerError `IO_ERROR`
   */
  async writeManifest(
    manifest: Manifest,
    options: SessionWriteOptions & { readonly serialized?: Uint8Array } = {}
  ): Promise<Descriptor> {
    const { serialized, ...rest } = options;
    const bytes = serialized ?? serializeManifest(manifest);
    const { digest, size } = await this.putBlob(bytes, rest);
    rememberManifest(digest, manifest);
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
    // The bytes are verified; a manifest this process wrote need not be parsed back (20,000
    // layers are 3 MB of JSON).
    return { manifest: rememberedManifest(parseDigest(digest)) ?? parseManifest(bytes), bytes };
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
    return pruneRefs(this.#context(), options);
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
    // Blobs handed to the background writer are in the store once it wrote them.
    await settleWrites(this.root);
    // Under the lock: what a session of this process published or saw is still there (GC keeps
    // it), so only the rest is stat'ed — a checkpoint of 10,000 runs stats its few new blobs.
    const c = await walkClosure(this.#blobs, [desc], {
      subjects: true,
      known: knownPresent(this.root),
    });
    const bad = [...c.missing.keys(), ...c.wrongSize.keys(), ...c.invalid.keys()];
    if (bad.length === 0) confirmPresent(this.root, c.present.keys());
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
