/**
 * @module runledger
 * The public entry of runledger. Every public name is listed here by name; internals
 * (blob files, lock, closure walk, index.json) are deliberately not exported.
 */
export { RunledgerError, RemoteError, isRunledgerError } from './errors.js';
export type { ErrorCode, ErrorData, RegistryErrorEntry } from './errors.js';

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

export { LocalRegistry } from './store/local-registry.js';
export { BlobBatch } from './store/blob-batch.js';
export type { LocalRegistryOptions } from './store/local-registry.js';
export type { SessionOptions, StoreSession } from './store/session.js';
export { parseDuration } from './store/duration.js';
export type {
  BlobInfo,
  FsckProblem,
  FsckReport,
  GcOptions,
  GcReport,
  ListRefsOptions,
  Progress,
  PruneOptions,
  PruneReport,
  PrunedRef,
  PutBlobOptions,
  RefEntry,
  SessionWriteOptions,
  SizeReport,
} from './store/types.js';

export { currentExperiment, Experiment } from './experiment/experiment.js';
export type { ExperimentState } from './experiment/experiment.js';
export type { CreateExperimentOptions, RestoreOptions } from './experiment/options.js';
export {
  AutosavePolicy,
  checkpointReference,
  listExperimentCheckpoints,
} from './experiment/checkpoint.js';
export type {
  CheckpointStatus,
  ExperimentCheckpoint,
  ExperimentCheckpointRef,
  ListCheckpointsOptions,
} from './experiment/checkpoint.js';
export { listCrashJournals } from './experiment/crash-journals.js';
export type { CrashJournal } from './experiment/crash-journals.js';
export type { Durability } from './experiment/journal.js';
export { Run, failureReason } from './experiment/run.js';
export { SealedExperiment, SealedRun } from './experiment/sealed.js';
export type { ForkOptions, PushOptions } from './experiment/sealed.js';
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
export type { Compression } from './experiment/compression.js';

export { exportArchive } from './archive/export.js';
export type { ExportArchiveOptions } from './archive/export.js';
export { importArchive } from './archive/import.js';
export type { ImportArchiveOptions, ImportResult } from './archive/import.js';
export { inspectArchive } from './archive/inspect.js';
export type { ArchiveSummary } from './archive/inspect.js';
export { inspectExperimentArchive } from './experiment/inspect.js';
export type { ExperimentArchiveSummary } from './experiment/inspect.js';

export { RemoteClient } from './remote/client.js';
export type { RemoteOptions } from './remote/client.js';
export { Repository } from './remote/repository.js';
export type { BlobPushResult, FetchedManifest, UploadOptions } from './remote/repository.js';
export type { BodySource, FetchLike } from './remote/http.js';
export { copyArtifact, pullArtifact, pushArtifact } from './remote/transfer.js';
export type {
  LoadOptions,
  PullOptions,
  TransferOptions,
  TransferProgress,
  TransferReport,
} from './remote/transfer.js';
export {
  dockerConfigPath,
  envCredentialName,
  eraseCredential,
  resolveCredential,
  storeCredential,
} from './remote/credentials.js';
export type {
  Credential,
  CredentialOptions,
  CredentialSource,
  EraseResult,
  StoreCredentialOptions,
} from './remote/credentials.js';

export { Artifact, MEDIA_TYPE_ARTIFACT } from './experiment/artifact.js';
export type { LayerSelector } from './experiment/artifact.js';
export { OpenSolve, SolveView } from './experiment/solve.js';
export type { OpenSolveOutcome, SolveControls } from './experiment/solve.js';

export { Instance } from './ommx/instance.js';
export type { StateInput } from './ommx/instance.js';
export { ParametricInstance } from './ommx/parametric-instance.js';
export { SampleSet } from './ommx/sample-set.js';
export { Solution } from './ommx/solution.js';
export { Expr, InstanceBuilder, Variable, constant, linear, sum } from './ommx/builder.js';
export type {
  Comparison,
  ConstraintOptions,
  InstanceBuilderOptions,
  LabelOptions,
  Operand,
  VariableOptions,
} from './ommx/builder.js';
export type { EvaluateOptions } from './ommx/evaluate.js';
export {
  MEDIA_TYPE_INSTANCE,
  MEDIA_TYPE_INSTANCE_V1,
  MEDIA_TYPE_PARAMETRIC_INSTANCE,
  MEDIA_TYPE_PARAMETRIC_INSTANCE_V1,
  MEDIA_TYPE_SAMPLE_SET,
  MEDIA_TYPE_SAMPLE_SET_V1,
  MEDIA_TYPE_SOLUTION,
  MEDIA_TYPE_SOLUTION_V1,
} from './ommx/media-types.js';
export type { OmmxMessageKind } from './ommx/media-types.js';
export type * from './ommx/types.js';
export type {
  DiagnosticsSink,
  PreparedSolve,
  SamplerAdapter,
  SolveContext,
  SolverAdapter,
} from './solve/adapter.js';

export { currentRun, lastRun } from './experiment/context.js';
export { MEDIA_TYPE_METRICS, METRICS_ATTACHMENT } from './experiment/metrics.js';
export type { LogMetricOptions, MetricSeries } from './experiment/metrics.js';
export { MEDIA_TYPE_RUN, RUN_ATTACHMENT } from './experiment/run-record.js';
export type { RunError, RunInfo, RunOptions, RunScopeOptions } from './experiment/run-record.js';
