/**
 * @module cli/progress
 * A one-line progress bar on stderr, only when stderr is a terminal (never on stdout): what is
 * being done, a bar, the percentage, bytes done of the total, the speed and the time left,
 * redrawn in place at most every 100 ms. A task that succeeds ends on its full bar (100%) and a
 * new line; one that fails clears the line, so the error stands alone.
 */
import type { Progress } from '../store/types.js';
import { formatBytes } from './format.js';
import type { CliIo } from './types.js';

/** Cells of the bar between its brackets. */
const BAR = 20;
/** The least time between two redraws (ms). */
const INTERVAL = 100;
/** Erase from the cursor to the end of the line. */
const ERASE_REST = '\x1b[K';
/** Back to the line's start, then erase all of it. */
const CLEAR_LINE = '\r\x1b[2K';

/** A progress display: the callback a long task reports to, and the task's end. */
export interface ProgressLine {
  /** Takes one report (drawn at most every 100 ms; the first and a complete one at once). */
  readonly onProgress: (p: Progress) => void;
  /**
   * Waits for the task: when it succeeds the bar is drawn full (100%, the total its bytes) and
   * the line ended; when it fails the line is cleared.
   * @param task - the task the reports are about
   * @returns what the task returns
   */
  track<T>(task: Promise<T>): Promise<T>;
}

/** Options of {@link progressLine}. */
export interface ProgressLineOptions {
  /** The clock, in ms (tests). @default performance.now */
  readonly now?: () => number;
}

/**
 * The progress bar of a long task (a transfer, an import, an export).
 * @param io - the CLI's streams; drawn only when `io.stderr.isTTY`
 * @param enabled - false for `--json` and `--quiet`
 * @param options - the clock
 * @returns the callback and {@link ProgressLine.track}; both draw nothing when disabled
 * @example
 * ```ts
 * const progress = progressLine(ctx.io, !ctx.json);
 * await progress.track(exportArchive(registry, ref, file, { onProgress: progress.onProgress }));
 * ```
 */
export function progressLine(
  io: CliIo,
  enabled: boolean,
  options: ProgressLineOptions = {}
): ProgressLine {
  if (!enabled || io.stderr.isTTY !== true) {
    return { onProgress: () => undefined, track: (task) => task };
  }
  const now = options.now ?? (() => performance.now());
  const start = now();
  let drawn = -Infinity;
  let last: Progress | undefined;
  const draw = (p: Progress, final: boolean): void => {
    const width = io.stderr.columns ?? io.stdout.columns;
    const text = progressText(p, (now() - start) / 1000, final, width);
    io.stderr.write(`\r${text}${ERASE_REST}`);
  };
  return {
    onProgress: (p) => {
      last = p;
      const t = now();
      const complete = p.total !== undefined && p.loaded >= p.total;
      if (t - drawn < INTERVAL && !complete) return;
      drawn = t;
      draw(p, false);
    },
    track: async (task) => {
      try {
        const result = await task;
        if (last !== undefined) {
          const total = Math.max(last.total ?? last.loaded, last.loaded);
          draw({ ...last, loaded: total, total }, true);
          io.stderr.write('\n');
        }
        return result;
      } catch (e) {
        if (last !== undefined) io.stderr.write(CLEAR_LINE);
        throw e;
      }
    },
  };
}

/**
 * One state of a progress bar as text: `export [#########...........]  45%  1.2 MiB / 2.6 MiB
 * 3.4 MiB/s  0:01 left`; without a total, the bytes and speed only; when final, the time taken
 * instead of the time left.
 * @param p - the report
 * @param seconds - time since the task started
 * @param final - whether the task has ended
 * @param width - the terminal's width: the phase is cut in the middle (`…`) so that the line
 *   fits in one column less
 * @returns the line (no line end)
 * @example
 * ```ts
 * progressText({ phase: 'export', loaded: 512, total: 1024 }, 1, false);
 * // 'export [##########..........]  50%  512 B / 1.0 KiB  512 B/s  0:01 left'
 * ```
 */
export function progressText(p: Progress, seconds: number, final: boolean, width?: number): string {
  const text = progressTail(p, seconds, final);
  const room = width === undefined ? Infinity : width - 1 - text.length;
  // Cut in the middle: the verb in front and the counts at the end stay.
  const keep = Math.max(0, room - 1);
  const phase =
    p.phase.length <= room
      ? p.phase
      : `${p.phase.slice(0, Math.ceil(keep / 2))}…${p.phase.slice(p.phase.length - Math.floor(keep / 2))}`;
  return `${phase}${text}`;
}

/** {@link progressText} after the phase. */
function progressTail(p: Progress, seconds: number, final: boolean): string {
  const rate = seconds > 0 ? p.loaded / seconds : undefined;
  const speed = rate === undefined ? '' : `  ${formatBytes(Math.round(rate))}/s`;
  if (p.total === undefined) {
    return `  ${formatBytes(p.loaded)}${speed}${final ? `  in ${clock(seconds)}` : ''}`;
  }
  const fraction = p.total === 0 ? 1 : Math.min(1, p.loaded / p.total);
  const filled = Math.floor(fraction * BAR);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
  const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const left =
    final || fraction >= 1
      ? `  in ${clock(seconds)}`
      : rate === undefined || rate === 0
        ? ''
        : `  ${clock((p.total - p.loaded) / rate)} left`;
  return ` ${bar} ${pct}  ${formatBytes(p.loaded)} / ${formatBytes(p.total)}${speed}${left}`;
}

/** Seconds as `m:ss` (`h:mm:ss` from an hour). */
function clock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const two = (n: number): string => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
