/**
 * @module cli/help
 * What `runledger --help`, `runledger help <command>` and `<command> --help` print, in one table
 * keyed by command name: each command's usage and summary, every option it takes, two examples,
 * and what its arguments are (which shell completion reads). Nothing here imports a command, so
 * help and completion cost no more than reading this file.
 */

/** What an argument or an option value is, for completion: a local reference, a path, a word. */
export type ArgKind = 'ref' | 'file' | 'dir' | 'command' | 'text' | readonly string[];

/** One option of a command, as help shows it. */
export interface OptionHelp {
  /** The one-letter alias (`-o`). */
  readonly short?: string;
  /** The value it takes, as help writes it (`FILE`); absent for a flag. */
  readonly value?: string;
  /** What it does. */
  readonly text: string;
  /** What its value is, for completion (default: free text). */
  readonly complete?: ArgKind;
  /** Whether it may be given more than once. */
  readonly multiple?: boolean;
}

/** An example command line and what it does. */
export interface Example {
  readonly command: string;
  readonly text: string;
}

/** Everything help says about one command. */
export interface CommandHelp {
  /** The command line, after `runledger `. */
  readonly usage: string;
  /** One line: what the command does. */
  readonly summary: string;
  /** Its options, by long name (the global ones are listed separately). */
  readonly options: Readonly<Record<string, OptionHelp>>;
  /** Two examples. */
  readonly examples: readonly [Example, Example];
  /** What each positional argument is, in order. */
  readonly args?: readonly ArgKind[];
  /** What the positional arguments after `args` are, when the command takes any number. */
  readonly moreArgs?: ArgKind;
  /** Paragraphs after the options (the query language, for `runs`). */
  readonly notes?: readonly string[];
}

/** The options every command takes. */
export const GLOBAL_HELP: Readonly<Record<string, OptionHelp>> = {
  root: {
    value: 'DIR',
    text: 'the local registry, which must exist (or add --init); default: $RUNLEDGER_HOME, else ~/.local/share/runledger, made on first use',
    complete: 'dir',
  },
  init: { text: 'create the --root directory as a new store when it does not exist' },
  json: { text: 'machine-readable output (errors too, on stderr)' },
  help: { short: 'h', text: 'this text' },
  version: { short: 'V', text: 'the runledger version' },
};

const NETWORK_HELP: Readonly<Record<string, OptionHelp>> = {
  'plain-http': {
    text: 'use http for the registries named on the command line (loopback ones always do)',
  },
  insecure: {
    text: 'skip TLS certificate checks for the registries named (this process talks to no other host)',
  },
  quiet: { short: 'q', text: 'no progress line and no summary line' },
};

const TRANSFER_HELP: Readonly<Record<string, OptionHelp>> = {
  ...NETWORK_HELP,
  concurrency: { value: 'N', text: 'blobs in flight at once (default 8, at most 64)' },
};

const TABLE_HELP: Readonly<Record<string, OptionHelp>> = {
  csv: { text: 'CSV with a header line, instead of the aligned text table' },
  arrow: {
    value: 'FILE|-',
    text: 'write an Arrow IPC file (- for stdout); a .arrow file opens in pandas, polars, DuckDB',
    complete: 'file',
  },
  parquet: { value: 'FILE|-', text: 'write a Parquet file (- for stdout)', complete: 'file' },
  force: { text: 'replace the --arrow/--parquet file when it exists' },
};

const DISPLAY_HELP: Readonly<Record<string, OptionHelp>> = {
  wide: { text: "don't cut the table to the terminal's width" },
  'no-trunc': { text: 'the same as --wide' },
  raw: { text: 'numbers at full precision' },
};

const STATUSES = ['draft', 'failed', 'interrupted'];

/** Every command's help, in the order `runledger --help` lists them. */
export const HELP: Readonly<Record<string, CommandHelp>> = {
  demo: {
    usage: 'demo [--ml]',
    summary:
      'record a demo optimization study (random LP/MIP solved by HiGHS, 32 runs) and print its runs; --ml: a training study (24 runs of metric curves)',
    options: {
      ml: {
        text: 'record runledger.local/demo/ml instead: a small network trained by SGD over a grid, 300 steps of loss and accuracy per run, two runs diverging',
      },
    },
    examples: [
      { command: 'runledger demo', text: 'record the study into the default store' },
      {
        command: 'runledger --root ./study --init demo',
        text: 'record it into a new store in ./study',
      },
    ],
  },
  ls: {
    usage: 'ls [prefix] [--all] | <project> --remote [registry options]',
    summary:
      'list references; experiments with status and run counts (--all: checkpoints too); --remote: the tags of a project on its registry, with digest and time',
    options: {
      all: { text: 'checkpoints too, with the experiment each one is of' },
      remote: { text: 'the tags of <project> on its registry, with their digest and time' },
      ...NETWORK_HELP,
      ...DISPLAY_HELP,
    },
    examples: [
      { command: 'runledger ls ghcr.io/acme/', text: 'the local references under ghcr.io/acme/' },
      {
        command: 'runledger ls ghcr.io/acme/qap --remote',
        text: 'the tags of ghcr.io/acme/qap on ghcr.io',
      },
    ],
    args: ['ref'],
  },
  projects: {
    usage: 'projects [prefix]',
    summary: 'list projects: experiments grouped by repository, with counts and the latest tag',
    options: DISPLAY_HELP,
    examples: [
      { command: 'runledger projects', text: 'every project of the store' },
      { command: 'runledger projects ghcr.io/acme/', text: 'the projects under ghcr.io/acme/' },
    ],
    args: ['ref'],
  },
  show: {
    usage: 'show <ref> [--run N]',
    summary:
      'describe an experiment: digest, project, status, annotations, attachments, runs (names, lineage, tags, labels, attributes, metrics); --run N: one run in full',
    options: {
      run: { value: 'N', text: 'run N in full: its record, parameters, metrics, attachments' },
      ...DISPLAY_HELP,
    },
    examples: [
      {
        command: 'runledger show runledger.local/demo/lp-mip:latest',
        text: 'the demo study',
      },
      { command: 'runledger show ghcr.io/acme/qap:v1 --run 3', text: 'run 3 of it, in full' },
    ],
    args: ['ref'],
  },
  runs: {
    usage:
      'runs <ref | project | prefix/>… | --all [--all-columns | --columns A,B,…] [--where EXPR] [--sort "COL [asc|desc], …"] [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
    summary:
      'the runs table: run_id, project, status, parameters, labels and attributes (or every column)',
    options: {
      all: { text: 'the runs of every experiment in the store' },
      'all-columns': {
        text: 'every column: names, lineage, times, description, metrics, tags, labels, solves',
      },
      columns: {
        value: 'A,B,…',
        text: 'these columns, in this order (any column of the table; see below)',
      },
      where: { value: 'EXPR', text: 'keep the runs for which EXPR holds (see below)' },
      sort: { value: '"COL [asc|desc], …"', text: 'order the runs (missing cells last)' },
      ...TABLE_HELP,
      ...DISPLAY_HELP,
    },
    examples: [
      {
        command:
          'runledger runs ghcr.io/acme/qap:v1 --where "params.time_limit >= 20 and status = \'finished\'" --sort "metrics.gap asc"',
        text: 'the finished runs with a time limit of 20 or more, best gap first',
      },
      {
        command: 'runledger runs ghcr.io/acme/qap --columns experiment,run_id,metrics.gap --csv',
        text: 'three columns of every run of every experiment of a project, as CSV',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
    notes: [
      'Columns: run_id, project, name, status, parent_run_id, resumed_from, started_at, ended_at,',
      'duration_ms, description, labels, params.<name>, attributes.<name>, metrics.<name> (the',
      'latest value), tags.<name>, labels.<label> (true where the run has it), solve_count; over',
      'several experiments also experiment and experiment_digest. The table shows a parameter',
      'without its params. prefix (unless the bare name is taken); --columns, and over one',
      'experiment --where and --sort, take the names the header shows as well as the full ones.',
      '',
      'The --where language:',
      "  COL = 1, !=, <, <=, >, >=     against a number, a 'string', true or false",
      "  COL in ('a', 'b'), not in     one of a list",
      '  COL is null, is not null      a missing cell (a comparison with one is false)',
      "  COL like 'trial-%'            % any run of characters, _ one; ilike ignores case",
      '  and, or, not, ( )             to combine them',
      '  `params.my name`              a column name with other characters, in backquotes',
      'Numbers compare as numbers, strings by code point. MLflow spellings work too: metrics."a b",',
      "param.x, tag.x, attributes.run_name, attributes.start_time (epoch ms), status = 'FINISHED'.",
      '--sort takes COL [asc|desc] entries, comma-separated. An unknown column is a usage error',
      'naming the closest ones.',
    ],
  },
  metrics: {
    usage: 'metrics <ref> [name] [--run N] [--csv | --json]',
    summary:
      'metric histories: per run and metric its points, latest, min and max, and a sparkline (the values in a pipe; every point with --csv or --json)',
    options: {
      run: { value: 'N', text: 'only run N' },
      csv: { text: 'every point: run_id,name,step,timestamp,value' },
      ...DISPLAY_HELP,
    },
    examples: [
      {
        command: 'runledger metrics ghcr.io/acme/qap:v1',
        text: 'every metric of every run, with a sparkline on a terminal',
      },
      {
        command: 'runledger metrics ghcr.io/acme/qap:v1 loss --run 3 --csv',
        text: "every point of run 3's loss, as CSV",
      },
    ],
    args: ['ref', 'text'],
  },
  diff: {
    usage: 'diff <ref> N M | <refA>:N <refB>:M | <refA> <refB> [--exit-code]',
    summary:
      'what differs between two runs (of one experiment or two) or two experiments (their runs paired by id): parameters, metrics, status, labels, tags, attributes, attachments',
    options: {
      'exit-code': { text: 'exit 1 when something differs, 0 when nothing does (as git diff)' },
      ...DISPLAY_HELP,
    },
    examples: [
      { command: 'runledger diff ghcr.io/acme/qap:v1 0 3', text: 'runs 0 and 3 of one experiment' },
      {
        command: 'runledger diff ghcr.io/acme/qap:v1 ghcr.io/acme/qap:v2 --exit-code',
        text: 'two experiments, run by run; exit 1 if they differ',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
  },
  solves: {
    usage: 'solves <ref> [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
    summary: 'the solves table: run, solve, adapter, status, objective, feasibility, time, options',
    options: { ...TABLE_HELP, ...DISPLAY_HELP },
    examples: [
      {
        command: 'runledger solves runledger.local/demo/lp-mip:latest',
        text: 'every solver call of the demo study',
      },
      {
        command: 'runledger solves ghcr.io/acme/qap:v1 --parquet solves.parquet',
        text: 'the same table as a Parquet file',
      },
    ],
    args: ['ref'],
  },
  sql: {
    usage:
      'sql "<SELECT …>" [ref | project | prefix/]… [--csv | --json | --arrow FILE|- | --parquet FILE|-] [--force]',
    summary:
      'a read-only SQL query over the views experiments, runs, params, tags, metrics, solves, attachments (needs @duckdb/node-api)',
    options: { ...TABLE_HELP, ...DISPLAY_HELP },
    examples: [
      {
        command:
          'runledger sql "select name, avg(value) from metrics group by name" ghcr.io/acme/qap',
        text: 'the mean of every metric over the experiments of a project',
      },
      { command: "runledger sql 'describe runs'", text: 'the columns of the runs view' },
    ],
    args: ['text'],
    moreArgs: 'ref',
  },
  ui: {
    usage: 'ui [ref | project | prefix/]… [--port N] [--open]',
    summary:
      'the web viewer: a read-only server on 127.0.0.1 (runs table, parallel coordinates, scatter, curves, run detail, diff); prints its URL with a token',
    options: {
      port: { value: 'N', text: 'listen on port N of 127.0.0.1 (default: a free port)' },
      open: { text: "open the URL in the desktop's browser (xdg-open, open)" },
    },
    examples: [
      {
        command: 'runledger ui runledger.local/demo/',
        text: 'view both demo studies; Ctrl-C stops it',
      },
      {
        command: 'runledger ui ghcr.io/acme/qap --port 8765 --open',
        text: 'every experiment of a project, on port 8765, in the browser',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
    notes: [
      'Only this machine can connect (127.0.0.1), and only with the token in the printed URL;',
      'nothing can be changed through the viewer.',
      'The page shows experiments still recording by their checkpoints (draft), and runs still',
      "open in a live process as 'running' with their curves so far; it says when the store",
      "changes: tick 'follow' to reload by itself, e.g. beside a running sweep or training run.",
    ],
  },
  report: {
    usage: 'report <ref | project | prefix/>… -o FILE|- [--force]',
    summary:
      'the web viewer as one self-contained HTML file (data inlined, opens from disk without a server)',
    options: {
      output: {
        short: 'o',
        value: 'FILE|-',
        text: 'write the HTML to FILE, - for stdout',
        complete: 'file',
      },
      force: { text: 'replace FILE when it exists' },
    },
    examples: [
      {
        command: 'runledger report runledger.local/demo/ml:latest -o ml.html',
        text: 'the ML demo study as one file, to open or mail',
      },
      {
        command: 'runledger report ghcr.io/acme/qap -o - | gzip > qap.html.gz',
        text: 'every experiment of a project, to stdout',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
    notes: [
      'Attachments that the page previews (JSON, text, CSV, images, npy) are inlined up to 256 KiB',
      'each and 16 MiB in all; the others are listed without their bytes.',
    ],
  },
  checkpoints: {
    usage: 'checkpoints [prefix] [--status draft|failed|interrupted]...',
    summary:
      'list experiment checkpoints (uncommitted work: autosaves, failed and interrupted scopes)',
    options: {
      status: {
        value: 'STATUS',
        text: 'only checkpoints with this status (draft, failed, interrupted); repeat it or give a comma list',
        complete: STATUSES,
        multiple: true,
      },
      ...DISPLAY_HELP,
    },
    examples: [
      {
        command: 'runledger checkpoints',
        text: 'every checkpoint, what live processes are recording now, and the crash journals',
      },
      {
        command: 'runledger checkpoints --status failed,interrupted',
        text: 'the work that ended in an error or a signal',
      },
    ],
    args: ['text'],
  },
  'restore-checkpoint': {
    usage: 'restore-checkpoint <name> [--commit]',
    summary:
      'recover an experiment from its checkpoint and crash journals; --commit commits it under its name',
    options: { commit: { text: 'commit the recovered experiment under its name' } },
    examples: [
      {
        command: 'runledger restore-checkpoint ghcr.io/acme/qap:tai20a',
        text: 'recover it and show its runs; the checkpoint stays',
      },
      {
        command: 'runledger restore-checkpoint ghcr.io/acme/qap:tai20a --commit',
        text: 'recover it and commit it as ghcr.io/acme/qap:tai20a',
      },
    ],
    args: ['text'],
  },
  get: {
    usage: 'get <ref> [--run N] <attachment> [-o PATH|-] [--force]',
    summary: 'write an attachment (of the experiment, or of run N) to stdout or a file',
    options: {
      run: { value: 'N', text: "an attachment of run N (default: the experiment's own)" },
      output: {
        short: 'o',
        value: 'PATH|-',
        text: "write to PATH (a directory: the attachment's file name in it), - for stdout",
        complete: 'file',
      },
      force: { text: 'replace the file when it exists' },
    },
    examples: [
      {
        command: 'runledger get ghcr.io/acme/qap:v1 dataset',
        text: "the experiment's attachment dataset, on stdout",
      },
      {
        command: 'runledger get ghcr.io/acme/qap:v1 --run 3 trace -o trace.npy',
        text: "run 3's attachment trace, into trace.npy",
      },
    ],
    args: ['ref', 'text'],
  },
  export: {
    usage: 'export <ref> <file.ommx|-> [--force]',
    summary: 'write an artifact as a deterministic .ommx archive (OCI layout in a tar)',
    options: { force: { text: 'replace the file when it exists' } },
    examples: [
      {
        command: 'runledger export ghcr.io/acme/qap:v1 qap.ommx',
        text: 'the artifact and everything it needs, in one file',
      },
      {
        command: "runledger export ghcr.io/acme/qap:v1 - | ssh host 'cat > qap.ommx'",
        text: 'the archive on stdout, and nothing else',
      },
    ],
    args: ['ref', 'file'],
  },
  import: {
    usage: 'import <file.ommx|layout-dir> [--as REF]',
    summary:
      'import an .ommx archive or OCI layout directory (verified before anything is visible)',
    options: {
      as: { value: 'REF', text: 'under this reference instead of the one the archive names' },
    },
    examples: [
      { command: 'runledger import qap.ommx', text: 'the archive, under the reference it names' },
      {
        command: 'runledger import qap.ommx --as localhost/qap:copy',
        text: 'the same, under another name',
      },
    ],
    args: ['file'],
  },
  inspect: {
    usage: 'inspect <file.ommx>',
    summary: "show an archive's reference, manifest and experiment summary without importing it",
    options: {},
    examples: [
      { command: 'runledger inspect qap.ommx', text: 'what the archive holds' },
      { command: 'runledger inspect qap.ommx --json', text: 'the same as JSON' },
    ],
    args: ['file'],
  },
  push: {
    usage: 'push <ref> [--to REF] [registry options]',
    summary:
      'send an artifact to an OCI registry (under its own name, or --to another); blobs the registry has are skipped',
    options: { ...TRANSFER_HELP, to: { value: 'REF', text: 'push it under this reference' } },
    examples: [
      { command: 'runledger push ghcr.io/acme/qap:v1', text: 'to ghcr.io, under its own name' },
      {
        command: 'runledger push runledger.local/demo/lp-mip:latest --to localhost:5000/demo:v1',
        text: 'a local-only name, to a registry on this machine',
      },
    ],
    args: ['ref'],
  },
  pull: {
    usage: 'pull <ref> [--as NAME] | <project> --all-tags [--since DATE] [registry options]',
    summary:
      'fetch an artifact from an OCI registry into the local store, every blob verified (--as: under another local name); --all-tags: every tag of a project (made since DATE), skipping those already here',
    options: {
      ...TRANSFER_HELP,
      as: { value: 'NAME', text: 'store it under this local reference' },
      'all-tags': { text: 'every tag of <project>, skipping those the store has' },
      since: { value: 'DATE', text: 'with --all-tags: only tags made since DATE (2026-11-01)' },
    },
    examples: [
      { command: 'runledger pull ghcr.io/acme/qap:v1', text: 'one experiment' },
      {
        command: 'runledger pull ghcr.io/acme/qap --all-tags --since 2026-11-01',
        text: 'every tag of the project made since November',
      },
    ],
    args: ['text'],
  },
  copy: {
    usage: 'copy <source-ref> <target-ref> [registry options]',
    summary:
      'copy an artifact between registry repositories (blobs mounted on the same registry, else streamed; nothing stored locally)',
    options: TRANSFER_HELP,
    examples: [
      {
        command: 'runledger copy ghcr.io/acme/qap:v1 ghcr.io/acme/archive:qap-v1',
        text: 'within one registry: the blobs are mounted, not sent',
      },
      {
        command: 'runledger copy ghcr.io/acme/qap:v1 localhost:5000/qap:v1',
        text: 'to another registry, streamed through this machine',
      },
    ],
    args: ['text', 'text'],
  },
  merge: {
    usage: 'merge <ref>… --into <ref>',
    summary:
      "combine committed experiments (a sweep's shards) into one: runs renumbered in sweep order, blobs reused",
    options: { into: { value: 'REF', text: 'the reference of the merged experiment' } },
    examples: [
      {
        command:
          'runledger merge ghcr.io/acme/qap:grid-shard-0-of-2 ghcr.io/acme/qap:grid-shard-1-of-2 --into ghcr.io/acme/qap:grid',
        text: 'two shards of a sweep as one experiment',
      },
      {
        command: 'runledger merge ghcr.io/acme/qap:a ghcr.io/acme/qap:b --into ghcr.io/acme/qap:ab',
        text: 'any committed experiments, runs renumbered',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
  },
  login: {
    usage: 'login <registry> [-u USER] [--password-stdin] [--allow-plaintext]',
    summary:
      'check a user name and password with a registry, then store them (credential helper; config.json only with --allow-plaintext)',
    options: {
      ...NETWORK_HELP,
      username: { short: 'u', value: 'USER', text: 'the user name (asked for on a terminal)' },
      'password-stdin': { text: 'read the password from stdin (needs -u)' },
      'allow-plaintext': {
        text: 'without a credential helper, store the credential unencrypted in config.json',
      },
    },
    examples: [
      { command: 'runledger login ghcr.io -u alice', text: 'asks for the password' },
      {
        command: 'echo "$TOKEN" | runledger login ghcr.io -u alice --password-stdin',
        text: 'the password from a pipe (CI)',
      },
    ],
    args: ['text'],
  },
  logout: {
    usage: 'logout <registry> [--quiet]',
    summary: 'erase the credentials stored for a registry (credential helper and config.json)',
    options: { quiet: { short: 'q', text: 'say nothing when there was nothing to erase' } },
    examples: [
      { command: 'runledger logout ghcr.io', text: 'forget the credential for ghcr.io' },
      { command: 'runledger logout localhost:5000 -q', text: 'the same, quietly' },
    ],
    args: ['text'],
  },
  tag: {
    usage: 'tag <source-ref> <target-ref>',
    summary: 'point a new reference at the manifest of an existing one',
    options: {},
    examples: [
      {
        command: 'runledger tag ghcr.io/acme/qap:v1 ghcr.io/acme/qap:best',
        text: 'a second name for v1',
      },
      {
        command: 'runledger tag runledger.local/demo/lp-mip:latest ghcr.io/acme/demo:v1',
        text: 'a registry name for the demo, ready to push',
      },
    ],
    args: ['ref', 'text'],
  },
  rm: {
    usage: 'rm <ref>...',
    summary: 'remove references (content stays until gc; the printed command restores it)',
    options: {},
    examples: [
      { command: 'runledger rm ghcr.io/acme/qap:best', text: 'remove one reference' },
      {
        command: 'runledger rm ghcr.io/acme/qap:a ghcr.io/acme/qap:b',
        text: 'remove two; each line printed restores one',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
  },
  restore: {
    usage: 'restore <ref> <digest>',
    summary: 're-create a reference to a manifest still in the store (verifies its closure)',
    options: {},
    examples: [
      {
        command: 'runledger restore ghcr.io/acme/qap:best sha256:…',
        text: 'undo an rm, with the digest it printed',
      },
      {
        command: 'runledger restore ghcr.io/acme/qap:old sha256:… --json',
        text: 'the same, the result as JSON',
      },
    ],
    args: ['text', 'text'],
  },
  prune: {
    usage: 'prune [--delete] [--experiments] [--older-than 30d]',
    summary:
      'find anonymous references (with --experiments, anonymous experiments too); remove them with --delete',
    options: {
      delete: { text: 'remove them (without it, a dry run that lists them)' },
      experiments: { text: 'anonymous experiments too' },
      'older-than': { value: 'AGE', text: 'only those older than AGE (30d, 12h, 90m)' },
    },
    examples: [
      { command: 'runledger prune', text: 'what would be removed' },
      {
        command: 'runledger prune --experiments --older-than 30d --delete',
        text: 'remove anonymous references and experiments a month old',
      },
    ],
  },
  gc: {
    usage: 'gc [--delete] [--grace 24h]',
    summary: 'find unreferenced blobs older than the grace period; delete them with --delete',
    options: {
      delete: { text: 'delete them (without it, a dry run that reports what it would free)' },
      grace: {
        value: 'AGE',
        text: 'keep unreferenced blobs younger than AGE (default 24h; 0s for none)',
      },
    },
    examples: [
      { command: 'runledger gc', text: 'what a collection would free, deleting nothing' },
      {
        command: 'runledger gc --grace 0s --delete',
        text: 'delete every unreferenced blob now (no other writer running)',
      },
    ],
  },
  fsck: {
    usage: 'fsck',
    summary: 're-hash every blob and check every reference closure; exits 1 on any problem',
    options: {},
    examples: [
      { command: 'runledger fsck', text: 'check the default store' },
      {
        command: 'runledger --root ./study fsck --json',
        text: 'check another, the report as JSON',
      },
    ],
  },
  size: {
    usage: 'size <ref>...',
    summary: 'bytes a reference needs: manifest, config and each distinct layer once',
    options: DISPLAY_HELP,
    examples: [
      { command: 'runledger size ghcr.io/acme/qap:v1', text: 'the bytes of one artifact' },
      {
        command: 'runledger size ghcr.io/acme/qap:v1 ghcr.io/acme/qap:v2 --json',
        text: 'two, as JSON',
      },
    ],
    args: ['ref'],
    moreArgs: 'ref',
  },
  completion: {
    usage: 'completion <bash|zsh|fish>',
    summary:
      'print the shell completion script (commands, options and the references of the store)',
    options: {},
    examples: [
      {
        command: 'source <(runledger completion bash)',
        text: 'complete in this bash session (add it to ~/.bashrc to keep it)',
      },
      {
        command: 'runledger completion fish > ~/.config/fish/completions/runledger.fish',
        text: 'install it for fish',
      },
    ],
    args: [['bash', 'zsh', 'fish']],
  },
  help: {
    usage: 'help [command]',
    summary: 'the commands, or one command with every option and examples',
    options: {},
    examples: [
      { command: 'runledger help runs', text: 'the runs command and its query language' },
      { command: 'runledger gc --help', text: 'the same for gc' },
    ],
    args: ['command'],
  },
};

/** Usages longer than this get a line of their own, the summary indented below. */
const USAGE_COLUMN = 29;

/** `-o, --output PATH` */
function optionName(name: string, o: OptionHelp): string {
  return `${o.short === undefined ? '' : `-${o.short}, `}--${name}${o.value === undefined ? '' : ` ${o.value}`}`;
}

/** Aligned option lines: name, then what it does. */
function optionLines(options: Readonly<Record<string, OptionHelp>>): string[] {
  const names = Object.entries(options).map(([n, o]) => [optionName(n, o), o.text] as const);
  const width = Math.min(24, Math.max(...names.map(([n]) => n.length)));
  return names.map(([n, text]) =>
    n.length <= width ? `  ${n.padEnd(width)}  ${text}` : `  ${n}\n  ${' '.repeat(width)}  ${text}`
  );
}

const sentence = (s: string): string => `${s[0]?.toUpperCase() ?? ''}${s.slice(1)}.`;

/**
 * The text of `runledger --help`: the commands, the global and registry options, exit codes.
 * @param commands - each command's usage and summary, in the order to list them
 * @returns the text, without a final newline
 * @example
 * ```ts
 * usageText(Object.values(HELP));
 * ```
 */
export function usageText(commands: readonly Pick<CommandHelp, 'usage' | 'summary'>[]): string {
  return [
    'Usage: runledger [--root DIR [--init]] [--json] <command> [args]',
    '',
    'Commands:',
    ...commands.map((c) =>
      c.usage.length <= USAGE_COLUMN
        ? `  ${c.usage.padEnd(USAGE_COLUMN)}  ${c.summary}`
        : `  ${c.usage}\n${' '.repeat(USAGE_COLUMN + 4)}${c.summary}`
    ),
    '',
    'Options:',
    ...optionLines(GLOBAL_HELP),
    '',
    'Registry options (push, pull, copy, login, ls --remote):',
    ...optionLines(TRANSFER_HELP),
    '  Credentials: RUNLEDGER_AUTH_<HOST>=user:password, else Docker config.json (credHelpers, credsStore, auths).',
    '',
    '"runledger help <command>" shows a command\'s options and examples.',
    'Exit codes: 0 success, 1 error, 2 usage error.',
  ].join('\n');
}

/**
 * The text of `runledger help <command>`: usage, summary, every option, notes, two examples.
 * @param help - the command's help
 * @returns the text, without a final newline
 * @example
 * ```ts
 * commandHelpText(HELP['gc']!);
 * ```
 */
export function commandHelpText(help: CommandHelp): string {
  const own = Object.keys(help.options).length > 0;
  return [
    `Usage: runledger ${help.usage}`,
    '',
    sentence(help.summary),
    '',
    ...(own ? ['Options:', ...optionLines(help.options), ''] : []),
    'Global options:',
    ...optionLines(GLOBAL_HELP),
    '',
    ...(help.notes === undefined ? [] : [...help.notes, '']),
    // A command without examples yet (its module's own usage and summary) shows none.
    ...(help.examples[0].command === '' ? [] : ['Examples:']),
    ...help.examples
      .filter((e) => e.command !== '')
      .flatMap((e) => [`  ${e.command}`, `      ${e.text}`]),
  ]
    .join('\n')
    .trimEnd();
}
