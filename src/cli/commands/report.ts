/**
 * @module cli/commands/report
 * `runledger report <ref | project | prefix/>… -o report.html`: the viewer as one self-contained
 * HTML file (`ui/report`), written to a file (`--force` to replace one) or to stdout (`-o -`);
 * what it holds, and the attachments left out, said on stderr.
 */
import { RunledgerError } from '../../errors.js';
import { reportHtml } from '../../ui/report.js';
import { formatBytes } from '../format.js';
import { writeOutput } from '../output.js';
import type { Command } from '../types.js';
import { resolveScope } from '../resolve.js';

export const report: Command = {
  name: 'report',
  usage: 'report <ref | project | prefix/>… -o FILE|- [--force]',
  summary:
    'the web viewer as one self-contained HTML file (data inlined, opens from disk without a server)',
  options: {
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
  },
  arity: [1, Infinity],
  async run(ctx) {
    const output = ctx.values['output'];
    if (typeof output !== 'string') {
      throw new RunledgerError('USAGE', 'report needs -o FILE (or -o - for standard output).');
    }
    const registry = await ctx.openRegistry();
    const refs = await resolveScope(registry, ctx.positionals);
    const { html, summary } = await reportHtml(refs, {
      registry,
      title: ctx.positionals.join(' '),
    });
    const path = await writeOutput(ctx.io, output, Buffer.from(html), {
      force: ctx.values['force'] === true,
    });
    const { omitted } = summary;
    const left = omitted.tooLarge + omitted.overTotal;
    if (ctx.json) {
      const facts = {
        path,
        size: summary.size,
        experiments: summary.experiments,
        runs: summary.runs,
        attachments: summary.attachments,
        attachments_too_large: omitted.tooLarge,
        attachments_over_total: omitted.overTotal,
      };
      // With the HTML on stdout, the facts go to stderr.
      if (path === '-') ctx.io.stderr.write(`${JSON.stringify(facts)}\n`);
      else ctx.printJson(facts);
      return 0;
    }
    const where = path === '-' ? 'standard output' : path;
    ctx.io.stderr.write(
      `runledger report: ${where} (${formatBytes(summary.size)}): ${summary.experiments} experiment${summary.experiments === 1 ? '' : 's'}, ${summary.runs} run${summary.runs === 1 ? '' : 's'}, ${summary.attachments} attachment${summary.attachments === 1 ? '' : 's'} inlined\n`
    );
    if (left > 0) {
      ctx.io.stderr.write(
        `runledger report: ${left} attachment${left === 1 ? '' : 's'} left out (${omitted.tooLarge} over 256 KiB each, ${omitted.overTotal} past 16 MiB in all); "runledger get" fetches them\n`
      );
    }
    return 0;
  },
};
