/**
 * A sweep across machines, end to end: 4 processes run the README's example script
 * (examples/sweep.mjs) with RUNLEDGER_SHARD=i/4, each with its own store, each committing its
 * shard and pushing it to Debian's docker-registry on loopback; then a fresh store pulls the
 * whole project, merges the shards, and finds every config's run exactly once — twice, with the
 * same digest — in an artifact that passes OMMX's loader rules.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { mergeExperiments } from '../../src/experiment/merge.js';
import { grid } from '../../src/experiment/sweep.js';
import { pullProject } from '../../src/remote/pull-project.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';

const SCRIPT = fileURLToPath(new URL('../../examples/sweep.mjs', import.meta.url));
const SHARDS = 4;
/** The example's configs (examples/sweep.mjs). */
const CONFIGS = grid({ lr: [0.1, 0.03, 0.01, 0.003], seed: [1, 2, 3, 4] });

let server: RegistryServer;
beforeAll(async () => {
  requireBuilt();
  server = await startRegistry();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('a sharded sweep through a registry', () => {
  it('4 shard processes push, one store pulls and merges: every config once', async () => {
    const sweep = `${server.host}/team/sweep:grid-1`;
    const outputs = await Promise.all(
      Array.from({ length: SHARDS }, async (_, i) => {
        const home = await tempDir();
        const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT], {
          env: {
            ...process.env,
            RUNLEDGER_HOME: home,
            RUNLEDGER_SWEEP: sweep,
            RUNLEDGER_SHARD: `${i}/${SHARDS}`,
          },
        });
        return stdout;
      })
    );
    expect(outputs.sort()).toEqual(
      Array.from({ length: SHARDS }, (_, i) => `${sweep}-shard-${i}-of-${SHARDS}: 4 trials\n`)
    );

    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const pulled = await pullProject(`${server.host}/team/sweep`, { registry });
    expect(pulled.pulled).toBe(SHARDS);
    const shards = Array.from({ length: SHARDS }, (_, i) => `${sweep}-shard-${i}-of-${SHARDS}`);
    const merged = await mergeExperiments(shards, sweep, { registry });

    // Every config's run exactly once, in config order, with its parameters and its metric.
    expect(merged.runs).toHaveLength(CONFIGS.length);
    for (const run of merged.runs) {
      const info = await run.getInfo();
      expect(info.attributes['sweep.index']).toBe(run.runId);
      const c = CONFIGS[run.runId] as Record<string, number>;
      expect(run.parameters).toEqual({ lr: c['lr'], seed: BigInt(c['seed'] as number) });
      expect((await run.getMetric('loss')).values).toHaveLength(20);
      expect(run.status).toBe('finished');
    }
    expect(merged.annotations['org.runledger.sweep.configs']).toBe(String(CONFIGS.length));
    await validateOmmxExperimentLayout(root, merged.reference);

    // Idempotent: the same shards, in another order, the same digest.
    const again = await mergeExperiments([...shards].reverse(), `${sweep}-again`, { registry });
    expect(again.manifestDigest).toBe(merged.manifestDigest);
    // And it goes back to the registry whole.
    const report = await merged.push();
    expect(report.digest).toBe(merged.manifestDigest);
    const elsewhere = await LocalRegistry.open(await tempDir());
    const back = await Experiment.load(sweep, { registry: elsewhere });
    expect(back.manifestDigest).toBe(merged.manifestDigest);
  }, 120_000);
});
