// Helpers shared by the benchmark runner and the *.bench.mjs files (not a bench file itself).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Child processes started by the benchmarks, killed (by pid) when the runner is interrupted. */
export const children = new Set();

/**
 * Runs a command and measures its wall-clock time from spawn to exit.
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions & { allowFail?: boolean }} [options]
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string, seconds: number }>}
 */
export function run(cmd, args, options = {}) {
  const { allowFail = false, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout?.on('data', (b) => out.push(b));
    child.stderr?.on('data', (b) => err.push(b));
    child.on('error', (e) => {
      children.delete(child);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      children.delete(child);
      const result = {
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        seconds,
      };
      if (!allowFail && code !== 0) {
        const why = signal !== null ? `signal ${signal}` : `exit code ${code}`;
        reject(new Error(`${cmd} ${args.join(' ')} failed (${why}): ${result.stderr.trim()}`));
      } else {
        resolve(result);
      }
    });
  });
}

/** Flushes every dirty page of every file system, so no trial pays for an earlier one's writes. */
export async function syncAll() {
  await run('sync', []);
}

/** One line of a command's output, or undefined when it cannot run. */
export function commandLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** `df -T -P <path>` parsed: device, type and mount point of the file system holding path. */
export function fileSystemOf(path) {
  const out = commandLine('df', ['-T', '-P', path]);
  const cols = out?.split('\n')[1]?.trim().split(/\s+/);
  if (cols === undefined || cols.length < 7) return undefined;
  return { source: cols[0], type: cols[1], mount: cols.slice(6).join(' ') };
}

/** Bytes as decimal megabytes (the unit dd reports). */
export const MB = 1e6;

/** A figure with three significant-ish digits. */
export function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return n.toFixed(0);
  if (a >= 100) return n.toFixed(1);
  if (a >= 10) return n.toFixed(2);
  return n.toFixed(3);
}

/**
 * Run i's 10 parameters of `count` runs, as the experiment benches log them: 2 strings, 3 ints,
 * 3 floats (never integral, so every column keeps one type), 2 booleans.
 * @param {number} i
 * @param {number} count
 * @returns {[string, string | number | boolean][]}
 */
export function benchParams(i, count) {
  return [
    ['solver', i % 3 === 0 ? 'scip' : 'highs'],
    ['preset', `preset-${i % 17}`],
    ['seed', i],
    ['time_limit', 60 + (i % 10) * 30],
    ['threads', 1 + (i % 8)],
    ['mip_gap', 1e-4 * ((i % 5) + 1.5)],
    ['alpha', (i + 0.5) / count],
    ['temperature', 0.25 + (i % 100) / 1000],
    ['presolve', i % 2 === 0],
    ['warm_start', i % 3 === 1],
  ];
}

/**
 * The median of `values` (the upper middle of an even count), or of the items by `key`.
 * @template T
 * @param {readonly T[]} values
 * @param {(item: T) => number} [key]
 * @returns {T}
 */
export function median(values, key = (x) => /** @type {number} */ (x)) {
  return values.toSorted((a, b) => key(a) - key(b))[Math.floor(values.length / 2)];
}

/**
 * This process's peak resident set size in KiB since it started: VmHWM of /proc/self/status where
 * there is one. Not `process.resourceUsage().maxRSS` alone: on Linux that keeps the parent's RSS
 * at fork time (exec records the forked copy's high-water mark), so a child of the runner (92 MB
 * once it has loaded the bench files, 519 MB late in a full run) reported at least that, whatever
 * it used itself.
 * @returns {number}
 */
export function peakRssKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]);
  } catch {
    // no procfs (macOS): getrusage, which has no such carry-over there
  }
  return process.resourceUsage().maxRSS;
}
