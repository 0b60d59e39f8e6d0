/**
 * @module archive/export
 * `.ommx` export: an OCI image layout as a deterministic tar (ommx-reference §3.9) —
 * `oci-layout`, then the manifest, config and layer blobs, then `index.json` naming the full
 * reference. Blobs are streamed from the store, so memory does not grow with the artifact.
 */
import { randomBytes } from 'node:crypto';
import { link, rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import { serializeImageIndex } from '../oci/image-index.js';
import { blobPath, serializeOciLayout } from '../oci/layout.js';
import { ANNOTATION_REF_NAME, MEDIA_TYPE_IMAGE_INDEX } from '../oci/media-types.js';
import { normalizeReference } from '../oci/reference.js';
import type { Descriptor } from '../oci/types.js';
import { TempFile } from '../store/blob-store.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { Progress } from '../store/types.js';
import { END_OF_ARCHIVE, padding, regularFileHeader } from './tar.js';

/** Archive writes kept in flight while the next blob is read. */
const WRITES_IN_FLIGHT = 8;
/** Reused read buffers for small blobs: more than the blobs WRITES_IN_FLIGHT can cover. */
const RING = 8;
const SMALL_BLOB = 1 << 20;

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Options of {@link exportArchive}. */
export interface ExportArchiveOptions {
  /** Replace an existing file. @default false */
  readonly overwrite?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/**
 * Writes the artifact a reference points at as an `.ommx` archive. Equal artifacts give
 * byte-identical files. The file appears whole (temp file, then rename or no-clobber link).
 *
 * @param registry - the local registry
 * @param reference - the artifact's reference
 * @param path - the archive to write
 * @param options - overwrite, signal, onProgress (`phase: 'export'`, bytes)
 * @returns the manifest descriptor exported and the archive size
 * @throws RunledgerError `FILE_EXISTS`, `REF_NOT_FOUND`, `DIGEST_MISMATCH`, `IO_ERROR`
 * @example
 * ```ts
 * await exportArchive(registry, 'ghcr.io/acme/qap:tai20a', 'study.ommx');
 * ```
 */
export async function exportArchive(
  registry: LocalRegistry,
  reference: string,
  path: string,
  options: ExportArchiveOptions = {}
): Promise<{ descriptor: Descriptor; size: number }> {
  const name = normalizeReference(reference);
  const descriptor = await registry.resolve(name);
  const { manifest } = await registry.readManifest(descriptor.digest);
  // Each blob once, in OMMX's order: manifest, config, layers (first occurrence).
  const blobs: Descriptor[] = [];
  const seen = new Set<string>();
  for (const d of [descriptor, manifest.config, ...manifest.layers]) {
    if (!seen.has(d.digest)) {
      seen.add(d.digest);
      blobs.push(d);
    }
  }
  const entry: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.artifactType === undefined ? {} : { artifactType: descriptor.artifactType }),
    annotations: { [ANNOTATION_REF_NAME]: name },
  };
  const index = serializeImageIndex({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [entry],
  });
  const total = blobs.reduce((n, b) => n + b.size, 0);

  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = await TempFile.create(temp);
  let size = 0;
  let loaded = 0;
  const write = (bytes: Uint8Array): void => {
    out.write(bytes);
    size += bytes.byteLength;
  };
  try {
    const layout = serializeOciLayout();
    write(
      concat(regularFileHeader('oci-layout', layout.byteLength), layout, padding(layout.byteLength))
    );
    // Small blobs are read into a ring of reused buffers; a slot is reused only after the
    // writes that used it finished (at most WRITES_IN_FLIGHT writes, 3 per blob, stay queued).
    const ring = Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(SMALL_BLOB));
    let slot = 0;
    for (const b of blobs) {
      throwIfAborted(options.signal);
      write(regularFileHeader(blobPath(b.digest), b.size));
      // Reads, hashing and writes overlap; the digest is verified before the file is published.
      await registry.copyBlobInto(out, b.digest, b.size, {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        scratch: ring[slot++ % RING] as Buffer,
      });
      size += b.size;
      write(padding(b.size));
      await out.reserve(WRITES_IN_FLIGHT);
      loaded += b.size;
      options.onProgress?.({ phase: 'export', loaded, total });
    }
    write(
      concat(
        regularFileHeader('index.json', index.byteLength),
        index,
        padding(index.byteLength),
        END_OF_ARCHIVE
      )
    );
    await out.finish(true);
  } catch (e) {
    await out.abort();
    throw ioError(e, 'write the archive', path);
  }
  try {
    if (options.overwrite === true) {
      await rename(temp, path);
    } else {
      try {
        await link(temp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new RunledgerError(
            'FILE_EXISTS',
            `${path} already exists; pass overwrite to replace it.`,
            {
              data: { path },
            }
          );
        }
        throw e;
      }
      await unlink(temp);
    }
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw ioError(e, 'write the archive', path);
  }
  return { descriptor, size };
}
