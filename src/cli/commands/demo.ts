/**
 * @module cli/commands/demo
 * `runledger demo`: record the demo study into the local registry and print its run table.
 */
import { ConsoleLogger } from '../../loggers/console.js';
import { formatTable } from '../format.js';
import { DEMO_REFERENCE, recordDemoStudy } from '../demo-study.js';
import { cellText, runRows, toJsonRows } from '../run-table.js';
import type { Command } from '../types.js';

export const demo: Command = {
  name: 'demo',
  usage: 'demo',
  summary:
    'record a demo optimization study (random LP/MIP solved by HiGHS, 32 runs) and print its runs',
  arity: [0, 0],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    // On a terminal, the sweep shows on stderr while it solves (`[sweep 12/32]`, a line per run).
    const screen =
      !ctx.json && ctx.io.stderr.isTTY === true
        ? new ConsoleLogger({ stream: ctx.io.stderr })
        : undefined;
    let sealed;
    try {
      sealed = await recordDemoStudy(registry, screen === undefined ? {} : { observer: screen });
    } finally {
      screen?.close();
    }
    const rows = runRows(sealed);
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
    ctx.print(`Also tagged ${DEMO_REFERENCE}. Next:`);
    ctx.print(`  runledger solves ${DEMO_REFERENCE}`);
    ctx.print(`  runledger show ${DEMO_REFERENCE}`);
    return 0;
  },
};
