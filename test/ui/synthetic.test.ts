import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { syntheticBundle } from './synthetic.js';

describe('syntheticBundle', () => {
  it('gives every column one value per run, and equal options equal data', () => {
    const b = syntheticBundle({ runs: 40, params: 5, metrics: 3, points: 10, seed: 1 });
    const { runs } = b.study;
    expect(runs.runId).toHaveLength(40);
    for (const c of runs.columns) expect(c.values, c.name).toHaveLength(40);
    expect(runs.columns.map((c) => c.name)).toContain('metrics.val_loss');
    expect(b.metrics).toHaveLength(40 * 3);
    expect(b.runs).toHaveLength(40);
    expect(new Set(b.runs.map((r) => `${r.experiment}:${r.runId}`)).size).toBe(40);
    expect(syntheticBundle({ runs: 40, params: 5, metrics: 3, points: 10, seed: 1 })).toEqual(b);
    expect(syntheticBundle({ runs: 40, params: 5, metrics: 3, points: 10, seed: 2 })).not.toEqual(
      b
    );
  });

  it('inlines a valid PNG and a sized NPY', () => {
    const b = syntheticBundle({ runs: 1, params: 1, metrics: 1, points: 0, seed: 1 });
    const e = b.study.experiments[0]!.id;
    const png = Buffer.from(b.attachments[`${e}/0/confusion.png`]!, 'base64');
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    expect(raw.length).toBe(16 * (1 + 16 * 3));
    const npy = Buffer.from(b.attachments[`${e}/0/weights.npy`]!, 'base64');
    const headerEnd = 10 + npy.readUInt16LE(8);
    expect(headerEnd % 64).toBe(0);
    expect(npy.readDoubleLE(headerEnd + 16)).toBe(-1.5);
  });
});
