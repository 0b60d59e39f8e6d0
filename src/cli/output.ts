/**
 * @module cli/output
 * The one place a command opens a file to write its result (`export`, `get -o`, `--arrow`):
 * `-` is standard output; a regular file appears whole (written beside it, then renamed or
 * linked in); a symlink is written through to its target, which stays a symlink's target; a
 * FIFO or a device is opened and written into, never replaced.
 */
import { constants, createReadStream } from 'node:fs';
import {
  copyFile,
  link,
  lstat,
  mkdtemp,
  open,
  readlink,
  realpath,
  rename,
  rm,
  stat,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ioError, RunledgerError } from '../errors.js';
import type { CliIo } from './types.js';

/**
 * What a command writes: bytes it holds, or a writer that creates one new, complete file inside
 * the (empty, private) directory it is given and returns that file's path.
 */
export type OutputContent = Uint8Array | ((dir: string) => Promise<string>);

/** Options of {@link writeOutput}. */
export interface WriteOutputOptions {
  /** `--force`: replace an existing regular file, write into a block device. */
  readonly force: boolean;
  /** An existing directory takes the file under the name the writer gave it (`get -o DIR`). */
  readonly directory?: boolean;
}

/** What a path leads to once its symlinks are followed (`path`: the target for `file`). */
interface Target {
  readonly kind: 'new' | 'file' | 'stream' | 'directory';
  readonly path: string;
}

/**
 * Writes a command's result where the command line points: `-` is standard output (bytes
 * unchanged); a path that does not exist becomes a regular file; an existing regular file is
 * replaced atomically only with `force` (through a symlink, the target is replaced and the link
 * stays); a FIFO or character device (`/dev/null`, a terminal) is written into; a block device
 * only with `force`. Content from a writer is complete and verified before the first byte
 * reaches standard output, a FIFO or a device (it is staged in the temp directory first).
 * @param io - the CLI's streams and working directory
 * @param file - the path as given, or `-`
 * @param content - the bytes, or a writer of a new file (see {@link OutputContent})
 * @param options - force, directory
 * @returns the path written (symlinks resolved for regular files), or `-`
 * @throws RunledgerError `FILE_EXISTS` (a regular file or block device without force),
 *   `ARGUMENT_INVALID` (a dangling symlink, a directory, a socket), `IO_ERROR`; the writer's own
 *   errors pass through
 * @example
 * ```ts
 * await writeOutput(ctx.io, 'runs.arrow', bytes, { force: false });
 * ```
 */
export async function writeOutput(
  io: CliIo,
  file: string,
  content: OutputContent,
  options: WriteOutputOptions
): Promise<string> {
  if (file === '-') {
    await writeStream(content, '-', async () => ({
      write: async (bytes) => {
        if (io.stdout.write(bytes) === false && io.stdout.once !== undefined) {
          await new Promise<void>((done) => io.stdout.once?.('drain', done));
        }
      },
      close: async () => undefined,
    }));
    return '-';
  }
  const path = resolve(io.cwd ?? process.cwd(), file);
  const target = await classify(path, options.force);
  if (target.kind === 'directory') {
    if (options.directory !== true || typeof content !== 'function') throw directoryError(path);
    return writeIntoDirectory(path, content, options.force);
  }
  if (target.kind === 'stream') {
    await writeDevice(target.path, content);
    return target.path;
  }
  await writeRegular(target, content);
  return target.path;
}

/** Follows `path` and says what is there; refuses what must not be written. */
async function classify(path: string, force: boolean): Promise<Target> {
  const link = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw ioError(e, 'look up', path);
  });
  if (link === undefined) return { kind: 'new', path };
  const s = link.isSymbolicLink()
    ? await stat(path).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw ioError(e, 'follow the symlink', path);
        // cp refuses too: the link may lead anywhere, and the user named the link, not a file.
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `${path} is a dangling symlink (to ${await readlink(path).catch(() => '?')}); runledger does not write through it.`,
          { data: { path } }
        );
      })
    : link;
  if (s.isFile()) {
    const real = link.isSymbolicLink()
      ? await realpath(path).catch((e: unknown) => {
          throw ioError(e, 'follow the symlink', path);
        })
      : path;
    if (!force) {
      throw new RunledgerError(
        'FILE_EXISTS',
        real === path
          ? `${path} already exists; pass --force to replace it.`
          : `${path} is a symlink to the existing file ${real}; pass --force to replace that file.`,
        { data: { path } }
      );
    }
    return { kind: 'file', path: real };
  }
  if (s.isDirectory()) return { kind: 'directory', path };
  if (s.isFIFO() || s.isCharacterDevice()) return { kind: 'stream', path };
  if (s.isBlockDevice()) {
    if (!force) {
      throw new RunledgerError(
        'FILE_EXISTS',
        `${path} is a block device; pass --force to write over its content.`,
        { data: { path } }
      );
    }
    return { kind: 'stream', path };
  }
  throw new RunledgerError(
    'ARGUMENT_INVALID',
    `${path} is a socket; runledger writes to files, FIFOs and devices.`,
    { data: { path } }
  );
}

function directoryError(path: string): RunledgerError {
  return new RunledgerError(
    'ARGUMENT_INVALID',
    `${path} is a directory; name a file in it, or - for standard output.`,
    { data: { path } }
  );
}

/** A private empty directory in `parent`, removed (with what is left in it) after `use`. */
async function staged<T>(
  parent: string,
  prefix: string,
  use: (dir: string) => Promise<T>
): Promise<T> {
  let dir: string;
  try {
    dir = await mkdtemp(join(parent, prefix));
  } catch (e) {
    throw ioError(e, 'create a temp directory in', parent);
  }
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Stages the content beside the file, then links it in (new) or renames it over (replace). */
async function writeRegular(target: Target, content: OutputContent): Promise<void> {
  const name = basename(target.path);
  await staged(dirname(target.path), `.${name}.runledger-`, async (dir) => {
    let file: string;
    if (typeof content === 'function') file = await content(dir);
    else {
      file = join(dir, name);
      const h = await open(file, 'wx', 0o644).catch((e: unknown) => {
        throw ioError(e, 'create', file);
      });
      try {
        await h.writeFile(content);
        await h.sync();
      } catch (e) {
        throw ioError(e, 'write', file);
      } finally {
        await h.close();
      }
    }
    try {
      if (target.kind === 'new') {
        // No-clobber: a file that appeared meanwhile is never replaced without --force.
        await link(file, target.path);
        return;
      }
      // Renamed only over a regular file, even if a special file took its place meanwhile.
      if ((await lstat(target.path).catch(() => undefined))?.isFile() === false) {
        throw new RunledgerError(
          'IO_ERROR',
          `${target.path} turned into a special file while it was written; it was left as it is.`,
          { data: { path: target.path } }
        );
      }
      await rename(file, target.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new RunledgerError(
          'FILE_EXISTS',
          `${target.path} appeared while it was written; pass --force to replace it.`,
          { data: { path: target.path } }
        );
      }
      throw ioError(e, 'write', target.path);
    }
  });
}

/** `get -o DIR`: the file keeps the writer's name, then goes where that name in DIR leads. */
async function writeIntoDirectory(
  dir: string,
  content: (dir: string) => Promise<string>,
  force: boolean
): Promise<string> {
  return staged(dir, '.runledger-', async (staging) => {
    const file = await content(staging);
    const target = await classify(join(dir, basename(file)), force);
    if (target.kind === 'directory') throw directoryError(target.path);
    if (target.kind === 'stream') await writeDevice(target.path, async () => file);
    else {
      await writeRegular(target, async (beside) => {
        const copy = join(beside, basename(target.path));
        await copyFile(file, copy, constants.COPYFILE_EXCL).catch((e: unknown) => {
          throw ioError(e, 'write', copy);
        });
        return copy;
      });
    }
    return target.path;
  });
}

/** Where streamed content goes: standard output, or an opened FIFO or device. */
interface Sink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Opens a FIFO or device for writing (never creating, never truncating) and writes into it. */
function writeDevice(path: string, content: OutputContent): Promise<void> {
  return writeStream(content, path, async () => {
    const h = await open(path, constants.O_WRONLY).catch((e: unknown) => {
      throw ioError(e, 'open', path);
    });
    return {
      write: async (bytes) => {
        for (let at = 0; at < bytes.byteLength; ) {
          at += (await h.write(bytes, at, bytes.byteLength - at)).bytesWritten;
        }
      },
      close: () => h.close(),
    };
  });
}

/**
 * Sends the content to a sink, opened only once the content is complete (a writer's file is
 * staged in the temp directory first), so a failed export never reaches a reader.
 */
async function writeStream(
  content: OutputContent,
  path: string,
  openSink: () => Promise<Sink>
): Promise<void> {
  const send = async (chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> => {
    const sink = await openSink();
    try {
      for await (const chunk of chunks) await sink.write(chunk);
    } catch (e) {
      throw ioError(e, 'write to', path);
    } finally {
      await sink.close();
    }
  };
  if (typeof content !== 'function') return send([content]);
  await staged(tmpdir(), 'runledger-output-', async (dir) =>
    send(createReadStream(await content(dir)))
  );
}
