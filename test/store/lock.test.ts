import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isRunledgerError } from '../../src/errors.js';
import { withLock } from '../../src/store/lock.js';
import { tempDir } from '../helpers/temp.js';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('withLock', () => {
  it('serialises critical sections within one process', async () => {
    const lock = join(await tempDir(), 'lock');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
        })
      )
    );
    expect(maxInside).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks the stale lock of a dead process', async () => {
    const dir = await tempDir();
    const lock = join(dir, 'lock');
    await writeFile(
      lock,
      JSON.stringify({ pid: deadPid(), host: hostname(), start: null, nonce: 'dead' })
    );
    expect(await withLock(lock, async () => 'ran', { timeoutMs: 2000 })).toBe('ran');
    expect(await readdir(dir)).toEqual([]);
  });

  it('breaks an unreadable lock file only once it is old', async () => {
    const lock = join(await tempDir(), 'lock');
    await writeFile(lock, 'garbage');
    const err = await withLock(lock, async () => 'ran', { timeoutMs: 100 }).catch(
      (e: unknown) => e
    );
    expect(isRunledgerError(err, 'LOCK_TIMEOUT')).toBe(true);
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    expect(await withLock(lock, async () => 'ran', { timeoutMs: 2000 })).toBe('ran');
  });

  it('waits for a live holder and times out with LOCK_TIMEOUT naming it', async () => {
    const lock = join(await tempDir(), 'lock');
    // A live owner: this very process, under another nonce (as another process would be).
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), start: null, nonce: 'other' })
    );
    const err = await withLock(lock, async () => 'ran', { timeoutMs: 150 }).catch(
      (e: unknown) => e
    );
    expect(isRunledgerError(err, 'LOCK_TIMEOUT')).toBe(true);
    expect((err as Error).message).toContain(`process ${process.pid}`);
    expect(existsSync(lock)).toBe(true);
  });

  it('honours an aborted signal while waiting', async () => {
    const lock = join(await tempDir(), 'lock');
    await writeFile(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), start: null, nonce: 'other' })
    );
    const err = await withLock(lock, async () => 'ran', { signal: AbortSignal.timeout(50) }).catch(
      (e: unknown) => e
    );
    expect(isRunledgerError(err, 'ABORTED')).toBe(true);
  });
});
