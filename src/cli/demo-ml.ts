/**
 * @module cli/demo-ml
 * The metrics-heavy demo study `runledger demo --ml` records: a small neural network (8 inputs,
 * one ReLU hidden layer, 3-class softmax) trained by minibatch SGD with momentum on a seeded
 * synthetic data set (three overlapping Gaussian clouds), over a grid of learning rate × batch
 * size × weight decay × hidden width (24 runs, 300 steps each). Every step logs the training
 * loss, accuracy and learning rate (cosine schedule); every tenth the validation loss and
 * accuracy. Runs whose loss explodes stop with a real error and are recorded as failed. Each
 * finished run attaches its confusion matrix (npy), its validation predictions (CSV) and a JSON
 * summary. Plain TypeScript, no dependency: the data and initial weights are seeded, so only
 * the timestamps differ between recordings.
 */
import { npyArray, npyCodec } from '../../codecs/npy.js';
import { Experiment } from '../experiment/experiment.js';
import type { ExperimentObserver } from '../experiment/logger.js';
import type { Run } from '../experiment/run.js';
import type { SealedExperiment } from '../experiment/sealed.js';
import { grid, type SweepConfig } from '../experiment/sweep.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { mulberry32 } from '../experiment/seeded.js';
import { freshTag } from './demo-study.js';

/** The repository the ML demo study is committed to; `:latest` names the newest recording. */
export const ML_DEMO_REPOSITORY = 'runledger.local/demo/ml';
/** The newest ML demo study. */
export const ML_DEMO_REFERENCE: string = `${ML_DEMO_REPOSITORY}:latest`;

const FEATURES = 8;
const CLASSES = 3;
const STEPS = 300;
const TRAIN_SIZE = 2000;
const VALIDATION_SIZE = 500;
const MOMENTUM = 0.9;
/** Validation every this many steps (and at the last). */
const VALIDATE_EVERY = 10;
/**
 * A training loss past this has exploded: the network puts probability e^-200 on the right
 * class. Runs that reach it stop with a {@link DivergenceError}.
 */
const DIVERGED_LOSS = 200;

/** The demo's grid: learning rate × batch size × weight decay × hidden width. */
const AXES = {
  lr: [0.01, 0.05, 0.2],
  batch_size: [16, 64],
  weight_decay: [0, 0.01],
  hidden: [8, 32],
};

/** A training run whose loss left every sensible range (NaN, infinite or past a bound). */
export class DivergenceError extends Error {
  /** The step at which it was seen. */
  readonly step: number;
  /** @param loss - the loss seen @param step - its step */
  constructor(loss: number, step: number) {
    super(`the training loss reached ${loss.toPrecision(3)} at step ${step}: the run diverged`);
    this.name = 'DivergenceError';
    this.step = step;
  }
}

/** A standard normal draw (Box–Muller). */
function gauss(r: () => number): number {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Samples: `FEATURES` values each (row-major) and a class. */
interface DataSet {
  readonly x: Float64Array;
  readonly y: Int32Array;
  readonly n: number;
}

/** Three Gaussian clouds in 8 dimensions (centres drawn once, spread 2.2): they overlap. */
function dataSet(n: number, seed: number): DataSet {
  const centres = mulberry32(7);
  const centre = Array.from({ length: CLASSES }, () =>
    Array.from({ length: FEATURES }, () => gauss(centres) * 1.2)
  );
  const r = mulberry32(seed);
  const x = new Float64Array(n * FEATURES);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * CLASSES);
    y[i] = k;
    for (let d = 0; d < FEATURES; d++) {
      x[i * FEATURES + d] = (centre[k]?.[d] ?? 0) + gauss(r) * 2.2;
    }
  }
  return { x, y, n };
}

/** The data, the same for every run. */
let data: { readonly train: DataSet; readonly validation: DataSet } | undefined;

/** A one-hidden-layer network: weights, their momentum, and a forward pass. */
class Network {
  readonly hidden: number;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  /** The hidden activations and class probabilities of the last forward pass. */
  readonly h: Float64Array;
  readonly p: Float64Array;

  constructor(hidden: number, r: () => number) {
    this.hidden = hidden;
    this.w1 = Float64Array.from(
      { length: FEATURES * hidden },
      () => gauss(r) * Math.sqrt(2 / FEATURES)
    );
    this.b1 = new Float64Array(hidden);
    this.w2 = Float64Array.from(
      { length: hidden * CLASSES },
      () => gauss(r) * Math.sqrt(1 / hidden)
    );
    this.b2 = new Float64Array(CLASSES);
    this.h = new Float64Array(hidden);
    this.p = new Float64Array(CLASSES);
  }

  /** Sample `i` of `set` through the network. @returns its cross-entropy loss */
  forward(set: DataSet, i: number): number {
    const { hidden: H, w1, b1, w2, b2, h, p } = this;
    for (let j = 0; j < H; j++) {
      let s = b1[j] as number;
      for (let d = 0; d < FEATURES; d++)
        s += (set.x[i * FEATURES + d] as number) * (w1[d * H + j] as number);
      h[j] = s > 0 ? s : 0;
    }
    const z = new Float64Array(CLASSES);
    let max = -Infinity;
    for (let k = 0; k < CLASSES; k++) {
      let s = b2[k] as number;
      for (let j = 0; j < H; j++) s += (h[j] as number) * (w2[j * CLASSES + k] as number);
      z[k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < CLASSES; k++) {
      p[k] = Math.exp((z[k] as number) - max);
      sum += p[k] as number;
    }
    for (let k = 0; k < CLASSES; k++) p[k] = (p[k] as number) / sum;
    return max + Math.log(sum) - (z[set.y[i] as number] as number);
  }

  /** The class the last forward pass predicts. */
  predicted(): number {
    let best = 0;
    for (let k = 1; k < CLASSES; k++)
      if ((this.p[k] as number) > (this.p[best] as number)) best = k;
    return best;
  }
}

/** Mean loss and accuracy over a data set, and (when asked) each sample's prediction. */
function evaluate(
  net: Network,
  set: DataSet,
  keep?: { predicted: Int32Array; probabilities: Float64Array }
): { loss: number; accuracy: number } {
  let loss = 0;
  let right = 0;
  for (let i = 0; i < set.n; i++) {
    loss += net.forward(set, i);
    const k = net.predicted();
    if (k === set.y[i]) right++;
    if (keep !== undefined) {
      keep.predicted[i] = k;
      keep.probabilities.set(net.p, i * CLASSES);
    }
  }
  return { loss: loss / set.n, accuracy: right / set.n };
}

/**
 * The ML demo's 24 configs, in the order it records them.
 * @returns lr, batch_size, weight_decay, hidden of each trial
 */
export function mlDemoConfigs(): SweepConfig[] {
  return grid(AXES);
}

/**
 * One training run: the network trained for {@link STEPS} steps, its curves logged, and its
 * confusion matrix, predictions and summary attached.
 * @param run - the trial's run (its config already logged as parameters)
 * @param config - one of {@link mlDemoConfigs}
 * @throws DivergenceError when the loss explodes (the run is recorded as failed)
 */
export async function mlDemoTrial(run: Run, config: SweepConfig): Promise<void> {
  data ??= { train: dataSet(TRAIN_SIZE, 1), validation: dataSet(VALIDATION_SIZE, 2) };
  const { train, validation } = data;
  const lr = Number(config['lr']);
  const batch = Number(config['batch_size']);
  const decay = Number(config['weight_decay']);
  const hidden = Number(config['hidden']);
  run.setTags({ model: 'mlp', optimizer: 'sgd-momentum' });
  if (lr === 0.05 && batch === 64 && decay === 0) run.setTags(['baseline']);
  run.setAttributes({
    dataset: {
      name: 'gaussian-clouds',
      features: FEATURES,
      classes: CLASSES,
      train: TRAIN_SIZE,
      validation: VALIDATION_SIZE,
    },
    parameters: FEATURES * hidden + hidden + hidden * CLASSES + CLASSES,
  });
  const r = mulberry32(42);
  const net = new Network(hidden, r);
  const H = hidden;
  const grads = [net.w1, net.b1, net.w2, net.b2].map((w) => new Float64Array(w.length));
  const velocity = [net.w1, net.b1, net.w2, net.b2].map((w) => new Float64Array(w.length));
  const [g1, gb1, g2, gb2] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];
  const dh = new Float64Array(H);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  let at = train.n;
  for (let step = 0; step < STEPS; step++) {
    const rate = lr * 0.5 * (1 + Math.cos((Math.PI * step) / STEPS));
    for (const g of grads) g.fill(0);
    let loss = 0;
    let right = 0;
    for (let b = 0; b < batch; b++) {
      if (at >= train.n) {
        for (let i = train.n - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          const t = order[i] as number;
          order[i] = order[j] as number;
          order[j] = t;
        }
        at = 0;
      }
      const i = order[at++] as number;
      loss += net.forward(train, i);
      if (net.predicted() === train.y[i]) right++;
      dh.fill(0);
      for (let k = 0; k < CLASSES; k++) {
        const g = (net.p[k] as number) - (k === train.y[i] ? 1 : 0);
        gb2[k] = (gb2[k] as number) + g;
        for (let j = 0; j < H; j++) {
          g2[j * CLASSES + k] = (g2[j * CLASSES + k] as number) + g * (net.h[j] as number);
          dh[j] = (dh[j] as number) + g * (net.w2[j * CLASSES + k] as number);
        }
      }
      for (let j = 0; j < H; j++) {
        if ((net.h[j] as number) <= 0) continue;
        gb1[j] = (gb1[j] as number) + (dh[j] as number);
        for (let d = 0; d < FEATURES; d++) {
          g1[d * H + j] =
            (g1[d * H + j] as number) + (dh[j] as number) * (train.x[i * FEATURES + d] as number);
        }
      }
    }
    loss /= batch;
    if (!(loss <= DIVERGED_LOSS)) throw new DivergenceError(loss, step);
    [net.w1, net.b1, net.w2, net.b2].forEach((w, n) => {
      const g = grads[n] as Float64Array;
      const v = velocity[n] as Float64Array;
      const decays = n === 0 || n === 2; // weights decay, biases do not
      for (let q = 0; q < w.length; q++) {
        v[q] =
          MOMENTUM * (v[q] as number) +
          (g[q] as number) / batch +
          (decays ? decay * (w[q] as number) : 0);
        w[q] = (w[q] as number) - rate * (v[q] as number);
      }
    });
    run.logMetrics({ 'train/loss': loss, 'train/accuracy': right / batch, lr: rate }, { step });
    if (step % VALIDATE_EVERY === VALIDATE_EVERY - 1 || step === STEPS - 1) {
      const v = evaluate(net, validation);
      run.logMetrics({ 'val/loss': v.loss, 'val/accuracy': v.accuracy }, { step });
    }
    // Let the event loop breathe (the sweep's observers, signals) between a few steps.
    if (step % 50 === 49) await new Promise((done) => setImmediate(done));
  }
  const keep = {
    predicted: new Int32Array(validation.n),
    probabilities: new Float64Array(validation.n * CLASSES),
  };
  const final = evaluate(net, validation, keep);
  const confusion = new Int32Array(CLASSES * CLASSES);
  for (let i = 0; i < validation.n; i++) {
    const cell = (validation.y[i] as number) * CLASSES + (keep.predicted[i] as number);
    confusion[cell] = (confusion[cell] as number) + 1;
  }
  await run.logWithCodec(npyCodec, 'confusion.npy', npyArray(confusion, [CLASSES, CLASSES]));
  const lines = ['index,label,predicted,p0,p1,p2'];
  for (let i = 0; i < validation.n; i++) {
    const p = Array.from(keep.probabilities.subarray(i * CLASSES, (i + 1) * CLASSES), (v) =>
      v.toFixed(4)
    );
    lines.push(`${i},${validation.y[i]},${keep.predicted[i]},${p.join(',')}`);
  }
  await run.logAttachment(
    'predictions.csv',
    'text/csv',
    new TextEncoder().encode(`${lines.join('\n')}\n`)
  );
  await run.logJson('summary.json', {
    val_loss: final.loss,
    val_accuracy: final.accuracy,
    steps: STEPS,
    confusion: Array.from({ length: CLASSES }, (_, k) =>
      Array.from(confusion.subarray(k * CLASSES, (k + 1) * CLASSES))
    ),
  });
}

/**
 * Records the ML demo study (24 training runs, a few of them diverging) into `registry`,
 * commits it under a fresh tag and points `:latest` at it.
 * @param registry - the local registry
 * @param options - observer: what watches the runs and the sweep while they go
 * @returns the sealed experiment (under its fresh tag)
 */
export async function recordMlDemoStudy(
  registry: LocalRegistry,
  options: { readonly observer?: ExperimentObserver } = {}
): Promise<SealedExperiment> {
  const reference = `${ML_DEMO_REPOSITORY}:${freshTag(new Date())}`;
  const exp = await Experiment.create(reference, {
    registry,
    annotations: {
      'org.opencontainers.image.description':
        'runledger demo: a small MLP trained by SGD on synthetic data over a hyperparameter grid',
    },
  });
  await exp.logJson('study', {
    model: `MLP ${FEATURES} → hidden (ReLU) → ${CLASSES} (softmax), SGD with momentum ${MOMENTUM}, cosine learning rate`,
    data: `three Gaussian clouds in ${FEATURES} dimensions: ${TRAIN_SIZE} training, ${VALIDATION_SIZE} validation samples`,
    steps: STEPS,
    grid: AXES,
    diverged_when: `training loss > ${DIVERGED_LOSS} or not a number`,
  });
  const unobserve = options.observer === undefined ? undefined : exp.observe(options.observer);
  // Training is computation on this thread: one run at a time is as fast as several.
  await exp.sweep(mlDemoConfigs(), mlDemoTrial, {
    shard: false,
    concurrency: 1,
    name: (c) =>
      `lr${String(c['lr'])}-b${String(c['batch_size'])}-wd${String(c['weight_decay'])}-h${String(c['hidden'])}`,
  });
  unobserve?.();
  const sealed = await exp.commit();
  await registry.replaceRef(ML_DEMO_REFERENCE, await registry.resolve(sealed.reference));
  return sealed;
}
