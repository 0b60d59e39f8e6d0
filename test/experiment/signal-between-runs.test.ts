/**
 * SIGINT / SIGTERM sent to a process that opens and closes runs thousands of times a second: the
 * signal is never lost. Node drops a signal that libuv caught for a listener removed before the
 * event loop dispatched it, so listeners that came and went with every run (as they did) let a
 * signal sent right as a run closed vanish: the process went on recording, deaf to it.
 */
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

beforeAll(() => requireBuilt());

/** Runs with one parameter each, as fast as they go, with the default durability. */
const CHILD = `
  const { Experiment, LocalRegistry } = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
  const registry = await LocalRegistry.open(process.env.STORE);
  const exp = await Experiment.create('localhost/signals/exp:v1', { registry });
  process.on('unhandledRejection', (e) => {
    if (e?.code !== 'RUN_CLOSED' && e?.code !== 'EXPERIMENT_FAILED') throw e;
  });
  console.log('ready');
  for (let i = 0; ; i++) {
    await exp.run((run) => run.logParameter('i', i));
    if (i === 300) console.log('running');
  }
`;

/** A small deterministic generator. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('a signal sent while runs open and close in a tight loop', () => {
  it('ends the process every time (handled, or by the default action)', async () => {
    const random = lcg(20261206);
    const store = await tempDir();
    for (let i = 0; i < 10; i++) {
      const kill = i % 2 === 0 ? 'SIGTERM' : 'SIGINT';
      const child = startNode(['--input-type=module', '-e', CHILD], { STORE: store });
      await child.waitFor('running');
      await new Promise((r) => setTimeout(r, Math.floor(random() * 300)));
      child.kill(kill);
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        child.exited,
        new Promise<'deaf'>((resolve) => {
          timer = setTimeout(() => resolve('deaf'), 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (result === 'deaf') {
        child.kill('SIGKILL');
        await child.exited;
      }
      expect(result, `kill ${i} (${kill})`).not.toBe('deaf');
      if (result === 'deaf') return;
      expect(result.stderr, `kill ${i}`).toBe('');
      if (result.signal === null) expect(result.code).toBe(kill === 'SIGINT' ? 130 : 143);
      else expect(result.signal).toBe(kill);
    }
  }, 300_000);
});
