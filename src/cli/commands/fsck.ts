/**
 * @module cli/commands/fsck
 * `runledger fsck`: re-hash every blob and check every reference; exit 1 when unhealthy.
 */
import { formatBytes } from '../format.js';
import type { Command } from '../types.js';
import { snakeCaseKeys } from '../json-keys.js';

export const fsck: Command = {
  name: 'fsck',
  usage: 'fsck',
  summary: 're-hash every blob and check every reference closure; exits 1 on any problem',
  arity: [0, 0],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const report = await registry.fsck();
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(report));
      return report.ok ? 0 : 1;
    }
    ctx.print(
      `Checked ${report.blobs} blobs (${formatBytes(report.bytes)}) and ${report.refs} references in ${registry.root}.`
    );
    for (const p of report.problems) {
      const refs =
        p.refs !== undefined && p.refs.length > 0 ? ` (used by ${p.refs.join(', ')})` : '';
      ctx.print(
        `${p.kind}: ${p.digest ?? p.path ?? ''}${p.path !== undefined && p.digest !== undefined ? ` at ${p.path}` : ''}: ${p.detail}${refs}`
      );
    }
    ctx.print(
      report.ok
        ? 'OK: no problems found.'
        : `UNHEALTHY: ${report.problems.length} problem(s); restore damaged blobs from a copy (pull or import again).`
    );
    return report.ok ? 0 : 1;
  },
};
