/**
 * @module cli/commands/ls
 * `runledger ls [prefix]`: the references of the local registry; experiments with their status
 * and counts. With `--all`, checkpoints too, with the experiment they are of.
 */
import { listExperimentCheckpoints } from '../../experiment/checkpoint.js';
import { listExperiments } from '../../experiment/list.js';
import { formatTable, shortDigest } from '../format.js';
import type { Command } from '../types.js';

export const ls: Command = {
  name: 'ls',
  usage: 'ls [prefix] [--all]',
  summary: 'list references; experiments with status and run counts (--all: checkpoints too)',
  options: { all: { type: 'boolean' } },
  arity: [0, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const prefix = ctx.positionals[0];
    const refs = await registry.listRefs({
      includeInternal: ctx.values['all'] === true,
      ...(prefix === undefined ? {} : { prefix }),
    });
    const experiments = new Map(
      (await listExperiments({ registry, ...(prefix === undefined ? {} : { prefix }) })).map(
        (e) => [e.imageName, e]
      )
    );
    // Checkpoint references are internal (a hash of the name): say whose they are.
    const checkpoints = new Map(
      ctx.values['all'] === true
        ? (await listExperimentCheckpoints({ registry })).map((c) => [c.checkpointImageName, c])
        : []
    );
    const entries = refs.map((r) => {
      const c = checkpoints.get(r.reference);
      const e = experiments.get(r.reference) ?? c;
      return {
        reference: r.reference,
        digest: r.descriptor.digest,
        type:
          c !== undefined
            ? 'checkpoint'
            : e !== undefined
              ? 'experiment'
              : (r.descriptor.artifactType ?? r.descriptor.mediaType),
        ...(c === undefined ? {} : { checkpointOf: c.requestedImageName }),
        ...(r.updatedAt === undefined ? {} : { updatedAt: r.updatedAt }),
        ...(e === undefined
          ? {}
          : {
              status: e.status,
              runs: e.runCount,
              solves: e.solveCount,
              samplings: e.samplingCount,
            }),
      };
    });
    if (ctx.json) {
      ctx.printJson(entries);
      return 0;
    }
    if (entries.length === 0) {
      ctx.print(
        `No references in ${registry.root}${prefix === undefined ? '' : ` starting with ${prefix}`}.`
      );
      return 0;
    }
    const rows = entries.map((e) => [
      e.reference,
      shortDigest(e.digest),
      e.checkpointOf === undefined ? e.type : `checkpoint of ${e.checkpointOf}`,
      e.status ?? '',
      e.runs === undefined ? '' : String(e.runs),
      e.updatedAt?.slice(0, 19).replace('T', ' ') ?? '',
    ]);
    for (const line of formatTable(
      ['REFERENCE', 'DIGEST', 'TYPE', 'STATUS', 'RUNS', 'UPDATED (UTC)'],
      rows
    ))
      ctx.print(line);
    return 0;
  },
};
