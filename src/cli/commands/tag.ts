/**
 * @module cli/commands/tag
 * `runledger tag <source> <target>`: a second name for the same manifest.
 */
import type { Command } from '../types.js';
import { resolveReference, resolveTarget } from '../resolve.js';

export const tag: Command = {
  name: 'tag',
  usage: 'tag <source-ref> <target-ref>',
  summary: 'point a new reference at the manifest of an existing one',
  arity: [2, 2],
  async run(ctx) {
    const [given, wanted] = ctx.positionals as [string, string];
    const registry = await ctx.openRegistry();
    const source = await resolveReference(registry, given);
    const target = await resolveTarget(registry, wanted, source);
    const result = await registry.tag(source, target);
    const digest = (await registry.resolve(target)).digest;
    if (ctx.json) ctx.printJson({ reference: target, digest, result });
    else ctx.print(`${result === 'created' ? 'Tagged' : 'Already tagged'} ${target} -> ${digest}`);
    return 0;
  },
};
