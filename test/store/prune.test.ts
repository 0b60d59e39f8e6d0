/**
 * Pruning anonymous references (ommx-reference §3.6; OMMX's tests §9.85, 86, 87, 90, 91).
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function store() {
  const registry = await LocalRegistry.open(await tempDir());
  const id8 = (await registry.id()).slice(0, 8);
  const { descriptor } = await writeArtifact(registry, { layers: ['anonymous payload'] });
  const anon = `${id8}.runledger.local/anonymous:20260101T000000-0123456789ab`;
  await registry.publishRef(anon, descriptor);
  await registry.publishRef(`${id8}.runledger.local/anonymous:v1`, descriptor); // not anonymous: tag shape
  await registry.publishRef('ghcr.io/acme/named:v1', descriptor);
  const exp = await Experiment.create(undefined, { registry });
  await exp.run((run) => run.logParameter('x', 1));
  const sealed = await exp.commit();
  return { registry, anon, anonExperiment: sealed.reference, descriptor };
}

describe('LocalRegistry.prune', () => {
  it('reports nothing on an empty store (§9.85)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    expect(await registry.prune()).toEqual({ dryRun: true, refs: [] });
  });

  it('lists anonymous artifacts in a dry run and removes them with delete (§9.86)', async () => {
    const { registry, anon, descriptor } = await store();
    const dry = await registry.prune();
    expect(dry.dryRun).toBe(true);
    expect(dry.refs).toEqual([
      {
        reference: anon,
        kind: 'artifact',
        digest: descriptor.digest,
        updatedAt: expect.any(String),
      },
    ]);
    expect((await registry.listRefs()).map((r) => r.reference)).toContain(anon);
    const real = await registry.prune({ delete: true });
    expect(real.refs.map((r) => r.reference)).toEqual([anon]);
    const left = (await registry.listRefs()).map((r) => r.reference);
    expect(left).not.toContain(anon);
    expect(left).toContain('ghcr.io/acme/named:v1');
    expect(left.some((r) => r.endsWith('/anonymous:v1'))).toBe(true);
  });

  it('includes anonymous experiments only when asked, and filters by age (§9.90)', async () => {
    const { registry, anon, anonExperiment } = await store();
    const all = await registry.prune({ experiments: true });
    expect(all.refs.map((r) => [r.reference, r.kind])).toEqual(
      [
        [anon, 'artifact'],
        [anonExperiment, 'experiment'],
      ].sort(([a], [b]) => (a! < b! ? -1 : 1))
    );
    expect((await registry.prune({ experiments: true, olderThan: '1d' })).refs).toEqual([]);
    const later = Date.now() + 2 * 86_400_000;
    expect(
      (await registry.prune({ experiments: true, olderThan: '1d', now: later })).refs
    ).toHaveLength(2);
    await registry.prune({ delete: true, experiments: true });
    expect((await registry.listRefs()).map((r) => r.reference)).toEqual(
      ['ghcr.io/acme/named:v1', expect.stringMatching(/anonymous:v1$/)].sort()
    );
  });

  it('frees the blobs of pruned references at the next gc (§9.87)', async () => {
    const { registry, anon } = await store();
    await registry.deleteRef('ghcr.io/acme/named:v1');
    await registry.deleteRef(
      (await registry.listRefs()).find((r) => r.reference.endsWith('/anonymous:v1'))!.reference
    );
    await registry.prune({ delete: true });
    const gc = await registry.gc({ delete: true, gracePeriod: 0 });
    // Manifest, config and layer of the anonymous artifact, and the manifest and config of the
    // experiment's draft checkpoint (autosaved at run close, its reference removed by commit).
    expect(gc.deleted.count).toBe(5);
    expect(await registry.listRefs()).not.toContainEqual(
      expect.objectContaining({ reference: anon })
    );
    expect((await registry.fsck()).ok).toBe(true);
  });

  it('refuses an invalid retention duration (§9.91)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await expectCode(registry.prune({ olderThan: 'a week' }), 'ARGUMENT_INVALID');
  });

  it('runledger prune reports and deletes', async () => {
    const { registry, anon } = await store();
    const io = memoryIo();
    expect(await main(['--root', registry.root, 'prune'], io)).toBe(0);
    expect(io.out()).toContain(anon);
    expect(io.out()).toContain('Dry run: 1 reference(s) would be removed');
    const json = memoryIo();
    await main(['--root', registry.root, 'prune', '--delete', '--json'], json);
    expect(JSON.parse(json.out())).toMatchObject({ dry_run: false, refs: [{ reference: anon }] });
  });
});
