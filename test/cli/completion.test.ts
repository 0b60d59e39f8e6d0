import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { candidates, type CompletionSource } from '../../src/cli/completion.js';
import { HELP } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

const REFS = ['ghcr.io/acme/lp:base', 'ghcr.io/acme/qap:v1', 'ghcr.io/acme/qap:v2'];

async function storeWithRefs(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  for (const ref of REFS) {
    const exp = await Experiment.create(ref, { registry });
    await exp.run((run) => run.logParameter('a', 1));
    await exp.commit();
  }
  return root;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo(env);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

const source: CompletionSource = {
  commands: Object.keys(HELP).filter((n) => n !== 'help'),
  help: async (name) => HELP[name],
};

/** What `candidates` offers for a command line (`|` marks the end: the word being completed). */
async function offered(line: string, refs: readonly string[] = REFS) {
  const words = line.split(' ');
  return candidates(words, source, async () => refs);
}

const which = (program: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

describe('completion candidates', () => {
  it('offers commands, options, option values, references and paths by position', async () => {
    expect(await offered('sh')).toEqual({ kind: 'words', words: ['show'] });
    expect(await offered('re')).toEqual({
      kind: 'words',
      words: ['report', 'restore-checkpoint', 'restore'],
    });
    expect(await offered('gc --')).toEqual({
      kind: 'words',
      words: ['--delete', '--grace', '--root', '--init', '--json', '--help', '--version'],
    });
    expect(await offered('--ro')).toEqual({ kind: 'words', words: ['--root'] });
    expect(await offered('--root')).toEqual({ kind: 'words', words: ['--root'] });
    expect(await offered('--root ')).toEqual({ kind: 'dir' });
    expect(await offered('checkpoints --status f')).toEqual({ kind: 'words', words: ['failed'] });
    expect(await offered('completion ')).toEqual({ kind: 'words', words: ['bash', 'zsh', 'fish'] });
    expect(await offered('help ru')).toEqual({ kind: 'words', words: ['runs'] });
    expect(await offered('show ghcr.io/acme/q')).toEqual({
      kind: 'words',
      words: ['ghcr.io/acme/qap:v1', 'ghcr.io/acme/qap:v2'],
    });
    // export <ref> <file>: a reference, then a path; get -o takes a path.
    expect(await offered('export ghcr.io/acme/qap:v1 ')).toEqual({ kind: 'file' });
    expect(await offered('get -o ')).toEqual({ kind: 'file' });
    expect(await offered('get -ofile ')).toEqual({ kind: 'words', words: REFS });
    // Any number of references for rm; free text (nothing offered) for a remote reference.
    expect(await offered('rm ghcr.io/acme/qap:v1 ghcr.io/acme/l')).toEqual({
      kind: 'words',
      words: ['ghcr.io/acme/lp:base'],
    });
    expect(await offered('pull ')).toEqual({ kind: 'words', words: [] });
    // The value of an option is not a positional: --grace 0s then nothing more.
    expect(await offered('runs --where x ghcr.io/acme/l')).toEqual({
      kind: 'words',
      words: ['ghcr.io/acme/lp:base'],
    });
  });

  it('reads the references of the store --root names, and never creates one', async () => {
    const root = await storeWithRefs();
    const r = await cli(['__complete', '--root', root, 'show', 'ghcr.io/acme/qap:']);
    expect(r).toEqual({ code: 0, out: 'ghcr.io/acme/qap:v1\nghcr.io/acme/qap:v2\n', err: '' });
    const missing = join(await tempDir(), 'nope');
    expect(await cli(['__complete', '--root', missing, 'show', ''])).toEqual({
      code: 0,
      out: '',
      err: '',
    });
    expect(existsSync(missing)).toBe(false);
    const home = join(await tempDir(), 'home');
    expect((await cli(['__complete', 'show', ''], { RUNLEDGER_HOME: home })).out).toBe('');
    expect(existsSync(home)).toBe(false);
    expect((await cli(['__complete', 'export', 'x', ''])).out).toBe(':file\n');
  });

  it('prints a script for bash, zsh and fish, and refuses another shell', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await cli(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('runledger __complete');
    }
    const r = await cli(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe(
      'runledger: USAGE: No completion for "tcsh": the shells are bash, zsh, fish.'
    );
  });
});

describe('completion in the shells (built CLI)', () => {
  let bin = '';
  let root = '';
  // Temp directories go after each test: each test makes its own.
  beforeEach(async () => {
    requireBuilt();
    // `runledger` on PATH, as an installed package puts it.
    bin = join(await tempDir(), 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'runledger'),
      `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`
    );
    await chmod(join(bin, 'runledger'), 0o755);
    root = await storeWithRefs();
  });
  const shellEnv = () => ({ ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` });

  /** COMPREPLY for each line, the bash script sourced and its function called as bash does. */
  function bash(lines: readonly string[]): string[][] {
    const calls = lines
      .map(
        (line) =>
          `COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}; ` +
          'read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); ' +
          '_runledger; printf "%s\\n" "${COMPREPLY[@]}"; echo "--"'
      )
      .join('\n');
    const script = `source <(runledger completion bash)\ncomplete -p runledger\necho "--"\n${calls}`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: shellEnv() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const blocks = r.stdout.split('--\n').slice(0, -1);
    expect(blocks[0]).toBe('complete -F _runledger runledger\n');
    return blocks.slice(1).map((b) => b.split('\n').filter((l) => l !== ''));
  }

  it('bash: commands, options, values, references (without what precedes a colon) and paths', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'study.ommx'), '');
    const [commands, options, values, refs, afterColon, files, none] = bash([
      'runledger sh',
      'runledger gc --g',
      'runledger completion ',
      `runledger --root ${root} show ghcr.io/acme/`,
      `runledger --root ${root} runs ghcr.io/acme/qap:`,
      `runledger --root ${root} import ${dir}/stu`,
      `runledger --root ${root} pull `,
    ]);
    expect(commands).toEqual(['show']);
    expect(options).toEqual(['--grace']);
    expect(values).toEqual(['bash', 'zsh', 'fish']);
    expect(refs).toEqual(REFS);
    // bash replaces only what follows the ':' (COMP_WORDBREAKS): the tags alone.
    expect(afterColon).toEqual(['v1', 'v2']);
    expect(files).toEqual([`${dir}/study.ommx`]);
    expect(none).toEqual([]);
  });

  it.skipIf(!which('zsh'))(
    'zsh: the same answers, sourced or autoloaded from $fpath (skipped without zsh)',
    async () => {
      const fpath = await tempDir();
      const script = spawnSync(process.execPath, [CLI_BIN, 'completion', 'zsh'], {
        encoding: 'utf8',
      }).stdout;
      await writeFile(join(fpath, '_runledger'), script);
      // compadd and _files stand in for zsh's completion system: they print what they are given.
      const stubs = [
        'compdef() { print -r -- "compdef $*"; }',
        'compadd() { while [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }',
        '_files() { print -r -- "_files $*"; }',
      ].join('\n');
      const sourced = spawnSync(
        'zsh',
        [
          '-fc',
          `${stubs}\nsource <(runledger completion zsh)\nwords=(runledger --root ${root} show ghcr.io/acme/qap:); CURRENT=5; _runledger\nwords=(runledger export x ''); CURRENT=4; _runledger`,
        ],
        { encoding: 'utf8', env: shellEnv() }
      );
      expect(sourced.stderr).toBe('');
      expect(sourced.stdout).toBe(
        'compdef _runledger runledger\nghcr.io/acme/qap:v1\nghcr.io/acme/qap:v2\n_files \n'
      );
      const autoloaded = spawnSync(
        'zsh',
        [
          '-fc',
          `${stubs}\nfpath=(${fpath} $fpath); autoload -U _runledger\nwords=(runledger sh); CURRENT=2; _runledger`,
        ],
        { encoding: 'utf8', env: shellEnv() }
      );
      expect(autoloaded.stdout).toBe('show\n');
    }
  );

  it.skipIf(!which('fish'))('fish: the same answers (skipped without fish)', () => {
    const complete = (line: string) =>
      spawnSync(
        'fish',
        [
          '--no-config',
          '-c',
          `runledger completion fish | source; complete -C${JSON.stringify(line)}`,
        ],
        { encoding: 'utf8', env: shellEnv() }
      ).stdout;
    expect(complete('runledger sh')).toBe('show\n');
    expect(complete(`runledger --root ${root} show ghcr.io/acme/qap:`)).toBe(
      'ghcr.io/acme/qap:v1\nghcr.io/acme/qap:v2\n'
    );
    expect(complete('runledger completion ')).toBe('bash\nfish\nzsh\n');
    expect(complete(`runledger --root ${root.slice(0, -2)}`)).toContain(`${root}/`);
  });
});
