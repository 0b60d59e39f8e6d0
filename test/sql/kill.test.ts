/**
 * The SQL cache's write path under fire: `runledger sql` processes building the views' Parquet
 * files from cold, killed with SIGINT, SIGTERM or SIGKILL at random moments while `gc --delete
 * --grace 0s` runs beside them. Afterwards the store is whole (fsck), lists the same
 * experiments, every cached file matches the hash in its name, and a query gives the answer
 * computed through the API. Bounded: 8 rounds.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { listExperiments } from '../../src/experiment/list.js';
import { query } from '../../src/sql/query.js';
import { checkDerivedFile } from '../../src/store/derived.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN, startNode } from '../helpers/child.js';
import { tempDir } from '../helpers/temp.js';

const ROUNDS = 8;
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGKILL'];
const SQL =
  "select m.experiment, m.run_id, sum(m.value) as s, max(p.number) as k from metrics m join params p using (experiment, run_id) where p.name = 'k' group by all order by all";

beforeAll(() => requireBuilt());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether any sql-* cache directory has a file (whole or being written). */
async function anyFile(derived: string): Promise<boolean> {
  for (const d of await readdir(derived).catch(() => [] as string[])) {
    if (d.startsWith('sql-') && (await readdir(join(derived, d)).catch(() => [])).length > 0) {
      return true;
    }
  }
  return false;
}

/** A deterministic random sequence (the rounds are the same on every machine). */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return x / 2 ** 32;
  };
}

describe('runledger sql killed while it builds its cache, gc beside it', () => {
  it('leaves a whole store and cache, and the next query answers right', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    for (let e = 0; e < 12; e++) {
      const exp = await Experiment.create(`t.local/kill/sql:e${e}`, {
        registry,
        journal: false,
        handleSignals: false,
      });
      for (let r = 0; r < 20; r++) {
        await exp.run((run) => {
          run.logParams({ k: e * 100 + r, lr: 1 / (r + 1) });
          for (let s = 0; s < 5; s++) run.logMetric('loss', e + r + s / 10, { step: s });
        });
      }
      await exp.commit();
    }
    const listed = (await listExperiments({ registry })).map((e) => e.imageName);
    // The answer, through the API.
    const expected: [string, number, number, number][] = [];
    for (const name of listed) {
      const sealed = await Experiment.load(name, { registry, pull: false });
      for (const run of sealed.runs) {
        const loss = await run.getMetric('loss');
        expected.push([
          name,
          run.runId,
          [...loss.values].reduce((a, b) => a + b, 0),
          Number(run.parameters['k']),
        ]);
      }
    }
    expected.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));

    const derived = join(root, '.runledger', 'derived');
    const next = random(16);
    const outcomes: string[] = [];
    let midway = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Cold every round: each child builds the files the kill may interrupt.
      for (const d of await readdir(derived).catch(() => [] as string[])) {
        if (d.startsWith('sql-')) await rm(join(derived, d), { recursive: true, force: true });
      }
      const gc = startNode([CLI_BIN, '--root', root, 'gc', '--delete', '--grace', '0s']);
      const child = startNode([CLI_BIN, '--root', root, '--json', 'sql', SQL]);
      const signal = SIGNALS[round % SIGNALS.length] as NodeJS.Signals;
      // The kill clock starts when the first file of the cache appears (not at spawn: process
      // start and DuckDB's load would take most of the delay on a busy machine).
      let done = false;
      const exited = child.exited.then((x) => {
        done = true;
        return x;
      });
      while (!done && !(await anyFile(derived))) await sleep(5);
      const timer = setTimeout(() => child.kill(signal), Math.floor(next() * 250));
      const exit = await exited;
      clearTimeout(timer);
      const gcExit = await gc.exited;
      expect(gcExit.code, gcExit.stderr).toBe(0);
      outcomes.push(exit.signal ?? `exit ${exit.code}`);
      // Did the kill land while files were being built (some there, not all)?
      const built = (
        await Promise.all(
          ['sql-metrics', 'sql-params'].map((d) =>
            readdir(join(derived, d)).catch(() => [] as string[])
          )
        )
      ).flat();
      if (built.length > 0 && built.filter((f) => f.endsWith('.parquet')).length < 24) midway++;
      if (exit.code === 0) {
        // It finished before the kill: its answer must be the right one.
        expect(JSON.parse(exit.stdout).length).toBe(expected.length);
      } else if (exit.signal === null) {
        // SIGINT/SIGTERM are handled: a one-line error, no stack trace.
        expect(exit.stderr).not.toMatch(/\n\s+at /);
      }
    }
    // Some rounds must have been cut short, or the test proved nothing.
    process.stderr.write(`sql kill rounds: ${outcomes.join(', ')}; ${midway} mid-build\n`);
    expect(outcomes.filter((o) => o !== 'exit 0').length).toBeGreaterThan(0);
    expect(midway).toBeGreaterThan(0);

    expect((await listExperiments({ registry })).map((e) => e.imageName)).toEqual(listed);
    expect((await registry.fsck()).ok).toBe(true);
    for (const d of await readdir(derived)) {
      if (!d.startsWith('sql-')) continue;
      for (const f of await readdir(join(derived, d))) {
        if (f.endsWith('.parquet')) expect(await checkDerivedFile(join(derived, d, f))).toBe(true);
      }
    }
    const got = (await query(SQL, { registry })).toArray().map((r) => {
      const o = r.toJSON() as { experiment: string; run_id: bigint; s: number; k: number };
      return [o.experiment, Number(o.run_id), o.s, o.k];
    });
    expect(got.length).toBe(expected.length);
    got.forEach((row, i) => {
      const want = expected[i] as [string, number, number, number];
      expect(row[0]).toBe(want[0]);
      expect(row[1]).toBe(want[1]);
      expect(row[2]).toBeCloseTo(want[2], 9);
      expect(row[3]).toBe(want[3]);
    });
  }, 180_000);
});
