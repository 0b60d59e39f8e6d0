// A child process for the crash suites: records runs into $RUNLEDGER_HOME through the built
// package and prints one line per write *after* it returned, so the parent knows what the process
// had recorded when it was killed.
//
//   node crash-child.mjs <dist index> <reference> <mode>
//
// mode `loop` (durable: 'always'): runs r0, r1, … each logging 5 parameters (p<k> = i*10+k),
//   metric points m at steps 0..4 (value i + s/10), a JSON attachment every third run, then
//   closing; lines "P i k", "M i s", "A i", "C i". It never ends on its own.
// mode `batched` (the default durability): one closed run; an open run with a parameter, a
//   metric, a text attachment and a HiGHS solve; an experiment attachment. "ready" after 1.5 s.
// mode `default-loop` (the default durability): runs r0, r1, … each logging parameters p0..p2
//   with short random pauses, a metric point, a JSON attachment every third run and a HiGHS solve
//   every fourth, then closing; lines "P i k <ms>", "M i", "A i", "S i", "C i" (the time a
//   parameter call returned, by this process's clock). It never ends on its own.
// mode `sigint-sync`: one closed run, then a run whose callback blocks the event loop for 3 s
//   after printing "busy" (a signal arriving then is handled only once it returns); "closed 1"
//   once that run closed.
// mode `carried` (the default durability): a closed run and an open run each logging a JSON
//   result ({ run: i }); SIGKILLs itself right after the open run's logJson returned.
// mode `signal`: one closed run, then an open run with a parameter and a nested open child,
//   prints "ready" and waits to be signalled. `signal-off` does the same with handleSignals false.
import { pathToFileURL } from 'node:url';

const [dist, reference, mode] = process.argv.slice(2);
const { Experiment } = await import(pathToFileURL(dist).href);
const say = (line) => process.stdout.write(`${line}\n`);

/** The built HiGHS adapter and a tiny LP for it (max 3x, 0 <= x <= 4: objective 12). */
async function tinyLp() {
  const { InstanceBuilder } = await import(pathToFileURL(dist).href);
  const { HighsAdapter } = await import(
    pathToFileURL(dist.replace(/index\.js$/, 'solve/adapters/highs.js')).href
  );
  const b = new InstanceBuilder({ name: 'tiny-lp' });
  const x = b.continuous('x', { lower: 0, upper: 4 });
  b.maximize(x.times(3));
  return { HighsAdapter, instance: b.build() };
}

if (mode === 'loop') {
  const exp = await Experiment.create(reference, { durable: 'always' });
  say('ready');
  for (let i = 0; ; i++) {
    const run = exp.startRun({ name: `r${i}`, tags: { i: String(i) } });
    for (let k = 0; k < 5; k++) {
      run.logParameter(`p${k}`, i * 10 + k);
      say(`P ${i} ${k}`);
    }
    for (let s = 0; s < 5; s++) {
      run.logMetric('m', i + s / 10, { step: s });
      say(`M ${i} ${s}`);
    }
    if (i % 3 === 0) {
      await run.logJson('result', { i });
      say(`A ${i}`);
    }
    await run.finish();
    say(`C ${i}`);
  }
} else if (mode === 'default-loop') {
  const { HighsAdapter, instance } = await tinyLp();
  const exp = await Experiment.create(reference);
  const pause = () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
  say('ready');
  // After SIGINT / SIGTERM the handler closes the open run and ends the process once its
  // checkpoint is written; the loop's next write meets the closed run: wait for the exit then.
  const closedBySignal = (e) => e?.code === 'RUN_CLOSED' || e?.code === 'EXPERIMENT_FAILED';
  process.on('unhandledRejection', (e) => {
    if (!closedBySignal(e)) throw e;
  });
  void (async () => {
    for (let i = 0; ; i++) {
      const run = exp.startRun({ name: `r${i}`, tags: { i: String(i) } });
      for (let k = 0; k < 3; k++) {
        run.logParameter(`p${k}`, i * 10 + k);
        say(`P ${i} ${k} ${Date.now()}`);
        await pause();
      }
      run.logMetric('m', i, { step: 0 });
      say(`M ${i}`);
      if (i % 3 === 0) {
        await run.logJson('result', { i });
        say(`A ${i}`);
      }
      if (i % 4 === 1) {
        await run.logSolve(HighsAdapter, instance, { timeLimit: 10 });
        say(`S ${i}`);
      }
      await run.finish();
      say(`C ${i}`);
    }
  })();
  setInterval(() => undefined, 1000);
} else if (mode === 'sigint-sync') {
  const exp = await Experiment.create(reference);
  await exp.run((run) => run.logParameter('seed', 1), { name: 'first' });
  await exp.autosaveSettled(); // nothing queued: the signal's checkpoint starts at once
  await exp.run(
    (run) => {
      run.logParameter('seed', 2);
      say('busy');
      const end = Date.now() + 3000;
      while (Date.now() < end) {
        // a CPU-bound step (a solve, a training loop) that never yields
      }
      run.logParameter('done', true);
    },
    { name: 'blocking' }
  );
  say('closed 1');
  setInterval(() => undefined, 1000);
} else if (mode === 'signal' || mode === 'signal-off') {
  const exp = await Experiment.create(reference, { handleSignals: mode === 'signal' });
  await exp.run((run) => run.logParameter('seed', 1), { name: 'done' });
  const outer = exp.startRun({ name: 'outer' });
  outer.logParameter('seed', 2);
  outer.logMetric('gap', 0.5);
  const inner = outer.startChild({ name: 'inner' });
  inner.logParameter('seed', 3);
  say('ready');
  setInterval(() => undefined, 1000); // keep running until signalled
} else if (mode === 'batched') {
  // The default durability: writes are journaled within a second, attachments' blobs published
  // at that flush. One closed run, one open run with a parameter, a metric, an attachment and an
  // experiment attachment; "ready" is printed once a flush has surely happened.
  const exp = await Experiment.create(reference);
  await exp.run((run) => run.logParameter('seed', 1), { name: 'done' });
  await exp.logJson('dataset', { n: 20 });
  const run = exp.startRun({ name: 'open' });
  run.logParameter('seed', 2);
  run.logMetric('gap', 0.5);
  await run.logText('log', 'half way');
  // A solve recorded in the open run (HiGHS through the built adapter).
  const { HighsAdapter, instance } = await tinyLp();
  await run.logSolve(HighsAdapter, instance, { timeLimit: 10 });
  setTimeout(() => say('ready'), 1500);
  setInterval(() => undefined, 1000);
} else if (mode === 'carried') {
  // The default durability: a closed run and an open run each log a small JSON; the process
  // kills itself right after the open run's logJson returned, before the background writer (which
  // waits a few ms to gather blobs, and runs on a timer) could write that blob into the store.
  const exp = await Experiment.create(reference);
  await exp.run((run) => run.logJson('result', { run: 0 }), { name: 'closed' });
  say('C 0');
  const open = exp.startRun({ name: 'open' });
  await open.logJson('result', { run: 1 });
  process.kill(process.pid, 'SIGKILL');
} else {
  throw new Error(`unknown mode ${mode}`);
}
