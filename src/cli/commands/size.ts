/**
 * @module cli/commands/size
 * `runledger size <ref…>`: bytes each reference needs.
 */
import { DISPLAY_OPTIONS, displayOf, formatBytes, formatTable } from '../format.js';
import type { Command } from '../types.js';
import { resolveReferences } from '../resolve.js';
import { snakeCaseKeys } from '../json-keys.js';

export const size: Command = {
  name: 'size',
  usage: 'size <ref>...',
  summary: 'bytes a reference needs: manifest, config and each distinct layer once',
  options: DISPLAY_OPTIONS,
  arity: [1, Infinity],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const reports = [];
    for (const ref of await resolveReferences(registry, ctx.positionals))
      reports.push(await registry.size(ref));
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(reports));
      return 0;
    }
    const rows = reports.map((r) => [
      r.reference,
      String(r.blobs),
      formatBytes(r.size),
      String(r.size),
    ]);
    for (const line of formatTable(['REFERENCE', 'BLOBS', 'SIZE', 'BYTES'], rows, {
      align: ['left', 'right', 'right', 'right'],
      cut: ['middle'],
      width: displayOf(ctx).width,
    }))
      ctx.print(line);
    return 0;
  },
};
