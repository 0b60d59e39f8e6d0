// Case: build the run-parameter table (run_parameters_df) of 100,000 runs × 20 parameters as an
// Apache Arrow table, against the straightforward apache-arrow route: the same columns gathered
// into plain JS arrays (null for a missing cell) and handed to vectorFromArray with explicit types.
// Both start from the same ParameterTable and produce the same schema and cells (checked on a
// sample of rows); building the ParameterTable is not timed. One untimed warm-up per side, then
// trials alternate peer, ours, peer, ours and the best of each is kept.
//
// The parameters mix the four column types (5 each), 10% of cells missing, a few NaN/±Infinity.
//
// RUNLEDGER_BENCH_RUNS overrides the number of runs (default 100000) for quick runs;
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 3).
import { Bool, Float64, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { ParameterTable } from '../../dist/src/experiment/parameters.js';
import { runParametersTable } from '../../dist/src/tables/arrow.js';
import { mulberry32 as random } from '../../dist/src/experiment/seeded.js';
import { fmt } from './lib.mjs';

const RUNS = Number(process.env['RUNLEDGER_BENCH_RUNS'] ?? 100_000);
const PARAMS = 20;
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));
const TARGET_S = 1;
const TYPES = ['bool', 'int64', 'float64', 'string'];
const SOLVERS = ['highs', 'scip', 'cbc', 'gurobi', 'cplex', 'ortools'];

function buildParameters() {
  const rnd = random(42);
  const table = new ParameterTable();
  const names = Array.from({ length: PARAMS }, (_, i) => `${TYPES[i % 4]}_${i}`);
  for (let run = 0; run < RUNS; run++) {
    for (let p = 0; p < PARAMS; p++) {
      if (rnd() < 0.1) continue; // a missing cell
      const r = rnd();
      let value;
      switch (TYPES[p % 4]) {
        case 'bool':
          value = r < 0.5;
          break;
        case 'int64':
          value = Math.floor(r * 1e6) - 1000;
          break;
        case 'float64':
          value = r < 0.001 ? [NaN, Infinity, -Infinity][run % 3] : r * 100 + 0.5;
          break;
        default:
          value = r < 0.5 ? SOLVERS[Math.floor(r * 12)] : `run-${run}-é${p}`;
      }
      table.set(run, names[p], value);
    }
  }
  return table;
}

/** The straightforward route: plain JS arrays per column, then vectorFromArray. */
function peerTable(params, runIds) {
  const columns = params.columns();
  const ids = new Set(runIds);
  for (const c of columns) for (const id of c.values.keys()) ids.add(id);
  const rows = [...ids].sort((a, b) => a - b);
  const rowOf = new Map(rows.map((id, row) => [id, row]));
  const first = (c) => {
    let min = Infinity;
    for (const id of c.values.keys()) if (id < min) min = id;
    return min;
  };
  const ordered = columns
    .map((c) => ({ c, first: first(c) }))
    .sort((a, b) => a.first - b.first || (a.c.name < b.c.name ? -1 : a.c.name > b.c.name ? 1 : 0));
  const arrowType = { bool: Bool, int64: Int64, float64: Float64, string: Utf8 };
  const vectors = { run_id: vectorFromArray(rows.map(BigInt), new Int64()) };
  for (const { c } of ordered) {
    const values = new Array(rows.length).fill(null);
    for (const [id, v] of c.values) values[rowOf.get(id)] = v;
    vectors[c.name] = vectorFromArray(values, new arrowType[c.type]());
  }
  return new Table(vectors);
}

function same(a, b) {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Same column names and types, same cells on every 97th row. */
function checkEqual(ours, peer) {
  const names = (t) => t.schema.fields.map((f) => `${f.name}:${f.type}`).join(',');
  if (names(ours) !== names(peer))
    throw new Error(`schemas differ: ${names(ours)} vs ${names(peer)}`);
  if (ours.numRows !== peer.numRows) throw new Error(`${ours.numRows} vs ${peer.numRows} rows`);
  for (const f of ours.schema.fields) {
    const x = ours.getChild(f.name);
    const y = peer.getChild(f.name);
    for (let row = 0; row < ours.numRows; row += 97) {
      if (!same(x.get(row), y.get(row))) {
        throw new Error(`${f.name}[${row}]: ${x.get(row)} vs ${y.get(row)}`);
      }
    }
  }
}

function time(fn) {
  const t0 = performance.now();
  const result = fn();
  return { result, seconds: (performance.now() - t0) / 1000 };
}

export const cases = [
  {
    name: `run_parameters_df: ${RUNS.toLocaleString('en-US')} runs × ${PARAMS} parameters`,
    unit: 's',
    higherIsBetter: false,
    async run(ctx) {
      const built = time(buildParameters);
      const params = built.result;
      const cells = params.columns().reduce((n, c) => n + c.values.size, 0);
      ctx.log(
        `ParameterTable: ${cells.toLocaleString('en-US')} cells in ${fmt(built.seconds)} s (not timed)`
      );
      const runIds = Array.from({ length: RUNS }, (_, i) => i);

      // Warm-up (JIT, lazy Arrow internals), then check both sides agree.
      checkEqual(runParametersTable(params, runIds), peerTable(params, runIds));

      const ourRuns = [];
      const peerRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        const peer = time(() => peerTable(params, runIds));
        peerRuns.push(peer.seconds);
        ctx.log(`peer trial ${t + 1}: ${fmt(peer.seconds)} s`);
        const ours = time(() => runParametersTable(params, runIds));
        ourRuns.push(ours.seconds);
        ctx.log(`ours trial ${t + 1}: ${fmt(ours.seconds)} s`);
        if (ours.result.numRows !== RUNS) throw new Error(`${ours.result.numRows} rows`);
      }

      const best = Math.min(...ourRuns);
      return {
        ours: best,
        peer: Math.min(...peerRuns),
        peerName: 'apache-arrow vectorFromArray',
        checks: [
          { label: `target < ${TARGET_S} s`, value: `${fmt(best)} s`, pass: best < TARGET_S },
        ],
        extra: {
          cells,
          'ours s': ourRuns.map((s) => Number(s.toFixed(3))),
          'peer s': peerRuns.map((s) => Number(s.toFixed(3))),
        },
      };
    },
  },
];
