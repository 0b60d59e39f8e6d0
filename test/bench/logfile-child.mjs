// Child process of the "logFile … in a run" case: opens a LocalRegistry at <root>, creates an
// experiment and logs <file> in one run with run.logFile, timing the whole run (logFile, then the
// run's close, which makes the blob durable). The experiment is not committed. Prints one JSON
// line: { seconds, size, digest, maxRssKiB, maxRssBeforeKiB } (peak RSS in KiB: peakRssKiB in lib.mjs).
//
//   node test/bench/logfile-child.mjs <file> <root>
import { Experiment, LocalRegistry } from '../../dist/src/index.js';
import { peakRssKiB } from './lib.mjs';

const [file, root] = process.argv.slice(2);
if (file === undefined || root === undefined) {
  console.error('usage: node test/bench/logfile-child.mjs <file> <registry-root>');
  process.exit(2);
}

const registry = await LocalRegistry.open(root);
const exp = await Experiment.create('localhost/bench/logfile:v1', { registry });
const maxRssBeforeKiB = peakRssKiB();
const t0 = performance.now();
await exp.run(async (run) => {
  await run.logFile('data', file);
});
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = peakRssKiB();
const record = exp.runs[0]?.records.get('data');
if (record === undefined) throw new Error('the run has no "data" attachment');
process.stdout.write(
  JSON.stringify({
    seconds,
    size: record.descriptor.size,
    digest: record.descriptor.digest,
    maxRssKiB,
    maxRssBeforeKiB,
  }) + '\n'
);
