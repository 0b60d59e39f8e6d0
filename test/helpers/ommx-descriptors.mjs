// An independent description of OMMX's v1 building blocks and v2 roots as protobuf descriptors,
// written from the field-number table of ommx-reference §10 (no .proto file copied), loaded into
// @bufbuild/protobuf's reflection registry. Tests use it as a second, generic protobuf decoder
// of what src/ommx/wire writes; the bench uses it as the peer codec.
//
// Indicator / one-hot / SOS1 collections are left out: runledger rejects payloads that use them.
import { create, createFileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

// google.protobuf.FieldDescriptorProto.Type
const T = {
  double: 1,
  int64: 3,
  uint64: 4,
  bool: 8,
  string: 9,
  message: 11,
  uint32: 13,
  enum: 14,
};
const OPTIONAL = 1;
const REPEATED = 3;

/** A field: `[number, name, type, { repeated, optional, typeName, oneof }]`. */
function field(number, name, type, o = {}) {
  const f = {
    name,
    number,
    label: o.repeated ? REPEATED : OPTIONAL,
    type: typeof type === 'number' ? type : type.startsWith('enum:') ? T.enum : T.message,
    jsonName: name.replace(/_([a-z])/g, (_, c) => c.toUpperCase()),
  };
  if (typeof type === 'string') f.typeName = type.replace(/^enum:/, '');
  if (o.oneof !== undefined) f.oneofIndex = o.oneof;
  if (o.optional) f.proto3Optional = true;
  return f;
}

/** A message; proto3 `optional` fields get their synthetic oneofs. */
function message(name, fields, extra = {}) {
  const oneofDecl = [...(extra.oneofs ?? []).map((n) => ({ name: n }))];
  const out = [];
  for (const f of fields) {
    if (f.proto3Optional) {
      f.oneofIndex = oneofDecl.length;
      oneofDecl.push({ name: `_${f.name}` });
    }
    out.push(f);
  }
  return {
    name,
    field: out,
    nestedType: extra.nested ?? [],
    enumType: extra.enums ?? [],
    oneofDecl,
  };
}

/** A map field and its entry message. */
function map(number, name, key, value, valueType) {
  const entry = `${name
    .split('_')
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('')}Entry`;
  const v = valueType === undefined ? field(2, 'value', value) : field(2, 'value', value);
  return {
    field: field(number, name, `.${'PLACEHOLDER'}.${entry}`, { repeated: true }),
    entry: {
      name: entry,
      field: [field(1, 'key', key), v],
      options: { mapEntry: true },
      nestedType: [],
      enumType: [],
      oneofDecl: [],
    },
  };
}

/** A message with map fields: maps given as `map(...)` results among the fields. */
function messageWithMaps(pkg, name, parts, extra = {}) {
  const fields = [];
  const nested = [...(extra.nested ?? [])];
  for (const p of parts) {
    if (p.entry !== undefined) {
      p.field.typeName = `.${pkg}.${extra.path ?? name}.${p.entry.name}`;
      fields.push(p.field);
      nested.push(p.entry);
    } else fields.push(p);
  }
  return message(name, fields, { ...extra, nested });
}

const enumType = (name, values) => ({
  name,
  value: values.map((v, i) => ({ name: v, number: i })),
});

const V1 = 'ommx.v1';
const V2 = 'ommx.v2';
const s = T.string;

const v1 = {
  name: 'ommx/v1/runledger_test.proto',
  package: V1,
  syntax: 'proto3',
  enumType: [
    enumType('Equality', [
      'EQUALITY_UNSPECIFIED',
      'EQUALITY_EQUAL_TO_ZERO',
      'EQUALITY_LESS_THAN_OR_EQUAL_TO_ZERO',
    ]),
    enumType('Optimality', [
      'OPTIMALITY_UNSPECIFIED',
      'OPTIMALITY_OPTIMAL',
      'OPTIMALITY_NOT_OPTIMAL',
    ]),
    enumType('Relaxation', ['RELAXATION_UNSPECIFIED', 'RELAXATION_LP_RELAXED']),
  ],
  messageType: [
    message(
      'Linear',
      [
        field(1, 'terms', '.ommx.v1.Linear.Term', { repeated: true }),
        field(2, 'constant', T.double),
      ],
      {
        nested: [message('Term', [field(1, 'id', T.uint64), field(2, 'coefficient', T.double)])],
      }
    ),
    message('Quadratic', [
      field(1, 'rows', T.uint64, { repeated: true }),
      field(2, 'columns', T.uint64, { repeated: true }),
      field(3, 'values', T.double, { repeated: true }),
      field(4, 'linear', '.ommx.v1.Linear', { optional: true }),
    ]),
    message('Monomial', [
      field(1, 'ids', T.uint64, { repeated: true }),
      field(2, 'coefficient', T.double),
    ]),
    message('Polynomial', [field(1, 'terms', '.ommx.v1.Monomial', { repeated: true })]),
    message(
      'Function',
      [
        field(1, 'constant', T.double, { oneof: 0 }),
        field(2, 'linear', '.ommx.v1.Linear', { oneof: 0 }),
        field(3, 'quadratic', '.ommx.v1.Quadratic', { oneof: 0 }),
        field(4, 'polynomial', '.ommx.v1.Polynomial', { oneof: 0 }),
      ],
      { oneofs: ['function'] }
    ),
    message('Bound', [field(1, 'lower', T.double), field(2, 'upper', T.double)]),
    message('DecisionVariable', [], {
      enums: [
        enumType('Kind', [
          'KIND_UNSPECIFIED',
          'KIND_BINARY',
          'KIND_INTEGER',
          'KIND_CONTINUOUS',
          'KIND_SEMI_INTEGER',
          'KIND_SEMI_CONTINUOUS',
        ]),
      ],
    }),
    messageWithMaps(V1, 'Parameters', [map(1, 'entries', T.uint64, T.double)]),
    message('Instance', [], {
      nested: [
        message('Description', [
          field(1, 'name', s, { optional: true }),
          field(2, 'description', s, { optional: true }),
          field(3, 'authors', s, { repeated: true }),
          field(4, 'created_by', s, { optional: true }),
          field(5, 'created', s, { optional: true }),
          field(6, 'license', s, { optional: true }),
          field(7, 'dataset', s, { optional: true }),
        ]),
      ],
      enums: [enumType('Sense', ['SENSE_UNSPECIFIED', 'SENSE_MINIMIZE', 'SENSE_MAXIMIZE'])],
    }),
    message(
      'SampledValues',
      [field(1, 'entries', '.ommx.v1.SampledValues.SampledValuesEntry', { repeated: true })],
      {
        nested: [
          message('SampledValuesEntry', [
            field(1, 'value', T.double),
            field(2, 'ids', T.uint64, { repeated: true }),
          ]),
        ],
      }
    ),
    message('ProcessMetadata', [
      field(1, 'instance', s, { optional: true }),
      field(2, 'solver', s, { optional: true }),
      field(3, 'parameters', s, { optional: true }),
      field(4, 'start', s, { optional: true }),
      field(5, 'end', s, { optional: true }),
    ]),
  ],
};

const KIND = 'enum:.ommx.v1.DecisionVariable.Kind';
const EQ = 'enum:.ommx.v1.Equality';
const SENSE = 'enum:.ommx.v1.Instance.Sense';
const FN = '.ommx.v1.Function';
const LABEL = '.ommx.v2.ModelingLabel';
const ss = (k) => map(k[0], k[1], s, s);

const collection = (name, row, contextsAt = 4) =>
  messageWithMaps(V2, name, [
    map(1, row === null ? 'entries' : 'active', T.uint64, row ?? '.ommx.v2.X'),
    ...(row === null ? [] : [map(2, 'removed', T.uint64, row)]),
    map(row === null ? 2 : 3, 'removed_reasons', T.uint64, '.ommx.v2.RemovedReason'),
    map(contextsAt, 'contexts', T.uint64, '.ommx.v2.ConstraintContext'),
  ]);

function evaluatedCollection(name, row) {
  const c = collection(name, null, 3);
  c.field[0].typeName = `.ommx.v2.${name}.EntriesEntry`;
  c.nestedType[0].field[1].typeName = row;
  return c;
}

const v2 = {
  name: 'ommx/v2/runledger_test.proto',
  package: V2,
  syntax: 'proto3',
  dependency: ['ommx/v1/runledger_test.proto'],
  enumType: [
    enumType('Feature', [
      'FEATURE_UNSPECIFIED',
      'FEATURE_CONSTRAINT_INDICATOR',
      'FEATURE_CONSTRAINT_ONE_HOT',
      'FEATURE_CONSTRAINT_SOS1',
    ]),
  ],
  messageType: [
    messageWithMaps(V2, 'ModelingLabel', [
      field(1, 'name', s, { optional: true }),
      field(2, 'subscripts', T.int64, { repeated: true }),
      ss([3, 'parameters']),
      field(4, 'description', s, { optional: true }),
    ]),
    message(
      'Provenance',
      [
        field(1, 'indicator_constraint_id', T.uint64, { oneof: 0 }),
        field(2, 'one_hot_constraint_id', T.uint64, { oneof: 0 }),
        field(3, 'sos1_constraint_id', T.uint64, { oneof: 0 }),
      ],
      { oneofs: ['source'] }
    ),
    message('ConstraintContext', [
      field(1, 'label', LABEL),
      field(2, 'provenance', '.ommx.v2.Provenance', { repeated: true }),
    ]),
    messageWithMaps(V2, 'RemovedReason', [field(1, 'reason', s), ss([2, 'parameters'])]),
    message('RegularConstraint', [field(1, 'equality', EQ), field(2, 'function', FN)]),
    (() => {
      const c = collection('RegularConstraintCollection', '.ommx.v2.RegularConstraint');
      return c;
    })(),
    message('EvaluatedRegularConstraint', [
      field(1, 'equality', EQ),
      field(2, 'evaluated_value', T.double),
      field(3, 'feasible', T.bool),
      field(4, 'used_decision_variable_ids', T.uint64, { repeated: true }),
      field(5, 'dual_variable', T.double, { optional: true }),
    ]),
    evaluatedCollection(
      'EvaluatedRegularConstraintCollection',
      '.ommx.v2.EvaluatedRegularConstraint'
    ),
    messageWithMaps(V2, 'SampledRegularConstraint', [
      field(1, 'equality', EQ),
      field(2, 'evaluated_values', '.ommx.v1.SampledValues'),
      map(3, 'feasible', T.uint64, T.bool),
      field(4, 'used_decision_variable_ids', T.uint64, { repeated: true }),
      field(5, 'dual_variables', '.ommx.v1.SampledValues'),
    ]),
    evaluatedCollection('SampledRegularConstraintCollection', '.ommx.v2.SampledRegularConstraint'),
    message('DecisionVariable', [field(1, 'kind', KIND), field(2, 'bound', '.ommx.v1.Bound')]),
    message('EvaluatedDecisionVariable', [
      field(1, 'kind', KIND),
      field(2, 'bound', '.ommx.v1.Bound'),
      field(3, 'value', T.double),
    ]),
    message('SampledDecisionVariable', [
      field(1, 'kind', KIND),
      field(2, 'bound', '.ommx.v1.Bound'),
      field(3, 'samples', '.ommx.v1.SampledValues'),
    ]),
    messageWithMaps(V2, 'DecisionVariableTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.DecisionVariable'),
      map(2, 'labels', T.uint64, LABEL),
      map(3, 'fixed_values', T.uint64, T.double),
    ]),
    messageWithMaps(V2, 'EvaluatedDecisionVariableTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.EvaluatedDecisionVariable'),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    messageWithMaps(V2, 'SampledDecisionVariableTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.SampledDecisionVariable'),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    message('NamedFunction', [field(1, 'function', FN)]),
    message('EvaluatedNamedFunction', [
      field(1, 'evaluated_value', T.double),
      field(2, 'used_decision_variable_ids', T.uint64, { repeated: true }),
    ]),
    message('SampledNamedFunction', [
      field(1, 'evaluated_values', '.ommx.v1.SampledValues'),
      field(2, 'used_decision_variable_ids', T.uint64, { repeated: true }),
    ]),
    messageWithMaps(V2, 'NamedFunctionTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.NamedFunction'),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    messageWithMaps(V2, 'EvaluatedNamedFunctionTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.EvaluatedNamedFunction'),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    messageWithMaps(V2, 'SampledNamedFunctionTable', [
      map(1, 'entries', T.uint64, '.ommx.v2.SampledNamedFunction'),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    messageWithMaps(V2, 'ParameterTable', [
      field(1, 'ids', T.uint64, { repeated: true }),
      map(2, 'labels', T.uint64, LABEL),
    ]),
    messageWithMaps(V2, 'Instance', [
      field(1, 'required_features', 'enum:.ommx.v2.Feature', { repeated: true }),
      field(2, 'description', '.ommx.v1.Instance.Description'),
      field(3, 'decision_variables', '.ommx.v2.DecisionVariableTable'),
      field(4, 'objective', FN),
      field(5, 'regular_constraints', '.ommx.v2.RegularConstraintCollection'),
      field(6, 'sense', SENSE),
      field(7, 'parameters', '.ommx.v1.Parameters'),
      map(11, 'decision_variable_dependency', T.uint64, FN),
      field(12, 'named_functions', '.ommx.v2.NamedFunctionTable'),
      ss([13, 'annotations']),
    ]),
    messageWithMaps(V2, 'ParametricInstance', [
      field(1, 'required_features', 'enum:.ommx.v2.Feature', { repeated: true }),
      field(2, 'description', '.ommx.v1.Instance.Description'),
      field(3, 'decision_variables', '.ommx.v2.DecisionVariableTable'),
      field(4, 'parameters', '.ommx.v2.ParameterTable'),
      field(5, 'objective', FN),
      field(6, 'regular_constraints', '.ommx.v2.RegularConstraintCollection'),
      field(7, 'sense', SENSE),
      map(11, 'decision_variable_dependency', T.uint64, FN),
      field(12, 'named_functions', '.ommx.v2.NamedFunctionTable'),
      ss([13, 'annotations']),
    ]),
    messageWithMaps(V2, 'Solution', [
      field(1, 'required_features', 'enum:.ommx.v2.Feature', { repeated: true }),
      field(2, 'objective', T.double),
      field(3, 'decision_variables', '.ommx.v2.EvaluatedDecisionVariableTable'),
      field(4, 'evaluated_regular_constraints', '.ommx.v2.EvaluatedRegularConstraintCollection'),
      field(5, 'feasible', T.bool),
      field(6, 'optimality', 'enum:.ommx.v1.Optimality'),
      field(7, 'relaxation', 'enum:.ommx.v1.Relaxation'),
      field(8, 'feasible_relaxed', T.bool, { optional: true }),
      field(9, 'sense', SENSE),
      field(10, 'evaluated_named_functions', '.ommx.v2.EvaluatedNamedFunctionTable'),
      field(11, 'metadata', '.ommx.v1.ProcessMetadata'),
      ss([12, 'annotations']),
      field(16, 'feasibility_atol', T.double, { optional: true }),
    ]),
    messageWithMaps(V2, 'SampleSet', [
      field(1, 'required_features', 'enum:.ommx.v2.Feature', { repeated: true }),
      field(2, 'objectives', '.ommx.v1.SampledValues'),
      field(3, 'decision_variables', '.ommx.v2.SampledDecisionVariableTable'),
      field(4, 'sampled_regular_constraints', '.ommx.v2.SampledRegularConstraintCollection'),
      map(5, 'feasible', T.uint64, T.bool),
      field(6, 'sense', SENSE),
      map(7, 'feasible_relaxed', T.uint64, T.bool),
      field(8, 'sampled_named_functions', '.ommx.v2.SampledNamedFunctionTable'),
      field(9, 'metadata', '.ommx.v1.ProcessMetadata'),
      ss([10, 'annotations']),
      field(14, 'feasibility_atol', T.double, { optional: true }),
    ]),
  ],
};

// The map helper names its entry type before it knows the parent; messageWithMaps fixed it for
// top-level messages. Map value types that are messages keep the names given.
for (const file of [v1, v2]) {
  for (const m of file.messageType) {
    for (const f of m.field) {
      if (f.typeName?.includes('PLACEHOLDER')) {
        f.typeName = f.typeName.replace('PLACEHOLDER', `${file.package}.${m.name}`);
      }
    }
  }
}

/** The registry with every message above, by full name (e.g. `ommx.v2.Instance`). */
export const ommxRegistry = createFileRegistry(create(FileDescriptorSetSchema, { file: [v1, v2] }));

/** The descriptor of an OMMX message, e.g. `ommxMessage('ommx.v2.Instance')`. */
export function ommxMessage(name) {
  const m = ommxRegistry.getMessage(name);
  if (m === undefined) throw new Error(`no message ${name} in the test registry`);
  return m;
}
