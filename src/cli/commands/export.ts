/**
 * @module cli/commands/export
 * `runledger export <ref> <file.ommx>`: write an artifact as an `.ommx` archive.
 */
import { resolve } from 'node:path';
import { exportArchive } from '../../archive/export.js';
import { normalizeReference } from '../../oci/reference.js';
import { formatBytes } from '../format.js';
import { progressLine } from '../progress.js';
import type { Command } from '../types.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'export <ref> <file.ommx> [--force]',
  summary: 'write an artifact as a deterministic .ommx archive (OCI layout in a tar)',
  options: { force: { type: 'boolean' } },
  arity: [2, 2],
  async run(ctx) {
    const [ref, file] = ctx.positionals as [string, string];
    const registry = await ctx.openRegistry();
    const path = resolve(ctx.io.cwd ?? process.cwd(), file);
    const progress = progressLine(ctx.io, !ctx.json);
    const { descriptor, size } = await exportArchive(registry, ref, path, {
      overwrite: ctx.values['force'] === true,
      onProgress: progress.onProgress,
    }).finally(progress.done);
    const reference = normalizeReference(ref);
    if (ctx.json) ctx.printJson({ reference, digest: descriptor.digest, path, size });
    else ctx.print(`Exported ${reference} (${descriptor.digest}) to ${path}, ${formatBytes(size)}`);
    return 0;
  },
};
