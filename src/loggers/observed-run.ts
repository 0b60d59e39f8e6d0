/**
 * @module loggers/observed-run
 * A logger's own run told as observer events: the loggers that are also observers (the JSON Lines
 * log, the console line) implement the hooks once, and their `startRun` hands out an
 * {@link ObservedRun} that turns every protocol call into the event the hook takes.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { RunledgerError } from '../errors.js';
import { detectMediaType } from '../formats/media-type.js';
import type {
  AttachmentEvent,
  LoggedRun,
  MetricsEvent,
  ParamsEvent,
  RunEndEvent,
  RunEndStatus,
  RunStartEvent,
  StartRunOptions,
  TagsEvent,
} from '../experiment/logger.js';
import { describeValue, isPlainRecord } from '../experiment/options.js';
import type { ParameterValue } from '../experiment/parameters.js';

/** A file logged with `logArtifact`: an attachment event that also names the file. */
export interface ArtifactEvent extends AttachmentEvent {
  /** The file, as the caller named it. */
  readonly path: string;
}

/**
 * What an {@link ObservedRun} reports to: the observer hooks a run's life calls, plus tags; each
 * synchronous (these loggers buffer), so a failing hook fails the call that reported.
 */
export interface RunEventSink {
  onRunStart?(event: RunStartEvent): void;
  onParams?(event: ParamsEvent): void;
  onMetrics?(event: MetricsEvent): void;
  onAttachment?(event: AttachmentEvent): void;
  onRunEnd?(event: RunEndEvent): void;
  onTags?(event: TagsEvent): void;
}

/** Bytes read from an artifact to sniff its media type (as OMMX's `log_file`). */
const HEAD_BYTES = 8192;

/**
 * A run a logger records itself, each call reported to the logger's hooks as it happens.
 * Finishing twice does nothing; `await using` ends an unfinished run as failed.
 *
 * @example
 * ```ts
 * const run = startObservedRun(sink, { experiment: 'local', runId: 0, options: { name: 'a' } });
 * run.logMetrics({ loss: 0.5 });
 * await run.finish();
 * ```
 */
export class ObservedRun implements LoggedRun {
  /** The run's name (given, or `run-<id>`). */
  readonly name: string;
  /** Numbered from 0 by the logger. */
  readonly runId: number;
  /** What the logger calls its experiment. */
  readonly experiment: string;
  readonly #sink: RunEventSink;
  /** Per metric, the step after the last one logged. */
  readonly #nextStep = new Map<string, number>();
  #ended = false;

  /** @internal Use {@link startObservedRun}. */
  constructor(sink: RunEventSink, start: RunStartEvent) {
    this.#sink = sink;
    this.name = start.name;
    this.runId = start.runId;
    this.experiment = start.experiment;
  }

  /** Whether the run has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  #assertOpen(): void {
    if (this.#ended) {
      throw new RunledgerError(
        'RUN_CLOSED',
        `Run ${this.runId} (${this.name}) of ${this.experiment} has ended; it cannot be changed any more.`,
        { data: { runId: this.runId } }
      );
    }
  }

  /**
   * Logs parameters.
   * @param params - a plain object of name → boolean, number, bigint or string
   * @throws RunledgerError `PARAMETER_INVALID`, `RUN_CLOSED`
   */
  logParams(params: Readonly<Record<string, ParameterValue>>): void {
    this.#assertOpen();
    this.#sink.onParams?.({
      experiment: this.experiment,
      runId: this.runId,
      params: checkParams(params),
      time: Date.now(),
    });
  }

  /**
   * Logs metric values at one step: `step`, else one more than the last step of any metric of
   * the record (from 0), so a record's values share one step.
   * @param values - a plain object of name → number
   * @param options - step
   * @throws RunledgerError `METRIC_INVALID`, `RUN_CLOSED`
   */
  logMetrics(
    values: Readonly<Record<string, number>>,
    options: { readonly step?: number } = {}
  ): void {
    this.#assertOpen();
    const checked = checkMetrics(values);
    const names = Object.keys(checked);
    let step = options.step;
    if (step === undefined) {
      step = 0;
      for (const n of names) step = Math.max(step, this.#nextStep.get(n) ?? 0);
    } else if (!Number.isSafeInteger(step) || step < 0) {
      throw new RunledgerError(
        'METRIC_INVALID',
        `A metric step is a non-negative integer, not ${String(step)}.`,
        { data: { step } }
      );
    }
    for (const n of names) this.#nextStep.set(n, step + 1);
    this.#sink.onMetrics?.({
      experiment: this.experiment,
      runId: this.runId,
      values: checked,
      step,
      time: Date.now(),
    });
  }

  /**
   * Logs a file as an artifact: its name, media type (sniffed, then by extension) and size; the
   * file itself is not copied.
   * @param path - a file
   * @param options - name (the file's basename by default)
   * @returns when reported
   * @throws RunledgerError `IO_ERROR` when the file cannot be read, `RUN_CLOSED`
   */
  async logArtifact(path: string, options: { readonly name?: string } = {}): Promise<void> {
    this.#assertOpen();
    let size: number;
    let head: Uint8Array;
    try {
      const file = await open(path, 'r');
      try {
        size = (await file.stat()).size;
        const buffer = new Uint8Array(Math.min(HEAD_BYTES, size));
        const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
        head = buffer.subarray(0, bytesRead);
      } finally {
        await file.close();
      }
    } catch (e) {
      throw new RunledgerError('IO_ERROR', `Cannot read the artifact ${path}.`, {
        cause: e,
        data: { path },
      });
    }
    const event: ArtifactEvent = {
      experiment: this.experiment,
      runId: this.runId,
      name: options.name ?? basename(path),
      mediaType: detectMediaType(head, path),
      size,
      path,
      time: Date.now(),
    };
    this.#assertOpen(); // it may have ended while the file was read
    this.#sink.onAttachment?.(event);
  }

  /**
   * Sets key/value tags (a list adds labels).
   * @param tags - key → string, or a list of labels
   * @throws RunledgerError `ARGUMENT_INVALID`, `RUN_CLOSED`
   */
  setTags(tags: Readonly<Record<string, string>> | readonly string[]): void {
    this.#assertOpen();
    this.#sink.onTags?.({
      experiment: this.experiment,
      runId: this.runId,
      ...splitTagsInput(tags),
      time: Date.now(),
    });
  }

  /**
   * Ends the run; the second call does nothing.
   * @param status - finished (the default), failed or interrupted
   * @returns when the hook has run (rejected when it threw)
   * @throws RunledgerError `ARGUMENT_INVALID` for another status
   */
  finish(status: RunEndStatus = 'finished'): Promise<void> {
    try {
      checkRunEndStatus(status);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#close(status, undefined);
  }

  /** Ends the run as failed unless it has ended (the scope left before `finish()`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#close('failed', 'disposed before finish()');
  }

  #close(status: RunEndStatus, reason: string | undefined): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    try {
      this.#sink.onRunEnd?.({
        experiment: this.experiment,
        runId: this.runId,
        name: this.name,
        status,
        reason,
        time: Date.now(),
      });
    } catch (e) {
      return Promise.reject(e);
    }
    return Promise.resolve();
  }
}

/**
 * Opens a run of a logger that records through its own hooks: reports `onRunStart`, then
 * `onParams` with the `config` when there is one.
 * @param sink - the logger's hooks
 * @param init - what the logger calls its experiment, the run's id, the caller's options
 * @returns the open run
 * @throws RunledgerError `ARGUMENT_INVALID` (name, tags, description), `PARAMETER_INVALID` (config)
 * @example
 * ```ts
 * const run = startObservedRun(this, { experiment: this.experiment, runId: this.#next++, options });
 * ```
 */
export function startObservedRun(
  sink: RunEventSink,
  init: { readonly experiment: string; readonly runId: number; readonly options: StartRunOptions }
): ObservedRun {
  const { experiment, runId, options } = init;
  if (!isPlainRecord(options as unknown)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `startRun takes an options object, not ${describeValue(options)}.`
    );
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new RunledgerError('ARGUMENT_INVALID', 'A run name is a non-empty string.');
  }
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new RunledgerError('ARGUMENT_INVALID', 'A run description is a string.');
  }
  const config = options.config === undefined ? undefined : checkParams(options.config);
  const { tags, labels } =
    options.tags === undefined ? { tags: {}, labels: [] } : splitTagsInput(options.tags);
  const start: RunStartEvent = {
    experiment,
    runId,
    name: options.name ?? `run-${runId}`,
    parentRunId: undefined,
    tags,
    labels,
    description: options.description,
    time: Date.now(),
  };
  sink.onRunStart?.(start);
  if (config !== undefined && Object.keys(config).length > 0) {
    sink.onParams?.({ experiment, runId, params: config, time: start.time });
  }
  return new ObservedRun(sink, start);
}

/**
 * Checks the status a run is finished with.
 * @param status - what `finish` was given
 * @throws RunledgerError `ARGUMENT_INVALID` for anything but finished, failed, interrupted
 * @example
 * ```ts
 * checkRunEndStatus('failed');
 * ```
 */
export function checkRunEndStatus(status: unknown): asserts status is RunEndStatus {
  if (status !== 'finished' && status !== 'failed' && status !== 'interrupted') {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `A run finishes as finished, failed or interrupted, not ${describeValue(status)}.`
    );
  }
}

/** A copy of a parameter record, each value checked. */
function checkParams(params: unknown): Readonly<Record<string, ParameterValue>> {
  if (!isPlainRecord(params)) {
    throw new RunledgerError(
      'PARAMETER_INVALID',
      `Parameters are a plain object of name → value, not ${describeValue(params)}.`
    );
  }
  for (const [name, value] of Object.entries(params)) {
    const t = typeof value;
    if (name === '' || (t !== 'boolean' && t !== 'number' && t !== 'bigint' && t !== 'string')) {
      throw new RunledgerError(
        'PARAMETER_INVALID',
        `Parameter ${JSON.stringify(name)} must be a boolean, number, bigint or string, not ${describeValue(value)}.`,
        { data: { name } }
      );
    }
  }
  return { ...(params as Record<string, ParameterValue>) };
}

/** A copy of a metric record, each value checked. */
function checkMetrics(values: unknown): Readonly<Record<string, number>> {
  if (!isPlainRecord(values)) {
    throw new RunledgerError(
      'METRIC_INVALID',
      `Metric values are a plain object of name → number, not ${describeValue(values)}.`
    );
  }
  for (const [name, value] of Object.entries(values)) {
    if (name === '' || typeof value !== 'number') {
      throw new RunledgerError(
        'METRIC_INVALID',
        `Metric ${JSON.stringify(name)} must be a number, not ${describeValue(value)}.`,
        { data: { name } }
      );
    }
  }
  return { ...(values as Record<string, number>) };
}

/** Tags as the protocol takes them: key → string, or a list of labels. */
function splitTagsInput(tags: unknown): {
  tags: Readonly<Record<string, string>>;
  labels: readonly string[];
} {
  if (Array.isArray(tags)) {
    if (tags.every((l): l is string => typeof l === 'string' && l !== '')) {
      return { tags: {}, labels: [...new Set(tags)] };
    }
  } else if (isPlainRecord(tags) && Object.values(tags).every((v) => typeof v === 'string')) {
    return { tags: { ...(tags as Record<string, string>) }, labels: [] };
  }
  throw new RunledgerError(
    'ARGUMENT_INVALID',
    `Tags are a plain object of key → string, or a list of label strings, not ${describeValue(tags)}.`
  );
}
