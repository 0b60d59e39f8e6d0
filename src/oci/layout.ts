/**
 * @module oci/layout
 * Facts of the OCI image layout: the `oci-layout` file and where a blob lives.
 */
import { RunledgerError } from '../errors.js';
import { parseJsonObject } from './descriptor.js';
import { digestHex, type Digest } from './digest.js';

/** The image layout version runledger writes and reads. */
export const OCI_LAYOUT_VERSION = '1.0.0';
/** File name of the layout marker. */
export const OCI_LAYOUT_FILE = 'oci-layout';
/** File name of the layout's image index. */
export const INDEX_FILE = 'index.json';

/**
 * The bytes of an `oci-layout` file.
 * @returns `{"imageLayoutVersion":"1.0.0"}`
 * @example
 * ```ts
 * await writeFile(join(root, OCI_LAYOUT_FILE), serializeOciLayout());
 * ```
 */
export function serializeOciLayout(): Uint8Array {
  return new TextEncoder().encode(`{"imageLayoutVersion":"${OCI_LAYOUT_VERSION}"}`);
}

/**
 * Checks the bytes of an `oci-layout` file.
 * @param bytes - the file's content
 * @throws RunledgerError `LAYOUT_INVALID` unless it is JSON with `imageLayoutVersion` 1.x
 * @example
 * ```ts
 * parseOciLayout(await readFile(join(root, OCI_LAYOUT_FILE)));
 * ```
 */
export function parseOciLayout(bytes: Uint8Array): void {
  let version: unknown;
  try {
    version = parseJsonObject(bytes, 'oci-layout file')['imageLayoutVersion'];
  } catch (cause) {
    throw new RunledgerError('LAYOUT_INVALID', 'The oci-layout file is not valid JSON.', {
      cause,
    });
  }
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
    throw new RunledgerError(
      'LAYOUT_INVALID',
      `The oci-layout file has imageLayoutVersion ${JSON.stringify(version)}, not 1.x.`,
      { data: { imageLayoutVersion: version } }
    );
  }
}

/**
 * The path of a blob relative to the layout root.
 * @param digest - a parsed digest (so the path cannot escape the root)
 * @returns `blobs/sha256/<hex>`
 * @example
 * ```ts
 * join(root, blobPath(digest));
 * ```
 */
export function blobPath(digest: Digest): string {
  return `blobs/sha256/${digestHex(digest)}`;
}
