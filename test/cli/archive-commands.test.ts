import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function committed() {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create('ghcr.io/acme/arch:v1', { registry });
  await exp.logJson('dataset', { n: 1 });
  await exp.run((run) => run.logParameter('seed', 1));
  await exp.run((run) => run.logParameter('seed', 2));
  return { root, sealed: await exp.commit() };
}

describe('export, inspect, import', () => {
  it('round-trips an experiment through an .ommx file', async () => {
    const { root, sealed } = await committed();
    const dir = await tempDir();
    const exported = await cli(['--root', root, 'export', 'ghcr.io/acme/arch:v1', 'a.ommx'], dir);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain(`Exported ghcr.io/acme/arch:v1 (${sealed.manifestDigest})`);
    expect(exported.err).toBe(''); // no progress line: stderr is not a terminal

    const again = await cli(['--root', root, 'export', 'ghcr.io/acme/arch:v1', 'a.ommx'], dir);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^runledger: FILE_EXISTS: /);
    expect(
      (await cli(['--root', root, 'export', 'ghcr.io/acme/arch:v1', 'a.ommx', '--force'], dir)).code
    ).toBe(0);
    expect(await readdir(dir)).toEqual(['a.ommx']);

    const inspected = JSON.parse((await cli(['inspect', 'a.ommx', '--json'], dir)).out);
    expect(inspected).toMatchObject({
      reference: 'ghcr.io/acme/arch:v1',
      digest: sealed.manifestDigest,
      artifact_type: 'application/org.ommx.v1.experiment',
      layers: 3, // the dataset, the run records (runledger.runs), the parameter table
      experiment: {
        status: 'finished',
        run_count: 2,
        solve_count: 0,
        sampling_count: 0,
        attachment_count: 1,
      },
    });
    expect((await cli(['inspect', 'a.ommx'], dir)).out).toContain('Experiment  finished, 2 runs');

    const other = await tempDir();
    const imported = await cli(['--root', other, 'import', 'a.ommx'], dir);
    expect(imported.out).toBe(`Imported ghcr.io/acme/arch:v1 (${sealed.manifestDigest})\n`);
    const renamed = JSON.parse(
      (await cli(['--root', other, 'import', 'a.ommx', '--as', 'localhost/copy:1', '--json'], dir))
        .out
    );
    expect(renamed).toEqual({
      reference: 'localhost/copy:1',
      digest: sealed.manifestDigest,
      result: 'created',
    });
    const loaded = await Experiment.load('localhost/copy:1', {
      registry: await LocalRegistry.open(other),
    });
    expect(await loaded.getJson('dataset')).toEqual({ n: 1 });
  });

  it('refuses a damaged archive with ARCHIVE_INVALID and a hint', async () => {
    const { root } = await committed();
    const dir = await tempDir();
    await cli(['--root', root, 'export', 'ghcr.io/acme/arch:v1', 'a.ommx'], dir);
    const bytes = await readFile(join(dir, 'a.ommx'));
    await writeFile(join(dir, 'cut.ommx'), bytes.subarray(0, 1500));
    const other = await tempDir();
    const r = await cli(['--root', other, 'import', 'cut.ommx'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^runledger: ARCHIVE_INVALID: /);
    expect(r.err).toContain('hint: ');
    expect(await (await LocalRegistry.open(other)).listRefs()).toEqual([]);
  });
});
