/**
 * @module cli/color
 * Whether the CLI colours its output, and the few colours it uses: on a terminal unless
 * `NO_COLOR` is set (https://no-color.org), anywhere when `FORCE_COLOR` asks for it.
 */
import type { CliIo } from './types.js';

/** The styles the CLI paints with. */
export type Style = 'red' | 'yellow' | 'green' | 'dim' | 'bold';

const CODES: Readonly<Record<Style, readonly [number, number]>> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/**
 * Whether standard output gets colour. `NO_COLOR` set to anything but the empty string turns it
 * off, before anything else; `FORCE_COLOR` set to anything but `0`, `false` or the empty string
 * turns it on, even in a pipe (`FORCE_COLOR=0` turns it off); otherwise a terminal gets colour
 * unless `TERM` is `dumb`.
 * @param io - the CLI's streams and environment
 * @returns true to colour
 * @example
 * ```ts
 * colorEnabled({ ...io, env: { NO_COLOR: '1' } }); // false
 * ```
 */
export function colorEnabled(io: Pick<CliIo, 'stdout' | 'env'>): boolean {
  const no = io.env['NO_COLOR'];
  if (no !== undefined && no !== '') return false;
  const force = io.env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return io.stdout.isTTY === true && io.env['TERM'] !== 'dumb';
}

/**
 * Wraps text in the ANSI codes of a style (and resets only that style after it).
 * @param text - the text
 * @param style - the style
 * @returns the painted text
 * @example
 * ```ts
 * paint('failed', 'red'); // '\u001b[31mfailed\u001b[39m'
 * ```
 */
export function paint(text: string, style: Style): string {
  const [on, off] = CODES[style];
  return text === '' ? text : `\u001b[${on}m${text}\u001b[${off}m`;
}

/**
 * The style a run (or experiment, checkpoint, solve) status stands out with: failed red,
 * interrupted yellow; none for the others.
 * @param status - the status text
 * @returns the style, or undefined
 * @example
 * ```ts
 * statusStyle('failed'); // 'red'
 * ```
 */
export function statusStyle(status: unknown): Style | undefined {
  if (status === 'failed') return 'red';
  if (status === 'interrupted') return 'yellow';
  return undefined;
}
