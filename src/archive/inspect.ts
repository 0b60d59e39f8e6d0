/**
 * @module archive/inspect
 * Reads what an `.ommx` archive holds — reference, manifest, config, sizes — in one streaming
 * pass, without touching any registry. Small blobs are kept in memory (bounded) and verified.
 */
import { stat } from 'node:fs/promises';
import { ioError, RunledgerError } from '../errors.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import { Digester, type Digest } from '../oci/digest.js';
import { parseImageIndex } from '../oci/image-index.js';
import { parseManifest } from '../oci/manifest.js';
import { ANNOTATION_REF_NAME } from '../oci/media-types.js';
import type { Descriptor, ImageIndex, Manifest } from '../oci/types.js';
import { cleanEntryName } from './import.js';
import { archiveInvalid as invalid, fileChunks, readTar } from './tar.js';

/** What {@link inspectArchive} found. */
export interface ArchiveSummary {
  /** The full reference the archive names, if any. */
  readonly reference: string | undefined;
  readonly descriptor: Descriptor;
  readonly manifest: Manifest;
  /** The config blob's bytes, when it is in the archive and at most 64 MiB. */
  readonly config: Uint8Array | undefined;
  /** Distinct blobs in the archive and their total size. */
  readonly blobs: number;
  readonly size: number;
}

const KEEP_TOTAL = 64 * 1024 * 1024;

/**
 * Reads an archive's reference, manifest and config without importing it.
 * @param path - the archive
 * @returns the summary
 * @throws RunledgerError `ARCHIVE_INVALID` (no index, several manifests, manifest missing or
 *   damaged, a blob that does not match its name)
 * @example
 * ```ts
 * const { reference, manifest } = await inspectArchive('study.ommx');
 * ```
 */
export async function inspectArchive(path: string): Promise<ArchiveSummary> {
  const info = await stat(path).catch((e: unknown) => {
    throw ioError(e, 'read', path);
  });
  if (!info.isFile()) throw invalid(`${path} is not an archive file.`);
  const kept = new Map<Digest, Uint8Array>();
  const sizes = new Map<Digest, number>();
  let index: ImageIndex | undefined;
  let keptBytes = 0;
  try {
    for await (const { header, body } of readTar(fileChunks(path))) {
      const name = cleanEntryName(header.name);
      if (header.type !== '0' && header.type !== '7') continue;
      if (name === 'index.json') {
        if (index !== undefined)
          throw invalid('The archive has a second index.json entry.', header.name);
        if (header.size > MAX_MANIFEST_SIZE)
          throw invalid(
            `Archive entry index.json is ${header.size} bytes, over the limit.`,
            header.name
          );
        const chunks: Uint8Array[] = [];
        for await (const c of body) chunks.push(Uint8Array.from(c));
        index = parseImageIndex(Buffer.concat(chunks));
        continue;
      }
      const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
      if (m === null) continue;
      const digest = `sha256:${m[1]}` as Digest;
      const keep = header.size <= MAX_MANIFEST_SIZE * 16 && keptBytes + header.size <= KEEP_TOTAL;
      const h = new Digester();
      const chunks: Uint8Array[] = [];
      for await (const c of body) {
        h.update(c);
        if (keep) chunks.push(Uint8Array.from(c)); // ring buffers are reused: copy what is kept
      }
      if (h.finish().digest !== digest)
        throw invalid(
          `Archive entry ${JSON.stringify(header.name)} does not hash to the digest its name gives.`,
          header.name
        );
      sizes.set(digest, header.size);
      if (keep && !kept.has(digest)) {
        kept.set(digest, Buffer.concat(chunks));
        keptBytes += header.size;
      }
    }
  } catch (e) {
    if (!(e instanceof RunledgerError)) throw ioError(e, 'read the archive', path);
    if (e.code !== 'ARCHIVE_INVALID')
      throw invalid(`The archive ${path} is not readable: ${e.message}`, undefined, e);
    throw e;
  }
  if (index === undefined) throw invalid('The archive has no index.json.', 'index.json');
  if (index.manifests.length !== 1)
    throw invalid(
      `The archive's index.json lists ${index.manifests.length} manifests, not one.`,
      'index.json'
    );
  const descriptor = index.manifests[0] as Descriptor;
  const bytes = kept.get(descriptor.digest);
  if (bytes === undefined)
    throw invalid(
      `The archive lacks its manifest ${descriptor.digest}.`,
      `blobs/sha256/${descriptor.digest.slice(7)}`
    );
  let manifest: Manifest;
  try {
    manifest = parseManifest(bytes);
  } catch (e) {
    throw invalid(
      `The archive's manifest ${descriptor.digest} is not a valid OCI image manifest.`,
      `blobs/sha256/${descriptor.digest.slice(7)}`,
      e
    );
  }
  return {
    reference: descriptor.annotations?.[ANNOTATION_REF_NAME],
    descriptor,
    manifest,
    config: kept.get(manifest.config.digest),
    blobs: sizes.size,
    size: [...sizes.values()].reduce((a, b) => a + b, 0),
  };
}
