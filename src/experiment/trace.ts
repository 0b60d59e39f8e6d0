/**
 * @module experiment/trace
 * Run traces (`storeTrace`, ommx-reference §2.3–2.4, §5.2–5.4): OpenTelemetry spans per run — a
 * `Run` span (instrumentation scope `ommx.experiment`), one span per solver or sampler call under
 * it — encoded at the run's close as an OTLP `ExportTraceServiceRequest` (protobuf), the run's
 * trace layer `application/org.ommx.trace.otlp+protobuf`.
 *
 * The one module that loads the OpenTelemetry packages (`@opentelemetry/api`,
 * `@opentelemetry/sdk-trace`, `@opentelemetry/otlp-transformer`, optional peer dependencies),
 * with `import()` and only when an experiment asks for traces: importing runledger loads none of
 * them. Nothing OpenTelemetry declares appears in what this module exports, so runledger's types
 * check without the packages installed.
 *
 * Each experiment has a tracer provider of its own: its spans go to the run they belong to and to
 * the span processors the caller passed (`spanProcessors`), never through the global provider —
 * a global `OTEL_TRACES_SAMPLER` or a provider registered by someone else cannot thin out what is
 * stored. Each `Run` span is the root of a trace of its own (spans are grouped per run by trace
 * id); the spans of a call are made current while its adapter runs, so an adapter's own spans
 * (made with `trace.getTracer(…)` under a registered context manager) nest under it.
 */
import type * as OtelApi from '@opentelemetry/api';
import type * as OtelSdk from '@opentelemetry/sdk-trace';
import type * as OtelOtlp from '@opentelemetry/otlp-transformer';
import { RunledgerError } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import { runledgerVersion } from '../version.js';
import { MEDIA_TYPE_TRACE, type RunStatus } from './config.js';

/** The instrumentation scope of runledger's spans (OMMX's tracer name). */
export const TRACE_SCOPE = 'ommx.experiment';

/** The command that installs what traces need, at versions runledger is tested with. */
const INSTALL =
  'npm install @opentelemetry/api@1.9 @opentelemetry/sdk-trace@2 @opentelemetry/otlp-transformer@0.223';

/**
 * An OpenTelemetry span processor (`SimpleSpanProcessor`, `BatchSpanProcessor` of
 * `@opentelemetry/sdk-trace` or `@opentelemetry/sdk-trace-base`, or your own), typed by its
 * shape so runledger's types need no OpenTelemetry package.
 *
 * @example
 * ```ts
 * import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
 * const spanProcessors: TraceSpanProcessor[] = [new BatchSpanProcessor(exporter)];
 * ```
 */
export interface TraceSpanProcessor {
  onStart(span: never, parentContext: never): void;
  onEnd(span: never): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What {@link openTracing} reads of the options. */
export interface TraceOptions {
  readonly storeTrace?: boolean;
  readonly spanProcessors?: readonly TraceSpanProcessor[];
  readonly reproducible?: boolean;
}

/** The three packages, loaded. */
type Modules = readonly [typeof OtelApi, typeof OtelSdk, typeof OtelOtlp];

/**
 * Loads the packages: the seam a test replaces to see the message of a missing one.
 * @internal
 */
export type TraceModuleLoader = () => Promise<readonly unknown[]>;

const importModules: TraceModuleLoader = () =>
  Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/otlp-transformer'),
  ]);

let loaded: Promise<Modules> | undefined;

/** Loads the packages once per process; a failed load is not cached, so a later install is seen. */
function loadModules(load: TraceModuleLoader): Promise<Modules> {
  if (load !== importModules) return checkModules(load);
  loaded ??= checkModules(load).catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

async function checkModules(load: TraceModuleLoader): Promise<Modules> {
  try {
    const [api, sdk, otlp] = (await load()) as Modules;
    if (
      typeof api?.trace?.setSpan !== 'function' ||
      typeof sdk?.TracerProvider !== 'function' ||
      typeof otlp?.ProtobufTraceSerializer?.serializeRequest !== 'function'
    ) {
      throw new TypeError('an OpenTelemetry package lacks an export runledger uses');
    }
    return [api, sdk, otlp];
  } catch (cause) {
    throw new RunledgerError(
      'DEPENDENCY_MISSING',
      `Run traces (storeTrace) need the optional packages @opentelemetry/api, @opentelemetry/sdk-trace and @opentelemetry/otlp-transformer: run \`${INSTALL}\`.`,
      {
        data: {
          packages: [
            '@opentelemetry/api',
            '@opentelemetry/sdk-trace',
            '@opentelemetry/otlp-transformer',
          ],
        },
        cause,
      }
    );
  }
}

/**
 * Checks the trace options and, when `storeTrace` is set, loads OpenTelemetry and starts the
 * experiment's tracer provider.
 * @param options - storeTrace, spanProcessors, reproducible
 * @param load - loads the packages (a test seam)
 * @returns the experiment's tracing, or undefined without `storeTrace`
 * @throws RunledgerError `ARGUMENT_INVALID` (not a boolean, a processor without its methods,
 *   processors without `storeTrace`, `storeTrace` in a reproducible experiment),
 *   `DEPENDENCY_MISSING` naming the install command
 * @internal
 */
export async function openTracing(
  options: TraceOptions,
  load: TraceModuleLoader = importModules
): Promise<Tracing | undefined> {
  const { storeTrace, spanProcessors, reproducible } = options;
  if (storeTrace !== undefined && typeof storeTrace !== 'boolean') {
    throw new RunledgerError('ARGUMENT_INVALID', 'The option storeTrace must be a boolean.');
  }
  if (spanProcessors !== undefined) {
    if (!Array.isArray(spanProcessors) || !spanProcessors.every(isProcessor)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The option spanProcessors must be an array of OpenTelemetry span processors (onStart, onEnd, forceFlush, shutdown).'
      );
    }
    if (storeTrace !== true) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        'The option spanProcessors takes effect with storeTrace: true; set both.'
      );
    }
  }
  if (storeTrace !== true) return undefined;
  if (reproducible === true) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      'A reproducible experiment cannot store traces: spans hold wall-clock times and random ids, so the same study would not commit to the same digest.'
    );
  }
  return new OtelTracing(await loadModules(load), spanProcessors ?? []);
}

function isProcessor(p: unknown): boolean {
  const o = p as Record<string, unknown> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    ['onStart', 'onEnd', 'forceFlush', 'shutdown'].every((m) => typeof o[m] === 'function')
  );
}

/** Hands each ended span to the run whose trace it belongs to. */
class RunCollector implements OtelSdk.SpanProcessor {
  readonly #runs = new Map<string, OtelSdk.ReadableSpan[]>();

  /** Starts collecting the spans of `traceId` into `spans`. */
  watch(traceId: string, spans: OtelSdk.ReadableSpan[]): void {
    this.#runs.set(traceId, spans);
  }

  unwatch(traceId: string): void {
    this.#runs.delete(traceId);
  }

  onStart(): void {}

  onEnd(span: OtelSdk.ReadableSpan): void {
    this.#runs.get(span.spanContext().traceId)?.push(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An experiment's tracing: its tracer provider, and the trace of each run it opens.
 * @internal
 */
export interface Tracing {
  /**
   * Starts a run's `Run` span (the root of a trace of its own).
   * @param runId - the run id (`ommx.run.id`)
   * @param name - the run's name (`runledger.run.name`)
   * @returns the run's trace
   */
  startRun(runId: number, name: string): RunTrace;
}

/**
 * One run's trace: its open `Run` span and the spans ended so far.
 * @internal
 */
export interface RunTrace {
  /**
   * Starts the span of a solver or sampler call under the `Run` span: `solve`, `sample`, or
   * `Solve` for a solve driven by hand, with `adapter`, `ommx.run.id` and `ommx.solve.id` (or
   * `ommx.sampling.id`).
   * @param call - kind, id, adapter
   * @returns the call's span
   */
  startCall(call: TracedCall): CallSpan;
  /**
   * Ends the `Run` span (once; ERROR with the reason unless finished) and stores the run's
   * spans, OTLP-encoded, with `put`. Called again after a failed store, it stores the same spans.
   * @param status - how the run ended
   * @param reason - why it failed or was interrupted
   * @param put - writes the bytes into the run's blob batch
   * @returns the trace layer's descriptor
   * @throws what `put` throws; RunledgerError `PAYLOAD_INVALID` when nothing could be encoded
   */
  store(
    status: RunStatus,
    reason: string | undefined,
    put: (bytes: Uint8Array) => Promise<{ digest: Descriptor['digest']; size: number }>
  ): Promise<Descriptor>;
}

/** {@link Tracing} on an OpenTelemetry tracer provider of the experiment's own. */
class OtelTracing implements Tracing {
  readonly #api: typeof OtelApi;
  readonly #tracer: OtelApi.Tracer;
  readonly #collector = new RunCollector();
  readonly #encode: (spans: OtelSdk.ReadableSpan[]) => Uint8Array | undefined;

  constructor(modules: Modules, processors: readonly TraceSpanProcessor[]) {
    const [api, sdk, otlp] = modules;
    this.#api = api;
    const provider = new sdk.TracerProvider({
      sampler: new sdk.AlwaysOnSampler(),
      spanProcessors: [this.#collector, ...(processors as unknown as OtelSdk.SpanProcessor[])],
    });
    this.#tracer = provider.getTracer(TRACE_SCOPE, runledgerVersion());
    this.#encode = (spans) => otlp.ProtobufTraceSerializer.serializeRequest(spans);
  }

  startRun(runId: number, name: string): RunTrace {
    const span = this.#tracer.startSpan('Run', {
      root: true,
      attributes: { 'ommx.run.id': runId, 'runledger.run.name': name },
    });
    const spans: OtelSdk.ReadableSpan[] = [];
    const traceId = span.spanContext().traceId;
    this.#collector.watch(traceId, spans);
    return new OtelRunTrace({
      api: this.#api,
      tracer: this.#tracer,
      span,
      runId,
      spans,
      release: () => this.#collector.unwatch(traceId),
      encode: this.#encode,
    });
  }
}

/** A solver or sampler call to trace: `open` is a solve driven by hand (`run.openSolve`). */
export interface TracedCall {
  readonly kind: 'solve' | 'sampling' | 'open';
  readonly id: number;
  readonly adapter: string;
}

/** A call's span, open until {@link CallSpan.end}. @internal */
export interface CallSpan {
  /** Runs `fn` with this span as the current one (for the adapter's own spans). */
  within<T>(fn: () => T): T;
  /** Ends the span (once): with status ERROR and the error recorded when one is given. */
  end(error?: unknown): void;
}

/** OMMX's span names: the adapter call, and `Solve` for a solve driven by hand (§5.4). */
const CALL_NAMES = { solve: 'solve', sampling: 'sample', open: 'Solve' } as const;

/** {@link RunTrace} of OpenTelemetry spans. */
class OtelRunTrace implements RunTrace {
  readonly #api: typeof OtelApi;
  readonly #tracer: OtelApi.Tracer;
  readonly #span: OtelApi.Span;
  readonly #context: OtelApi.Context;
  readonly #runId: number;
  readonly #spans: OtelSdk.ReadableSpan[];
  readonly #release: () => void;
  readonly #encode: (spans: OtelSdk.ReadableSpan[]) => Uint8Array | undefined;
  #ended = false;

  constructor(init: {
    api: typeof OtelApi;
    tracer: OtelApi.Tracer;
    span: OtelApi.Span;
    runId: number;
    spans: OtelSdk.ReadableSpan[];
    release: () => void;
    encode: (spans: OtelSdk.ReadableSpan[]) => Uint8Array | undefined;
  }) {
    this.#api = init.api;
    this.#tracer = init.tracer;
    this.#span = init.span;
    this.#context = init.api.trace.setSpan(init.api.ROOT_CONTEXT, init.span);
    this.#runId = init.runId;
    this.#spans = init.spans;
    this.#release = init.release;
    this.#encode = init.encode;
  }

  startCall(call: TracedCall): CallSpan {
    const api = this.#api;
    const span = this.#tracer.startSpan(
      CALL_NAMES[call.kind],
      {
        attributes: {
          adapter: call.adapter,
          'ommx.run.id': this.#runId,
          [call.kind === 'sampling' ? 'ommx.sampling.id' : 'ommx.solve.id']: call.id,
        },
      },
      this.#context
    );
    let ended = false;
    return {
      within: (fn) => api.context.with(api.trace.setSpan(api.context.active(), span), fn),
      end: (error) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) markError(api, span, error);
        span.end();
      },
    };
  }

  async store(
    status: RunStatus,
    reason: string | undefined,
    put: (bytes: Uint8Array) => Promise<{ digest: Descriptor['digest']; size: number }>
  ): Promise<Descriptor> {
    if (!this.#ended) {
      this.#ended = true;
      if (status !== 'finished') {
        this.#span.setStatus({
          code: this.#api.SpanStatusCode.ERROR,
          ...(reason === undefined ? {} : { message: reason }),
        });
      }
      this.#span.end();
      this.#release();
    }
    const bytes = this.#encode(this.#spans);
    if (bytes === undefined) {
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `The spans of run ${this.#runId} could not be encoded as OTLP protobuf.`,
        { data: { runId: this.#runId } }
      );
    }
    return { mediaType: MEDIA_TYPE_TRACE, ...(await put(bytes)), annotations: {} };
  }
}

/** Status ERROR with the error's `<name>: <message>`, and the error recorded as an event. */
function markError(api: typeof OtelApi, span: OtelApi.Span, error: unknown): void {
  const message =
    error instanceof Error ? `${error.name}: ${error.message}` : `Error: ${String(error)}`;
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
  span.recordException(error instanceof Error ? error : message);
}
