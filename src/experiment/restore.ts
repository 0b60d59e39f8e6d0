/**
 * @module experiment/restore
 * Where `Experiment.restoreFromCheckpoint` starts: the experiment's rolling checkpoint (or the
 * manifest a crash journal was based on) and the crash journals dead processes left — and the
 * replay of those journals into the restored experiment.
 */
import { isRunledgerError, RunledgerError } from '../errors.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import type { JsonValue } from '../oci/canonical-json.js';
import type { AttachmentRecord } from './attachments.js';
import { checkpointReference } from './checkpoint.js';
import { findStaleJournals, foldStored, type JournalRun } from './crash-journals.js';
import { carriedBlobs, type JournalContents } from './journal-format.js';
import type { ParameterValue } from './parameters.js';
import type { ClosedRunState, Run } from './run.js';
import type { SolveRecord } from './solve.js';
import type { Digest } from '../oci/digest.js';
import { loadSealed, loadSealedAt, type ForkFunction, type SealedExperiment } from './sealed.js';

/** What an experiment is restored from. */
export interface RestorePoint {
  /** The checkpoint, or the manifest a journal was based on; none when only journals remain. */
  readonly base: SealedExperiment | undefined;
  /** The crash journals of dead processes recording this experiment, oldest first. */
  readonly journals: readonly JournalContents[];
}

/**
 * Finds what `name` can be restored from.
 * @param registry - the store
 * @param name - the experiment's normalized name
 * @param fork - how the sealed experiments loaded here fork
 * @returns the checkpoint (if any) and the stale journals
 * @throws RunledgerError `CHECKPOINT_NOT_FOUND` when there is neither; `EXPERIMENT_INVALID` when
 *   the checkpoint slot holds another experiment's checkpoint
 */
export async function findRestorePoint(
  registry: LocalRegistry,
  name: string,
  fork: ForkFunction
): Promise<RestorePoint> {
  const slot = await checkpointReference(registry, name);
  let base: SealedExperiment | undefined;
  try {
    base = await loadSealed(registry, slot, { allowDraft: true, fork });
  } catch (e) {
    if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
  }
  if (base !== undefined && base.config.requestedImageName !== name) {
    throw new RunledgerError(
      'EXPERIMENT_INVALID',
      `Checkpoint ${slot} is of ${String(base.config.requestedImageName)}, not of ${name}.`,
      { data: { reference: name, checkpoint: slot } }
    );
  }
  const journals = await findStaleJournals(registry, name);
  if (base === undefined) {
    const headerBase = journals.find((j) => j.header.base !== undefined)?.header.base;
    if (headerBase !== undefined && (await registry.hasBlob(headerBase.digest))) {
      base = await loadSealedAt(registry, name, headerBase, { allowDraft: true, fork });
    }
  }
  if (base === undefined && journals.length === 0) {
    throw new RunledgerError(
      'CHECKPOINT_NOT_FOUND',
      `No checkpoint of experiment ${name} in the store ${registry.root}; list them with \`runledger checkpoints\`.`,
      { data: { reference: name, root: registry.root } }
    );
  }
  return { base, journals };
}

/** What a replay changes of the runs of the experiment being restored. */
export interface ReplayRuns {
  /** Run ids the restored state already holds (closed in its checkpoint). */
  readonly closedRunIds: ReadonlySet<number>;
  /** Where parameters go (each set checked as any logged value). */
  readonly parameters: { set(runId: number, name: string, value: ParameterValue): void };
  /** Adds a closed run; `name` is its run name, when the journal had its open record. */
  addClosed(state: ClosedRunState, name: string | undefined): void;
  /** Opens a run again, under its old id and start time when `recovered` says so. */
  open(
    options: {
      name: string;
      tags: Record<string, string>;
      labels: string[];
      description?: string;
    },
    parentRunId: number | undefined,
    recovered: {
      runId: number;
      startedAt: Date;
      attributes: Readonly<Record<string, JsonValue>>;
      resumedFrom: number | undefined;
    }
  ): Run;
}

/** What a replay changes in the experiment being restored. */
export interface ReplayTarget {
  readonly registry: LocalRegistry;
  readonly reference: string;
  readonly runs: ReplayRuns;
  /** Adds experiment-level attachments. */
  adoptAttachments(records: readonly AttachmentRecord[]): void;
  /** Sets an annotation the state does not have yet. */
  addAnnotation(key: string, value: string): void;
  /** The restored experiment's session: what it pins is flushed before its checkpoint names it. */
  readonly session: StoreSession;
}

/** Every blob a folded journal names: attachments, solves and traces of its runs, and its own. */
function* foldedDigests(
  runs: Iterable<JournalRun>,
  experimentAttachments: readonly AttachmentRecord[]
): Generator<Digest> {
  const ofSolve = function* (s: SolveRecord): Generator<Digest> {
    yield s.input.digest;
    if (s.output !== undefined) yield s.output.digest;
    if (s.diagnostics !== undefined) yield s.diagnostics.digest;
  };
  for (const a of experimentAttachments) yield a.descriptor.digest;
  for (const r of runs) {
    for (const a of r.attachments) yield a.descriptor.digest;
    for (const s of r.solves) yield* ofSolve(s.record);
    const c = r.close;
    if (c === undefined) continue;
    for (const a of c.attachments) yield a.descriptor.digest;
    for (const s of [...c.solves, ...c.samplings]) yield* ofSolve(s);
    if (c.trace !== undefined) yield c.trace.digest;
  }
}

/**
 * Puts back what a dead process's journal recorded that the restored state lacks: closed runs
 * (with their parameters), and open runs up to their last write, closed as `interrupted` with
 * reason `"process ended"` at that time, children first.
 * @param target - the experiment being restored
 * @param j - the journal
 * @returns when done
 * @throws RunledgerError as `foldStored`
 */
export async function replayJournal(target: ReplayTarget, j: JournalContents): Promise<void> {
  // The small blobs the dead process's background writer may not have written (or a power loss
  // took): their bytes are in the journal. A copy in the store is kept, a damaged one replaced.
  const carried = carriedBlobs(j.records);
  if (carried.size > 0) {
    const batch = target.registry.batch({ session: target.session });
    for (const bytes of carried.values()) batch.putBlobNow(bytes);
    await batch.commit({ syncDirectory: false });
  }
  const folded = await foldStored(target.registry, j, {
    experiment: target.reference,
    known: new Set(target.runs.closedRunIds),
  });
  // The dead process published its small blobs for a grouped flush it may not have made: made
  // durable here, before the restore's checkpoint names them.
  await target.registry.flushBlobs(
    foldedDigests(folded.runs.values(), folded.experimentAttachments)
  );
  target.adoptAttachments(folded.experimentAttachments);
  for (const [k, v] of folded.annotations) target.addAnnotation(k, v);
  const setParams = (runId: number, r: JournalRun): void => {
    for (const [n, v] of r.params) target.runs.parameters.set(runId, n, v);
  };
  const missing = [...folded.runs].sort(([a], [b]) => a - b);
  // Closed runs the state lacks: their close record has everything but the parameters.
  for (const [runId, r] of missing) {
    const c = r.close;
    if (c === undefined) continue;
    setParams(runId, r);
    target.runs.addClosed(
      {
        runId,
        status: c.status,
        reason: c.reason,
        attachments: new Map(c.attachments.map((a) => [a.name, a])),
        solves: c.solves,
        samplings: c.samplings,
        ...(c.trace === undefined ? {} : { trace: c.trace }),
        ...(c.rec === undefined ? {} : { record: c.rec }),
      },
      r.open?.name
    );
  }
  // Open runs: rebuilt in id order (parents first), then closed as interrupted, children first.
  const rebuilt: [Run, number][] = [];
  for (const [runId, r] of missing) {
    const o = r.open;
    if (r.close !== undefined || o === undefined) continue;
    const run = target.runs.open(
      {
        name: o.name,
        tags: { ...o.tags, ...r.tags },
        labels: [...new Set([...(o.labels ?? []), ...r.labels])],
        ...(o.description === undefined ? {} : { description: o.description }),
      },
      o.parent,
      {
        runId,
        startedAt: new Date(o.at),
        attributes: { ...o.attrs, ...r.attributes },
        resumedFrom: o.resumed,
      }
    );
    setParams(runId, r);
    run.recover({ attachments: r.attachments, solves: r.solves, metrics: r.points });
    rebuilt.push([run, Math.max(o.at, r.lastWrite)]);
  }
  for (const [run, lastWrite] of rebuilt.reverse()) {
    if (!run.closed)
      await run.close('interrupted', 'process ended', undefined, new Date(lastWrite));
  }
}
