import { describe, expect, it } from 'vitest';
import { progressLine, progressText } from '../../src/cli/progress.js';
import type { CliIo } from '../../src/cli/types.js';

function io(isTTY: boolean, columns?: number): CliIo & { err: () => string } {
  let err = '';
  return {
    stdout: { write: () => true },
    stderr: {
      write: (t: string | Uint8Array) => ((err += String(t)), true),
      isTTY,
      ...(columns === undefined ? {} : { columns }),
    },
    env: {},
    err: () => err,
  };
}

/** A clock the test moves. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('progressText', () => {
  it('shows a bar, the percentage, bytes of the total, the speed and the time left', () => {
    expect(
      progressText({ phase: 'export', loaded: 512 * 1024, total: 1024 * 1024 }, 2, false)
    ).toBe('export [##########..........]  50%  512.0 KiB / 1.0 MiB  256.0 KiB/s  0:02 left');
    expect(
      progressText({ phase: 'export', loaded: 1024 * 1024, total: 1024 * 1024 }, 4, true)
    ).toBe('export [####################] 100%  1.0 MiB / 1.0 MiB  256.0 KiB/s  in 0:04');
    // Without a total: bytes and speed.
    expect(progressText({ phase: 'import', loaded: 2048, total: undefined }, 2, false)).toBe(
      'import  2.0 KiB  1.0 KiB/s'
    );
  });

  it('cuts the phase so that the line fits the terminal', () => {
    const p = { phase: `push ghcr.io/${'a'.repeat(80)}:v1 1/3 blobs`, loaded: 1, total: 4 };
    const line = progressText(p, 1, false, 80);
    expect(line).toHaveLength(79);
    // In the middle: the verb and the blob count stay.
    expect(line).toMatch(/^push ghcr\.i[^…]*…[^…]* 1\/3 blobs \[#####/);
  });
});

describe('progressLine', () => {
  it('redraws at most every 100 ms and ends on a full bar and a new line', async () => {
    const tty = io(true);
    const c = clock();
    const p = progressLine(tty, true, { now: c.now });
    c.advance(1000);
    p.onProgress({ phase: 'export', loaded: 256, total: 1024 });
    c.advance(50);
    p.onProgress({ phase: 'export', loaded: 512, total: 1024 }); // too soon: not drawn
    c.advance(20);
    p.onProgress({ phase: 'export', loaded: 900, total: 1024 }); // too soon again
    c.advance(930);
    expect(await p.track(Promise.resolve('ok'))).toBe('ok');
    const draws = tty
      .err()
      .split('\r')
      .filter((s) => s !== '');
    expect(draws).toEqual([
      'export [#####...............]  25%  256 B / 1.0 KiB  256 B/s  0:03 left\x1b[K',
      'export [####################] 100%  1.0 KiB / 1.0 KiB  512 B/s  in 0:02\x1b[K\n',
    ]);
  });

  it('draws a complete report at once, and a failed task clears the line', async () => {
    const tty = io(true);
    const c = clock();
    const p = progressLine(tty, true, { now: c.now });
    c.advance(1000);
    p.onProgress({ phase: 'pull', loaded: 10, total: 100 });
    c.advance(1);
    p.onProgress({ phase: 'pull', loaded: 100, total: 100 });
    expect(tty.err()).toContain('100%');
    const failed = io(true);
    const q = progressLine(failed, true, { now: c.now });
    q.onProgress({ phase: 'pull', loaded: 10, total: 100 });
    await expect(q.track(Promise.reject(new Error('network')))).rejects.toThrow('network');
    expect(failed.err().endsWith('\r\x1b[2K')).toBe(true);
    expect(failed.err()).not.toContain('100%');
  });

  it('an unknown total ends at 100% of the bytes seen', async () => {
    const tty = io(true);
    const p = progressLine(tty, true);
    p.onProgress({ phase: 'import', loaded: 4096, total: undefined });
    await p.track(Promise.resolve());
    expect(tty.err()).toMatch(/\rimport \[#{20}\] 100%  4\.0 KiB \/ 4\.0 KiB .*\n$/);
  });

  it('stays silent when stderr is not a terminal, or for --json', async () => {
    for (const [stream, enabled] of [
      [io(false), true],
      [io(true), false],
    ] as const) {
      const p = progressLine(stream, enabled);
      p.onProgress({ phase: 'import', loaded: 1, total: undefined });
      await p.track(Promise.resolve());
      expect(stream.err()).toBe('');
    }
  });
});
