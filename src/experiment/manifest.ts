/**
 * @module experiment/manifest
 * Assembles an experiment's manifest from a snapshot of its state — experiment attachments by
 * name, then each closed run's attachments by name, its trace and its solves' payloads, in run id
 * order, then the run-parameter table (OMMX's LayerTable order, ommx-reference §2.3) — stores it
 * with its config, and publishes it.
 */
import { isRunledgerError, RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import { MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import type { Annotations, Descriptor, Manifest } from '../oci/types.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { AttachmentRecord } from './attachments.js';
import {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  MEDIA_TYPE_RUN_PARAMETERS,
  serializeExperimentConfig,
  type AttachmentTableConfig,
  type ExperimentStatus,
  type RunConfig,
  type SolveConfig,
} from './config.js';
import type { ClosedRunState } from './run.js';
import type { SolveRecord } from './solve.js';

/** What goes into one manifest: the experiment's state at one moment. */
export interface ManifestSnapshot {
  /** The experiment's name (the config's `requested_image_name` for a checkpoint). */
  readonly reference: string;
  readonly status: ExperimentStatus;
  readonly reason: string | undefined;
  /** Experiment-level attachments by name. */
  readonly attachments: ReadonlyMap<string, AttachmentRecord>;
  /** The closed runs, in run id order. */
  readonly runs: readonly ClosedRunState[];
  /** The run-parameter table of those runs, encoded. */
  readonly parameters: Uint8Array;
  readonly annotations: Annotations;
  /** The manifest this experiment was forked or restored from. */
  readonly subject: Descriptor | undefined;
}

/**
 * Stores the manifest of `snapshot` (config and parameter table first, every blob pinned by a
 * session of its own until `publish` returns, so superseded checkpoints can be collected while
 * the study goes on) and publishes it with `publish`.
 * @param registry - the local registry holding every layer already
 * @param snapshot - the state
 * @param signal - aborts the blob writes
 * @param publish - publishes the manifest (a reference)
 * @returns the manifest's descriptor
 * @throws RunledgerError what `publish` throws; `MANIFEST_INVALID` naming the manifest when it
 *   is one the reader refuses (a bug: the store's closure error would blame missing blobs)
 */
export async function writeExperimentManifest(
  registry: LocalRegistry,
  snapshot: ManifestSnapshot,
  signal: AbortSignal | undefined,
  publish: (descriptor: Descriptor) => Promise<unknown>
): Promise<Descriptor> {
  const layers: Descriptor[] = [];
  const table = (all: ReadonlyMap<string, AttachmentRecord>): AttachmentTableConfig => {
    const entries = new Map<string, number>();
    const filenames = new Map<string, string>();
    for (const name of [...all.keys()].sort(compareCodePoints)) {
      const r = all.get(name) as AttachmentRecord;
      entries.set(name, layers.length);
      layers.push(r.descriptor);
      if (r.filename !== undefined) filenames.set(name, r.filename);
    }
    return { entries, filenames };
  };
  const attachments = table(snapshot.attachments);
  const runs: RunConfig[] = snapshot.runs.map((r) => {
    const attachments = table(r.attachments);
    // OMMX's layer order: the trace right after the run's attachments; then each solve's input,
    // output, diagnostics, in id order; then samplings.
    const trace = r.trace === undefined ? undefined : layers.push(r.trace) - 1;
    const calls = (list: readonly SolveRecord[]): SolveConfig[] =>
      list.map((c) => {
        const push = (d: Descriptor): number => layers.push(d) - 1;
        const input = push(c.input);
        const output = c.output === undefined ? undefined : push(c.output);
        const diagnostics = c.diagnostics === undefined ? undefined : push(c.diagnostics);
        return {
          id: c.id,
          status: c.status,
          input,
          ...(output === undefined ? {} : { output }),
          adapter: c.adapter,
          adapterOptions: c.adapterOptions,
          ...(diagnostics === undefined ? {} : { diagnostics }),
        };
      });
    const solves = calls(r.solves);
    const samplings = calls(r.samplings);
    return {
      runId: r.runId,
      status: r.status,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      attachments,
      ...(trace === undefined ? {} : { trace }),
      solves,
      samplings,
    };
  });
  const pins = registry.openSession({ recoverable: false });
  try {
    const batch = registry.batch({ session: pins });
    const params = await batch.putBlob(snapshot.parameters);
    const runParameters = layers.length;
    layers.push({ mediaType: MEDIA_TYPE_RUN_PARAMETERS, ...params, annotations: {} });
    const { status, reason } = snapshot;
    const configBytes = serializeExperimentConfig({
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(status === 'finished' ? {} : { requestedImageName: snapshot.reference }),
      attachments,
      runs,
      runParameters,
    });
    const config = await batch.putBlob(configBytes);
    await batch.commit(signal === undefined ? {} : { signal });
    const annotations = snapshot.annotations;
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      artifactType: MEDIA_TYPE_EXPERIMENT,
      config: { mediaType: MEDIA_TYPE_EXPERIMENT_CONFIG, ...config },
      layers,
      ...(snapshot.subject === undefined ? {} : { subject: snapshot.subject }),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    };
    const descriptor = await registry.writeManifest(manifest, { session: pins });
    await publish(descriptor).catch((e: unknown) =>
      publishFailed(registry, snapshot.reference, e, descriptor)
    );
    return descriptor;
  } finally {
    pins.close();
  }
}

/**
 * A commit or checkpoint could not publish the manifest just written. When that manifest is
 * what the reader refuses, say so (`MANIFEST_INVALID` naming it and why) rather than pass on
 * the store's closure error, which would call our own manifest missing or damaged. Checked
 * only on failure: a manifest that publishes was validated by the closure check.
 */
async function publishFailed(
  registry: LocalRegistry,
  reference: string,
  error: unknown,
  descriptor: Descriptor
): Promise<never> {
  let invalid: RunledgerError | undefined;
  try {
    await registry.readManifest(descriptor.digest);
  } catch (e) {
    if (isRunledgerError(e, 'MANIFEST_INVALID')) invalid = e;
  }
  if (invalid === undefined) throw error;
  throw new RunledgerError(
    'MANIFEST_INVALID',
    `The manifest ${descriptor.digest} built for experiment ${reference} is invalid: ${invalid.message.replace(/\.$/, '')}.`,
    { data: { reference, digest: descriptor.digest }, cause: invalid }
  );
}

/** Manifest annotation keys with this prefix belong to OMMX. */
const RESERVED_ANNOTATION_PREFIX = 'org.ommx.v1.';

/**
 * Checks a manifest annotation key the user sets.
 * @param key - the key
 * @throws RunledgerError `ARGUMENT_INVALID` (empty, not a string), `NAME_RESERVED` (OMMX's prefix)
 */
export function checkAnnotationKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new RunledgerError('ARGUMENT_INVALID', 'An annotation key must be a non-empty string.');
  }
  if (key.startsWith(RESERVED_ANNOTATION_PREFIX)) {
    throw new RunledgerError(
      'NAME_RESERVED',
      `Annotation key ${JSON.stringify(key)} is reserved: keys starting with "${RESERVED_ANNOTATION_PREFIX}" belong to OMMX metadata.`,
      { data: { key } }
    );
  }
}

/**
 * Checks a manifest annotation the user sets.
 * @param key - the key
 * @param value - the value
 * @throws RunledgerError `ARGUMENT_INVALID`, `NAME_RESERVED`
 */
export function checkAnnotation(key: string, value: string): void {
  checkAnnotationKey(key);
  if (typeof value !== 'string') {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The value of annotation ${JSON.stringify(key)} must be a string.`
    );
  }
}
