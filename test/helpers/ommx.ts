/**
 * Small OMMX instances built from plain data (no builder), and test adapters that follow the
 * adapter protocol with known behaviour.
 */
import { Instance } from '../../src/ommx/instance.js';
import type { SampleSet } from '../../src/ommx/sample-set.js';
import type { Solution } from '../../src/ommx/solution.js';
import type { DecisionVariableData } from '../../src/ommx/types.js';
import type { SamplerAdapter, SolverAdapter } from '../../src/solve/adapter.js';

function binary(id: number): DecisionVariableData {
  return {
    id,
    kind: 'binary',
    bound: { lower: 0, upper: 1 },
    name: 'x',
    subscripts: [id],
    parameters: {},
  };
}

/**
 * max 10 x0 + 13 x1 + 7 x2  s.t.  4 x0 + 6 x1 + 3 x2 − 9 ≤ 0, x binary.
 * Optimum 20 at (0, 1, 1).
 */
export function knapsack(annotations: Record<string, string> = {}): Instance {
  return new Instance({
    description: { name: 'knapsack-3', authors: ['runledger tests'] },
    decisionVariables: [binary(0), binary(1), binary(2)],
    objective: {
      kind: 'linear',
      terms: [
        { id: 0, coefficient: 10 },
        { id: 1, coefficient: 13 },
        { id: 2, coefficient: 7 },
      ],
      constant: 0,
    },
    constraints: [
      {
        id: 0,
        equality: 'less-than-or-equal-to-zero',
        function: {
          kind: 'linear',
          terms: [
            { id: 0, coefficient: 4 },
            { id: 1, coefficient: 6 },
            { id: 2, coefficient: 3 },
          ],
          constant: -9,
        },
        name: 'capacity',
        subscripts: [],
        parameters: {},
        provenance: [],
      },
    ],
    removedConstraints: [],
    sense: 'maximize',
    decisionVariableDependency: new Map(),
    namedFunctions: [],
    annotations,
  });
}

/** What a test adapter saw. */
export interface Seen {
  calls: { instance: Instance; options: unknown; hasDiagnostics: boolean }[];
}

/** A solver adapter that evaluates a fixed state; it mutates the copy it gets. */
export function fixedStateAdapter(
  state: Record<number, number>,
  seen: Seen = { calls: [] },
  report?: Record<string, unknown>
): SolverAdapter<Record<string, unknown>, Record<number, number>, Record<number, number>> {
  return {
    name: 'tests.FixedState',
    solve(instance, options, context) {
      seen.calls.push({ instance, options, hasDiagnostics: 'diagnostics' in context });
      if (report !== undefined) context.diagnostics?.record(report);
      (instance.annotations as Record<string, string>)['mutated-by-adapter'] = 'yes';
      return instance.evaluate(state);
    },
    prepare(instance, options, context) {
      seen.calls.push({ instance, options, hasDiagnostics: 'diagnostics' in context });
      return {
        solverInput: state,
        decode: (output: Record<number, number>): Solution => instance.evaluate(output),
      };
    },
  };
}

/** A solver adapter that throws `error` (after reporting diagnostics, if any). */
export function failingAdapter(
  error: unknown,
  report?: Record<string, unknown>
): SolverAdapter & SamplerAdapter {
  return {
    name: 'tests.Failing',
    solve(_instance, _options, context): Solution {
      if (report !== undefined) context.diagnostics?.record(report);
      throw error;
    },
    sample(_instance, _options, context): SampleSet {
      if (report !== undefined) context.diagnostics?.record(report);
      throw error;
    },
  };
}

/** A sampler adapter returning the given states as samples. */
export function statesSampler(states: Record<number, number>[]): SamplerAdapter {
  return {
    name: 'tests.States',
    sample: (instance) => instance.evaluateSamples(states),
  };
}
