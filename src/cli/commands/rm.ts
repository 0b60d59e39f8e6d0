/**
 * @module cli/commands/rm
 * `runledger rm <ref…>`: remove references; their blobs stay until `gc`.
 */
import { normalizeReference } from '../../oci/reference.js';
import type { Command } from '../types.js';
import { resolveReferences } from '../resolve.js';
import { snakeCaseKeys } from '../json-keys.js';

export const rm: Command = {
  name: 'rm',
  usage: 'rm <ref>...',
  summary: 'remove references (content stays until gc; the printed command restores it)',
  arity: [1, Infinity],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const removed = [];
    for (const ref of await resolveReferences(registry, ctx.positionals)) {
      const d = await registry.deleteRef(ref);
      const reference = normalizeReference(ref);
      removed.push({ reference, digest: d.digest });
      if (!ctx.json) {
        ctx.print(
          `Removed ${reference} (${d.digest}); undo with: runledger restore ${reference} ${d.digest}`
        );
      }
    }
    if (ctx.json) ctx.printJson(snakeCaseKeys(removed));
    return 0;
  },
};
