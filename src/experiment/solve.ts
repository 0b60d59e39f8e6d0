/**
 * @module experiment/solve
 * Solver and sampler calls recorded in a run (ommx-reference §5): the caller's Instance as
 * input, the adapter's name and options (JSON, checked before solving), the Solution or
 * SampleSet as output, optional diagnostics (msgpack), and — beyond OMMX — the wall-clock start
 * and end of each call: in the output's process metadata, or, for a call that failed or was
 * interrupted (no output), as annotations of its input layer.
 */
import { RunledgerError } from '../errors.js';
import { canonicalJson, type JsonValue } from '../oci/canonical-json.js';
import type { Descriptor } from '../oci/types.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { Instance } from '../ommx/instance.js';
import { SampleSet } from '../ommx/sample-set.js';
import { Solution } from '../ommx/solution.js';
import type { ProcessMetadata } from '../ommx/types.js';
import {
  assertAdapter,
  type DiagnosticsSink,
  type PreparedSolve,
  type SamplerAdapter,
  type SolveContext,
  type SolverAdapter,
} from '../solve/adapter.js';
import type { RunStatus } from './config.js';
import { MEDIA_TYPE_DIAGNOSTICS } from './config.js';
import { decodeMsgpack, encodeMsgpack } from '../formats/msgpack.js';
import { decodePayload, encodePayload, type EncodedPayload } from './payloads.js';
import { logicalMediaType } from './compression.js';
import type { CallSpan, TracedCall } from './trace.js';

/** One solve or sampling as recorded in a run (descriptors of its layers). @internal */
export interface SolveRecord {
  readonly id: number;
  readonly status: RunStatus;
  readonly input: Descriptor;
  readonly output?: Descriptor;
  readonly adapter: string;
  /** JSON text of the options. */
  readonly adapterOptions: string;
  readonly diagnostics?: Descriptor;
}

/** Controls of a recorded solve (not passed to the adapter as options). */
export interface SolveControls {
  /** Pass a diagnostics sink to the adapter and store what it records. @default false */
  readonly storeDiagnostics?: boolean;
  readonly signal?: AbortSignal;
}

/** What recording needs from the run. @internal */
export interface SolveHost {
  /** Throws when the run is closed. */
  assertOpen(): void;
  /** Stores a blob in the run's batch. */
  putBlob(bytes: Uint8Array): Promise<{ digest: Descriptor['digest']; size: number }>;
  /** Publishes a blob of the run's batch now, so recording the call later need not. */
  publish?(digest: Descriptor['digest']): Promise<void>;
  /** Allocates the next id. */
  nextId(kind: 'solve' | 'sampling'): number;
  /** Records a finished, failed or interrupted call. */
  record(kind: 'solve' | 'sampling', record: SolveRecord): Promise<void>;
  /** Fires when the run closes (failed or interrupted) while calls run: they are stopped. */
  readonly interrupted?: AbortSignal;
  /** Starts the call's span, when the run is traced (`storeTrace`). */
  startSpan?(call: TracedCall): CallSpan | undefined;
}

/**
 * Input-layer annotations of a call without output: its wall-clock start and end (RFC 3339), which
 * a finished call has in its output's process metadata.
 */
export const ANNOTATION_CALL_START = 'io.runledger.call.start';
/** See {@link ANNOTATION_CALL_START}. */
export const ANNOTATION_CALL_END = 'io.runledger.call.end';

/** OMMX's rule: an interrupted call is a KeyboardInterrupt; ours is an abort. */
function statusOf(error: unknown): RunStatus {
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  return name === 'AbortError' || code === 'ABORTED' ? 'interrupted' : 'failed';
}

/**
 * The adapter options as JSON text, checked before anything runs.
 * @internal
 */
export function adapterOptionsJson(options: unknown, adapter: string): string {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The options of adapter ${adapter} must be a plain object.`,
      { data: { adapter } }
    );
  }
  if (Object.prototype.hasOwnProperty.call(options, 'diagnostics')) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The recorder owns the "diagnostics" adapter option; pass { storeDiagnostics: true } as the solve controls instead.`,
      { data: { adapter } }
    );
  }
  try {
    return canonicalJson(options as JsonValue);
  } catch (cause) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The options of adapter ${adapter} must be JSON-serializable: ${(cause as Error).message}`,
      { data: { adapter }, cause }
    );
  }
}

/** Collects diagnostics reports in memory; `record` never throws. */
class Collector implements DiagnosticsSink {
  readonly reports: unknown[] = [];
  record(report: Readonly<Record<string, unknown>>): void {
    this.reports.push(report);
  }
}

function checkInstance(instance: unknown): asserts instance is Instance {
  if (!(instance instanceof Instance)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      'The instance to solve must be an OMMX Instance (build one with InstanceBuilder or Instance.decode).'
    );
  }
}

/** Output metadata: what the adapter set, plus start, end, input digest and options. */
function withTiming(
  metadata: ProcessMetadata | undefined,
  fill: { start: Date; end: Date; instance: string; adapter: string; options: string }
): ProcessMetadata {
  const m = metadata ?? {};
  return {
    instance: m.instance ?? fill.instance,
    solver: m.solver ?? JSON.stringify({ adapter: fill.adapter }),
    parameters: m.parameters ?? fill.options,
    start: m.start ?? fill.start.toISOString(),
    end: m.end ?? fill.end.toISOString(),
  };
}

/**
 * One solver or sampler call, recorded whatever happens. The input is stored before the adapter
 * runs (so a crash in the adapter still leaves it), the output after.
 * @internal
 */
class Recording {
  readonly id: number;
  readonly #host: SolveHost;
  readonly #kind: 'solve' | 'sampling';
  readonly adapter: string;
  options: string;
  readonly collector: Collector | undefined;
  readonly #input: Promise<{ digest: Descriptor['digest']; size: number }>;
  readonly inputPayload: EncodedPayload;
  readonly #span: CallSpan | undefined;
  /** When the call started: the recording is made just before the adapter is called. */
  readonly startedAt: Date;

  /** `manual`: a solve driven by hand (`openSolve`), traced as OMMX's `Solve` span. */
  constructor(
    host: SolveHost,
    kind: 'solve' | 'sampling',
    adapter: string,
    instance: Instance,
    options: string,
    storeDiagnostics: boolean,
    manual = false
  ) {
    this.#host = host;
    this.#kind = kind;
    this.adapter = adapter;
    this.options = options;
    this.collector = storeDiagnostics ? new Collector() : undefined;
    this.inputPayload = encodePayload('instance', instance);
    this.id = host.nextId(kind);
    this.#span = host.startSpan?.({ kind: manual ? 'open' : kind, id: this.id, adapter });
    this.#input = host.putBlob(this.inputPayload.bytes);
    // A failure here surfaces when the call is recorded; keep it from being unhandled meanwhile.
    // The input is published while the adapter works: recording the call (an aborted one above
    // all) then only journals it, in about a millisecond, instead of also publishing the blob.
    this.#input.then((put) => host.publish?.(put.digest)).catch(() => undefined);
    this.startedAt = new Date();
  }

  /** @param ended - for a call without output: when it ended (its times join the annotations) */
  async inputDescriptor(ended?: Date): Promise<Descriptor> {
    const put = await this.#input;
    return {
      mediaType: this.inputPayload.mediaType,
      ...put,
      annotations:
        ended === undefined
          ? this.inputPayload.annotations
          : {
              ...this.inputPayload.annotations,
              [ANNOTATION_CALL_START]: this.startedAt.toISOString(),
              [ANNOTATION_CALL_END]: ended.toISOString(),
            },
    };
  }

  async #diagnostics(): Promise<Descriptor | undefined> {
    if (this.collector === undefined || this.collector.reports.length === 0) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = encodeMsgpack(this.collector.reports);
    } catch {
      // Best effort, as OMMX: diagnostics that do not serialize are dropped, the call is kept.
      return undefined;
    }
    const put = await this.#host.putBlob(bytes);
    return { mediaType: MEDIA_TYPE_DIAGNOSTICS, ...put, annotations: {} };
  }

  /** Runs `fn` (the adapter) with the call's span current, when traced. */
  within<T>(fn: () => T): T {
    return this.#span === undefined ? fn() : this.#span.within(fn);
  }

  /**
   * Records the call (its span ended first: ERROR with `error` unless finished).
   * @param status - how the call ended
   * @param output - the encoded output, when finished
   * @param error - why it did not finish
   */
  async finish(
    status: RunStatus,
    output: EncodedPayload | undefined,
    error?: unknown
  ): Promise<void> {
    const ended = status === 'finished' ? undefined : new Date();
    this.#span?.end(status === 'finished' ? undefined : (error ?? new Error(`the call ${status}`)));
    const input = await this.inputDescriptor(ended);
    let out: Descriptor | undefined;
    if (output !== undefined) {
      const put = await this.#host.putBlob(output.bytes);
      out = { mediaType: output.mediaType, ...put, annotations: output.annotations };
    }
    const diagnostics = await this.#diagnostics();
    const record: SolveRecord = {
      id: this.id,
      status,
      input,
      adapter: this.adapter,
      adapterOptions: this.options,
      ...(out === undefined ? {} : { output: out }),
      ...(diagnostics === undefined ? {} : { diagnostics }),
    };
    // Journaled before the call returns: a process killed after it keeps the solve.
    await this.#host.record(this.#kind, record);
  }

  /** What the adapter gets: the caller's signal, also fired when the run is interrupted. */
  context(own: AbortSignal | undefined): SolveContext {
    const closing = this.#host.interrupted;
    const signal =
      own === undefined ? closing : closing === undefined ? own : AbortSignal.any([own, closing]);
    return {
      ...(signal === undefined ? {} : { signal }),
      ...(this.collector === undefined ? {} : { diagnostics: this.collector }),
    };
  }
}

/**
 * Runs an adapter and records the call.
 * @internal Use `run.logSolve` / `run.logSample`.
 */
export async function recordCall<R extends Solution | SampleSet>(
  host: SolveHost,
  kind: 'solve' | 'sampling',
  adapter: SolverAdapter<object> | SamplerAdapter<object>,
  instance: Instance,
  options: object,
  controls: SolveControls
): Promise<R> {
  host.assertOpen();
  assertAdapter(adapter, kind === 'solve' ? 'solve' : 'sample');
  checkInstance(instance);
  const optionsJson = adapterOptionsJson(options, adapter.name);
  const rec = new Recording(
    host,
    kind,
    adapter.name,
    instance,
    optionsJson,
    controls.storeDiagnostics === true
  );
  let result: unknown;
  try {
    const copy = instance.clone();
    const ctx = rec.context(controls.signal);
    result = await rec.within(() =>
      kind === 'solve'
        ? (adapter as SolverAdapter<object>).solve(copy, options, ctx)
        : (adapter as SamplerAdapter<object>).sample(copy, options, ctx)
    );
    const Expected = kind === 'solve' ? Solution : SampleSet;
    if (!(result instanceof Expected)) {
      throw new RunledgerError(
        'ADAPTER_INVALID',
        `Adapter ${adapter.name} returned ${typeof result === 'object' && result !== null ? result.constructor.name : typeof result}, not a ${Expected.name}.`,
        { data: { adapter: adapter.name } }
      );
    }
  } catch (error) {
    await rec.finish(statusOf(error), undefined, error);
    throw error;
  }
  const end = new Date();
  const input = await rec.inputDescriptor();
  const metadata = withTiming((result as Solution | SampleSet).metadata, {
    start: rec.startedAt,
    end,
    instance: input.digest,
    adapter: adapter.name,
    options: optionsJson,
  });
  const output = (result as Solution | SampleSet).with({ metadata }) as R;
  await rec.finish(
    'finished',
    kind === 'solve'
      ? encodePayload('solution', output as Solution)
      : encodePayload('sample-set', output as SampleSet)
  );
  return output;
}

/** How an opened solve ended (OMMX's `terminal_state.outcome`). */
export type OpenSolveOutcome =
  | 'finished'
  | 'failed'
  | 'interrupted'
  | 'adapter_construction_failed'
  | 'missing_decode'
  | 'recording_failed';

/**
 * A solve driven by hand (`run.openSolve`): the adapter built the backend model
 * (`solverInput`); you run the backend, hand its output to `decode`, then `close()`. A body
 * that throws should call `fail(error)`; `await using` closes it for you.
 *
 * @example
 * ```ts
 * const solve = await run.openSolve(HighsAdapter, instance, { timeLimit: 5 });
 * try {
 *   await solve.decode(myBackend(solve.solverInput));
 * } catch (e) {
 *   await solve.fail(e);
 *   throw e;
 * }
 * const solution = await solve.close();
 * ```
 */
export class OpenSolve<Input = unknown, Output = unknown> {
  readonly #rec: Recording;
  readonly #prepared: PreparedSolve<Input, Output>;
  readonly #optionValues: Record<string, unknown>;
  #solution: Solution | undefined;
  #outcome: OpenSolveOutcome | undefined;
  readonly #start = new Date();

  /** @internal */
  constructor(rec: Recording, prepared: PreparedSolve<Input, Output>, options: object) {
    this.#rec = rec;
    this.#prepared = prepared;
    this.#optionValues = { ...(options as Record<string, unknown>) };
  }

  /** The solve id in its run. */
  get solveId(): number {
    return this.#rec.id;
  }

  /** The adapter's name. */
  get adapter(): string {
    return this.#rec.adapter;
  }

  /** The backend input the adapter built. */
  get solverInput(): Input {
    this.#assertOpen();
    return this.#prepared.solverInput;
  }

  /** Where to record diagnostics (only when opened with `storeDiagnostics`). */
  get diagnostics(): DiagnosticsSink | undefined {
    return this.#rec.collector;
  }

  /** The latest decoded Solution, if any. */
  get solution(): Solution | undefined {
    return this.#solution;
  }

  /** How it ended; undefined while open. */
  get outcome(): OpenSolveOutcome | undefined {
    return this.#outcome;
  }

  #assertOpen(): void {
    if (this.#outcome !== undefined) {
      throw new RunledgerError(
        'RUN_CLOSED',
        `Solve ${this.#rec.id} (${this.#rec.adapter}) is already closed.`,
        { data: { solveId: this.#rec.id } }
      );
    }
  }

  /**
   * Adds an option to the recorded adapter options (e.g. a setting changed on the backend).
   * @param name - the option name
   * @param value - a JSON value
   * @throws RunledgerError `ARGUMENT_INVALID` when the value is not JSON (nothing is changed)
   */
  logAdapterOption(name: string, value: unknown): void {
    this.#assertOpen();
    const next = { ...this.#optionValues, [name]: value };
    this.#rec.options = adapterOptionsJson(next, this.#rec.adapter);
    this.#optionValues[name] = value;
  }

  /**
   * Decodes the backend's output into a Solution and keeps it (the latest wins; a failing decode
   * discards an earlier one).
   * @param output - what the backend returned
   * @returns the Solution
   * @throws whatever the adapter's decode throws
   */
  async decode(output: Output): Promise<Solution> {
    this.#assertOpen();
    this.#solution = undefined;
    const solution = await this.#prepared.decode(output);
    if (!(solution instanceof Solution)) {
      throw new RunledgerError(
        'ADAPTER_INVALID',
        `Adapter ${this.#rec.adapter} decoded to something that is not a Solution.`,
        { data: { adapter: this.#rec.adapter } }
      );
    }
    this.#solution = solution;
    return solution;
  }

  /**
   * Records the solve: finished with the decoded Solution (annotations added to it after
   * `decode` are kept, since recording happens now). Without a decoded Solution the solve is
   * recorded as failed and `SOLVE_NOT_DECODED` is thrown.
   * @returns the recorded Solution (with start/end in its metadata)
   * @throws RunledgerError `SOLVE_NOT_DECODED`, `RUN_CLOSED`
   */
  async close(): Promise<Solution> {
    this.#assertOpen();
    const solution = this.#solution;
    if (solution === undefined) {
      this.#outcome = 'missing_decode';
      await this.#rec.finish('failed', undefined, new Error('closed before decode()'));
      throw new RunledgerError(
        'SOLVE_NOT_DECODED',
        `Solve ${this.#rec.id} (${this.#rec.adapter}) was closed before decode() gave it a Solution; it is recorded as failed.`,
        { data: { solveId: this.#rec.id } }
      );
    }
    const input = await this.#rec.inputDescriptor();
    const recorded = solution.with({
      metadata: withTiming(solution.metadata, {
        start: this.#start,
        end: new Date(),
        instance: input.digest,
        adapter: this.#rec.adapter,
        options: this.#rec.options,
      }),
    });
    try {
      await this.#rec.finish('finished', encodePayload('solution', recorded));
    } catch (e) {
      this.#outcome = 'recording_failed';
      throw e;
    }
    this.#outcome = 'finished';
    return recorded;
  }

  /**
   * Records the solve as failed (interrupted for an abort), without output.
   * @param error - what went wrong
   */
  async fail(error: unknown): Promise<void> {
    this.#assertOpen();
    const status = statusOf(error);
    this.#outcome = status;
    await this.#rec.finish(status, undefined, error);
  }

  /** Closes it if still open: as finished when decoded, else as failed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#outcome !== undefined) return;
    if (this.#solution === undefined) await this.fail(new Error('disposed before decode()'));
    else await this.close();
  }
}

/**
 * Opens a solve driven by hand.
 * @internal Use `run.openSolve`.
 */
export async function openSolve<O extends object, I, Out>(
  host: SolveHost,
  adapter: SolverAdapter<O, I, Out>,
  instance: Instance,
  options: O,
  controls: SolveControls
): Promise<OpenSolve<I, Out>> {
  host.assertOpen();
  assertAdapter(adapter, 'prepare');
  checkInstance(instance);
  const optionsJson = adapterOptionsJson(options, adapter.name);
  const rec = new Recording(
    host,
    'solve',
    adapter.name,
    instance,
    optionsJson,
    controls.storeDiagnostics === true,
    true
  );
  let prepared: PreparedSolve<I, Out>;
  try {
    prepared = await rec.within(() =>
      (adapter.prepare as NonNullable<typeof adapter.prepare>)(
        instance.clone(),
        options,
        rec.context(controls.signal)
      )
    );
  } catch (error) {
    await rec.finish(statusOf(error), undefined, error);
    throw error;
  }
  return new OpenSolve(rec, prepared, options);
}

/** A recorded solve or sampling, read back. Payloads are decoded on demand. */
export class SolveView {
  /** `solve_id` (or `sampling_id`) in its run. */
  readonly id: number;
  readonly kind: 'solve' | 'sampling';
  readonly status: RunStatus;
  /** The adapter's name. */
  readonly adapter: string;
  /** The adapter options as recorded, as JSON text. */
  readonly adapterOptionsJson: string;
  readonly inputDescriptor: Descriptor;
  readonly outputDescriptor: Descriptor | undefined;
  readonly diagnosticsDescriptor: Descriptor | undefined;
  /**
   * When the call started (RFC 3339): from the output's process metadata for a finished call,
   * from its input layer for one that failed or was interrupted; undefined when not recorded
   * (OMMX's own records have no times).
   */
  readonly startedAt: string | undefined;
  /** When the call ended (RFC 3339), as {@link SolveView.startedAt}. */
  readonly endedAt: string | undefined;
  readonly #registry: LocalRegistry;
  #options: Readonly<Record<string, unknown>> | undefined;

  /** @internal */
  constructor(kind: 'solve' | 'sampling', record: SolveRecord, registry: LocalRegistry) {
    this.id = record.id;
    this.kind = kind;
    this.status = record.status;
    this.adapter = record.adapter;
    this.adapterOptionsJson = record.adapterOptions;
    this.inputDescriptor = record.input;
    this.outputDescriptor = record.output;
    this.diagnosticsDescriptor = record.diagnostics;
    // The output layer mirrors its process metadata (org.ommx.v1.solution.start, …).
    const out = record.output?.annotations ?? {};
    const message = kind === 'solve' ? 'solution' : 'sample-set';
    const input = record.input.annotations ?? {};
    this.startedAt = out[`org.ommx.v1.${message}.start`] ?? input[ANNOTATION_CALL_START];
    this.endedAt = out[`org.ommx.v1.${message}.end`] ?? input[ANNOTATION_CALL_END];
    this.#registry = registry;
  }

  /**
   * The adapter options as recorded, parsed (on first use, so an odd record never stops an
   * experiment from loading). Python's `json.dumps` may write `NaN` and `Infinity`: they are read.
   * @throws RunledgerError `PAYLOAD_INVALID` when the text is not a JSON object
   */
  get adapterOptions(): Readonly<Record<string, unknown>> {
    this.#options ??= parseOptions(this.adapterOptionsJson, this.adapter);
    return this.#options;
  }

  async #read(d: Descriptor): Promise<{ bytes: Uint8Array; mediaType: string }> {
    const bytes = await this.#registry.readBlob(d.digest, { expectedSize: d.size });
    return { bytes, mediaType: logicalMediaType(d.mediaType, d.annotations ?? {}).mediaType };
  }

  /**
   * The Instance that went in.
   * @returns the Instance
   * @throws RunledgerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  async getInput(): Promise<Instance> {
    const { bytes, mediaType } = await this.#read(this.inputDescriptor);
    // The call's own times are not the instance's annotations.
    const {
      [ANNOTATION_CALL_START]: _start,
      [ANNOTATION_CALL_END]: _end,
      ...annotations
    } = this.inputDescriptor.annotations ?? {};
    return decodePayload('instance', bytes, mediaType, annotations);
  }

  /**
   * The Solution (solves) or SampleSet (samplings) that came out; undefined for failed calls.
   * @returns the output
   * @throws RunledgerError `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID`
   */
  async getOutput(): Promise<Solution | SampleSet | undefined> {
    const d = this.outputDescriptor;
    if (d === undefined) return undefined;
    const { bytes, mediaType } = await this.#read(d);
    return this.kind === 'solve'
      ? decodePayload('solution', bytes, mediaType, d.annotations)
      : decodePayload('sample-set', bytes, mediaType, d.annotations);
  }

  /**
   * The diagnostics reports (empty when none were stored).
   * @returns the decoded msgpack array
   * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH`
   */
  async getDiagnostics(): Promise<unknown[]> {
    const d = this.diagnosticsDescriptor;
    if (d === undefined) return [];
    const { bytes } = await this.#read(d);
    return decodeMsgpack(bytes, { subject: 'The diagnostics layer' }) as unknown[];
  }
}

function parseOptions(text: string, adapter: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (cause) {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `The recorded options of adapter ${adapter} are not JSON.`,
      { data: { adapter }, cause }
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `The recorded options of adapter ${adapter} are not a JSON object.`,
      { data: { adapter } }
    );
  }
  return value as Record<string, unknown>;
}

const NON_FINITE: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * JSON.parse, also accepting the bare `NaN`, `Infinity` and `-Infinity` Python's `json.dumps`
 * writes: outside strings they are swapped for marker strings, then revived as numbers.
 */
function parsePythonJson(text: string): unknown {
  const marker = `\u0000runledger-non-finite:`;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const word = ['-Infinity', 'Infinity', 'NaN'].find((w) => text.startsWith(w, i));
    if (word !== undefined) {
      out += JSON.stringify(marker + word);
      i += word.length - 1;
    } else out += c;
  }
  return JSON.parse(out, (_key, v: unknown) =>
    typeof v === 'string' && v.startsWith(marker) ? NON_FINITE[v.slice(marker.length)] : v
  );
}
