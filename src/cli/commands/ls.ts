/**
 * @module cli/commands/ls
 * `runledger ls [prefix]`: the references of the local registry.
 */
import { formatTable, shortDigest } from '../format.js';
import type { Command } from '../types.js';

export const ls: Command = {
  name: 'ls',
  usage: 'ls [prefix] [--all]',
  summary: 'list references (with --all, internal checkpoint references too)',
  options: { all: { type: 'boolean' } },
  arity: [0, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const options: { prefix?: string; includeInternal: boolean } = {
      includeInternal: ctx.values['all'] === true,
    };
    if (ctx.positionals[0] !== undefined) options.prefix = ctx.positionals[0];
    const refs = await registry.listRefs(options);
    if (ctx.json) {
      ctx.printJson(refs);
      return 0;
    }
    if (refs.length === 0) {
      ctx.print(
        `No references in ${registry.root}${options.prefix === undefined ? '' : ` starting with ${options.prefix}`}.`
      );
      return 0;
    }
    const rows = refs.map((r) => [
      r.reference,
      shortDigest(r.descriptor.digest),
      r.descriptor.artifactType ?? r.descriptor.mediaType,
    ]);
    for (const line of formatTable(['REFERENCE', 'DIGEST', 'TYPE'], rows)) ctx.print(line);
    return 0;
  },
};
