/**
 * @module store/blob-writer-thread
 * The program of the store's background blob writer (`new Worker(<this file>)`, never imported;
 * see `store/blob-writer`): it takes groups of small blobs whose bytes a crash journal already
 * holds and writes each into the store the way the main thread would — a temp file, then a link
 * under its digest (never replacing a good blob; a damaged one is replaced) — and answers, per
 * blob, null or why it could not. The main thread pinned every blob of a group before sending it.
 * Of runledger's own it loads only `store/slow-creations` and `store/flush`.
 *
 * When creating files is slow, the thread flushes the file system after a group (when: {@link
 * SlowCreations}): an ext4 without a journal does not reuse an inode freed in the last minute —
 * five minutes while the inode's table block is dirty — and checks every such inode on each file
 * creation, so minutes after thousands of files were deleted (a `gc`, an `rm -r`) each blob took
 * 300–900 µs where it takes 20–30. A flush cleans those blocks: the freed inodes older than a
 * minute are taken again and the scans stay short (measured after a bench run's clean-up: 2,649
 * → 9,068 runs/s recording). A flush that does not help (the first minute, a slow disk) makes the
 * thread wait longer before the next.
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
import { syncFileSystemSync } from './flush.js';
import { SlowCreations } from './slow-creations.js';

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

const slow = new SlowCreations();
/**
 * Set by the kill tests (`RUNLEDGER_TEST_FLUSH_EVERY_GROUP=1`): a flush after every group, as if
 * creating files were always slow, so that the path is killed at random moments too.
 */
const FLUSH_EVERY_GROUP = process.env['RUNLEDGER_TEST_FLUSH_EVERY_GROUP'] === '1';

parentPort?.on('message', (group: WriteGroup) => {
  const started = performance.now();
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
  // After the answer: the flush adds nothing the main thread waits for.
  if (slow.afterGroup(errors.length, (performance.now() - started) * 1000) || FLUSH_EVERY_GROUP) {
    syncFileSystemSync(group.blobDir); // where it cannot run, the next groups say it did not help
  }
});
