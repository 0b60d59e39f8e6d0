/**
 * The checkpoint queue on its own (experiment/autosave): writes one after another, autosaves
 * coalesced and paced, a waiting caller never waiting out a pause, failures reported. Time is
 * vitest's fake clock, so nothing here depends on how fast the machine is.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointQueue, type AutosaveHost } from '../../src/experiment/autosave.js';
import { AutosavePolicy } from '../../src/experiment/checkpoint.js';
import { expectError } from '../helpers/expect-code.js';

interface Recorder extends AutosaveHost {
  readonly writes: number[];
  fail: Error | undefined;
  saving: boolean;
  /** How long (fake ms) a checkpoint takes. */
  took: number;
}

function host(journaled: boolean): Recorder {
  const h: Recorder = {
    writes: [],
    fail: undefined,
    saving: true,
    took: 0,
    journaled,
    root: process.cwd(),
    reference: () => 'example.com/study:1',
    canSave: () => h.saving,
    checkpoint: async () => {
      if (h.took > 0) await vi.advanceTimersByTimeAsync(h.took);
      if (h.fail !== undefined) throw h.fail;
      h.writes.push(Date.now());
    },
  };
  return h;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CheckpointQueue', () => {
  it('runs writes one after another, in the order asked', async () => {
    const queue = new CheckpointQueue(host(false));
    const order: string[] = [];
    let release!: () => void;
    const first = queue.serial(async () => {
      order.push('first starts');
      await new Promise<void>((r) => (release = r));
      order.push('first ends');
    });
    const second = queue.serial(async () => void order.push('second'));
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['first starts']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second']);
  });

  it('coalesces autosaves asked while one waits in the queue', async () => {
    const h = host(false);
    const queue = new CheckpointQueue(h);
    let release!: () => void;
    const busy = queue.serial(() => new Promise<void>((r) => (release = r)));
    const a = queue.autosave();
    const b = queue.autosave();
    expect(b).toBe(a);
    await vi.advanceTimersByTimeAsync(0);
    release();
    await Promise.all([busy, a]);
    expect(h.writes).toHaveLength(1);
  });

  it('paces journaled autosaves (4x the last one, at least a second) and a waiting caller cuts the pause short', async () => {
    const h = host(true);
    const queue = new CheckpointQueue(h);
    h.took = 500;
    await queue.autosave(); // took 500 ms: the next may not start for 2 s
    expect(h.writes).toHaveLength(1);
    h.took = 0;
    const paced = queue.autosave();
    await vi.advanceTimersByTimeAsync(1999);
    expect(h.writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await paced;
    expect(h.writes).toHaveLength(2);
    // One that took no time: still a second before the next.
    const floor = queue.autosave();
    await vi.advanceTimersByTimeAsync(999);
    expect(h.writes).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await floor;
    expect(h.writes).toHaveLength(3);
    expect(h.writes[2]! - h.writes[1]!).toBe(1000);

    h.took = 100;
    await vi.advanceTimersByTimeAsync(1000);
    await queue.autosave();
    h.took = 0;
    const cut = queue.autosave();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.writes).toHaveLength(4);
    await queue.settled(); // a commit waiting: the pause ends now
    await cut;
    expect(h.writes).toHaveLength(5);
    expect(h.writes[4]! - h.writes[3]!).toBe(10);
  });

  it('does not pace without a journal: the closed run waits for its checkpoint', async () => {
    const h = host(false);
    const queue = new CheckpointQueue(h);
    h.took = 100;
    await queue.autosave();
    h.took = 0;
    await queue.autosave(); // at once: no pause after a checkpoint that took 100 ms
    expect(h.writes[1]! - h.writes[0]!).toBe(0);
  });

  it('asks for an autosave on a run close as the policy says, and waits for it only without a journal', async () => {
    const unjournaled = host(false);
    const queue = new CheckpointQueue(unjournaled);
    queue.policy = AutosavePolicy.everyNRuns(2);
    await queue.runClosed(Date.now());
    expect(unjournaled.writes).toHaveLength(0);
    await queue.runClosed(Date.now()); // resolves once written
    expect(unjournaled.writes).toHaveLength(1);

    const journaled = host(true);
    const other = new CheckpointQueue(journaled);
    journaled.took = 50;
    await other.runClosed(Date.now()); // resolves at once: the journal holds the run
    expect(journaled.writes).toHaveLength(0);
    await other.settled();
    expect(journaled.writes).toHaveLength(1);
  });

  it('writes nothing once the experiment cannot save, and reports a failed autosave as a warning', async () => {
    const h = host(false);
    const queue = new CheckpointQueue(h);
    h.saving = false;
    await queue.autosave();
    expect(h.writes).toEqual([]);

    h.saving = true;
    h.fail = new Error('disk full');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      await queue.autosave(); // reported, not thrown
      await new Promise((r) => process.nextTick(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(queue.lastError).toBe(h.fail);
    expect(warnings.map((w) => w.message)).toEqual([
      'runledger: autosave of experiment example.com/study:1 failed: disk full',
    ]);
    expect((warnings[0] as Error & { code?: string }).code).toBe('RUNLEDGER_AUTOSAVE');

    h.fail = undefined;
    await queue.autosave();
    expect(queue.lastError).toBeUndefined();
  });

  it('takes only an AutosavePolicy', () => {
    const queue = new CheckpointQueue(host(false));
    expectError(() => {
      queue.policy = { spec: { kind: 'every' } } as unknown as AutosavePolicy;
    }, 'ARGUMENT_INVALID');
    queue.policy = AutosavePolicy.disabled();
    expect(queue.policy.spec).toEqual(AutosavePolicy.disabled().spec);
  });
});
