/**
 * Solver and sampler calls recorded in runs, against OMMX's own test expectations
 * (ommx-reference §9, numbers in the test names) and §5's rules.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { SolveView } from '../../src/experiment/solve.js';
import { parseDigest } from '../../src/oci/digest.js';
import { Instance } from '../../src/ommx/instance.js';
import { SampleSet } from '../../src/ommx/sample-set.js';
import { Solution } from '../../src/ommx/solution.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  failingAdapter,
  fixedStateAdapter,
  knapsack,
  statesSampler,
  type Seen,
} from '../helpers/ommx.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

async function newExperiment(ref = 'ghcr.io/acme/solves:v1') {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  return { root, registry, exp: await Experiment.create(ref, { registry }) };
}

const BEST = { 0: 0, 1: 1, 2: 1 };

describe('logSolve', () => {
  it('records input, Solution, adapter name and options; ids 0 and 1; no diagnostics unless asked (§9.36, §9.38)', async () => {
    const { exp, root } = await newExperiment();
    const seen: Seen = { calls: [] };
    const adapter = fixedStateAdapter(BEST, seen);
    const instance = knapsack({ 'com.example.source': 'unit-test' });
    const before = Buffer.from(instance.encode());
    const [a, b] = await exp.run(async (run) => [
      await run.logSolve(adapter, instance, { timeLimit: 5, presolve: true }),
      await run.logSolve(adapter, instance, { timeLimit: 10 }),
    ]);
    // Options reach the adapter; the diagnostics sink is absent when not asked for.
    expect(seen.calls.map((c) => c.options)).toEqual([
      { timeLimit: 5, presolve: true },
      { timeLimit: 10 },
    ]);
    expect(seen.calls.every((c) => !c.hasDiagnostics)).toBe(true);
    // The adapter got a copy: its mutation did not reach the caller's instance.
    expect(seen.calls[0]?.instance).not.toBe(instance);
    expect(instance.annotations['mutated-by-adapter']).toBeUndefined();
    expect(Buffer.from(instance.encode()).equals(before)).toBe(true);
    expect(a?.objective).toBe(20);
    expect(b?.feasible).toBe(true);

    const sealed = await exp.commit();
    const run = sealed.runs[0];
    expect(run?.solves.map((s) => [s.id, s.status, s.adapter])).toEqual([
      [0, 'finished', 'tests.FixedState'],
      [1, 'finished', 'tests.FixedState'],
    ]);
    expect(run?.samplings).toEqual([]);
    const s0 = run?.solves[0];
    expect(s0?.adapterOptions).toEqual({ presolve: true, timeLimit: 5 });
    expect(await s0?.getDiagnostics()).toEqual([]);
    expect(s0?.diagnosticsDescriptor).toBeUndefined();
    // Input: the caller's instance, byte for byte, with OMMX's mirrored annotations.
    expect(s0?.inputDescriptor.mediaType).toBe('application/org.ommx.v2.instance');
    expect(s0?.inputDescriptor.annotations).toMatchObject({
      'org.ommx.v1.instance.title': 'knapsack-3',
      'org.ommx.v1.instance.authors': 'runledger tests',
      'org.ommx.v1.instance.variables': '3',
      'org.ommx.v1.instance.constraints': '1',
      'com.example.source': 'unit-test',
    });
    const input = await s0?.getInput();
    expect(Buffer.from(input?.encode() ?? []).equals(before)).toBe(true);
    // Output: the Solution with start/end, the input digest and the options in its metadata.
    expect(s0?.outputDescriptor?.mediaType).toBe('application/org.ommx.v2.solution');
    const out = (await s0?.getOutput()) as Solution;
    expect(out).toBeInstanceOf(Solution);
    expect(out.objective).toBe(20);
    expect(out.metadata?.instance).toBe(s0?.inputDescriptor.digest);
    expect(out.metadata?.parameters).toBe('{"presolve":true,"timeLimit":5}');
    const start = Date.parse(out.metadata?.start ?? '');
    const end = Date.parse(out.metadata?.end ?? '');
    expect(Number.isNaN(start) || Number.isNaN(end)).toBe(false);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(s0?.outputDescriptor?.annotations).toMatchObject({
      'org.ommx.v1.solution.instance': s0?.inputDescriptor.digest,
      'org.ommx.v1.solution.start': out.metadata?.start,
    });
    // The returned Solution is the recorded one.
    expect(a?.metadata?.start).toBe(out.metadata?.start);
    // Solves are not parameters (§5.2): the parameter table stays empty.
    expect(sealed.runParametersDf().numCols).toBe(1);
    expect(sealed.runParametersDf().numRows).toBe(1);
    // OMMX's loader rules hold for the artifact with solves.
    await validateOmmxExperimentLayout(root, sealed.reference);
  });

  it('keeps the layer order input, output, diagnostics per solve after the run attachments (§2.3)', async () => {
    const { exp } = await newExperiment();
    await exp.run(async (run) => {
      await run.logJson('notes', { a: 1 });
      await run.logSolve(
        fixedStateAdapter(BEST, { calls: [] }, { step: 1 }),
        knapsack(),
        {},
        {
          storeDiagnostics: true,
        }
      );
    });
    const sealed = await exp.commit();
    expect(sealed.manifest.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.runledger.runs.v1+json',
      'application/json',
      'application/org.ommx.v2.instance',
      'application/org.ommx.v2.solution',
      'application/org.ommx.diagnostic+msgpack',
      'application/org.ommx.v1.experiment.run-parameters+msgpack',
    ]);
    expect(sealed.config.runs[0]?.solves[0]).toMatchObject({
      input: 2,
      output: 3,
      diagnostics: 4,
    });
  });

  it('stores diagnostics, with non-finite floats (§9.47)', async () => {
    const { exp } = await newExperiment();
    const report = { phase: 'presolve', gap: Infinity, low: -Infinity, cuts: 3 };
    const seen: Seen = { calls: [] };
    await exp.run((run) =>
      run.logSolve(
        fixedStateAdapter(BEST, seen, report),
        knapsack(),
        {},
        {
          storeDiagnostics: true,
        }
      )
    );
    expect(seen.calls[0]?.hasDiagnostics).toBe(true);
    const sealed = await exp.commit();
    expect(await sealed.runs[0]?.solves[0]?.getDiagnostics()).toEqual([report]);
  });

  it('drops diagnostics that do not serialize and still finishes the solve (§9.48)', async () => {
    const { exp } = await newExperiment();
    const report = { handle: new Map([[1, 2]]) } as unknown as Record<string, unknown>;
    await exp.run((run) =>
      run.logSolve(
        fixedStateAdapter(BEST, { calls: [] }, report),
        knapsack(),
        {},
        {
          storeDiagnostics: true,
        }
      )
    );
    const sealed = await exp.commit();
    const s = sealed.runs[0]?.solves[0];
    expect(s?.status).toBe('finished');
    expect(s?.diagnosticsDescriptor).toBeUndefined();
    expect(await s?.getDiagnostics()).toEqual([]);
  });

  it('keeps finished solves and records the failed one with diagnostics when the adapter throws; the run fails (§9.49, §9.73)', async () => {
    const { exp } = await newExperiment();
    const boom = new RangeError('solver exploded');
    const failing = failingAdapter(boom, { stage: 'branching' });
    const ok = fixedStateAdapter(BEST);
    const caught = await exp
      .run(async (run) => {
        await run.logSolve(ok, knapsack(), { seed: 1 });
        await run.logSolve(ok, knapsack(), { seed: 2 });
        await run.logSolve(failing, knapsack(), { seed: 3 }, { storeDiagnostics: true });
      })
      .catch((e: unknown) => e);
    expect(caught).toBe(boom); // the adapter's own error object
    const sealed = await exp.commit();
    const run = sealed.runs[0];
    expect(run?.status).toBe('failed');
    expect(run?.reason).toBe('RangeError: solver exploded');
    expect(run?.solves.map((s) => s.status)).toEqual(['finished', 'finished', 'failed']);
    const failed = run?.solves[2];
    expect(failed?.outputDescriptor).toBeUndefined();
    expect(await failed?.getOutput()).toBeUndefined();
    expect(failed?.adapterOptions).toEqual({ seed: 3 });
    expect(await failed?.getDiagnostics()).toEqual([{ stage: 'branching' }]);
    expect((await failed?.getInput())?.constraints.length).toBe(1);
  });

  it('records an aborted solve and its run as interrupted and rethrows the same error (§9.50)', async () => {
    const { exp } = await newExperiment();
    const abort = new DOMException('stopped by the user', 'AbortError');
    const caught = await exp
      .run((run) => run.logSolve(failingAdapter(abort), knapsack()))
      .catch((e: unknown) => e);
    expect(caught).toBe(abort);
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.status).toBe('interrupted');
    expect(sealed.runs[0]?.solves[0]?.status).toBe('interrupted');
  });

  it('rejects what is not a SolverAdapter (§9.51)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    for (const bad of [null, {}, { name: 'x' }, { name: '', solve: () => undefined }, 'highs']) {
      await expectCode(run.logSolve(bad as never, knapsack()), 'ADAPTER_INVALID');
    }
    await run.finish();
    expect((await exp.commit()).runs[0]?.solves).toEqual([]);
  });

  it('rejects options that are not JSON before solving: the adapter is never called (§9.52, §9.42)', async () => {
    const { exp } = await newExperiment();
    const seen: Seen = { calls: [] };
    const adapter = fixedStateAdapter(BEST, seen);
    const run = exp.startRun();
    const err = await expectCode(
      run.logSolve(adapter, knapsack(), { limit: 10n } as never),
      'ARGUMENT_INVALID'
    );
    expect(err.message).toMatch(/JSON-serializable/);
    await expectCode(run.logSolve(adapter, knapsack(), { limit: NaN }), 'ARGUMENT_INVALID');
    const owned = await expectCode(
      run.logSolve(adapter, knapsack(), { diagnostics: true }),
      'ARGUMENT_INVALID'
    );
    expect(owned.message).toMatch(/storeDiagnostics/);
    await expectCode(run.logSolve(adapter, { objective: 1 } as never), 'ARGUMENT_INVALID');
    expect(seen.calls).toEqual([]);
    await run.finish();
    expect((await exp.commit()).runs[0]?.solves).toEqual([]);
  });

  it('records an adapter that returns something else as a failed solve', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    await expectCode(
      run.logSolve({ name: 'tests.Wrong', solve: () => ({ objective: 1 }) as never }, knapsack()),
      'ADAPTER_INVALID'
    );
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.solves.map((s) => s.status)).toEqual(['failed']);
  });

  it('refuses a solve on a closed run', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    await run.finish();
    await expectCode(run.logSolve(fixedStateAdapter(BEST), knapsack()), 'RUN_CLOSED');
  });
});

describe('logSample', () => {
  it('records a finished Sampling even with no feasible sample, apart from solves (§9.37)', async () => {
    const { exp, root } = await newExperiment();
    const over = { 0: 1, 1: 1, 2: 1 }; // weight 13 > 9: infeasible
    const samples = await exp.run((run) =>
      run.logSample(statesSampler([over, over]), knapsack(), { reads: 2 })
    );
    expect(samples).toBeInstanceOf(SampleSet);
    expect([...samples.feasible.values()]).toEqual([false, false]);
    const sealed = await exp.commit();
    const run = sealed.runs[0];
    expect(run?.solves).toEqual([]);
    expect(run?.samplings.map((s) => [s.id, s.status, s.adapter])).toEqual([
      [0, 'finished', 'tests.States'],
    ]);
    expect(run?.samplings[0]?.adapterOptions).toEqual({ reads: 2 });
    const out = (await run?.samplings[0]?.getOutput()) as SampleSet;
    expect(out).toBeInstanceOf(SampleSet);
    expect(out.sampleIds).toEqual([0, 1]);
    expect(out.metadata?.start).toBeDefined();
    expect(sealed.config.runs[0]?.samplings[0]?.output).toBeDefined();
    await validateOmmxExperimentLayout(root, sealed.reference);
  });

  it('records a failed Sampling separately from solves and rethrows (§9.39)', async () => {
    const { exp } = await newExperiment();
    const boom = new Error('sampler down');
    const run = exp.startRun();
    await expect(run.logSample(failingAdapter(boom), knapsack())).rejects.toBe(boom);
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.solves).toEqual([]);
    expect(sealed.runs[0]?.samplings.map((s) => s.status)).toEqual(['failed']);
    expect(sealed.runs[0]?.samplings[0]?.outputDescriptor).toBeUndefined();
  });

  it('rejects a solver adapter without sample()', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    await expectCode(
      run.logSample(fixedStateAdapter(BEST) as never, knapsack()),
      'ADAPTER_INVALID'
    );
    await run.finish();
  });
});

describe('openSolve', () => {
  it('records a solve driven by hand: options merged, decoded output, diagnostics (§9.40)', async () => {
    const { exp } = await newExperiment();
    const seen: Seen = { calls: [] };
    const adapter = fixedStateAdapter(BEST, seen);
    const result = await exp.run(async (run) => {
      const solve = await run.openSolve(
        adapter,
        knapsack(),
        { mode: 'manual' },
        {
          storeDiagnostics: true,
        }
      );
      expect(solve.solveId).toBe(0);
      expect(solve.outcome).toBeUndefined();
      expect(solve.solverInput).toEqual(BEST);
      solve.logAdapterOption('threads', 1);
      solve.diagnostics?.record({ before: 'decode' });
      await solve.decode({ 0: 1, 1: 0, 2: 1 });
      solve.diagnostics?.record({ after: 'decode' });
      const solution = await solve.close();
      expect(solve.outcome).toBe('finished');
      return solution;
    });
    expect(result.objective).toBe(17);
    expect(seen.calls[0]?.options).toEqual({ mode: 'manual' });
    const sealed = await exp.commit();
    const s = sealed.runs[0]?.solves[0];
    expect(s?.status).toBe('finished');
    expect(s?.adapterOptions).toEqual({ mode: 'manual', threads: 1 });
    expect(((await s?.getOutput()) as Solution).objective).toBe(17);
    expect(await s?.getDiagnostics()).toEqual([{ before: 'decode' }, { after: 'decode' }]);
  });

  it('refuses use after close; outcome is undefined until closed (§9.41)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const solve = await run.openSolve(fixedStateAdapter(BEST), knapsack());
    expect(solve.outcome).toBeUndefined();
    await solve.decode(BEST);
    await solve.close();
    expect(() => solve.solverInput).toThrow(/already closed/);
    expect(() => solve.logAdapterOption('a', 1)).toThrow(/already closed/);
    await expectCode(solve.decode(BEST), 'RUN_CLOSED');
    await expectCode(solve.close(), 'RUN_CLOSED');
    await run.finish();
  });

  it('rejects a non-JSON adapter option and keeps the options as they were', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const solve = await run.openSolve(fixedStateAdapter(BEST), knapsack(), { a: 1 });
    expect(() => solve.logAdapterOption('bad', 1n)).toThrow(/JSON-serializable/);
    await solve.decode(BEST);
    await solve.close();
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.solves[0]?.adapterOptions).toEqual({ a: 1 });
  });

  it('records a failed solve when the adapter cannot build the model; the run fails (§9.43)', async () => {
    const { exp } = await newExperiment();
    const boom = new TypeError('cannot build model');
    const adapter = {
      name: 'tests.BrokenPrepare',
      solve: () => {
        throw new Error('unused');
      },
      prepare: () => {
        throw boom;
      },
    };
    const caught = await exp
      .run((run) => run.openSolve(adapter, knapsack(), { size: 3 }))
      .catch((e: unknown) => e);
    expect(caught).toBe(boom);
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.status).toBe('failed');
    const s = sealed.runs[0]?.solves[0];
    expect(s?.status).toBe('failed');
    expect(s?.adapterOptions).toEqual({ size: 3 });
    expect(s?.outputDescriptor).toBeUndefined();
    expect((await s?.getInput())?.decisionVariables.length).toBe(3);
  });

  it('a failing decode discards the earlier decoded Solution (§9.44)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const solve = await run.openSolve(fixedStateAdapter(BEST), knapsack());
    await solve.decode(BEST);
    expect(solve.solution?.objective).toBe(20);
    await expectCode(solve.decode({ 0: 1 }), 'ARGUMENT_INVALID'); // misses x1, x2
    expect(solve.solution).toBeUndefined();
    await expectCode(solve.close(), 'SOLVE_NOT_DECODED');
    expect(solve.outcome).toBe('missing_decode');
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.solves[0]?.status).toBe('failed');
  });

  it('fail(error) records a failed solve with options and diagnostics (§9.45)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const solve = await run.openSolve(
      fixedStateAdapter(BEST),
      knapsack(),
      { k: 'v' },
      {
        storeDiagnostics: true,
      }
    );
    solve.diagnostics?.record({ note: 'about to fail' });
    await solve.fail(new Error('backend crashed'));
    expect(solve.outcome).toBe('failed');
    await run.finish();
    const s = (await exp.commit()).runs[0]?.solves[0];
    expect(s?.status).toBe('failed');
    expect(s?.adapterOptions).toEqual({ k: 'v' });
    expect(await s?.getDiagnostics()).toEqual([{ note: 'about to fail' }]);
  });

  it('close() without decode records a failed solve and throws SOLVE_NOT_DECODED (§9.46)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const solve = await run.openSolve(fixedStateAdapter(BEST), knapsack());
    const err = await expectCode(solve.close(), 'SOLVE_NOT_DECODED');
    expect(err.message).toMatch(/decode\(\)/);
    await run.finish();
    expect((await exp.commit()).runs[0]?.solves[0]?.status).toBe('failed');
  });

  it('a solve left open when its run closes is kept as failed; await using closes it', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    await run.openSolve(fixedStateAdapter(BEST), knapsack(), { left: 'open' });
    {
      await using solve = await run.openSolve(fixedStateAdapter(BEST), knapsack());
      await solve.decode(BEST);
    }
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]?.solves.map((s) => s.status)).toEqual(['failed', 'finished']);
  });
});

describe('typed attachments', () => {
  it('round-trip Instance, Solution and SampleSet with user annotations (§9.6)', async () => {
    const { exp } = await newExperiment();
    const instance = knapsack({ 'com.example.owner': 'ops' });
    const solution = instance.evaluate(BEST).with({ annotations: { 'com.example.tag': 'best' } });
    const samples = instance.evaluateSamples([BEST, { 0: 1, 1: 1, 2: 1 }]);
    await exp.logInstance('instance', instance);
    await exp.run(async (run) => {
      await run.logSolution('solution', solution);
      await run.logSampleSet('samples', samples);
    });
    const sealed = await exp.commit();
    const back = await sealed.getInstance('instance');
    expect(back).toBeInstanceOf(Instance);
    expect(back.annotations['com.example.owner']).toBe('ops');
    expect(back.description?.name).toBe('knapsack-3');
    expect(await sealed.getAttachment('instance')).toBeInstanceOf(Instance);
    const run = sealed.runs[0];
    const sol = await run?.getSolution('solution');
    expect(sol?.annotations['com.example.tag']).toBe('best');
    expect(sol?.objective).toBe(20);
    expect((await run?.getAttachment('solution')) as Solution).toBeInstanceOf(Solution);
    expect((await run?.getSampleSet('samples'))?.objectives.get(1)).toBe(30);
    expect(sealed.attachmentMediaType('instance')).toBe('application/org.ommx.v2.instance');
  });

  it('typed getters check the media type before reading (§9.5, §9.97, §9.98)', async () => {
    const { exp, root } = await newExperiment();
    await exp.logJson('config', { a: 1 });
    await exp.logInstance('instance', knapsack());
    const sealed = await exp.commit();
    await expectCode(sealed.getInstance('config'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(sealed.getSolution('instance'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(sealed.getJson('instance'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(sealed.getSampleSet('missing'), 'ATTACHMENT_NOT_FOUND');
    // The check needs no blob: with every blob gone the mismatch is still reported as such.
    const { rm } = await import('node:fs/promises');
    await rm(join(root, 'blobs'), { recursive: true });
    await expectCode(sealed.getParametricInstance('config'), 'MEDIA_TYPE_MISMATCH');
  });

  it('a malformed Instance payload is PAYLOAD_INVALID (§9.99)', async () => {
    const { exp } = await newExperiment();
    await exp.logAttachment(
      'garbage',
      'application/org.ommx.v2.instance',
      Uint8Array.of(0x0a, 0xff, 0xff, 0xff)
    );
    const sealed = await exp.commit();
    await expectCode(sealed.getInstance('garbage'), 'PAYLOAD_INVALID');
  });

  it('logInstance refuses what is not an Instance', async () => {
    const { exp } = await newExperiment();
    await expectCode(exp.logInstance('x', { objective: 1 } as never), 'ARGUMENT_INVALID');
  });
});

describe('solvesDf', () => {
  it('has one row per solve with objective, feasibility, timing and options as columns', async () => {
    const { exp } = await newExperiment();
    const adapter = fixedStateAdapter(BEST);
    await exp.run(async (run) => {
      await run.logSolve(adapter, knapsack(), { timeLimit: 5, presolve: true });
      await run.logSolve(fixedStateAdapter({ 0: 1, 1: 1, 2: 1 }), knapsack(), { timeLimit: 2.5 });
    });
    await exp
      .run((run) => run.logSolve(failingAdapter(new Error('x')), knapsack(), { mode: 'x' }))
      .catch(() => undefined);
    const live = await exp.solvesDf();
    const sealed = await exp.commit();
    const df = await sealed.solvesDf();
    expect(live.numRows).toBe(3);
    expect(df.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'solve_id',
      'adapter',
      'status',
      'objective',
      'feasible',
      'optimality',
      'started_at',
      'ended_at',
      'duration_ms',
      'options.presolve',
      'options.timeLimit',
      'options.mode',
    ]);
    const col = (name: string): unknown[] => {
      const v = df.getChild(name);
      if (v === null) throw new Error(name);
      return [...v.toArray()].map((x: unknown, i: number) => (v.isValid(i) ? x : null));
    };
    expect(col('run_id')).toEqual([0n, 0n, 1n]);
    expect(col('solve_id')).toEqual([0n, 1n, 0n]);
    expect(col('status')).toEqual(['finished', 'finished', 'failed']);
    expect(col('objective')).toEqual([20, 30, null]);
    expect(col('feasible')).toEqual([true, false, null]);
    expect(col('options.timeLimit')).toEqual([5, 2.5, null]);
    expect(col('options.presolve')).toEqual([true, null, null]);
    expect(col('options.mode')).toEqual([null, null, 'x']);
    expect((col('duration_ms')[0] as number) >= 0).toBe(true);
  });
});

describe('SolveView.adapterOptions', () => {
  const input = {
    mediaType: 'application/org.ommx.v2.instance',
    digest: parseDigest(`sha256:${'0'.repeat(64)}`),
    size: 0,
  };
  const view = async (text: string): Promise<SolveView> =>
    new SolveView(
      'solve',
      { id: 0, status: 'finished', input, adapter: 'py.Adapter', adapterOptions: text },
      await LocalRegistry.open(await tempDir())
    );

  it("reads what Python's json.dumps writes, NaN and Infinity included", async () => {
    const v = await view(
      '{"gap": NaN, "bounds": [Infinity, -Infinity], "name": "NaN \\" Infinity"}'
    );
    expect(v.adapterOptions).toEqual({
      gap: Number.NaN,
      bounds: [Infinity, -Infinity],
      name: 'NaN " Infinity',
    });
  });

  it('reports options that are not a JSON object when read, not when loaded', async () => {
    const v = await view('[1, 2]');
    expect(v.adapterOptionsJson).toBe('[1, 2]');
    expect(() => v.adapterOptions).toThrow(/not a JSON object/);
    await expect((async () => (await view('{oops')).adapterOptions)()).rejects.toThrow(/not JSON/);
  });
});
