/**
 * @module cli/commands/metrics
 * `runledger metrics <ref> [name] [--run N]`: the metric histories of an experiment's runs. As
 * text, one row per run and metric with its points, latest value, smallest and largest, and
 * the history itself: a sparkline on a terminal, the values (in step order) in a pipe. `--csv`
 * gives every point (`run_id,name,step,timestamp,value`), `--json` every series.
 */
import { RunledgerError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { DISPLAY_OPTIONS, displayCell, displayOf, formatTable } from '../format.js';
import { jsonValue, toCsv } from '../run-table.js';
import { findRun, metricSummaries, type MetricSummary } from '../run-view.js';
import { sparkline } from '../sparkline.js';
import type { Command } from '../types.js';
import { resolveReference } from '../resolve.js';

/** The widest sparkline: a history longer than this is drawn in as many equal shares. */
const SPARKLINE_WIDTH = 40;

export const metrics: Command = {
  name: 'metrics',
  usage: 'metrics <ref> [name] [--run N] [--csv | --json]',
  summary:
    'metric histories: per run and metric its points, latest, min and max, and a sparkline (the values in a pipe; every point with --csv or --json)',
  options: { run: { type: 'string' }, csv: { type: 'boolean' }, ...DISPLAY_OPTIONS },
  arity: [1, 2],
  async run(ctx) {
    const [ref, name] = ctx.positionals as [string, string | undefined];
    if (ctx.json && ctx.values['csv'] === true) {
      throw new RunledgerError('USAGE', 'Choose one of --csv and --json.');
    }
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(await resolveReference(registry, ref), {
      registry,
      pull: false,
    });
    const runText = ctx.values['run'];
    const runs = typeof runText === 'string' ? [findRun(sealed, runText)] : sealed.runs;
    const series: { runId: number; metric: MetricSummary }[] = [];
    for (const run of runs) {
      for (const metric of await metricSummaries(run, name === undefined ? undefined : [name])) {
        series.push({ runId: run.runId, metric });
      }
    }
    if (name !== undefined && series.length === 0) {
      const have = new Set<string>();
      for (const run of runs) for (const n of await run.metricNames()) have.add(n);
      throw new RunledgerError(
        'USAGE',
        `No metric ${JSON.stringify(name)} in ${typeof runText === 'string' ? `run ${runText} of ` : ''}${sealed.reference}; ${have.size === 0 ? 'it has none' : `it has ${[...have].join(', ')}`}.`,
        { data: { name } }
      );
    }
    if (ctx.json) {
      ctx.printJson(
        series.map(({ runId, metric: m }) => ({
          run_id: runId,
          name: m.name,
          steps: m.steps,
          timestamps: m.timestamps,
          values: m.values.map(jsonValue),
        }))
      );
      return 0;
    }
    if (ctx.values['csv'] === true) {
      ctx.io.stdout.write(
        toCsv({
          columns: ['run_id', 'name', 'step', 'timestamp', 'value'],
          rows: series.flatMap(({ runId, metric: m }) =>
            m.values.map((v, i) => [runId, m.name, m.steps[i], m.timestamps[i], v])
          ),
        })
      );
      return 0;
    }
    if (series.length === 0) {
      ctx.print(`No metrics in ${sealed.reference}.`);
      return 0;
    }
    const display = displayOf(ctx);
    const cell = (v: unknown): string => displayCell(v, display.raw);
    for (const line of formatTable(
      ['RUN', 'METRIC', 'POINTS', 'LAST', 'MIN', 'MAX', display.tty ? 'TREND' : 'VALUES'],
      series.map(({ runId, metric: m }) => [
        String(runId),
        m.name,
        String(m.values.length),
        cell(m.last),
        cell(m.min),
        cell(m.max),
        display.tty ? sparkline(m.values, SPARKLINE_WIDTH) : m.values.map(cell).join(' '),
      ]),
      { align: ['right', 'left', 'right', 'right', 'right', 'right', 'left'], width: display.width }
    )) {
      ctx.print(line);
    }
    return 0;
  },
};
