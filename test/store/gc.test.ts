/**
 * GC never deletes what a live or recoverable writer needs (issue 13 part 3), and removes what
 * an interrupted import left (part 7): one regression test per hole GC had, with real child
 * processes (the built package and CLI) where the hole involves another process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../src/archive/export.js';
import { AutosavePolicy } from '../../src/experiment/checkpoint.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { withLock } from '../../src/store/lock.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { CLI_BIN, runCli, startNode, type NodeChild } from '../helpers/child.js';
import { readWhole } from '../helpers/read-whole.js';
import { tempDir } from '../helpers/temp.js';

const RECORDER = fileURLToPath(new URL('./children/recorder.mjs', import.meta.url));

beforeAll(() => requireBuilt());

async function ls(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).sort();
}

/** Polls until `ready` holds; fails when the child it waits on exits first. */
async function until(ready: () => Promise<boolean>, child: NodeChild): Promise<void> {
  let ended = false;
  void child.exited.then(() => (ended = true));
  while (!(await ready())) {
    if (ended) throw new Error(`the child ended first: ${(await child.exited).stderr}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('gc --delete --grace 0 beside a live experiment', () => {
  it('keeps the blobs of closed runs no checkpoint holds yet: the commit then loads whole', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create('ghcr.io/acme/gc:closed', {
      registry,
      handleSignals: false,
    });
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    for (let r = 0; r < 2; r++) {
      await exp.run(async (run) => {
        run.logParameter('r', r);
        await run.logJson('result', { r });
        await run.logText('log', `run ${r}`);
      });
    }
    await exp.logText('notes', 'experiment notes');
    const report = await registry.gc({ delete: true, gracePeriod: 0 });
    // Before sessions, this commit failed CLOSURE_INCOMPLETE: GC had deleted the runs' blobs.
    const sealed = await exp.commit();
    expect(report.deleted.count).toBe(0);
    // Each run's two attachments and the experiment's notes (run records have no blob of their own).
    expect(report.pinned.count).toBeGreaterThanOrEqual(5);
    expect(sealed.runs.map((r) => r.parameters)).toEqual([{ r: 0n }, { r: 1n }]);
    expect(await readWhole(sealed)).toBe(1 + 2 * 2);
    // Committed: the session is gone, the commit's reference holds everything.
    expect(await ls(join(registry.root, '.runledger', 'sessions'))).toEqual([]);
    expect((await registry.gc({ delete: true, gracePeriod: 0 })).pinned.count).toBe(0);
    expect((await registry.fsck()).ok).toBe(true);
  });

  it('keeps the blob a batch is writing (its temp file) and the batch commits', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const batch = registry.batch();
    const { digest } = await batch.putBlob(new TextEncoder().encode('in flight'));
    expect((await ls(join(registry.root, '.runledger', 'tmp'))).length).toBe(1);
    const report = await registry.gc({ delete: true, gracePeriod: 0 });
    await batch.commit(); // IO_ERROR before: GC had removed the temp file
    expect(await registry.hasBlob(digest)).toBe(true);
    expect(report.tempFilesRemoved).toBe(0);
    expect(report.tempFiles.count).toBe(0);
  });

  it("keeps another process's lock owner file while it waits: its publish then succeeds", async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const { descriptor } = await writeArtifact(registry, { layers: ['tagged'] });
    await registry.publishRef('ghcr.io/acme/gc:src', descriptor);
    const state = join(root, '.runledger');
    let release: () => void = () => undefined;
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = withLock(join(state, 'lock'), async () => {
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await isLocked;
    // `runledger tag` waits for the lock, its owner file `lock.<pid>.<nonce>` beside it.
    const tag = startNode([
      CLI_BIN,
      '--root',
      root,
      'tag',
      'ghcr.io/acme/gc:src',
      'ghcr.io/acme/gc:dst',
    ]);
    const waiting = `lock.${tag.pid}.`;
    await until(async () => (await ls(state)).some((n) => n.startsWith(waiting)), tag);
    const gc = registry.gc({ delete: true, gracePeriod: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await ls(state)).some((n) => n.startsWith(waiting))).toBe(true);
    release();
    await holding;
    const report = await gc;
    const { code, stderr } = await tag.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report.tempFilesRemoved).toBe(0);
    expect((await registry.resolve('ghcr.io/acme/gc:dst')).digest).toBe(descriptor.digest);
  });
});

describe('gc --delete --grace 0s beside a killed writer', () => {
  it('keeps what its crash journal needs: restoreFromCheckpoint recovers it whole', async () => {
    const root = await tempDir();
    await LocalRegistry.open(root);
    const name = 'ghcr.io/acme/gc:killed';
    const child = startNode([RECORDER, DIST_INDEX, root, 'unsaved', name]);
    await child.waitFor('ready');
    child.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    // The real CLI, as a user would run it next to the crash.
    const gc = await runCli(['--root', root, 'gc', '--delete', '--grace', '0s', '--json']);
    expect(gc.stderr).toBe('');
    const report = JSON.parse(gc.stdout);

    // Before sessions, this restore failed CLOSURE_INCOMPLETE: GC had deleted the journal's blobs.
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.restoreFromCheckpoint(name, { registry, handleSignals: false });
    expect(report.deleted.count).toBe(0);
    expect(report.sessions).toEqual({ live: 0, recoverable: 1, ended: 0 });
    // The closed runs' results and the open run's partial attachment.
    expect(report.pinned.count).toBeGreaterThanOrEqual(3);
    expect(exp.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual([
      [0, 'finished', { r: 0n }],
      [1, 'finished', { r: 1n }],
      [2, 'interrupted', { r: 2n }],
    ]);
    expect(exp.runs[2]!.attachmentNames).toContain('partial');
    const sealed = await exp.commit();
    expect(await readWhole(sealed)).toBe(3);
    // The restore consumed the journal and removed its session: nothing is pinned any more.
    expect(await ls(join(root, '.runledger', 'sessions'))).toEqual([]);
    const after = await registry.gc({ delete: true, gracePeriod: 0 });
    expect(after.pinned.count).toBe(0);
    expect((await registry.fsck()).ok).toBe(true);
  });
});

describe('an import interrupted with Ctrl-C', () => {
  it(
    'leaves temp files that gc counts (dry run) and gc --delete removes',
    { timeout: 120_000 },
    async () => {
      const source = await LocalRegistry.open(await tempDir());
      const layers = Array.from({ length: 96 }, () => randomBytes(1 << 20));
      const { descriptor } = await writeArtifact(source, { layers });
      await source.publishRef('ghcr.io/acme/gc:big', descriptor);
      const archive = join(await tempDir(), 'big.ommx');
      await exportArchive(source, 'ghcr.io/acme/gc:big', archive);

      const root = await tempDir();
      await LocalRegistry.open(root);
      const tmp = join(root, '.runledger', 'tmp');
      const importing = startNode([CLI_BIN, '--root', root, 'import', archive]);
      await until(async () => (await ls(tmp)).length >= 3, importing);
      importing.kill('SIGINT');
      expect((await importing.exited).signal).toBe('SIGINT');
      const left = await ls(tmp);
      expect(left.length).toBeGreaterThanOrEqual(3);

      // Default grace: the importer is gone, so its temp files need no waiting.
      const dry = await runCli(['--root', root, 'gc']);
      expect(dry.stdout).toContain(`Abandoned temp files: ${left.length},`);
      const json = JSON.parse((await runCli(['--root', root, 'gc', '--json'])).stdout);
      expect(json.temp_files.count).toBe(left.length);
      expect(await ls(tmp)).toEqual(left);

      const real = JSON.parse((await runCli(['--root', root, 'gc', '--delete', '--json'])).stdout);
      expect(real.temp_files_removed).toBe(left.length);
      expect(await ls(tmp)).toEqual([]);
      // The import's session (pins of a process that ended) is removed too.
      expect(await ls(join(root, '.runledger', 'sessions'))).toEqual([]);
    }
  );

  it('counts a temp file of a writer on another host only past the grace period', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const other = createHash('sha256').update(`not ${hostname()}`).digest('hex').slice(0, 8);
    await writeFile(
      join(registry.root, '.runledger', 'tmp', `blob-${process.pid}-${other}-${'ab'.repeat(8)}`),
      'elsewhere'
    );
    expect((await registry.gc()).tempFiles.count).toBe(0);
    expect((await registry.gc({ gracePeriod: 0 })).tempFiles.count).toBe(1);
  });
});
