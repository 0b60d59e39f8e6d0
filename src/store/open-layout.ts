/**
 * @module store/open-layout
 * Opening a store's directory: it must be absent, empty, or an OCI image layout (runledger's or
 * another tool's); what it lacks is created, each file appearing whole so racing openers agree.
 */
import { link, mkdir, readdir, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, RunledgerError } from '../errors.js';
import { serializeImageIndex } from '../oci/image-index.js';
import { INDEX_FILE, OCI_LAYOUT_FILE, parseOciLayout, serializeOciLayout } from '../oci/layout.js';
import { MEDIA_TYPE_IMAGE_INDEX } from '../oci/media-types.js';
import { ownedTempName } from './owner.js';

/**
 * Checks and completes the layout at `dir` (see `LocalRegistry.open`).
 * @param dir - an absolute path
 * @returns its real path (symlinks resolved)
 * @throws RunledgerError `LAYOUT_INVALID`, `IO_ERROR`
 * @internal
 */
export async function openLayout(dir: string): Promise<string> {
  const entries = await listDir(dir);
  if (entries === undefined) {
    await mkdir(dir, { recursive: true }).catch((e: unknown) => {
      throw ioError(e, 'create the registry directory', dir);
    });
  }
  const names = new Set(entries ?? []);
  if (names.has(OCI_LAYOUT_FILE)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, OCI_LAYOUT_FILE));
    } catch (e) {
      throw layoutInvalid(dir, 'its oci-layout file cannot be read', e);
    }
    try {
      parseOciLayout(bytes);
    } catch (e) {
      throw layoutInvalid(dir, 'its oci-layout file is not valid', e);
    }
    if (!names.has(INDEX_FILE)) throw layoutInvalid(dir, 'it has no index.json');
  } else if (names.size > 0 && !names.has('.runledger')) {
    throw layoutInvalid(
      dir,
      'it is a non-empty directory without an oci-layout file; choose an empty or new directory'
    );
  }
  await initLayout(dir, names);
  return realpath(dir);
}

async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw layoutInvalid(dir, 'it is a file, not a directory');
    throw ioError(e, 'read the directory', dir);
  }
}

function layoutInvalid(dir: string, why: string, cause?: unknown): RunledgerError {
  return new RunledgerError('LAYOUT_INVALID', `${dir} is not a runledger store: ${why}.`, {
    data: { root: dir },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Creates what a layout lacks; files appear whole (temp + link), so racing openers agree. */
async function initLayout(dir: string, names: ReadonlySet<string>): Promise<void> {
  try {
    await mkdir(join(dir, '.runledger', 'tmp'), { recursive: true });
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    if (!names.has(INDEX_FILE)) {
      const empty = serializeImageIndex({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE_IMAGE_INDEX,
        manifests: [],
      });
      await createWhole(dir, INDEX_FILE, empty);
    }
    if (!names.has(OCI_LAYOUT_FILE)) await createWhole(dir, OCI_LAYOUT_FILE, serializeOciLayout());
  } catch (e) {
    throw ioError(e, 'initialise the store', dir);
  }
}

export async function createWhole(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, '.runledger', 'tmp', ownedTempName('init'));
  await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, join(dir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
