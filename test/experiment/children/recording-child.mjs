// A child process for test/experiment/recording-kill.test.ts: records runs as fast as it can with
// the default durability (crash journal, small blobs flushed in groups, background checkpoints),
// and prints one line per run *after* its close returned, so the parent knows what the process
// had recorded when it was killed.
//
//   node recording-child.mjs <dist index> <reference>
//
// Run i logs parameters p0..p9 (= i * 10 + k), a JSON result { i } and a JSON `shared` that
// every 7th run shares ({ group: i % 7 }: from the eighth run on the store holds it already, so
// it is re-used, not written, while gc runs beside); every 25th run also a 100 KiB text (flushed
// at its close, not in the group). Lines: "ready", then "C i" per close;
// after 8,000 runs (well within one manifest) "done", and it waits to be killed.
import { pathToFileURL } from 'node:url';

const [dist, reference] = process.argv.slice(2);
const { Experiment } = await import(pathToFileURL(dist).href);
const say = (line) => process.stdout.write(`${line}\n`);
const exp = await Experiment.create(reference);
const big = 'x'.repeat(100 * 1024);
// After SIGINT / SIGTERM the handler closes the open run and ends the process once its
// checkpoint is written; the loop's next write meets the closed run: wait for the exit then.
process.on('unhandledRejection', (e) => {
  if (e?.code !== 'RUN_CLOSED' && e?.code !== 'EXPERIMENT_FAILED') throw e;
});
say('ready');
void (async () => {
  for (let i = 0; i < 8000; i++) {
    await exp.run(
      async (run) => {
        for (let k = 0; k < 10; k++) run.logParameter(`p${k}`, i * 10 + k);
        await run.logJson('result', { i });
        await run.logJson('shared', { group: i % 7 });
        if (i % 25 === 0) await run.logText('big', big);
      },
      { name: `r${i}` }
    );
    say(`C ${i}`);
  }
  say('done');
})();
setInterval(() => undefined, 1000);
