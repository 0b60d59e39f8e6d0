/**
 * The experiment core against OMMX's own test expectations (ommx-reference §9, numbers in the
 * test names), plus runledger's stricter rules.
 */
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../codecs/json.js';
import type { AttachmentCodec } from '../../src/experiment/codec.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { canonicalJson } from '../../src/oci/canonical-json.js';
import { listExperiments } from '../../src/experiment/list.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201e2213bc80000000049454e44ae426082',
  'hex'
);

async function freshRegistry(): Promise<LocalRegistry> {
  return LocalRegistry.open(await tempDir());
}

async function newExperiment(ref = 'ghcr.io/acme/qap:v1') {
  const registry = await freshRegistry();
  return { registry, exp: await Experiment.create(ref, { registry }) };
}

function column(table: ReturnType<Experiment['runParametersDf']>, name: string): unknown[] {
  const v = table.getChild(name);
  if (v === null) throw new Error(`no column ${name}`);
  return [...v.toArray()].map((x: unknown, i: number) => (v.isValid(i) ? x : null));
}

describe('Experiment.create and annotations', () => {
  it('gives an anonymous experiment <id8>.runledger.local/experiment:<ts>-<nonce> (§9.5)', async () => {
    const registry = await freshRegistry();
    const exp = await Experiment.create(undefined, { registry });
    expect(exp.reference).toMatch(
      /^[0-9a-f]{8}\.runledger\.local\/experiment:\d{8}T\d{6}-[0-9a-f]{12}$/
    );
    expect(exp.reference.slice(0, 8)).toBe((await registry.id()).slice(0, 8));
    const other = await Experiment.create(undefined, { registry });
    expect(other.reference).not.toBe(exp.reference);
  });

  it('refuses invalid references before opening any registry (§9.67, §9.94)', async () => {
    await expectCode(Experiment.create('ghcr.io/acme/Bad Name:v1'), 'REFERENCE_INVALID');
    await expectCode(Experiment.create('ghcr.io//x:1'), 'REFERENCE_INVALID');
    await expectCode(Experiment.load('ghcr.io/a/b:bad tag'), 'REFERENCE_INVALID');
  });

  it('stores caller annotations and refuses org.ommx.v1.* keys (§9.2)', async () => {
    const { exp } = await newExperiment();
    exp.setAnnotation('com.example.study', 'qap');
    expect(exp.annotations).toEqual({ 'com.example.study': 'qap' });
    await expectCode(() => exp.setAnnotation('org.ommx.v1.instance.title', 'x'), 'NAME_RESERVED');
    await expectCode(
      Experiment.create('ghcr.io/a/b:1', { annotations: { 'org.ommx.v1.x': 'y' } }),
      'NAME_RESERVED'
    );
    const sealed = await exp.commit();
    expect(sealed.annotations).toEqual({ 'com.example.study': 'qap' });
    expect(sealed.manifest.annotations).toEqual({ 'com.example.study': 'qap' });
  });
});

describe('runs', () => {
  it('allocates ids from 0 at open, keeps several open, and lists by id whatever the close order', async () => {
    const { exp } = await newExperiment();
    const a = exp.startRun();
    const b = exp.startRun();
    const c = exp.startRun();
    expect([a.runId, b.runId, c.runId]).toEqual([0, 1, 2]);
    expect(exp.openRunIds).toEqual([0, 1, 2]);
    await c.finish();
    await a.finish();
    await b.finish();
    expect(exp.runs.map((r) => r.runId)).toEqual([0, 1, 2]);
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => [r.runId, r.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
      [2, 'finished'],
    ]);
  });

  it('refuses to commit while a run is open, naming it (§9.7)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    run.logParameter('x', 1);
    const err = await expectCode(exp.commit(), 'RUNS_OPEN');
    expect(err.message).toContain('(0)');
    await run.finish();
    expect((await exp.commit()).runs).toHaveLength(1);
  });

  it('callback scope: finished on return, failed with the reason on throw, error rethrown (§9.34)', async () => {
    const { exp } = await newExperiment();
    expect(await exp.run((run) => (run.logParameter('x', 1), 'result'))).toBe('result');
    const thrown = new TypeError('bad   input\n here');
    const caught = await exp
      .run(async (run) => {
        run.logParameter('x', 2);
        await run.logJson('partial', { step: 1 });
        throw thrown;
      })
      .catch((e: unknown) => e);
    expect(caught).toBe(thrown);
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => [r.status, r.reason])).toEqual([
      ['finished', undefined],
      ['failed', 'TypeError: bad input here'],
    ]);
    expect(sealed.runs[1]!.parameters).toEqual({ x: 2n });
    expect(await sealed.runs[1]!.getJson('partial')).toEqual({ step: 1 });
    expect(sealed.config.runs[1]).toMatchObject({
      status: 'failed',
      reason: 'TypeError: bad input here',
    });
  });

  it('caps the reason at 512 characters with … (§9.10) and records AbortError as interrupted', async () => {
    const { exp } = await newExperiment();
    await exp
      .run(() => {
        throw new Error('x'.repeat(2000));
      })
      .catch(() => undefined);
    await exp
      .run(() => {
        throw Object.assign(new Error('stopped'), { name: 'AbortError' });
      })
      .catch(() => undefined);
    await exp
      .run(() => {
        throw new RangeError('   ');
      })
      .catch(() => undefined);
    const [long, aborted, blank] = exp.runs;
    expect([...long!.reason!]).toHaveLength(512);
    expect(long!.reason!.startsWith('Error: xxx')).toBe(true);
    expect(long!.reason!.endsWith('…')).toBe(true);
    expect([aborted!.status, aborted!.reason]).toEqual(['interrupted', 'AbortError: stopped']);
    expect(blank!.reason).toBe('RangeError');
  });

  it('handle scope: a run disposed before finish() is failed; await using works', async () => {
    const { exp } = await newExperiment();
    {
      await using run = exp.startRun();
      run.logParameter('seed', 1);
    }
    {
      await using run = exp.startRun();
      run.logParameter('seed', 2);
      await run.finish();
    }
    expect(exp.runs.map((r) => [r.status, r.reason])).toEqual([
      ['failed', 'disposed before finish()'],
      ['finished', undefined],
    ]);
  });

  it('refuses every write after close with RUN_CLOSED, keeping what was logged', async () => {
    const { exp } = await newExperiment();
    const dir = await tempDir();
    await writeFile(join(dir, 'f.txt'), 'x');
    const run = exp.startRun();
    run.logParameter('kept', true);
    await run.finish();
    await expectCode(() => run.logParameter('late', 1), 'RUN_CLOSED');
    await expectCode(run.logJson('late', {}), 'RUN_CLOSED');
    await expectCode(run.logText('late', 'x'), 'RUN_CLOSED');
    await expectCode(run.logFile('late', join(dir, 'f.txt')), 'RUN_CLOSED');
    await expectCode(run.logWithCodec(jsonCodec, 'late', 1), 'RUN_CLOSED');
    await expectCode(run.finish(), 'RUN_CLOSED');
    const sealed = await exp.commit();
    expect(sealed.runs[0]!.parameters).toEqual({ kept: true });
    expect(sealed.runs[0]!.attachmentNames).toEqual([]);
  });

  it('waits for attachment writes in flight before closing', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    const pending = run.logAttachment('big', 'application/octet-stream', new Uint8Array(1 << 20));
    await run.finish();
    await pending;
    expect(exp.runs[0]!.attachmentNames).toEqual(['big']);
  });

  it('makes a closed run visible at once on the unsealed experiment (§9.12)', async () => {
    const { exp } = await newExperiment();
    await exp.run(async (run) => {
      run.logParameter('solver', 'highs');
      await run.logJson('settings', { presolve: true });
    });
    const open = exp.startRun();
    open.logParameter('solver', 'scip');
    expect(exp.runs.map((r) => r.runId)).toEqual([0]);
    expect(await exp.runs[0]!.getJson('settings')).toEqual({ presolve: true });
    const df = exp.runParametersDf();
    expect(column(df, 'run_id')).toEqual([0n]);
    expect(column(df, 'solver')).toEqual(['highs']);
    await open.finish();
  });

  it('refuses to change a committed experiment (EXPERIMENT_SEALED)', async () => {
    const { exp } = await newExperiment();
    await exp.commit();
    expect(exp.sealed).toBe(true);
    await expectCode(() => exp.startRun(), 'EXPERIMENT_SEALED');
    await expectCode(exp.logJson('x', 1), 'EXPERIMENT_SEALED');
    await expectCode(() => exp.setAnnotation('a', 'b'), 'EXPERIMENT_SEALED');
    await expectCode(exp.commit(), 'EXPERIMENT_SEALED');
  });
});

describe('parameters', () => {
  it('validates names and values at log time (§9.35 and runledger rules)', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    for (const name of ['', 'a'.repeat(257), 'tab\there', 'nul\u0000']) {
      await expectCode(() => run.logParameter(name, 1), 'PARAMETER_INVALID');
    }
    for (const value of [null, undefined, {}, [], Symbol('s'), () => 1, new Date()]) {
      await expectCode(() => run.logParameter('v', value as never), 'PARAMETER_INVALID');
    }
    await expectCode(() => run.logParameter('big', 2n ** 63n), 'PARAMETER_INVALID');
    await expectCode(() => run.logParameter('run_id', 1), 'NAME_RESERVED');
    run.logParameter('min', -(2n ** 63n));
    run.logParameter('a'.repeat(256), 'ok');
    await run.finish();
    expect(exp.runs[0]!.parameters['min']).toBe(-(2n ** 63n));
  });

  it('refuses a type clash across runs at log time, naming column, type and run; keeps the rest', async () => {
    const { exp } = await newExperiment();
    await exp.run((run) => run.logParameter('solver', 'highs'));
    const run = exp.startRun();
    const err = await expectCode(() => run.logParameter('solver', 3.5), 'PARAMETER_TYPE_CONFLICT');
    expect(err.message).toContain('solver');
    expect(err.message).toContain('string');
    expect(err.message).toContain('run 0');
    await expectCode(() => run.logParameter('solver', true), 'PARAMETER_TYPE_CONFLICT');
    run.logParameter('other', 1);
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => r.parameters)).toEqual([{ solver: 'highs' }, { other: 1n }]);
  });

  it('promotes an int64 column to float64 and keeps NaN and ±Infinity (§9.4)', async () => {
    const { exp } = await newExperiment();
    await exp.run((run) => run.logParameter('x', 1));
    await exp.run((run) => run.logParameter('x', 2.5));
    await exp.run((run) => run.logParameter('x', Number.NaN));
    await exp.run((run) => run.logParameter('x', Number.POSITIVE_INFINITY));
    await exp.run((run) => run.logParameter('x', Number.NEGATIVE_INFINITY));
    await exp.run((run) => run.logParameter('y', 1n));
    const sealed = await exp.commit();
    const df = sealed.runParametersDf();
    expect(String(df.schema.fields.find((f) => f.name === 'x')?.type)).toBe('Float64');
    const xs = column(df, 'x');
    expect(xs.slice(0, 2)).toEqual([1, 2.5]);
    expect(Number.isNaN(xs[2])).toBe(true);
    expect(xs.slice(3)).toEqual([Infinity, -Infinity, null]);
    expect(sealed.runs[0]!.parameters).toEqual({ x: 1 });
  });

  it('allows logging the same name again only with the identical value', async () => {
    const { exp } = await newExperiment();
    const run = exp.startRun();
    run.logParameter('seed', 7);
    run.logParameter('seed', 7);
    run.logParameter('nan', Number.NaN);
    run.logParameter('nan', Number.NaN);
    await expectCode(() => run.logParameter('seed', 8), 'PARAMETER_INVALID');
    await run.finish();
    expect(exp.runs[0]!.parameters['seed']).toBe(7n);
  });

  it('builds the parameter table with OMMX column order, nulls and empty runs (§9.3)', async () => {
    const { exp } = await newExperiment();
    await exp.run((run) => {
      run.logParameter('time_limit', 20);
      run.logParameter('solver', 'highs');
    });
    await exp.run((run) => {
      run.logParameter('solver', 'scip');
      run.logParameter('presolve', true);
    });
    await exp.run(() => undefined);
    const sealed = await exp.commit();
    const df = sealed.runParametersDf();
    expect(df.schema.fields.map((f) => f.name)).toEqual([
      'run_id',
      'solver',
      'time_limit',
      'presolve',
    ]);
    expect(df.schema.fields.map((f) => String(f.type))).toEqual(['Int64', 'Utf8', 'Int64', 'Bool']);
    expect(column(df, 'run_id')).toEqual([0n, 1n, 2n]);
    expect(column(df, 'solver')).toEqual(['highs', 'scip', null]);
    expect(column(df, 'time_limit')).toEqual([20n, null, null]);
    expect(column(df, 'presolve')).toEqual([null, true, null]);
  });
});

describe('attachments', () => {
  it('logs and reads JSON, text, bytes at both levels; unknown types come back as bytes (§9.5)', async () => {
    const { exp } = await newExperiment();
    await exp.logJson('dataset', { name: 'tai20a', n: 20 });
    await exp.logAttachment('blob', 'application/x-custom', new Uint8Array([1, 2, 3]));
    await exp.run(async (run) => {
      await run.logText('note', 'héllo');
      await run.logJson('settings', { b: 1, a: [true, null] });
    });
    expect(await exp.getJson('dataset')).toEqual({ name: 'tai20a', n: 20 });
    const sealed = await exp.commit();
    expect(sealed.attachmentNames).toEqual(['blob', 'dataset']);
    expect(await sealed.getAttachment('blob')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await sealed.getAttachment('dataset')).toEqual({ name: 'tai20a', n: 20 });
    const run = sealed.runs[0]!;
    expect(await run.getText('note')).toBe('héllo');
    expect(run.attachmentMediaType('note')).toBe('text/plain; charset=utf-8');
    expect(new TextDecoder().decode(await run.getBlob('settings'))).toBe('{"a":[true,null],"b":1}');
    await expectCode(sealed.getJson('blob'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(run.getText('settings'), 'MEDIA_TYPE_MISMATCH');
  });

  it('refuses duplicate and reserved names before writing, per scope', async () => {
    const { exp } = await newExperiment();
    await exp.logJson('a', 1);
    await expectCode(exp.logJson('a', 2), 'ATTACHMENT_EXISTS');
    await expectCode(exp.logJson('runledger.run', {}), 'NAME_RESERVED');
    await expectCode(exp.logJson('', {}), 'ARGUMENT_INVALID');
    await exp.run(async (run) => {
      await run.logJson('a', 'same name, other scope');
      const first = run.logAttachment('twice', 'text/plain', new Uint8Array(10));
      await expectCode(
        run.logAttachment('twice', 'text/plain', new Uint8Array(1)),
        'ATTACHMENT_EXISTS'
      );
      await first;
    });
    const sealed = await exp.commit();
    expect(await sealed.getJson('a')).toBe(1);
    expect(await sealed.runs[0]!.getJson('a')).toBe('same name, other scope');
    expect(sealed.runs[0]!.attachmentNames).toEqual(['a', 'twice']);
  });

  it('refuses values JSON cannot hold (§9.71)', async () => {
    const { exp } = await newExperiment();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const bad of [Number.NaN, 1n, cyclic, () => 1, new Map()]) {
      await expectCode(exp.logJson('x', bad), 'ARGUMENT_INVALID');
    }
    await exp.logJson('x', { fine: true });
    expect(await exp.getJson('x')).toEqual({ fine: true });
  });

  it('round-trips codecs at both levels and checks the media type before reading (§9.53, 54, 61, 62, 63)', async () => {
    const upper: AttachmentCodec<string> = {
      mediaType: 'text/x-upper',
      encode: (s) => new TextEncoder().encode(s.toUpperCase()),
      decode: (b) => new TextDecoder().decode(b).toLowerCase(),
    };
    const { exp } = await newExperiment();
    await exp.logWithCodec(upper, 'word', 'hello');
    await exp.run((run) => run.logWithCodec(upper, 'word', 'run'));
    const sealed = await exp.commit();
    expect(await sealed.getWithCodec(upper, 'word')).toBe('hello');
    expect(sealed.attachmentMediaType('word')).toBe('text/x-upper');
    expect(new TextDecoder().decode(await sealed.getBlob('word'))).toBe('HELLO');
    expect(await sealed.runs[0]!.getWithCodec(upper, 'word')).toBe('run');
    await expectCode(sealed.getWithCodec(jsonCodec, 'word'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(sealed.runs[0]!.getWithCodec(jsonCodec, 'word'), 'MEDIA_TYPE_MISMATCH');
    // With the blob gone, a mismatch is still reported as a mismatch: no read happened.
    const digest = sealed.manifest.layers[sealed.config.attachments.entries.get('word')!]!.digest;
    await rm((await sealed.registry.statBlob(digest)).path);
    await expectCode(sealed.getWithCodec(jsonCodec, 'word'), 'MEDIA_TYPE_MISMATCH');
    await expectCode(sealed.getWithCodec(upper, 'word'), 'BLOB_NOT_FOUND');
  });

  it('passes codec exceptions through unchanged and refuses broken codecs (§9.55, 56, 57)', async () => {
    const { exp } = await newExperiment();
    const boom = new Error('codec says no');
    const failing: AttachmentCodec<number> = {
      mediaType: 'application/x-fail',
      encode: () => {
        throw boom;
      },
      decode: () => 0,
    };
    expect(await exp.logWithCodec(failing, 'x', 1).catch((e: unknown) => e)).toBe(boom);
    const broken = [
      { encode: () => new Uint8Array(), decode: () => 1 },
      { mediaType: 42, encode: () => new Uint8Array(), decode: () => 1 },
      { mediaType: 'application/x', decode: () => 1 },
      { mediaType: 'application/x', encode: () => new Uint8Array() },
      { mediaType: 'application/x', encode: () => 'not bytes', decode: () => 1 },
      { mediaType: 'application/x', encode: () => [1, 2], decode: () => 1 },
    ];
    for (const codec of broken) {
      await expectCode(
        exp.logWithCodec(codec as unknown as AttachmentCodec<number>, 'y', 1),
        'CODEC_INVALID'
      );
    }
    expect(exp.attachmentNames).toEqual([]);
  });

  it('stores zstd attachments with the +zstd rule, transparently (§9.58, 59, 60)', async () => {
    const { exp } = await newExperiment();
    await exp.logJson('z', { big: 'x'.repeat(10_000) }, { compression: 'zstd' });
    await exp.logAttachment('plain', 'application/x+zstd', new Uint8Array([9]), {});
    await exp.logAttachment('double', 'application/x+zstd', new Uint8Array([8]), {
      compression: 'zstd',
    });
    await expectCode(exp.logJson('g', 1, { compression: 'gzip' as never }), 'ARGUMENT_INVALID');
    const sealed = await exp.commit();
    expect(await sealed.getJson('z')).toEqual({ big: 'x'.repeat(10_000) });
    expect(sealed.attachmentMediaType('z')).toBe('application/json');
    const layer = (name: string) =>
      sealed.manifest.layers[sealed.config.attachments.entries.get(name)!]!;
    expect(layer('z').mediaType).toBe('application/json+zstd');
    expect(layer('z').annotations).toEqual({ 'org.ommx.v1.attachment.compression': 'zstd' });
    expect(layer('z').size).toBeLessThan(1000);
    expect(sealed.attachmentMediaType('plain')).toBe('application/x+zstd');
    expect(layer('plain').annotations).toEqual({});
    expect(sealed.attachmentMediaType('double')).toBe('application/x+zstd');
    expect(layer('double').mediaType).toBe('application/x+zstd+zstd');
    expect(await sealed.getBlob('double')).toEqual(new Uint8Array([8]));
  });

  it('logs files: sniffs PNG, keeps the basename, exports into a directory (§9.64, 65, 66)', async () => {
    const dir = await tempDir();
    const png = join(dir, 'plot.png');
    await writeFile(png, PNG);
    const renamed = join(dir, 'no-extension');
    await writeFile(renamed, PNG);
    const csv = join(dir, 'table.csv');
    await writeFile(csv, 'a,b\n1,2\n');
    const { exp } = await newExperiment();
    await exp.logFile('plot', png);
    await exp.logFile('sniffed', renamed);
    await exp.logFile('csv', csv, { compression: 'zstd' });
    await exp.run((run) =>
      run.logFile('data', csv, { mediaType: 'text/x-mine', filename: 'export.csv' })
    );
    await expectCode(exp.logFile('dir', dir), 'ARGUMENT_INVALID');
    await expectCode(exp.logFile('missing', join(dir, 'nope')), 'IO_ERROR');
    await expectCode(exp.logFile('bad', csv, { filename: '../x' }), 'ARGUMENT_INVALID');
    const sealed = await exp.commit();
    expect(sealed.attachmentMediaType('plot')).toBe('image/png');
    expect(sealed.attachmentMediaType('sniffed')).toBe('image/png');
    expect(sealed.attachmentMediaType('csv')).toBe('text/csv');
    expect(sealed.config.attachments.filenames.get('plot')).toBe('plot.png');

    const out = await tempDir();
    const written = await sealed.writeAttachment('plot', out);
    expect(written).toBe(join(out, 'plot.png'));
    expect(await readFile(written)).toEqual(PNG);
    await expectCode(sealed.writeAttachment('plot', out), 'FILE_EXISTS');
    await sealed.writeAttachment('plot', out, { overwrite: true });
    expect(await readFile(await sealed.writeAttachment('csv', out))).toEqual(
      Buffer.from('a,b\n1,2\n')
    );
    const run = sealed.runs[0]!;
    expect(run.attachmentMediaType('data')).toBe('text/x-mine');
    expect(await sealed.runs[0]!.writeAttachment('data', out)).toBe(join(out, 'export.csv'));
    expect(await run.writeAttachment('data', join(out, 'chosen.txt'))).toBe(
      join(out, 'chosen.txt')
    );
  });

  it('reports a missing name as ATTACHMENT_NOT_FOUND from every getter (§9.69)', async () => {
    const { exp } = await newExperiment();
    await exp.run(() => undefined);
    const sealed = await exp.commit();
    const out = await tempDir();
    for (const scope of [sealed, sealed.runs[0]!, exp]) {
      await expectCode(() => scope.attachmentMediaType('nope'), 'ATTACHMENT_NOT_FOUND');
      await expectCode(scope.getAttachment('nope'), 'ATTACHMENT_NOT_FOUND');
      await expectCode(scope.getJson('nope'), 'ATTACHMENT_NOT_FOUND');
      await expectCode(scope.getBlob('nope'), 'ATTACHMENT_NOT_FOUND');
      await expectCode(scope.getWithCodec(jsonCodec, 'nope'), 'ATTACHMENT_NOT_FOUND');
      await expectCode(scope.writeAttachment('nope', out), 'ATTACHMENT_NOT_FOUND');
    }
  });

  it('fails reads of a deleted blob with BLOB_NOT_FOUND and of a damaged one with DIGEST_MISMATCH (§9.101)', async () => {
    const { exp } = await newExperiment();
    await exp.logJson('a', { v: 1 });
    await exp.logJson('b', { v: 2 });
    const sealed = await exp.commit();
    const path = async (name: string) =>
      (
        await sealed.registry.statBlob(
          sealed.manifest.layers[sealed.config.attachments.entries.get(name)!]!.digest
        )
      ).path;
    const a = await path('a');
    await rm(a);
    await expectCode(sealed.getJson('a'), 'BLOB_NOT_FOUND');
    await writeFile(await path('b'), '{"v":3}');
    await expectCode(sealed.getJson('b'), 'DIGEST_MISMATCH');
  });
});

describe('commit, load and list', () => {
  it('lays out the artifact as OMMX: attachments by name, runs in order, parameters last, no dedup', async () => {
    const { exp } = await newExperiment();
    await exp.logJson('z-exp', 1);
    await exp.logJson('a-exp', 2);
    for (let i = 0; i < 2; i++) {
      await exp.run(async (run) => {
        await run.logJson('same', 'identical content');
        await run.logText('b', `run ${i}`);
      });
    }
    const sealed = await exp.commit();
    const types = sealed.manifest.layers.map((l) => l.mediaType);
    // The experiment's attachments by name (the run records' runledger.runs among them), then
    // each run's: b, same — by name, as OMMX orders attachments.
    expect(types).toEqual([
      'application/json',
      'application/vnd.runledger.runs.v1+json',
      'application/json',
      'text/plain; charset=utf-8',
      'application/json',
      'text/plain; charset=utf-8',
      'application/json',
      'application/org.ommx.v1.experiment.run-parameters+msgpack',
    ]);
    expect([...sealed.config.attachments.entries]).toEqual([
      ['a-exp', 0],
      ['runledger.runs', 1],
      ['z-exp', 2],
    ]);
    expect(sealed.attachmentNames).toEqual(['a-exp', 'z-exp']);
    expect(sealed.manifest.layers[4]!.digest).toBe(sealed.manifest.layers[6]!.digest);
    expect(sealed.manifest.artifactType).toBe('application/org.ommx.v1.experiment');
    expect(sealed.manifest.config.mediaType).toBe('application/org.ommx.v1.experiment.config+json');
    const configText = new TextDecoder().decode(
      await sealed.registry.readBlob(sealed.configDigest)
    );
    expect(
      configText.startsWith(
        '{"status":"finished","attachments":{"entries":{"a-exp":0,"runledger.runs":1,"z-exp":2}},"runs":[{"run_id":0,"status":"finished","attachments":{"entries":{"b":3,"same":4}},"solves":[],"samplings":[]}'
      )
    ).toBe(true);
    expect(configText.endsWith('"run_parameters":7}')).toBe(true);
    // One record a run, in run id order, as canonical JSON.
    const runsText = new TextDecoder().decode(await sealed.getBlob('runledger.runs'));
    const records = JSON.parse(runsText) as { runs: Record<string, unknown>[] };
    expect(records.runs.map((r) => [r['run_id'], r['name']])).toEqual([
      [0, (await sealed.runs[0]!.getInfo()).name],
      [1, (await sealed.runs[1]!.getInfo()).name],
    ]);
    expect(runsText).toBe(canonicalJson(records as never));
  });

  it('publishes insert-or-conflict; on conflict nothing is lost and a later commit succeeds', async () => {
    const registry = await freshRegistry();
    const other = await writeArtifact(registry);
    await registry.publishRef('ghcr.io/acme/qap:v1', other.descriptor);
    const exp = await Experiment.create('ghcr.io/acme/qap:v1', { registry });
    await exp.run((run) => run.logParameter('x', 1));
    await expectCode(exp.commit(), 'REF_CONFLICT');
    expect(exp.sealed).toBe(false);
    await registry.deleteRef('ghcr.io/acme/qap:v1');
    const sealed = await exp.commit();
    expect(sealed.runs[0]!.parameters).toEqual({ x: 1n });
  });

  it('loads a committed experiment with its attachments, runs and table (§9.3)', async () => {
    const { registry, exp } = await newExperiment('ghcr.io/acme/load:v1');
    await exp.logJson('dataset', [1, 2, 3]);
    await exp.run(async (run) => {
      run.logParameter('solver', 'highs');
      await run.logJson('result', { objective: 3 });
    });
    await exp.run(() => undefined);
    const committed = await exp.commit();
    const loaded = await Experiment.load('ghcr.io/acme/load:v1', { registry });
    expect(loaded.manifestDigest).toBe(committed.manifestDigest);
    expect(await loaded.getJson('dataset')).toEqual([1, 2, 3]);
    expect(loaded.runs.map((r) => r.runId)).toEqual([0, 1]);
    expect(await loaded.runs[0]!.getJson('result')).toEqual({ objective: 3 });
    expect(column(loaded.runParametersDf(), 'solver')).toEqual(['highs', null]);
  });

  it('refuses to load what is not an experiment', async () => {
    const registry = await freshRegistry();
    const { descriptor } = await writeArtifact(registry);
    await registry.publishRef('ghcr.io/acme/plain:v1', descriptor);
    await expectCode(Experiment.load('ghcr.io/acme/plain:v1', { registry }), 'EXPERIMENT_INVALID');
    await expectCode(
      Experiment.load('ghcr.io/acme/none:v1', { registry, pull: false }),
      'REF_NOT_FOUND'
    );
  });

  it('lists experiments with OMMX fields; prefix filters; other artifacts are left out (§9.1, 104)', async () => {
    const registry = await freshRegistry();
    expect(await listExperiments({ registry })).toEqual([]);
    const exp = await Experiment.create('ghcr.io/acme/qap:tai20a', {
      registry,
      annotations: { 'com.example.k': 'v' },
    });
    await exp.run((run) => run.logParameter('x', 1));
    await exp.run(() => undefined);
    const sealed = await exp.commit();
    const plain = await writeArtifact(registry);
    await registry.publishRef('ghcr.io/acme/plain:1', plain.descriptor);
    const list = await listExperiments({ registry });
    expect(list).toHaveLength(1);
    const e = list[0]!;
    expect(e).toMatchObject({
      imageName: 'ghcr.io/acme/qap:tai20a',
      manifestDigest: sealed.manifestDigest,
      configDigest: sealed.configDigest,
      status: 'finished',
      runCount: 2,
      solveCount: 0,
      samplingCount: 0,
      annotations: { 'com.example.k': 'v' },
    });
    expect(e.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(e.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect((e.config['runs'] as unknown[])[0]).toEqual({
      run_id: 0,
      status: 'finished',
      attachments: { entries: {} },
      solves: [],
      samplings: [],
    });
    expect(await listExperiments({ registry, prefix: 'ghcr.io/acme/qap:tai' })).toHaveLength(1);
    expect(await listExperiments({ registry, prefix: 'ghcr.io/other/' })).toEqual([]);
  });
});

describe('determinism', () => {
  async function study(options: { reverseClose: boolean; mtime: Date }) {
    const registry = await freshRegistry();
    const dir = await tempDir();
    const file = join(dir, 'input.txt');
    await writeFile(file, 'the same bytes');
    await utimes(file, options.mtime, options.mtime);
    const exp = await Experiment.create('ghcr.io/acme/det:v1', {
      registry,
      annotations: { k: 'v' },
      reproducible: true, // no wall-clock times or host in the run records
    });
    await exp.logJson('settings', { b: 2, a: 1 });
    const runs = [0, 1, 2, 3].map(() => exp.startRun());
    for (const [i, run] of runs.entries()) {
      run.logParameter('i', i);
      run.logParameter('f', i / 3);
      await run.logFile('input', file);
      await run.logJson('out', { i, z: [1, 2] });
    }
    for (const run of options.reverseClose ? [...runs].reverse() : runs) await run.finish();
    return (await exp.commit()).manifestDigest;
  }

  it('the same study recorded twice (other clock, other mtimes, other close order) has one digest, when reproducible', async () => {
    const a = await study({ reverseClose: false, mtime: new Date('2020-01-01T00:00:00Z') });
    await new Promise((r) => setTimeout(r, 1100));
    const b = await study({ reverseClose: true, mtime: new Date('2024-06-01T12:00:00Z') });
    expect(b).toBe(a);
  });
});

describe('a run whose blobs cannot be made durable', () => {
  it('stays open with everything logged, and finishes once the cause is fixed', async () => {
    const { registry, exp } = await newExperiment();
    const { rename, mkdir } = await import('node:fs/promises');
    const blobs = join(registry.root, 'blobs', 'sha256');
    const run = exp.startRun();
    run.logParameter('kept', 'yes');
    await run.logJson('result', { objective: 42 });
    // Metrics are written at close (as one blob), so the close has a blob to make durable.
    run.logMetric('loss', 0.5);
    // Break the blob directory (root ignores permissions, so replace it with a file).
    await rename(blobs, `${blobs}.away`);
    await writeFile(blobs, 'not a directory');
    await expectCode(run.finish(), 'IO_ERROR');
    expect(exp.openRunIds).toEqual([0]);
    await expectCode(exp.commit(), 'RUNS_OPEN');
    await rm(blobs);
    await rename(`${blobs}.away`, blobs);
    await mkdir(blobs, { recursive: true });
    await exp.openRuns[0]!.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]!.parameters).toEqual({ kept: 'yes' });
    expect(await sealed.runs[0]!.getJson('result')).toEqual({ objective: 42 });
    expect((await sealed.runs[0]!.getMetric('loss')).values).toEqual(new Float64Array([0.5]));
    expect((await registry.fsck()).ok).toBe(true);
  });
});

describe('experiment-level writes in flight', () => {
  it('a read (which flushes the batch) waits for them, so none is left out', async () => {
    const { exp } = await newExperiment();
    const dir = await tempDir();
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(16 << 20, 7));
    await exp.logJson('first', 1);
    // The read starts from inside the copy (its first progress event), so it flushes the batch
    // while the file is still being written into it.
    let read: Promise<unknown> | undefined;
    await exp.logFile('big', big, {
      onProgress: () => void (read ??= exp.getJson('first')),
    });
    expect(await read).toBe(1);
    const sealed = await exp.commit();
    expect(sealed.attachmentNames).toEqual(['big', 'first']);
    expect((await sealed.getBlob('big')).byteLength).toBe(16 << 20);
    expect((await sealed.registry.fsck()).ok).toBe(true);
  });
});
