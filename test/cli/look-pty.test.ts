/**
 * The built CLI where people look at it: in a pseudo-terminal (util-linux `script`) of 80 and
 * 200 columns, where it finds the width and the colour itself, and through a pipe. Each screen
 * is saved under `__screens__/` and compared with it, so a change in what people see shows up as
 * a change in that file.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { LOOK, lookCli, lookStudy, tty } from './look-study.js';

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** A POSIX shell word. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The environment of a terminal session: no colour switches unless given. */
function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) if (!(k in extra)) delete env[k];
  return env;
}

/** What the CLI prints in a pseudo-terminal `columns` wide (line ends as `\n`). */
function inTerminal(args: readonly string[], columns: number, env?: Record<string, string>) {
  const command = `stty cols ${columns} rows 60; exec ${[process.execPath, CLI_BIN, ...args].map(quote).join(' ')}`;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    env: terminalEnv(env),
  });
  return { code: r.status, out: r.stdout.replace(/\r\n/g, '\n'), err: r.stderr };
}

/** What the CLI prints into a pipe. */
function inPipe(args: readonly string[]) {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], {
    encoding: 'utf8',
    env: terminalEnv(),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SCREENS: readonly (readonly [string, readonly string[]])[] = [
  ['runs', ['runs', LOOK]],
  ['runs-project', ['runs', 'ghcr.io/acme/look']],
  ['show-run', ['show', LOOK, '--run', '0']],
  ['metrics', ['metrics', LOOK]],
  ['diff', ['diff', LOOK, '0', '2']],
];

describe.skipIf(!HAVE_SCRIPT)('in a pseudo-terminal (util-linux script)', () => {
  it('fits 80 and 200 columns, in colour, as the in-process CLI does; screens saved', async () => {
    requireBuilt();
    const root = await lookStudy();
    for (const [name, args] of SCREENS) {
      for (const columns of [80, 200]) {
        const screen = inTerminal(['--root', root, ...args], columns);
        expect(screen.code, screen.out).toBe(0);
        const expected = await lookCli(['--root', root, ...args], { terminal: tty(columns) });
        expect(screen.out).toBe(expected.out);
        const visible = screen.out.replace(/\u001b\[\d+m/g, '');
        for (const line of visible.split('\n'))
          expect([...line].length).toBeLessThanOrEqual(columns);
        await expect(screen.out).toMatchFileSnapshot(`./__screens__/${name}-${columns}.txt`);
      }
    }
    // Failed and interrupted runs stand out in colour; sparklines are drawn.
    const runs = inTerminal(['--root', root, 'runs', LOOK], 80);
    expect(runs.out).toContain('\u001b[31mfailed\u001b[39m');
    expect(runs.out).toContain('\u001b[33minterrupted\u001b[39m');
    expect(inTerminal(['--root', root, 'metrics', LOOK], 80).out).toContain('█▄▃▂▂▁▁▁');
  });

  it('NO_COLOR: the same screen without colour; FORCE_COLOR=0 too', async () => {
    requireBuilt();
    const root = await lookStudy();
    const coloured = inTerminal(['--root', root, 'runs', LOOK], 80);
    for (const env of [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }]) {
      const plain = inTerminal(['--root', root, 'runs', LOOK], 80, env);
      expect(plain.out).not.toMatch(/\u001b\[/);
      expect(plain.out).toBe(coloured.out.replace(/\u001b\[\d+m/g, ''));
    }
  });

  it('refuses to print a binary attachment on the terminal, prints it into a pipe', async () => {
    requireBuilt();
    const root = await lookStudy();
    const screen = inTerminal(['--root', root, 'get', LOOK, '--run', '0', 'trace'], 80);
    expect(screen.code).toBe(2);
    expect(screen.out).toContain('is not text, and standard output is a terminal');
    expect(screen.out).not.toContain('NUMPY');
    const pipe = spawnSync(process.execPath, [
      CLI_BIN,
      '--root',
      root,
      'get',
      LOOK,
      '--run',
      '0',
      'trace',
    ]);
    expect(pipe.status).toBe(0);
    expect(pipe.stdout.subarray(1, 6).toString()).toBe('NUMPY');
  });
});

describe('through a pipe (the built CLI)', () => {
  it('prints every value whole, without colour or sparklines', async () => {
    requireBuilt();
    const root = await lookStudy();
    for (const [, args] of SCREENS) {
      const piped = inPipe(['--root', root, ...args]);
      expect(piped.code, piped.err).toBe(0);
      expect(piped.out).toBe((await lookCli(['--root', root, ...args])).out);
      expect(piped.out).not.toMatch(/\u001b\[|[▁▂▃▄▅▆▇█]/);
    }
    expect(inPipe(['--root', root, 'runs', LOOK]).out).toContain(
      'qaplib/tai256c-with-a-long-instance-name-that-will-not-fit'
    );
  });
});
