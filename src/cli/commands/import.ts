/**
 * @module cli/commands/import
 * `runledger import <file|dir> [--as REF]`: import an `.ommx` archive or an OCI layout directory.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RunledgerError } from '../../errors.js';
import { importArchive } from '../../archive/import.js';
import { progressLine } from '../progress.js';
import type { Command } from '../types.js';
import { resolveTarget } from '../resolve.js';

export const importCommand: Command = {
  name: 'import',
  usage: 'import <file.ommx|layout-dir> [--as REF]',
  summary: 'import an .ommx archive or OCI layout directory (verified before anything is visible)',
  options: { as: { type: 'string' } },
  arity: [1, 1],
  async run(ctx) {
    const path = resolve(ctx.io.cwd ?? process.cwd(), ctx.positionals[0] as string);
    // Checked before the store is opened: a mistyped path says so, and touches nothing.
    const info = await stat(path).catch((e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' ? undefined : null
    );
    const missing = info === undefined;
    if (missing) {
      throw new RunledgerError('IO_ERROR', `Cannot import ${path}: no such file or directory.`, {
        data: { path, errno: 'ENOENT' },
      });
    }
    const registry = await ctx.openRegistry();
    const progress = progressLine(ctx.io, !ctx.json);
    const given = ctx.values['as'];
    const as = typeof given === 'string' ? await resolveTarget(registry, given) : undefined;
    // An archive's size is the total (its blobs are most of it; the bar ends full on success).
    const total = info?.isFile() === true ? info.size : undefined;
    const r = await progress.track(
      importArchive(registry, path, {
        ...(as === undefined ? {} : { reference: as }),
        onProgress: (p) => progress.onProgress({ ...p, total: p.total ?? total }),
      })
    );
    if (ctx.json)
      ctx.printJson({ reference: r.reference, digest: r.descriptor.digest, result: r.result });
    else
      ctx.print(
        `${r.result === 'created' ? 'Imported' : 'Already present:'} ${r.reference} (${r.descriptor.digest})`
      );
    return 0;
  },
};
