// Child process of the remote cases (9-remote.bench.mjs): one push or pull through the built
// dist/, timing only that call, with every HTTP request counted by method. Prints one JSON line:
// { seconds, digest, blobs, bytes, upToDate, requests, maxRssKiB, maxRssBeforeKiB }
// (maxRSS is in KiB on Linux).
//
//   node test/bench/remote-child.mjs push <store root> <local reference> <target reference>
//   node test/bench/remote-child.mjs pull <store root> <remote reference>

// The package entry, as a user's program loads it (apache-arrow included: ~20 MB of the
// "RSS before call").
import { LocalRegistry, pullArtifact, pushArtifact } from '../../dist/src/index.js';

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
/** The global fetch, counting requests by method (the transfer's only way out). */
const countingFetch = (input, init) => {
  const method = init?.method ?? 'GET';
  requests[method] = (requests[method] ?? 0) + 1;
  return fetch(input, init);
};

const registry = await LocalRegistry.open(root);
const maxRssBeforeKiB = process.resourceUsage().maxRSS;
const t0 = performance.now();
const report =
  verb === 'push'
    ? await pushArtifact(ref, target, { registry, fetch: countingFetch })
    : await pullArtifact(ref, { registry, fetch: countingFetch });
const seconds = (performance.now() - t0) / 1000;
const maxRssKiB = process.resourceUsage().maxRSS;
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
