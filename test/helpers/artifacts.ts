/**
 * Builds small real artifacts in a LocalRegistry for tests.
 */
import { LocalRegistry } from '../../src/store/local-registry.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import type { Descriptor, Manifest } from '../../src/oci/types.js';

const enc = new TextEncoder();

/** Writes config + layers + manifest (durably, in one batch) and returns the manifest descriptor. */
export async function writeArtifact(
  registry: LocalRegistry,
  options: { layers?: readonly (string | Uint8Array)[]; config?: string; subject?: Descriptor } = {}
): Promise<{ descriptor: Descriptor; manifest: Manifest }> {
  const batch = registry.batch();
  const configBytes = enc.encode(options.config ?? '{"kind":"test"}');
  const config = await batch.putBlob(configBytes);
  const layers: Descriptor[] = [];
  for (const [i, l] of (options.layers ?? ['layer-0']).entries()) {
    const bytes = typeof l === 'string' ? enc.encode(l) : l;
    const info = await batch.putBlob(bytes);
    layers.push({
      mediaType: 'application/octet-stream',
      digest: info.digest,
      size: info.size,
      annotations: { 'org.opencontainers.image.title': `layer-${i}` },
    });
  }
  await batch.commit();
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    artifactType: 'application/vnd.runledger.test.v1',
    config: { mediaType: 'application/vnd.runledger.test.config.v1+json', ...config },
    layers,
    ...(options.subject === undefined ? {} : { subject: options.subject }),
  };
  const descriptor = await registry.writeManifest(manifest);
  return { descriptor, manifest };
}
