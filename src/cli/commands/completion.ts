/**
 * @module cli/commands/completion
 * `runledger completion <bash|zsh|fish>`: the shell's completion script, on stdout.
 */
import { RunledgerError } from '../../errors.js';
import { completionScript, SHELLS } from '../completion.js';
import type { Command } from '../types.js';

export const completion: Command = {
  name: 'completion',
  usage: 'completion <bash|zsh|fish>',
  summary: 'print the shell completion script (commands, options and the references of the store)',
  arity: [1, 1],
  async run(ctx) {
    const shell = ctx.positionals[0] as string;
    const script = completionScript(shell);
    if (script === undefined) {
      throw new RunledgerError(
        'USAGE',
        `No completion for ${JSON.stringify(shell)}: the shells are ${SHELLS.join(', ')}.`,
        { data: { shell } }
      );
    }
    ctx.io.stdout.write(script);
    return 0;
  },
};
