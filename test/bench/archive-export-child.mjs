// Child process of the "export … artifact" case: opens the LocalRegistry at <root> and writes the
// artifact <reference> points at as an .ommx archive at <out> with exportArchive (which streams
// every blob, verifying its digest, and fsyncs the archive), timing only that call. Prints one
// JSON line: { seconds, size, digest, maxRssKiB, maxRssBeforeKiB } (peak RSS in KiB: peakRssKiB in lib.mjs).
//
//   node test/bench/archive-export-child.mjs <registry-root> <reference> <out>
import { exportArchive, LocalRegistry } from '../../dist/src/index.js';
import { peakRssKiB } from './lib.mjs';

const [root, reference, out] = process.argv.slice(2);
if (root === undefined || reference === undefined || out === undefined) {
  console.error(
    'usage: node test/bench/archive-export-child.mjs <registry-root> <reference> <out>'
  );
  process.exit(2);
}

const registry = await LocalRegistry.open(root);
const maxRssBeforeKiB = peakRssKiB();
const t0 = performance.now();
const { descriptor, size } = await exportArchive(registry, reference, out);
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = peakRssKiB();
process.stdout.write(
  JSON.stringify({ seconds, size, digest: descriptor.digest, maxRssKiB, maxRssBeforeKiB }) + '\n'
);
