/**
 * Stepped metrics (runledger.metrics) and the run of the current async context.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { currentRun, lastRun } from '../../src/experiment/context.js';
import { currentExperiment, Experiment } from '../../src/experiment/experiment.js';
import {
  decodeMetrics,
  MEDIA_TYPE_METRICS,
  MetricLog,
  metricSeries,
} from '../../src/experiment/metrics.js';
import { encodeMsgpack } from '../../src/formats/msgpack.js';
import type { Run } from '../../src/experiment/run.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectError } from '../helpers/expect-code.js';
import { validateOmmxExperimentLayout } from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

async function newExperiment(ref = 'ghcr.io/acme/metrics:v1') {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  return { root, registry, exp: await Experiment.create(ref, { registry }) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('logMetric', () => {
  it('stores each metric’s steps, timestamps and values (auto steps from 0), readable after commit', async () => {
    const { exp, root } = await newExperiment();
    await exp.run((run) => {
      for (const loss of [0.9, 0.5, 0.25]) run.logMetric('loss', loss);
      run.logMetric('gap', Number.NaN, { step: 10, timestamp: 1_000 });
      run.logMetric('gap', Infinity, { step: 20, timestamp: 2_000 });
      run.logMetric('gap', -0, { timestamp: 3_000 }); // auto: one more than the last step
      run.logMetrics({ lr: 0.1, momentum: 0.9 }, { step: 5 });
    });
    await exp.run(() => undefined); // a run without metrics has no metrics attachment
    const sealed = await exp.commit();
    const run = sealed.runs[0]!;
    expect(await run.metricNames()).toEqual(['loss', 'gap', 'lr', 'momentum']);
    const loss = await run.getMetric('loss');
    expect([...loss.steps]).toEqual([0, 1, 2]);
    expect([...loss.values]).toEqual([0.9, 0.5, 0.25]);
    expect(loss.timestamps.every((t) => t > 1.7e12)).toBe(true);
    const gap = await sealed.runMetrics(0, 'gap');
    expect([...gap.steps]).toEqual([10, 20, 21]);
    expect([...gap.timestamps]).toEqual([1000, 2000, 3000]);
    expect(Number.isNaN(gap.values[0])).toBe(true);
    expect(gap.values[1]).toBe(Infinity);
    expect(Object.is(gap.values[2], -0)).toBe(true);
    expect([...(await run.getMetric('lr')).steps]).toEqual([5]);
    expect((await run.getMetric('never')).values.length).toBe(0);
    expect(await sealed.runs[1]!.metricNames()).toEqual([]);
    expect(sealed.runs[1]!.attachmentNames).toEqual([]);
    // runledger's own attachments are left out of attachmentNames, but readable by name.
    expect(run.attachmentNames).toEqual([]);
    expect(run.records.has('runledger.metrics')).toBe(true);
    expect(run.attachmentMediaType('runledger.metrics')).toBe(MEDIA_TYPE_METRICS);
    expect(() => sealed.runMetrics(7, 'loss')).toThrow(/has no run 7/);
    // An ordinary attachment to OMMX readers: the artifact passes OMMX's loader rules.
    await validateOmmxExperimentLayout(root, sealed.reference);
  });

  it('refuses bad names, values, steps and timestamps; a bad logMetrics entry logs nothing', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    expectError(() => run.logMetric('', 1), 'METRIC_INVALID');
    expectError(() => run.logMetric('a\u0001b', 1), 'METRIC_INVALID');
    expectError(() => run.logMetric('x'.repeat(257), 1), 'METRIC_INVALID');
    expectError(() => run.logMetric('ok', true as never), 'METRIC_INVALID');
    expectError(() => run.logMetric('ok', 1n as never), 'METRIC_INVALID');
    expectError(() => run.logMetric('ok', 1, { step: -1 }), 'METRIC_INVALID');
    expectError(() => run.logMetric('ok', 1, { step: 1.5 }), 'METRIC_INVALID');
    expectError(() => run.logMetric('ok', 1, { timestamp: Number.NaN }), 'METRIC_INVALID');
    expectError(() => run.logMetrics({ a: 1, b: 'x' as never }), 'METRIC_INVALID');
    expectError(() => run.logMetrics(null as never), 'METRIC_INVALID');
    run.logMetric('ok', 2);
    await run.finish();
    expectError(() => run.logMetric('ok', 3), 'RUN_CLOSED');
    const sealed = await exp.commit();
    expect(await sealed.runs[0]!.metricNames()).toEqual(['ok']);
    expect([...(await sealed.runs[0]!.getMetric('ok')).values]).toEqual([2]);
  });

  it('a rejected logMetric changes nothing: no metric name, no empty runs-table column, auto steps go on', async () => {
    const { exp } = await newExperiment();
    await exp.run((run) => {
      run.logMetric('kept', 1);
      expectError(() => run.logMetric('bad_value', 'x' as never), 'METRIC_INVALID');
      expectError(() => run.logMetric('bad_step', 1, { step: -1 }), 'METRIC_INVALID');
      expectError(() => run.logMetric('bad_time', 1, { timestamp: -5 }), 'METRIC_INVALID');
      expectError(() => run.logMetric('kept', 1, { step: 1.5 }), 'METRIC_INVALID');
      run.logMetric('kept', 2);
    });
    await exp.run((run) => {
      expectError(() => run.logMetric('only_bad', true as never), 'METRIC_INVALID');
    });
    const sealed = await exp.commit();
    expect(await sealed.runs[0]!.metricNames()).toEqual(['kept']);
    expect([...(await sealed.runs[0]!.getMetric('kept')).steps]).toEqual([0, 1]);
    // A run whose every metric was refused has no metrics at all.
    expect(await sealed.runs[1]!.metricNames()).toEqual([]);
    expect(sealed.runs[1]!.records.has('runledger.metrics')).toBe(false);
    const columns = (await sealed.runsDf()).schema.fields.map((f) => f.name);
    expect(columns.filter((c) => c.startsWith('metrics.'))).toEqual(['metrics.kept']);
  });

  it('in a reproducible experiment a default timestamp is 0, so the same study recorded twice has one digest', async () => {
    async function study(clock: string) {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date(clock));
        const registry = await LocalRegistry.open(await tempDir());
        const exp = await Experiment.create('ghcr.io/acme/metrics:repro', {
          registry,
          reproducible: true,
          handleSignals: false,
          journal: false,
        });
        await exp.run((run) => {
          for (const loss of [0.9, 0.5]) run.logMetric('loss', loss);
          run.logMetrics({ lr: 0.1, momentum: 0.9 }, { step: 3 });
          run.logMetric('explicit', 1, { timestamp: 1234 }); // given times are kept
        });
        return await exp.commit();
      } finally {
        vi.useRealTimers();
      }
    }
    const a = await study('2001-02-03T04:05:06Z');
    const b = await study('2037-12-31T23:59:59Z');
    expect(b.manifestDigest).toBe(a.manifestDigest);
    const run = a.runs[0]!;
    expect([...(await run.getMetric('loss')).timestamps]).toEqual([0, 0]);
    expect([...(await run.getMetric('momentum')).timestamps]).toEqual([0]);
    expect([...(await run.getMetric('explicit')).timestamps]).toEqual([1234]);
  });

  it('round-trips any series through the stored form (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.constantFrom('a', 'b', 'é/loss', 'c.d'),
            value: fc.double(),
            step: fc.option(fc.nat({ max: 1e9 }), { nil: undefined }),
            timestamp: fc.nat({ max: 4e12 }),
          }),
          { maxLength: 3000 }
        ),
        (points) => {
          const log = new MetricLog();
          for (const p of points) {
            log.log(
              p.name,
              p.value,
              p.step === undefined
                ? { timestamp: p.timestamp }
                : { step: p.step, timestamp: p.timestamp }
            );
          }
          const table = decodeMetrics(log.encode());
          for (const name of new Set(points.map((p) => p.name))) {
            const mine = points.filter((p) => p.name === name);
            const s = metricSeries(table, name);
            expect(s.values.length).toBe(mine.length);
            mine.forEach((p, i) => {
              expect(Object.is(s.values[i], p.value)).toBe(true);
              expect(s.timestamps[i]).toBe(p.timestamp);
              if (p.step !== undefined) expect(s.steps[i]).toBe(p.step);
            });
          }
        }
      ),
      { numRuns: 50 }
    );
  });

  it('decodeMetrics refuses what is not a metrics table', () => {
    expectError(() => decodeMetrics(Uint8Array.of(0xc1)), 'PAYLOAD_INVALID');
    const ok = new MetricLog();
    ok.log('a', 1, { step: 0, timestamp: 0 });
    const table = decodeMetrics(ok.encode());
    const bad = (patch: Record<string, unknown>): Uint8Array =>
      encodeMsgpack({
        name: new Uint8Array(table.nameIds.buffer),
        names: table.names,
        step: new Uint8Array(table.steps.buffer),
        timestamp: new Uint8Array(table.timestamps.buffer),
        value: new Uint8Array(table.values.buffer),
        version: 1,
        ...patch,
      });
    expect(decodeMetrics(bad({})).names).toEqual(['a']);
    expectError(() => decodeMetrics(bad({ version: 2 })), 'PAYLOAD_INVALID');
    expectError(() => decodeMetrics(bad({ names: [] })), 'PAYLOAD_INVALID');
    expectError(() => decodeMetrics(bad({ value: new Uint8Array(7) })), 'PAYLOAD_INVALID');
    expectError(() => decodeMetrics(bad({ step: new Uint8Array(16) })), 'PAYLOAD_INVALID');
  });
});

describe('currentRun()', () => {
  it('20 runs in parallel each see their own run: 100 parameters and metrics each, no cross-talk', async () => {
    const { exp } = await newExperiment();
    const seen = new Set<Run>();
    await Promise.all(
      Array.from({ length: 20 }, (_, trial) =>
        exp.run(async (run) => {
          for (let i = 0; i < 100; i++) {
            await tick(); // interleave with the other 19 runs
            const current = currentRun();
            expect(current).toBe(run);
            expect(currentExperiment()).toBe(exp);
            current!.logParameter(`p${i}`, trial * 1000 + i);
            current!.logMetric('trial', trial, { step: i });
          }
          seen.add(run);
        })
      )
    );
    expect(seen.size).toBe(20);
    const sealed = await exp.commit();
    expect(sealed.runs).toHaveLength(20);
    for (const run of sealed.runs) {
      const trial = Number(run.parameters['p0']) / 1000;
      for (let i = 0; i < 100; i++) expect(run.parameters[`p${i}`]).toBe(BigInt(trial * 1000 + i));
      const series = await run.getMetric('trial');
      expect([...series.values]).toEqual(new Array(100).fill(trial));
      expect([...series.steps]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
  });

  it('is undefined outside a run, follows nesting, and lastRun() gives the run closed last', async () => {
    const { exp } = await newExperiment();
    expect(currentRun()).toBeUndefined();
    expect(currentExperiment()).toBeUndefined();
    let outerRun: Run | undefined;
    let innerRun: Run | undefined;
    await exp.run(async (outer) => {
      outerRun = outer;
      await exp.run(async (inner) => {
        innerRun = inner;
        expect(currentRun()).toBe(inner);
        expect(lastRun()).toBe(inner);
      });
      expect(currentRun()).toBe(outer);
      expect(lastRun()).toBe(outer); // the current run wins
      // Work started inside a run keeps it, even when it finishes later.
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          expect(currentRun()).toBe(outer);
          resolve();
        }, 5)
      );
    });
    expect(currentRun()).toBeUndefined();
    expect(lastRun()).toBe(outerRun);
    expect(innerRun?.runId).toBe(1);
  });

  it('a failed run is still the last run', async () => {
    const { exp } = await newExperiment();
    let failed: Run | undefined;
    const error = await exp
      .run((run) => {
        failed = run;
        throw new Error('x');
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('x');
    expect(lastRun()).toBe(failed);
  });
});
