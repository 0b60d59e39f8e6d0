/**
 * @module cli/commands/checkpoints
 * `runledger checkpoints [prefix] [--status S]`: the experiment checkpoints of the local registry
 * (draft, failed, interrupted), by requested name. `--json` prints each checkpoint's fields
 * without its config JSON (`runledger restore-checkpoint` and the library read that).
 */
import { RunledgerError } from '../../errors.js';
import { listExperimentCheckpoints, type CheckpointStatus } from '../../experiment/checkpoint.js';
import { listCrashJournals, type CrashJournal } from '../../experiment/crash-journals.js';
import { formatTable } from '../format.js';
import type { Command } from '../types.js';

/** Every checkpoint status (a record, so a new status fails to compile until it is listed). */
const STATUSES: Readonly<Record<CheckpointStatus, true>> = {
  draft: true,
  failed: true,
  interrupted: true,
};

export const checkpoints: Command = {
  name: 'checkpoints',
  usage: 'checkpoints [prefix] [--status draft|failed|interrupted]...',
  summary:
    'list experiment checkpoints (uncommitted work: autosaves, failed and interrupted scopes)',
  options: { status: { type: 'string', multiple: true } },
  arity: [0, 1],
  async run(ctx) {
    const prefix = ctx.positionals[0];
    const statuses = parseStatuses(ctx.values['status']);
    const registry = await ctx.openRegistry();
    const refs = await listExperimentCheckpoints({
      registry,
      ...(prefix === undefined ? {} : { prefix }),
      ...(statuses === undefined ? {} : { statuses }),
    });
    // Work of killed processes that only a crash journal holds (restore folds it in).
    const journals =
      statuses === undefined || statuses.includes('interrupted')
        ? await listCrashJournals({ registry, ...(prefix === undefined ? {} : { prefix }) })
        : [];
    if (ctx.json) {
      ctx.printJson({
        checkpoints: refs.map(({ config: _config, ...rest }) => rest),
        crashJournals: journals,
      });
      return 0;
    }
    printJournals(ctx, journals);
    if (refs.length === 0) {
      const filters = [
        ...(prefix === undefined ? [] : [`starting with ${prefix}`]),
        ...(statuses === undefined ? [] : [`with status ${statuses.join(' or ')}`]),
      ];
      ctx.print(`No checkpoints in ${registry.root}${filters.map((f) => ` ${f}`).join('')}.`);
      return 0;
    }
    const rows = refs.map((c) => [
      c.requestedImageName,
      c.status,
      String(c.runCount),
      String(c.solveCount),
      c.updatedAt?.slice(0, 19).replace('T', ' ') ?? '',
      // A reason is an error message: keep it on its row.
      c.reason?.replace(/\s+/g, ' ') ?? '',
    ]);
    for (const line of formatTable(
      ['EXPERIMENT', 'STATUS', 'RUNS', 'SOLVES', 'UPDATED (UTC)', 'REASON'],
      rows
    ))
      ctx.print(line);
    ctx.print('Continue one with "runledger restore-checkpoint <experiment>".');
    return 0;
  },
};

/** The crash journals, before the checkpoint table. */
function printJournals(
  ctx: Parameters<Command['run']>[0],
  journals: readonly CrashJournal[]
): void {
  if (journals.length === 0) return;
  const rows = journals.map((j) => [
    j.requestedImageName,
    String(j.closedRuns),
    String(j.openRuns),
    j.lastWriteAt.slice(0, 19).replace('T', ' '),
    `${j.pid}@${j.host}`,
  ]);
  ctx.print('Crash journals (processes that ended without committing; restore recovers them):');
  for (const line of formatTable(
    ['EXPERIMENT', 'CLOSED RUNS', 'OPEN RUNS', 'LAST WRITE (UTC)', 'PROCESS'],
    rows
  ))
    ctx.print(line);
  ctx.print('');
}

/**
 * The `--status` values: repeatable, each a comma list.
 * @throws RunledgerError `USAGE` for a status that is not draft, failed or interrupted
 */
function parseStatuses(
  value: string | boolean | readonly string[] | undefined
): CheckpointStatus[] | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const words = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(','))
    .map((s) => s.trim());
  const out: CheckpointStatus[] = [];
  for (const w of words) {
    if (!Object.hasOwn(STATUSES, w)) {
      throw new RunledgerError(
        'USAGE',
        `--status ${JSON.stringify(w)} is not one of ${Object.keys(STATUSES).join(', ')}.`
      );
    }
    if (!out.includes(w as CheckpointStatus)) out.push(w as CheckpointStatus);
  }
  return out;
}
