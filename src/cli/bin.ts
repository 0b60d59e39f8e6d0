#!/usr/bin/env node
/**
 * @module cli/bin
 * The `runledger` executable.
 */
import { RunledgerError } from '../errors.js';
import { main, reportError } from './main.js';
import type { CliIo } from './types.js';

const argv = process.argv.slice(2);
const io: CliIo = {
  // A getter: touching process.stdin opens it, so only commands that read it do.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
};

// Standard output failing is reported like any error, never as a stack trace: a full disk
// (ENOSPC) or a closed terminal is an error; a reader that stopped reading (`runledger runs … |
// head`, EPIPE) is not.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  const why = e.message.replace(/^[A-Z]+: /, '').replace(/, write$/, '');
  const error = new RunledgerError(
    'IO_ERROR',
    `Could not write to standard output: ${why}${e.code === undefined ? '' : ` (${e.code})`}.`,
    { data: { path: '<stdout>', errno: e.code }, cause: e }
  );
  process.exit(reportError(error, io, { json: argv.includes('--json') }));
});
// Nowhere left to say anything: stop quietly.
process.stderr.on('error', () => process.exit(1));

process.exitCode = await main(argv, io);
