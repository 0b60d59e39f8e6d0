import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  isPlainObject,
  MAX_MANIFEST_SIZE,
  parseAnnotations,
  parseDescriptor,
  parseJsonObject,
} from '../../src/oci/descriptor.js';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPE_EMPTY, MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import { expectError } from '../helpers/expect-code.js';

const enc = new TextEncoder();
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const EMPTY_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The OCI empty descriptor, as in the image-spec. */
const emptyDescriptor = {
  mediaType: MEDIA_TYPE_EMPTY,
  digest: EMPTY_JSON_DIGEST,
  size: 2,
} as const;

describe('MAX_MANIFEST_SIZE', () => {
  it('is 4 MiB', () => {
    expect(MAX_MANIFEST_SIZE).toBe(4 * 1024 * 1024);
  });
});

describe('parseDescriptor', () => {
  it('accepts the OCI empty descriptor and returns it', () => {
    const d = { ...emptyDescriptor };
    expect(parseDescriptor(d, 'config')).toBe(d);
  });

  it('accepts the empty descriptor with embedded data, as in the image-spec', () => {
    const d = { ...emptyDescriptor, data: 'e30=' };
    expect(parseDescriptor(d, 'config')).toEqual(d);
  });

  it('accepts empty embedded data for an empty blob', () => {
    const d = { mediaType: 'application/octet-stream', digest: EMPTY_DIGEST, size: 0, data: '' };
    expect(parseDescriptor(d, 'layers[0]')).toEqual(d);
  });

  it('accepts every optional field', () => {
    const d = {
      mediaType: MEDIA_TYPE_MANIFEST,
      digest: `sha256:${'a'.repeat(64)}`,
      size: 1234,
      urls: ['https://example.com/blob'],
      annotations: { 'org.opencontainers.image.title': 'x.tar', empty: '' },
      artifactType: 'application/vnd.example+json',
    };
    expect(parseDescriptor(d, 'manifests[0]')).toEqual(d);
  });

  it('accepts size 0 and the largest safe integer', () => {
    expect(parseDescriptor({ ...emptyDescriptor, size: 0 }, 'x').size).toBe(0);
    const big = { ...emptyDescriptor, size: Number.MAX_SAFE_INTEGER };
    expect(parseDescriptor(big, 'x').size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('accepts media types with parameters', () => {
    const d = { ...emptyDescriptor, mediaType: 'text/plain; charset=utf-8' };
    expect(parseDescriptor(d, 'x').mediaType).toBe('text/plain; charset=utf-8');
    // RFC 9110 §5.6.3 optional whitespace (space, tab) and §5.6.4 quoted strings with escapes.
    for (const mediaType of ['text/plain;\tcharset=utf-8', 'text/x; a="b \\"c\\" d"']) {
      expect(parseDescriptor({ ...emptyDescriptor, mediaType }, 'x').mediaType).toBe(mediaType);
    }
  });

  it('keeps unknown fields', () => {
    const d = { ...emptyDescriptor, platform: { os: 'linux' } };
    expect(parseDescriptor(d, 'x')).toEqual(d);
  });

  const { mediaType: _m, ...noMediaType } = emptyDescriptor;
  const { digest: _d, ...noDigest } = emptyDescriptor;
  const { size: _s, ...noSize } = emptyDescriptor;

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [emptyDescriptor]],
    ['a string', EMPTY_JSON_DIGEST],
    ['a number', 2],
    ['undefined', undefined],
    ['a missing mediaType', noMediaType],
    ['a non-string mediaType', { ...emptyDescriptor, mediaType: 7 }],
    ['a mediaType without a slash', { ...emptyDescriptor, mediaType: 'json' }],
    ['a mediaType with spaces', { ...emptyDescriptor, mediaType: 'application/a b' }],
    ['an empty mediaType', { ...emptyDescriptor, mediaType: '' }],
    ['a mediaType ending in CR LF', { ...emptyDescriptor, mediaType: 'text/plain\r\n' }],
    ['CR LF before a parameter', { ...emptyDescriptor, mediaType: 'text/plain;\r\ncharset=x' }],
    ['a line feed in a quoted parameter', { ...emptyDescriptor, mediaType: 'text/x; a="b\nc"' }],
    ['a no-break space before a parameter', { ...emptyDescriptor, mediaType: 'text/x;\u00a0a=b' }],
    ['a missing digest', noDigest],
    ['a path-traversal digest', { ...emptyDescriptor, digest: 'sha256:../../etc/passwd' }],
    ['an uppercase digest', { ...emptyDescriptor, digest: EMPTY_JSON_DIGEST.toUpperCase() }],
    ['a sha512 digest', { ...emptyDescriptor, digest: `sha512:${'a'.repeat(128)}` }],
    ['a short digest', { ...emptyDescriptor, digest: EMPTY_JSON_DIGEST.slice(0, -1) }],
    ['a missing size', noSize],
    ['a negative size', { ...emptyDescriptor, size: -1 }],
    ['a non-integer size', { ...emptyDescriptor, size: 1.5 }],
    ['a string size', { ...emptyDescriptor, size: '2' }],
    ['a NaN size', { ...emptyDescriptor, size: NaN }],
    ['an infinite size', { ...emptyDescriptor, size: Infinity }],
    ['an unsafe integer size', { ...emptyDescriptor, size: 2 ** 53 }],
    ['urls that are not an array', { ...emptyDescriptor, urls: 'https://x' }],
    ['urls with a non-string', { ...emptyDescriptor, urls: ['https://x', 1] }],
    ['annotations that are not an object', { ...emptyDescriptor, annotations: 'a=b' }],
    ['annotations that are an array', { ...emptyDescriptor, annotations: ['a'] }],
    ['annotations that are null', { ...emptyDescriptor, annotations: null }],
    ['a non-string annotation', { ...emptyDescriptor, annotations: { a: 'b', n: 1 } }],
    ['a null annotation', { ...emptyDescriptor, annotations: { a: null } }],
    ['an invalid artifactType', { ...emptyDescriptor, artifactType: 'nope' }],
    ['a non-string artifactType', { ...emptyDescriptor, artifactType: 1 }],
    ['data that is not a string', { ...emptyDescriptor, data: 123 }],
    ['data that is not base64', { ...emptyDescriptor, data: 'e30=!' }],
    ['base64url data', { ...emptyDescriptor, data: 'e3-_' }],
    ['data not matching the digest', { ...emptyDescriptor, data: 'W10=' }],
    ['data matching the digest but not the size', { ...emptyDescriptor, size: 3, data: 'e30=' }],
    ['data for a different empty blob', { ...emptyDescriptor, data: '' }],
  ])('rejects %s with MANIFEST_INVALID', (_name, value) => {
    const e = expectError(() => parseDescriptor(value, 'layers[3]'), 'MANIFEST_INVALID');
    expect(e.message).toContain('layers[3]');
  });

  it('names where the descriptor is in the error data', () => {
    const e = expectError(
      () => parseDescriptor({ ...emptyDescriptor, size: -1 }, 'config of m'),
      'MANIFEST_INVALID'
    );
    expect(e.data['where']).toBe('config of m');
  });

  it('accepts embedded data exactly when it matches digest and size (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        const data = Buffer.from(bytes).toString('base64');
        const good = {
          mediaType: 'application/octet-stream',
          digest: digestOf(bytes),
          size: bytes.byteLength,
          data,
        };
        expect(parseDescriptor(good, 'x')).toEqual(good);
        expectError(
          () => parseDescriptor({ ...good, size: bytes.byteLength + 1 }, 'x'),
          'MANIFEST_INVALID'
        );
        const other = new Uint8Array([...bytes, 0]);
        expectError(
          () => parseDescriptor({ ...good, digest: digestOf(other) }, 'x'),
          'MANIFEST_INVALID'
        );
      })
    );
  });
});

describe('parseAnnotations', () => {
  it('accepts string-to-string maps', () => {
    expect(parseAnnotations({}, 'm')).toEqual({});
    const a = { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', x: '' };
    expect(parseAnnotations(a, 'm')).toBe(a);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', ['a']],
    ['a string', 'a'],
    ['a number value', { a: 1 }],
    ['a boolean value', { a: true }],
    ['an object value', { a: {} }],
    ['a null value', { a: null }],
  ])('rejects %s with MANIFEST_INVALID', (_name, value) => {
    const e = expectError(
      () => parseAnnotations(value, 'manifest annotations'),
      'MANIFEST_INVALID'
    );
    expect(e.data['where']).toBe('manifest annotations');
  });

  it('accepts any dictionary of strings (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (a) => {
        expect(parseAnnotations(a, 'm')).toBe(a);
      })
    );
  });
});

describe('parseJsonObject', () => {
  it('parses a JSON object', () => {
    expect(parseJsonObject(enc.encode('{"a":[1]}'), 'manifest')).toEqual({ a: [1] });
  });

  it('accepts exactly MAX_MANIFEST_SIZE bytes', () => {
    const text = '{}' + ' '.repeat(MAX_MANIFEST_SIZE - 2);
    expect(parseJsonObject(enc.encode(text), 'manifest')).toEqual({});
  });

  it('rejects one byte over MAX_MANIFEST_SIZE', () => {
    const text = '{}' + ' '.repeat(MAX_MANIFEST_SIZE - 1);
    const e = expectError(() => parseJsonObject(enc.encode(text), 'manifest'), 'MANIFEST_INVALID');
    expect(e.data['size']).toBe(MAX_MANIFEST_SIZE + 1);
  });

  it.each<[string, Uint8Array]>([
    ['empty input', new Uint8Array(0)],
    ['non-JSON', enc.encode('not json')],
    ['truncated JSON', enc.encode('{"a":')],
    ['a JSON array', enc.encode('[]')],
    ['a JSON string', enc.encode('"x"')],
    ['JSON null', enc.encode('null')],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0x7d])],
    [
      'invalid UTF-8 inside a string',
      new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]),
    ],
    [
      'an overlong UTF-8 encoding',
      new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
    ],
    ['a UTF-8 encoded surrogate', new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])],
  ])('rejects %s with MANIFEST_INVALID', (_name, bytes) => {
    expectError(() => parseJsonObject(bytes, 'manifest'), 'MANIFEST_INVALID');
  });
});

describe('isPlainObject', () => {
  it('is true for objects and false for arrays, null and primitives', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject('x')).toBe(false);
    expect(isPlainObject(1)).toBe(false);
    expect(isPlainObject(undefined)).toBe(false);
  });
});
