/**
 * Process-lifetime cleanup for the server helpers: child processes are SIGKILLed and temp
 * directories removed when the test process exits, also when it is ended by SIGTERM (how vitest
 * stops its fork workers), SIGINT or SIGHUP, so an aborted run leaves nothing behind. For SIGKILL,
 * registry-server.ts also starts the registry under `setpriv --pdeathsig KILL`. Unlike temp.ts,
 * these directories live until the helper's stop(), not just one test.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

function cleanup(): void {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

// vitest stops its fork workers with SIGTERM, which skips 'exit' handlers: clean up, then let the
// signal do what it would have done (terminate) unless someone else handles it.
function onSignal(signal: NodeJS.Signals): void {
  cleanup();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanup);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, onSignal);
}

/** Kill `child` when this process exits, unless it has exited first. */
export function killOnExit(child: ChildProcess): void {
  install();
  if (child.exitCode !== null || child.signalCode !== null) return;
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A fresh temp directory, removed by removeTempDir or at process exit. */
export async function makeTempDir(prefix: string): Promise<string> {
  install();
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export async function removeTempDir(d: string): Promise<void> {
  await rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  dirs.delete(d);
}
