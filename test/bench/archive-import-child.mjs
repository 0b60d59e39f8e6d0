// Child process of the "import … archive" case: creates a fresh LocalRegistry at <root> (not
// timed) and imports the .ommx archive <archive> into it with importArchive (one streaming pass:
// every blob hashed against its name, the batch made durable, then the reference published),
// timing only that call. Afterwards (not timed) it resolves the published reference and checks
// that every blob of the manifest is in the store with its declared size. Prints one JSON line:
// { seconds, reference, digest, resolved, blobs, blobBytes, maxRssKiB, maxRssBeforeKiB }
// (peak RSS in KiB: peakRssKiB in lib.mjs).
//
//   node test/bench/archive-import-child.mjs <archive> <registry-root>
import { importArchive, LocalRegistry } from '../../dist/src/index.js';
import { peakRssKiB } from './lib.mjs';

const [archive, root] = process.argv.slice(2);
if (archive === undefined || root === undefined) {
  console.error('usage: node test/bench/archive-import-child.mjs <archive> <registry-root>');
  process.exit(2);
}

const registry = await LocalRegistry.open(root);
const maxRssBeforeKiB = peakRssKiB();
const t0 = performance.now();
const { reference, descriptor } = await importArchive(registry, archive);
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = peakRssKiB();

const resolved = await registry.resolve(reference);
const { manifest } = await registry.readManifest(resolved.digest);
let blobs = 1; // the manifest, just read and verified
let blobBytes = resolved.size;
for (const d of [manifest.config, ...manifest.layers]) {
  const s = await registry.statBlob(d.digest);
  if (s.size !== d.size) throw new Error(`${d.digest} is ${s.size} bytes, expected ${d.size}`);
  blobs++;
  blobBytes += s.size;
}
process.stdout.write(
  JSON.stringify({
    seconds,
    reference,
    digest: descriptor.digest,
    resolved: resolved.digest,
    blobs,
    blobBytes,
    maxRssKiB,
    maxRssBeforeKiB,
  }) + '\n'
);
