/**
 * `.ommx` export and import: determinism, layout of the tar, insert-or-conflict, interop with
 * skopeo and with an archive OMMX wrote, and experiments round-tripping through a file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exportArchive } from '../../src/archive/export.js';
import { importArchive } from '../../src/archive/import.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { inspectExperimentArchive } from '../../src/experiment/inspect.js';
import { digestOf } from '../../src/oci/digest.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { splitTar } from '../helpers/tar.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_SKOPEO, SKOPEO_SKIP_REASON } from '../helpers/tools.js';

const run = promisify(execFile);
const REF = 'ghcr.io/acme/qap:tai20a';
const REF_NAME = 'org.opencontainers.image.ref.name';

async function freshRegistry(): Promise<LocalRegistry> {
  return LocalRegistry.open(join(await tempDir(), 'store'));
}

/** A registry holding one published artifact. */
async function published(layers: readonly (string | Uint8Array)[] = ['one', 'x'.repeat(5000)]) {
  const registry = await freshRegistry();
  const { descriptor, manifest } = await writeArtifact(registry, { layers });
  await registry.publishRef(REF, descriptor);
  return { registry, descriptor, manifest };
}

const hex = (digest: string): string => digest.slice('sha256:'.length);

describe('exportArchive', () => {
  it('gives byte-identical files for the same artifact, exported twice', async () => {
    const { registry } = await published();
    const dir = await tempDir();
    const a = await exportArchive(registry, REF, join(dir, 'a.ommx'));
    const b = await exportArchive(registry, REF, join(dir, 'b.ommx'));
    const bytesA = await readFile(join(dir, 'a.ommx'));
    expect(bytesA.equals(await readFile(join(dir, 'b.ommx')))).toBe(true);
    expect(a.size).toBe(bytesA.byteLength);
    expect(b.size).toBe(a.size);
    expect(bytesA.byteLength % 512).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['a.ommx', 'b.ommx']); // no temp files left
  });

  it('export → import into another registry → export gives the same bytes', async () => {
    const { registry, descriptor } = await published();
    const dir = await tempDir();
    await exportArchive(registry, REF, join(dir, 'first.ommx'));
    const other = await freshRegistry();
    const imported = await importArchive(other, join(dir, 'first.ommx'));
    expect(imported).toEqual({
      reference: REF,
      descriptor: expect.objectContaining({ digest: descriptor.digest, size: descriptor.size }),
      result: 'created',
    });
    await exportArchive(other, REF, join(dir, 'second.ommx'));
    expect(
      (await readFile(join(dir, 'first.ommx'))).equals(await readFile(join(dir, 'second.ommx')))
    ).toBe(true);
    expect((await other.fsck()).ok).toBe(true);
  });

  it('orders entries oci-layout, manifest, config, layers (each blob once), index.json', async () => {
    const { registry, descriptor, manifest } = await published(['first', 'second', 'first']);
    const file = join(await tempDir(), 'a.ommx');
    await exportArchive(registry, REF, file);
    const entries = splitTar(await readFile(file));
    const [l0, l1] = manifest.layers;
    expect(entries.map((e) => e.name)).toEqual([
      'oci-layout',
      `blobs/sha256/${hex(descriptor.digest)}`,
      `blobs/sha256/${hex(manifest.config.digest)}`,
      `blobs/sha256/${hex(l0!.digest)}`,
      `blobs/sha256/${hex(l1!.digest)}`,
      'index.json',
    ]);
    expect(entries.every((e) => e.type === '0')).toBe(true);
    expect(entries[0]!.body.toString()).toBe('{"imageLayoutVersion":"1.0.0"}');
    for (const e of entries.slice(1, -1)) {
      expect(`sha256:${e.name.slice('blobs/sha256/'.length)}`).toBe(digestOf(e.body));
    }
    expect(entries[1]!.body.equals(Buffer.from(await registry.readBlob(descriptor.digest)))).toBe(
      true
    );
  });

  it('writes an index.json with exactly one manifest named by the full reference', async () => {
    const registry = await freshRegistry();
    const { descriptor } = await writeArtifact(registry, { layers: ['a'] });
    await registry.publishRef('acme/qap', descriptor); // short form: docker.io/acme/qap:latest
    const file = join(await tempDir(), 'a.ommx');
    await exportArchive(registry, 'acme/qap:latest', file);
    const entries = splitTar(await readFile(file));
    const index = JSON.parse(entries.at(-1)!.body.toString());
    expect(index).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: descriptor.digest,
          size: descriptor.size,
          artifactType: 'application/vnd.runledger.test.v1',
          annotations: { [REF_NAME]: 'docker.io/acme/qap:latest' },
        },
      ],
    });
    expect((await inspectArchive(file)).reference).toBe('docker.io/acme/qap:latest');
  });

  it('fails with REF_NOT_FOUND for an unknown reference and leaves no file', async () => {
    const { registry } = await published();
    const dir = await tempDir();
    await expectCode(
      exportArchive(registry, 'ghcr.io/acme/missing:1', join(dir, 'a.ommx')),
      'REF_NOT_FOUND'
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses to overwrite without overwrite (FILE_EXISTS), leaving the file and no temp file', async () => {
    const { registry } = await published();
    const dir = await tempDir();
    const file = join(dir, 'a.ommx');
    await writeFile(file, 'precious');
    const err = await expectCode(exportArchive(registry, REF, file), 'FILE_EXISTS');
    expect(err.data['path']).toBe(file);
    expect(await readFile(file, 'utf8')).toBe('precious');
    expect(await readdir(dir)).toEqual(['a.ommx']);
    await exportArchive(registry, REF, file, { overwrite: true });
    expect((await inspectArchive(file)).reference).toBe(REF);
    expect(await readdir(dir)).toEqual(['a.ommx']);
  });
});

describe('SealedExperiment.save', () => {
  it('refuses to overwrite without overwrite (FILE_EXISTS) and leaves no temp file', async () => {
    const registry = await freshRegistry();
    const exp = await Experiment.create('ghcr.io/acme/save:v1', { registry });
    await exp.run((r) => r.logParameter('seed', 1));
    const sealed = await exp.commit();
    const dir = await tempDir();
    const file = join(dir, 'study.ommx');
    const size = await sealed.save(file);
    const first = await readFile(file);
    expect(first.byteLength).toBe(size);
    await expectCode(sealed.save(file), 'FILE_EXISTS');
    expect(await readdir(dir)).toEqual(['study.ommx']);
    expect((await readFile(file)).equals(first)).toBe(true);
    expect(await sealed.save(file, { overwrite: true })).toBe(size);
    expect((await readFile(file)).equals(first)).toBe(true); // deterministic
    expect(await readdir(dir)).toEqual(['study.ommx']);
  });
});

describe('importArchive', () => {
  it('publishes under the reference option instead of the archive name', async () => {
    const { registry, descriptor } = await published();
    const file = join(await tempDir(), 'a.ommx');
    await exportArchive(registry, REF, file);
    const other = await freshRegistry();
    const r = await importArchive(other, file, { reference: 'localhost:5000/copy/qap:v2' });
    expect(r.reference).toBe('localhost:5000/copy/qap:v2');
    expect(r.result).toBe('created');
    expect(r.descriptor.digest).toBe(descriptor.digest);
    expect((await other.listRefs()).map((e) => e.reference)).toEqual([
      'localhost:5000/copy/qap:v2',
    ]);
    // A short name is normalised.
    const short = await importArchive(other, file, { reference: 'acme/qap' });
    expect(short.reference).toBe('docker.io/acme/qap:latest');
    expect((await other.fsck()).ok).toBe(true);
  });

  it('is insert-or-conflict: unchanged when equal, REF_CONFLICT when the name points elsewhere', async () => {
    const { registry, descriptor } = await published();
    const file = join(await tempDir(), 'a.ommx');
    await exportArchive(registry, REF, file);
    const other = await freshRegistry();
    expect((await importArchive(other, file)).result).toBe('created');
    expect((await importArchive(other, file)).result).toBe('unchanged');
    // The name already taken by another artifact.
    const third = await freshRegistry();
    const mine = await writeArtifact(third, { layers: ['mine'] });
    await third.publishRef(REF, mine.descriptor);
    const err = await expectCode(importArchive(third, file), 'REF_CONFLICT');
    expect(JSON.stringify(err.data)).toContain(REF);
    expect((await third.resolve(REF)).digest).toBe(mine.descriptor.digest);
    // …also through the reference option, while another name goes through.
    await expectCode(importArchive(third, file, { reference: REF }), 'REF_CONFLICT');
    const ok = await importArchive(third, file, { reference: 'ghcr.io/acme/qap:other' });
    expect(ok).toMatchObject({ result: 'created', reference: 'ghcr.io/acme/qap:other' });
    expect(ok.descriptor.digest).toBe(descriptor.digest);
    expect((await third.fsck()).ok).toBe(true);
  });

  it('imports an OCI layout directory, picking one image of several by the reference option', async () => {
    const source = await freshRegistry();
    const a = await writeArtifact(source, { layers: ['a'] });
    const b = await writeArtifact(source, { layers: ['b'] });
    await source.publishRef('ghcr.io/acme/a:1', a.descriptor);
    await source.publishRef('ghcr.io/acme/b:1', b.descriptor);
    const target = await freshRegistry();
    const r = await importArchive(target, source.root, { reference: 'ghcr.io/acme/b:1' });
    expect(r).toMatchObject({ reference: 'ghcr.io/acme/b:1', result: 'created' });
    expect(r.descriptor.digest).toBe(b.descriptor.digest);
    expect((await target.listRefs()).map((e) => e.reference)).toEqual(['ghcr.io/acme/b:1']);
    expect((await target.fsck()).ok).toBe(true);
    // Without a choice, a layout of two images is not one artifact.
    await expectCode(importArchive(await freshRegistry(), source.root), 'ARCHIVE_INVALID');
  });

  it('fails with IO_ERROR for a missing path', async () => {
    const registry = await freshRegistry();
    await expectCode(importArchive(registry, join(await tempDir(), 'nope.ommx')), 'IO_ERROR');
  });
});

describe.skipIf(!HAS_SKOPEO)(
  `skopeo interop (${HAS_SKOPEO ? 'skopeo found' : SKOPEO_SKIP_REASON})`,
  () => {
    it('skopeo copy oci-archive:<our export> → oci:<dir> keeps the manifest digest', async () => {
      const { registry, descriptor, manifest } = await published();
      const dir = await tempDir();
      const file = join(dir, 'a.ommx');
      await exportArchive(registry, REF, file);
      const out = join(dir, 'layout');
      await run('skopeo', ['copy', '-q', `oci-archive:${file}:${REF}`, `oci:${out}:${REF}`]);
      const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0].digest).toBe(descriptor.digest);
      expect(index.manifests[0].annotations[REF_NAME]).toBe(REF);
      for (const d of [descriptor, manifest.config, ...manifest.layers]) {
        const bytes = await readFile(join(out, 'blobs', 'sha256', hex(d.digest)));
        expect(Buffer.from(await registry.readBlob(d.digest)).equals(bytes)).toBe(true);
      }
      // And skopeo reads the exact manifest bytes straight from the archive.
      const { stdout } = await run('skopeo', ['inspect', '--raw', `oci-archive:${file}:${REF}`], {
        encoding: 'buffer',
      });
      expect(digestOf(stdout)).toBe(descriptor.digest);
    });

    it('an oci-archive skopeo writes from the registry root imports with the same digest', async () => {
      const { registry, descriptor, manifest } = await published();
      const file = join(await tempDir(), 'skopeo.ommx');
      await run('skopeo', [
        'copy',
        '-q',
        `oci:${registry.root}:${REF}`,
        `oci-archive:${file}:${REF}`,
      ]);
      const target = await freshRegistry();
      const r = await importArchive(target, file);
      expect(r).toMatchObject({ reference: REF, result: 'created' });
      expect(r.descriptor.digest).toBe(descriptor.digest);
      expect(await target.readBlob(manifest.layers[1]!.digest)).toEqual(
        await registry.readBlob(manifest.layers[1]!.digest)
      );
      expect((await target.fsck()).ok).toBe(true);
      const summary = await inspectArchive(file);
      expect(summary.reference).toBe(REF);
      expect(summary.descriptor.digest).toBe(descriptor.digest);
    });

    it('imports an OCI layout directory skopeo wrote (oci:<dir>:<ref>)', async () => {
      const { registry, descriptor } = await published();
      const out = join(await tempDir(), 'layout');
      await run('skopeo', ['copy', '-q', `oci:${registry.root}:${REF}`, `oci:${out}:${REF}`]);
      const target = await freshRegistry();
      const r = await importArchive(target, out);
      expect(r).toMatchObject({ reference: REF, result: 'created' });
      expect(r.descriptor.digest).toBe(descriptor.digest);
      expect((await target.fsck()).ok).toBe(true);
      // The same layout under another name.
      const renamed = await importArchive(target, out, { reference: 'localhost/renamed:1' });
      expect(renamed.descriptor.digest).toBe(descriptor.digest);
    });

    it('an experiment survives skopeo: save → skopeo copy → import', async () => {
      const registry = await freshRegistry();
      const exp = await Experiment.create('ghcr.io/acme/sk:v1', { registry });
      await exp.logJson('dataset', { n: 3 });
      await exp.run((r) => r.logParameter('seed', 1));
      const sealed = await exp.commit();
      const dir = await tempDir();
      await sealed.save(join(dir, 'a.ommx'));
      await run('skopeo', [
        'copy',
        '-q',
        `oci-archive:${join(dir, 'a.ommx')}:ghcr.io/acme/sk:v1`,
        `oci-archive:${join(dir, 'b.ommx')}:ghcr.io/acme/sk:v1`,
      ]);
      const loaded = await Experiment.importArchive(join(dir, 'b.ommx'), {
        registry: await freshRegistry(),
      });
      expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
      expect(await loaded.getJson('dataset')).toEqual({ n: 3 });
    });
  }
);

const OMMX_FIXTURE = fileURLToPath(
  new URL('../../../shared/fixtures/ommx/random_lp_instance.ommx', import.meta.url)
);
const HAS_FIXTURE = existsSync(OMMX_FIXTURE);

describe('an archive OMMX wrote (random_lp_instance.ommx)', () => {
  it.skipIf(!HAS_FIXTURE)(
    `imports, inspects and checks clean (${HAS_FIXTURE ? 'fixture found' : `fixture absent: ${OMMX_FIXTURE}`})`,
    async () => {
      const dir = await tempDir();
      const file = join(dir, 'random_lp_instance.ommx');
      await copyFile(OMMX_FIXTURE, file); // never touch ../shared
      const ref = 'ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91';
      const manifestDigest =
        'sha256:034b093babdefec70aae4371fc10d1a8fae0f00a9de352c940047cc64a7c31f9';

      const summary = await inspectArchive(file);
      expect(summary.reference).toBe(ref);
      expect(summary.manifest.artifactType).toBe('application/org.ommx.v1.artifact');
      expect(summary.descriptor.digest).toBe(manifestDigest);
      expect(summary.manifest.layers.map((l) => l.mediaType)).toEqual([
        'application/org.ommx.v1.instance',
      ]);
      expect(summary.blobs).toBe(3);
      expect(new TextDecoder().decode(summary.config)).toBe('{}');

      const registry = await freshRegistry();
      const r = await importArchive(registry, file);
      expect(r).toMatchObject({ reference: ref, result: 'created' });
      expect(r.descriptor).toMatchObject({
        digest: manifestDigest,
        artifactType: 'application/org.ommx.v1.artifact',
      });
      expect((await registry.resolve(ref)).digest).toBe(manifestDigest);
      expect(await registry.fsck()).toMatchObject({ ok: true, problems: [], refs: 1 });
      expect((await importArchive(registry, file)).result).toBe('unchanged');

      // Round trip: runledger's export of it keeps the digest and imports again.
      await exportArchive(registry, ref, join(dir, 'again.ommx'));
      const again = await freshRegistry();
      expect((await importArchive(again, join(dir, 'again.ommx'))).descriptor.digest).toBe(
        manifestDigest
      );
      const inspected = await inspectExperimentArchive(file);
      expect(inspected.experiment).toBeUndefined(); // an instance artifact, not an experiment
    }
  );
});

describe('experiments through an .ommx file', () => {
  it('commit → save → Experiment.importArchive into a fresh registry keeps everything', async () => {
    const registry = await freshRegistry();
    const exp = await Experiment.create('ghcr.io/acme/round:trip', { registry });
    await exp.logJson('dataset', { name: 'tai20a', n: 20 });
    await exp.logAttachment('blob', 'application/x-custom', new Uint8Array([1, 2, 3]));
    await exp.logText('notes', 'x'.repeat(20_000)); // large enough to span tar blocks
    await exp.run(async (r) => {
      r.logParameter('solver', 'highs');
      r.logParameter('seed', 1);
      await r.logJson('settings', { presolve: true });
    });
    await exp
      .run(async (r) => {
        r.logParameter('seed', 2);
        await r.logText('log', 'héllo');
        throw new Error('diverged');
      })
      .catch(() => undefined);
    const sealed = await exp.commit();
    const dir = await tempDir();
    const file = join(dir, 'study.ommx');
    await sealed.save(file);

    const summary = await inspectExperimentArchive(file);
    expect(summary.reference).toBe('ghcr.io/acme/round:trip');
    expect(summary.descriptor.digest).toBe(sealed.manifestDigest);
    expect(summary.experiment).toEqual({
      status: 'finished',
      runCount: 2,
      solveCount: 0,
      samplingCount: 0,
      attachmentCount: 3,
    });

    const fresh = await freshRegistry();
    const loaded = await Experiment.importArchive(file, { registry: fresh });
    expect(loaded.reference).toBe('ghcr.io/acme/round:trip');
    expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
    expect(loaded.configDigest).toBe(sealed.configDigest);
    expect(loaded.status).toBe('finished');
    expect(loaded.attachmentNames).toEqual(['blob', 'dataset', 'notes']);
    expect(await loaded.getJson('dataset')).toEqual({ name: 'tai20a', n: 20 });
    expect(await loaded.getAttachment('blob')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await loaded.getText('notes')).toBe('x'.repeat(20_000));
    expect(loaded.runs.map((r) => [r.runId, r.status, r.reason])).toEqual([
      [0, 'finished', undefined],
      [1, 'failed', 'Error: diverged'],
    ]);
    expect(loaded.runs[0]!.parameters).toEqual({ solver: 'highs', seed: 1n });
    expect(await loaded.runs[0]!.getJson('settings')).toEqual({ presolve: true });
    expect(await loaded.runs[1]!.getText('log')).toBe('héllo');
    expect((await fresh.fsck()).ok).toBe(true);

    // Under another name, and the saved file of the import is byte-identical.
    const renamed = await Experiment.importArchive(file, {
      registry: fresh,
      reference: 'localhost/renamed:1',
    });
    expect(renamed.reference).toBe('localhost/renamed:1');
    expect(renamed.manifestDigest).toBe(sealed.manifestDigest);
    await loaded.save(join(dir, 'again.ommx'));
    expect((await readFile(join(dir, 'again.ommx'))).equals(await readFile(file))).toBe(true);
  });

  it('Experiment.importArchive refuses an artifact that is not an experiment (EXPERIMENT_INVALID)', async () => {
    const { registry } = await published();
    const file = join(await tempDir(), 'a.ommx');
    await exportArchive(registry, REF, file);
    await expectCode(
      Experiment.importArchive(file, { registry: await freshRegistry() }),
      'EXPERIMENT_INVALID'
    );
    const summary = await inspectExperimentArchive(file);
    expect(summary.experiment).toBeUndefined();
    expect(summary.reference).toBe(REF);
  });

  it('imports the layout directory of another registry holding an experiment', async () => {
    const registry = await freshRegistry();
    const exp = await Experiment.create('ghcr.io/acme/dir:v1', { registry });
    await exp.run((r) => r.logParameter('seed', 7));
    const sealed = await exp.commit();
    const loaded = await Experiment.importArchive(registry.root, {
      registry: await freshRegistry(),
    });
    expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
    expect(loaded.runs[0]!.parameters).toEqual({ seed: 7n });
  });
});
