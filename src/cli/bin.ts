#!/usr/bin/env node
/**
 * @module cli/bin
 * The `runledger` executable.
 */
import { main } from './main.js';

// `runledger runs … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2), {
  // A getter: touching process.stdin opens it, so only commands that read it do.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
