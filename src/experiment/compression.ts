/**
 * @module experiment/compression
 * OMMX's `+zstd` attachment storage (ommx-reference §4.3): the stored media type is the logical
 * one plus `+zstd`, with the descriptor annotation `org.ommx.v1.attachment.compression: zstd`;
 * readers decompress only when the annotation is present and strip exactly one suffix. The bytes
 * themselves go through formats/zstd.
 */
import { RunledgerError } from '../errors.js';
import type { Annotations } from '../oci/types.js';

/** The descriptor annotation that marks a zstd-compressed attachment (its only value: `zstd`). */
export const ZSTD_ANNOTATION = 'org.ommx.v1.attachment.compression';

/** How an attachment's bytes are stored. */
export type Compression = 'none' | 'zstd';

const SUFFIX = '+zstd';

/**
 * Parses a compression option.
 *
 * @param value - what the caller passed
 * @returns `'none'` or `'zstd'`
 * @throws RunledgerError `ARGUMENT_INVALID` for anything else ("expected none or zstd")
 * @example
 * ```ts
 * const compression = parseCompression(options.compression ?? 'none');
 * ```
 */
export function parseCompression(value: unknown): Compression {
  if (value === 'none' || value === 'zstd') return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : `of type ${typeof value}`;
  throw new RunledgerError(
    'ARGUMENT_INVALID',
    `Compression ${shown} is not supported: expected none or zstd.`,
    { data: { value: typeof value === 'string' ? value : typeof value } }
  );
}

/**
 * The media type an attachment is stored under: the logical one, plus `+zstd` when compressed.
 *
 * @param logical - the attachment's media type as logged
 * @param compression - how the bytes are stored
 * @returns the layer descriptor's media type
 * @throws nothing
 * @example
 * ```ts
 * storedMediaType('application/json', 'zstd'); // 'application/json+zstd'
 * ```
 */
export function storedMediaType(logical: string, compression: Compression): string {
  return compression === 'zstd' ? logical + SUFFIX : logical;
}

/**
 * The logical media type and compression of a stored attachment: with the compression
 * annotation set to `zstd`, exactly one `+zstd` suffix is stripped; without it, the stored type
 * is the logical one, even when it ends in `+zstd`.
 *
 * @param stored - the layer descriptor's media type
 * @param annotations - the layer descriptor's annotations (`{}` when it has none)
 * @returns the logical media type and the compression
 * @throws RunledgerError `EXPERIMENT_INVALID` when the annotation has another value than `zstd`,
 *   or says `zstd` while the stored type lacks the `+zstd` suffix
 * @example
 * ```ts
 * logicalMediaType('text/csv+zstd', { [ZSTD_ANNOTATION]: 'zstd' });
 * // → { mediaType: 'text/csv', compression: 'zstd' }
 * ```
 */
export function logicalMediaType(
  stored: string,
  annotations: Annotations
): { readonly mediaType: string; readonly compression: Compression } {
  const value = annotations[ZSTD_ANNOTATION];
  if (value === undefined) return { mediaType: stored, compression: 'none' };
  if (value !== 'zstd') {
    throw new RunledgerError(
      'EXPERIMENT_INVALID',
      `The layer of media type ${stored} has annotation ${ZSTD_ANNOTATION} with the unknown value ${JSON.stringify(value)} (expected zstd).`,
      { data: { mediaType: stored, annotation: ZSTD_ANNOTATION, value } }
    );
  }
  if (!stored.endsWith(SUFFIX)) {
    throw new RunledgerError(
      'EXPERIMENT_INVALID',
      `The layer of media type ${stored} is annotated as zstd-compressed but its media type lacks the ${SUFFIX} suffix.`,
      { data: { mediaType: stored, annotation: ZSTD_ANNOTATION, value } }
    );
  }
  return { mediaType: stored.slice(0, -SUFFIX.length), compression: 'zstd' };
}
