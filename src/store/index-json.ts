/**
 * @module store/index-json
 * The layout's `index.json` as the table of references: one descriptor per reference, named by
 * the `org.opencontainers.image.ref.name` annotation, sorted so equal tables are equal bytes.
 */
import { readFile, rename, stat, writeFile, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, RunledgerError } from '../errors.js';
import { parseImageIndex, serializeImageIndex } from '../oci/image-index.js';
import { ANNOTATION_REF_NAME, MEDIA_TYPE_IMAGE_INDEX } from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import { syncDir } from './flush.js';
import { ownedTempName } from './owner.js';

/** Annotation on an `index.json` entry: when runledger last set that reference (RFC 3339). */
export const ANNOTATION_UPDATED_AT = 'io.runledger.ref.updated-at';

/** The references of a layout, plus descriptors that carry no name (kept as they are). */
export interface RefTable {
  readonly named: ReadonlyMap<string, Descriptor>;
  readonly unnamed: readonly Descriptor[];
}

interface Cached {
  readonly key: string;
  readonly table: RefTable;
}
const cache = new Map<string, Cached>();

/**
 * Reads `index.json`. Renames replace it whole, so a reader never sees a torn file; the parsed
 * table is cached per file identity (inode, size, mtime).
 */
export async function readRefTable(root: string): Promise<RefTable> {
  const path = join(root, 'index.json');
  let key: string;
  try {
    const s = await stat(path, { bigint: true });
    key = `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch (e) {
    throw ioError(e, 'read', path);
  }
  const hit = cache.get(path);
  if (hit !== undefined && hit.key === key) return hit.table;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw ioError(e, 'read', path);
  }
  let index;
  try {
    index = parseImageIndex(bytes);
  } catch (cause) {
    throw new RunledgerError(
      'LAYOUT_INVALID',
      `The index.json of ${root} is not a valid OCI image index; restore it from a backup or rebuild the refs with "runledger restore".`,
      { data: { path }, cause }
    );
  }
  const named = new Map<string, Descriptor>();
  const unnamed: Descriptor[] = [];
  for (const d of index.manifests) {
    const name = d.annotations?.[ANNOTATION_REF_NAME];
    if (name === undefined) unnamed.push(d);
    else named.set(name, d);
  }
  const table = { named, unnamed };
  cache.set(path, { key, table });
  return table;
}

/** Writes `index.json` atomically: temp file, fsync, rename, directory fsync. */
export async function writeRefTable(root: string, table: RefTable): Promise<void> {
  const names = [...table.named.keys()].sort();
  const manifests: Descriptor[] = [
    ...names.map((n) => {
      const d = table.named.get(n) as Descriptor;
      return { ...d, annotations: { ...d.annotations, [ANNOTATION_REF_NAME]: n } };
    }),
    ...table.unnamed,
  ];
  const bytes = serializeImageIndex({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests,
  });
  const path = join(root, 'index.json');
  const temp = join(root, '.runledger', 'tmp', ownedTempName('index', '.json'));
  try {
    await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
    const h = await open(temp, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(temp, path);
    await syncDir(root);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw ioError(e, 'write', path);
  }
}
