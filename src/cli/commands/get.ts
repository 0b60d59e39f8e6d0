/**
 * @module cli/commands/get
 * `runledger get <ref> [--run N] <attachment> [-o PATH|-]`: an attachment's content. Content
 * that is not text is not written to a terminal without `-o` or `--force`.
 */
import { RunledgerError } from '../../errors.js';
import { Experiment } from '../../experiment/experiment.js';
import { writeOutput } from '../output.js';
import { findRun } from '../run-view.js';
import type { Command } from '../types.js';
import { resolveReference } from '../resolve.js';

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
    const sealed = await Experiment.load(await resolveReference(registry, ref), {
      registry,
      pull: false,
    });
    const runText = ctx.values['run'];
    const scope: Pick<
      typeof sealed,
      'writeAttachment' | 'attachmentMediaType' | 'attachmentSize' | 'getBlob'
    > = typeof runText === 'string' ? findRun(sealed, runText) : sealed;
    const mediaType = scope.attachmentMediaType(name); // ATTACHMENT_NOT_FOUND before any file
    const output = ctx.values['output'];
    if (output === undefined && ctx.values['force'] !== true && ctx.io.stdout.isTTY === true) {
      // What is not text would garble the terminal (or drive it: escape sequences).
      const printable =
        scope.attachmentSize(name) > SNIFF_LIMIT
          ? TEXT_MEDIA_TYPE.test(mediaType)
          : isPrintable(await scope.getBlob(name));
      if (!printable) {
        throw new RunledgerError(
          'USAGE',
          `Attachment ${JSON.stringify(name)} (${mediaType}) is not text, and standard output is a terminal; write it to a file with -o PATH, or pass --force to print it anyway.`,
          { data: { name, mediaType } }
        );
      }
    }
    const path = await writeOutput(
      ctx.io,
      typeof output === 'string' ? output : '-',
      (dir) => scope.writeAttachment(name, dir),
      { force: ctx.values['force'] === true, directory: true }
    );
    // With -, the content is the only thing on stdout.
    if (path === '-') return 0;
    if (ctx.json) ctx.printJson({ path, media_type: mediaType });
    else ctx.print(`Wrote ${path}`);
    return 0;
  },
};

/** Attachments up to this size are read to see whether they are text; larger ones go by media type. */
const SNIFF_LIMIT = 16 * 1024 * 1024;

/** Media types of text: text/*, JSON, XML, YAML, CSV (with their `+json`, `+xml` suffixes). */
const TEXT_MEDIA_TYPE =
  /^(text\/|application\/(json|xml|yaml|x-yaml|csv|toml|x-ndjson|jsonl)\b|application\/[^;]*\+(json|xml|yaml)\b)/i;

/** Bytes a terminal can show as they are: UTF-8 text without control characters but tab, CR, LF. */
function isPrintable(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  // C0 controls but \t \n \r, DEL and the C1 controls (ESC, CSI…) drive terminals.
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text);
}
