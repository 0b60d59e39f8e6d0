/**
 * @module experiment/checkpoint
 * Checkpoints as OMMX has them (ommx-reference §1.6–1.8): one rolling checkpoint reference per
 * requested experiment name, the autosave policy deciding when a run close writes one, and the
 * listing of checkpoints.
 */
import { createHash } from 'node:crypto';
import { isRunledgerError, RunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { normalizeReference } from '../oci/reference.js';
import type { Annotations, Descriptor } from '../oci/types.js';
import { LocalRegistry } from '../store/local-registry.js';
import type { ExperimentStatus } from './config.js';
import { readListed } from './list.js';
import { loadSealedAt, type SealedExperiment } from './sealed.js';

/** A checkpoint's status: OMMX's `draft` (autosave), `failed` or `interrupted`. */
export type CheckpointStatus = Exclude<ExperimentStatus, 'finished'>;

const CHECKPOINT_STATUSES: readonly CheckpointStatus[] = ['draft', 'failed', 'interrupted'];

/**
 * Checks a checkpoint status a caller gave (`finished` is not one).
 * @internal
 */
export function checkCheckpointStatus(status: unknown): CheckpointStatus {
  if (!CHECKPOINT_STATUSES.includes(status as CheckpointStatus)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Checkpoint status ${JSON.stringify(status)} is not one of draft, failed, interrupted.`,
      { data: { status } }
    );
  }
  return status as CheckpointStatus;
}

/**
 * The checkpoint reference of a requested experiment name in a store:
 * `<id8>.runledger.local/checkpoint:<hex sha256 of the name>` (one rolling slot per name).
 * @param registry - the store
 * @param requestedName - the experiment's reference (normalised first)
 * @returns the checkpoint reference
 * @throws RunledgerError `REFERENCE_INVALID`, `IO_ERROR`
 * @example
 * ```ts
 * await checkpointReference(registry, 'ghcr.io/acme/qap:tai20a');
 * // '1a2b3c4d.runledger.local/checkpoint:5f0c…'
 * ```
 */
export async function checkpointReference(
  registry: LocalRegistry,
  requestedName: string
): Promise<string> {
  const name = normalizeReference(requestedName);
  const hash = createHash('sha256').update(name, 'utf8').digest('hex');
  return `${(await registry.id()).slice(0, 8)}.runledger.local/checkpoint:${hash}`;
}

type PolicySpec =
  | { readonly kind: 'everyRunClose' }
  | { readonly kind: 'everyNRuns'; readonly n: number }
  | { readonly kind: 'minInterval'; readonly seconds: number }
  | { readonly kind: 'disabled' };

/**
 * When a run close writes a `draft` checkpoint (OMMX's `AutosavePolicy`). Session-only: a
 * restored or forked experiment starts at the default, {@link AutosavePolicy.everyRunClose}.
 * It never suppresses the `failed` / `interrupted` checkpoint of a failed scope.
 *
 * @example
 * ```ts
 * exp.setAutosavePolicy(AutosavePolicy.everyNRuns(10));
 * ```
 */
export class AutosavePolicy {
  /** @internal */
  readonly spec: PolicySpec;

  private constructor(spec: PolicySpec) {
    this.spec = spec;
  }

  /** A checkpoint after every run close (the default). */
  static everyRunClose(): AutosavePolicy {
    return new AutosavePolicy({ kind: 'everyRunClose' });
  }

  /**
   * A checkpoint once `n` runs closed since the policy was set or the last successful autosave.
   * @param n - a positive integer
   * @throws RunledgerError `ARGUMENT_INVALID`
   */
  static everyNRuns(n: number): AutosavePolicy {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `AutosavePolicy.everyNRuns needs a positive integer, got ${String(n)}.`,
        { data: { n } }
      );
    }
    return new AutosavePolicy({ kind: 'everyNRuns', n });
  }

  /**
   * The first run close checkpoints at once, then at most one checkpoint per interval (a failed
   * attempt uses up the interval too).
   * @param seconds - a finite number ≥ 0
   * @throws RunledgerError `ARGUMENT_INVALID`
   */
  static minInterval(seconds: number): AutosavePolicy {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `AutosavePolicy.minInterval needs a finite number of seconds ≥ 0, got ${String(seconds)}.`,
        { data: { seconds } }
      );
    }
    return new AutosavePolicy({ kind: 'minInterval', seconds });
  }

  /** No autosave on run close. */
  static disabled(): AutosavePolicy {
    return new AutosavePolicy({ kind: 'disabled' });
  }

  /** `AutosavePolicy.everyNRuns(10)` and so on. */
  toString(): string {
    const s = this.spec;
    switch (s.kind) {
      case 'everyNRuns':
        return `AutosavePolicy.everyNRuns(${s.n})`;
      case 'minInterval':
        return `AutosavePolicy.minInterval(${s.seconds})`;
      default:
        return `AutosavePolicy.${s.kind}()`;
    }
  }
}

/**
 * The schedule of one session under one policy: told of run closes and attempts, it says when to
 * checkpoint. Setting a policy starts a new schedule.
 * @internal
 */
export class AutosaveSchedule {
  readonly policy: AutosavePolicy;
  #closesSinceSave = 0;
  #lastAttempt: number | undefined;

  constructor(policy: AutosavePolicy) {
    this.policy = policy;
  }

  /** A run closed: whether to checkpoint now. */
  runClosed(now: number): boolean {
    const s = this.policy.spec;
    this.#closesSinceSave++;
    switch (s.kind) {
      case 'everyRunClose':
        return true;
      case 'everyNRuns':
        return this.#closesSinceSave >= s.n;
      case 'minInterval':
        return this.#lastAttempt === undefined || now - this.#lastAttempt >= s.seconds * 1000;
      case 'disabled':
        return false;
    }
  }

  /** A checkpoint attempt began (at `now`). */
  attempted(now: number): void {
    this.#lastAttempt = now;
  }

  /** A checkpoint was written. */
  saved(): void {
    this.#closesSinceSave = 0;
  }
}

/** One checkpoint, as OMMX's `list_experiment_checkpoints` describes it. */
export interface ExperimentCheckpointRef {
  /** The checkpoint's own (internal) reference. */
  readonly checkpointImageName: string;
  /** The experiment name it is a checkpoint of: pass it to `Experiment.restoreFromCheckpoint`. */
  readonly requestedImageName: string;
  readonly manifestDigest: Digest;
  readonly configDigest: Digest;
  /** When the checkpoint was last written (RFC 3339). */
  readonly updatedAt: string | undefined;
  readonly status: CheckpointStatus;
  /** Why a failed or interrupted checkpoint's scope ended. */
  readonly reason: string | undefined;
  readonly runCount: number;
  readonly solveCount: number;
  readonly samplingCount: number;
  readonly annotations: Annotations;
  /** The full config JSON. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** Options of {@link listExperimentCheckpoints}. */
export interface ListCheckpointsOptions {
  /** Only checkpoints whose requested name starts with this text. */
  readonly prefix?: string;
  /** Only these statuses (`finished` is not a checkpoint status). */
  readonly statuses?: readonly CheckpointStatus[];
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
}

/**
 * Lists the experiment checkpoints of the local registry, sorted by requested name.
 * @param options - prefix (of the requested name), statuses, registry
 * @returns the checkpoints
 * @throws RunledgerError `ARGUMENT_INVALID` for a status that is not draft, failed or interrupted
 *   (checked before the registry is opened); `LAYOUT_INVALID`
 * @example
 * ```ts
 * const failed = await listExperimentCheckpoints({ statuses: ['failed', 'interrupted'] });
 * failed.map((c) => c.requestedImageName);
 * ```
 */
export async function listExperimentCheckpoints(
  options: ListCheckpointsOptions = {}
): Promise<ExperimentCheckpointRef[]> {
  const statuses = options.statuses;
  if (statuses !== undefined) {
    for (const s of statuses) checkCheckpointStatus(s);
  }
  const registry = options.registry ?? (await LocalRegistry.open());
  const prefix = `${(await registry.id()).slice(0, 8)}.runledger.local/checkpoint:`;
  const refs = await registry.listRefs({ prefix, includeInternal: true });
  const out: ExperimentCheckpointRef[] = [];
  for (const ref of refs) {
    const listed = await readListed(registry, ref);
    const requested = listed?.requestedImageName;
    if (listed === undefined || requested === undefined || listed.status === 'finished') continue;
    if (options.prefix !== undefined && !requested.startsWith(options.prefix)) continue;
    if (statuses !== undefined && !statuses.includes(listed.status)) continue;
    out.push({
      ...listed,
      checkpointImageName: ref.reference,
      requestedImageName: requested,
      status: listed.status,
    });
  }
  return out.sort((a, b) =>
    a.requestedImageName < b.requestedImageName
      ? -1
      : a.requestedImageName > b.requestedImageName
        ? 1
        : 0
  );
}

/**
 * Reads an experiment's checkpoint (draft, failed or interrupted) as a read-only experiment named
 * by the experiment's own name: what the viewer shows of a study still recording. It is continued
 * with `Experiment.restoreFromCheckpoint`, not forked.
 * @param registry - the store holding it
 * @param reference - the experiment's name
 * @param descriptor - the checkpoint's manifest
 * @returns the experiment as the checkpoint holds it
 * @throws RunledgerError `EXPERIMENT_INVALID`, `DIGEST_MISMATCH`, `PAYLOAD_INVALID` when damaged
 * @internal
 */
export function loadCheckpoint(
  registry: LocalRegistry,
  reference: string,
  descriptor: Descriptor
): Promise<SealedExperiment> {
  const name = normalizeReference(reference);
  return loadSealedAt(registry, name, descriptor, {
    allowDraft: true,
    fork: () =>
      Promise.reject(
        new RunledgerError(
          'EXPERIMENT_UNCOMMITTED',
          `The checkpoint of ${name} cannot be forked; continue it with Experiment.restoreFromCheckpoint.`,
          { data: { reference: name } }
        )
      ),
  });
}

/** A checkpoint written by {@link Experiment.checkpoint}. */
export interface ExperimentCheckpoint {
  /** The checkpoint reference (`<id8>.runledger.local/checkpoint:<sha256 of the name>`). */
  readonly reference: string;
  readonly descriptor: Descriptor;
  readonly status: CheckpointStatus;
  /** Closed runs it holds. */
  readonly runCount: number;
}

/**
 * Removes an experiment's rolling checkpoint, if it has one.
 * @param registry - the store
 * @param reference - the experiment's name
 * @returns when removed (or when there was none)
 * @throws RunledgerError `IO_ERROR`, `LOCK_TIMEOUT`
 */
export async function removeCheckpoint(registry: LocalRegistry, reference: string): Promise<void> {
  const slot = await checkpointReference(registry, reference);
  await registry.deleteRef(slot).catch((e: unknown) => {
    if (!isRunledgerError(e, 'REF_NOT_FOUND')) throw e;
  });
}

/**
 * The checkpoint slot of an experiment, when it holds a checkpoint.
 * @param registry - the store
 * @param reference - the experiment's name
 * @returns the checkpoint reference, or undefined when there is none
 * @throws RunledgerError `IO_ERROR`
 */
export async function existingCheckpoint(
  registry: LocalRegistry,
  reference: string
): Promise<string | undefined> {
  const slot = await checkpointReference(registry, reference);
  try {
    await registry.resolve(slot);
    return slot;
  } catch (e) {
    if (isRunledgerError(e, 'REF_NOT_FOUND')) return undefined;
    throw e;
  }
}
