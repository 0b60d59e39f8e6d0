/**
 * What a session knows and holds back: with `groupedFlush` small blobs are published at once and
 * their content flushed together (flush, sync, or a batch committed with its directory); large
 * ones at once. Blobs a live session published are taken as present by the closure check under
 * the lock, and no longer once it is closed. Spare temp files (store/temp-pool) come and go with
 * the writes that use them, and a killed writer's are removed by gc.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { GROUPED_FLUSH_MAX } from '../../src/store/session.js';
import { spareDir } from '../../src/store/temp-pool.js';

const enc = new TextEncoder();

beforeAll(() => requireBuilt());

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

describe('spare temp files', () => {
  it('are kept while blobs come fast, in their own directory, and removed at exit', async () => {
    const root = await tempDir();
    await LocalRegistry.open(root);
    const code = `
      const { LocalRegistry } = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
      const registry = await LocalRegistry.open(${JSON.stringify(root)});
      const batch = registry.batch();
      for (let i = 0; i < 200; i++) {
        await batch.putBlob(new TextEncoder().encode('blob ' + i));
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await batch.commit();
      const { readdirSync } = await import('node:fs');
      console.log('spares ' + readdirSync(${JSON.stringify(spareDir(root))}).length);
    `;
    const {
      code: exit,
      stdout,
      stderr,
    } = await startNode(['--input-type=module', '-e', code]).exited;
    expect([exit, stderr]).toEqual([0, '']);
    expect(Number(/spares (\d+)/.exec(stdout)?.[1])).toBeGreaterThan(0);
    expect(await readdir(spareDir(root))).toEqual([]);
    expect(await readdir(join(root, '.runledger', 'tmp'))).toEqual([]);
  });

  it('a killed writer leaves its spares to gc, which removes them (its pid is gone)', async () => {
    const root = await tempDir();
    await LocalRegistry.open(root);
    const code = `
      const { LocalRegistry } = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
      const registry = await LocalRegistry.open(${JSON.stringify(root)});
      const batch = registry.batch();
      for (let i = 0; i < 100; i++) {
        await batch.putBlob(new TextEncoder().encode('blob ' + i));
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      console.log('ready');
      setInterval(() => undefined, 1000);
    `;
    const child = startNode(['--input-type=module', '-e', code]);
    await child.waitFor('ready');
    child.kill('SIGKILL');
    await child.exited;
    const left = await readdir(spareDir(root));
    expect(left.length).toBeGreaterThan(0);
    const registry = await LocalRegistry.open(root);
    const dry = await registry.gc();
    expect(dry.tempFiles.count).toBeGreaterThanOrEqual(left.length);
    await registry.gc({ delete: true });
    expect(await readdir(spareDir(root))).toEqual([]);
  });
});
