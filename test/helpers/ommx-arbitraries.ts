/**
 * fast-check arbitraries for the OMMX model (`src/ommx/types.ts`), and the normalisers that map a
 * value to what the protobuf format keeps of it (see `src/ommx/wire/fields.ts`):
 *
 * - `-0` in a plain `double` field is not written (prost's `!= 0.0` test), so it reads back `0`;
 *   `-0` survives where the field has presence (oneof `constant`, `optional` doubles) and in
 *   packed repeated doubles (quadratic values). Sampled values group `-0` with `0`.
 * - a bound of `(-∞, ∞)` reads back as no bound (the model's one spelling of "unbounded");
 * - rows come back in ascending id order, maps in ascending key order;
 * - a removed reason's parameters exist only with a reason (Solution, SampleSet).
 *
 * Rows are generated in random order with unique ids; strings are valid Unicode (lone surrogates
 * are not representable in UTF-8).
 */
import fc from 'fast-check';
import type {
  Bound,
  ConstraintData,
  DecisionVariableData,
  Equality,
  EvaluatedConstraintData,
  EvaluatedDecisionVariableData,
  EvaluatedNamedFunctionData,
  FunctionData,
  InstanceData,
  InstanceDescription,
  Label,
  LinearData,
  NamedFunctionData,
  Optimality,
  ParameterData,
  ParametricInstanceData,
  ProcessMetadata,
  Provenance,
  Relaxation,
  RemovedConstraintData,
  SampledConstraintData,
  SampledDecisionVariableData,
  SampledNamedFunctionData,
  SampledValues,
  SampleSetData,
  Sense,
  SolutionData,
  VariableKind,
} from '../../src/ommx/types.js';

// ---- leaves -------------------------------------------------------------------------------

/** `fc.record` making plain objects (fast-check may otherwise give null-prototype ones). */
const record = ((model: object, constraints: object = {}) =>
  fc.record(model as never, { ...constraints, noNullPrototype: true })) as typeof fc.record;

/** Ids: mostly small (collisions, id 0 whose map key is omitted), sometimes up to 2^53 − 1. */
export const idArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.nat(40) },
  { weight: 1, arbitrary: fc.maxSafeNat() }
);

/** Any double: NaN, ±∞, −0 and subnormals included. */
export const doubleArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, -1, NaN, Infinity, -Infinity) },
  { weight: 3, arbitrary: fc.double() }
);

/** Short strings: ASCII, and any Unicode code points (valid UTF-16). */
export const textArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', '__proto__', 'x', '\u{10000}', '\uffff', '\ufeffbom')
);

/** A `map<string, string>` as a record (own data properties, `__proto__` included). */
export const stringMapArb: fc.Arbitrary<Record<string, string>> = fc
  .uniqueArray(fc.tuple(textArb, textArb), { selector: ([key]) => key, maxLength: 4 })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

const subscriptsArb = fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.maxSafeInteger()), {
  maxLength: 3,
});

/** A label: optional name/description (`''` included), subscripts, parameters. */
export const labelArb: fc.Arbitrary<Label> = record(
  { name: textArb, subscripts: subscriptsArb, parameters: stringMapArb, description: textArb },
  { requiredKeys: ['subscripts', 'parameters'] }
);

const kindArb = fc.constantFrom<VariableKind>(
  'unspecified',
  'binary',
  'integer',
  'continuous',
  'semi-integer',
  'semi-continuous'
);
const equalityArb = fc.constantFrom<Equality>(
  'unspecified',
  'equal-to-zero',
  'less-than-or-equal-to-zero'
);
const senseArb = fc.constantFrom<Sense>('unspecified', 'minimize', 'maximize');
const optimalityArb = fc.constantFrom<Optimality>('unspecified', 'optimal', 'not-optimal');
const relaxationArb = fc.constantFrom<Relaxation>('unrelaxed', 'lp-relaxed');

const boundArb: fc.Arbitrary<Bound> = fc.oneof(
  record({ lower: doubleArb, upper: doubleArb }),
  fc.constant({ lower: -Infinity, upper: Infinity }),
  fc.constant({ lower: 0, upper: 1 })
);

/** Merges generated optional fields (absent keys stay absent) into a row. */
function withOptional<T extends object, O extends object>(row: T, optional: O): T & O {
  return { ...row, ...optional };
}

// ---- functions ----------------------------------------------------------------------------

const linearArb: fc.Arbitrary<LinearData> = record({
  terms: fc.array(record({ id: idArb, coefficient: doubleArb }), { maxLength: 4 }),
  constant: doubleArb,
});

/** Any `FunctionData`: constant, linear, quadratic (equal-length COO arrays), polynomial. */
export const functionArb: fc.Arbitrary<FunctionData> = fc.oneof(
  doubleArb.map((constant): FunctionData => ({ kind: 'constant', constant })),
  linearArb.map((l): FunctionData => ({ kind: 'linear', ...l })),
  fc
    .tuple(
      fc.array(fc.tuple(idArb, idArb, doubleArb), { maxLength: 4 }),
      fc.option(linearArb, { nil: undefined })
    )
    .map(([coo, linear]): FunctionData => {
      const base = {
        kind: 'quadratic' as const,
        rows: coo.map((c) => c[0]),
        columns: coo.map((c) => c[1]),
        values: coo.map((c) => c[2]),
      };
      return linear === undefined ? base : { ...base, linear };
    }),
  fc
    .array(record({ ids: fc.array(idArb, { maxLength: 3 }), coefficient: doubleArb }), {
      maxLength: 3,
    })
    .map((terms): FunctionData => ({ kind: 'polynomial', terms }))
);

// ---- rows ---------------------------------------------------------------------------------

const optionalBound = record({ bound: boundArb }, { requiredKeys: [] });

/** Decision variables with unique ids, in random order. */
export const decisionVariablesArb: fc.Arbitrary<DecisionVariableData[]> = fc.uniqueArray(
  fc
    .tuple(
      idArb,
      kindArb,
      labelArb,
      optionalBound,
      record({ substitutedValue: doubleArb }, { requiredKeys: [] })
    )
    .map(([id, kind, label, bound, fixed]) =>
      withOptional(withOptional({ id, kind, ...label }, bound), fixed)
    ),
  { selector: (v) => v.id, maxLength: 5 }
);

const provenanceArb: fc.Arbitrary<Provenance[]> = fc.array(
  record({ kind: fc.constantFrom('indicator', 'one-hot', 'sos1'), id: idArb }),
  { maxLength: 2 }
);

const constraintArb: fc.Arbitrary<ConstraintData> = fc
  .tuple(idArb, equalityArb, functionArb, labelArb, provenanceArb)
  .map(([id, equality, f, label, provenance]) => ({
    id,
    equality,
    function: f,
    ...label,
    provenance,
  }));

/** Active and removed constraints, ids unique across both. */
const constraintSplitArb: fc.Arbitrary<{
  constraints: ConstraintData[];
  removedConstraints: RemovedConstraintData[];
}> = fc
  .uniqueArray(
    fc.tuple(constraintArb, fc.option(fc.tuple(textArb, stringMapArb), { nil: undefined })),
    { selector: ([c]) => c.id, maxLength: 5 }
  )
  .map((rows) => ({
    constraints: rows.filter(([, removed]) => removed === undefined).map(([c]) => c),
    removedConstraints: rows.flatMap(([c, removed]) =>
      removed === undefined
        ? []
        : [{ constraint: c, reason: removed[0], reasonParameters: removed[1] }]
    ),
  }));

const namedFunctionsArb: fc.Arbitrary<NamedFunctionData[]> = fc.uniqueArray(
  fc.tuple(idArb, functionArb, labelArb).map(([id, f, label]) => ({ id, function: f, ...label })),
  { selector: (f) => f.id, maxLength: 3 }
);

const numberMapArb: fc.Arbitrary<Map<number, number>> = fc
  .uniqueArray(fc.tuple(idArb, doubleArb), { selector: ([id]) => id, maxLength: 4 })
  .map((entries) => new Map(entries));

const dependencyArb: fc.Arbitrary<Map<number, FunctionData>> = fc
  .uniqueArray(fc.tuple(idArb, functionArb), { selector: ([id]) => id, maxLength: 2 })
  .map((entries) => new Map(entries));

const descriptionArb: fc.Arbitrary<InstanceDescription> = record(
  {
    name: textArb,
    description: textArb,
    authors: fc.array(textArb, { maxLength: 3 }),
    createdBy: textArb,
    created: textArb,
    license: textArb,
    dataset: textArb,
  },
  { requiredKeys: ['authors'] }
);

/** Any InstanceData. */
export const instanceArb: fc.Arbitrary<InstanceData> = fc
  .tuple(
    record({ description: descriptionArb, parameters: numberMapArb }, { requiredKeys: [] }),
    decisionVariablesArb,
    functionArb,
    constraintSplitArb,
    senseArb,
    dependencyArb,
    namedFunctionsArb,
    stringMapArb
  )
  .map(([optional, decisionVariables, objective, split, sense, dependency, named, annotations]) =>
    withOptional(
      {
        decisionVariables,
        objective,
        ...split,
        sense,
        decisionVariableDependency: dependency,
        namedFunctions: named,
        annotations,
      },
      optional
    )
  );

const parametersArb: fc.Arbitrary<ParameterData[]> = fc.uniqueArray(
  fc.tuple(idArb, labelArb).map(([id, label]) => ({ id, ...label })),
  { selector: (p) => p.id, maxLength: 4 }
);

/** Any ParametricInstanceData. */
export const parametricInstanceArb: fc.Arbitrary<ParametricInstanceData> = fc
  .tuple(instanceArb, parametersArb)
  .map(([instance, parameters]) => {
    const { parameters: _values, ...rest } = instance;
    return { ...rest, parameters };
  });

const metadataArb: fc.Arbitrary<ProcessMetadata> = record(
  { instance: textArb, solver: textArb, parameters: textArb, start: textArb, end: textArb },
  { requiredKeys: [] }
);

const usedIdsArb = fc.array(idArb, { maxLength: 3 });

/** A removed reason with its parameters, or none (then no parameters). */
const removedArb = fc.option(fc.tuple(textArb, stringMapArb), { nil: undefined });

const evaluatedConstraintsArb: fc.Arbitrary<EvaluatedConstraintData[]> = fc.uniqueArray(
  fc
    .tuple(
      idArb,
      equalityArb,
      doubleArb,
      fc.boolean(),
      usedIdsArb,
      record({ dualVariable: doubleArb }, { requiredKeys: [] }),
      removedArb,
      labelArb,
      provenanceArb
    )
    .map(([id, equality, evaluatedValue, feasible, used, dual, removed, label, provenance]) =>
      withOptional(
        {
          id,
          equality,
          evaluatedValue,
          feasible,
          usedDecisionVariableIds: used,
          removedReasonParameters: removed?.[1] ?? {},
          ...label,
          provenance,
          ...(removed === undefined ? {} : { removedReason: removed[0] }),
        },
        dual
      )
    ),
  { selector: (c) => c.id, maxLength: 5 }
);

/** Any SolutionData. */
export const solutionArb: fc.Arbitrary<SolutionData> = fc
  .tuple(
    doubleArb,
    fc.uniqueArray(
      fc
        .tuple(idArb, kindArb, labelArb, optionalBound, doubleArb)
        .map(([id, kind, label, bound, value]) =>
          withOptional({ id, kind, ...label, value }, bound)
        ),
      { selector: (v) => v.id, maxLength: 5 }
    ),
    evaluatedConstraintsArb,
    fc.boolean(),
    optimalityArb,
    relaxationArb,
    senseArb,
    fc.uniqueArray(
      fc.tuple(idArb, doubleArb, usedIdsArb, labelArb).map(([id, evaluatedValue, used, label]) => ({
        id,
        evaluatedValue,
        usedDecisionVariableIds: used,
        ...label,
      })),
      { selector: (f) => f.id, maxLength: 3 }
    ),
    stringMapArb,
    record(
      { feasibleRelaxed: fc.boolean(), metadata: metadataArb, feasibilityAtol: doubleArb },
      { requiredKeys: [] }
    )
  )
  .map(
    ([
      objective,
      decisionVariables,
      constraints,
      feasible,
      optimality,
      relaxation,
      sense,
      namedFunctions,
      annotations,
      optional,
    ]): SolutionData =>
      withOptional(
        {
          objective,
          decisionVariables,
          constraints,
          feasible,
          optimality,
          relaxation,
          sense,
          namedFunctions,
          annotations,
        },
        optional
      )
  );

/** Sampled values: sample id → value, values often repeated (to exercise compression). */
export const sampledValuesArb: fc.Arbitrary<SampledValues> = fc
  .uniqueArray(
    fc.tuple(idArb, fc.oneof(fc.constantFrom(0, -0, 1, 2.5, NaN, -Infinity), doubleArb)),
    { selector: ([id]) => id, maxLength: 6 }
  )
  .map((entries) => new Map(entries));

const boolMapArb: fc.Arbitrary<Map<number, boolean>> = fc
  .uniqueArray(fc.tuple(idArb, fc.boolean()), { selector: ([id]) => id, maxLength: 4 })
  .map((entries) => new Map(entries));

/** Any SampleSetData. */
export const sampleSetArb: fc.Arbitrary<SampleSetData> = fc
  .tuple(
    sampledValuesArb,
    fc.uniqueArray(
      fc
        .tuple(idArb, kindArb, labelArb, optionalBound, sampledValuesArb)
        .map(([id, kind, label, bound, samples]) =>
          withOptional({ id, kind, ...label, samples }, bound)
        ),
      { selector: (v) => v.id, maxLength: 4 }
    ),
    fc.uniqueArray(
      fc
        .tuple(
          idArb,
          equalityArb,
          sampledValuesArb,
          boolMapArb,
          usedIdsArb,
          record({ dualVariables: sampledValuesArb }, { requiredKeys: [] }),
          removedArb,
          labelArb,
          provenanceArb
        )
        .map(([id, equality, values, feasible, used, dual, removed, label, provenance]) =>
          withOptional(
            {
              id,
              equality,
              evaluatedValues: values,
              feasible,
              usedDecisionVariableIds: used,
              removedReasonParameters: removed?.[1] ?? {},
              ...label,
              provenance,
              ...(removed === undefined ? {} : { removedReason: removed[0] }),
            },
            dual
          )
        ),
      { selector: (c) => c.id, maxLength: 4 }
    ),
    boolMapArb,
    boolMapArb,
    senseArb,
    fc.uniqueArray(
      fc
        .tuple(idArb, sampledValuesArb, usedIdsArb, labelArb)
        .map(([id, evaluatedValues, used, label]) => ({
          id,
          evaluatedValues,
          usedDecisionVariableIds: used,
          ...label,
        })),
      { selector: (f) => f.id, maxLength: 3 }
    ),
    stringMapArb,
    record({ metadata: metadataArb, feasibilityAtol: doubleArb }, { requiredKeys: [] })
  )
  .map(
    ([
      objectives,
      decisionVariables,
      constraints,
      feasible,
      feasibleRelaxed,
      sense,
      namedFunctions,
      annotations,
      optional,
    ]): SampleSetData =>
      withOptional(
        {
          objectives,
          decisionVariables,
          constraints,
          feasible,
          feasibleRelaxed,
          sense,
          namedFunctions,
          annotations,
        },
        optional
      )
  );

// ---- normalisers --------------------------------------------------------------------------

/** `-0` → `0` (what a plain proto3 double keeps). */
export const z = (x: number): number => (x === 0 ? 0 : x);

function byId<T extends { readonly id: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => a.id - b.id);
}

function sortedMap<V>(map: ReadonlyMap<number, V>, f: (v: V) => V = (v) => v): Map<number, V> {
  return new Map([...map].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, f(v)]));
}

function normalLinear(l: LinearData): LinearData {
  return {
    terms: l.terms.map((t) => ({ id: t.id, coefficient: z(t.coefficient) })),
    constant: z(l.constant),
  };
}

/** What survives of a function on the wire. */
export function normalFunction(f: FunctionData): FunctionData {
  switch (f.kind) {
    case 'constant':
      return f; // a oneof member: -0 is written and kept
    case 'linear':
      return { kind: 'linear', ...normalLinear(f) };
    case 'quadratic': {
      const base = {
        kind: 'quadratic' as const,
        rows: f.rows,
        columns: f.columns,
        values: f.values,
      };
      return f.linear === undefined ? base : { ...base, linear: normalLinear(f.linear) };
    }
    case 'polynomial':
      return {
        kind: 'polynomial',
        terms: f.terms.map((m) => ({ ids: m.ids, coefficient: z(m.coefficient) })),
      };
  }
}

/** A row with its bound normalised: `(-∞, ∞)` → absent, `-0` → `0`. */
function normalBound<T extends { readonly bound?: Bound }>(row: T): T {
  const { bound, ...rest } = row;
  if (bound === undefined || (bound.lower === -Infinity && bound.upper === Infinity))
    return rest as T;
  return { ...rest, bound: { lower: z(bound.lower), upper: z(bound.upper) } } as T;
}

function normalVariable(v: DecisionVariableData): DecisionVariableData {
  const out = normalBound(v);
  return v.substitutedValue === undefined
    ? out
    : { ...out, substitutedValue: z(v.substitutedValue) };
}

function normalConstraint(c: ConstraintData): ConstraintData {
  return { ...c, function: normalFunction(c.function) };
}

function normalInstanceParts<T extends Omit<InstanceData, 'parameters'>>(i: T): T {
  return {
    ...i,
    decisionVariables: byId(i.decisionVariables).map(normalVariable),
    objective: normalFunction(i.objective),
    constraints: byId(i.constraints).map(normalConstraint),
    removedConstraints: [...i.removedConstraints]
      .sort((a, b) => a.constraint.id - b.constraint.id)
      .map((rc) => ({ ...rc, constraint: normalConstraint(rc.constraint) })),
    decisionVariableDependency: sortedMap(i.decisionVariableDependency, normalFunction),
    namedFunctions: byId(i.namedFunctions).map((f) => ({
      ...f,
      function: normalFunction(f.function),
    })),
  };
}

/** What `decodeInstance(encodeInstance(i), 2)` gives back. */
export function normalInstance(i: InstanceData): InstanceData {
  const out = normalInstanceParts(i);
  return i.parameters === undefined ? out : { ...out, parameters: sortedMap(i.parameters, z) };
}

/** What `decodeParametricInstance(encodeParametricInstance(p), 2)` gives back. */
export function normalParametricInstance(p: ParametricInstanceData): ParametricInstanceData {
  return { ...normalInstanceParts(p), parameters: byId(p.parameters) };
}

/** A removed reason's parameters only exist with a reason. */
function normalRemoved<
  T extends { readonly removedReason?: string; readonly removedReasonParameters: object },
>(c: T): T {
  return c.removedReason === undefined ? { ...c, removedReasonParameters: {} } : c;
}

/** What `decodeSolution(encodeSolution(s), 2)` gives back. */
export function normalSolution(s: SolutionData): SolutionData {
  return {
    ...s,
    objective: z(s.objective),
    decisionVariables: byId(s.decisionVariables).map(
      (v): EvaluatedDecisionVariableData => ({ ...normalBound(v), value: z(v.value) })
    ),
    constraints: byId(s.constraints).map(
      (c): EvaluatedConstraintData => normalRemoved({ ...c, evaluatedValue: z(c.evaluatedValue) })
    ),
    namedFunctions: byId(s.namedFunctions).map(
      (f): EvaluatedNamedFunctionData => ({ ...f, evaluatedValue: z(f.evaluatedValue) })
    ),
  };
}

/** Sampled values as read back: ascending sample ids, `-0` → `0`. */
export function normalSampled(values: SampledValues): Map<number, number> {
  return sortedMap(values, z);
}

/** What `decodeSampleSet(encodeSampleSet(s), 2)` gives back. */
export function normalSampleSet(s: SampleSetData): SampleSetData {
  return {
    ...s,
    objectives: normalSampled(s.objectives),
    decisionVariables: byId(s.decisionVariables).map(
      (v): SampledDecisionVariableData => ({ ...normalBound(v), samples: normalSampled(v.samples) })
    ),
    constraints: byId(s.constraints).map((c): SampledConstraintData => {
      const out = normalRemoved({
        ...c,
        evaluatedValues: normalSampled(c.evaluatedValues),
        feasible: sortedMap(c.feasible),
      });
      return c.dualVariables === undefined
        ? out
        : { ...out, dualVariables: normalSampled(c.dualVariables) };
    }),
    feasible: sortedMap(s.feasible),
    feasibleRelaxed: sortedMap(s.feasibleRelaxed),
    namedFunctions: byId(s.namedFunctions).map(
      (f): SampledNamedFunctionData => ({ ...f, evaluatedValues: normalSampled(f.evaluatedValues) })
    ),
  };
}

/** The same data with every row list and map in reverse order (encoders must sort). */
export function reversedInstance(i: InstanceData): InstanceData {
  return {
    ...i,
    decisionVariables: [...i.decisionVariables].reverse(),
    constraints: [...i.constraints].reverse(),
    removedConstraints: [...i.removedConstraints].reverse(),
    decisionVariableDependency: new Map([...i.decisionVariableDependency].reverse()),
    namedFunctions: [...i.namedFunctions].reverse(),
    annotations: Object.fromEntries(Object.entries(i.annotations).reverse()),
  };
}
