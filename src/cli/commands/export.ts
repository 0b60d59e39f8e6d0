/**
 * @module cli/commands/export
 * `runledger export <ref> <file.ommx|->`: write an artifact as an `.ommx` archive.
 */
import { join } from 'node:path';
import { exportArchive } from '../../archive/export.js';
import type { Descriptor } from '../../oci/types.js';
import { normalizeReference } from '../../oci/reference.js';
import { formatBytes } from '../format.js';
import { writeOutput } from '../output.js';
import { progressLine } from '../progress.js';
import type { Command } from '../types.js';
import { resolveReference } from '../resolve.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'export <ref> <file.ommx|-> [--force]',
  summary: 'write an artifact as a deterministic .ommx archive (OCI layout in a tar)',
  options: { force: { type: 'boolean' } },
  arity: [2, 2],
  async run(ctx) {
    const [given, file] = ctx.positionals as [string, string];
    const registry = await ctx.openRegistry();
    const ref = await resolveReference(registry, given);
    const progress = progressLine(ctx.io, !ctx.json);
    let exported: { descriptor: Descriptor; size: number } | undefined;
    const path = await progress.track(
      writeOutput(
        ctx.io,
        file,
        async (dir) => {
          const archive = join(dir, 'archive.ommx');
          exported = await exportArchive(registry, ref, archive, {
            onProgress: progress.onProgress,
          });
          return archive;
        },
        { force: ctx.values['force'] === true }
      )
    );
    // With -, the archive is the only thing on stdout.
    if (path === '-' || exported === undefined) return 0;
    const { descriptor, size } = exported;
    const reference = normalizeReference(ref);
    if (ctx.json) ctx.printJson({ reference, digest: descriptor.digest, path, size });
    else ctx.print(`Exported ${reference} (${descriptor.digest}) to ${path}, ${formatBytes(size)}`);
    return 0;
  },
};
