/**
 * Ctrl-C during a solve, with a real child process running the built package
 * (test/solve/sigint-child.mjs): the solve runs in a worker thread, so SIGINT is handled at once;
 * the solve is stopped and recorded as interrupted, the interrupted checkpoint holds every closed
 * run and the interrupted one, and the process ends with 130 well before the solve would have.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { listExperimentCheckpoints } from '../../src/experiment/checkpoint.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

const CHILD = fileURLToPath(new URL('../solve/sigint-child.mjs', import.meta.url));
const NAME = 'ghcr.io/acme/sigint-solve:v1';

beforeAll(() => requireBuilt());

describe('SIGINT during a solve (child process)', () => {
  it('stops the solve, checkpoints every closed run and the interrupted one, and exits 130 at once', async () => {
    const root = await tempDir();
    const child = startNode([CHILD, DIST_INDEX, NAME], { RUNLEDGER_HOME: root });
    const guard = setTimeout(() => child.kill('SIGKILL'), 50_000);
    try {
      await child.waitFor('solving');
      expect(child.lines()).toEqual(['closed 0', 'closed 1', 'closed 2', 'solving']);
      // Let the long MIP get going in its worker thread.
      await new Promise((r) => setTimeout(r, 700));
      const signalledAt = performance.now();
      child.kill('SIGINT');
      const { code, signal, stderr, stdout } = await child.exited;
      const took = performance.now() - signalledAt;
      expect(stderr).toBe('');
      expect([code, signal]).toEqual([130, null]);
      expect(stdout).not.toContain('returned');
      // HiGHS needs minutes for this MIP; on the main thread the signal would wait for it.
      expect(took).toBeLessThan(5000);
    } finally {
      clearTimeout(guard);
    }

    const registry = await LocalRegistry.open(root);
    const [cp, ...more] = await listExperimentCheckpoints({ registry });
    expect(more).toEqual([]);
    expect([cp!.requestedImageName, cp!.status, cp!.reason, cp!.runCount]).toEqual([
      NAME,
      'interrupted',
      'SIGINT',
      4,
    ]);
    const exp = await Experiment.restoreFromCheckpoint(NAME, {
      registry,
      handleSignals: false,
      journal: false,
    });
    const names = await Promise.all(exp.runs.map(async (r) => (await r.getInfo()).name));
    expect(exp.runs.map((r, i) => [r.runId, names[i], r.status, r.reason, r.parameters])).toEqual([
      [0, 'closed-0', 'finished', undefined, { seed: 0n }],
      [1, 'closed-1', 'finished', undefined, { seed: 1n }],
      [2, 'closed-2', 'finished', undefined, { seed: 2n }],
      [3, 'long', 'interrupted', 'SIGINT', { seed: 99n }],
    ]);
    for (const run of exp.runs.slice(0, 3)) {
      expect(run.solves.map((s) => s.status)).toEqual(['finished']);
      expect((await run.getMetric('objective')).values.length).toBe(1);
    }
    const [long] = exp.runs[3]!.solves;
    expect(long?.status).toBe('interrupted');
    expect(long?.outputDescriptor).toBeUndefined();
    const ran = Date.parse(long!.endedAt!) - Date.parse(long!.startedAt!);
    expect(ran).toBeGreaterThanOrEqual(500);
    expect(ran).toBeLessThan(5000);
    expect((await long!.getInput()).decisionVariables.length).toBe(38);
    expect((await registry.fsck()).ok).toBe(true);
  });
});
