/**
 * Stress suites, bounded in count and time: concurrent writer processes and SIGKILL loops.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseImageIndex } from '../../src/oci/image-index.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { requireBuilt } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const WRITER = fileURLToPath(new URL('./children/writer.mjs', import.meta.url));

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
