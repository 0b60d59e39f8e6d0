/**
 * @module loggers/console
 * Runs on a terminal: a live status line (run name, elapsed time, latest metric values) rewritten
 * in place on a TTY, and one plain line per run end everywhere. Both a logger (its own runs) and
 * an experiment observer (`exp.observe(new ConsoleLogger())`). Nothing is written unless one is
 * constructed: it is the caller who asks for the terminal output.
 */
import type {
  ExperimentObserver,
  LoggedRun,
  Logger,
  MetricsEvent,
  RunEndEvent,
  RunEndStatus,
  RunStartEvent,
  StartRunOptions,
  SweepEvent,
} from '../experiment/logger.js';
import { RunledgerError } from '../errors.js';
import { startObservedRun } from './observed-run.js';

/** What a {@link ConsoleLogger} writes to: any writable (`process.stderr`, a `Writable`…). */
export interface ConsoleStream {
  write(chunk: string): unknown;
  /** True on a terminal: the live line is drawn. */
  readonly isTTY?: boolean | undefined;
  /** The terminal's width: the live line is cut to fit it. */
  readonly columns?: number | undefined;
}

/** Options of {@link ConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Where to write (default `process.stderr`). */
  readonly stream?: ConsoleStream;
  /** The least time between two redraws of the live line, in ms (default 100). */
  readonly interval?: number;
}

/** A run on screen. */
interface Shown {
  readonly name: string;
  readonly start: number;
  /** Latest value of each metric, in first-logged order. */
  readonly metrics: Map<string, number>;
  /** When it last changed (the live line shows the latest-changed run). */
  changed: number;
}

/** Erase the terminal line the cursor is on and go to its start. */
const CLEAR_LINE = '\r\x1b[2K';
/** The live line's elapsed time moves at least this often (ms). */
const TICK = 1000;
/** SGR colours of the end statuses. */
const STATUS_COLOR: Readonly<Record<RunEndStatus, string>> = {
  finished: '32',
  failed: '31',
  interrupted: '33',
};

/**
 * Runs on a terminal. On a TTY a single status line — the run that changed last, its elapsed
 * time and latest metric values, and how many other runs are open — is rewritten in place
 * (`\r` and erase-line, at most once per `interval`, cut to the terminal's width); on anything
 * else nothing is written while runs go on. Every run end writes one line,
 * `<name> <status> <elapsed> <metric>=<value>…`; colours (TTY only) honour `NO_COLOR`.
 *
 * @example
 * ```ts
 * const screen = new ConsoleLogger();
 * exp.observe(screen); // runledger's runs
 * // or, with runledger and a JSON Lines log:
 * const logger = new CompositeLogger([exp, screen]);
 * ```
 */
export class ConsoleLogger implements Logger, ExperimentObserver, Disposable {
  readonly #stream: ConsoleStream;
  readonly #interval: number;
  readonly #live: boolean;
  readonly #color: boolean;
  readonly #runs = new Map<string, Shown>();
  #nextRunId = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #lineShown = false;
  #timer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  /** The sweep under way, shown on the live line. */
  #sweep: SweepEvent | undefined;

  /**
   * @param options - stream, interval
   * @throws RunledgerError `ARGUMENT_INVALID` (an interval that is not a non-negative number)
   * @example
   * ```ts
   * const screen = new ConsoleLogger({ stream: process.stdout, interval: 250 });
   * ```
   */
  constructor(options: ConsoleLoggerOptions = {}) {
    const interval = options.interval ?? 100;
    if (typeof interval !== 'number' || !(interval >= 0)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The console interval is a non-negative number of ms, not ${String(interval)}.`
      );
    }
    this.#stream = options.stream ?? process.stderr;
    this.#interval = interval;
    this.#live = this.#stream.isTTY === true;
    const noColor = process.env['NO_COLOR'];
    this.#color = this.#live && (noColor === undefined || noColor === '');
  }

  /**
   * Opens a run of the logger's own (numbered from 0), shown like an observed one.
   * @param options - name (`run-<id>` by default); the rest is accepted and not shown
   * @returns the open run
   * @throws RunledgerError `ARGUMENT_INVALID`, `PARAMETER_INVALID`
   */
  startRun(options: StartRunOptions = {}): LoggedRun {
    const runId = this.#nextRunId;
    const run = startObservedRun(this, { experiment: 'console', runId, options });
    this.#nextRunId = runId + 1;
    return run;
  }

  /** @param e - the run that opened */
  onRunStart(e: RunStartEvent): void {
    this.#runs.set(keyOf(e), { name: e.name, start: e.time, metrics: new Map(), changed: e.time });
    if (!this.#live) return;
    this.#ticker ??= setInterval(() => this.#draw(), Math.max(this.#interval, TICK)).unref();
    this.#requestDraw();
  }

  /** @param e - metric values at one step */
  onMetrics(e: MetricsEvent): void {
    const shown = this.#runs.get(keyOf(e));
    if (shown === undefined) return;
    for (const [name, value] of Object.entries(e.values)) shown.metrics.set(name, value);
    shown.changed = Date.now();
    this.#requestDraw();
  }

  /** @param e - the run that closed */
  onRunEnd(e: RunEndEvent): void {
    const key = keyOf(e);
    const shown = this.#runs.get(key);
    this.#runs.delete(key);
    const elapsed = shown === undefined ? '' : ` ${formatElapsed(e.time - shown.start)}`;
    const metrics = shown === undefined ? '' : formatMetrics(shown.metrics);
    const status = this.#color ? `\x1b[${STATUS_COLOR[e.status]}m${e.status}\x1b[0m` : e.status;
    const line = `${e.name} ${status}${elapsed}${metrics === '' ? '' : ` ${metrics}`}\n`;
    if (!this.#live) {
      this.#stream.write(line);
      return;
    }
    this.#stream.write(this.#lineShown ? CLEAR_LINE + line : line);
    this.#lineShown = false;
    if (this.#runs.size > 0) this.#draw();
    else this.#stop();
  }

  /** @param e - a sweep's progress: on the live line while it runs, one line when it ends */
  onSweep(e: SweepEvent): void {
    if (e.done < e.total || e.running > 0) {
      this.#sweep = e;
      this.#requestDraw();
      return;
    }
    this.#sweep = undefined;
    const failed = e.failed === 0 ? '' : `, ${e.failed} failed`;
    const line = `sweep done: ${e.total} trial${e.total === 1 ? '' : 's'}${failed}\n`;
    this.#stream.write(this.#lineShown ? CLEAR_LINE + line : line);
    this.#lineShown = false;
  }

  /** Stops redrawing and erases the live line (the end lines stay). */
  close(): void {
    this.#stop();
    if (this.#lineShown) this.#stream.write(CLEAR_LINE);
    this.#lineShown = false;
  }

  /** Closes it (`using screen = new ConsoleLogger()`). */
  [Symbol.dispose](): void {
    this.close();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#ticker);
    this.#timer = undefined;
    this.#ticker = undefined;
  }

  /** Draws now when the last draw is `interval` old, else once when it will be. */
  #requestDraw(): void {
    if (!this.#live || this.#timer !== undefined) return;
    const wait = this.#lastDraw + this.#interval - Date.now();
    if (wait <= 0) this.#draw();
    else this.#timer = setTimeout(() => this.#draw(), wait).unref();
  }

  #draw(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let shown: Shown | undefined;
    for (const s of this.#runs.values())
      if (shown === undefined || s.changed >= shown.changed) shown = s;
    if (shown === undefined) return;
    const now = Date.now();
    this.#lastDraw = now;
    const metrics = formatMetrics(shown.metrics);
    const others = this.#runs.size - 1;
    const rest =
      `  ${formatElapsed(now - shown.start)}` +
      (metrics === '' ? '' : `  ${metrics}`) +
      (others > 0 ? `  (+${others} open)` : '') +
      (this.#sweep === undefined
        ? ''
        : `  [sweep ${this.#sweep.done}/${this.#sweep.total}${this.#sweep.failed > 0 ? `, ${this.#sweep.failed} failed` : ''}]`);
    // Cut to the width: a line that wraps cannot be rewritten in place.
    const width = Math.max(10, (this.#stream.columns ?? 80) - 1);
    let name = shown.name;
    let tail = rest;
    if (name.length + tail.length > width) {
      const cut = `${name}${tail}`.slice(0, width - 1) + '…';
      name = cut.slice(0, Math.min(name.length, cut.length));
      tail = cut.slice(name.length);
    }
    const styled = this.#color ? `\x1b[1m${name}\x1b[0m${tail}` : `${name}${tail}`;
    this.#stream.write(CLEAR_LINE + styled);
    this.#lineShown = true;
  }
}

/** A run's key among the runs shown: experiment and run id. */
function keyOf(e: { readonly experiment: string; readonly runId: number }): string {
  return `${e.experiment}\u0000${e.runId}`;
}

/** `12.3s`, `4m05s`, `1h02m`. */
function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const whole = Math.floor(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** `loss=0.1235 acc=0.91`: four significant digits, integers whole. */
function formatMetrics(metrics: ReadonlyMap<string, number>): string {
  const parts: string[] = [];
  for (const [name, v] of metrics) {
    const text =
      !Number.isFinite(v) || (Number.isInteger(v) && Math.abs(v) < 1e15)
        ? String(v)
        : String(Number(v.toPrecision(4)));
    parts.push(`${name}=${text}`);
  }
  return parts.join(' ');
}
