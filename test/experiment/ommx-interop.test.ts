/**
 * OMMX interop: a runledger experiment, copied out by skopeo (an independent OCI client), passes
 * an independent validator of OMMX's loader rules (test/helpers/ommx-validator.ts, written from
 * ommx-reference §2.1–2.5); and the validator is shown to fail on layouts tampered one rule at
 * a time, digests kept consistent so only the intended rule breaks.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Experiment, LocalRegistry, type SealedExperiment } from '../../src/index.js';
import {
  decodeMsgpack,
  OCI_ARTIFACT_MANIFEST,
  OCI_IMAGE_MANIFEST,
  OCI_REF_NAME,
  OMMX_COMPRESSION_ANNOTATION,
  OMMX_DIAGNOSTICS,
  OMMX_EXPERIMENT,
  OMMX_EXPERIMENT_CONFIG,
  OMMX_RUN_PARAMETERS,
  OMMX_TRACE,
  validateOmmxExperimentLayout,
  type Msgpack,
} from '../helpers/ommx-validator.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_SKOPEO, SKOPEO_SKIP_REASON } from '../helpers/tools.js';

const exec = promisify(execFile);
const REF = 'ghcr.io/acme/ommx-interop:v1';

/** A 1×1 RGBA PNG. */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489' +
    '0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082',
  'hex'
);
/** Names whose UTF-16 order differs from their UTF-8 (BTreeMap) order. */
const FULLWIDTH_TILDE = '\u{FF5E}';
const GRINNING_FACE = '\u{1F600}';

// ---- the experiment under test --------------------------------------------------------

async function buildExperiment(root: string): Promise<SealedExperiment> {
  const registry = await LocalRegistry.open(root);
  const png = join(root, '..', 'tiny.png');
  await writeFile(png, PNG);
  const exp = await Experiment.create(REF, {
    registry,
    annotations: { 'com.example.study': 'ommx-interop' },
  });
  await exp.logJson('dataset', { name: 'tai20a', n: 20 });
  await exp.run(async (run) => {
    run.logParameter('solver', 'highs');
    run.logParameter('seed', 7);
    run.logParameter('lr', 0.5);
    run.logParameter('presolve', true);
    run.logParameter('big', 2n ** 62n);
    run.logParameter('offset', -1000);
    run.logParameter(FULLWIDTH_TILDE, 1);
    run.logParameter(GRINNING_FACE, 2);
    await run.logJson('settings', { presolve: true, threads: 4 });
    await run.logText('log', 'iteration 1\niteration 2\n');
    await run.logFile('plot', png, { filename: 'plot-final.png' });
    await run.logAttachment('blob', 'application/octet-stream', new Uint8Array(4096).fill(7), {
      compression: 'zstd',
    });
  });
  await exp.run(async (run) => {
    run.logParameter('solver', 'gurobi');
    run.logParameter('seed', 8);
    run.logParameter('lr', 1); // an int in a float column: promoted to float64
    run.logParameter('gap', Number.NaN);
    run.logParameter('bound', Number.POSITIVE_INFINITY);
    run.logParameter('presolve', false);
    await run.logFile('plot', png); // sniffed, basename kept
    // A logical media type that itself ends in +zstd, stored uncompressed (§4.3).
    await run.logAttachment('raw', 'application/x-custom+zstd', new Uint8Array([1, 2, 3]));
    await run.logText(GRINNING_FACE, 'emoji');
    await run.logText(FULLWIDTH_TILDE, 'tilde');
  });
  await expect(
    exp.run(async (run) => {
      run.logParameter('seed', 9);
      run.logParameter('bound', Number.NEGATIVE_INFINITY);
      await run.logText('partial', 'half done');
      throw new Error('solver diverged');
    })
  ).rejects.toThrow('solver diverged');
  return exp.commit();
}

/** One experiment, built once and shared; each test copies its layout before touching it. */
let shared: Promise<{ base: string; root: string; sealed: SealedExperiment }> | undefined;
function fixture(): Promise<{ base: string; root: string; sealed: SealedExperiment }> {
  shared ??= (async () => {
    const base = await mkdtemp(join(tmpdir(), 'runledger-ommx-interop-'));
    const root = join(base, 'registry');
    return { base, root, sealed: await buildExperiment(root) };
  })();
  return shared;
}

afterAll(async () => {
  if (shared !== undefined) await rm((await shared).base, { recursive: true, force: true });
});

// ---- a plain OCI layout, read and rewritten by hand -----------------------------------

/** Layout JSON edited by hand in the tamper tests. */
type Json = any;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function blobFile(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

async function putBlob(dir: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = `sha256:${sha256(bytes)}`;
  const path = blobFile(dir, digest);
  try {
    await access(path); // same digest, same bytes: blobs may be read-only, leave it
  } catch {
    await writeFile(path, bytes);
  }
  return { digest, size: bytes.length };
}

async function readLayout(
  dir: string,
  ref = REF
): Promise<{ index: Json; entry: Json; manifest: Json; config: Json }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const entry = index.manifests.find((m: Json) => m.annotations?.[OCI_REF_NAME] === ref);
  const manifest = JSON.parse(await readFile(blobFile(dir, entry.digest), 'utf8'));
  const config = JSON.parse(await readFile(blobFile(dir, manifest.config.digest), 'utf8'));
  return { index, entry, manifest, config };
}

/** Lets `edit` change the manifest, then stores it and re-points `index.json` at it. */
async function repoint(
  dir: string,
  edit: (manifest: Json) => void | Promise<void>,
  ref = REF
): Promise<void> {
  const { index, entry, manifest } = await readLayout(dir, ref);
  await edit(manifest);
  const d = await putBlob(dir, Buffer.from(JSON.stringify(manifest)));
  entry.digest = d.digest;
  entry.size = d.size;
  await rm(join(dir, 'index.json'), { force: true });
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/** Rewrites the config (`JSON.parse` keeps member order; JSON.stringify writes it compact). */
async function rewriteConfig(
  dir: string,
  edit: (config: Json) => Json | void,
  serialize: (config: Json) => string = (c) => JSON.stringify(c)
): Promise<void> {
  await repoint(dir, async (m) => {
    const config = JSON.parse(await readFile(blobFile(dir, m.config.digest), 'utf8'));
    const d = await putBlob(dir, Buffer.from(serialize(edit(config) ?? config)));
    m.config.digest = d.digest;
    m.config.size = d.size;
  });
}

/** Replaces the bytes of layer `k`. */
async function rewriteLayer(dir: string, k: number, bytes: Uint8Array): Promise<void> {
  await repoint(dir, async (m) => {
    const d = await putBlob(dir, bytes);
    m.layers[k].digest = d.digest;
    m.layers[k].size = d.size;
  });
}

/** A private copy of the shared experiment's layout. */
async function copyLayout(): Promise<string> {
  const { root } = await fixture();
  const dir = join(await tempDir('runledger-ommx-tamper-'), 'layout');
  await cp(root, dir, { recursive: true });
  return dir;
}

function rejectsWithRule(dir: string, rule: string, options = {}): Promise<void> {
  return expect(validateOmmxExperimentLayout(dir, REF, options)).rejects.toThrow(
    `OMMX rule [${rule}] violated`
  );
}

// ---- hand-written msgpack for the run-parameter table ---------------------------------

const mp = {
  str(s: string): Buffer {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 31) throw new Error('fixstr only');
    return Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
  },
  map(n: number): Buffer {
    if (n > 15) throw new Error('fixmap only');
    return Buffer.from([0x80 | n]);
  },
  f64(x: number): Buffer {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(x, 1);
    return b;
  },
  f32(x: number): Buffer {
    const b = Buffer.alloc(5);
    b[0] = 0xca;
    b.writeFloatBE(x, 1);
    return b;
  },
  fixint(n: number): Buffer {
    if (n < 0 || n > 127) throw new Error('positive fixint only');
    return Buffer.from([n]);
  },
};

/** `{"columns": {name: {"type": t, "values": {runId: cell}}}}` with pre-encoded cells. */
function paramTable(
  columns: readonly (readonly [string, string, readonly (readonly [number, Buffer])[]])[]
): Buffer {
  return Buffer.concat([
    mp.map(1),
    mp.str('columns'),
    mp.map(columns.length),
    ...columns.flatMap(([name, type, values]) => [
      mp.str(name),
      mp.map(2),
      mp.str('type'),
      mp.str(type),
      mp.str('values'),
      mp.map(values.length),
      ...values.flatMap(([id, cell]) => [mp.fixint(id), cell]),
    ]),
  ]);
}

/** Turns a decoded msgpack map/str/number into plain JS for assertions. */
function plain(m: Msgpack): unknown {
  switch (m.t) {
    case 'map':
      return Object.fromEntries(m.entries.map(([k, v]) => [String(plain(k)), plain(v)]));
    case 'array':
      return m.items.map(plain);
    case 'nil':
      return null;
    case 'bin':
    case 'ext':
      return m.bytes;
    default:
      return m.v;
  }
}

function cellOf(table: Msgpack, column: string, runId: number): Msgpack | undefined {
  if (table.t !== 'map') return undefined;
  const columns = table.entries[0]?.[1];
  if (columns?.t !== 'map') return undefined;
  const col = columns.entries.find(([k]) => k.t === 'str' && k.v === column)?.[1];
  if (col?.t !== 'map') return undefined;
  const values = col.entries.find(([k]) => k.t === 'str' && k.v === 'values')?.[1];
  if (values?.t !== 'map') return undefined;
  return values.entries.find(([k]) => k.t === 'uint' && k.v === BigInt(runId))?.[1];
}

// ---- a synthetic layout (solves, samplings, traces, diagnostics) ----------------------

interface SyntheticLayer {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly annotations?: Record<string, string>;
}

async function writeLayout(
  dir: string,
  layers: readonly SyntheticLayer[],
  config: Json
): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const descriptors = [];
  for (const l of layers) {
    const d = await putBlob(dir, l.bytes);
    descriptors.push({ annotations: l.annotations ?? {}, ...d, mediaType: l.mediaType });
  }
  const configBlob = await putBlob(
    dir,
    Buffer.from(typeof config === 'string' ? config : JSON.stringify(config))
  );
  const manifest = {
    artifactType: OMMX_EXPERIMENT,
    config: { ...configBlob, mediaType: OMMX_EXPERIMENT_CONFIG },
    layers: descriptors,
    schemaVersion: 2,
  };
  const m = await putBlob(dir, Buffer.from(JSON.stringify(manifest)));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_IMAGE_MANIFEST, ...m, annotations: { [OCI_REF_NAME]: REF } }],
    })
  );
}

const EMPTY_PARAMS = paramTable([]);
const DIAGNOSTICS_ARRAY = Buffer.from([0x91, 0x81, 0xa1, 0x6b, 0x01]); // [{"k": 1}]
const DIAGNOSTICS_MAP = Buffer.from([0x81, 0xa1, 0x6b, 0x01]); // {"k": 1}

/**
 * Run 0 with a trace, one solve (with diagnostics) and one sampling, in LayerTable order:
 * [0] trace, [1] solve input, [2] solve output, [3] diagnostics, [4] sampling input,
 * [5] sampling output, [6] run parameters.
 */
function syntheticExperiment(): { layers: SyntheticLayer[]; config: Json } {
  const bytes = (s: string): Buffer => Buffer.from(s);
  return {
    layers: [
      { mediaType: OMMX_TRACE, bytes: bytes('otlp') },
      { mediaType: 'application/org.ommx.v2.instance', bytes: bytes('instance') },
      { mediaType: 'application/org.ommx.v2.solution', bytes: bytes('solution') },
      { mediaType: OMMX_DIAGNOSTICS, bytes: DIAGNOSTICS_ARRAY },
      { mediaType: 'application/org.ommx.v1.instance', bytes: bytes('instance v1') },
      { mediaType: 'application/org.ommx.v2.sample-set', bytes: bytes('samples') },
      { mediaType: OMMX_RUN_PARAMETERS, bytes: EMPTY_PARAMS },
    ],
    config: {
      status: 'finished',
      attachments: { entries: {} },
      runs: [
        {
          run_id: 0,
          status: 'finished',
          attachments: { entries: {} },
          trace: 0,
          solves: [
            {
              solve_id: 0,
              status: 'finished',
              input: 1,
              output: 2,
              adapter: 'ommx_highs_adapter.OMMXHighsAdapter',
              adapter_options: '{"time_limit": 10}',
              diagnostics: 3,
            },
          ],
          samplings: [
            {
              sampling_id: 0,
              status: 'finished',
              input: 4,
              output: 5,
              adapter: 'ommx_openjij_adapter.OMMXOpenJijSAAdapter',
              adapter_options: '{}',
            },
          ],
        },
      ],
      run_parameters: 6,
    },
  };
}

async function synthetic(
  edit: (s: { layers: SyntheticLayer[]; config: Json }) => void = () => undefined
): Promise<string> {
  const s = syntheticExperiment();
  edit(s);
  const dir = join(await tempDir('runledger-ommx-synthetic-'), 'layout');
  await writeLayout(dir, s.layers, s.config);
  return dir;
}

// ---- tests ----------------------------------------------------------------------------

describe('a committed runledger experiment against the OMMX validator', () => {
  it('the registry root itself passes', async () => {
    const { root, sealed } = await fixture();
    expect(sealed.reference).toBe(REF);
    await expect(validateOmmxExperimentLayout(root, REF)).resolves.toBeUndefined();
  });

  it('the layout, read independently, holds what was logged', async () => {
    const { root, sealed } = await fixture();
    const { entry, manifest, config } = await readLayout(root);
    expect(entry.digest).toBe(sealed.manifestDigest);
    expect(manifest.artifactType).toBe(OMMX_EXPERIMENT);
    expect(manifest.annotations).toEqual({ 'com.example.study': 'ommx-interop' });

    expect(config.status).toBe('finished');
    // The experiment's own, then runledger's run records (one attachment for every run).
    expect(Object.keys(config.attachments.entries)).toEqual(['dataset', 'runledger.runs']);
    expect(config.runs.map((r: Json) => [r.run_id, r.status])).toEqual([
      [0, 'finished'],
      [1, 'finished'],
      [2, 'failed'],
    ]);
    expect(config.runs[2].outcome.reason).toBe('Error: solver diverged');
    expect(config.runs[0].attachments.filenames).toEqual({ plot: 'plot-final.png' });
    expect(config.runs[1].attachments.filenames).toEqual({ plot: 'tiny.png' });
    // BTreeMap order: U+FF5E (EF BD 9E) before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
    expect(Object.keys(config.runs[1].attachments.entries)).toEqual([
      'plot',
      'raw',
      FULLWIDTH_TILDE,
      GRINNING_FACE,
    ]);

    const layer = (scope: Json, name: string): Json =>
      manifest.layers[scope.attachments.entries[name]];
    expect(layer(config.runs[0], 'plot').mediaType).toBe('image/png');
    expect(layer(config.runs[0], 'blob')).toMatchObject({
      mediaType: 'application/octet-stream+zstd',
      annotations: { [OMMX_COMPRESSION_ANNOTATION]: 'zstd' },
    });
    expect(layer(config.runs[1], 'raw').mediaType).toBe('application/x-custom+zstd');
    expect(layer(config.runs[1], 'raw').annotations ?? {}).toEqual({});
    expect(manifest.layers[config.run_parameters].mediaType).toBe(OMMX_RUN_PARAMETERS);
    expect(config.run_parameters).toBe(manifest.layers.length - 1);

    const table = decodeMsgpack(
      await readFile(blobFile(root, manifest.layers[config.run_parameters].digest))
    );
    const columns = (plain(table) as { columns: Record<string, { type: string }> }).columns;
    expect(Object.keys(columns)).toEqual([
      'big',
      'bound',
      'gap',
      'lr',
      'offset',
      'presolve',
      'seed',
      'solver',
      FULLWIDTH_TILDE,
      GRINNING_FACE,
    ]);
    expect(Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, c.type]))).toEqual({
      big: 'int64',
      bound: 'float64',
      gap: 'float64',
      lr: 'float64',
      offset: 'int64',
      presolve: 'bool',
      seed: 'int64',
      solver: 'string',
      [FULLWIDTH_TILDE]: 'int64',
      [GRINNING_FACE]: 'int64',
    });
    expect(cellOf(table, 'lr', 1)).toEqual({ t: 'float64', v: 1 });
    expect(cellOf(table, 'gap', 1)).toEqual({ t: 'float64', v: Number.NaN });
    expect(cellOf(table, 'bound', 1)).toEqual({ t: 'float64', v: Number.POSITIVE_INFINITY });
    expect(cellOf(table, 'bound', 2)).toEqual({ t: 'float64', v: Number.NEGATIVE_INFINITY });
    expect(cellOf(table, 'big', 0)).toEqual({ t: 'uint', v: 2n ** 62n });
    expect(cellOf(table, 'offset', 0)).toMatchObject({ t: 'int', v: -1000n });
    expect(cellOf(table, 'seed', 2)).toMatchObject({ v: 9n }); // the failed run's parameters
    expect(cellOf(table, 'solver', 1)).toEqual({ t: 'str', v: 'gurobi' });
    expect(cellOf(table, 'presolve', 1)).toEqual({ t: 'bool', v: false });
  });
});

describe('the validator fails on a tampered experiment layout', () => {
  it('accepts a faithful rewrite (the tamper helpers break nothing by themselves)', async () => {
    const dir = await copyLayout();
    const { manifest } = await readLayout(dir);
    await rewriteConfig(dir, () => undefined);
    await rewriteLayer(dir, 0, await readFile(blobFile(dir, manifest.layers[0].digest)));
    await repoint(dir, () => undefined);
    await expect(validateOmmxExperimentLayout(dir, REF)).resolves.toBeUndefined();
    expect((await readLayout(dir)).entry.digest).toBe((await fixture()).sealed.manifestDigest);
  });

  it('status "bogus" → config.status', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.status = 'bogus'));
    await rejectsWithRule(dir, 'config.status');
  });

  it('status "draft" only with allowDraft', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.status = 'draft'));
    await rejectsWithRule(dir, 'config.status');
    await expect(
      validateOmmxExperimentLayout(dir, REF, { allowDraft: true })
    ).resolves.toBeUndefined();
  });

  it('a run status outside finished/failed/interrupted → config.status', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.runs[0].status = 'draft'));
    await rejectsWithRule(dir, 'config.status');
  });

  it('a layer ref out of bounds → config.layer-ref', async () => {
    const dir = await copyLayout();
    const { manifest } = await readLayout(dir);
    await rewriteConfig(
      dir,
      (c) => void (c.runs[0].attachments.entries.settings = manifest.layers.length)
    );
    await rejectsWithRule(dir, 'config.layer-ref');
  });

  it('a layer ref that is not an integer literal → config.layer-ref', async () => {
    const dir = await copyLayout();
    await rewriteConfig(
      dir,
      () => undefined,
      (c) => JSON.stringify(c).replace(/"run_parameters":(\d+)/, '"run_parameters":$1.0')
    );
    await rejectsWithRule(dir, 'config.layer-ref');
  });

  it('a removed blob → blob.missing', async () => {
    const dir = await copyLayout();
    const { manifest, config } = await readLayout(dir);
    const digest = manifest.layers[config.runs[0].attachments.entries.log].digest;
    await rm(blobFile(dir, digest), { force: true });
    await rejectsWithRule(dir, 'blob.missing');
  });

  it('bytes changed in place → blob.digest; a wrong declared size → blob.size', async () => {
    const dir = await copyLayout();
    const { manifest, config } = await readLayout(dir);
    const log = manifest.layers[config.runs[0].attachments.entries.log];
    const path = blobFile(dir, log.digest);
    const bytes = await readFile(path);
    bytes[0] = bytes[0]! ^ 0xff;
    await rm(path, { force: true });
    await writeFile(path, bytes);
    await rejectsWithRule(dir, 'blob.digest');

    const other = await copyLayout();
    await repoint(other, (m) => void (m.layers[0].size += 1));
    await rejectsWithRule(other, 'blob.size');
  });

  it('a float cell encoded as float32 → params.float64 (float64 passes)', async () => {
    const dir = await copyLayout();
    const { config } = await readLayout(dir);
    const k = config.run_parameters;
    await rewriteLayer(dir, k, paramTable([['lr', 'float64', [[0, mp.f64(0.5)]]]]));
    await expect(validateOmmxExperimentLayout(dir, REF)).resolves.toBeUndefined();
    await rewriteLayer(dir, k, paramTable([['lr', 'float64', [[0, mp.f32(0.5)]]]]));
    await rejectsWithRule(dir, 'params.float64');
  });

  it.each([
    ['an int column holding a string', 'params.int64', [['seed', 'int64', [[0, mp.str('7')]]]]],
    ['an int column holding a float', 'params.int64', [['seed', 'int64', [[0, mp.f64(7)]]]]],
    ['a bool column holding an int', 'params.bool', [['b', 'bool', [[0, mp.fixint(1)]]]]],
    ['a string column holding nil', 'params.string', [['s', 'string', [[0, Buffer.of(0xc0)]]]]],
    ['an unknown column type', 'params.type', [['x', 'float32', [[0, mp.f64(1)]]]]],
    ['a run id not among the runs', 'params.run-id', [['lr', 'float64', [[7, mp.f64(1)]]]]],
    [
      'unsorted run ids',
      'params.order',
      [
        [
          'lr',
          'float64',
          [
            [1, mp.f64(1)],
            [0, mp.f64(1)],
          ],
        ],
      ],
    ],
    [
      'unsorted columns',
      'params.order',
      [
        ['b', 'float64', [[0, mp.f64(1)]]],
        ['a', 'float64', [[0, mp.f64(1)]]],
      ],
    ],
  ] as const)('%s → %s', async (_, rule, columns) => {
    const dir = await copyLayout();
    const { config } = await readLayout(dir);
    await rewriteLayer(dir, config.run_parameters, paramTable(columns));
    await rejectsWithRule(dir, rule);
  });

  it('trailing bytes or an extra field in the parameter table → params.*', async () => {
    const dir = await copyLayout();
    const { config } = await readLayout(dir);
    await rewriteLayer(dir, config.run_parameters, Buffer.concat([EMPTY_PARAMS, Buffer.of(0xc0)]));
    await rejectsWithRule(dir, 'params.trailing-bytes');
    const extra = Buffer.concat([mp.map(2), mp.str('columns'), mp.map(0), mp.str('x'), mp.map(0)]);
    await rewriteLayer(dir, config.run_parameters, extra);
    await rejectsWithRule(dir, 'params.shape');
  });

  it('a filename for an entry that does not exist → config.filenames', async () => {
    const dir = await copyLayout();
    await rewriteConfig(
      dir,
      (c) => void (c.runs[0].attachments.filenames['zz-ghost'] = 'ghost.txt')
    );
    await rejectsWithRule(dir, 'config.filenames');
  });

  it('a filename that is not a basename → config.filename', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.runs[0].attachments.filenames.plot = '../plot.png'));
    await rejectsWithRule(dir, 'config.filename');
  });

  it('an outcome on a finished run → config.outcome', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => {
      const { run_id, status, ...rest } = c.runs[0];
      c.runs[0] = { run_id, status, outcome: { reason: 'x' }, ...rest };
    });
    await rejectsWithRule(dir, 'config.outcome');
  });

  it('fields out of serde struct order → config.field-order', async () => {
    const top = await copyLayout();
    await rewriteConfig(top, ({ status, ...rest }) => ({ ...rest, status }));
    await rejectsWithRule(top, 'config.field-order');
    const run = await copyLayout();
    await rewriteConfig(run, (c) => {
      const { run_id, status, ...rest } = c.runs[1];
      c.runs[1] = { status, run_id, ...rest };
    });
    await rejectsWithRule(run, 'config.field-order');
  });

  it('an unknown field, a missing field, or whitespace → config.*', async () => {
    const unknown = await copyLayout();
    await rewriteConfig(unknown, (c) => ({ ...c, format_version: 1 }));
    await rejectsWithRule(unknown, 'config.unknown-field');
    const missing = await copyLayout();
    await rewriteConfig(missing, (c) => void delete c.runs[0].samplings);
    await rejectsWithRule(missing, 'config.missing-field');
    const spaced = await copyLayout();
    await rewriteConfig(
      spaced,
      () => undefined,
      (c) => JSON.stringify(c, null, 1)
    );
    await rejectsWithRule(spaced, 'config.compact');
  });

  it('entries out of BTreeMap (UTF-8) order → config.map-order', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => {
      const e = c.runs[1].attachments.entries;
      c.runs[1].attachments.entries = Object.fromEntries(Object.entries(e).reverse());
    });
    await rejectsWithRule(dir, 'config.map-order');
  });

  it('a duplicate run_id → config.duplicate-id', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.runs[1].run_id = 0));
    await rejectsWithRule(dir, 'config.duplicate-id');
  });

  it('run_parameters pointing at a JSON layer → config.run-parameters', async () => {
    const dir = await copyLayout();
    await rewriteConfig(dir, (c) => void (c.run_parameters = c.attachments.entries.dataset));
    await rejectsWithRule(dir, 'config.run-parameters');
  });

  it('a zstd annotation without the +zstd suffix, or another value → attachment.compression', async () => {
    const { config } = await readLayout((await fixture()).root);
    const k = config.runs[0].attachments.entries.blob;
    const suffix = await copyLayout();
    await repoint(suffix, (m) => void (m.layers[k].mediaType = 'application/octet-stream'));
    await rejectsWithRule(suffix, 'attachment.compression');
    const value = await copyLayout();
    await repoint(value, (m) => void (m.layers[k].annotations[OMMX_COMPRESSION_ANNOTATION] = 'gz'));
    await rejectsWithRule(value, 'attachment.compression');
  });

  it('manifest media type, artifactType and config media type → manifest.*', async () => {
    const artifact = await copyLayout();
    await repoint(artifact, (m) => void (m.mediaType = OCI_ARTIFACT_MANIFEST));
    await rejectsWithRule(artifact, 'manifest.media-type');
    const type = await copyLayout();
    await repoint(type, (m) => void (m.artifactType = 'application/org.ommx.v1.artifact'));
    await rejectsWithRule(type, 'manifest.artifact-type');
    const cfg = await copyLayout();
    await repoint(cfg, (m) => void (m.config.mediaType = 'application/vnd.oci.empty.v1+json'));
    await rejectsWithRule(cfg, 'manifest.config-media-type');
    const schema = await copyLayout();
    await repoint(schema, (m) => void (m.schemaVersion = 1));
    await rejectsWithRule(schema, 'manifest.schema-version');
  });

  it('layers the config does not list in LayerTable order → manifest.layer-order', async () => {
    const dir = await copyLayout();
    await repoint(dir, (m) => void m.layers.push(m.layers[0]));
    await rejectsWithRule(dir, 'manifest.layer-order');
  });

  it('a reference the layout does not name → layout.ref', async () => {
    const dir = await copyLayout();
    await expect(validateOmmxExperimentLayout(dir, 'ghcr.io/acme/other:v1')).rejects.toThrow(
      'OMMX rule [layout.ref] violated'
    );
  });
});

describe('the validator on synthetic layouts (solves, samplings, traces, diagnostics)', () => {
  it('accepts a run with a trace, a solve with diagnostics and a sampling', async () => {
    await expect(validateOmmxExperimentLayout(await synthetic(), REF)).resolves.toBeUndefined();
  });

  it('accepts failed solves without output and interrupted experiments with an outcome', async () => {
    const dir = await synthetic((s) => {
      s.layers.splice(5, 1);
      s.config.runs[0].samplings[0] = {
        sampling_id: 0,
        status: 'interrupted',
        input: 4,
        adapter: 'a',
        adapter_options: '{}',
      };
      s.config.run_parameters = 5;
      const { status: _, ...rest } = s.config;
      s.config = { status: 'interrupted', outcome: { reason: 'KeyboardInterrupt' }, ...rest };
    });
    await expect(validateOmmxExperimentLayout(dir, REF)).resolves.toBeUndefined();
  });

  it('a solve input that is not an Instance → config.solve-input', async () => {
    const dir = await synthetic(
      (s) => void (s.layers[1] = { ...s.layers[1]!, mediaType: 'application/org.ommx.v2.solution' })
    );
    await rejectsWithRule(dir, 'config.solve-input');
  });

  it('a sampling output that is a Solution → config.solve-output', async () => {
    const dir = await synthetic(
      (s) => void (s.layers[5] = { ...s.layers[5]!, mediaType: 'application/org.ommx.v2.solution' })
    );
    await rejectsWithRule(dir, 'config.solve-output');
  });

  it('a trace layer of another media type → config.trace', async () => {
    const dir = await synthetic(
      (s) => void (s.layers[0] = { ...s.layers[0]!, mediaType: 'application/x-protobuf' })
    );
    await rejectsWithRule(dir, 'config.trace');
  });

  it('diagnostics that are not one msgpack array → config.diagnostics', async () => {
    const map = await synthetic(
      (s) => void (s.layers[3] = { ...s.layers[3]!, bytes: DIAGNOSTICS_MAP })
    );
    await rejectsWithRule(map, 'config.diagnostics');
    const type = await synthetic(
      (s) => void (s.layers[3] = { ...s.layers[3]!, mediaType: 'application/msgpack' })
    );
    await rejectsWithRule(type, 'config.diagnostics');
  });

  it('finished ⇔ output present → config.finished-output', async () => {
    const failedWithOutput = await synthetic(
      (s) => void (s.config.runs[0].solves[0].status = 'failed')
    );
    await rejectsWithRule(failedWithOutput, 'config.finished-output');
    const finishedWithout = await synthetic((s) => {
      s.layers.splice(5, 1);
      delete s.config.runs[0].samplings[0].output;
      s.config.run_parameters = 5;
    });
    await rejectsWithRule(finishedWithout, 'config.finished-output');
  });

  it('a duplicate solve_id → config.duplicate-id', async () => {
    const dir = await synthetic((s) => {
      const solve = s.config.runs[0].solves[0];
      s.config.runs[0].solves.push({ ...solve });
    });
    await rejectsWithRule(dir, 'config.duplicate-id');
  });

  it('a compression annotation on a blob that is not zstd → attachment.compression', async () => {
    const dir = await synthetic((s) => {
      s.layers.unshift({
        mediaType: 'application/json+zstd',
        bytes: Buffer.from('{}'),
        annotations: { [OMMX_COMPRESSION_ANNOTATION]: 'zstd' },
      });
      s.config = JSON.parse(
        JSON.stringify(s.config).replace(
          /"(trace|input|output|diagnostics|run_parameters)":(\d)/g,
          (_m, k: string, n: string) => `"${k}":${Number(n) + 1}`
        )
      );
      s.config.attachments.entries = { data: 0 };
    });
    await rejectsWithRule(dir, 'attachment.compression');
  });
});

describe.skipIf(!HAS_SKOPEO)(
  `OMMX interop through skopeo (${HAS_SKOPEO ? 'skopeo found' : SKOPEO_SKIP_REASON})`,
  () => {
    it('skopeo copies the committed experiment to a plain layout that passes the validator', async () => {
      const { root, sealed } = await fixture();
      const out = join(await tempDir('runledger-ommx-skopeo-'), 'copy');
      await exec('skopeo', ['copy', '-q', `oci:${root}:${REF}`, `oci:${out}:${REF}`]);
      const { entry, manifest } = await readLayout(out);
      expect(entry.digest).toBe(sealed.manifestDigest);
      expect(manifest.layers).toHaveLength(sealed.manifest.layers.length);
      await validateOmmxExperimentLayout(out, REF);
      await validateOmmxExperimentLayout(root, REF);
    });

    it('skopeo inspect --raw returns the manifest bytes the validator checked', async () => {
      const { root, sealed } = await fixture();
      const { stdout } = await exec('skopeo', ['inspect', '--raw', `oci:${root}:${REF}`], {
        encoding: 'buffer',
      });
      expect(`sha256:${sha256(stdout)}`).toBe(sealed.manifestDigest);
    });
  }
);
