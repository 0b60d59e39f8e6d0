/**
 * @module cli/commands/restore
 * `runledger restore <ref> <digest>`: re-create a removed reference after checking its closure.
 */
import { normalizeReference } from '../../oci/reference.js';
import type { Command } from '../types.js';

export const restore: Command = {
  name: 'restore',
  usage: 'restore <ref> <digest>',
  summary: 're-create a reference to a manifest still in the store (verifies its closure)',
  arity: [2, 2],
  async run(ctx) {
    const [ref, digest] = ctx.positionals as [string, string];
    const registry = await ctx.openRegistry();
    const result = await registry.restoreRef(ref, digest);
    const reference = normalizeReference(ref);
    if (ctx.json) ctx.printJson({ reference, digest, result });
    else
      ctx.print(
        `${result === 'created' ? 'Restored' : 'Already present:'} ${reference} -> ${digest}`
      );
    return 0;
  },
};
