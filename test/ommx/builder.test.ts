import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { constant, Expr, InstanceBuilder, linear, sum, Variable } from '../../src/ommx/builder.js';
import { evaluateFunction } from '../../src/ommx/function.js';
import { Instance } from '../../src/ommx/instance.js';
import type { FunctionData } from '../../src/ommx/types.js';
import { expectError } from '../helpers/expect-code.js';

const lin = (terms: [number, number][], c = 0): FunctionData => ({
  kind: 'linear',
  terms: terms.map(([id, coefficient]) => ({ id, coefficient })),
  constant: c,
});

function knapsack(): { b: InstanceBuilder; x: Variable[] } {
  const w = [2, 3, 4];
  const v = [3, 4, 5];
  const b = new InstanceBuilder({
    name: 'knapsack',
    authors: ['runledger'],
    annotations: { k: 'v' },
  });
  const x = [0, 1, 2].map((i) => b.binary('x', { subscripts: [i] }));
  b.addConstraint(sum(x.map((xi, i) => xi.times(w[i]!))).leq(5), { name: 'capacity' });
  b.maximize(sum(x.map((xi, i) => xi.times(v[i]!))));
  return { b, x };
}

describe('InstanceBuilder', () => {
  it('builds a knapsack Instance with canonical functions and labels', () => {
    const instance = knapsack().b.build();
    expect(instance).toBeInstanceOf(Instance);
    expect(instance.description).toEqual({ name: 'knapsack', authors: ['runledger'] });
    expect(instance.annotations).toEqual({ k: 'v' });
    expect(instance.sense).toBe('maximize');
    expect(instance.decisionVariables).toEqual(
      [0, 1, 2].map((i) => ({
        id: i,
        kind: 'binary',
        bound: { lower: 0, upper: 1 },
        name: 'x',
        subscripts: [i],
        parameters: {},
      }))
    );
    expect(instance.objective).toEqual(
      lin([
        [0, 3],
        [1, 4],
        [2, 5],
      ])
    );
    expect(instance.constraints).toEqual([
      {
        id: 0,
        name: 'capacity',
        equality: 'less-than-or-equal-to-zero',
        function: lin(
          [
            [0, 2],
            [1, 3],
            [2, 4],
          ],
          -5
        ),
        subscripts: [],
        parameters: {},
        provenance: [],
      },
    ]);
    expect(instance.removedConstraints).toEqual([]);
    expect(instance.decisionVariableDependency.size).toBe(0);
    const s = instance.evaluate({ 0: 1, 1: 1, 2: 0 });
    expect(s.objective).toBe(7);
    expect(s.feasible).toBe(true);
  });

  it('round trips through encode/decode and gives equal bytes for equal models', () => {
    const a = knapsack().b.build();
    const b = knapsack().b.build();
    const bytes = a.encode();
    expect(Buffer.from(b.encode()).equals(Buffer.from(bytes))).toBe(true);
    const again = Instance.decode(bytes);
    expect(again.objective).toEqual(a.objective);
    expect(again.constraints.map((c) => c.function)).toEqual(a.constraints.map((c) => c.function));
  });

  it('writes leq, geq and eq in OMMX normal form (f ≤ 0, f = 0)', () => {
    const b = new InstanceBuilder();
    const x = b.continuous('x');
    const y = b.continuous('y');
    b.addConstraint(x.plus(1).leq(y.times(2))); // x + 1 − 2y ≤ 0
    b.addConstraint(x.geq(3)); // 3 − x ≤ 0
    b.addConstraint(x.times(2).eq(y.plus(4))); // 2x − y − 4 = 0
    b.addConstraint(constant(2).geq(x)); // x − 2 ≤ 0
    const [leq, geq, eq, rev] = b.build().constraints;
    expect(leq!.equality).toBe('less-than-or-equal-to-zero');
    expect(leq!.function).toEqual(
      lin(
        [
          [0, 1],
          [1, -2],
        ],
        1
      )
    );
    expect(geq!.equality).toBe('less-than-or-equal-to-zero');
    expect(geq!.function).toEqual(lin([[0, -1]], 3));
    expect(eq!.equality).toBe('equal-to-zero');
    expect(eq!.function).toEqual(
      lin(
        [
          [0, 2],
          [1, -1],
        ],
        -4
      )
    );
    expect(rev!.function).toEqual(lin([[0, 1]], -2));
  });

  it('merges equal terms, drops zero coefficients, picks the smallest kind', () => {
    const b = new InstanceBuilder();
    const [x, y, z] = [b.integer('x'), b.integer('y'), b.integer('z')];
    b.addConstraint(x.plus(y).minus(x).plus(x.times(0)).leq(0));
    b.addConstraint(x.minus(x).eq(0));
    b.addConstraint(x.times(y).plus(y.times(x)).plus(z).leq(1));
    b.addConstraint(x.times(y).times(z).minus(z.times(x).times(y)).plus(x.times(x)).leq(0));
    b.addConstraint(x.times(y).times(z).leq(0));
    b.minimize(x.times(2).plus(3).minus(3));
    const inst = b.build();
    expect(inst.constraints.map((c) => c.function)).toEqual([
      lin([[1, 1]]),
      { kind: 'constant', constant: 0 },
      {
        kind: 'quadratic',
        rows: [0],
        columns: [1],
        values: [2],
        linear: { terms: [{ id: 2, coefficient: 1 }], constant: -1 },
      },
      { kind: 'quadratic', rows: [0], columns: [0], values: [1] },
      { kind: 'polynomial', terms: [{ ids: [0, 1, 2], coefficient: 1 }] },
    ]);
    expect(inst.objective).toEqual(lin([[0, 2]]));
  });

  it('defaults to minimizing the constant 0', () => {
    const b = new InstanceBuilder();
    b.continuous('x');
    const inst = b.build();
    expect(inst.objective).toEqual({ kind: 'constant', constant: 0 });
    expect(inst.sense).toBe('minimize');
    expect(inst.description).toBeUndefined();
    expect(inst.constraints).toEqual([]);
  });

  it('takes bounds, kinds, labels, explicit ids, and named functions', () => {
    const b = new InstanceBuilder({ description: 'demo', license: 'MIT' });
    const y = b.continuous('y', {
      lower: 0,
      upper: 10,
      description: 'load',
      parameters: { unit: 't' },
    });
    const n = b.integer('n', { lower: 0, upper: 5, id: 10 });
    const s = b.variable('semi-continuous', 's', { lower: 2, upper: 5 });
    const anon = b.continuous();
    expect([y.id, n.id, s.id, anon.id]).toEqual([0, 10, 11, 12]);
    const c = b.addConstraint(y.plus(n).leq(7), { id: 5, subscripts: [1, -2] });
    const d = b.addConstraint(y.geq(1));
    expect([c, d]).toEqual([5, 6]);
    const f = b.addNamedFunction(y.times(n), { name: 'product' });
    b.minimize(y);
    const inst = b.build();
    expect(inst.description).toEqual({ description: 'demo', license: 'MIT', authors: [] });
    expect(inst.decisionVariables.map((v) => [v.id, v.kind, v.bound])).toEqual([
      [0, 'continuous', { lower: 0, upper: 10 }],
      [10, 'integer', { lower: 0, upper: 5 }],
      [11, 'semi-continuous', { lower: 2, upper: 5 }],
      [12, 'continuous', { lower: -Infinity, upper: Infinity }],
    ]);
    expect(inst.decisionVariables[0]).toMatchObject({
      description: 'load',
      parameters: { unit: 't' },
    });
    expect('name' in inst.decisionVariables[3]!).toBe(false);
    expect(inst.constraints.map((x) => [x.id, x.subscripts])).toEqual([
      [5, [1, -2]],
      [6, []],
    ]);
    expect(inst.namedFunctions).toEqual([
      {
        id: f,
        name: 'product',
        subscripts: [],
        parameters: {},
        function: { kind: 'quadratic', rows: [0], columns: [10], values: [1] },
      },
    ]);
  });

  it('builds independent instances: later changes do not leak into earlier builds', () => {
    const b = new InstanceBuilder();
    const x = b.continuous('x');
    const first = b.build();
    b.addConstraint(x.leq(1));
    b.maximize(x);
    expect(first.constraints).toEqual([]);
    expect(first.sense).toBe('minimize');
    expect(b.build().constraints).toHaveLength(1);
  });

  it('rejects bad bounds, non-finite numbers, taken ids and foreign variables', () => {
    const b = new InstanceBuilder();
    const x = b.continuous('x');
    expectError(() => b.continuous('y', { lower: 3, upper: 1 }), 'ARGUMENT_INVALID');
    expectError(() => b.continuous('y', { lower: Number.NaN }), 'ARGUMENT_INVALID');
    expectError(() => b.binary('y', { upper: 2 }), 'ARGUMENT_INVALID');
    expectError(() => b.variable('unspecified', 'y'), 'ARGUMENT_INVALID');
    expectError(() => b.continuous('y', { id: 0 }), 'ARGUMENT_INVALID');
    expectError(() => b.continuous('y', { id: -1 }), 'ARGUMENT_INVALID');
    expectError(() => b.continuous('y', { subscripts: [0.5] }), 'ARGUMENT_INVALID');
    expectError(() => x.times(Number.NaN), 'ARGUMENT_INVALID');
    expectError(() => x.plus(Infinity), 'ARGUMENT_INVALID');
    expectError(() => x.leq(Number.NaN), 'ARGUMENT_INVALID');
    expectError(() => constant(Number.NaN), 'ARGUMENT_INVALID');
    expectError(() => linear([{ id: 0, coefficient: Number.NaN }]), 'ARGUMENT_INVALID');
    expectError(() => linear([{ id: 1.5, coefficient: 1 }]), 'ARGUMENT_INVALID');
    b.addConstraint(x.leq(1), { id: 3 });
    const e = expectError(() => b.addConstraint(x.leq(2), { id: 3 }), 'ARGUMENT_INVALID');
    expect(e.message).toContain('3');
    b.addNamedFunction(x, { id: 0 });
    expectError(() => b.addNamedFunction(x, { id: 0 }), 'ARGUMENT_INVALID');
    const other = new InstanceBuilder();
    other.continuous('a');
    const foreign = other.continuous('b'); // id 1: not in b
    const f = expectError(() => b.addConstraint(foreign.leq(0)), 'ARGUMENT_INVALID');
    expect(f.message).toContain('variable 1');
    expectError(() => b.minimize(linear([{ id: 9, coefficient: 1 }])), 'ARGUMENT_INVALID');
    expectError(
      () => b.minimize(x.times(Number.MAX_VALUE).plus(x.times(Number.MAX_VALUE))),
      'ARGUMENT_INVALID'
    );
  });

  it('agrees with direct evaluation for random expressions (sum, plus, minus, times, neg)', () => {
    type Op =
      | { kind: 'var'; i: number }
      | { kind: 'num'; v: number }
      | { kind: 'bin'; op: 'plus' | 'minus' | 'times'; a: Op; b: Op }
      | { kind: 'neg'; a: Op }
      | { kind: 'sum'; items: Op[] };
    const { tree } = fc.letrec<{ tree: Op }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ kind: fc.constant('var' as const), i: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ kind: fc.constant('num' as const), v: fc.integer({ min: -3, max: 3 }) }),
        fc.record({
          kind: fc.constant('bin' as const),
          op: fc.constantFrom('plus' as const, 'minus' as const, 'times' as const),
          a: tie('tree'),
          b: tie('tree'),
        }),
        fc.record({ kind: fc.constant('neg' as const), a: tie('tree') }),
        fc.record({
          kind: fc.constant('sum' as const),
          items: fc.array(tie('tree'), { maxLength: 3 }),
        })
      ),
    }));
    fc.assert(
      fc.property(
        tree,
        fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 4, maxLength: 4 }),
        (t, xs) => {
          const b = new InstanceBuilder();
          const vars = xs.map(() => b.integer());
          const toExpr = (o: Op): Expr | number => {
            switch (o.kind) {
              case 'var':
                return vars[o.i]!;
              case 'num':
                return o.v;
              case 'neg': {
                const a = toExpr(o.a);
                return typeof a === 'number' ? constant(a).neg() : a.neg();
              }
              case 'sum':
                return sum(o.items.map(toExpr));
              case 'bin': {
                const a = toExpr(o.a);
                const e = typeof a === 'number' ? constant(a) : a;
                return e[o.op](toExpr(o.b));
              }
            }
          };
          const direct = (o: Op): number => {
            switch (o.kind) {
              case 'var':
                return xs[o.i]!;
              case 'num':
                return o.v;
              case 'neg':
                return -direct(o.a);
              case 'sum':
                return o.items.reduce((s, i) => s + direct(i), 0);
              case 'bin':
                return o.op === 'plus'
                  ? direct(o.a) + direct(o.b)
                  : o.op === 'minus'
                    ? direct(o.a) - direct(o.b)
                    : direct(o.a) * direct(o.b);
            }
          };
          const e = toExpr(t);
          const f = (typeof e === 'number' ? constant(e) : e).toFunction();
          const state = new Map(xs.map((v, i) => [i, v] as const));
          expect(evaluateFunction(f, state) + 0).toBe(direct(t) + 0);
          // Canonical: the same sum, however nested, gives the same function.
          expect(sum([0, e]).toFunction()).toEqual(f);
        }
      )
    );
  });

  it('builds a 100,000 × 100,000 sparse LP, with a 10⁵-deep chain of plus (no stack overflow)', () => {
    const n = 100_000;
    const b = new InstanceBuilder({ name: 'big' });
    const x = Array.from({ length: n }, () => b.continuous('x', { lower: 0, upper: 1 }));
    for (let i = 0; i < n; i++) {
      b.addConstraint(sum([x[i]!, x[(i + 1) % n]!.times(2), x[(i + 7) % n]!.times(3)]).leq(6));
    }
    let objective: Expr = constant(0);
    for (const xi of x) objective = objective.plus(xi); // 10⁵-deep chain
    b.minimize(objective);
    const inst = b.build();
    expect(inst.constraints).toHaveLength(n);
    expect(inst.constraints[n - 1]!.function).toEqual(
      lin(
        [
          [6, 3],
          [0, 2],
          [n - 1, 1],
        ].sort((a, b) => a[0]! - b[0]!) as [number, number][],
        -6
      )
    );
    expect(inst.objective.kind === 'linear' && inst.objective.terms.length).toBe(n);
  });
});
