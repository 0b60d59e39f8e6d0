/**
 * searchRuns: one runs table over several experiments, types promoted or kept as text.
 */
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { searchRuns } from '../../src/experiment/search.js';
import type { ParameterValue } from '../../src/experiment/parameters.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
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
