/**
 * The run API users bring from MLflow, Strikes and experiment-runner code: run contexts and
 * nesting, `startRun` as the current run, `endRun`, the logger protocol on Experiment and Run,
 * labels, attributes, descriptions, projects, experiment-wide tags, resume (also after a SIGKILL),
 * and observers.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../src/archive/export.js';
import { activeRun, currentRun, endRun, lastActiveRun } from '../../src/experiment/context.js';
import { currentExperiment, Experiment } from '../../src/experiment/experiment.js';
import type { ExperimentObserver, Logger, LoggedRun } from '../../src/experiment/logger.js';
import type { Run } from '../../src/experiment/run.js';
import type { SealedExperiment } from '../../src/experiment/sealed.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const NAME = 'ghcr.io/acme/run-api:v1';

async function newExperiment(
  options: Parameters<typeof Experiment.create>[1] = {}
): Promise<Experiment> {
  const registry = await LocalRegistry.open(await tempDir());
  return Experiment.create(NAME, { registry, handleSignals: false, ...options });
}

async function infos(sealed: SealedExperiment) {
  return Promise.all(
    sealed.runs.map(async (r) => ({ runId: r.runId, status: r.status, ...(await r.getInfo()) }))
  );
}

describe('run contexts and nesting', () => {
  it('outer run → exp.run → run.step: children of the current run, named <parent>/<step>', async () => {
    const exp = await newExperiment();
    await exp.run(
      async (outer) => {
        expect(currentRun()).toBe(outer);
        expect(currentExperiment()).toBe(exp);
        await exp.run(
          async (trial) => {
            expect(trial.parentRunId).toBe(outer.runId);
            await trial.step('fit', async (fit) => {
              expect(fit.parentRunId).toBe(trial.runId);
              expect(currentRun()).toBe(fit);
              fit.logMetric('loss', 0.5);
            });
            await trial.step('evaluate', (e) => e.logParameter('split', 'test'));
          },
          { name: 'trial' }
        );
        // nested: false forces a top-level run, even inside a scope.
        await exp.run((top) => expect(top.parentRunId).toBeUndefined(), {
          name: 'side',
          nested: false,
        });
        expect(currentRun()).toBe(outer);
      },
      { name: 'search' }
    );
    const sealed = await exp.commit();
    const byName = Object.fromEntries((await infos(sealed)).map((i) => [i.name, i]));
    expect(Object.keys(byName).sort()).toEqual([
      'search',
      'side',
      'trial',
      'trial/evaluate',
      'trial/fit',
    ]);
    expect(byName['trial']?.parentRunId).toBe(byName['search']?.runId);
    expect(byName['trial/fit']?.parentRunId).toBe(byName['trial']?.runId);
    expect(byName['trial/evaluate']?.parentRunId).toBe(byName['trial']?.runId);
    expect(byName['side']?.parentRunId).toBeUndefined();
    expect(sealed.runs.every((r) => r.status === 'finished')).toBe(true);
  });

  it('an error in a child closes the child failed and, propagating, the parent failed', async () => {
    const exp = await newExperiment();
    const boom = new TypeError('bad fold');
    await expect(
      exp.run(
        async (parent) => {
          await parent.step('fold', () => {
            throw boom;
          });
        },
        { name: 'cv' }
      )
    ).rejects.toBe(boom);
    // A caught child failure leaves the parent finished.
    await exp.run(
      async (parent) => {
        await parent.step('fold', () => Promise.reject(new Error('skip'))).catch(() => undefined);
      },
      { name: 'tolerant' }
    );
    const all = await infos(await exp.commit());
    const status = Object.fromEntries(all.map((i) => [i.name, i.status]));
    expect(status).toEqual({
      cv: 'failed',
      'cv/fold': 'failed',
      tolerant: 'finished',
      'tolerant/fold': 'failed',
    });
    expect(all.find((i) => i.name === 'cv/fold')?.error?.message).toBe('bad fold');
  });

  it('startRun makes the run current until it closes; endRun ends it with a status; lastActiveRun remembers it', async () => {
    const exp = await newExperiment();
    const task = async (): Promise<void> => {
      const run = exp.startRun({ name: 'manual' });
      expect(currentRun()).toBe(run);
      expect(activeRun()).toBe(run);
      // Under a run startRun made current, a new run is a sibling unless nested: true.
      const sibling = exp.startRun({ name: 'sibling' });
      expect(sibling.parentRunId).toBeUndefined();
      expect(currentRun()).toBe(sibling);
      await sibling.finish();
      expect(currentRun()).toBe(run); // back to the one before
      const child = exp.startRun({ name: 'child', nested: true });
      expect(child.parentRunId).toBe(run.runId);
      await exp.endRun(); // ends the current run: the child
      expect(child.closed).toBe(true);
      expect(currentRun()).toBe(run);
      await endRun('interrupted');
      expect(run.closed).toBe(true);
      expect(currentRun()).toBeUndefined();
      expect(lastActiveRun()).toBe(run);
      await endRun(); // nothing current: nothing to do
    };
    await task();
    const status = Object.fromEntries(
      (await infos(await exp.commit())).map((i) => [i.name, i.status])
    );
    expect(status).toEqual({
      manual: 'interrupted',
      sibling: 'finished',
      child: 'finished',
    });
  });

  it('two concurrent tasks each see their own current run', async () => {
    const exp = await newExperiment();
    const seen: string[] = [];
    await Promise.all(
      ['a', 'b'].map(async (name) => {
        const run = exp.startRun({ name });
        await new Promise((r) => setTimeout(r, 10));
        seen.push(`${name}:${currentRun()?.name}`);
        await run.finish();
      })
    );
    expect(seen.sort()).toEqual(['a:a', 'b:b']);
  });
});

describe('the logger protocol', () => {
  it('Experiment is a Logger and Run a LoggedRun', async () => {
    const exp = await newExperiment();
    const logger: Logger = exp;
    const run: LoggedRun = await logger.startRun({
      name: 'proto',
      config: { lr: 0.1 },
      tags: ['baseline'],
      description: 'through the protocol',
    });
    await run.logParams({ epochs: 3 });
    await run.logMetrics({ loss: 0.3, acc: 0.9 }, { step: 2 });
    const file = join(await tempDir(), 'model.txt');
    await writeFile(file, 'weights');
    await run.logArtifact(file);
    await run.logArtifact(file, { name: 'copy' });
    await run.setTags({ stage: 'final' });
    await run.finish('interrupted');
    const sealed = await exp.commit();
    const r = sealed.runs[0]!;
    expect(r.status).toBe('interrupted');
    expect(r.parameters).toEqual({ lr: 0.1, epochs: 3n });
    expect(r.attachmentNames).toEqual(['copy', 'model.txt']);
    expect(await r.getText('copy')).toBe('weights');
    const info = await r.getInfo();
    expect(info).toMatchObject({
      labels: ['baseline'],
      tags: { stage: 'final' },
      description: 'through the protocol',
    });
    expect((await r.getMetric('loss')).steps).toEqual(new Float64Array([2]));
  });

  it('logParams checks every entry first: a refused one logs nothing', async () => {
    const exp = await newExperiment();
    const run = exp.startRun();
    run.logParams({ a: 1 });
    expect(() => run.logParams({ b: 2, a: 'now a string' })).toThrow(/already logged parameter/);
    expectError(() => run.logParams({ c: 3, run_id: 4 }), 'NAME_RESERVED');
    expectError(() => run.logParams(['x'] as never), 'PARAMETER_INVALID');
    await run.finish();
    expect((await exp.commit()).runs[0]!.parameters).toEqual({ a: 1n });
  });

  it('await using a run whose scope throws closes it failed', async () => {
    const exp = await newExperiment();
    const scope = async (): Promise<void> => {
      await using run = exp.startRun({ name: 'disposed' });
      run.logParameter('seed', 1);
      throw new Error('the training diverged');
    };
    await expect(scope()).rejects.toThrow('the training diverged');
    const r = (await exp.commit()).runs[0]!;
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('disposed before finish()');
    expect(r.parameters).toEqual({ seed: 1n });
  });

  it('finish refuses a status that is not one', async () => {
    const exp = await newExperiment();
    const run = exp.startRun();
    await expectCode(run.finish('done' as never), 'ARGUMENT_INVALID');
    expect(run.closed).toBe(false);
    await run.finish('failed');
    expect((await exp.commit()).runs[0]!.reason).toBe('ended failed by the caller');
  });
});

describe('labels, attributes, descriptions, projects, experiment tags', () => {
  async function recorded(registry: LocalRegistry, name = NAME): Promise<SealedExperiment> {
    const exp = await Experiment.create(name, {
      registry,
      handleSignals: false,
      tags: { team: 'or', stage: 'default' },
    });
    await exp.run(
      (run) => {
        run.setAttribute('dataset', { name: 'qaplib', size: 134 });
        run.setAttributes({ gpu: false, seed_list: [1, 2, 3] });
        run.setTags(['gpu', 'baseline']); // baseline twice: kept once
      },
      { tags: ['baseline'], description: 'first try', name: 'one' }
    );
    await exp.run(() => undefined, { tags: { stage: 'grid' }, name: 'two' });
    return exp.commit();
  }

  const expectRecorded = async (sealed: SealedExperiment): Promise<void> => {
    const [one, two] = await infos(sealed);
    expect(one).toMatchObject({
      name: 'one',
      labels: ['baseline', 'gpu'],
      tags: { team: 'or', stage: 'default' },
      description: 'first try',
      attributes: { dataset: { name: 'qaplib', size: 134 }, gpu: false, seed_list: [1, 2, 3] },
    });
    // The run's own tags win over the experiment's.
    expect(two).toMatchObject({ name: 'two', tags: { team: 'or', stage: 'grid' }, labels: [] });
    expect(two?.description).toBeUndefined();
  };

  it('round-trip through commit and an .ommx archive', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const sealed = await recorded(registry);
    await expectRecorded(sealed);
    const file = join(await tempDir(), 'study.ommx');
    await exportArchive(registry, NAME, file);
    const imported = await Experiment.importArchive(file, {
      registry: await LocalRegistry.open(await tempDir()),
    });
    expect(imported.manifestDigest).toBe(sealed.manifestDigest);
    await expectRecorded(imported);
  });

  it('refuses attributes JSON cannot hold, and labels that are not names', async () => {
    const exp = await newExperiment();
    await exp.run((run) => {
      expectError(() => run.setAttribute('x', NaN), 'ARGUMENT_INVALID');
      expectError(() => run.setAttribute('x', 1n as never), 'ARGUMENT_INVALID');
      expectError(() => run.setAttributes({ ok: 1, bad: () => 1 } as never), 'ARGUMENT_INVALID');
      expectError(() => run.setTags(['']), 'ARGUMENT_INVALID');
      expect(run.attributes).toEqual({});
      expect(run.labels).toEqual([]);
    });
    expectError(() => exp.startRun({ description: 'x'.repeat(5001) }), 'ARGUMENT_INVALID');
  });

  it('names an experiment with no reference under its project', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create(undefined, {
      registry,
      project: 'model-training',
      handleSignals: false,
    });
    expect(exp.reference).toMatch(
      /^[0-9a-f]{8}\.runledger\.local\/model-training:\d{8}T\d{6}-[0-9a-f]{12}$/
    );
    expect(exp.project).toBe('model-training');
    const named = await Experiment.create('ghcr.io/acme/qap:v1', { registry, project: 'acme/qap' });
    expect(named.project).toBe('acme/qap');
    await expectCode(
      Experiment.create('ghcr.io/acme/qap:v1', { registry, project: 'other' }),
      'ARGUMENT_INVALID'
    );
    for (const bad of ['Model', 'a//b', '', 'x:y']) {
      await expectCode(
        Experiment.create(undefined, { registry, project: bad }),
        'ARGUMENT_INVALID'
      );
    }
  });

  describe.skipIf(!HAS_DOCKER_REGISTRY)('through a registry (docker-registry)', () => {
    if (!HAS_DOCKER_REGISTRY) console.warn(`skipping: ${REGISTRY_SKIP_REASON}`);
    let server: RegistryServer;
    beforeAll(async () => {
      server = await startRegistry();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('labels and attributes survive push and pull', async () => {
      const name = `${server.host}/acme/labels:v1`;
      const sealed = await recorded(await LocalRegistry.open(await tempDir()), name);
      await sealed.push();
      const pulled = await Experiment.load(name, {
        registry: await LocalRegistry.open(await tempDir()),
      });
      expect(pulled.manifestDigest).toBe(sealed.manifestDigest);
      await expectRecorded(pulled);
    });
  });
});

describe('resume', () => {
  it('continues a closed run in a new one: its parameters, tags, labels, attributes, and metric steps', async () => {
    const exp = await newExperiment();
    await expect(
      exp.run(
        (run) => {
          run.logParams({ lr: 0.1, epochs: 10 });
          run.setAttribute('dataset', 'qaplib');
          for (let s = 0; s < 3; s++) run.logMetric('loss', 1 / (s + 1));
          run.logMetric('acc', 0.5, { step: 7 });
          throw new Error('out of memory');
        },
        { name: 'train', tags: { stage: 'grid' }, labels: ['gpu'], description: 'first' }
      )
    ).rejects.toThrow('out of memory');
    const resumed = await exp.startRun({ resumeFrom: 0, name: 'train-2' });
    expect(resumed.resumedFrom).toBe(0);
    resumed.logMetric('loss', 0.2);
    resumed.logMetric('acc', 0.6);
    resumed.logMetric('new', 1);
    await resumed.finish();
    await expectCode(exp.startRun({ resumeFrom: 9 }), 'ARGUMENT_INVALID');
    // In a run scope the resumed run is the current one.
    await exp.run(
      (run) => {
        expect(currentRun()).toBe(run);
        expect(run.resumedFrom).toBe(1);
      },
      { resumeFrom: 1, name: 'train-3' }
    );
    const sealed = await exp.commit();
    const [old, again, third] = sealed.runs;
    expect((await third!.getInfo()).resumedFrom).toBe(1);
    expect(old?.status).toBe('failed'); // the old run is as it was
    expect((await old!.getMetric('loss')).steps).toEqual(new Float64Array([0, 1, 2]));
    expect(again?.parameters).toEqual({ lr: 0.1, epochs: 10n });
    expect((await again!.getMetric('loss')).steps).toEqual(new Float64Array([3]));
    expect((await again!.getMetric('acc')).steps).toEqual(new Float64Array([8]));
    expect((await again!.getMetric('new')).steps).toEqual(new Float64Array([0]));
    expect(await again!.getInfo()).toMatchObject({
      name: 'train-2',
      resumedFrom: 0,
      tags: { stage: 'grid' },
      labels: ['gpu'],
      attributes: { dataset: 'qaplib' },
      description: 'first',
    });
  });

  describe('after a SIGKILL (child process)', () => {
    beforeAll(() => requireBuilt());

    it('restores the killed run as interrupted, with its labels and attributes, and continues its steps', async () => {
      const home = await tempDir();
      const child = startNode(
        [fileURLToPath(new URL('../helpers/resume-child.mjs', import.meta.url)), DIST_INDEX, NAME],
        { RUNLEDGER_HOME: home }
      );
      await child.waitFor('logged');
      child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');

      const registry = await LocalRegistry.open(home);
      const exp = await Experiment.restoreFromCheckpoint(NAME, { registry, handleSignals: false });
      const killed = exp.runs[0]!;
      expect(killed.status).toBe('interrupted');
      expect(await killed.getInfo()).toMatchObject({
        name: 'train',
        labels: ['baseline', 'gpu'],
        attributes: { dataset: { name: 'qaplib', size: 134 } },
        description: 'the first attempt',
      });
      const run = await exp.startRun({ resumeFrom: killed.runId });
      run.logMetric('loss', 0.1);
      await run.finish();
      const sealed = await exp.commit();
      const again = sealed.runs[1]!;
      expect((await again.getMetric('loss')).steps).toEqual(new Float64Array([5]));
      expect(again.parameters).toEqual({ lr: 0.1, epochs: 10n });
      expect(await again.getInfo()).toMatchObject({
        resumedFrom: 0,
        tags: { stage: 'grid' },
        labels: ['baseline', 'gpu'],
      });
    });
  });
});

describe('observers', () => {
  it('see every step of a run; a failing observer is warned about once and changes nothing', async () => {
    const exp = await newExperiment();
    const events: string[] = [];
    const checkpoints: string[] = [];
    const seen: ExperimentObserver = {
      onRunStart: (e) => void events.push(`start ${e.name} ${e.parentRunId ?? '-'} ${e.labels}`),
      onParams: (e) => void events.push(`params ${e.runId} ${Object.keys(e.params)}`),
      onMetrics: (e) => void events.push(`metrics ${e.runId} ${e.step} ${Object.keys(e.values)}`),
      onTags: (e) =>
        void events.push(`tags ${e.runId} ${Object.keys(e.tags).join(',') || '-'} ${e.labels}`),
      onAttachment: (e) => void events.push(`attachment ${e.runId ?? 'exp'} ${e.name} ${e.size}`),
      onRunEnd: (e) => void events.push(`end ${e.name} ${e.status}`),
      onCheckpoint: (e) => void checkpoints.push(`checkpoint ${e.status} ${e.runCount}`),
      onCommit: (e) => void events.push(`commit ${e.runCount} ${e.manifestDigest.slice(0, 7)}`),
    };
    let calls = 0;
    class Broken implements ExperimentObserver {
      onParams(): void {
        calls++;
        throw new Error('observer bug');
      }
      async onRunEnd(): Promise<void> {
        calls++;
        throw new Error('async observer bug');
      }
    }
    exp.observe(seen);
    exp.observe(new Broken());
    const stop = exp.observe({ onRunStart: () => void events.push('stopped observer') });
    stop();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      await exp.run(
        async (run: Run) => {
          run.logParams({ a: 1, b: 2 });
          run.logParameter('c', 3);
          run.logMetric('loss', 0.5);
          run.logMetrics({ loss: 0.4, acc: 0.9 });
          run.setTags(['gpu']);
          run.setTag('stage', 'fit');
          await run.logText('note', 'hi');
          await run.step('inner', () => undefined);
        },
        { name: 'outer', tags: ['x'] }
      );
      await exp.logJson('summary', { ok: true });
      await exp.checkpoint();
      await exp.commit();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('warning', onWarning);
    }
    expect(events).toEqual([
      'start outer - x',
      'params 0 a,b',
      'params 0 c',
      'metrics 0 0 loss',
      'metrics 0 1 loss',
      'metrics 0 0 acc',
      'tags 0 - gpu',
      'tags 0 stage ',
      'attachment 0 note 2',
      'start outer/inner 0 ',
      'end outer/inner finished',
      'end outer finished',
      'attachment exp summary 11',
      expect.stringMatching(/^commit 2 sha256:/),
    ]);
    // Autosaves after each run close, and the explicit one, all report.
    expect(checkpoints.at(-1)).toBe('checkpoint draft 2');
    expect(calls).toBe(4); // two params events, two run ends: every call reached the broken one
    const ours = warnings.filter(
      (w) => (w as Error & { code?: string }).code === 'RUNLEDGER_OBSERVER'
    );
    expect(ours.map((w) => w.message)).toEqual([
      'runledger: Broken failed in onParams: observer bug (later failures of this observer are not reported).',
    ]);
  });
});
