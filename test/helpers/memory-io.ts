/**
 * In-memory stdout/stderr for CLI tests.
 */
import type { CliIo } from '../../src/cli/types.js';

export interface MemoryIo extends CliIo {
  out(): string;
  err(): string;
}

export function memoryIo(env: Record<string, string | undefined> = {}, cwd?: string): MemoryIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env,
    ...(cwd === undefined ? {} : { cwd }),
    out: () => out,
    err: () => err,
  };
}
