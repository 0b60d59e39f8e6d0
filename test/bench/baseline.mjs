// runledger as it was before the write-through crash journal (issue 13), built from git into the
// bench's scratch directory once per bench run, so a case can measure today's code against it in
// the same run, on the same machine. Needs the repository's git history (a clone has it); without
// it the case says so and reports no baseline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The last commit before the write-through journal: what "today's build" meant for issue 13. */
export const BASELINE_COMMIT = '5764fc82b566fc6b1a3dd2ed4ee45d34168a80f5';

let built;

/**
 * The baseline's `dist/src/index.js` module, or `{ missing: reason }`.
 * @param ctx - the case context (scratch, repoRoot, log)
 */
export function loadBaseline(ctx) {
  built ??= build(ctx);
  return built;
}

async function build(ctx) {
  // Beside the case directories: it outlives one case and goes with the bench's scratch root.
  const dir = join(ctx.scratch, '..', 'baseline-build');
  try {
    mkdirSync(dir, { recursive: true });
    const files = ['src', 'codecs', 'tsconfig.json', 'package.json'];
    const tar = execFileSync('git', ['-C', ctx.repoRoot, 'archive', BASELINE_COMMIT, ...files], {
      maxBuffer: 256 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(join(ctx.repoRoot, 'node_modules'), join(dir, 'node_modules'));
    ctx.log(`building the baseline ${BASELINE_COMMIT.slice(0, 12)} with tsc…`);
    execFileSync(
      process.execPath,
      [join(ctx.repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir],
      { stdio: ['ignore', 'ignore', 'inherit'] }
    );
  } catch (e) {
    return { missing: `baseline ${BASELINE_COMMIT.slice(0, 12)} not built: ${e.message}` };
  }
  const index = join(dir, 'dist', 'src', 'index.js');
  if (!existsSync(index)) return { missing: `baseline build has no ${index}` };
  return import(pathToFileURL(index).href);
}
