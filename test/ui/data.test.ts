/**
 * The viewer's data (src/ui/data.ts) against the small study of ./study.ts, whose values are
 * stated there by hand: the study's experiments and runs table, a run's detail (record, error,
 * metrics, attachments, solve), metric series in step order, attachment bytes, the bundle.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/experiment/checkpoint.js';
import { Experiment } from '../../src/experiment/experiment.js';
import type { Digest } from '../../src/oci/digest.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { previewOf, UiData } from '../../src/ui/data.js';
import type { UiColumn } from '../../src/ui/model.js';
import {
  BIG,
  HTML_TEXT,
  PNG_BYTES,
  PROJECT,
  recordSmallStudy,
  SMALL_V1,
  SMALL_V2,
  npyBytes,
} from './study.js';

async function open(experiments?: string | string[]): Promise<UiData> {
  const registry = await LocalRegistry.open(await recordSmallStudy());
  return UiData.open({ registry, ...(experiments === undefined ? {} : { experiments }) });
}

function column(data: UiData, name: string): UiColumn {
  const c = data.study.runs.columns.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no column ${name}`);
  return c;
}

describe('UiData: the study', () => {
  it('lists the experiments of a project with their counts, status and size', async () => {
    const root = await recordSmallStudy();
    const data = await UiData.open({
      registry: await LocalRegistry.open(root),
      experiments: PROJECT,
    });
    const { experiments } = data.study;
    expect(experiments.map((e) => e.reference)).toEqual([SMALL_V1, SMALL_V2]);
    const [v1, v2] = experiments;
    expect(v1).toMatchObject({
      project: 'ui/small',
      tag: 'v1',
      status: 'finished',
      reason: null,
      runCount: 3,
      failedCount: 1,
      interruptedCount: 0,
      parent: null,
    });
    expect(v1?.id).toBe(v1?.digest.slice('sha256:'.length, 'sha256:'.length + 12));
    // As `runledger size` counts it: manifest, config and each distinct layer once.
    const registry = await LocalRegistry.open(root);
    expect(v1?.size).toBe((await registry.size(SMALL_V1)).size);
    expect(v2?.size).toBe((await registry.size(SMALL_V2)).size);
    // No created annotation on a runledger commit: the time its reference was written.
    const written = (await registry.listRefs()).find((r) => r.reference === SMALL_V1)?.updatedAt;
    expect(written).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(v1?.createdAt).toBe(written);
    expect(v2).toMatchObject({ tag: 'v2', runCount: 1, failedCount: 0 });
    expect(data.study.title).toBe(PROJECT);
    expect(data.study.version).toBe(1);
  });

  it('builds one runs table with the CLI column names, one row per run', async () => {
    const data = await open(PROJECT);
    const { runs } = data.study;
    expect(runs.experiment).toEqual([0, 0, 0, 1]);
    expect(runs.runId).toEqual([0, 1, 2, 0]);
    expect(runs.status).toEqual(['finished', 'failed', 'finished', 'finished']);
    const names = runs.columns.map((c) => c.name);
    expect(names.slice(0, 5)).toEqual(['experiment', 'run_id', 'project', 'name', 'status']);
    expect(names).not.toContain('experiment_digest');
    expect(column(data, 'experiment').values).toEqual([SMALL_V1, SMALL_V1, SMALL_V1, SMALL_V2]);
    expect(column(data, 'name').values).toEqual(['first', 'second', 'third', 'solo']);
    expect(column(data, 'params.lr')).toMatchObject({
      kind: 'param',
      type: 'number',
      values: [0.1, 0.01, 0.2, 0.3],
    });
    expect(column(data, 'params.opt')).toMatchObject({
      type: 'string',
      values: ['sgd', 'adam', 'sgd', null],
    });
    // 2^60 + 1 is not a safe integer: it travels as text, digit for digit.
    expect(column(data, 'params.big').values).toEqual([BIG.toString(), null, null, null]);
    expect(column(data, 'metrics.loss')).toMatchObject({
      kind: 'metric',
      type: 'number',
      values: [0.25, 3, null, null],
    });
    expect(column(data, 'metrics.acc').values).toEqual([0.75, null, null, null]);
    expect(column(data, 'tags.stage')).toMatchObject({
      kind: 'tag',
      values: ['dev', null, null, null],
    });
    expect(column(data, 'labels.baseline')).toMatchObject({
      type: 'boolean',
      values: [true, null, null, null],
    });
    expect(column(data, 'attributes.gpu')).toMatchObject({
      kind: 'attribute',
      values: [true, null, null, null],
    });
    expect(column(data, 'solve_count').values).toEqual([0, 0, 1, 0]);
    const started = column(data, 'started_at');
    expect(started.type).toBe('time');
    for (const t of started.values) expect(typeof t).toBe('number');
    expect(runs.metricNames).toEqual(['loss', 'acc']);
    // One value per run in every column.
    for (const c of runs.columns) expect(c.values).toHaveLength(4);
  });

  it('takes one reference, and all experiments without a selection', async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const one = await UiData.open({ registry, experiments: SMALL_V2 });
    expect(one.study.experiments.map((e) => e.reference)).toEqual([SMALL_V2]);
    expect(one.study.runs.runId).toEqual([0]);
    const all = await UiData.open({ registry });
    expect(all.study.title).toBe('all experiments');
    const two = await UiData.open({ registry, experiments: [SMALL_V1, SMALL_V2] });
    expect(two.study.title).toBe(`${SMALL_V1}, ${SMALL_V2}`);
    expect(all.study.experiments).toHaveLength(2);
    await expect(
      UiData.open({ registry, experiments: 'runledger.local/ui/none:v1' })
    ).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });
  });

  it('keys the store state by the manifests the selection names', async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const data = await UiData.open({ registry, experiments: PROJECT });
    expect(await UiData.stateKey(registry, PROJECT)).toBe(data.key);
    // v3 names v1's manifest: the same study (one experiment per manifest), the same key.
    await registry.publishRef('runledger.local/ui/small:v3', await registry.resolve(SMALL_V1));
    expect(await UiData.stateKey(registry, PROJECT)).toBe(data.key);
    expect((await UiData.open({ registry, experiments: PROJECT })).study.experiments).toHaveLength(
      2
    );
    // A new experiment in the project: another key, and the study has it.
    const v4 = await Experiment.create('runledger.local/ui/small:v4', { registry });
    await v4.run((run) => run.logParameter('lr', 0.4));
    await v4.commit();
    expect(await UiData.stateKey(registry, PROJECT)).not.toBe(data.key);
    const reopened = await UiData.open({ registry, experiments: PROJECT });
    expect(reopened.study.experiments.map((e) => e.tag)).toEqual(['v1', 'v2', 'v4']);
  });
});

describe('UiData: lineage', () => {
  it("names a fork's parent by its reference", async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const v1 = await Experiment.load(SMALL_V1, { registry, pull: false });
    const child = await v1.fork(`${PROJECT}:more`);
    await child.run((run) => run.logParameter('lr', 0.7));
    await child.commit();
    const data = await UiData.open({ registry, experiments: `${PROJECT}:more` });
    expect(data.study.experiments[0]).toMatchObject({
      parent: SMALL_V1,
      runCount: 4,
      failedCount: 1,
    });
    expect(data.study.runs.runId).toEqual([0, 1, 2, 3]);
  });
});

describe('UiData: a moved reference', () => {
  it("refuses a run of an experiment whose reference names another manifest since the study's read", async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const data = await UiData.open({ registry, experiments: SMALL_V2 });
    const [v2] = data.study.experiments;
    await registry.replaceRef(SMALL_V2, await registry.resolve(SMALL_V1));
    await expect(data.run(v2?.id as string, 0)).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
      message: `${SMALL_V2} no longer names the experiment ${v2?.digest} of this study; read the study again.`,
    });
    expect(await UiData.stateKey(registry, SMALL_V2)).not.toBe(data.key);
  });
});

describe('UiData: runs, metrics and attachments', () => {
  it('gives a run in full: record, parameters, metrics, attachments', async () => {
    const data = await open(PROJECT);
    const id = data.study.experiments[0]?.id as string;
    const run = await data.run(id, 0);
    expect(run).toMatchObject({
      experiment: id,
      runId: 0,
      name: 'first',
      status: 'finished',
      reason: null,
      error: null,
      parameters: { lr: 0.1, layers: 3, big: BIG.toString(), opt: 'sgd' },
      tags: { stage: 'dev' },
      labels: ['baseline'],
      attributes: { gpu: true },
      metrics: [
        { name: 'loss', points: 3, last: 0.25 },
        { name: 'acc', points: 2, last: 0.75 },
      ],
      solves: [],
    });
    expect(typeof run.startedAt).toBe('string');
    expect(typeof run.runledgerVersion).toBe('string');
    expect(run.attachments.map((a) => [a.name, a.mediaType, a.preview])).toEqual([
      ['notes.txt', 'text/plain; charset=utf-8', 'text'],
      ['page.html', 'text/html', 'none'],
      ['pixel.png', 'image/png', 'image'],
      ['preds.csv', 'text/csv', 'csv'],
      ['summary.json', 'application/json', 'json'],
      ['weights.npy', 'application/x-npy', 'npy'],
    ]);
    const png = run.attachments.find((a) => a.name === 'pixel.png');
    expect(png?.size).toBe(8);
    expect(png?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("gives a failed run's error with its type, message and stack", async () => {
    const data = await open(PROJECT);
    const run = await data.run(data.study.experiments[0]?.id as string, 1);
    expect(run.status).toBe('failed');
    expect(run.reason).toBe('RangeError: diverged at step 1');
    expect(run.error?.type).toBe('RangeError');
    expect(run.error?.message).toBe('diverged at step 1');
    expect(run.error?.stack).toContain('study.ts');
  });

  it("gives a solve's adapter, objective, feasibility, size and variable values", async () => {
    const data = await open(PROJECT);
    const run = await data.run(data.study.experiments[0]?.id as string, 2);
    expect(run.solves).toHaveLength(1);
    const [solve] = run.solves;
    // x = (1, 1, 1): objective 1 + 2 + 3 = 6, and 3 ≤ 10 holds.
    expect(solve).toMatchObject({
      id: 0,
      kind: 'solve',
      adapter: 'test.AllOnes',
      options: {},
      status: 'finished',
      objective: 6,
      feasible: true,
      variables: 3,
      constraints: 1,
      truncated: false,
    });
    expect(solve?.values.map((v) => [v.name, v.value])).toEqual([
      ['x[0]', 1],
      ['x[1]', 1],
      ['x[2]', 1],
    ]);
    expect(typeof solve?.durationMs).toBe('number');
  });

  it('gives metric series in step order, for the names asked', async () => {
    const data = await open(PROJECT);
    const id = data.study.experiments[0]?.id as string;
    const [loss, ...rest] = await data.metrics(
      [
        { experiment: id, runId: 0 },
        { experiment: id, runId: 2 },
      ],
      ['loss']
    );
    expect(rest).toEqual([]);
    expect(loss).toEqual({
      experiment: id,
      runId: 0,
      name: 'loss',
      steps: [0, 1, 2],
      timestamps: [1000, 2000, 3000],
      values: [1, 0.5, 0.25],
    });
    const all = await data.metrics([{ experiment: id, runId: 0 }]);
    expect(all.map((s) => [s.name, s.values])).toEqual([
      ['loss', [1, 0.5, 0.25]],
      ['acc', [0.5, 0.75]],
    ]);
  });

  it('gives attachment bytes as logged, and refuses what the run does not have', async () => {
    const data = await open(PROJECT);
    const id = data.study.experiments[0]?.id as string;
    expect((await data.attachment(id, 0, 'pixel.png')).bytes).toEqual(PNG_BYTES);
    expect((await data.attachment(id, 0, 'weights.npy')).bytes).toEqual(npyBytes());
    expect(new TextDecoder().decode((await data.attachment(id, 0, 'page.html')).bytes)).toBe(
      HTML_TEXT
    );
    // Names are keys of the run: a path, the run record or another run's file is not found.
    for (const name of ['../../index.json', 'runledger.run', 'runledger.metrics', '']) {
      await expect(data.attachment(id, 0, name)).rejects.toMatchObject({
        code: 'ATTACHMENT_NOT_FOUND',
      });
    }
    await expect(data.attachment(id, 9, 'pixel.png')).rejects.toMatchObject({
      code: 'ARGUMENT_INVALID',
    });
    await expect(data.attachment('000000000000', 0, 'pixel.png')).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });
  });

  it('bundles every run, every series and the previewable attachments within the limits', async () => {
    const data = await open(PROJECT);
    const [e1, e2] = data.study.experiments.map((e) => e.id) as [string, string];
    const { bundle, omitted } = await data.bundle();
    expect(bundle.study).toBe(data.study);
    expect(bundle.runs.map((r) => [r.experiment, r.runId])).toEqual([
      [e1, 0],
      [e1, 1],
      [e1, 2],
      [e2, 0],
    ]);
    expect(bundle.runs[2]).toEqual(await data.run(e1, 2));
    expect(bundle.metrics.map((m) => [m.runId, m.name])).toEqual([
      [0, 'loss'],
      [0, 'acc'],
      [1, 'loss'],
    ]);
    expect(Object.keys(bundle.attachments).sort()).toEqual(
      ['notes.txt', 'pixel.png', 'preds.csv', 'summary.json', 'weights.npy'].map(
        (n) => `${e1}/0/${n}`
      )
    );
    expect(Buffer.from(bundle.attachments[`${e1}/0/pixel.png`] as string, 'base64')).toEqual(
      Buffer.from(PNG_BYTES)
    );
    expect(omitted).toEqual({ tooLarge: 0, overTotal: 0, notPreviewable: 1 });
    // 8 bytes fit one at a time; the 144-byte npy does not; a total of 20 takes the first two.
    const small = await data.bundle({ maxAttachmentBytes: 16, maxTotalAttachmentBytes: 20 });
    expect(Object.keys(small.bundle.attachments).sort()).toEqual([
      `${e1}/0/notes.txt`,
      `${e1}/0/pixel.png`,
    ]);
    expect(small.omitted).toEqual({ tooLarge: 1, overTotal: 2, notPreviewable: 1 });
  });
});

describe('previewOf', () => {
  it('maps media types and npy names to the preview kinds, never HTML or SVG', () => {
    expect(previewOf('application/json', 'a')).toBe('json');
    expect(previewOf('application/vnd.foo+json', 'a')).toBe('json');
    expect(previewOf('text/csv', 'a')).toBe('csv');
    expect(previewOf('text/plain; charset=utf-8', 'a')).toBe('text');
    expect(previewOf('text/markdown', 'a')).toBe('text');
    expect(previewOf('image/png', 'a')).toBe('image');
    expect(previewOf('image/webp', 'a')).toBe('image');
    expect(previewOf('image/svg+xml', 'a')).toBe('none');
    expect(previewOf('text/html', 'a')).toBe('none');
    expect(previewOf('application/octet-stream', 'cm.npy')).toBe('npy');
    expect(previewOf('application/x-npy', 'cm')).toBe('npy');
    expect(previewOf('application/octet-stream', 'a.bin')).toBe('none');
  });
});

describe('UiData: experiments not committed', () => {
  it('shows an experiment still recording by its checkpoint (draft): its closed runs, a run, the state; the commit replaces it', async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const v3 = await Experiment.create(`${PROJECT}:v3`, { registry });
    for (const lr of [0.5, 0.6]) {
      await v3.run((run) => {
        run.logParameter('lr', lr);
        run.logMetric('loss', lr * 2);
      });
    }
    await v3.checkpoint();
    const before = await UiData.stateKey(registry, PROJECT);
    const data = await UiData.open({ registry, experiments: PROJECT });
    expect(data.key).toBe(before);
    const draft = data.study.experiments.find((e) => e.status === 'draft');
    expect(draft).toMatchObject({ reference: `${PROJECT}:v3`, tag: 'v3', runCount: 2 });
    const index = data.study.experiments.indexOf(draft!);
    const rows = data.study.runs.experiment.flatMap((e, row) => (e === index ? [row] : []));
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => column(data, 'params.lr').values[r])).toEqual([0.5, 0.6]);
    expect(rows.map((r) => column(data, 'experiment').values[r])).toEqual([
      `${PROJECT}:v3`,
      `${PROJECT}:v3`,
    ]);
    // Read for the viewer, it is continued by a restore, never forked.
    const read = await loadCheckpoint(registry, `${PROJECT}:v3`, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: draft!.digest as Digest,
      size: 0,
    });
    expect(read.runs).toHaveLength(2);
    await expect(read.fork('runledger.local/ui/small:fork')).rejects.toMatchObject({
      code: 'EXPERIMENT_UNCOMMITTED',
    });
    // Its runs open as any other's.
    const detail = await data.run(draft!.id, 1);
    expect(detail.parameters).toMatchObject({ lr: 0.6 });
    const series = await data.metrics([{ experiment: draft!.id, runId: 0 }], ['loss']);
    expect(series[0]?.values).toEqual([1]);
    // The runs table as Arrow has them too.
    expect(data.study.runs.runId).toHaveLength(6);

    // One more run and a checkpoint: the state moves.
    await v3.run((run) => run.logParameter('lr', 0.7));
    await v3.checkpoint();
    const during = await UiData.stateKey(registry, PROJECT);
    expect(during).not.toBe(before);
    const later = await UiData.open({ registry, experiments: PROJECT });
    expect(later.study.runs.runId).toHaveLength(7);
    // Another manifest, the same id: an address naming a run of it still works after a reload.
    const again = later.study.experiments.find((e) => e.status === 'draft');
    expect(again?.digest).not.toBe(draft!.digest);
    expect(again?.id).toBe(draft!.id);
    expect((await later.run(draft!.id, 2)).parameters).toMatchObject({ lr: 0.7 });
    // Committed: the checkpoint is gone, the committed experiment is there.
    await v3.commit();
    const after = await UiData.open({ registry, experiments: PROJECT });
    expect(after.key).not.toBe(during);
    expect(after.study.experiments.map((e) => `${e.tag} ${e.status}`)).toEqual([
      'v1 finished',
      'v2 finished',
      'v3 finished',
    ]);
    expect(after.study.runs.runId).toHaveLength(7);
  });

  it('shows an interrupted scope by its checkpoint, with its reason; other projects’ checkpoints are not in the study', async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const other = await Experiment.create('runledger.local/ui/other:v1', { registry });
    await other.run((run) => run.logParameter('lr', 1));
    await other.checkpoint();
    const v4 = await Experiment.create(`${PROJECT}:v4`, { registry });
    await v4.run((run) => run.logParameter('lr', 0.9));
    await v4.checkpoint({ status: 'interrupted', reason: 'SIGINT' });
    const data = await UiData.open({ registry, experiments: PROJECT });
    expect(data.study.experiments.map((e) => `${e.tag} ${e.status} ${e.reason ?? ''}`)).toEqual([
      'v1 finished ',
      'v2 finished ',
      'v4 interrupted SIGINT',
    ]);
    // Named by its own reference, though nothing was committed under it yet.
    const one = await UiData.open({ registry, experiments: [`${PROJECT}:v4`, SMALL_V2] });
    expect(one.study.experiments.map((e) => `${e.tag} ${e.status}`)).toEqual([
      'v2 finished',
      'v4 interrupted',
    ]);
    expect(await UiData.stateKey(registry, `${PROJECT}:v4`)).toContain(`${PROJECT}:v4@`);
    // A reference naming neither is still an error.
    await expect(UiData.open({ registry, experiments: `${PROJECT}:v9` })).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });
    // Everything: the other project's draft too.
    const all = await UiData.open({ registry });
    expect(all.study.experiments.map((e) => e.reference)).toContain('runledger.local/ui/other:v1');
  });
  it('leaves out a checkpoint whose manifest is gone (replaced and collected since it was listed)', async () => {
    const root = await recordSmallStudy();
    const registry = await LocalRegistry.open(root);
    const v5 = await Experiment.create(`${PROJECT}:v5`, { registry });
    await v5.run((run) => run.logParameter('lr', 0.4));
    const checkpoint = await v5.checkpoint();
    const seen = await UiData.open({ registry, experiments: PROJECT });
    expect(seen.study.experiments.map((e) => e.status)).toContain('draft');
    // Its listing is cached by manifest digest; the manifest itself goes, as GC takes it.
    await rm(join(root, 'blobs', 'sha256', checkpoint.descriptor.digest.slice(7)));
    const data = await UiData.open({ registry, experiments: PROJECT });
    expect(data.study.experiments.map((e) => `${e.tag} ${e.status}`)).toEqual([
      'v1 finished',
      'v2 finished',
    ]);
    expect(data.study.runs.runId).toHaveLength(4);

    // Damaged deeper (its parameter table gone) before its runs were ever read: listed, no rows.
    const v6 = await Experiment.create(`${PROJECT}:v6`, { registry });
    await v6.run((run) => run.logParameter('lr', 0.45));
    const damaged = await v6.checkpoint();
    const { manifest } = await registry.readManifest(damaged.descriptor.digest);
    const table = manifest.layers.find((l) => l.mediaType.includes('parameter'));
    expect(table).toBeDefined();
    await rm(join(root, 'blobs', 'sha256', table!.digest.slice(7)));
    const partial = await UiData.open({ registry, experiments: PROJECT });
    const v6Index = partial.study.experiments.findIndex((e) => e.tag === 'v6');
    expect(partial.study.experiments[v6Index]?.status).toBe('draft');
    expect(partial.study.runs.experiment.filter((e) => e === v6Index)).toHaveLength(0);
    expect(partial.study.runs.runId).toHaveLength(4);
  });
});
