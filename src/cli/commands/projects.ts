/**
 * @module cli/commands/projects
 * `runledger projects [prefix]`: the projects of the local registry — its experiments grouped by
 * repository — with how many experiments and runs each holds and its latest tag.
 */
import { listProjects } from '../../experiment/list.js';
import { DISPLAY_OPTIONS, displayOf, formatTable, formatUtc } from '../format.js';
import type { Command } from '../types.js';

export const projects: Command = {
  name: 'projects',
  usage: 'projects [prefix]',
  summary: 'list projects: experiments grouped by repository, with counts and the latest tag',
  options: DISPLAY_OPTIONS,
  arity: [0, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const prefix = ctx.positionals[0];
    const found = await listProjects({ registry, ...(prefix === undefined ? {} : { prefix }) });
    if (ctx.json) {
      ctx.printJson(
        found.map((p) => ({
          reference: p.reference,
          project: p.project,
          experiments: p.experiments,
          run_count: p.runCount,
          latest: p.latest,
          updated_at: p.updatedAt,
        }))
      );
      return 0;
    }
    if (found.length === 0) {
      ctx.print(
        `No experiments in ${registry.root}${prefix === undefined ? '' : ` starting with ${prefix}`}.`
      );
      return 0;
    }
    const rows = found.map((p) => [
      p.reference,
      String(p.experiments),
      String(p.runCount),
      p.latest ?? '',
      formatUtc(p.updatedAt),
    ]);
    for (const line of formatTable(
      ['PROJECT', 'EXPERIMENTS', 'RUNS', 'LATEST', 'UPDATED (UTC)'],
      rows,
      {
        align: ['left', 'right', 'right', 'left', 'left'],
        cut: ['middle'],
        width: displayOf(ctx).width,
      }
    )) {
      ctx.print(line);
    }
    return 0;
  },
};
