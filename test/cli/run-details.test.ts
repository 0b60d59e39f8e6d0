/**
 * What `runs` and `show` say about a run beyond its parameters: the project, description,
 * lineage (parent, resumed from), labels, attributes and trace summary — in process, and once
 * through the built binary.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runDetailLines, traceText } from '../../src/cli/commands/show.js';
import { formatMilliseconds } from '../../src/cli/format.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

const REF = 'ghcr.io/acme/labels:v1';

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/**
 * Four runs: 0 with labels (given as `tags: [...]`), a two-line description and two attributes;
 * 1 with a label and one attribute; 2 with neither; 3 resuming 0 (so it starts with 0's labels,
 * attributes, description and parameters).
 */
async function labelled(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(REF, { registry });
  await exp.run(
    (run) => {
      run.logParameter('seed', 1);
      run.setAttribute('lr', 0.1);
      run.setAttribute('dataset', { size: 134, name: 'qaplib' });
    },
    { name: 'baseline', tags: ['baseline', 'gpu'], description: 'First pass.\nSmall grid.' }
  );
  await exp.run(
    (run) => {
      run.logParameter('seed', 2);
      run.setAttribute('lr', 0.05);
    },
    { name: 'cpu-run', labels: ['cpu'] }
  );
  await exp.run((run) => run.logParameter('seed', 3), { name: 'plain' });
  await exp.run(() => undefined, { name: 'again', resumeFrom: 0 });
  await exp.commit();
  return root;
}

describe('runs: project, labels and attributes', () => {
  it('says the project once above the text table and shows labels and attributes by default', async () => {
    const root = await labelled();
    const text = await cli(['--root', root, 'runs', REF]);
    expect(text.code).toBe(0);
    expect(text.out.split('\n')).toEqual([
      'Project  acme/labels',
      '',
      'run_id  status    labels         seed  attributes.dataset            attributes.lr',
      '     0  finished  baseline, gpu     1  {"name":"qaplib","size":134}            0.1',
      '     1  finished  cpu               2                                         0.05',
      '     2  finished                    3',
      '     3  finished  baseline, gpu     1  {"name":"qaplib","size":134}            0.1',
      '',
    ]);
  });

  it('carries the project as a column in JSON, CSV and Arrow', async () => {
    const root = await labelled();
    const json = JSON.parse((await cli(['--root', root, 'runs', REF, '--json'])).out) as Record<
      string,
      unknown
    >[];
    expect(json[1]).toEqual({
      run_id: 1,
      project: 'acme/labels',
      status: 'finished',
      labels: 'cpu',
      seed: 2,
      'attributes.dataset': null,
      'attributes.lr': 0.05,
    });
    const csv = await cli(['--root', root, 'runs', REF, '--csv']);
    expect(csv.out.split('\n').slice(0, 2)).toEqual([
      'run_id,project,status,labels,seed,attributes.dataset,attributes.lr',
      '0,acme/labels,finished,"baseline, gpu",1,"{""name"":""qaplib"",""size"":134}",0.1',
    ]);
    const out = await tempDir();
    expect((await cli(['--root', root, 'runs', REF, '--arrow', 'r.arrow'], out)).code).toBe(0);
    const t = tableFromArrowFile(await readFile(join(out, 'r.arrow')));
    expect(t.getChild('project')?.get(3)).toBe('acme/labels');
    expect(String(t.schema.fields.find((f) => f.name === 'attributes.lr')?.type)).toBe('Float64');
  });

  it('filters on a label with the query language, and --all-columns shows every new column', async () => {
    const root = await labelled();
    const gpu = await cli(['--root', root, 'runs', REF, '--where', 'labels.gpu = true', '--json']);
    expect(gpu.code).toBe(0);
    expect((JSON.parse(gpu.out) as { run_id: number }[]).map((r) => r.run_id)).toEqual([0, 3]);
    const notGpu = await cli([
      '--root',
      root,
      'runs',
      REF,
      '--where',
      'labels.gpu is null and attributes.lr < 0.1',
      '--json',
    ]);
    expect((JSON.parse(notGpu.out) as { run_id: number }[]).map((r) => r.run_id)).toEqual([1]);
    const all = await cli(['--root', root, 'runs', REF, '--all-columns', '--csv']);
    expect(all.out.split('\n')[0]).toBe(
      'run_id,project,name,status,parent_run_id,resumed_from,started_at,ended_at,duration_ms,' +
        'description,labels,params.seed,attributes.dataset,attributes.lr,' +
        'labels.baseline,labels.cpu,labels.gpu,solve_count'
    );
    const resumed = await cli([
      '--root',
      root,
      'runs',
      REF,
      '--all-columns',
      '--where',
      'resumed_from = 0',
      '--json',
    ]);
    expect(JSON.parse(resumed.out)).toEqual([
      expect.objectContaining({
        run_id: 3,
        name: 'again',
        resumed_from: 0,
        description: 'First pass.\nSmall grid.',
        'labels.gpu': true,
        'labels.cpu': null,
      }),
    ]);
    // In text, --all-columns also says the project above the table instead of in a column.
    const text = await cli(['--root', root, 'runs', REF, '--all-columns']);
    expect(text.out.split('\n')[0]).toBe('Project  acme/labels');
    expect(text.out.split('\n')[2]).toMatch(/^run_id\s+name\s+status\s+parent_run_id\s/);
  });
});

describe('show: description, lineage, labels and attributes', () => {
  it('prints a block for each run with more to say than the table, as text', async () => {
    const root = await labelled();
    const text = await cli(['--root', root, 'show', REF]);
    expect(text.code).toBe(0);
    expect(text.out).toContain('\nProject     acme/labels\n');
    expect(text.out).toContain(
      [
        '',
        'Run 0  baseline',
        '  Description  First pass.',
        '               Small grid.',
        '  Labels       baseline, gpu',
        '  Attribute    dataset={"name":"qaplib","size":134}',
        '  Attribute    lr=0.1',
        '',
        'Run 1  cpu-run',
        '  Labels     cpu',
        '  Attribute  lr=0.05',
        '',
        'Run 3  again',
        '  Description  First pass.',
        '               Small grid.',
        '  Lineage      resumed from 0',
        '  Labels       baseline, gpu',
        '  Attribute    dataset={"name":"qaplib","size":134}',
        '  Attribute    lr=0.1',
        '',
      ].join('\n')
    );
    expect(text.out).not.toContain('Run 2');
  });

  it('gives the same in --json: description and resumed_from when set, labels and attributes always', async () => {
    const root = await labelled();
    const json = JSON.parse((await cli(['--root', root, 'show', REF, '--json'])).out) as {
      project: string;
      runs: Record<string, unknown>[];
    };
    expect(json.project).toBe('acme/labels');
    expect(json.runs[0]).toMatchObject({
      run_id: 0,
      description: 'First pass.\nSmall grid.',
      labels: ['baseline', 'gpu'],
      attributes: { lr: 0.1, dataset: { name: 'qaplib', size: 134 } },
    });
    expect(json.runs[0]).not.toHaveProperty('resumed_from');
    expect(json.runs[2]).toMatchObject({ labels: [], attributes: {} });
    expect(json.runs[2]).not.toHaveProperty('description');
    expect(json.runs[3]).toMatchObject({ resumed_from: 0, labels: ['baseline', 'gpu'] });
    // Recorded without storeTrace: no trace, no key at all.
    expect(json.runs.some((r) => 'trace' in r)).toBe(false);
  });
});

describe('run details as text', () => {
  it('states both parent and resumed-from in the lineage, and the trace in one line', () => {
    expect(
      runDetailLines({
        runId: 7,
        parentRunId: 2,
        resumedFrom: 5,
        labels: [],
        attributes: {},
        trace: [
          { name: 'load', durationMs: 2 },
          { name: 'solve', durationMs: 1500 },
          { name: 'solve', durationMs: 1000 },
        ],
      })
    ).toEqual([
      'Run 7',
      '  Lineage  parent 2, resumed from 5',
      '  Trace    load 2.0 ms, solve ×2 2.50 s',
    ]);
    // A parent alone is the runs table's PARENT column: no block.
    expect(runDetailLines({ runId: 1, parentRunId: 0, labels: [], attributes: {} })).toEqual([]);
  });

  it('sums a repeated span name, in first-started order', () => {
    expect(
      traceText([
        { name: 'solve', durationMs: 10 },
        { name: 'write', durationMs: 0.25 },
        { name: 'solve', durationMs: 5 },
      ])
    ).toBe('solve ×2 15.0 ms, write 0.3 ms');
    expect(formatMilliseconds(999.94)).toBe('999.9 ms');
    expect(formatMilliseconds(12_345)).toBe('12.35 s');
    expect(formatMilliseconds(185_000)).toBe('3 min 05 s');
  });
});

describe('the built binary', () => {
  // Runs dist/: after `npm run build`.
  it('prints the project header and the label columns', async () => {
    requireBuilt();
    const root = await labelled();
    const r = spawnSync(process.execPath, [CLI_BIN, '--root', root, 'runs', REF], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Project  acme/labels',
      '',
      'run_id  status    labels         seed  attributes.dataset            attributes.lr',
    ]);
    const show = spawnSync(process.execPath, [CLI_BIN, '--root', root, 'show', REF], {
      encoding: 'utf8',
    });
    expect(show.status).toBe(0);
    expect(show.stdout).toContain('\n  Lineage      resumed from 0\n');
  });
});
