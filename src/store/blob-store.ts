/**
 * @module store/blob-store
 * The content-addressed blob files of a layout: temp write with hashing, grouped durability,
 * no-clobber publish, and verified reads. Used only by LocalRegistry.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, writeSync, type Stats } from 'node:fs';
import { link, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import { Digester, digestOf, isDigest, type Digest } from '../oci/digest.js';
import { blobPath } from '../oci/layout.js';
import type { Progress } from './types.js';

/** A blob written to a temp file, hashed, not yet published. */
export interface PendingBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly tempPath: string;
  /** Whether the temp file was already fsynced. */
  synced: boolean;
}

/** Options for writing one blob. */
export interface WriteBlobOptions {
  /** The digest the content must have; anything else is `DIGEST_MISMATCH` and nothing is kept. */
  readonly expectedDigest?: Digest;
  /** The size the content must have; a short or long stream is `SIZE_MISMATCH`. */
  readonly expectedSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Fsync the temp file before closing it (single large blobs). @default false */
  readonly sync?: boolean;
}

/** Below this many files a batch fsyncs each; at or above, one `syncfs` flushes them all. */
const SYNCFS_THRESHOLD = 16;

export class BlobStore {
  readonly root: string;
  readonly tmpDir: string;
  readonly blobDir: string;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, '.runledger', 'tmp');
    this.blobDir = join(root, 'blobs', 'sha256');
  }

  path(digest: Digest): string {
    return join(this.root, blobPath(digest));
  }

  async stat(digest: Digest): Promise<Stats | undefined> {
    try {
      return await stat(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(e, 'stat blob', this.path(digest));
    }
  }

  #tempPath(): string {
    return join(this.tmpDir, `blob-${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  #checkExpected(digest: Digest, size: number, options: WriteBlobOptions): void {
    if (options.expectedSize !== undefined && size !== options.expectedSize) {
      throw sizeMismatch(options.expectedDigest ?? digest, options.expectedSize, size);
    }
    if (options.expectedDigest !== undefined && digest !== options.expectedDigest) {
      throw new RunledgerError(
        'DIGEST_MISMATCH',
        `Content expected to be ${options.expectedDigest} hashes to ${digest}.`,
        { data: { expected: options.expectedDigest, actual: digest } }
      );
    }
  }

  /** Writes bytes to a temp file; nothing is published. */
  writeTempBytes(bytes: Uint8Array, options: WriteBlobOptions = {}): PendingBlob {
    throwIfAborted(options.signal);
    const digest = digestOf(bytes);
    this.#checkExpected(digest, bytes.byteLength, options);
    const tempPath = this.#tempPath();
    // Small blobs dominate experiment stores; synchronous calls here cost ~30 µs a blob against
    // ~4 thread-pool hops for the async form (measured with 10,000 1 KiB blobs).
    let fd: number | undefined;
    try {
      fd = openSync(tempPath, 'wx', 0o644);
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off);
      if (options.sync === true) fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      void unlink(tempPath).catch(() => undefined);
      throw ioError(e, 'write a temp blob file', tempPath);
    }
    options.onProgress?.({ phase: 'write', loaded: bytes.byteLength, total: bytes.byteLength });
    return { digest, size: bytes.byteLength, tempPath, synced: options.sync === true };
  }

  /** Streams content to a temp file, hashing while writing; nothing is published. */
  async writeTempStream(
    source: AsyncIterable<Uint8Array>,
    options: WriteBlobOptions = {}
  ): Promise<PendingBlob> {
    throwIfAborted(options.signal);
    const tempPath = this.#tempPath();
    let handle;
    try {
      handle = await open(tempPath, 'wx', 0o644);
    } catch (e) {
      throw ioError(e, 'create a temp blob file', tempPath);
    }
    const hasher = new Digester();
    const total = options.expectedSize;
    let writing: Promise<unknown> = Promise.resolve();
    try {
      for await (const chunk of source) {
        throwIfAborted(options.signal);
        hasher.update(chunk);
        if (total !== undefined && hasher.size > total) {
          throw sizeMismatch(options.expectedDigest, total, hasher.size, true);
        }
        // Hash the next chunk while the previous one is being written.
        await writing;
        writing = writeAll(handle, chunk);
        options.onProgress?.({ phase: 'write', loaded: hasher.size, total });
      }
      await writing;
      const { digest, size } = hasher.finish();
      this.#checkExpected(digest, size, options);
      if (options.sync === true) await handle.sync();
      await handle.close();
      return { digest, size, tempPath, synced: options.sync === true };
    } catch (e) {
      await writing.catch(() => undefined);
      await handle.close().catch(() => undefined);
      await unlink(tempPath).catch(() => undefined);
      if (e instanceof RunledgerError) throw e;
      if (options.signal?.aborted === true) throwIfAborted(options.signal);
      throw ioError(e, 'write a temp blob file', tempPath);
    }
  }

  /** Makes every pending temp file durable, in as few flushes as possible. */
  async syncTemps(pending: readonly PendingBlob[]): Promise<void> {
    const todo = pending.filter((p) => !p.synced);
    if (todo.length === 0) return;
    if (todo.length >= SYNCFS_THRESHOLD && (await syncFileSystem(this.tmpDir))) {
      for (const p of todo) p.synced = true;
      return;
    }
    await Promise.all(
      todo.map(async (p) => {
        const h = await open(p.tempPath, 'r').catch((e: unknown) => {
          throw ioError(e, 'open', p.tempPath);
        });
        try {
          await h.sync();
          p.synced = true;
        } finally {
          await h.close();
        }
      })
    );
  }

  /**
   * Publishes a synced temp file under its digest without ever replacing a good blob: link
   * (no clobber); when the blob exists it is verified and its mtime touched for GC grace; a
   * corrupt existing blob is replaced by the verified temp.
   */
  async publish(p: PendingBlob): Promise<void> {
    const target = this.path(p.digest);
    try {
      await link(p.tempPath, target);
      await unlink(p.tempPath).catch(() => undefined);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        await unlink(p.tempPath).catch(() => undefined);
        throw ioError(e, 'publish blob', target);
      }
    }
    const good = await this.verifyFile(p.digest, p.size).catch(() => false);
    try {
      if (good) {
        const now = new Date();
        await utimes(target, now, now);
        await unlink(p.tempPath).catch(() => undefined);
      } else {
        await rename(p.tempPath, target); // repair: the existing file was corrupt
      }
    } catch (e) {
      await unlink(p.tempPath).catch(() => undefined);
      throw ioError(e, 'publish blob', target);
    }
  }

  async syncBlobDir(): Promise<void> {
    await syncDir(this.blobDir);
  }

  async discard(pending: readonly PendingBlob[]): Promise<void> {
    await Promise.all(pending.map((p) => unlink(p.tempPath).catch(() => undefined)));
  }

  /** Whether the blob file hashes to its digest (and has `size`, when given). */
  async verifyFile(digest: Digest, size?: number): Promise<boolean> {
    const actual = await this.hashFile(digest);
    return actual.digest === digest && (size === undefined || actual.size === size);
  }

  async hashFile(digest: Digest, signal?: AbortSignal): Promise<{ digest: Digest; size: number }> {
    const h = new Digester();
    const path = this.path(digest);
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
        h.update(chunk as Buffer);
      }
    } catch (e) {
      throwIfAborted(signal);
      throw readError(e, digest, path);
    }
    return h.finish();
  }

  /** Reads a whole blob, verifying size and digest. */
  async read(digest: Digest, expectedSize?: number): Promise<Uint8Array> {
    const path = this.path(digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw readError(e, digest, path);
    }
    if (expectedSize !== undefined && bytes.byteLength !== expectedSize) {
      throw sizeMismatch(digest, expectedSize, bytes.byteLength, false, path);
    }
    const actual = digestOf(bytes);
    if (actual !== digest) throw digestMismatch(digest, actual, path);
    return bytes;
  }

  /** Streams a blob; the digest is checked at the end and a mismatch thrown before completion. */
  async *stream(
    digest: Digest,
    options: { expectedSize?: number; signal?: AbortSignal } = {}
  ): AsyncGenerator<Uint8Array, void, undefined> {
    const path = this.path(digest);
    const h = new Digester();
    try {
      const s = await stat(path);
      if (options.expectedSize !== undefined && s.size !== options.expectedSize) {
        throw sizeMismatch(digest, options.expectedSize, s.size, false, path);
      }
      const rs = createReadStream(path, {
        highWaterMark: 1 << 20,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      for await (const chunk of rs) {
        h.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (e) {
      throwIfAborted(options.signal);
      throw readError(e, digest, path);
    }
    const actual = h.finish();
    if (actual.digest !== digest) throw digestMismatch(digest, actual.digest, path);
  }

  /** Every blob file name under `blobs/sha256`, split into digests and stray names. */
  async list(): Promise<{ digests: Digest[]; stray: string[] }> {
    let names: string[];
    try {
      names = await readdir(this.blobDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { digests: [], stray: [] };
      throw ioError(e, 'list', this.blobDir);
    }
    const digests: Digest[] = [];
    const stray: string[] = [];
    for (const n of names.sort()) {
      const d = `sha256:${n}`;
      if (isDigest(d)) digests.push(d);
      else stray.push(n);
    }
    return { digests, stray };
  }

  async delete(digest: Digest): Promise<void> {
    await unlink(this.path(digest)).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw ioError(e, 'delete blob', this.path(digest));
      }
    });
  }
}

async function writeAll(
  handle: import('node:fs/promises').FileHandle,
  chunk: Uint8Array
): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/** Fsyncs a directory so renames and links in it survive a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r').catch((e: unknown) => {
    throw ioError(e, 'open directory', dir);
  });
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * `syncfs(2)` through coreutils `sync -f`: one call flushes every dirty file of the file system,
 * measured here at 0.1 s for 10,000 small files against 2.4 s for as many parallel fsyncs.
 * Returns false when unavailable, and the caller falls back to fsync per file.
 */
function syncFileSystem(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', path], { timeout: 120_000 }, (err) => resolve(err === null));
  });
}

function readError(e: unknown, digest: Digest, path: string): RunledgerError {
  if (e instanceof RunledgerError) return e;
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
    return new RunledgerError('BLOB_NOT_FOUND', `Blob ${digest} is not in the store (${path}).`, {
      data: { digest, path },
    });
  }
  return ioError(e, 'read blob', path);
}

function digestMismatch(digest: Digest, actual: Digest, path: string): RunledgerError {
  return new RunledgerError(
    'DIGEST_MISMATCH',
    `Blob ${digest} at ${path} does not match its digest (it hashes to ${actual}); run "runledger fsck" and restore the blob from a copy.`,
    { data: { digest, actual, path } }
  );
}

function sizeMismatch(
  digest: Digest | undefined,
  expected: number,
  actual: number,
  overflow = false,
  path?: string
): RunledgerError {
  const what = digest === undefined ? 'Content' : `Blob ${digest}`;
  const where = path === undefined ? '' : ` at ${path}`;
  const message = overflow
    ? `${what} runs over its declared size of ${expected} bytes.`
    : `${what}${where} is ${actual} bytes, not the declared ${expected}.`;
  return new RunledgerError('SIZE_MISMATCH', message, {
    data: { digest, expected, actual, path },
  });
}
