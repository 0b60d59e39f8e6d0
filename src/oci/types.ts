/**
 * @module oci/types
 * The OCI image-spec 1.1 records runledger reads and writes, field names exactly as the spec.
 */
import type { Digest } from './digest.js';

/** String-to-string annotations. */
export type Annotations = Readonly<Record<string, string>>;

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly annotations?: Annotations;
  /** Base64 of the exact content, verified against `digest` and `size` when parsed. */
  readonly data?: string;
  readonly artifactType?: string;
}

/** An OCI image manifest (also the shape of image-spec 1.1 artifacts). */
export interface Manifest {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}

/** An OCI image index (the shape of an image layout's `index.json`). */
export interface ImageIndex {
  readonly schemaVersion: 2;
  /** Optional: skopeo writes layouts without it. */
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Annotations;
}
