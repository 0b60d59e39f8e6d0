import { readdir, readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GLOBAL_HELP, HELP } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';
import type { Command } from '../../src/cli/types.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';

async function cli(args: string[]) {
  const io = memoryIo({});
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

const COMMANDS_DIR = fileURLToPath(new URL('../../src/cli/commands/', import.meta.url));

/** Every command module of src/cli/commands, loaded: what the help table must describe. */
async function commandModules(): Promise<Command[]> {
  const files = (await readdir(COMMANDS_DIR)).filter((f) => f.endsWith('.ts'));
  const out: Command[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(`${COMMANDS_DIR}${f}`).href)) as Record<
      string,
      unknown
    >;
    for (const v of Object.values(mod)) {
      if (typeof v === 'object' && v !== null && 'run' in v && 'arity' in v) out.push(v as Command);
    }
  }
  return out;
}

describe('help', () => {
  it('prints the usage for runledger alone, --help, -h and help (exit 0), the version for --version and -V', async () => {
    const alone = await cli([]);
    expect(alone.code).toBe(0);
    expect(alone.err).toBe('');
    expect(alone.out).toMatch(
      /^Usage: runledger \[--root DIR \[--init\]\] \[--json\] <command> \[args\]\n/
    );
    for (const args of [['--help'], ['-h'], ['help']])
      expect((await cli(args)).out).toBe(alone.out);
    const version = JSON.parse(await readFile('package.json', 'utf8')).version as string;
    for (const args of [['--version'], ['-V'], ['ls', '--version']]) {
      const r = await cli(args);
      expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
    }
  });

  it('lists every command module, with its usage and summary', async () => {
    const { out } = await cli(['--help']);
    const modules = await commandModules();
    expect(modules.length).toBeGreaterThan(25);
    for (const c of modules) {
      expect(out).toContain(`  ${c.usage}`);
      expect(out).toContain(c.summary);
    }
    expect(out).toContain('  help [command]');
  });

  it('describes every command in the table as its module declares it: usage, summary, each option', async () => {
    const drift: string[] = [];
    for (const c of await commandModules()) {
      const h = HELP[c.name];
      if (h === undefined) {
        drift.push(`${c.name}: no entry in src/cli/help.ts`);
        continue;
      }
      if (h.usage !== c.usage) drift.push(`${c.name}: usage ${JSON.stringify(c.usage)}`);
      if (h.summary !== c.summary) drift.push(`${c.name}: summary ${JSON.stringify(c.summary)}`);
      const declared = c.options ?? {};
      for (const [name, o] of Object.entries(declared)) {
        const d = h.options[name];
        if (d === undefined) drift.push(`${c.name}: --${name} is not in its help`);
        else if (
          (d.value !== undefined) !== (o.type === 'string') ||
          d.short !== o.short ||
          (d.multiple ?? false) !== (o.multiple ?? false)
        )
          drift.push(`${c.name}: --${name} is described as another kind of option`);
      }
      for (const name of Object.keys(h.options))
        if (declared[name] === undefined) drift.push(`${c.name}: help has --${name}, it does not`);
    }
    expect(drift).toEqual([]);
  });

  it('gives each command usage, every option and two examples, the same for help <c>, <c> --help and <c> -h', async () => {
    for (const [name, h] of Object.entries(HELP)) {
      const r = await cli(['help', name]);
      expect(r.code, name).toBe(0);
      expect(r.out.startsWith(`Usage: runledger ${h.usage}\n`), name).toBe(true);
      for (const option of [...Object.keys(h.options), ...Object.keys(GLOBAL_HELP)])
        expect(r.out, `${name} --${option}`).toContain(`--${option}`);
      const examples = r.out.slice(r.out.indexOf('\nExamples:\n'));
      expect(examples.match(/^ {2}\S.*$/gm)?.length, name).toBe(2);
      for (const e of h.examples) expect(e.command).toMatch(/runledger /);
      if (name === 'help') continue;
      expect((await cli([name, '--help'])).out, name).toBe(r.out);
      expect((await cli(['--root', '/nonexistent', name, '-h'])).out, name).toBe(r.out);
    }
  });

  it('documents the query language in runs --help', async () => {
    const { out } = await cli(['runs', '--help']);
    for (const piece of [
      '--where EXPR',
      '--sort',
      "COL in ('a', 'b')",
      'is null',
      "like 'trial-%'",
      'ilike',
      'and, or, not',
      'params.<name>',
      'metrics.<name>',
      'backquotes',
    ])
      expect(out).toContain(piece);
  });

  it('refuses help for a command there is not, with the closest one', async () => {
    const r = await cli(['help', 'sohw']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'runledger: USAGE: Unknown command "sohw"; did you mean show?\nhint: Run "runledger --help" for the commands.\n'
    );
  });

  it('answers --version and --help without loading a command module', () => {
    requireBuilt();
    // A resolve hook that names every module of dist/src/cli/commands/ node is asked to load.
    const hook = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/cli/commands/')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }"
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module'; register(${JSON.stringify(hook)});`
    )}`;
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', register, CLI_BIN, ...args], { encoding: 'utf8' });
    for (const args of [['--version'], ['--help'], ['runs', '--help'], ['help', 'gc']]) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
    // The hook does see a command that runs.
    expect(run('completion', 'bash').stderr).toMatch(/loaded .*cli\/commands\/completion\.js/);
  });
});
