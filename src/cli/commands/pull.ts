/**
 * @module cli/commands/pull
 * `runledger pull <ref> [--as NAME]`: fetch an artifact from a registry into the local store.
 * `runledger pull <project> --all-tags [--since DATE]`: fetch every tag of a project (those made
 * since DATE), skipping the ones the store already has.
 */
import { isRunledgerError, RunledgerError } from '../../errors.js';
import { namesRepository, normalizeReference, parseReference } from '../../oci/reference.js';
import { pullProject, type ProjectPullReport } from '../../remote/pull-project.js';
import { parseTime } from '../../remote/tags.js';
import { pullArtifact } from '../../remote/transfer.js';
import { formatBytes } from '../format.js';
import {
  TRANSFER_FLAGS,
  TRANSFER_OPTIONS,
  remoteRegistryOf,
  runTransfer,
  withTransferOptions,
} from '../remote.js';
import type { Command, CommandContext } from '../types.js';
import { resolveTarget } from '../resolve.js';
import { snakeCaseKeys } from '../json-keys.js';

export const pull: Command = {
  name: 'pull',
  usage: `pull <ref> [--as NAME] | <project> --all-tags [--since DATE] ${TRANSFER_FLAGS}`,
  summary:
    'fetch an artifact from an OCI registry into the local store, every blob verified (--as: under another local name); --all-tags: every tag of a project (made since DATE), skipping those already here',
  options: {
    ...TRANSFER_OPTIONS,
    as: { type: 'string' },
    'all-tags': { type: 'boolean' },
    since: { type: 'string' },
  },
  arity: [1, 1],
  async run(ctx) {
    const reference = ctx.positionals[0] as string;
    const host = remoteRegistryOf(reference, 'reference');
    if (ctx.values['all-tags'] === true) return pullAllTags(ctx, reference, host);
    if (ctx.values['since'] !== undefined) {
      throw new RunledgerError(
        'USAGE',
        `--since goes with --all-tags: "runledger pull ${projectOf(reference)} --all-tags --since DATE".`
      );
    }
    const as = ctx.values['as'];
    const remote = normalizeReference(reference);
    const localName =
      typeof as === 'string'
        ? normalizeReference(await resolveTarget(await ctx.openRegistry(), as, remote))
        : undefined;
    return runTransfer(
      ctx,
      { hosts: [host], local: true, verb: 'pulled', moved: 'fetched' },
      (options) =>
        pullArtifact(remote, {
          ...options,
          ...(localName === undefined ? {} : { as: localName }),
        }).catch((e: unknown) => {
          if (!isRunledgerError(e, 'REF_CONFLICT')) throw e;
          const name = String(e.data['reference'] ?? localName ?? reference);
          throw new RunledgerError(
            'REF_CONFLICT',
            `The local reference ${name} already points at ${String(e.data['current'])}, not at the pulled ${String(e.data['wanted'])}: remove it with "runledger rm ${name}", or pull under another local name with --as NAME.`,
            { data: e.data, cause: e }
          );
        })
    );
  },
};

/** `registry/repository` of a reference argument. */
function projectOf(reference: string): string {
  const { registry, repository } = parseReference(reference);
  return `${registry}/${repository}`;
}

/** `pull <project> --all-tags [--since DATE]`. */
async function pullAllTags(ctx: CommandContext, reference: string, host: string): Promise<number> {
  const project = projectOf(reference);
  if (!namesRepository(reference)) {
    throw new RunledgerError(
      'USAGE',
      `--all-tags pulls a project: name the repository alone (${project}), not ${reference}.`
    );
  }
  if (ctx.values['as'] !== undefined) {
    throw new RunledgerError(
      'USAGE',
      `--as names one artifact and cannot go with --all-tags; the tags of ${project} keep their names.`
    );
  }
  const raw = ctx.values['since'];
  let since: Date | undefined;
  if (typeof raw === 'string') {
    try {
      since = parseTime(raw);
    } catch (cause) {
      throw new RunledgerError(
        'USAGE',
        `--since takes a date (2026-12-01) or a timestamp (2026-12-01T06:00:00Z), not ${JSON.stringify(raw)}.`,
        { cause }
      );
    }
  }
  const report = await withTransferOptions(ctx, { hosts: [host], local: true }, (options) =>
    pullProject(project, { ...options, ...(since === undefined ? {} : { since }) })
  );
  if (ctx.json) ctx.printJson(snakeCaseKeys(report));
  else if (ctx.values['quiet'] !== true) ctx.print(summary(report, since));
  return 0;
}

/**
 * One line: `ghcr.io/acme/qap: 9 tags; 4 pulled, 2 tagged, 3 skipped (already here); 12 of 20
 * blobs fetched, 1.2 MiB in 0.8 s`.
 */
function summary(r: ProjectPullReport, since: Date | undefined): string {
  const time = `${r.seconds.toFixed(1)} s`;
  const older =
    since === undefined ? '' : `, ${r.older} made before ${since.toISOString()} left out`;
  if (r.tags.length === 0) {
    return `${r.project}: no tags to pull${older} (in ${time})`;
  }
  const parts = [`${r.pulled} pulled`, `${r.tagged} tagged`, `${r.skipped} skipped (already here)`];
  if (r.kept > 0) parts.push(`${r.kept} kept (the local latest points at other work)`);
  return `${r.project}: ${r.tags.length} tags${older}; ${parts.join(', ')}; ${r.blobs.transferred} of ${r.blobs.total} blobs fetched, ${formatBytes(r.bytes.transferred)} in ${time}`;
}
