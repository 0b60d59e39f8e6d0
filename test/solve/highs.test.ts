/**
 * The HiGHS adapter against the real `highs` package (WebAssembly, installed as a dev
 * dependency). Instances are written out as plain data so these tests do not depend on the
 * builder. Known optima are worked out in the comments.
 */
import highsEntry, { type Highs } from 'highs';
import { describe, expect, it, vi } from 'vitest';
import { RunledgerError } from '../../src/errors.js';
import { Instance } from '../../src/ommx/instance.js';
import { Solution } from '../../src/ommx/solution.js';
import type {
  ConstraintData,
  DecisionVariableData,
  FunctionData,
  InstanceData,
  Monomial,
  RemovedConstraintData,
  Sense,
} from '../../src/ommx/types.js';
import {
  HighsAdapter,
  type HighsOptions,
  type HighsRawOutput,
} from '../../src/solve/adapters/highs.js';
import { expectCode } from '../helpers/expect-code.js';

// `highs` types its entry as CommonJS; vitest loads the ES build, whose default is the loader.
const loadHighs = highsEntry as unknown as () => Promise<Highs>;

// ---------------------------------------------------------------------------------------------
// Plain-data builders

const NO_LABEL = { subscripts: [], parameters: {} } as const;

function variable(
  id: number,
  kind: DecisionVariableData['kind'],
  bound?: [number, number],
  extra: Partial<DecisionVariableData> = {}
): DecisionVariableData {
  return {
    ...NO_LABEL,
    id,
    kind,
    ...(bound ? { bound: { lower: bound[0], upper: bound[1] } } : {}),
    ...extra,
  };
}

function linear(terms: Record<number, number>, constant = 0): FunctionData {
  return {
    kind: 'linear',
    terms: Object.entries(terms).map(([id, coefficient]) => ({ id: Number(id), coefficient })),
    constant,
  };
}

function polynomial(terms: [number[], number][]): FunctionData {
  return {
    kind: 'polynomial',
    terms: terms.map(([ids, coefficient]): Monomial => ({ ids, coefficient })),
  };
}

/** `f(x) ≤ 0`. */
function le(id: number, fn: FunctionData): ConstraintData {
  return { ...NO_LABEL, id, equality: 'less-than-or-equal-to-zero', function: fn, provenance: [] };
}

/** `f(x) = 0`. */
function eq(id: number, fn: FunctionData): ConstraintData {
  return { ...NO_LABEL, id, equality: 'equal-to-zero', function: fn, provenance: [] };
}

function instance(parts: {
  variables: DecisionVariableData[];
  objective: FunctionData;
  constraints?: ConstraintData[];
  removed?: RemovedConstraintData[];
  sense: Sense;
  dependency?: Map<number, FunctionData>;
  name?: string;
}): Instance {
  const data: InstanceData = {
    ...(parts.name !== undefined ? { description: { name: parts.name, authors: [] } } : {}),
    decisionVariables: parts.variables,
    objective: parts.objective,
    constraints: parts.constraints ?? [],
    removedConstraints: parts.removed ?? [],
    sense: parts.sense,
    decisionVariableDependency: parts.dependency ?? new Map(),
    namedFunctions: [],
    annotations: {},
  };
  return new Instance(data);
}

// ---------------------------------------------------------------------------------------------
// Instances with known optima

/**
 * max 3x + 2y s.t. x + y ≤ 4, x + 3y ≤ 6, x, y ≥ 0 → 12 at (4, 0). Sparse ids: x = 3, y = 10;
 * constraints 2 and 7. Row duals: the first row binds (shadow price 3), the second does not.
 */
function smallLp(): Instance {
  return instance({
    variables: [
      variable(3, 'continuous', [0, Infinity]),
      variable(10, 'continuous', [0, Infinity]),
    ],
    objective: linear({ 3: 3, 10: 2 }),
    constraints: [le(2, linear({ 3: 1, 10: 1 }, -4)), le(7, linear({ 3: 1, 10: 3 }, -6))],
    sense: 'maximize',
  });
}

/**
 * OMMX's knapsack doctest (ommx_highs_adapter): profits [10, 13, 18, 32, 7, 15], weights
 * [11, 15, 20, 35, 10, 33], capacity 47 → 42 taking items 0 and 3 (weight 46).
 */
function knapsack(): Instance {
  const p = [10, 13, 18, 32, 7, 15];
  const w = [11, 15, 20, 35, 10, 33];
  return instance({
    variables: p.map((_, i) => variable(i, 'binary')),
    objective: linear(Object.fromEntries(p.map((v, i) => [i, v]))),
    constraints: [le(0, linear(Object.fromEntries(w.map((v, i) => [i, v])), -47))],
    sense: 'maximize',
  });
}

/**
 * A 25-item, 5-constraint multidimensional knapsack from a fixed LCG: too big for HiGHS to
 * prove optimal within a millisecond.
 */
function hardMip(): Instance {
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const n = 25;
  const profit = Array.from({ length: n }, () => 10 + Math.floor(rnd() * 90));
  const constraints = Array.from({ length: 5 }, (_, k) => {
    const weights = Array.from({ length: n }, () => 5 + Math.floor(rnd() * 60));
    const capacity = Math.floor(weights.reduce((a, b) => a + b, 0) / 3);
    return le(k, linear(Object.fromEntries(weights.map((v, i) => [i, v])), -capacity));
  });
  return instance({
    variables: profit.map((_, i) => variable(i, 'integer', [0, 3])),
    objective: linear(Object.fromEntries(profit.map((v, i) => [i, v]))),
    constraints,
    sense: 'maximize',
  });
}

function expectClose(actual: number, expected: number, tolerance = 1e-6): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

// ---------------------------------------------------------------------------------------------

describe('HighsAdapter: LP and MIP', () => {
  it('has the OMMX-style adapter name', () => {
    expect(HighsAdapter.name).toBe('runledger.adapters.highs.HighsAdapter');
  });

  it('solves a small LP to its known optimum, with row duals and metadata', async () => {
    const options: HighsOptions = { timeLimit: 10, presolve: true };
    const solution = await HighsAdapter.solve(smallLp(), options);
    expect(solution.objective).toBe(12);
    expect(solution.optimality).toBe('optimal');
    expect(solution.feasible).toBe(true);
    expect(solution.sense).toBe('maximize');
    expect([...solution.state]).toEqual([
      [3, 4],
      [10, 0],
    ]);
    expect(solution.constraints.map((c) => [c.id, c.dualVariable])).toEqual([
      [2, 3],
      [7, 0],
    ]);

    const metadata = solution.metadata!;
    expect(JSON.parse(metadata.solver!)).toEqual({ name: 'highs', version: '1.15.3' });
    expect(JSON.parse(metadata.parameters!)).toEqual(options);
    const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
    expect(metadata.start).toMatch(rfc3339);
    expect(metadata.end).toMatch(rfc3339);
    expect(Date.parse(metadata.end!)).toBeGreaterThanOrEqual(Date.parse(metadata.start!));
  });

  it('gives a Solution that survives an OMMX encode/decode round trip', async () => {
    const solution = await HighsAdapter.solve(smallLp(), { timeLimit: 5 });
    const again = Solution.decode(solution.encode());
    expect(again.objective).toBe(12);
    expect(again.optimality).toBe('optimal');
    expect(again.metadata).toEqual(solution.metadata);
    expect(again.constraints.map((c) => c.dualVariable)).toEqual([3, 0]);
  });

  it('minimizes when the sense is unspecified (OMMX reads it as minimize)', async () => {
    // min x + y s.t. x + y ≥ 1 (as 1 − x − y ≤ 0), x, y ∈ [0, 5] → 1.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous', [0, 5]), variable(1, 'continuous', [0, 5])],
        objective: linear({ 0: 1, 1: 1 }),
        constraints: [le(0, linear({ 0: -1, 1: -1 }, 1))],
        sense: 'unspecified',
      }),
      {}
    );
    expectClose(solution.objective, 1);
  });

  it('turns equality constraints into fixed rows', async () => {
    // min x − y s.t. x + y − 3 = 0, x, y ∈ [0, 10] → −3 at (0, 3).
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous', [0, 10]), variable(1, 'continuous', [0, 10])],
        objective: linear({ 0: 1, 1: -1 }),
        constraints: [eq(0, linear({ 0: 1, 1: 1 }, -3))],
        sense: 'minimize',
      }),
      {}
    );
    expect(solution.objective).toBe(-3);
    expect([...solution.state]).toEqual([
      [0, 0],
      [1, 3],
    ]);
  });

  it('solves the knapsack MIP exactly, with integral values', async () => {
    const solution = await HighsAdapter.solve(knapsack(), {});
    expect(solution.objective).toBe(42);
    expect(solution.optimality).toBe('optimal');
    expect(solution.feasible).toBe(true);
    expect([...solution.state.values()]).toEqual([1, 0, 0, 1, 0, 0]);
    // MIP: HiGHS has no duals.
    expect(solution.constraints[0]!.dualVariable).toBeUndefined();
  });

  it('sums repeated ids within a function', async () => {
    // max x s.t. x + x ≤ 3 written with two terms for x → x = 1.5.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous', [0, 10])],
        objective: polynomial([
          [[0], 0.5],
          [[0], 0.5],
        ]),
        constraints: [
          le(0, {
            kind: 'linear',
            terms: [
              { id: 0, coefficient: 1 },
              { id: 0, coefficient: 1 },
            ],
            constant: -3,
          }),
        ],
        sense: 'maximize',
      }),
      {}
    );
    expect(solution.state.get(0)).toBe(1.5);
    expect(solution.objective).toBe(1.5);
  });

  it('keeps unused variables, intersects binary bounds, fixes substituted variables', async () => {
    // max a + b + c with a binary bounded [0, 5] (→ [0, 1]), b integer fixed at 2, c unused
    // and bounded [1, 4] (its value is any point of its bound), d dependent: d = a + b.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [
          variable(0, 'binary', [0, 5]),
          variable(1, 'integer', [0, 10], { substitutedValue: 2 }),
          variable(2, 'continuous', [1, 4]),
          variable(3, 'continuous'),
        ],
        objective: linear({ 0: 1, 1: 1 }),
        sense: 'maximize',
        dependency: new Map([[3, linear({ 0: 1, 1: 1 })]]),
      }),
      {}
    );
    expect(solution.objective).toBe(3);
    const state = solution.state;
    expect(state.get(0)).toBe(1);
    expect(state.get(1)).toBe(2);
    expect(state.get(2)).toBeGreaterThanOrEqual(1);
    expect(state.get(2)).toBeLessThanOrEqual(4);
    expect(state.get(3)).toBe(3);
    expect(solution.feasible).toBe(true);
  });

  it('solves semi-continuous variables as HiGHS does (0 or within the bound)', async () => {
    // min x, x semi-continuous in [2, 5], x ≥ 0.5 → x = 2.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'semi-continuous', [2, 5])],
        objective: linear({ 0: 1 }),
        constraints: [le(0, linear({ 0: -1 }, 0.5))],
        sense: 'minimize',
      }),
      {}
    );
    expect(solution.state.get(0)).toBe(2);
  });

  it('does not give removed constraints to HiGHS', async () => {
    // max x, x ∈ [0, 10]; removed: x ≤ 1. HiGHS sees no rows → x = 10, the removed one fails.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous', [0, 10])],
        objective: linear({ 0: 1 }),
        removed: [
          {
            constraint: le(4, linear({ 0: 1 }, -1)),
            reason: 'test',
            reasonParameters: {},
          },
        ],
        sense: 'maximize',
      }),
      {}
    );
    expect(solution.objective).toBe(10);
    expect(solution.feasibleRelaxed).toBe(true);
    expect(solution.feasible).toBe(false);
    expect(solution.constraints[0]!.removedReason).toBe('test');
    expect(solution.constraints[0]!.dualVariable).toBeUndefined();
  });

  it('solves an instance without variables (HiGHS status Empty)', async () => {
    const solution = await HighsAdapter.solve(
      instance({
        variables: [],
        objective: { kind: 'constant', constant: 5 },
        constraints: [le(0, { kind: 'constant', constant: -1 })],
        sense: 'minimize',
      }),
      {}
    );
    expect(solution.objective).toBe(5);
    expect(solution.optimality).toBe('optimal');
    expect(solution.feasible).toBe(true);
  });
});

describe('HighsAdapter: infeasible and unbounded', () => {
  it('reports an infeasible MIP as SOLVER_INFEASIBLE', async () => {
    // OMMX's doctest: x integer in [0, 3], x ≥ 4.
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'integer', [0, 3])],
          objective: linear({ 0: 1 }),
          constraints: [le(0, linear({ 0: -1 }, 4))],
          sense: 'maximize',
          name: 'doctest',
        }),
        {}
      ),
      'SOLVER_INFEASIBLE'
    );
    expect(e.message).toBe('HiGHS proved the instance "doctest" infeasible.');
    expect(e.data['status']).toBe('Infeasible');
  });

  it('reports an infeasible LP as SOLVER_INFEASIBLE, with presolve on and off', async () => {
    const lp = (): Instance =>
      instance({
        variables: [variable(0, 'continuous', [0, 3]), variable(1, 'continuous', [0, 3])],
        objective: linear({ 0: 1 }),
        constraints: [eq(0, linear({ 0: 1, 1: 1 }, -7))],
        sense: 'minimize',
      });
    await expectCode(HighsAdapter.solve(lp(), {}), 'SOLVER_INFEASIBLE');
    await expectCode(HighsAdapter.solve(lp(), { presolve: false }), 'SOLVER_INFEASIBLE');
  });

  it('reports a violated constraint without variables as SOLVER_INFEASIBLE', async () => {
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [],
          objective: { kind: 'constant', constant: 0 },
          constraints: [eq(9, { kind: 'constant', constant: 2 })],
          sense: 'minimize',
        }),
        {}
      ),
      'SOLVER_INFEASIBLE'
    );
    expect(e.data['constraintId']).toBe(9);
  });

  it('reports an unbounded LP as SOLVER_UNBOUNDED', async () => {
    // max x + y s.t. x − y ≤ 1, x, y ≥ 0: y (and x with it) grows without limit.
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous', [0, Infinity]), variable(1, 'continuous')],
          objective: linear({ 0: 1, 1: 1 }),
          constraints: [le(0, linear({ 0: 1, 1: -1 }, -1))],
          sense: 'maximize',
        }),
        {}
      ),
      'SOLVER_UNBOUNDED'
    );
    expect(e.data['status']).toBe('Unbounded');
  });

  it('settles "infeasible or unbounded" from presolve by solving again without it', async () => {
    // The integer version: HiGHS's MIP presolve reports "Primal infeasible or unbounded";
    // without presolve it proves the model unbounded.
    const records: Record<string, unknown>[] = [];
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'integer', [0, Infinity]), variable(1, 'integer', [0, Infinity])],
          objective: linear({ 0: 1, 1: 1 }),
          constraints: [le(0, linear({ 0: 1, 1: -1 }, -1))],
          sense: 'maximize',
        }),
        {},
        { diagnostics: { record: (r) => void records.push({ ...r }) } }
      ),
      'SOLVER_UNBOUNDED'
    );
    expect(e.data['status']).toBe('Unbounded');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      kind: 'highs.termination',
      status: 'Unbounded',
      presolveRetried: true,
    });
  });

  it('maps "infeasible or unbounded" in decode to SOLVER_UNBOUNDED, saying so', async () => {
    const prepared = await HighsAdapter.prepare(smallLp(), {});
    const output: HighsRawOutput = {
      getModelStatus: () => 9,
      getSolution: () => ({}),
      info: { get: () => 0 },
    };
    const e = await expectCode(async () => prepared.decode(output), 'SOLVER_UNBOUNDED');
    expect(e.data['status']).toBe('Primal infeasible or unbounded');
    expect(e.message).toContain('could not tell whether it is infeasible or unbounded');
  });

  it('maps a status without a feasible solution to SOLVER_FAILED', async () => {
    const prepared = await HighsAdapter.prepare(smallLp(), {});
    for (const [status, primal] of [
      [13, 0], // time limit, no solution
      [14, 1], // iteration limit, infeasible point
      [4, 0], // solve error
    ] as const) {
      const output: HighsRawOutput = {
        getModelStatus: () => status,
        getSolution: () => ({ colValue: [1, 1], rowDual: [0, 0] }),
        info: { get: (name) => (name === 'primal_solution_status' ? primal : 0) },
      };
      const e = await expectCode(async () => prepared.decode(output), 'SOLVER_FAILED');
      expect(e.data['modelStatus']).toBe(status);
    }
  });
});

describe('HighsAdapter: quadratic objectives', () => {
  it('solves a continuous QP to its known optimum', async () => {
    // min (x − 1)² + (y − 2)² = x² + y² − 2x − 4y + 5 s.t. x + y ≤ 2: the projection of (1, 2)
    // on the half-plane, (0.5, 1.5), objective 0.5.
    const solution = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous'), variable(1, 'continuous')],
        objective: {
          kind: 'quadratic',
          rows: [0, 1],
          columns: [0, 1],
          values: [1, 1],
          linear: {
            terms: [
              { id: 0, coefficient: -2 },
              { id: 1, coefficient: -4 },
            ],
            constant: 5,
          },
        },
        constraints: [le(0, linear({ 0: 1, 1: 1 }, -2))],
        sense: 'minimize',
      }),
      {}
    );
    expect(solution.optimality).toBe('optimal');
    expectClose(solution.objective, 0.5);
    expectClose(solution.state.get(0)!, 0.5, 1e-5);
    expectClose(solution.state.get(1)!, 1.5, 1e-5);
  });

  it('handles cross terms (polynomial form) and maximization', async () => {
    // min x² + xy + y² − 3x: 2x + y = 3, x + 2y = 0 → (2, −1), objective −3.
    const min = await HighsAdapter.solve(
      instance({
        variables: [variable(5, 'continuous'), variable(8, 'continuous')],
        objective: polynomial([
          [[5, 5], 1],
          [[5, 8], 1],
          [[8, 8], 1],
          [[5], -3],
        ]),
        sense: 'minimize',
      }),
      {}
    );
    expectClose(min.objective, -3);
    expectClose(min.state.get(5)!, 2, 1e-5);
    expectClose(min.state.get(8)!, -1, 1e-5);
    // max −(x − 1)² + 4 = −x² + 2x + 3 → 4 at x = 1.
    const max = await HighsAdapter.solve(
      instance({
        variables: [variable(0, 'continuous', [-10, 10])],
        objective: polynomial([
          [[0, 0], -1],
          [[0], 2],
          [[], 3],
        ]),
        sense: 'maximize',
      }),
      {}
    );
    expectClose(max.objective, 4);
  });

  it('reports a non-convex QP as SOLVER_FAILED', async () => {
    // min −x², which HiGHS's QP solver refuses.
    await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous', [-1, 1])],
          objective: polynomial([[[0, 0], -1]]),
          sense: 'minimize',
        }),
        {}
      ),
      'SOLVER_FAILED'
    );
  });
});

describe('HighsAdapter: instances HiGHS cannot take', () => {
  it('refuses a quadratic constraint, naming it', async () => {
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous'), variable(1, 'continuous')],
          objective: linear({ 0: 1 }),
          constraints: [
            le(1, linear({ 0: 1 })),
            le(
              6,
              polynomial([
                [[0, 1], 1],
                [[], -1],
              ])
            ),
          ],
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(e.message).toContain('Constraint 6');
    expect(e.data['constraintId']).toBe(6);
  });

  it('refuses a cubic objective', async () => {
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous', [0, 1])],
          objective: polynomial([[[0, 0, 0], 1]]),
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(e.data).toMatchObject({ function: 'objective', degree: 3 });
  });

  it('refuses a quadratic objective with integer variables (MIQP)', async () => {
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous', [0, 1]), variable(1, 'binary')],
          objective: polynomial([
            [[0, 0], 1],
            [[1], 1],
          ]),
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(e.data).toMatchObject({ variableId: 1, kind: 'binary' });
  });

  it('refuses unspecified equalities and variable kinds', async () => {
    const constraint: ConstraintData = { ...le(3, linear({ 0: 1 })), equality: 'unspecified' };
    const a = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous')],
          objective: linear({ 0: 1 }),
          constraints: [constraint],
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(a.data['constraintId']).toBe(3);
    const b = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(4, 'unspecified')],
          objective: linear({ 4: 1 }),
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(b.data['variableId']).toBe(4);
  });

  it('refuses functions of unknown or dependent variables', async () => {
    await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous')],
          objective: linear({ 9: 1 }),
          sense: 'minimize',
        }),
        {}
      ),
      'ARGUMENT_INVALID'
    );
    const e = await expectCode(
      HighsAdapter.solve(
        instance({
          variables: [variable(0, 'continuous', [0, 1]), variable(1, 'continuous')],
          objective: linear({ 0: 1 }),
          constraints: [le(2, linear({ 1: 1 }, -1))],
          dependency: new Map([[1, linear({ 0: 2 })]]),
          sense: 'minimize',
        }),
        {}
      ),
      'UNSUPPORTED_INSTANCE'
    );
    expect(e.data).toMatchObject({ constraintId: 2, variableId: 1 });
  });
});

describe('HighsAdapter: options', () => {
  it('stops a hard MIP at a tiny time limit without crashing', async () => {
    let outcome: string;
    try {
      const solution = await HighsAdapter.solve(hardMip(), { timeLimit: 0.001 });
      outcome = solution.optimality;
      expect(solution.feasible).toBe(true);
    } catch (e) {
      expect(e).toBeInstanceOf(RunledgerError);
      outcome = (e as RunledgerError).code;
      expect((e as RunledgerError).data['status']).toBe('Time limit reached');
    }
    expect(['not-optimal', 'SOLVER_FAILED']).toContain(outcome);
  });

  it('returns a feasible, not-optimal Solution when a limit stops HiGHS with a solution', async () => {
    // Stop at the first improving solution (HiGHS "Solution limit reached"), presolve off so
    // HiGHS cannot finish the small model in presolve.
    const records: Record<string, unknown>[] = [];
    const solution = await HighsAdapter.solve(
      hardMip(),
      { presolve: 'off', highs: { mip_max_improving_sols: 1, mip_heuristic_effort: 0 } },
      { diagnostics: { record: (r) => void records.push({ ...r }) } }
    );
    expect(records[0]?.['status']).toBe('Solution limit reached');
    expect(solution.optimality).toBe('not-optimal');
    expect(solution.feasible).toBe(true);
    const optimal = await HighsAdapter.solve(hardMip(), {});
    expect(optimal.optimality).toBe('optimal');
    expect(solution.objective).toBeLessThanOrEqual(optimal.objective);
  });

  it('solves with presolve off and a MIP gap', async () => {
    const off = await HighsAdapter.solve(knapsack(), { presolve: 'off', mipGap: 0 });
    expect(off.objective).toBe(42);
    const lp = await HighsAdapter.solve(smallLp(), { presolve: false, threads: 1 });
    expect(lp.objective).toBe(12);
  });

  it('refuses invalid options with ARGUMENT_INVALID naming the option, before solving', async () => {
    const cases: [unknown, string][] = [
      [{ timeLimit: -1 }, 'timeLimit'],
      [{ timeLimit: Infinity }, 'timeLimit'],
      [{ timeLimit: '10' }, 'timeLimit'],
      [{ mipGap: Number.NaN }, 'mipGap'],
      [{ mipGap: -0.1 }, 'mipGap'],
      [{ presolve: 'maybe' }, 'presolve'],
      [{ threads: 4 }, 'threads'],
      [{ threads: 0.5 }, 'threads'],
      [{ highs: [] }, 'highs'],
      [{ highs: { random_seed: 1.5 } }, 'highs.random_seed'],
      [{ highs: { no_such_option: 1 } }, 'highs.no_such_option'],
      [{ highs: { mip_rel_gap: 'big' } }, 'highs.mip_rel_gap'],
      [{ highs: { log_file: 'x.log' } }, 'highs.log_file'],
      [{ highs: { 'Bad-Name': 1 } }, 'highs.Bad-Name'],
      [{ highs: { time_limit: Number.POSITIVE_INFINITY } }, 'highs.time_limit'],
      [{ timeLimit: 5, highs: { time_limit: 6 } }, 'highs.time_limit'],
      [{ timelimit: 5 }, 'timelimit'],
    ];
    // An instance HiGHS cannot take: were it converted first, the code would differ.
    const unsupported = instance({
      variables: [variable(0, 'continuous', [0, 1])],
      objective: polynomial([[[0, 0, 0], 1]]),
      sense: 'minimize',
    });
    for (const [options, option] of cases) {
      const e = await expectCode(
        HighsAdapter.solve(unsupported, options as HighsOptions),
        'ARGUMENT_INVALID'
      );
      expect(e.data['option'], JSON.stringify(options)).toBe(option);
      expect(e.message).toContain(option);
      await expectCode(
        HighsAdapter.prepare(smallLp(), options as HighsOptions),
        'ARGUMENT_INVALID'
      );
    }
    await expectCode(
      HighsAdapter.solve(smallLp(), null as unknown as HighsOptions),
      'ARGUMENT_INVALID'
    );
  });

  it('passes native options through, recorded as given', async () => {
    const options: HighsOptions = { highs: { random_seed: 7, solver: 'ipm', run_crossover: 'on' } };
    const solution = await HighsAdapter.solve(smallLp(), options);
    expectClose(solution.objective, 12);
    expect(solution.metadata?.parameters).toBe(JSON.stringify(options));
    const prepared = await HighsAdapter.prepare(smallLp(), options);
    expect(prepared.solverInput.options).toEqual({
      output_flag: false,
      random_seed: 7,
      solver: 'ipm',
      run_crossover: 'on',
    });
  });

  it('does not start a solve whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expectCode(HighsAdapter.solve(smallLp(), {}, { signal: controller.signal }), 'ABORTED');
  });
});

describe('HighsAdapter: prepare and decode', () => {
  const highsPromise = loadHighs();

  /** Runs a prepared model by hand, as `run.openSolve` users do. */
  async function runByHand(
    inst: Instance,
    options: HighsOptions
  ): Promise<{ solution: Solution; highsObjective: number }> {
    const highs = await highsPromise;
    const prepared = await HighsAdapter.prepare(inst, options);
    const model = highs.createModel(prepared.solverInput.model);
    try {
      model.options.set(prepared.solverInput.options);
      model.run();
      return { solution: await prepared.decode(model), highsObjective: model.getObjectiveValue() };
    } finally {
      model.dispose();
    }
  }

  const withoutClock = (s: Solution): unknown => ({
    ...s,
    metadata: { ...s.metadata, start: undefined, end: undefined },
  });

  const cases: [string, () => Instance][] = [
    ['LP', smallLp],
    ['MIP', knapsack],
    ['hard MIP', hardMip],
    [
      'QP',
      () =>
        instance({
          variables: [variable(0, 'continuous', [-3, 3]), variable(1, 'continuous', [-3, 3])],
          objective: polynomial([
            [[0, 0], 2],
            [[0, 1], -1],
            [[1, 1], 1],
            [[0], 1],
            [[1], -2],
            [[], 0.25],
          ]),
          constraints: [le(0, linear({ 0: 1, 1: 1 }, -1))],
          sense: 'minimize',
        }),
    ],
  ];

  for (const [label, make] of cases) {
    it(`gives the same Solution as solve() (${label}), whose objective is HiGHS's`, async () => {
      const { solution, highsObjective } = await runByHand(make(), {});
      expectClose(solution.objective, highsObjective);
      const solved = await HighsAdapter.solve(make(), {});
      expect(withoutClock(solution)).toEqual(withoutClock(solved));
      expect(solution.metadata?.start).toBeUndefined();
      expect(solution.metadata?.solver).toBe(solved.metadata?.solver);
    });
  }

  it('exposes the column and row ids of the HiGHS model', async () => {
    const prepared = await HighsAdapter.prepare(smallLp(), {});
    expect(prepared.solverInput.columnIds).toEqual([3, 10]);
    expect(prepared.solverInput.rowIds).toEqual([2, 7]);
    expect(prepared.solverInput.model.numCols).toBe(2);
    expect(prepared.solverInput.model.numRows).toBe(2);
    expect([...prepared.solverInput.model.rowUpper]).toEqual([4, 6]);
  });

  it('rounds near-integral values of integer columns, and only those', async () => {
    const inst = instance({
      variables: [variable(0, 'integer', [0, 10]), variable(1, 'continuous', [0, 10])],
      objective: linear({ 0: 1, 1: 1 }),
      sense: 'minimize',
    });
    const prepared = await HighsAdapter.prepare(inst, {});
    const solution = await prepared.decode({
      getModelStatus: () => 7,
      getSolution: () => ({ colValue: [2.0000004, 2.0000004], rowDual: [] }),
      info: { get: () => 2 },
    });
    expect([...solution.state]).toEqual([
      [0, 2],
      [1, 2.0000004],
    ]);
  });
});

describe('HighsAdapter: loading highs', () => {
  it('throws DEPENDENCY_MISSING when the package is not installed', async () => {
    vi.resetModules();
    vi.doMock('highs', () => {
      throw new Error("Cannot find package 'highs'");
    });
    try {
      const fresh = await import('../../src/solve/adapters/highs.js');
      const e = await expectCode(fresh.HighsAdapter.solve(smallLp(), {}), 'DEPENDENCY_MISSING');
      expect(e.message).toBe(
        'The HiGHS adapter needs the optional package "highs": run `npm install highs`.'
      );
    } finally {
      vi.doUnmock('highs');
      vi.resetModules();
    }
  });
});
