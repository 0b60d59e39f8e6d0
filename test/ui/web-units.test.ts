/**
 * The page's pure modules in node: the NPY reader (web/npy.ts) against files written by hand
 * per NumPy's format spec, the hash routes (web/router.ts), and the query glue (web/query.ts):
 * sort specs round-trip and the page's filter keeps the rows the CLI's `--where` keeps.
 */
import { describe, expect, it } from 'vitest';
import { parseSort, parseWhere } from '../../src/tables/query.js';
import type { UiCell, UiRunTable } from '../../src/ui/model.js';
import { parseNpy } from '../../web/npy.js';
import { RunQuery, formatSort, parseSortSpec, quoteColumn } from '../../web/query.js';
import { formatHash, listParam, param, parseHash } from '../../web/router.js';
import { npyFloat64, syntheticBundle } from './synthetic.js';

/** An NPY file: `major` 1 (u16 header length) or 2 (u32), the header padded to 64 bytes. */
function npy(
  descr: string,
  shape: string,
  data: Uint8Array,
  major = 1,
  fortran = false
): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, header.length, true);
  else v.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, total);
  return out;
}

function bytesOf(
  size: number,
  values: readonly number[],
  set: (v: DataView, o: number, x: number) => void
): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => set(v, i * size, x));
  return out;
}

describe('parseNpy (web/npy.ts)', () => {
  it('reads little-endian f8, f4, i8, i4, u1 and bool vectors', () => {
    expect([...parseNpy(npyFloat64([1.5, -2, 1e-300])).values]).toEqual([1.5, -2, 1e-300]);
    const f4 = parseNpy(
      npy(
        '<f4',
        '(2,)',
        bytesOf(4, [0.5, -3], (v, o, x) => v.setFloat32(o, x, true))
      )
    );
    expect([f4.dtype, ...f4.values]).toEqual(['<f4', 0.5, -3]);
    const i8 = parseNpy(
      npy(
        '<i8',
        '(2,)',
        bytesOf(8, [-7, 2 ** 40], (v, o, x) => v.setBigInt64(o, BigInt(x), true))
      )
    );
    expect([...i8.values]).toEqual([-7, 2 ** 40]);
    const i4 = parseNpy(
      npy(
        '<i4',
        '(3,)',
        bytesOf(4, [-1, 0, 65536], (v, o, x) => v.setInt32(o, x, true))
      )
    );
    expect([...i4.values]).toEqual([-1, 0, 65536]);
    expect([...parseNpy(npy('|u1', '(3,)', new Uint8Array([0, 128, 255]))).values]).toEqual([
      0, 128, 255,
    ]);
    expect([...parseNpy(npy('|b1', '(2,)', new Uint8Array([1, 0]))).values]).toEqual([1, 0]);
  });

  it('reads a version 2 header, a matrix, and Fortran order as C order', () => {
    const m = parseNpy(
      npy(
        '<f8',
        '(2, 3)',
        bytesOf(8, [1, 2, 3, 4, 5, 6], (v, o, x) => v.setFloat64(o, x, true)),
        2
      )
    );
    expect(m.shape).toEqual([2, 3]);
    expect([...m.values]).toEqual([1, 2, 3, 4, 5, 6]);
    // Column-major on disk: [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
    const f = parseNpy(
      npy(
        '<f8',
        '(2, 3)',
        bytesOf(8, [1, 4, 2, 5, 3, 6], (v, o, x) => v.setFloat64(o, x, true)),
        1,
        true
      )
    );
    expect([...f.values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      parseNpy(
        npy(
          '<f8',
          '()',
          bytesOf(8, [9], (v, o, x) => v.setFloat64(o, x, true))
        )
      ).values[0]
    ).toBe(9);
  });

  it('refuses what it cannot read, saying what', () => {
    expect(() => parseNpy(new TextEncoder().encode('not npy at all'))).toThrow(/not an NPY file/);
    expect(() => parseNpy(npy('>f8', '(1,)', new Uint8Array(8)))).toThrow(/>f8/);
    expect(() => parseNpy(npy('<c16', '(1,)', new Uint8Array(16)))).toThrow(/<c16/);
    expect(() => parseNpy(npy('<f8', '(4,)', new Uint8Array(8)))).toThrow(
      /shorter than its 4 values/
    );
  });
});

describe('hash routes (web/router.ts)', () => {
  it('round-trips views, paths, scalars and lists with commas in items', () => {
    const hash = formatHash('runs', [], {
      where: "metrics.loss < 0.1 and name = 'a&b'",
      cols: ['run_id', 'metrics.a,b', 'params.x y'],
      sel: [],
      differ: true,
      sort: '',
    });
    expect(hash).not.toContain('sel=');
    expect(hash).not.toContain('sort=');
    const r = parseHash(hash);
    expect(r.view).toBe('runs');
    expect(param(r, 'where')).toBe("metrics.loss < 0.1 and name = 'a&b'");
    expect(listParam(r, 'cols')).toEqual(['run_id', 'metrics.a,b', 'params.x y']);
    expect(param(r, 'differ')).toBe('1');
    const run = parseHash(formatHash('run', ['1a2b3c4d5e6f', 7], { sel: ['e:1', 'e:2'] }));
    expect([run.view, ...run.path]).toEqual(['run', '1a2b3c4d5e6f', '7']);
    expect(listParam(run, 'sel')).toEqual(['e:1', 'e:2']);
    expect(parseHash('').view).toBe('runs');
    expect(param(parseHash('#/x?bad=%E0%A4%A'), 'bad')).toBe('%E0%A4%A');
  });
});

describe('the query glue (web/query.ts)', () => {
  it('writes and reads sort specs, quoting names the CLI would not take bare', () => {
    const keys = [
      { column: 'metrics.loss', descending: true },
      { column: 'params.a b', descending: false },
      { column: 'desc', descending: false },
    ];
    const spec = formatSort(keys);
    expect(spec).toBe('metrics.loss desc, `params.a b`, `desc`');
    expect(parseSortSpec(spec)).toEqual(keys);
    expect(parseSortSpec('run_id ASC,status')).toEqual([
      { column: 'run_id', descending: false },
      { column: 'status', descending: false },
    ]);
    expect(quoteColumn('tags.stage')).toBe('tags.stage');
  });

  it('keeps the rows the CLI parser keeps, within the shown ones', () => {
    const { study } = syntheticBundle({ runs: 120, params: 4, metrics: 2, points: 0, seed: 5 });
    const q = new RunQuery(study.runs);
    const where = "metrics.loss < 0.6 and params.optimizer != 'sgd'";
    const keep = parseWhere(where, q.names);
    const all = q.filter(where);
    const expected = q.rows.map((r) => (keep(r) ? 1 : 0));
    expect([...all]).toEqual(expected);
    expect(expected.filter((x) => x === 1).length).toBeGreaterThan(10);
    const within = new Uint8Array(120).fill(1, 0, 60);
    expect([...q.filter(where, within)]).toEqual(expected.map((x, i) => (i < 60 ? x : 0)));
    // Time columns read as the CLI's RFC 3339 text.
    expect(typeof q.rows[0]!['started_at']).toBe('string');
    expect(() => q.filter('metrics.lsos < 1')).toThrow(/metrics\.lsos/);
    const order = q.order(all, [{ column: 'metrics.loss', descending: false }]);
    const losses = order.map(
      (i) => study.runs.columns.find((c) => c.name === 'metrics.loss')!.values[i] as number
    );
    expect(losses).toEqual([...losses].sort((a, b) => a - b));
  });

  it('sorts as the CLI comparator does: kinds, nulls and NaN last, code points, several keys', () => {
    const mixed: UiCell[] = [
      3,
      'b',
      null,
      true,
      Number.NaN,
      -Infinity,
      'a',
      Infinity,
      false,
      '\u{1F600}',
      '\uFFFF',
      3,
      Infinity,
      null,
      'a',
      0,
      -0,
      2.5,
      'B',
      Number.NaN,
    ];
    const n = mixed.length;
    const second: UiCell[] = Array.from({ length: n }, (_, i) => (i * 7) % 5);
    const table: UiRunTable = {
      experiment: new Array<number>(n).fill(0),
      runId: Array.from({ length: n }, (_, i) => i),
      status: new Array<'finished'>(n).fill('finished'),
      columns: [
        {
          name: 'run_id',
          kind: 'run',
          type: 'number',
          values: Array.from({ length: n }, (_, i) => i),
        },
        { name: 'params.x', kind: 'param', type: 'string', values: mixed },
        { name: 'params.y', kind: 'param', type: 'number', values: second },
      ],
      metricNames: [],
    };
    const q = new RunQuery(table);
    const all = new Uint8Array(n).fill(1);
    for (const spec of [
      'params.x',
      'params.x desc',
      'params.y desc, params.x',
      'params.x, params.y desc',
    ]) {
      const compare = parseSort(spec, q.names);
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
        compare(q.rows[a]!, q.rows[b]!)
      );
      expect(q.order(all, parseSortSpec(spec)), spec).toEqual(expected);
    }
    // An MLflow alias goes through the CLI comparator itself.
    expect(() => q.order(all, [{ column: 'nope', descending: false }])).toThrow(/nope/);
  });
});
