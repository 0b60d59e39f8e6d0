/**
 * @module cli/commands/restore-checkpoint
 * `runledger restore-checkpoint <name> [--commit]`: continues an experiment from its checkpoint
 * and the crash journals a killed process left (their open runs become `interrupted`), says what
 * was recovered, and with `--commit` commits it under its name.
 */
import {
  listExperimentCheckpoints,
  type ExperimentCheckpointRef,
} from '../../experiment/checkpoint.js';
import { Experiment } from '../../experiment/experiment.js';
import { normalizeReference } from '../../oci/reference.js';
import type { LocalRegistry } from '../../store/local-registry.js';
import { formatTable } from '../format.js';
import type { Command } from '../types.js';
import { snakeCaseKeys } from '../json-keys.js';

export const restoreCheckpoint: Command = {
  name: 'restore-checkpoint',
  usage: 'restore-checkpoint <name> [--commit]',
  summary:
    'recover an experiment from its checkpoint and crash journals; --commit commits it under its name',
  options: { commit: { type: 'boolean' } },
  arity: [1, 1],
  async run(ctx) {
    const name = normalizeReference(ctx.positionals[0] as string);
    const registry = await ctx.openRegistry();
    const before = await checkpointOf(registry, name);
    // The CLI records nothing itself: no signal handlers, and no journal of its own to leave
    // behind (the recovered runs are in the refreshed checkpoint).
    const exp = await Experiment.restoreFromCheckpoint(name, {
      registry,
      handleSignals: false,
      journal: false,
    });
    const after = await checkpointOf(registry, name);
    const runs = exp.runs;
    const infos = await Promise.all(runs.map((r) => r.getInfo()));
    const counts: Record<string, number> = {};
    for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const committed = ctx.values['commit'] === true ? await exp.commit() : undefined;
    const summary = {
      reference: name,
      checkpoint:
        after === undefined
          ? undefined
          : {
              reference: after.checkpointImageName,
              manifestDigest: after.manifestDigest,
              status: after.status,
              ...(after.reason === undefined ? {} : { reason: after.reason }),
              ...(after.updatedAt === undefined ? {} : { updatedAt: after.updatedAt }),
            },
      runCount: runs.length,
      statusCounts: counts,
      // Replaying a journal only adds runs: what the checkpoint lacked came from journals.
      recoveredFromJournals: runs.length - (before?.runCount ?? 0),
      runs: runs.map((r, i) => {
        const info = infos[i];
        return {
          runId: r.runId,
          ...(info?.name === undefined ? {} : { name: info.name }),
          ...(info?.parentRunId === undefined ? {} : { parentRunId: info.parentRunId }),
          tags: info?.tags ?? {},
          status: r.status,
          ...(r.reason === undefined ? {} : { reason: r.reason }),
        };
      }),
      ...(committed === undefined
        ? {}
        : { committed: { manifestDigest: committed.manifestDigest } }),
    };
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(summary));
      return 0;
    }
    const byStatus = Object.entries(counts).map(([s, n]) => `${n} ${s}`);
    ctx.print(`Restored    ${name}`);
    ctx.print(
      `Runs        ${runs.length}${byStatus.length === 0 ? '' : ` (${byStatus.join(', ')})`}${
        summary.recoveredFromJournals === 0
          ? ''
          : `; ${summary.recoveredFromJournals} recovered from crash journals`
      }`
    );
    if (summary.checkpoint !== undefined) {
      const c = summary.checkpoint;
      ctx.print(
        `Checkpoint  ${c.reference} (${c.status}${c.reason === undefined ? '' : `: ${c.reason}`})`
      );
    }
    if (runs.length > 0) {
      ctx.print('');
      const rows = summary.runs.map((r) => [
        String(r.runId),
        r.name ?? '',
        r.parentRunId === undefined ? '' : String(r.parentRunId),
        r.status,
        Object.entries(r.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
        r.reason?.replace(/\s+/g, ' ') ?? '',
      ]);
      for (const line of formatTable(['RUN', 'NAME', 'PARENT', 'STATUS', 'TAGS', 'REASON'], rows))
        ctx.print(line);
      ctx.print('');
    }
    if (committed !== undefined) {
      ctx.print(`Committed ${name} -> ${committed.manifestDigest}`);
    } else {
      ctx.print(
        `Not committed: the checkpoint stays. Continue it in TypeScript with Experiment.restoreFromCheckpoint(${JSON.stringify(name)}), or commit it as it is with "runledger restore-checkpoint ${name} --commit".`
      );
    }
    return 0;
  },
};

/** The checkpoint of a requested name, if there is one. */
async function checkpointOf(
  registry: LocalRegistry,
  name: string
): Promise<ExperimentCheckpointRef | undefined> {
  const refs = await listExperimentCheckpoints({ registry, prefix: name });
  return refs.find((c) => c.requestedImageName === name);
}
