/**
 * @module solve/worker-solve
 * How an adapter opts into the worker pool: its `solve` (or `sample`) hands the call to
 * {@link solveInWorker} (or {@link sampleInWorker}) with a {@link WorkerEntry} naming the module
 * and function that do the work in a worker thread. The instance goes there as its data and the
 * Solution (or SampleSet) comes back the same way, diagnostics reports are replayed into the
 * caller's sink, the function's errors are rethrown as the same kind of error, and the caller's
 * signal terminates the thread.
 */
import { toPlain, type Instance } from '../ommx/instance.js';
import { SampleSet } from '../ommx/sample-set.js';
import { Solution } from '../ommx/solution.js';
import type { SampleSetData, SolutionData } from '../ommx/types.js';
import type { SolveContext, WorkerEntry } from './adapter.js';
import { runnableModule } from '../store/threads.js';
import { solvePool } from './worker-pool.js';

/**
 * Solves `instance` in a thread of the solve pool: the thread runs `entry`'s function with a copy
 * of the instance, the options and a diagnostics sink when the caller passed one. The event loop
 * stays free meanwhile. The parameters are those of `SolverAdapter.solve` after the entry, so an
 * adapter's `solve` forwards its own.
 * @param entry - the module and exported function that solve in the thread
 * @param instance - the problem
 * @param options - the adapter options (structured-clonable data)
 * @param context - `signal` (terminates the thread: `ABORTED` at once), `diagnostics`
 * @returns the function's Solution
 * @throws RunledgerError `ABORTED` when the signal fires; `SOLVER_FAILED` when the thread dies;
 *   `ADAPTER_INVALID` when the module or function cannot be loaded or returns no Solution;
 *   whatever the function throws (a `RunledgerError` with its code and data)
 * @example
 * ```ts
 * const KnapsackAdapter: SolverAdapter<{ seed?: number }> = {
 *   name: 'acme.KnapsackAdapter',
 *   solve: (instance, options, context) =>
 *     solveInWorker(
 *       { module: new URL('./knapsack-thread.js', import.meta.url), export: 'solveKnapsack' },
 *       instance,
 *       options,
 *       context
 *     ),
 * };
 * ```
 */
export async function solveInWorker(
  entry: WorkerEntry,
  instance: Instance,
  options: object,
  context: SolveContext = {}
): Promise<Solution> {
  return new Solution(
    (await callInWorker('solve', entry, instance, options, context)) as SolutionData
  );
}

/**
 * Samples `instance` in a thread of the solve pool: as {@link solveInWorker}, for a function
 * shaped like `SamplerAdapter.sample`.
 * @param entry - the module and exported function that sample in the thread
 * @param instance - the problem
 * @param options - the adapter options (structured-clonable data)
 * @param context - `signal`, `diagnostics`
 * @returns the function's SampleSet
 * @throws as {@link solveInWorker}
 * @example
 * ```ts
 * const samples = await sampleInWorker(
 *   { module: new URL('./annealer-thread.js', import.meta.url), export: 'anneal' },
 *   instance,
 *   { sweeps: 1000 }
 * );
 * ```
 */
export async function sampleInWorker(
  entry: WorkerEntry,
  instance: Instance,
  options: object,
  context: SolveContext = {}
): Promise<SampleSet> {
  return new SampleSet(
    (await callInWorker('sample', entry, instance, options, context)) as SampleSetData
  );
}

async function callInWorker(
  kind: 'solve' | 'sample',
  entry: WorkerEntry,
  instance: Instance,
  options: object,
  context: SolveContext
): Promise<SolutionData | SampleSetData> {
  const answer = await solvePool().run({
    message: {
      kind,
      module: runnableModule(entry.module).href,
      export: entry.export,
      instance: toPlain(instance),
      options,
      diagnostics: context.diagnostics !== undefined,
    },
    signal: context.signal,
  });
  for (const report of answer.reports) {
    context.diagnostics?.record(report as Readonly<Record<string, unknown>>);
  }
  if (!answer.ok) throw answer.error;
  return answer.output;
}
