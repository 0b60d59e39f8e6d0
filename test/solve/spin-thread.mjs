// Worker functions for the worker-pool tests, as a third-party adapter would write them: plain
// JavaScript run in a thread of runledger's solve pool, shaped like SolverAdapter.solve
// (`(instance, options, context) → Solution`). They use only the Instance they are given (and
// runledger's built error class), so the same file serves the TypeScript tests and dist.
import { threadId } from 'node:worker_threads';
import { RunledgerError } from '../../dist/src/errors.js';

/** Busy for `options.ms` milliseconds of wall clock (never yielding), then x = 0 everywhere. */
export function spin(instance, options, context) {
  const start = Date.now();
  const end = start + (options.ms ?? 0);
  while (Date.now() < end) {
    // a solver that never yields its thread
  }
  context.diagnostics?.record({ kind: 'spin', threadId });
  const zero = new Map(instance.decisionVariables.map((v) => [v.id, 0]));
  return instance.evaluate(zero).with({
    annotations: { threadId: String(threadId), start: String(start), end: String(Date.now()) },
  });
}

/** Records a report, then throws a RunledgerError (or, with `plain`, a TypeError). */
export function fail(_instance, options, context) {
  context.diagnostics?.record({ kind: 'before-failure' });
  if (options.plain) throw new TypeError('plain failure');
  throw new RunledgerError('SOLVER_INFEASIBLE', 'The spin solver proved it infeasible.', {
    data: { why: 'test', nested: { at: [1, 2] } },
  });
}

/** Not a Solution. */
export function wrongOutput() {
  return 42;
}

/** Ends its thread. */
export function exit() {
  process.exit(3);
}

/** Every variable at 0 and at 1, as two samples. */
export function sample(instance) {
  const at = (x) => new Map(instance.decisionVariables.map((v) => [v.id, x]));
  return instance.evaluateSamples([at(0), at(1)]);
}

export const notAFunction = 1;
