/**
 * @module cli/commands/merge
 * `runledger merge <ref>… --into <ref>`: sealed experiments (a sweep's shards, pulled from the
 * team's registry) combined into one.
 */
import { RunledgerError } from '../../errors.js';
import { mergeExperiments } from '../../experiment/merge.js';
import type { Command } from '../types.js';

export const merge: Command = {
  name: 'merge',
  usage: 'merge <ref>… --into <ref>',
  summary:
    "combine committed experiments (a sweep's shards) into one: runs renumbered in sweep order, blobs reused",
  options: { into: { type: 'string' } },
  arity: [1, Infinity],
  async run(ctx) {
    const into = ctx.values['into'];
    if (typeof into !== 'string') {
      throw new RunledgerError(
        'USAGE',
        'merge needs --into <ref>: where the merged experiment goes.'
      );
    }
    const registry = await ctx.openRegistry();
    const merged = await mergeExperiments(ctx.positionals, into, { registry });
    if (ctx.json) {
      ctx.printJson({
        reference: merged.reference,
        digest: merged.manifestDigest,
        sources: ctx.positionals.length,
        runs: merged.runs.length,
      });
    } else {
      ctx.print(
        `Merged ${ctx.positionals.length} experiment${ctx.positionals.length === 1 ? '' : 's'} (${merged.runs.length} runs) into ${merged.reference} ${merged.manifestDigest}`
      );
    }
    return 0;
  },
};
