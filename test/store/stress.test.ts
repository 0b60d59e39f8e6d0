/**
 * Stress suites, bounded in count and time: concurrent writer processes and SIGKILL loops.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseImageIndex } from '../../src/oci/image-index.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { runCli, startNode, type ChildExit } from '../helpers/child.js';
import { readWhole } from '../helpers/read-whole.js';
import { tempDir } from '../helpers/temp.js';

const WRITER = fileURLToPath(new URL('./children/writer.mjs', import.meta.url));
const RECORDER = fileURLToPath(new URL('./children/recorder.mjs', import.meta.url));

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  published: Map<string, string>;
  stderr: string;
}

function runWriter(
  root: string,
  id: string,
  count: number,
  killAfterMs?: number
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, root, id, String(count)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    // The kill clock starts when the child says it is ready, so a slow start on a loaded
    // machine does not push every kill before the first write.
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && timer === undefined && out.includes('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const published = new Map<string, string>();
      for (const line of out.split('\n')) {
        const m = /^published (\S+) (\S+)$/.exec(line);
        if (m !== null) published.set(m[1]!, m[2]!);
      }
      resolve({ code, signal, published, stderr });
    });
  });
}

beforeAll(() => requireBuilt());

describe('concurrent writers', () => {
  it('4 processes publishing 50 refs each over shared and unique blobs: all 200 refs, fsck clean', async () => {
    const root = await tempDir();
    await LocalRegistry.open(root);
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => runWriter(root, id, 50)));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.published.size).toBe(50);
    }
    const registry = await LocalRegistry.open(root);
    const refs = await registry.listRefs();
    expect(refs).toHaveLength(200);
    for (const r of results) {
      for (const [ref, digest] of r.published)
        expect((await registry.resolve(ref)).digest).toBe(digest);
    }
    const report = await registry.fsck();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('SIGKILL at random moments', () => {
  it(
    '50 kills while writing blobs and publishing refs never corrupt the store',
    { timeout: 180_000 },
    async () => {
      const root = await tempDir();
      await LocalRegistry.open(root);
      const everPublished = new Map<string, string>();
      let killed = 0;
      for (let round = 0; round < 50; round++) {
        // Kills spread over the first quarter second of writing: inside blob writes, batch
        // commits, manifest writes and index.json rewrites under the lock.
        const killAfter = Math.floor(Math.random() * 250);
        const r = await runWriter(root, `k${round}`, 1000, killAfter);
        if (r.signal === 'SIGKILL') killed++;
        else expect(r.stderr).toBe('');
        for (const [ref, digest] of r.published) everPublished.set(ref, digest);

        // index.json always parses: it is replaced whole by rename, never torn.
        parseImageIndex(await readFile(join(root, 'index.json')));
        const registry = await LocalRegistry.open(root);
        for (const [ref, digest] of everPublished) {
          expect((await registry.resolve(ref)).digest).toBe(digest);
        }
        // Every reference's closure is complete (a stat walk: GC's mark phase, dry run)…
        expect((await registry.gc()).missing, `round ${round}`).toEqual([]);
        // …and a full re-hash every tenth round (damage persists, so it is caught).
        if (round % 10 === 9) {
          const report = await registry.fsck();
          expect(report.problems, `round ${round}`).toEqual([]);
        }
      }
      expect(killed).toBeGreaterThan(40);
      expect(everPublished.size).toBeGreaterThan(0);

      // The lock a killed writer may hold is stale and broken: a new writer still publishes.
      const registry = await LocalRegistry.open(root, { lockTimeoutMs: 10_000 });
      const { descriptor } = await writeArtifact(registry, { layers: ['after the storm'] });
      expect(await registry.publishRef('localhost/after/run:1', descriptor)).toBe('created');
      const gc = await registry.gc({ delete: true, gracePeriod: 0 });
      expect(gc.missing).toEqual([]);
      expect((await registry.fsck()).ok).toBe(true);
    }
  );
});

describe('gc and fsck beside recording writers', () => {
  it(
    '4 processes commit experiments while gc --delete --grace 0s and fsck loop: every one loads whole, fsck clean',
    { timeout: 240_000 },
    async () => {
      const root = await tempDir();
      await LocalRegistry.open(root);
      const writers = ['a', 'b', 'c', 'd'].map((id) =>
        startNode([RECORDER, DIST_INDEX, root, 'stress', `localhost/gc-stress/${id}:exp`, '12'])
      );
      // GC back to back through the API in one more process, besides the CLI loops below.
      const stop = join(root, 'stop');
      const gcLoop = startNode([RECORDER, DIST_INDEX, root, 'gc-loop', stop]);
      let done = false;
      const finished = Promise.all(writers.map((w) => w.exited)).finally(() => (done = true));
      const loop = async (args: string[]): Promise<ChildExit[]> => {
        const runs: ChildExit[] = [];
        while (!done) runs.push(await runCli(['--root', root, ...args]));
        return runs;
      };
      const [results, gcs, fscks] = await Promise.all([
        finished,
        loop(['gc', '--delete', '--grace', '0s', '--json']),
        loop(['fsck', '--json']),
      ]);

      await writeFile(stop, '');
      const looped = await gcLoop.exited;
      expect([looped.code, looped.stderr]).toEqual([0, '']);
      const passes = looped.stdout.split('\n').filter((l) => l.startsWith('gc '));
      const committed = new Map<string, string>();
      for (const r of results) {
        expect(r.stderr).toBe('');
        expect(r.stdout).not.toMatch(/^(error|untyped) /m);
        expect(r.code).toBe(0);
        for (const m of r.stdout.matchAll(/^committed (\S+) (\S+)$/gm)) committed.set(m[1]!, m[2]!);
      }
      expect(committed.size).toBe(48);
      // Only typed errors anywhere — and in fact none: GC and fsck never fail beside writers.
      for (const r of [...gcs, ...fscks]) {
        if (r.code !== 0) expect(r.stderr).toMatch(/^runledger: [A-Z_]+: /);
        expect([r.code, r.stderr]).toEqual([0, '']);
      }
      expect(gcs.length).toBeGreaterThan(1);
      expect(fscks.length).toBeGreaterThan(1);
      for (const f of fscks) expect(JSON.parse(f.stdout).problems).toEqual([]);
      // GC was really deleting while they wrote (superseded checkpoints, at least).
      const deleted =
        gcs.reduce((n, g) => n + JSON.parse(g.stdout).deleted.count, 0) +
        passes.reduce((n, l) => n + Number(l.split(' ')[1]), 0);
      expect(deleted).toBeGreaterThan(0);
      expect(passes.length).toBeGreaterThan(10);

      const registry = await LocalRegistry.open(root);
      for (const [ref, digest] of committed) {
        const sealed = await Experiment.load(ref, { registry });
        expect(sealed.manifestDigest).toBe(digest);
        expect(sealed.runs.map((r) => r.parameters['r'])).toEqual([0n, 1n, 2n]);
        expect(await readWhole(sealed)).toBe(1 + 3 * 2 + 2);
      }
      const last = JSON.parse(
        (await runCli(['--root', root, 'gc', '--delete', '--grace', '0s', '--json'])).stdout
      );
      expect([last.pinned.count, last.missing]).toEqual([0, []]);
      const fsck = await registry.fsck();
      expect(fsck.problems).toEqual([]);
      expect(fsck.refs).toBe(48);
      expect(await readdir(join(root, '.runledger', 'tmp'))).toEqual([]);
      expect(await readdir(join(root, '.runledger', 'sessions'))).toEqual([]);
    }
  );
});
