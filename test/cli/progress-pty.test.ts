/**
 * Progress where people see it (issue 19, part 6): the built CLI in a pseudo-terminal (util-linux
 * `script`) draws its bar on stderr and ends it at 100% — export, import, push and pull — and
 * `runledger demo` shows its sweep while it solves; in a pipe, none of it. `npm run demo`'s
 * build step (scripts/build-if-stale.mjs) builds only when a source is newer than dist/.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN } from '../helpers/child.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY } from '../helpers/tools.js';

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const BUILD_IF_STALE = fileURLToPath(new URL('../../scripts/build-if-stale.mjs', import.meta.url));

/** A POSIX shell word. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The environment of a terminal session, the store in `home`. */
function terminalEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', RUNLEDGER_HOME: home };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) delete env[k];
  return env;
}

/** What the CLI writes (stdout and stderr both on the terminal) in a pseudo-terminal. */
function inTerminal(home: string, args: readonly string[], columns = 100) {
  const command = `stty cols ${columns} rows 40; exec ${[process.execPath, CLI_BIN, ...args].map(quote).join(' ')}`;
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
    encoding: 'utf8',
    env: terminalEnv(home),
  });
  return { code: r.status, screen: r.stdout };
}

/** What the CLI writes into pipes. */
function inPipe(home: string, args: readonly string[]) {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], {
    encoding: 'utf8',
    env: terminalEnv(home),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The bar's last drawing: the text after the last `\r` before the final new line. */
const FULL_BAR =
  /\[#{20}\] 100% {2}(\d+(?:\.\d)? (?:B|KiB|MiB)) \/ \1 {2}\S+ \S+\/s {2}in \d+:\d\d\x1b\[K\r\n/;

/** A store with one 1 MiB artifact under `ref`. */
async function storeWith(ref: string): Promise<string> {
  const home = await tempDir('runledger-progress-');
  const registry = await LocalRegistry.open(home);
  const artifact = await writeArtifact(registry, { layers: ['small', randomBytes(1024 * 1024)] });
  await registry.publishRef(ref, artifact.descriptor);
  return home;
}

describe.skipIf(!HAVE_SCRIPT)('progress in a pseudo-terminal (util-linux script)', () => {
  it('export and import end their bar at 100% on a line of their own', async () => {
    requireBuilt();
    const ref = 'ghcr.io/acme/progress:v1';
    const home = await storeWith(ref);
    const file = join(await tempDir(), 'a.ommx');
    const exported = inTerminal(home, ['export', ref, file]);
    expect(exported.code, exported.screen).toBe(0);
    expect(exported.screen).toMatch(new RegExp(`\\rexport ${FULL_BAR.source}Exported ${ref}`));
    // The bar fits the terminal: no drawing is wider than 99 columns.
    for (const part of exported.screen.split(/\r\n|\r|\n/).filter((l) => l.startsWith('export'))) {
      expect(part.replace('\x1b[K', '').length).toBeLessThan(100);
    }

    const other = await tempDir('runledger-progress-');
    const imported = inTerminal(other, ['import', file, '--as', 'ghcr.io/acme/back:v1']);
    expect(imported.code, imported.screen).toBe(0);
    expect(imported.screen).toMatch(new RegExp(`\\rimport ${FULL_BAR.source}Imported `));

    // In a pipe: no bar, and stderr holds nothing.
    const piped = inPipe(home, ['export', ref, join(await tempDir(), 'b.ommx')]);
    expect([piped.code, piped.err]).toEqual([0, '']);
  });

  it('a failed export clears its line', async () => {
    requireBuilt();
    const home = await storeWith('ghcr.io/acme/progress:v1');
    const r = inTerminal(home, ['export', 'ghcr.io/acme/missing:v1', join(await tempDir(), 'x')]);
    expect(r.code).not.toBe(0);
    expect(r.screen).not.toContain('100%');
    expect(r.screen).toContain('REF_NOT_FOUND');
  });

  describe.skipIf(!HAS_DOCKER_REGISTRY)('push and pull against a registry on loopback', () => {
    let reg: RegistryServer;
    beforeAll(async () => {
      reg = await startRegistry();
    });
    afterAll(async () => {
      await reg?.stop();
    });

    it('push and pull end their bar at 100% with every blob counted', async () => {
      requireBuilt();
      const ref = `${reg.host}/acme/bar:v1`;
      const home = await storeWith(ref);
      const pushed = inTerminal(home, ['push', ref]);
      expect(pushed.code, pushed.screen).toBe(0);
      expect(pushed.screen).toMatch(new RegExp(`\\rpush \\S+ 3/3 blobs ${FULL_BAR.source}pushed `));
      const other = await tempDir('runledger-progress-');
      const pulled = inTerminal(other, ['pull', ref]);
      expect(pulled.code, pulled.screen).toBe(0);
      expect(pulled.screen).toMatch(new RegExp(`\\rpull \\S+ 3/3 blobs ${FULL_BAR.source}pulled `));
    });
  });

  it('runledger demo shows its sweep while it solves, and nothing of it in a pipe', async () => {
    requireBuilt();
    const home = await tempDir('runledger-demo-');
    const r = inTerminal(home, ['demo']);
    expect(r.code, r.screen.slice(-2000)).toBe(0);
    expect(r.screen).toMatch(/\[sweep \d+\/32\]/);
    expect(r.screen).toContain('sweep done: 32 trials');
    expect(r.screen).toContain('Recorded 32 runs as runledger.local/demo/lp-mip:');
    const piped = inPipe(home, ['demo']);
    expect(piped.code, piped.err).toBe(0);
    expect(piped.err).toBe('');
  }, 120_000);
});

describe('scripts/build-if-stale.mjs', () => {
  /** A package whose build writes dist/src/x.js and counts itself in builds.txt. */
  async function fakePackage(): Promise<string> {
    const dir = await tempDir('runledger-stale-');
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a.ts'), 'export {};\n');
    await writeFile(join(dir, 'tsconfig.json'), '{}\n');
    const build = `node -e "const fs=require('fs');fs.mkdirSync('dist/src',{recursive:true});fs.writeFileSync('dist/src/a.js','');fs.appendFileSync('builds.txt','x')"`;
    await writeFile(join(dir, 'package.json'), JSON.stringify({ scripts: { build } }));
    return dir;
  }
  const run = (dir: string) =>
    spawnSync(process.execPath, [BUILD_IF_STALE], { cwd: dir, encoding: 'utf8' });
  const builds = async (dir: string) =>
    (await readFile(join(dir, 'builds.txt'), 'utf8').catch(() => '')).length;
  /** Sets a file's times `seconds` from now. */
  const age = (path: string, seconds: number) => {
    const t = new Date(Date.now() + seconds * 1000);
    return utimes(path, t, t);
  };

  it('builds without dist/, not again while dist/ is newer, again when a source changes', async () => {
    const dir = await fakePackage();
    expect(run(dir).status).toBe(0);
    expect(await builds(dir)).toBe(1);
    // Sources older than the build: nothing to do.
    for (const p of ['src/a.ts', 'src', 'tsconfig.json']) await age(join(dir, p), -60);
    const fresh = run(dir);
    expect([fresh.status, fresh.stderr]).toEqual([0, 'dist/ is up to date: not rebuilding.\n']);
    expect(await builds(dir)).toBe(1);
    // A source edited after the build: built again.
    await age(join(dir, 'src', 'a.ts'), 60);
    expect(run(dir).status).toBe(0);
    expect(await builds(dir)).toBe(2);
    // A source deleted after the build changes its folder: built again.
    for (const p of ['src/a.ts', 'src', 'tsconfig.json']) await age(join(dir, p), -60);
    expect(run(dir).stderr).toContain('up to date');
    await rm(join(dir, 'src', 'a.ts'));
    await age(join(dir, 'src'), 60);
    expect(run(dir).status).toBe(0);
    expect(await builds(dir)).toBe(3);
  });
});
