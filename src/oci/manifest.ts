/**
 * @module oci/manifest
 * The one parse/serialize pair for OCI image manifests, and the readers of manifest-or-index
 * bytes built on it and {@link parseImageIndex}.
 */
import { RunledgerError } from '../errors.js';
import { canonicalJsonBytes, type JsonValue } from './canonical-json.js';
import { parseAnnotations, parseDescriptor, parseJsonObject } from './descriptor.js';
import { parseImageIndex } from './image-index.js';
import {
  isMediaType,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from './media-types.js';
import type { ImageIndex, Manifest } from './types.js';

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

/** A manifest or an index, parsed: which of the two, and the validated value. */
export type ManifestOrIndex =
  | { readonly kind: 'manifest'; readonly manifest: Manifest }
  | { readonly kind: 'index'; readonly index: ImageIndex };

/**
 * Parses the bytes of a manifest or an index by the media type its descriptor gives: an OCI
 * image index or a Docker manifest list with {@link parseImageIndex}, anything else with
 * {@link parseManifest}.
 *
 * @param bytes - the JSON as stored or received
 * @param mediaType - the media type of the descriptor that points at it
 * @returns which it is, and the validated value
 * @throws RunledgerError `MANIFEST_INVALID` as the parser of that kind throws it
 * @example
 * ```ts
 * const node = parseManifestOrIndex(bytes, descriptor.mediaType);
 * const children = node.kind === 'index' ? node.index.manifests : node.manifest.layers;
 * ```
 */
export function parseManifestOrIndex(bytes: Uint8Array, mediaType: string): ManifestOrIndex {
  return mediaType === MEDIA_TYPE_IMAGE_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST
    ? { kind: 'index', index: parseImageIndex(bytes) }
    : { kind: 'manifest', manifest: parseManifest(bytes) };
}

/** What a manifest or index says it is: its `mediaType` and `artifactType` when they are strings. */
export interface ManifestHeader {
  readonly mediaType: string | undefined;
  readonly artifactType: string | undefined;
}

/**
 * Reads what manifest or index bytes say they are, without validating the rest: for a registry
 * client that describes a manifest of any type it was served (Docker schema 1 included).
 *
 * @param bytes - the JSON as received
 * @returns its `mediaType` and `artifactType` (undefined when absent or not strings)
 * @throws RunledgerError `MANIFEST_INVALID` when the bytes are not a UTF-8 JSON object (or are
 * over 4 MiB)
 * @example
 * ```ts
 * const { mediaType } = readManifestHeader(bytes);
 * ```
 */
export function readManifestHeader(bytes: Uint8Array): ManifestHeader {
  const value = parseJsonObject(bytes, 'manifest');
  const { mediaType, artifactType } = value;
  return {
    mediaType: typeof mediaType === 'string' ? mediaType : undefined,
    artifactType: typeof artifactType === 'string' ? artifactType : undefined,
  };
}
