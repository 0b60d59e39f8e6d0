/**
 * @module oci/image-index
 * The one parse/serialize pair for OCI image indexes (including an image layout's `index.json`).
 */
import { RunledgerError } from '../errors.js';
import { canonicalJsonBytes, type JsonValue } from './canonical-json.js';
import { parseAnnotations, parseDescriptor, parseJsonObject } from './descriptor.js';
import {
  isMediaType,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
} from './media-types.js';
import type { ImageIndex } from './types.js';

/**
 * Parses image index bytes. `mediaType` may be absent (skopeo writes layouts without it).
 *
 * @param bytes - the index JSON
 * @returns the validated index
 * @throws RunledgerError `MANIFEST_INVALID` when it is not an image index
 * @example
 * ```ts
 * const index = parseImageIndex(await readFile('index.json'));
 * ```
 */
export function parseImageIndex(bytes: Uint8Array): ImageIndex {
  const value = parseJsonObject(bytes, 'image index');
  const fail = (why: string): never => {
    throw new RunledgerError('MANIFEST_INVALID', `The image index ${why}.`);
  };
  if (value['schemaVersion'] !== 2) fail('does not have schemaVersion 2');
  const mediaType = value['mediaType'];
  if (
    mediaType !== undefined &&
    mediaType !== MEDIA_TYPE_IMAGE_INDEX &&
    mediaType !== MEDIA_TYPE_DOCKER_MANIFEST_LIST
  ) {
    fail(`has media type ${JSON.stringify(mediaType)}, not ${MEDIA_TYPE_IMAGE_INDEX}`);
  }
  if (value['artifactType'] !== undefined && !isMediaType(value['artifactType'])) {
    fail('has an invalid artifactType');
  }
  const manifests = value['manifests'];
  if (!Array.isArray(manifests)) fail('has no manifests array');
  (manifests as unknown[]).forEach((d, i) => parseDescriptor(d, `manifests[${i}]`));
  if (value['subject'] !== undefined) parseDescriptor(value['subject'], 'subject');
  if (value['annotations'] !== undefined) {
    parseAnnotations(value['annotations'], 'image index annotations');
  }
  return value as unknown as ImageIndex;
}

/**
 * Serializes an image index canonically (sorted keys, compact).
 * @param index - the index
 * @returns its canonical JSON bytes
 * @example
 * ```ts
 * serializeImageIndex({ schemaVersion: 2, mediaType: MEDIA_TYPE_IMAGE_INDEX, manifests: [] });
 * ```
 */
export function serializeImageIndex(index: ImageIndex): Uint8Array {
  return canonicalJsonBytes(index as unknown as JsonValue);
}
