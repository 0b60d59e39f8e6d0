/**
 * The contract every attachment codec passes (STYLE.md, practice 5): round trip, deterministic
 * bytes, a valid media type, bytes out, and `PAYLOAD_INVALID` for bytes that are not the format.
 */
import { describe, expect, it } from 'vitest';
import { assertCodec, type AttachmentCodec } from '../../src/experiment/codec.js';
import { isRunledgerError, type ErrorCode, type RunledgerError } from '../../src/errors.js';
import { isMediaType } from '../../src/oci/media-types.js';

export interface ContractOptions {
  /** How a decoded value is compared with its sample; `toStrictEqual` when left out. */
  readonly equal?: (a: unknown, b: unknown) => boolean;
  /**
   * Bytes `decode` must refuse with `PAYLOAD_INVALID`. Left out: `[0xff, 0xfe]` (never valid
   * UTF-8) and no bytes at all; `[]` for a codec that accepts any bytes.
   */
  readonly garbage?: readonly Uint8Array[];
  /**
   * The codec writes maps, so a sample whose objects have their keys inserted in another order
   * must give the same bytes.
   */
  readonly keyOrder?: boolean;
}

/**
 * Calls `fn` and checks it throws a RunledgerError with `code`.
 * @returns the error, for further checks
 */
export function expectError(fn: () => unknown, code: ErrorCode): RunledgerError {
  try {
    fn();
  } catch (e) {
    expect(isRunledgerError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as RunledgerError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

/** Deep copy with every plain object's keys inserted in reverse order. */
export function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null && isPlain(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)])
    );
  }
  return value;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Registers the contract suite for one codec.
 *
 * @param name - the codec's name in test titles
 * @param codec - the codec under test
 * @param samples - values the codec must round-trip
 * @param options - equality, garbage bytes, key-order check
 */
export function runCodecContract<T>(
  name: string,
  codec: AttachmentCodec<T>,
  samples: readonly T[],
  options: ContractOptions = {}
): void {
  const garbage = options.garbage ?? [Uint8Array.of(0xff, 0xfe), new Uint8Array(0)];

  describe(`${name} codec contract`, () => {
    it('is a codec with a valid media type', () => {
      expect(isMediaType(codec.mediaType)).toBe(true);
      expect(() => assertCodec(codec)).not.toThrow();
    });

    it('has samples', () => {
      expect(samples.length).toBeGreaterThan(0);
    });

    describe.each(samples.map((sample, i) => [i, sample] as const))('sample %i', (_i, sample) => {
      it('encodes to a Uint8Array', () => {
        expect(codec.encode(sample)).toBeInstanceOf(Uint8Array);
      });

      it('round-trips: decode(encode(x)) equals x', () => {
        const decoded = codec.decode(codec.encode(sample));
        if (options.equal === undefined) expect(decoded).toStrictEqual(sample);
        else expect(options.equal(decoded, sample)).toBe(true);
      });

      it('encodes deterministically, also after a round trip', () => {
        const bytes = codec.encode(sample);
        expect(hex(codec.encode(sample))).toBe(hex(bytes));
        expect(hex(codec.encode(codec.decode(bytes)))).toBe(hex(bytes));
      });

      if (options.keyOrder === true) {
        it('gives the same bytes whatever order the keys were inserted in', () => {
          expect(hex(codec.encode(reverseKeys(sample) as T))).toBe(hex(codec.encode(sample)));
        });
      }

      it('returns bytes the caller may change without touching the codec state', () => {
        const bytes = codec.encode(sample);
        const before = hex(bytes);
        codec.encode(sample).fill(0x5a);
        expect(hex(bytes)).toBe(before);
      });
    });

    if (garbage.length > 0) {
      it.each(garbage.map((g) => [hex(g), g] as const))('refuses garbage %s', (_hex, g) => {
        expectError(() => codec.decode(g), 'PAYLOAD_INVALID');
      });
    }
  });
}
