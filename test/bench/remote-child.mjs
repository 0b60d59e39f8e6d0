// Child process of the remote cases (9-remote.bench.mjs): one push or pull through the built
// dist/, timing only that call, with every HTTP request counted by method. Prints one JSON line:
// { seconds, digest, blobs, bytes, upToDate, requests, maxRssKiB, maxRssBeforeKiB }
// (requests by method, from the undici and node:http diagnostics channels)
// (peak RSS in KiB: peakRssKiB in lib.mjs).
//
//   node test/bench/remote-child.mjs push <store root> <local reference> <target reference>
//   node test/bench/remote-child.mjs pull <store root> <remote reference>

// The package entry, as a user's program loads it (apache-arrow included: ~20 MB of the
// "RSS before call").
import diagnostics from 'node:diagnostics_channel';
import { LocalRegistry, pullArtifact, pushArtifact } from '../../dist/src/index.js';
import { peakRssKiB } from './lib.mjs';

const [verb, root, ref, target] = process.argv.slice(2);
if (
  root === undefined ||
  ref === undefined ||
  !((verb === 'push' && target !== undefined) || verb === 'pull')
) {
  console.error(
    'usage: node test/bench/remote-child.mjs push <root> <local ref> <target> | pull <root> <ref>'
  );
  process.exit(2);
}

const requests = {};
const count = (method) => {
  requests[method] = (requests[method] ?? 0) + 1;
};
// Requests counted from Node's diagnostics channels, not by injecting a fetch: an injected fetch
// would also turn off the node:http path file-backed uploads take.
diagnostics.subscribe('undici:request:create', ({ request }) => count(request.method));
diagnostics.subscribe('http.client.request.start', ({ request }) => count(request.method));

const registry = await LocalRegistry.open(root);
const maxRssBeforeKiB = peakRssKiB();
const t0 = performance.now();
const report =
  verb === 'push'
    ? await pushArtifact(ref, target, { registry })
    : await pullArtifact(ref, { registry });
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = peakRssKiB();
process.stdout.write(
  JSON.stringify({
    seconds,
    digest: report.digest,
    blobs: report.blobs,
    bytes: report.bytes,
    upToDate: report.upToDate,
    requests,
    maxRssKiB,
    maxRssBeforeKiB,
  }) + '\n'
);
