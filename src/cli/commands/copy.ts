/**
 * @module cli/commands/copy
 * `runledger copy <src> <dst>`: copy an artifact between two registry repositories, without
 * the local store.
 */
import { normalizeReference } from '../../oci/reference.js';
import { copyArtifact } from '../../remote/transfer.js';
import { TRANSFER_FLAGS, TRANSFER_OPTIONS, remoteRegistryOf, runTransfer } from '../remote.js';
import type { Command } from '../types.js';

export const copy: Command = {
  name: 'copy',
  usage: `copy <source-ref> <target-ref> ${TRANSFER_FLAGS}`,
  summary:
    'copy an artifact between registry repositories (blobs mounted on the same registry, else streamed; nothing stored locally)',
  options: TRANSFER_OPTIONS,
  arity: [2, 2],
  async run(ctx) {
    const [source, target] = ctx.positionals as [string, string];
    const hosts = [remoteRegistryOf(source, 'source'), remoteRegistryOf(target, 'target')];
    const [from, into] = [normalizeReference(source), normalizeReference(target)];
    return runTransfer(
      ctx,
      { hosts, local: false, verb: 'copied', moved: 'sent', from },
      (options) => copyArtifact(from, into, options)
    );
  },
};
