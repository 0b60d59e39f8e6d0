/**
 * @module experiment/metrics
 * Stepped metrics of a run (beyond OMMX): an append-only, columnar log of (name, step,
 * timestamp, float64 value) points, stored at run close as the run attachment
 * `runledger.metrics` (`application/vnd.runledger.metrics.v1+msgpack`) — an ordinary attachment,
 * so OMMX readers keep it as bytes.
 *
 * The stored msgpack map has, in key order: `name` (bin: one little-endian uint32 per point,
 * an index into `names`), `names` (array of strings, in first-logged order), `step` (bin:
 * float64 LE, whole numbers), `timestamp` (bin: float64 LE, milliseconds since the epoch),
 * `value` (bin: float64 LE), `version` (1). Points are in the order they were logged.
 */
import { RunledgerError } from '../errors.js';
import { decodeMsgpack, encodeMsgpack } from '../formats/msgpack.js';
import { validateName } from './parameters.js';

/** The run attachment holding a run's metrics. */
export const METRICS_ATTACHMENT = 'runledger.metrics';
/** Its media type. */
export const MEDIA_TYPE_METRICS = 'application/vnd.runledger.metrics.v1+msgpack';

/** Options of `run.logMetric` / `run.logMetrics`. */
export interface LogMetricOptions {
  /** A non-negative integer; default: one more than the metric's last step (0 for its first). */
  readonly step?: number;
  /**
   * Milliseconds since the epoch; default: now — or 0 in a reproducible experiment, so the same
   * study recorded twice stores the same bytes.
   */
  readonly timestamp?: number;
}

/** One metric's history, in logged order. */
export interface MetricSeries {
  readonly name: string;
  readonly steps: Float64Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

function fail(why: string, data: Readonly<Record<string, unknown>>): never {
  throw new RunledgerError('METRIC_INVALID', why, { data });
}

/**
 * Checks one metric point.
 * @param name - the metric (its name is checked too)
 * @param value - a number
 * @param step - a non-negative integer
 * @param timestamp - milliseconds since the epoch
 * @throws RunledgerError `METRIC_INVALID`
 * @example
 * ```ts
 * checkPoint('loss', 0.5, 0, Date.now());
 * ```
 */
export function checkPoint(name: string, value: number, step: number, timestamp: number): void {
  if (typeof value !== 'number') {
    fail(`Metric ${JSON.stringify(name)} takes a number, not ${typeof value}.`, { name });
  }
  if (!Number.isSafeInteger(step) || step < 0) {
    fail(
      `The step of metric ${JSON.stringify(name)} must be a non-negative integer, got ${String(step)}.`,
      { name, step }
    );
  }
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
    fail(
      `The timestamp of metric ${JSON.stringify(name)} must be milliseconds since the epoch, got ${String(timestamp)}.`,
      { name, timestamp }
    );
  }
}

/**
 * Points a run's columns hold before they first grow: small, since every run has a metric log and
 * most log few points or none (1,024 made 28 KiB a run, 280 MB for 10,000 runs kept in memory).
 */
const INITIAL_POINTS = 16;

/** Shared by every column before its first point (most runs log none). */
const NO_POINTS = new Float64Array(0);

/** A growable float64 column. */
class Column {
  data = NO_POINTS;
  push(v: number, at: number): void {
    if (at === this.data.length) {
      const next = new Float64Array(Math.max(INITIAL_POINTS, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[at] = v;
  }
}

/**
 * The metric log of one open run. Appends are checked and cheap (typed-array columns; a name is
 * validated once); a refused append changes nothing, not even the list of names.
 * @internal
 */
export class MetricLog {
  readonly #reproducible: boolean;
  readonly #index = new Map<string, number>();
  #continued: Map<string, number> | undefined;
  readonly #names: string[] = [];
  readonly #nextStep: number[] = [];
  #nameIds = new Uint32Array(0);
  readonly #steps = new Column();
  readonly #timestamps = new Column();
  readonly #values = new Column();
  #size = 0;

  /** @param options - reproducible: default timestamps are 0 instead of the clock */
  constructor(options: { readonly reproducible?: boolean } = {}) {
    this.#reproducible = options.reproducible === true;
  }

  /** The timestamp of a point logged without one: now, or 0 when reproducible. */
  defaultTimestamp(): number {
    return this.#reproducible ? 0 : Date.now();
  }

  /** Points logged. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one point.
   * @param name - the metric
   * @param value - a number (NaN and ±Infinity kept)
   * @param options - step, timestamp
   * @returns the point's step
   * @throws RunledgerError `METRIC_INVALID`
   */
  log(name: string, value: number, options: LogMetricOptions | undefined): number {
    let id = this.#index.get(name);
    if (id === undefined) validateName(name, 'metric', 'METRIC_INVALID');
    const step =
      options?.step ??
      (id === undefined ? (this.#continued?.get(name) ?? 0) : (this.#nextStep[id] as number));
    const timestamp = options?.timestamp ?? this.defaultTimestamp();
    checkPoint(name, value, step, timestamp);
    // Only a point that was accepted makes its name known (a refused one leaves no column).
    if (id === undefined) {
      id = this.#names.length;
      this.#index.set(name, id);
      this.#names.push(name);
      this.#nextStep.push(0);
    }
    const at = this.#size;
    if (at === this.#nameIds.length) {
      const next = new Uint32Array(Math.max(INITIAL_POINTS, at * 2));
      next.set(this.#nameIds);
      this.#nameIds = next;
    }
    this.#nameIds[at] = id;
    this.#steps.push(step, at);
    this.#timestamps.push(timestamp, at);
    this.#values.push(value, at);
    this.#size = at + 1;
    if (step + 1 > (this.#nextStep[id] as number)) this.#nextStep[id] = step + 1;
    return step;
  }

  /**
   * Makes metrics without a point yet start at these steps when logged without one (a resumed
   * run continues the steps where the run it resumes stopped).
   * @param next - metric name → its first step
   */
  continueSteps(next: ReadonlyMap<string, number>): void {
    this.#continued = new Map(next);
  }

  /**
   * The points from index `from` on, as views of the columns — valid until the next point is
   * logged (the crash journal writes them at once, so a million points are never copied).
   * @param from - the first point
   * @returns every metric name so far (ids index it) and the new points' columns
   */
  since(from: number): {
    names: readonly string[];
    ids: Uint32Array;
    steps: Float64Array;
    timestamps: Float64Array;
    values: Float64Array;
  } {
    const to = this.#size;
    return {
      names: [...this.#names],
      ids: this.#nameIds.subarray(from, to),
      steps: this.#steps.data.subarray(from, to),
      timestamps: this.#timestamps.data.subarray(from, to),
      values: this.#values.data.subarray(from, to),
    };
  }

  /**
   * The stored form (see the module comment).
   * @returns msgpack bytes
   */
  encode(): Uint8Array {
    const n = this.#size;
    const bytes = (a: Float64Array | Uint32Array): Uint8Array => littleEndianBytes(a, n);
    return encodeMsgpack({
      name: bytes(this.#nameIds),
      names: this.#names,
      step: bytes(this.#steps.data),
      timestamp: bytes(this.#timestamps.data),
      value: bytes(this.#values.data),
      version: 1,
    });
  }
}

const NATIVE_LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The first `n` elements as little-endian bytes, whatever the platform's byte order. */
function littleEndianBytes(a: Float64Array | Uint32Array, n: number): Uint8Array {
  if (NATIVE_LE) return new Uint8Array(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT).slice();
  const out = new Uint8Array(n * a.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    if (a instanceof Float64Array) view.setFloat64(i * 8, a[i] as number, true);
    else view.setUint32(i * 4, a[i] as number, true);
  }
  return out;
}

/** Little-endian bytes back into a typed array, whatever the platform's byte order. */
function fromLittleEndian<T extends Float64Array | Uint32Array>(
  b: Uint8Array,
  Kind: { new (length: number): T; BYTES_PER_ELEMENT: number }
): T {
  const n = b.byteLength / Kind.BYTES_PER_ELEMENT;
  const out = new Kind(n);
  if (NATIVE_LE) {
    new Uint8Array(out.buffer).set(b);
    return out;
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) {
    out[i] =
      Kind.BYTES_PER_ELEMENT === 8 ? view.getFloat64(i * 8, true) : view.getUint32(i * 4, true);
  }
  return out;
}

/** A decoded metrics attachment. */
export interface MetricTable {
  readonly names: readonly string[];
  readonly nameIds: Uint32Array;
  readonly steps: Float64Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

/**
 * Decodes a `runledger.metrics` attachment, strictly.
 * @param bytes - the attachment
 * @returns the columns
 * @throws RunledgerError `PAYLOAD_INVALID`
 * @example
 * ```ts
 * const table = decodeMetrics(await run.getBlob('runledger.metrics'));
 * ```
 */
export function decodeMetrics(bytes: Uint8Array): MetricTable {
  const bad = (why: string): never => {
    throw new RunledgerError('PAYLOAD_INVALID', `The runledger.metrics attachment ${why}.`, {
      data: { mediaType: MEDIA_TYPE_METRICS },
    });
  };
  const v = decodeMsgpack(bytes, { subject: 'The runledger.metrics attachment' }) as Record<
    string,
    unknown
  >;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('is not a map');
  if (v['version'] !== 1) bad(`has version ${String(v['version'])}, not 1`);
  const names = v['names'];
  if (!Array.isArray(names) || !names.every((s) => typeof s === 'string')) {
    bad('has no list of names');
  }
  const column = <T extends Float64Array | Uint32Array>(
    key: string,
    Kind: { new (length: number): T; BYTES_PER_ELEMENT: number }
  ): T => {
    const b = v[key];
    if (!(b instanceof Uint8Array) || b.byteLength % Kind.BYTES_PER_ELEMENT !== 0) {
      bad(`has no ${key} column`);
    }
    return fromLittleEndian(b as Uint8Array, Kind);
  };
  const nameIds = column('name', Uint32Array);
  const steps = column('step', Float64Array);
  const timestamps = column('timestamp', Float64Array);
  const values = column('value', Float64Array);
  const n = nameIds.length;
  if (steps.length !== n || timestamps.length !== n || values.length !== n) {
    bad('has columns of different lengths');
  }
  for (let i = 0; i < n; i++) {
    if ((nameIds[i] as number) >= (names as string[]).length) bad(`names no metric at point ${i}`);
  }
  return { names: names as string[], nameIds, steps, timestamps, values };
}

/**
 * One metric's series from a decoded table.
 * @param table - the decoded attachment
 * @param name - the metric
 * @returns its points in logged order (empty when it was never logged)
 */
export function metricSeries(table: MetricTable, name: string): MetricSeries {
  const id = table.names.indexOf(name);
  let count = 0;
  for (let i = 0; i < table.nameIds.length; i++) if (table.nameIds[i] === id) count++;
  const steps = new Float64Array(count);
  const timestamps = new Float64Array(count);
  const values = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < table.nameIds.length && id >= 0; i++) {
    if (table.nameIds[i] !== id) continue;
    steps[k] = table.steps[i] as number;
    timestamps[k] = table.timestamps[i] as number;
    values[k] = table.values[i] as number;
    k++;
  }
  return { name, steps, timestamps, values };
}
