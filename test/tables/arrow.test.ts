import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tableFromIPC, tableToIPC, Type, type Table } from 'apache-arrow';
import { isRunledgerError } from '../../src/errors.js';
import {
  decodeRunParameters,
  encodeRunParameters,
  ParameterTable,
  type ParameterType,
  type ParameterValue,
} from '../../src/experiment/parameters.js';
import { runParametersTable } from '../../src/tables/arrow.js';

function params(rows: Record<number, Record<string, ParameterValue>>): ParameterTable {
  const t = new ParameterTable();
  for (const [run, values] of Object.entries(rows)) {
    for (const [name, value] of Object.entries(values)) t.set(Number(run), name, value);
  }
  return t;
}

/** Column name → values by row (null for a missing cell). */
function columnsOf(df: Table): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const field of df.schema.fields) out[field.name] = [...df.getChild(field.name)!];
  return out;
}

describe('runParametersTable', () => {
  it('has a non-null Int64 run_id and one nullable column per parameter type', () => {
    const df = runParametersTable(
      params({ 0: { flag: true, n: 20, x: 0.5, s: 'highs' }, 1: { n: 7n } }),
      [0, 1]
    );
    const fields = df.schema.fields.map((f) => [f.name, Type[f.type.typeId], f.nullable]);
    expect(fields).toEqual([
      ['run_id', 'Int', false],
      ['flag', 'Bool', true],
      ['n', 'Int', true],
      ['s', 'Utf8', true],
      ['x', 'Float', true],
    ]);
    const byName = new Map(df.schema.fields.map((f) => [f.name, f.type]));
    expect(byName.get('run_id')).toMatchObject({ bitWidth: 64, isSigned: true });
    expect(byName.get('n')).toMatchObject({ bitWidth: 64, isSigned: true });
    expect(String(byName.get('x'))).toBe('Float64');
    expect(df.numRows).toBe(2);
    expect(columnsOf(df)).toEqual({
      run_id: [0n, 1n],
      flag: [true, null],
      n: [20n, 7n],
      s: ['highs', null],
      x: [0.5, null],
    });
  });

  it('gives null for missing cells, and keeps a logged NaN as NaN (not null)', () => {
    const df = runParametersTable(
      params({ 0: { x: NaN }, 1: { x: Infinity }, 3: { x: -Infinity } }),
      [0, 1, 2, 3]
    );
    const x = df.getChild('x')!;
    expect([...x]).toEqual([NaN, Infinity, null, -Infinity]);
    expect(x.isValid(0)).toBe(true);
    expect(x.isValid(2)).toBe(false);
    expect(x.nullCount).toBe(1);
    expect(df.getChild('run_id')!.nullCount).toBe(0);
  });

  it('orders columns by first appearance in run order, then by name (ommx-reference §6)', () => {
    const t = new ParameterTable();
    t.set(1, 'presolve', true);
    t.set(1, 'solver', 'scip');
    t.set(0, 'time_limit', 20);
    t.set(0, 'solver', 'highs');
    const df = runParametersTable(t, [0, 1]);
    expect(df.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'solver',
      'time_limit',
      'presolve',
    ]);
    // Within a run: code point order (U+FFFD before U+1F600, unlike a plain JS sort).
    const u = params({ 0: { '\u{1F600}': 1, '\uFFFD': 1, b: 1 } });
    expect(runParametersTable(u, []).schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'b',
      '\uFFFD',
      '\u{1F600}',
    ]);
  });

  it('has a row for every run given, with or without parameters, and for every run in the table', () => {
    const t = params({ 1: { a: 'x' }, 5: { a: 'y' } });
    const df = runParametersTable(t, [4, 0, 1, 4]);
    expect(columnsOf(df)).toEqual({ run_id: [0n, 1n, 4n, 5n], a: [null, 'x', null, 'y'] });

    const none = runParametersTable(new ParameterTable(), [2, 0, 1]);
    expect(none.numRows).toBe(3);
    expect(none.schema.fields.map((f) => f.name)).toEqual(['run_id']);
    expect(columnsOf(none)).toEqual({ run_id: [0n, 1n, 2n] });

    const empty = runParametersTable(new ParameterTable(), []);
    expect(empty.numRows).toBe(0);
    expect(empty.schema.fields.map((f) => f.name)).toEqual(['run_id']);
  });

  it('handles sparse run ids (no array indexed by run id)', () => {
    const t = params({ 0: { a: 1 }, 9_000_000_000: { a: 2, b: 'far' } });
    const df = runParametersTable(t, [123_456_789]);
    expect(columnsOf(df)).toEqual({
      run_id: [0n, 123_456_789n, 9_000_000_000n],
      a: [1n, null, 2n],
      b: [null, null, 'far'],
    });
  });

  it('keeps int64 values exactly, promoted columns as floats, and any Unicode string', () => {
    const t = params({
      0: { big: 2n ** 63n - 1n, p: 1, s: 'é😀\u0000x' },
      1: { big: -(2n ** 63n), p: 0.25, s: '' },
      2: { s: 'ascii' },
    });
    expect(columnsOf(runParametersTable(t, []))).toEqual({
      run_id: [0n, 1n, 2n],
      big: [2n ** 63n - 1n, -(2n ** 63n), null],
      p: [1, 0.25, null],
      s: ['é😀\u0000x', '', 'ascii'],
    });
  });

  it('fills bool values and validity bits across byte boundaries', () => {
    const t = new ParameterTable();
    for (let run = 0; run < 21; run++) if (run % 3 !== 0) t.set(run, 'b', run % 2 === 0);
    const df = runParametersTable(t, []);
    const expected = Array.from({ length: 21 }, (_, run) => (run % 3 === 0 ? null : run % 2 === 0));
    // Runs without a value that are not given have no row.
    expect([...df.getChild('run_id')!]).toEqual([
      1n,
      2n,
      4n,
      5n,
      7n,
      8n,
      10n,
      11n,
      13n,
      14n,
      16n,
      17n,
      19n,
      20n,
    ]);
    expect([...df.getChild('b')!]).toEqual(expected.filter((v) => v !== null));
    const withAll = runParametersTable(
      t,
      Array.from({ length: 21 }, (_, i) => i)
    );
    expect([...withAll.getChild('b')!]).toEqual(expected);
  });

  it('survives an Arrow IPC round trip', () => {
    const t = params({ 0: { a: 1, s: 'x', f: NaN, b: true }, 2: { a: 2 } });
    const df = runParametersTable(t, [0, 1, 2]);
    const back = tableFromIPC(tableToIPC(df, 'file'));
    expect(columnsOf(back)).toEqual(columnsOf(df));
    expect(back.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(
      df.schema.fields.map((f) => [f.name, String(f.type), f.nullable])
    );
  });

  it('refuses run ids that are not non-negative safe integers', () => {
    for (const id of [-1, 0.5, NaN, 2 ** 53]) {
      let caught: unknown;
      try {
        runParametersTable(new ParameterTable(), [id]);
      } catch (e) {
        caught = e;
      }
      expect(isRunledgerError(caught, 'ARGUMENT_INVALID')).toBe(true);
    }
  });

  it('matches the decoded run-parameter blob cell for cell (property)', () => {
    const types: ParameterType[] = ['bool', 'int64', 'float64', 'string'];
    const value: Record<ParameterType, fc.Arbitrary<ParameterValue>> = {
      bool: fc.boolean(),
      int64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      float64: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity)),
      string: fc.string({ unit: 'grapheme', maxLength: 20 }),
    };
    const arb = fc
      .uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom(...types)), {
        maxLength: 6,
        selector: ([name]) => name,
      })
      .chain((cols) =>
        fc.tuple(
          fc.uniqueArray(fc.nat({ max: 40 }), { maxLength: 5 }),
          ...cols.map(([name, type]) =>
            fc
              .array(fc.tuple(fc.nat({ max: 40 }), value[type]), { minLength: 1, maxLength: 20 })
              .map((cells) => ({ name, cells }))
          )
        )
      );
    fc.assert(
      fc.property(arb, ([extraRuns, ...cols]) => {
        const t = new ParameterTable();
        for (const { name, cells } of cols) for (const [run, v] of cells) t.set(run, name, v);
        const decoded = decodeRunParameters(encodeRunParameters(t));
        const df = runParametersTable(decoded, extraRuns);
        const rows = [...new Set([...extraRuns, ...t.runIds()])].sort((a, b) => a - b);
        expect([...df.getChild('run_id')!]).toEqual(rows.map(BigInt));
        expect(df.numCols).toBe(1 + t.columns().length);
        for (const c of t.columns()) {
          const vector = df.getChild(c.name)!;
          rows.forEach((run, row) => {
            const v = c.values.get(run);
            expect(vector.get(row)).toEqual(v === undefined ? null : v);
          });
        }
      }),
      { numRuns: 200 }
    );
  });
});

describe('apache-arrow stays behind one module', () => {
  it('only src/tables/arrow.ts imports apache-arrow at run time', async () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.ts')) files.push(p);
      }
    };
    await walk(src);
    const importers: string[] = [];
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      // `import type` is erased by tsc, so it does not load the package.
      if (/^\s*(import|export)\s+(?!type\s)[^;]*?from\s+'apache-arrow'/m.test(text)) {
        importers.push(relative(src, f));
      }
    }
    expect(importers).toEqual(['tables/arrow.ts']);
  });
});
