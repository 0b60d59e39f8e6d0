import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const enc = new TextEncoder();

async function tmpFiles(root: string): Promise<string[]> {
  return readdir(join(root, '.runledger', 'tmp'));
}

describe('BlobBatch', () => {
  it('makes many blobs durable in one commit, deduplicating equal content', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const batch = registry.batch();
    const infos = [];
    for (let i = 0; i < 40; i++) infos.push(await batch.putBlob(enc.encode(`blob ${i % 30}`)));
    expect(batch.size).toBe(30);
    for (const i of infos) expect(await registry.hasBlob(i.digest)).toBe(false);
    const committed = await batch.commit();
    expect(committed).toHaveLength(30);
    for (const i of infos) expect(await registry.hasBlob(i.digest)).toBe(true);
    expect(await tmpFiles(registry.root)).toEqual([]);
    await expectCode(batch.putBlob(enc.encode('late')), 'ARGUMENT_INVALID');
  });

  it('publishNow and commit running at once share no temp file: every blob lands once', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    for (let round = 0; round < 10; round++) {
      const batch = registry.batch();
      const infos = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          batch.putBlob(new TextEncoder().encode(`blob ${round} ${i}`))
        )
      );
      const digests = infos.map((b) => b.digest);
      // The crash journal publishes blobs while the run's close commits the whole batch.
      await Promise.all([
        batch.publishNow(digests.slice(0, 30)),
        batch.commit(),
        batch.publishNow(digests.slice(10)),
      ]);
      for (const [i, d] of digests.entries()) {
        expect(new TextDecoder().decode(await registry.readBlob(d))).toBe(`blob ${round} ${i}`);
      }
    }
    expect(await readdir(join(registry.root, '.runledger', 'tmp'))).toEqual([]);
    expect((await registry.fsck()).ok).toBe(true);
  });

  it('publishNow in a grouped-flush session: pinned, published, and when another writer published the blob meanwhile, kept as theirs', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false, groupedFlush: true });
    try {
      const batch = registry.batch({ session });
      const a = await batch.putBlob(enc.encode('alone'));
      await batch.publishNow([a.digest]);
      expect(await registry.hasBlob(a.digest)).toBe(true);
      expect(session.unflushed).toBe(1); // left for the grouped flush
      expect((await readFile(session.path, 'utf8')).includes(a.digest)).toBe(true); // pinned
      // Another process publishes the same content between this write and its publish.
      const b = await batch.putBlob(enc.encode('raced'));
      const other = registry.batch();
      await other.putBlob(enc.encode('raced'));
      await other.commit();
      await batch.publishNow([b.digest]);
      expect(new TextDecoder().decode(await registry.readBlob(b.digest))).toBe('raced');
      await batch.commit();
      await session.flush();
      expect(session.unflushed).toBe(0);
      expect(await tmpFiles(registry.root)).toEqual([]);
      expect((await registry.fsck()).ok).toBe(true);
    } finally {
      session.close();
    }
  });

  it('leaves nothing behind when discarded', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const batch = registry.batch();
    const { digest } = await batch.putBlob(enc.encode('never'));
    await batch.putBlobStream(Readable.from([Buffer.from('streamed')]));
    await batch.discard();
    expect(await registry.hasBlob(digest)).toBe(false);
    expect(await tmpFiles(registry.root)).toEqual([]);
  });

  describe('a blob the store holds already', () => {
    /** A store holding `bytes`, its blob file's mtime set back a year. */
    async function storeHolding(bytes: Uint8Array) {
      const registry = await LocalRegistry.open(await tempDir());
      const { digest } = await registry.putBlob(bytes);
      const path = (await registry.statBlob(digest)).path;
      const old = new Date(Date.now() - 365 * 86_400_000);
      await utimes(path, old, old);
      return { registry, digest, path, before: await stat(path) };
    }

    it('is not written again: no temp file, the same file touched at commit', async () => {
      const bytes = enc.encode('{"status":"optimal"}');
      const { registry, digest, path, before } = await storeHolding(bytes);
      const batch = registry.batch();
      expect((await batch.putBlob(bytes)).digest).toBe(digest);
      expect(await tmpFiles(registry.root)).toEqual([]);
      expect(Buffer.from((await batch.readPending(digest, 1024)) ?? []).toString()).toBe(
        '{"status":"optimal"}'
      );
      await batch.commit();
      const after = await stat(path);
      expect(after.ino).toBe(before.ino);
      expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
      expect(Buffer.from(await registry.readBlob(digest)).toString()).toBe('{"status":"optimal"}');
    });

    it('of 1 MiB (an instance every trial solves) is not written again either', async () => {
      const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) % 251);
      const { registry, digest, path, before } = await storeHolding(bytes);
      const batch = registry.batch();
      await batch.putBlob(bytes);
      expect(await tmpFiles(registry.root)).toEqual([]);
      await batch.commit();
      const after = await stat(path);
      expect([after.ino, after.mtimeMs > before.mtimeMs]).toEqual([before.ino, true]);
      expect(await registry.readBlob(digest)).toEqual(bytes);
    });

    it('is written anew when it vanished before the commit, from a copy of the bytes', async () => {
      const bytes = enc.encode('kept by the batch');
      const { registry, digest, path } = await storeHolding(bytes);
      const batch = registry.batch({ session: registry.openSession({ recoverable: false }) });
      await batch.putBlob(bytes);
      bytes.fill(0); // the caller's buffer reused: the batch kept its own copy
      await rm(path); // GC took it between the write and the commit
      await batch.commit();
      expect(Buffer.from(await registry.readBlob(digest)).toString()).toBe('kept by the batch');
      expect(await tmpFiles(registry.root)).toEqual([]);
    });

    it('stays in the store when the batch is discarded', async () => {
      const bytes = enc.encode('not the batch to remove');
      const { registry, digest } = await storeHolding(bytes);
      const batch = registry.batch();
      await batch.putBlob(bytes);
      await batch.discard();
      expect(Buffer.from(await registry.readBlob(digest)).toString()).toBe(
        'not the batch to remove'
      );
    });

    it('is written through a temp file when the stored copy is corrupt, and repaired', async () => {
      const bytes = enc.encode('precious');
      const { registry, digest, path } = await storeHolding(bytes);
      await writeFile(path, 'preciouz');
      const batch = registry.batch();
      await batch.putBlob(bytes);
      await batch.commit();
      expect(Buffer.from(await registry.readBlob(digest)).toString()).toBe('precious');
    });
  });
});
