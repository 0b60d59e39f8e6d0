/**
 * `runledger merge` killed (SIGINT, SIGTERM, SIGKILL) at random moments, `gc --delete --grace 0s`
 * beside it: the merged reference is either absent or a whole experiment, the shards are
 * untouched, the store passes fsck, and the merge run again gives the one digest. Bounded: 6
 * rounds.
 */
import { describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { mergeExperiments } from '../../src/experiment/merge.js';
import { grid } from '../../src/experiment/sweep.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN, startNode } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGKILL'];

describe('runledger merge killed at random moments, gc beside it', () => {
  it('publishes a whole experiment or nothing, and never harms a shard', async () => {
    requireBuilt();
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    const shards: string[] = [];
    // Runs with parents, so the merge also writes rewritten run records.
    for (let i = 0; i < 3; i++) {
      const exp = await Experiment.create('t.local/kill/merge:s', {
        registry,
        journal: false,
        handleSignals: false,
      });
      await exp.sweep(
        grid({ k: Array.from({ length: 60 }, (_, j) => j) }),
        async (run, c) => {
          run.logMetric('loss', Number(c['k']));
          await run.child((child) => child.logParameter('inner', Number(c['k'])));
        },
        { shard: `${i}/3`, concurrency: 4 }
      );
      shards.push((await exp.commit()).reference);
    }
    const before = await Promise.all(shards.map(async (s) => (await registry.resolve(s)).digest));
    const expected = await mergeExperiments(shards, 't.local/kill/merge:expected', { registry });
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      const into = `t.local/kill/merge:r${round}`;
      const gc = startNode([CLI_BIN, '--root', root, 'gc', '--delete', '--grace', '0s']);
      const child = startNode([CLI_BIN, '--root', root, 'merge', ...shards, '--into', into]);
      const timer = setTimeout(
        () => child.kill(SIGNALS[round % SIGNALS.length] as NodeJS.Signals),
        150 + ((round * 337) % 1400)
      );
      const exit = await child.exited;
      clearTimeout(timer);
      expect((await gc.exited).code).toBe(0);
      outcomes.push(exit.signal ?? `exit ${exit.code}`);
      const published = (await registry.listRefs()).some((r) => r.reference === into);
      if (published) {
        // Whole: it loads, and it is the merge.
        const sealed = await Experiment.load(into, { registry, pull: false });
        expect(sealed.manifestDigest).toBe(expected.manifestDigest);
      } else {
        expect(exit.code).not.toBe(0);
      }
    }
    process.stderr.write(`merge kill rounds: ${outcomes.join(', ')}\n`);
    expect(outcomes.some((o) => o !== 'exit 0')).toBe(true);
    expect(await Promise.all(shards.map(async (s) => (await registry.resolve(s)).digest))).toEqual(
      before
    );
    expect((await registry.fsck()).ok).toBe(true);
    const again = await mergeExperiments(shards, 't.local/kill/merge:after', { registry });
    expect(again.manifestDigest).toBe(expected.manifestDigest);
    const merged = await Experiment.load('t.local/kill/merge:after', { registry, pull: false });
    expect(merged.runs).toHaveLength(120);
  }, 180_000);
});
