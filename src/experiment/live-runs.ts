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
import { foldJournal, writerAlive, type JournalRun } from './crash-journals.js';
import { journalDir, parseJournal, type JournalRecord } from './journal-format.js';
import type { ParameterValue } from './parameters.js';

/**
 * One metric of a live run: its points so far, columnar, in step order (logged order among equal
 * steps).
 */
export interface LiveSeries {
  readonly steps: Float64Array;
  /** Milliseconds since the epoch. */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
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
  /** Its metrics by name (a million points are three typed arrays, not a million objects). */
  readonly metrics: ReadonlyMap<string, LiveSeries>;
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
  /** The experiment's name, as the journal's first records have it (a header's worth is read). */
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
    // The header first: a journal a dead process left (a restore's) is not read whole.
    const head = await journalHead(path);
    const header = head === undefined ? undefined : parseJournal(path, head)?.header;
    if (header === undefined || !writerAlive(header)) continue;
    const bytes = await readFile(path).catch(() => undefined);
    const j = bytes === undefined ? undefined : parseJournal(path, bytes);
    if (j === undefined) continue;
    // Metric points are gathered column by column below, not as one object each.
    const folded = foldJournal({ ...j, records: j.records.filter((r) => r.t !== 'metrics') });
    const open = new Map<number, MetricColumns>();
    for (const [runId, r] of folded.runs) {
      if (r.open !== undefined && r.close === undefined) open.set(runId, new MetricColumns());
    }
    for (const rec of j.records) {
      if (rec.t === 'metrics') open.get(rec.run)?.add(rec);
    }
    const runs: LiveRun[] = [];
    for (const [runId, columns] of open) {
      const r = folded.runs.get(runId) as JournalRun;
      const o = r.open as JournalRecord & { t: 'open' };
      runs.push({
        runId,
        name: o.name,
        parentRunId: o.parent,
        resumedFrom: o.resumed,
        startedAt: o.at,
        lastWrite: Math.max(o.at, r.lastWrite, columns.lastTimestamp),
        description: o.description,
        tags: { ...o.tags, ...r.tags },
        labels: [...new Set([...(o.labels ?? []), ...r.labels])],
        attributes: { ...o.attrs, ...r.attributes },
        parameters: new Map(r.params),
        metrics: columns.series(),
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

/** One run's metric points, gathered per metric from the journal's columnar records. */
class MetricColumns {
  readonly #byName = new Map<
    string,
    { steps: number[]; ts: number[]; values: number[]; sorted: boolean }
  >();
  lastTimestamp = 0;

  add(rec: JournalRecord & { t: 'metrics' }): void {
    const { ids, steps, ts, values, names } = rec;
    const columns = names.map((name) => {
      let c = this.#byName.get(name);
      if (c === undefined)
        this.#byName.set(name, (c = { steps: [], ts: [], values: [], sorted: true }));
      return c;
    });
    for (let i = 0; i < ids.length; i++) {
      const c = columns[ids[i] as number];
      if (c === undefined) continue;
      const step = steps[i] as number;
      if (c.sorted && c.steps.length > 0 && step < (c.steps[c.steps.length - 1] as number)) {
        c.sorted = false;
      }
      c.steps.push(step);
      c.ts.push(ts[i] as number);
      c.values.push(values[i] as number);
      if ((ts[i] as number) > this.lastTimestamp) this.lastTimestamp = ts[i] as number;
    }
  }

  /** Each metric in step order (logged order among equal steps: a stable sort, when needed). */
  series(): Map<string, LiveSeries> {
    const out = new Map<string, LiveSeries>();
    for (const [name, c] of this.#byName) {
      const order = c.sorted
        ? undefined
        : Array.from(c.steps, (_, i) => i).sort(
            (a, b) => (c.steps[a] as number) - (c.steps[b] as number) || a - b
          );
      const column = (a: number[]): Float64Array =>
        order === undefined
          ? Float64Array.from(a)
          : Float64Array.from(order, (i) => a[i] as number);
      out.set(name, { steps: column(c.steps), timestamps: column(c.ts), values: column(c.values) });
    }
    return out;
  }
}
