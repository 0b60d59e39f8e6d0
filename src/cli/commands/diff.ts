/**
 * @module cli/commands/diff
 * `runledger diff`: what differs between two runs, or between two experiments, and nothing else.
 *
 * - `diff <ref> N M` — runs N and M of one experiment;
 * - `diff <refA>:N <refB>:M` — run N of one experiment and run M of another (the reference
 *   before `:N` has a tag or digest: `ghcr.io/acme/qap:v1:3`);
 * - `diff <refA> <refB>` — two experiments: their status, run count, annotations and attachments,
 *   then their runs paired by run id.
 *
 * A run is compared by the runs table's column names: `status`, `reason`, `parent_run_id`,
 * `resumed_from`, `description`, `labels`, `params.*`, `attributes.*`, `metrics.*` (the latest
 * value), `tags.*`, `solve_count`, `sampling_count` and `attachments.*` (by digest). Names and
 * times are not compared (they always differ); the names head the output.
 */
import { RunledgerError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import type { SealedExperiment, SealedRun } from '../../experiment/sealed.js';
import { canonicalJson } from '../../oci/canonical-json.js';
import { namesRepository } from '../../oci/reference.js';
import { paint, statusStyle } from '../color.js';
import {
  DISPLAY_OPTIONS,
  displayCell,
  displayOf,
  escapeText,
  formatTable,
  shortDigest,
} from '../format.js';
import { jsonValue } from '../run-table.js';
import { findRun, metricSummaries } from '../run-view.js';
import type { Command, CommandContext } from '../types.js';
import { resolveReference } from '../resolve.js';

/** A compared value: missing is undefined. */
type Value = string | number | bigint | boolean | undefined;

/** One difference: the run it is in (undefined: the experiment), the field, both values. */
interface Difference {
  readonly runId: number | undefined;
  readonly field: string;
  readonly a: Value;
  readonly b: Value;
}

export const diff: Command = {
  name: 'diff',
  usage: 'diff <ref> N M | <refA>:N <refB>:M | <refA> <refB> [--exit-code]',
  summary:
    'what differs between two runs (of one experiment or two) or two experiments (their runs paired by id): parameters, metrics, status, labels, tags, attributes, attachments',
  options: { 'exit-code': { type: 'boolean' }, ...DISPLAY_OPTIONS },
  arity: [2, 3],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const load = async (ref: string): Promise<SealedExperiment> =>
      Experiment.load(await resolveReference(registry, ref), { registry, pull: false });
    const [first, second, third] = ctx.positionals as [string, string, string | undefined];
    let differences: Difference[];
    let sides: [Side, Side];
    if (third !== undefined) {
      const sealed = await load(first);
      sides = [await runSide(sealed, second), await runSide(sealed, third)];
    } else {
      const a = runTarget(first);
      const b = runTarget(second);
      if ((a.run === undefined) !== (b.run === undefined)) {
        throw new RunledgerError(
          'USAGE',
          `Compare two runs (${a.run === undefined ? `${first}:N` : first} with ${b.run === undefined ? `${second}:M` : second}) or two experiments (without :N), not one with the other.`
        );
      }
      if (a.run !== undefined && b.run !== undefined) {
        sides = [await runSide(await load(a.ref), a.run), await runSide(await load(b.ref), b.run)];
      } else {
        sides = [await experimentSide(await load(a.ref)), await experimentSide(await load(b.ref))];
      }
    }
    const [a, b] = sides;
    differences = compare(undefined, a.fields, b.fields);
    const experiments = a.runs !== undefined && b.runs !== undefined;
    if (a.runs !== undefined && b.runs !== undefined) {
      const ids = [...new Set([...a.runs.keys(), ...b.runs.keys()])].sort((x, y) => x - y);
      for (const id of ids) {
        const ra = a.runs.get(id);
        const rb = b.runs.get(id);
        differences =
          ra === undefined || rb === undefined
            ? // A run on one side only: its status says so, nothing more.
              [...differences, { runId: id, field: 'status', a: ra?.status, b: rb?.status }]
            : [...differences, ...compare(id, await runFields(ra), await runFields(rb))];
      }
    }
    if (ctx.json) {
      ctx.printJson({
        a: a.json,
        b: b.json,
        differences: differences.map((d) => ({
          ...(experiments ? { run_id: d.runId ?? null } : {}),
          field: d.field,
          a: d.a === undefined ? null : jsonValue(d.a),
          b: d.b === undefined ? null : jsonValue(d.b),
        })),
      });
    } else printText(ctx, a, b, differences, experiments);
    return differences.length > 0 && ctx.values['exit-code'] === true ? 1 : 0;
  },
};

/** One side of a comparison: what it is, its fields, and (two experiments) its runs. */
interface Side {
  readonly legend: string;
  readonly json: Record<string, unknown>;
  readonly fields: ReadonlyMap<string, Value>;
  readonly runs?: ReadonlyMap<number, SealedRun>;
}

/** `<ref>:N` as a reference and run id, when the part before `:N` has a tag or a digest. */
function runTarget(text: string): { ref: string; run?: string } {
  const m = /^(.+):(\d+)$/.exec(text);
  if (m === null) return { ref: text };
  const [, ref, run] = m as unknown as [string, string, string];
  try {
    // ghcr.io/acme/qap:3 is the tag 3 of a project, not run 3 of its latest experiment.
    return namesRepository(ref) ? { ref: text } : { ref, run };
  } catch {
    return { ref: text };
  }
}

async function runSide(sealed: SealedExperiment, runText: string): Promise<Side> {
  const run = findRun(sealed, runText);
  const name = (await run.getInfo()).name;
  return {
    legend: `${sealed.reference}  run ${run.runId}${name === undefined ? '' : `  ${name}`}`,
    json: {
      reference: sealed.reference,
      run_id: run.runId,
      ...(name === undefined ? {} : { name }),
    },
    fields: await runFields(run),
  };
}

async function experimentSide(sealed: SealedExperiment): Promise<Side> {
  const fields = new Map<string, Value>([
    ['status', sealed.status],
    ['reason', sealed.reason],
    ['run_count', sealed.runs.length],
  ]);
  for (const [k, v] of Object.entries(sealed.annotations)) fields.set(`annotations.${k}`, v);
  for (const name of sealed.attachmentNames) {
    fields.set(`attachments.${name}`, shortDigest(sealed.attachmentDigest(name)));
  }
  return {
    legend: `${sealed.reference}  ${shortDigest(sealed.manifestDigest)}`,
    json: { reference: sealed.reference, digest: sealed.manifestDigest },
    fields,
    runs: new Map(sealed.runs.map((r) => [r.runId, r])),
  };
}

/** A run's fields, named as the runs table's columns (see the module comment). */
async function runFields(run: SealedRun): Promise<Map<string, Value>> {
  const info = await run.getInfo();
  const fields = new Map<string, Value>([
    ['status', run.status],
    ['reason', run.reason],
    ['parent_run_id', info.parentRunId],
    ['resumed_from', info.resumedFrom],
    ['description', info.description],
    ['labels', info.labels.length === 0 ? undefined : info.labels.join(', ')],
  ]);
  for (const [k, v] of Object.entries(run.parameters)) fields.set(`params.${k}`, v);
  for (const [k, v] of Object.entries(info.attributes)) {
    fields.set(
      `attributes.${k}`,
      v === null ? undefined : typeof v === 'object' ? canonicalJson(v) : v
    );
  }
  for (const m of await metricSummaries(run)) fields.set(`metrics.${m.name}`, m.last ?? undefined);
  for (const [k, v] of Object.entries(info.tags)) fields.set(`tags.${k}`, v);
  fields.set('solve_count', run.solves.length);
  fields.set('sampling_count', run.samplings.length);
  for (const name of run.attachmentNames) {
    fields.set(`attachments.${name}`, shortDigest(run.attachmentDigest(name)));
  }
  return fields;
}

/** Whether two values are the same: numbers by value (an int64 1 is a float 1; NaN is NaN). */
function same(a: Value, b: Value): boolean {
  const numeric = (v: Value): boolean => typeof v === 'number' || typeof v === 'bigint';
  if (numeric(a) && numeric(b)) return String(a) === String(b);
  return a === b;
}

/** The fields of either side whose values differ, in a's order then b's. */
function compare(
  runId: number | undefined,
  a: ReadonlyMap<string, Value>,
  b: ReadonlyMap<string, Value>
): Difference[] {
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  return fields.flatMap((field) =>
    same(a.get(field), b.get(field)) ? [] : [{ runId, field, a: a.get(field), b: b.get(field) }]
  );
}

/** What a missing value shows as. */
const NONE = '(none)';

function printText(
  ctx: CommandContext,
  a: Side,
  b: Side,
  differences: readonly Difference[],
  experiments: boolean
): void {
  const display = displayOf(ctx);
  ctx.print(`A  ${escapeText(a.legend)}`);
  ctx.print(`B  ${escapeText(b.legend)}`);
  ctx.print('');
  if (differences.length === 0) {
    ctx.print('No differences.');
    return;
  }
  const text = (v: Value): string => (v === undefined ? NONE : displayCell(v, display.raw));
  const header = [...(experiments ? ['RUN'] : []), 'FIELD', 'A', 'B'];
  const offset = experiments ? 1 : 0;
  const lines = formatTable(
    header,
    differences.map((d) => [
      ...(experiments ? [d.runId === undefined ? '' : String(d.runId)] : []),
      d.field,
      text(d.a),
      text(d.b),
    ]),
    {
      align: [...(experiments ? (['right'] as const) : []), 'left', 'left', 'left'],
      width: display.width,
      ...(display.color
        ? {
            paint: (cell: string, row: number, column: number): string => {
              const d = differences[row];
              if (d === undefined || column < offset + 1) return cell;
              const v = column === offset + 1 ? d.a : d.b;
              if (v === undefined) return paint(cell, 'dim');
              const style = d.field === 'status' ? statusStyle(v) : undefined;
              return style === undefined ? cell : paint(cell, style);
            },
          }
        : {}),
    }
  );
  for (const line of lines) ctx.print(line);
}
