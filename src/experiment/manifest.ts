/**
 * @module experiment/manifest
 * Assembles an experiment's manifest from a snapshot of its state — experiment attachments by
 * name, then each closed run's attachments by name, its trace and its solves' payloads, in run id
 * order, then the run-parameter table (OMMX's LayerTable order, ommx-reference §2.3) — stores it
 * with its config, and publishes it.
 *
 * A closed run never changes, so what it adds to a manifest is worked out once: its layers, their
 * canonical JSON, its config text (kept for the layer index it starts at). A checkpoint of 10,000
 * runs then joins texts instead of serializing 20,000 descriptors, and the size of the manifest
 * an experiment would write is known at every run start and close (see {@link ManifestRoom}).
 */
import { isRunledgerError, RunledgerError } from '../errors.js';
import { compareCodePoints } from '../formats/code-points.js';
import { canonicalJson, type JsonValue } from '../oci/canonical-json.js';
import type { Digest } from '../oci/digest.js';
import { MAX_MANIFEST_SIZE } from '../oci/descriptor.js';
import { serializeManifest } from '../oci/manifest.js';
import { MEDIA_TYPE_MANIFEST } from '../oci/media-types.js';
import type { Annotations, Descriptor, Manifest } from '../oci/types.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { AttachmentRecord } from './attachments.js';
import {
  assembleExperimentConfig,
  joinedBytes,
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  MEDIA_TYPE_RUN_PARAMETERS,
  serializeRunConfig,
  type AttachmentTableConfig,
  type ExperimentStatus,
  type RunConfig,
  type SolveConfig,
} from './config.js';
import type { ClosedRunState } from './run.js';
import {
  MEDIA_TYPE_RUNS,
  runRecordText,
  RUNS_ATTACHMENT,
  RUNS_HEAD,
  RUNS_TAIL,
} from './run-record.js';
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

// ---- the parts a closed run adds, worked out once -------------------------------------------

/** What one closed run adds to every manifest written after its close (kept per run). */
interface RunParts {
  /** How many layers it has. */
  readonly count: number;
  /** UTF-8 bytes of their canonical JSON, with the comma after each. */
  readonly bytes: number;
  /** Their canonical JSON (it does not depend on where they start), in order. */
  readonly texts: readonly string[];
}

/** A closed run's layers, and its config with their indices from where they start. */
interface Layout {
  readonly layers: readonly Descriptor[];
  readonly config: RunConfig;
}

const runParts = new WeakMap<ClosedRunState, RunParts>();

/** A layer descriptor's canonical JSON, as `serializeManifest` writes it. */
function descriptorText(d: Descriptor): string {
  return plainLayerText(d) ?? canonicalJson(d as unknown as JsonValue);
}

/**
 * The canonical JSON of the descriptor every attachment and run record has — media type,
 * digest, size and no annotation — written directly (its keys in canonical order); undefined
 * for any other shape, which the generic serializer writes.
 */
function plainLayerText(d: Descriptor): string | undefined {
  const a = d.annotations;
  let keys = 0;
  for (const k in d) if (Object.hasOwn(d, k)) keys++;
  if (keys !== 4 || a === undefined || Object.keys(a).length > 0) return undefined;
  if (typeof d.mediaType !== 'string' || !Number.isSafeInteger(d.size)) return undefined;
  return `{"annotations":{},"digest":${JSON.stringify(d.digest)},"mediaType":${JSON.stringify(d.mediaType)},"size":${d.size}}`;
}

/** Attachment name → layer index in code point order; the layers go to `push`. */
function attachmentTable(
  all: ReadonlyMap<string, AttachmentRecord>,
  push: (d: Descriptor) => number
): AttachmentTableConfig {
  const entries = new Map<string, number>();
  const filenames = new Map<string, string>();
  const names = all.size === 1 ? [...all.keys()] : [...all.keys()].sort(compareCodePoints);
  for (const name of names) {
    const r = all.get(name) as AttachmentRecord;
    entries.set(name, push(r.descriptor));
    if (r.filename !== undefined) filenames.set(name, r.filename);
  }
  return { entries, filenames };
}

/**
 * The layers and config of a closed run, its first layer at index `base`: its attachments by
 * name, its trace, then each solve's input, output and diagnostics in id order, then its
 * samplings (OMMX's order).
 */
function layoutOf(r: ClosedRunState, base: number): Layout {
  const layers: Descriptor[] = [];
  const push = (d: Descriptor): number => base + layers.push(d) - 1;
  const attachments = attachmentTable(r.attachments, push);
  const trace = r.trace === undefined ? undefined : push(r.trace);
  const calls = (list: readonly SolveRecord[]): SolveConfig[] =>
    list.map((c) => {
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
    layers,
    config: {
      runId: r.runId,
      status: r.status,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      attachments,
      ...(trace === undefined ? {} : { trace }),
      solves,
      samplings,
    },
  };
}

/** What a closed run adds to a manifest: worked out once, when it closes. */
function partsOf(r: ClosedRunState): RunParts {
  const cached = runParts.get(r);
  if (cached !== undefined) return cached;
  const { layers } = layoutOf(r, 0);
  let bytes = 0;
  const texts = layers.map(descriptorText);
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8') + 1;
  const parts: RunParts = { count: layers.length, bytes, texts };
  runParts.set(r, parts);
  return parts;
}

/**
 * How many bytes a closed run's layers take in the manifest (their canonical JSON and commas).
 * @param r - the closed run
 * @returns the bytes
 */
export function runLayerBytes(r: ClosedRunState): number {
  return partsOf(r).bytes;
}

/** How many layers a closed run has. */
export function runLayerCount(r: ClosedRunState): number {
  return partsOf(r).count;
}

// ---- the manifest's frame and size ---------------------------------------------------------

/** A descriptor as wide as the config's or the parameter table's can be (15-digit size). */
function widest(mediaType: string): Descriptor {
  return {
    mediaType,
    digest: `sha256:${'0'.repeat(64)}` as Digest,
    size: 999_999_999_999_999,
    annotations: {},
  };
}

/**
 * An unsealed experiment's manifest annotations, with what its manifest takes besides the runs'
 * layers (see {@link manifestBaseBytes}), worked out again only when an annotation or an
 * experiment attachment was added (attachments are never replaced): asked on every run open and
 * close once the manifest nears its limit.
 */
export class ManifestHead {
  readonly #annotations = new Map<string, string>();
  #changes = 0;
  #base: { readonly key: string; readonly bytes: number } | undefined;

  /** The annotations, sorted by key. */
  get annotations(): Annotations {
    return Object.fromEntries([...this.#annotations].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Sets an annotation (checked by the caller); `keep` leaves one already set as it is. */
  set(key: string, value: string, keep = false): void {
    if (keep && this.#annotations.has(key)) return;
    this.#annotations.set(key, value);
    this.#changes++;
  }

  /** {@link manifestBaseBytes} of these annotations with `subject` and `attachments`. */
  baseBytes(
    subject: Descriptor | undefined,
    attachments: ReadonlyMap<string, AttachmentRecord>
  ): number {
    const key = `${this.#changes}:${attachments.size}`;
    if (this.#base?.key !== key) {
      this.#base = { key, bytes: manifestBaseBytes(this.annotations, subject, attachments) };
    }
    return this.#base.bytes;
  }
}

/**
 * The bytes of a manifest besides its runs' layers, at most: its frame (config descriptor,
 * annotations, subject), the experiment's own attachments and the parameter table's layer.
 * @param annotations - the manifest annotations
 * @param subject - the manifest it continues
 * @param attachments - the experiment-level attachments
 * @returns an upper bound in bytes (exact but for the digits of two sizes)
 */
export function manifestBaseBytes(
  annotations: Annotations,
  subject: Descriptor | undefined,
  attachments: ReadonlyMap<string, AttachmentRecord>
): number {
  const frame = serializeManifest(
    manifestOf(widest(MEDIA_TYPE_EXPERIMENT_CONFIG), [], annotations, subject)
  );
  // The parameter table's layer, and the run records' (see writeExperimentManifest).
  let bytes =
    frame.byteLength +
    Buffer.byteLength(descriptorText(widest(MEDIA_TYPE_RUN_PARAMETERS))) +
    Buffer.byteLength(descriptorText(widest(MEDIA_TYPE_RUNS))) +
    1;
  for (const r of attachments.values())
    bytes += Buffer.byteLength(descriptorText(r.descriptor)) + 1;
  return bytes;
}

function manifestOf(
  config: Descriptor,
  layers: Descriptor[],
  annotations: Annotations,
  subject: Descriptor | undefined
): Manifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    artifactType: MEDIA_TYPE_EXPERIMENT,
    config,
    layers,
    ...(subject === undefined ? {} : { subject }),
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
  };
}

const LAYERS_MEMBER = '"layers":[]';

/**
 * The canonical bytes of `manifest`, whose layers' canonical JSON is `layers` (in pieces of one or
 * more layers each, comma-separated): the frame `serializeManifest` gives for it without layers,
 * with the pieces in its `layers` member (in canonical JSON `"layers":[]` occurs once, as that
 * member: inside a string the quotes would be escaped). The same bytes as
 * `serializeManifest(manifest)`, written into one buffer.
 * @param manifest - the manifest
 * @param layers - its layers' canonical JSON texts, in comma-separated pieces
 * @returns the manifest's bytes
 */
export function assembleManifest(manifest: Manifest, layers: readonly string[]): Uint8Array {
  const frame = new TextDecoder().decode(serializeManifest({ ...manifest, layers: [] }));
  const at = frame.indexOf(LAYERS_MEMBER) + LAYERS_MEMBER.length - 1;
  return joinedBytes(frame.slice(0, at), layers, frame.slice(at));
}

/**
 * The error of an experiment whose manifest would pass the 4 MiB a manifest may have (what
 * registries accept and every reader, ours included, refuses beyond).
 * @param reference - the experiment
 * @param what - what would not fit, e.g. `another run` or `run 12345`
 * @param facts - runs and layers recorded, bytes the manifest would have
 * @returns a `MANIFEST_INVALID` error saying what to do
 */
export function manifestTooLarge(
  reference: string,
  what: string,
  facts: { runs: number; layers: number; bytes: number }
): RunledgerError {
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(2);
  return new RunledgerError(
    'MANIFEST_INVALID',
    `Experiment ${reference} cannot take ${what}: its manifest would be ${mib(facts.bytes)} MiB with it ` +
      `(${facts.runs} runs, ${facts.layers} layers so far), over the ${mib(MAX_MANIFEST_SIZE)} MiB an OCI manifest may have; ` +
      `commit it now (every run closed so far is in it and in its checkpoint) and record the rest in another ` +
      `experiment — split the study into several, e.g. shards (exp.sweep(configs, fn, { shard: 'i/n' })).`,
    {
      data: {
        reference,
        reason: 'too-large',
        limit: MAX_MANIFEST_SIZE,
        size: facts.bytes,
        runs: facts.runs,
        layers: facts.layers,
      },
    }
  );
}

// ---- writing -------------------------------------------------------------------------------

/**
 * Stores the manifest of `snapshot` (with its config and parameter table, made durable together,
 * every blob pinned by a session of its own until `publish` returns, so superseded checkpoints can be collected while
 * the study goes on) and publishes it with `publish`. Each closed run's layers and config text
 * are taken from what its first manifest worked out.
 * @param registry - the local registry holding every layer already
 * @param snapshot - the state
 * @param signal - aborts the blob writes
 * @param publish - publishes the manifest (a reference)
 * @returns the manifest's descriptor
 * @throws RunledgerError what `publish` throws; `MANIFEST_INVALID` before anything is written
 *   when the manifest would pass 4 MiB (saying what to do), or naming the manifest when it is one
 *   the reader refuses (a bug: the store's closure error would blame missing blobs)
 */
export async function writeExperimentManifest(
  registry: LocalRegistry,
  snapshot: ManifestSnapshot,
  signal: AbortSignal | undefined,
  publish: (descriptor: Descriptor) => Promise<unknown>
): Promise<Descriptor> {
  // The run records go in one experiment attachment of runledger's own. (A seed leaves a
  // parent's out; one of that name among the attachments would be replaced, counted once.)
  const hasRecords = snapshot.runs.some((r) => r.record !== undefined);
  const ownCount =
    snapshot.attachments.size + (hasRecords && !snapshot.attachments.has(RUNS_ATTACHMENT) ? 1 : 0);
  const runs = joinedRuns(snapshot.runs, ownCount);
  // Refused before anything is written: a manifest over the limit can be neither read back nor
  // pushed, and writing its blobs would only leave garbage.
  const bound =
    runs.bytes + manifestBaseBytes(snapshot.annotations, snapshot.subject, snapshot.attachments);
  if (bound > MAX_MANIFEST_SIZE) {
    throw manifestTooLarge(snapshot.reference, `its ${snapshot.runs.length} closed runs`, {
      runs: snapshot.runs.length,
      layers: ownCount + runs.layers.length,
      bytes: bound,
    });
  }
  const pins = registry.openSession({ recoverable: false });
  try {
    const batch = registry.batch({ session: pins });
    let all = snapshot.attachments;
    if (hasRecords) {
      const put = await batch.putBlob(joinedBytes(RUNS_HEAD, runs.recordChunks, RUNS_TAIL));
      all = new Map(all).set(RUNS_ATTACHMENT, {
        name: RUNS_ATTACHMENT,
        descriptor: { mediaType: MEDIA_TYPE_RUNS, ...put, annotations: {} },
        mediaType: MEDIA_TYPE_RUNS,
        compression: 'none',
      });
    }
    const own: Descriptor[] = [];
    const ownTexts: string[] = [];
    const attachments = attachmentTable(all, (d) => {
      ownTexts.push(descriptorText(d));
      return own.push(d) - 1;
    });
    const params = await batch.putBlob(snapshot.parameters);
    const table: Descriptor = { mediaType: MEDIA_TYPE_RUN_PARAMETERS, ...params, annotations: {} };
    const runParameters = own.length + runs.layers.length;
    const { status, reason } = snapshot;
    const configBytes = assembleExperimentConfig(
      {
        status,
        ...(reason === undefined ? {} : { reason }),
        ...(status === 'finished' ? {} : { requestedImageName: snapshot.reference }),
        attachments,
        runParameters,
      },
      runs.configChunks
    );
    const config = await batch.putBlob(configBytes);
    const manifest = manifestOf(
      { mediaType: MEDIA_TYPE_EXPERIMENT_CONFIG, ...config },
      own.concat(runs.layers, [table]),
      snapshot.annotations,
      snapshot.subject
    );
    // One batch, one flush: the parameter table, the config and the manifest together.
    const descriptor = await batch.putManifest(manifest, {
      serialized: assembleManifest(manifest, [
        ...ownTexts,
        ...runs.layerChunks,
        descriptorText(table),
      ]),
    });
    await batch.commit(signal === undefined ? {} : { signal });
    await publish(descriptor).catch((e: unknown) =>
      publishFailed(registry, snapshot.reference, e, descriptor)
    );
    return descriptor;
  } finally {
    pins.close();
  }
}

/** What the closed runs of a snapshot add to its manifest and config, joined. */
interface JoinedRuns {
  /** The runs covered, in the snapshot's order. */
  readonly states: ClosedRunState[];
  /** The layer index the first run's layers start at. */
  readonly base: number;
  readonly layers: Descriptor[];
  /**
   * Their layers' canonical JSON and their config texts, comma-separated, in chunks: one per
   * manifest that added runs (no text of the whole is built, or rebuilt).
   */
  readonly layerChunks: string[];
  readonly configChunks: string[];
  /** Their entries of the `runledger.runs` attachment (runs without a record have none). */
  readonly recordChunks: string[];
  /** Per run: its chunk, where its part of each chunk ends, where its layers end. */
  readonly chunk: number[];
  readonly layerEnd: number[];
  readonly configEnd: number[];
  readonly recordEnd: number[];
  readonly layersEnd: number[];
  /** Manifest bytes their layers take. */
  bytes: number;
}

/** Per experiment (by its first closed run): the runs joined for its last manifest. */
const joined = new WeakMap<ClosedRunState, JoinedRuns>();

/**
 * The runs' layers and config texts, joined: the longest run of them the experiment's previous
 * manifest joined the same way (the same runs, in the same order, from the same layer index) is
 * taken as it is, the rest appended as one chunk — a checkpoint serializes the runs closed since
 * the last one (and those behind a run that closed out of id order), not every run again.
 */
function joinedRuns(runs: readonly ClosedRunState[], base: number): JoinedRuns {
  const first = runs[0];
  let j = first === undefined ? undefined : joined.get(first);
  let same = 0;
  if (j !== undefined && j.base === base) {
    while (same < j.states.length && same < runs.length && j.states[same] === runs[same]) same++;
  }
  if (j === undefined || j.base !== base || same === 0) {
    j = {
      states: [],
      base,
      layers: [],
      layerChunks: [],
      configChunks: [],
      recordChunks: [],
      chunk: [],
      layerEnd: [],
      configEnd: [],
      recordEnd: [],
      layersEnd: [],
      bytes: 0,
    };
  } else if (same < j.states.length) {
    // Cut back to the runs it shares (a run closed meanwhile with a lower id than some joined).
    const last = same - 1;
    const c = j.chunk[last] as number;
    for (const r of j.states.slice(same)) j.bytes -= partsOf(r).bytes;
    j.layerChunks.length = c + 1;
    j.configChunks.length = c + 1;
    j.recordChunks.length = c + 1;
    j.layerChunks[c] = (j.layerChunks[c] as string).slice(0, j.layerEnd[last]);
    j.configChunks[c] = (j.configChunks[c] as string).slice(0, j.configEnd[last]);
    j.recordChunks[c] = (j.recordChunks[c] as string).slice(0, j.recordEnd[last]);
    j.layers.length = j.layersEnd[last] as number;
    for (const list of [j.states, j.chunk, j.layerEnd, j.configEnd, j.recordEnd, j.layersEnd]) {
      list.length = same;
    }
  }
  if (same === runs.length && j.states.length === runs.length) {
    if (first !== undefined) joined.set(first, j);
    return j;
  }
  const chunk = j.layerChunks.length;
  const layerTexts: string[] = [];
  const configTexts: string[] = [];
  const recordTexts: string[] = [];
  let layerChars = -1;
  let configChars = -1;
  let recordChars = -1;
  for (let i = same; i < runs.length; i++) {
    const r = runs[i] as ClosedRunState;
    const layout = layoutOf(r, base + j.layers.length);
    const config = serializeRunConfig(layout.config);
    configTexts.push(config);
    configChars += config.length + 1;
    const parts = partsOf(r);
    for (const [k, d] of layout.layers.entries()) {
      const text = parts.texts[k] as string;
      layerTexts.push(text);
      layerChars += text.length + 1;
      j.layers.push(d);
    }
    if (r.record !== undefined) {
      const text = runRecordText(r.runId, r.record);
      recordTexts.push(text);
      recordChars += text.length + 1;
    }
    j.bytes += parts.bytes;
    j.states.push(r);
    j.chunk.push(chunk);
    j.layerEnd.push(Math.max(layerChars, 0));
    j.configEnd.push(configChars);
    j.recordEnd.push(Math.max(recordChars, 0));
    j.layersEnd.push(j.layers.length);
  }
  j.layerChunks.push(layerTexts.join(','));
  j.configChunks.push(configTexts.join(','));
  j.recordChunks.push(recordTexts.join(','));
  if (first !== undefined) joined.set(first, j);
  return j;
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
