import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Digester,
  digestHex,
  digestOf,
  digestOfStream,
  isDigest,
  parseDigest,
} from '../../src/oci/digest.js';
import { expectError } from '../helpers/expect-code.js';

const enc = new TextEncoder();
const HEX64 = '0123456789abcdef'.repeat(4);
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_JSON_SHA256 = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function* generate(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve();
    yield c;
  }
}

const hexDigestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

describe('parseDigest', () => {
  it('accepts sha256: followed by 64 lowercase hex digits and returns the same string', () => {
    const s = `sha256:${HEX64}`;
    expect(parseDigest(s)).toBe(s);
    expect(parseDigest(EMPTY_SHA256)).toBe(EMPTY_SHA256);
    expect(parseDigest(`sha256:${'0'.repeat(64)}`)).toBe(`sha256:${'0'.repeat(64)}`);
    expect(parseDigest(`sha256:${'f'.repeat(64)}`)).toBe(`sha256:${'f'.repeat(64)}`);
  });

  it.each<[string, unknown]>([
    ['a path traversal', 'sha256:../../x'],
    ['a path traversal padded to 64 characters', `sha256:../${'a'.repeat(61)}`],
    ['uppercase hex', `sha256:${HEX64.toUpperCase()}`],
    ['one uppercase hex digit', `sha256:A${HEX64.slice(1)}`],
    ['63 hex digits', `sha256:${HEX64.slice(1)}`],
    ['65 hex digits', `sha256:${HEX64}0`],
    ['another algorithm', `sha512:${'a'.repeat(128)}`],
    ['sha512 with 64 hex digits', `sha512:${HEX64}`],
    ['uppercase algorithm', `SHA256:${HEX64}`],
    ['no algorithm', HEX64],
    ['no hex', 'sha256:'],
    ['a missing colon', `sha256${HEX64}`],
    ['a non-hex letter', `sha256:g${HEX64.slice(1)}`],
    ['the empty string', ''],
    ['a trailing newline', `sha256:${HEX64}\n`],
    ['a leading space', ` sha256:${HEX64}`],
    ['a trailing space', `sha256:${HEX64} `],
    ['a trailing NUL', `sha256:${HEX64}\0`],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an object', { digest: `sha256:${HEX64}` }],
    ['an array', [`sha256:${HEX64}`]],
  ])('rejects %s with DIGEST_INVALID', (_name, value) => {
    const e = expectError(() => parseDigest(value), 'DIGEST_INVALID');
    expect(e.data['value']).toBe(typeof value === 'string' ? value : undefined);
    expect(isDigest(value)).toBe(false);
  });

  it('caps the value it reports in data and message', () => {
    const long = 'x'.repeat(10_000);
    const e = expectError(() => parseDigest(long), 'DIGEST_INVALID');
    expect(e.data['value']).toBe('x'.repeat(200));
    expect(e.message.length).toBeLessThan(300);
  });

  it('agrees with isDigest and the strict grammar for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), hexDigestArb), (s) => {
        const valid = /^sha256:[0-9a-f]{64}$/.test(s);
        expect(isDigest(s)).toBe(valid);
        if (valid) {
          expect(parseDigest(s)).toBe(s);
        } else {
          expectError(() => parseDigest(s), 'DIGEST_INVALID');
        }
      })
    );
  });

  it('accepts every well-formed digest', () => {
    fc.assert(
      fc.property(hexDigestArb, (s) => {
        expect(parseDigest(s)).toBe(s);
        expect(isDigest(s)).toBe(true);
      })
    );
  });
});

describe('digestHex', () => {
  it('returns the 64 hex digits after sha256:', () => {
    expect(digestHex(parseDigest(`sha256:${HEX64}`))).toBe(HEX64);
    fc.assert(
      fc.property(hexDigestArb, (s) => {
        const hex = digestHex(parseDigest(s));
        expect(hex).toHaveLength(64);
        expect(`sha256:${hex}`).toBe(s);
      })
    );
  });
});

describe('digestOf', () => {
  it('hashes the empty input to the FIPS 180-2 known value', () => {
    expect(digestOf('')).toBe(EMPTY_SHA256);
    expect(digestOf(new Uint8Array(0))).toBe(EMPTY_SHA256);
  });

  it('hashes {} to the digest of the OCI empty descriptor', () => {
    expect(digestOf('{}')).toBe(EMPTY_JSON_SHA256);
    expect(digestOf(enc.encode('{}'))).toBe(EMPTY_JSON_SHA256);
    expect(digestOf(new Uint8Array([0x7b, 0x7d]))).toBe(EMPTY_JSON_SHA256);
  });

  it('matches the FIPS 180-2 test vectors', () => {
    expect(digestOf('abc')).toBe(
      'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    );
    expect(digestOf('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      'sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'
    );
  });

  it('hashes a string as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(digestOf(s)).toBe(digestOf(enc.encode(s)));
      })
    );
  });

  it('always returns a parseable digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const d = digestOf(bytes);
        expect(isDigest(d)).toBe(true);
        expect(parseDigest(d)).toBe(d);
      })
    );
  });

  it('distinguishes inputs that differ in one byte', () => {
    expect(digestOf(new Uint8Array([0]))).not.toBe(digestOf(new Uint8Array([1])));
    expect(digestOf(new Uint8Array([0]))).not.toBe(digestOf(new Uint8Array(0)));
  });
});

describe('Digester', () => {
  it('finishes with the empty digest and size 0 when fed nothing', () => {
    const h = new Digester();
    expect(h.size).toBe(0);
    expect(h.finish()).toEqual({ digest: EMPTY_SHA256, size: 0 });
  });

  it('counts bytes as they are fed', () => {
    const h = new Digester();
    h.update(enc.encode('{'));
    expect(h.size).toBe(1);
    h.update(new Uint8Array(0));
    expect(h.size).toBe(1);
    h.update(enc.encode('}'));
    expect(h.size).toBe(2);
    expect(h.finish()).toEqual({ digest: EMPTY_JSON_SHA256, size: 2 });
  });

  it('gives the same digest and size incrementally as in one shot', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 16 }), (chunks) => {
        const h = new Digester();
        for (const c of chunks) h.update(c);
        const all = concat(chunks);
        expect(h.finish()).toEqual({ digest: digestOf(all), size: all.byteLength });
      })
    );
  });

  it('does not depend on where the content is split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), fc.nat(), (bytes, cut) => {
        const at = bytes.byteLength === 0 ? 0 : cut % (bytes.byteLength + 1);
        const h = new Digester();
        h.update(bytes.subarray(0, at));
        h.update(bytes.subarray(at));
        expect(h.finish().digest).toBe(digestOf(bytes));
      })
    );
  });
});

describe('digestOfStream', () => {
  it('digests an async generator of chunks', async () => {
    await expect(digestOfStream(generate([enc.encode('{'), enc.encode('}')]))).resolves.toEqual({
      digest: EMPTY_JSON_SHA256,
      size: 2,
    });
  });

  it('digests an empty stream', async () => {
    await expect(digestOfStream(generate([]))).resolves.toEqual({
      digest: EMPTY_SHA256,
      size: 0,
    });
  });

  it('matches the FIPS 180-2 one-million-a vector over a thousand chunks', async () => {
    const chunk = enc.encode('a'.repeat(1000));
    const chunks = Array.from({ length: 1000 }, () => chunk);
    await expect(digestOfStream(generate(chunks))).resolves.toEqual({
      digest: 'sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
      size: 1_000_000,
    });
  });

  it('digests a Node Readable', async () => {
    const r = Readable.from([Buffer.from('ab'), Buffer.from('c')]);
    await expect(digestOfStream(r)).resolves.toEqual({ digest: digestOf('abc'), size: 3 });
  });

  it('equals the one-shot digest for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
        async (chunks) => {
          const all = concat(chunks);
          expect(await digestOfStream(generate(chunks))).toEqual({
            digest: digestOf(all),
            size: all.byteLength,
          });
        }
      )
    );
  });

  it('propagates an error thrown by the stream', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield enc.encode('x');
      throw new Error('read failed');
    }
    await expect(digestOfStream(failing())).rejects.toThrow('read failed');
  });
});
