/**
 * In-memory stdout/stderr for CLI tests. Standard output is a pipe unless `terminal` says it is a
 * terminal (and how wide); colour follows `env` (NO_COLOR, FORCE_COLOR) as on a real process.
 */
import type { CliIo } from '../../src/cli/types.js';

export interface MemoryIo extends CliIo {
  out(): string;
  err(): string;
}

/** Standard output as a terminal: `isTTY`, and its width in columns. */
export interface MemoryTerminal {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function memoryIo(
  env: Record<string, string | undefined> = {},
  cwd?: string,
  terminal: MemoryTerminal = {}
): MemoryIo {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (t: string) => (out += t),
      ...(terminal.isTTY === undefined ? {} : { isTTY: terminal.isTTY }),
      ...(terminal.columns === undefined ? {} : { columns: terminal.columns }),
    },
    stderr: { write: (t: string) => (err += t) },
    env,
    ...(cwd === undefined ? {} : { cwd }),
    out: () => out,
    err: () => err,
  };
}
