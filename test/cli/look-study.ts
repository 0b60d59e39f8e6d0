/**
 * The study the table and run-view CLI tests look at: reproducible (no clocks, no host), so the
 * same text every time. Three runs of one experiment — finished, failed, interrupted — with
 * parameters that need 6 significant digits (0.1 + 0.2), a long string and one with control
 * characters, stepped metrics, labels, tags, text and binary attachments (and a text one with an
 * escape sequence in it); and a second
 * experiment of the same project with two runs.
 */
import { npyArray, npyCodec } from '../../codecs/npy.js';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo, type MemoryTerminal } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

export const LOOK = 'ghcr.io/acme/look:v1';
export const LOOK2 = 'ghcr.io/acme/look:v2';

/** A long dataset name: the widest cell of the runs table. */
export const DATASET = 'qaplib/tai256c-with-a-long-instance-name-that-will-not-fit';

export async function lookStudy(): Promise<string> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const options = { registry, reproducible: true, journal: false, handleSignals: false } as const;
  const exp = await Experiment.create(LOOK, options);
  // Text that would drive the terminal: `get` keeps it off one.
  await exp.logText('banner', '\u001b[2Jhello\n');
  await exp.run(
    async (run) => {
      run.logParams({ solver: 'highs', lr: 0.05, seed: 1, dataset: DATASET });
      for (let step = 0; step < 8; step++) run.logMetric('loss', 1 / (step + 1));
      run.logMetric('gap', 0.25);
      await run.logText('notes', 'converged\nafter 8 steps\n');
      await run.logWithCodec(npyCodec, 'trace', npyArray(new Float64Array([3, 2, 1])));
    },
    { name: 'baseline', tags: { stage: 'grid' }, labels: ['gpu'] }
  );
  await exp
    .run(
      (run) => {
        run.logParams({ solver: 'scip', lr: 0.1 + 0.2, seed: 2, dataset: 'tab\there' });
        run.logMetric('loss', 2);
        run.logMetric('loss', Number.NaN);
        run.logMetric('loss', 4);
        throw new TypeError('diverged at step 3');
      },
      { name: 'diverged', tags: { stage: 'grid' } }
    )
    .catch(() => undefined);
  await exp
    .run(
      (run) => {
        run.logParams({ solver: 'highs', lr: 0.05, seed: 3, dataset: 'small' });
        run.logMetric('loss', 0.5);
        const stop = new Error('stopped by the user');
        stop.name = 'AbortError';
        throw stop;
      },
      { name: 'stopped', tags: { stage: 'final' } }
    )
    .catch(() => undefined);
  await exp.commit();
  const again = await Experiment.create(LOOK2, options);
  for (const [seed, lr] of [
    [1, 0.05],
    [2, 0.07],
  ] as const) {
    await again.run((run) => {
      run.logParams({ solver: 'highs', lr, seed, dataset: 'small' });
      run.logMetric('gap', lr * 2);
    });
  }
  await again.commit();
  return root;
}

/** Runs the CLI in process; standard output a pipe unless `terminal` says otherwise. */
export async function lookCli(
  args: readonly string[],
  options: { readonly env?: Record<string, string>; readonly terminal?: MemoryTerminal } = {}
): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(options.env ?? {}, undefined, options.terminal ?? {});
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** A terminal of this many columns. */
export function tty(columns: number): MemoryTerminal {
  return { isTTY: true, columns };
}
