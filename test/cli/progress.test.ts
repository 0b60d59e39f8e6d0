import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import type { CliIo } from '../../src/cli/types.js';

function io(isTTY: boolean): CliIo & { err: () => string } {
  let err = '';
  return {
    stdout: { write: () => true },
    stderr: { write: (t: string | Uint8Array) => ((err += String(t)), true), isTTY },
    env: {},
    err: () => err,
  };
}

describe('progressLine', () => {
  it('draws one updating line on a terminal and ends it', () => {
    const tty = io(true);
    const p = progressLine(tty, true);
    p.onProgress({ phase: 'export', loaded: 512 * 1024, total: 1024 * 1024 });
    p.done();
    expect(tty.err()).toBe('\rexport 512.0 KiB of 1.0 MiB 50%   \n');
  });

  it('stays silent when stderr is not a terminal, or for --json', () => {
    for (const [stream, enabled] of [
      [io(false), true],
      [io(true), false],
    ] as const) {
      const p = progressLine(stream, enabled);
      p.onProgress({ phase: 'import', loaded: 1, total: undefined });
      p.done();
      expect(stream.err()).toBe('');
    }
  });
});
