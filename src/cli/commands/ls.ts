/**
 * @module cli/commands/ls
 * `runledger ls [prefix]`: the references of the local registry; experiments with their status
 * and counts. With `--all`, checkpoints too, with the experiment they are of.
 * `runledger ls <project> --remote`: the tags of a repository on its registry, with the digest
 * each points at and when it was made.
 */
import { RunledgerError } from '../../errors.js';
import { listExperimentCheckpoints } from '../../experiment/checkpoint.js';
import { listExperiments } from '../../experiment/list.js';
import { namesRepository, parseReference } from '../../oci/reference.js';
import { listRemoteTags } from '../../remote/tags.js';
import { DISPLAY_OPTIONS, displayOf, formatTable, formatUtc, shortDigest } from '../format.js';
import { statusPainter } from '../run-table.js';
import { NETWORK_OPTIONS, TRANSFER_FLAGS, remoteOptions, remoteRegistryOf } from '../remote.js';
import type { Command, CommandContext } from '../types.js';

export const ls: Command = {
  name: 'ls',
  usage: `ls [prefix] [--all] | <project> --remote ${TRANSFER_FLAGS}`,
  summary:
    'list references; experiments with status and run counts (--all: checkpoints too); --remote: the tags of a project on its registry, with digest and time',
  options: {
    all: { type: 'boolean' },
    remote: { type: 'boolean' },
    ...NETWORK_OPTIONS,
    ...DISPLAY_OPTIONS,
  },
  arity: [0, 1],
  async run(ctx) {
    if (ctx.values['remote'] === true) return listRemote(ctx);
    for (const flag of Object.keys(NETWORK_OPTIONS)) {
      if (ctx.values[flag] !== undefined) {
        throw new RunledgerError(
          'USAGE',
          `--${flag} goes with --remote: "runledger ls <project> --remote --${flag}".`
        );
      }
    }
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
        ...(c === undefined ? {} : { checkpoint_of: c.requestedImageName }),
        ...(r.updatedAt === undefined ? {} : { updated_at: r.updatedAt }),
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
    const display = displayOf(ctx);
    const rows = entries.map((e) => [
      e.reference,
      shortDigest(e.digest),
      e.checkpoint_of === undefined ? e.type : `checkpoint of ${e.checkpoint_of}`,
      e.status ?? '',
      e.runs === undefined ? '' : String(e.runs),
      formatUtc(e.updated_at),
    ]);
    for (const line of formatTable(
      ['REFERENCE', 'DIGEST', 'TYPE', 'STATUS', 'RUNS', 'UPDATED (UTC)'],
      rows,
      {
        align: ['left', 'left', 'left', 'left', 'right', 'left'],
        cut: ['middle', 'end', 'middle'],
        width: display.width,
        ...(display.color
          ? {
              paint: statusPainter(
                3,
                entries.map((e) => e.status)
              ),
            }
          : {}),
      }
    ))
      ctx.print(line);
    return 0;
  },
};

/** `ls <project> --remote`: the project's tags on its registry, by time then tag. */
async function listRemote(ctx: CommandContext): Promise<number> {
  const value = ctx.positionals[0];
  if (value === undefined || ctx.values['all'] === true) {
    throw new RunledgerError(
      'USAGE',
      value === undefined
        ? '--remote lists the tags of a project on its registry: name it ("runledger ls ghcr.io/acme/qap --remote").'
        : '--all lists the local checkpoints too and cannot go with --remote.'
    );
  }
  const host = remoteRegistryOf(
    value,
    'project',
    'name a registry repository such as ghcr.io/acme/qap'
  );
  const { registry, repository } = parseReference(value);
  const project = `${registry}/${repository}`;
  if (!namesRepository(value)) {
    throw new RunledgerError(
      'USAGE',
      `--remote lists every tag of a project: name the repository alone (${project}), not ${value}.`
    );
  }
  const tags = await listRemoteTags(project, remoteOptions(ctx, [host]));
  if (ctx.json) {
    ctx.printJson(
      tags.map((t) => ({
        tag: t.tag,
        reference: t.reference,
        digest: t.digest,
        media_type: t.mediaType,
        size: t.size,
        ...(t.artifactType === undefined ? {} : { artifact_type: t.artifactType }),
        created: t.created,
      }))
    );
    return 0;
  }
  if (tags.length === 0) {
    ctx.print(`No tags in ${project}.`);
    return 0;
  }
  const rows = tags.map((t) => [t.tag, shortDigest(t.digest), formatUtc(t.created)]);
  for (const line of formatTable(['TAG', 'DIGEST', 'CREATED (UTC)'], rows, {
    width: displayOf(ctx).width,
  }))
    ctx.print(line);
  return 0;
}
