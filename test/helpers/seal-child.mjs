// A child process for the concurrent-sealing suite: records and commits experiments into one
// store through the built package, printing "ready" once the store is open, waiting for "go" on
// stdin (so several children start their writes together), then "sealed <ref> <digest>" after
// each commit returned.
//
//   node seal-child.mjs <dist index> <store root> <writer id> <count>
//
// Every experiment has 4 runs with parameters, one JSON attachment whose bytes every writer
// shares (the same blob published by several processes at once) and one of its own.
import { pathToFileURL } from 'node:url';

const [dist, root, id, countText] = process.argv.slice(2);
const { Experiment, LocalRegistry } = await import(pathToFileURL(dist).href);
const registry = await LocalRegistry.open(root, { lockTimeoutMs: 60_000 });
const say = (line) => process.stdout.write(`${line}\n`);

say('ready');
await new Promise((resolve) => {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (d) => {
    input += d;
    if (input.includes('go\n')) resolve();
  });
});

for (let i = 0; i < Number(countText); i++) {
  const reference = `localhost/seal-${id}/study:${i}`;
  const exp = await Experiment.create(reference, {
    registry,
    handleSignals: false,
    journal: false,
  });
  await exp.logJson('shared', { dataset: 'qaplib', size: 12 });
  for (let r = 0; r < 4; r++) {
    await exp.run(async (run) => {
      run.logParameter('writer', id);
      run.logParameter('study', i);
      run.logParameter('seed', r);
      await run.logJson('result', { writer: id, study: i, seed: r });
    });
  }
  const sealed = await exp.commit();
  say(`sealed ${sealed.reference} ${sealed.manifestDigest}`);
}
