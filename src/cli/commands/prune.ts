/**
 * @module cli/commands/prune
 * `runledger prune [--delete] [--experiments] [--older-than 30d]`: anonymous references.
 */
import { formatTable, shortDigest } from '../format.js';
import type { Command } from '../types.js';
import { snakeCaseKeys } from '../json-keys.js';

export const prune: Command = {
  name: 'prune',
  usage: 'prune [--delete] [--experiments] [--older-than 30d]',
  summary:
    'find anonymous references (with --experiments, anonymous experiments too); remove them with --delete',
  options: {
    delete: { type: 'boolean' },
    experiments: { type: 'boolean' },
    'older-than': { type: 'string' },
  },
  arity: [0, 0],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const olderThan = ctx.values['older-than'];
    const report = await registry.prune({
      delete: ctx.values['delete'] === true,
      experiments: ctx.values['experiments'] === true,
      ...(typeof olderThan === 'string' ? { olderThan } : {}),
    });
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(report));
      return 0;
    }
    if (report.refs.length === 0) {
      ctx.print('No anonymous references to prune.');
      return 0;
    }
    const rows = report.refs.map((r) => [
      r.reference,
      r.kind,
      shortDigest(r.digest),
      r.updatedAt?.slice(0, 19).replace('T', ' ') ?? '',
    ]);
    for (const line of formatTable(['REFERENCE', 'KIND', 'DIGEST', 'UPDATED (UTC)'], rows))
      ctx.print(line);
    ctx.print(
      report.dryRun
        ? `Dry run: ${report.refs.length} reference(s) would be removed; run "${ctx.rerun?.('--delete') ?? 'runledger prune --delete'}", then "runledger gc --delete" to free the space.`
        : `Removed ${report.refs.length} reference(s); their blobs go with the next "runledger gc --delete".`
    );
    return 0;
  },
};
