// A long MIP for the worker-pool tests and the abort benchmark: a random market split instance
// (Cornuéjols and Dawande, "A class of hard small 0-1 programs", 1998), as an optimization
// problem with slacks so every point is feasible: m rows, n = 10 (m − 1) binary columns,
// a_ij uniform in 0..99, d_i = ⌊Σ_j a_ij / 2⌋, minimize Σ_i (s⁺_i + s⁻_i) subject to
// Σ_j a_ij x_j + s⁺_i − s⁻_i = d_i. Measured with highs 1.15.3 on this machine: m = 3 takes
// HiGHS 3–5 s, m = 4 did not finish in 60 s (seeds 1–3) — pass a time limit to bound it.
//
// Plain OMMX Instance data (no imports), so TypeScript tests, child processes and benchmarks
// build it with whichever `Instance` class they use: `new Instance(marketSplitData(4, 1))`.

/** mulberry32, as the demo study's generator. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NO_LABEL = { subscripts: [], parameters: {} };

/**
 * @param {number} m - rows (3: seconds; 4: minutes)
 * @param {number} seed - the generator's seed
 */
export function marketSplitData(m, seed) {
  const r = rng(seed);
  const n = 10 * (m - 1);
  const x = Array.from({ length: n }, (_, j) => ({
    ...NO_LABEL,
    id: j,
    kind: 'binary',
    bound: { lower: 0, upper: 1 },
  }));
  const slack = (id) => ({
    ...NO_LABEL,
    id,
    kind: 'continuous',
    bound: { lower: 0, upper: Infinity },
  });
  const plus = Array.from({ length: m }, (_, i) => slack(n + i));
  const minus = Array.from({ length: m }, (_, i) => slack(n + m + i));
  const constraints = Array.from({ length: m }, (_, i) => {
    const a = x.map(() => Math.floor(r() * 100));
    const d = Math.floor(a.reduce((s, v) => s + v, 0) / 2);
    return {
      ...NO_LABEL,
      id: i,
      equality: 'equal-to-zero',
      function: {
        kind: 'linear',
        terms: [
          ...a.map((coefficient, j) => ({ id: j, coefficient })),
          { id: n + i, coefficient: 1 },
          { id: n + m + i, coefficient: -1 },
        ],
        constant: -d,
      },
      provenance: [],
    };
  });
  return {
    description: { name: `market-split-${m}-s${seed}`, authors: [] },
    decisionVariables: [...x, ...plus, ...minus],
    objective: {
      kind: 'linear',
      terms: [...plus, ...minus].map((v) => ({ id: v.id, coefficient: 1 })),
      constant: 0,
    },
    constraints,
    removedConstraints: [],
    sense: 'minimize',
    decisionVariableDependency: new Map(),
    namedFunctions: [],
    annotations: {},
  };
}
