// A process attaching one referrer to a subject on a registry, for test/remote/referrers.test.ts
// (oci-reference §13 case 4: two processes updating the same `sha256-<hex>` tag index).
// Usage: node attach-referrer.mjs <store root> <target reference> <subject descriptor JSON> <artifactType>
// Writes config + layer + manifest (with `subject`) into its own local store, prints "ready",
// waits for a line on stdin (so two children start pushing together), pushes, then prints one
// JSON line: { digest, warnings }.
import { createInterface } from 'node:readline';
import { LocalRegistry } from '../../../dist/src/index.js';
import { pushArtifact } from '../../../dist/src/remote/transfer.js';

const [root, target, subjectJson, artifactType] = process.argv.slice(2);
const subject = JSON.parse(subjectJson);
const enc = new TextEncoder();
const registry = await LocalRegistry.open(root);
const batch = registry.batch();
const config = await batch.putBlob(enc.encode(JSON.stringify({ artifactType })));
const layer = await batch.putBlob(enc.encode(`referrer of ${subject.digest} as ${artifactType}`));
await batch.commit();
const descriptor = await registry.writeManifest({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  artifactType,
  config: { mediaType: 'application/vnd.runledger.test.config.v1+json', ...config },
  layers: [{ mediaType: 'text/plain', ...layer }],
  subject,
  annotations: { 'org.example.attached-by': artifactType },
});
await registry.publishRef(target, descriptor);

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break;
lines.close();

const warnings = [];
const report = await pushArtifact(target, target, {
  registry,
  onWarning: (w) => warnings.push(w),
});
process.stdout.write(`${JSON.stringify({ digest: report.digest, warnings })}\n`);
