/**
 * @module experiment/journal
 * The crash journal of an unsealed experiment (beyond OMMX, which loses open runs on a crash):
 * an append-only file under `<root>/.runledger/journal/` of checksummed records — runs opened,
 * parameters, tags, metric points, attachments and solves of open runs, run closes, experiment
 * attachments and annotations. `Experiment.restoreFromCheckpoint` replays it after the process
 * died, so nothing logged before the last flush is lost.
 *
 * Frame: `u32 LE payload length`, `u32 LE CRC-32 of the payload`, payload (UTF-8 JSON). A torn
 * or damaged frame ends the readable journal: what precedes it is kept.
 *
 * Durability: a run close, an attachment or a solve is written (`write(2)`) before its call
 * returns, parameters, tags and metric points of open runs within 100 ms, so a killed process
 * loses no acknowledged close and at most 100 ms of an open run; one grouped `fdatasync` follows
 * within a second (`durable: 'batched'`), or before each call returns (`durable: 'always'`), which
 * bounds what a power loss takes. Blobs a record names are published to the store (content
 * flushed) before the record is written, and `blobs/sha256` is fsynced before the journal.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Descriptor } from '../oci/types.js';
import { LocalRegistry, type BlobBatch } from '../store/local-registry.js';
import { currentOwner, ownerGone } from '../store/owner.js';
import type { Digest } from '../oci/digest.js';
import type { AttachmentRecord } from './attachments.js';
import type { RunStatus } from './config.js';
import type { MetricLog } from './metrics.js';
import type { ParameterValue } from './parameters.js';
import type { SolveRecord } from './solve.js';

/** How soon a logged write is durable. */
export type Durability = 'always' | 'batched';

/** A parameter value as JSON (bigint and non-finite numbers spelled out). */
type EncodedValue = boolean | number | string | { b: string } | { f: string };

/** One journal record. @internal */
export type JournalRecord =
  | {
      t: 'header';
      v: 1;
      reference: string;
      pid: number;
      host: string;
      /** The writer's start time (`/proc/<pid>/stat`), so a reused pid is not taken for it. */
      start?: string | null;
      at: number;
      base?: Descriptor;
    }
  | {
      t: 'open';
      run: number;
      name: string;
      tags: Record<string, string>;
      parent?: number;
      at: number;
    }
  | { t: 'param'; run: number; name: string; value: EncodedValue; at: number }
  | { t: 'tags'; run: number; tags: Record<string, string>; at: number }
  | {
      t: 'metrics';
      run: number;
      names: string[];
      /** Columns: index into `names`, step, timestamp, value (a binary frame on disk). */
      ids: Uint32Array;
      steps: Float64Array;
      ts: Float64Array;
      values: Float64Array;
      at: number;
    }
  | { t: 'att'; run: number; record: AttachmentRecord; at: number }
  | { t: 'solve'; run: number; kind: 'solve' | 'sampling'; record: SolveRecord; at: number }
  | {
      t: 'close';
      run: number;
      status: RunStatus;
      reason?: string;
      attachments: AttachmentRecord[];
      solves: SolveRecord[];
      samplings: SolveRecord[];
      at: number;
    }
  | { t: 'eatt'; record: AttachmentRecord; at: number }
  | { t: 'ann'; key: string; value: string; at: number }
  | { t: 'rename'; reference: string; at: number };

/** Records that name blobs: `blobs/sha256` is fsynced before the journal that holds them. */
const NAMES_BLOBS = new Set(['att', 'solve', 'close', 'eatt']);
/** A buffered record (a parameter, a tag, metric points) reaches the OS within this. */
const WRITE_DELAY_MS = 100;
/** A written record reaches the disk within this (`durable: 'batched'`). */
const SYNC_DELAY_MS = 1000;
const MAX_FRAME = 512 * 1024 * 1024;

const openDefaultRegistry = (): Promise<LocalRegistry> => LocalRegistry.open();

/** Every journal of this process still open, flushed on exit. */
const live = new Set<Journal>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const j of live) j.flush();
  });
}

/** The directory of a store's journals. */
export function journalDir(registry: LocalRegistry): string {
  return join(registry.root, '.runledger', 'journal');
}

/** Encodes a parameter value for JSON. */
export function encodeValue(v: ParameterValue): EncodedValue {
  if (typeof v === 'bigint') return { b: v.toString() };
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

/** The value {@link encodeValue} encoded. */
export function decodeValue(v: EncodedValue): ParameterValue {
  if (typeof v === 'object') {
    if ('b' in v) return BigInt(v.b);
    return Number(v.f);
  }
  return v;
}

/**
 * Decodes a base64 column of a metrics record in JSON (as versions before binary metric frames
 * wrote them), in this platform's byte order (the journal never travels).
 */
function column<T extends Uint32Array | Float64Array>(
  text: string,
  Kind: { new (buffer: ArrayBuffer): T }
): T {
  const bytes = Buffer.from(text, 'base64');
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Kind(copy);
}

/**
 * The journal of one unsealed experiment in this process. Created lazily: an experiment that
 * logs nothing leaves no file.
 *
 * Two failure models, two bounds. A process crash (SIGKILL, an uncaught exception, the OOM
 * killer) loses nothing acknowledged: a run close, an attachment or a solve is written to the
 * file (`write(2)`, so it is in the operating system) before its call returns, and parameters,
 * tags and metric points of open runs within {@link WRITE_DELAY_MS}. A power loss or kernel
 * crash loses at most what was written in the last {@link SYNC_DELAY_MS}: one grouped
 * `fdatasync` follows every write within that delay (`durable: 'always'` syncs before each call
 * returns instead).
 * @internal
 */
export class Journal {
  readonly #root: string;
  readonly #dir: string;
  readonly #blobDir: string;
  readonly #id: string;
  readonly #path: string;
  readonly #durable: Durability;
  #header: JournalRecord & { t: 'header' };
  #pending: JournalRecord[] = [];
  #fd: number | undefined;
  /** Bytes of whole frames in the file: a failed write is cut back to it. */
  #size = 0;
  #writeTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  /** Written since the last fdatasync. */
  #unsynced = false;
  /** A record written since the last fdatasync names blobs: sync `blobs/sha256` first. */
  #namesBlobs = false;
  #dirSynced = false;
  /** Runs before each fdatasync of the journal (the store session's pins sync first). */
  #beforeSync: (() => void) | undefined;
  /** Writes accepted so far (records and metric points): what a checkpoint must cover. */
  #seq = 0;
  readonly #metrics = new Map<number, { log: MetricLog; done: number }>();
  #closed = false;
  #paused = false;

  constructor(
    registry: LocalRegistry,
    reference: string,
    base: Descriptor | undefined,
    durable: Durability
  ) {
    this.#root = registry.root;
    this.#dir = journalDir(registry);
    this.#blobDir = join(registry.root, 'blobs', 'sha256');
    this.#id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    this.#path = join(this.#dir, `${this.#id}.journal`);
    this.#durable = durable;
    this.#header = {
      t: 'header',
      v: 1,
      reference,
      pid: process.pid,
      host: hostname(),
      start: currentOwner().start,
      at: Date.now(),
      ...(base === undefined ? {} : { base }),
    };
    live.add(this);
    installExitHook();
  }

  /** The journal file (it exists once something was written). */
  get path(): string {
    return this.#path;
  }

  /** The file's name without `.journal` (`<pid>-<12 hex>`): names the store session too. */
  get id(): string {
    return this.#id;
  }

  /**
   * How many writes the journal has accepted. A checkpoint that captured this number covers
   * every one of them; a later, larger number means something acknowledged is not in it.
   */
  get seq(): number {
    return this.#seq;
  }

  /** Buffers a record of an open run: in the OS within {@link WRITE_DELAY_MS}. */
  append(record: JournalRecord): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    this.#pending.push(record);
    if (this.#durable === 'always') this.flush();
    else this.#scheduleWrite();
  }

  /** Writes a record (and everything buffered before it) now: in the OS when this returns. */
  appendNow(record: JournalRecord): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    this.#pending.push(record);
    if (this.#durable === 'always') this.flush();
    else if (this.#write()) this.#scheduleSync();
    else this.#scheduleWrite(); // kept; the warning is out, the timer retries
  }

  /**
   * Writes a record naming blobs of a batch still in temp files: publishes them first (content
   * flushed), so the journal never names a blob the store lacks, then writes the record now.
   * @throws RunledgerError `IO_ERROR` when the blobs cannot be published (nothing is written)
   */
  async appendWithBlobs(
    record: JournalRecord,
    batch: BlobBatch | undefined,
    digests: readonly Digest[]
  ): Promise<void> {
    if (this.#closed || this.#paused) return;
    await batch?.publishNow(digests);
    this.appendNow(record);
  }

  /** Sets what must be durable before the journal is (the experiment's store-session pins). */
  beforeSync(fn: () => void): void {
    this.#beforeSync = fn;
  }

  /** Journals the metric points of an open run as they are logged (taken at each write). */
  watchMetrics(runId: number, log: MetricLog): void {
    this.#metrics.set(runId, { log, done: 0 });
  }

  /** A metric point was logged: written within {@link WRITE_DELAY_MS}. */
  metricLogged(): void {
    if (this.#closed || this.#paused) return;
    this.#seq++;
    if (this.#durable === 'always') this.flush();
    else this.#scheduleWrite();
  }

  /** While paused nothing is journaled (a restore replays into a checkpoint instead). */
  pause(paused: boolean): void {
    this.#paused = paused;
  }

  /** Stops journaling a run's points (it closed: its metrics attachment holds them). */
  unwatchMetrics(runId: number): void {
    this.#metrics.delete(runId);
  }

  #scheduleWrite(): void {
    if (this.#writeTimer !== undefined) return;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = undefined;
      if (this.#write()) this.#scheduleSync();
      else if (this.#pending.length > 0) this.#scheduleWrite();
    }, WRITE_DELAY_MS);
    this.#writeTimer.unref();
  }

  #scheduleSync(): void {
    if (this.#syncTimer !== undefined || !this.#unsynced) return;
    this.#syncTimer = setTimeout(() => {
      this.#syncTimer = undefined;
      this.#sync();
    }, SYNC_DELAY_MS);
    this.#syncTimer.unref();
  }

  /**
   * Writes what is buffered (records, then new metric points of open runs) with one `write(2)`.
   * A write error is reported as a process warning; the file is cut back to its last whole
   * frame and the records are kept for the next try.
   * @returns false when something could not be written
   */
  #write(): boolean {
    if (this.#paused) return true;
    if (this.#writeTimer !== undefined) {
      clearTimeout(this.#writeTimer);
      this.#writeTimer = undefined;
    }
    const at = Date.now();
    const metricRecords: JournalRecord[] = [];
    const progress: [{ done: number }, number][] = [];
    for (const [run, m] of this.#metrics) {
      if (m.log.size === m.done) continue;
      const p = m.log.since(m.done);
      metricRecords.push({
        t: 'metrics',
        run,
        names: [...p.names],
        ids: p.ids,
        steps: p.steps,
        ts: p.timestamps,
        values: p.values,
        at,
      });
      progress.push([m, m.log.size]);
    }
    const records = [...this.#pending, ...metricRecords];
    if (records.length === 0) return true;
    const first = this.#fd === undefined;
    try {
      if (first) {
        // Not recursive: a store whose .runledger is gone is not recreated here.
        try {
          mkdirSync(this.#dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        this.#fd = openSync(this.#path, 'a');
      }
      const buf = Buffer.concat((first ? [this.#header, ...records] : records).map(frame));
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(this.#fd as number, buf, off);
      } catch (e) {
        // A torn frame would end the readable journal: later records would be unreadable.
        ftruncateSync(this.#fd as number, this.#size);
        throw e;
      }
      this.#size += buf.length;
    } catch (e) {
      if (!existsSync(this.#root)) {
        // The store itself is gone (a temporary one, removed): nothing left to protect.
        this.#end();
        return true;
      }
      if (first && this.#fd !== undefined && this.#size === 0) {
        closeSync(this.#fd);
        this.#fd = undefined;
      }
      process.emitWarning(
        `runledger: the crash journal ${this.#path} could not be written (${(e as Error).message}); retrying with the next write.`,
        { code: 'RUNLEDGER_JOURNAL' }
      );
      return false;
    }
    this.#pending = [];
    for (const r of records) if (NAMES_BLOBS.has(r.t)) this.#namesBlobs = true;
    this.#unsynced = true;
    for (const [m, done] of progress) m.done = done;
    return true;
  }

  /** Makes what was written durable: `blobs/sha256` first when a record names blobs. */
  #sync(): void {
    if (this.#syncTimer !== undefined) {
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
    }
    if (!this.#unsynced || this.#fd === undefined) return;
    try {
      // Pins, then blob names, then the journal: a durable record never names a blob that a
      // power loss could leave unpinned or unnamed.
      this.#beforeSync?.();
      if (this.#namesBlobs) syncDirectory(this.#blobDir);
      fdatasyncSync(this.#fd);
      if (!this.#dirSynced) {
        syncDirectory(this.#dir);
        this.#dirSynced = true;
      }
    } catch (e) {
      if (!existsSync(this.#root)) {
        this.#end();
        return;
      }
      process.emitWarning(
        `runledger: the crash journal ${this.#path} could not be flushed to disk (${(e as Error).message}); retrying.`,
        { code: 'RUNLEDGER_JOURNAL' }
      );
      this.#scheduleSync();
      return;
    }
    this.#unsynced = false;
    this.#namesBlobs = false;
  }

  /**
   * Writes what is buffered and makes it durable (synchronous: it runs in the exit hook too).
   */
  flush(): void {
    if (this.#paused || this.#closed) return;
    this.#write();
    this.#sync();
  }

  #end(): void {
    this.#closed = true;
    live.delete(this);
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#writeTimer = undefined;
    this.#syncTimer = undefined;
  }

  /**
   * Stops journaling; with `remove`, deletes the file (its content is in a checkpoint or commit),
   * else writes and syncs what is buffered first.
   */
  async close(remove: boolean): Promise<void> {
    if (this.#closed) return;
    if (!remove) this.flush();
    this.#end();
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
      if (remove) await unlink(this.#path).catch(() => undefined);
    }
  }
}

/** First payload byte of a binary metrics frame (a JSON payload starts with `{`). */
const BINARY_METRICS = 0;

/**
 * A record's frame. Metric points go in a binary payload — `0x00`, `u32 LE` length of a JSON
 * header `{t, run, names, n, at}`, the header, then the four columns' bytes (ids `u32`, steps,
 * timestamps, values `f64`, this platform's byte order) — so a million points cost a copy, not
 * a base64 JSON text five times their size.
 */
function frame(record: JournalRecord): Buffer {
  let payload: Buffer;
  if (record.t === 'metrics') {
    const { ids, steps, ts, values, ...rest } = record;
    const header = Buffer.from(JSON.stringify({ ...rest, n: ids.length }), 'utf8');
    const lead = Buffer.alloc(5);
    lead.writeUInt8(BINARY_METRICS, 0);
    lead.writeUInt32LE(header.length, 1);
    const bytes = (a: Uint32Array | Float64Array): Buffer =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    payload = Buffer.concat([lead, header, bytes(ids), bytes(steps), bytes(ts), bytes(values)]);
  } else {
    payload = Buffer.from(JSON.stringify(record), 'utf8');
  }
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** A frame's payload as a record: JSON, or a binary metrics frame (see {@link frame}). */
function parseRecord(payload: Buffer): JournalRecord {
  if (payload[0] !== BINARY_METRICS) {
    const record = JSON.parse(payload.toString('utf8')) as JournalRecord;
    if (record?.t === 'metrics') {
      // Written as base64 JSON by an earlier version.
      const old = record as unknown as Record<'ids' | 'steps' | 'ts' | 'values', string>;
      return {
        ...record,
        ids: column(old.ids, Uint32Array),
        steps: column(old.steps, Float64Array),
        ts: column(old.ts, Float64Array),
        values: column(old.values, Float64Array),
      };
    }
    return record;
  }
  const headerLength = payload.readUInt32LE(1);
  const header = JSON.parse(payload.subarray(5, 5 + headerLength).toString('utf8')) as {
    t: 'metrics';
    run: number;
    names: string[];
    n: number;
    at: number;
  };
  const { n, ...rest } = header;
  let at = 5 + headerLength;
  const take = <T extends Uint32Array | Float64Array>(Kind: {
    new (buffer: ArrayBuffer): T;
    BYTES_PER_ELEMENT: number;
  }): T => {
    const size = n * Kind.BYTES_PER_ELEMENT;
    if (at + size > payload.length) throw new RangeError('metrics frame cut short');
    const copy = new ArrayBuffer(size);
    new Uint8Array(copy).set(payload.subarray(at, at + size));
    at += size;
    return new Kind(copy);
  };
  return {
    ...rest,
    t: 'metrics',
    ids: take(Uint32Array),
    steps: take(Float64Array),
    ts: take(Float64Array),
    values: take(Float64Array),
  };
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A journal read back. @internal */
export interface JournalContents {
  readonly path: string;
  readonly header: JournalRecord & { t: 'header' };
  /** The reference it journals now (after renames). */
  readonly reference: string;
  /** Records after the header, up to the first torn or damaged frame. */
  readonly records: readonly JournalRecord[];
  /** Whether the file ended in a torn or damaged frame (the usual end after a crash). */
  readonly torn: boolean;
}

/**
 * Reads a journal file: frames until the end or the first one that is torn or fails its CRC.
 * @returns undefined when the file has no readable header
 */
export function parseJournal(path: string, bytes: Uint8Array): JournalContents | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: JournalRecord[] = [];
  let off = 0;
  let torn = false;
  while (off < buf.length) {
    if (buf.length - off < 8) {
      torn = true;
      break;
    }
    const len = buf.readUInt32LE(off);
    const sum = buf.readUInt32LE(off + 4);
    if (len > MAX_FRAME || off + 8 + len > buf.length) {
      torn = true;
      break;
    }
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== sum) {
      torn = true;
      break;
    }
    let record: JournalRecord;
    try {
      record = parseRecord(payload);
    } catch {
      torn = true;
      break;
    }
    if (typeof record !== 'object' || record === null || typeof record.t !== 'string') {
      torn = true;
      break;
    }
    records.push(record);
    off += 8 + len;
  }
  const header = records.shift();
  if (header?.t !== 'header' || typeof header.reference !== 'string') return undefined;
  let reference = header.reference;
  for (const r of records) if (r.t === 'rename') reference = r.reference;
  return { path, header, reference, records, torn };
}

/**
 * Whether the process that wrote a journal is still alive on this host (a journal written on
 * another host is recoverable here: the store was moved or shared).
 */
function writerAlive(header: JournalRecord & { t: 'header' }): boolean {
  if (header.host !== hostname()) return false;
  return !ownerGone({ pid: header.pid, host: header.host, start: header.start ?? null });
}

/**
 * The journals left by processes that ended without sealing or checkpointing `reference` (every
 * name when undefined), oldest first. Journals still being written (by another live process, or by an experiment of
 * this one) are left alone.
 * @internal
 */
export async function findStaleJournals(
  registry: LocalRegistry,
  reference: string | undefined
): Promise<JournalContents[]> {
  const own = new Set([...live].map((j) => j.path));
  const dir = journalDir(registry);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: JournalContents[] = [];
  for (const n of names.filter((x) => x.endsWith('.journal')).sort()) {
    const path = join(dir, n);
    if (own.has(path)) continue;
    const bytes = await readFile(path).catch(() => undefined);
    if (bytes === undefined) continue;
    const j = parseJournal(path, bytes);
    if (j === undefined || (reference !== undefined && j.reference !== reference)) continue;
    const ours = j.header.pid === process.pid && j.header.host === hostname();
    if (!ours && writerAlive(j.header)) continue;
    out.push(j);
  }
  return out.sort((a, b) => a.header.at - b.header.at);
}

/** Removes consumed journals. */
export async function removeJournals(journals: readonly JournalContents[]): Promise<void> {
  await Promise.all(journals.map((j) => unlink(j.path).catch(() => undefined)));
}

/** What a journal says of one run. @internal */
export interface JournalRun {
  open: (JournalRecord & { t: 'open' }) | undefined;
  close: (JournalRecord & { t: 'close' }) | undefined;
  readonly params: [string, ParameterValue][];
  tags: Record<string, string>;
  readonly attachments: AttachmentRecord[];
  readonly solves: { kind: 'solve' | 'sampling'; record: SolveRecord }[];
  readonly points: { name: string; step: number; timestamp: number; value: number }[];
  /** Its last write (ms since the epoch; metric points by their own timestamps). */
  lastWrite: number;
}

/** A journal's records gathered per run and per experiment. @internal */
export interface FoldedJournal {
  readonly runs: Map<number, JournalRun>;
  readonly experimentAttachments: AttachmentRecord[];
  readonly annotations: [string, string][];
  readonly lastWrite: number;
}

/** Gathers a journal's records by run, decoding parameter values and metric columns. @internal */
export function foldJournal(j: JournalContents): FoldedJournal {
  const runs = new Map<number, JournalRun>();
  const experimentAttachments: AttachmentRecord[] = [];
  const annotations: [string, string][] = [];
  let lastWrite = j.header.at;
  const runOf = (id: number): JournalRun => {
    let r = runs.get(id);
    if (r === undefined) {
      r = {
        open: undefined,
        close: undefined,
        params: [],
        tags: {},
        attachments: [],
        solves: [],
        points: [],
        lastWrite: 0,
      };
      runs.set(id, r);
    }
    return r;
  };
  for (const rec of j.records) {
    lastWrite = Math.max(lastWrite, rec.at);
    // A metrics record is stamped at flush time: its points carry their own times.
    if ('run' in rec && rec.t !== 'metrics') {
      const r = runOf(rec.run);
      r.lastWrite = Math.max(r.lastWrite, rec.at);
    }
    switch (rec.t) {
      case 'open':
        runOf(rec.run).open = rec;
        break;
      case 'close':
        runOf(rec.run).close = rec;
        break;
      case 'param':
        runOf(rec.run).params.push([rec.name, decodeValue(rec.value)]);
        break;
      case 'tags': {
        const r = runOf(rec.run);
        r.tags = { ...r.tags, ...rec.tags };
        break;
      }
      case 'att':
        runOf(rec.run).attachments.push(rec.record);
        break;
      case 'solve':
        runOf(rec.run).solves.push({ kind: rec.kind, record: rec.record });
        break;
      case 'metrics': {
        const r = runOf(rec.run);
        const { ids, steps, ts, values } = rec;
        for (let i = 0; i < ids.length; i++) {
          const timestamp = ts[i] as number;
          r.lastWrite = Math.max(r.lastWrite, timestamp);
          r.points.push({
            name: rec.names[ids[i] as number] as string,
            step: steps[i] as number,
            timestamp,
            value: values[i] as number,
          });
        }
        break;
      }
      case 'eatt':
        experimentAttachments.push(rec.record);
        break;
      case 'ann':
        annotations.push([rec.key, rec.value]);
        break;
      default:
        break;
    }
  }
  return { runs, experimentAttachments, annotations, lastWrite };
}

/** A crash journal left by a process that ended with runs or writes not in any checkpoint. */
export interface CrashJournal {
  /** The experiment name: pass it to `Experiment.restoreFromCheckpoint`. */
  readonly requestedImageName: string;
  readonly path: string;
  readonly pid: number;
  readonly host: string;
  /** When the process began journaling (RFC 3339). */
  readonly startedAt: string;
  /** Its last readable record (RFC 3339). */
  readonly lastWriteAt: string;
  /** Runs it saw close, and runs still open when it ended (restored as `interrupted`). */
  readonly closedRuns: number;
  readonly openRuns: number;
  /** Whether it ends in a torn record (the usual end of a killed process). */
  readonly torn: boolean;
}

/**
 * The crash journals of the local registry that no live process is writing: work that
 * `Experiment.restoreFromCheckpoint(name)` recovers (beyond what the checkpoint, if any, holds).
 * @param options - registry, prefix of the experiment name
 * @returns the journals, oldest first
 * @example
 * ```ts
 * (await listCrashJournals()).map((j) => `${j.requestedImageName}: ${j.openRuns} open run(s)`);
 * ```
 */
export async function listCrashJournals(
  options: { registry?: LocalRegistry; prefix?: string } = {}
): Promise<CrashJournal[]> {
  const registry = options.registry ?? (await openDefaultRegistry());
  const out: CrashJournal[] = [];
  for (const j of await findStaleJournals(registry, undefined)) {
    if (options.prefix !== undefined && !j.reference.startsWith(options.prefix)) continue;
    const folded = foldJournal(j);
    const runs = [...folded.runs.values()];
    out.push({
      requestedImageName: j.reference,
      path: j.path,
      pid: j.header.pid,
      host: j.header.host,
      startedAt: new Date(j.header.at).toISOString(),
      lastWriteAt: new Date(folded.lastWrite).toISOString(),
      closedRuns: runs.filter((r) => r.close !== undefined).length,
      openRuns: runs.filter((r) => r.open !== undefined && r.close === undefined).length,
      torn: j.torn,
    });
  }
  return out;
}
