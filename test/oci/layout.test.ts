import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { digestOf, parseDigest } from '../../src/oci/digest.js';
import {
  blobPath,
  INDEX_FILE,
  OCI_LAYOUT_FILE,
  OCI_LAYOUT_VERSION,
  parseOciLayout,
  serializeOciLayout,
} from '../../src/oci/layout.js';
import { expectError } from '../helpers/expect-code.js';

const enc = new TextEncoder();

describe('layout constants', () => {
  it('name the image-spec files and version', () => {
    expect(OCI_LAYOUT_VERSION).toBe('1.0.0');
    expect(OCI_LAYOUT_FILE).toBe('oci-layout');
    expect(INDEX_FILE).toBe('index.json');
  });
});

describe('serializeOciLayout', () => {
  it('writes exactly {"imageLayoutVersion":"1.0.0"}', () => {
    const bytes = serializeOciLayout();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes).toEqual(enc.encode('{"imageLayoutVersion":"1.0.0"}'));
    expect(bytes.byteLength).toBe(30);
    expect(new TextDecoder().decode(bytes)).toBe('{"imageLayoutVersion":"1.0.0"}');
  });

  it('returns a fresh array each time, so a caller cannot corrupt the next one', () => {
    const a = serializeOciLayout();
    a.fill(0);
    expect(serializeOciLayout()).toEqual(enc.encode('{"imageLayoutVersion":"1.0.0"}'));
  });
});

describe('parseOciLayout', () => {
  it('accepts what serializeOciLayout writes', () => {
    expect(parseOciLayout(serializeOciLayout())).toBeUndefined();
  });

  it.each([
    ['the spaced form skopeo writes', '{"imageLayoutVersion": "1.0.0"}'],
    ['a trailing newline', '{"imageLayoutVersion":"1.0.0"}\n'],
    ['pretty-printed JSON', '{\n  "imageLayoutVersion": "1.0.0"\n}\n'],
    ['a later 1.x version', '{"imageLayoutVersion":"1.1.0"}'],
    ['a multi-digit 1.x version', '{"imageLayoutVersion":"1.10.12"}'],
    ['extra members', '{"imageLayoutVersion":"1.0.0","x":true}'],
  ])('accepts %s', (_name, text) => {
    expect(() => parseOciLayout(enc.encode(text))).not.toThrow();
  });

  it.each([
    ['version 2.0.0', '{"imageLayoutVersion":"2.0.0"}'],
    ['version 0.9.0', '{"imageLayoutVersion":"0.9.0"}'],
    ['version 1.0', '{"imageLayoutVersion":"1.0"}'],
    ['version 1.0.0-rc1', '{"imageLayoutVersion":"1.0.0-rc1"}'],
    ['version 11.0.0', '{"imageLayoutVersion":"11.0.0"}'],
    ['a version with a space', '{"imageLayoutVersion":" 1.0.0"}'],
    ['a version with a trailing newline', '{"imageLayoutVersion":"1.0.0\\n"}'],
    ['a numeric version', '{"imageLayoutVersion":1}'],
    ['a null version', '{"imageLayoutVersion":null}'],
    ['no version', '{}'],
    ['a misspelt key', '{"imageLayoutversion":"1.0.0"}'],
    ['non-JSON', 'imageLayoutVersion=1.0.0'],
    ['truncated JSON', '{"imageLayoutVersion":"1.0.0"'],
    ['empty content', ''],
    ['a JSON array', '["1.0.0"]'],
    ['a JSON string', '"1.0.0"'],
    ['JSON null', 'null'],
  ])('rejects %s with LAYOUT_INVALID', (_name, text) => {
    expectError(() => parseOciLayout(enc.encode(text)), 'LAYOUT_INVALID');
  });

  it('rejects invalid UTF-8 with LAYOUT_INVALID', () => {
    const bytes = new Uint8Array([
      ...enc.encode('{"imageLayoutVersion":"1.0.0","x":"'),
      0xff,
      0x22,
      0x7d,
    ]);
    expectError(() => parseOciLayout(bytes), 'LAYOUT_INVALID');
  });

  it('reports the version it found', () => {
    const e = expectError(
      () => parseOciLayout(enc.encode('{"imageLayoutVersion":"2.0.0"}')),
      'LAYOUT_INVALID'
    );
    expect(e.data['imageLayoutVersion']).toBe('2.0.0');
    expect(e.message).toContain('2.0.0');
  });

  it('keeps the parse error as the cause for non-JSON', () => {
    const e = expectError(() => parseOciLayout(enc.encode('nope')), 'LAYOUT_INVALID');
    expect(e.cause).toBeDefined();
  });
});

describe('blobPath', () => {
  it('is blobs/sha256/<hex>', () => {
    expect(blobPath(digestOf('{}'))).toBe(
      'blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
    );
    expect(blobPath(parseDigest(`sha256:${'0'.repeat(64)}`))).toBe(
      `blobs/sha256/${'0'.repeat(64)}`
    );
  });

  it('always has three plain segments and stays under blobs/ (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), (hex) => {
        const path = blobPath(parseDigest(`sha256:${hex}`));
        expect(path).toBe(`blobs/sha256/${hex}`);
        expect(path.split('/')).toEqual(['blobs', 'sha256', hex]);
        expect(path).not.toContain('..');
      })
    );
  });
});
