/**
 * @module oci/descriptor
 * Validation of OCI descriptors inside manifests and indexes.
 */
import { RunledgerError } from '../errors.js';
import { digestOf, isDigest } from './digest.js';
import { isMediaType } from './media-types.js';
import type { Annotations, Descriptor } from './types.js';

/** The largest manifest or index runledger reads (4 MiB, as common registries limit them). */
export const MAX_MANIFEST_SIZE: number = 4 * 1024 * 1024;

/**
 * Checks that `value` is an OCI descriptor and returns it typed.
 *
 * @param value - parsed JSON
 * @param where - what holds it, for the error message (e.g. `"layers[2] of manifest sha256:…"`)
 * @returns the descriptor
 * @throws RunledgerError `MANIFEST_INVALID` when a field is missing or malformed
 * @example
 * ```ts
 * const d = parseDescriptor(JSON.parse(text), 'config');
 * ```
 */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  const fail = (why: string): never => {
    throw new RunledgerError('MANIFEST_INVALID', `Descriptor ${where} ${why}.`, {
      data: { where },
    });
  };
  if (!isPlainObject(value)) return fail('is not an object');
  const { mediaType, digest, size, urls, annotations, data, artifactType } = value;
  if (!isMediaType(mediaType)) fail('has no valid mediaType');
  if (!isDigest(digest)) fail('has no valid sha256 digest');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail('has no valid size');
  }
  if (urls !== undefined && (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string'))) {
    fail('has urls that are not strings');
  }
  if (annotations !== undefined) parseAnnotations(annotations, `annotations of ${where}`);
  if (artifactType !== undefined && !isMediaType(artifactType)) fail('has an invalid artifactType');
  if (data !== undefined) {
    if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
      fail('has data that is not base64');
    }
    const bytes = Buffer.from(data as string, 'base64');
    if (bytes.byteLength !== size || digestOf(bytes) !== digest) {
      fail('has embedded data that does not match its digest and size');
    }
  }
  return value as unknown as Descriptor;
}

/**
 * Checks that `value` is a string-to-string map.
 * @param value - parsed JSON
 * @param where - what holds it, for the error message
 * @returns the annotations
 * @throws RunledgerError `MANIFEST_INVALID` otherwise
 * @example
 * ```ts
 * parseAnnotations({ a: 'b' }, 'manifest');
 * ```
 */
export function parseAnnotations(value: unknown, where: string): Annotations {
  if (!isPlainObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new RunledgerError('MANIFEST_INVALID', `The ${where} are not a string-to-string map.`, {
      data: { where },
    });
  }
  return value as Annotations;
}

/**
 * Parses JSON bytes of a manifest or index, capped in size.
 * @internal
 */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.byteLength > MAX_MANIFEST_SIZE) {
    throw new RunledgerError(
      'MANIFEST_INVALID',
      `The ${what} is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_SIZE}-byte limit.`,
      { data: { size: bytes.byteLength } }
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new RunledgerError('MANIFEST_INVALID', `The ${what} is not valid UTF-8 JSON.`, {
      cause,
    });
  }
  if (!isPlainObject(value)) {
    throw new RunledgerError('MANIFEST_INVALID', `The ${what} is not a JSON object.`);
  }
  return value;
}

/** @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
