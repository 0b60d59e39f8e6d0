/**
 * @module cli/main
 * `runledger` command line: `main(argv, io)` parses, dispatches to one file per command,
 * and returns the exit code (0 ok, 1 error, 2 usage). Only `cli/` writes to the terminal.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isRunledgerError, RunledgerError, type ErrorCode } from '../errors.js';
import { LocalRegistry } from '../store/local-registry.js';
import { runledgerVersion } from '../version.js';
import { demo } from './commands/demo.js';
import { checkpoints } from './commands/checkpoints.js';
import { copy } from './commands/copy.js';
import { exportCommand } from './commands/export.js';
import { fsck } from './commands/fsck.js';
import { get } from './commands/get.js';
import { importCommand } from './commands/import.js';
import { inspect } from './commands/inspect.js';
import { gc } from './commands/gc.js';
import { login } from './commands/login.js';
import { logout } from './commands/logout.js';
import { ls } from './commands/ls.js';
import { merge } from './commands/merge.js';
import { projects } from './commands/projects.js';
import { prune } from './commands/prune.js';
import { pull } from './commands/pull.js';
import { push } from './commands/push.js';
import { restore } from './commands/restore.js';
import { restoreCheckpoint } from './commands/restore-checkpoint.js';
import { rm } from './commands/rm.js';
import { runs } from './commands/runs.js';
import { show } from './commands/show.js';
import { size } from './commands/size.js';
import { solves } from './commands/solves.js';
import { sql } from './commands/sql.js';
import { tag } from './commands/tag.js';
import type { CliIo, Command, CommandContext } from './types.js';

export type { CliIo } from './types.js';

const COMMANDS: readonly Command[] = [
  demo,
  ls,
  projects,
  show,
  runs,
  solves,
  sql,
  checkpoints,
  restoreCheckpoint,
  get,
  exportCommand,
  importCommand,
  inspect,
  push,
  pull,
  copy,
  merge,
  login,
  logout,
  tag,
  rm,
  restore,
  prune,
  gc,
  fsck,
  size,
];

const GLOBAL_OPTIONS = {
  root: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

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
    'A checkpoint lives only until its experiment is committed: "runledger ls" lists the committed ones.',
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

/** Usages longer than this get a line of their own, the summary indented below. */
const USAGE_COLUMN = 29;

function usageText(): string {
  return [
    'Usage: runledger [--root DIR] [--json] <command> [args]',
    '',
    'Commands:',
    ...COMMANDS.map((c) =>
      c.usage.length <= USAGE_COLUMN
        ? `  ${c.usage.padEnd(USAGE_COLUMN)}  ${c.summary}`
        : `  ${c.usage}\n${' '.repeat(USAGE_COLUMN + 4)}${c.summary}`
    ),
    '',
    'Options:',
    '  --root DIR   the local registry (default: $RUNLEDGER_HOME, else ~/.local/share/runledger)',
    '  --json       machine-readable output',
    '  -h, --help   this text',
    '  --version    the runledger version',
    '',
    'Registry options (push, pull, copy, login, ls --remote):',
    '  --plain-http     use http for the registries named on the command line (loopback ones always do)',
    '  --insecure       skip TLS certificate checks for the registries named (this process talks to no other host)',
    '  --concurrency N  blobs in flight at once (push, pull, copy; default 8)',
    '  -q, --quiet      no progress line and no summary line',
    '  Credentials: RUNLEDGER_AUTH_<HOST>=user:password, else Docker config.json (credHelpers, credsStore, auths).',
    '',
    'Exit codes: 0 success, 1 error, 2 usage error.',
  ].join('\n');
}

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
  try {
    const at = findCommand(argv);
    const command = at === undefined ? undefined : COMMANDS.find((c) => c.name === argv[at]);
    if (at === undefined || command === undefined) {
      const globals = parse(argv, {});
      if (globals.values['version'] === true) {
        io.stdout.write(`${runledgerVersion()}\n`);
        return 0;
      }
      if (globals.values['help'] === true) {
        io.stdout.write(`${usageText()}\n`);
        return 0;
      }
      throw new RunledgerError(
        'USAGE',
        at === undefined ? 'No command given.' : `Unknown command ${JSON.stringify(argv[at])}.`
      );
    }
    const parsed = parse([...argv.slice(0, at), ...argv.slice(at + 1)], command.options ?? {});
    if (parsed.values['help'] === true) {
      io.stdout.write(`Usage: runledger ${command.usage}\n  ${command.summary}\n`);
      return 0;
    }
    const [min, max] = command.arity;
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new RunledgerError('USAGE', `Usage: runledger ${command.usage}`);
    }
    const ctx: CommandContext = {
      io,
      positionals: parsed.positionals,
      values: parsed.values,
      json,
      openRegistry: () => {
        const root = parsed.values['root'];
        return LocalRegistry.open(
          typeof root === 'string' ? resolve(io.cwd ?? process.cwd(), root) : undefined,
          { env: io.env }
        );
      },
      print: (line) => void io.stdout.write(`${line}\n`),
      printJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    };
    return await command.run(ctx);
  } catch (e) {
    return reportError(e, io, json);
  }
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
  options: NonNullable<Command['options']>
): {
  values: Record<string, string | boolean | readonly string[] | undefined>;
  positionals: string[];
} {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | readonly string[] | undefined>,
      positionals,
    };
  } catch (cause) {
    throw new RunledgerError('USAGE', (cause as Error).message, { cause });
  }
}

function reportError(e: unknown, io: CliIo, json: boolean): number {
  const error = isRunledgerError(e)
    ? e
    : new RunledgerError('IO_ERROR', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
  const exit = error.code === 'USAGE' ? 2 : 1;
  if (json) {
    io.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
    return exit;
  }
  io.stderr.write(`runledger: ${error.code}: ${error.message}\n`);
  const hint =
    error.code === 'USAGE' ? 'Run "runledger --help" for the commands.' : HINTS[error.code];
  if (hint !== undefined) io.stderr.write(`hint: ${hint}\n`);
  return exit;
}
