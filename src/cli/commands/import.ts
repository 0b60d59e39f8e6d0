/**
 * @module cli/commands/import
 * `runledger import <file|dir> [--as REF]`: import an `.ommx` archive or an OCI layout directory.
 */
import { resolve } from 'node:path';
import { importArchive } from '../../archive/import.js';
import { progressLine } from '../progress.js';
import type { Command } from '../types.js';

export const importCommand: Command = {
  name: 'import',
  usage: 'import <file.ommx|layout-dir> [--as REF]',
  summary: 'import an .ommx archive or OCI layout directory (verified before anything is visible)',
  options: { as: { type: 'string' } },
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const path = resolve(ctx.io.cwd ?? process.cwd(), ctx.positionals[0] as string);
    const progress = progressLine(ctx.io, !ctx.json);
    const as = ctx.values['as'];
    const r = await importArchive(registry, path, {
      ...(typeof as === 'string' ? { reference: as } : {}),
      onProgress: progress.onProgress,
    }).finally(progress.done);
    if (ctx.json)
      ctx.printJson({ reference: r.reference, digest: r.descriptor.digest, result: r.result });
    else
      ctx.print(
        `${r.result === 'created' ? 'Imported' : 'Already present:'} ${r.reference} (${r.descriptor.digest})`
      );
    return 0;
  },
};
