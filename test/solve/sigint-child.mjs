// A child process for the SIGINT-during-a-solve test: records three closed runs (each with a
// short HiGHS solve), then a run whose solve is a long MIP (a minute or more for HiGHS), all
// through the built package and top-level `await`, as a user script would. It prints
// "closed <i>" after each closed run and "solving" once the long solve was asked for; nothing
// after that, unless the long solve returned.
//
//   node sigint-child.mjs <dist index> <reference>
import { pathToFileURL } from 'node:url';
import { marketSplitData } from './market-split.mjs';

const [dist, reference] = process.argv.slice(2);
const { Experiment, Instance } = await import(pathToFileURL(dist).href);
const { HighsAdapter } = await import(
  pathToFileURL(dist.replace(/index\.js$/, 'solve/adapters/highs.js')).href
);
const say = (line) => process.stdout.write(`${line}\n`);

const exp = await Experiment.create(reference);
for (let i = 0; i < 3; i++) {
  await exp.run(
    async (run) => {
      run.logParameter('seed', i);
      const instance = new Instance(marketSplitData(3, i + 1));
      const solution = await run.logSolve(HighsAdapter, instance, { timeLimit: 0.2 });
      run.logMetric('objective', solution.objective);
    },
    { name: `closed-${i}` }
  );
  say(`closed ${i}`);
}
await exp.run(
  async (run) => {
    run.logParameter('seed', 99);
    const solving = run.logSolve(HighsAdapter, new Instance(marketSplitData(4, 1)), {
      timeLimit: 120,
    });
    say('solving');
    await solving;
  },
  { name: 'long' }
);
say('the long solve returned');
