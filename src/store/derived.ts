/**
 * @module store/derived
 * Files derived from a blob and cached beside the layout — say the runs table of an experiment
 * manifest — under `.runledger/derived/<kind>/<blob hex>.<key>`. Content-addressed by the blob they
 * derive from, so they never go stale; each starts with the SHA-256 of its payload, so a damaged
 * one is noticed and rebuilt; written whole (temp file + rename), so concurrent readers and
 * writers see a whole file or none; dropped by GC once their blob is gone.
 *
 * Files another program reads by path (Parquet for DuckDB) cannot start with a hash: those are
 * named `<blob hex>.<key>.<SHA-256 of the file>.<ext>` instead, and checked against their name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import { digestHex } from '../oci/digest.js';

const HASH_SIZE = 32;
const KIND_RE = /^[a-z][a-z0-9-]*$/;
const KEY_RE = /^[0-9a-f]{1,64}$/;
/** A temp file older than this is a writer's leftover. */
const TEMP_GRACE_MS = 60 * 60 * 1000;

function dir(root: string, kind: string): string {
  if (!KIND_RE.test(kind)) throw new Error(`runledger: bad derived kind ${kind}`);
  return join(root, '.runledger', 'derived', kind);
}

function fileName(digest: Digest, key: string): string {
  if (!KEY_RE.test(key)) throw new Error(`runledger: bad derived key ${key}`);
  return `${digestHex(digest)}.${key}`;
}

/**
 * Reads a derived file.
 * @param root - the store's root
 * @param kind - what it holds, e.g. `runs`
 * @param digest - the blob it derives from
 * @param key - what else it depends on (lowercase hex)
 * @returns its payload, or undefined when it is absent or damaged (the caller rebuilds it)
 */
export async function readDerived(
  root: string,
  kind: string,
  digest: Digest,
  key: string
): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir(root, kind), fileName(digest, key)));
  } catch {
    return undefined;
  }
  if (bytes.length < HASH_SIZE) return undefined;
  const payload = bytes.subarray(HASH_SIZE);
  const hash = createHash('sha256').update(payload).digest();
  return hash.equals(bytes.subarray(0, HASH_SIZE)) ? payload : undefined;
}

/**
 * Writes a derived file whole (temp file + rename): best effort — a cache that cannot be written
 * is simply not there next time.
 * @param root - the store's root
 * @param kind - what it holds
 * @param digest - the blob it derives from
 * @param key - what else it depends on (lowercase hex)
 * @param payload - the bytes
 * @returns whether it was written
 */
export async function writeDerived(
  root: string,
  kind: string,
  digest: Digest,
  key: string,
  payload: Uint8Array
): Promise<boolean> {
  const d = dir(root, kind);
  const name = fileName(digest, key);
  const temp = join(d, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(d, { recursive: true });
    const hash = createHash('sha256').update(payload).digest();
    await writeFile(temp, Buffer.concat([hash, payload]));
    await rename(temp, join(d, name));
    return true;
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
    return false;
  }
}

const FILE_RE = /^([0-9a-f]{64})\.([0-9a-f]{1,64})\.([0-9a-f]{64})\.([a-z0-9]+)$/;

/**
 * The named derived files of a kind (`<blob hex>.<key>.<file hash>.<ext>`), by `<blob hex>.<key>`,
 * read with one directory listing. Their content is not checked here: see
 * {@link checkDerivedFile}.
 * @param root - the store's root
 * @param kind - what they hold
 * @param ext - their extension, e.g. `parquet`
 * @returns path by `<blob hex>.<key>`
 */
export async function listDerivedFiles(
  root: string,
  kind: string,
  ext: string
): Promise<Map<string, string>> {
  const d = dir(root, kind);
  const out = new Map<string, string>();
  for (const name of await readdir(d).catch(() => [] as string[])) {
    const m = FILE_RE.exec(name);
    if (m !== null && m[4] === ext) out.set(`${m[1]}.${m[2]}`, join(d, name));
  }
  return out;
}

/**
 * The `<blob hex>.<key>` a derived file is listed under by {@link listDerivedFiles}.
 * @param digest - the blob it derives from
 * @param key - what else it depends on (lowercase hex)
 * @returns the listing key
 */
export function derivedFileKey(digest: Digest, key: string): string {
  return fileName(digest, key);
}

/**
 * Checks a named derived file against the hash in its name; a damaged one is removed.
 * @param path - a path from {@link listDerivedFiles}
 * @returns whether it is whole
 */
export async function checkDerivedFile(path: string): Promise<boolean> {
  const m = FILE_RE.exec(basename(path));
  const bytes = await readFile(path).catch(() => undefined);
  if (m !== null && bytes !== undefined) {
    if (createHash('sha256').update(bytes).digest('hex') === m[3]) return true;
  }
  await rm(path, { force: true }).catch(() => undefined);
  return false;
}

/**
 * A fresh temp path for a named derived file being written by another program; hand it to
 * {@link adoptDerivedFile} once written (GC removes it if it never is).
 * @param root - the store's root
 * @param kind - what it holds
 * @param digest - the blob it derives from
 * @param key - what else it depends on (lowercase hex)
 * @param ext - its extension
 * @returns the temp path (its directory exists)
 */
export async function derivedTempFile(
  root: string,
  kind: string,
  digest: Digest,
  key: string,
  ext: string
): Promise<string> {
  const d = dir(root, kind);
  await mkdir(d, { recursive: true });
  return join(
    d,
    `.${fileName(digest, key)}.${process.pid}.${randomBytes(4).toString('hex')}.${ext}.tmp`
  );
}

/**
 * Names a written temp file by its content hash (rename: readers see it whole or not at all).
 * @param temp - the path {@link derivedTempFile} gave
 * @param root - the store's root
 * @param kind - what it holds
 * @param digest - the blob it derives from
 * @param key - what else it depends on
 * @param ext - its extension
 * @returns its final path, or undefined when it could not be placed (best effort, as
 *   {@link writeDerived})
 */
export async function adoptDerivedFile(
  temp: string,
  root: string,
  kind: string,
  digest: Digest,
  key: string,
  ext: string
): Promise<string | undefined> {
  try {
    const hash = createHash('sha256')
      .update(await readFile(temp))
      .digest('hex');
    const path = join(dir(root, kind), `${fileName(digest, key)}.${hash}.${ext}`);
    await rename(temp, path);
    return path;
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
    return undefined;
  }
}

/**
 * Removes the derived files whose blob is gone, writers' leftover temp files, and files of a
 * `…-sets` kind (which combine other derived files) unused for an hour (GC).
 * @param root - the store's root
 * @param present - whether a blob is still in the store
 * @returns how many files were removed
 */
export async function dropDerived(
  root: string,
  present: (digest: Digest) => Promise<boolean>
): Promise<number> {
  const base = join(root, '.runledger', 'derived');
  let kinds: string[];
  try {
    kinds = await readdir(base);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const kind of kinds) {
    const d = join(base, kind);
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const path = join(d, name);
      let drop: boolean;
      if (name.endsWith('.tmp') || kind.endsWith('-sets')) {
        // Temp files, and files combining others (keyed by what they combine, not by a blob:
        // touched on every use), go once nothing has touched them for the grace period.
        const s = await stat(path).catch(() => undefined);
        drop = s !== undefined && Date.now() - s.mtimeMs > TEMP_GRACE_MS;
      } else {
        const hex = name.slice(0, name.indexOf('.'));
        drop = !/^[0-9a-f]{64}$/.test(hex) || !(await present(`sha256:${hex}` as Digest));
      }
      if (drop) {
        await rm(path, { force: true });
        removed++;
      }
    }
  }
  return removed;
}
