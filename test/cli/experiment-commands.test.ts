import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DEMO_REFERENCE } from '../../src/cli/demo-study.js';
import type { Solution } from '../../src/ommx/solution.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';
import { failingAdapter, fixedStateAdapter, knapsack } from '../helpers/ommx.js';

async function cli(args: string[], cwd?: string) {
  let bytes = Buffer.alloc(0);
  const io = memoryIo({}, cwd);
  const write = io.stdout.write;
  const captured = {
    ...io,
    stdout: {
      write: (c: string | Uint8Array) => {
        bytes = Buffer.concat([bytes, typeof c === 'string' ? Buffer.from(c) : Buffer.from(c)]);
        return write(typeof c === 'string' ? c : '');
      },
    },
  };
  const code = await main(args, captured);
  return { code, out: io.out(), err: io.err(), bytes };
}

describe('runledger demo', () => {
  it('records a 32-run HiGHS study (every solve recorded), prints its runs and moves :latest', async () => {
    const root = await tempDir();
    const first = await cli(['--root', root, 'demo']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Recorded 32 runs as runledger\.local\/demo\/lp-mip:grid-/);
    // Parameter columns come in OMMX's first-appearance order, which depends on whether the
    // first run hit its time limit (machine speed), so only the set of columns is checked.
    const header = first.out.split('\n').find((l) => l.startsWith('run_id'));
    expect(header?.trim().split(/\s+/).sort()).toEqual(
      [
        'run_id',
        'status',
        'feasible',
        'n',
        'objective',
        'optimality',
        'presolve',
        'problem',
        'seed',
        'solve_ms',
        'time_limit',
      ].sort()
    );
    const registry = await LocalRegistry.open(root);
    const sealed = await Experiment.load(DEMO_REFERENCE, { registry });
    expect(first.out).toContain(sealed.manifestDigest);
    expect(sealed.runs).toHaveLength(32);
    expect(sealed.attachmentNames).toEqual(['study']);
    for (const run of sealed.runs) {
      expect(run.status).toBe('finished');
      const p = run.parameters;
      const info = await run.getInfo();
      expect(info.name).toBe(
        `${String(p['problem'])}-n${String(p['n'])}-s${String(p['seed'])}-${p['presolve'] === true ? 'presolve' : 'nopresolve'}-t${String(p['time_limit'])}`
      );
      expect(info.tags).toEqual({ problem: p['problem'], solver: 'highs' });
      expect(run.solves).toHaveLength(1);
      const solve = run.solves[0]!;
      expect(solve.adapter).toBe('runledger.adapters.highs.HighsAdapter');
      expect(solve.adapterOptions).toEqual({
        presolve: run.parameters['presolve'],
        timeLimit: run.parameters['time_limit'],
      });
      const input = await solve.getInput();
      expect(input.decisionVariables).toHaveLength(Number(run.parameters['n']));
      if (solve.status === 'finished') {
        const solution = (await solve.getOutput()) as Solution;
        expect(solution.objective).toBe(Number(run.parameters['objective']));
        expect(solution.optimality).toBe(run.parameters['optimality']);
        expect(solution.feasible).toBe(true);
      } else {
        expect(run.parameters['optimality']).toBe('no solution');
      }
    }
    // (Whether a time limit was hit depends on the machine's speed: not asserted.)
    expect((await sealed.solvesDf()).numRows).toBe(32);
    expect((await registry.fsck()).ok).toBe(true);
    await validateOmmxExperimentLayout(root, DEMO_REFERENCE);
    // Solve times are real, so a second recording is a new artifact under a new tag, and
    // :latest moves to it; the first stays.
    const again = JSON.parse((await cli(['--root', root, 'demo', '--json'])).out) as {
      reference: string;
      manifest_digest: string;
    };
    const firstReference = /Recorded 32 runs as (\S+)/.exec(first.out)?.[1] ?? '';
    expect(again.reference).toMatch(/^runledger\.local\/demo\/lp-mip:grid-/);
    expect(again.reference).not.toBe(firstReference);
    expect((await registry.resolve(DEMO_REFERENCE)).digest).toBe(again.manifest_digest);
    expect((await registry.resolve(firstReference)).digest).toBe(sealed.manifestDigest);
    const solves = await cli(['--root', root, 'solves', DEMO_REFERENCE, '--json']);
    expect(JSON.parse(solves.out)).toHaveLength(32);
  }, 180_000);
});

describe('experiment commands', () => {
  async function store() {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create('ghcr.io/acme/cli:v1', {
      registry,
      annotations: { 'com.example.k': 'v' },
    });
    await exp.logJson('dataset', { n: 3 });
    await exp.run(async (run) => {
      run.logParameter('solver', 'highs');
      run.logParameter('gap', 0.5);
      await run.logText('log', 'line one\nline two\n');
    });
    await exp
      .run((run) => {
        run.logParameter('solver', 'a,"quoted"');
        run.logParameter('gap', Number.NaN);
        throw new Error('diverged');
      })
      .catch(() => undefined);
    const sealed = await exp.commit();
    return { root, registry, sealed };
  }

  it('ls shows experiments with status and run counts', async () => {
    const { root, sealed } = await store();
    const r = await cli(['--root', root, 'ls']);
    expect(r.out).toMatch(
      /ghcr\.io\/acme\/cli:v1\s+sha256:[0-9a-f]{12}\s+experiment\s+finished\s+2/
    );
    const json = JSON.parse((await cli(['--root', root, 'ls', '--json'])).out);
    expect(json).toEqual([
      expect.objectContaining({
        reference: 'ghcr.io/acme/cli:v1',
        digest: sealed.manifestDigest,
        type: 'experiment',
        status: 'finished',
        runs: 2,
        solves: 0,
      }),
    ]);
  });

  it('show describes the experiment as text and JSON', async () => {
    const { root, sealed } = await store();
    const text = await cli(['--root', root, 'show', 'ghcr.io/acme/cli:v1']);
    expect(text.out).toContain(`Digest      ${sealed.manifestDigest}`);
    expect(text.out).toContain('Runs        2 (1 finished, 1 failed)');
    expect(text.out).toContain('Annotation  com.example.k=v');
    expect(text.out).toMatch(/\n {2}1\s+\S+\s+failed\s+2\s+Error: diverged\n/);
    const json = JSON.parse(
      (await cli(['--root', root, 'show', 'ghcr.io/acme/cli:v1', '--json'])).out
    );
    expect(json.attachments).toEqual([
      { name: 'dataset', media_type: 'application/json', size: 7 },
    ]);
    expect(json.runs[1]).toMatchObject({
      run_id: 1,
      status: 'failed',
      reason: 'Error: diverged',
      parameters: { solver: 'a,"quoted"', gap: 'NaN' },
    });
    expect(json.runs[0].attachments).toEqual([
      { name: 'log', media_type: 'text/plain; charset=utf-8', size: 18 },
    ]);
  });

  it('runs prints the table, CSV, JSON and an Arrow file', async () => {
    const { root } = await store();
    const table = await cli(['--root', root, 'runs', 'ghcr.io/acme/cli:v1']);
    // Text says the project once, above the table; the machine formats carry it as a column.
    expect(table.out.split('\n').slice(0, 5)).toEqual([
      'Project  acme/cli',
      '',
      'run_id  status    gap  solver',
      '     0  finished  0.5  highs',
      '     1  failed    NaN  a,"quoted"',
    ]);
    const csv = await cli(['--root', root, 'runs', 'ghcr.io/acme/cli:v1', '--csv']);
    expect(csv.out).toBe(
      'run_id,project,status,gap,solver\n0,acme/cli,finished,0.5,highs\n1,acme/cli,failed,NaN,"a,""quoted"""\n'
    );
    const json = JSON.parse(
      (await cli(['--root', root, 'runs', 'ghcr.io/acme/cli:v1', '--json'])).out
    );
    expect(json).toEqual([
      { run_id: 0, project: 'acme/cli', status: 'finished', gap: 0.5, solver: 'highs' },
      { run_id: 1, project: 'acme/cli', status: 'failed', gap: 'NaN', solver: 'a,"quoted"' },
    ]);
    const out = await tempDir();
    const arrow = await cli(
      ['--root', root, 'runs', 'ghcr.io/acme/cli:v1', '--arrow', 'runs.arrow'],
      out
    );
    expect(arrow.code).toBe(0);
    const t = tableFromArrowFile(await readFile(join(out, 'runs.arrow')));
    expect(t.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'project',
      'status',
      'gap',
      'solver',
    ]);
    expect(t.numRows).toBe(2);
    expect(
      (await cli(['--root', root, 'runs', 'ghcr.io/acme/cli:v1', '--csv', '--json'])).code
    ).toBe(2);
  });

  it('get writes an attachment to stdout or a file', async () => {
    const { root } = await store();
    const stdout = await cli(['--root', root, 'get', 'ghcr.io/acme/cli:v1', '--run', '0', 'log']);
    expect(stdout.bytes.toString()).toBe('line one\nline two\n');
    expect(
      (await cli(['--root', root, 'get', 'ghcr.io/acme/cli:v1', 'dataset'])).bytes.toString()
    ).toBe('{"n":3}');
    const out = await tempDir();
    const file = await cli(
      ['--root', root, 'get', 'ghcr.io/acme/cli:v1', 'dataset', '-o', 'd.json'],
      out
    );
    expect(file.code).toBe(0);
    expect(await readFile(join(out, 'd.json'), 'utf8')).toBe('{"n":3}');
    const exists = await cli(
      ['--root', root, 'get', 'ghcr.io/acme/cli:v1', 'dataset', '-o', 'd.json'],
      out
    );
    expect(exists.code).toBe(1);
    expect(exists.err).toMatch(/^runledger: FILE_EXISTS: /);
    await writeFile(join(out, 'd.json'), 'old');
    expect(
      (
        await cli(
          ['--root', root, 'get', 'ghcr.io/acme/cli:v1', 'dataset', '-o', 'd.json', '--force'],
          out
        )
      ).code
    ).toBe(0);
    expect(await readFile(join(out, 'd.json'), 'utf8')).toBe('{"n":3}');
    const missing = await cli(['--root', root, 'get', 'ghcr.io/acme/cli:v1', '--run', '9', 'log']);
    expect(missing.code).toBe(2);
    const noName = await cli(['--root', root, 'get', 'ghcr.io/acme/cli:v1', 'nope']);
    expect(noName.err).toMatch(/^runledger: ATTACHMENT_NOT_FOUND: /);
  });

  it('solves prints the solves table as text, CSV, JSON and Arrow; show counts solves', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create('ghcr.io/acme/cli:solves', { registry });
    await exp.run(async (run) => {
      await run.logSolve(fixedStateAdapter({ 0: 0, 1: 1, 2: 1 }), knapsack(), { seed: 1 });
      run.logMetric('gap', 0.5);
      run.logMetric('bound', 21);
    });
    await exp
      .run((run) => run.logSolve(failingAdapter(new Error('no')), knapsack(), { seed: 2 }))
      .catch(() => undefined);
    await exp.commit();
    const text = await cli(['--root', root, 'solves', 'ghcr.io/acme/cli:solves']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/run_id\s+solve_id\s+adapter\s+status\s+objective\s+feasible/);
    expect(text.out).toMatch(/0\s+0\s+tests\.FixedState\s+finished\s+20\s+true\s+unspecified/);
    expect(text.out).toMatch(/1\s+0\s+tests\.Failing\s+failed/);
    const csv = await cli(['--root', root, 'solves', 'ghcr.io/acme/cli:solves', '--csv']);
    expect(csv.out.split('\n')[0]).toBe(
      'run_id,solve_id,adapter,status,objective,feasible,optimality,started_at,ended_at,duration_ms,options.seed'
    );
    const json = JSON.parse(
      (await cli(['--root', root, 'solves', 'ghcr.io/acme/cli:solves', '--json'])).out
    ) as Record<string, unknown>[];
    expect(json.map((r) => [r['run_id'], r['status'], r['objective'], r['options.seed']])).toEqual([
      [0, 'finished', 20, 1],
      [1, 'failed', null, 2],
    ]);
    const out = await tempDir();
    const arrow = await cli(
      ['--root', root, 'solves', 'ghcr.io/acme/cli:solves', '--arrow', 's.arrow'],
      out
    );
    expect(arrow.out).toContain('Wrote 2 solves to');
    expect(tableFromArrowFile(await readFile(join(out, 's.arrow'))).numRows).toBe(2);
    const both = await cli([
      '--root',
      root,
      'solves',
      'ghcr.io/acme/cli:solves',
      '--csv',
      '--json',
    ]);
    expect(both.code).toBe(2);
    const show = await cli(['--root', root, 'show', 'ghcr.io/acme/cli:solves']);
    expect(show.out).toMatch(
      /RUN\s+NAME\s+STATUS\s+PARAMS\s+SOLVES\s+SAMPLINGS\s+METRICS\s+ATTACHMENTS/
    );
    expect(show.out).toMatch(/\n {2}0\s+\S+\s+finished\s+0\s+1\s+gap, bound\n/);
    const showJson = JSON.parse(
      (await cli(['--root', root, 'show', 'ghcr.io/acme/cli:solves', '--json'])).out
    ) as { runs: { metrics: string[] }[] };
    expect(showJson.runs.map((r) => r.metrics)).toEqual([['gap', 'bound'], []]);
    expect(show.out).toMatch(/\n {2}1\s+\S+\s+failed\s+0\s+1 \(1 not finished\)/);
  });

  it('show and runs display run names, parents, tags and metrics', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const ref = 'ghcr.io/acme/cli:nested';
    const exp = await Experiment.create(ref, { registry });
    await exp.run(
      async (run) => {
        run.logParameter('budget', 2);
        await run.child(
          (trial) => {
            trial.logParameter('seed', 7);
            trial.logMetric('gap', 0.25);
          },
          { name: 'trial-7', tags: { stage: 'grid' } }
        );
      },
      { name: 'sweep', tags: { owner: 'ann', stage: 'outer' } }
    );
    await exp.commit();
    const text = await cli(['--root', root, 'show', ref]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(
      /\nRUN\s+NAME\s+PARENT\s+STATUS\s+PARAMS\s+METRICS\s+TAGS\s+ATTACHMENTS\s+REASON\n/
    );
    expect(text.out).toMatch(/\n {2}0\s+sweep\s+finished\s+1\s+owner=ann, stage=outer\n/);
    expect(text.out).toMatch(/\n {2}1\s+trial-7\s+0\s+finished\s+1\s+gap\s+stage=grid\n/);
    const json = JSON.parse((await cli(['--root', root, 'show', ref, '--json'])).out) as {
      runs: Record<string, unknown>[];
    };
    expect(
      json.runs.map(({ run_id, name, parent_run_id, tags, metrics }) => ({
        run_id,
        name,
        parent_run_id,
        tags,
        metrics,
      }))
    ).toEqual([
      {
        run_id: 0,
        name: 'sweep',
        parent_run_id: undefined,
        tags: { owner: 'ann', stage: 'outer' },
        metrics: [],
      },
      { run_id: 1, name: 'trial-7', parent_run_id: 0, tags: { stage: 'grid' }, metrics: ['gap'] },
    ]);
    expect(json.runs[0]).not.toHaveProperty('parent_run_id');
    const runs = await cli(['--root', root, 'runs', ref, '--all-columns', '--json']);
    expect(
      (JSON.parse(runs.out) as Record<string, unknown>[]).map((r) => [
        r['name'],
        r['parent_run_id'],
        r['tags.stage'],
        r['tags.owner'],
        r['metrics.gap'],
      ])
    ).toEqual([
      ['sweep', null, 'outer', 'ann', null],
      ['trial-7', 0, 'grid', null, 0.25],
    ]);
  });

  it('runs --all-columns, --where and --sort filter and order the runs table', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create('ghcr.io/acme/cli:where', { registry });
    for (const [i, limit] of [10, 20, 40].entries()) {
      await exp.run(
        (run) => {
          run.logParameter('time_limit', limit);
          run.logMetric('gap', 1 / (i + 1));
        },
        { name: `trial-${i}`, tags: { stage: i === 2 ? 'final' : 'grid' } }
      );
    }
    await exp.commit();
    const ref = 'ghcr.io/acme/cli:where';
    const all = await cli(['--root', root, 'runs', ref, '--all-columns', '--csv']);
    expect(all.code).toBe(0);
    expect(all.out.split('\n')[0]).toBe(
      'run_id,project,name,status,parent_run_id,resumed_from,started_at,ended_at,duration_ms,description,labels,params.time_limit,metrics.gap,tags.stage,solve_count'
    );
    const where = await cli([
      '--root',
      root,
      'runs',
      ref,
      '--where',
      "params.time_limit >= 20 and tags.stage = 'grid' or name like 'trial-0'",
      '--json',
    ]);
    // The default view shows each run's latest metric value too.
    expect(JSON.parse(where.out)).toEqual([
      { run_id: 0, project: 'acme/cli', status: 'finished', time_limit: 10, 'metrics.gap': 1 },
      { run_id: 1, project: 'acme/cli', status: 'finished', time_limit: 20, 'metrics.gap': 0.5 },
    ]);
    const sorted = await cli([
      '--root',
      root,
      'runs',
      ref,
      '--all-columns',
      '--sort',
      'metrics.gap asc',
      '--json',
    ]);
    expect((JSON.parse(sorted.out) as { name: string }[]).map((r) => r.name)).toEqual([
      'trial-2',
      'trial-1',
      'trial-0',
    ]);
    const out = await tempDir();
    const arrow = await cli(
      ['--root', root, 'runs', ref, '--where', 'params.time_limit > 10', '--arrow', 'w.arrow'],
      out
    );
    expect(arrow.out).toContain('Wrote 2 runs to');
    expect(tableFromArrowFile(await readFile(join(out, 'w.arrow'))).numRows).toBe(2);
    const bad = await cli(['--root', root, 'runs', ref, '--where', 'params.time_limt > 1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^runledger: USAGE: .*params\.time_limt/);
  });
});

describe('show: trace summary', () => {
  it('sums the spans of each run by name in text and lists them in --json; a run without a trace has none', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const ref = 'ghcr.io/acme/cli:trace';
    const traced = await Experiment.create(ref, {
      registry,
      storeTrace: true,
      handleSignals: false,
    });
    await traced.run(async (run) => {
      await run.logSolve(fixedStateAdapter({ 0: 0, 1: 1, 2: 1 }), knapsack(), { seed: 1 });
      await run.logSolve(fixedStateAdapter({ 0: 1, 1: 0, 2: 0 }), knapsack(), { seed: 2 });
    });
    await traced.commit();
    const json = JSON.parse((await cli(['--root', root, 'show', ref, '--json'])).out) as {
      runs: { trace?: { name: string; duration_ms: number }[] }[];
    };
    const trace = json.runs[0]?.trace ?? [];
    expect(trace.map((s) => s.name)).toEqual(['Run', 'solve', 'solve']);
    expect(trace.every((s) => typeof s.duration_ms === 'number' && s.duration_ms >= 0)).toBe(true);
    const text = await cli(['--root', root, 'show', ref]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(
      /\nRun 0 {2}\S+\n {2}Trace {2}Run \d+\.\d+ m?s, solve ×2 \d+\.\d+ m?s\n/
    );

    const plain = await Experiment.create('ghcr.io/acme/cli:untraced', { registry });
    await plain.run((run) => run.logParameter('seed', 1));
    await plain.commit();
    const untraced = await cli(['--root', root, 'show', 'ghcr.io/acme/cli:untraced', '--json']);
    expect(JSON.parse(untraced.out).runs[0]).not.toHaveProperty('trace');
    expect((await cli(['--root', root, 'show', 'ghcr.io/acme/cli:untraced'])).out).not.toContain(
      'Trace'
    );
  });
});
