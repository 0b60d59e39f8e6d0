import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_MANIFEST_SIZE } from '../../src/oci/descriptor.js';
import { digestOf, parseDigest } from '../../src/oci/digest.js';
import {
  parseManifest,
  parseManifestOrIndex,
  readManifestHeader,
  serializeManifest,
} from '../../src/oci/manifest.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../../src/oci/media-types.js';
import type { Descriptor, Manifest } from '../../src/oci/types.js';
import { expectError } from '../helpers/expect-code.js';
import { reverseKeys } from '../helpers/keys.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

const config: Descriptor = {
  mediaType: MEDIA_TYPE_EMPTY,
  digest: parseDigest('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'),
  size: 2,
};
const layer: Descriptor = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: digestOf('layer'),
  size: 5,
  annotations: { 'org.opencontainers.image.title': 'layer.tar.gz' },
};
const minimal: Manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE_MANIFEST,
  config,
  layers: [],
};
const full: Manifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE_MANIFEST,
  artifactType: 'application/org.ommx.v1.experiment',
  config,
  layers: [layer, { ...config, data: 'e30=' }],
  subject: { mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf('subject'), size: 7 },
  annotations: { 'org.opencontainers.image.created': '2024-05-01T12:00:00Z' },
};

// ---- arbitraries -------------------------------------------------------------------------------

const digestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => parseDigest(`sha256:${h}`));
const mediaTypeArb = fc.constantFrom(
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_MANIFEST,
  'application/vnd.oci.image.layer.v1.tar',
  'application/octet-stream',
  'text/plain; charset=utf-8'
);
const annotationsArb = fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 });
const plainDescriptorArb: fc.Arbitrary<Descriptor> = fc.record(
  {
    mediaType: mediaTypeArb,
    digest: digestArb,
    size: fc.maxSafeNat(),
    urls: fc.array(fc.webUrl(), { maxLength: 2 }),
    annotations: annotationsArb,
    artifactType: mediaTypeArb,
  },
  { requiredKeys: ['mediaType', 'digest', 'size'] }
);
const embeddedDescriptorArb: fc.Arbitrary<Descriptor> = fc
  .tuple(mediaTypeArb, fc.uint8Array({ maxLength: 48 }))
  .map(([mediaType, bytes]) => ({
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    data: Buffer.from(bytes).toString('base64'),
  }));
const descriptorArb = fc.oneof(plainDescriptorArb, embeddedDescriptorArb);
const manifestArb: fc.Arbitrary<Manifest> = fc.record(
  {
    schemaVersion: fc.constant(2 as const),
    mediaType: fc.constantFrom(MEDIA_TYPE_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST),
    artifactType: mediaTypeArb,
    config: descriptorArb,
    layers: fc.array(descriptorArb, { maxLength: 4 }),
    subject: descriptorArb,
    annotations: annotationsArb,
  },
  { requiredKeys: ['schemaVersion', 'mediaType', 'config', 'layers'] }
);

// ---- tests -------------------------------------------------------------------------------------

describe('parseManifest', () => {
  it('parses a minimal manifest', () => {
    expect(parseManifest(json(minimal))).toEqual(minimal);
  });

  it('parses a manifest with every field', () => {
    expect(parseManifest(json(full))).toEqual(full);
  });

  it('defaults an absent mediaType to the OCI manifest type', () => {
    const { mediaType: _omit, ...noMediaType } = minimal;
    expect(parseManifest(json(noMediaType))).toEqual(minimal);
  });

  it('accepts a Docker schema 2 manifest', () => {
    const docker = { ...minimal, mediaType: MEDIA_TYPE_DOCKER_MANIFEST };
    expect(parseManifest(json(docker)).mediaType).toBe(MEDIA_TYPE_DOCKER_MANIFEST);
  });

  it('keeps unknown fields', () => {
    const extra = { ...minimal, 'x-extension': { a: 1 } };
    expect(parseManifest(json(extra))).toEqual(extra);
  });

  it('accepts pretty-printed JSON with keys in any order', () => {
    const pretty = enc.encode(JSON.stringify(reverseKeys(full), null, 2) + '\n');
    expect(parseManifest(pretty)).toEqual(full);
  });

  it('accepts a manifest of exactly MAX_MANIFEST_SIZE bytes', () => {
    const text = JSON.stringify(minimal);
    const padded = enc.encode(text + ' '.repeat(MAX_MANIFEST_SIZE - text.length));
    expect(padded.byteLength).toBe(MAX_MANIFEST_SIZE);
    expect(parseManifest(padded)).toEqual(minimal);
  });

  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [{ mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf('m'), size: 1 }],
  };
  const { mediaType: _i, ...indexWithoutMediaType } = index;
  const { config: _c, ...noConfig } = minimal;
  const { layers: _l, ...noLayers } = minimal;
  const { schemaVersion: _v, ...noSchemaVersion } = minimal;

  it.each<[string, unknown]>([
    ['schemaVersion 1', { ...minimal, schemaVersion: 1 }],
    ['schemaVersion "2"', { ...minimal, schemaVersion: '2' }],
    ['no schemaVersion', noSchemaVersion],
    ['an image index', index],
    ['an image index without mediaType', indexWithoutMediaType],
    [
      'a Docker manifest list',
      { ...index, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' },
    ],
    ['another media type', { ...minimal, mediaType: 'application/json' }],
    ['a malformed media type', { ...minimal, mediaType: 'manifest' }],
    ['a null mediaType', { ...minimal, mediaType: null }],
    ['a numeric mediaType', { ...minimal, mediaType: 2 }],
    ['an invalid artifactType', { ...minimal, artifactType: 'not a media type' }],
    ['a null artifactType', { ...minimal, artifactType: null }],
    ['no config', noConfig],
    ['a null config', { ...minimal, config: null }],
    ['a config with a bad digest', { ...minimal, config: { ...config, digest: 'sha256:../../x' } }],
    [
      'a config with an uppercase digest',
      { ...minimal, config: { ...config, digest: config.digest.toUpperCase() } },
    ],
    ['a config with a negative size', { ...minimal, config: { ...config, size: -2 } }],
    ['a config with a non-integer size', { ...minimal, config: { ...config, size: 2.5 } }],
    ['a config with a bad mediaType', { ...minimal, config: { ...config, mediaType: 'empty' } }],
    [
      'a config with data not matching its digest',
      { ...minimal, config: { ...config, data: 'W10=' } },
    ],
    ['no layers', noLayers],
    ['layers that are an object', { ...minimal, layers: { 0: layer } }],
    ['a null layer', { ...minimal, layers: [layer, null] }],
    ['a layer with a bad digest', { ...minimal, layers: [{ ...layer, digest: 'sha256:abc' }] }],
    [
      'a layer with a sha512 digest',
      { ...minimal, layers: [{ ...layer, digest: `sha512:${'a'.repeat(128)}` }] },
    ],
    ['a layer with a negative size', { ...minimal, layers: [{ ...layer, size: -1 }] }],
    ['a layer with a non-integer size', { ...minimal, layers: [{ ...layer, size: 0.5 }] }],
    [
      'a layer with a non-string annotation',
      { ...minimal, layers: [{ ...layer, annotations: { a: 1 } }] },
    ],
    [
      'a layer with data not matching its digest',
      { ...minimal, layers: [{ ...layer, data: 'bGF5ZXJ4' }] },
    ],
    ['a malformed subject', { ...minimal, subject: { ...config, digest: 'x' } }],
    ['a null subject', { ...minimal, subject: null }],
    ['non-string annotations', { ...minimal, annotations: { a: 'b', c: 3 } }],
    ['array annotations', { ...minimal, annotations: ['a'] }],
    ['null annotations', { ...minimal, annotations: null }],
  ])('rejects %s with MANIFEST_INVALID', (_name, value) => {
    expectError(() => parseManifest(json(value)), 'MANIFEST_INVALID');
  });

  it.each<[string, Uint8Array]>([
    ['empty bytes', new Uint8Array(0)],
    ['non-JSON', enc.encode('schemaVersion: 2')],
    ['a JSON array', json([minimal])],
    ['a JSON string', json('manifest')],
    ['JSON null', enc.encode('null')],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0xfd])],
    [
      'invalid UTF-8 inside a string',
      new Uint8Array([
        ...enc.encode('{"schemaVersion":2,"annotations":{"a":"'),
        0xc3,
        ...enc.encode('"}}'),
      ]),
    ],
  ])('rejects %s with MANIFEST_INVALID', (_name, bytes) => {
    expectError(() => parseManifest(bytes), 'MANIFEST_INVALID');
  });

  it('rejects a manifest over MAX_MANIFEST_SIZE even if it is valid JSON', () => {
    const text = JSON.stringify(minimal);
    const padded = enc.encode(text + ' '.repeat(MAX_MANIFEST_SIZE + 1 - text.length));
    const e = expectError(() => parseManifest(padded), 'MANIFEST_INVALID');
    expect(e.data['size']).toBe(MAX_MANIFEST_SIZE + 1);
  });

  it('rejects a manifest whose layers have a bad digest at any position (property)', () => {
    fc.assert(
      fc.property(fc.array(descriptorArb, { maxLength: 4 }), fc.nat(), (layers, at) => {
        const bad = [...layers];
        bad.splice(at % (layers.length + 1), 0, { ...layer, digest: 'sha256:../../x' as never });
        expectError(() => parseManifest(json({ ...minimal, layers: bad })), 'MANIFEST_INVALID');
      })
    );
  });
});

describe('serializeManifest', () => {
  it('writes canonical JSON: sorted keys, compact', () => {
    expect(dec.decode(serializeManifest(minimal))).toBe(
      '{"config":{"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",' +
        '"mediaType":"application/vnd.oci.empty.v1+json","size":2},"layers":[],' +
        '"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}'
    );
  });

  it('round-trips through parseManifest', () => {
    expect(parseManifest(serializeManifest(full))).toEqual(full);
  });

  it('is a fixed point of parse then serialize (property)', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const bytes = serializeManifest(m);
        const again = serializeManifest(parseManifest(bytes));
        expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
        expect(parseManifest(bytes)).toEqual(m);
      })
    );
  });

  it('does not depend on key insertion order (property)', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const reversed = reverseKeys(m) as Manifest;
        expect(Object.keys(reversed)).toEqual(Object.keys(m).reverse());
        const a = serializeManifest(m);
        const b = serializeManifest(reversed);
        expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
        expect(digestOf(b)).toBe(digestOf(a));
      })
    );
  });

  it('writes the same bytes as parsing pretty-printed JSON with other key orders (property)', () => {
    fc.assert(
      fc.property(manifestArb, (m) => {
        const pretty = enc.encode(JSON.stringify(reverseKeys(m), null, 3));
        expect(dec.decode(serializeManifest(parseManifest(pretty)))).toBe(
          dec.decode(serializeManifest(m))
        );
      })
    );
  });
});

describe('parseManifestOrIndex', () => {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_IMAGE_INDEX,
    manifests: [{ mediaType: MEDIA_TYPE_MANIFEST, digest: digestOf('m'), size: 3 }],
  };

  it('reads an image manifest (OCI or Docker) with parseManifest', () => {
    expect(parseManifestOrIndex(json(full), MEDIA_TYPE_MANIFEST)).toEqual({
      kind: 'manifest',
      manifest: parseManifest(json(full)),
    });
    const docker = { ...minimal, mediaType: MEDIA_TYPE_DOCKER_MANIFEST };
    expect(parseManifestOrIndex(json(docker), MEDIA_TYPE_DOCKER_MANIFEST)).toEqual({
      kind: 'manifest',
      manifest: docker,
    });
  });

  it('reads an OCI index or a Docker manifest list with parseImageIndex', () => {
    expect(parseManifestOrIndex(json(index), MEDIA_TYPE_IMAGE_INDEX)).toEqual({
      kind: 'index',
      index,
    });
    const list = { ...index, mediaType: MEDIA_TYPE_DOCKER_MANIFEST_LIST };
    expect(parseManifestOrIndex(json(list), MEDIA_TYPE_DOCKER_MANIFEST_LIST)).toEqual({
      kind: 'index',
      index: list,
    });
  });

  it('goes by the descriptor: bytes of the other kind are MANIFEST_INVALID', () => {
    const e = expectError(
      () => parseManifestOrIndex(json(index), MEDIA_TYPE_MANIFEST),
      'MANIFEST_INVALID'
    );
    expect(e.message).toMatch(/is an image index, not an image manifest/);
    expectError(() => parseManifestOrIndex(json(full), MEDIA_TYPE_IMAGE_INDEX), 'MANIFEST_INVALID');
    expectError(
      () => parseManifestOrIndex(enc.encode('{'), MEDIA_TYPE_MANIFEST),
      'MANIFEST_INVALID'
    );
  });
});

describe('readManifestHeader', () => {
  it('reads mediaType and artifactType of a manifest or an index', () => {
    expect(readManifestHeader(json(full))).toEqual({
      mediaType: MEDIA_TYPE_MANIFEST,
      artifactType: 'application/org.ommx.v1.experiment',
    });
    expect(
      readManifestHeader(json({ schemaVersion: 2, mediaType: MEDIA_TYPE_IMAGE_INDEX }))
    ).toEqual({
      mediaType: MEDIA_TYPE_IMAGE_INDEX,
      artifactType: undefined,
    });
  });

  it('validates nothing else: any JSON object is read, fields that are not strings are absent', () => {
    const schema1 = { schemaVersion: 1, name: 'acme/x', fsLayers: [] };
    expect(readManifestHeader(json(schema1))).toEqual({
      mediaType: undefined,
      artifactType: undefined,
    });
    expect(readManifestHeader(json({ mediaType: 7, artifactType: ['a'] }))).toEqual({
      mediaType: undefined,
      artifactType: undefined,
    });
  });

  it.each([
    ['an array', json([])],
    ['a string', json('manifest')],
    ['null', json(null)],
    ['broken JSON', enc.encode('{"mediaType":')],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['over the size limit', new Uint8Array(MAX_MANIFEST_SIZE + 1).fill(0x20)],
  ])('rejects %s with MANIFEST_INVALID', (_name, bytes) => {
    expectError(() => readManifestHeader(bytes), 'MANIFEST_INVALID');
  });
});
