import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { checkpointReference } from '../../src/experiment/checkpoint.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

beforeAll(() => requireBuilt());

async function cli(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/**
 * A store with: a draft checkpoint (1 run), a failed one from `exp.use` (1 run), a draft of
 * another repository (2 runs), and a committed experiment, which has no checkpoint.
 */
async function storeWithCheckpoints() {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const draft = await Experiment.create('ghcr.io/acme/b:v1', { registry });
  await draft.run((run) => run.logParameter('seed', 1));
  await draft.checkpoint();
  const failing = await Experiment.create('ghcr.io/acme/a:v1', { registry });
  await expect(
    failing.use(async (exp) => {
      await exp.run((run) => run.logParameter('seed', 2), { name: 'good' });
      throw new Error('solver exploded');
    })
  ).rejects.toThrow('solver exploded');
  const other = await Experiment.create('ghcr.io/other/c:v1', { registry });
  await other.run((run) => run.logParameter('seed', 3));
  await other.run((run) => run.logParameter('seed', 4));
  await other.checkpoint();
  const done = await Experiment.create('ghcr.io/acme/done:v1', { registry });
  await done.run((run) => run.logParameter('seed', 5));
  await done.commit();
  return { root, registry };
}

/** The requested names in the first column of a `checkpoints` table. */
function names(out: string): string[] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('ghcr.io/'))
    .map((l) => l.split(/\s+/)[0] as string);
}

/**
 * Records an experiment in a child process (the built package) that is killed with SIGKILL
 * while two runs are open: run 0 `first` closed (so a draft checkpoint holds it), run 1 `outer`
 * and its child run 2 `inner` open. Only the crash journal knows the open runs.
 */
function recordAndKill(root: string, reference: string): void {
  const code = `
    const { Experiment } = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
    const exp = await Experiment.create(${JSON.stringify(reference)});
    await exp.run((run) => { run.logParameter('seed', 1); run.logMetric('gap', 0.5); },
      { name: 'first', tags: { stage: 'grid' } });
    await exp.run(async (run) => {
      run.logParameter('seed', 2);
      run.logMetric('gap', 0.25);
      await run.child(async (child) => {
        child.logParameter('seed', 3);
        // The journal is made durable within a second ('batched'): let it be, then die hard.
        await new Promise((r) => setTimeout(r, 1500));
        process.kill(process.pid, 'SIGKILL');
      }, { name: 'inner' });
    }, { name: 'outer', tags: { stage: 'final' } });
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, RUNLEDGER_HOME: root },
    encoding: 'utf8',
  });
  expect(child.stderr).toBe('');
  expect(child.signal).toBe('SIGKILL');
}

describe('runledger checkpoints', () => {
  it('lists checkpoints by requested name with status, counts and the reason of a failed scope', async () => {
    const { root } = await storeWithCheckpoints();
    const r = await cli(['--root', root, 'checkpoints']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^EXPERIMENT\s+STATUS\s+RUNS\s+SOLVES\s+UPDATED \(UTC\)\s+REASON$/);
    expect(names(r.out)).toEqual(['ghcr.io/acme/a:v1', 'ghcr.io/acme/b:v1', 'ghcr.io/other/c:v1']);
    expect(r.out).toMatch(
      /\nghcr\.io\/acme\/a:v1\s+failed\s+1\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+Error: solver exploded\n/
    );
    expect(r.out).toMatch(
      /\nghcr\.io\/acme\/b:v1\s+draft\s+1\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n/
    );
    expect(r.out).toMatch(/\nghcr\.io\/other\/c:v1\s+draft\s+2\s+0\s/);
    expect(r.out).not.toContain('done');
    expect(r.out).toContain('Continue one with "runledger restore-checkpoint <experiment>".');
  });

  it('filters by prefix and by --status (repeatable, or a comma list)', async () => {
    const { root } = await storeWithCheckpoints();
    const list = async (...args: string[]) => {
      const r = await cli(['--root', root, 'checkpoints', ...args]);
      expect(r.code).toBe(0);
      return names(r.out);
    };
    expect(await list('ghcr.io/acme/')).toEqual(['ghcr.io/acme/a:v1', 'ghcr.io/acme/b:v1']);
    expect(await list('--status', 'failed')).toEqual(['ghcr.io/acme/a:v1']);
    expect(await list('--status', 'draft')).toEqual(['ghcr.io/acme/b:v1', 'ghcr.io/other/c:v1']);
    expect(await list('--status', 'draft', '--status', 'failed')).toHaveLength(3);
    expect(await list('--status', 'failed,interrupted', 'ghcr.io/other/')).toEqual([]);
    expect(await list('ghcr.io/acme/', '--status', 'draft,interrupted')).toEqual([
      'ghcr.io/acme/b:v1',
    ]);
    const none = await cli([
      '--root',
      root,
      'checkpoints',
      'ghcr.io/x/',
      '--status',
      'interrupted',
    ]);
    expect(none.out).toBe(
      `No checkpoints in ${root} starting with ghcr.io/x/ with status interrupted.\n`
    );
  });

  it('--json prints each checkpoint without its config, and the crash journals', async () => {
    const { root, registry } = await storeWithCheckpoints();
    const r = await cli(['--root', root, 'checkpoints', '--json', '--status', 'failed']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { checkpoints: unknown[]; crash_journals: unknown[] };
    const slot = await checkpointReference(registry, 'ghcr.io/acme/a:v1');
    expect(json.crash_journals).toEqual([]);
    expect(json.checkpoints).toEqual([
      {
        checkpoint_image_name: slot,
        requested_image_name: 'ghcr.io/acme/a:v1',
        manifest_digest: (await registry.resolve(slot)).digest,
        config_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        status: 'failed',
        reason: 'Error: solver exploded',
        run_count: 1,
        solve_count: 0,
        sampling_count: 0,
        annotations: {},
      },
    ]);
    const all = JSON.parse((await cli(['--root', root, 'checkpoints', '--json'])).out) as {
      checkpoints: { requested_image_name: string }[];
    };
    expect(all.checkpoints.map((c) => c.requested_image_name)).toEqual([
      'ghcr.io/acme/a:v1',
      'ghcr.io/acme/b:v1',
      'ghcr.io/other/c:v1',
    ]);
    const empty = await cli(['--root', await tempDir(), 'checkpoints', '--json']);
    expect(JSON.parse(empty.out)).toEqual({ checkpoints: [], recording: [], crash_journals: [] });
  });

  it('lists first the experiments live processes are recording now, with their open runs', async () => {
    const root = await tempDir();
    const name = 'ghcr.io/acme/live:v1';
    const child = startNode(
      [fileURLToPath(new URL('../ui/children/live-child.mjs', import.meta.url)), DIST_INDEX, name],
      { RUNLEDGER_HOME: root }
    );
    try {
      await child.waitFor('ready');
      const table = (await cli(['--root', root, 'checkpoints'])).out;
      expect(table).toContain('Recording now (runs open in live processes;');
      expect(table).toMatch(
        new RegExp(
          `${name.replace(/[.:/]/g, '\\$&')}\\s+1\\s+\\d{4}-\\d\\d-\\d\\d [\\d:]+\\s+${child.pid}@`
        )
      );
      const json = JSON.parse((await cli(['--root', root, '--json', 'checkpoints'])).out) as {
        recording: unknown[];
      };
      expect(json.recording).toMatchObject([
        { requested_image_name: name, pid: child.pid, open_runs: 1 },
      ]);
      // Only drafts are being recorded: another status leaves them out, and so does a prefix.
      const failed = (await cli(['--root', root, 'checkpoints', '--status', 'failed'])).out;
      expect(failed).not.toContain('Recording now');
      expect((await cli(['--root', root, 'checkpoints', 'ghcr.io/other'])).out).not.toContain(
        'Recording now'
      );
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
    // Once the process is gone its journal is a crash journal, listed as such.
    const after = (await cli(['--root', root, 'checkpoints'])).out;
    expect(after).not.toContain('Recording now');
    expect(after).toContain('Crash journals (processes that ended without committing');
  });

  it('a bad --status is a usage error (exit 2), before the store is touched', async () => {
    const root = join(await tempDir(), 'never-created');
    const bad = await cli(['--root', root, 'checkpoints', '--status', 'draft,finished']);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toBe(
      'runledger: USAGE: --status "finished" is not one of draft, failed, interrupted.\n' +
        'hint: Run "runledger help checkpoints" for its options and examples.\n'
    );
    const json = await cli(['--root', root, 'checkpoints', '--status', 'bogus', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.err)).toMatchObject({ error: { code: 'USAGE' } });
    expect((await cli(['--root', root, 'checkpoints', '--status'])).code).toBe(2);
    await expect(readdir(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('ls --all names the experiment each checkpoint reference is of', async () => {
    const { root, registry } = await storeWithCheckpoints();
    const slot = await checkpointReference(registry, 'ghcr.io/acme/a:v1');
    const text = await cli(['--root', root, 'ls', '--all']);
    expect(text.out).toMatch(
      new RegExp(
        `${slot.replace(/\./g, '\\.')}\\s+sha256:[0-9a-f]{12}\\s+checkpoint of ghcr\\.io/acme/a:v1\\s+failed\\s+1\\s`
      )
    );
    expect((await cli(['--root', root, 'ls'])).out).not.toContain('checkpoint');
    const json = JSON.parse((await cli(['--root', root, 'ls', '--all', '--json'])).out) as {
      reference: string;
    }[];
    expect(json.find((e) => e.reference === slot)).toMatchObject({
      type: 'checkpoint',
      checkpoint_of: 'ghcr.io/acme/a:v1',
      status: 'failed',
      runs: 1,
    });
    expect(json.find((e) => e.reference === 'ghcr.io/acme/done:v1')).toMatchObject({
      type: 'experiment',
      status: 'finished',
      runs: 1,
    });
  });
});

describe('runledger restore-checkpoint', () => {
  it('recovers the open runs of a killed process from its crash journal and keeps the checkpoint', async () => {
    const root = await tempDir();
    const name = 'ghcr.io/acme/crash:v1';
    recordAndKill(root, name);
    const journals = join(root, '.runledger', 'journal');
    expect(await readdir(journals)).toHaveLength(1);
    const before = JSON.parse((await cli(['--root', root, 'checkpoints', '--json'])).out);
    expect(before.checkpoints).toMatchObject([
      { requested_image_name: name, status: 'draft', run_count: 1 },
    ]);
    // The journal knows the two runs still open (and the closed one).
    expect(before.crash_journals).toMatchObject([
      { requested_image_name: name, closed_runs: 1, open_runs: 2, torn: false },
    ]);
    const table = (await cli(['--root', root, 'checkpoints'])).out;
    expect(table).toContain('Crash journals (processes that ended without committing');
    expect(table).toMatch(new RegExp(`${name.replace(/[.:/]/g, '\\$&')}\\s+1\\s+2\\s`));

    const r = await cli(['--root', root, 'restore-checkpoint', name]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const registry = await LocalRegistry.open(root);
    const slot = await checkpointReference(registry, name);
    expect(r.out).toContain(`Restored    ${name}\n`);
    expect(r.out).toContain(
      'Runs        3 (1 finished, 2 interrupted); 2 recovered from crash journals\n'
    );
    expect(r.out).toContain(`Checkpoint  ${slot} (draft)\n`);
    expect(r.out).toMatch(/RUN\s+NAME\s+PARENT\s+STATUS\s+TAGS\s+REASON\n/);
    expect(r.out).toMatch(/\n0\s+first\s+finished\s+stage=grid\n/);
    expect(r.out).toMatch(/\n1\s+outer\s+interrupted\s+stage=final\s+process ended\n/);
    expect(r.out).toMatch(/\n2\s+inner\s+1\s+interrupted\s+process ended\n/);
    expect(r.out).toContain(
      `Continue it in TypeScript with Experiment.restoreFromCheckpoint("${name}")`
    );
    // The journal was consumed into a fresh checkpoint; nothing was committed.
    expect(await readdir(journals)).toEqual([]);
    const after = JSON.parse((await cli(['--root', root, 'checkpoints', '--json'])).out);
    expect(after).toMatchObject({
      checkpoints: [{ requested_image_name: name, status: 'draft', run_count: 3 }],
      crash_journals: [],
    });
    await expect(Experiment.load(name, { registry, pull: false })).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });

    // Restoring again finds everything in the checkpoint; --commit commits it under its name.
    const committed = await cli(['--root', root, 'restore-checkpoint', name, '--commit', '--json']);
    expect(committed.code).toBe(0);
    const json = JSON.parse(committed.out) as {
      committed: { manifest_digest: string };
      checkpoint: { reference: string; status: string };
      runs: unknown[];
    };
    expect(json).toMatchObject({
      reference: name,
      checkpoint: { reference: slot, status: 'draft' },
      run_count: 3,
      status_counts: { finished: 1, interrupted: 2 },
      recovered_from_journals: 0,
    });
    expect(json.runs).toEqual([
      { run_id: 0, name: 'first', tags: { stage: 'grid' }, status: 'finished' },
      {
        run_id: 1,
        name: 'outer',
        tags: { stage: 'final' },
        status: 'interrupted',
        reason: 'process ended',
      },
      {
        run_id: 2,
        name: 'inner',
        parent_run_id: 1,
        tags: {},
        status: 'interrupted',
        reason: 'process ended',
      },
    ]);
    const sealed = await Experiment.load(name, { registry });
    expect(sealed.manifestDigest).toBe(json.committed.manifest_digest);
    expect(sealed.status).toBe('finished');
    expect(sealed.runs.map((run) => [run.runId, run.status, run.parameters['seed']])).toEqual([
      [0, 'finished', 1n],
      [1, 'interrupted', 2n],
      [2, 'interrupted', 3n],
    ]);
    expect((await sealed.runs[2]!.getInfo()).parentRunId).toBe(1);
    expect(await sealed.runs[1]!.metricNames()).toEqual(['gap']);
    expect(JSON.parse((await cli(['--root', root, 'checkpoints', '--json'])).out)).toEqual({
      checkpoints: [],
      recording: [],
      crash_journals: [],
    });
    expect((await registry.fsck()).ok).toBe(true);
  }, 30_000);

  it('--commit commits the failed checkpoint exp.use left, with its runs', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const name = 'ghcr.io/acme/use:v1';
    const exp = await Experiment.create(name, { registry });
    await expect(
      exp.use(async (e) => {
        await e.run((run) => run.logParameter('gap', 0.5), { name: 'good' });
        await e
          .run(
            () => {
              throw new Error('diverged');
            },
            { name: 'bad' }
          )
          .catch(() => undefined);
        throw new Error('out of budget');
      })
    ).rejects.toThrow('out of budget');
    const slot = await checkpointReference(registry, name);

    const look = await cli(['--root', root, 'restore-checkpoint', name]);
    expect(look.code).toBe(0);
    expect(look.out).toContain('Runs        2 (1 finished, 1 failed)\n');
    expect(look.out).not.toContain('crash journal');
    expect(look.out).toContain(`Checkpoint  ${slot} (failed: Error: out of budget)\n`);
    expect(look.out).toMatch(/\n1\s+bad\s+failed\s+Error: diverged\n/);
    // Without a journal to replay, the checkpoint is left exactly as it was.
    const listed = JSON.parse((await cli(['--root', root, 'checkpoints', '--json'])).out);
    expect(listed.checkpoints).toMatchObject([
      { status: 'failed', reason: 'Error: out of budget' },
    ]);

    const r = await cli(['--root', root, 'restore-checkpoint', name, '--commit']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const digest = /\nCommitted ghcr\.io\/acme\/use:v1 -> (sha256:[0-9a-f]{64})\n$/.exec(
      r.out
    )?.[1];
    expect(digest).toBeDefined();
    const sealed = await Experiment.load(name, { registry });
    expect(sealed.manifestDigest).toBe(digest);
    expect(sealed.runs.map((run) => [run.status, run.reason])).toEqual([
      ['finished', undefined],
      ['failed', 'Error: diverged'],
    ]);
    expect(await Promise.all(sealed.runs.map(async (run) => (await run.getInfo()).name))).toEqual([
      'good',
      'bad',
    ]);
    expect(sealed.runs[0]!.parameters).toEqual({ gap: 0.5 });
    const gone = await cli(['--root', root, 'checkpoints']);
    expect(gone.out).toBe(`No checkpoints in ${root}.\n`);
  });

  it('a name without a checkpoint is CHECKPOINT_NOT_FOUND (exit 1), also once committed', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const none = await cli(['--root', root, 'restore-checkpoint', 'ghcr.io/acme/none:v1']);
    expect(none.code).toBe(1);
    expect(none.out).toBe('');
    expect(none.err).toBe(
      `runledger: CHECKPOINT_NOT_FOUND: No checkpoint of experiment ghcr.io/acme/none:v1 in the store ${root}; list them with \`runledger checkpoints\`.\n` +
        'hint: A checkpoint lives only until its experiment is committed: "runledger checkpoints" lists those there are, "runledger ls" the committed experiments.\n'
    );
    const exp = await Experiment.create('ghcr.io/acme/kept:v1', { registry });
    await exp.run((run) => run.logParameter('seed', 1));
    await exp.checkpoint();
    await exp.commit();
    const json = await cli([
      '--root',
      root,
      'restore-checkpoint',
      'ghcr.io/acme/kept:v1',
      '--json',
    ]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.err)).toMatchObject({
      error: { code: 'CHECKPOINT_NOT_FOUND', data: { reference: 'ghcr.io/acme/kept:v1' } },
    });
    const bad = await cli(['--root', root, 'restore-checkpoint', 'Not A Name']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^runledger: REFERENCE_INVALID: /);
    expect((await cli(['--root', root, 'restore-checkpoint'])).code).toBe(2);
  });

  it('both commands are in the help text', async () => {
    const help = await cli(['--help']);
    expect(help.out).toMatch(
      /\n {2}checkpoints \[prefix\] \[--status draft\|failed\|interrupted\]/
    );
    expect(help.out).toMatch(/\n {2}restore-checkpoint <name> \[--commit\]/);
  });
});
