/**
 * @module cli/commands/demo
 * `runledger demo [--ml]`: record the demo study (or, with `--ml`, the metrics-heavy one) into
 * the local registry and print its run table.
 */
import { ConsoleLogger } from '../../loggers/console.js';
import { formatTable } from '../format.js';
import { selectColumns } from '../../tables/arrow.js';
import { DEMO_REFERENCE, recordDemoStudy } from '../demo-study.js';
import { ML_DEMO_REFERENCE, recordMlDemoStudy } from '../demo-ml.js';
import { arrowRows, cellText, runRows, toJsonRows } from '../run-table.js';
import type { Command } from '../types.js';

export const demo: Command = {
  name: 'demo',
  usage: 'demo [--ml]',
  summary:
    'record a demo optimization study (random LP/MIP solved by HiGHS, 32 runs) and print its runs; --ml: a training study (24 runs of metric curves)',
  options: { ml: { type: 'boolean' } },
  arity: [0, 0],
  async run(ctx) {
    const ml = ctx.values['ml'];
    const registry = await ctx.openRegistry();
    // On a terminal, the sweep shows on stderr while it solves (`[sweep 12/32]`, a line per run).
    const screen =
      !ctx.json && ctx.io.stderr.isTTY === true
        ? new ConsoleLogger({ stream: ctx.io.stderr })
        : undefined;
    let sealed;
    try {
      const options = screen === undefined ? {} : { observer: screen };
      sealed =
        ml === true
          ? await recordMlDemoStudy(registry, options)
          : await recordDemoStudy(registry, options);
    } finally {
      screen?.close();
    }
    // The ML study's parameters are its grid: its table adds how each run ended.
    const rows =
      ml === true
        ? arrowRows(
            selectColumns(
              await sealed.runsDf(),
              [
                'run_id',
                'status',
                'params.lr',
                'params.batch_size',
                'params.weight_decay',
                'params.hidden',
                'metrics.val/loss',
                'metrics.val/accuracy',
              ],
              (n) => n.replace(/^params\./, '')
            )
          )
        : runRows(sealed);
    const latest = ml === true ? ML_DEMO_REFERENCE : DEMO_REFERENCE;
    if (ctx.json) {
      ctx.printJson({
        reference: sealed.reference,
        manifest_digest: sealed.manifestDigest,
        root: registry.root,
        runs: toJsonRows(rows),
      });
      return 0;
    }
    ctx.print(`Recorded ${sealed.runs.length} runs as ${sealed.reference}`);
    ctx.print(`  digest ${sealed.manifestDigest}`);
    ctx.print(`  store  ${registry.root}`);
    ctx.print('');
    const shown = rows.rows.map((r) =>
      r.map((c) => (typeof c === 'number' && !Number.isInteger(c) ? c.toFixed(4) : cellText(c)))
    );
    for (const line of formatTable(rows.columns, shown)) ctx.print(line);
    ctx.print('');
    ctx.print(`Also tagged ${latest}. Next:`);
    if (ml === true) ctx.print(`  runledger metrics ${latest}`);
    else ctx.print(`  runledger solves ${latest}`);
    ctx.print(`  runledger show ${latest}`);
    ctx.print(`  runledger ui ${latest}`);
    return 0;
  },
};
