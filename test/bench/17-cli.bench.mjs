// Cases: the command line's start-up. `runledger --version` and `runledger ls` on the demo store
// (the 32-run HiGHS study `runledger demo` records), wall time from spawn to exit, against
// `node -e 0` (the floor any Node program pays) and `git --version` (a native CLI), all measured
// in the same run, the sides taking turns; the best of 15 trials of each is kept. Target for
// --version (and --help): under 150 ms. `runledger ls` needs the optional `highs` package for
// the demo study.
import { join } from 'node:path';
import { fmt, run } from './lib.mjs';

const TRIALS = 15;
const TARGET_MS = 150;

/** Best and median wall time, in ms, of each command, taking turns. */
async function race(commands) {
  const times = commands.map(() => []);
  for (let t = 0; t < TRIALS; t++) {
    for (const [i, [cmd, args]] of commands.entries()) {
      times[i].push((await run(cmd, args)).seconds * 1000);
    }
  }
  return times.map((ts) => {
    const sorted = [...ts].sort((a, b) => a - b);
    return { best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
  });
}

function cli(ctx) {
  return join(ctx.repoRoot, 'dist', 'src', 'cli', 'bin.js');
}

export const cases = [
  {
    name: 'cli start-up: runledger --version, wall time from spawn to exit (best of 15)',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const bin = cli(ctx);
      const [version, help, node, git] = await race([
        [process.execPath, [bin, '--version']],
        [process.execPath, [bin, '--help']],
        [process.execPath, ['-e', '0']],
        ['git', ['--version']],
      ]);
      ctx.log(
        `--version ${fmt(version.best)} ms, --help ${fmt(help.best)} ms, node -e 0 ${fmt(node.best)} ms, git --version ${fmt(git.best)} ms`
      );
      return {
        ours: version.best,
        peer: node.best,
        peerName: '`node -e 0` (same run)',
        checks: [
          {
            label: `--version < ${TARGET_MS} ms`,
            value: fmt(version.best),
            pass: version.best < TARGET_MS,
          },
          { label: `--help < ${TARGET_MS} ms`, value: fmt(help.best), pass: help.best < TARGET_MS },
        ],
        extra: {
          'git --version': `${fmt(git.best)} ms`,
          'medians (version/help/node/git)': [version, help, node, git]
            .map((m) => fmt(m.median))
            .join('/'),
        },
      };
    },
  },
  {
    name: 'cli start-up: runledger ls on the demo store (32-run HiGHS study), best of 15',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const bin = cli(ctx);
      const root = join(ctx.scratch, 'store');
      ctx.log('recording the demo study (runledger demo) …');
      await run(process.execPath, [bin, '--root', root, '--init', '--json', 'demo']);
      const ls = [process.execPath, [bin, '--root', root, 'ls']];
      const listed = (await run(...ls)).stdout;
      if (!listed.includes('runledger.local/demo/lp-mip:latest')) {
        throw new Error(`runledger ls does not list the demo study:\n${listed}`);
      }
      const [ours, node, git] = await race([
        ls,
        [process.execPath, ['-e', '0']],
        ['git', ['--version']],
      ]);
      ctx.log(`ls ${fmt(ours.best)} ms, node -e 0 ${fmt(node.best)} ms, git ${fmt(git.best)} ms`);
      return {
        ours: ours.best,
        peer: node.best,
        peerName: '`node -e 0` (same run)',
        extra: {
          'git --version': `${fmt(git.best)} ms`,
          'medians (ls/node/git)': [ours, node, git].map((m) => fmt(m.median)).join('/'),
        },
      };
    },
  },
];
