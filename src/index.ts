/**
 * @module runledger
 * The public entry of runledger. Every public name is listed here by name; internals
 * (blob files, lock, closure walk, index.json) are deliberately not exported.
 */
export { RunledgerError, isRunledgerError } from './errors.js';
export type { ErrorCode, ErrorData } from './errors.js';

export {
  parseDigest,
  isDigest,
  digestOf,
  digestOfStream,
  digestHex,
  Digester,
} from './oci/digest.js';
export type { Digest } from './oci/digest.js';
export { canonicalJson, canonicalJsonBytes } from './oci/canonical-json.js';
export type { JsonValue } from './oci/canonical-json.js';
export { parseDescriptor, MAX_MANIFEST_SIZE } from './oci/descriptor.js';
export { parseManifest, serializeManifest } from './oci/manifest.js';
export { parseImageIndex, serializeImageIndex } from './oci/image-index.js';
export { parseReference, formatReference, normalizeReference } from './oci/reference.js';
export type { Reference } from './oci/reference.js';
export {
  MEDIA_TYPE_MANIFEST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_EMPTY,
  MEDIA_TYPE_LAYOUT_HEADER,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  ANNOTATION_REF_NAME,
  ANNOTATION_TITLE,
  ANNOTATION_CREATED,
  isMediaType,
} from './oci/media-types.js';
export { OCI_LAYOUT_VERSION, blobPath } from './oci/layout.js';
export type { Annotations, Descriptor, ImageIndex, Manifest } from './oci/types.js';

export { LocalRegistry, BlobBatch } from './store/local-registry.js';
export type {
  LocalRegistryOptions,
  PutBlobOptions,
  GcOptions,
  ListRefsOptions,
  PruneOptions,
  PruneReport,
  PrunedRef,
} from './store/local-registry.js';
export { parseDuration } from './store/duration.js';
export type {
  BlobInfo,
  FsckProblem,
  FsckReport,
  GcReport,
  Progress,
  RefEntry,
  SizeReport,
} from './store/types.js';

export { Experiment } from './experiment/experiment.js';
export type { CreateExperimentOptions } from './experiment/experiment.js';
export { Run, failureReason } from './experiment/run.js';
export { SealedExperiment, SealedRun } from './experiment/sealed.js';
export { listExperiments } from './experiment/list.js';
export type { ExperimentRef, ListExperimentsOptions } from './experiment/list.js';
export type { AttachmentCodec } from './experiment/codec.js';
export type {
  AttachmentRecord,
  LogAttachmentOptions,
  LogFileOptions,
  WriteAttachmentOptions,
} from './experiment/attachments.js';
export type { ExperimentConfig, ExperimentStatus, RunStatus } from './experiment/config.js';
export {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  MEDIA_TYPE_RUN_PARAMETERS,
} from './experiment/config.js';
export type { ParameterType, ParameterValue } from './experiment/parameters.js';
export type { Compression } from './experiment/zstd.js';

export { exportArchive } from './archive/export.js';
export type { ExportArchiveOptions } from './archive/export.js';
export { importArchive } from './archive/import.js';
export type { ImportArchiveOptions, ImportResult } from './archive/import.js';
export { inspectArchive } from './archive/inspect.js';
export type { ArchiveSummary } from './archive/inspect.js';
export { inspectExperimentArchive } from './experiment/inspect.js';
export type { ExperimentArchiveSummary } from './experiment/inspect.js';
