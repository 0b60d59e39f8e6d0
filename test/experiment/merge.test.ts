/**
 * `mergeExperiments` and `runledger merge`: a sweep's shards back into one experiment in sweep
 * order, whatever order they come in; payload blobs reused by digest; parents followed; the same
 * inputs give the same digest; OMMX's loader rules hold for the result; bad merges refused.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { mergeExperiments } from '../../src/experiment/merge.js';
import { grid } from '../../src/experiment/sweep.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { memoryIo } from '../helpers/memory-io.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

const CONFIGS = grid({ lr: [0.1, 0.01, 0.001], seed: [1, 2, 3] }); // 9 configs

/** The sweep in `count` shards, each an experiment of this store; returns their references. */
async function shards(registry: LocalRegistry, count: number): Promise<string[]> {
  const refs: string[] = [];
  for (let i = 0; i < count; i++) {
    const exp = await Experiment.create('ghcr.io/acme/sweep:grid-1', {
      registry,
      journal: false,
      handleSignals: false,
    });
    await exp.logText('instance.txt', 'the same instance everywhere');
    await exp.sweep(
      CONFIGS,
      async (run, c) => {
        run.logMetric('loss', Number(c['lr']) * Number(c['seed']));
        await run.logJson('result.json', { lr: c['lr'], seed: c['seed'] });
      },
      { shard: `${i}/${count}`, concurrency: 2 }
    );
    refs.push((await exp.commit()).reference);
  }
  return refs;
}

async function layerDigests(registry: LocalRegistry, reference: string): Promise<string[]> {
  const sealed = await Experiment.load(reference, { registry, pull: false });
  return sealed.manifest.layers.map((l) => l.digest);
}

describe('mergeExperiments', () => {
  it('puts the shards of a sweep back in sweep order, reusing every payload blob', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const refs = await shards(registry, 3);
    expect(refs).toEqual([0, 1, 2].map((i) => `ghcr.io/acme/sweep:grid-1-shard-${i}-of-3`));
    // Given in another order: the same result.
    const merged = await mergeExperiments(
      [refs[2], refs[0], refs[1]] as string[],
      'ghcr.io/acme/sweep:grid-1',
      {
        registry,
      }
    );
    expect(merged.reference).toBe('ghcr.io/acme/sweep:grid-1');
    expect(merged.runs.map((r) => r.runId)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const run of merged.runs) {
      const info = await run.getInfo();
      expect(info.attributes['sweep.index']).toBe(run.runId);
      const c = CONFIGS[run.runId] as Record<string, number>;
      expect(run.parameters).toEqual({ lr: c['lr'], seed: BigInt(c['seed'] as number) });
      expect(await run.getJson('result.json')).toEqual({ lr: c['lr'], seed: c['seed'] });
      expect((await run.getMetric('loss')).values[0]).toBe(Number(c['lr']) * Number(c['seed']));
    }
    expect(merged.attachmentNames).toEqual(['instance.txt']);
    expect(merged.annotations['org.runledger.sweep.configs']).toBe('9');
    expect(merged.annotations['org.runledger.sweep.shard']).toBeUndefined();
    const sources = merged.annotations['org.runledger.merge.sources']?.split(',') ?? [];
    expect(sources.map((s) => s.split('@')[0])).toEqual(refs);
    // Every layer but the config's, the run records' and the run-parameter table's is one of the
    // shards'.
    const shardLayers = new Set(
      (await Promise.all(refs.map((r) => layerDigests(registry, r)))).flat()
    );
    const fresh = merged.manifest.layers.filter((l) => !shardLayers.has(l.digest));
    expect(fresh.map((l) => l.mediaType)).toEqual([
      'application/vnd.runledger.runs.v1+json',
      'application/org.ommx.v1.experiment.run-parameters+msgpack',
    ]);
    await validateOmmxExperimentLayout(root, merged.reference);
    // The same inputs, the same digest.
    const again = await mergeExperiments(refs, 'ghcr.io/acme/sweep:grid-1-again', { registry });
    expect(again.manifestDigest).toBe(merged.manifestDigest);
  }, 60_000);

  it('renumbers studies without a sweep source by source, parents following their runs', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const refs: string[] = [];
    for (const tag of ['a', 'b']) {
      const exp = await Experiment.create(`ghcr.io/acme/m:${tag}`, { registry, journal: false });
      await exp.run(async (parent) => {
        parent.logParameter('who', `${tag}-parent`);
        await parent.child((child) => child.logParameter('who', `${tag}-child`));
      });
      refs.push((await exp.commit()).reference);
    }
    const merged = await mergeExperiments(refs, 'ghcr.io/acme/m:both', { registry });
    const rows = await Promise.all(
      merged.runs.map(async (r) => [r.runId, r.parameters['who'], (await r.getInfo()).parentRunId])
    );
    expect(rows).toEqual([
      [0, 'a-parent', undefined],
      [1, 'a-child', 0],
      [2, 'b-parent', undefined],
      [3, 'b-child', 2],
    ]);
  });

  it('refuses what cannot be merged, and nothing is committed', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const refs = await shards(registry, 2);
    await expectCode(mergeExperiments([], 'ghcr.io/acme/x:y', { registry }), 'ARGUMENT_INVALID');
    await expectCode(
      mergeExperiments([refs[0], refs[0]] as string[], 'ghcr.io/acme/x:y', { registry }),
      'ARGUMENT_INVALID'
    );
    // A shard recorded twice (under another name): config 0 would have two runs.
    await registry.tag(refs[0] as string, 'ghcr.io/acme/sweep:copy');
    const twice = await expectCode(
      mergeExperiments([refs[0], 'ghcr.io/acme/sweep:copy'] as string[], 'ghcr.io/acme/x:y', {
        registry,
      }),
      'ARGUMENT_INVALID'
    );
    expect(twice.message).toMatch(/^Sweep config 0 has a run in /);
    // Experiment attachments of one name and different content.
    const other = await Experiment.create('ghcr.io/acme/sweep:other', { registry, journal: false });
    await other.logText('instance.txt', 'another instance');
    await other.run((run) => run.logParameter('k', 1));
    await other.commit();
    const clash = await expectCode(
      mergeExperiments([refs[0], 'ghcr.io/acme/sweep:other'] as string[], 'ghcr.io/acme/x:y', {
        registry,
      }),
      'ARGUMENT_INVALID'
    );
    expect(clash.message).toContain('"instance.txt"');
    await expectCode(mergeExperiments(refs, refs[0] as string, { registry }), 'REF_CONFLICT');
    expect((await registry.listRefs()).map((r) => r.reference)).not.toContain('ghcr.io/acme/x:y');
  }, 60_000);
});

describe('runledger merge', () => {
  it('merges on the command line and says what it made', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const refs = await shards(registry, 2);
    const io = memoryIo();
    const code = await main(
      ['--root', root, 'merge', ...refs, '--into', 'ghcr.io/acme/sweep:grid-1'],
      io
    );
    expect(code, io.err()).toBe(0);
    const sealed = await Experiment.load('ghcr.io/acme/sweep:grid-1', { registry, pull: false });
    expect(io.out()).toBe(
      `Merged 2 experiments (9 runs) into ghcr.io/acme/sweep:grid-1 ${sealed.manifestDigest}\n`
    );
    const usage = memoryIo();
    expect(await main(['--root', root, 'merge', ...refs], usage)).toBe(2);
    expect(usage.err()).toContain('merge needs --into <ref>');
    // The README's examples exist and name the variables the sweep reads.
    const k8s = await readFile(
      fileURLToPath(new URL('../../examples/kubernetes-indexed-job.yaml', import.meta.url)),
      'utf8'
    );
    expect(k8s).toContain('completionMode: Indexed');
    expect(k8s).toContain('RUNLEDGER_SHARD_COUNT');
    const slurm = await readFile(
      fileURLToPath(new URL('../../examples/slurm-array.sh', import.meta.url)),
      'utf8'
    );
    expect(slurm).toContain('#SBATCH --array=');
  }, 60_000);
});
