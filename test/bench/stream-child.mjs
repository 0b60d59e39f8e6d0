// Child process of the "stream … into the store" case: opens a LocalRegistry at <root> and
// streams <file> into it with putBlobFile (read, hash and write overlapped; never buffered
// whole), timing only that call. Prints one JSON line:
// { seconds, size, digest, maxRssKiB, maxRssBeforeKiB } (peak RSS in KiB: peakRssKiB in lib.mjs).
//
//   node test/bench/stream-child.mjs <file> <root>
import { LocalRegistry } from '../../dist/src/index.js';
import { peakRssKiB } from './lib.mjs';

const [file, root] = process.argv.slice(2);
if (file === undefined || root === undefined) {
  console.error('usage: node test/bench/stream-child.mjs <file> <registry-root>');
  process.exit(2);
}

const registry = await LocalRegistry.open(root);
const maxRssBeforeKiB = peakRssKiB();
const t0 = performance.now();
const info = await registry.putBlobFile(file);
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = peakRssKiB();
process.stdout.write(
  JSON.stringify({ seconds, size: info.size, digest: info.digest, maxRssKiB, maxRssBeforeKiB }) +
    '\n'
);
