/**
 * Store sessions: pins written before a blob is published, their file, and what GC makes of a
 * session of a live process, of a dead one, and of a dead one that backs a recovery.
 */
import { readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const enc = new TextEncoder();

beforeAll(() => requireBuilt());

async function aged(registry: LocalRegistry, digest: string): Promise<void> {
  const t = new Date(Date.now() - 48 * 3_600_000);
  await utimes((await registry.statBlob(digest)).path, t, t);
}

function sessionsOf(registry: LocalRegistry): Promise<string[]> {
  return readdir(join(registry.root, '.runledger', 'sessions')).catch(() => []);
}

/** A process that opens a session, pins `digests` (and a root), and exits without closing it. */
async function pinAndDie(
  root: string,
  options: { recoverable: boolean; recoverFrom?: string },
  digests: readonly string[]
): Promise<void> {
  const code = `
    const { LocalRegistry } = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
    const registry = await LocalRegistry.open(${JSON.stringify(root)});
    registry.openSession(${JSON.stringify(options)}).pin(${JSON.stringify(digests)});
  `;
  const { code: exit, stderr } = await startNode(['--input-type=module', '-e', code]).exited;
  expect(stderr).toBe('');
  expect(exit).toBe(0);
}

describe('StoreSession', () => {
  it('writes its file with the first pin (header, then one digest a line) and removes it on close', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ id: 'study-1', recoverable: false });
    expect(session.path).toBe(join(registry.root, '.runledger', 'sessions', 'study-1.pins'));
    expect(await sessionsOf(registry)).toEqual([]);
    const a = await registry.putBlob(enc.encode('a'), { session });
    const b = await registry.putBlob(enc.encode('b'), { session });
    session.pin([a.digest]); // already pinned: not written again
    session.sync();
    const [header, ...pins] = (await readFile(session.path, 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(header!)).toMatchObject({ v: 1, pid: process.pid, recoverable: false });
    expect(pins).toEqual([a.digest, b.digest]);
    session.close();
    expect(await sessionsOf(registry)).toEqual([]);
    // The id is free again.
    registry.openSession({ id: 'study-1', recoverable: false }).close();
  });

  it('pins every blob of a batch and a manifest written in it', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false });
    const batch = registry.batch({ session });
    const layer = await batch.putBlob(enc.encode('layer'));
    const config = await batch.putBlob(enc.encode('{}'));
    expect(await sessionsOf(registry)).toEqual([]); // nothing published yet
    await batch.commit();
    const manifest = await registry.writeManifest(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config },
        layers: [{ mediaType: 'application/octet-stream', ...layer }],
      },
      { session }
    );
    const pins = (await readFile(session.path, 'utf8')).trimEnd().split('\n').slice(1);
    expect(pins.sort()).toEqual([layer.digest, config.digest, manifest.digest].sort());
    session.close();
  });

  it('refuses a malformed or taken id, a recoverFrom outside the store, a missing recoverable', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    expectError(() => registry.openSession({ id: '../x', recoverable: false }), 'ARGUMENT_INVALID');
    expectError(() => registry.openSession({ id: '', recoverable: false }), 'ARGUMENT_INVALID');
    const s = registry.openSession({ id: 'taken', recoverable: false });
    expectError(() => registry.openSession({ id: 'taken', recoverable: true }), 'ARGUMENT_INVALID');
    expectError(
      () => registry.openSession({ recoverable: true, recoverFrom: '/etc/passwd' }),
      'ARGUMENT_INVALID'
    );
    expectError(
      () => registry.openSession({ recoverable: true, recoverFrom: '../outside' }),
      'ARGUMENT_INVALID'
    );
    expectError(
      () => registry.openSession({ recoverable: 'yes' } as unknown as { recoverable: boolean }),
      'ARGUMENT_INVALID'
    );
    await expectCode(registry.removeSessions(['a/b']), 'ARGUMENT_INVALID');
    s.close();
  });
});

describe('gc and sessions', () => {
  it("keeps a live session's pins however old, and lets them go once it is closed", async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const session = registry.openSession({ recoverable: false });
    const blob = await registry.putBlob(enc.encode('pinned'), { session });
    await aged(registry, blob.digest);
    const kept = await registry.gc({ delete: true });
    expect([kept.deleted.count, kept.pinned.count, kept.sessions.live]).toEqual([0, 1, 1]);
    expect(await registry.hasBlob(blob.digest)).toBe(true);
    session.close();
    const gone = await registry.gc({ delete: true });
    expect(gone.deleted.count).toBe(1);
    expect(await registry.hasBlob(blob.digest)).toBe(false);
  });

  it('keeps the whole closure of a pinned root manifest, subject chain included', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const parent = await writeArtifact(registry, { layers: ['parent layer'] });
    const child = await writeArtifact(registry, {
      layers: ['child layer'],
      config: '{"child":1}',
      subject: parent.descriptor,
    });
    const session = registry.openSession({ recoverable: false });
    session.pinRoot(child.descriptor);
    const report = await registry.gc({ delete: true, gracePeriod: 0 });
    expect([report.deleted.count, report.pinned.count]).toEqual([0, 6]);
    session.close();
    expect((await registry.gc({ delete: true, gracePeriod: 0 })).deleted.count).toBe(6);
  });

  it('ignores the pins of a dead session and removes its file (gc --delete only)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const blob = await registry.putBlob(enc.encode('orphaned by a dead writer'));
    await pinAndDie(registry.root, { recoverable: false }, [blob.digest]);
    const dry = await registry.gc({ gracePeriod: 0 });
    expect(dry.sessions).toEqual({ live: 0, recoverable: 0, ended: 1 });
    expect(dry.candidates.digests).toEqual([blob.digest]);
    expect(await sessionsOf(registry)).toHaveLength(1);
    const real = await registry.gc({ delete: true, gracePeriod: 0 });
    expect(real.deleted.count).toBe(1);
    expect(await sessionsOf(registry)).toEqual([]);
  });

  it('keeps the pins of a dead recoverable session while its recoverFrom file exists', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const blob = await registry.putBlob(enc.encode('named by a crash journal'));
    const journal = join(registry.root, '.runledger', 'journal-of-test');
    await writeFile(journal, 'journal');
    await pinAndDie(registry.root, { recoverable: true, recoverFrom: journal }, [blob.digest]);
    const kept = await registry.gc({ delete: true, gracePeriod: 0 });
    expect([kept.deleted.count, kept.sessions.recoverable]).toEqual([0, 1]);
    await rm(journal);
    const gone = await registry.gc({ delete: true, gracePeriod: 0 });
    expect([gone.deleted.count, gone.sessions.ended]).toEqual([1, 1]);
    expect(await sessionsOf(registry)).toEqual([]);
  });

  it('keeps the pins of a dead recoverable session until removeSessions', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const blob = await registry.putBlob(enc.encode('recover me'));
    await pinAndDie(registry.root, { recoverable: true }, [blob.digest]);
    expect((await registry.gc({ delete: true, gracePeriod: 0 })).deleted.count).toBe(0);
    const [file] = await sessionsOf(registry);
    await registry.removeSessions([file!.replace(/\.pins$/, '')]);
    const gone = await registry.gc({ delete: true, gracePeriod: 0 });
    expect(gone.deleted.count).toBe(1);
    expect(await registry.hasBlob(blob.digest as Digest)).toBe(false);
  });
});
