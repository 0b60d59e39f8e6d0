import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
// Tests only: the reflection codec is the independent peer runledger's encoder is checked against.
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { fileChunks, readTar } from '../../src/archive/tar.js';
import type {
  InstanceData,
  ParametricInstanceData,
  SampleSetData,
  SolutionData,
} from '../../src/ommx/types.js';
import {
  decodeInstance,
  decodeParametricInstance,
  decodeSampleSet,
  decodeSolution,
  encodeInstance,
  encodeParametricInstance,
  encodeSampleSet,
  encodeSolution,
} from '../../src/ommx/wire/index.js';
import { ProtoWriter, WireType } from '../../src/ommx/wire/protobuf.js';
import { expectError } from '../helpers/expect-code.js';
import { ommxMessage } from '../helpers/ommx-descriptors.mjs';
import {
  instanceArb,
  normalInstance,
  normalParametricInstance,
  normalSampleSet,
  normalSolution,
  parametricInstanceArb,
  reversedInstance,
  sampleSetArb,
  solutionArb,
} from '../helpers/ommx-arbitraries.js';
import {
  encodeV1Instance,
  encodeV1ParametricInstance,
  encodeV1SampleSet,
  encodeV1Solution,
} from '../helpers/ommx-v1-writer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array =>
  new Uint8Array(Buffer.from(h.replace(/\s+|\/\/[^\n]*/g, ''), 'hex'));
const LD = WireType.LengthDelimited;
const VARINT = WireType.Varint;

/** A label-less row's label fields. */
const noLabel = { subscripts: [], parameters: {} };

/**
 * min x1  s.t.  x1 − 5 ≤ 0,  x1 continuous in [0, 10] (variable id 1, constraint id 1).
 */
const tiny: InstanceData = {
  decisionVariables: [{ id: 1, kind: 'continuous', bound: { lower: 0, upper: 10 }, ...noLabel }],
  objective: { kind: 'linear', terms: [{ id: 1, coefficient: 1 }], constant: 0 },
  constraints: [
    {
      id: 1,
      equality: 'less-than-or-equal-to-zero',
      function: { kind: 'linear', terms: [{ id: 1, coefficient: 1 }], constant: -5 },
      ...noLabel,
      provenance: [],
    },
  ],
  removedConstraints: [],
  sense: 'minimize',
  decisionVariableDependency: new Map(),
  namedFunctions: [],
  annotations: {},
};

/**
 * `tiny` as `ommx.v2.Instance`, derived by hand from the .proto field numbers. A key byte is
 * `field << 3 | wire type` (0 varint, 1 64-bit, 2 length-delimited); doubles are IEEE 754
 * little-endian: 1.0 = 3ff0…, 10.0 = 4024…, −5.0 = c014….
 */
const TINY_V2 = `
  1a 13                          // 3 decision_variables: DecisionVariableTable, 19 bytes
    0a 11                        //   1 entries: map entry, 17 bytes
      08 01                      //     key = 1 (uint64)
      12 0d                      //     value: DecisionVariable, 13 bytes
        08 03                    //       1 kind = 3 (KIND_CONTINUOUS)
        12 09                    //       2 bound: Bound, 9 bytes
          11 0000000000002440    //         2 upper = 10.0 (lower = 0 is the default: omitted)
  22 0f                          // 4 objective: Function, 15 bytes
    12 0d                        //   2 linear: Linear, 13 bytes
      0a 0b                      //     1 terms: Term, 11 bytes
        08 01                    //       1 id = 1
        11 000000000000f03f      //       2 coefficient = 1.0 (constant 0: omitted)
  2a 22                          // 5 regular_constraints: RegularConstraintCollection, 34 bytes
    0a 20                        //   1 active: map entry, 32 bytes
      08 01                      //     key = 1
      12 1c                      //     value: RegularConstraint, 28 bytes
        08 02                    //       1 equality = 2 (LESS_THAN_OR_EQUAL_TO_ZERO)
        12 18                    //       2 function: Function, 24 bytes
          12 16                  //         2 linear: Linear, 22 bytes
            0a 0b                //           1 terms: Term, 11 bytes
              08 01              //             id = 1
              11 000000000000f03f//             coefficient = 1.0
            11 00000000000014c0  //           2 constant = -5.0
  30 01                          // 6 sense = 1 (SENSE_MINIMIZE)
  42 00                          // 8 indicator_constraints: present, empty (as OMMX writes it)
  4a 00                          // 9 one_hot_constraints: present, empty
  52 00                          // 10 sos1_constraints: present, empty
  62 00                          // 12 named_functions: present, empty
`;

describe('golden bytes', () => {
  it('encodes a one-variable, one-constraint Instance byte for byte', () => {
    expect(hex(encodeInstance(tiny))).toBe(hex(unhex(TINY_V2)));
    expect(decodeInstance(unhex(TINY_V2), 2)).toStrictEqual(tiny);
  });

  it('compresses sampled values: one entry per value, ordered by smallest sample id', () => {
    const s: SampleSetData = {
      objectives: new Map([
        [3, NaN],
        [1, 2],
        [2, NaN],
        [0, -0],
        [5, 0],
      ]),
      decisionVariables: [],
      constraints: [],
      feasible: new Map(),
      feasibleRelaxed: new Map(),
      sense: 'unspecified',
      namedFunctions: [],
      annotations: {},
    };
    const objectives = `
      12 23                         // 2 objectives: SampledValues, 35 bytes
        0a 04  12 02 00 05          //   {value 0 (omitted; -0 joins 0), ids [0, 5]}
        0a 0c  09 0000000000000040  //   {value 2.0,
               12 01 01             //    ids [1]}
        0a 0d  09 000000000000f87f  //   {value NaN,
               12 02 02 03          //    ids [2, 3]}`;
    const bytes = encodeSampleSet(s);
    expect(hex(bytes.subarray(0, 37))).toBe(hex(unhex(objectives)));
    expect(decodeSampleSet(bytes, 2).objectives).toStrictEqual(
      new Map([
        [0, 0],
        [1, 2],
        [2, NaN],
        [3, NaN],
        [5, 0],
      ])
    );
  });

  it('omits -0 in a plain double but keeps it in a oneof constant', () => {
    const s = (objective: number): SolutionData => ({
      objective,
      decisionVariables: [],
      constraints: [],
      feasible: false,
      optimality: 'unspecified',
      relaxation: 'unrelaxed',
      sense: 'unspecified',
      namedFunctions: [],
      annotations: {},
    });
    expect(hex(encodeSolution(s(-0)))).toBe(hex(encodeSolution(s(0))));
    expect(Object.is(decodeSolution(encodeSolution(s(-0)), 2).objective, 0)).toBe(true);
    const i: InstanceData = { ...tiny, objective: { kind: 'constant', constant: -0 } };
    expect(hex(encodeInstance(i))).toContain('2209' + '09' + '0000000000000080');
    expect(decodeInstance(encodeInstance(i), 2).objective).toStrictEqual({
      kind: 'constant',
      constant: -0,
    });
  });

  it('leaves default keys and values out of map entries, as prost does', () => {
    const i: InstanceData = {
      ...tiny,
      decisionVariables: [
        {
          id: 0,
          kind: 'unspecified',
          bound: { lower: 0, upper: 0 },
          substitutedValue: 0,
          ...noLabel,
        },
      ],
    };
    const bytes = encodeInstance(i);
    // table: entries {key 0 omitted, value {kind 0 omitted, bound {} (present, empty)}},
    // fixed_values {key 0 omitted, value 0 omitted}.
    expect(hex(bytes.subarray(0, 10))).toBe(hex(unhex('1a 08  0a 04 12 02 12 00  1a 00')));
    expect(decodeInstance(bytes, 2).decisionVariables).toStrictEqual(i.decisionVariables);
  });

  it('sorts string map keys by UTF-8 bytes, not UTF-16 units', () => {
    const annotations = { '\u{10000}': 'c', '\uffff': 'b', a: 'a' };
    const bytes = encodeInstance({ ...tiny, annotations });
    const text = Buffer.from(bytes).toString('latin1');
    const at = (s: string): number => text.indexOf(Buffer.from(s, 'utf8').toString('latin1'));
    expect(at('a')).toBeLessThan(at('\uffff'));
    expect(at('\uffff')).toBeLessThan(at('\u{10000}'));
    expect(decodeInstance(bytes, 2).annotations).toStrictEqual(annotations);
  });

  it('writes an absent bound as (-inf, inf) and reads that back as absent', () => {
    const i: InstanceData = {
      ...tiny,
      decisionVariables: [{ id: 1, kind: 'integer', ...noLabel }],
    };
    const bytes = encodeInstance(i);
    // 2 bound, 18 bytes: 1 lower = -inf (fff0… little-endian), 2 upper = +inf
    expect(hex(bytes)).toContain('1212' + '09000000000000f0ff' + '11000000000000f07f');
    expect(decodeInstance(bytes, 2).decisionVariables).toStrictEqual(i.decisionVariables);
  });
});

describe('round trips (fast-check)', () => {
  it('Instance: decode(encode(x)) is x normalised; re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(instanceArb, (i) => {
        const bytes = encodeInstance(i);
        const back = decodeInstance(bytes, 2);
        expect(back).toStrictEqual(normalInstance(i));
        expect(hex(encodeInstance(back))).toBe(hex(bytes));
        expect(hex(encodeInstance(reversedInstance(i)))).toBe(hex(bytes));
      }),
      { numRuns: 300 }
    );
  });

  it('ParametricInstance', () => {
    fc.assert(
      fc.property(parametricInstanceArb, (p) => {
        const bytes = encodeParametricInstance(p);
        const back = decodeParametricInstance(bytes, 2);
        expect(back).toStrictEqual(normalParametricInstance(p));
        expect(hex(encodeParametricInstance(back))).toBe(hex(bytes));
        const reversed = { ...p, parameters: [...p.parameters].reverse() };
        expect(hex(encodeParametricInstance(reversed))).toBe(hex(bytes));
      }),
      { numRuns: 200 }
    );
  });

  it('Solution', () => {
    fc.assert(
      fc.property(solutionArb, (s) => {
        const bytes = encodeSolution(s);
        const back = decodeSolution(bytes, 2);
        expect(back).toStrictEqual(normalSolution(s));
        expect(hex(encodeSolution(back))).toBe(hex(bytes));
        const reversed = {
          ...s,
          decisionVariables: [...s.decisionVariables].reverse(),
          constraints: [...s.constraints].reverse(),
        };
        expect(hex(encodeSolution(reversed))).toBe(hex(bytes));
      }),
      { numRuns: 300 }
    );
  });

  it('SampleSet', () => {
    fc.assert(
      fc.property(sampleSetArb, (s) => {
        const bytes = encodeSampleSet(s);
        const back = decodeSampleSet(bytes, 2);
        expect(back).toStrictEqual(normalSampleSet(s));
        expect(hex(encodeSampleSet(back))).toBe(hex(bytes));
        const reversed = { ...s, objectives: new Map([...s.objectives].reverse()) };
        expect(hex(encodeSampleSet(reversed))).toBe(hex(bytes));
      }),
      { numRuns: 300 }
    );
  });

  it('encodes equal data to equal bytes whatever was lost (x and normalised x agree)', () => {
    fc.assert(
      fc.property(instanceArb, solutionArb, sampleSetArb, (i, s, ss) => {
        expect(hex(encodeInstance(normalInstance(i)))).toBe(hex(encodeInstance(i)));
        expect(hex(encodeSolution(normalSolution(s)))).toBe(hex(encodeSolution(s)));
        expect(hex(encodeSampleSet(normalSampleSet(ss)))).toBe(hex(encodeSampleSet(ss)));
      }),
      { numRuns: 100 }
    );
  });
});

describe('an independent protobuf codec reads what we write', () => {
  // test/helpers/ommx-descriptors.mjs describes the v2 messages from the field-number table;
  // @bufbuild/protobuf's reflection codec parses our bytes with it (so every field number and
  // wire type must agree) and writes them again; we must read its bytes as our own.
  it('tiny Instance: the peer sees the same fields', () => {
    const peer = fromBinary(ommxMessage('ommx.v2.Instance'), unhex(TINY_V2)) as unknown as {
      sense: number;
      objective: { function: { case: string } };
      regularConstraints: { active: Record<string, { equality: number }> };
    };
    expect(peer.sense).toBe(1);
    expect(peer.objective.function.case).toBe('linear');
    expect(peer.regularConstraints.active['1']?.equality).toBe(2);
  });

  /**
   * Two peer limits, not format rules: its UTF-8 decoder drops a leading U+FEFF as a byte-order
   * mark (TextDecoder without ignoreBOM), and its string-keyed maps are plain objects, where a
   * `__proto__` key is lost. Ours keeps both (tested above); here they are replaced.
   */
  function peerSafe(x: unknown): unknown {
    if (typeof x === 'string') return x.replaceAll('\ufeff', '?');
    if (Array.isArray(x)) return x.map(peerSafe);
    if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, peerSafe(v)]));
    if (typeof x === 'object' && x !== null)
      return Object.fromEntries(
        Object.entries(x).map(([k, v]) => [
          k === '__proto__' ? 'proto' : (peerSafe(k) as string),
          peerSafe(v),
        ])
      );
    return x;
  }

  const roots = [
    ['ommx.v2.Instance', instanceArb, encodeInstance, decodeInstance],
    [
      'ommx.v2.ParametricInstance',
      parametricInstanceArb,
      encodeParametricInstance,
      decodeParametricInstance,
    ],
    ['ommx.v2.Solution', solutionArb, encodeSolution, decodeSolution],
    ['ommx.v2.SampleSet', sampleSetArb, encodeSampleSet, decodeSampleSet],
  ] as const;
  for (const [name, arb, encode, decode] of roots) {
    it(name, () => {
      const schema = ommxMessage(name);
      fc.assert(
        fc.property((arb as fc.Arbitrary<unknown>).map(peerSafe) as fc.Arbitrary<never>, (x) => {
          const ours = (encode as (x: never) => Uint8Array)(x);
          const theirs = toBinary(schema, fromBinary(schema, ours));
          const read = decode as (b: Uint8Array, v: 2) => unknown;
          expect(read(theirs, 2)).toStrictEqual(read(ours, 2));
        }),
        { numRuns: 100 }
      );
    });
  }
});

// ---- v1 ---------------------------------------------------------------------------------

/** v1 has no provenance. */
function withoutProvenance<T extends { readonly provenance: readonly unknown[] }>(c: T): T {
  return { ...c, provenance: [] };
}

/**
 * What a v1 Instance gives: as v2, but v1 has no provenance, and `substituted_value` is an
 * `optional double` (so `-0` survives, where v2's `fixed_values` map loses it).
 */
function v1Instance(i: InstanceData): InstanceData {
  const n = normalInstance(i);
  const fixed = new Map(i.decisionVariables.map((v) => [v.id, v.substitutedValue]));
  return {
    ...n,
    decisionVariables: n.decisionVariables.map((v) => {
      const value = fixed.get(v.id);
      return value === undefined ? v : { ...v, substitutedValue: value };
    }),
    constraints: n.constraints.map(withoutProvenance),
    removedConstraints: n.removedConstraints.map((rc) => ({
      ...rc,
      constraint: withoutProvenance(rc.constraint),
    })),
  };
}

/** OMMX's v1 per-constraint feasibility (default tolerance 1e-6). */
function feasibleAt(equality: string, value: number): boolean {
  if (equality === 'equal-to-zero') return Math.abs(value) < 1e-6;
  if (equality === 'less-than-or-equal-to-zero') return value < 1e-6;
  return false;
}

function v1Solution(s: SolutionData): SolutionData {
  const { feasibilityAtol: _atol, ...n } = normalSolution(s);
  const anyRemoved = n.constraints.some((c) => c.removedReason !== undefined);
  return {
    ...n,
    constraints: n.constraints.map((c) => ({
      ...withoutProvenance(c),
      feasible: feasibleAt(c.equality, c.evaluatedValue),
    })),
    // Without feasible_relaxed (OMMX 1.6 or older), `feasible` was the relaxed flag.
    ...(s.feasibleRelaxed === undefined
      ? { feasible: s.feasible && !anyRemoved, feasibleRelaxed: s.feasible }
      : {}),
  };
}

function v1SampleSet(s: SampleSetData): SampleSetData {
  const { feasibilityAtol: _atol, ...n } = normalSampleSet(s);
  return {
    ...n,
    constraints: n.constraints.map((c) => {
      const { dualVariables: _duals, ...rest } = withoutProvenance(c);
      return rest;
    }),
    feasibleRelaxed: n.feasibleRelaxed.size === 0 ? n.feasible : n.feasibleRelaxed,
  };
}

describe('v1 payloads', () => {
  it('Instance: converts to the model; v1 → v2 → decode is the same model', () => {
    fc.assert(
      fc.property(instanceArb, (i) => {
        const model = decodeInstance(encodeV1Instance(i), 1);
        expect(model).toStrictEqual(v1Instance(i));
        expect(decodeInstance(encodeInstance(model), 2)).toStrictEqual(normalInstance(model));
      }),
      { numRuns: 200 }
    );
  });

  it('ParametricInstance', () => {
    fc.assert(
      fc.property(parametricInstanceArb, (p) => {
        const model = decodeParametricInstance(encodeV1ParametricInstance(p), 1);
        const { parameters, ...rest } = p;
        const expected: ParametricInstanceData = {
          ...v1Instance(rest),
          parameters: normalParametricInstance(p).parameters,
        };
        expect(model).toStrictEqual(expected);
        expect(decodeParametricInstance(encodeParametricInstance(model), 2)).toStrictEqual(
          normalParametricInstance(model)
        );
      }),
      { numRuns: 200 }
    );
  });

  it('Solution: values from state, feasibility computed with tolerance 1e-6', () => {
    fc.assert(
      fc.property(solutionArb, (s) => {
        const model = decodeSolution(encodeV1Solution(s), 1);
        expect(model).toStrictEqual(v1Solution(s));
        expect(decodeSolution(encodeSolution(model), 2)).toStrictEqual(model);
      }),
      { numRuns: 200 }
    );
  });

  it('SampleSet', () => {
    fc.assert(
      fc.property(sampleSetArb, (s) => {
        const model = decodeSampleSet(encodeV1SampleSet(s), 1);
        expect(model).toStrictEqual(v1SampleSet(s));
        expect(decodeSampleSet(encodeSampleSet(model), 2)).toStrictEqual(model);
      }),
      { numRuns: 200 }
    );
  });

  const solution = (over: Partial<SolutionData> = {}): SolutionData => ({
    objective: 1,
    decisionVariables: [
      { id: 0, kind: 'binary', value: 1, ...noLabel },
      { id: 1, kind: 'binary', value: 0, ...noLabel },
    ],
    constraints: [],
    feasible: true,
    feasibleRelaxed: true,
    optimality: 'optimal',
    relaxation: 'unrelaxed',
    sense: 'maximize',
    namedFunctions: [],
    annotations: {},
    ...over,
  });

  it('Solution: a variable missing from state takes its substituted_value; extra state is dropped', () => {
    const bytes = encodeV1Solution(solution(), {
      state: new Map([
        [0, 1],
        [7, 3],
      ]),
      substituted: new Map([[1, 0.5]]),
    });
    const model = decodeSolution(bytes, 1);
    expect(model.decisionVariables.map((v) => [v.id, v.value])).toEqual([
      [0, 1],
      [1, 0.5],
    ]);
  });

  it('Solution: a variable with no value at all is PAYLOAD_INVALID', () => {
    const bytes = encodeV1Solution(solution(), { state: new Map([[0, 1]]) });
    const e = expectError(() => decodeSolution(bytes, 1), 'PAYLOAD_INVALID');
    expect(e.message).toBe(
      'The OMMX v1 Solution is malformed: decision variable 1 has a value neither in state nor substituted_value.'
    );
  });

  it('Solution: per-constraint feasibility uses OMMX’s default tolerance 1e-6', () => {
    const row = (
      id: number,
      equality: 'equal-to-zero' | 'less-than-or-equal-to-zero',
      v: number
    ) => ({
      id,
      equality,
      evaluatedValue: v,
      feasible: false,
      usedDecisionVariableIds: [],
      removedReasonParameters: {},
      provenance: [],
      ...noLabel,
    });
    const s = solution({
      constraints: [
        row(0, 'equal-to-zero', 9.9e-7),
        row(1, 'equal-to-zero', -1e-6),
        row(2, 'less-than-or-equal-to-zero', 9.9e-7),
        row(3, 'less-than-or-equal-to-zero', 1e-6),
        row(4, 'less-than-or-equal-to-zero', -5),
      ],
    });
    const model = decodeSolution(encodeV1Solution(s), 1);
    expect(model.constraints.map((c) => c.feasible)).toEqual([true, false, true, false, true]);
  });

  it('Solution: reads OMMX 1.6 feasibility (feasible = relaxed, feasible_unrelaxed = all)', () => {
    const { feasibleRelaxed: _r, ...legacy } = solution({ feasible: true });
    const model = decodeSolution(encodeV1Solution(legacy, { feasibleUnrelaxed: false }), 1);
    expect([model.feasible, model.feasibleRelaxed]).toEqual([true, true]); // no removed constraints
    const removed = {
      ...legacy,
      constraints: [
        {
          id: 0,
          equality: 'equal-to-zero' as const,
          evaluatedValue: 3,
          feasible: false,
          usedDecisionVariableIds: [],
          removedReason: 'presolve',
          removedReasonParameters: {},
          provenance: [],
          ...noLabel,
        },
      ],
    };
    const m2 = decodeSolution(encodeV1Solution(removed, { feasibleUnrelaxed: false }), 1);
    expect([m2.feasible, m2.feasibleRelaxed]).toEqual([false, true]);
    expect(m2.constraints[0]?.removedReason).toBe('presolve');
  });

  it('SampleSet: reads OMMX 1.6 feasibility maps', () => {
    const s: SampleSetData = {
      objectives: new Map([[0, 1]]),
      decisionVariables: [],
      constraints: [],
      feasible: new Map([[0, true]]),
      feasibleRelaxed: new Map(),
      sense: 'minimize',
      namedFunctions: [],
      annotations: {},
    };
    const bytes = encodeV1SampleSet(s, { feasibleUnrelaxed: new Map([[0, false]]) });
    const model = decodeSampleSet(bytes, 1);
    expect(model.feasible).toStrictEqual(new Map([[0, false]]));
    expect(model.feasibleRelaxed).toStrictEqual(new Map([[0, true]]));
  });

  it('accepts format_version 0 and refuses newer versions', () => {
    const w = new ProtoWriter();
    w.tag(3, LD).raw(unhex('09 09 0000000000000000')); // objective: constant 0
    w.tag(100, VARINT).uint32(0);
    expect(decodeInstance(w.finish(), 1).objective).toStrictEqual({
      kind: 'constant',
      constant: 0,
    });
    const e1 = expectError(
      () => decodeInstance(encodeV1Instance(tiny, { formatVersion: 1 }), 1),
      'PAYLOAD_INVALID'
    );
    expect(e1.message).toBe(
      'The OMMX v1 Instance has format_version 1, newer than the 0 runledger reads.'
    );
    const parametric: ParametricInstanceData = { ...tiny, parameters: [] };
    const e2 = expectError(
      () =>
        decodeParametricInstance(encodeV1ParametricInstance(parametric, { formatVersion: 2 }), 1),
      'PAYLOAD_INVALID'
    );
    expect(e2.message).toBe(
      'The OMMX v1 ParametricInstance has format_version 2, newer than the 0 runledger reads.'
    );
    expect(e2.data).toMatchObject({ root: 'ParametricInstance', version: 1, formatVersion: 2 });
    expectError(
      () => decodeSolution(encodeV1Solution(solution(), { formatVersion: 7 }), 1),
      'PAYLOAD_INVALID'
    );
    const sampleSet: SampleSetData = {
      objectives: new Map(),
      decisionVariables: [],
      constraints: [],
      feasible: new Map(),
      feasibleRelaxed: new Map(),
      sense: 'minimize',
      namedFunctions: [],
      annotations: {},
    };
    expectError(
      () => decodeSampleSet(encodeV1SampleSet(sampleSet, { formatVersion: 1 }), 1),
      'PAYLOAD_INVALID'
    );
  });

  it('ignores constraint_hints (advisory in OMMX; the constraints themselves stay)', () => {
    // ConstraintHints{one_hot_constraints = 2: [OneHot{constraint_id = 1, decision_variables = [1]}]}
    const hints = unhex('12 06  08 01 12 02 01 00');
    const model = decodeInstance(encodeV1Instance(tiny, { constraintHints: hints }), 1);
    expect(model).toStrictEqual(tiny);
  });
});

// ---- the fixture OMMX wrote -------------------------------------------------------------

const FIXTURE = fileURLToPath(
  new URL('../../../shared/fixtures/ommx/random_lp_instance.ommx', import.meta.url)
);
const LAYER = '54ba9752565494599fd3bbea59d99a31a6b536a3a6056e6651effc466d99380a';

async function readBlob(archive: string, digestHex: string): Promise<Uint8Array> {
  for await (const entry of readTar(fileChunks(archive))) {
    if (entry.header.name.replace(/^\.\//, '') !== `blobs/sha256/${digestHex}`) continue;
    const parts: Buffer[] = [];
    for await (const chunk of entry.body) parts.push(Buffer.from(chunk)); // chunks are reused
    return new Uint8Array(Buffer.concat(parts));
  }
  throw new Error(`blob ${digestHex} not in ${archive}`);
}

describe.skipIf(!existsSync(FIXTURE))(
  `the v1 Instance OMMX wrote (random_lp_instance.ommx${existsSync(FIXTURE) ? '' : `: fixture absent at ${FIXTURE}`})`,
  () => {
    it('decodes, re-encodes as v2 and decodes to the same model', async () => {
      const bytes = await readBlob(FIXTURE, LAYER);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(LAYER);
      const model = decodeInstance(bytes, 1);
      expect(model.decisionVariables).toHaveLength(5);
      expect(model.constraints).toHaveLength(7);
      expect(model.removedConstraints).toHaveLength(0);
      expect(model.sense).toBe('minimize');
      expect(model.decisionVariables[0]).toStrictEqual({
        id: 0,
        kind: 'continuous',
        bound: { lower: 0, upper: Infinity },
        name: 'x',
        subscripts: [0],
        parameters: {},
      });
      expect(model.objective.kind).toBe('linear');
      expect(model.constraints.every((c) => c.function.kind === 'linear')).toBe(true);
      const v2 = encodeInstance(model);
      expect(decodeInstance(v2, 2)).toStrictEqual(model);
      expect(hex(encodeInstance(decodeInstance(v2, 2)))).toBe(hex(v2));
    });
  }
);

// ---- malformed input --------------------------------------------------------------------

function root(build: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  build(w);
  return w.finish();
}

describe('malformed and unsupported payloads', () => {
  it('truncated bytes are PAYLOAD_INVALID; every prefix either decodes or is', () => {
    const bytes = unhex(TINY_V2);
    const e = expectError(() => decodeInstance(bytes.subarray(0, 30), 2), 'PAYLOAD_INVALID');
    expect(e.message).toMatch(/^The OMMX v2 Instance is malformed: .*\.$/);
    expect(e.cause).toBeInstanceOf(Error);
    for (let n = 0; n < bytes.length; n++) {
      try {
        decodeInstance(bytes.subarray(0, n), 2);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('PAYLOAD_INVALID');
      }
    }
  });

  it('garbage is PAYLOAD_INVALID, never another error', () => {
    expectError(() => decodeInstance(unhex('ff ff ff ff'), 2), 'PAYLOAD_INVALID');
    expectError(() => decodeSolution(unhex('0f'), 1), 'PAYLOAD_INVALID');
    const decoders = [
      (b: Uint8Array) => decodeInstance(b, 1),
      (b: Uint8Array) => decodeInstance(b, 2),
      (b: Uint8Array) => decodeParametricInstance(b, 1),
      (b: Uint8Array) => decodeParametricInstance(b, 2),
      (b: Uint8Array) => decodeSolution(b, 1),
      (b: Uint8Array) => decodeSolution(b, 2),
      (b: Uint8Array) => decodeSampleSet(b, 1),
      (b: Uint8Array) => decodeSampleSet(b, 2),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(7), (bytes, which) => {
        try {
          (decoders[which] as (b: Uint8Array) => unknown)(bytes);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('PAYLOAD_INVALID');
        }
      }),
      { numRuns: 2000 }
    );
  });

  it('a corrupted valid payload is PAYLOAD_INVALID or decodes, never another error', () => {
    fc.assert(
      fc.property(solutionArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (s, at, byte) => {
        const bytes = encodeSolution(s);
        if (bytes.length === 0) return;
        bytes[at % bytes.length] = byte;
        try {
          decodeSolution(bytes, 2);
        } catch (err) {
          expect((err as { code?: string }).code).toBe('PAYLOAD_INVALID');
        }
      }),
      { numRuns: 500 }
    );
  });

  it('required_features refuses indicator, one-hot, SOS1 and unknown features', () => {
    const withFeatures = (features: number[]) =>
      root((w) => {
        w.tag(1, LD).fork();
        for (const f of features) w.int32(f);
        w.join();
        w.raw(unhex(TINY_V2));
      });
    const e1 = expectError(() => decodeInstance(withFeatures([1]), 2), 'PAYLOAD_INVALID');
    expect(e1.message).toBe(
      'The OMMX v2 Instance uses indicator constraints, which runledger cannot read yet.'
    );
    expect(expectError(() => decodeInstance(withFeatures([2]), 2), 'PAYLOAD_INVALID').message).toBe(
      'The OMMX v2 Instance uses one-hot constraints, which runledger cannot read yet.'
    );
    expect(
      expectError(() => decodeInstance(withFeatures([3, 1]), 2), 'PAYLOAD_INVALID').message
    ).toBe('The OMMX v2 Instance uses SOS1 constraints, which runledger cannot read yet.');
    expect(expectError(() => decodeInstance(withFeatures([9]), 2), 'PAYLOAD_INVALID').message).toBe(
      'The OMMX v2 Instance uses required feature 9, which runledger cannot read yet.'
    );
    expect(
      expectError(() => decodeInstance(withFeatures([0]), 2), 'PAYLOAD_INVALID').message
    ).toMatch(/malformed: required_features lists FEATURE_UNSPECIFIED/);
  });

  it('a non-empty special-constraint collection is refused, an empty one is fine', () => {
    // 9 one_hot_constraints {1 active: {key 4, value OneHotConstraint{variables [1]}}}
    const oneHot = root((w) => {
      w.raw(unhex(TINY_V2));
      w.raw(unhex('4a 09  0a 07 08 04 12 03 0a 01 01'));
    });
    expect(expectError(() => decodeInstance(oneHot, 2), 'PAYLOAD_INVALID').message).toBe(
      'The OMMX v2 Instance uses one-hot constraints, which runledger cannot read yet.'
    );
    // Solution 15 evaluated_sos1_constraints {1 entries: {key 2}}
    const sos1 = root((w) => w.raw(unhex('7a 04  0a 02 08 02')));
    expect(expectError(() => decodeSolution(sos1, 2), 'PAYLOAD_INVALID').message).toBe(
      'The OMMX v2 Solution uses SOS1 constraints, which runledger cannot read yet.'
    );
    // SampleSet 11 sampled_indicator_constraints, only a removed reason: no constraint → fine.
    const emptyish = root((w) => w.raw(unhex('12 00  5a 04 12 02 08 01')));
    expect(decodeSampleSet(emptyish, 2).objectives.size).toBe(0);
  });

  it('an id beyond 2^53 − 1 is PAYLOAD_INVALID', () => {
    const bytes = root((w) => {
      w.tag(3, LD).fork();
      w.tag(1, LD)
        .fork()
        .tag(1, VARINT)
        .uint64(2n ** 60n)
        .join();
      w.join();
      w.raw(unhex('22 09 09 0000000000000000'));
    });
    const e = expectError(() => decodeInstance(bytes, 2), 'PAYLOAD_INVALID');
    expect(e.message).toBe(
      'The OMMX v2 Instance is malformed: the id 1152921504606846976 is larger than 2^53 - 1, the largest runledger reads.'
    );
    // the largest safe id is fine
    const ok = root((w) => {
      w.tag(3, LD).fork();
      w.tag(1, LD).fork().tag(1, VARINT).uint64(Number.MAX_SAFE_INTEGER).join();
      w.join();
      w.raw(unhex('22 09 09 0000000000000000'));
    });
    expect(decodeInstance(ok, 2).decisionVariables[0]?.id).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('an int64 subscript beyond ±(2^53 − 1) is PAYLOAD_INVALID; negative ones are fine', () => {
    const withSubscript = (v: bigint) =>
      root((w) => {
        w.raw(unhex('1a 02 0a 00')); // variable id 0
        w.tag(3, LD).fork();
        // labels entry {key 0, value ModelingLabel{2 subscripts: [v]}}
        w.tag(2, LD).fork();
        w.tag(2, LD).fork();
        w.tag(2, LD).fork().int64(v).join();
        w.join();
        w.join();
        w.join();
        w.raw(unhex('22 09 09 0000000000000000'));
      });
    expect(decodeInstance(withSubscript(-7n), 2).decisionVariables[0]?.subscripts).toEqual([-7]);
    expectError(() => decodeInstance(withSubscript(-(2n ** 60n)), 2), 'PAYLOAD_INVALID');
  });

  it('wrong wire types, unknown enum values, invalid UTF-8 and duplicate samples are refused', () => {
    const objective = '22 09 09 0000000000000000';
    const cases: [string, (b: Uint8Array) => unknown, RegExp][] = [
      // sense (6) as length-delimited
      [
        `${objective} 32 00`,
        (b) => decodeInstance(b, 2),
        /field 6 of the root message has the wrong wire type 2/,
      ],
      // sense = 7
      [`${objective} 30 07`, (b) => decodeInstance(b, 2), /the sense has the unknown value 7/],
      // variable kind = 9
      [
        `1a 06 0a 04 12 02 08 09 ${objective}`,
        (b) => decodeInstance(b, 2),
        /kind has the unknown value 9/,
      ],
      // annotation key: bytes c3 28 (invalid UTF-8)
      [`${objective} 6a 04 0a 02 c3 28`, (b) => decodeInstance(b, 2), /not valid UTF-8/],
      // objectives: two entries claiming sample 1
      [
        '12 0a 0a 03 12 01 01 0a 03 12 01 01',
        (b) => decodeSampleSet(b, 2),
        /sample id 1 has two values/,
      ],
      // no objective at all
      ['', (b) => decodeInstance(b, 2), /it has no objective/],
      // a Function with no member set
      [
        '22 00',
        (b) => decodeInstance(b, 2),
        /a Function has none of constant, linear, quadratic or polynomial set/,
      ],
      // a Quadratic whose arrays disagree
      [
        '22 06 1a 04 0a 02 01 02',
        (b) => decodeInstance(b, 2),
        /a Quadratic has 2 rows, 0 columns and 0 values/,
      ],
    ];
    for (const [bytes, decode, message] of cases) {
      const e = expectError(() => decode(unhex(bytes)), 'PAYLOAD_INVALID');
      expect(e.message).toMatch(message);
    }
  });

  it('unknown fields are skipped', () => {
    const bytes = root((w) => {
      w.raw(unhex(TINY_V2));
      w.tag(50, VARINT).uint32(3);
      w.tag(51, LD).string('future');
      w.tag(52, WireType.Bit32).fixed32(1);
      w.tag(53, WireType.Bit64).double(1);
    });
    expect(decodeInstance(bytes, 2)).toStrictEqual(tiny);
  });

  it('a model that cannot be encoded (a negative id) is ARGUMENT_INVALID', () => {
    const bad: InstanceData = {
      ...tiny,
      decisionVariables: [{ id: -1, kind: 'binary', ...noLabel }],
    };
    expectError(() => encodeInstance(bad), 'ARGUMENT_INVALID');
  });
});

describe('scale', () => {
  it('round-trips a 20,000-row LP and a 20,000-sample set (smoke; the bench measures time)', () => {
    const n = 20_000;
    const i: InstanceData = {
      ...tiny,
      decisionVariables: Array.from({ length: n }, (_, id) => ({
        id,
        kind: 'continuous' as const,
        bound: { lower: 0, upper: 1 },
        name: 'x',
        subscripts: [id],
        parameters: {},
      })),
      constraints: Array.from({ length: n }, (_, id) => ({
        id,
        equality: 'less-than-or-equal-to-zero' as const,
        function: {
          kind: 'linear' as const,
          terms: [0, 1, 2].map((j) => ({ id: (id + j * 7) % n, coefficient: j + 0.5 })),
          constant: -1,
        },
        ...noLabel,
        provenance: [],
      })),
    };
    expect(decodeInstance(encodeInstance(i), 2)).toStrictEqual(i);
    const samples: SampleSetData = {
      objectives: new Map(Array.from({ length: n }, (_, id) => [id, id % 3] as [number, number])),
      decisionVariables: [],
      constraints: [],
      feasible: new Map(),
      feasibleRelaxed: new Map(),
      sense: 'minimize',
      namedFunctions: [],
      annotations: {},
    };
    const bytes = encodeSampleSet(samples);
    expect(decodeSampleSet(bytes, 2)).toStrictEqual(samples);
    // three values: three entries of about n/3 ids each, not n entries
    expect(bytes.length).toBeLessThan(n * 3);
  });

  it('writes a lone surrogate as U+FFFD (what UTF-8 can hold) and stays well-formed', () => {
    const i: InstanceData = {
      ...tiny,
      decisionVariables: [{ id: 1, kind: 'binary', name: 'x\ud800', ...noLabel }],
    };
    expect(decodeInstance(encodeInstance(i), 2).decisionVariables[0]?.name).toBe('x\ufffd');
  });
});
