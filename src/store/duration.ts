/**
 * @module store/duration
 * Durations as users type them: `<int>[s|m|h|d]`, a bare integer meaning seconds.
 */
import { RunledgerError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `24h`, `90m`, `7d` or `30` (seconds).
 *
 * @param value - the text
 * @returns milliseconds
 * @throws RunledgerError `ARGUMENT_INVALID` for anything else
 * @example
 * ```ts
 * parseDuration('24h'); // 86400000
 * ```
 */
export function parseDuration(value: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (m === null) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Duration ${JSON.stringify(value)} is not a whole number followed by s, m, h or d (e.g. 24h).`,
      { data: { value } }
    );
  }
  return Number(m[1]) * (UNIT_MS[m[2] || 's'] as number);
}
