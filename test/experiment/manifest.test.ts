/**
 * Manifests written in proportion to what changed (experiment/manifest): the bytes assembled from
 * parts serialized once are those `serializeManifest` / `serializeExperimentConfig` give, across
 * checkpoints and runs closing out of id order; and an experiment whose manifest would pass the
 * 4 MiB a manifest may have says so when a run starts (or closes), never at commit, with
 * everything closed before still checkpointed and committable.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRunledgerError } from '../../src/errors.js';
import { listExperimentCheckpoints } from '../../src/experiment/checkpoint.js';
import { parseExperimentConfig, serializeExperimentConfig } from '../../src/experiment/config.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { assembleManifest, manifestBaseBytes } from '../../src/experiment/manifest.js';
import { ParameterTable } from '../../src/experiment/parameters.js';
import type { ClosedRunState } from '../../src/experiment/run.js';
import type { ExperimentSeed } from '../../src/experiment/sealed.js';
import { canonicalJson, type JsonValue } from '../../src/oci/canonical-json.js';
import { MAX_MANIFEST_SIZE } from '../../src/oci/descriptor.js';
import { parseManifest, serializeManifest } from '../../src/oci/manifest.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import type { Descriptor, Manifest } from '../../src/oci/types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { tempDir } from '../helpers/temp.js';

const NAME = 'ghcr.io/acme/manifest:v1';
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const text = fc.string({ unit: 'binary', maxLength: 12 });
const descriptor: fc.Arbitrary<Descriptor> = fc.record(
  {
    mediaType: fc.constantFrom('application/json', 'text/plain; charset=utf-8', 'a/b+zstd'),
    digest: hex64.map((h) => `sha256:${h}` as Descriptor['digest']),
    size: fc.nat(),
    annotations: fc.dictionary(text, text, { maxKeys: 2 }),
  },
  { requiredKeys: ['mediaType', 'digest', 'size'] }
);

describe('assembleManifest', () => {
  it('gives the bytes serializeManifest gives, whatever the annotations say (property)', () => {
    fc.assert(
      fc.property(
        descriptor,
        fc.array(descriptor, { maxLength: 6 }),
        fc.option(descriptor, { nil: undefined }),
        // Annotation values that spell the member the layers are spliced into.
        fc.dictionary(
          fc.oneof(text, fc.constant('layers')),
          fc.oneof(text, fc.constant('"layers":[]'))
        ),
        (config, layers, subject, annotations) => {
          const manifest: Manifest = {
            schemaVersion: 2,
            mediaType: MEDIA_TYPE_MANIFEST,
            artifactType: 'application/org.ommx.v1.experiment',
            config,
            layers,
            ...(subject === undefined ? {} : { subject }),
            ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
          };
          // In pieces, as checkpoints join them: one layer, several, none.
          const texts = layers.map((l) => canonicalJson(l as unknown as JsonValue));
          const pieces = [texts.slice(0, 1).join(','), '', texts.slice(1).join(',')];
          expect(Buffer.from(assembleManifest(manifest, pieces)).toString()).toBe(
            Buffer.from(serializeManifest(manifest)).toString()
          );
        }
      ),
      { numRuns: 300 }
    );
  });
});

/** The committed manifest and config are the canonical serializations of what they parse to. */
async function expectCanonical(registry: LocalRegistry, digest: string): Promise<void> {
  const { manifest, bytes } = await registry.readManifest(digest);
  const parsed = parseManifest(bytes); // not the one this process remembers: the bytes
  expect(Buffer.from(serializeManifest(parsed)).equals(Buffer.from(bytes))).toBe(true);
  expect(parsed).toEqual(JSON.parse(JSON.stringify(manifest)));
  const configBytes = await registry.readBlob(parsed.config.digest);
  const config = parseExperimentConfig(configBytes, parsed.layers, { allowDraft: true });
  expect(Buffer.from(serializeExperimentConfig(config)).equals(Buffer.from(configBytes))).toBe(
    true
  );
}

describe('manifests written from parts', () => {
  it('checkpoints while runs close out of id order, and an experiment attachment shifts every run: the same digest as the study committed once', async () => {
    const record = async (checkpoints: boolean): Promise<string> => {
      const registry = await LocalRegistry.open(await tempDir());
      const exp = await Experiment.create(NAME, {
        registry,
        reproducible: true,
        handleSignals: false,
        journal: false,
      });
      const runs = Array.from({ length: 12 }, (_, i) => exp.startRun({ name: `r${i}` }));
      // Closed in a scrambled order, a checkpoint after some closes.
      for (const i of [3, 0, 1, 7, 2, 11, 4, 5, 10, 6, 9, 8]) {
        const run = runs[i]!;
        run.logParameter('i', i);
        await run.logJson('result', { i });
        if (i % 3 === 0) await run.logText('log', `run ${i}`);
        await run.finish();
        if (checkpoints && i % 2 === 0) {
          const cp = await exp.checkpoint();
          await expectCanonical(registry, cp.descriptor.digest);
        }
        if (i === 1) await exp.logJson('dataset', { n: 12 }); // every run's layers move by one
      }
      const sealed = await exp.commit();
      await expectCanonical(registry, sealed.manifestDigest);
      return sealed.manifestDigest;
    };
    expect(await record(true)).toBe(await record(false));
  });
});

/** A seed of `count` finished runs, each with one small attachment (the same blob). */
async function seedOf(registry: LocalRegistry, count: number): Promise<ExperimentSeed> {
  const blob = await registry.putBlob(new TextEncoder().encode('{"x":1}'));
  const descriptor: Descriptor = { mediaType: 'application/json', ...blob, annotations: {} };
  const runs: ClosedRunState[] = Array.from({ length: count }, (_, runId) => ({
    runId,
    status: 'finished',
    reason: undefined,
    attachments: new Map([
      ['x', { name: 'x', descriptor, mediaType: 'application/json', compression: 'none' }],
    ]),
    solves: [],
    samplings: [],
  }));
  return {
    attachments: [],
    runs,
    parameters: new ParameterTable(),
    runNames: [],
    annotations: {},
    subject: undefined,
  };
}

/** Bytes one such run takes in the manifest: its layer's canonical JSON and a comma. */
function runBytes(registry: LocalRegistry, seed: ExperimentSeed): number {
  void registry;
  const d = [...seed.runs[0]!.attachments.values()][0]!.descriptor;
  return canonicalJson(d as unknown as JsonValue).length + 1;
}

describe('the manifest size limit', () => {
  it('refuses a run that could take the manifest past 4 MiB when it starts, saying what to do; every closed run is checkpointed and commits', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const probe = await seedOf(registry, 1);
    const base = manifestBaseBytes({}, undefined, new Map());
    const count = Math.floor((MAX_MANIFEST_SIZE - base - 2_000) / runBytes(registry, probe));
    const exp = await Experiment.fromSeed(NAME, await seedOf(registry, count), registry);
    let caught: unknown;
    try {
      exp.startRun();
    } catch (e) {
      caught = e;
    }
    expect(isRunledgerError(caught, 'MANIFEST_INVALID')).toBe(true);
    const err = caught as { message: string; data: Record<string, unknown> };
    expect(err.data['reason']).toBe('too-large');
    expect(err.data['runs']).toBe(count);
    expect(err.message).toContain(NAME);
    expect(err.message).toMatch(/another experiment/);
    expect(err.message).toMatch(/shard/);
    let called = false;
    await expect(exp.run(() => void (called = true))).rejects.toThrow(/4\.00 MiB/);
    expect(called).toBe(false);
    expect(exp.openRuns).toEqual([]);
    // Nothing recorded is lost: the checkpoint holds every closed run, and it commits.
    const cp = await exp.checkpoint();
    expect(cp.runCount).toBe(count);
    const sealed = await exp.commit();
    expect(sealed.runs.length).toBe(count);
    expect(sealed.descriptor.size).toBeLessThanOrEqual(MAX_MANIFEST_SIZE);
  }, 60_000);

  it('a run far larger than any before it that closes past the limit is kept, and says so; the checkpoint is refused before anything is written', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const probe = await seedOf(registry, 1);
    const one = runBytes(registry, probe);
    const base = manifestBaseBytes({}, undefined, new Map());
    // Room for the start check (the largest run so far, and 64 KiB more), not for 1,000 layers.
    const count = Math.floor((MAX_MANIFEST_SIZE - base - 100_000) / one);
    const exp = await Experiment.fromSeed(NAME, await seedOf(registry, count), registry);
    const before = await exp.checkpoint();
    expect(before.runCount).toBe(count);
    const run = exp.startRun({ name: 'huge' });
    for (let i = 0; i < 1_000; i++) await run.logText(`part-${i}`, `part ${i}`);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    let caught: unknown;
    try {
      await run.finish();
    } catch (e) {
      caught = e;
    }
    expect(isRunledgerError(caught, 'MANIFEST_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(`run ${count}`);
    expect((await warned).message).toMatch(/autosave .* failed: Experiment .* cannot take/);
    // Kept: the run is closed and listed.
    expect(run.closed).toBe(true);
    expect(exp.runs.length).toBe(count + 1);
    await expect(exp.checkpoint()).rejects.toThrow(/cannot take its \d+ closed runs/);
    await expect(exp.commit()).rejects.toThrow(/cannot take its \d+ closed runs/);
    const [cp] = await listExperimentCheckpoints({ registry });
    expect(cp?.manifestDigest).toBe(before.descriptor.digest);
    expect(cp?.runCount).toBe(count);
  }, 120_000);
});
