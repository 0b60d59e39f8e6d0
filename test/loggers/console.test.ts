/**
 * ConsoleLogger on a real Writable that keeps what it is given (`isTTY` set as a terminal's or a
 * pipe's would be): the live line on a TTY (rewritten in place, throttled, cut to the width,
 * colours unless NO_COLOR), one plain line per run end elsewhere; as a logger and as an observer.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { ConsoleLogger } from '../../src/loggers/console.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectError } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

/** A terminal, or a pipe: a Writable that keeps every chunk. */
class Screen extends Writable {
  readonly chunks: string[] = [];
  readonly isTTY: boolean;
  readonly columns: number | undefined;
  constructor(isTTY: boolean, columns?: number) {
    super({ decodeStrings: false });
    this.isTTY = isTTY;
    this.columns = columns;
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(String(chunk));
    done();
  }
  /** What was written since the last call. */
  take(): string[] {
    return this.chunks.splice(0);
  }
}

const CLEAR = '\r\x1b[2K';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('ConsoleLogger on a TTY', () => {
  it('draws one live line, throttled, and a coloured end line', async () => {
    vi.stubEnv('NO_COLOR', undefined);
    vi.useFakeTimers({ now: 0 });
    const screen = new Screen(true);
    const logger = new ConsoleLogger({ stream: screen, interval: 100 });
    const run = logger.startRun({ name: 'trial' });
    expect(screen.take()).toEqual([`${CLEAR}\x1b[1mtrial\x1b[0m  0.0s`]);
    run.logMetrics({ loss: 0.5 });
    run.logMetrics({ loss: 0.123456, acc: 0.9 });
    expect(screen.take()).toEqual([]); // within the interval: one redraw later, not two now
    vi.advanceTimersByTime(100);
    expect(screen.take()).toEqual([`${CLEAR}\x1b[1mtrial\x1b[0m  0.1s  loss=0.1235 acc=0.9`]);
    vi.advanceTimersByTime(1000); // the elapsed time moves without events, once a second
    expect(screen.take()).toEqual([`${CLEAR}\x1b[1mtrial\x1b[0m  1.0s  loss=0.1235 acc=0.9`]);
    vi.advanceTimersByTime(64_000);
    screen.take();
    await run.finish();
    expect(screen.take()).toEqual([
      `${CLEAR}trial \x1b[32mfinished\x1b[0m 1m05s loss=0.1235 acc=0.9\n`,
    ]);
    vi.advanceTimersByTime(5000);
    expect(screen.take()).toEqual([]); // nothing open: no more redraws
  });

  it('shows the run that changed last with the count of the others; cuts to the width; NO_COLOR', async () => {
    vi.stubEnv('NO_COLOR', '1');
    vi.useFakeTimers({ now: 0 });
    const screen = new Screen(true, 40);
    const logger = new ConsoleLogger({ stream: screen, interval: 0 });
    const a = logger.startRun({ name: 'alpha' });
    const b = logger.startRun({ name: 'beta' });
    expect(screen.take().at(-1)).toBe(`${CLEAR}beta  0.0s  (+1 open)`);
    vi.advanceTimersByTime(10);
    a.logMetrics({ objective: 1234.5678, gap: 0.0000123456, nodes: 1_000_000 });
    // 39 columns (one left free, so the cursor never wraps), the last one an ellipsis.
    expect(screen.take()).toEqual([`${CLEAR}alpha  0.0s  objective=1235 gap=0.0000…`]);
    await a.finish('failed');
    expect(screen.take()).toEqual([
      `${CLEAR}alpha failed 0.0s objective=1235 gap=0.00001235 nodes=1000000\n`,
      `${CLEAR}beta  0.0s`,
    ]);
    logger.close(); // erases the live line, stops redrawing
    expect(screen.take()).toEqual([CLEAR]);
    vi.advanceTimersByTime(5000);
    expect(screen.take()).toEqual([]);
    await b.finish('interrupted');
    expect(screen.take()).toEqual(['beta interrupted 5.0s\n']);
  });
});

describe('ConsoleLogger elsewhere (a pipe, a file)', () => {
  it('writes one plain line per run end and nothing while runs go on', async () => {
    vi.stubEnv('NO_COLOR', undefined);
    const screen = new Screen(false);
    const logger = new ConsoleLogger({ stream: screen });
    const run = logger.startRun({ name: 'quiet' });
    for (let step = 0; step < 3; step++) run.logMetrics({ loss: 1 / 2 ** step });
    expect(screen.take()).toEqual([]);
    await run.finish();
    await run.finish(); // once
    const anonymous = logger.startRun();
    await anonymous[Symbol.asyncDispose]();
    expect(screen.take().join('')).toMatch(
      /^quiet finished \d+\.\ds loss=0\.25\nrun-1 failed \d+\.\ds\n$/
    );
  });

  it('observes runledger’s runs (exp.observe), several experiments apart', async () => {
    const screen = new Screen(false);
    const logger = new ConsoleLogger({ stream: screen });
    const registry = await LocalRegistry.open(await tempDir());
    const make = (tag: string) =>
      Experiment.create(`ghcr.io/acme/console:${tag}`, { registry, handleSignals: false });
    const [one, two] = await Promise.all([make('one'), make('two')]);
    one.observe(logger);
    two.observe(logger);
    // Run 0 of each experiment: kept apart by experiment.
    const r1 = one.startRun({ name: 'first' });
    const r2 = two.startRun({ name: 'second' });
    r1.logMetrics({ loss: 0.5 });
    r2.logMetrics({ loss: 0.75 });
    await r2.finish();
    await r1.finish('interrupted');
    await one.commit();
    await two.commit();
    expect(screen.take().join('')).toMatch(
      /^second finished \d+\.\ds loss=0\.75\nfirst interrupted \d+\.\ds loss=0\.5\n$/
    );
  });

  it('refuses an interval that is not a non-negative number', () => {
    expectError(() => new ConsoleLogger({ interval: -1 }), 'ARGUMENT_INVALID');
    expectError(() => new ConsoleLogger({ interval: Number.NaN }), 'ARGUMENT_INVALID');
  });
});
