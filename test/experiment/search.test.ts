/**
 * searchRuns: one runs table over several experiments, types promoted or kept as text.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { listExperiments } from '../../src/experiment/list.js';
import { searchRuns } from '../../src/experiment/search.js';
import type { ParameterValue } from '../../src/experiment/parameters.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { tableToArrowFile } from '../../src/tables/arrow.js';
import { expectCode } from '../helpers/expect-code.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function record(
  registry: LocalRegistry,
  reference: string,
  runs: readonly Readonly<Record<string, ParameterValue>>[]
) {
  const exp = await Experiment.create(reference, { registry, handleSignals: false });
  for (const [i, params] of runs.entries()) {
    await exp.run((run) => {
      run.logParams(params);
      run.logMetric('gap', (i + 1) / 10);
    });
  }
  return exp.commit();
}

const column = (t: Table, n: string): unknown[] => {
  const v = t.getChild(n);
  return Array.from({ length: t.numRows }, (_, i) => v?.get(i) ?? null);
};

describe('searchRuns', () => {
  it('stacks the runs of several experiments, promoting int64 to float64 and keeping a clash as text', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const a = await record(registry, 'ghcr.io/acme/qap:a', [
      { seed: 1, solver: 'highs' },
      { seed: 2, solver: 'scip' },
    ]);
    const b = await record(registry, 'ghcr.io/acme/qap:b', [{ seed: 0.5, alpha: 1 }]);
    const c = await record(registry, 'ghcr.io/acme/tsp:c', [{ seed: 'x', presolve: true }]);

    const qap = await searchRuns({ registry, experiments: 'ghcr.io/acme/qap:a' });
    expect(qap.numRows).toBe(2);
    expect(String(qap.schema.fields.find((f) => f.name === 'params.seed')?.type)).toBe('Int64');

    const both = await searchRuns({
      registry,
      experiments: ['ghcr.io/acme/qap:a', 'ghcr.io/acme/qap:b'],
    });
    expect(column(both, 'experiment')).toEqual([a.reference, a.reference, b.reference]);
    expect(column(both, 'experiment_digest')).toEqual([
      a.manifestDigest,
      a.manifestDigest,
      b.manifestDigest,
    ]);
    // int64 beside float64: float64, every value kept.
    expect(String(both.schema.fields.find((f) => f.name === 'params.seed')?.type)).toBe('Float64');
    expect(column(both, 'params.seed')).toEqual([1, 2, 0.5]);
    // A column only some experiments have is null elsewhere.
    expect(column(both, 'params.solver')).toEqual(['highs', 'scip', null]);
    expect(column(both, 'params.alpha')).toEqual([null, null, 1n]);

    const all = await searchRuns({ registry });
    expect(all.numRows).toBe(4);
    // A number beside a string: text, nothing lost.
    expect(String(all.schema.fields.find((f) => f.name === 'params.seed')?.type)).toBe('Utf8');
    expect(column(all, 'params.seed')).toEqual(['1', '2', '0.5', 'x']);
    expect(column(all, 'project')).toEqual(['acme/qap', 'acme/qap', 'acme/qap', 'acme/tsp']);
    expect(column(all, 'experiment').at(-1)).toBe(c.reference);
  });

  it('filters, orders, picks columns and limits with the query language', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await record(registry, 'ghcr.io/acme/qap:a', [{ seed: 1 }, { seed: 2 }, { seed: 3 }]);
    await record(registry, 'ghcr.io/acme/qap:b', [{ seed: 4 }, { seed: 5 }]);
    const t = await searchRuns({
      registry,
      experiments: 'ghcr.io/acme/',
      where: 'params.seed >= 2',
      orderBy: 'metrics.gap desc, params.seed asc',
      columns: ['experiment', 'params.seed', 'metrics.gap'],
      limit: 3,
    });
    expect(t.schema.fields.map((f) => f.name)).toEqual([
      'experiment',
      'params.seed',
      'metrics.gap',
    ]);
    expect(column(t, 'params.seed')).toEqual([3n, 2n, 5n]);
    expect(column(t, 'metrics.gap')).toEqual([0.3, 0.2, 0.2]);
    await expectCode(searchRuns({ registry, where: 'params.nope = 1' }), 'USAGE');
    await expectCode(searchRuns({ registry, columns: ['nope'] }), 'USAGE');
    await expectCode(searchRuns({ registry, limit: -1 }), 'ARGUMENT_INVALID');
    await expectCode(
      searchRuns({ registry, experiments: 'ghcr.io/acme/qap:zzz' }),
      'REF_NOT_FOUND'
    );
  });

  it('takes a project: all its experiments, :latest not counted twice', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await record(registry, 'ghcr.io/acme/qap', [{ seed: 1 }]);
    await record(registry, 'ghcr.io/acme/qap', [{ seed: 2 }]);
    await record(registry, 'ghcr.io/acme/other:v1', [{ seed: 3 }]);
    const t = await searchRuns({
      registry,
      experiments: 'ghcr.io/acme/qap',
      orderBy: 'params.seed',
    });
    expect(column(t, 'params.seed')).toEqual([1n, 2n]);
    expect(column(t, 'experiment').every((r) => !String(r).endsWith(':latest'))).toBe(true);
  });
});

describe('runledger runs over several experiments', () => {
  async function cli(args: string[]) {
    const io = memoryIo();
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  }

  it('takes several references, a project, a prefix or --all, and --columns', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const a = await record(registry, 'ghcr.io/acme/qap', [{ seed: 1 }, { seed: 2 }]);
    const b = await record(registry, 'ghcr.io/acme/qap', [{ seed: 3 }]);
    await record(registry, 'ghcr.io/acme/tsp:v1', [{ seed: 4, solver: 'highs' }]);

    const project = await cli(['--root', root, '--json', 'runs', 'ghcr.io/acme/qap']);
    expect(project.code).toBe(0);
    const rows = JSON.parse(project.out) as Record<string, unknown>[];
    expect(rows.map((r) => [r['experiment'], r['params.seed']])).toEqual(
      expect.arrayContaining([
        [a.reference, 1],
        [a.reference, 2],
        [b.reference, 3],
      ])
    );
    expect(rows).toHaveLength(3);

    const csv = await cli([
      '--root',
      root,
      'runs',
      '--all',
      '--csv',
      '--columns',
      'experiment,params.seed,params.solver',
      '--where',
      'params.seed >= 2',
      '--sort',
      'params.seed desc',
    ]);
    expect(csv.out.trim().split('\n')).toEqual([
      'experiment,params.seed,params.solver',
      'ghcr.io/acme/tsp:v1,4,highs',
      `${b.reference},3,`,
      `${a.reference},2,`,
    ]);

    const two = await cli(['--root', root, '--json', 'runs', a.reference, 'ghcr.io/acme/tsp:v1']);
    expect((JSON.parse(two.out) as unknown[]).length).toBe(3);
    const prefix = await cli(['--root', root, '--json', 'runs', 'ghcr.io/acme/']);
    expect((JSON.parse(prefix.out) as unknown[]).length).toBe(4);

    // One tagged experiment keeps its own view; --columns works there too.
    const one = await cli([
      '--root',
      root,
      '--csv',
      'runs',
      'ghcr.io/acme/tsp:v1',
      '--columns',
      'run_id,params.solver',
    ]);
    expect(one.out.trim().split('\n')).toEqual(['run_id,params.solver', '0,highs']);
    const bad = await cli(['--root', root, 'runs', 'ghcr.io/acme/tsp:v1', '--columns', 'nope']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('"nope"');
    const none = await cli(['--root', root, 'runs']);
    expect(none.code).not.toBe(0);
    expect(none.err).toContain('--all');
  });
});

describe('the runs-table cache', () => {
  const cacheDir = (root: string) => join(root, '.runledger', 'derived', 'runs');

  it('answers from the cache once built, rebuilds a damaged entry, and goes with its manifest at gc', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const kept = await record(registry, 'ghcr.io/acme/qap:a', [{ seed: 1 }, { seed: 2 }]);
    const dropped = await record(registry, 'ghcr.io/acme/qap:b', [{ seed: 3 }]);
    const first = await searchRuns({ registry });
    const files = (await readdir(cacheDir(root))).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => /^[0-9a-f]{64}\.[0-9a-f]{16}$/.test(f))).toBe(true);

    // From the cache: the run records are not read again (remove one; the answer stands).
    const recordDigest = kept.manifest.layers.find(
      (l) => l.mediaType === 'application/vnd.runledger.runs.v1+json'
    )!.digest;
    const blob = join(root, 'blobs', 'sha256', recordDigest.slice(7));
    const saved = await readFile(blob);
    await rm(blob);
    const cachedAnswer = await searchRuns({ registry });
    expect(column(cachedAnswer, 'name')).toEqual(column(first, 'name'));
    await writeFile(blob, saved);

    // A flipped byte: noticed, rebuilt, the same answer.
    const path = join(cacheDir(root), files[0]!);
    const bytes = await readFile(path);
    const at = bytes.length - 10;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    await writeFile(path, bytes);
    const rebuilt = await searchRuns({ registry });
    for (const name of first.schema.fields.map((f) => f.name)) {
      expect(column(rebuilt, name)).toEqual(column(first, name));
    }
    expect(await readFile(path)).not.toEqual(bytes);

    // Concurrent readers and writers of one entry: each gets the whole table.
    await rm(cacheDir(root), { recursive: true });
    const both = await Promise.all([searchRuns({ registry }), searchRuns({ registry })]);
    for (const t of both) expect(column(t, 'params.seed')).toEqual(column(first, 'params.seed'));

    // GC drops the entry of a manifest it collects, and keeps the others.
    await registry.deleteRef(dropped.reference);
    await registry.gc({ delete: true, gracePeriod: 0 });
    const left = await readdir(cacheDir(root));
    expect(left).toEqual([files.find((f) => f.startsWith(kept.manifestDigest.slice(7)))]);
  });
});

describe('the runs-table cache file', () => {
  const cacheDir = (root: string) => join(root, '.runledger', 'derived', 'runs');
  const cells = (t: Table) =>
    Object.fromEntries(
      t.schema.fields.map((f) => [`${f.name}: ${String(f.type)}`, column(t, f.name)])
    );

  it('gives back every column and type it was built from: nulls, text, bigints, NaN, booleans', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create('ghcr.io/acme/mix:a', { registry, handleSignals: false });
    await exp.run(
      (run) => {
        run.logParams({ big: 2n ** 62n + 1n, x: Number.NaN, s: 'é\u{1f600}', on: true });
        run.setAttribute('cfg', { depth: 3 });
        run.logMetric('loss', -0);
      },
      { tags: ['gpu'], name: 'first', description: 'a "quoted" one' }
    );
    await exp.run((run) => run.logParams({ x: 1.5, on: false }), { labels: ['needs review'] });
    await exp.run(() => undefined);
    await exp.commit();
    const empty = await Experiment.create('ghcr.io/acme/mix:empty', {
      registry,
      handleSignals: false,
    });
    await empty.commit();

    const cold = await searchRuns({ registry });
    const warm = await searchRuns({ registry });
    expect(cells(warm)).toEqual(cells(cold));
    expect(column(warm, 'params.big')).toEqual([2n ** 62n + 1n, null, null]);
    expect(column(warm, 'params.s')).toEqual(['é\u{1f600}', null, null]);
    expect(column(warm, 'labels.needs review')).toEqual([null, true, null]);
    expect(Number.isNaN(column(warm, 'params.x')[0])).toBe(true);
    // The same as the runs tables themselves.
    const sealed = await Experiment.load('ghcr.io/acme/mix:a', { registry });
    const df = await sealed.runsDf();
    for (const f of df.schema.fields) {
      expect(column(warm, f.name), f.name).toEqual(column(df, f.name));
    }
    // A filter over the cached columns, and the empty experiment counted as no rows.
    expect(column(await searchRuns({ registry, where: 'params.on = false' }), 'run_id')).toEqual([
      1n,
    ]);
  });

  it('reads an entry in another layout (an older Arrow file) as absent, and rewrites it', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    await record(registry, 'ghcr.io/acme/qap:a', [{ seed: 1 }, { seed: 2 }]);
    const first = await searchRuns({ registry });
    const [file] = await readdir(cacheDir(root));
    const path = join(cacheDir(root), file!);
    const ours = await readFile(path);
    // An Arrow IPC file where the cache file is, its hash in front as the cache writes it.
    const sealed = await Experiment.load('ghcr.io/acme/qap:a', { registry });
    const arrow = tableToArrowFile(await sealed.runsDf());
    await writeFile(path, Buffer.concat([createHash('sha256').update(arrow).digest(), arrow]));
    expect(cells(await searchRuns({ registry }))).toEqual(cells(first));
    expect(await readFile(path)).toEqual(ours);
  });
});

describe('the listing cache', () => {
  it('lists from one small file per manifest, the same as from the store, and rebuilds a damaged one', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const sealed = await record(registry, 'ghcr.io/acme/qap:a', [{ seed: 1 }]);
    await record(registry, 'ghcr.io/acme/qap:b', [{ seed: 2 }, { seed: 3 }]);
    const first = await listExperiments({ registry });
    const dir = join(root, '.runledger', 'derived', 'listed');
    const files = await readdir(dir);
    expect(files.sort()).toHaveLength(2);
    // Served from the cache: the config blob is not read, until `config` is asked for.
    const config = join(root, 'blobs', 'sha256', sealed.configDigest.slice(7));
    const saved = await readFile(config);
    await rm(config);
    const shown = (list: typeof first) =>
      list.map((e) =>
        Object.fromEntries(
          Object.keys(e).flatMap((k) => (k === 'config' ? [] : [[k, e[k as keyof typeof e]]]))
        )
      );
    const listed = await listExperiments({ registry });
    expect(shown(listed)).toEqual(shown(first));
    expect(() => listed[0]?.config).toThrow(/Could not read/);
    await writeFile(config, saved);
    expect(listed[0]?.config).toEqual(JSON.parse(saved.toString('utf8')));
    expect(listed).toEqual(first);
    // A damaged entry is rebuilt from the store: the same listing.
    const path = join(dir, files[0]!);
    const bytes = await readFile(path);
    bytes.writeUInt8(bytes.readUInt8(40) ^ 0x01, 40);
    await writeFile(path, bytes);
    expect(await listExperiments({ registry })).toEqual(first);
    expect(await readFile(path)).not.toEqual(bytes);
    expect(first.map((e) => [e.imageName, e.runCount, e.status])).toEqual([
      ['ghcr.io/acme/qap:a', 1, 'finished'],
      ['ghcr.io/acme/qap:b', 2, 'finished'],
    ]);
  });
});
