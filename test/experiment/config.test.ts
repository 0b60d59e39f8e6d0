/**
 * The config blob: OMMX's field order on write, OMMX's loader rules and defaults on read, and
 * loading an artifact shaped as OMMX writes it (no manifest mediaType, Python-style JSON,
 * solves, samplings, a trace).
 */
import { describe, expect, it } from 'vitest';
import {
  parseExperimentConfig,
  serializeExperimentConfig,
  serializeRunConfig,
  type ExperimentConfig,
  type RunConfig,
} from '../../src/experiment/config.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { encodeRunParameters, ParameterTable } from '../../src/experiment/parameters.js';
import { digestOf } from '../../src/oci/digest.js';
import type { Descriptor } from '../../src/oci/types.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const enc = new TextEncoder();
const layer = (mediaType: string, annotations: Record<string, string> = {}): Descriptor => ({
  mediaType,
  digest: digestOf(mediaType),
  size: mediaType.length,
  annotations,
});
const LAYERS: Descriptor[] = [
  layer('application/json'),
  layer('application/org.ommx.v2.instance'),
  layer('application/org.ommx.v2.solution'),
  layer('application/org.ommx.diagnostic+msgpack'),
  layer('application/org.ommx.v2.sample-set'),
  layer('application/org.ommx.trace.otlp+protobuf'),
  layer('application/json+zstd', { 'org.ommx.v1.attachment.compression': 'zstd' }),
  layer('application/org.ommx.v1.experiment.run-parameters+msgpack'),
];

const parse = (json: unknown, layers = LAYERS, allowDraft = false): ExperimentConfig =>
  parseExperimentConfig(enc.encode(JSON.stringify(json)), layers, { allowDraft, subject: 'x' });

const valid = () => ({
  status: 'finished',
  attachments: { entries: { dataset: 0, packed: 6 }, filenames: { dataset: 'd.json' } },
  runs: [
    {
      run_id: 0,
      status: 'failed',
      outcome: { reason: 'ValueError: x' },
      attachments: { entries: {} },
      trace: 5,
      solves: [
        {
          solve_id: 0,
          status: 'finished',
          input: 1,
          output: 2,
          adapter: 'a.B',
          adapter_options: '{"t": 1}',
          diagnostics: 3,
        },
        { solve_id: 1, status: 'failed', input: 1, adapter: 'a.B', adapter_options: '{}' },
      ],
      samplings: [{ sampling_id: 0, input: 1, output: 4, adapter: 'a.S' }],
    },
  ],
  run_parameters: 7,
});

describe('parseExperimentConfig (OMMX loader rules)', () => {
  it('reads a full config, with OMMX defaults for absent fields', () => {
    const c = parse(valid());
    expect(c.status).toBe('finished');
    expect([...c.attachments.entries]).toEqual([
      ['dataset', 0],
      ['packed', 6],
    ]);
    expect(c.runs[0]).toMatchObject({
      runId: 0,
      status: 'failed',
      reason: 'ValueError: x',
      trace: 5,
    });
    expect(c.runs[0]!.solves.map((s) => [s.id, s.status, s.output, s.diagnostics])).toEqual([
      [0, 'finished', 2, 3],
      [1, 'failed', undefined, undefined],
    ]);
    expect(c.runs[0]!.samplings[0]).toMatchObject({
      id: 0,
      status: 'finished',
      adapterOptions: '{}',
    });
    const minimal = parse({
      status: 'finished',
      run_parameters: 7,
      runs: [{ run_id: 3 }],
      unknown_field: 1,
    });
    expect(minimal.runs[0]).toMatchObject({
      runId: 3,
      status: 'finished',
      solves: [],
      samplings: [],
    });
  });

  const broken: [string, (c: ReturnType<typeof valid>) => unknown][] = [
    ['unknown status', (c) => ({ ...c, status: 'bogus' })],
    ['draft outside checkpoints', (c) => ({ ...c, status: 'draft' })],
    ['outcome on a finished experiment', (c) => ({ ...c, outcome: { reason: 'x' } })],
    ['layer ref out of bounds', (c) => ({ ...c, run_parameters: 8 })],
    ['layer ref not an integer', (c) => ({ ...c, run_parameters: 1.5 })],
    ['parameter table of the wrong media type', (c) => ({ ...c, run_parameters: 0 })],
    [
      'filename without entry',
      (c) => ({ ...c, attachments: { entries: {}, filenames: { x: 'y' } } }),
    ],
    ['trace of the wrong media type', (c) => ({ ...c, runs: [{ ...c.runs[0], trace: 0 }] })],
    [
      'solve input not an instance',
      (c) => ({ ...c, runs: [{ ...c.runs[0], solves: [{ ...c.runs[0]!.solves[0], input: 0 }] }] }),
    ],
    [
      'solve output not a solution',
      (c) => ({ ...c, runs: [{ ...c.runs[0], solves: [{ ...c.runs[0]!.solves[0], output: 4 }] }] }),
    ],
    [
      'sampling output not a sample set',
      (c) => ({
        ...c,
        runs: [{ ...c.runs[0], samplings: [{ ...c.runs[0]!.samplings[0], output: 2 }] }],
      }),
    ],
    [
      'diagnostics of the wrong media type',
      (c) => ({
        ...c,
        runs: [{ ...c.runs[0], solves: [{ ...c.runs[0]!.solves[0], diagnostics: 0 }] }],
      }),
    ],
    [
      'finished solve without output',
      (c) => ({
        ...c,
        runs: [{ ...c.runs[0], solves: [{ ...c.runs[0]!.solves[0], output: undefined }] }],
      }),
    ],
    [
      'failed solve with output',
      (c) => ({ ...c, runs: [{ ...c.runs[0], solves: [{ ...c.runs[0]!.solves[1], output: 2 }] }] }),
    ],
    ['duplicate run_id', (c) => ({ ...c, runs: [c.runs[0], c.runs[0]] })],
    [
      'duplicate solve_id',
      (c) => ({
        ...c,
        runs: [{ ...c.runs[0], solves: [c.runs[0]!.solves[0], c.runs[0]!.solves[0]] }],
      }),
    ],
    [
      'compression annotation without +zstd',
      (c) => ({ ...c, attachments: { entries: { bad: 0 } } }),
    ],
  ];

  it.each(broken)('refuses %s with EXPERIMENT_INVALID', async (_name, change) => {
    const layers = [...LAYERS];
    // For the compression case the annotated layer lacks the suffix.
    layers[0] = _name.startsWith('compression')
      ? layer('application/json', { 'org.ommx.v1.attachment.compression': 'zstd' })
      : LAYERS[0]!;
    await expectCode(() => parse(change(valid()), layers), 'EXPERIMENT_INVALID');
  });

  it('accepts draft when asked (checkpoints) and refuses non-JSON', async () => {
    expect(parse({ ...valid(), status: 'draft' }, LAYERS, true).status).toBe('draft');
    await expectCode(
      () => parseExperimentConfig(enc.encode('{not json'), LAYERS),
      'EXPERIMENT_INVALID'
    );
  });

  it('serializes in OMMX field order and reads back to the same config', () => {
    const c = parse(valid());
    const text = new TextDecoder().decode(serializeExperimentConfig(c));
    expect(text).toBe(
      '{"status":"finished","attachments":{"entries":{"dataset":0,"packed":6},"filenames":{"dataset":"d.json"}},' +
        '"runs":[{"run_id":0,"status":"failed","outcome":{"reason":"ValueError: x"},"attachments":{"entries":{}},"trace":5,' +
        '"solves":[{"solve_id":0,"status":"finished","input":1,"output":2,"adapter":"a.B","adapter_options":"{\\"t\\": 1}","diagnostics":3},' +
        '{"solve_id":1,"status":"failed","input":1,"adapter":"a.B","adapter_options":"{}"}],' +
        '"samplings":[{"sampling_id":0,"status":"finished","input":1,"output":4,"adapter":"a.S","adapter_options":"{}"}]}],' +
        '"run_parameters":7}'
    );
    expect(parseExperimentConfig(serializeExperimentConfig(c), LAYERS)).toEqual(c);
  });

  it('writes map keys in byte order, with integer-like names where they belong', () => {
    const c = parse({
      status: 'finished',
      run_parameters: 7,
      attachments: { entries: { b: 0, '10': 0, '9': 0, a: 0 } },
    });
    const text = new TextDecoder().decode(serializeExperimentConfig(c));
    expect(text).toContain('{"entries":{"10":0,"9":0,"a":0,"b":0}}');
  });

  it('writes plain runs (attachments only) as the general writer does, names in byte order', () => {
    const run = (runId: number, entries: [string, number][]): RunConfig => ({
      runId,
      status: 'finished',
      attachments: { entries: new Map(entries), filenames: new Map() },
      solves: [],
      samplings: [],
    });
    const runs = [
      run(0, []),
      run(1, [['result', 3]]),
      run(2, [
        ['a', 4],
        ['b"\u00e9', 5],
      ]),
      // Out of byte order as given (and a lone surrogate, which UTF-8 writes as U+FFFD).
      run(3, [
        ['b', 6],
        ['a', 7],
        ['\ud800', 8],
        ['\u{10000}', 9],
      ]),
    ];
    expect(runs.map(serializeRunConfig)).toEqual([
      '{"run_id":0,"status":"finished","attachments":{"entries":{}},"solves":[],"samplings":[]}',
      '{"run_id":1,"status":"finished","attachments":{"entries":{"result":3}},"solves":[],"samplings":[]}',
      '{"run_id":2,"status":"finished","attachments":{"entries":{"a":4,"b\\"é":5}},"solves":[],"samplings":[]}',
      '{"run_id":3,"status":"finished","attachments":{"entries":{"a":7,"b":6,"\\ud800":8,"𐀀":9}},"solves":[],"samplings":[]}',
    ]);
    // What the reader makes of them: the same runs.
    const layers = [...Array.from({ length: 10 }, () => LAYERS[0]!), LAYERS[7]!];
    const back = parse(
      {
        status: 'finished',
        attachments: { entries: {} },
        run_parameters: 10,
        runs: runs.map((r) => JSON.parse(serializeRunConfig(r)) as unknown),
      },
      layers
    );
    expect(back.runs).toEqual(runs);
  });
});

describe('loading what OMMX writes', () => {
  it('loads an artifact with no manifest mediaType, Python-style JSON, solves and a trace', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const batch = registry.batch();
    const put = async (
      mediaType: string,
      bytes: Uint8Array,
      annotations: Record<string, string> = {}
    ) => ({
      mediaType,
      ...(await batch.putBlob(bytes)),
      annotations,
    });
    const params = new ParameterTable();
    params.log(0, 'solver', 'highs');
    params.log(1, 'time', 1.5);
    const layers = [
      await put('application/json', enc.encode('{"name": "tai20a", "n": 20}')),
      await put('application/org.ommx.v2.instance', new Uint8Array([1, 2])),
      await put('application/org.ommx.v2.solution', new Uint8Array([3])),
      await put('application/org.ommx.trace.otlp+protobuf', new Uint8Array([4])),
      await put(
        'application/org.ommx.v1.experiment.run-parameters+msgpack',
        encodeRunParameters(params)
      ),
    ];
    const config = await batch.putBlob(
      enc.encode(
        JSON.stringify({
          status: 'finished',
          attachments: { entries: { dataset: 0 } },
          runs: [
            {
              run_id: 0,
              attachments: { entries: {} },
              trace: 3,
              solves: [
                {
                  solve_id: 0,
                  input: 1,
                  output: 2,
                  adapter: 'ommx_highs_adapter.OMMXHighsAdapter',
                  adapter_options: '{"verbose": false}',
                },
              ],
            },
            {
              run_id: 1,
              status: 'interrupted',
              outcome: { reason: 'KeyboardInterrupt' },
              attachments: { entries: {} },
            },
          ],
          run_parameters: 4,
        })
      )
    );
    await batch.commit();
    // OMMX's manifest has no top-level mediaType and sorted keys.
    const manifestBytes = enc.encode(
      JSON.stringify({
        artifactType: 'application/org.ommx.v1.experiment',
        config: {
          digest: config.digest,
          mediaType: 'application/org.ommx.v1.experiment.config+json',
          size: config.size,
        },
        layers,
        schemaVersion: 2,
      })
    );
    const m = await registry.putBlob(manifestBytes);
    await registry.publishRef('ghcr.io/jij-inc/ommx/experiment:py', {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...m,
    });
    const sealed = await Experiment.load('ghcr.io/jij-inc/ommx/experiment:py', { registry });
    expect(sealed.manifestDigest).toBe(m.digest);
    expect(await sealed.getJson('dataset')).toEqual({ name: 'tai20a', n: 20 });
    expect(sealed.runs.map((r) => [r.runId, r.status, r.reason])).toEqual([
      [0, 'finished', undefined],
      [1, 'interrupted', 'KeyboardInterrupt'],
    ]);
    expect(sealed.config.runs[0]!.solves[0]).toMatchObject({
      input: 1,
      output: 2,
      adapter: 'ommx_highs_adapter.OMMXHighsAdapter',
    });
    expect(sealed.runs[0]!.parameters).toEqual({ solver: 'highs' });
    expect(sealed.runParametersDf().numRows).toBe(2);
  });

  it('refuses a parameter table naming a run the config lacks', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const params = new ParameterTable();
    params.log(5, 'x', 1);
    const batch = registry.batch();
    const p = await batch.putBlob(encodeRunParameters(params));
    const c = await batch.putBlob(
      enc.encode('{"status":"finished","attachments":{"entries":{}},"runs":[],"run_parameters":0}')
    );
    await batch.commit();
    const d = await registry.writeManifest({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/org.ommx.v1.experiment',
      config: { mediaType: 'application/org.ommx.v1.experiment.config+json', ...c },
      layers: [{ mediaType: 'application/org.ommx.v1.experiment.run-parameters+msgpack', ...p }],
    });
    await registry.publishRef('ghcr.io/a/b:1', d);
    const err = await expectCode(
      Experiment.load('ghcr.io/a/b:1', { registry }),
      'EXPERIMENT_INVALID'
    );
    expect(err.message).toContain('run 5');
  });
});
