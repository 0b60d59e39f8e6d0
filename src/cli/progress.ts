/**
 * @module cli/progress
 * A one-line progress display on stderr, only when stderr is a terminal (never on stdout).
 */
import type { Progress } from '../store/types.js';
import { formatBytes } from './format.js';
import type { CliIo } from './types.js';

/**
 * A progress callback for long transfers, plus `done()` to end the line.
 * @param io - the CLI's streams
 * @param enabled - false for `--json`
 * @returns the callback pair; both do nothing when stderr is not a TTY
 */
export function progressLine(
  io: CliIo,
  enabled: boolean
): { onProgress: (p: Progress) => void; done: () => void } {
  if (!enabled || io.stderr.isTTY !== true)
    return { onProgress: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    onProgress: (p) => {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const pct =
        p.total === undefined || p.total === 0 ? '' : ` ${Math.floor((100 * p.loaded) / p.total)}%`;
      io.stderr.write(
        `\r${p.phase} ${formatBytes(p.loaded)}${p.total === undefined ? '' : ` of ${formatBytes(p.total)}`}${pct}   `
      );
    },
    done: () => {
      if (shown) io.stderr.write('\n');
    },
  };
}
