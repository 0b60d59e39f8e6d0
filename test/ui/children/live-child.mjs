// A child process for test/ui/live.test.ts: a process recording an experiment with one run left
// open, as a training script is while the viewer looks at it.
//
//   node live-child.mjs <dist index> <reference> [with-closed]
//
// With `with-closed`, run 0 (lr 0.5, one loss point) is closed and checkpointed first. The open
// run `live-one` (tags stage=train, label gpu, attribute arch) logs lr 0.1, epochs 3, the JSON
// `note`, loss = 1 / (step + 1) for steps 0–4 and acc at steps 2, 0, 1, 1 (0.3, 0.1, 0.2, 0.25);
// once they are journaled (a write within 100 ms)
// it prints "ready". On SIGUSR2 it logs steps 5–9 and prints "more" once they are journaled.
import { pathToFileURL } from 'node:url';

const [dist, reference, mode] = process.argv.slice(2);
const { Experiment } = await import(pathToFileURL(dist).href);
const say = (line) => process.stdout.write(`${line}\n`);
const exp = await Experiment.create(reference, { handleSignals: false });
if (mode === 'with-closed') {
  await exp.run(
    async (r) => {
      r.logParameter('lr', 0.5);
      r.logMetric('loss', 2, { step: 0 });
    },
    { name: 'closed-zero' }
  );
  await exp.checkpoint();
}
const run = exp.startRun({ name: 'live-one', tags: { stage: 'train' }, labels: ['gpu'] });
run.setAttributes({ arch: { layers: 4 } });
run.logParameter('lr', 0.1);
run.logParameter('epochs', 3);
await run.logJson('note', { hello: 'live' });
for (let step = 0; step < 5; step++) run.logMetric('loss', 1 / (step + 1), { step });
// Out of step order, one step twice: shown in step order, logged order among equal steps.
for (const [step, value] of [
  [2, 0.3],
  [0, 0.1],
  [1, 0.2],
  [1, 0.25],
]) {
  run.logMetric('acc', value, { step });
}
const journaled = (line) => setTimeout(() => say(line), 300);
journaled('ready');
process.on('SIGUSR2', () => {
  for (let step = 5; step < 10; step++) run.logMetric('loss', 1 / (step + 1), { step });
  journaled('more');
});
setInterval(() => undefined, 1000);
