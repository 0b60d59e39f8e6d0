// Benchmark runner: runs the cases of every test/bench/*.bench.mjs against a peer tool measured
// in the same run, and prints one aligned line per case.
//
//   node test/bench/run.mjs [--filter <substr>] [--json <out.json>]
//
// A bench file exports `cases`: [{ name, unit, higherIsBetter, targetRatio?, async run(ctx) }],
// where run resolves to { ours, peer, peerName, checks?, extra? }. `checks` are extra targets,
// [{ label, value, pass }]; `extra` is free-form and printed as key=value.
// ctx = { scratch, repoRoot, log }: scratch is an empty directory, removed when the bench ends.
//
// Scratch data goes next to the repository (on its file system), or to os.tmpdir() when that
// directory cannot be written (or under $RUNLEDGER_BENCH_DIR when set), and is removed on exit,
// error or signal. Not os.tmpdir() first: the test suite creates and deletes its many thousands of
// files there, and ext4 puts a directory's files in block groups near it — on an ext4 without a
// journal, files created among inodes freed in the last minutes are slow to create, and a bench
// run right after the tests would measure that.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { children, commandLine, fileSystemOf, fmt } from './lib.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..', '..');

const { values: args } = parseArgs({
  options: {
    filter: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log('usage: node test/bench/run.mjs [--filter <substr>] [--json <out.json>]');
  process.exit(0);
}

if (!existsSync(join(repoRoot, 'dist', 'src', 'index.js'))) {
  console.error('dist/src/index.js is missing: build first (npm run build), or use npm run bench.');
  process.exit(1);
}

// ---- scratch directory -----------------------------------------------------------------------

function pickScratchBase() {
  const override = process.env['RUNLEDGER_BENCH_DIR'];
  if (override !== undefined && override !== '') return resolve(override);
  try {
    accessSync(dirname(repoRoot), constants.W_OK);
    return dirname(repoRoot);
  } catch {
    return tmpdir();
  }
}

const scratchRoot = join(pickScratchBase(), `.runledger-bench-${process.pid}`);
mkdirSync(scratchRoot, { recursive: true });

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratchRoot, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping, removing ${scratchRoot}`);
    cleanup();
    process.exit(code);
  });
}

// ---- environment -------------------------------------------------------------------------------

const fs = fileSystemOf(scratchRoot);
const repoFs = fileSystemOf(repoRoot);
const env = {
  node: process.version,
  nproc: Number(commandLine('nproc', []) ?? availableParallelism()),
  cpu: cpus()[0]?.model ?? 'unknown',
  kernel: release(),
  scratch: scratchRoot,
  scratchFs: fs,
  repoFs,
  sameFsAsRepo: statSync(scratchRoot).dev === statSync(repoRoot).dev,
};
const fsText = (f) => (f === undefined ? 'unknown' : `${f.source} ${f.type} on ${f.mount}`);
console.log(`node ${env.node} · nproc ${env.nproc} · ${env.cpu} · Linux ${env.kernel}`);
console.log(
  `scratch ${scratchRoot}: ${fsText(fs)} (df -T)` +
    (env.sameFsAsRepo ? ', same file system as the repo' : `; repo is on ${fsText(repoFs)}`)
);

// ---- cases -------------------------------------------------------------------------------------

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();
const selected = [];
for (const file of files) {
  const mod = await import(pathToFileURL(join(benchDir, file)).href);
  for (const c of mod.cases ?? []) {
    if (args.filter === undefined || c.name.includes(args.filter)) selected.push({ file, c });
  }
}
if (selected.length === 0) {
  console.error(`no case matches --filter ${JSON.stringify(args.filter)}`);
  process.exit(1);
}

const results = [];
const rows = [['case', 'ours', 'peer (same run)', 'peer tool', 'ratio', 'target', 'notes']];
let failed = false;
for (const [i, { file, c }] of selected.entries()) {
  const scratch = join(scratchRoot, `case-${i}`);
  mkdirSync(scratch, { recursive: true });
  const ctx = {
    scratch,
    repoRoot,
    log: (msg) => console.error(`  [${c.name}] ${msg}`),
  };
  const row = { file, name: c.name, unit: c.unit, higherIsBetter: c.higherIsBetter };
  console.error(`running: ${c.name}`);
  try {
    const r = await c.run(ctx);
    // ratio > 1 always means we are faster / better.
    const ratio = c.higherIsBetter ? r.ours / r.peer : r.peer / r.ours;
    const targetPass = c.targetRatio === undefined ? undefined : ratio >= c.targetRatio;
    Object.assign(row, {
      ours: r.ours,
      peer: r.peer,
      peerName: r.peerName,
      ratio,
      targetRatio: c.targetRatio,
      targetPass,
      checks: r.checks ?? [],
      extra: r.extra ?? {},
    });
    const notes = [
      ...row.checks.map((k) => `${k.value} (${k.label}) ${k.pass ? 'PASS' : 'MISS'}`),
      ...Object.entries(row.extra).map(
        ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`
      ),
    ].join('; ');
    rows.push([
      c.name,
      `${fmt(r.ours)} ${c.unit}`,
      `${fmt(r.peer)} ${c.unit}`,
      r.peerName,
      `${fmt(ratio)}×`,
      c.targetRatio === undefined
        ? ''
        : `target ≥${c.targetRatio}× ${targetPass ? 'PASS' : 'MISS'}`,
      notes,
    ]);
  } catch (e) {
    failed = true;
    row.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    rows.push([c.name, 'ERROR', '', '', '', '', e instanceof Error ? e.message : String(e)]);
  }
  // The case's files stay until the bench ends (cleanup): deleting tens of thousands of files
  // slows the file creations of the next minutes on an ext4 without a journal (it skips inodes
  // freed in the last minute, five while their inode-table block is dirty, checking each), and
  // that would fall on the next case.
  results.push(row);
}

// One aligned line per case: figures right-aligned, text left-aligned.
const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
const rightAligned = [false, true, true, false, true, false, false];
console.log('');
for (const r of rows) {
  console.log(
    r
      .map((cell, col) =>
        col === r.length - 1
          ? cell
          : rightAligned[col]
            ? cell.padStart(widths[col])
            : cell.padEnd(widths[col])
      )
      .join('  ')
      .trimEnd()
  );
}
console.log(
  '\nratio = ours/peer for higher-is-better figures, peer/ours for lower-is-better; >1 means runledger is faster.'
);

if (args.json !== undefined) {
  const out = resolve(args.json);
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), env, results }, null, 2) + '\n'
  );
  console.error(`results written to ${out}`);
}

cleanup();
process.exitCode = failed ? 1 : 0;
