/**
 * @module cli/main
 * `runledger` command line: `main(argv, io)` parses, dispatches to one file per command,
 * and returns the exit code (0 ok, 1 error, 2 usage). Only `cli/` writes to the terminal.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isRunledgerError, RunledgerError, type ErrorCode } from '../errors.js';
import type { LocalRegistry } from '../store/local-registry.js';
import { closestNames, didYouMean } from '../tables/suggest.js';
import { runledgerVersion } from '../version.js';
import { commandHelpText, HELP, usageText, type CommandHelp, type OptionHelp } from './help.js';
import type { CliIo, Command, CommandContext } from './types.js';

export type { CliIo } from './types.js';

/**
 * The commands, in the order `runledger --help` lists them. Each module is imported when its
 * command runs, not before: `--version`, `--help` and completion load none of them.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => (await import('./commands/demo.js')).demo,
  ls: async () => (await import('./commands/ls.js')).ls,
  projects: async () => (await import('./commands/projects.js')).projects,
  show: async () => (await import('./commands/show.js')).show,
  runs: async () => (await import('./commands/runs.js')).runs,
  metrics: async () => (await import('./commands/metrics.js')).metrics,
  diff: async () => (await import('./commands/diff.js')).diff,
  solves: async () => (await import('./commands/solves.js')).solves,
  sql: async () => (await import('./commands/sql.js')).sql,
  ui: async () => (await import('./commands/ui.js')).ui,
  report: async () => (await import('./commands/report.js')).report,
  checkpoints: async () => (await import('./commands/checkpoints.js')).checkpoints,
  'restore-checkpoint': async () =>
    (await import('./commands/restore-checkpoint.js')).restoreCheckpoint,
  get: async () => (await import('./commands/get.js')).get,
  export: async () => (await import('./commands/export.js')).exportCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspect,
  push: async () => (await import('./commands/push.js')).push,
  pull: async () => (await import('./commands/pull.js')).pull,
  copy: async () => (await import('./commands/copy.js')).copy,
  merge: async () => (await import('./commands/merge.js')).merge,
  login: async () => (await import('./commands/login.js')).login,
  logout: async () => (await import('./commands/logout.js')).logout,
  tag: async () => (await import('./commands/tag.js')).tag,
  rm: async () => (await import('./commands/rm.js')).rm,
  restore: async () => (await import('./commands/restore.js')).restore,
  prune: async () => (await import('./commands/prune.js')).prune,
  gc: async () => (await import('./commands/gc.js')).gc,
  fsck: async () => (await import('./commands/fsck.js')).fsck,
  size: async () => (await import('./commands/size.js')).size,
  completion: async () => (await import('./commands/completion.js')).completion,
};

/** The hidden command the completion scripts call: `runledger __complete <words…>`. */
const COMPLETE = '__complete';

const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  init: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type Options = NonNullable<Command['options']>;

/** What to do next, per error code: the second line of an error. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  DIGEST_MISMATCH:
    'The store has a damaged blob: run "runledger fsck" to list everything affected.',
  LAYOUT_INVALID:
    'Point --root (or RUNLEDGER_HOME) at an empty directory or an existing runledger store.',
  REF_NOT_FOUND:
    'Run "runledger ls" to see the references in this store, or "runledger pull <ref>" to fetch one from its registry.',
  REF_CONFLICT:
    'References never move silently: remove the old one with "runledger rm" first, or pick another name.',
  CLOSURE_INCOMPLETE:
    'Some content was garbage-collected or never stored; pull or import the artifact again.',
  LOCK_TIMEOUT: 'Another runledger process is writing to this store; retry when it has finished.',
  REFERENCE_INVALID: 'A reference looks like registry/repository:tag, e.g. ghcr.io/acme/qap:v1.',
  DIGEST_INVALID: 'A digest looks like sha256: followed by 64 lowercase hex digits.',
  EXPERIMENT_INVALID:
    'This artifact is not an OMMX experiment (or is damaged); "runledger ls" shows what each reference holds.',
  ATTACHMENT_NOT_FOUND:
    'Run "runledger show <ref>" to see the attachments of the experiment and of each run.',
  CHECKPOINT_NOT_FOUND:
    'A checkpoint lives only until its experiment is committed: "runledger checkpoints" lists those there are, "runledger ls" the committed experiments.',
  FILE_EXISTS: 'Pass --force to overwrite the file.',
  ARCHIVE_INVALID:
    'The archive is damaged or unsafe and nothing was imported; ask its author for a fresh copy.',
  DEPENDENCY_MISSING: 'Install the optional package the message names (npm install …) and retry.',
  SQL_INVALID:
    'The views are experiments, runs, params, tags, metrics, solves and attachments; quote dotted columns ("params.lr"). "runledger sql \'describe runs\'" lists a view\'s columns.',
  SQL_REFUSED:
    'runledger sql reads the store and never writes it: run one SELECT, and use --csv, --json, --arrow or --parquet to save the result.',
  AUTHENTICATION:
    'Credentials come from RUNLEDGER_AUTH_<HOST>=user:password, else Docker config.json (credHelpers, credsStore, auths); "runledger login <registry>" stores them.',
  AUTHORIZATION:
    'The registry knows these credentials but refuses this repository: check the account has pull/push rights on it.',
  NOT_FOUND: 'Check the reference (registry, repository and tag) against the registry.',
  RATE_LIMITED: 'The registry asked to slow down: retry later, or with a lower --concurrency.',
  TRANSPORT:
    'Check the registry address and the network; a registry without TLS needs --plain-http (loopback ones use http anyway).',
  PAYLOAD_INVALID:
    'The stored content does not decode as its media type says; "runledger fsck" checks the bytes themselves.',
};

/** What to do after an IO_ERROR, by the system's error code. */
const IO_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'The disk is full: free some space and run the command again.',
  EACCES: 'Permission denied: check the owner and mode of the path (ls -l).',
  EPERM: 'Permission denied: check the owner and mode of the path (ls -l).',
  ENOENT: 'Check the path (a relative path starts from the current directory).',
  EADDRINUSE:
    'Another program listens on that port: pick another with --port N, or leave --port out for a free one.',
};

/**
 * Runs the command line.
 * @param argv - the arguments after the program name
 * @param io - stdout, stderr, environment
 * @returns the exit code: 0 success, 1 error, 2 usage error
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2), process);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const at = findCommand(argv);
  const name = at === undefined ? undefined : (argv[at] as string);
  const rest = at === undefined ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  try {
    if (name === COMPLETE) {
      const { complete } = await import('./completion.js');
      await complete(rest, { commands: Object.keys(COMMANDS), help: describe }, io);
      return 0;
    }
    if (name === undefined || name === 'help') {
      const globals = parse(rest, {}, name);
      if (globals.values['version'] === true) return version(io);
      const topic = name === undefined ? undefined : globals.positionals[0];
      if (globals.positionals.length > 1) {
        throw new RunledgerError('USAGE', 'help takes one command: runledger help <command>.');
      }
      // `runledger` alone, `--help` and `help` print the commands; `help <command>` one of them.
      const text = topic === undefined ? usageText(await listed()) : await helpText(topic);
      io.stdout.write(`${text}\n`);
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (load === undefined) throw unknownCommand(name);
    // Help and version need only the help table: the command itself is not loaded for them.
    const early = quickParse(rest, helpOf(name));
    if (early['help'] === true) {
      io.stdout.write(`${await helpText(name)}\n`);
      return 0;
    }
    if (early['version'] === true) return version(io);
    const command = await load();
    const parsed = parse(rest, command.options ?? {}, name);
    const [min, max] = command.arity;
    const count = parsed.positionals.length;
    if (count < min || count > max) {
      throw new RunledgerError(
        'USAGE',
        `${name} takes ${arityText(min, max)}, not ${count}; usage: runledger ${helpOf(name)?.usage ?? command.usage}`,
        { data: { command: name } }
      );
    }
    const cwd = io.cwd ?? process.cwd();
    const ctx: CommandContext = {
      io,
      positionals: parsed.positionals,
      values: parsed.values,
      json,
      openRegistry: () => openRegistry(parsed.values, io, cwd),
      print: (line) => void io.stdout.write(`${line}\n`),
      printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
      rerun: (...flags) => ['runledger', ...argv, ...flags].map(shellWord).join(' '),
    };
    return await command.run(ctx);
  } catch (e) {
    return reportError(e, io, { json, ...(name === undefined ? {} : { command: name }) });
  }
}

function version(io: CliIo): number {
  io.stdout.write(`${runledgerVersion()}\n`);
  return 0;
}

/** A command's entry in the help table. */
function helpOf(name: string): CommandHelp | undefined {
  return Object.hasOwn(HELP, name) ? HELP[name] : undefined;
}

/** The usage and summary of every command, for `runledger --help`. */
async function listed(): Promise<Pick<CommandHelp, 'usage' | 'summary'>[]> {
  const names = [...Object.keys(COMMANDS), 'help'];
  return Promise.all(names.map(async (n) => (await describe(n)) as CommandHelp));
}

async function helpText(topic: string): Promise<string> {
  const help = await describe(topic);
  if (help === undefined) throw unknownCommand(topic);
  return commandHelpText(help);
}

/**
 * A command's help from the table; for a command the table does not know yet, what its module
 * says (usage, summary, option names), so it is still listed, helped and completed.
 */
async function describe(name: string): Promise<CommandHelp | undefined> {
  const help = helpOf(name);
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (help !== undefined || load === undefined) return help;
  const c = await load();
  const options: Record<string, OptionHelp> = {};
  for (const [n, o] of Object.entries(c.options ?? {})) {
    options[n] = {
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.type === 'string' ? { value: 'VALUE' } : {}),
      text: '',
    };
  }
  const none = { command: '', text: '' };
  return { usage: c.usage, summary: c.summary, options, examples: [none, none] };
}

function unknownCommand(name: string): RunledgerError {
  const known = [...Object.keys(COMMANDS), 'help'];
  const suggestions = closestNames(name, known);
  return new RunledgerError(
    'USAGE',
    `Unknown command ${JSON.stringify(name)}${didYouMean(suggestions)}`,
    { data: { command: name, suggestions } }
  );
}

function arityText(min: number, max: number): string {
  const n = (k: number): string => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === Infinity) return `at least ${n(min)}`;
  return min === max ? n(min) : `${min} to ${n(max)}`;
}

/** `--help`, `--version` and the like, read before the command is loaded (never an error). */
function quickParse(
  args: readonly string[],
  help: CommandHelp | undefined
): Record<string, unknown> {
  const options: Options = { ...GLOBAL_OPTIONS };
  for (const [n, o] of Object.entries(help?.options ?? {})) {
    options[n] = {
      type: o.value === undefined ? 'boolean' : 'string',
      ...(o.short === undefined ? {} : { short: o.short }),
    };
  }
  return parseArgs({ args: [...args], options, allowPositionals: true, strict: false }).values;
}

/**
 * Opens the store `--root` names (it must exist, unless `--init`), else `RUNLEDGER_HOME`'s or
 * the default one, which are created on first use as the library creates them.
 */
async function openRegistry(
  values: CommandContext['values'],
  io: CliIo,
  cwd: string
): Promise<LocalRegistry> {
  const { LocalRegistry } = await import('../store/local-registry.js');
  const root = values['root'];
  if (typeof root !== 'string') return LocalRegistry.open(undefined, { env: io.env });
  const dir = resolve(cwd, root);
  if (values['init'] !== true && (await stat(dir).catch(() => undefined)) === undefined) {
    throw new RunledgerError('LAYOUT_INVALID', `--root ${dir} does not exist.`, {
      data: { root: dir, exists: false },
    });
  }
  return LocalRegistry.open(dir, { env: io.env });
}

/** A word as a POSIX shell reads it back: as it is when it is safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function findCommand(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--root') i++;
    else if (!a.startsWith('-')) return i;
  }
  return undefined;
}

function parse(
  args: readonly string[],
  options: Options,
  command: string | undefined
): {
  values: Record<string, string | boolean | readonly string[] | undefined>;
  positionals: string[];
} {
  const all: Options = { ...GLOBAL_OPTIONS, ...options };
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: all,
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | readonly string[] | undefined>,
      positionals,
    };
  } catch (cause) {
    throw new RunledgerError('USAGE', argumentMessage(args, all, command, cause as Error), {
      cause,
      data: command === undefined ? {} : { command },
    });
  }
}

/**
 * What was wrong with the options, in our words: node's parser says it in three sentences and
 * with its own quoting, and knows nothing of the options a command does have.
 */
function argumentMessage(
  args: readonly string[],
  options: Options,
  command: string | undefined,
  cause: Error
): string {
  const where = command === undefined ? '' : ` for ${command}`;
  const { tokens } = parseArgs({
    args: [...args],
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (o === undefined) {
      const names = Object.keys(options);
      const long = t.rawName.startsWith('--');
      const suggestions = long ? closestNames(t.name, names) : [];
      return `Unknown option ${t.rawName}${where}${didYouMean(suggestions, (n) => `--${n}`)}`;
    }
    if (o.type === 'boolean' && t.value !== undefined) {
      return `${t.rawName} takes no value (${t.rawName}=${t.value}).`;
    }
    if (o.type === 'string' && t.value === undefined) {
      return `${t.rawName} needs a value${where}.`;
    }
    if (o.type === 'string' && !t.inlineValue && t.value !== '-' && t.value?.startsWith('-')) {
      return `${t.rawName} needs a value${where}, not the option ${t.value} (a value starting with - goes as ${t.rawName}=${t.value}).`;
    }
  }
  return cause.message.split('\n')[0] ?? cause.message;
}

/** How {@link reportError} prints. */
export interface ReportOptions {
  /** JSON on stderr (`--json`) instead of text. */
  readonly json: boolean;
  /** The command that was running, when there was one. */
  readonly command?: string;
}

/**
 * Prints an error the CLI's way: one line `runledger: <CODE>: <message>`, then a `hint:` line
 * when there is something to do; with `json`, one JSON line `{ "error": { … } }` whose keys are
 * snake_case like every JSON output of the CLI.
 * @param e - what was thrown
 * @param io - where to print
 * @param options - json, and the command that was running
 * @returns the exit code: 2 for a usage error, else 1
 * @example
 * ```ts
 * process.exitCode = reportError(e, process, { json: false });
 * ```
 */
export function reportError(e: unknown, io: CliIo, options: ReportOptions): number {
  const error = isRunledgerError(e)
    ? e
    : new RunledgerError('IO_ERROR', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
  const exit = error.code === 'USAGE' ? 2 : 1;
  // One line, whatever the message held (a solver's or SQL engine's text may have several).
  const message = `${error.message.replace(/\s*\n\s*/g, ' ').trim()}${columnSuggestion(error)}`;
  const hint = hintFor(error, options.command);
  if (options.json) {
    const { name, code, data, cause } = error.toJSON();
    const out = {
      name,
      code,
      message,
      ...(hint === undefined ? {} : { hint }),
      data: snakeKeys(data),
      ...(cause === undefined ? {} : { cause }),
    };
    io.stderr.write(`${JSON.stringify({ error: out })}\n`);
    return exit;
  }
  io.stderr.write(`runledger: ${error.code}: ${message}\n`);
  if (hint !== undefined) io.stderr.write(`hint: ${hint}\n`);
  return exit;
}

function hintFor(error: RunledgerError, command: string | undefined): string | undefined {
  const data = error.data;
  if (error.code === 'USAGE') {
    const about = typeof data['command'] === 'string' ? data['command'] : command;
    return about !== undefined && helpOf(about) !== undefined
      ? `Run "runledger help ${about}" for its options and examples.`
      : 'Run "runledger --help" for the commands.';
  }
  if (error.code === 'LAYOUT_INVALID' && data['exists'] === false) {
    return 'Check the path, or add --init to create a new store there.';
  }
  if (error.code === 'DEPENDENCY_MISSING' && typeof data['build'] === 'string') {
    return `Build it with "${data['build']}" in the runledger checkout, then run the command again.`;
  }
  if (error.code === 'IO_ERROR' && typeof data['errno'] === 'string') {
    return IO_HINTS[data['errno']];
  }
  return HINTS[error.code];
}

/**
 * "Did you mean" for the columns `--columns` names that a table lacks: the error says which
 * (`data.missing`) and which there are (its message lists them).
 */
function columnSuggestion(error: RunledgerError): string {
  const missing = error.data['missing'];
  const have = /; (?:it has|they have) (.+)\.$/.exec(error.message)?.[1]?.split(', ');
  if (error.code !== 'USAGE' || !Array.isArray(missing) || have === undefined) return '';
  const close = [...new Set(missing.flatMap((m) => closestNames(String(m), have)))];
  return close.length === 0 ? '' : ` Did you mean ${close.join(', ')}?`;
}

/** The keys runledger names (not the values) in snake_case: `mediaType` → `media_type`. */
function snakeKeys(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [
      k.replace(/([a-z0-9])([A-Z]+)/g, '$1_$2').toLowerCase(),
      v,
    ])
  );
}
