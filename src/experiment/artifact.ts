/**
 * @module experiment/artifact
 * Generic OMMX artifacts (`application/org.ommx.v1.artifact`, e.g. a published Instance): read
 * their layers, decoding OMMX messages by media type.
 */
import { importArchive } from '../archive/import.js';
import { RunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { normalizeReference } from '../oci/reference.js';
import type { Annotations, Descriptor, Manifest } from '../oci/types.js';
import { LocalRegistry } from '../store/local-registry.js';
import {
  pullIfMissing,
  pushArtifact,
  type LoadOptions,
  type TransferOptions,
  type TransferReport,
} from '../remote/transfer.js';
import { ommxPayloadType, type OmmxMessageKind } from '../ommx/media-types.js';
import type { Instance } from '../ommx/instance.js';
import type { ParametricInstance } from '../ommx/parametric-instance.js';
import type { SampleSet } from '../ommx/sample-set.js';
import type { Solution } from '../ommx/solution.js';
import { decodePayload, type OmmxPayload } from './payloads.js';
import { decompressZstd } from '../formats/zstd.js';
import { logicalMediaType } from './compression.js';

/** The artifact type OMMX gives generic artifacts. */
export const MEDIA_TYPE_ARTIFACT = 'application/org.ommx.v1.artifact';

/** A layer, by its index in `layers` or by its descriptor. */
export type LayerSelector = number | Descriptor;

/**
 * An OCI artifact in the local registry, read-only: an OMMX generic artifact (one Instance, a
 * Solution…) or any other image manifest. Every read is digest-verified.
 *
 * @example
 * ```ts
 * const art = await Artifact.importArchive('random_lp_instance.ommx');
 * const instance = await art.getInstance(0);
 * ```
 */
export class Artifact {
  readonly reference: string;
  readonly manifestDigest: Digest;
  readonly manifest: Manifest;
  readonly registry: LocalRegistry;

  /** @internal Use {@link Artifact.load} or {@link Artifact.importArchive}. */
  constructor(init: {
    reference: string;
    manifestDigest: Digest;
    manifest: Manifest;
    registry: LocalRegistry;
  }) {
    this.reference = init.reference;
    this.manifestDigest = init.manifestDigest;
    this.manifest = init.manifest;
    this.registry = init.registry;
  }

  /**
   * Loads an artifact: from the local registry when it has the reference, else pulled from the
   * registry the reference names.
   * @param reference - its reference
   * @param options - registry; for a pull: credentials, concurrency, onProgress, signal
   * @returns the artifact
   * @throws RunledgerError `REFERENCE_INVALID`, `REF_NOT_FOUND`, `MANIFEST_INVALID`
   * @example
   * ```ts
   * const art = await Artifact.load('ghcr.io/jij-inc/ommx/random_lp_instance:e69fb91');
   * ```
   */
  static async load(reference: string, options: LoadOptions = {}): Promise<Artifact> {
    const name = normalizeReference(reference);
    const registry = options.registry ?? (await LocalRegistry.open());
    await pullIfMissing(registry, name, options);
    const desc = await registry.resolve(name);
    const { manifest } = await registry.readManifest(desc.digest);
    return new Artifact({ reference: name, manifestDigest: desc.digest, manifest, registry });
  }

  /**
   * Imports an `.ommx` archive (or OCI layout directory) and loads the artifact it holds.
   * @param path - the archive or directory
   * @param options - registry, reference to publish under, signal
   * @returns the artifact
   * @throws RunledgerError `ARCHIVE_INVALID`, `REF_CONFLICT`, `IO_ERROR`
   * @example
   * ```ts
   * const art = await Artifact.importArchive('random_lp_instance.ommx');
   * ```
   */
  static async importArchive(
    path: string,
    options: {
      readonly registry?: LocalRegistry;
      readonly reference?: string;
      readonly signal?: AbortSignal;
    } = {}
  ): Promise<Artifact> {
    const registry = options.registry ?? (await LocalRegistry.open());
    const imported = await importArchive(registry, path, {
      ...(options.reference === undefined ? {} : { reference: options.reference }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return Artifact.load(imported.reference, { registry });
  }

  /**
   * Pushes the artifact to the registry its reference names (or to `options.to`).
   * @param options - `to`, credentials, concurrency, `onProgress`, signal
   * @returns what was sent
   * @throws RemoteError on registry failures; RunledgerError `REFERENCE_INVALID` for a local-only name without `to`
   * @example
   * ```ts
   * await art.push({ to: 'ghcr.io/acme/instances:qap' });
   * ```
   */
  async push(
    options: Omit<TransferOptions, 'registry'> & { readonly to?: string } = {}
  ): Promise<TransferReport> {
    const { to, ...rest } = options;
    return pushArtifact(this.reference, to ?? this.reference, { ...rest, registry: this.registry });
  }

  /** The manifest's artifact type (its config media type when it has none). */
  get artifactType(): string {
    return this.manifest.artifactType ?? this.manifest.config.mediaType;
  }

  /** The layer descriptors, in manifest order. */
  get layers(): readonly Descriptor[] {
    return this.manifest.layers;
  }

  /** The manifest's annotations. */
  get annotations(): Annotations {
    return this.manifest.annotations ?? {};
  }

  #layer(selector: LayerSelector): Descriptor {
    if (typeof selector === 'number') {
      const d = this.manifest.layers[selector];
      if (d === undefined || !Number.isInteger(selector)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `Artifact ${this.reference} has no layer ${selector} (it has ${this.manifest.layers.length}).`,
          { data: { reference: this.reference, layer: selector } }
        );
      }
      return d;
    }
    const found =
      typeof selector === 'object' && selector !== null
        ? this.manifest.layers.find(
            (l) => l.digest === selector.digest && l.mediaType === selector.mediaType
          )
        : undefined;
    if (found === undefined) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `Pass a layer index or one of the layer descriptors of artifact ${this.reference}.`,
        { data: { reference: this.reference } }
      );
    }
    return found;
  }

  /**
   * A layer's bytes (decompressed when stored `+zstd`), digest-verified.
   * @param layer - index or descriptor
   * @returns the bytes
   * @throws RunledgerError `ARGUMENT_INVALID`, `BLOB_NOT_FOUND`, `DIGEST_MISMATCH`
   */
  async getBlob(layer: LayerSelector): Promise<Uint8Array> {
    const d = this.#layer(layer);
    const bytes = await this.registry.readBlob(d.digest, { expectedSize: d.size });
    const { compression } = logicalMediaType(d.mediaType, d.annotations ?? {});
    return compression === 'zstd' ? decompressZstd(bytes, { maxSize: 1024 * 1024 * 1024 }) : bytes;
  }

  async #payload<K extends OmmxMessageKind>(
    layer: LayerSelector,
    kind: K
  ): Promise<OmmxPayload<K>> {
    const d = this.#layer(layer);
    const { mediaType } = logicalMediaType(d.mediaType, d.annotations ?? {});
    // Checked before the blob is read.
    decodePayloadTypeCheck(kind, mediaType);
    return decodePayload(kind, await this.getBlob(d), mediaType, d.annotations ?? {});
  }

  /**
   * An Instance layer (v1 or v2), decoded; its descriptor annotations fill what it lacks.
   * @param layer - index or descriptor
   * @returns the Instance
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ARGUMENT_INVALID`
   */
  getInstance(layer: LayerSelector): Promise<Instance> {
    return this.#payload(layer, 'instance');
  }

  /**
   * A ParametricInstance layer, decoded.
   * @param layer - index or descriptor
   * @returns the ParametricInstance
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ARGUMENT_INVALID`
   */
  getParametricInstance(layer: LayerSelector): Promise<ParametricInstance> {
    return this.#payload(layer, 'parametric-instance');
  }

  /**
   * A Solution layer, decoded.
   * @param layer - index or descriptor
   * @returns the Solution
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ARGUMENT_INVALID`
   */
  getSolution(layer: LayerSelector): Promise<Solution> {
    return this.#payload(layer, 'solution');
  }

  /**
   * A SampleSet layer, decoded.
   * @param layer - index or descriptor
   * @returns the SampleSet
   * @throws RunledgerError `MEDIA_TYPE_MISMATCH`, `PAYLOAD_INVALID`, `ARGUMENT_INVALID`
   */
  getSampleSet(layer: LayerSelector): Promise<SampleSet> {
    return this.#payload(layer, 'sample-set');
  }
}

function decodePayloadTypeCheck(kind: OmmxMessageKind, mediaType: string): void {
  if (ommxPayloadType(mediaType)?.kind !== kind) {
    throw new RunledgerError(
      'MEDIA_TYPE_MISMATCH',
      `Expected an OMMX ${kind} layer, got media type ${JSON.stringify(mediaType)}.`,
      { data: { kind, mediaType } }
    );
  }
}
