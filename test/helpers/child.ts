/**
 * A node child process for the suites that need real processes (store GC, crash): its complete
 * stdout lines, a wait for a line, its exit, and signals.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (run `npx tsc -p tsconfig.json` or `npm run build` first). */
export const CLI_BIN: string = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NodeChild {
  readonly pid: number;
  /** The complete lines printed so far. */
  lines(): string[];
  /** Resolves once a complete line matching `line` was printed (or the child exited). */
  waitFor(line: string | RegExp): Promise<void>;
  readonly exited: Promise<ChildExit>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node <args>`. */
export function startNode(args: readonly string[], env: NodeJS.ProcessEnv = {}): NodeChild {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiting: { match: (l: string) => boolean; resolve: () => void }[] = [];
  const lines = (): string[] => out.split('\n').slice(0, -1);
  const check = (): void => {
    const now = lines();
    for (const w of waiting.splice(0)) {
      if (now.some(w.match)) w.resolve();
      else waiting.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const w of waiting.splice(0)) w.resolve();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    pid: child.pid as number,
    lines,
    waitFor: (line) =>
      new Promise<void>((resolve) => {
        waiting.push({
          match: typeof line === 'string' ? (l) => l === line : (l) => line.test(l),
          resolve,
        });
        check();
      }),
    exited,
    kill: (signal) => child.kill(signal),
  };
}

/** Runs the built CLI to its end. */
export function runCli(args: readonly string[]): Promise<ChildExit> {
  return startNode([CLI_BIN, ...args]).exited;
}
