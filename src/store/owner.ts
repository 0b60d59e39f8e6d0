/**
 * @module store/owner
 * Who owns a file the store writes outside its content (lock files, temp files, session pins):
 * the owner process's identity, whether it is still alive, and temp-file names that carry it.
 *
 * A process is known by host, pid and (on Linux) its start time, so a reused pid is not taken
 * for the process that wrote the file. A process on another host cannot be judged: it counts as
 * alive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process that owns a file. */
export interface ProcessOwner {
  readonly pid: number;
  readonly host: string;
  /** Its start time in clock ticks (`/proc/<pid>/stat` field 22); null where unknown. */
  readonly start: string | null;
}

/**
 * A process's start time: with the pid it identifies a process even after the pid is reused.
 * @param pid - a process id
 * @returns field 22 of `/proc/<pid>/stat` (clock ticks since boot), or null outside Linux
 */
export function processStart(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let self: ProcessOwner | undefined;

/**
 * This process, as owner records name it.
 * @returns pid, host and start time
 */
export function currentOwner(): ProcessOwner {
  if (self?.pid !== process.pid) {
    self = { pid: process.pid, host: hostname(), start: processStart(process.pid) };
  }
  return self;
}

/** Whether a pid names a running process on this host (EPERM: it exists, owned by another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the process that owns a file is gone: it ran on this host and its pid is dead, or
 * now names a process started at another time. A process on another host is never gone.
 * @param owner - the owner record
 * @returns true when the owner can no longer use the file
 */
export function ownerGone(owner: ProcessOwner): boolean {
  if (owner.host !== hostname()) return false;
  if (!pidAlive(owner.pid)) return true;
  if (owner.start === null) return false;
  const now = processStart(owner.pid);
  return now !== null && now !== owner.start;
}

/** 8 hex digits of this host's name, carried by temp-file names. */
let hostTag: string | undefined;
function currentHostTag(): string {
  hostTag ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  return hostTag;
}

/** This process's random part of temp names, and how many it has made. */
let nonce: { pid: number; prefix: string; count: number } | undefined;

/**
 * A fresh temp-file name that says who writes it: `<kind>-<pid>-<host tag>-<16 hex><suffix>`,
 * the 16 hex digits 8 random ones drawn once per process and a counter (a random draw per name
 * cost ~20 µs, a tenth of writing a small blob).
 * @param kind - what the file becomes (`blob`, `index`, `init`), lowercase letters
 * @param suffix - appended as is, e.g. `.json`
 * @returns the file name (no directory)
 */
export function ownedTempName(kind: string, suffix = ''): string {
  if (nonce?.pid !== process.pid || nonce.count === 0xffffffff) {
    nonce = { pid: process.pid, prefix: randomBytes(4).toString('hex'), count: 0 };
  }
  const n = (++nonce.count).toString(16).padStart(8, '0');
  return `${kind}-${process.pid}-${currentHostTag()}-${nonce.prefix}${n}${suffix}`;
}

/**
 * Whether the process that writes a temp file named by {@link ownedTempName} is gone.
 * @param name - a file name in `.runledger/tmp`
 * @returns `'gone'` (owner on this host, dead), `'alive'`, or `'unknown'` (another host, or a
 *   name without an owner: only its age can tell)
 */
export function tempOwnerState(name: string): 'gone' | 'alive' | 'unknown' {
  // Today's names carry a host tag; names of earlier versions (`blob-<pid>-<hex>`) do not.
  const m = /^[a-z]+-(\d+)-(?:([0-9a-f]{8})-)?[0-9a-f]{12,}(?:\.[a-z]+)?$/.exec(name);
  if (m === null) return 'unknown';
  const pid = Number(m[1]);
  if (m[2] !== undefined && m[2] !== currentHostTag()) return 'unknown';
  if (pidAlive(pid)) return 'alive';
  return m[2] === undefined ? 'unknown' : 'gone';
}
