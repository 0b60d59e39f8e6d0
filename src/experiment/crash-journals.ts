/**
 * @module experiment/crash-journals
 * What killed processes left: their crash journals found, read back per run, listed, and removed
 * once a restore has checkpointed them.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LocalRegistry } from '../store/local-registry.js';
import { ownerGone } from '../store/owner.js';
import type { JsonValue } from '../oci/canonical-json.js';
import type { Descriptor } from '../oci/types.js';
import { storableRecords, type AttachmentRecord } from './attachments.js';
import {
  decodeValue,
  journalDir,
  parseJournal,
  type JournalContents,
  type JournalRecord,
} from './journal-format.js';
import { liveJournalPaths } from './journal.js';
import type { ParameterValue } from './parameters.js';
import type { SolveRecord } from './solve.js';

const openDefaultRegistry = (): Promise<LocalRegistry> => LocalRegistry.open();

/**
 * Whether the process that wrote a journal is still alive on this host (a journal written on
 * another host is recoverable here: the store was moved or shared).
 */
export function writerAlive(header: JournalRecord & { t: 'header' }): boolean {
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
  const own = liveJournalPaths();
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
  /** Labels added after the open record (those given at open are in it). */
  readonly labels: string[];
  attributes: Record<string, JsonValue>;
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
        labels: [],
        attributes: {},
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
      case 'params': {
        const params = runOf(rec.run).params;
        for (const [name, value] of rec.values) params.push([name, decodeValue(value)]);
        break;
      }
      case 'tags': {
        const r = runOf(rec.run);
        r.tags = { ...r.tags, ...rec.tags };
        for (const l of rec.labels ?? []) if (!r.labels.includes(l)) r.labels.push(l);
        break;
      }
      case 'attrs': {
        const r = runOf(rec.run);
        r.attributes = { ...r.attributes, ...rec.attrs };
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

/**
 * A journal folded for replay into a state that lacks its runs: runs the state already holds are
 * left out, and so is what the store cannot take — an attachment the manifest reader would refuse
 * (an older version let it through), an attachment or solver call whose blob is not in the store
 * (lost with the last second before a power loss) — each with a `RUNLEDGER_QUARANTINE` warning,
 * so everything else can be checkpointed.
 * @param registry - the store the journal's blobs are in
 * @param j - the journal
 * @param options - the experiment (for messages), the runs its state already holds
 * @returns the folded journal, only what can be restored
 * @internal
 */
export async function foldStored(
  registry: LocalRegistry,
  j: JournalContents,
  options: { experiment: string; known: ReadonlySet<number> }
): Promise<FoldedJournal> {
  const folded = foldJournal(j);
  const source = `the crash journal ${j.path}`;
  const present = (d: Descriptor): Promise<boolean> =>
    registry.statBlob(d.digest).then(
      (b) => b.size === d.size,
      () => false
    );
  const lost = (what: string, scope: string, d: Descriptor): void =>
    process.emitWarning(
      `runledger: ${what} of ${scope} in ${source} is left out: its blob ${d.digest} is not in the store (lost with the last second before a power loss?).`,
      { code: 'RUNLEDGER_QUARANTINE' }
    );
  const storable = async (
    records: readonly AttachmentRecord[],
    scope: string
  ): Promise<AttachmentRecord[]> => {
    const out: AttachmentRecord[] = [];
    for (const r of storableRecords(records, scope, source)) {
      if (await present(r.descriptor)) out.push(r);
      else lost(`attachment ${JSON.stringify(r.name)}`, scope, r.descriptor);
    }
    return out;
  };
  const whole = async <T>(
    calls: readonly T[],
    record: (c: T) => SolveRecord,
    scope: string
  ): Promise<T[]> => {
    const out: T[] = [];
    for (const c of calls) {
      const r = record(c);
      const blobs = [r.input, r.output, r.diagnostics].filter(
        (d): d is Descriptor => d !== undefined
      );
      const gone = (await Promise.all(blobs.map(present))).indexOf(false);
      if (gone === -1) out.push(c);
      else lost(`solver call ${r.id}`, scope, blobs[gone] as Descriptor);
    }
    return out;
  };
  const storableTrace = async (
    d: Descriptor | undefined,
    scope: string
  ): Promise<Descriptor | undefined> => {
    if (d === undefined || (await present(d))) return d;
    lost('the trace', scope, d);
    return undefined;
  };
  const runs = new Map<number, JournalRun>();
  for (const [runId, r] of folded.runs) {
    if (options.known.has(runId)) continue;
    const scope = `run ${runId}`;
    const c = r.close;
    // A closed run is restored from its close record, an open one from what it logged.
    runs.set(
      runId,
      c === undefined
        ? {
            ...r,
            attachments: await storable(r.attachments, scope),
            solves: await whole(r.solves, (x) => x.record, scope),
          }
        : {
            ...r,
            close: {
              ...c,
              attachments: await storable(c.attachments, scope),
              solves: await whole(c.solves, (x) => x, scope),
              samplings: await whole(c.samplings, (x) => x, scope),
              trace: await storableTrace(c.trace, scope),
            },
          }
    );
  }
  return {
    ...folded,
    runs,
    experimentAttachments: await storable(
      folded.experimentAttachments,
      `experiment ${options.experiment}`
    ),
  };
}
