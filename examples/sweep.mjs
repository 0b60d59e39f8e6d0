// A sharded sweep: every process of a Kubernetes Indexed Job or a Slurm job array runs this
// same script; each records its slice of the configs (runledger reads the shard from the
// environment), commits it as <repository>:<tag>-shard-<i>-of-<n> and pushes it to the team's
// registry. Afterwards, anywhere:
//
//   runledger pull $RUNLEDGER_SWEEP --all-tags        # (the repository part of it)
//   runledger merge $RUNLEDGER_SWEEP-shard-{0..3}-of-4 --into $RUNLEDGER_SWEEP
//
// RUNLEDGER_SWEEP names the sweep, e.g. ghcr.io/acme/qap:grid-2026-12-06 (a tag every shard
// shares). Without a shard in the environment it runs every config.
import { Experiment, grid } from 'runledger';

const sweep = process.env.RUNLEDGER_SWEEP ?? 'runledger.local/examples/sweep:grid-1';
const configs = grid({ lr: [0.1, 0.03, 0.01, 0.003], seed: [1, 2, 3, 4] });

const exp = await Experiment.create(sweep);
const results = await exp.sweep(configs, async (run, config) => {
  // The trial: here a stand-in for training or a solver call.
  let loss = 1;
  for (let step = 0; step < 20; step++) {
    loss *= 1 - config.lr;
    run.logMetric('loss', loss + config.seed * 1e-3, { step });
  }
  return loss;
});
const sealed = await exp.commit();
console.log(`${sealed.reference}: ${results.length} trials`);
if (!sealed.reference.includes('.local/')) await sealed.push();
