/**
 * @module ui/pack
 * The binary frame a report carries its `UiBundle` in (before gzip and base64), shared by the
 * writer (src/ui/report.ts) and the page (web/data.ts, bundled by esbuild): pure code, no Node.
 *
 * Metric series are most of a report (1,000 runs × 4 metrics × 100 points: 96% of the gzipped
 * JSON), and a float64 written as JSON text takes ~8.6 bytes gzipped and may not read back as
 * the same bits. So the frame is
 *
 *   `RLPK` | u32 LE frame version | u32 LE JSON length | JSON | binary section
 *
 * where the JSON is the bundle with each series' `steps`, `timestamps` and `values` replaced by
 * their lengths (`n`) and how its steps and timestamps are written (`d`), and the binary section
 * holds three columns — every series' steps, then timestamps, then values — as float64. Steps and
 * timestamps are delta-encoded (first value, then differences: small integers, which compress to
 * almost nothing) when adding the differences back gives every value bit for bit, else written
 * as they are; values are XORed with the previous value of their series (Gorilla-style: a smooth
 * curve's sign, exponent and high mantissa bits cancel). Each column is byte-shuffled — all
 * first bytes, then all second bytes, … — so gzip sees the near-constant high bytes together.
 * Every value decodes to the same float64 it was (NaN, ±Infinity, -0 and subnormals included).
 */
import { RunledgerError } from '../errors.js';
import type { UiBundle, UiMetricSeries } from './model.js';

/** The frame's version; a page refuses a frame of another version with a message. */
export const PACK_VERSION = 1;

const MAGIC = [0x52, 0x4c, 0x50, 0x4b]; // "RLPK"
const HEADER = 12;
/** `d` bits: the series' steps (1) or timestamps (2) are delta-encoded. */
const DELTA_STEPS = 1;
const DELTA_TIMES = 2;

/** A series as the frame's JSON carries it: lengths instead of columns. */
interface PackedSeries {
  readonly experiment: string;
  readonly runId: number;
  readonly name: string;
  /** Lengths of steps, timestamps and values, or one number when they are equal. */
  readonly n: number | readonly [number, number, number];
  readonly d: number;
}

/** Whether `xs` as differences (from 0) adds back to exactly `xs`. */
function deltaExact(xs: readonly number[]): boolean {
  let prev = 0;
  for (const x of xs) {
    if (!Object.is(prev + (x - prev), x)) return false;
    prev = x;
  }
  return true;
}

/** Writes columns of float64 byte-shuffled: plane k holds byte k (little-endian) of each value. */
class ShuffledWriter {
  readonly #out: Uint8Array;
  readonly #count: number;
  readonly #scratch = new DataView(new ArrayBuffer(8));
  readonly #bytes = new Uint8Array(this.#scratch.buffer);
  #at = 0;
  #lo = 0;
  #hi = 0;

  constructor(out: Uint8Array, count: number) {
    this.#out = out;
    this.#count = count;
  }

  /** Writes `v`'s bits. */
  push(v: number): void {
    this.#scratch.setFloat64(0, v, true);
    this.#write();
  }

  /** Writes `v`'s bits XORed with those of the value `xor` wrote before (zeros after `reset`). */
  xor(v: number): void {
    const s = this.#scratch;
    s.setFloat64(0, v, true);
    const lo = s.getUint32(0, true);
    const hi = s.getUint32(4, true);
    s.setUint32(0, (lo ^ this.#lo) >>> 0, true);
    s.setUint32(4, (hi ^ this.#hi) >>> 0, true);
    this.#lo = lo;
    this.#hi = hi;
    this.#write();
  }

  reset(): void {
    this.#lo = 0;
    this.#hi = 0;
  }

  #write(): void {
    const b = this.#bytes;
    const n = this.#count;
    const out = this.#out;
    for (let k = 0; k < 8; k++) out[k * n + this.#at] = b[k]!;
    this.#at++;
  }
}

/** Reads what {@link ShuffledWriter} wrote. */
class ShuffledReader {
  readonly #in: Uint8Array;
  readonly #count: number;
  readonly #scratch = new DataView(new ArrayBuffer(8));
  readonly #bytes = new Uint8Array(this.#scratch.buffer);
  readonly #prev = new Uint8Array(8);
  #at = 0;

  constructor(bytes: Uint8Array, count: number) {
    this.#in = bytes;
    this.#count = count;
  }

  next(): number {
    const b = this.#bytes;
    const n = this.#count;
    for (let k = 0; k < 8; k++) b[k] = this.#in[k * n + this.#at]!;
    this.#at++;
    return this.#scratch.getFloat64(0, true);
  }

  /** The next value XORed with the previous one `unxor` returned (all zero bits at `reset`). */
  unxor(): number {
    const b = this.#bytes;
    const p = this.#prev;
    const n = this.#count;
    for (let k = 0; k < 8; k++) p[k] = b[k] = p[k]! ^ this.#in[k * n + this.#at]!;
    this.#at++;
    return this.#scratch.getFloat64(0, true);
  }

  reset(): void {
    this.#prev.fill(0);
  }
}

/**
 * A bundle as the frame described in the module comment (not yet compressed).
 * @param bundle - the bundle
 * @returns the frame's bytes
 * @example
 * ```ts
 * const frame = packBundle(bundle); // then gzip, then base64
 * ```
 */
export function packBundle(bundle: UiBundle): Uint8Array {
  let steps = 0;
  let times = 0;
  let values = 0;
  const packed: PackedSeries[] = bundle.metrics.map((m) => {
    steps += m.steps.length;
    times += m.timestamps.length;
    values += m.values.length;
    const ns = m.steps.length;
    const same = ns === m.timestamps.length && ns === m.values.length;
    return {
      experiment: m.experiment,
      runId: m.runId,
      name: m.name,
      n: same ? ns : [ns, m.timestamps.length, m.values.length],
      d: (deltaExact(m.steps) ? DELTA_STEPS : 0) | (deltaExact(m.timestamps) ? DELTA_TIMES : 0),
    };
  });
  const json = new TextEncoder().encode(JSON.stringify({ ...bundle, metrics: packed }));
  const body = HEADER + json.length;
  const out = new Uint8Array(body + 8 * (steps + times + values));
  out.set(MAGIC, 0);
  const head = new DataView(out.buffer);
  head.setUint32(4, PACK_VERSION, true);
  head.setUint32(8, json.length, true);
  out.set(json, HEADER);
  const column = (offset: number, count: number): ShuffledWriter =>
    new ShuffledWriter(out.subarray(offset, offset + 8 * count), count);
  const ws = column(body, steps);
  const wt = column(body + 8 * steps, times);
  const wv = column(body + 8 * (steps + times), values);
  bundle.metrics.forEach((m, i) => {
    const d = packed[i]!.d;
    let prev = 0;
    for (const x of m.steps) {
      ws.push((d & DELTA_STEPS) === 0 ? x : x - prev);
      prev = x;
    }
    prev = 0;
    for (const x of m.timestamps) {
      wt.push((d & DELTA_TIMES) === 0 ? x : x - prev);
      prev = x;
    }
    wv.reset();
    for (const x of m.values) wv.xor(x);
  });
  return out;
}

/**
 * The frame version of `bytes`, or undefined when they are not a frame at all.
 * @param bytes - a frame's bytes (decompressed)
 * @returns its version
 * @example
 * ```ts
 * if (packVersion(bytes) !== PACK_VERSION) show('made by another runledger');
 * ```
 */
export function packVersion(bytes: Uint8Array): number | undefined {
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, HEADER).getUint32(4, true);
}

function invalid(why: string): RunledgerError {
  return new RunledgerError('PAYLOAD_INVALID', `The report's data frame ${why}.`);
}

/**
 * The bundle a frame holds: every series rebuilt as it was packed, value for value.
 * @param bytes - a frame's bytes (decompressed)
 * @returns the bundle
 * @throws RunledgerError `PAYLOAD_INVALID` when the bytes are not a frame of this version, or its
 *   lengths do not add up
 * @example
 * ```ts
 * const bundle = unpackBundle(packBundle(original));
 * ```
 */
export function unpackBundle(bytes: Uint8Array): UiBundle {
  const version = packVersion(bytes);
  if (version === undefined) throw invalid('does not start with RLPK');
  if (version !== PACK_VERSION) {
    throw invalid(`is of version ${version}, and this runledger reads version ${PACK_VERSION}`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, HEADER).getUint32(8, true);
  if (HEADER + length > bytes.length) throw invalid('is shorter than its JSON');
  const body = HEADER + length;
  const parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER, body))) as Omit<
    UiBundle,
    'metrics'
  > & { metrics: readonly PackedSeries[] };
  const lengths = parsed.metrics.map((m) => (typeof m.n === 'number' ? [m.n, m.n, m.n] : m.n));
  let steps = 0;
  let times = 0;
  let values = 0;
  for (const [s, t, v] of lengths) {
    steps += s!;
    times += t!;
    values += v!;
  }
  if (!(body + 8 * (steps + times + values) === bytes.length)) {
    throw invalid("has a binary section of another size than its series' lengths say");
  }
  const column = (offset: number, count: number): ShuffledReader =>
    new ShuffledReader(bytes.subarray(offset, offset + 8 * count), count);
  const rs = column(body, steps);
  const rt = column(body + 8 * steps, times);
  const rv = column(body + 8 * (steps + times), values);
  const metrics = parsed.metrics.map((m, i): UiMetricSeries => {
    const [ns, nt, nv] = lengths[i]!;
    const s = new Array<number>(ns!);
    const t = new Array<number>(nt!);
    const v = new Array<number>(nv!);
    let prev = 0;
    for (let j = 0; j < ns!; j++)
      s[j] = prev = (m.d & DELTA_STEPS) === 0 ? rs.next() : prev + rs.next();
    prev = 0;
    for (let j = 0; j < nt!; j++)
      t[j] = prev = (m.d & DELTA_TIMES) === 0 ? rt.next() : prev + rt.next();
    rv.reset();
    for (let j = 0; j < nv!; j++) v[j] = rv.unxor();
    return {
      experiment: m.experiment,
      runId: m.runId,
      name: m.name,
      steps: s,
      timestamps: t,
      values: v,
    };
  });
  return { ...parsed, metrics };
}
