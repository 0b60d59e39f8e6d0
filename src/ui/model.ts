/**
 * @module ui/model
 * The viewer's wire format: what `runledger ui` serves under `/api/…` and what `runledger report`
 * inlines into its one HTML file. The page (web/) reads only these shapes, so the server and the
 * report are two sources of the same data. Types only: nothing here runs, and the page bundles it.
 *
 * Tables are columnar (one array per column, one entry per run) so 10,000 runs × 30 columns cross
 * the wire as 30 arrays, not 10,000 objects. Column names are the CLI's (`runledger runs`): the
 * filter box takes the same `--where` language.
 */

/** The version of this format; the page refuses data of another version with a message. */
export const UI_DATA_VERSION = 1;

/**
 * A run's or an experiment's status as recorded; `running` is a run still open in a live process
 * (read from its crash journal: what it logged so far).
 */
export type UiStatus = 'finished' | 'failed' | 'interrupted' | 'draft' | 'running';

/** One cell of the runs table. Integers beyond 2^53 travel as strings. */
export type UiCell = number | string | boolean | null;

/** One experiment of the study. */
export interface UiExperiment {
  /** Stable key in URLs and in the other shapes: the manifest digest's first 12 hex digits. */
  readonly id: string;
  /** The full reference, e.g. `runledger.local/demo/lp-mip:latest`. */
  readonly reference: string;
  /** The repository part, e.g. `demo/lp-mip`. */
  readonly project: string;
  readonly tag: string;
  /**
   * `sha256:…` of the manifest; empty for an experiment a live process records that no checkpoint
   * holds yet (its first runs still open).
   */
  readonly digest: string;
  readonly status: UiStatus;
  readonly reason: string | null;
  readonly runCount: number;
  readonly failedCount: number;
  readonly interruptedCount: number;
  /**
   * RFC 3339: the manifest's `org.opencontainers.image.created` annotation, else when its
   * reference was written (the commit); null when neither is known.
   */
  readonly createdAt: string | null;
  /** Bytes of the artifact (manifest, config and every layer, each blob once); 0 without one. */
  readonly size: number;
  /** The experiment it was forked or resumed from (a reference), if any. */
  readonly parent: string | null;
}

/** One column of the runs table. */
export interface UiColumn {
  /** The CLI's name: `run_id`, `status`, `params.alpha`, `metrics.loss`, `tags.stage`, … */
  readonly name: string;
  /** Where it comes from: the run itself, a parameter, a metric's last value, a tag, an attribute. */
  readonly kind: 'run' | 'param' | 'metric' | 'tag' | 'attribute';
  /** The values' type (a column mixing types is `string`, JSON values as canonical JSON text). */
  readonly type: 'number' | 'string' | 'boolean' | 'time';
  /** One value per run, in the order of `UiRunTable.experiment`; `time` columns hold epoch ms. */
  readonly values: readonly UiCell[];
}

/** The runs of every experiment in the study, one row per run. */
export interface UiRunTable {
  /** The experiment of each row: an index into `UiStudy.experiments`. */
  readonly experiment: readonly number[];
  readonly runId: readonly number[];
  readonly status: readonly UiStatus[];
  /** Every column, the run's own first (`run_id`, `name`, `status`, …), then params, metrics, tags. */
  readonly columns: readonly UiColumn[];
  /** Metric names present in at least one run (for the curves' picker). */
  readonly metricNames: readonly string[];
}

/** What `GET /api/study` returns: the experiments and their runs. */
export interface UiStudy {
  readonly version: typeof UI_DATA_VERSION;
  /** What the viewer was started on (`runledger ui demo/`), for the title. */
  readonly title: string;
  readonly experiments: readonly UiExperiment[];
  readonly runs: UiRunTable;
  /** RFC 3339: when this data was read. */
  readonly readAt: string;
}

/** How the page can preview an attachment. */
export type UiPreview = 'json' | 'text' | 'csv' | 'image' | 'npy' | 'none';

/** One attachment of a run. */
export interface UiAttachment {
  readonly name: string;
  /** The logical media type (what was logged). */
  readonly mediaType: string;
  readonly size: number;
  readonly digest: string;
  readonly preview: UiPreview;
}

/** One solver or sampler call of a run. */
export interface UiSolve {
  readonly id: number;
  readonly kind: 'solve' | 'sample';
  readonly adapter: string;
  /** The adapter's options as recorded (parsed JSON). */
  readonly options: unknown;
  readonly status: UiStatus;
  readonly objective: number | null;
  readonly feasible: boolean | null;
  /** The solution's optimality, e.g. `optimal`, when recorded. */
  readonly optimality: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  /** Size of the instance solved. */
  readonly variables: number | null;
  readonly constraints: number | null;
  /** The solution's variable values (id, name when it has one, value); at most 1,000, see `truncated`. */
  readonly values: readonly {
    readonly id: number;
    readonly name: string | null;
    readonly value: number;
  }[];
  readonly truncated: boolean;
}

/** One run in full: what `GET /api/run?e=<id>&r=<runId>` returns. */
export interface UiRunDetail {
  /** `UiExperiment.id`. */
  readonly experiment: string;
  readonly runId: number;
  readonly name: string | null;
  readonly status: UiStatus;
  readonly reason: string | null;
  readonly error: {
    readonly type: string;
    readonly message: string;
    readonly stack: string | null;
  } | null;
  readonly description: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly host: string | null;
  readonly runledgerVersion: string | null;
  readonly parentRunId: number | null;
  readonly resumedFrom: number | null;
  /** Parameters with their values as JSON (bigints as strings). */
  readonly parameters: Readonly<Record<string, UiCell>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly labels: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Each metric's name, number of points and last value (MLflow's summary value). */
  readonly metrics: readonly {
    readonly name: string;
    readonly points: number;
    readonly last: number | null;
  }[];
  readonly attachments: readonly UiAttachment[];
  readonly solves: readonly UiSolve[];
}

/** One metric of one run: what `GET /api/metrics?runs=<id>:<runId>,…&names=a,b` returns a list of. */
export interface UiMetricSeries {
  /** `UiExperiment.id`. */
  readonly experiment: string;
  readonly runId: number;
  readonly name: string;
  readonly steps: readonly number[];
  /** Epoch milliseconds. */
  readonly timestamps: readonly number[];
  readonly values: readonly number[];
}

/**
 * Everything a report carries, inlined in its HTML (base64 of a gzip-compressed frame: this
 * bundle's JSON with the metric series' columns as binary float64, see `ui/pack`, in a
 * `<script type="application/octet-stream" id="runledger-data">`): the study, every run's
 * detail, every metric series, and the bytes of attachments small enough to preview.
 */
export interface UiBundle {
  readonly study: UiStudy;
  readonly runs: readonly UiRunDetail[];
  readonly metrics: readonly UiMetricSeries[];
  /** Attachment bytes, base64, keyed `<experiment>/<runId>/<name>`; absent ones show "not in this report". */
  readonly attachments: Readonly<Record<string, string>>;
}
