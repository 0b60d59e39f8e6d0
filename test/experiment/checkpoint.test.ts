/**
 * Checkpoints, autosave, the failing scope (`use`), restore, rename and fork against OMMX's own
 * test expectations (ommx-reference §1.6–1.8; §9 numbers in the test names).
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RunledgerError } from '../../src/errors.js';
import {
  AutosavePolicy,
  checkpointReference,
  listExperimentCheckpoints,
  type ExperimentCheckpointRef,
} from '../../src/experiment/checkpoint.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { listExperiments } from '../../src/experiment/list.js';
import { MEDIA_TYPE_RUN_PARAMETERS } from '../../src/experiment/config.js';
import { MEDIA_TYPE_RUNS } from '../../src/experiment/run-record.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

const NAME = 'ghcr.io/acme/qap:tai20a';

async function freshRegistry(): Promise<{ root: string; registry: LocalRegistry }> {
  const root = await tempDir();
  return { root, registry: await LocalRegistry.open(root) };
}

async function newExperiment(reference = NAME) {
  const { root, registry } = await freshRegistry();
  return { root, registry, exp: await Experiment.create(reference, { registry }) };
}

/** What `use` rejected with. */
/** The checkpoints once the experiment's background autosaves have landed. */
async function settledCheckpoints(
  exp: Experiment,
  registry: LocalRegistry
): Promise<ExperimentCheckpointRef[]> {
  await exp.autosaveSettled();
  return listExperimentCheckpoints({ registry });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e
  );
}

describe('the failing scope: use()', () => {
  it('an exception writes a failed checkpoint with its reason; restore continues it; save/import keeps status, reason and name (§9.9)', async () => {
    const { registry } = await freshRegistry();
    const exp = await Experiment.create(NAME, {
      registry,
      annotations: { 'com.example.study': 'qap' },
    });
    const thrown = new Error('solver crashed');
    const caught = await rejection(
      exp.use(async (e) => {
        await e.run((run) => run.logParameter('seed', 1));
        throw thrown;
      })
    );
    expect(caught).toBe(thrown);
    expect(exp.state).toBe('failed');
    expect(exp.failureReason).toBe('Error: solver crashed');
    // The success reference is not advanced.
    await expectCode(Experiment.load(NAME, { registry, pull: false }), 'REF_NOT_FOUND');
    expect(await listExperiments({ registry })).toEqual([]);

    const [cp, ...rest] = await listExperimentCheckpoints({ registry });
    expect(rest).toEqual([]);
    expect(cp).toMatchObject({
      checkpointImageName: await checkpointReference(registry, NAME),
      requestedImageName: NAME,
      status: 'failed',
      reason: 'Error: solver crashed',
      runCount: 1,
      solveCount: 0,
      samplingCount: 0,
      annotations: { 'com.example.study': 'qap' },
    });
    expect(cp!.config).toMatchObject({
      status: 'failed',
      requested_image_name: NAME,
    });
    expect(await listExperimentCheckpoints({ registry, statuses: ['draft'] })).toEqual([]);

    // save / import: the checkpoint artifact keeps status, reason and requested name.
    const checkpoint = await Experiment.load(cp!.checkpointImageName, { registry });
    expect([checkpoint.status, checkpoint.reason]).toEqual(['failed', 'Error: solver crashed']);
    const path = join(await tempDir(), 'failed.ommx');
    expect(await checkpoint.save(path)).toBeGreaterThan(0);
    const other = (await freshRegistry()).registry;
    const imported = await Experiment.importArchive(path, {
      registry: other,
      reference: await checkpointReference(other, NAME),
    });
    expect(imported.status).toBe('failed');
    expect(imported.reason).toBe('Error: solver crashed');
    expect(imported.config.requestedImageName).toBe(NAME);
    expect(imported.manifestDigest).toBe(cp!.manifestDigest);
    expect((await listExperimentCheckpoints({ registry: other })).map((c) => c.status)).toEqual([
      'failed',
    ]);

    // Restore: unsealed, same name and annotations, the checkpoint as subject, next run id 1.
    for (const r of [registry, other]) {
      const restored = await Experiment.restoreFromCheckpoint(NAME, { registry: r });
      expect(restored.state).toBe('unsealed');
      expect(restored.failureReason).toBeUndefined();
      expect(restored.reference).toBe(NAME);
      expect(restored.annotations).toEqual({ 'com.example.study': 'qap' });
      expect(restored.subject?.digest).toBe(cp!.manifestDigest);
      expect(restored.runs.map((run) => [run.runId, run.status, run.parameters])).toEqual([
        [0, 'finished', { seed: 1n }],
      ]);
      expect(await restored.run((run) => run.runId)).toBe(1);
      const sealed = await restored.commit();
      expect([sealed.status, sealed.reason, sealed.config.requestedImageName]).toEqual([
        'finished',
        undefined,
        undefined,
      ]);
      expect(sealed.reference).toBe(NAME);
      expect(sealed.annotations).toEqual({ 'com.example.study': 'qap' });
      expect(sealed.manifest.subject?.digest).toBe(cp!.manifestDigest);
      expect(sealed.runs.map((run) => run.runId)).toEqual([0, 1]);
      // The commit removes the checkpoint.
      expect(await listExperimentCheckpoints({ registry: r })).toEqual([]);
    }
  });

  it('normalizes the experiment and run reasons: whitespace collapsed, 512 characters with … (§9.10)', async () => {
    const { registry, exp } = await newExperiment();
    await rejection(
      exp.use(async (e) => {
        await e
          .run(() => {
            throw new TypeError(`  run \n\t failed ${'y'.repeat(600)}`);
          })
          .catch(() => undefined);
        throw new Error(`scope\n\n   failed  ${'x'.repeat(2000)}`);
      })
    );
    const reason = exp.failureReason!;
    expect([...reason]).toHaveLength(512);
    expect(reason.startsWith('Error: scope failed xxx')).toBe(true);
    expect(reason.endsWith('x…')).toBe(true);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect(cp!.reason).toBe(reason);

    const checkpoint = await Experiment.load(cp!.checkpointImageName, { registry });
    const runReason = checkpoint.runs[0]!.reason!;
    expect([...runReason]).toHaveLength(512);
    expect(runReason.startsWith('TypeError: run failed yyy')).toBe(true);
    expect(runReason.endsWith('…')).toBe(true);

    // Both survive an archive round trip.
    const path = join(await tempDir(), 'reasons.ommx');
    await checkpoint.save(path);
    const imported = await Experiment.importArchive(path, {
      registry: (await freshRegistry()).registry,
    });
    expect(imported.reason).toBe(reason);
    expect(imported.runs[0]!.reason).toBe(runReason);

    // A blank message leaves just the error's name.
    const blank = await Experiment.create('ghcr.io/acme/qap:blank', { registry });
    await rejection(
      blank.use(() => {
        throw new RangeError(' \n ');
      })
    );
    expect(blank.failureReason).toBe('RangeError');
  });

  it("keeps a failed run's attachments, parameters and reason in the checkpoint; restored, the next run is 1 (§9.11)", async () => {
    const { registry, exp } = await newExperiment();
    await rejection(
      exp.use(async (e) => {
        await e.logJson('setup', { n: 20 });
        await e.run(async (run) => {
          run.logParameter('seed', 7);
          run.logParameter('solver', 'sa');
          await run.logJson('partial', { step: 3 });
          throw new Error('diverged');
        });
      })
    );
    expect(exp.failureReason).toBe('Error: diverged');
    const [cp] = await listExperimentCheckpoints({ registry, statuses: ['failed'] });
    expect(cp!.runCount).toBe(1);
    const checkpoint = await Experiment.load(cp!.checkpointImageName, { registry });
    const failed = checkpoint.runs[0]!;
    expect([failed.runId, failed.status, failed.reason]).toEqual([0, 'failed', 'Error: diverged']);
    expect(failed.parameters).toEqual({ seed: 7n, solver: 'sa' });
    expect(await failed.getJson('partial')).toEqual({ step: 3 });
    expect(await checkpoint.getJson('setup')).toEqual({ n: 20 });

    const restored = await Experiment.restoreFromCheckpoint(NAME, { registry });
    await restored.run((run) => run.logParameter('seed', 8));
    const sealed = await restored.commit();
    expect(sealed.runs.map((r) => [r.runId, r.status, r.reason])).toEqual([
      [0, 'failed', 'Error: diverged'],
      [1, 'finished', undefined],
    ]);
    expect(sealed.runs.map((r) => r.parameters)).toEqual([
      { seed: 7n, solver: 'sa' },
      { seed: 8n },
    ]);
    expect(await sealed.runs[0]!.getJson('partial')).toEqual({ step: 3 });
    expect(await sealed.getJson('setup')).toEqual({ n: 20 });
  });

  it('an AbortError records interrupted runs and an interrupted checkpoint, restorable with parameters (§9.15)', async () => {
    const { registry, exp } = await newExperiment();
    const abort = new DOMException('stopped by user', 'AbortError');
    const caught = await rejection(
      exp.use(async (e) => {
        await e.run((run) => run.logParameter('seed', 1));
        // A run left open by the scope is closed by it, with the scope's status and reason.
        const open = e.startRun({ name: 'open-one' });
        open.logParameter('seed', 2);
        open.startChild({ name: 'open-child' }).logParameter('seed', 4);
        await e.run((run) => {
          run.logParameter('seed', 3);
          throw abort;
        });
      })
    );
    expect(caught).toBe(abort);
    expect(exp.state).toBe('failed');
    expect(exp.failureReason).toBe('AbortError: stopped by user');
    expect(exp.openRunIds).toEqual([]);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect([cp!.status, cp!.reason, cp!.runCount]).toEqual([
      'interrupted',
      'AbortError: stopped by user',
      4,
    ]);
    expect(await listExperimentCheckpoints({ registry, statuses: ['failed'] })).toEqual([]);

    const restored = await Experiment.restoreFromCheckpoint(NAME, { registry });
    expect(restored.runs.map((r) => [r.runId, r.status, r.reason, r.parameters])).toEqual([
      [0, 'finished', undefined, { seed: 1n }],
      [1, 'interrupted', 'AbortError: stopped by user', { seed: 2n }],
      [2, 'interrupted', 'AbortError: stopped by user', { seed: 4n }], // closed before its parent
      [3, 'interrupted', 'AbortError: stopped by user', { seed: 3n }],
    ]);
    expect((await restored.runs[1]!.getInfo()).name).toBe('open-one');
    expect(await restored.runs[2]!.getInfo()).toMatchObject({ name: 'open-child', parentRunId: 1 });
    expect(await restored.run((run) => run.runId)).toBe(4);
    expect((await restored.commit()).runs.map((r) => r.status)).toEqual([
      'finished',
      'interrupted',
      'interrupted',
      'interrupted',
      'finished',
    ]);
  });

  it('a failed experiment is read-only: writes throw EXPERIMENT_FAILED, reads still work', async () => {
    const { exp } = await newExperiment();
    await rejection(
      exp.use(async (e) => {
        await e.logJson('setup', { n: 1 });
        await e.run((run) => run.logParameter('seed', 1));
        throw new Error('boom');
      })
    );
    expectError(() => exp.setAnnotation('k', 'v'), 'EXPERIMENT_FAILED');
    expectError(() => exp.startRun(), 'EXPERIMENT_FAILED');
    await expectCode(
      exp.run(() => undefined),
      'EXPERIMENT_FAILED'
    );
    await expectCode(() => exp.logJson('more', {}), 'EXPERIMENT_FAILED');
    await expectCode(exp.commit(), 'EXPERIMENT_FAILED');
    await expectCode(exp.checkpoint(), 'EXPERIMENT_FAILED');
    await expectCode(exp.rename('ghcr.io/acme/qap:other'), 'EXPERIMENT_FAILED');
    const err = await expectCode(
      exp.use(() => undefined),
      'EXPERIMENT_FAILED'
    );
    expect(err.message).toContain('restoreFromCheckpoint');
    // A second failure does not overwrite the first failure's checkpoint.
    const [cp] = await listExperimentCheckpoints({ registry: exp.registry });
    expect([cp!.status, cp!.reason]).toEqual(['failed', 'Error: boom']);
    expect(exp.runs.map((r) => r.parameters)).toEqual([{ seed: 1n }]);
    expect(await exp.getJson('setup')).toEqual({ n: 1 });
  });

  it('a commit that fails inside use() fails the scope; the checkpoint carries the work to a new name', async () => {
    const { registry } = await freshRegistry();
    const taken = await Experiment.create(NAME, { registry });
    await taken.commit();
    const exp = await Experiment.create(NAME, { registry });
    const err = await expectCode(
      exp.use(async (e) => {
        await e.run((run) => run.logParameter('seed', 1));
      }),
      'REF_CONFLICT'
    );
    expect(exp.state).toBe('failed');
    expect(exp.failureReason).toBe(`RunledgerError: ${err.message}`);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect([cp!.status, cp!.runCount]).toEqual(['failed', 1]);
    const restored = await Experiment.restoreFromCheckpoint(NAME, { registry });
    await restored.rename('ghcr.io/acme/qap:second');
    const sealed = await restored.commit();
    expect(sealed.runs.map((r) => r.parameters)).toEqual([{ seed: 1n }]);
    expect(await listExperimentCheckpoints({ registry })).toEqual([]);
    // The commit's lineage reaches the failed checkpoint it was restored from.
    const [self, from] = await sealed.history();
    expect(self!.manifestDigest).toBe(sealed.manifestDigest);
    expect([from?.manifestDigest, from?.status]).toEqual([cp!.manifestDigest, 'failed']);
  });

  it('Experiment.use creates, runs and commits; the commit leaves no checkpoint', async () => {
    const { registry } = await freshRegistry();
    const sealed = await Experiment.use(
      NAME,
      async (exp) => {
        await exp.run((run) => run.logParameter('seed', 1));
      },
      { registry }
    );
    expect([sealed.status, sealed.reference]).toEqual(['finished', NAME]);
    expect(await listExperimentCheckpoints({ registry })).toEqual([]);
  });
});

describe('autosave', () => {
  it('without a journal every run close writes a draft checkpoint before it resolves, as OMMX', async () => {
    const { registry } = await freshRegistry();
    const exp = await Experiment.create(NAME, { registry, journal: false });
    await exp.run((run) => run.logParameter('seed', 1));
    const [cp] = await listExperimentCheckpoints({ registry });
    expect([cp!.status, cp!.runCount]).toEqual(['draft', 1]);
    await exp.run(() => undefined);
    expect((await listExperimentCheckpoints({ registry })).map((c) => c.runCount)).toEqual([2]);
  });

  it('by default every run close writes a draft checkpoint (in the background: the journal covers the close); the commit removes it', async () => {
    const { registry, exp } = await newExperiment();
    expect(String(exp.autosavePolicy)).toBe('AutosavePolicy.everyRunClose()');
    await exp.run((run) => run.logParameter('seed', 1));
    let [cp] = await settledCheckpoints(exp, registry);
    expect([cp!.status, cp!.reason, cp!.runCount]).toEqual(['draft', undefined, 1]);
    // Closes that arrive together share checkpoints; once settled, the last holds every run.
    const runs = [exp.startRun(), exp.startRun(), exp.startRun()];
    await Promise.all(runs.map((r) => r.finish()));
    [cp] = await settledCheckpoints(exp, registry);
    expect(cp!.runCount).toBe(4);
    // The draft does not hold a run still open.
    const open = exp.startRun();
    await exp.run(() => undefined);
    await exp.autosaveSettled();
    const draft = await Experiment.restoreFromCheckpoint(NAME, { registry, journal: false });
    expect(draft.runs.map((r) => r.runId)).toEqual([0, 1, 2, 3, 5]);
    expect(await draft.run((run) => run.runId)).toBe(6); // the largest id + 1
    await open.finish();
    await exp.commit();
    expect(await settledCheckpoints(exp, registry)).toEqual([]);
  });

  it('everyNRuns(2): nothing after one run, a draft with two runs after two; commit removes it (§9.13)', async () => {
    const { registry, exp } = await newExperiment();
    exp.setAutosavePolicy(AutosavePolicy.everyNRuns(2));
    expect(String(exp.autosavePolicy)).toBe('AutosavePolicy.everyNRuns(2)');
    await exp.run(() => undefined);
    expect(await settledCheckpoints(exp, registry)).toEqual([]);
    await exp.run(() => undefined);
    let cps = await settledCheckpoints(exp, registry);
    expect(cps.map((c) => [c.status, c.runCount])).toEqual([['draft', 2]]);
    // The count starts again after a checkpoint.
    await exp.run(() => undefined);
    cps = await settledCheckpoints(exp, registry);
    expect(cps.map((c) => c.runCount)).toEqual([2]);
    await exp.run(() => undefined);
    cps = await settledCheckpoints(exp, registry);
    expect(cps.map((c) => c.runCount)).toEqual([4]);
    await exp.commit();
    expect(await settledCheckpoints(exp, registry)).toEqual([]);
  });

  it('refuses everyNRuns(0), minInterval(Infinity) and minInterval(-1) (§9.14)', async () => {
    expectError(() => AutosavePolicy.everyNRuns(0), 'ARGUMENT_INVALID');
    expectError(() => AutosavePolicy.everyNRuns(-2), 'ARGUMENT_INVALID');
    expectError(() => AutosavePolicy.everyNRuns(1.5), 'ARGUMENT_INVALID');
    expectError(() => AutosavePolicy.minInterval(Infinity), 'ARGUMENT_INVALID');
    expectError(() => AutosavePolicy.minInterval(-1), 'ARGUMENT_INVALID');
    expectError(() => AutosavePolicy.minInterval(Number.NaN), 'ARGUMENT_INVALID');
    expect(String(AutosavePolicy.minInterval(0))).toBe('AutosavePolicy.minInterval(0)');
    expect(String(AutosavePolicy.everyNRuns(1))).toBe('AutosavePolicy.everyNRuns(1)');
    const { exp } = await newExperiment();
    expectError(
      () => exp.setAutosavePolicy('everyRunClose' as unknown as AutosavePolicy),
      'ARGUMENT_INVALID'
    );
  });

  it('minInterval: the first close checkpoints at once, the next one within the interval does not', async () => {
    const { registry, exp } = await newExperiment();
    exp.setAutosavePolicy(AutosavePolicy.minInterval(3600));
    await exp.run(() => undefined);
    expect((await settledCheckpoints(exp, registry)).map((c) => c.runCount)).toEqual([1]);
    await exp.run(() => undefined);
    await exp.autosaveSettled();
    expect((await settledCheckpoints(exp, registry)).map((c) => c.runCount)).toEqual([1]);
    // Setting a policy starts a new schedule: its first close checkpoints again.
    exp.setAutosavePolicy(AutosavePolicy.minInterval(3600));
    await exp.run(() => undefined);
    expect((await settledCheckpoints(exp, registry)).map((c) => c.runCount)).toEqual([3]);
  });

  it('disabled(): no draft on run close, but an explicit checkpoint and a failure checkpoint are written', async () => {
    const { registry, exp } = await newExperiment();
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    expect(String(exp.autosavePolicy)).toBe('AutosavePolicy.disabled()');
    await exp.run(() => undefined);
    await exp.run(() => undefined);
    await exp.autosaveSettled();
    expect(await listExperimentCheckpoints({ registry })).toEqual([]);
    const written = await exp.checkpoint();
    expect(written).toMatchObject({
      reference: await checkpointReference(registry, NAME),
      status: 'draft',
      runCount: 2,
    });
    expect((await listExperimentCheckpoints({ registry }))[0]!.manifestDigest).toBe(
      written.descriptor.digest
    );
    // The policy never suppresses the checkpoint of a failed scope.
    await rejection(
      exp.use(async (e) => {
        await e.run(() => undefined);
        throw new Error('late failure');
      })
    );
    expect(
      (await listExperimentCheckpoints({ registry })).map((c) => [c.status, c.runCount])
    ).toEqual([['failed', 3]]);
  });
});

describe('the background autosave never delays what waits behind it', () => {
  it('a checkpoint queued behind a background autosave does not wait out its pause (a failing scope and a commit queue alike)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create('ghcr.io/acme/pause:v1', {
      registry,
      handleSignals: false,
    });
    // Slow checkpoints: each background autosave then waits four times as long before the next.
    const replaceRef = registry.replaceRef.bind(registry);
    registry.replaceRef = async (...args: Parameters<typeof replaceRef>) => {
      await new Promise((r) => setTimeout(r, 150));
      return replaceRef(...args);
    };
    await exp.run((run) => run.logParameter('seed', 1)); // autosave 1 starts
    await exp.run((run) => run.logParameter('seed', 2)); // autosave 2 queued behind it
    // The pause an autosave takes is a timer of about 4 x 150 ms: none may run while an explicit
    // checkpoint waits behind it.
    const long: number[] = [];
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const explicit = exp.checkpoint();
      await explicit;
      for (const call of spy.mock.calls) {
        const ms = call[1];
        if (typeof ms === 'number' && ms >= 400) long.push(ms);
      }
    } finally {
      spy.mockRestore();
    }
    expect(long).toEqual([]);
    expect((await exp.checkpoint()).runCount).toBe(2);
    await exp.commit();
  });
});

describe('checkpoint() and failing autosaves', () => {
  it('refuses a status that is not a checkpoint status, keeping the previous checkpoint', async () => {
    const { registry, exp } = await newExperiment();
    await exp.run(() => undefined);
    const before = await settledCheckpoints(exp, registry);
    await expectCode(
      exp.checkpoint({ status: 'finished' as unknown as 'draft' }),
      'ARGUMENT_INVALID'
    );
    await expectCode(exp.checkpoint({ status: 'bogus' as unknown as 'draft' }), 'ARGUMENT_INVALID');
    await expectCode(
      exp.checkpoint({ status: 'failed', reason: 42 as unknown as string }),
      'ARGUMENT_INVALID'
    );
    expect(await listExperimentCheckpoints({ registry })).toEqual(before);
    const written = await exp.checkpoint({ status: 'failed', reason: 'Error: by hand' });
    expect([written.status, written.runCount]).toEqual(['failed', 1]);
    expect((await listExperimentCheckpoints({ registry }))[0]!.reason).toBe('Error: by hand');
    // A reason given by hand is normalised like a scope's: whitespace collapsed, 512 at most.
    await exp.checkpoint({ status: 'failed', reason: `  a\n\tb ${'x'.repeat(600)}` });
    const long = (await listExperimentCheckpoints({ registry }))[0]!.reason!;
    expect([...long].length).toBe(512);
    expect(long.startsWith('a b xxx')).toBe(true);
    expect(long.endsWith('…')).toBe(true);
    // An explicit checkpoint is not a scope failure: the experiment goes on.
    expect(exp.state).toBe('unsealed');
  });

  it('an autosave that fails is reported, not thrown; everyNRuns tries again on the next close', async () => {
    const { registry, exp } = await newExperiment();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const refuse = vi
      .spyOn(registry, 'replaceRef')
      .mockRejectedValueOnce(new RunledgerError('IO_ERROR', 'The disk is full.'));
    try {
      exp.setAutosavePolicy(AutosavePolicy.everyNRuns(2));
      await exp.run(() => undefined);
      await exp.run(() => undefined); // its autosave fails, its close does not
      await exp.autosaveSettled();
      expect(refuse).toHaveBeenCalledTimes(1);
      expect((exp.lastCheckpointError as Error).message).toBe('The disk is full.');
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'RUNLEDGER_AUTOSAVE' });
      expect(await settledCheckpoints(exp, registry)).toEqual([]);
      await exp.run(() => undefined); // the count was not reset by the failed attempt
      await exp.autosaveSettled();
      expect(exp.lastCheckpointError).toBeUndefined();
      expect((await settledCheckpoints(exp, registry)).map((c) => c.runCount)).toEqual([3]);
    } finally {
      warn.mockRestore();
      refuse.mockRestore();
    }
  });

  it('minInterval: a failed attempt uses up the interval too', async () => {
    const { registry, exp } = await newExperiment();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const refuse = vi
      .spyOn(registry, 'replaceRef')
      .mockRejectedValueOnce(new RunledgerError('IO_ERROR', 'The disk is full.'));
    try {
      exp.setAutosavePolicy(AutosavePolicy.minInterval(3600));
      await exp.run(() => undefined);
      await exp.run(() => undefined);
      await exp.autosaveSettled();
      expect(refuse).toHaveBeenCalledTimes(1);
      expect(await listExperimentCheckpoints({ registry })).toEqual([]);
    } finally {
      warn.mockRestore();
      refuse.mockRestore();
    }
  });
});

describe('run(fn, { signal })', () => {
  it('an abort closes the run interrupted, checkpoints it whatever the policy, and rejects with the reason', async () => {
    const { registry, exp } = await newExperiment();
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    const controller = new AbortController();
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const pending = exp.run(
      async (run) => {
        run.logParameter('seed', 5);
        await run.logJson('progress', { step: 1 });
        started();
        await new Promise(() => undefined); // a trial that never ends by itself
      },
      { signal: controller.signal }
    );
    await ready;
    controller.abort();
    const caught = await rejection(pending);
    expect(caught).toBe(controller.signal.reason);
    expect((caught as Error).name).toBe('AbortError');
    // The experiment goes on: only the run ended.
    expect(exp.state).toBe('unsealed');
    expect(exp.openRunIds).toEqual([]);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect([cp!.status, cp!.runCount]).toEqual(['draft', 1]);
    // A draft is no committed experiment: it is read back by restoring it.
    await expectCode(Experiment.load(cp!.checkpointImageName, { registry }), 'EXPERIMENT_INVALID');
    const draft = await Experiment.restoreFromCheckpoint(NAME, { registry, journal: false });
    expect(draft.runs.map((r) => [r.status, r.reason, r.parameters])).toEqual([
      ['interrupted', 'AbortError: This operation was aborted', { seed: 5n }],
    ]);
    expect(await draft.runs[0]!.getJson('progress')).toEqual({ step: 1 });
    await exp.run(() => undefined);
    expect((await exp.commit()).runs.map((r) => r.status)).toEqual(['interrupted', 'finished']);
  });

  it('an abort with a reason of its own still closes the run interrupted', async () => {
    const { exp } = await newExperiment();
    const controller = new AbortController();
    const why = new Error('budget exhausted');
    const pending = exp.run(() => new Promise(() => undefined), { signal: controller.signal });
    controller.abort(why);
    expect(await rejection(pending)).toBe(why);
    expect(exp.runs.map((r) => [r.status, r.reason])).toEqual([
      ['interrupted', 'Error: budget exhausted'],
    ]);
  });

  it('a signal aborted before the run starts ends it at once', async () => {
    const { exp } = await newExperiment();
    const caught = await rejection(
      exp.run(() => new Promise(() => undefined), { signal: AbortSignal.abort() })
    );
    expect((caught as Error).name).toBe('AbortError');
    expect(exp.runs.map((r) => r.status)).toEqual(['interrupted']);
  });
});

describe('restore and listing', () => {
  it('restoring a name without a checkpoint throws CHECKPOINT_NOT_FOUND', async () => {
    const { registry } = await freshRegistry();
    await expectCode(Experiment.restoreFromCheckpoint(NAME, { registry }), 'CHECKPOINT_NOT_FOUND');
    // A committed experiment has no checkpoint either.
    const exp = await Experiment.create(NAME, { registry });
    await exp.run(() => undefined);
    await exp.commit();
    await expectCode(Experiment.restoreFromCheckpoint(NAME, { registry }), 'CHECKPOINT_NOT_FOUND');
  });

  it('lists checkpoints sorted by requested name, filtered by prefix and status; never as experiments', async () => {
    const { registry } = await freshRegistry();
    const names = ['ghcr.io/zeta/c:1', 'ghcr.io/acme/b:1', 'ghcr.io/acme/a:1'];
    for (const name of names) {
      const exp = await Experiment.create(name, { registry });
      await exp.run(() => undefined);
      await exp.autosaveSettled();
    }
    const failing = await Experiment.create('ghcr.io/acme/b:2', { registry });
    await rejection(
      failing.use(() => {
        throw new Error('no');
      })
    );
    const committed = await Experiment.create('ghcr.io/acme/done:1', { registry });
    await committed.run(() => undefined);
    await committed.commit();

    const all = await listExperimentCheckpoints({ registry });
    expect(all.map((c) => [c.requestedImageName, c.status])).toEqual([
      ['ghcr.io/acme/a:1', 'draft'],
      ['ghcr.io/acme/b:1', 'draft'],
      ['ghcr.io/acme/b:2', 'failed'],
      ['ghcr.io/zeta/c:1', 'draft'],
    ]);
    for (const c of all) {
      expect(c.checkpointImageName).toBe(await checkpointReference(registry, c.requestedImageName));
      expect(c.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(c.configDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(c.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    }
    expect(
      (await listExperimentCheckpoints({ registry, prefix: 'ghcr.io/acme/b' })).map(
        (c) => c.requestedImageName
      )
    ).toEqual(['ghcr.io/acme/b:1', 'ghcr.io/acme/b:2']);
    expect(
      (await listExperimentCheckpoints({ registry, statuses: ['failed', 'interrupted'] })).map(
        (c) => c.requestedImageName
      )
    ).toEqual(['ghcr.io/acme/b:2']);
    expect(await listExperimentCheckpoints({ registry, prefix: 'ghcr.io/nobody' })).toEqual([]);
    expect((await listExperiments({ registry })).map((e) => e.imageName)).toEqual([
      'ghcr.io/acme/done:1',
    ]);
    expect(await listExperimentCheckpoints({ registry: (await freshRegistry()).registry })).toEqual(
      []
    );
  });

  it('refuses a finished status before opening the registry', async () => {
    const unopened = {
      id: () => Promise.reject(new Error('the registry was opened')),
    } as unknown as LocalRegistry;
    await expectCode(
      listExperimentCheckpoints({
        registry: unopened,
        statuses: ['finished' as unknown as 'draft'],
      }),
      'ARGUMENT_INVALID'
    );
  });

  it('a checkpoint slot is the sha256 of the normalised name', async () => {
    const { registry } = await freshRegistry();
    const slot = await checkpointReference(registry, NAME);
    expect(slot).toMatch(/^[0-9a-f]{8}\.runledger\.local\/checkpoint:[0-9a-f]{64}$/);
    expect(slot.slice(0, 8)).toBe((await registry.id()).slice(0, 8));
    expect(await checkpointReference(registry, 'ghcr.io/acme/qap')).toBe(
      await checkpointReference(registry, 'ghcr.io/acme/qap:latest')
    );
    expect(await checkpointReference(registry, 'ghcr.io/acme/qap:other')).not.toBe(slot);
  });
});

describe('rename', () => {
  it('after commit adds a name for the same manifest; the old handle stays readable (§9.29)', async () => {
    const { registry, exp } = await newExperiment();
    await exp.run(async (run) => {
      run.logParameter('seed', 1);
      await run.logJson('result', { objective: 10 });
    });
    const before = await exp.commit();
    await exp.rename('ghcr.io/acme/qap:final');
    expect(exp.reference).toBe('ghcr.io/acme/qap:final');
    expect(exp.state).toBe('sealed');
    const renamed = await Experiment.load('ghcr.io/acme/qap:final', { registry });
    expect(renamed.manifestDigest).toBe(before.manifestDigest);
    expect((await Experiment.load(NAME, { registry })).manifestDigest).toBe(before.manifestDigest);
    expect(before.reference).toBe(NAME);
    expect(before.runs[0]!.parameters).toEqual({ seed: 1n });
    expect(await before.runs[0]!.getJson('result')).toEqual({ objective: 10 });
    expect((await listExperiments({ registry })).map((e) => e.imageName)).toEqual([
      'ghcr.io/acme/qap:final',
      NAME,
    ]);
    // SealedExperiment.rename: a name already taken by another manifest is a conflict.
    const other = await Experiment.create('ghcr.io/acme/qap:other', { registry });
    await other.commit();
    await expectCode(before.rename('ghcr.io/acme/qap:other'), 'REF_CONFLICT');
    const again = await before.rename('ghcr.io/acme/qap:alias');
    expect([again.reference, again.manifestDigest]).toEqual([
      'ghcr.io/acme/qap:alias',
      before.manifestDigest,
    ]);
  });

  it("before commit moves an existing checkpoint to the new name's slot", async () => {
    const { registry, exp } = await newExperiment();
    const oldSlot = await checkpointReference(registry, NAME);
    await exp.run((run) => run.logParameter('seed', 1));
    await exp.autosaveSettled();
    await registry.resolve(oldSlot);
    await exp.rename('ghcr.io/acme/qap:renamed');
    expect(exp.reference).toBe('ghcr.io/acme/qap:renamed');
    await expectCode(registry.resolve(oldSlot), 'REF_NOT_FOUND');
    const cps = await settledCheckpoints(exp, registry);
    expect(cps.map((c) => [c.requestedImageName, c.checkpointImageName, c.runCount])).toEqual([
      [
        'ghcr.io/acme/qap:renamed',
        await checkpointReference(registry, 'ghcr.io/acme/qap:renamed'),
        1,
      ],
    ]);
    await expectCode(
      Experiment.restoreFromCheckpoint(NAME, { registry, journal: false }),
      'CHECKPOINT_NOT_FOUND'
    );
    const restored = await Experiment.restoreFromCheckpoint('ghcr.io/acme/qap:renamed', {
      registry,
      journal: false,
    });
    expect(restored.runs.map((r) => r.parameters)).toEqual([{ seed: 1n }]);
    // Later checkpoints and the commit use the new name.
    await exp.run(() => undefined);
    expect(
      (await settledCheckpoints(exp, registry)).map((c) => [c.requestedImageName, c.runCount])
    ).toEqual([['ghcr.io/acme/qap:renamed', 2]]);
    const sealed = await exp.commit();
    expect(sealed.reference).toBe('ghcr.io/acme/qap:renamed');
    await expectCode(Experiment.load(NAME, { registry, pull: false }), 'REF_NOT_FOUND');
    expect(await settledCheckpoints(exp, registry)).toEqual([]);
  });

  it('before commit without a checkpoint writes none', async () => {
    const { registry, exp } = await newExperiment();
    exp.setAutosavePolicy(AutosavePolicy.disabled());
    await exp.run(() => undefined);
    await exp.rename('ghcr.io/acme/qap:renamed');
    expect(await listExperimentCheckpoints({ registry })).toEqual([]);
    expect((await exp.commit()).reference).toBe('ghcr.io/acme/qap:renamed');
  });
});

describe('fork', () => {
  it('of a committed experiment gives an unsealed child that continues it; the parent is unchanged (§9.30)', async () => {
    const { root, registry } = await freshRegistry();
    const parent = await Experiment.create('ghcr.io/acme/qap:base', {
      registry,
      annotations: { 'com.example.study': 'qap' },
    });
    await parent.logJson('setup', { n: 20 });
    await parent.run(
      async (run) => {
        run.logParameter('seed', 1);
        await run.logJson('result', { objective: 10 });
      },
      { name: 'first' }
    );
    const base = await parent.commit();

    const child = await base.fork('ghcr.io/acme/qap:more');
    expect(child.state).toBe('unsealed');
    expect(child.reference).toBe('ghcr.io/acme/qap:more');
    expect(child.subject).toEqual(base.descriptor);
    expect(child.annotations).toEqual({}); // manifest annotations are not carried over
    expect(child.runs.map((r) => [r.runId, r.status, r.parameters])).toEqual([
      [0, 'finished', { seed: 1n }],
    ]);
    expect(await child.getJson('setup')).toEqual({ n: 20 });
    await child.run(async (run) => {
      expect(run.runId).toBe(1);
      run.logParameter('seed', 2);
      await run.logJson('result', { objective: 9 });
    });
    const sealed = await child.commit();
    expect(sealed.runs.map((r) => [r.runId, r.parameters])).toEqual([
      [0, { seed: 1n }],
      [1, { seed: 2n }],
    ]);
    expect(await sealed.runs[0]!.getJson('result')).toEqual({ objective: 10 });
    expect((await sealed.runs[0]!.getInfo()).name).toBe('first');
    expect(await sealed.getJson('setup')).toEqual({ n: 20 });
    expect(sealed.annotations).toEqual({});
    expect(sealed.manifest.subject).toEqual(base.descriptor);

    // The parent is unchanged.
    const reloaded = await Experiment.load('ghcr.io/acme/qap:base', { registry });
    expect(reloaded.manifestDigest).toBe(base.manifestDigest);
    expect(reloaded.runs.map((r) => r.runId)).toEqual([0]);
    expect(reloaded.annotations).toEqual({ 'com.example.study': 'qap' });

    // Lineage.
    const up = await sealed.parent();
    expect([up?.reference, up?.manifestDigest]).toEqual([
      'ghcr.io/acme/qap:base',
      base.manifestDigest,
    ]);
    expect(await base.parent()).toBeUndefined();
    expect((await sealed.history()).map((e) => e.reference)).toEqual([
      'ghcr.io/acme/qap:more',
      'ghcr.io/acme/qap:base',
    ]);

    // Self-contained: every inherited layer is in the child's own manifest.
    const childLayers = new Set(sealed.manifest.layers.map((l) => l.digest));
    for (const l of base.manifest.layers) {
      // The parameter table and the run records' attachment are written again, with the new runs.
      if (l.mediaType === MEDIA_TYPE_RUN_PARAMETERS || l.mediaType === MEDIA_TYPE_RUNS) continue;
      expect(childLayers.has(l.digest), `${l.mediaType} ${l.digest}`).toBe(true);
    }
    await validateOmmxExperimentLayout(root, 'ghcr.io/acme/qap:more');

    // …so its archive alone restores everything; the parent is then simply not there.
    const path = join(await tempDir(), 'child.ommx');
    await sealed.save(path);
    const alone = await Experiment.importArchive(path, {
      registry: (await freshRegistry()).registry,
    });
    expect(await alone.runs[0]!.getJson('result')).toEqual({ objective: 10 });
    expect(await alone.getJson('setup')).toEqual({ n: 20 });
    await expectCode(alone.parent(), 'BLOB_NOT_FOUND');
    expect((await alone.history()).map((e) => e.reference)).toEqual(['ghcr.io/acme/qap:more']);
  });

  it('Experiment.fork after commit forks the sealed experiment; anonymous without a name', async () => {
    const { exp } = await newExperiment();
    await exp.run(() => undefined);
    const sealed = await exp.commit();
    const child = await exp.fork();
    expect(child.reference).toMatch(/\.runledger\.local\/experiment:/);
    expect(child.subject).toEqual(sealed.descriptor);
    expect(await child.run((run) => run.runId)).toBe(1);
    // A fork of a fork records the chain.
    const first = await child.commit();
    const grandchild = await first.fork('ghcr.io/acme/qap:third');
    const third = await grandchild.commit();
    expect((await third.history()).map((e) => e.manifestDigest)).toEqual([
      third.manifestDigest,
      first.manifestDigest,
      sealed.manifestDigest,
    ]);
  });

  it('before commit throws EXPERIMENT_UNCOMMITTED (§9.31)', async () => {
    const { exp } = await newExperiment();
    await exp.run(() => undefined);
    const err = await expectCode(exp.fork('ghcr.io/acme/qap:child'), 'EXPERIMENT_UNCOMMITTED');
    expect(err.message).toContain('must be committed');
    // A failed experiment is not committed either.
    await rejection(
      exp.use(() => {
        throw new Error('no');
      })
    );
    await expectCode(exp.fork(), 'EXPERIMENT_UNCOMMITTED');
  });
});

describe("OMMX's loader rules", () => {
  it('an artifact with nested runs, metrics and tags passes, committed and as a checkpoint', async () => {
    const { root, registry, exp } = await newExperiment();
    await exp.run(
      async (parent) => {
        parent.logParameter('level', 'parent');
        parent.logMetric('loss', 1);
        parent.logMetric('loss', 0.5, { step: 1 });
        await parent.child(
          async (c) => {
            c.logParameter('level', 'child');
            c.logMetrics({ loss: 0.25, accuracy: 0.9 });
            await c.child((g) => g.logParameter('level', 'grandchild'), { name: 'grandchild' });
          },
          { name: 'child', tags: { fold: '1' } }
        );
        await parent
          .child(() => {
            throw new Error('fold 2 diverged');
          })
          .catch(() => undefined);
      },
      { name: 'parent', tags: { study: 'cv' } }
    );
    const [cp] = await settledCheckpoints(exp, registry);
    expect(cp!.runCount).toBe(4);
    await validateOmmxExperimentLayout(root, cp!.checkpointImageName, { allowDraft: true });
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => r.status)).toEqual([
      'finished',
      'finished',
      'finished',
      'failed',
    ]);
    expect((await sealed.runs[1]!.getInfo()).tags).toEqual({ fold: '1' });
    expect(await sealed.runs[0]!.metricNames()).toEqual(['loss']);
    await validateOmmxExperimentLayout(root, sealed.reference);
  });

  it('a failed checkpoint and a restored commit (with a subject) pass', async () => {
    const { root, registry, exp } = await newExperiment();
    await rejection(
      exp.use(async (e) => {
        await e.run(async (run) => {
          run.logParameter('x', 1.5);
          await run.logText('log', 'started');
          throw new Error('crash');
        });
      })
    );
    const slot = await checkpointReference(registry, NAME);
    await validateOmmxExperimentLayout(root, slot);
    const restored = await Experiment.restoreFromCheckpoint(NAME, { registry });
    await restored.run((run) => run.logParameter('x', 2.5));
    const sealed = await restored.commit();
    expect(sealed.manifest.subject).toBeDefined();
    await validateOmmxExperimentLayout(root, NAME);
  });
});
