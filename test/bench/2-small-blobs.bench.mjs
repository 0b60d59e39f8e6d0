// Case: make 10,000 small blobs durable, against git writing the same files as loose objects with
// batched fsync. Both sides read the files from disk (page-cache warm) and are timed from the
// first read to the point where every object is durable; repository/registry creation is not
// timed. Trials alternate peer, ours, peer, ours and the best of each is kept.
//
// Note: git 2.39's hash-object takes no ODB transaction, so with core.fsyncMethod=batch it still
// fsyncs every object (strace: one fsync per object, no sync_file_range). `git add` does batch
// (sync_file_range per object, one fsync); it is timed too, on a copy of the files inside a work
// tree, and reported in `extra` only, as a reference for what batched fsync costs in git.
//
// Second case: the same 10,000 blobs written again into a store that holds them already (a run
// logging the attachment the run before logged, a solve input every trial shares), against git
// writing them again as loose objects (it finds each present and freshens its mtime). Each side
// is timed on its second pass only.
//
// RUNLEDGER_BENCH_BLOBS overrides the count (default 10000) for quick runs;
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 2).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRegistry } from '../../dist/src/index.js';
import { commandLine, fmt, run, syncAll } from './lib.mjs';

const COUNT = Number(process.env['RUNLEDGER_BENCH_BLOBS'] ?? 10_000);
const SIZE = 1024;
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
if (!(COUNT >= 1)) throw new Error('RUNLEDGER_BENCH_BLOBS must be a positive number');

// An isolated git: no system or user configuration, only the -c options below.
const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const GIT_FSYNC = ['-c', 'core.fsync=loose-object', '-c', 'core.fsyncMethod=batch'];
const GIT_ARGS = [...GIT_FSYNC, 'hash-object', '-w', '--stdin-paths'];

function checkGit() {
  const v = commandLine('git', ['--version']);
  const m = v?.match(/(\d+)\.(\d+)/);
  if (m === null || m === undefined) throw new Error('git is not installed');
  const [major, minor] = [Number(m[1]), Number(m[2])];
  // core.fsyncMethod=batch appeared in 2.36; older gits ignore it silently.
  if (major < 2 || (major === 2 && minor < 36)) throw new Error(`${v}: need git ≥ 2.36`);
  return v;
}

/** The inputs: COUNT files of SIZE random bytes and the list of their paths, synced. */
async function inputs(ctx) {
  const inDir = join(ctx.scratch, 'in');
  mkdirSync(inDir);
  const data = randomBytes(COUNT * SIZE);
  const paths = [];
  for (let i = 0; i < COUNT; i++) {
    const p = join(inDir, `f${i}`);
    writeFileSync(p, data.subarray(i * SIZE, (i + 1) * SIZE));
    paths.push(p);
  }
  const list = join(ctx.scratch, 'list');
  writeFileSync(list, paths.join('\n') + '\n');
  await syncAll(); // the inputs' dirty pages must not land in either side's flush
  return { paths, list, data };
}

/** `git hash-object -w --stdin-paths` of every input in `repo`; its seconds. */
async function gitHashObjects(repo, list) {
  const stdin = openSync(list, 'r');
  let git;
  try {
    git = await run('git', GIT_ARGS, { cwd: repo, env: gitEnv, stdio: [stdin, 'pipe', 'pipe'] });
  } finally {
    closeSync(stdin);
  }
  const hashes = git.stdout.split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l));
  if (hashes.length !== COUNT) throw new Error(`git printed ${hashes.length} object ids`);
  return git.seconds;
}

/** Best-of figures (blobs/s) of both sides, and each side's trials in seconds for `extra`. */
function figures(ourRuns, peerRuns, peerName) {
  const seconds = (runs) => runs.map((s) => Number(s.toFixed(3)));
  return {
    ours: COUNT / Math.min(...ourRuns),
    peer: COUNT / Math.min(...peerRuns),
    peerName,
    trials: { 'ours s': seconds(ourRuns), 'git s': seconds(peerRuns) },
  };
}

/** Every input through one batch of `registry`, committed; its seconds. */
async function putAll(registry, paths) {
  const t0 = performance.now();
  const batch = registry.batch();
  for (const p of paths) await batch.putBlob(readFileSync(p));
  const committed = await batch.commit();
  const seconds = (performance.now() - t0) / 1000;
  if (committed.length !== COUNT) throw new Error(`committed ${committed.length} blobs`);
  return seconds;
}

export const cases = [
  {
    name: `${COUNT.toLocaleString('en-US')} blobs of 1 KiB made durable`,
    unit: 'blobs/s',
    higherIsBetter: true,
    targetRatio: 1.5,
    async run(ctx) {
      const gitVersion = checkGit();
      const { paths, list, data } = await inputs(ctx);

      const peerRuns = [];
      const ourRuns = [];
      const addRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        const repo = join(ctx.scratch, `git-${t}`);
        await run('git', ['init', '-q', repo], { env: gitEnv });
        await syncAll();
        const gitSeconds = await gitHashObjects(repo, list);
        peerRuns.push(gitSeconds);
        ctx.log(`git  trial ${t + 1}: ${fmt(COUNT / gitSeconds)} blobs/s`);
        rmSync(repo, { recursive: true, force: true });
        await syncAll();

        // Reference only: git add with the same batch fsync (also writes the index).
        const work = join(ctx.scratch, `git-add-${t}`);
        await run('git', ['init', '-q', work], { env: gitEnv });
        mkdirSync(join(work, 'in'));
        for (let i = 0; i < COUNT; i++) {
          writeFileSync(join(work, 'in', `f${i}`), data.subarray(i * SIZE, (i + 1) * SIZE));
        }
        await syncAll();
        const add = await run('git', [...GIT_FSYNC, 'add', 'in'], { cwd: work, env: gitEnv });
        const staged = await run('git', ['ls-files', '--stage'], { cwd: work, env: gitEnv });
        const stagedCount = staged.stdout.split('\n').filter((l) => l !== '').length;
        if (stagedCount !== COUNT) throw new Error(`git add staged ${stagedCount} files`);
        addRuns.push(add.seconds);
        ctx.log(`git add (reference) trial ${t + 1}: ${fmt(COUNT / add.seconds)} blobs/s`);
        rmSync(work, { recursive: true, force: true });
        await syncAll();

        const root = join(ctx.scratch, `store-${t}`);
        const registry = await LocalRegistry.open(root);
        await syncAll();
        const seconds = await putAll(registry, paths);
        ourRuns.push(seconds);
        ctx.log(`ours trial ${t + 1}: ${fmt(COUNT / seconds)} blobs/s`);
        rmSync(root, { recursive: true, force: true });
        await syncAll();
      }

      const { trials, ...figure } = figures(
        ourRuns,
        peerRuns,
        'git hash-object -w, fsyncMethod=batch'
      );
      return {
        ...figure,
        extra: {
          'git add batch (reference)': `${fmt(COUNT / Math.min(...addRuns))} blobs/s`,
          ...trials,
          'git add s': addRuns.map((s) => Number(s.toFixed(3))),
          git: gitVersion.replace(/^git version /, ''),
        },
      };
    },
  },
  {
    name: `${COUNT.toLocaleString('en-US')} blobs of 1 KiB written again (already stored)`,
    unit: 'blobs/s',
    higherIsBetter: true,
    targetRatio: 1.0,
    async run(ctx) {
      checkGit();
      const { paths, list } = await inputs(ctx);
      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        const repo = join(ctx.scratch, `git-again-${t}`);
        await run('git', ['init', '-q', repo], { env: gitEnv });
        await gitHashObjects(repo, list);
        await syncAll();
        const gitSeconds = await gitHashObjects(repo, list);
        peerRuns.push(gitSeconds);
        ctx.log(`git again trial ${t + 1}: ${fmt(COUNT / gitSeconds)} blobs/s`);
        rmSync(repo, { recursive: true, force: true });
        await syncAll();

        const root = join(ctx.scratch, `store-again-${t}`);
        const registry = await LocalRegistry.open(root);
        await putAll(registry, paths);
        await syncAll();
        const seconds = await putAll(registry, paths);
        ourRuns.push(seconds);
        ctx.log(`ours again trial ${t + 1}: ${fmt(COUNT / seconds)} blobs/s`);
        rmSync(root, { recursive: true, force: true });
        await syncAll();
      }
      const { trials, ...figure } = figures(
        ourRuns,
        peerRuns,
        'git hash-object -w of objects it has (freshened)'
      );
      return { ...figure, extra: trials };
    },
  },
];
