import { readdir } from 'node:fs/promises';
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

  it('leaves nothing behind when discarded', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const batch = registry.batch();
    const { digest } = await batch.putBlob(enc.encode('never'));
    await batch.putBlobStream(Readable.from([Buffer.from('streamed')]));
    await batch.discard();
    expect(await registry.hasBlob(digest)).toBe(false);
    expect(await tmpFiles(registry.root)).toEqual([]);
  });
});
