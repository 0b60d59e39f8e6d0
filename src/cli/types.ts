/**
 * @module cli/types
 * What a command gets and declares.
 */
import type { ParseArgsConfig } from 'node:util';
import type { LocalRegistry } from '../store/local-registry.js';

/** Standard input as the CLI reads it: chunks, and whether it is a terminal. */
export interface CliInput extends AsyncIterable<string | Uint8Array> {
  readonly isTTY?: boolean;
  /** Present on a terminal: raw mode turns echo off (for password prompts). */
  setRawMode?(mode: boolean): unknown;
}

/** The process facts the CLI reads and writes, injectable for tests. */
export interface CliIo {
  /** Read only by commands that take input (`login`); absent means no input. */
  readonly stdin?: CliInput;
  readonly stdout: {
    write(chunk: string | Uint8Array): unknown;
    readonly isTTY?: boolean;
    /** A terminal's width in columns (text tables are cut to fit it). */
    readonly columns?: number;
    /** Present on a stream: binary output to `-` waits for `drain` when `write` says full. */
    once?(event: 'drain', listener: () => void): unknown;
  };
  readonly stderr: {
    write(text: string): unknown;
    readonly isTTY?: boolean;
    /** A terminal's width in columns (the progress bar is cut to fit it). */
    readonly columns?: number;
  };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/** What a command's `run` receives. */
export interface CommandContext {
  readonly io: CliIo;
  readonly positionals: readonly string[];
  /** Option values; an option declared `multiple` gives every occurrence, in order. */
  readonly values: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly json: boolean;
  /** Opens the local registry named by `--root`, else `RUNLEDGER_HOME`, else the default. */
  openRegistry(): Promise<LocalRegistry>;
  /** Writes a line to stdout. */
  print(line: string): void;
  /** Writes a value as JSON to stdout. */
  printJson(value: unknown): void;
  /**
   * This command line as it was given, with `flags` added, quoted for a POSIX shell: what a hint
   * tells to run next (`runledger gc --grace 0s --delete` after `runledger gc --grace 0s`).
   */
  rerun?(...flags: string[]): string;
}

/** One subcommand. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options?: NonNullable<ParseArgsConfig['options']>;
  /** Positional count the command accepts: [min, max]. */
  readonly arity: readonly [number, number];
  run(ctx: CommandContext): Promise<number>;
}
