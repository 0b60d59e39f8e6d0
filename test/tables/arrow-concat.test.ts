/**
 * concatColumns stacks tables column-wise: a chunk of the column's type is shared, not copied;
 * int64 beside float64 becomes float64 and any other clash text, chunk by chunk; a table without
 * a column has nulls there. concatTables gathers that into one record batch. Checked against a
 * plain row-by-row reference.
 */
import { Table } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chunkedColumns,
  concatColumns,
  concatTables,
  gatherColumns,
  tableFromArrowFile,
  tableToArrowFile,
  typedColumnsTable,
  type ChunkedColumns,
  type TypedColumn,
} from '../../src/tables/arrow.js';

type Value = number | bigint | boolean | string | null;

/** Column name → values, null for a missing cell. */
function columnsOf(t: Table): Record<string, Value[]> {
  const out: Record<string, Value[]> = {};
  for (const f of t.schema.fields) {
    const v = t.getChild(f.name)!;
    out[f.name] = Array.from({ length: t.numRows }, (_, i) =>
      v.isValid(i) ? (v.get(i) as Value) : null
    );
  }
  return out;
}

/** What concatTables gives, computed row by row (the definition). */
function reference(tables: readonly Table[]): {
  types: Record<string, string>;
  cells: Record<string, Value[]>;
} {
  const types = new Map<string, Set<string>>();
  for (const t of tables) {
    for (const f of t.schema.fields) {
      if (!types.has(f.name)) types.set(f.name, new Set());
      types.get(f.name)!.add(String(f.type));
    }
  }
  const out: Record<string, string> = {};
  const cells: Record<string, Value[]> = {};
  for (const [name, seen] of types) {
    const type =
      seen.size === 1
        ? [...seen][0]!
        : seen.size === 2 && seen.has('Int64') && seen.has('Float64')
          ? 'Float64'
          : 'Utf8';
    out[name] = type;
    cells[name] = tables.flatMap((t) => {
      const values = columnsOf(t)[name] ?? new Array<Value>(t.numRows).fill(null);
      return values.map((v) =>
        v === null ? null : type === 'Utf8' ? String(v) : type === 'Float64' ? Number(v) : v
      );
    });
  }
  return { types: out, cells };
}

const cell = {
  int64: fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: -2n, max: 2n })
  ),
  float64: fc.oneof(fc.double(), fc.constantFrom(-0, Number.NaN, 0.5)),
  bool: fc.boolean(),
  utf8: fc.string({ maxLength: 3 }),
} as const;

const table: fc.Arbitrary<Table> = fc
  .tuple(
    fc.uniqueArray(
      fc.tuple(
        fc.constantFrom('a', 'b', 'c', 'd'),
        fc.constantFrom('int64', 'float64', 'bool', 'utf8')
      ),
      { maxLength: 4, selector: ([n]) => n }
    ),
    fc.nat(6)
  )
  .chain(([columns, n]) =>
    fc
      .tuple(
        ...columns.map(([, type]) =>
          fc.array(fc.option(cell[type as keyof typeof cell] as fc.Arbitrary<Value>), {
            minLength: n,
            maxLength: n,
          })
        )
      )
      .map((values) =>
        typedColumnsTable(
          columns.map(
            ([name, type], i): TypedColumn => ({
              name,
              type: type as TypedColumn['type'],
              values: values[i]!,
            })
          )
        )
      )
  );

describe('concatTables', () => {
  it('matches the row-by-row definition: first-appearance order, promotion, text, nulls', () => {
    fc.assert(
      fc.property(fc.array(table, { maxLength: 5 }), (tables) => {
        const out = concatTables(tables);
        const expected = reference(tables);
        expect(Object.fromEntries(out.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual(
          expected.types
        );
        expect(out.numRows).toBe(tables.reduce((n, t) => n + t.numRows, 0));
        expect(columnsOf(out)).toEqual(expected.cells);
        // Whole through an Arrow file (every buffer the length the format asks).
        expect(columnsOf(tableFromArrowFile(tableToArrowFile(out)))).toEqual(expected.cells);
        // And gathered back across the parts' batches, in another order.
        const rows = Array.from({ length: out.numRows }, (_, i) => out.numRows - 1 - i);
        const reversed = Object.fromEntries(
          Object.entries(expected.cells).map(([k, v]) => [k, [...v].reverse()])
        );
        const parts = concatColumns(tables.map(chunkedColumns));
        expect(columnsOf(gatherColumns(parts, rows))).toEqual(reversed);
      }),
      { numRuns: 300 }
    );
  });

  it('shares the chunks of a type every part agrees on, converts only the others, gives one batch', () => {
    const a = typedColumnsTable([
      { name: 'run_id', type: 'int64', values: [0, 1] },
      { name: 'x', type: 'int64', values: [1, null] },
      { name: 's', type: 'utf8', values: ['p', 'q'] },
    ]);
    const b = typedColumnsTable([
      { name: 'run_id', type: 'int64', values: [0] },
      { name: 'x', type: 'float64', values: [0.5] },
      { name: 'y', type: 'bool', values: [true] },
    ]);
    const [ca, cb] = [chunkedColumns(a), chunkedColumns(b)];
    const both = concatColumns([ca, cb]);
    const chunk = (c: ChunkedColumns, name: string, batch: number) =>
      c.chunks[c.names.indexOf(name)]![batch];
    expect(both.names).toEqual(['run_id', 'x', 's', 'y']);
    expect(both.types).toEqual(['int64', 'float64', 'utf8', 'bool']);
    expect(both.lengths).toEqual([2, 1]);
    expect(chunk(both, 'run_id', 0)).toBe(chunk(ca, 'run_id', 0));
    expect(chunk(both, 'run_id', 1)).toBe(chunk(cb, 'run_id', 0));
    expect(chunk(both, 's', 0)).toBe(chunk(ca, 's', 0));
    expect(chunk(both, 'x', 1)).toBe(chunk(cb, 'x', 0));
    expect(chunk(both, 'x', 0)!.type).toBe('float64');
    const out = concatTables([a, b]);
    expect(out.batches).toHaveLength(1);
    expect(columnsOf(out)).toEqual({
      run_id: [0n, 1n, 0n],
      x: [1, null, 0.5],
      s: ['p', 'q', null],
      y: [null, null, true],
    });
    expect(columnsOf(gatherColumns(both, [2, 0], ['y', 'x']))).toEqual({
      y: [true, null],
      x: [0.5, 1],
    });
  });

  it('keeps every value of a clash as text: bigints in full, NaN, booleans', () => {
    const a = typedColumnsTable([{ name: 'v', type: 'int64', values: [2n ** 62n + 1n] }]);
    const b = typedColumnsTable([{ name: 'v', type: 'float64', values: [Number.NaN, -Infinity] }]);
    const c = typedColumnsTable([{ name: 'v', type: 'bool', values: [true, null] }]);
    const d = typedColumnsTable([{ name: 'v', type: 'utf8', values: ['é'] }]);
    expect(columnsOf(concatTables([a, b, c, d]))).toEqual({
      v: ['4611686018427387905', 'NaN', '-Infinity', 'true', null, 'é'],
    });
  });

  it('reads sliced tables and tables of several batches', () => {
    const a = typedColumnsTable([
      { name: 'k', type: 'int64', values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
      {
        name: 'b',
        type: 'bool',
        values: [true, false, null, true, false, true, true, false, null, true],
      },
    ]);
    const b = typedColumnsTable([{ name: 'k', type: 'float64', values: [0.5] }]);
    const sliced = a.slice(3, 9);
    const several = new Table([...a.batches, ...a.batches]);
    const out = concatTables([sliced, b, several]);
    expect(columnsOf(out)['k']).toEqual([
      3,
      4,
      5,
      6,
      7,
      8,
      0.5,
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    ]);
    expect(columnsOf(out)['b']!.slice(0, 7)).toEqual([true, false, true, true, false, null, null]);
  });

  it('gives an empty table for no tables, and well-formed batches for empty ones', () => {
    expect(concatTables([]).numRows).toBe(0);
    const empty = typedColumnsTable([
      { name: 'a', type: 'int64', values: [] },
      { name: 'b', type: 'utf8', values: [] },
    ]);
    expect(columnsOf(empty)).toEqual({ a: [], b: [] });
    const out = concatTables([
      empty,
      typedColumnsTable([{ name: 'a', type: 'int64', values: [1] }]),
    ]);
    expect(columnsOf(out)).toEqual({ a: [1n], b: [null] });
  });
});
