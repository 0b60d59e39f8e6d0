/**
 * @module cli/prompt
 * Reading secrets: all of standard input (`--password-stdin`), or a question on the terminal
 * with echo off. Prompts go to stderr, so stdout stays the command's result.
 */
import { RunledgerError } from '../errors.js';
import type { CliInput, CliIo } from './types.js';

/** A password longer than this on stdin is a mistake (a file piped by accident). */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Reads all of standard input as a secret, without its one trailing newline (`\n` or `\r\n`),
 * as `docker login --password-stdin` does.
 * @param input - standard input
 * @returns the secret
 * @throws RunledgerError `ARGUMENT_INVALID` when it is empty or longer than 64 KiB
 */
export async function readSecret(input: CliInput): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.byteLength;
    if (size > MAX_SECRET_BYTES) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Standard input holds more than ${MAX_SECRET_BYTES / 1024} KiB: pipe only the password to --password-stdin.`
      );
    }
    text += decoder.decode(bytes, { stream: true });
  }
  text += decoder.decode();
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      'Standard input was empty: pipe the password to --password-stdin.'
    );
  }
  return secret;
}

/**
 * Questions on a terminal: each answer is one line; with `echo: false` the terminal is put in
 * raw mode so the answer is not shown (Backspace edits, Ctrl-C aborts).
 */
export class TerminalPrompt {
  readonly #io: CliIo;
  readonly #input: CliInput;
  readonly #chunks: AsyncIterator<string | Uint8Array>;
  readonly #decoder = new TextDecoder();
  #pending = '';

  /**
   * @param io - the CLI's streams; `io.stdin` must be a terminal
   * @throws RunledgerError `USAGE` when standard input is not a terminal
   */
  constructor(io: CliIo) {
    const input = io.stdin;
    if (input?.isTTY !== true) {
      throw new RunledgerError('USAGE', 'Standard input is not a terminal: nothing can be asked.');
    }
    this.#io = io;
    this.#input = input;
    this.#chunks = input[Symbol.asyncIterator]();
  }

  /**
   * Asks one question.
   * @param label - the question (`Password: `)
   * @param options - `echo: false` hides the answer
   * @returns the answer without its line end
   * @throws RunledgerError `ABORTED` on Ctrl-C or when input ends first
   */
  async ask(label: string, options: { echo: boolean }): Promise<string> {
    this.#io.stderr.write(label);
    const raw = !options.echo && this.#input.setRawMode !== undefined;
    if (raw) this.#input.setRawMode?.(true);
    try {
      let answer = '';
      for (;;) {
        if (this.#pending === '') {
          const next = await this.#chunks.next();
          if (next.done === true) throw this.#aborted('Input ended before an answer was given.');
          const v = next.value;
          this.#pending = typeof v === 'string' ? v : this.#decoder.decode(v, { stream: true });
          continue;
        }
        const ch = this.#pending[0] as string;
        this.#pending = this.#pending.slice(1);
        if (ch === '\r' || ch === '\n') {
          // A terminal in cooked mode sends "\n" after "\r" on some systems: drop that one.
          if (ch === '\r' && this.#pending[0] === '\n') this.#pending = this.#pending.slice(1);
          return answer;
        }
        if (ch === '\u0003') throw this.#aborted('Cancelled.');
        if (ch === '\u0004') {
          if (answer === '') throw this.#aborted('Input ended before an answer was given.');
          return answer;
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    } finally {
      if (raw) {
        this.#input.setRawMode?.(false);
        // Raw mode swallowed the Enter: end the prompt's line.
        this.#io.stderr.write('\n');
      }
    }
  }

  /** Stops reading the terminal (so the process can exit). */
  async close(): Promise<void> {
    await this.#chunks.return?.();
  }

  #aborted(message: string): RunledgerError {
    return new RunledgerError('ABORTED', message);
  }
}
