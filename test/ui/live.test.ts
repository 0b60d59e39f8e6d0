/**
 * Runs still open in a live process, in the viewer's data: a real child process records an
 * experiment and leaves a run open (test/ui/children/live-child.mjs); the study read beside it
 * shows that run as `running` with what it logged so far — parameters, tags, labels, attributes,
 * its loss curve, its attachment — picks up new points (the state key changes), puts it in its
 * experiment's checkpoint entry when there is one, and drops it once the process is gone.
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { UiData } from '../../src/ui/data.js';
import type { UiColumn } from '../../src/ui/model.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { expectCode } from '../helpers/expect-code.js';
import { startNode, type NodeChild } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('./children/live-child.mjs', import.meta.url));
const NAME = 'ghcr.io/acme/live:v1';

beforeAll(() => requireBuilt());

const children: NodeChild[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
});

/** A store beside a child recording NAME with a run left open, once its writes are journaled. */
async function recording(
  mode?: 'with-closed'
): Promise<{ registry: LocalRegistry; child: NodeChild }> {
  const root = await tempDir();
  const child = startNode([CHILD, DIST_INDEX, NAME, ...(mode === undefined ? [] : [mode])], {
    RUNLEDGER_HOME: root,
  });
  children.push(child);
  await child.waitFor('ready');
  expect(child.lines()).toEqual(['ready']);
  return { registry: await LocalRegistry.open(root), child };
}

function cells(data: UiData, row: number): Record<string, unknown> {
  return Object.fromEntries(
    data.study.runs.columns.map((c: UiColumn) => [c.name, c.values[row]] as const)
  );
}

describe('UiData: runs still open in a live process', () => {
  it('shows the open run as running with what it logged so far, before any checkpoint', async () => {
    const { registry } = await recording();
    const data = await UiData.open({ registry });
    expect(data.study.experiments).toHaveLength(1);
    const e = data.study.experiments[0]!;
    expect([e.reference, e.status, e.runCount, e.digest]).toEqual([NAME, 'draft', 1, '']);
    expect(data.study.runs.status).toEqual(['running']);
    expect(data.study.runs.runId).toEqual([0]);
    const row = cells(data, 0);
    expect(row).toMatchObject({
      experiment: NAME,
      run_id: 0,
      name: 'live-one',
      status: 'running',
      ended_at: null,
      'params.lr': 0.1,
      'params.epochs': 3,
      'metrics.loss': 0.2,
      'metrics.acc': 0.3,
      'tags.stage': 'train',
      'labels.gpu': true,
      'attributes.arch': '{"layers":4}',
    });
    expect(typeof row['started_at']).toBe('number');
    expect(data.study.runs.metricNames).toEqual(['loss', 'acc']);

    const detail = await data.run(e.id, 0);
    expect(detail).toMatchObject({
      name: 'live-one',
      status: 'running',
      endedAt: null,
      host: hostname(),
      parameters: { lr: 0.1, epochs: 3 },
      tags: { stage: 'train' },
      labels: ['gpu'],
      attributes: { arch: { layers: 4 } },
      metrics: [
        { name: 'loss', points: 5, last: 0.2 },
        { name: 'acc', points: 4, last: 0.3 },
      ],
      solves: [],
    });
    expect(detail.attachments.map((a) => [a.name, a.preview])).toEqual([['note', 'json']]);
    const [loss] = await data.metrics([{ experiment: e.id, runId: 0 }], ['loss']);
    expect(loss?.steps).toEqual([0, 1, 2, 3, 4]);
    expect(loss?.values).toEqual([1, 0.5, 1 / 3, 0.25, 0.2]);
    const [acc] = await data.metrics([{ experiment: e.id, runId: 0 }], ['acc']);
    expect([acc?.steps, acc?.values]).toEqual([
      [0, 1, 1, 2],
      [0.1, 0.2, 0.25, 0.3],
    ]);
    const missing = await expectCode(data.run(e.id, 7), 'ARGUMENT_INVALID');
    expect(missing.message).toContain('has no run 7 yet; its runs still open are 0.');
    await expectCode(data.attachment(e.id, 0, 'nope'), 'ATTACHMENT_NOT_FOUND');
    const note = await data.attachment(e.id, 0, 'note');
    expect(JSON.parse(Buffer.from(note.bytes).toString('utf8'))).toEqual({ hello: 'live' });
    // The Arrow file holds recorded runs only.
    expect(data.runsArrow().length).toBeGreaterThan(0);
  });

  it('takes in new points: the state key changes, and the study read again has them', async () => {
    const { registry, child } = await recording();
    const before = await UiData.stateKey(registry, undefined);
    expect(await UiData.stateKey(registry, undefined)).toBe(before);
    child.kill('SIGUSR2');
    await child.waitFor('more');
    expect(await UiData.stateKey(registry, undefined)).not.toBe(before);
    const data = await UiData.open({ registry });
    const id = data.study.experiments[0]!.id;
    const [loss] = await data.metrics([{ experiment: id, runId: 0 }], ['loss']);
    expect(loss?.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(cells(data, 0)['metrics.loss']).toBe(0.1);
  });

  it('puts the open run in its experiment’s checkpoint entry, beside the closed ones', async () => {
    const { registry } = await recording('with-closed');
    const data = await UiData.open({ registry });
    expect(data.study.experiments).toHaveLength(1);
    const e = data.study.experiments[0]!;
    expect([e.status, e.runCount]).toEqual(['draft', 2]);
    expect(e.digest).toMatch(/^sha256:/);
    expect(data.study.runs.runId).toEqual([0, 1]);
    expect(data.study.runs.status).toEqual(['finished', 'running']);
    expect([cells(data, 0)['params.lr'], cells(data, 1)['params.lr']]).toEqual([0.5, 0.1]);
    expect((await data.run(e.id, 0)).status).toBe('finished');
    expect((await data.run(e.id, 1)).status).toBe('running');
  });

  it('leaves out a live experiment the selection does not name', async () => {
    const { registry } = await recording();
    const data = await UiData.open({ registry, experiments: 'ghcr.io/acme/other' });
    expect(data.study.experiments).toEqual([]);
    expect(data.study.runs.runId).toEqual([]);
    const mine = await UiData.open({ registry, experiments: 'ghcr.io/acme/live' });
    expect(mine.study.runs.status).toEqual(['running']);
  });

  it('drops the run once its process is gone (a restore then has it), and says so by its key', async () => {
    const { registry, child } = await recording();
    const before = await UiData.stateKey(registry, undefined);
    child.kill('SIGKILL');
    await child.exited;
    expect(await UiData.stateKey(registry, undefined)).not.toBe(before);
    const data = await UiData.open({ registry });
    expect(data.study.runs.runId).toEqual([]);
  });
});
