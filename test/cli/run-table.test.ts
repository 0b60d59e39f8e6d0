import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

const REF = 'ghcr.io/acme/collide:v1';

/** Two runs whose parameters are named like the run table's own columns. */
async function colliding(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(REF, { registry });
  await exp.run(
    (run) => {
      run.logParameter('status', 'weird');
      run.logParameter('name', 'p-name');
      run.logParameter('started_at', 3);
      run.logParameter('seed', 1);
    },
    { name: 'first' }
  );
  await exp.run((run) => run.logParameter('seed', 2), { name: 'second' });
  await exp.commit();
  return root;
}

describe('runs with parameters named like run columns', () => {
  it('keeps the run status under the bare name and the parameter under params.', async () => {
    const root = await colliding();
    const text = await cli(['--root', root, 'runs', REF]);
    expect(text.code).toBe(0);
    expect(text.out.split('\n')[2]?.split(/\s+/)).toEqual([
      'run_id',
      'status',
      'params.name',
      'seed',
      'params.started_at',
      'params.status',
    ]);
    const csv = await cli(['--root', root, 'runs', REF, '--csv']);
    expect(csv.out).toBe(
      'run_id,project,status,params.name,seed,params.started_at,params.status\n' +
        '0,acme/collide,finished,p-name,1,3,weird\n' +
        '1,acme/collide,finished,,2,,\n'
    );
    const json = JSON.parse((await cli(['--root', root, 'runs', REF, '--json'])).out);
    expect(json).toEqual([
      {
        run_id: 0,
        project: 'acme/collide',
        status: 'finished',
        'params.status': 'weird',
        'params.name': 'p-name',
        'params.started_at': 3,
        seed: 1,
      },
      {
        run_id: 1,
        project: 'acme/collide',
        status: 'finished',
        'params.status': null,
        'params.name': null,
        'params.started_at': null,
        seed: 2,
      },
    ]);
  });

  it('--where status and --where params.status each find their own column', async () => {
    const root = await colliding();
    const byStatus = await cli([
      '--root',
      root,
      'runs',
      REF,
      '--where',
      "status = 'finished'",
      '--json',
    ]);
    expect(byStatus.code).toBe(0);
    expect(
      (JSON.parse(byStatus.out) as Record<string, unknown>[]).map((r) => [
        r['run_id'],
        r['status'],
        r['params.status'],
      ])
    ).toEqual([
      [0, 'finished', 'weird'],
      [1, 'finished', null],
    ]);
    const byParam = await cli([
      '--root',
      root,
      'runs',
      REF,
      '--where',
      "params.status = 'weird'",
      '--csv',
    ]);
    expect(byParam.out).toBe(
      'run_id,project,status,params.name,seed,params.started_at,params.status\n0,acme/collide,finished,p-name,1,3,weird\n'
    );
    const none = await cli(['--root', root, 'runs', REF, '--where', "status = 'weird'", '--json']);
    expect(JSON.parse(none.out)).toEqual([]);
    const byName = await cli(['--root', root, 'runs', REF, '--where', "name = 'second'", '--json']);
    expect((JSON.parse(byName.out) as { run_id: number }[]).map((r) => r.run_id)).toEqual([1]);
  });

  it('--arrow writes the same columns, under the same names, as CSV and JSON', async () => {
    const root = await colliding();
    const out = await tempDir();
    expect((await cli(['--root', root, 'runs', REF, '--arrow', 'p.arrow'], out)).code).toBe(0);
    const t = tableFromArrowFile(await readFile(join(out, 'p.arrow')));
    expect(t.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'project',
      'status',
      'params.name',
      'seed',
      'params.started_at',
      'params.status',
    ]);
  });
});
