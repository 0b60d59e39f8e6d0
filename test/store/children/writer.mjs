// A writer process for the concurrency and crash suites: publishes refs over shared and unique
// blobs into one store, printing "ready" once the store is open, then "published <ref> <digest>"
// after each publish returns.
// Usage: node writer.mjs <root> <writer-id> <count>
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LocalRegistry } from '../../../dist/src/index.js';

const [root, id, countText] = process.argv.slice(2);
const count = Number(countText);
const registry = await LocalRegistry.open(root, { lockTimeoutMs: 60_000 });
const enc = new TextEncoder();
process.stdout.write('ready\n');

for (let i = 0; i < count; i++) {
  const batch = registry.batch();
  const shared = await batch.putBlob(enc.encode(`shared blob ${i % 7}`));
  const unique = await batch.putBlob(
    enc.encode(`writer ${id} ref ${i} ${randomBytes(8).toString('hex')}`)
  );
  // Every third ref carries a larger streamed layer, so kills land inside long writes too.
  const layers = [shared, unique];
  if (i % 3 === 0) {
    const big = randomBytes(48 * 1024 + i);
    layers.push(
      await batch.putBlobStream(Readable.from([big.subarray(0, 20_000), big.subarray(20_000)]))
    );
  }
  const config = await batch.putBlob(enc.encode(JSON.stringify({ writer: id, i })));
  await batch.commit();
  const descriptor = await registry.writeManifest({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.runledger.test.v1',
    config: { mediaType: 'application/vnd.runledger.test.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/octet-stream', ...l })),
  });
  const ref = `localhost/writer-${id}/run:${i}`;
  await registry.publishRef(ref, descriptor);
  process.stdout.write(`published ${ref} ${descriptor.digest}\n`);
}
