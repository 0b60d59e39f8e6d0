/**
 * Run traces (`storeTrace`): OpenTelemetry spans per run stored as the run's OMMX trace layer
 * (ommx-reference §2.3–2.4, §5.2–5.4, §9.16–22), read back with runledger's reader and with the
 * official OTLP schema (the protobufjs decoder OpenTelemetry generated from
 * opentelemetry-proto, shipped in @opentelemetry/otlp-transformer 0.215), and carried byte for
 * byte through forks, checkpoints and the crash journal. Real OpenTelemetry packages, no mocks.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as otel from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  StackContextManager,
} from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { AutosavePolicy } from '../../src/experiment/checkpoint.js';
import { MEDIA_TYPE_TRACE } from '../../src/experiment/config.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { journalDir } from '../../src/experiment/journal-format.js';
import type { SealedExperiment, SealedRun } from '../../src/experiment/sealed.js';
import { openTracing, TRACE_SCOPE } from '../../src/experiment/trace.js';
import { decodeTraceSpans, type RunTraceSpan } from '../../src/experiment/trace-spans.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import type { SolverAdapter } from '../../src/solve/adapter.js';
import { expectCode } from '../helpers/expect-code.js';
import { failingAdapter, fixedStateAdapter, knapsack, statesSampler } from '../helpers/ommx.js';
import {
  OCI_IMAGE_MANIFEST,
  OCI_REF_NAME,
  OmmxRuleError,
  OMMX_EXPERIMENT,
  OMMX_EXPERIMENT_CONFIG,
  OMMX_RUN_PARAMETERS,
  OMMX_TRACE,
  validateOmmxExperimentLayout,
} from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';

const REF = 'ghcr.io/acme/traces:v1';
const BEST = { 0: 0, 1: 1, 2: 1 };

/** OpenTelemetry's own decoder of `ExportTraceServiceRequest`, generated from the official .proto. */
interface OtlpRequest {
  resourceSpans: {
    scopeSpans: {
      scope?: { name: string };
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes: { key: string; value: Record<string, unknown> }[];
        status?: { code?: number; message?: string };
      }[];
    }[];
  }[];
}
function decodeOfficially(bytes: Uint8Array): OtlpRequest {
  const root = createRequire(import.meta.url)(
    'otlp-transformer-protobufjs/build/src/generated/root.js'
  ) as {
    opentelemetry: {
      proto: {
        collector: {
          trace: {
            v1: {
              ExportTraceServiceRequest: {
                decode(b: Uint8Array): unknown;
                toObject(m: unknown, o: object): OtlpRequest;
              };
            };
          };
        };
      };
    };
  };
  const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  return Request.toObject(Request.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
    arrays: true,
  });
}

const hexOf = (base64: string | undefined): string | undefined =>
  base64 === undefined || base64 === '' ? undefined : Buffer.from(base64, 'base64').toString('hex');

/** The one span named `name`. */
function only(spans: readonly RunTraceSpan[], name: string): RunTraceSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
}

async function traced(
  options: { storeTrace?: boolean; ref?: string } = {}
): Promise<{ root: string; registry: LocalRegistry; exp: Experiment }> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const exp = await Experiment.create(options.ref ?? REF, {
    registry,
    handleSignals: false,
    storeTrace: options.storeTrace ?? true,
  });
  return { root, registry, exp };
}

/**
 * The study most tests read: run 0 solves, samples, opens a solve it decodes and one it never
 * decodes; run 1 fails in its adapter.
 */
async function study(): Promise<{ root: string; sealed: SealedExperiment }> {
  const { root, exp } = await traced();
  const instance = knapsack();
  await exp.run(async (run) => {
    await run.logJson('settings', { presolve: true });
    await run.logSolve(fixedStateAdapter(BEST), instance, { timeLimit: 5 });
    await run.logSample(statesSampler([BEST]), instance);
    const decoded = await run.openSolve(fixedStateAdapter(BEST), instance);
    await decoded.decode(BEST);
    await decoded.close();
    const undecoded = await run.openSolve(fixedStateAdapter(BEST), instance);
    await expectCode(undecoded.close(), 'SOLVE_NOT_DECODED');
  });
  await expect(
    exp.run((run) => run.logSolve(failingAdapter(new RangeError('no incumbent')), instance))
  ).rejects.toThrow('no incumbent');
  return { root, sealed: await exp.commit() };
}

/** msgpack `{"columns": {}}`: an empty run-parameter table (§2.5). */
const EMPTY_PARAMETERS = Buffer.from([0x81, 0xa7, ...Buffer.from('columns'), 0x80]);

/**
 * An OCI layout holding one OMMX experiment as OMMX itself writes it: run 0 with a trace layer
 * (opaque bytes, as Rust treats them), then the run-parameter table.
 */
async function ommxLayoutWithTrace(reference: string, trace: Uint8Array): Promise<string> {
  const dir = join(await tempDir('runledger-trace-layout-'), 'layout');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Uint8Array): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.byteLength };
  };
  const config = Buffer.from(
    JSON.stringify({
      status: 'finished',
      attachments: { entries: {} },
      runs: [
        {
          run_id: 0,
          status: 'finished',
          attachments: { entries: {} },
          trace: 0,
          solves: [],
          samplings: [],
        },
      ],
      run_parameters: 1,
    })
  );
  const manifest = {
    artifactType: OMMX_EXPERIMENT,
    config: { mediaType: OMMX_EXPERIMENT_CONFIG, ...(await put(config)) },
    layers: [
      { annotations: {}, mediaType: OMMX_TRACE, ...(await put(trace)) },
      { annotations: {}, mediaType: OMMX_RUN_PARAMETERS, ...(await put(EMPTY_PARAMETERS)) },
    ],
    schemaVersion: 2,
  };
  const m = await put(Buffer.from(JSON.stringify(manifest)));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: OCI_IMAGE_MANIFEST, ...m, annotations: { [OCI_REF_NAME]: reference } },
      ],
    })
  );
  return dir;
}

describe('a trace in a loaded OMMX experiment', () => {
  it('is carried into a fork byte-identically (§9.20; it was dropped on fork)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const otlp = Uint8Array.from([0x0a, 0x02, 0x0a, 0x00]); // resource_spans { resource {} }
    const layout = await ommxLayoutWithTrace('ghcr.io/acme/from-python:v1', otlp);
    const parent = await Experiment.importArchive(layout, { registry });
    expect(parent.config.runs[0]?.trace).toBe(0);

    const child = await parent.fork('ghcr.io/acme/from-python:v2', { journal: false });
    await child.run((run) => run.logParameter('seed', 1));
    const sealed = await child.commit();
    const index = sealed.config.runs[0]?.trace;
    expect(index).toBeDefined();
    const layer = sealed.manifest.layers[index as number];
    expect(layer?.mediaType).toBe(OMMX_TRACE);
    expect(Buffer.from(await registry.readBlob(layer!.digest)).equals(Buffer.from(otlp))).toBe(
      true
    );
  });
});

describe('reading a trace layer', () => {
  it('keeps the bytes opaque (as OMMX does) and decodes them on demand; bad bytes are PAYLOAD_INVALID', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const layout = await ommxLayoutWithTrace('ghcr.io/acme/odd-trace:v1', Buffer.from('otlp'));
    const sealed = await Experiment.importArchive(layout, { registry });
    const run = sealed.runs[0]!;
    expect(Buffer.from((await run.getTrace())!).toString()).toBe('otlp');
    const e = await expectCode(run.traceSpans(), 'PAYLOAD_INVALID');
    expect(e.message).toMatch(/^The trace of run 0 is not an OTLP protobuf trace: /);
    expect(decodeTraceSpans(new Uint8Array(0))).toEqual([]);
  });
});

describe('storeTrace: true', () => {
  it('stores a Run span per run, scope ommx.experiment, with ommx.run.id (§9.16)', async () => {
    const { sealed } = await study();
    for (const run of sealed.runs) {
      expect(run.traceDescriptor?.mediaType).toBe(MEDIA_TYPE_TRACE);
      expect(run.traceDescriptor?.annotations).toEqual({});
      const spans = await run.traceSpans();
      const span = only(spans, 'Run');
      expect(spans[0]).toBe(span); // ordered by start, a parent before its children
      expect(span.scope).toBe(TRACE_SCOPE);
      expect(span.parentSpanId).toBeUndefined();
      expect(span.attributes['ommx.run.id']).toBe(run.runId);
      expect(span.attributes['runledger.run.name']).toBe((await run.getInfo()).name);
      expect(span.endTime.getTime()).toBeGreaterThanOrEqual(span.startTime.getTime());
      expect(span.durationMs).toBeGreaterThanOrEqual(0);
      // Every span of the run is in its trace, under its Run span.
      for (const s of spans) expect(s.traceId).toBe(span.traceId);
    }
    const [ok, failed] = await Promise.all(sealed.runs.map((r) => r.traceSpans()));
    expect(only(ok!, 'Run').status).toBe('unset');
    expect(only(failed!, 'Run')).toMatchObject({
      status: 'error',
      statusMessage: 'RangeError: no incumbent',
    });
  });

  it('a span per logSolve / logSample call under the Run span, with adapter, ommx.run.id and the call id (§9.17)', async () => {
    const { sealed } = await study();
    const spans = await sealed.runs[0]!.traceSpans();
    const run = only(spans, 'Run');
    const solve = only(spans, 'solve');
    expect(solve.parentSpanId).toBe(run.spanId);
    expect(solve.status).toBe('unset');
    expect(solve.attributes).toEqual({
      adapter: 'tests.FixedState',
      'ommx.run.id': 0,
      'ommx.solve.id': 0,
    });
    const sample = only(spans, 'sample');
    expect(sample.parentSpanId).toBe(run.spanId);
    expect(sample.attributes).toEqual({
      adapter: 'tests.States',
      'ommx.run.id': 0,
      'ommx.sampling.id': 0,
    });
    // The span covers the call: within the Run span, and as recorded in the Solution.
    expect(solve.startTime.getTime()).toBeGreaterThanOrEqual(run.startTime.getTime());
    expect(solve.endTime.getTime()).toBeLessThanOrEqual(run.endTime.getTime());
    const failed = await sealed.runs[1]!.traceSpans();
    expect(only(failed, 'solve')).toMatchObject({
      status: 'error',
      statusMessage: 'RangeError: no incumbent',
      attributes: { adapter: 'tests.Failing', 'ommx.run.id': 1, 'ommx.solve.id': 0 },
    });
  });

  it('a Solve span per openSolve, child of Run with ommx.solve.id and adapter; ERROR when never decoded (§9.18, §9.19)', async () => {
    const { sealed } = await study();
    const spans = await sealed.runs[0]!.traceSpans();
    const run = only(spans, 'Run');
    const solves = spans.filter((s) => s.name === 'Solve');
    expect(solves.map((s) => [s.attributes['ommx.solve.id'], s.status])).toEqual([
      [1, 'unset'],
      [2, 'error'],
    ]);
    for (const s of solves) {
      expect(s.parentSpanId).toBe(run.spanId);
      expect(s.attributes['adapter']).toBe('tests.FixedState');
    }
    expect(solves[1]!.statusMessage).toBe('Error: closed before decode()');
    // The records agree: solve 2 is the failed one.
    expect(sealed.runs[0]!.solves.map((s) => [s.id, s.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
      [2, 'failed'],
    ]);
  });

  it('the layer decodes with the official OTLP schema, agreeing with traceSpans()', async () => {
    const { sealed } = await study();
    for (const run of sealed.runs) {
      const bytes = (await run.getTrace())!;
      const request = decodeOfficially(bytes);
      const official = request.resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ scope: s.scope?.name, span })))
      );
      const ours = await run.traceSpans();
      expect(official).toHaveLength(ours.length);
      for (const { scope, span } of official) {
        const mine = ours.find((s) => s.spanId === hexOf(span.spanId))!;
        expect(mine).toBeDefined();
        expect({
          name: mine.name,
          scope: mine.scope,
          traceId: mine.traceId,
          parentSpanId: mine.parentSpanId,
          status: mine.status,
          durationMs: mine.durationMs,
        }).toEqual({
          name: span.name,
          scope,
          traceId: hexOf(span.traceId),
          parentSpanId: hexOf(span.parentSpanId),
          status: (['unset', 'ok', 'error'] as const)[span.status?.code ?? 0],
          durationMs: Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6,
        });
        const attributes = Object.fromEntries(
          span.attributes.map(({ key, value }) => [
            key,
            'intValue' in value ? Number(value['intValue']) : value['stringValue'],
          ])
        );
        expect(attributes).toEqual(mine.attributes);
      }
    }
  });

  it('passes the OMMX loader rules: trace slot in bounds, exact media type, right after the run attachments', async () => {
    const { root, sealed } = await study();
    await expect(validateOmmxExperimentLayout(root, REF)).resolves.toBeUndefined();
    // Each run's layers follow the one before's: its attachments, its trace, its solves.
    let next = sealed.config.attachments.entries.size;
    for (const run of sealed.config.runs) {
      const attachments = [...run.attachments.entries.values()].sort((a, b) => a - b);
      expect(attachments).toEqual(attachments.map((_, i) => next + i));
      expect(run.trace).toBe(next + attachments.length);
      expect(run.solves[0]?.input ?? run.trace! + 1).toBe(run.trace! + 1);
      expect(sealed.manifest.layers[run.trace!]?.mediaType).toBe(OMMX_TRACE);
      next = run.trace! + 1;
      for (const c of [...run.solves, ...run.samplings]) {
        next += 1 + (c.output === undefined ? 0 : 1) + (c.diagnostics === undefined ? 0 : 1);
      }
    }
    expect(next).toBe(sealed.config.runParameters);
  });

  it('the validator refuses a trace that is not right after the run attachments', async () => {
    const { root, sealed } = await study();
    // Move run 1's trace behind its solve's layers: digests stay consistent, only the order breaks.
    const layers = [...sealed.manifest.layers];
    const run = sealed.config.runs[1]!;
    const trace = run.trace!;
    const solve = run.solves[0]!;
    const moved = [layers[solve.input]!, layers[trace]!];
    layers.splice(trace, 2, ...moved);
    const config = JSON.parse(
      Buffer.from(await sealed.registry.readBlob(sealed.configDigest)).toString('utf8')
    );
    config.runs[1].trace = solve.input;
    config.runs[1].solves[0].input = trace;
    const dir = await tamperedLayout(root, sealed, layers, config);
    const error = await validateOmmxExperimentLayout(dir, REF).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmmxRuleError);
    expect((error as OmmxRuleError).rule).toBe('config.trace-position');
  });

  it("makes the adapter call the current span, so an adapter's own spans nest under it", async () => {
    const manager = new StackContextManager().enable();
    otel.context.setGlobalContextManager(manager);
    try {
      const { exp } = await traced();
      let active: string | undefined;
      const adapter: SolverAdapter = {
        name: 'tests.Observing',
        solve(instance) {
          active = otel.trace.getActiveSpan()?.spanContext().spanId;
          return instance.evaluate(BEST);
        },
      };
      await exp.run((run) => run.logSolve(adapter, knapsack()));
      const spans = await exp.runs[0]!.traceSpans();
      expect(active).toBe(only(spans, 'solve').spanId);
      await exp.autosaveSettled();
    } finally {
      otel.context.disable();
    }
  });

  it('hands every span to the span processors given too', async () => {
    const exporter = new InMemorySpanExporter();
    const processor = new SimpleSpanProcessor({ exporter });
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await Experiment.create(REF, {
      registry,
      handleSignals: false,
      storeTrace: true,
      spanProcessors: [processor],
    });
    await exp.run((run) => run.logSolve(fixedStateAdapter(BEST), knapsack()));
    await exp.autosaveSettled();
    await processor.forceFlush(); // the processor is the caller's: flushing it is theirs too
    const exported = exporter.getFinishedSpans().map((s) => [s.name, s.spanContext().spanId]);
    const stored = (await exp.runs[0]!.traceSpans()).map((s) => [s.name, s.spanId]);
    expect(exported.sort()).toEqual(stored.sort());
  });

  it('refuses what it cannot honour: a non-boolean, processors without storeTrace, reproducible', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const create = (options: object): Promise<Experiment> =>
      Experiment.create(REF, { registry, ...options });
    await expectCode(create({ storeTrace: 'yes' }), 'ARGUMENT_INVALID');
    const processor = new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() });
    const e = await expectCode(create({ spanProcessors: [processor] }), 'ARGUMENT_INVALID');
    expect(e.message).toContain('storeTrace: true');
    await expectCode(
      create({ storeTrace: true, spanProcessors: [{ onEnd: () => undefined }] }),
      'ARGUMENT_INVALID'
    );
    const r = await expectCode(
      create({ storeTrace: true, reproducible: true }),
      'ARGUMENT_INVALID'
    );
    expect(r.message).toContain('reproducible');
  });
});

describe('without storeTrace', () => {
  it('stores no trace (§9.22)', async () => {
    const { root, exp } = await traced({ storeTrace: false });
    await exp.run((run) => run.logSolve(fixedStateAdapter(BEST), knapsack()));
    const sealed = await exp.commit();
    const run = sealed.runs[0]!;
    expect(run.traceDescriptor).toBeUndefined();
    expect(await run.getTrace()).toBeUndefined();
    expect(await run.traceSpans()).toEqual([]);
    expect(sealed.config.runs[0]!.trace).toBeUndefined();
    expect(sealed.manifest.layers.some((l) => l.mediaType === MEDIA_TYPE_TRACE)).toBe(false);
    const config = Buffer.from(await sealed.registry.readBlob(sealed.configDigest)).toString();
    expect(config).not.toContain('"trace"');
    await validateOmmxExperimentLayout(root, REF);
  });

  it('loads no OpenTelemetry package: only experiment/trace imports one, by type or import()', async () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const importing: string[] = [];
    for (const f of files) {
      const text = await readFile(join(src, f), 'utf8');
      const statics = text.match(/^import\b[^;]*?from '@opentelemetry\/[^']*';/gm) ?? [];
      const dynamics = text.match(/\bimport\('@opentelemetry\/[^']*'\)/g) ?? [];
      if (statics.length + dynamics.length === 0) continue;
      importing.push(f);
      for (const s of statics) expect(s).toMatch(/^import type /);
    }
    expect(importing).toEqual(['experiment/trace.ts']);
  });

  it('a missing package is DEPENDENCY_MISSING with the install command', async () => {
    const missing = (): Promise<never> =>
      Promise.reject(new Error("Cannot find package '@opentelemetry/sdk-trace'"));
    const e = await expectCode(openTracing({ storeTrace: true }, missing), 'DEPENDENCY_MISSING');
    expect(e.message).toBe(
      'Run traces (storeTrace) need the optional packages @opentelemetry/api, @opentelemetry/sdk-trace and @opentelemetry/otlp-transformer: run `npm install @opentelemetry/api@1.9 @opentelemetry/sdk-trace@2 @opentelemetry/otlp-transformer@0.223`.'
    );
    expect((e.cause as Error).message).toContain('@opentelemetry/sdk-trace');
    // A package of another shape (an incompatible major) is missing too.
    await expectCode(
      openTracing({ storeTrace: true }, () => Promise.resolve([{}, {}, {}])),
      'DEPENDENCY_MISSING'
    );
    // Without storeTrace nothing is loaded.
    await expect(openTracing({}, missing)).resolves.toBeUndefined();
  });
});

describe('forks, checkpoints and the crash journal keep traces byte for byte', () => {
  it('a fork carries the parent run traces and adds its own (§9.20)', async () => {
    const { root, exp } = await traced();
    await exp.run((run) => run.logParameter('solver', 'base'));
    const parent = await exp.commit();
    const child = await parent.fork('ghcr.io/acme/traces:child', {
      handleSignals: false,
      storeTrace: true,
    });
    await child.run((run) => run.logParameter('solver', 'child'));
    const sealed = await child.commit();
    expect(sealed.runs.map((r) => r.runId)).toEqual([0, 1]);
    expect(sealed.runs[0]!.traceDescriptor).toEqual(parent.runs[0]!.traceDescriptor);
    const bytes = (r: SealedRun): Promise<Uint8Array | undefined> => r.getTrace();
    expect(Buffer.from((await bytes(sealed.runs[0]!))!)).toEqual(
      Buffer.from((await bytes(parent.runs[0]!))!)
    );
    const runSpans = await Promise.all(sealed.runs.map(async (r) => (await r.traceSpans()).length));
    expect(runSpans).toEqual([1, 1]);
    await validateOmmxExperimentLayout(root, 'ghcr.io/acme/traces:child');
  });

  it('a fork with storeTrace of a parent without traces traces its new runs only (§9.21)', async () => {
    const { exp } = await traced({ storeTrace: false });
    await exp.run((run) => run.logParameter('solver', 'base'));
    const parent = await exp.commit();
    const child = await parent.fork(undefined, { handleSignals: false, storeTrace: true });
    await child.run((run) => run.logParameter('solver', 'child'));
    const sealed = await child.commit();
    expect(sealed.runs.map((r) => r.traceDescriptor === undefined)).toEqual([true, false]);
    expect((await sealed.runs[1]!.traceSpans()).map((s) => s.name)).toEqual(['Run']);
  });

  it('a checkpoint keeps the traces, and so does the experiment restored from it', async () => {
    const { root, exp } = await traced();
    await exp.run((run) => run.logSolve(fixedStateAdapter(BEST), knapsack()));
    const before = exp.runs[0]!.traceDescriptor;
    await exp.autosaveSettled();
    await exp.checkpoint();
    const again = await Experiment.restoreFromCheckpoint(REF, {
      registry: await LocalRegistry.open(root),
      handleSignals: false,
      journal: false,
    });
    expect(again.runs[0]!.traceDescriptor).toEqual(before);
    const sealed = await again.commit();
    expect(sealed.runs[0]!.traceDescriptor).toEqual(before);
    await validateOmmxExperimentLayout(root, REF);
  });

  it('a run closed before a crash keeps its trace from the journal; a lost trace blob is left out with a warning', async () => {
    for (const loseBlob of [false, true]) {
      const root = await tempDir();
      const registry = await LocalRegistry.open(root);
      const exp = await Experiment.create(REF, {
        registry,
        handleSignals: false,
        durable: 'always',
        storeTrace: true,
      });
      exp.setAutosavePolicy(AutosavePolicy.disabled()); // the journal is all there is
      await exp.run((run) => run.logParameter('x', 1));
      const trace = exp.runs[0]!.traceDescriptor!;
      // The journal as a dead process would have left it.
      const [file] = await readdir(journalDir(registry));
      await copyFile(join(journalDir(registry), file!), join(journalDir(registry), 'dead.journal'));
      if (loseBlob) await rm(join(root, 'blobs', 'sha256', trace.digest.slice(7)));
      const warnings: string[] = [];
      const onWarning = (w: Error): void => void warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const again = await Experiment.restoreFromCheckpoint(REF, {
          registry: await LocalRegistry.open(root),
          handleSignals: false,
          journal: false,
        });
        expect(again.runs.map((r) => [r.runId, r.status])).toEqual([[0, 'finished']]);
        expect(again.runs[0]!.traceDescriptor).toEqual(loseBlob ? undefined : trace);
      } finally {
        process.off('warning', onWarning);
      }
      const lost = warnings.filter((w) => w.includes('the trace of run 0'));
      expect(lost).toHaveLength(loseBlob ? 1 : 0);
    }
  });
});

/**
 * A copy of the registry's layout where `REF` names a manifest with `layers` and `config`
 * (new blobs written for both).
 */
async function tamperedLayout(
  root: string,
  sealed: SealedExperiment,
  layers: readonly object[],
  config: unknown
): Promise<string> {
  const dir = join(await tempDir('runledger-trace-tampered-'), 'layout');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Uint8Array): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.byteLength };
  };
  for (const l of sealed.manifest.layers) {
    await copyFile(
      join(root, 'blobs', 'sha256', l.digest.slice(7)),
      join(dir, 'blobs', 'sha256', l.digest.slice(7))
    );
  }
  const configBlob = await put(Buffer.from(JSON.stringify(config)));
  const manifest = {
    artifactType: OMMX_EXPERIMENT,
    config: { mediaType: OMMX_EXPERIMENT_CONFIG, ...configBlob },
    layers,
    schemaVersion: 2,
  };
  const m = await put(Buffer.from(JSON.stringify(manifest)));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_IMAGE_MANIFEST, ...m, annotations: { [OCI_REF_NAME]: REF } }],
    })
  );
  return dir;
}
