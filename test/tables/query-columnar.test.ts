/**
 * queryTable reads Arrow columns directly (no row objects); these properties pin it to the row
 * semantics of parseWhere / parseSort on random tables — several record batches, sliced batches,
 * nulls, NaN, ±0, ±Infinity, bigints past 2^53, non-ASCII and astral strings — and random filters.
 */
import { Table } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { typedColumnsTable, type TypedColumn } from '../../src/tables/arrow.js';
import { parseSort, parseWhere, queryTable, type Cell, type Row } from '../../src/tables/query.js';

const NAMES = ['i', 'f', 's', 'b'] as const;

const int = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom(2n ** 53n + 1n, -(2n ** 53n) - 1n)
);
const float = fc.oneof(
  fc.double(),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, -0, Number.NaN, Infinity, -Infinity, 2 ** 53 + 2)
);
const text = fc.oneof(
  fc.constantFrom('', 'a', 'ab', 'B', 'é', '\u{1f600}', '\uffff', 'a%b', 'a_b', 'x\ny'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'grapheme', maxLength: 3 })
);
const nullable = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: a });

/** 1–4 record batches of the same four columns, maybe sliced. */
const tables: fc.Arbitrary<Table> = fc
  .tuple(
    fc.array(
      fc.array(
        fc.record({
          i: nullable(int),
          f: nullable(float),
          s: nullable(text),
          b: nullable(fc.boolean()),
        }),
        { maxLength: 12 }
      ),
      { minLength: 1, maxLength: 4 }
    ),
    fc.nat(3),
    fc.nat(5)
  )
  .map(([batches, from, cut]) => {
    const parts = batches.map((rows) =>
      typedColumnsTable(
        (
          [
            ['i', 'int64'],
            ['f', 'float64'],
            ['s', 'utf8'],
            ['b', 'bool'],
          ] as const
        ).map(([name, type]): TypedColumn => ({ name, type, values: rows.map((r) => r[name]) }))
      )
    );
    const table = new Table(parts.flatMap((p) => p.batches));
    // A slice gives batches whose data starts at an offset into shared buffers.
    const end = table.numRows - cut;
    return cut === 0 || end <= from ? table : table.slice(from, end);
  });

const literal: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '-0', '1', '-1', '0.5', '1e999', '-1e999', '9007199254740993', 'null'),
  fc.constantFrom('true', 'false', "'a'", "''", "'é'", "'\u{1f600}'", "'B'", "'\\uffff'"),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  text.map((s) => `'${s.replace(/[\\']/g, '\\$&')}'`)
);
const column = fc.constantFrom(...NAMES);
const comparison: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(column, fc.constantFrom('=', '!=', '<', '<=', '>', '>='), literal)
    .map(([c, op, l]) => `${c} ${op} ${l}`),
  fc
    .tuple(column, fc.boolean(), fc.array(literal, { minLength: 1, maxLength: 3 }))
    .map(([c, not, l]) => `${c} ${not ? 'not ' : ''}in (${l.join(', ')})`),
  fc
    .tuple(column, fc.boolean(), fc.constantFrom('like', 'ilike'), text)
    .map(([c, not, op, p]) => `${c} ${not ? 'not ' : ''}${op} '${p.replace(/[\\']/g, '\\$&')}'`),
  fc.tuple(column, fc.boolean()).map(([c, not]) => `${c} is ${not ? 'not ' : ''}null`)
);
const filter: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    tie('e').map((e) => `not (${e})`),
    fc
      .tuple(tie('e'), fc.constantFrom('and', 'or'), tie('e'))
      .map(([a, op, b]) => `(${a}) ${op} (${b})`)
  ),
})).e;
const sort: fc.Arbitrary<string> = fc
  .uniqueArray(fc.tuple(column, fc.constantFrom('', ' asc', ' desc')), {
    minLength: 1,
    maxLength: 4,
    selector: ([c]) => c,
  })
  .map((keys) => keys.map(([c, d]) => `${c}${d}`).join(', '));

/** The table as rows of cells, null for a missing one. */
function rowsOf(table: Table): Row[] {
  const vectors = NAMES.map((n) => table.getChild(n)!);
  return Array.from({ length: table.numRows }, (_, i) =>
    Object.fromEntries(
      NAMES.map((n, j) => [n, vectors[j]!.isValid(i) ? (vectors[j]!.get(i) as Cell) : null])
    )
  );
}

describe('queryTable on Arrow columns', () => {
  it('keeps exactly the rows parseWhere keeps, in the order parseSort gives', () => {
    fc.assert(
      fc.property(tables, fc.option(filter), fc.option(sort), (table, where, orderBy) => {
        const rows = rowsOf(table);
        let expected = rows;
        if (where !== null) expected = expected.filter(parseWhere(where, NAMES));
        if (orderBy !== null) expected = [...expected].sort(parseSort(orderBy, NAMES));
        const out = queryTable(table, {
          ...(where === null ? {} : { where }),
          ...(orderBy === null ? {} : { orderBy }),
        });
        expect(out.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(
          table.schema.fields.map((f) => [f.name, String(f.type)])
        );
        expect(rowsOf(out)).toEqual(expected);
      }),
      { numRuns: 400 }
    );
  });

  it('keeps ties in table order across batches', () => {
    const a = typedColumnsTable([
      { name: 'k', type: 'int64', values: [1, 0, 1] },
      { name: 'n', type: 'utf8', values: ['a0', 'a1', 'a2'] },
    ]);
    const b = typedColumnsTable([
      { name: 'k', type: 'int64', values: [0, 1, null] },
      { name: 'n', type: 'utf8', values: ['b0', 'b1', 'b2'] },
    ]);
    const t = new Table([...a.batches, ...b.batches]);
    const names = (x: Table) => [...x.getChild('n')!];
    expect(names(queryTable(t, { orderBy: 'k' }))).toEqual(['a1', 'b0', 'a0', 'a2', 'b1', 'b2']);
    expect(names(queryTable(t, { orderBy: 'k desc' }))).toEqual([
      'a0',
      'a2',
      'b1',
      'a1',
      'b0',
      'b2',
    ]);
    expect(names(queryTable(t, { where: 'k = 1', orderBy: 'n desc' }))).toEqual(['b1', 'a2', 'a0']);
  });

  it('gives one contiguous record batch', () => {
    const a = typedColumnsTable([{ name: 'k', type: 'float64', values: [2, 1] }]);
    const t = new Table([...a.batches, ...a.batches]);
    const out = queryTable(t, { orderBy: 'k' });
    expect(out.batches).toHaveLength(1);
    expect([...out.getChild('k')!]).toEqual([1, 1, 2, 2]);
  });
});
