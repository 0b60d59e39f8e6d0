// `npm run demo` runs the built package: this builds it (`npm run build`) only when dist/ is
// missing or older than a source. Sources are src/ and codecs/ (what tsconfig.json includes), web/
// (the viewer's page, bundled by scripts/build-web.mjs), their folders (a deleted or renamed file
// changes its folder's time), tsconfig.json and scripts/build-web.mjs; dist/'s time is its oldest
// .js file's (a build rewrites every one). Run from the package root.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['src', 'codecs', 'web'];
const CONFIG = ['tsconfig.json', 'scripts/build-web.mjs'];

/** Calls `visit(path, stats)` for a path and, for a folder, everything under it. */
function walk(path, visit) {
  let stats;
  try {
    stats = statSync(path);
  } catch (e) {
    if (e.code === 'ENOENT') return;
    throw e;
  }
  visit(path, stats);
  if (stats.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), visit);
}

/** The newest modification time among the sources (ms). */
function newestSource() {
  let newest = 0;
  for (const p of [...SOURCES, ...CONFIG]) {
    walk(p, (_, s) => {
      newest = Math.max(newest, s.mtimeMs);
    });
  }
  return newest;
}

/** The oldest modification time among dist/'s .js files (ms), or -Infinity without any. */
function oldestBuilt() {
  let oldest = Infinity;
  walk('dist', (path, s) => {
    if (s.isFile() && path.endsWith('.js')) oldest = Math.min(oldest, s.mtimeMs);
  });
  return oldest === Infinity ? -Infinity : oldest;
}

if (oldestBuilt() > newestSource()) {
  process.stderr.write('dist/ is up to date: not rebuilding.\n');
} else {
  // npm is a .cmd on Windows, which only a shell runs.
  const r = spawnSync('npm', ['run', 'build'], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  process.exit(r.status ?? 1);
}
