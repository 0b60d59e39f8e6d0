/**
 * @module oci/digest
 * Digests: strict parsing and computation. The only place that hashes (with `node:crypto`).
 */
import { createHash, hash, type Hash } from 'node:crypto';
import { RunledgerError } from '../errors.js';

/** A validated `sha256:<64 lowercase hex>` digest; only {@link parseDigest} and the hashers make one. */
export type Digest = `sha256:${string}` & { readonly __digest: unique symbol };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses a digest strictly: `sha256:` and exactly 64 lowercase hex digits, nothing else, so a
 * digest is always safe to use in a path or URL.
 *
 * @param value - the string to parse
 * @returns the same string typed as {@link Digest}
 * @throws RunledgerError `DIGEST_INVALID` for anything else (other algorithms, upper case, `..`)
 * @example
 * ```ts
 * const d = parseDigest('sha256:' + 'a'.repeat(64));
 * ```
 */
export function parseDigest(value: unknown): Digest {
  if (typeof value !== 'string' || !DIGEST_RE.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : typeof value;
    throw new RunledgerError(
      'DIGEST_INVALID',
      `Digest ${shown} is not "sha256:" followed by 64 lowercase hex digits.`,
      { data: { value: typeof value === 'string' ? value.slice(0, 200) : undefined } }
    );
  }
  return value as Digest;
}

/**
 * Whether `value` is a valid digest string.
 * @param value - anything
 * @returns true for `sha256:` + 64 lowercase hex
 * @example
 * ```ts
 * isDigest('sha256:ABC'); // false
 * ```
 */
export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/**
 * The hex part of a digest (what names the blob file).
 * @param digest - a parsed digest
 * @returns 64 lowercase hex digits
 * @example
 * ```ts
 * digestHex(d).length; // 64
 * ```
 */
export function digestHex(digest: Digest): string {
  return digest.slice(7);
}

/**
 * The SHA-256 digest of some bytes.
 * @param bytes - the content
 * @returns its digest
 * @example
 * ```ts
 * digestOf(new TextEncoder().encode('{}')); // sha256:44136f…
 * ```
 */
export function digestOf(bytes: Uint8Array | string): Digest {
  // One-shot `hash` (no Hash object): 0.75 µs against 1.9 µs for a small blob.
  return `sha256:${hash('sha256', bytes, 'hex')}` as Digest;
}

/**
 * An incremental hasher that also counts bytes, for content that arrives in chunks.
 * @example
 * ```ts
 * const h = new Digester(); h.update(chunk); const { digest, size } = h.finish();
 * ```
 */
export class Digester {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  /**
   * Feeds a chunk.
   * @param chunk - the next bytes
   */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  /** Bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Ends hashing.
   * @returns the digest and the number of bytes fed
   */
  finish(): { digest: Digest; size: number } {
    return { digest: `sha256:${this.#hash.digest('hex')}` as Digest, size: this.#size };
  }
}

/**
 * The digest and size of a stream of chunks, consumed to its end.
 * @param chunks - any async iterable of bytes (a Node `Readable`, a web stream…)
 * @returns digest and size
 * @example
 * ```ts
 * const { digest, size } = await digestOfStream(fs.createReadStream(path));
 * ```
 */
export async function digestOfStream(
  chunks: AsyncIterable<Uint8Array>
): Promise<{ digest: Digest; size: number }> {
  const h = new Digester();
  for await (const chunk of chunks) h.update(chunk);
  return h.finish();
}
