import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, reportError } from '../../src/cli/main.js';
import { RunledgerError } from '../../src/errors.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { closestNames } from '../../src/tables/suggest.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function cli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const io = memoryIo(env, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** An error as the CLI prints it: exactly one line, then one hint line. */
function lines(err: string): [string, string] {
  const all = err.split('\n');
  expect(all, err).toHaveLength(3);
  expect(all[2]).toBe('');
  expect(all[1]).toMatch(/^hint: /);
  return [all[0]!, all[1]!];
}

const REF = 'ghcr.io/acme/suggest:v1';

/** A store with one experiment: parameter lr, metric loss. */
async function store(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(REF, { registry });
  await exp.run((run) => {
    run.logParameter('lr', 0.1);
    run.logMetric('loss', 0.5);
  });
  await exp.commit();
  return root;
}

describe('argument errors', () => {
  it.each([
    [['ls', '--al'], 'Unknown option --al for ls; did you mean --all?', 'ls'],
    [['ls', '--bogus'], 'Unknown option --bogus for ls.', 'ls'],
    [['gc', '-x'], 'Unknown option -x for gc.', 'gc'],
    [['gc', '--grace'], '--grace needs a value for gc.', 'gc'],
    [
      ['runs', '--all', '--where', '--csv'],
      '--where needs a value for runs, not the option --csv (a value starting with - goes as --where=--csv).',
      'runs',
    ],
    [['gc', '--delete=yes'], '--delete takes no value (--delete=yes).', 'gc'],
    [['--bogus'], 'Unknown option --bogus.', undefined],
    [['sohw'], 'Unknown command "sohw"; did you mean show?', undefined],
    [
      ['tag', 'a'],
      'tag takes 2 arguments, not 1; usage: runledger tag <source-ref> <target-ref>',
      'tag',
    ],
    [['rm'], 'rm takes at least 1 argument, not 0; usage: runledger rm <ref>...', 'rm'],
  ] as const)('%j says so in one line, then how to get help', async (args, message, command) => {
    const r = await cli([...args]);
    expect(r.code).toBe(2);
    const [first, hint] = lines(r.err);
    expect(first).toBe(`runledger: USAGE: ${message}`);
    expect(hint).toBe(
      command === undefined
        ? 'hint: Run "runledger --help" for the commands.'
        : `hint: Run "runledger help ${command}" for its options and examples.`
    );
    // None of node's parser phrasing is left.
    expect(r.err).not.toMatch(/To specify a positional|'--|ERR_PARSE_ARGS/);
  });

  it('suggests close names, and names given without their prefix', () => {
    const columns = ['run_id', 'status', 'params.lr', 'params.seed', 'metrics.loss', 'metrics.lr'];
    expect(closestNames('stauts', columns)).toEqual(['status']);
    expect(closestNames('lr', columns)).toEqual(['params.lr', 'metrics.lr']);
    expect(closestNames('los', columns)).toEqual(['metrics.loss']);
    expect(closestNames('metric.loss', columns)).toEqual(['metrics.loss']);
    expect(closestNames('param.sed', columns)[0]).toBe('params.seed');
    expect(closestNames('zzzz', columns)).toEqual([]);
    expect(closestNames('nope', ['copy', 'show'])).toEqual([]);
    expect(closestNames('rem', ['remote', 'all'])).toEqual(['remote']);
  });
});

describe('columns that are not there', () => {
  it('--where, --sort and --columns name the closest columns, prefixes included', async () => {
    const root = await store();
    for (const target of [REF, 'ghcr.io/acme/suggest']) {
      const where = await cli(['--root', root, 'runs', target, '--where', 'loss < 1']);
      expect(where.code).toBe(2);
      expect(lines(where.err)[0]).toMatch(
        /^runledger: USAGE: Unknown column "loss" at position 0 of the filter; did you mean metrics\.loss\?$/
      );
      const sort = await cli(['--root', root, 'runs', target, '--sort', 'stauts desc']);
      expect(lines(sort.err)[0]).toMatch(/Unknown column "stauts" .*did you mean status\b/);
      const columns = await cli(['--root', root, 'runs', target, '--columns', 'run_id,los']);
      expect(columns.code).toBe(2);
      expect(lines(columns.err)[0]).toMatch(/No column "los" .* Did you mean metrics\.loss\?$/);
    }
    // Over several experiments a parameter goes by its full name: lr finds params.lr.
    const bare = await cli(['--root', root, 'runs', 'ghcr.io/acme/suggest', '--where', 'lr > 0']);
    expect(lines(bare.err)[0]).toMatch(/Unknown column "lr" .*; did you mean params\.lr\?$/);
  });
});

describe('hints', () => {
  it('name the CLI flag, not the API option, for a file that exists', async () => {
    const root = await store();
    const dir = await tempDir();
    await writeFile(join(dir, 'out.ommx'), 'x');
    const r = await cli(['--root', root, 'export', REF, 'out.ommx'], {}, dir);
    expect(r.code).toBe(1);
    const [first, hint] = lines(r.err);
    expect(first).toMatch(/^runledger: FILE_EXISTS: /);
    expect(hint).toContain('--force');
    expect(r.err).not.toMatch(/overwrite:|pass overwrite|\{ ?overwrite/);
  });

  it('repeat the flags of a gc dry run, and the command they give works', async () => {
    const root = await store();
    const registry = await LocalRegistry.open(root);
    const orphan = await registry.putBlob(new TextEncoder().encode('orphan'));
    const old = new Date(Date.now() - 3_600_000);
    await utimes((await registry.statBlob(orphan.digest)).path, old, old);
    const dry = await cli(['--root', root, 'gc', '--grace', '0s']);
    const said = /run "(runledger [^"]+)" to free the space/.exec(dry.out)?.[1];
    expect(said).toBe(`runledger --root ${root} gc --grace 0s --delete`);
    expect(await registry.hasBlob(orphan.digest)).toBe(true);
    const again = await cli(said!.split(' ').slice(1));
    expect(again.code).toBe(0);
    expect(await registry.hasBlob(orphan.digest)).toBe(false);
    // A path with a space is quoted so the shell reads it back whole.
    const spaced = join(await tempDir(), 'my store');
    await LocalRegistry.open(spaced);
    const blob = await (await LocalRegistry.open(spaced)).putBlob(new Uint8Array([1]));
    await utimes((await (await LocalRegistry.open(spaced)).statBlob(blob.digest)).path, old, old);
    expect((await cli(['--root', spaced, 'gc', '--grace=0s'])).out).toContain(
      `run "runledger --root '${spaced}' gc --grace=0s --delete"`
    );
  });

  it('say what to do after a full disk or a refused permission', async () => {
    for (const [errno, text] of [
      ['ENOSPC', 'The disk is full'],
      ['EACCES', 'Permission denied'],
    ] as const) {
      const io = memoryIo();
      const e = new RunledgerError('IO_ERROR', 'Could not write x.', { data: { errno } });
      expect(reportError(e, io, { json: false })).toBe(1);
      expect(lines(io.err())[1]).toContain(text);
    }
  });
});

describe('the store root', () => {
  it('refuses a --root that does not exist unless --init, which creates it', async () => {
    const missing = join(await tempDir(), 'nope', 'store');
    const r = await cli(['--root', missing, 'ls']);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      `runledger: LAYOUT_INVALID: --root ${missing} does not exist.`,
      'hint: Check the path, or add --init to create a new store there.',
    ]);
    expect(existsSync(missing)).toBe(false);
    const init = await cli(['--root', missing, '--init', 'ls']);
    expect(init.code, init.err).toBe(0);
    expect(existsSync(join(missing, 'oci-layout'))).toBe(true);
    expect((await cli(['--root', missing, 'ls'])).code).toBe(0);
  });

  it('creates the default store (RUNLEDGER_HOME) on first use', async () => {
    const home = join(await tempDir(), 'home', 'runledger');
    const r = await cli(['ls'], { RUNLEDGER_HOME: home });
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(home, 'oci-layout'))).toBe(true);
  });

  it('says "no such file" for an import of a missing file, and leaves the store alone', async () => {
    const root = join(await tempDir(), 'fresh');
    const dir = await tempDir();
    const r = await cli(['--root', root, '--init', 'import', 'nope.ommx'], {}, dir);
    expect(r.code).toBe(1);
    expect(lines(r.err)).toEqual([
      `runledger: IO_ERROR: Cannot import ${join(dir, 'nope.ommx')}: no such file or directory.`,
      'hint: Check the path (a relative path starts from the current directory).',
    ]);
    expect(existsSync(root)).toBe(false);
  });
});

describe('error output', () => {
  it('is one line whatever the message holds, and JSON with snake_case keys under --json', async () => {
    const io = memoryIo();
    const e = new RunledgerError('SQL_INVALID', 'Parser Error:\n  syntax error at "x"\n', {
      data: { mediaType: 'a', runId: 3, serverURL: 'u', path: 'p' },
    });
    reportError(e, io, { json: false });
    expect(lines(io.err())[0]).toBe('runledger: SQL_INVALID: Parser Error: syntax error at "x"');
    const jio = memoryIo();
    reportError(e, jio, { json: true });
    expect(jio.err().endsWith('\n')).toBe(true);
    expect(jio.err().trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(jio.err())).toEqual({
      error: {
        name: 'RunledgerError',
        code: 'SQL_INVALID',
        message: 'Parser Error: syntax error at "x"',
        hint: expect.stringContaining('runledger sql'),
        data: { media_type: 'a', run_id: 3, server_url: 'u', path: 'p' },
      },
    });
    const usage = await cli(['--json', 'ls', '--al']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.err).error).toMatchObject({
      code: 'USAGE',
      message: 'Unknown option --al for ls; did you mean --all?',
      hint: 'Run "runledger help ls" for its options and examples.',
      data: { command: 'ls' },
    });
  });

  it('reports a full disk on stdout in one line with no stack trace (built CLI)', () => {
    requireBuilt();
    const r = spawnSync(
      'sh',
      ['-c', `exec "${process.execPath}" "${CLI_BIN}" completion bash > /dev/full`],
      { encoding: 'utf8' }
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'runledger: IO_ERROR: Could not write to standard output: no space left on device (ENOSPC).\n' +
        'hint: The disk is full: free some space and run the command again.\n'
    );
  });

  it('stops quietly, exit 0, when the reader of stdout goes away (EPIPE; built CLI)', async () => {
    requireBuilt();
    const child = spawn(process.execPath, [CLI_BIN, 'completion', 'bash'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before anything is written
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(err).toBe('');
    expect(code).toBe(0);
  });

  it('leaves no file behind in a directory it was refused', async () => {
    const dir = await tempDir();
    await cli(['--root', join(dir, 'typo'), 'gc']);
    expect(await readdir(dir)).toEqual([]);
  });
});
