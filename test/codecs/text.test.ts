import { describe, expect, it } from 'vitest';
import { textCodec } from '../../codecs/text.js';
import { expectError, runCodecContract } from './contract.js';

runCodecContract(
  'text',
  textCodec,
  [
    '',
    'hello',
    'héllo wörld ✓ 😀 𝄞',
    '\uFEFFstarts with a byte order mark',
    'crlf\r\nlf\n',
    '\0nul',
  ],
  {
    garbage: [
      Uint8Array.of(0xff, 0xfe),
      Uint8Array.of(0x61, 0xc3), // truncated two-byte sequence
      Uint8Array.of(0xc0, 0xaf), // overlong '/'
      Uint8Array.of(0xed, 0xa0, 0x80), // an encoded surrogate (CESU-8)
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    ],
  }
);

describe('textCodec', () => {
  it('has media type text/plain; charset=utf-8', () => {
    expect(textCodec.mediaType).toBe('text/plain; charset=utf-8');
  });

  it('writes exactly the UTF-8 bytes, adding no byte order mark', () => {
    expect([...textCodec.encode('héllo')]).toEqual([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]);
    expect([...textCodec.encode('😀')]).toEqual([0xf0, 0x9f, 0x98, 0x80]);
  });

  it('keeps a byte order mark in both directions', () => {
    expect([...textCodec.encode('\uFEFFa')]).toEqual([0xef, 0xbb, 0xbf, 0x61]);
    expect(textCodec.decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).toBe('\uFEFFa');
  });

  it.each(['\uD800', 'a\uDC00b', '\uDE00\uD83D'])('refuses lone surrogates in %j', (s) => {
    const e = expectError(() => textCodec.encode(s), 'ARGUMENT_INVALID');
    expect(typeof e.data['index']).toBe('number');
  });

  it('refuses a non-string with ARGUMENT_INVALID', () => {
    expectError(() => textCodec.encode(42 as unknown as string), 'ARGUMENT_INVALID');
    expectError(() => textCodec.encode(null as unknown as string), 'ARGUMENT_INVALID');
  });

  it('accepts any valid UTF-8, including text that is not a text format', () => {
    expect(textCodec.decode(new Uint8Array(0))).toBe('');
    expect(textCodec.decode(Uint8Array.of(0x00, 0x7f))).toBe('\u0000\u007f');
  });
});
