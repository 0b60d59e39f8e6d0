/**
 * The background blob writer: a grouped-flush batch holds a small blob in memory; handed off, its
 * bytes come back for the caller's journal and a worker thread writes it (pinned first, left for
 * the session's grouped flush); every read and closure check waits for it; a stored copy is kept,
 * a damaged one replaced; what the thread cannot write is written on the main thread when awaited,
 * where a failure is an IO_ERROR and the bytes are kept for the next try.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import { settleWrites } from '../../src/store/blob-writer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const enc = new TextEncoder();

beforeAll(() => requireBuilt()); // the thread runs the compiled program

async function grouped(): Promise<{
  root: string;
  registry: LocalRegistry;
  session: ReturnType<LocalRegistry['openSession']>;
}> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const session = registry.openSession({ recoverable: false, groupedFlush: true });
  return { root, registry, session };
}

const blobFile = (root: string, digest: string): string =>
  join(root, 'blobs', 'sha256', digest.slice('sha256:'.length));
const temps = (root: string): string[] => readdirSync(join(root, '.runledger', 'tmp'));

describe('the background blob writer', () => {
  it('writes a handed-off blob in its thread: pinned first, then left for the grouped flush', async () => {
    const { root, registry, session } = await grouped();
    const batch = registry.batch({ session });
    const bytes = enc.encode('{"objective":1.5}');
    const { digest } = batch.putBlobNow(bytes);
    // Held in memory: no temp file, nothing in the store.
    expect([temps(root), existsSync(blobFile(root, digest))]).toEqual([[], false]);
    const carried = batch.handOff([digest]);
    expect(carried).toEqual([[digest, Buffer.from(bytes).toString('base64')]]);
    expect(batch.handOff([digest])).toBeUndefined(); // handed over once
    await settleWrites(root);
    expect(await readFile(blobFile(root, digest), 'utf8')).toBe('{"objective":1.5}');
    expect(await readFile(session.path, 'utf8')).toContain(`${digest}\n`);
    expect(session.unflushed).toBe(1);
    await session.flush();
    expect(session.unflushed).toBe(0);
    expect(temps(root)).toEqual([]);
    expect(await batch.commit({ syncDirectory: false })).toEqual([{ digest, size: bytes.length }]);
    session.close();
  });

  it('reads, streams and closure checks wait for what it holds', async () => {
    const { registry, session } = await grouped();
    const batch = registry.batch({ session });
    const config = batch.putBlobNow(enc.encode('{}'));
    const layer = batch.putBlobNow(enc.encode('layer bytes'));
    batch.handOff([config.digest, layer.digest]);
    // Nothing awaited in between: each call finds the blob.
    const [read, has, stat, streamed] = await Promise.all([
      registry.readBlob(layer.digest),
      registry.hasBlob(config.digest),
      registry.statBlob(layer.digest),
      (async () => {
        let n = 0;
        for await (const chunk of registry.streamBlob(layer.digest)) n += chunk.length;
        return n;
      })(),
    ]);
    expect(new TextDecoder().decode(read)).toBe('layer bytes');
    expect([has, stat.size, streamed]).toEqual([true, 11, 11]);

    const more = registry.batch({ session });
    const late = more.putBlobNow(enc.encode('late layer'));
    more.handOff([late.digest]);
    const descriptor = await registry.writeManifest(
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
        layers: [{ mediaType: 'application/octet-stream', ...late }],
      },
      { session }
    );
    expect(await registry.publishRef('localhost/writer/a:1', descriptor)).toBe('created');
    session.close();
  });

  it('a wait covers the blobs handed over before it, not those handed over while it waits', async () => {
    const { root, registry, session } = await grouped();
    const handOff = (text: string): string => {
      const batch = registry.batch({ session });
      const { digest } = batch.putBlobNow(enc.encode(text));
      batch.handOff([digest]);
      return digest;
    };
    const first = handOff('first');
    let settled = false;
    const waiting = settleWrites(root)!.then(() => (settled = true));
    // A recording that goes on: new blobs every turn of the event loop while the wait is under
    // way (a checkpoint's flush waited for all of them, so until recording stopped).
    let fed = 0;
    while (!settled && fed < 20_000) {
      for (let i = 0; i < 20; i++) handOff(`later ${fed++}`);
      await new Promise((r) => setImmediate(r));
    }
    await waiting;
    expect(fed).toBeLessThan(20_000);
    expect(await readFile(blobFile(root, first), 'utf8')).toBe('first');
    await settleWrites(root);
    session.close();
  });

  it('makes writers wait while its queue is full, and lets them on once the thread made room', async () => {
    const { root, registry, session } = await grouped();
    const batch = registry.batch({ session });
    expect(batch.roomFor(100)).toBeUndefined(); // nothing queued
    const digests = Array.from({ length: 300 }, (_, i) => {
      const info = batch.putBlobNow(enc.encode(`b${i}`));
      batch.handOff([info.digest]);
      return info;
    });
    // Past 256 blobs in its hands (no answer read in between) nothing more is held: the last
    // ones went to temp files, as without it (the thread may have one of its own open too).
    expect(temps(root).length).toBeGreaterThanOrEqual(300 - 256);
    const room = batch.roomFor(100);
    expect(room).toBeInstanceOf(Promise);
    await room;
    expect(batch.roomFor(100)).toBeUndefined();
    expect(batch.roomFor(16 * 1024 + 1)).toBeUndefined(); // never held: never waits
    await settleWrites(root);
    await batch.commit({ syncDirectory: false });
    for (const { digest } of digests) expect(existsSync(blobFile(root, digest))).toBe(true);
    expect(temps(root)).toEqual([]);
    session.close();
  });

  it('keeps a stored copy holding the same bytes, and replaces a damaged one', async () => {
    const { root, registry, session } = await grouped();
    const good = await registry.putBlob(enc.encode('stored already'));
    const damaged = enc.encode('damaged under its name');
    const digest = (await registry.putBlob(damaged)).digest;
    await writeFile(blobFile(root, digest), 'garbage');
    const batch = registry.batch({ session });
    batch.putBlobNow(enc.encode('stored already'));
    batch.putBlobNow(damaged);
    batch.handOff([good.digest, digest]);
    await settleWrites(root);
    expect(await readFile(blobFile(root, good.digest), 'utf8')).toBe('stored already');
    expect(await readFile(blobFile(root, digest), 'utf8')).toBe('damaged under its name');
    expect(temps(root)).toEqual([]);
    session.close();
  });

  it('what the thread cannot write is written when awaited; an IO_ERROR there keeps the bytes for the next try', async () => {
    const { root, registry, session } = await grouped();
    const tmp = join(root, '.runledger', 'tmp');
    await rm(tmp, { recursive: true });
    await writeFile(tmp, 'not a directory'); // no temp file can be made, in the thread or here
    const batch = registry.batch({ session });
    const { digest } = batch.putBlobNow(enc.encode('kept'));
    batch.handOff([digest]);
    await expectCode(settleWrites(root)!, 'IO_ERROR');
    await expectCode(registry.readBlob(digest), 'IO_ERROR');
    // Fixed: the next wait writes it.
    await rm(tmp);
    await mkdir(tmp);
    await settleWrites(root);
    expect(await readFile(blobFile(root, digest), 'utf8')).toBe('kept');
    expect(settleWrites(root)).toBeUndefined(); // nothing left
    session.close();
  });

  it('holds only small blobs of grouped-flush batches; one never handed off is written at commit', async () => {
    const { root, registry, session } = await grouped();
    const batch = registry.batch({ session });
    const large = batch.putBlobNow(new Uint8Array(16 * 1024 + 1).fill(1));
    expect(temps(root)).toHaveLength(1); // written at once, as before
    const small = batch.putBlobNow(enc.encode('metrics, say'));
    expect(temps(root)).toHaveLength(1);
    expect(batch.handOff([large.digest])).toBeUndefined();
    await batch.commit({ syncDirectory: false });
    expect(await readFile(blobFile(root, small.digest), 'utf8')).toBe('metrics, say');
    expect(existsSync(blobFile(root, large.digest))).toBe(true);
    expect(temps(root)).toEqual([]);
    session.close();

    const plain = registry.openSession({ recoverable: false });
    const other = registry.batch({ session: plain });
    other.putBlobNow(enc.encode('not grouped'));
    expect(temps(root)).toHaveLength(1); // a session without grouped flush writes at once
    await other.commit();
    plain.close();
  });
});
