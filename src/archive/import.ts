/**
 * @module archive/import
 * `.ommx` import: one streaming pass over a tar (never extracted), or an OCI layout directory.
 * The importer is a security boundary: only `oci-layout`, `index.json` and
 * `blobs/sha256/<64 hex>` regular files are taken (with or without `./`), every blob is hashed
 * while streaming and must match its name, and nothing becomes visible until the whole closure
 * verified. Anything hostile is `ARCHIVE_INVALID` naming the entry.
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError, isRunledgerError, throwIfAborted } from '../errors.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { parseImageIndex } from '../oci/image-index.js';
import { parseOciLayout } from '../oci/layout.js';
import { parseManifest } from '../oci/manifest.js';
import {
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_MANIFEST,
} from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import type { BlobBatch } from '../store/blob-batch.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { Progress } from '../store/types.js';
import { archiveInvalid as invalid, fileChunks, readTar } from './tar.js';

/** Options of {@link importArchive}. */
export interface ImportArchiveOptions {
  /** Publish under this reference instead of the archive's own name. */
  readonly reference?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/** What {@link importArchive} published. */
export interface ImportResult {
  readonly reference: string;
  readonly descriptor: Descriptor;
  /** `'unchanged'` when the reference already pointed at this manifest. */
  readonly result: 'created' | 'unchanged';
}

const MAX_LAYOUT_FILE = 1024;
const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** An entry name made relative (`./` stripped), or an error for names that could escape. */
export function cleanEntryName(raw: string): string {
  if (raw.includes('\0') || raw.includes('\\'))
    throw invalid(`Archive entry ${JSON.stringify(raw)} has a forbidden character.`, raw);
  if (raw.startsWith('/'))
    throw invalid(`Archive entry ${JSON.stringify(raw)} has an absolute name.`, raw);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw invalid(`Archive entry ${JSON.stringify(raw)} climbs out with "..".`, raw);
  return parts.join('/');
}

async function readAll(body: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let off = 0;
  for await (const c of body) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** What a pass over an archive or layout collected (the blobs are in the batch). */
interface Collected {
  index: ImageIndex | undefined;
}

/**
 * Imports an `.ommx` archive (a tar of an OCI image layout, as OMMX, skopeo and runledger write
 * it) or an OCI layout directory into the local registry, then publishes its reference
 * insert-or-conflict: the archive's own name, or `options.reference` (an anonymous reference when
 * the archive names no repository: no `ref.name`, or only a bare tag such as `v1`).
 *
 * @param registry - the local registry
 * @param path - an archive file or a layout directory
 * @param options - reference, signal, onProgress (`phase: 'import'`, bytes)
 * @returns the published reference and manifest
 * @throws RunledgerError `ARCHIVE_INVALID` naming the entry, `REF_CONFLICT`, `IO_ERROR`
 * @example
 * ```ts
 * const { reference } = await importArchive(registry, 'study.ommx');
 * ```
 */
export async function importArchive(
  registry: LocalRegistry,
  path: string,
  options: ImportArchiveOptions = {}
): Promise<ImportResult> {
  const as = options.reference === undefined ? undefined : normalizeReference(options.reference);
  let info;
  try {
    info = await stat(path); // the path the caller names may be a symlink; entries may not
  } catch (e) {
    throw ioError(e, 'read', path);
  }
  // Pins what the batch publishes until the reference holds it: GC between the two keeps it.
  const session = registry.openSession({ recoverable: false });
  const batch = registry.batch({ session });
  try {
    const collected = info.isDirectory()
      ? await collectDirectory(batch, path, as, options)
      : await collectTar(batch, path, options);
    const { name, descriptor } = await verify(batch, collected, as);
    await batch.commit(options.signal === undefined ? {} : { signal: options.signal });
    const reference = name ?? (await registry.anonymousReference('anonymous'));
    const result = await registry.publishRef(reference, descriptor);
    return { reference: normalizeReference(reference), descriptor, result };
  } catch (e) {
    await batch.discard().catch(() => undefined);
    throw isRunledgerError(e) ? e : ioError(e, 'read the archive', path);
  } finally {
    session.close();
  }
}

function parseIndexBytes(bytes: Uint8Array, entry: string): ImageIndex {
  try {
    return parseImageIndex(bytes);
  } catch (e) {
    throw invalid(
      `Archive entry ${entry} is not a valid OCI image index: ${(e as Error).message}`,
      entry,
      e
    );
  }
}

async function collectTar(
  batch: BlobBatch,
  path: string,
  options: ImportArchiveOptions
): Promise<Collected> {
  const collected: Collected = { index: undefined };
  let layoutSeen = false;
  let loaded = 0;
  // Reused read buffers keep memory flat; blob writes hold at most 5 chunks (TempFile), well
  // under the ring's 16.
  for await (const { header, body } of readTar(fileChunks(path))) {
    throwIfAborted(options.signal);
    const name = cleanEntryName(header.name);
    const shown = JSON.stringify(header.name);
    // Directories carry nothing (old tars mark them with a trailing slash on a regular entry).
    if (
      header.type === '5' ||
      (header.type === '0' && header.name.endsWith('/') && header.size === 0)
    )
      continue;
    if (header.type !== '0' && header.type !== '7') {
      const kind =
        {
          '1': 'a hard link',
          '2': 'a symbolic link',
          '3': 'a character device',
          '4': 'a block device',
          '6': 'a FIFO',
        }[header.type] ?? `of tar type ${JSON.stringify(header.type)}`;
      throw invalid(
        `Archive entry ${shown} is ${kind}; an archive may hold only regular files.`,
        header.name
      );
    }
    if (name === 'oci-layout') {
      if (layoutSeen) throw invalid('The archive has a second oci-layout entry.', header.name);
      layoutSeen = true;
      if (header.size > MAX_LAYOUT_FILE)
        throw invalid(
          `Archive entry ${shown} is ${header.size} bytes, too large for an oci-layout file.`,
          header.name
        );
      try {
        parseOciLayout(await readAll(body, header.size));
      } catch (e) {
        throw invalid(`Archive entry ${shown} is not a valid oci-layout file.`, header.name, e);
      }
    } else if (name === 'index.json') {
      if (collected.index !== undefined)
        throw invalid('The archive has a second index.json entry.', header.name);
      if (header.size > MAX_MANIFEST_SIZE) {
        throw invalid(
          `Archive entry ${shown} is ${header.size} bytes, over the ${MAX_MANIFEST_SIZE}-byte limit for an index.`,
          header.name
        );
      }
      collected.index = parseIndexBytes(await readAll(body, header.size), header.name);
    } else {
      const m = BLOB_PATH.exec(name);
      if (m === null) {
        if (name.startsWith('blobs/')) {
          throw invalid(`Archive entry ${shown} is not a blobs/sha256/<64 hex> path.`, header.name);
        }
        continue; // unknown files of a layout are allowed and ignored (image-spec)
      }
      const digest = `sha256:${m[1]}` as Digest;
      try {
        await batch.putBlobStream(body, { expectedDigest: digest, expectedSize: header.size });
      } catch (e) {
        if (isRunledgerError(e, 'DIGEST_MISMATCH') || isRunledgerError(e, 'SIZE_MISMATCH')) {
          throw invalid(
            `Archive entry ${shown} does not hash to the digest its name gives.`,
            header.name,
            e
          );
        }
        throw e;
      }
      loaded += header.size;
      options.onProgress?.({ phase: 'import', loaded, total: undefined });
    }
  }
  return collected;
}

async function collectDirectory(
  batch: BlobBatch,
  dir: string,
  as: string | undefined,
  options: ImportArchiveOptions
): Promise<Collected> {
  const readSmall = async (name: string, max: number): Promise<Uint8Array | undefined> => {
    const p = join(dir, name);
    const s = await lstat(p).catch(() => undefined);
    if (s === undefined) return undefined;
    if (!s.isFile()) throw invalid(`${name} in the layout ${dir} is not a regular file.`, name);
    if (s.size > max)
      throw invalid(
        `${name} in the layout ${dir} is ${s.size} bytes, over the ${max}-byte limit.`,
        name
      );
    return new Uint8Array(await readFile(p));
  };
  const layout = await readSmall('oci-layout', MAX_LAYOUT_FILE);
  if (layout !== undefined) {
    try {
      parseOciLayout(layout);
    } catch (e) {
      throw invalid(`The oci-layout file of ${dir} is not valid.`, 'oci-layout', e);
    }
  }
  const indexBytes = await readSmall('index.json', MAX_MANIFEST_SIZE);
  if (indexBytes === undefined)
    throw invalid(`${dir} has no index.json: it is not an OCI image layout.`, 'index.json');
  let index = parseIndexBytes(indexBytes, 'index.json');
  // A layout may name several images; --as picks one by its ref.name.
  if (index.manifests.length > 1 && as !== undefined) {
    const chosen = index.manifests.filter((d) => {
      const n = d.annotations?.[ANNOTATION_REF_NAME];
      return n !== undefined && (n === as || safeNormalize(n) === as);
    });
    index = { ...index, manifests: chosen };
  }
  const collected: Collected = { index };
  const manifest = index.manifests[0];
  if (index.manifests.length !== 1 || manifest === undefined) return collected; // verify() reports it
  const wanted = new Map<Digest, Descriptor>([[manifest.digest, manifest]]);
  const copy = async (d: Descriptor): Promise<void> => {
    throwIfAborted(options.signal);
    const name = `blobs/sha256/${d.digest.slice(7)}`;
    const p = join(dir, name);
    const s = await lstat(p).catch(() => undefined);
    if (s === undefined) return; // verify() reports it missing
    if (!s.isFile()) throw invalid(`${name} in the layout ${dir} is not a regular file.`, name);
    try {
      await batch.putBlobFile(p, { expectedDigest: d.digest, expectedSize: s.size });
    } catch (e) {
      if (isRunledgerError(e, 'DIGEST_MISMATCH') || isRunledgerError(e, 'SIZE_MISMATCH')) {
        throw invalid(
          `${name} in the layout ${dir} does not hash to the digest its name gives.`,
          name,
          e
        );
      }
      throw e;
    }
  };
  await copy(manifest);
  const bytes = await batch.readPending(manifest.digest, MAX_MANIFEST_SIZE);
  if (bytes !== undefined) {
    try {
      const m = parseManifest(bytes);
      for (const d of [m.config, ...m.layers]) wanted.set(d.digest, d);
    } catch {
      // verify() reports the manifest as invalid
    }
  }
  for (const d of wanted.values()) if (batch.pendingSize(d.digest) === undefined) await copy(d);
  return collected;
}

function safeNormalize(name: string): string | undefined {
  try {
    return normalizeReference(name);
  } catch {
    return undefined;
  }
}

/** Checks the closure is complete and consistent; returns the name and manifest descriptor. */
async function verify(
  batch: BlobBatch,
  collected: Collected,
  as: string | undefined
): Promise<{ name: string | undefined; descriptor: Descriptor }> {
  const index = collected.index;
  if (index === undefined) throw invalid('The archive has no index.json.', 'index.json');
  if (index.manifests.length !== 1) {
    throw invalid(
      `The archive's index.json lists ${index.manifests.length} manifests; an .ommx archive holds exactly one.`,
      'index.json'
    );
  }
  const d = index.manifests[0] as Descriptor;
  if (d.mediaType !== MEDIA_TYPE_MANIFEST && d.mediaType !== MEDIA_TYPE_DOCKER_MANIFEST) {
    throw invalid(
      `The archive's manifest has media type ${d.mediaType}, not an OCI image manifest.`,
      'index.json'
    );
  }
  const check = (x: Descriptor, what: string): void => {
    const entry = `blobs/sha256/${x.digest.slice(7)}`;
    const size = batch.pendingSize(x.digest);
    if (size === undefined) {
      throw invalid(`The archive lacks ${what} ${x.digest} (entry ${entry}).`, entry);
    }
    if (size !== x.size)
      throw invalid(
        `Archive entry ${entry} is ${size} bytes, but ${what} declares ${x.size}.`,
        entry
      );
  };
  check(d, 'the manifest');
  const bytes = await batch.readPending(d.digest, MAX_MANIFEST_SIZE);
  if (bytes === undefined)
    throw invalid(`The archive's manifest ${d.digest} is over ${MAX_MANIFEST_SIZE} bytes.`);
  let manifest;
  try {
    manifest = parseManifest(bytes);
  } catch (e) {
    throw invalid(
      `The archive's manifest ${d.digest} is not a valid OCI image manifest.`,
      `blobs/sha256/${d.digest.slice(7)}`,
      e
    );
  }
  check(manifest.config, 'the config');
  manifest.layers.forEach((l, i) => check(l, `layer ${i}`));
  const refName = d.annotations?.[ANNOTATION_REF_NAME];
  let name = as;
  // A ref.name that is a bare tag (`v1`: skopeo `oci-archive:f.tar:v1`, oras and regclient write
  // them) names no repository, so it is not read as docker.io/library/v1:latest — the artifact
  // gets an anonymous reference, as when there is no ref.name at all.
  const bareTag = refName !== undefined && /^[\w][\w.-]{0,127}$/.test(refName);
  if (name === undefined && refName !== undefined && !bareTag) {
    name = safeNormalize(refName);
    if (name === undefined)
      throw invalid(
        `The archive names its artifact ${JSON.stringify(refName)}, which is not a valid reference; import it with another name.`,
        'index.json'
      );
  }
  const descriptor: Descriptor = {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...((manifest.artifactType ?? d.artifactType) === undefined
      ? {}
      : { artifactType: (manifest.artifactType ?? d.artifactType) as string }),
  };
  if (!isDigest(descriptor.digest))
    throw invalid('The archive names its manifest with an invalid digest.', 'index.json');
  return { name, descriptor };
}
