import { describe, expect, it } from 'vitest';
import { bytesCodec } from '../../codecs/bytes.js';
import { expectError, runCodecContract } from './contract.js';

runCodecContract(
  'bytes',
  bytesCodec,
  [new Uint8Array(0), Uint8Array.from({ length: 256 }, (_, i) => i), Uint8Array.of(0xff, 0xfe)],
  { garbage: [] }
);

describe('bytesCodec', () => {
  it('has media type application/octet-stream', () => {
    expect(bytesCodec.mediaType).toBe('application/octet-stream');
  });

  it('copies on encode: changing the input afterwards does not change the bytes', () => {
    const input = Uint8Array.of(1, 2, 3);
    const bytes = bytesCodec.encode(input);
    input[0] = 9;
    expect([...bytes]).toEqual([1, 2, 3]);
  });

  it('copies on decode: changing the stored bytes afterwards does not change the value', () => {
    const stored = Uint8Array.of(1, 2, 3);
    const value = bytesCodec.decode(stored);
    stored[0] = 9;
    expect([...value]).toEqual([1, 2, 3]);
  });

  it('copies only the view of a subarray', () => {
    const whole = Uint8Array.of(0, 1, 2, 3, 4);
    const bytes = bytesCodec.encode(whole.subarray(1, 3));
    expect([...bytes]).toEqual([1, 2]);
    expect(bytes.buffer.byteLength).toBe(2);
  });

  it('returns plain Uint8Arrays for a Buffer, in both directions', () => {
    const encoded = bytesCodec.encode(Buffer.from([1, 2]));
    expect(Object.getPrototypeOf(encoded)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(bytesCodec.decode(Buffer.from([1])))).toBe(Uint8Array.prototype);
  });

  it('refuses anything but a Uint8Array with ARGUMENT_INVALID', () => {
    for (const v of ['abc', [1, 2], new Uint16Array(2), null]) {
      expectError(() => bytesCodec.encode(v as unknown as Uint8Array), 'ARGUMENT_INVALID');
    }
  });
});
