/**
 * @module store/lock
 * A cross-process lock file with stale-lock recovery, plus in-process serialisation.
 *
 * The lock is taken by hard-linking a complete owner file (pid, host, process start time, nonce)
 * to the lock path, so the lock file is never seen half-written. A lock whose owner process is
 * gone (same host, pid dead or reused) is stale; breaking it happens under a short guard file
 * and only when the lock still holds the very owner record found stale, so two processes
 * breaking at once cannot remove a live lock.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';
import { currentOwner, ownerGone, type ProcessOwner } from './owner.js';

/** Options of {@link withLock}. */
export interface LockOptions {
  /** How long to wait for a live holder before `LOCK_TIMEOUT`. @default 30000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The record a lock file (and each waiting candidate) holds. */
interface LockOwner extends ProcessOwner {
  readonly nonce: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A guard older than this belongs to a breaker that died mid-break. */
const GUARD_STALE_MS = 2_000;
/** A lock file that does not parse and is older than this is stale. */
const UNREADABLE_STALE_MS = 10_000;

const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` while holding the lock at `lockPath`, across processes and within this one.
 *
 * @param lockPath - the lock file (its directory must exist)
 * @param fn - the critical section
 * @param options - timeout and signal
 * @returns what `fn` returns
 * @throws RunledgerError `LOCK_TIMEOUT` when a live process holds the lock past the timeout
 * @example
 * ```ts
 * await withLock(join(root, '.runledger/lock'), async () => rewriteIndex());
 * ```
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {}
): Promise<T> {
  const previous = inProcess.get(lockPath) ?? Promise.resolve();
  const run = previous.then(
    () => holdFileLock(lockPath, fn, options),
    () => holdFileLock(lockPath, fn, options)
  );
  const tail = run.catch(() => undefined);
  inProcess.set(lockPath, tail);
  try {
    return await run;
  } finally {
    if (inProcess.get(lockPath) === tail) inProcess.delete(lockPath);
  }
}

async function holdFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions
): Promise<T> {
  const owner = await acquire(lockPath, options);
  try {
    return await fn();
  } finally {
    await release(lockPath, owner);
  }
}

/** The owner files a waiting process writes beside the lock (`lock.<pid>.<nonce>`). */
export const LOCK_CANDIDATE_NAME: RegExp = /^lock\.\d+\.[0-9a-f]+$/;

/**
 * Whether a waiting process's owner file beside the lock is abandoned: its owner is gone, or it
 * holds no whole owner record and is older than a writer could take to finish it.
 * @param text - the file's content
 * @param ageMs - how long ago it was last written
 * @returns true when nobody will use the file again
 */
export function lockCandidateAbandoned(text: string, ageMs: number): boolean {
  const owner = parseOwner(text);
  return owner === undefined ? ageMs > UNREADABLE_STALE_MS : ownerGone(owner);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string') {
      return { pid: v.pid, host: v.host, start: v.start ?? null, nonce: v.nonce };
    }
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

async function acquire(lockPath: string, options: LockOptions): Promise<LockOwner> {
  const owner: LockOwner = { ...currentOwner(), nonce: randomBytes(8).toString('hex') };
  const text = JSON.stringify(owner);
  const candidate = `${lockPath}.${owner.pid}.${owner.nonce}`;
  try {
    await writeFile(candidate, text, { flag: 'wx' });
  } catch (e) {
    throw ioError(e, 'create the lock file', candidate);
  }
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let delay = 2;
  try {
    for (;;) {
      throwIfAborted(options.signal);
      try {
        await link(candidate, lockPath);
        return owner;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw ioError(e, 'take the lock', lockPath);
        }
      }
      const held = await readHolder(lockPath);
      if (held !== undefined && (await isStale(lockPath, held))) {
        await breakStale(lockPath, held.text);
        continue;
      }
      if (Date.now() > deadline) {
        const who = held?.owner;
        throw new RunledgerError(
          'LOCK_TIMEOUT',
          `The lock ${lockPath} is held by ${who === undefined ? 'another process' : `process ${who.pid} on ${who.host}`}; retry when it finishes.`,
          { data: { path: lockPath, pid: who?.pid, host: who?.host } }
        );
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    await unlink(candidate).catch(() => undefined);
  }
}

async function readHolder(
  lockPath: string
): Promise<{ text: string; owner: LockOwner | undefined } | undefined> {
  try {
    const text = await readFile(lockPath, 'utf8');
    return { text, owner: parseOwner(text) };
  } catch {
    return undefined; // released meanwhile: just retry
  }
}

async function isStale(
  lockPath: string,
  held: { text: string; owner: LockOwner | undefined }
): Promise<boolean> {
  if (held.owner === undefined) {
    const s = await stat(lockPath).catch(() => undefined);
    return s !== undefined && Date.now() - s.mtimeMs > UNREADABLE_STALE_MS;
  }
  return ownerGone(held.owner);
}

async function breakStale(lockPath: string, staleText: string): Promise<void> {
  const guard = `${lockPath}.break`;
  let fd;
  try {
    fd = await open(guard, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(e, 'create', guard);
    // Another process is breaking: wait for it, unless it died mid-break.
    const s = await stat(guard).catch(() => undefined);
    if (s !== undefined && Date.now() - s.mtimeMs > GUARD_STALE_MS) {
      await unlink(guard).catch(() => undefined);
    } else {
      await sleep(5);
    }
    return;
  }
  try {
    const now = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (now === staleText) await unlink(lockPath).catch(() => undefined);
  } finally {
    await fd.close();
    await unlink(guard).catch(() => undefined);
  }
}

async function release(lockPath: string, owner: LockOwner): Promise<void> {
  const now = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (now !== undefined && parseOwner(now)?.nonce === owner.nonce) {
    await unlink(lockPath).catch(() => undefined);
  }
}
