/**
 * @module store/session
 * Sessions: a writer's pins on the blobs it needs before a reference holds them (an experiment
 * being recorded, an import between its blobs and its reference). GC keeps every blob a live
 * session pinned, and the pins of a dead session that backs a recovery (a crash journal).
 *
 * One file per session, `<root>/.runledger/sessions/<id>.pins`, created with its first pin and
 * only ever appended to: a header line (JSON: owner process, `recoverable`, `recoverFrom`), then
 * one line per pin — a digest, or `{"root":<descriptor>}` for a manifest whose whole closure is
 * pinned. Pins are written with `write(2)` before the blob they name is published or re-used,
 * so a process crash never loses one; {@link StoreSession.sync} makes them survive a power loss.
 *
 * A session also knows which of its blobs are present: those it published, or pinned and found
 * present by a closure check. GC keeps them while the session is open, so a closure check (under
 * the store lock) need not `stat` them again. With `groupedFlush` it holds the small blobs its
 * batches published without flushing them, until {@link StoreSession.flush} or
 * {@link StoreSession.sync} flushes them together.
 */
import { randomBytes } from 'node:crypto';
import { blobPath } from '../oci/layout.js';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ioError, RunledgerError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import { settleWrites } from './blob-writer.js';
import { flushFiles, flushFilesSync } from './flush.js';
import { currentOwner, ownerGone, type ProcessOwner } from './owner.js';

/** Options of `LocalRegistry.openSession`. */
export interface SessionOptions {
  /**
   * The session's name (letters, digits, `.`, `_`, `-`), unique in the store; an experiment uses
   * its crash journal's. @default `<pid>-<12 hex>`
   */
  readonly id?: string;
  /**
   * Whether its pins outlive its process: they back something a later process recovers from (a
   * crash journal), until `LocalRegistry.removeSessions` removes them.
   */
  readonly recoverable: boolean;
  /**
   * With `recoverable`: the file inside the store a later process recovers from (absolute, or
   * relative to the root). Once the process ended and this file is gone, the pins no longer count.
   */
  readonly recoverFrom?: string;
  /**
   * Small blobs its batches publish are not flushed one by one: they join the next
   * {@link StoreSession.flush} or {@link StoreSession.sync}, which flush them together (one
   * `syncfs` for many). For a writer that flushes in groups before anything durable names them —
   * a crash journal's grouped sync, a checkpoint, a commit. @default false
   */
  readonly groupedFlush?: boolean;
}

/**
 * The largest blob a `groupedFlush` session leaves for the grouped flush: an fsync of a small
 * file costs a journal commit whatever its size (~0.3 ms here, 3× the rest of a run close), one of
 * a large file its bytes, which a grouped flush would pay too while it blocks.
 */
export const GROUPED_FLUSH_MAX: number = 64 * 1024;

/** A session file's first line. */
interface SessionHeader extends ProcessOwner {
  readonly v: 1;
  readonly recoverable: boolean;
  /** Relative to the store root. */
  readonly recoverFrom?: string;
  readonly at: number;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SUFFIX = '.pins';

/** Sessions open in this process, by file: one object per session. */
const openSessions = new Map<string, StoreSession>();

/**
 * The directory of a store's session files.
 * @param root - the store root
 * @returns `<root>/.runledger/sessions`
 */
export function sessionDir(root: string): string {
  return join(root, '.runledger', 'sessions');
}

function sessionPath(root: string, id: string): string {
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Session id ${JSON.stringify(id)} is not 1-128 letters, digits, ".", "_" or "-".`,
      { data: { id } }
    );
  }
  return join(sessionDir(root), `${id}${SUFFIX}`);
}

/**
 * A writer's pins on blobs it needs: see the module comment. Get one from
 * `LocalRegistry.openSession`; pass it to `registry.batch({ session })` and the single-blob
 * writers, which pin every blob before publishing or re-using it.
 *
 * @example
 * ```ts
 * const session = registry.openSession({ recoverable: false });
 * const batch = registry.batch({ session });
 * const layer = await batch.putBlob(bytes);
 * await batch.commit();
 * // … write the manifest with { session }, publish the reference …
 * session.close();
 * ```
 */
export class StoreSession {
  /** The session's name: its file is `.runledger/sessions/<id>.pins`. */
  readonly id: string;
  /** The session file (it exists once something was pinned). */
  readonly path: string;
  readonly recoverable: boolean;
  readonly #root: string;
  readonly #recoverFrom: string | undefined;
  readonly #pinned = new Set<string>();
  /** Pinned (or under a pinned root) and known to be in the store: GC keeps them. */
  readonly #present = new Set<Digest>();
  /** Blobs of pinned roots' closures, as their readers listed them (not written: see pinRoot). */
  readonly #covered = new Set<Digest>();
  /** Blobs published, content not yet flushed (`groupedFlush`). */
  #unflushed: Digest[] = [];
  /** Blobs a {@link StoreSession.flush} is flushing now. */
  #flushing: readonly Digest[] = [];
  #flushes: Promise<void> = Promise.resolve();
  readonly groupedFlush: boolean;
  #fd: number | undefined;
  #unsynced = false;

  /** @internal Use `LocalRegistry.openSession`. */
  constructor(root: string, options: SessionOptions) {
    const id = options.id ?? `${process.pid}-${randomBytes(6).toString('hex')}`;
    this.path = sessionPath(root, id);
    if (openSessions.has(this.path) || existsSync(this.path)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Session ${id} already exists in the store ${root}; choose another id.`,
        { data: { id, root } }
      );
    }
    if (typeof options.recoverable !== 'boolean') {
      throw new RunledgerError('ARGUMENT_INVALID', 'A session must say whether it is recoverable.');
    }
    this.id = id;
    this.recoverable = options.recoverable;
    this.groupedFlush = options.groupedFlush === true;
    this.#root = root;
    this.#recoverFrom =
      options.recoverFrom === undefined ? undefined : insideRoot(root, options.recoverFrom);
    openSessions.set(this.path, this);
  }

  /**
   * Pins blobs (synchronously written: in the operating system when this returns). Call it
   * before the blobs are published or re-used; blobs already pinned are skipped.
   * @param digests - the blobs
   * @throws RunledgerError `IO_ERROR` when the session file cannot be written (nothing is pinned)
   */
  pin(digests: readonly Digest[]): void {
    const fresh = new Set<Digest>();
    for (const d of digests) if (!this.#pinned.has(d)) fresh.add(d);
    if (fresh.size === 0) return;
    let text = '';
    for (const d of fresh) text += `${d}\n`;
    this.#append(text);
    for (const d of fresh) this.#pinned.add(d);
  }

  /**
   * Pins a manifest (or index) with its whole closure: config, layers, subject chain — e.g. the
   * manifest an experiment was forked or restored from.
   * @param descriptor - the manifest's descriptor
   * @throws RunledgerError `IO_ERROR`
   */
  pinRoot(descriptor: Descriptor): void {
    const key = `root ${descriptor.digest}`;
    if (this.#pinned.has(key)) return;
    const { mediaType, digest, size } = descriptor;
    this.#append(`${JSON.stringify({ root: { mediaType, digest, size } })}\n`);
    this.#pinned.add(key);
  }

  /**
   * Notes blobs of the closure of a root this session pinned (e.g. the layers of the manifest an
   * experiment continues, as its reader listed them): GC keeps them through the root, so once a
   * closure check finds them present they need no `stat` again. Nothing is written.
   * @param digests - blobs of a pinned root's closure
   */
  covers(digests: Iterable<Digest>): void {
    for (const d of digests) this.#covered.add(d);
  }

  /**
   * Records blobs this session pinned as published: present in the store, and kept there by GC.
   * With `groupedFlush`, `unflushed` are those of them whose content is not flushed yet.
   * @internal
   */
  published(digests: readonly Digest[], unflushed: readonly Digest[] = []): void {
    for (const d of digests) this.#present.add(d);
    for (const d of unflushed) this.#unflushed.push(d);
  }

  /** How many published blobs wait for a grouped flush. */
  get unflushed(): number {
    return this.#unflushed.length + this.#flushing.length;
  }

  /**
   * Flushes the content of every blob published unflushed so far (one `syncfs` for many), then
   * `blobs/sha256`; flushes run one after another, so when this resolves everything published
   * before the call is durable.
   * @returns when flushed
   * @throws RunledgerError `IO_ERROR` (the blobs stay listed for the next flush)
   */
  flush(): Promise<void> {
    const run = this.#flushes.then(async () => {
      // What the background writer holds of this store is written first, then flushed here.
      await settleWrites(this.#root);
      const todo = this.#unflushed;
      if (todo.length === 0) return;
      this.#unflushed = [];
      this.#flushing = todo;
      try {
        await flushFiles(
          this.#blobDir,
          todo.map((d) => this.#blobFile(d))
        );
      } catch (e) {
        this.#unflushed = [...todo, ...this.#unflushed];
        throw e;
      } finally {
        this.#flushing = [];
      }
    });
    this.#flushes = run.then(
      () => undefined,
      () => undefined
    );
    return run;
  }

  /**
   * Makes everything durable now, blocking: the content of blobs published unflushed (those a
   * {@link StoreSession.flush} is working on too), `blobs/sha256`, then the pins (`fdatasync`).
   * A crash journal calls it right before its own `fdatasync`, so no durable record names a blob
   * whose content or pin a power loss could take.
   * @throws RunledgerError `IO_ERROR`
   */
  sync(): void {
    const todo = [...this.#flushing, ...this.#unflushed];
    if (todo.length > 0) {
      flushFilesSync(
        this.#blobDir,
        todo.map((d) => this.#blobFile(d))
      );
      this.#unflushed = [];
    }
    if (this.#fd === undefined || !this.#unsynced) return;
    try {
      fdatasyncSync(this.#fd);
    } catch (e) {
      throw ioError(e, 'flush', this.path);
    }
    this.#unsynced = false;
  }

  get #blobDir(): string {
    return join(this.#root, 'blobs', 'sha256');
  }

  #blobFile(digest: Digest): string {
    return join(this.#root, blobPath(digest));
  }

  /** Whether the blob is known present (see the module comment). @internal */
  holds(digest: Digest): boolean {
    return this.#present.has(digest);
  }

  /** A closure check found these present: those this session pins count as present. @internal */
  confirm(digests: Iterable<Digest>): void {
    for (const d of digests) {
      if (this.#pinned.has(d) || this.#covered.has(d)) this.#present.add(d);
    }
  }

  /** The store root this session pins in. @internal */
  get root(): string {
    return this.#root;
  }

  #append(text: string): void {
    let first = false;
    try {
      if (this.#fd === undefined) {
        try {
          // Not recursive: a store whose .runledger is gone is not recreated here.
          mkdirSync(sessionDir(this.#root));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        this.#fd = openSync(this.path, 'a', 0o644);
        first = true;
        openSessions.set(this.path, this);
      }
      const header: SessionHeader = {
        v: 1,
        ...currentOwner(),
        recoverable: this.recoverable,
        ...(this.#recoverFrom === undefined ? {} : { recoverFrom: this.#recoverFrom }),
        at: Date.now(),
      };
      // Header and first pins in one write: a reader never sees pins without their owner.
      const buf = Buffer.from(first ? `${JSON.stringify(header)}\n${text}` : text, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.#fd, buf, off);
      this.#unsynced = true;
    } catch (e) {
      throw ioError(e, 'write the session file', this.path);
    }
  }

  /**
   * Ends the session: its file is removed, so GC no longer keeps its pins (they must be held by
   * a reference by now, or be garbage). A pin after this starts the file afresh.
   */
  close(): void {
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = undefined;
    }
    try {
      unlinkSync(this.path);
    } catch {
      // never written, or removed already
    }
    this.#pinned.clear();
    this.#present.clear();
    this.#covered.clear();
    this.#unflushed = [];
    openSessions.delete(this.path);
  }
}

/**
 * What the open sessions of this process know to be in a store: blobs they published, or pinned
 * and saw present. GC keeps every one of them while its session is open, so under the store lock
 * a closure check may take them as present without a `stat`.
 * @param root - the store root
 * @returns a predicate, or undefined when no session of this process is open in that store
 * @internal
 */
export function knownPresent(root: string): ((digest: Digest) => boolean) | undefined {
  const mine = [...openSessions.values()].filter((s) => s.root === root);
  if (mine.length === 0) return undefined;
  if (mine.length === 1) {
    const only = mine[0] as StoreSession;
    return (d) => only.holds(d);
  }
  return (d) => mine.some((s) => s.holds(d));
}

/**
 * A closure check found these blobs present: each open session of this process counts those it
 * pinned (directly or under a pinned root) as present from now on.
 * @param root - the store root
 * @param digests - blobs found present
 * @internal
 */
export function confirmPresent(root: string, digests: Iterable<Digest>): void {
  const mine = [...openSessions.values()].filter((s) => s.root === root);
  if (mine.length === 0) return;
  const list = [...digests];
  for (const s of mine) s.confirm(list);
}

function insideRoot(root: string, path: string): string {
  const rel = isAbsolute(path) ? relative(root, path) : path;
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `A session's recoverFrom file ${path} must be inside the store ${root}.`,
      { data: { path, root } }
    );
  }
  return rel;
}

/**
 * Removes sessions by id (those of a dead process whose recovery is done, e.g. the crash
 * journals a restore consumed); a session open in this process is closed.
 * @param root - the store root
 * @param ids - session ids
 * @throws RunledgerError `ARGUMENT_INVALID` for a malformed id
 */
export function removeSessionFiles(root: string, ids: readonly string[]): void {
  for (const id of ids) {
    const path = sessionPath(root, id);
    const mine = openSessions.get(path);
    if (mine !== undefined) {
      mine.close();
      continue;
    }
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  }
}

/** What GC makes of a session: its pins count unless it `ended`. */
export type SessionState = 'live' | 'recoverable' | 'ended';

interface Scanned {
  /** Bytes of whole lines read so far. */
  offset: number;
  /** Undefined until the first line is whole; null when it does not parse (pins still count). */
  header: SessionHeader | null | undefined;
  readonly pins: Set<Digest>;
  state: SessionState;
}

/**
 * GC's view of the sessions of a store, read incrementally (the files are append-only): which
 * blobs are pinned, which root manifests, and which session files belong to ended processes.
 * @internal
 */
export class SessionScan {
  readonly #root: string;
  readonly #files = new Map<string, Scanned>();

  constructor(root: string) {
    this.#root = root;
  }

  /**
   * Reads what was appended since the last call, new session files, and judges each owner again.
   * @returns the root manifests pinned since the last call (by sessions whose pins count)
   * @throws RunledgerError `IO_ERROR`
   */
  async refresh(): Promise<Descriptor[]> {
    const dir = sessionDir(this.#root);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(SUFFIX));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(e, 'list', dir);
      names = [];
    }
    const roots: Descriptor[] = [];
    const seen = new Set<string>();
    for (const n of names) {
      const path = join(dir, n);
      seen.add(path);
      let s = this.#files.get(path);
      if (s === undefined) {
        s = { offset: 0, header: undefined, pins: new Set(), state: 'live' };
        this.#files.set(path, s);
      }
      const text = await readFrom(path, s.offset);
      if (text === undefined) {
        // Removed by its owner meanwhile: its pins no longer count.
        this.#files.delete(path);
        seen.delete(path);
        continue;
      }
      const fresh: Descriptor[] = [];
      const end = text.lastIndexOf('\n');
      if (end >= 0) {
        s.offset += Buffer.byteLength(text.slice(0, end + 1), 'utf8');
        for (const line of text.slice(0, end).split('\n')) {
          if (s.header === undefined) {
            s.header = parseHeader(line);
            continue;
          }
          if (isDigest(line)) s.pins.add(line);
          else {
            const root = parseRoot(line);
            if (root !== undefined) fresh.push(root);
          }
        }
      }
      s.state = await this.#judge(s);
      if (s.state !== 'ended') roots.push(...fresh);
    }
    for (const path of [...this.#files.keys()]) if (!seen.has(path)) this.#files.delete(path);
    return roots;
  }

  async #judge(s: Scanned): Promise<SessionState> {
    // Being created (no whole header yet) or unreadable: counted, never removed.
    if (s.header === undefined || s.header === null) return 'live';
    if (!ownerGone(s.header)) return 'live';
    if (!s.header.recoverable) return 'ended';
    if (s.header.recoverFrom === undefined) return 'recoverable';
    const from = join(this.#root, s.header.recoverFrom);
    return (await stat(from).catch(() => undefined)) === undefined ? 'ended' : 'recoverable';
  }

  /** Whether a session whose pins count pinned the blob. */
  has(digest: Digest): boolean {
    for (const s of this.#files.values())
      if (s.state !== 'ended' && s.pins.has(digest)) return true;
    return false;
  }

  /** Session files whose owner ended and whose pins no longer count. */
  ended(): string[] {
    return [...this.#files].filter(([, s]) => s.state === 'ended').map(([p]) => p);
  }

  /** How many sessions are in each state. */
  counts(): Record<SessionState, number> {
    const out: Record<SessionState, number> = { live: 0, recoverable: 0, ended: 0 };
    for (const s of this.#files.values()) out[s.state]++;
    return out;
  }
}

async function readFrom(path: string, offset: number): Promise<string | undefined> {
  let h;
  try {
    h = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(e, 'read', path);
  }
  try {
    const { size } = await h.stat();
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await h.read(buf, n, buf.length - n, offset + n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    throw ioError(e, 'read', path);
  } finally {
    await h.close();
  }
}

function parseHeader(line: string): SessionHeader | null {
  try {
    const v = JSON.parse(line) as Partial<SessionHeader>;
    if (
      v.v === 1 &&
      typeof v.pid === 'number' &&
      typeof v.host === 'string' &&
      typeof v.recoverable === 'boolean'
    ) {
      return {
        v: 1,
        pid: v.pid,
        host: v.host,
        start: typeof v.start === 'string' ? v.start : null,
        recoverable: v.recoverable,
        ...(typeof v.recoverFrom === 'string' ? { recoverFrom: v.recoverFrom } : {}),
        at: typeof v.at === 'number' ? v.at : 0,
      };
    }
  } catch {
    // fall through
  }
  return null;
}

function parseRoot(line: string): Descriptor | undefined {
  try {
    const v = JSON.parse(line) as { root?: Partial<Descriptor> };
    const r = v.root;
    if (
      r !== undefined &&
      typeof r.mediaType === 'string' &&
      typeof r.digest === 'string' &&
      isDigest(r.digest) &&
      typeof r.size === 'number'
    ) {
      return { mediaType: r.mediaType, digest: r.digest, size: r.size };
    }
  } catch {
    // a damaged line pins nothing
  }
  return undefined;
}
