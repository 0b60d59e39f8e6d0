// Cases: OMMX Instance encode / decode and Instance.evaluate on a sparse LP with 100,000
// variables and 100,000 constraints (3 nonzeros per row, random coefficients, each variable with
// a name and subscripts, as a modelling tool writes them).
//
// Peer for encode/decode: @bufbuild/protobuf's generic reflection codec (toBinary / fromBinary)
// driven by an independent description of the same OMMX v2 messages (test/helpers/
// ommx-descriptors.mjs), on the same Instance: the peer message is what the peer decodes from our
// bytes, so both sides encode the same content. Peer for evaluate: the straightforward loop — for
// each constraint, Σ coefficient · state.get(id) through a Map, feasibility by the same rule — on
// the same data; no OMMX SDK runs on this machine, so there is no closer peer.
//
// Trials alternate peer, ours and the best of each is kept; one untimed warm-up per side.
// RUNLEDGER_BENCH_LP_SIZE overrides the size (default 100000); RUNLEDGER_BENCH_TRIALS the
// number of trials (default 3).
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Instance } from '../../dist/src/ommx/instance.js';
import { ommxMessage } from '../helpers/ommx-descriptors.mjs';
import { mulberry32 as random } from '../../dist/src/experiment/seeded.js';
import { MB, fmt } from './lib.mjs';

const N = Number(process.env['RUNLEDGER_BENCH_LP_SIZE'] ?? 100_000);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));

function sparseLp(n) {
  const r = random(7);
  const decisionVariables = Array.from({ length: n }, (_, id) => ({
    id,
    kind: 'continuous',
    bound: { lower: 0, upper: 10 },
    name: 'x',
    subscripts: [id],
    parameters: {},
  }));
  const constraints = Array.from({ length: n }, (_, id) => {
    const ids = new Set();
    while (ids.size < 3) ids.add(Math.floor(r() * n));
    return {
      id,
      equality: 'less-than-or-equal-to-zero',
      function: {
        kind: 'linear',
        terms: [...ids].sort((a, b) => a - b).map((v) => ({ id: v, coefficient: 1 + r() * 9 })),
        constant: -(10 + r() * 40),
      },
      subscripts: [],
      parameters: {},
      provenance: [],
    };
  });
  return new Instance({
    description: { name: `random-lp-${n}`, authors: [] },
    decisionVariables,
    objective: {
      kind: 'linear',
      terms: decisionVariables.map((v) => ({ id: v.id, coefficient: -(1 + r()) })),
      constant: 0,
    },
    constraints,
    removedConstraints: [],
    sense: 'minimize',
    decisionVariableDependency: new Map(),
    namedFunctions: [],
    annotations: {},
  });
}

function time(fn) {
  const t0 = performance.now();
  const result = fn();
  return { result, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The straightforward evaluation, producing the same Solution shape: every variable row with its
 * value (bounds and integrality checked), every constraint row with its value, feasibility and
 * used variable ids, through Map lookups.
 */
function naiveEvaluate(instance, state, atol = 1e-6) {
  const value = (f) => {
    let v = f.constant;
    for (const t of f.terms) v += t.coefficient * state.get(t.id);
    return v;
  };
  let feasible = true;
  const decisionVariables = instance.decisionVariables.map((v) => {
    const x = state.get(v.id);
    if (v.bound !== undefined && (x < v.bound.lower - atol || x > v.bound.upper + atol)) {
      feasible = false;
    }
    return { ...v, value: x };
  });
  const constraints = instance.constraints.map((c) => {
    const v = value(c.function);
    const ok = c.equality === 'equal-to-zero' ? Math.abs(v) < atol : v < atol;
    if (!ok) feasible = false;
    const used = [...new Set(c.function.terms.map((t) => t.id))].sort((a, b) => a - b);
    return {
      id: c.id,
      equality: c.equality,
      evaluatedValue: v,
      feasible: ok,
      usedDecisionVariableIds: used,
      subscripts: c.subscripts,
      parameters: c.parameters,
      removedReasonParameters: {},
      provenance: c.provenance,
    };
  });
  return { objective: value(instance.objective), feasible, decisionVariables, constraints };
}

let shared;
function fixture() {
  shared ??= (() => {
    const built = time(() => sparseLp(N));
    return { instance: built.result, buildSeconds: built.seconds };
  })();
  return shared;
}

const label = `${N.toLocaleString('en-US')}×${N.toLocaleString('en-US')} sparse LP`;

export const cases = [
  {
    name: `OMMX Instance encode (v2 protobuf): ${label}`,
    unit: 'MB/s',
    higherIsBetter: true,
    async run(ctx) {
      const { instance, buildSeconds } = fixture();
      ctx.log(`built the Instance in ${fmt(buildSeconds)} s (not timed)`);
      const Schema = ommxMessage('ommx.v2.Instance');
      const bytes = instance.encode();
      const peerMessage = fromBinary(Schema, bytes);
      // The peer encodes the same content (its bytes differ only where prost omits a zero map key).
      toBinary(Schema, peerMessage);
      const ours = [];
      const peer = [];
      for (let t = 0; t < TRIALS; t++) {
        const p = time(() => toBinary(Schema, peerMessage));
        peer.push(p.result.byteLength / MB / p.seconds);
        const o = time(() => instance.encode());
        ours.push(o.result.byteLength / MB / o.seconds);
        ctx.log(`trial ${t + 1}: ours ${fmt(o.seconds)} s, peer ${fmt(p.seconds)} s`);
      }
      return {
        ours: Math.max(...ours),
        peer: Math.max(...peer),
        peerName: '@bufbuild/protobuf reflection toBinary',
        extra: {
          bytes: bytes.byteLength,
          'ours s': Number((bytes.byteLength / MB / Math.max(...ours)).toFixed(3)),
        },
      };
    },
  },
  {
    name: `OMMX Instance decode (v2 protobuf): ${label}`,
    unit: 'MB/s',
    higherIsBetter: true,
    async run(ctx) {
      const { instance } = fixture();
      const Schema = ommxMessage('ommx.v2.Instance');
      const bytes = instance.encode();
      const check = Instance.decode(bytes);
      if (check.constraints.length !== N) throw new Error('decode lost constraints');
      fromBinary(Schema, bytes);
      const ours = [];
      const peer = [];
      for (let t = 0; t < TRIALS; t++) {
        const p = time(() => fromBinary(Schema, bytes));
        peer.push(bytes.byteLength / MB / p.seconds);
        const o = time(() => Instance.decode(bytes));
        ours.push(bytes.byteLength / MB / o.seconds);
        ctx.log(`trial ${t + 1}: ours ${fmt(o.seconds)} s, peer ${fmt(p.seconds)} s`);
      }
      return {
        ours: Math.max(...ours),
        peer: Math.max(...peer),
        peerName: '@bufbuild/protobuf reflection fromBinary',
        extra: {
          bytes: bytes.byteLength,
          'ours s': Number((bytes.byteLength / MB / Math.max(...ours)).toFixed(3)),
        },
      };
    },
  },
  {
    name: `Instance.evaluate: ${label}`,
    unit: 's',
    higherIsBetter: false,
    async run(ctx) {
      const { instance } = fixture();
      const state = new Map(instance.decisionVariables.map((v) => [v.id, (v.id % 7) / 7]));
      const a = instance.evaluate(state);
      const b = naiveEvaluate(instance, state);
      if (
        Math.abs(a.objective - b.objective) > 1e-6 * Math.abs(b.objective) ||
        a.feasible !== b.feasible
      ) {
        throw new Error(
          `evaluate disagrees: ${a.objective}/${a.feasible} vs ${b.objective}/${b.feasible}`
        );
      }
      const ours = [];
      const peer = [];
      for (let t = 0; t < TRIALS; t++) {
        peer.push(time(() => naiveEvaluate(instance, state)).seconds);
        ours.push(time(() => instance.evaluate(state)).seconds);
        ctx.log(`trial ${t + 1}: ours ${fmt(ours.at(-1))} s, peer ${fmt(peer.at(-1))} s`);
      }
      return {
        ours: Math.min(...ours),
        peer: Math.min(...peer),
        peerName: 'straightforward Map-lookup evaluation, same rows',
        extra: { feasible: a.feasible },
      };
    },
  },
];
