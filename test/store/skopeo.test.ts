/**
 * Interop with skopeo, an independent OCI client, over the local registry's image layout.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/oci/digest.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_SKOPEO, SKOPEO_SKIP_REASON } from '../helpers/tools.js';

const run = promisify(execFile);

describe.skipIf(!HAS_SKOPEO)(
  `skopeo interop (${HAS_SKOPEO ? 'skopeo found' : SKOPEO_SKIP_REASON})`,
  () => {
    it('skopeo inspect --raw returns the exact manifest of a published ref', async () => {
      const registry = await LocalRegistry.open(await tempDir());
      const { descriptor } = await writeArtifact(registry, { layers: ['one', 'two'] });
      for (const ref of ['ghcr.io/acme/qap:tai20a', 'localhost:5000/team/study:v1']) {
        await registry.publishRef(ref, descriptor);
        const { stdout } = await run(
          'skopeo',
          ['inspect', '--raw', `oci:${registry.root}:${ref}`],
          {
            encoding: 'buffer',
          }
        );
        expect(digestOf(stdout)).toBe(descriptor.digest);
        expect(
          Buffer.from(stdout).equals(Buffer.from(await registry.readBlob(descriptor.digest)))
        ).toBe(true);
      }
    });

    it('skopeo copy to another layout keeps the digest, and runledger reads that layout', async () => {
      const registry = await LocalRegistry.open(await tempDir());
      const { descriptor, manifest } = await writeArtifact(registry, {
        layers: ['x'.repeat(10_000)],
      });
      const ref = 'ghcr.io/acme/qap:tai20a';
      await registry.publishRef(ref, descriptor);
      const other = join(await tempDir(), 'copy');
      await run('skopeo', ['copy', '-q', `oci:${registry.root}:${ref}`, `oci:${other}:${ref}`]);
      const index = JSON.parse(await readFile(join(other, 'index.json'), 'utf8'));
      expect(index.manifests[0].digest).toBe(descriptor.digest);

      const copy = await LocalRegistry.open(other);
      expect((await copy.resolve(ref)).digest).toBe(descriptor.digest);
      expect(await copy.readBlob(manifest.layers[0]!.digest)).toEqual(
        await registry.readBlob(manifest.layers[0]!.digest)
      );
      expect((await copy.fsck()).ok).toBe(true);
    });

    it('an artifact skopeo copies into the store is a normal reference', async () => {
      const source = await LocalRegistry.open(await tempDir());
      const { descriptor } = await writeArtifact(source, { layers: ['from elsewhere'] });
      await source.publishRef('ghcr.io/acme/in:1', descriptor);
      const registry = await LocalRegistry.open(await tempDir());
      const mine = await writeArtifact(registry, { layers: ['mine'] });
      await registry.publishRef('ghcr.io/acme/mine:1', mine.descriptor);
      await run('skopeo', [
        'copy',
        '-q',
        `oci:${source.root}:ghcr.io/acme/in:1`,
        `oci:${registry.root}:ghcr.io/acme/in:1`,
      ]);
      expect((await registry.listRefs()).map((r) => r.reference)).toEqual([
        'ghcr.io/acme/in:1',
        'ghcr.io/acme/mine:1',
      ]);
      expect((await registry.resolve('ghcr.io/acme/in:1')).digest).toBe(descriptor.digest);
      expect((await registry.fsck()).ok).toBe(true);
    });
  }
);
