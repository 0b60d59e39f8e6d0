import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_ATOL, evaluateInstance, evaluateSamples } from '../../src/ommx/evaluate.js';
import type {
  ConstraintData,
  DecisionVariableData,
  FunctionData,
  InstanceData,
  SolutionData,
  State,
  VariableKind,
} from '../../src/ommx/types.js';
import { expectError } from '../helpers/expect-code.js';

const lin = (terms: [number, number][], constant = 0): FunctionData => ({
  kind: 'linear',
  terms: terms.map(([id, coefficient]) => ({ id, coefficient })),
  constant,
});
const state = (entries: Record<number, number>): State =>
  new Map(Object.entries(entries).map(([k, v]) => [Number(k), v]));
const dv = (
  id: number,
  kind: VariableKind,
  extra: Partial<DecisionVariableData> = {}
): DecisionVariableData => ({ id, kind, subscripts: [], parameters: {}, ...extra });
const constraint = (
  id: number,
  f: FunctionData,
  equality: ConstraintData['equality'] = 'less-than-or-equal-to-zero',
  extra: Partial<ConstraintData> = {}
): ConstraintData => ({
  id,
  equality,
  function: f,
  subscripts: [],
  parameters: {},
  provenance: [],
  ...extra,
});
const instance = (data: Partial<InstanceData>): InstanceData => ({
  decisionVariables: [],
  objective: { kind: 'constant', constant: 0 },
  constraints: [],
  removedConstraints: [],
  sense: 'minimize',
  decisionVariableDependency: new Map(),
  namedFunctions: [],
  annotations: {},
  ...data,
});

/** max 3x0 + 4x1 + 5x2  s.t.  2x0 + 3x1 + 4x2 ≤ 5, x binary. */
const knapsack = instance({
  description: { name: 'knapsack', authors: [] },
  decisionVariables: [0, 1, 2].map((i) =>
    dv(i, 'binary', { bound: { lower: 0, upper: 1 }, name: 'x', subscripts: [i] })
  ),
  objective: lin([
    [0, 3],
    [1, 4],
    [2, 5],
  ]),
  constraints: [
    constraint(
      0,
      lin(
        [
          [0, 2],
          [1, 3],
          [2, 4],
        ],
        -5
      ),
      'less-than-or-equal-to-zero',
      { name: 'capacity', parameters: { unit: 'kg' } }
    ),
  ],
  sense: 'maximize',
});

describe('evaluateInstance', () => {
  it('evaluates a knapsack at a feasible and an infeasible point', () => {
    const s = evaluateInstance(knapsack, state({ 0: 1, 1: 1, 2: 0 }), {});
    expect(s.objective).toBe(7);
    expect(s.feasible).toBe(true);
    expect(s.feasibleRelaxed).toBe(true);
    expect(s.sense).toBe('maximize');
    expect(s.optimality).toBe('unspecified');
    expect(s.relaxation).toBe('unrelaxed');
    expect(s.feasibilityAtol).toBe(DEFAULT_ATOL);
    expect(s.annotations).toEqual({});
    expect(s.constraints).toEqual([
      {
        id: 0,
        equality: 'less-than-or-equal-to-zero',
        evaluatedValue: 0,
        feasible: true,
        usedDecisionVariableIds: [0, 1, 2],
        name: 'capacity',
        subscripts: [],
        parameters: { unit: 'kg' },
        removedReasonParameters: {},
        provenance: [],
      },
    ]);
    expect(s.decisionVariables[1]).toEqual({
      id: 1,
      kind: 'binary',
      bound: { lower: 0, upper: 1 },
      name: 'x',
      subscripts: [1],
      parameters: {},
      value: 1,
    });
    expect('metadata' in s).toBe(false);

    const bad = evaluateInstance(knapsack, state({ 0: 1, 1: 1, 2: 1 }), {});
    expect(bad.objective).toBe(12);
    expect(bad.constraints[0]!.evaluatedValue).toBe(4);
    expect(bad.constraints[0]!.feasible).toBe(false);
    expect(bad.feasible).toBe(false);
    expect(bad.feasibleRelaxed).toBe(false);
  });

  it('judges feasibility strictly below atol, as OMMX does', () => {
    const inst = instance({
      decisionVariables: [dv(0, 'continuous'), dv(1, 'continuous')],
      constraints: [constraint(0, lin([[0, 1]]), 'equal-to-zero'), constraint(1, lin([[1, 1]]))],
    });
    const at = (x0: number, x1: number, atol?: number): boolean[] =>
      evaluateInstance(
        inst,
        state({ 0: x0, 1: x1 }),
        atol === undefined ? {} : { atol }
      ).constraints.map((c) => c.feasible);
    expect(at(0, 0)).toEqual([true, true]);
    expect(at(9e-7, 9e-7)).toEqual([true, true]);
    expect(at(-9e-7, -5)).toEqual([true, true]);
    expect(at(1e-6, 1e-6)).toEqual([false, false]);
    expect(at(-1e-6, -1e-6)).toEqual([false, true]);
    expect(at(1e-3, 1e-3, 1e-2)).toEqual([true, true]);
    expect(evaluateInstance(inst, state({ 0: 0, 1: 0 }), { atol: 1e-3 }).feasibilityAtol).toBe(
      1e-3
    );
  });

  it('evaluates removed constraints: feasible covers them, feasibleRelaxed does not', () => {
    const inst = instance({
      decisionVariables: [dv(0, 'continuous'), dv(1, 'continuous'), dv(2, 'continuous')],
      objective: lin([[0, 1]]),
      constraints: [constraint(3, lin([[0, 1]], -10))],
      removedConstraints: [
        {
          constraint: constraint(1, lin([[1, 1]], -1), 'equal-to-zero', { name: 'gone' }),
          reason: 'presolve',
          reasonParameters: { pass: '2' },
        },
      ],
    });
    const s = evaluateInstance(inst, state({ 0: 1, 1: 5 }), {});
    expect(s.constraints.map((c) => c.id)).toEqual([1, 3]);
    const removed = s.constraints[0]!;
    expect(removed.removedReason).toBe('presolve');
    expect(removed.removedReasonParameters).toEqual({ pass: '2' });
    expect(removed.evaluatedValue).toBe(4);
    expect(removed.feasible).toBe(false);
    expect('removedReason' in s.constraints[1]!).toBe(false);
    expect(s.feasible).toBe(false);
    expect(s.feasibleRelaxed).toBe(true);
    // A variable only in a removed constraint is not "used": it may be left out (default 0).
    const t = evaluateInstance(inst, state({ 0: 1 }), {});
    expect(t.constraints[0]!.evaluatedValue).toBe(-1);
    expect(t.decisionVariables.map((v) => v.value)).toEqual([1, 0, 0]);
  });

  it('fills fixed, dependent and irrelevant variables as OMMX populate_state does', () => {
    const inst = instance({
      decisionVariables: [
        dv(0, 'continuous'),
        dv(1, 'integer', { bound: { lower: 0, upper: 10 } }),
        dv(2, 'continuous', { substitutedValue: 7 }),
        dv(3, 'continuous'), // 3 = x0 + 2·x1
        dv(4, 'continuous'), // 4 = 2·x3 + x2 (depends on another dependent)
        dv(5, 'continuous', { bound: { lower: 2, upper: 5 } }),
        dv(6, 'integer', { bound: { lower: -5.5, upper: -1.5 } }),
        dv(7, 'semi-continuous', { bound: { lower: 2, upper: 5 } }),
        dv(8, 'binary'),
        dv(9, 'continuous'),
      ],
      objective: lin([
        [0, 1],
        [1, 1],
      ]),
      decisionVariableDependency: new Map<number, FunctionData>([
        [
          4,
          lin([
            [3, 2],
            [2, 1],
          ]),
        ],
        [
          3,
          lin([
            [0, 1],
            [1, 2],
          ]),
        ],
      ]),
      namedFunctions: [
        {
          id: 0,
          function: lin([
            [4, 1],
            [5, 1],
            [6, 1],
          ]),
          subscripts: [],
          parameters: {},
          name: 'probe',
        },
      ],
    });
    const s = evaluateInstance(inst, state({ 0: 1, 1: 2 }), {});
    const values = Object.fromEntries(s.decisionVariables.map((v) => [v.id, v.value]));
    expect(values).toEqual({ 0: 1, 1: 2, 2: 7, 3: 5, 4: 17, 5: 2, 6: -2, 7: 0, 8: 0, 9: 0 });
    expect(s.namedFunctions).toEqual([
      {
        id: 0,
        name: 'probe',
        subscripts: [],
        parameters: {},
        evaluatedValue: 17,
        usedDecisionVariableIds: [4, 5, 6],
      },
    ]);
    // Consistent values for fixed and dependent variables are accepted…
    expect(() =>
      evaluateInstance(inst, state({ 0: 1, 1: 2, 2: 7 + 5e-7, 3: 5 }), {})
    ).not.toThrow();
    // … inconsistent ones are not.
    expect(
      expectError(() => evaluateInstance(inst, state({ 0: 1, 1: 2, 2: 8 }), {}), 'ARGUMENT_INVALID')
        .message
    ).toContain('fixed value 7');
    expect(
      expectError(() => evaluateInstance(inst, state({ 0: 1, 1: 2, 3: 6 }), {}), 'ARGUMENT_INVALID')
        .data
    ).toMatchObject({ id: 3, dependencyValue: 5 });
  });

  it('accepts a fixed or dependent variable used in the objective without a state value', () => {
    // OMMX forbids this shape at construction; runledger reads data it did not build, so it
    // fills such variables instead of reporting them missing.
    const inst = instance({
      decisionVariables: [dv(0, 'continuous', { substitutedValue: 3 }), dv(1, 'continuous')],
      objective: lin([
        [0, 1],
        [1, 1],
      ]),
      decisionVariableDependency: new Map([[1, lin([[0, 2]])]]),
    });
    expect(evaluateInstance(inst, new Map(), {}).objective).toBe(9);
  });

  it('rejects a cyclic dependency', () => {
    const inst = instance({
      decisionVariables: [dv(0, 'continuous'), dv(1, 'continuous')],
      decisionVariableDependency: new Map([
        [0, lin([[1, 1]])],
        [1, lin([[0, 1]])],
      ]),
    });
    expectError(() => evaluateInstance(inst, new Map(), {}), 'ARGUMENT_INVALID');
  });

  it('rejects unknown ids, missing used ids, non-finite values and a bad atol', () => {
    const unknown = expectError(
      () => evaluateInstance(knapsack, state({ 0: 1, 1: 1, 2: 0, 7: 1, 5: 1 }), {}),
      'ARGUMENT_INVALID'
    );
    expect(unknown.data['ids']).toEqual([5, 7]);
    expect(unknown.message).toContain('5, 7');
    const missing = expectError(
      () => evaluateInstance(knapsack, state({ 1: 1 }), {}),
      'ARGUMENT_INVALID'
    );
    expect(missing.data['ids']).toEqual([0, 2]);
    expect(missing.message).toContain('0, 2');
    expectError(
      () => evaluateInstance(knapsack, state({ 0: 1, 1: Number.NaN, 2: 0 }), {}),
      'ARGUMENT_INVALID'
    );
    expectError(
      () => evaluateInstance(knapsack, state({ 0: 1, 1: Infinity, 2: 0 }), {}),
      'ARGUMENT_INVALID'
    );
    for (const atol of [0, -1, Number.NaN]) {
      expectError(
        () => evaluateInstance(knapsack, state({ 0: 1, 1: 1, 2: 0 }), { atol }),
        'ARGUMENT_INVALID'
      );
    }
  });

  it('rejects malformed instances: duplicate constraint ids, unspecified equality, unknown variables', () => {
    expectError(
      () =>
        evaluateInstance(
          instance({
            constraints: [constraint(0, lin([], -1))],
            removedConstraints: [
              { constraint: constraint(0, lin([], -1)), reason: 'x', reasonParameters: {} },
            ],
          }),
          new Map(),
          {}
        ),
      'ARGUMENT_INVALID'
    );
    expectError(
      () =>
        evaluateInstance(
          instance({ constraints: [constraint(0, lin([], -1), 'unspecified')] }),
          new Map(),
          {}
        ),
      'ARGUMENT_INVALID'
    );
    const e = expectError(
      () => evaluateInstance(instance({ objective: lin([[4, 1]]) }), new Map(), {}),
      'ARGUMENT_INVALID'
    );
    expect(e.message).toContain('not a decision variable');
  });

  it('requires variables to respect kind and bound for Solution.feasible (OMMX Solution::feasible)', () => {
    const half = evaluateInstance(knapsack, state({ 0: 0.5, 1: 0, 2: 0 }), {});
    expect(half.constraints[0]!.feasible).toBe(true);
    expect(half.feasible).toBe(false);
    expect(half.feasibleRelaxed).toBe(false);
    // Within atol of an integer and of the bound is fine.
    expect(evaluateInstance(knapsack, state({ 0: 1 + 5e-7, 1: -5e-7, 2: 0 }), {}).feasible).toBe(
      true
    );
    expect(evaluateInstance(knapsack, state({ 0: 2, 1: 0, 2: 0 }), {}).feasible).toBe(false);

    const semi = instance({
      decisionVariables: [
        dv(0, 'semi-continuous', { bound: { lower: 2, upper: 5 } }),
        dv(1, 'semi-integer', { bound: { lower: 2, upper: 5 } }),
      ],
      objective: lin([
        [0, 1],
        [1, 1],
      ]),
    });
    expect(evaluateInstance(semi, state({ 0: 0, 1: 0 }), {}).feasible).toBe(true);
    expect(evaluateInstance(semi, state({ 0: 3.5, 1: 3 }), {}).feasible).toBe(true);
    expect(evaluateInstance(semi, state({ 0: 1, 1: 0 }), {}).feasible).toBe(false);
    expect(evaluateInstance(semi, state({ 0: 0, 1: 3.5 }), {}).feasible).toBe(false);
  });

  it('gives the same answer with sparse huge ids (Map fallback) as with dense ones', () => {
    const make = (ids: number[]): InstanceData =>
      instance({
        decisionVariables: ids.map((id) => dv(id, 'continuous')),
        objective: lin([
          [ids[0]!, 2],
          [ids[1]!, 3],
        ]),
        constraints: [constraint(0, lin([[ids[1]!, 1]], -1))],
      });
    const dense = evaluateInstance(make([0, 1]), state({ 0: 1, 1: 2 }), {});
    const big = 2 ** 50;
    const sparse = evaluateInstance(
      make([0, big]),
      new Map([
        [0, 1],
        [big, 2],
      ]),
      {}
    );
    expect(sparse.objective).toBe(dense.objective);
    expect(sparse.constraints[0]!.evaluatedValue).toBe(dense.constraints[0]!.evaluatedValue);
    expect(sparse.decisionVariables.map((v) => v.id)).toEqual([0, big]);
    expectError(
      () =>
        evaluateInstance(
          make([0, big]),
          new Map([
            [0, 1],
            [big, 2],
            [3, 1],
          ]),
          {}
        ),
      'ARGUMENT_INVALID'
    );
  });

  it('evaluates a 100,000 × 100,000 sparse LP (3 nonzeros a row)', () => {
    const n = 100_000;
    const decisionVariables = Array.from({ length: n }, (_, i) =>
      dv(i, 'continuous', { bound: { lower: 0, upper: 10 } })
    );
    const constraints = Array.from({ length: n }, (_, i) => {
      const ids = [i, (i + 1) % n, (i + 7) % n].sort((a, b) => a - b);
      return constraint(
        i,
        lin(
          ids.map((id, k) => [id, k + 1]),
          -6
        )
      );
    });
    const inst = instance({
      decisionVariables,
      constraints,
      objective: lin(decisionVariables.map((v) => [v.id, 1])),
    });
    const s = new Map<number, number>();
    for (let i = 0; i < n; i++) s.set(i, 1);
    // Speed is measured by `npm run bench` (Instance.evaluate), never asserted here.
    const sol: SolutionData = evaluateInstance(inst, s, {});
    expect(sol.objective).toBe(n);
    expect(sol.feasible).toBe(true);
    expect(sol.constraints).toHaveLength(n);
  });
});

describe('evaluateSamples', () => {
  it('evaluates each sample, ids ascending', () => {
    const set = evaluateSamples(
      knapsack,
      new Map([
        [5, state({ 0: 1, 1: 1, 2: 1 })],
        [2, state({ 0: 1, 1: 1, 2: 0 })],
      ]),
      { atol: 1e-9 }
    );
    expect([...set.objectives]).toEqual([
      [2, 7],
      [5, 12],
    ]);
    expect([...set.feasible]).toEqual([
      [2, true],
      [5, false],
    ]);
    expect([...set.feasibleRelaxed]).toEqual([
      [2, true],
      [5, false],
    ]);
    expect(set.feasibilityAtol).toBe(1e-9);
    expect(set.sense).toBe('maximize');
    const c = set.constraints[0]!;
    expect([...c.evaluatedValues]).toEqual([
      [2, 0],
      [5, 4],
    ]);
    expect([...c.feasible]).toEqual([
      [2, true],
      [5, false],
    ]);
    expect(c.name).toBe('capacity');
    expect([...set.decisionVariables[2]!.samples]).toEqual([
      [2, 0],
      [5, 1],
    ]);
  });

  it('judges a sample by its constraints only (OMMX SampleSet::compute_feasibility)', () => {
    const set = evaluateSamples(knapsack, new Map([[0, state({ 0: 0.5, 1: 0, 2: 0 })]]), {});
    expect(set.feasible.get(0)).toBe(true);
  });

  it('names the sample in errors, and rejects bad sample ids', () => {
    const e = expectError(
      () =>
        evaluateSamples(
          knapsack,
          new Map([
            [0, state({ 0: 1, 1: 1, 2: 1 })],
            [3, state({ 0: 1 })],
          ]),
          {}
        ),
      'ARGUMENT_INVALID'
    );
    expect(e.message).toMatch(/^Sample 3: /);
    expect(e.data['sampleId']).toBe(3);
    expectError(
      () => evaluateSamples(knapsack, new Map([[-1, state({ 0: 1, 1: 1, 2: 1 })]]), {}),
      'ARGUMENT_INVALID'
    );
  });

  it('gives no samples for no states', () => {
    const set = evaluateSamples(knapsack, new Map(), {});
    expect(set.objectives.size).toBe(0);
    expect(set.decisionVariables).toHaveLength(3);
    expect(set.decisionVariables[0]!.samples.size).toBe(0);
  });

  /** A random instance over continuous and binary variables, with linear and quadratic rows. */
  const arbInstance = fc
    .record({
      kinds: fc.array(fc.constantFrom<VariableKind>('continuous', 'binary', 'integer'), {
        minLength: 1,
        maxLength: 6,
      }),
      rows: fc.array(
        fc.record({
          terms: fc.array(
            fc.record({
              ids: fc.array(fc.nat(), { minLength: 0, maxLength: 2 }),
              coefficient: fc.integer({ min: -4, max: 4 }),
            }),
            { maxLength: 5 }
          ),
          eq: fc.boolean(),
          removed: fc.boolean(),
        }),
        { maxLength: 5 }
      ),
    })
    .map(({ kinds, rows }): InstanceData => {
      const n = kinds.length;
      const fn = (terms: { ids: number[]; coefficient: number }[]): FunctionData => ({
        kind: 'polynomial',
        terms: terms.map((t) => ({ ids: t.ids.map((id) => id % n), coefficient: t.coefficient })),
      });
      const all = rows.map((r, i) =>
        constraint(i, fn(r.terms), r.eq ? 'equal-to-zero' : 'less-than-or-equal-to-zero')
      );
      return instance({
        decisionVariables: kinds.map((k, i) =>
          dv(i, k, k === 'binary' ? { bound: { lower: 0, upper: 1 } } : {})
        ),
        objective: fn(rows.flatMap((r) => r.terms)),
        constraints: all.filter((_, i) => !rows[i]!.removed),
        removedConstraints: all
          .filter((_, i) => rows[i]!.removed)
          .map((c) => ({ constraint: c, reason: 'test', reasonParameters: {} })),
      });
    });

  it('agrees with evaluateInstance sample by sample', () => {
    fc.assert(
      fc.property(
        arbInstance.chain((inst) =>
          fc.tuple(
            fc.constant(inst),
            fc.uniqueArray(fc.nat({ max: 50 }), { maxLength: 4 }).chain((ids) =>
              fc.tuple(
                fc.constant(ids),
                fc.array(
                  fc.array(fc.integer({ min: -2, max: 2 }), {
                    minLength: inst.decisionVariables.length,
                    maxLength: inst.decisionVariables.length,
                  }),
                  { minLength: ids.length, maxLength: ids.length }
                )
              )
            )
          )
        ),
        ([inst, [ids, points]]) => {
          const samples = new Map(
            ids.map((id, k) => [id, new Map(points[k]!.map((v, i) => [i, v] as const))])
          );
          const set = evaluateSamples(inst, samples, {});
          expect([...set.objectives.keys()]).toEqual([...ids].sort((a, b) => a - b));
          for (const [id, s] of samples) {
            const sol: SolutionData = evaluateInstance(inst, s, {});
            expect(set.objectives.get(id)).toBe(sol.objective);
            expect(set.constraints.map((c) => c.id)).toEqual(sol.constraints.map((c) => c.id));
            set.constraints.forEach((c, k) => {
              const e = sol.constraints[k]!;
              expect(c.evaluatedValues.get(id)).toBe(e.evaluatedValue);
              expect(c.feasible.get(id)).toBe(e.feasible);
              expect(c.usedDecisionVariableIds).toEqual(e.usedDecisionVariableIds);
              expect(c.removedReason).toBe(e.removedReason);
            });
            set.decisionVariables.forEach((v, i) => {
              expect(v.samples.get(id)).toBe(sol.decisionVariables[i]!.value);
            });
            // Same constraint verdicts; the Solution also asks variables to fit kind and bound.
            expect(set.feasible.get(id)).toBe(sol.constraints.every((c) => c.feasible));
            expect(set.feasibleRelaxed.get(id)).toBe(
              sol.constraints.every((c) => c.feasible || c.removedReason !== undefined)
            );
            expect(sol.feasible).toBe(
              set.feasible.get(id)! &&
                sol.decisionVariables.every(
                  (v) => v.kind !== 'binary' || v.value === 0 || v.value === 1
                )
            );
          }
        }
      )
    );
  });
});
