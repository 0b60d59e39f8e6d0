import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  degree,
  evaluateFunction,
  fromPolynomialTerms,
  linearPart,
  quadraticPart,
  toPolynomialTerms,
  usedVariableIds,
} from '../../src/ommx/function.js';
import type { FunctionData, Monomial } from '../../src/ommx/types.js';
import { expectError } from '../helpers/expect-code.js';

const lin = (terms: [number, number][], constant = 0): FunctionData => ({
  kind: 'linear',
  terms: terms.map(([id, coefficient]) => ({ id, coefficient })),
  constant,
});
const state = (entries: Record<number, number>): Map<number, number> =>
  new Map(Object.entries(entries).map(([k, v]) => [Number(k), v]));

describe('evaluateFunction', () => {
  it('evaluates each kind at known points', () => {
    const s = state({ 0: 2, 1: 3, 2: -1 });
    expect(evaluateFunction({ kind: 'constant', constant: 4.5 }, s)).toBe(4.5);
    expect(
      evaluateFunction(
        lin(
          [
            [0, 2],
            [1, -1],
          ],
          10
        ),
        s
      )
    ).toBe(11);
    // 2·x0·x1 + x2² + (x0 + 1) = 12 + 1 + 3
    expect(
      evaluateFunction(
        {
          kind: 'quadratic',
          rows: [0, 2],
          columns: [1, 2],
          values: [2, 1],
          linear: { terms: [{ id: 0, coefficient: 1 }], constant: 1 },
        },
        s
      )
    ).toBe(16);
    // 3·x0²·x1 − 5 = 36 − 5
    expect(
      evaluateFunction(
        {
          kind: 'polynomial',
          terms: [
            { ids: [0, 0, 1], coefficient: 3 },
            { ids: [], coefficient: -5 },
          ],
        },
        s
      )
    ).toBe(31);
  });

  it('names every missing used variable', () => {
    const e = expectError(
      () =>
        evaluateFunction(
          lin([
            [4, 1],
            [0, 1],
            [7, 2],
          ]),
          state({ 0: 1 })
        ),
      'ARGUMENT_INVALID'
    );
    expect(e.message).toContain('4, 7');
    expect(e.data['ids']).toEqual([4, 7]);
    expectError(
      () =>
        evaluateFunction(
          { kind: 'quadratic', rows: [0], columns: [9], values: [1] },
          state({ 0: 1 })
        ),
      'ARGUMENT_INVALID'
    );
    expectError(
      () =>
        evaluateFunction(
          { kind: 'polynomial', terms: [{ ids: [3, 3, 3], coefficient: 1 }] },
          state({})
        ),
      'ARGUMENT_INVALID'
    );
  });

  it('needs no value for a variable in zero or cancelling terms (OMMX drops them on parse)', () => {
    expect(
      evaluateFunction(
        lin([
          [0, 1],
          [5, 0],
        ]),
        state({ 0: 2 })
      )
    ).toBe(2);
    expect(
      evaluateFunction(
        lin([
          [0, 1],
          [5, 2],
          [5, -2],
        ]),
        state({ 0: 2 })
      )
    ).toBe(2);
  });

  it('rejects a quadratic whose arrays differ in length', () => {
    expectError(
      () =>
        evaluateFunction(
          { kind: 'quadratic', rows: [0, 1], columns: [0], values: [1] },
          state({ 0: 1, 1: 1 })
        ),
      'ARGUMENT_INVALID'
    );
  });

  it('evaluates 100,000 rows of 3 nonzeros', () => {
    const n = 100_000;
    const rows: FunctionData[] = [];
    for (let i = 0; i < n; i++) {
      rows.push(
        lin(
          [
            [i, 1],
            [(i + 1) % n, 2],
            [(i + 2) % n, 3],
          ].sort((a, b) => a[0]! - b[0]!) as [number, number][],
          -1
        )
      );
    }
    const values = new Map<number, number>();
    for (let i = 0; i < n; i++) values.set(i, 1);
    let total = 0;
    for (const f of rows) total += evaluateFunction(f, values);
    expect(total).toBe(5 * n);
  });
});

describe('usedVariableIds and degree', () => {
  it('lists sorted unique ids of non-zero merged terms', () => {
    expect(usedVariableIds({ kind: 'constant', constant: 3 })).toEqual([]);
    expect(
      usedVariableIds(
        lin([
          [3, 1],
          [1, 2],
          [3, 1],
        ])
      )
    ).toEqual([1, 3]);
    expect(
      usedVariableIds(
        lin([
          [3, 1],
          [1, 0],
          [2, 1],
          [2, -1],
        ])
      )
    ).toEqual([3]);
    expect(
      usedVariableIds({
        kind: 'quadratic',
        rows: [5, 1],
        columns: [2, 1],
        values: [1, 1],
        linear: { terms: [{ id: 9, coefficient: 1 }], constant: 0 },
      })
    ).toEqual([1, 2, 5, 9]);
    expect(
      usedVariableIds({ kind: 'polynomial', terms: [{ ids: [4, 2, 4], coefficient: 1 }] })
    ).toEqual([2, 4]);
  });

  it('gives the degree after merging', () => {
    expect(degree({ kind: 'constant', constant: 1 })).toBe(0);
    expect(degree(lin([], 3))).toBe(0);
    expect(
      degree(
        lin([
          [0, 1],
          [0, -1],
        ])
      )
    ).toBe(0);
    expect(degree(lin([[0, 1]]))).toBe(1);
    expect(degree({ kind: 'quadratic', rows: [0], columns: [1], values: [1] })).toBe(2);
    expect(degree({ kind: 'quadratic', rows: [0, 1], columns: [1, 0], values: [1, -1] })).toBe(0);
    expect(degree({ kind: 'polynomial', terms: [{ ids: [0, 1, 1], coefficient: 2 }] })).toBe(3);
  });
});

describe('toPolynomialTerms / fromPolynomialTerms', () => {
  it('merges monomials whatever the id order, drops zeros, keys by sorted ids', () => {
    const terms = toPolynomialTerms({
      kind: 'quadratic',
      rows: [1, 0, 2],
      columns: [0, 1, 2],
      values: [2, 3, 0],
      linear: { terms: [{ id: 4, coefficient: 1 }], constant: -1 },
    });
    expect([...terms]).toEqual([
      ['', { ids: [], coefficient: -1 }],
      ['4', { ids: [4], coefficient: 1 }],
      ['0,1', { ids: [0, 1], coefficient: 5 }],
    ]);
  });

  it('chooses the smallest kind, terms sorted', () => {
    expect(fromPolynomialTerms([])).toEqual({ kind: 'constant', constant: 0 });
    expect(
      fromPolynomialTerms([
        { ids: [], coefficient: 2 },
        { ids: [1], coefficient: 0 },
      ])
    ).toEqual({
      kind: 'constant',
      constant: 2,
    });
    expect(
      fromPolynomialTerms([
        { ids: [3], coefficient: 1 },
        { ids: [1], coefficient: 2 },
        { ids: [3], coefficient: 1 },
      ])
    ).toEqual(
      lin([
        [1, 2],
        [3, 2],
      ])
    );
    expect(
      fromPolynomialTerms([
        { ids: [2, 1], coefficient: 1 },
        { ids: [0, 0], coefficient: 4 },
        { ids: [1, 2], coefficient: 1 },
      ])
    ).toEqual({ kind: 'quadratic', rows: [0, 1], columns: [0, 2], values: [4, 2] });
    expect(
      fromPolynomialTerms([
        { ids: [2, 1], coefficient: 1 },
        { ids: [], coefficient: 7 },
      ])
    ).toEqual({
      kind: 'quadratic',
      rows: [1],
      columns: [2],
      values: [1],
      linear: { terms: [], constant: 7 },
    });
    expect(
      fromPolynomialTerms([
        { ids: [2, 1, 0], coefficient: 1 },
        { ids: [0, 5], coefficient: 1 },
        { ids: [3], coefficient: 1 },
        { ids: [], coefficient: 1 },
        { ids: [0, 0, 0], coefficient: 1 },
      ])
    ).toEqual({
      kind: 'polynomial',
      terms: [
        { ids: [], coefficient: 1 },
        { ids: [3], coefficient: 1 },
        { ids: [0, 5], coefficient: 1 },
        { ids: [0, 0, 0], coefficient: 1 },
        { ids: [0, 1, 2], coefficient: 1 },
      ],
    });
  });

  it('writes 0, never −0, for a cancelled constant', () => {
    const f = fromPolynomialTerms([
      { ids: [], coefficient: -1 },
      { ids: [], coefficient: 1 },
    ]);
    expect(Object.is((f as { constant: number }).constant, 0)).toBe(true);
  });

  it('rejects NaN and infinite coefficients, and ids that are not non-negative safe integers', () => {
    expectError(
      () => fromPolynomialTerms([{ ids: [0], coefficient: Number.NaN }]),
      'ARGUMENT_INVALID'
    );
    expectError(
      () => fromPolynomialTerms([{ ids: [0], coefficient: Infinity }]),
      'ARGUMENT_INVALID'
    );
    expectError(
      () =>
        fromPolynomialTerms([
          { ids: [0], coefficient: Number.MAX_VALUE },
          { ids: [0], coefficient: Number.MAX_VALUE },
        ]),
      'ARGUMENT_INVALID'
    );
    expectError(() => fromPolynomialTerms([{ ids: [-1], coefficient: 1 }]), 'ARGUMENT_INVALID');
    expectError(() => fromPolynomialTerms([{ ids: [1.5], coefficient: 1 }]), 'ARGUMENT_INVALID');
  });

  const monomial: fc.Arbitrary<Monomial> = fc.record({
    ids: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 }),
    coefficient: fc.integer({ min: -3, max: 3 }),
  });

  it('round trips, is idempotent, and evaluates like the terms it came from', () => {
    fc.assert(
      fc.property(
        fc.array(monomial, { maxLength: 12 }),
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 7, maxLength: 7 }),
        (terms, xs) => {
          const f = fromPolynomialTerms(terms);
          expect(fromPolynomialTerms(toPolynomialTerms(f).values())).toEqual(f);
          const s = new Map(xs.map((v, i) => [i, v] as const));
          let expected = 0;
          for (const t of terms)
            expected += t.coefficient * t.ids.reduce((p, id) => p * xs[id]!, 1);
          expect(evaluateFunction(f, s)).toBe(expected);
          // Order of the input does not matter.
          expect(fromPolynomialTerms([...terms].reverse())).toEqual(f);
          // Degree and used ids agree with the canonical terms.
          const canonical = [...toPolynomialTerms(f).values()];
          expect(degree(f)).toBe(Math.max(0, ...canonical.map((t) => t.ids.length)));
          expect(usedVariableIds(f)).toEqual(
            [...new Set(canonical.flatMap((t) => t.ids))].sort((a, b) => a - b)
          );
        }
      )
    );
  });
});

describe('linearPart / quadraticPart', () => {
  it('splits a function by degree, canonically', () => {
    const f: FunctionData = {
      kind: 'polynomial',
      terms: [
        { ids: [1, 0], coefficient: 1 },
        { ids: [0, 1], coefficient: 1 },
        { ids: [2], coefficient: 3 },
        { ids: [0], coefficient: 1 },
        { ids: [], coefficient: 4 },
        { ids: [0, 1, 2], coefficient: 9 },
      ],
    };
    expect(linearPart(f)).toEqual({
      terms: [
        { id: 0, coefficient: 1 },
        { id: 2, coefficient: 3 },
      ],
      constant: 4,
    });
    expect(quadraticPart(f)).toEqual({ rows: [0], columns: [1], values: [2] });
    expect(linearPart({ kind: 'constant', constant: 2 })).toEqual({ terms: [], constant: 2 });
    expect(quadraticPart(lin([[0, 1]]))).toEqual({ rows: [], columns: [], values: [] });
    expect(
      linearPart(
        lin(
          [
            [2, 1],
            [1, 1],
          ],
          3
        )
      )
    ).toEqual({
      terms: [
        { id: 1, coefficient: 1 },
        { id: 2, coefficient: 1 },
      ],
      constant: 3,
    });
  });
});
