/**
 * Where the CLI writes a file (`export`, `get -o`, `runs/solves --arrow`): regular files appear
 * whole (temp + rename), symlinks are written through, FIFOs and devices are written into and
 * never replaced, `-` is standard output.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

const REF = 'ghcr.io/acme/out:v1';
/** Every byte value, so any text conversion on the way shows. */
const BINARY = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
const BIN = fileURLToPath(new URL('../../dist/src/cli/bin.js', import.meta.url));
const AS_ROOT = process.getuid?.() === 0;
const ROOT_ONLY = AS_ROOT ? '' : ' (skipped: device nodes need root for mknod)';

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** The built CLI as a child process: stdout as bytes. */
function bin(args: string[], cwd: string): { code: number | null; out: Buffer; err: string } {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npx tsc -p tsconfig.json".`);
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr.toString() };
}

/** Reads a FIFO to its end in a `cat` child; `kill` ends it if the test fails first. */
function readFifo(path: string): { bytes: Promise<Buffer>; kill: () => void } {
  const child = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const bytes = new Promise<Buffer>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`cat ended with ${code}`))
    );
  });
  bytes.catch(() => undefined);
  return { bytes, kill: () => void child.kill() };
}

let root: string;
/** The archive as a plain export writes it (exports are deterministic). */
let archive: Buffer;

// One store for the whole file (tempDir's are removed after each test).
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runledger-output-'));
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(REF, { registry });
  await exp.logAttachment('blob', 'application/octet-stream', BINARY);
  await exp.run((run) => run.logParameter('seed', 1));
  await exp.commit();
  const dir = await tempDir();
  expect((await cli(['--root', root, 'export', REF, 'plain.ommx'], dir)).code).toBe(0);
  archive = await readFile(join(dir, 'plain.ommx'));
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('export', () => {
  it('writes into a FIFO, with or without --force, and leaves it a FIFO', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe.ommx');
    execFileSync('mkfifo', [fifo]);
    for (const force of [[], ['--force']]) {
      const reader = readFifo(fifo);
      try {
        const r = await cli(['--root', root, 'export', REF, fifo, ...force], dir);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        expect((await lstat(fifo)).isFIFO()).toBe(true);
        expect(await reader.bytes).toEqual(archive);
      } finally {
        reader.kill();
      }
    }
    expect(await readdir(dir)).toEqual(['pipe.ommx']);
  });

  it('writes through a symlink to an existing file only with --force, keeping the link', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'real.ommx'), 'old');
    await symlink(join('sub', 'real.ommx'), join(dir, 'link.ommx'));
    const refused = await cli(['--root', root, 'export', REF, 'link.ommx'], dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^runledger: FILE_EXISTS: .*link\.ommx/);
    expect(await readFile(join(dir, 'sub', 'real.ommx'), 'utf8')).toBe('old');

    const forced = await cli(['--root', root, 'export', REF, 'link.ommx', '--force'], dir);
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
    expect((await lstat(join(dir, 'link.ommx'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'link.ommx'))).toBe(join('sub', 'real.ommx'));
    expect(await readFile(join(dir, 'sub', 'real.ommx'))).toEqual(archive);
    expect((await readdir(dir)).sort()).toEqual(['link.ommx', 'sub']);
    expect(await readdir(join(dir, 'sub'))).toEqual(['real.ommx']);
  });

  it('refuses a dangling symlink (as cp does) and a directory with ARGUMENT_INVALID', async () => {
    const dir = await tempDir();
    await symlink(join('missing', 'nowhere.ommx'), join(dir, 'dangling.ommx'));
    await mkdir(join(dir, 'folder'));
    for (const force of [[], ['--force']]) {
      const dangling = await cli(['--root', root, 'export', REF, 'dangling.ommx', ...force], dir);
      expect(dangling.code).toBe(1);
      expect(dangling.err).toMatch(/^runledger: ARGUMENT_INVALID: .*dangling\.ommx.*nowhere\.ommx/);
      expect(await readlink(join(dir, 'dangling.ommx'))).toBe(join('missing', 'nowhere.ommx'));
      const folder = await cli(['--root', root, 'export', REF, 'folder', ...force], dir);
      expect(folder.code).toBe(1);
      expect(folder.err).toMatch(/^runledger: ARGUMENT_INVALID: .*folder is a directory/);
    }
    expect((await readdir(dir)).sort()).toEqual(['dangling.ommx', 'folder']);
    expect(await readdir(join(dir, 'folder'))).toEqual([]);
  });

  it(`writes into a character device node and keeps it${ROOT_ONLY}`, async (t) => {
    if (!AS_ROOT) t.skip();
    const dir = await tempDir();
    const device = join(dir, 'null');
    execFileSync('mknod', [device, 'c', '1', '3']); // the null device, as /dev/null
    for (const force of [[], ['--force']]) {
      const r = await cli(['--root', root, 'export', REF, device, ...force], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const s = await lstat(device);
      expect(s.isCharacterDevice()).toBe(true);
      expect(s.rdev).toBe((await lstat('/dev/null')).rdev);
    }
    expect(await readdir(dir)).toEqual(['null']);
  });

  it(`leaves /dev/null the null device (export, get -o, --arrow)${ROOT_ONLY}`, async (t) => {
    if (!AS_ROOT) t.skip(); // as another user /dev/null could not be replaced anyway
    const before = await lstat('/dev/null');
    for (const args of [
      ['export', REF, '/dev/null', '--force'],
      ['get', REF, 'blob', '-o', '/dev/null', '--force'],
      ['runs', REF, '--arrow', '/dev/null', '--force'],
    ]) {
      const r = await cli(['--root', root, ...args]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const after = await lstat('/dev/null');
      expect(after.isCharacterDevice()).toBe(true);
      expect([after.ino, after.rdev, after.mode]).toEqual([before.ino, before.rdev, before.mode]);
    }
    expect((await readdir('/dev')).filter((n) => n.includes('runledger'))).toEqual([]);
  });

  it(`never replaces a block device node: FILE_EXISTS without --force${ROOT_ONLY}`, async (t) => {
    if (!AS_ROOT) t.skip();
    const dir = await tempDir();
    const device = join(dir, 'disk');
    // Major 240 is reserved for local use: no driver answers, so a write cannot reach a disk.
    execFileSync('mknod', [device, 'b', '240', '0']);
    const refused = await cli(['--root', root, 'export', REF, device], dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^runledger: FILE_EXISTS: .*disk is a block device/);
    const forced = await cli(['--root', root, 'export', REF, device, '--force'], dir);
    expect(forced.code).toBe(1);
    expect(forced.err).toMatch(/^runledger: IO_ERROR: .*disk/);
    expect((await lstat(device)).isBlockDevice()).toBe(true);
    expect(await readdir(dir)).toEqual(['disk']);
  });

  it('writes the archive to stdout for - (built CLI), and nothing else', async () => {
    const dir = await tempDir();
    for (const json of [[], ['--json']]) {
      const r = bin(['--root', root, ...json, 'export', REF, '-'], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toEqual(archive);
    }
    expect(existsSync(join(dir, '-'))).toBe(false);
  });
});

describe('get', () => {
  it('writes into a FIFO and keeps it', async () => {
    const dir = await tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = readFifo(fifo);
    try {
      const r = await cli(['--root', root, 'get', REF, 'blob', '-o', fifo], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
      expect(new Uint8Array(await reader.bytes)).toEqual(BINARY);
    } finally {
      reader.kill();
    }
  });

  it('writes through a symlink with --force, also one inside an -o directory', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'real'), 'old');
    await symlink(join('..', 'real'), join(dir, 'out', 'blob')); // the name get gives it in out/
    await symlink('real', join(dir, 'link'));
    for (const target of ['link', 'out']) {
      const refused = await cli(['--root', root, 'get', REF, 'blob', '-o', target], dir);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/^runledger: FILE_EXISTS: /);
      await writeFile(join(dir, 'real'), 'old');
      const r = await cli(['--root', root, 'get', REF, 'blob', '-o', target, '--force'], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(new Uint8Array(await readFile(join(dir, 'real')))).toEqual(BINARY);
    }
    expect(await readlink(join(dir, 'link'))).toBe('real');
    expect(await readlink(join(dir, 'out', 'blob'))).toBe(join('..', 'real'));
    expect((await readdir(dir)).sort()).toEqual(['link', 'out', 'real']);
    expect(await readdir(join(dir, 'out'))).toEqual(['blob']);
  });

  it('refuses a dangling symlink with ARGUMENT_INVALID', async () => {
    const dir = await tempDir();
    await symlink('nowhere', join(dir, 'dangling'));
    const r = await cli(['--root', root, 'get', REF, 'blob', '-o', 'dangling', '--force'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^runledger: ARGUMENT_INVALID: .*dangling/);
    expect(await readdir(dir)).toEqual(['dangling']);
  });

  it('writes the bytes unchanged to stdout for -o - and without -o (built CLI)', async () => {
    const dir = await tempDir();
    for (const output of [['-o', '-'], []]) {
      const r = bin(['--root', root, 'get', REF, 'blob', ...output], dir);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(new Uint8Array(r.out)).toEqual(BINARY);
    }
    expect(existsSync(join(dir, '-'))).toBe(false);
  });
});

describe('runs and solves --arrow', () => {
  it('refuses an existing file without --force and replaces it whole with --force', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'runs.arrow'), 'old');
    const refused = await cli(['--root', root, 'runs', REF, '--arrow', 'runs.arrow'], dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^runledger: FILE_EXISTS: .*runs\.arrow/);
    expect(await readFile(join(dir, 'runs.arrow'), 'utf8')).toBe('old');
    const forced = await cli(
      ['--root', root, 'runs', REF, '--arrow', 'runs.arrow', '--force'],
      dir
    );
    expect(forced.code).toBe(0);
    expect(tableFromArrowFile(await readFile(join(dir, 'runs.arrow'))).numRows).toBe(1);
    expect(await readdir(dir)).toEqual(['runs.arrow']);
  });

  it('writes through a symlink with --force and into a FIFO', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'real.arrow'), 'old');
    await symlink('real.arrow', join(dir, 'link.arrow'));
    const r = await cli(['--root', root, 'solves', REF, '--arrow', 'link.arrow', '--force'], dir);
    expect(r.code).toBe(0);
    expect(await readlink(join(dir, 'link.arrow'))).toBe('real.arrow');
    expect(tableFromArrowFile(await readFile(join(dir, 'real.arrow'))).numRows).toBe(0);

    const fifo = join(dir, 'pipe.arrow');
    execFileSync('mkfifo', [fifo]);
    const reader = readFifo(fifo);
    try {
      expect((await cli(['--root', root, 'runs', REF, '--arrow', fifo], dir)).code).toBe(0);
      expect(tableFromArrowFile(await reader.bytes).numRows).toBe(1);
      expect((await lstat(fifo)).isFIFO()).toBe(true);
    } finally {
      reader.kill();
    }
  });

  it('writes Arrow IPC to stdout for --arrow - (built CLI), and nothing else', async () => {
    const dir = await tempDir();
    const runs = bin(['--root', root, 'runs', REF, '--arrow', '-'], dir);
    expect(runs.err).toBe('');
    expect(runs.code).toBe(0);
    expect(tableFromArrowFile(new Uint8Array(runs.out)).numRows).toBe(1);
    const solves = bin(['--root', root, 'solves', REF, '--arrow', '-'], dir);
    expect(solves.code).toBe(0);
    expect(tableFromArrowFile(new Uint8Array(solves.out)).numRows).toBe(0);
    expect(existsSync(join(dir, '-'))).toBe(false);
  });
});
