/**
 * The report's data frame (src/ui/pack.ts): what `encodeBundle` writes in Node, the page's own
 * decoder (web/report-data.ts, run here in Node: atob, Blob, DecompressionStream and Response are
 * Node 20's) reads back value for value — every float64 bit pattern class (subnormals, -0, NaN,
 * ±Infinity, huge, tiny), empty and one-point series, steps and timestamps out of order, columns
 * of unequal lengths — and a frame of another version or older data is refused with a message.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { UiBundle, UiMetricSeries } from '../../src/ui/model.js';
import { PACK_VERSION, packBundle, packVersion, unpackBundle } from '../../src/ui/pack.js';
import { decodeBundle as decodeInNode, encodeBundle } from '../../src/ui/report.js';
import { decodeBundle as decodeInPage } from '../../web/report-data.js';
import { syntheticBundle } from './synthetic.js';

/** A seeded xorshift32, so a failure reproduces. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SPECIAL = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MIN_VALUE, // the smallest subnormal
  -Number.MIN_VALUE,
  2.2250738585072009e-308, // the largest subnormal
  2.2250738585072014e-308, // the smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1e-300,
  0.1,
  1 / 3,
  1.7e12,
];

/** A float64 of random bits (any class: normal, subnormal, NaN, infinite) or a special one. */
function anyFloat(next: () => number): number {
  const r = next() % 4;
  if (r === 0) return SPECIAL[next() % SPECIAL.length]!;
  const v = new DataView(new ArrayBuffer(8));
  v.setUint32(0, next(), true);
  if (r === 1)
    v.setUint32(4, next() & 0x800fffff, true); // exponent 0: zero or subnormal
  else v.setUint32(4, next(), true);
  return v.getFloat64(0, true);
}

/** Series exercising the frame: random bits, special values, monotone and shuffled columns. */
function hardSeries(): UiMetricSeries[] {
  const next = prng(17);
  const out: UiMetricSeries[] = [];
  const add = (name: string, steps: number[], timestamps: number[], values: number[]): void => {
    out.push({ experiment: 'e0', runId: out.length, name, steps, timestamps, values });
  };
  add('empty', [], [], []);
  add('one point', [7], [1_700_000_000_123], [0.5]);
  add('one NaN', [0], [Number.NaN], [Number.NaN]);
  add(
    'specials',
    SPECIAL.map((_, i) => i),
    SPECIAL.map((x) => x),
    [...SPECIAL]
  );
  const n = 500;
  add(
    'random bits everywhere',
    Array.from({ length: n }, () => anyFloat(next)),
    Array.from({ length: n }, () => anyFloat(next)),
    Array.from({ length: n }, () => anyFloat(next))
  );
  add(
    'steps and timestamps out of order',
    Array.from({ length: n }, () => next() % 1000),
    Array.from({ length: n }, () => 1_700_000_000_000 + (next() % 100_000) - 50_000),
    Array.from({ length: n }, (_, i) => Math.exp(-i / 100) + (next() / 2 ** 32) * 1e-3)
  );
  add(
    'a smooth curve with fractional steps, -0 and a NaN in the steps',
    Array.from({ length: n }, (_, i) => (i === 10 ? -0 : i === 20 ? Number.NaN : i * 0.1)),
    Array.from({ length: n }, (_, i) => 1_700_000_000_000.5 + i * 13.3),
    Array.from({ length: n }, (_, i) => 1 / (1 + i))
  );
  // Columns with no NaN whose differences do not add back (-0 after 0, magnitudes apart).
  add('differences that do not add back', [-0, 1, 2], [1e300, 1, 5e-324, 3, 2 ** 60 + 1], [1, 2]);
  add('unequal lengths', [1, 2, 3], [10], [Number.NEGATIVE_INFINITY, -0]);
  return out;
}

function bundleWith(metrics: UiMetricSeries[]): UiBundle {
  const base = syntheticBundle({ runs: 3, params: 2, metrics: 1, points: 0, seed: 4 });
  return { ...base, metrics };
}

const show = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/** Each value the same float64 (Object.is: NaN is NaN, -0 is not 0), and the rest equal. */
function expectSame(decoded: UiBundle, original: UiBundle): void {
  expect(decoded.metrics).toHaveLength(original.metrics.length);
  original.metrics.forEach((m, i) => {
    const d = decoded.metrics[i]!;
    expect([d.experiment, d.runId, d.name]).toEqual([m.experiment, m.runId, m.name]);
    for (const key of ['steps', 'timestamps', 'values'] as const) {
      expect(d[key], `${m.name}: ${key}`).toHaveLength(m[key].length);
      m[key].forEach((x, j) => {
        if (!Object.is(d[key][j], x)) {
          expect.fail(`${m.name}: ${key}[${j}] decoded as ${show(d[key][j]!)}, was ${show(x)}`);
        }
      });
    }
  });
  expect({ ...decoded, metrics: [] }).toEqual({ ...original, metrics: [] });
}

describe('the report data frame (src/ui/pack.ts)', () => {
  it('decodes in the page to the same float64 values, specials, empties and all', async () => {
    const original = bundleWith(hardSeries());
    const text = encodeBundle(original);
    expect(text).toMatch(/^[A-Za-z0-9+/]*=*$/); // nothing that could close its <script>
    expectSame(await decodeInPage(text), original);
    expectSame(decodeInNode(text), original);
  });

  it('round-trips a synthetic study, and packs its series smaller than JSON does', async () => {
    const original = syntheticBundle({ runs: 40, params: 3, metrics: 2, points: 200, seed: 9 });
    const text = encodeBundle(original);
    expectSame(await decodeInPage(text), original);
    const json = gzipSync(Buffer.from(JSON.stringify(original)), { level: 9 }).toString('base64');
    expect(text.length).toBeLessThan(json.length * 0.8);
  });

  it('keeps the shapes of a bundle without series', async () => {
    const original = bundleWith([]);
    expect(await decodeInPage(encodeBundle(original))).toEqual(original);
  });

  it('marks its version, and the page refuses another version or older data with a message', async () => {
    const frame = packBundle(bundleWith(hardSeries().slice(0, 2)));
    expect(packVersion(frame)).toBe(PACK_VERSION);
    const next = frame.slice();
    new DataView(next.buffer).setUint32(4, PACK_VERSION + 1, true);
    const b64 = (bytes: Uint8Array): string => gzipSync(bytes).toString('base64');
    await expect(decodeInPage(b64(next))).rejects.toMatchObject({
      code: 'VERSION',
      message: `This report's data is of frame version ${PACK_VERSION + 1}, and this page reads version ${PACK_VERSION}: open it with the runledger that wrote it.`,
    });
    const older = Buffer.from(JSON.stringify(bundleWith([])));
    await expect(decodeInPage(b64(older))).rejects.toMatchObject({
      code: 'VERSION',
      message:
        "This report's data is of an older format than this page reads: make the report again with this runledger.",
    });
    await expect(decodeInPage('bm90IGd6aXA=')).rejects.toMatchObject({ code: 'DATA' });
    expect(() => unpackBundle(next)).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        message: `The report's data frame is of version ${PACK_VERSION + 1}, and this runledger reads version ${PACK_VERSION}.`,
      })
    );
  });

  it('refuses a frame whose lengths do not add up', () => {
    const frame = packBundle(bundleWith(hardSeries().slice(0, 3)));
    expect(() => unpackBundle(frame.subarray(0, frame.length - 8))).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        message:
          "The report's data frame has a binary section of another size than its series' lengths say.",
      })
    );
    expect(() => unpackBundle(frame.subarray(0, 20))).toThrow(
      expect.objectContaining({ message: "The report's data frame is shorter than its JSON." })
    );
    expect(() => unpackBundle(new Uint8Array(4))).toThrow(
      expect.objectContaining({ message: "The report's data frame does not start with RLPK." })
    );
  });
});
