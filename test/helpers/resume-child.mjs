// A child process for the resume test: records one run through the built package — parameters,
// key/value tags, labels, attributes, a description and metric points at steps 0..4, every write
// durable before it returns — prints "logged", and waits to be killed while the run is open.
//
//   node resume-child.mjs <dist index> <reference>
import { pathToFileURL } from 'node:url';

const [dist, reference] = process.argv.slice(2);
const { Experiment } = await import(pathToFileURL(dist).href);

const exp = await Experiment.create(reference, { durable: 'always', handleSignals: false });
const run = exp.startRun({
  name: 'train',
  tags: { stage: 'grid' },
  labels: ['baseline'],
  description: 'the first attempt',
  config: { lr: 0.1, epochs: 10 },
});
run.setTags(['gpu']);
run.setAttribute('dataset', { name: 'qaplib', size: 134 });
for (let step = 0; step < 5; step++) run.logMetric('loss', 1 / (step + 1));
process.stdout.write('logged\n');
setInterval(() => undefined, 1000);
