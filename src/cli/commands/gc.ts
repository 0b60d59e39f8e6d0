/**
 * @module cli/commands/gc
 * `runledger gc [--delete] [--grace 24h]`: report (or delete) unreferenced blobs.
 */
import { formatBytes } from '../format.js';
import type { Command } from '../types.js';
import { snakeCaseKeys } from '../json-keys.js';

export const gc: Command = {
  name: 'gc',
  usage: 'gc [--delete] [--grace 24h]',
  summary: 'find unreferenced blobs older than the grace period; delete them with --delete',
  options: { delete: { type: 'boolean' }, grace: { type: 'string' } },
  arity: [0, 0],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const report = await registry.gc({
      delete: ctx.values['delete'] === true,
      gracePeriod: typeof ctx.values['grace'] === 'string' ? ctx.values['grace'] : '24h',
    });
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(report));
      return 0;
    }
    ctx.print(`References:  ${report.refs}`);
    ctx.print(
      `Reachable:   ${report.reachable.count} blobs, ${formatBytes(report.reachable.size)}`
    );
    const { live, recoverable } = report.sessions;
    ctx.print(
      `Pinned:      ${report.pinned.count} blobs, ${formatBytes(report.pinned.size)} (kept: ${live} live session(s), ${recoverable} crash journal(s))`
    );
    ctx.print(
      `Unreferenced, past grace: ${report.candidates.count} blobs, ${formatBytes(report.candidates.size)}`
    );
    ctx.print(
      `Unreferenced, in grace:   ${report.deferred.count} blobs, ${formatBytes(report.deferred.size)} (kept)`
    );
    if (report.missing.length > 0)
      ctx.print(`Missing (referenced, absent): ${report.missing.length}; run "runledger fsck"`);
    ctx.print(
      `Abandoned temp files: ${report.tempFiles.count}, ${formatBytes(report.tempFiles.size)}`
    );
    if (report.dryRun) {
      ctx.print(
        report.candidates.count > 0 || report.tempFiles.count > 0
          ? `Dry run: nothing deleted; run "${ctx.rerun?.('--delete') ?? 'runledger gc --delete'}" to free the space.`
          : 'Nothing to delete.'
      );
    } else {
      ctx.print(
        `Deleted:     ${report.deleted.count} blobs, ${formatBytes(report.deleted.size)}; ${report.tempFilesRemoved} abandoned temp files`
      );
    }
    return 0;
  },
};
