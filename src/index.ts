/**
 * @module runledger
 * The public entry of runledger. Every public name is listed here by name; internals
 * (blob files, lock, closure walk, index.json) are deliberately not exported.
 */
export { RunledgerError, RemoteError, isRunledgerError } from './errors.js';
export type { ErrorCode, ErrorData, RegistryErrorEntry } from './errors.js';

// The format's building blocks (digests, manifests, references, media types) are in
// 'runledger/oci' (src/entries/oci.ts); the types the API below names stay here too.
export type { Digest } from './oci/digest.js';
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
export { Run } from './experiment/run.js';
export { failureReason } from './experiment/run-record.js';
export { SealedExperiment, SealedRun } from './experiment/sealed.js';
export type { ForkOptions, PushOptions } from './experiment/sealed.js';
export { listExperiments, listProjects } from './experiment/list.js';
export { searchRuns } from './experiment/search.js';
export type { SearchRunsOptions } from './experiment/search.js';
export { query, queryToParquet, writeParquet } from './sql/query.js';
export type { SqlQueryOptions } from './sql/query.js';
export type { ExperimentRef, ListExperimentsOptions, ProjectRef } from './experiment/list.js';
export type { AttachmentCodec } from './experiment/codec.js';
export type {
  AttachmentRecord,
  LogAttachmentOptions,
  LogFileOptions,
  WriteAttachmentOptions,
} from './experiment/attachments.js';
export type { ExperimentConfig, ExperimentStatus, RunStatus } from './experiment/config.js';
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
export { listRemoteTags } from './remote/tags.js';
export type { ListRemoteTagsOptions, RemoteTag } from './remote/tags.js';
export { pullProject } from './remote/pull-project.js';
export type {
  ProjectPullReport,
  ProjectTagPull,
  PullProjectOptions,
} from './remote/pull-project.js';
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

export { Artifact } from './experiment/artifact.js';
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
export type { OmmxMessageKind } from './ommx/media-types.js';
export type * from './ommx/types.js';
export type {
  DiagnosticsSink,
  PreparedSolve,
  SamplerAdapter,
  SolveContext,
  SolverAdapter,
  WorkerEntry,
} from './solve/adapter.js';
export { sampleInWorker, solveInWorker } from './solve/worker-solve.js';

export { activeRun, currentRun, endRun, lastActiveRun, lastRun } from './experiment/context.js';
export type {
  AttachmentEvent,
  CheckpointEvent,
  CommitEvent,
  ExperimentObserver,
  LoggedRun,
  Logger,
  MetricsEvent,
  ObserverHook,
  ParamsEvent,
  RunEndEvent,
  RunEndStatus,
  RunStartEvent,
  SolveEvent,
  StartRunOptions,
  SweepEvent,
  TagsEvent,
  TagsInput,
} from './experiment/logger.js';
export { grid, parseShard, random, shardFromEnv, shardReference } from './experiment/sweep.js';
export type {
  Distribution,
  Shard,
  SweepConfig,
  SweepOptions,
  SweepResult,
} from './experiment/sweep.js';
export { mergeExperiments } from './experiment/merge.js';
export type { MergeOptions } from './experiment/merge.js';
export { METRICS_ATTACHMENT } from './experiment/metrics.js';
export type { LogMetricOptions, MetricSeries } from './experiment/metrics.js';
export { RUN_ATTACHMENT, RUNS_ATTACHMENT } from './experiment/run-record.js';
export type { RunError, RunInfo, RunOptions, RunScopeOptions } from './experiment/run-record.js';

export { parseSort, parseWhere, queryTable } from './tables/query.js';
export type { Cell, QueryOptions, Row } from './tables/query.js';

export { decodeTraceSpans } from './experiment/trace-spans.js';
export type { RunTraceSpan, TraceAttributeValue } from './experiment/trace-spans.js';
export type { TraceSpanProcessor } from './experiment/trace.js';

export { asLogger, CompositeLogger, CompositeRun } from './loggers/composite.js';
export type { LoggerFailure, LoggerInput, LoggerMethod } from './loggers/composite.js';
export { ConsoleLogger } from './loggers/console.js';
export type { ConsoleLoggerOptions, ConsoleStream } from './loggers/console.js';
export { JsonlLogger } from './loggers/jsonl.js';
export type { JsonlLoggerOptions } from './loggers/jsonl.js';

export { serveUi } from './ui/server.js';
export type { ServeUiOptions, UiServer } from './ui/server.js';
export { writeReport } from './ui/report.js';
export type { ReportOptions, ReportSummary } from './ui/report.js';
export type { UiBundleOmitted } from './ui/data.js';
export type {
  UiAttachment,
  UiBundle,
  UiCell,
  UiColumn,
  UiExperiment,
  UiMetricSeries,
  UiPreview,
  UiRunDetail,
  UiRunTable,
  UiSolve,
  UiStatus,
  UiStudy,
} from './ui/model.js';
export type { ArtifactEvent } from './loggers/observed-run.js';
