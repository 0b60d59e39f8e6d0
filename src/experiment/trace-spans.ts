/**
 * @module experiment/trace-spans
 * Reads a run's trace layer (an OTLP `ExportTraceServiceRequest`, protobuf) into a small summary
 * of its spans: names, times, status, attributes. Written against OpenTelemetry's
 * `opentelemetry/proto/collector/trace/v1` and `trace/v1` messages, so traces written by OMMX
 * (Python) or by runledger read the same, and reading needs no OpenTelemetry package.
 */
import { RunledgerError } from '../errors.js';
import { ProtoReader } from '../ommx/wire/protobuf.js';

/** An attribute value as OTLP's `AnyValue` holds it (int64 beyond 2^53 as a bigint). */
export type TraceAttributeValue =
  | string
  | boolean
  | number
  | bigint
  | Uint8Array
  | null
  | readonly TraceAttributeValue[]
  | { readonly [key: string]: TraceAttributeValue };

/** One span of a run's trace. */
export interface RunTraceSpan {
  /** `Run`, `solve`, `sample`, `Solve`, or what an adapter named its own spans. */
  readonly name: string;
  /** The instrumentation scope (`ommx.experiment` for runledger's and OMMX's own spans). */
  readonly scope: string;
  /** Hex ids; `parentSpanId` is undefined for a root span. */
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly startTime: Date;
  readonly endTime: Date;
  /** End minus start, from the nanosecond times. */
  readonly durationMs: number;
  readonly status: 'unset' | 'ok' | 'error';
  readonly statusMessage: string | undefined;
  /** E.g. `adapter`, `ommx.run.id`, `ommx.solve.id`. */
  readonly attributes: Readonly<Record<string, TraceAttributeValue>>;
}

const STATUS = ['unset', 'ok', 'error'] as const;
const NS_PER_MS = 1_000_000n;

/**
 * Decodes OTLP protobuf trace bytes into their spans, ordered by start time (a parent before
 * the children that started in the same instant).
 * @param bytes - an `ExportTraceServiceRequest`
 * @param subject - names the trace in error messages
 * @returns the spans
 * @throws RunledgerError `PAYLOAD_INVALID` when the bytes are not such a message
 * @example
 * ```ts
 * const spans = decodeTraceSpans(await sealed.runs[0].getTrace());
 * spans.map((s) => `${s.name} ${s.durationMs} ms`);
 * ```
 */
export function decodeTraceSpans(bytes: Uint8Array, subject = 'The trace'): RunTraceSpan[] {
  const spans: { span: RunTraceSpan; start: bigint }[] = [];
  try {
    const r = new ProtoReader(bytes);
    while (r.pos < r.len) {
      const key = r.key();
      if (key === ((1 << 3) | 2)) resourceSpans(r, r.enter(), spans);
      else r.skipField(key);
    }
  } catch (cause) {
    if (cause instanceof RunledgerError) throw cause;
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `${subject} is not an OTLP protobuf trace: ${(cause as Error).message}.`,
      { data: { subject }, cause }
    );
  }
  // OpenTelemetry JS takes start times from the millisecond clock: a parent and its first child
  // often start in the same millisecond, so ties go parent first.
  const parents = new Map(spans.map((s) => [s.span.spanId, s.span.parentSpanId]));
  const depth = (id: string): number => {
    let d = 0;
    for (let p = parents.get(id); p !== undefined && d < spans.length; p = parents.get(p)) d++;
    return d;
  };
  return spans
    .map((s) => ({ ...s, depth: depth(s.span.spanId) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.depth - b.depth))
    .map((s) => s.span);
}

type Sink = { span: RunTraceSpan; start: bigint }[];

/** `ResourceSpans`: 2 = scope_spans. */
function resourceSpans(r: ProtoReader, end: number, out: Sink): void {
  while (r.pos < end) {
    const key = r.key();
    if (key === ((2 << 3) | 2)) scopeSpans(r, r.enter(), out);
    else r.skipField(key);
  }
  r.leave(end);
}

/** `ScopeSpans`: 1 = scope (`InstrumentationScope`, 1 = name), 2 = spans. */
function scopeSpans(r: ProtoReader, end: number, out: Sink): void {
  let scope = '';
  const spans: ReadSpan[] = [];
  while (r.pos < end) {
    const key = r.key();
    if (key === ((1 << 3) | 2)) {
      const e = r.enter();
      while (r.pos < e) {
        const k = r.key();
        if (k === ((1 << 3) | 2)) scope = r.string();
        else r.skipField(k);
      }
      r.leave(e);
    } else if (key === ((2 << 3) | 2)) spans.push(span(r, r.enter()));
    else r.skipField(key);
  }
  r.leave(end);
  // The scope may follow its spans on the wire: set it once the message is read.
  for (const { start, fields } of spans) out.push({ start, span: { ...fields, scope } });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A span read, before its scope is known; `start` in nanoseconds since the epoch. */
interface ReadSpan {
  readonly start: bigint;
  readonly fields: Omit<RunTraceSpan, 'scope'>;
}

/** `Span`: the fields the summary keeps. */
function span(r: ProtoReader, end: number): ReadSpan {
  let traceId = '';
  let spanId = '';
  let parentSpanId: string | undefined;
  let name = '';
  let start = 0n;
  let stop = 0n;
  let status: RunTraceSpan['status'] = 'unset';
  let statusMessage: string | undefined;
  const attributes: Record<string, TraceAttributeValue> = {};
  while (r.pos < end) {
    const key = r.key();
    switch (key) {
      case (1 << 3) | 2:
        traceId = hex(r.bytes());
        break;
      case (2 << 3) | 2:
        spanId = hex(r.bytes());
        break;
      case (4 << 3) | 2: {
        const p = r.bytes();
        parentSpanId = p.length === 0 ? undefined : hex(p);
        break;
      }
      case (5 << 3) | 2:
        name = r.string();
        break;
      case (7 << 3) | 1:
        start = BigInt(r.fixed64());
        break;
      case (8 << 3) | 1:
        stop = BigInt(r.fixed64());
        break;
      case (9 << 3) | 2: {
        const [k, v] = keyValue(r, r.enter());
        attributes[k] = v;
        break;
      }
      case (15 << 3) | 2: {
        const e = r.enter();
        while (r.pos < e) {
          const k = r.key();
          if (k === ((2 << 3) | 2)) statusMessage = r.string();
          else if (k === ((3 << 3) | 0)) status = STATUS[r.uint32()] ?? 'unset';
          else r.skipField(k);
        }
        r.leave(e);
        break;
      }
      default:
        r.skipField(key);
    }
  }
  r.leave(end);
  return {
    start,
    fields: {
      name,
      traceId,
      spanId,
      parentSpanId,
      startTime: new Date(Number(start / NS_PER_MS)),
      endTime: new Date(Number(stop / NS_PER_MS)),
      durationMs: Number(stop - start) / 1e6,
      status,
      statusMessage: statusMessage === '' ? undefined : statusMessage,
      attributes,
    },
  };
}

/** `KeyValue`: 1 = key, 2 = value. */
function keyValue(r: ProtoReader, end: number): [string, TraceAttributeValue] {
  let k = '';
  let v: TraceAttributeValue = null;
  while (r.pos < end) {
    const key = r.key();
    if (key === ((1 << 3) | 2)) k = r.string();
    else if (key === ((2 << 3) | 2)) v = anyValue(r, r.enter());
    else r.skipField(key);
  }
  r.leave(end);
  return [k, v];
}

/** `AnyValue`: string 1, bool 2, int64 3, double 4, array 5, key-value list 6, bytes 7. */
function anyValue(r: ProtoReader, end: number): TraceAttributeValue {
  let v: TraceAttributeValue = null;
  while (r.pos < end) {
    const key = r.key();
    switch (key) {
      case (1 << 3) | 2:
        v = r.string();
        break;
      case (2 << 3) | 0:
        v = r.bool();
        break;
      case (3 << 3) | 0: {
        const n = BigInt(r.int64());
        v =
          n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(n)
            : n;
        break;
      }
      case (4 << 3) | 1:
        v = r.double();
        break;
      case (5 << 3) | 2:
      case (6 << 3) | 2: {
        const list = key === ((5 << 3) | 2);
        const e = r.enter();
        const items: TraceAttributeValue[] = [];
        const entries: Record<string, TraceAttributeValue> = {};
        while (r.pos < e) {
          const k = r.key();
          if (k !== ((1 << 3) | 2)) r.skipField(k);
          else if (list) items.push(anyValue(r, r.enter()));
          else {
            const [name, value] = keyValue(r, r.enter());
            entries[name] = value;
          }
        }
        r.leave(e);
        v = list ? items : entries;
        break;
      }
      case (7 << 3) | 2:
        v = r.bytes();
        break;
      default:
        r.skipField(key);
    }
  }
  r.leave(end);
  return v;
}
