/**
 * What a session knows and holds back: with `groupedFlush` small blobs are published at once and
 * their content flushed together (flush, sync, or a batch committed with its directory); large
 * ones at once. Blobs a live session published are taken as present by the closure check under
 * the lock, and no longer once it is closed. A committed batch leaves nothing behind but its blobs.
 */
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { GROUPED_FLUSH_MAX } from '../../src/store/session.js';

const enc = new TextEncoder();

describe('groupedFlush sessions', () => {
  it('publish small blobs at once and leave their content for flush(); large ones are flushed at commit', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false, groupedFlush: true });
    const batch = registry.batch({ session });
    const small = await batch.putBlob(enc.encode('small'));
    const large = await batch.putBlob(new Uint8Array(GROUPED_FLUSH_MAX + 1).fill(7));
    await batch.commit({ syncDirectory: false });
    expect(await registry.hasBlob(small.digest)).toBe(true);
    expect(await registry.hasBlob(large.digest)).toBe(true);
    expect(session.unflushed).toBe(1); // the small one
    await session.flush();
    expect(session.unflushed).toBe(0);
    // publishNow too; sync() flushes what flush() has not, blocking.
    const again = registry.batch({ session });
    const a = await again.putBlob(enc.encode('a'));
    await again.publishNow([a.digest]);
    expect(await registry.hasBlob(a.digest)).toBe(true);
    expect(session.unflushed).toBe(1);
    session.sync();
    expect(session.unflushed).toBe(0);
    // A batch committed with its directory synced runs the grouped flush then.
    const third = registry.batch({ session });
    await third.putBlob(enc.encode('b'));
    await third.commit();
    expect(session.unflushed).toBe(0);
    session.close();
  });

  it('a session without it flushes every blob before publishing it, as before', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false });
    const batch = registry.batch({ session });
    await batch.putBlob(enc.encode('x'));
    await batch.commit({ syncDirectory: false });
    expect(session.unflushed).toBe(0);
    session.close();
  });
});

describe('blobs a live session knows', () => {
  it('are taken as present by publishRef, until the session closes', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false });
    const batch = registry.batch({ session });
    const config = await batch.putBlob(enc.encode('{}'));
    const layer = await batch.putBlob(enc.encode('known layer'));
    await batch.commit();
    const descriptor = await registry.writeManifest(
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_MANIFEST,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
        layers: [{ mediaType: 'application/octet-stream', ...layer }],
      },
      { session }
    );
    // Taken away behind the store's back (no GC would: the session pins it).
    await rm((await registry.statBlob(layer.digest)).path);
    expect(await registry.publishRef('localhost/known/a:1', descriptor)).toBe('created');
    session.close();
    // Closed: the closure check looks again, and finds it missing.
    await expectCode(registry.publishRef('localhost/known/b:1', descriptor), 'CLOSURE_INCOMPLETE');
  });
});

describe('a writer of many small blobs', () => {
  it('leaves nothing in the store but its blobs once its batch is committed', async () => {
    // Copying a store right after a commit (cp -r, as the OMMX interop test does) meets only
    // files that stay: no temp file created ahead that a timer removes later.
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const before = await filesUnder(root);
    const batch = registry.batch();
    const digests = new Set<string>();
    for (let i = 0; i < 200; i++) {
      digests.add((await batch.putBlob(enc.encode(`blob ${i}`))).digest);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await batch.commit();
    const added = (await filesUnder(root)).filter((f) => !before.includes(f));
    expect(added.sort()).toEqual(
      [...digests].map((d) => join('blobs', 'sha256', d.slice('sha256:'.length))).sort()
    );
  });
});

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}
