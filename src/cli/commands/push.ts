/**
 * @module cli/commands/push
 * `runledger push <ref> [--to REF]`: send an artifact of the local store to a registry.
 */
import { normalizeReference } from '../../oci/reference.js';
import { pushArtifact } from '../../remote/transfer.js';
import { TRANSFER_FLAGS, TRANSFER_OPTIONS, remoteRegistryOf, runTransfer } from '../remote.js';
import type { Command } from '../types.js';
import { isFullyQualified, resolveReference } from '../resolve.js';

export const push: Command = {
  name: 'push',
  usage: `push <ref> [--to REF] ${TRANSFER_FLAGS}`,
  summary:
    'send an artifact to an OCI registry (under its own name, or --to another); blobs the registry has are skipped',
  options: { ...TRANSFER_OPTIONS, to: { type: 'string' } },
  arity: [1, 1],
  async run(ctx) {
    // A short name or digest prefix is looked up in the local store (opened only for it).
    const given = ctx.positionals[0] as string;
    const source = isFullyQualified(given)
      ? given
      : await resolveReference(await ctx.openRegistry(), given, { command: 'push' });
    const to = ctx.values['to'];
    const target = typeof to === 'string' ? to : source;
    const host =
      typeof to === 'string'
        ? remoteRegistryOf(to, 'target (--to)')
        : remoteRegistryOf(
            source,
            'reference',
            `pass --to <registry>/<repository>:<tag> to push it under a registry name (runledger push ${source} --to ghcr.io/acme/name:tag)`
          );
    const [from, into] = [normalizeReference(source), normalizeReference(target)];
    return runTransfer(
      ctx,
      { hosts: [host], local: true, verb: 'pushed', moved: 'sent' },
      (options) => pushArtifact(from, into, options)
    );
  },
};
