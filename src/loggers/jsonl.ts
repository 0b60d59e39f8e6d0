/**
 * @module loggers/jsonl
 * A JSON Lines event log: one JSON object per line for each thing that happens to a run or an
 * experiment, streamed to a file as it happens. Both a logger (its own runs) and an experiment
 * observer (`exp.observe(log)`: runledger's runs, with their real ids).
 */
import { randomBytes } from 'node:crypto';
import type {
  AttachmentEvent,
  CheckpointEvent,
  CommitEvent,
  ExperimentObserver,
  LoggedRun,
  Logger,
  MetricsEvent,
  ParamsEvent,
  RunEndEvent,
  RunStartEvent,
  SolveEvent,
  TagsEvent,
  StartRunOptions,
} from '../experiment/logger.js';
import { LineFile } from './line-file.js';
import { startObservedRun, type ArtifactEvent } from './observed-run.js';

/** Options of {@link JsonlLogger}. */
export interface JsonlLoggerOptions {
  /** Append to what the file holds (default `false`: the file is truncated when opened). */
  readonly append?: boolean;
  /**
   * What the lines of the logger's own runs give as `experiment` (default: generated,
   * `jsonl-<YYYYMMDDTHHMMSS>-<6 hex>`, so runs of two sessions appended to one file stay apart).
   * Observed runs carry their experiment's reference.
   */
  readonly experiment?: string;
}

/**
 * A JSON Lines event log. Every line is one object with flat top-level keys; `event`, `time`
 * (RFC 3339 UTC, milliseconds) and `experiment` are on every line, `run_id` on every line about a
 * run. A key has one JSON type wherever it appears (or is absent/`null`), so
 * `pandas.read_json(path, lines=True)` and DuckDB's `read_json_auto(path)` read the file as one
 * table.
 *
 * | event        | when                                           | keys beside `event`, `time`, `experiment`                                   |
 * | ------------ | ---------------------------------------------- | --------------------------------------------------------------------------- |
 * | `run_start`  | a run opens                                    | `run_id`, `name`, `parent_run_id` (int or null), `tags` {key: string}, `labels` [string], `description` (string or null) |
 * | `params`     | parameters are logged (one line per call)      | `run_id`, `params` {name: value}                                            |
 * | `metrics`    | metric values are logged (one line per call)   | `run_id`, `step` (int), `values` {name: number}                             |
 * | `tags`       | `run.setTags` (the logger's own runs)          | `run_id`, `tags` {key: string}, `labels` [string]                           |
 * | `attachment` | an attachment is stored, or `logArtifact`      | `run_id` (null for an experiment attachment), `name`, `media_type`, `size` (bytes), `path` (`logArtifact` only) |
 * | `solve`      | a solver or sampler call is recorded           | `run_id`, `kind` (`solve`/`sampling`), `solve_id`, `adapter`, `status`      |
 * | `run_end`    | a run closes                                   | `run_id`, `name`, `status` (`finished`/`failed`/`interrupted`), `reason` (string or null) |
 * | `checkpoint` | the experiment writes a checkpoint             | `status` (`draft`/`failed`/`interrupted`), `run_count`                      |
 * | `commit`     | the experiment is committed                    | `manifest_digest`, `run_count`                                              |
 *
 * Values JSON cannot hold are written as strings: NaN, Infinity and -Infinity as `"NaN"`,
 * `"Infinity"` and `"-Infinity"` (DuckDB's `::DOUBLE` and pandas' `astype(float)` read them
 * back), a bigint as a number when it is a safe integer (|n| < 2^53) and as its decimal string
 * otherwise.
 *
 * Lines are written in batches (one `write` per turn of the event loop) and at once when a run
 * ends, on a commit and on {@link JsonlLogger.flush}; {@link JsonlLogger.close} also fsyncs.
 *
 * @example
 * ```ts
 * const log = new JsonlLogger('events.jsonl');
 * exp.observe(log); // runledger's runs, with their ids
 * await using run = log.startRun({ name: 'baseline' }); // or runs of its own
 * run.logMetrics({ loss: 0.5 });
 * await run.finish();
 * await log.close();
 * ```
 */
export class JsonlLogger implements Logger, ExperimentObserver, AsyncDisposable {
  /** The file. */
  readonly path: string;
  /** What the lines of the logger's own runs give as `experiment`. */
  readonly experiment: string;
  readonly #file: LineFile;
  #nextRunId = 0;
  /** The last instant formatted: the lines of one run mostly share their millisecond. */
  #lastMs = Number.NaN;
  #lastIso = '';

  /**
   * Opens (creates, or truncates unless `append`) the log.
   * @param path - the file
   * @param options - append, experiment
   * @throws RunledgerError `IO_ERROR` when the file cannot be opened
   * @example
   * ```ts
   * const log = new JsonlLogger('events.jsonl', { append: true });
   * ```
   */
  constructor(path: string, options: JsonlLoggerOptions = {}) {
    this.path = path;
    this.experiment = options.experiment ?? sessionName();
    this.#file = new LineFile(path, { append: options.append === true });
  }

  /**
   * Opens a run of the log's own, numbered from 0 (its `run_start` line, and a `params` line
   * for `config`). Runs are never nested (`parent_run_id` is null).
   * @param options - name (`run-<id>` by default), config, tags, description
   * @returns the open run
   * @throws RunledgerError `ARGUMENT_INVALID`, `PARAMETER_INVALID`, `IO_ERROR` (log closed)
   * @example
   * ```ts
   * const run = log.startRun({ name: 'a', config: { seed: 1 } });
   * ```
   */
  startRun(options: StartRunOptions = {}): LoggedRun {
    const runId = this.#nextRunId;
    const run = startObservedRun(this, { experiment: this.experiment, runId, options });
    this.#nextRunId = runId + 1;
    return run;
  }

  /** @param e - the run that opened */
  onRunStart(e: RunStartEvent): void {
    this.#line({
      event: 'run_start',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      name: e.name,
      parent_run_id: e.parentRunId ?? null,
      tags: e.tags,
      labels: e.labels,
      description: e.description ?? null,
    });
  }

  /** @param e - the parameters logged */
  onParams(e: ParamsEvent): void {
    this.#line({
      event: 'params',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      params: e.params,
    });
  }

  /** @param e - the metric values logged at one step */
  onMetrics(e: MetricsEvent): void {
    this.#line({
      event: 'metrics',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      step: e.step,
      values: e.values,
    });
  }

  /** @param e - the tags set (the log's own runs) */
  onTags(e: TagsEvent): void {
    this.#line({
      event: 'tags',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      tags: e.tags,
      labels: e.labels,
    });
  }

  /** @param e - the attachment stored (or the artifact logged) */
  onAttachment(e: AttachmentEvent | ArtifactEvent): void {
    this.#line({
      event: 'attachment',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId ?? null,
      name: e.name,
      media_type: e.mediaType,
      size: e.size,
      ...('path' in e ? { path: e.path } : {}),
    });
  }

  /** @param e - the solver or sampler call recorded */
  onSolve(e: SolveEvent): void {
    this.#line({
      event: 'solve',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      kind: e.kind,
      solve_id: e.solveId,
      adapter: e.adapter,
      status: e.status,
    });
  }

  /**
   * Writes the `run_end` line, then everything queued.
   * @param e - the run that closed
   * @throws RunledgerError `IO_ERROR`
   */
  onRunEnd(e: RunEndEvent): void {
    this.#line({
      event: 'run_end',
      time: this.#iso(e.time),
      experiment: e.experiment,
      run_id: e.runId,
      name: e.name,
      status: e.status,
      reason: e.reason ?? null,
    });
    this.#file.flush();
  }

  /** @param e - the checkpoint written */
  onCheckpoint(e: CheckpointEvent): void {
    this.#line({
      event: 'checkpoint',
      time: this.#iso(e.time),
      experiment: e.experiment,
      status: e.status,
      run_count: e.runCount,
    });
  }

  /**
   * Writes the `commit` line, then everything queued.
   * @param e - the commit
   * @throws RunledgerError `IO_ERROR`
   */
  onCommit(e: CommitEvent): void {
    this.#line({
      event: 'commit',
      time: this.#iso(e.time),
      experiment: e.experiment,
      manifest_digest: e.manifestDigest,
      run_count: e.runCount,
    });
    this.#file.flush();
  }

  /**
   * Writes every queued line now (no fsync).
   * @throws RunledgerError `IO_ERROR`
   */
  flush(): void {
    this.#file.flush();
  }

  /**
   * Writes what is queued, fsyncs and closes the file; later events are refused (`IO_ERROR`),
   * runs still open are left as they are.
   * @returns when closed
   * @throws RunledgerError `IO_ERROR`
   * @example
   * ```ts
   * await log.close();
   * ```
   */
  close(): Promise<void> {
    return this.#file.close();
  }

  /** Closes the log (`await using log = new JsonlLogger(…)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Milliseconds since the epoch as RFC 3339 UTC. */
  #iso(ms: number): string {
    if (ms !== this.#lastMs) {
      this.#lastIso = new Date(ms).toISOString();
      this.#lastMs = ms;
    }
    return this.#lastIso;
  }

  #line(record: Record<string, unknown>): void {
    // The replacer doubles what stringify costs (measured): only lines that need it take it.
    const text = needsReplacer(record) ? JSON.stringify(record, jsonSafe) : JSON.stringify(record);
    this.#file.write(`${text}\n`);
  }
}

/** Whether a value is one JSON cannot hold as it is. */
function unsafe(value: unknown): boolean {
  return typeof value === 'bigint' || (typeof value === 'number' && !Number.isFinite(value));
}

/** Whether a line holds, at its top level or one level down (`params`, `values`), such a value. */
function needsReplacer(record: Record<string, unknown>): boolean {
  for (const key in record) {
    const value = record[key];
    if (unsafe(value)) return true;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const inner in value) if (unsafe((value as Record<string, unknown>)[inner])) return true;
    }
  }
  return false;
}

/**
 * JSON's replacer for what it cannot hold: non-finite numbers become their names as strings, a
 * bigint a number when that is exact, else its decimal string.
 */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  return value;
}

/** `jsonl-<YYYYMMDDTHHMMSS>-<6 hex>`: a name for the own runs of one logger. */
function sessionName(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `jsonl-${stamp}-${randomBytes(3).toString('hex')}`;
}
