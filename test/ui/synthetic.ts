/**
 * Synthetic viewer data of any size, for browser tests and benches that need no store: a valid
 * `UiBundle` (src/ui/model.ts) built from a seeded generator, so equal options give equal data.
 * The real path (store → bundle) is src/ui/data.ts; this one only shapes numbers.
 */
import { deflateSync } from 'node:zlib';
import { mulberry32 } from '../../src/experiment/seeded.js';
import {
  UI_DATA_VERSION,
  type UiAttachment,
  type UiBundle,
  type UiCell,
  type UiColumn,
  type UiExperiment,
  type UiMetricSeries,
  type UiRunDetail,
  type UiStatus,
} from '../../src/ui/model.js';

/** What {@link syntheticBundle} makes. */
export interface SyntheticOptions {
  /** Runs in all, spread over `experiments`. */
  readonly runs: number;
  /** Parameter columns (every fourth a string, the rest numbers). */
  readonly params: number;
  /** Metric columns; each run logs every metric. */
  readonly metrics: number;
  /** Points of each metric series (0: no series, only the last values in the table). */
  readonly points: number;
  readonly seed: number;
  /** Experiments the runs are spread over (default 2, at most `runs`). */
  readonly experiments?: number;
  /** Whether to include every run's `UiRunDetail` (default true; benches of the table skip it). */
  readonly details?: boolean;
}

const PARAM_NAMES = ['lr', 'batch_size', 'optimizer', 'depth', 'dropout', 'width', 'momentum'];
const METRIC_NAMES = ['loss', 'accuracy', 'val_loss', 'f1', 'grad_norm'];
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adagrad'];
const STAGES = ['dev', 'staging', 'prod'];
const START = Date.UTC(2026, 0, 15, 9, 0, 0);

/** The name of parameter `i`: a familiar one first, then `p<i>`. */
export function syntheticParamName(i: number): string {
  return PARAM_NAMES[i] ?? `p${i}`;
}

/** The name of metric `i`: a familiar one first, then `m<i>`. */
export function syntheticMetricName(i: number): string {
  return METRIC_NAMES[i] ?? `m${i}`;
}

/**
 * A valid `UiBundle` of `runs` runs with `params` parameters and `metrics` metrics each. Run 0
 * of the first experiment carries one attachment of each preview kind (JSON, text, CSV, PNG,
 * NPY) and one solve; about 6% of runs failed and 3% were interrupted.
 */
export function syntheticBundle(o: SyntheticOptions): UiBundle {
  const random = mulberry32(o.seed);
  const nExp = Math.max(1, Math.min(o.experiments ?? 2, o.runs));
  const experimentOf: number[] = [];
  const runIds: number[] = [];
  const statuses: UiStatus[] = [];
  const counters = new Array<number>(nExp).fill(0);
  for (let i = 0; i < o.runs; i++) {
    const e = Math.floor((i * nExp) / o.runs);
    experimentOf.push(e);
    runIds.push(counters[e]!);
    counters[e]! += 1;
    const u = random();
    statuses.push(u < 0.06 ? 'failed' : u < 0.09 ? 'interrupted' : 'finished');
  }
  const experiments: UiExperiment[] = counters.map((count, e) => {
    const id = (0x1a2b3c4d5e00 + e * 0x1111).toString(16).padStart(12, '0');
    const rows = statuses.filter((_, i) => experimentOf[i] === e);
    return {
      id,
      reference: `runledger.local/synthetic/sweep-${e}:latest`,
      project: `synthetic/sweep-${e}`,
      tag: 'latest',
      digest: `sha256:${id}${'0'.repeat(52)}`,
      status: 'finished',
      reason: null,
      runCount: count,
      failedCount: rows.filter((s) => s === 'failed').length,
      interruptedCount: rows.filter((s) => s === 'interrupted').length,
      createdAt: new Date(START + e * 3_600_000).toISOString(),
      size: 20_000 + count * 1_500,
      parent: e > 0 ? `runledger.local/synthetic/sweep-${e - 1}:latest` : null,
    };
  });

  // Parameters first: the metrics depend on them, as a sweep's would.
  const paramValues: UiCell[][] = [];
  for (let p = 0; p < o.params; p++) {
    const col: UiCell[] = [];
    for (let i = 0; i < o.runs; i++) {
      if (p % 4 === 2) col.push(OPTIMIZERS[Math.floor(random() * OPTIMIZERS.length)]!);
      else if (p === 0) col.push(Number((10 ** (-4 + random() * 3)).toPrecision(3)));
      else if (p === 1) col.push(2 ** (4 + Math.floor(random() * 5)));
      else col.push(Math.round(random() * 1000) / 1000);
    }
    paramValues.push(col);
  }
  const quality: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const lr = o.params > 0 ? (paramValues[0]![i] as number) : 0.01;
    quality.push(Math.abs(Math.log10(lr) + 2.5) * 0.3 + random() * 0.4);
  }
  const metricLast: (number | null)[][] = [];
  for (let m = 0; m < o.metrics; m++) {
    const col: (number | null)[] = [];
    for (let i = 0; i < o.runs; i++) {
      if (statuses[i] === 'failed' && random() < 0.5) col.push(null);
      else col.push(Number(finalValue(m, quality[i]!).toFixed(5)));
    }
    metricLast.push(col);
  }

  const startedAt = runIds.map((_, i) => START + i * 60_000 + Math.floor(random() * 30_000));
  const duration = runIds.map(() => 5_000 + Math.floor(random() * 120_000));
  const columns: UiColumn[] = [
    col('run_id', 'run', 'number', runIds),
    col(
      'project',
      'run',
      'string',
      experimentOf.map((e) => experiments[e]!.project)
    ),
    col(
      'name',
      'run',
      'string',
      runIds.map((r, i) => `run-${experimentOf[i]}-${r}`)
    ),
    col('status', 'run', 'string', statuses),
    col('started_at', 'run', 'time', startedAt),
    col(
      'ended_at',
      'run',
      'time',
      startedAt.map((s, i) => s + duration[i]!)
    ),
    col('duration_ms', 'run', 'number', duration),
    ...paramValues.map((v, p) =>
      col(`params.${syntheticParamName(p)}`, 'param', p % 4 === 2 ? 'string' : 'number', v)
    ),
    ...metricLast.map((v, m) => col(`metrics.${syntheticMetricName(m)}`, 'metric', 'number', v)),
    col(
      'tags.stage',
      'tag',
      'string',
      runIds.map(() => STAGES[Math.floor(random() * STAGES.length)]!)
    ),
  ];
  const metricNames = Array.from({ length: o.metrics }, (_, m) => syntheticMetricName(m));

  const series: UiMetricSeries[] = [];
  if (o.points > 0) {
    for (let i = 0; i < o.runs; i++) {
      for (let m = 0; m < o.metrics; m++) {
        const steps: number[] = [];
        const timestamps: number[] = [];
        const values: number[] = [];
        const last = metricLast[m]![i] ?? finalValue(m, quality[i]!);
        for (let s = 0; s < o.points; s++) {
          const progress = (s + 1) / o.points;
          steps.push(s);
          timestamps.push(startedAt[i]! + Math.round((s * duration[i]!) / o.points));
          values.push(curve(m, last, progress) + (random() - 0.5) * 0.04 * Math.abs(last + 0.1));
        }
        series.push({
          experiment: experiments[experimentOf[i]!]!.id,
          runId: runIds[i]!,
          name: syntheticMetricName(m),
          steps,
          timestamps,
          values,
        });
      }
    }
  }

  const attachments: Record<string, string> = {};
  const details: UiRunDetail[] = [];
  if (o.details ?? true) {
    for (let i = 0; i < o.runs; i++) {
      const e = experiments[experimentOf[i]!]!;
      const parameters: Record<string, UiCell> = {};
      for (let p = 0; p < o.params; p++) parameters[syntheticParamName(p)] = paramValues[p]![i]!;
      const first = i === 0;
      const files = first ? sampleAttachments() : [];
      for (const f of files) {
        attachments[`${e.id}/${runIds[i]}/${f.attachment.name}`] = Buffer.from(f.bytes).toString(
          'base64'
        );
      }
      const failed = statuses[i] === 'failed';
      details.push({
        experiment: e.id,
        runId: runIds[i]!,
        name: `run-${experimentOf[i]}-${runIds[i]}`,
        status: statuses[i]!,
        reason: statuses[i] === 'interrupted' ? 'SIGINT' : null,
        error: failed
          ? {
              type: 'RangeError',
              message: `loss diverged at step ${Math.floor(random() * 100)}`,
              stack:
                'RangeError: loss diverged\n    at train (train.ts:42:11)\n    at main (train.ts:80:3)',
            }
          : null,
        description: first ? 'The baseline of the sweep.' : null,
        startedAt: new Date(startedAt[i]!).toISOString(),
        endedAt: new Date(startedAt[i]! + duration[i]!).toISOString(),
        host: 'synthetic-host',
        runledgerVersion: '0.1.0',
        parentRunId: runIds[i]! > 0 && runIds[i]! % 5 === 0 ? runIds[i]! - 1 : null,
        resumedFrom: null,
        parameters,
        tags: { stage: columns.at(-1)!.values[i] as string },
        labels: first ? ['baseline'] : [],
        attributes: first ? { dataset: { name: 'mnist', rows: 60000 } } : {},
        metrics: metricNames.map((name, m) => ({
          name,
          points: o.points,
          last: metricLast[m]![i]!,
        })),
        attachments: files.map((f) => f.attachment),
        solves: first ? [sampleSolve()] : [],
      });
    }
  }

  return {
    study: {
      version: UI_DATA_VERSION,
      title: `synthetic study (${o.runs} runs)`,
      experiments,
      runs: { experiment: experimentOf, runId: runIds, status: statuses, columns, metricNames },
      readAt: new Date(START + 86_400_000).toISOString(),
    },
    runs: details,
    metrics: series,
    attachments,
  };
}

function col(
  name: string,
  kind: UiColumn['kind'],
  type: UiColumn['type'],
  values: readonly UiCell[]
): UiColumn {
  return { name, kind, type, values };
}

/** Metric `m`'s final value for a run of the given quality (lower is better). */
function finalValue(m: number, quality: number): number {
  switch (m % 5) {
    case 1:
      return 1 - quality * 0.5; // accuracy
    case 3:
      return 0.95 - quality * 0.6; // f1
    default:
      return 0.05 + quality * (1 + (m % 5) * 0.2);
  }
}

/** A training curve reaching `last` at progress 1. */
function curve(m: number, last: number, progress: number): number {
  const decay = Math.exp(-4 * progress) - Math.exp(-4);
  return m % 5 === 1 || m % 5 === 3 ? last - decay * last * 0.8 : last + decay * 2;
}

interface SampleFile {
  readonly attachment: UiAttachment;
  readonly bytes: Uint8Array;
}

function file(
  name: string,
  mediaType: string,
  preview: UiAttachment['preview'],
  bytes: Uint8Array
): SampleFile {
  return {
    attachment: {
      name,
      mediaType,
      size: bytes.length,
      digest: `sha256:${'ab'.repeat(32)}`,
      preview,
    },
    bytes,
  };
}

/** One attachment of each preview kind. */
function sampleAttachments(): SampleFile[] {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  return [
    file(
      'config.json',
      'application/json',
      'json',
      text('{"model":{"depth":4,"width":128},"seed":7}')
    ),
    file(
      'train.log',
      'text/plain',
      'text',
      text('epoch 1 loss 0.91\nepoch 2 loss 0.55\nepoch 3 loss 0.40\n')
    ),
    file(
      'scores.csv',
      'text/csv',
      'csv',
      text('epoch,loss,accuracy\n1,0.91,0.62\n2,0.55,0.81\n3,0.40,0.88\n')
    ),
    file('confusion.png', 'image/png', 'image', png(16, 16)),
    file('weights.npy', 'application/x-npy', 'npy', npyFloat64([0.5, 0.25, -1.5, 2, 3.75, 1e-3])),
  ];
}

function sampleSolve(): UiRunDetail['solves'][number] {
  return {
    id: 0,
    kind: 'solve',
    adapter: 'highs',
    options: { timeLimit: 10, presolve: 'on' },
    status: 'finished',
    objective: 42.5,
    feasible: true,
    optimality: 'optimal',
    startedAt: new Date(START).toISOString(),
    endedAt: new Date(START + 120).toISOString(),
    durationMs: 120,
    variables: 3,
    constraints: 2,
    values: [
      { id: 0, name: 'x[0]', value: 1 },
      { id: 1, name: 'x[1]', value: 0 },
      { id: 2, name: null, value: 2.5 },
    ],
    truncated: false,
  };
}

/** An NPY v1.0 file of a little-endian float64 vector. */
export function npyFloat64(values: readonly number[]): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${values.length},), }`;
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + values.length * 8);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const data = new DataView(out.buffer, total);
  values.forEach((v, i) => data.setFloat64(i * 8, v, true));
  return out;
}

/** A `w`×`h` RGB PNG of a diagonal gradient. */
function png(w: number, h: number): Uint8Array {
  const raw = new Uint8Array(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + w * 3)] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      const o = y * (1 + w * 3) + 1 + x * 3;
      raw[o] = (x * 255) / (w - 1);
      raw[o + 1] = (y * 255) / (h - 1);
      raw[o + 2] = 160;
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
