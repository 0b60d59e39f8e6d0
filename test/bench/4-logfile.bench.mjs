// Case: log one large file as a run attachment through the experiment API (Experiment.create,
// exp.run(run => run.logFile(...))), against dd with conv=fsync writing the same bytes. Ours is
// timed over the whole run, logFile and the run's close (which makes the blob durable), in a
// child process so its peak RSS is its own; experiment creation is not timed and the experiment
// is not committed. Set-up, trials and checks are the stream case's (1-stream.bench.mjs).
import { largeFileCase } from './1-stream.bench.mjs';

export const cases = [
  largeFileCase({
    name: 'logFile',
    child: 'logfile-child.mjs',
    verb: 'logged',
    rssLabel: 'RSS before run',
  }),
];
