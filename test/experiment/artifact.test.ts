/**
 * Generic OMMX artifacts: OMMX's own random_lp_instance.ommx (a v1 Instance), and typed v2
 * layers read back by kind (ommx-reference §9.78–84, §9.97–99).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Artifact, MEDIA_TYPE_ARTIFACT } from '../../src/experiment/artifact.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { encodePayload } from '../../src/experiment/payloads.js';
import { MEDIA_TYPE_EMPTY, MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import { Instance } from '../../src/ommx/instance.js';
import { ParametricInstance } from '../../src/ommx/parametric-instance.js';
import { SampleSet } from '../../src/ommx/sample-set.js';
import { Solution } from '../../src/ommx/solution.js';
import { HighsAdapter } from '../../src/solve/adapters/highs.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { knapsack } from '../helpers/ommx.js';
import { tempDir } from '../helpers/temp.js';

const FIXTURE = fileURLToPath(
  new URL('../../../shared/fixtures/ommx/random_lp_instance.ommx', import.meta.url)
);
const HAS_FIXTURE = existsSync(FIXTURE);
if (!HAS_FIXTURE) {
  process.stderr.write(`skipping the OMMX fixture tests: ${FIXTURE} is absent\n`);
}

describe.skipIf(!HAS_FIXTURE)('random_lp_instance.ommx, written by OMMX', () => {
  async function load() {
    const registry = await LocalRegistry.open(await tempDir());
    const art = await Artifact.importArchive(FIXTURE, { registry });
    return { registry, art };
  }

  it('imports as a generic OMMX artifact whose v1 Instance decodes, with its descriptor title', async () => {
    const { art } = await load();
    expect(art.reference).toBe('ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91');
    expect(art.artifactType).toBe(MEDIA_TYPE_ARTIFACT);
    expect(art.layers.map((l) => l.mediaType)).toEqual(['application/org.ommx.v1.instance']);
    const instance = await art.getInstance(0);
    expect(instance).toBeInstanceOf(Instance);
    expect(instance.description?.name).toBe('random_lp');
    expect(instance.description?.created).toBe('2024-09-20T12:25:54.155493+09:00');
    expect(instance.decisionVariables.length).toBeGreaterThan(0);
    expect(instance.constraints.length).toBeGreaterThan(0);
    // By descriptor as well as by index; the same Instance.
    expect(await art.getInstance(art.layers[0]!)).toEqual(instance);
  });

  it('re-encodes as v2 and decodes again to an equal Instance', async () => {
    const { art } = await load();
    const instance = await art.getInstance(0);
    const v2 = instance.encode();
    const again = Instance.decode(v2);
    expect(again).toEqual(instance);
    expect(Buffer.from(again.encode()).equals(Buffer.from(v2))).toBe(true);
  });

  it('HiGHS proves it infeasible (7 equalities in 5 unknowns: checked independently); the failed solve keeps its input', async () => {
    const { registry, art } = await load();
    const instance = await art.getInstance(0);
    expect(instance.decisionVariables).toHaveLength(5);
    expect(instance.constraints.map((c) => c.equality)).toEqual(new Array(7).fill('equal-to-zero'));
    // Independent of HiGHS: even without x ≥ 0, A x = -c has no solution — the least-squares
    // residual of the 7×5 system (normal equations, Gaussian elimination) is far from zero.
    const rows = instance.constraints.map((c) => {
      if (c.function.kind !== 'linear') throw new Error('expected linear constraints');
      const a = new Array<number>(5).fill(0);
      for (const t of c.function.terms) a[t.id] = (a[t.id] ?? 0) + t.coefficient;
      return { a, b: -c.function.constant };
    });
    expect(leastSquaresResidual(rows)).toBeGreaterThan(1e-3);
    // The same check finds no gap when the right-hand sides are made consistent (x = 1 solves it).
    const consistent = rows.map((r) => ({ a: r.a, b: r.a.reduce((t, v) => t + v, 0) }));
    expect(leastSquaresResidual(consistent)).toBeLessThan(1e-9);

    const exp = await Experiment.create('ghcr.io/acme/random-lp:highs', { registry });
    const run = exp.startRun();
    await expectCode(run.logSolve(HighsAdapter, instance, { presolve: true }), 'SOLVER_INFEASIBLE');
    await run.finish();
    const solve = (await exp.commit()).runs[0]!.solves[0]!;
    expect(solve.status).toBe('failed');
    expect(await solve.getInput()).toEqual(instance);
  });

  it('made feasible (constants shifted so x = 1 satisfies every row, x ≤ 10), HiGHS solves it and evaluate() gives the objective HiGHS reported (1e-6)', async () => {
    const { registry, art } = await load();
    const original = await art.getInstance(0);
    const instance = new Instance({
      ...original,
      decisionVariables: original.decisionVariables.map((v) => ({
        ...v,
        bound: { lower: 0, upper: 10 },
      })),
      constraints: original.constraints.map((c) => {
        if (c.function.kind !== 'linear') throw new Error('expected linear constraints');
        const atOnes = c.function.terms.reduce((sum, t) => sum + t.coefficient, 0);
        return { ...c, function: { ...c.function, constant: -atOnes } };
      }),
    });
    expect(instance.evaluate({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1 }).feasible).toBe(true);
    const exp = await Experiment.create('ghcr.io/acme/random-lp:highs-feasible', { registry });
    const solution = await exp.run((run) =>
      run.logSolve(HighsAdapter, instance, { presolve: true }, { storeDiagnostics: true })
    );
    expect(solution.optimality).toBe('optimal');
    expect(solution.feasible).toBe(true);
    const sealed = await exp.commit();
    const [report] = (await sealed.runs[0]!.solves[0]!.getDiagnostics()) as {
      objectiveValue: number;
      status: string;
    }[];
    expect(report?.status).toBe('Optimal');
    const reported = report!.objectiveValue;
    const evaluated = instance.evaluate(solution.state).objective;
    expect(Math.abs(evaluated - reported)).toBeLessThanOrEqual(
      1e-6 * Math.max(1, Math.abs(reported))
    );
  });

  it('typed getters check media type and selector (§9.79, §9.97, §9.98)', async () => {
    const { art } = await load();
    await expectCode(art.getSolution(0), 'MEDIA_TYPE_MISMATCH');
    await expectCode(art.getSampleSet(0), 'MEDIA_TYPE_MISMATCH');
    await expectCode(art.getInstance(1), 'ARGUMENT_INVALID');
    await expectCode(art.getInstance(art.layers[0]!.digest as never), 'ARGUMENT_INVALID');
    expect((await art.getBlob(0)).byteLength).toBe(art.layers[0]!.size);
  });
});

describe('an artifact with v2 layers of every kind (§9.81–84)', () => {
  it('reads Instance, ParametricInstance, Solution and SampleSet back by kind', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const instance = knapsack({ 'com.example.k': 'v' });
    const parametric = new ParametricInstance({
      decisionVariables: instance.decisionVariables,
      parameters: [{ id: 100, name: 'cap', subscripts: [], parameters: {} }],
      objective: instance.objective,
      constraints: [],
      removedConstraints: [],
      sense: 'maximize',
      decisionVariableDependency: new Map(),
      namedFunctions: [],
      annotations: {},
    });
    const solution = instance.evaluate({ 0: 0, 1: 1, 2: 1 });
    const samples = instance.evaluateSamples([{ 0: 1, 1: 0, 2: 0 }]);
    const payloads = [
      encodePayload('instance', instance),
      encodePayload('parametric-instance', parametric),
      encodePayload('solution', solution),
      encodePayload('sample-set', samples),
    ];
    const batch = registry.batch();
    const config = await batch.putBlob(new TextEncoder().encode('{}'));
    const layers = [];
    for (const p of payloads) {
      layers.push({
        mediaType: p.mediaType,
        ...(await batch.putBlob(p.bytes)),
        annotations: p.annotations,
      });
    }
    await batch.commit();
    const manifest = await registry.writeManifest({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      artifactType: MEDIA_TYPE_ARTIFACT,
      config: { mediaType: MEDIA_TYPE_EMPTY, ...config },
      layers,
    });
    await registry.publishRef('ghcr.io/acme/typed:v1', manifest);
    const art = await Artifact.load('ghcr.io/acme/typed:v1', { registry });
    expect(art.layers.map((l) => l.mediaType)).toEqual([
      'application/org.ommx.v2.instance',
      'application/org.ommx.v2.parametric-instance',
      'application/org.ommx.v2.solution',
      'application/org.ommx.v2.sample-set',
    ]);
    const i = await art.getInstance(0);
    expect(i).toBeInstanceOf(Instance);
    expect(i.annotations['com.example.k']).toBe('v');
    expect(i.encode()).toEqual(instance.encode());
    const p = await art.getParametricInstance(1);
    expect(p).toBeInstanceOf(ParametricInstance);
    expect(p.parameters.map((q) => q.name)).toEqual(['cap']);
    const s = await art.getSolution(2);
    expect(s).toBeInstanceOf(Solution);
    expect(s.objective).toBe(20);
    const ss = await art.getSampleSet(3);
    expect(ss).toBeInstanceOf(SampleSet);
    expect(ss.objectives.get(0)).toBe(10);
    await expectCode(art.getInstance(2), 'MEDIA_TYPE_MISMATCH');
  });
});

/** ‖A x − b‖ at the least-squares x (normal equations solved by Gaussian elimination). */
function leastSquaresResidual(rows: readonly { a: readonly number[]; b: number }[]): number {
  const n = rows[0]!.a.length;
  const m: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) =>
      rows.reduce((s, r) => s + r.a[i]! * (j === n ? r.b : r.a[j]!), 0)
    )
  );
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = m.map((row, i) => row[n]! / row[i]!);
  return Math.sqrt(
    rows.reduce((s, r) => s + (r.a.reduce((t, a, j) => t + a * x[j]!, 0) - r.b) ** 2, 0)
  );
}
