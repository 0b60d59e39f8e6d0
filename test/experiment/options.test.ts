/**
 * Options objects of the experiment API: an unknown key is refused (ARGUMENT_INVALID naming it
 * and the keys accepted), never silently dropped, and a refused call changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const NAME = 'ghcr.io/acme/options:v1';

async function newExperiment() {
  const registry = await LocalRegistry.open(await tempDir());
  const exp = await Experiment.create(NAME, { registry, handleSignals: false });
  return { registry, exp };
}

describe('unknown option keys are refused', () => {
  it('startRun: project, runId, color (and a non-object) are refused, naming the key and the accepted ones', async () => {
    const { exp } = await newExperiment();
    const accepted = ['config', 'description', 'labels', 'name', 'nested', 'resumeFrom', 'tags'];
    for (const key of ['project', 'runId', 'color']) {
      const err = expectError(() => exp.startRun({ [key]: 'x' } as never), 'ARGUMENT_INVALID');
      expect(err.message).toContain(JSON.stringify(key));
      expect(err.message).toContain('startRun');
      expect(err.message).toMatch(/config, description, labels, name, nested, resumeFrom, tags/);
      expect(err.data).toMatchObject({ key, accepted });
    }
    // A signal means something only to the scoped forms.
    expectError(
      () => exp.startRun({ signal: AbortSignal.timeout(1000) } as never),
      'ARGUMENT_INVALID'
    );
    expectError(() => exp.startRun('trial' as never), 'ARGUMENT_INVALID');
    expectError(() => exp.startRun(null as never), 'ARGUMENT_INVALID');
    // Nothing was opened, no run id used.
    expect(exp.openRunIds).toEqual([]);
    // A key given as undefined is an accepted key left at its default.
    const undefinedKeys: { name?: string } = { name: undefined, tags: undefined } as never;
    const run = exp.startRun(undefinedKeys);
    expect(run.runId).toBe(0);
    await run.finish();
  });

  it('exp.run, run.startChild and run.child refuse unknown keys before calling back', async () => {
    const { exp } = await newExperiment();
    let called = false;
    const err = await expectCode(
      exp.run(() => void (called = true), { project: 'p' } as never),
      'ARGUMENT_INVALID'
    );
    expect(err.message).toMatch(/name, nested, resumeFrom, signal, tags/);
    expect(called).toBe(false);
    await exp.run(async (run) => {
      expectError(() => run.startChild({ runId: 4 } as never), 'ARGUMENT_INVALID');
      const childErr = await expectCode(
        run.child(() => void (called = true), { color: 'd' } as never),
        'ARGUMENT_INVALID'
      );
      expect(childErr.message).toContain('"color"');
      expect(called).toBe(false);
      // The accepted keys still work, signal included.
      await run.child(() => undefined, { name: 'c', signal: new AbortController().signal });
    });
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => [r.runId, r.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
    ]);
  });

  it('Experiment.create, Experiment.use, restoreFromCheckpoint and fork refuse unknown keys', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const err = await expectCode(
      Experiment.create(NAME, { registry, owner: 'qap' } as never),
      'ARGUMENT_INVALID'
    );
    expect(err.message).toContain('"owner"');
    expect(err.message).toContain('Experiment.create');
    expect(err.message).toMatch(
      /annotations, durable, handleSignals, journal, project, registry, reproducible, spanProcessors, storeTrace, tags/
    );
    let called = false;
    await expectCode(
      Experiment.use(NAME, () => void (called = true), { registry, description: 'd' } as never),
      'ARGUMENT_INVALID'
    );
    expect(called).toBe(false);
    // Refused before the store is even looked at (no checkpoint exists: that would be another code).
    await expectCode(
      Experiment.restoreFromCheckpoint(NAME, { registry, reproducible: true } as never),
      'ARGUMENT_INVALID'
    );
    const exp = await Experiment.create(NAME, { registry, handleSignals: false, journal: false });
    await exp.run(() => undefined);
    const sealed = await exp.commit();
    const forkErr = await expectCode(
      sealed.fork('ghcr.io/acme/options:v2', { registry } as never),
      'ARGUMENT_INVALID'
    );
    expect(forkErr.message).toMatch(/durable, handleSignals, journal/);
    await expectCode(exp.fork(undefined, { annotations: {} } as never), 'ARGUMENT_INVALID');
    const child = await sealed.fork('ghcr.io/acme/options:v2', { handleSignals: false });
    expect(child.runs).toHaveLength(1);
  });
});
