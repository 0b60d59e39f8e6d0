/**
 * @module cli/commands/get
 * `runledger get <ref> [--run N] <attachment> [-o PATH|-]`: an attachment's content.
 */
import { RunledgerError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { writeOutput } from '../output.js';
import type { Command } from '../types.js';

export const get: Command = {
  name: 'get',
  usage: 'get <ref> [--run N] <attachment> [-o PATH|-] [--force]',
  summary: 'write an attachment (of the experiment, or of run N) to stdout or a file',
  options: {
    run: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
  },
  arity: [2, 2],
  async run(ctx) {
    const [ref, name] = ctx.positionals as [string, string];
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(ref, { registry, pull: false });
    let scope: Pick<typeof sealed, 'writeAttachment' | 'attachmentMediaType'> = sealed;
    const runText = ctx.values['run'];
    if (typeof runText === 'string') {
      const id = /^\d+$/.test(runText) ? Number(runText) : NaN;
      const run = sealed.runs.find((r) => r.runId === id);
      if (run === undefined) {
        throw new RunledgerError(
          'USAGE',
          `Run ${JSON.stringify(runText)} is not in ${sealed.reference}; it has runs ${sealed.runs.map((r) => r.runId).join(', ') || 'none'}.`
        );
      }
      scope = run;
    }
    const mediaType = scope.attachmentMediaType(name); // ATTACHMENT_NOT_FOUND before any file
    const output = ctx.values['output'];
    const path = await writeOutput(
      ctx.io,
      typeof output === 'string' ? output : '-',
      (dir) => scope.writeAttachment(name, dir),
      { force: ctx.values['force'] === true, directory: true }
    );
    // With -, the content is the only thing on stdout.
    if (path === '-') return 0;
    if (ctx.json) ctx.printJson({ path, mediaType });
    else ctx.print(`Wrote ${path}`);
    return 0;
  },
};
