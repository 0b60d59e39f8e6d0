/**
 * The blob writer's flush when creating files is slow: when it flushes (a slow group; waiting
 * out more slow groups each time a flush did not help), and that the thread really runs
 * `sync -f` on the store and still writes every blob whole (the kill suite,
 * recording-kill.test.ts, kills it at random moments with the flush after every group).
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { settleWrites } from '../../src/store/blob-writer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { SlowCreations } from '../../src/store/slow-creations.js';
import { requireBuilt } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

beforeAll(() => requireBuilt()); // the thread runs the compiled program

/** Feeds groups of 64 blobs taking `micros` µs each; returns which ones set off a flush. */
function feed(pacer: SlowCreations, perBlob: readonly number[]): boolean[] {
  return perBlob.map((micros) => pacer.afterGroup(64, micros * 64));
}

describe('when the blob writer flushes because creating files is slow', () => {
  it('never while groups are quick, nor for a group too small to say', () => {
    const pacer = new SlowCreations();
    expect(feed(pacer, [20, 30, 80, 25])).toEqual([false, false, false, false]);
    expect(pacer.afterGroup(15, 15 * 900)).toBe(false);
    expect(pacer.afterGroup(16, 16 * 900)).toBe(true);
  });

  it('after each slow group while a flush helps (the next group quicker)', () => {
    const pacer = new SlowCreations();
    expect(feed(pacer, [400, 50, 400, 60, 400])).toEqual([true, false, true, false, true]);
    // The group after the flush a third of the time, still slow: it helped, so it flushes too.
    expect(feed(pacer, [130])).toEqual([true]);
  });

  it('waits out 4, then 8, then 16 slow groups while flushes do not help, and flushes again at once once one does', () => {
    const pacer = new SlowCreations();
    const slow = (n: number): number[] => Array.from({ length: n }, () => 900);
    // The first flush; the next group as slow: it did not help, 4 slow groups waited out (the
    // group weighing it is the first of them).
    expect(feed(pacer, slow(1))).toEqual([true]);
    expect(feed(pacer, slow(4))).toEqual([false, false, false, false]);
    expect(feed(pacer, slow(1))).toEqual([true]);
    // Did not help again: 8 waited out.
    expect(feed(pacer, slow(8))).toEqual(Array.from({ length: 8 }, () => false));
    expect(feed(pacer, slow(1))).toEqual([true]);
    expect(feed(pacer, slow(16))).toEqual(Array.from({ length: 16 }, () => false));
    expect(feed(pacer, slow(1))).toEqual([true]);
    // This one helped: the wait is forgotten, the next slow group flushes.
    expect(feed(pacer, [50, 900])).toEqual([false, true]);
  });

  it('quick groups in between do not count as waited out', () => {
    const pacer = new SlowCreations();
    expect(feed(pacer, [900, 900])).toEqual([true, false]); // did not help: 4 to wait out
    expect(feed(pacer, [20, 20, 20, 900, 900, 900, 900])).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it.runIf(process.platform === 'linux')(
    'the thread runs `sync -f` on the store after a group and writes every blob whole',
    async () => {
      // A `sync` first on PATH that notes its arguments and runs the real one.
      const bin = await tempDir();
      const log = join(bin, 'calls');
      const shim = join(bin, 'sync');
      await writeFile(shim, `#!/bin/sh\necho "$@" >> '${log}'\nexec /bin/sync "$@"\n`);
      await chmod(shim, 0o755);
      const before = {
        path: process.env['PATH'],
        flag: process.env['RUNLEDGER_TEST_FLUSH_EVERY_GROUP'],
      };
      // The thread takes its environment when it starts: with the first blob handed over below.
      process.env['PATH'] = `${bin}:${before.path ?? ''}`;
      process.env['RUNLEDGER_TEST_FLUSH_EVERY_GROUP'] = '1';
      try {
        const root = await tempDir();
        const registry = await LocalRegistry.open(root);
        const session = registry.openSession({ recoverable: false, groupedFlush: true });
        const batch = registry.batch({ session });
        const texts = Array.from({ length: 100 }, (_, i) => `{"run":${i}}`);
        const digests = texts.map((t) => batch.putBlobNow(new TextEncoder().encode(t)).digest);
        expect(batch.handOff(digests)?.length).toBe(100);
        await settleWrites(root);
        for (const [i, d] of digests.entries()) {
          expect(await readFile(join(root, 'blobs', 'sha256', d.slice(7)), 'utf8')).toBe(texts[i]);
        }
        // The flush runs after the answer: wait for its line.
        const blobDir = join(root, 'blobs', 'sha256');
        let calls = '';
        for (let k = 0; k < 200 && !calls.includes(blobDir); k++) {
          calls = await readFile(log, 'utf8').catch(() => '');
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(calls.split('\n')).toContain(`-f ${blobDir}`);
        await session.flush();
        await batch.commit({ syncDirectory: false });
        session.close();
        expect((await registry.fsck()).problems).toEqual([]);
      } finally {
        if (before.path === undefined) delete process.env['PATH'];
        else process.env['PATH'] = before.path;
        if (before.flag === undefined) delete process.env['RUNLEDGER_TEST_FLUSH_EVERY_GROUP'];
        else process.env['RUNLEDGER_TEST_FLUSH_EVERY_GROUP'] = before.flag;
      }
    }
  );
});
