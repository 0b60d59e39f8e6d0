/**
 * @module cli/commands/checkpoints
 * `runledger checkpoints [prefix] [--status S]`: the experiment checkpoints of the local registry
 * (draft, failed, interrupted), by requested name, after the experiments live processes are
 * recording now and the crash journals dead ones left. `--json` prints each checkpoint's fields
 * (snake_case) without its config JSON (`runledger restore-checkpoint` and the library read
 * that).
 */
import { RunledgerError } from '../../errors.js';
import { listExperimentCheckpoints, type CheckpointStatus } from '../../experiment/checkpoint.js';
import { listCrashJournals, type CrashJournal } from '../../experiment/crash-journals.js';
import { readLiveExperiments, type LiveExperiment } from '../../experiment/live-runs.js';
import { DISPLAY_OPTIONS, displayOf, formatTable, formatUtc, type Display } from '../format.js';
import { statusPainter } from '../run-table.js';
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
  options: { status: { type: 'string', multiple: true }, ...DISPLAY_OPTIONS },
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
    // Runs open now in live processes (their crash journals, read only), by experiment.
    const recording =
      statuses === undefined || statuses.includes('draft')
        ? (await readLiveExperiments(registry)).filter(
            (l) => l.runs.length > 0 && (prefix === undefined || l.reference.startsWith(prefix))
          )
        : [];
    // Work of killed processes that only a crash journal holds (restore folds it in).
    const journals =
      statuses === undefined || statuses.includes('interrupted')
        ? await listCrashJournals({ registry, ...(prefix === undefined ? {} : { prefix }) })
        : [];
    if (ctx.json) {
      ctx.printJson({
        checkpoints: refs.map((c) => ({
          checkpoint_image_name: c.checkpointImageName,
          requested_image_name: c.requestedImageName,
          manifest_digest: c.manifestDigest,
          config_digest: c.configDigest,
          updated_at: c.updatedAt,
          status: c.status,
          reason: c.reason,
          run_count: c.runCount,
          solve_count: c.solveCount,
          sampling_count: c.samplingCount,
          annotations: c.annotations,
        })),
        recording: recording.map((l) => ({
          requested_image_name: l.reference,
          path: l.path,
          pid: l.pid,
          host: l.host,
          started_at: new Date(l.startedAt).toISOString(),
          open_runs: l.runs.length,
          last_write_at: lastWrite(l),
        })),
        crash_journals: journals.map((j) => ({
          requested_image_name: j.requestedImageName,
          path: j.path,
          pid: j.pid,
          host: j.host,
          started_at: j.startedAt,
          last_write_at: j.lastWriteAt,
          closed_runs: j.closedRuns,
          open_runs: j.openRuns,
          torn: j.torn,
        })),
      });
      return 0;
    }
    const display = displayOf(ctx);
    printRecording(ctx, recording, display);
    printJournals(ctx, journals, display);
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
      formatUtc(c.updatedAt),
      // A reason is an error message: keep it on its row.
      c.reason?.replace(/\s+/g, ' ') ?? '',
    ]);
    for (const line of formatTable(
      ['EXPERIMENT', 'STATUS', 'RUNS', 'SOLVES', 'UPDATED (UTC)', 'REASON'],
      rows,
      {
        align: ['left', 'left', 'right', 'right', 'left', 'left'],
        cut: ['middle'],
        width: display.width,
        ...(display.color
          ? {
              paint: statusPainter(
                1,
                refs.map((c) => c.status)
              ),
            }
          : {}),
      }
    ))
      ctx.print(line);
    ctx.print('Continue one with "runledger restore-checkpoint <experiment>".');
    return 0;
  },
};

/** The latest write of a live experiment's open runs (RFC 3339). */
function lastWrite(l: LiveExperiment): string {
  return new Date(Math.max(...l.runs.map((r) => r.lastWrite))).toISOString();
}

/** A titled table before the checkpoints (nothing when it has no rows), then a blank line. */
function printSection(
  ctx: Parameters<Command['run']>[0],
  display: Display,
  title: string,
  header: string[],
  rows: string[][]
): void {
  if (rows.length === 0) return;
  ctx.print(title);
  // The experiment on the left, the counts right-aligned, the rest left.
  const align = header.map((h) => (h.endsWith('RUNS') ? 'right' : 'left') as 'left' | 'right');
  for (const line of formatTable(header, rows, { align, cut: ['middle'], width: display.width })) {
    ctx.print(line);
  }
  ctx.print('');
}

/** The experiments being recorded now, first. */
function printRecording(
  ctx: Parameters<Command['run']>[0],
  recording: readonly LiveExperiment[],
  display: Display
): void {
  printSection(
    ctx,
    display,
    'Recording now (runs open in live processes; "runledger ui" shows them as they go):',
    ['EXPERIMENT', 'OPEN RUNS', 'LAST WRITE (UTC)', 'PROCESS'],
    recording.map((l) => [
      l.reference,
      String(l.runs.length),
      formatUtc(lastWrite(l)),
      `${l.pid}@${l.host}`,
    ])
  );
}

/** The crash journals, before the checkpoint table. */
function printJournals(
  ctx: Parameters<Command['run']>[0],
  journals: readonly CrashJournal[],
  display: Display
): void {
  printSection(
    ctx,
    display,
    'Crash journals (processes that ended without committing; restore recovers them):',
    ['EXPERIMENT', 'CLOSED RUNS', 'OPEN RUNS', 'LAST WRITE (UTC)', 'PROCESS'],
    journals.map((j) => [
      j.requestedImageName,
      String(j.closedRuns),
      String(j.openRuns),
      formatUtc(j.lastWriteAt),
      `${j.pid}@${j.host}`,
    ])
  );
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
