/**
 * @module cli/commands/copy
 * `runledger copy <src> <dst>`: copy an artifact between two registry repositories, without
 * the local store.
 */
import { normalizeReference } from '../../oci/reference.js';
import { copyArtifact } from '../../remote/transfer.js';
import {
  TRANSFER_FLAGS,
  TRANSFER_OPTIONS,
  concurrencyOption,
  printReport,
  remoteOptions,
  remoteRegistryOf,
  transferProgress,
} from '../remote.js';
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
    const concurrency = concurrencyOption(ctx);
    const progress = transferProgress(ctx);
    const report = await copyArtifact(normalizeReference(source), normalizeReference(target), {
      ...remoteOptions(ctx, hosts),
      ...(concurrency === undefined ? {} : { concurrency }),
      onProgress: progress.onProgress,
    }).finally(progress.done);
    printReport(ctx, report, 'copied', 'sent', normalizeReference(source));
    return 0;
  },
};
