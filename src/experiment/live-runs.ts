/**
 * @module experiment/live-runs
 * Runs still open in live processes, read (never written) from their crash journals: what a
 * training run has logged so far — parameters, tags, metric points within 100 ms of being logged,
 * attachments — for the viewer to show before the run closes. A journal whose writer has ended
 * is not live: what it holds is a restore's (`Experiment.restoreFromCheckpoint`).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonValue } from '../oci/canonical-json.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { readHead, type AttachmentRecord } from './attachments.js';
import { foldJournal, writerAlive } from './crash-journals.js';
import { journalDir, parseJournal } from './journal-format.js';
import type { ParameterValue } from './parameters.js';

/** One metric point of a live run. */
export interface LivePoint {
  readonly name: string;
  readonly step: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly value: number;
}

/** A run still open in a live process, as its crash journal has it so far. */
export interface LiveRun {
  readonly runId: number;
  readonly name: string;
  readonly parentRunId: number | undefined;
  readonly resumedFrom: number | undefined;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** Its last journaled write (milliseconds since the epoch). */
  readonly lastWrite: number;
  readonly description: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
  readonly attributes: Readonly<Record<string, JsonValue>>;
  /** Each parameter's last logged value. */
  readonly parameters: ReadonlyMap<string, ParameterValue>;
  /** In logged order. */
  readonly points: readonly LivePoint[];
  /** Attachments logged so far (their blobs are in the store). */
  readonly attachments: readonly AttachmentRecord[];
  /** Solver and sampler calls recorded so far. */
  readonly solveCount: number;
  /** The machine it runs on. */
  readonly host: string;
}

/** An experiment a live process is recording, with its runs still open. */
export interface LiveExperiment {
  /** The experiment's name (after any rename). */
  readonly reference: string;
  /** The journal file. */
  readonly path: string;
  readonly pid: number;
  readonly host: string;
  /** When the process began journaling it (milliseconds since the epoch). */
  readonly startedAt: number;
  /** Its runs still open, in run id order. */
  readonly runs: readonly LiveRun[];
}

/** Bytes read to find a journal's header (its first frame). */
const HEADER_BYTES = 64 * 1024;

/** The journal files of the store, by path (none when it has no journal folder). */
async function journalFiles(registry: LocalRegistry): Promise<string[]> {
  const dir = journalDir(registry);
  try {
    return (await readdir(dir))
      .filter((n) => n.endsWith('.journal'))
      .sort()
      .map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** A journal's first bytes: enough for its header. */
function journalHead(path: string): Promise<Uint8Array | undefined> {
  // Removed meanwhile: a commit consumed it.
  return readHead(path, HEADER_BYTES).catch(() => undefined);
}

/** A journal being written now: whose, and how far. */
export interface LiveJournalState {
  /** The experiment's name (after any rename). */
  readonly reference: string;
  readonly path: string;
  /** Its size now: a new point, run or close changes it. */
  readonly size: number;
}

/**
 * Which journals live processes are writing now, and how far (a header read per journal, not
 * the whole file).
 * @param registry - the local store
 * @returns one entry per live journal, in file-name order (none when nothing records)
 */
export async function liveJournalStates(registry: LocalRegistry): Promise<LiveJournalState[]> {
  const out: LiveJournalState[] = [];
  for (const path of await journalFiles(registry)) {
    const head = await journalHead(path);
    const j = head === undefined ? undefined : parseJournal(path, head);
    if (j === undefined || !writerAlive(j.header)) continue;
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined
    );
    if (size !== undefined) out.push({ reference: j.reference, path, size });
  }
  return out;
}

/**
 * The experiments live processes are recording in the store, each with its runs still open
 * (read from their crash journals up to the last whole record; nothing is written).
 * @param registry - the local store
 * @returns one entry per live journal, in file-name order
 */
export async function readLiveExperiments(registry: LocalRegistry): Promise<LiveExperiment[]> {
  const out: LiveExperiment[] = [];
  for (const path of await journalFiles(registry)) {
    const bytes = await readFile(path).catch(() => undefined);
    const j = bytes === undefined ? undefined : parseJournal(path, bytes);
    if (j === undefined || !writerAlive(j.header)) continue;
    const runs: LiveRun[] = [];
    for (const [runId, r] of foldJournal(j).runs) {
      const o = r.open;
      if (o === undefined || r.close !== undefined) continue;
      runs.push({
        runId,
        name: o.name,
        parentRunId: o.parent,
        resumedFrom: o.resumed,
        startedAt: o.at,
        lastWrite: Math.max(o.at, r.lastWrite),
        description: o.description,
        tags: { ...o.tags, ...r.tags },
        labels: [...new Set([...(o.labels ?? []), ...r.labels])],
        attributes: { ...o.attrs, ...r.attributes },
        parameters: new Map(r.params),
        points: r.points,
        attachments: r.attachments,
        solveCount: r.solves.length,
        host: j.header.host,
      });
    }
    out.push({
      reference: j.reference,
      path,
      pid: j.header.pid,
      host: j.header.host,
      startedAt: j.header.at,
      runs: runs.sort((a, b) => a.runId - b.runId),
    });
  }
  return out;
}
