import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_MANIFEST_SIZE } from '../../src/oci/descriptor.js';
import { digestOf, parseDigest } from '../../src/oci/digest.js';
import { parseImageIndex, serializeImageIndex } from '../../src/oci/image-index.js';
import {
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/media-types.js';
import type { Descriptor, ImageIndex } from '../../src/oci/types.js';
import { expectError } from '../helpers/expect-code.js';
import { reverseKeys } from '../helpers/keys.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

const HEX = 'c0ffee'.repeat(10) + 'beef';
const manifestDescriptor: Descriptor = {
  mediaType: MEDIA_TYPE_MANIFEST,
  digest: parseDigest(`sha256:${HEX}`),
  size: 1234,
  annotations: { [ANNOTATION_REF_NAME]: 'ghcr.io/acme/qap:tai20a' },
};
const index: ImageIndex = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE_IMAGE_INDEX,
  manifests: [manifestDescriptor],
};

/** An `index.json` in the shape skopeo writes: compact, no top-level mediaType. */
const skopeoIndexJson =
  `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
  `"digest":"sha256:${HEX}","size":1234,` +
  `"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}`;

// ---- arbitraries -------------------------------------------------------------------------------

const digestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => parseDigest(`sha256:${h}`));
const mediaTypeArb = fc.constantFrom(
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_EMPTY,
  'application/vnd.example+json; version=1'
);
const annotationsArb = fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 });
const descriptorArb: fc.Arbitrary<Descriptor> = fc.oneof(
  fc.record(
    {
      mediaType: mediaTypeArb,
      digest: digestArb,
      size: fc.maxSafeNat(),
      urls: fc.array(fc.webUrl(), { maxLength: 2 }),
      annotations: annotationsArb,
      artifactType: mediaTypeArb,
    },
    { requiredKeys: ['mediaType', 'digest', 'size'] }
  ),
  fc.tuple(mediaTypeArb, fc.uint8Array({ maxLength: 48 })).map(([mediaType, bytes]) => ({
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    data: Buffer.from(bytes).toString('base64'),
  }))
);
const indexArb: fc.Arbitrary<ImageIndex> = fc.record(
  {
    schemaVersion: fc.constant(2 as const),
    mediaType: fc.constantFrom(MEDIA_TYPE_IMAGE_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST),
    artifactType: mediaTypeArb,
    manifests: fc.array(descriptorArb, { maxLength: 5 }),
    subject: descriptorArb,
    annotations: annotationsArb,
  },
  { requiredKeys: ['schemaVersion', 'manifests'] }
);

// ---- tests -------------------------------------------------------------------------------------

describe('parseImageIndex', () => {
  it('parses an index with its mediaType', () => {
    expect(parseImageIndex(json(index))).toEqual(index);
  });

  it('parses an index without mediaType, as skopeo writes it, and does not add one', () => {
    const parsed = parseImageIndex(enc.encode(skopeoIndexJson));
    expect(parsed.mediaType).toBeUndefined();
    expect('mediaType' in parsed).toBe(false);
    expect(parsed.schemaVersion).toBe(2);
    expect(parsed.manifests).toHaveLength(1);
    expect(parsed.manifests[0]?.digest).toBe(`sha256:${HEX}`);
    expect(parsed.manifests[0]?.annotations?.[ANNOTATION_REF_NAME]).toBe('latest');
  });

  it('parses an empty index', () => {
    const empty = { schemaVersion: 2, manifests: [] };
    expect(parseImageIndex(json(empty))).toEqual(empty);
  });

  it('accepts a Docker manifest list', () => {
    const list = { ...index, mediaType: MEDIA_TYPE_DOCKER_MANIFEST_LIST };
    expect(parseImageIndex(json(list))).toEqual(list);
  });

  it('accepts every optional field and keeps unknown ones', () => {
    const full = {
      ...index,
      artifactType: 'application/vnd.example+json',
      subject: { mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf('s'), size: 1 },
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
      manifests: [
        manifestDescriptor,
        { mediaType: MEDIA_TYPE_EMPTY, digest: digestOf('{}'), size: 2, data: 'e30=' },
        { ...manifestDescriptor, platform: { architecture: 'amd64', os: 'linux' } },
      ],
      'x-unknown': [1, 2],
    };
    expect(parseImageIndex(json(full))).toEqual(full);
  });

  it('accepts an index of exactly MAX_MANIFEST_SIZE bytes', () => {
    const text = JSON.stringify(index);
    const padded = enc.encode(text + '\n'.repeat(MAX_MANIFEST_SIZE - text.length));
    expect(parseImageIndex(padded)).toEqual(index);
  });

  const { manifests: _m, ...noManifests } = index;
  const { schemaVersion: _v, ...noSchemaVersion } = index;
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_EMPTY, digest: digestOf('{}'), size: 2 },
    layers: [],
  };
  const { mediaType: _mt, ...manifestWithoutMediaType } = manifest;

  it.each<[string, unknown]>([
    ['schemaVersion 1', { ...index, schemaVersion: 1 }],
    ['no schemaVersion', noSchemaVersion],
    ['an image manifest', manifest],
    ['an image manifest without mediaType', manifestWithoutMediaType],
    ['a Docker manifest mediaType', { ...index, mediaType: MEDIA_TYPE_DOCKER_MANIFEST }],
    ['another media type', { ...index, mediaType: 'application/json' }],
    ['a null mediaType', { ...index, mediaType: null }],
    ['an invalid artifactType', { ...index, artifactType: 'not a media type' }],
    ['a numeric artifactType', { ...index, artifactType: 42 }],
    ['no manifests', noManifests],
    ['manifests that are an object', { ...index, manifests: { 0: manifestDescriptor } }],
    ['a null manifest', { ...index, manifests: [null] }],
    [
      'a manifest with a bad digest',
      { ...index, manifests: [{ ...manifestDescriptor, digest: 'sha256:../../x' }] },
    ],
    [
      'a manifest with an uppercase digest',
      { ...index, manifests: [{ ...manifestDescriptor, digest: `sha256:${HEX.toUpperCase()}` }] },
    ],
    [
      'a manifest with a negative size',
      { ...index, manifests: [{ ...manifestDescriptor, size: -1 }] },
    ],
    [
      'a manifest with a non-integer size',
      { ...index, manifests: [{ ...manifestDescriptor, size: 1.25 }] },
    ],
    [
      'a manifest without mediaType',
      { ...index, manifests: [{ digest: manifestDescriptor.digest, size: 1 }] },
    ],
    [
      'a manifest with non-string annotations',
      { ...index, manifests: [{ ...manifestDescriptor, annotations: { a: false } }] },
    ],
    [
      'a manifest with data not matching its digest',
      { ...index, manifests: [{ ...manifestDescriptor, data: 'e30=' }] },
    ],
    ['a malformed subject', { ...index, subject: { mediaType: MEDIA_TYPE_MANIFEST, size: 1 } }],
    ['non-string annotations', { ...index, annotations: { a: 1 } }],
    ['array annotations', { ...index, annotations: [] }],
  ])('rejects %s with MANIFEST_INVALID', (_name, value) => {
    expectError(() => parseImageIndex(json(value)), 'MANIFEST_INVALID');
  });

  it.each<[string, Uint8Array]>([
    ['empty bytes', new Uint8Array(0)],
    ['non-JSON', enc.encode('{schemaVersion:2}')],
    ['a JSON array', json([index])],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x80, 0x7d])],
    [
      'invalid UTF-8 inside a string',
      new Uint8Array([
        ...enc.encode('{"schemaVersion":2,"manifests":[],"x":"'),
        0xe2,
        0x82,
        ...enc.encode('"}'),
      ]),
    ],
  ])('rejects %s with MANIFEST_INVALID', (_name, bytes) => {
    expectError(() => parseImageIndex(bytes), 'MANIFEST_INVALID');
  });

  it('rejects an index over MAX_MANIFEST_SIZE even if it is valid JSON', () => {
    const text = JSON.stringify(index);
    const padded = enc.encode(text + ' '.repeat(MAX_MANIFEST_SIZE + 1 - text.length));
    const e = expectError(() => parseImageIndex(padded), 'MANIFEST_INVALID');
    expect(e.data['size']).toBe(MAX_MANIFEST_SIZE + 1);
  });
});

describe('serializeImageIndex', () => {
  it('writes canonical JSON: sorted keys, compact', () => {
    expect(dec.decode(serializeImageIndex(index))).toBe(
      `{"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"ghcr.io/acme/qap:tai20a"},` +
        `"digest":"sha256:${HEX}","mediaType":"application/vnd.oci.image.manifest.v1+json",` +
        `"size":1234}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}`
    );
  });

  it('writes an index without mediaType without one', () => {
    expect(dec.decode(serializeImageIndex({ schemaVersion: 2, manifests: [] }))).toBe(
      '{"manifests":[],"schemaVersion":2}'
    );
  });

  it('canonicalises a skopeo index.json', () => {
    const bytes = serializeImageIndex(parseImageIndex(enc.encode(skopeoIndexJson)));
    expect(dec.decode(bytes)).toBe(
      `{"manifests":[{"annotations":{"org.opencontainers.image.ref.name":"latest"},` +
        `"digest":"sha256:${HEX}","mediaType":"application/vnd.oci.image.manifest.v1+json",` +
        `"size":1234}],"schemaVersion":2}`
    );
  });

  it('is a fixed point of parse then serialize (property)', () => {
    fc.assert(
      fc.property(indexArb, (i) => {
        const bytes = serializeImageIndex(i);
        const again = serializeImageIndex(parseImageIndex(bytes));
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
        expect(parseImageIndex(bytes)).toEqual(i);
      })
    );
  });

  it('does not depend on key insertion order (property)', () => {
    fc.assert(
      fc.property(indexArb, (i) => {
        const a = serializeImageIndex(i);
        const b = serializeImageIndex(reverseKeys(i) as ImageIndex);
        expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
      })
    );
  });
});
