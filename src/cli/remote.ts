/**
 * @module cli/remote
 * What `push`, `pull`, `copy`, `login`, `logout` and `ls --remote` share: the network flags
 * (`--plain-http`, `--insecure`, `--concurrency`, `--quiet`) turned into {@link RemoteOptions},
 * registry host arguments, the progress line and the one-line transfer summary, and the run of a
 * transfer command around them ({@link runTransfer}).
 *
 * `--plain-http` and `--insecure` apply only to the registries named on the command line.
 * Loopback registries (`localhost`, `127.*`, `[::1]`) always use plain http, so both flags are
 * no-ops for them. `--insecure` turns TLS certificate checks off for the whole process (Node's
 * `fetch` has no per-request TLS option without undici as a dependency), so while it is on,
 * every request to any other host — a token realm, a storage redirect — is refused.
 */
import { RemoteError, RunledgerError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import { isLocalOnlyRegistry, type RemoteOptions } from '../remote/client.js';
import type { FetchLike } from '../remote/http.js';
import { isLoopbackHost, redactUrl } from '../remote/origin.js';
import type { TransferOptions, TransferProgress, TransferReport } from '../remote/transfer.js';
import { formatBytes } from './format.js';
import { progressLine } from './progress.js';
import type { CliIo, Command, CommandContext } from './types.js';
import { snakeCaseKeys } from './json-keys.js';

/** The flags of every command that talks to a registry. */
export const NETWORK_OPTIONS: NonNullable<Command['options']> = {
  'plain-http': { type: 'boolean' },
  insecure: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
};

/** The flags of `push`, `pull` and `copy`. */
export const TRANSFER_OPTIONS: NonNullable<Command['options']> = {
  ...NETWORK_OPTIONS,
  concurrency: { type: 'string' },
};

/** Usage text of the shared flags (listed under "Registry options" in `runledger --help`). */
export const TRANSFER_FLAGS = '[registry options]';

/** Most blobs in flight `--concurrency` accepts. */
const MAX_CONCURRENCY = 64;
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  'index.docker.io',
  'registry-1.docker.io',
]);

/**
 * The registry host of a `login` / `logout` argument: `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`,
 * or the same with `https://` in front and a path after (as Docker accepts them). Docker Hub's
 * aliases become `docker.io`.
 * @param value - the argument
 * @returns the host with its port
 * @throws RunledgerError `USAGE` for anything else
 */
export function parseRegistryHost(value: string): string {
  const bare = value.replace(/^https:\/\//i, '').replace(/\/.*$/, '');
  const host = bare.toLowerCase();
  if (
    !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/.test(
      host
    )
  ) {
    throw new RunledgerError(
      'USAGE',
      `${JSON.stringify(value.slice(0, 300))} is not a registry host: pass e.g. ghcr.io or 127.0.0.1:5000 (a plain-http registry takes --plain-http, not http://).`
    );
  }
  if (isLocalOnlyRegistry(host)) {
    throw new RunledgerError(
      'USAGE',
      `${host} is runledger's local-only namespace, not a registry: name a registry such as ghcr.io.`
    );
  }
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

/**
 * The registry host of a reference argument, with a usage error for local-only names.
 * @param value - a reference
 * @param role - what it is, for the message (`source`, `target`)
 * @param advice - what to do instead, for the message
 * @throws RunledgerError `REFERENCE_INVALID`; `USAGE` for a local-only name
 */
export function remoteRegistryOf(
  value: string,
  role: string,
  advice = 'name a registry reference such as ghcr.io/acme/qap:v1'
): string {
  const { registry } = parseReference(value);
  if (isLocalOnlyRegistry(registry)) {
    throw new RunledgerError(
      'USAGE',
      `The ${role} ${value} is a local-only name (${registry}), not on any registry: ${advice}.`
    );
  }
  return registry;
}

/**
 * `--concurrency N` as a number: a whole number from 1 to 64, or `undefined` when absent.
 * @throws RunledgerError `USAGE`
 */
export function concurrencyOption(ctx: CommandContext): number | undefined {
  const raw = ctx.values['concurrency'];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_CONCURRENCY)) {
    throw new RunledgerError(
      'USAGE',
      `--concurrency takes a whole number from 1 to ${MAX_CONCURRENCY}, not ${JSON.stringify(raw)}.`
    );
  }
  return n;
}

/** Where `--insecure` turns TLS checks off; injectable so tests need not touch `process.env`. */
export interface InsecureTarget {
  /** The environment Node's TLS reads `NODE_TLS_REJECT_UNAUTHORIZED` from. @default process.env */
  readonly processEnv?: Record<string, string | undefined>;
  /** The `fetch` to guard. @default globalThis.fetch */
  readonly fetch?: FetchLike;
}

/**
 * Applies `--insecure` for some registry hosts: for loopback hosts nothing (they use http);
 * otherwise TLS certificate checks go off for this process (`NODE_TLS_REJECT_UNAUTHORIZED=0`), a
 * warning is written, and the returned `fetch` refuses every host but these.
 *
 * @param hosts - the registries named on the command line
 * @param warn - writes one warning line
 * @param target - the environment and fetch to use (tests)
 * @returns the guarded `fetch`, or `undefined` when nothing changed
 */
export function applyInsecure(
  hosts: readonly string[],
  warn: (line: string) => void,
  target: InsecureTarget = {}
): FetchLike | undefined {
  const remote = [...new Set(hosts)].filter((h) => !isLoopbackHost(h));
  if (remote.length === 0) return undefined;
  const env = target.processEnv ?? process.env;
  env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
  warn(
    `--insecure: TLS certificates of ${remote.join(', ')} are not verified; anyone on the network path can read and change what is sent, credentials included. Prefer trusting the registry's CA with NODE_EXTRA_CA_CERTS=<ca.pem>.`
  );
  const allowed = new Set(remote.map((h) => (h === 'docker.io' ? 'registry-1.docker.io' : h)));
  const inner: FetchLike = target.fetch ?? ((input, init) => fetch(input, init));
  return async (input, init) => {
    const url = new URL(input);
    if (!allowed.has(url.host)) {
      throw new RemoteError(
        'REMOTE_REFUSED',
        `--insecure covers ${[...allowed].join(', ')} only, and the registry sent runledger to ${url.host} (a token realm or a storage redirect): trust the registry's certificate with NODE_EXTRA_CA_CERTS instead of --insecure.`,
        { method: init.method ?? 'GET', url: redactUrl(url), data: { host: url.host } }
      );
    }
    return inner(input, init);
  };
}

/**
 * The {@link RemoteOptions} of a command: the CLI's environment, `--plain-http` and `--insecure`
 * for the registries named on its command line, warnings on stderr.
 * @param ctx - the command context
 * @param hosts - the registries named on the command line
 * @param target - where `--insecure` acts (tests)
 */
export function remoteOptions(
  ctx: CommandContext,
  hosts: readonly string[],
  target: InsecureTarget = {}
): RemoteOptions {
  const onWarning = (line: string): void => warn(ctx.io, line);
  const plain = ctx.values['plain-http'] === true;
  if (plain) {
    const remote = hosts.filter((h) => !isLoopbackHost(h));
    if (remote.length > 0) {
      onWarning(
        `--plain-http: talking to ${remote.join(', ')} without TLS (credentials included).`
      );
    }
  }
  const guarded =
    ctx.values['insecure'] === true ? applyInsecure(hosts, onWarning, target) : undefined;
  return {
    env: ctx.io.env,
    onWarning,
    ...(plain ? { plainHttp: [...hosts] } : {}),
    ...(guarded === undefined ? {} : { fetch: guarded }),
  };
}

/**
 * The progress bar of a transfer, drawn on stderr only when it is a terminal (never with
 * `--json` or `--quiet`): `push <ref> 2/3 blobs [####…] 66% …`.
 * @param ctx - the command context
 * @returns the callback and `track(task)`, which ends the bar at 100% (or clears it on failure)
 */
export function transferProgress(ctx: CommandContext): {
  onProgress: (p: TransferProgress) => void;
  track<T>(task: Promise<T>): Promise<T>;
} {
  const line = progressLine(ctx.io, !ctx.json && ctx.values['quiet'] !== true);
  return {
    // The transfer's last report (`done`) has every blob counted; it is drawn at once.
    onProgress: (p) =>
      line.onProgress({
        phase: `${p.phase} ${p.reference} ${p.blobsDone}/${p.blobsTotal} blobs`,
        loaded: p.bytesDone,
        total: p.bytesTotal,
      }),
    track: line.track,
  };
}

/**
 * Prints a transfer's result: the {@link TransferReport} as JSON, or one line
 * (`pushed <ref> <digest> (3 blobs, 2 sent, 1 skipped, 1.2 MiB in 0.3 s)`), nothing with `--quiet`.
 * @param ctx - the command context
 * @param report - what the transfer did
 * @param verb - `pushed`, `pulled`, `copied`
 * @param moved - how a transferred blob is called (`sent`, `fetched`)
 * @param from - the source, for `copy` (`copied <from> to <ref> …`)
 */
export function printReport(
  ctx: CommandContext,
  report: TransferReport,
  verb: string,
  moved: string,
  from?: string
): void {
  if (ctx.json) {
    ctx.printJson(snakeCaseKeys(report));
    return;
  }
  if (ctx.values['quiet'] === true) return;
  const { blobs } = report;
  const time = `${report.seconds.toFixed(1)} s`;
  if (report.upToDate) {
    ctx.print(
      `up to date: ${report.reference} ${report.digest} (${blobs.total} blobs, nothing sent in ${time})`
    );
    return;
  }
  const parts = [`${blobs.total} blobs`, `${blobs.transferred} ${moved}`];
  parts.push(`${blobs.skipped} ${verb === 'pulled' ? 'already here' : 'skipped'}`);
  if (blobs.mounted > 0) parts.push(`${blobs.mounted} mounted`);
  const what = from === undefined ? report.reference : `${from} to ${report.reference}`;
  ctx.print(
    `${verb} ${what} ${report.digest} (${parts.join(', ')}, ${formatBytes(report.bytes.transferred)} in ${time})`
  );
}

/** How {@link runTransfer} runs one of `push`, `pull` and `copy`. */
export interface TransferCommand {
  /** The registries named on the command line (what `--plain-http` and `--insecure` cover). */
  readonly hosts: readonly string[];
  /** Whether the transfer uses the local store (`push`, `pull`); `copy` does not. */
  readonly local: boolean;
  /** The summary's verb: `pushed`, `pulled`, `copied` (see {@link printReport}). */
  readonly verb: string;
  /** How the summary calls a transferred blob: `sent`, `fetched`. */
  readonly moved: string;
  /** The source, for `copy`'s summary. */
  readonly from?: string;
}

/**
 * Runs a transfer command once its arguments are read: `--concurrency`, the local store when the
 * transfer uses it, the progress line around the transfer, the network flags for the registries
 * it names, then the summary.
 * @param ctx - the command context
 * @param command - the registries named, whether the store is used, the summary's words
 * @param transfer - the transfer, given the options the flags make
 * @returns the exit code (0)
 */
export async function runTransfer(
  ctx: CommandContext,
  command: TransferCommand,
  transfer: (options: TransferOptions) => Promise<TransferReport>
): Promise<number> {
  const report = await withTransferOptions(ctx, command, transfer);
  printReport(ctx, report, command.verb, command.moved, command.from);
  return 0;
}

/**
 * Runs a transfer with the options its flags make — `--concurrency`, the local store when it
 * uses it, the network flags for the registries it names, the progress line around it — and
 * returns what it returns, for commands that print their own result (`pull --all-tags`).
 * @param ctx - the command context
 * @param command - the registries named, whether the store is used
 * @param transfer - the transfer, given the options
 * @returns the transfer's result
 */
export async function withTransferOptions<T>(
  ctx: CommandContext,
  command: Pick<TransferCommand, 'hosts' | 'local'>,
  transfer: (options: TransferOptions) => Promise<T>
): Promise<T> {
  const concurrency = concurrencyOption(ctx);
  const registry = command.local ? await ctx.openRegistry() : undefined;
  const progress = transferProgress(ctx);
  return progress.track(
    transfer({
      ...remoteOptions(ctx, command.hosts),
      ...(registry === undefined ? {} : { registry }),
      ...(concurrency === undefined ? {} : { concurrency }),
      onProgress: progress.onProgress,
    })
  );
}

/** Writes a warning line to stderr. */
export function warn(io: CliIo, line: string): void {
  io.stderr.write(`warning: ${line}\n`);
}
