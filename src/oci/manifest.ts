/**
 * @module oci/manifest
 * The one parse/serialize pair for OCI image manifests.
 */
import { RunledgerError } from '../errors.js';
import { canonicalJsonBytes, type JsonValue } from './canonical-json.js';
import { parseAnnotations, parseDescriptor, parseJsonObject } from './descriptor.js';
import {
  isMediaType,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from './media-types.js';
import type { Manifest } from './types.js';

/**
 * Parses manifest bytes. Keep the original bytes: a manifest's digest is that of its bytes, so a
 * read manifest is never re-serialized.
 *
 * @param bytes - the manifest JSON as stored or received
 * @returns the validated manifest
 * @throws RunledgerError `MANIFEST_INVALID` when it is not an OCI (or Docker schema 2) image manifest
 * @example
 * ```ts
 * const m = parseManifest(await registry.readBlob(desc.digest));
 * ```
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  const value = parseJsonObject(bytes, 'manifest');
  const fail = (why: string): never => {
    throw new RunledgerError('MANIFEST_INVALID', `The manifest ${why}.`);
  };
  if (value['schemaVersion'] !== 2) fail('does not have schemaVersion 2');
  const mediaType = value['mediaType'] === undefined ? MEDIA_TYPE_MANIFEST : value['mediaType'];
  if (mediaType === MEDIA_TYPE_IMAGE_INDEX) fail('is an image index, not an image manifest');
  if (mediaType !== MEDIA_TYPE_MANIFEST && mediaType !== MEDIA_TYPE_DOCKER_MANIFEST) {
    fail(`has media type ${JSON.stringify(mediaType)}, not ${MEDIA_TYPE_MANIFEST}`);
  }
  if (value['artifactType'] !== undefined && !isMediaType(value['artifactType'])) {
    fail('has an invalid artifactType');
  }
  parseDescriptor(value['config'], 'config');
  const layers = value['layers'];
  if (!Array.isArray(layers)) fail('has no layers array');
  (layers as unknown[]).forEach((l, i) => parseDescriptor(l, `layers[${i}]`));
  if (value['subject'] !== undefined) parseDescriptor(value['subject'], 'subject');
  if (value['annotations'] !== undefined) {
    parseAnnotations(value['annotations'], 'manifest annotations');
  }
  return { ...value, mediaType } as unknown as Manifest;
}

/**
 * Serializes a manifest canonically (sorted keys, compact): equal manifests, equal digests.
 * @param manifest - the manifest to write
 * @returns its canonical JSON bytes
 * @example
 * ```ts
 * const bytes = serializeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE_MANIFEST, config, layers: [] });
 * ```
 */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return canonicalJsonBytes(manifest as unknown as JsonValue);
}
