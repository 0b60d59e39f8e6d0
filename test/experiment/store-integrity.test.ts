/**
 * Determinism and store integrity while sealing (oci-reference §13 case 15): the same study
 * sealed under machine clocks decades apart (a faked `Date`, no waiting) and with other file
 * mtimes commits to one digest; two processes committing experiments into one store at the same
 * moment both land in `index.json`, each readable, the blob they both write intact, fsck clean.
 * (SIGKILL during writes: test/store/stress.test.ts and crash.test.ts; the same study with a
 * real clock a second apart and another close order: experiment.test.ts.)
 */
import { spawn } from 'node:child_process';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { parseImageIndex } from '../../src/oci/image-index.js';
import { ANNOTATION_REF_NAME } from '../../src/oci/media-types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../helpers/seal-child.mjs', import.meta.url));
const STUDIES = 3;

interface Sealer {
  ready: Promise<void>;
  go: () => void;
  exited: Promise<{ code: number | null; sealed: Map<string, string>; stderr: string }>;
}

function startSealer(root: string, id: string): Sealer {
  const child = spawn(process.execPath, [CHILD, DIST_INDEX, root, id, String(STUDIES)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; sealed: Map<string, string>; stderr: string }>(
    (resolve) =>
      child.on('exit', (code) => {
        onReady(); // a child that dies before `ready` must not hang the test
        const sealed = new Map<string, string>();
        for (const m of out.matchAll(/^sealed (\S+) (\S+)$/gm)) sealed.set(m[1]!, m[2]!);
        resolve({ code, sealed, stderr });
      })
  );
  return { ready, go: () => child.stdin.end('go\n'), exited };
}

/** Records one small study at a faked machine clock, logging a file with the given mtime. */
async function sealAt(clock: Date, mtime: Date, reproducible: boolean): Promise<string> {
  const file = join(await tempDir(), 'input.csv');
  await writeFile(file, 'i,j,flow\n0,1,3\n1,0,5\n');
  await utimes(file, mtime, mtime);
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(clock);
    const registry = await LocalRegistry.open(join(await tempDir(), 'store'));
    const exp = await Experiment.create('ghcr.io/acme/clock:v1', {
      registry,
      reproducible,
      handleSignals: false,
      journal: false,
    });
    for (const seed of [1, 2]) {
      await exp.run(async (run) => {
        run.logParameter('seed', seed);
        await run.logFile('input', file);
        await run.logJson('result', { seed });
      });
    }
    return (await exp.commit()).manifestDigest;
  } finally {
    vi.useRealTimers();
  }
}

describe('sealing under another machine clock', () => {
  it('the same study sealed in 2001 and in 2037, with other file mtimes, has one manifest digest when reproducible', async () => {
    const a = await sealAt(
      new Date('2001-02-03T04:05:06Z'),
      new Date('1999-01-01T00:00:00Z'),
      true
    );
    const b = await sealAt(
      new Date('2037-12-31T23:59:59Z'),
      new Date('2030-06-07T08:09:10Z'),
      true
    );
    expect(b).toBe(a);
    // The faked clock does reach the run records: without `reproducible` the digests differ.
    const c = await sealAt(
      new Date('2001-02-03T04:05:06Z'),
      new Date('1999-01-01T00:00:00Z'),
      false
    );
    const d = await sealAt(
      new Date('2037-12-31T23:59:59Z'),
      new Date('1999-01-01T00:00:00Z'),
      false
    );
    expect(d).not.toBe(c);
  });
});

describe('two processes sealing into one store', () => {
  beforeAll(() => requireBuilt());

  it('both land in index.json, every experiment loads with its runs and the shared attachment, fsck clean', async () => {
    const root = join(await tempDir(), 'store');
    await LocalRegistry.open(root);
    const sealers = [startSealer(root, 'a'), startSealer(root, 'b')];
    await Promise.all(sealers.map((s) => s.ready));
    for (const s of sealers) s.go(); // both start writing together
    const results = await Promise.all(sealers.map((s) => s.exited));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.sealed.size).toBe(STUDIES);
    }

    // index.json names every experiment of both writers (neither rewrite lost the other's).
    const index = parseImageIndex(await readFile(join(root, 'index.json')));
    const named = new Map(
      index.manifests.map((d) => [d.annotations?.[ANNOTATION_REF_NAME], d.digest] as const)
    );
    const registry = await LocalRegistry.open(root);
    for (const r of results) {
      for (const [ref, digest] of r.sealed) {
        expect(named.get(ref), ref).toBe(digest);
        const loaded = await Experiment.load(ref, { registry });
        expect(loaded.manifestDigest).toBe(digest);
        expect(loaded.runs).toHaveLength(4);
        expect(await loaded.getJson('shared')).toEqual({ dataset: 'qaplib', size: 12 });
      }
    }
    const report = await registry.fsck();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
