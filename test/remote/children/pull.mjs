// A process pulling one reference into a store, for test/remote/bad-registry.test.ts (a pull killed
// with SIGKILL keeps the blobs it verified up to about a second before).
// Usage: node pull.mjs <store root> <reference>
// Its blobs retry without end (the test kills it), with short pauses.
import { LocalRegistry, pullArtifact } from '../../../dist/src/index.js';

const [root, reference] = process.argv.slice(2);
const registry = await LocalRegistry.open(root);
await pullArtifact(reference, { registry, backoffMs: 10, blobRetries: 1_000_000 });
process.stdout.write('done\n');
