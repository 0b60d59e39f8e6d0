/**
 * @module store/blob-writer-thread
 * The program of the store's background blob writer (`new Worker(<this file>)`, never imported;
 * see `store/blob-writer`): it takes groups of small blobs whose bytes a crash journal already
 * holds and writes each into the store the way the main thread would — a temp file, then a link
 * under its digest (never replacing a good blob; a damaged one is replaced) — and answers, per
 * blob, null or why it could not. The main thread pinned every blob of a group before sending it.
 * No imports of runledger's own: the thread loads nothing but Node's `fs`.
 */
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { WriteAnswer, WriteGroup } from './blob-writer.js';

/** Writes one blob: temp file, link (no clobber), temp removed. */
function writeBlob(group: WriteGroup, i: number): void {
  const blob = blobOf(group, i);
  const target = join(group.blobDir, blob.hex);
  // The group's name (pid and host of this process: GC leaves it alone while we live) + index.
  const temp = join(group.tmpDir, `${group.tempName}${i.toString(16).padStart(4, '0')}`);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    let off = 0;
    while (off < blob.bytes.byteLength) off += writeSync(fd, blob.bytes, off);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(temp);
    throw e;
  }
  closeSync(fd);
  try {
    linkSync(temp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      unlinkQuietly(temp);
      throw e;
    }
    // Stored already: kept when it holds these bytes (touched, for GC's grace period), replaced
    // when it is damaged.
    let same = false;
    try {
      same = readFileSync(target).equals(blob.bytes);
    } catch {
      // unreadable: replaced below
    }
    if (!same) {
      renameSync(temp, target);
      return;
    }
    const now = new Date();
    utimesSync(target, now, now);
  }
  unlinkQuietly(temp);
}

/** The `i`th blob of a group: its digest in hex and a view of its bytes. */
function blobOf(group: WriteGroup, i: number): { hex: string; bytes: Uint8Array } {
  const start = i === 0 ? 0 : (group.ends[i - 1] as number);
  return {
    hex: group.hexes.slice(64 * i, 64 * (i + 1)),
    bytes: new Uint8Array(group.bytes, start, (group.ends[i] as number) - start),
  };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // left for GC (its name says whose it is)
  }
}

parentPort?.on('message', (group: WriteGroup) => {
  const errors: (string | null)[] = [];
  for (let i = 0; i < group.ends.length; i++) {
    try {
      writeBlob(group, i);
      errors.push(null);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const answer: WriteAnswer = { id: group.id, errors };
  parentPort?.postMessage(answer);
});
