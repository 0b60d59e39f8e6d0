/**
 * @module cli/commands/show
 * `runledger show <ref>`: an experiment's identity, project, status, annotations, attachments and
 * runs (names, parents, tags, metric names, solves), then, for each run that has them, its
 * description, lineage (parent, resumed from), labels, attributes and trace summary (span names
 * and durations, from `SealedRun.traceSpans()`). `runledger show <ref> --run N`: one run in full
 * (see `cli/run-view`).
 */
import { Experiment } from '../../experiment/experiment.js';
import type { SealedRun } from '../../experiment/sealed.js';
import { canonicalJson, type JsonValue } from '../../oci/canonical-json.js';
import { projectOf } from '../../tables/runs.js';
import { paint, statusStyle } from '../color.js';
import {
  DISPLAY_OPTIONS,
  displayOf,
  escapeText,
  formatBytes,
  formatMilliseconds,
  formatTable,
} from '../format.js';
import { jsonValue, statusPainter } from '../run-table.js';
import { findRun, runJson, runLines } from '../run-view.js';
import type { Command } from '../types.js';
import { resolveReference } from '../resolve.js';

/** One span of a run's trace, as `show` prints it. */
export interface TraceSpanSummary {
  readonly name: string;
  readonly durationMs: number;
}

/**
 * A run's trace summary: its spans' names and durations, in the order they started.
 * @param run - the run
 * @returns the spans, or undefined when the run has no trace
 * @throws RunledgerError `PAYLOAD_INVALID`, `DIGEST_MISMATCH` from `SealedRun.traceSpans`
 */
async function traceSummary(run: SealedRun): Promise<readonly TraceSpanSummary[] | undefined> {
  const spans = await run.traceSpans();
  return spans.length === 0
    ? undefined
    : spans.map((s) => ({ name: s.name, durationMs: s.durationMs }));
}

/**
 * A trace summary in one line: each span name with its duration, in first-started order; a name
 * that repeats is said once with its count and total (`solve ×3 36.0 ms`).
 * @param spans - the spans
 * @returns the text
 * @example
 * ```ts
 * traceText([{ name: 'load', durationMs: 2 }, { name: 'solve', durationMs: 12 }]);
 * // 'load 2.0 ms, solve 12.0 ms'
 * ```
 */
export function traceText(spans: readonly TraceSpanSummary[]): string {
  const byName = new Map<string, { count: number; total: number }>();
  for (const s of spans) {
    const e = byName.get(s.name) ?? { count: 0, total: 0 };
    e.count++;
    e.total += s.durationMs;
    byName.set(s.name, e);
  }
  return [...byName]
    .map(
      ([name, e]) => `${name}${e.count === 1 ? '' : ` ×${e.count}`} ${formatMilliseconds(e.total)}`
    )
    .join(', ');
}

/**
 * The lines `show` prints for one run beyond the runs table — description (one or more lines),
 * lineage, labels, one line per attribute (its JSON value), trace — indented under a
 * `Run <id>  <name>` heading; no lines when the run has none of them (a parent alone is in the
 * table's PARENT column).
 * @param run - what the JSON summary says of the run
 * @returns the lines
 */
export function runDetailLines(run: {
  readonly runId: number;
  readonly name?: string;
  readonly description?: string;
  readonly parentRunId?: number;
  readonly resumedFrom?: number;
  readonly labels: readonly string[];
  readonly attributes: Readonly<Record<string, JsonValue>>;
  readonly trace?: readonly TraceSpanSummary[];
}): string[] {
  const fields: [string, string][] = [];
  if (run.description !== undefined) fields.push(['Description', run.description]);
  if (run.resumedFrom !== undefined) {
    const lineage = [`resumed from ${run.resumedFrom}`];
    if (run.parentRunId !== undefined) lineage.unshift(`parent ${run.parentRunId}`);
    fields.push(['Lineage', lineage.join(', ')]);
  }
  if (run.labels.length > 0) fields.push(['Labels', run.labels.join(', ')]);
  for (const [k, v] of Object.entries(run.attributes)) {
    fields.push(['Attribute', `${k}=${canonicalJson(v)}`]);
  }
  if (run.trace !== undefined && run.trace.length > 0) fields.push(['Trace', traceText(run.trace)]);
  if (fields.length === 0) return [];
  const width = Math.max(...fields.map(([label]) => label.length));
  const lines = [`Run ${run.runId}${run.name === undefined ? '' : `  ${run.name}`}`];
  for (const [label, value] of fields) {
    // A multi-line description keeps its lines, each under the first.
    const [first, ...rest] = value.split(/\r?\n/);
    lines.push(`  ${label.padEnd(width)}  ${first}`);
    for (const line of rest) lines.push(`  ${' '.repeat(width)}  ${line}`.trimEnd());
  }
  return lines;
}

export const show: Command = {
  name: 'show',
  usage: 'show <ref> [--run N]',
  summary:
    'describe an experiment: digest, project, status, annotations, attachments, runs (names, lineage, tags, labels, attributes, metrics); --run N: one run in full',
  options: { run: { type: 'string' }, ...DISPLAY_OPTIONS },
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(
      await resolveReference(registry, ctx.positionals[0] as string),
      { registry, pull: false }
    );
    const display = displayOf(ctx);
    const runText = ctx.values['run'];
    if (typeof runText === 'string') {
      const run = findRun(sealed, runText);
      if (ctx.json) ctx.printJson(await runJson(sealed, run));
      else for (const line of await runLines(sealed, run, display)) ctx.print(line);
      return 0;
    }
    const attachments = (scope: {
      attachmentNames: string[];
      attachmentMediaType(n: string): string;
      attachmentSize(n: string): number;
    }) =>
      scope.attachmentNames.map((name) => ({
        name,
        mediaType: scope.attachmentMediaType(name),
        size: scope.attachmentSize(name),
      }));
    const metricNames = await Promise.all(sealed.runs.map((r) => r.metricNames()));
    const infos = await Promise.all(sealed.runs.map((r) => r.getInfo()));
    const traces = await Promise.all(sealed.runs.map(traceSummary));
    const summary = {
      reference: sealed.reference,
      project: projectOf(sealed.reference),
      manifestDigest: sealed.manifestDigest,
      configDigest: sealed.configDigest,
      status: sealed.status,
      annotations: sealed.annotations,
      attachments: attachments(sealed),
      runs: sealed.runs.map((r, i) => ({
        runId: r.runId,
        // Absent for runs recorded without runledger (OMMX has no run records).
        ...(infos[i]?.name === undefined ? {} : { name: infos[i].name }),
        ...(infos[i]?.description === undefined ? {} : { description: infos[i].description }),
        ...(infos[i]?.parentRunId === undefined ? {} : { parentRunId: infos[i].parentRunId }),
        ...(infos[i]?.resumedFrom === undefined ? {} : { resumedFrom: infos[i].resumedFrom }),
        tags: infos[i]?.tags ?? {},
        labels: infos[i]?.labels ?? [],
        attributes: infos[i]?.attributes ?? {},
        status: r.status,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        parameters: r.parameters,
        attachments: attachments(r),
        solves: r.solves.map((c) => ({ id: c.id, status: c.status, adapter: c.adapter })),
        samplings: r.samplings.map((c) => ({ id: c.id, status: c.status, adapter: c.adapter })),
        metrics: metricNames[i] ?? [],
        ...(traces[i] === undefined ? {} : { trace: traces[i] }),
      })),
    };
    if (ctx.json) {
      ctx.printJson(summaryJson(summary));
      return 0;
    }
    const field = (label: string, value: string): void =>
      ctx.print(`${label.padEnd(10)}  ${escapeText(value)}`);
    field('Experiment', summary.reference);
    field('Project', summary.project);
    field('Digest', summary.manifestDigest);
    const style = display.color ? statusStyle(summary.status) : undefined;
    const status = `${summary.status}${sealed.reason === undefined ? '' : ` (${sealed.reason})`}`;
    ctx.print(
      `${'Status'.padEnd(10)}  ${style === undefined ? escapeText(status) : paint(escapeText(status), style)}`
    );
    for (const [k, v] of Object.entries(summary.annotations)) field('Annotation', `${k}=${v}`);
    const counts = new Map<string, number>();
    for (const r of summary.runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    field(
      'Runs',
      `${summary.runs.length}${summary.runs.length === 0 ? '' : ` (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`}`
    );
    if (summary.attachments.length > 0) {
      ctx.print('');
      for (const line of formatTable(
        ['ATTACHMENT', 'MEDIA TYPE', 'SIZE'],
        summary.attachments.map((a) => [a.name, a.mediaType, formatBytes(a.size)]),
        { align: ['left', 'left', 'right'], width: display.width }
      ))
        ctx.print(line);
    }
    if (summary.runs.length > 0) {
      ctx.print('');
      const calls = (list: readonly { status: string }[]): string => {
        if (list.length === 0) return '';
        const failed = list.filter((c) => c.status !== 'finished').length;
        return failed === 0 ? String(list.length) : `${list.length} (${failed} not finished)`;
      };
      const withCalls = summary.runs.some((r) => r.solves.length + r.samplings.length > 0);
      const withMetrics = summary.runs.some((r) => r.metrics.length > 0);
      const withParents = summary.runs.some((r) => r.parentRunId !== undefined);
      const withTags = summary.runs.some((r) => Object.keys(r.tags).length > 0);
      const rows = summary.runs.map((r) => [
        String(r.runId),
        r.name ?? '',
        ...(withParents ? [r.parentRunId === undefined ? '' : String(r.parentRunId)] : []),
        r.status,
        String(Object.keys(r.parameters).length),
        ...(withCalls ? [calls(r.solves), calls(r.samplings)] : []),
        ...(withMetrics ? [r.metrics.join(', ')] : []),
        ...(withTags
          ? [
              Object.entries(r.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', '),
            ]
          : []),
        r.attachments.map((a) => a.name).join(', '),
        r.reason ?? '',
      ]);
      const columns: [string, 'left' | 'right'][] = [
        ['RUN', 'right'],
        ['NAME', 'left'],
        ...(withParents ? [['PARENT', 'right'] as [string, 'right']] : []),
        ['STATUS', 'left'],
        ['PARAMS', 'right'],
        ...(withCalls
          ? [['SOLVES', 'right'] as [string, 'right'], ['SAMPLINGS', 'right'] as [string, 'right']]
          : []),
        ...(withMetrics ? [['METRICS', 'left'] as [string, 'left']] : []),
        ...(withTags ? [['TAGS', 'left'] as [string, 'left']] : []),
        ['ATTACHMENTS', 'left'],
        ['REASON', 'left'],
      ];
      const statusAt = columns.findIndex(([title]) => title === 'STATUS');
      for (const line of formatTable(
        columns.map(([title]) => title),
        rows,
        {
          align: columns.map(([, a]) => a),
          width: display.width,
          ...(display.color
            ? {
                paint: statusPainter(
                  statusAt,
                  summary.runs.map((r) => r.status)
                ),
              }
            : {}),
        }
      ))
        ctx.print(line);
      for (const run of summary.runs) {
        const lines = runDetailLines(run);
        if (lines.length > 0) ctx.print('');
        for (const line of lines) ctx.print(escapeText(line));
      }
    }
    return 0;
  },
};

/** The experiment summary as `show --json` gives it: snake_case keys, as the tables' columns. */
function summaryJson(summary: {
  readonly reference: string;
  readonly project: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly status: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly attachments: readonly { name: string; mediaType: string; size: number }[];
  readonly runs: readonly {
    readonly runId: number;
    readonly name?: string;
    readonly description?: string;
    readonly parentRunId?: number;
    readonly resumedFrom?: number;
    readonly tags: Readonly<Record<string, string>>;
    readonly labels: readonly string[];
    readonly attributes: Readonly<Record<string, JsonValue>>;
    readonly status: string;
    readonly reason?: string;
    readonly parameters: Readonly<Record<string, unknown>>;
    readonly attachments: readonly { name: string; mediaType: string; size: number }[];
    readonly solves: readonly { id: number; status: string; adapter: string }[];
    readonly samplings: readonly { id: number; status: string; adapter: string }[];
    readonly metrics: readonly string[];
    readonly trace?: readonly TraceSpanSummary[];
  }[];
}): Record<string, unknown> {
  const attachments = (list: readonly { name: string; mediaType: string; size: number }[]) =>
    list.map((a) => ({ name: a.name, media_type: a.mediaType, size: a.size }));
  const calls = (key: string, list: readonly { id: number; status: string; adapter: string }[]) =>
    list.map((c) => ({ [key]: c.id, status: c.status, adapter: c.adapter }));
  return {
    reference: summary.reference,
    project: summary.project,
    manifest_digest: summary.manifestDigest,
    config_digest: summary.configDigest,
    status: summary.status,
    annotations: summary.annotations,
    attachments: attachments(summary.attachments),
    runs: summary.runs.map((r) => ({
      run_id: r.runId,
      ...(r.name === undefined ? {} : { name: r.name }),
      ...(r.description === undefined ? {} : { description: r.description }),
      ...(r.parentRunId === undefined ? {} : { parent_run_id: r.parentRunId }),
      ...(r.resumedFrom === undefined ? {} : { resumed_from: r.resumedFrom }),
      tags: r.tags,
      labels: r.labels,
      attributes: r.attributes,
      status: r.status,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      parameters: Object.fromEntries(
        Object.entries(r.parameters).map(([k, v]) => [k, jsonValue(v)])
      ),
      attachments: attachments(r.attachments),
      solves: calls('solve_id', r.solves),
      samplings: calls('sampling_id', r.samplings),
      metrics: r.metrics,
      ...(r.trace === undefined
        ? {}
        : { trace: r.trace.map((s) => ({ name: s.name, duration_ms: s.durationMs })) }),
    })),
  };
}
