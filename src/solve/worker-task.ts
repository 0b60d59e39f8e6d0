/**
 * @module solve/worker-task
 * The worker-thread side of the solve pool: loads the adapter's module (once per thread: the
 * module cache keeps it, and whatever it set up, such as a compiled WebAssembly runtime, for the
 * next call), rebuilds the Instance, calls the exported function, and answers with the output's
 * data or the error. One call at a time per thread.
 */
import type { MessagePort } from 'node:worker_threads';
import { RunledgerError } from '../errors.js';
import { Instance, toPlain } from '../ommx/instance.js';
import { SampleSet } from '../ommx/sample-set.js';
import { Solution } from '../ommx/solution.js';
import type { SolveContext } from './adapter.js';
import { serializeError, type AnswerMessage, type CallMessage } from './worker-messages.js';

type WorkerFunction = (
  instance: Instance,
  options: unknown,
  context: SolveContext
) => Solution | SampleSet | Promise<Solution | SampleSet>;

/**
 * Answers every call posted to `port` (the worker thread's `parentPort`).
 * @param port - where calls arrive and answers go
 * @example
 * ```ts
 * serveCalls(parentPort);
 * ```
 */
export function serveCalls(port: MessagePort): void {
  port.on('message', (message: CallMessage) => {
    const reports: unknown[] = [];
    void runCall(message, reports).then(
      (output) => post(port, { id: message.id, ok: true, output: toPlain(output), reports }),
      (error: unknown) =>
        post(port, { id: message.id, ok: false, error: serializeError(error), reports })
    );
  });
}

/** Posts an answer; diagnostics that cannot be copied are dropped (best effort, as OMMX). */
function post(port: MessagePort, answer: AnswerMessage): void {
  try {
    port.postMessage(answer);
  } catch (error) {
    if (answer.reports.length === 0) {
      port.postMessage({ id: answer.id, ok: false, error: serializeError(error), reports: [] });
    } else post(port, { ...answer, reports: [] });
  }
}

/**
 * Runs one call in this thread.
 * @param message - the call
 * @param reports - receives what the function records as diagnostics
 * @returns the Solution or SampleSet
 * @throws RunledgerError `ADAPTER_INVALID` (no such module or function, or a wrong output); what
 *   the function throws
 */
export async function runCall(
  message: CallMessage,
  reports: unknown[]
): Promise<Solution | SampleSet> {
  const fn = await loadFunction(message.module, message.export);
  const context: SolveContext = message.diagnostics
    ? { diagnostics: { record: (report) => void reports.push(report) } }
    : {};
  const output = await fn(new Instance(message.instance), message.options, context);
  const Expected = message.kind === 'solve' ? Solution : SampleSet;
  if (!(output instanceof Expected)) {
    throw new RunledgerError(
      'ADAPTER_INVALID',
      `The worker function ${message.export} of ${message.module} returned ${describe(output)}, not a ${Expected.name}.`,
      { data: { module: message.module, export: message.export } }
    );
  }
  return output;
}

async function loadFunction(module: string, name: string): Promise<WorkerFunction> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(module)) as Record<string, unknown>;
  } catch (cause) {
    throw new RunledgerError(
      'ADAPTER_INVALID',
      `The worker module ${module} could not be loaded in a worker thread.`,
      { data: { module, export: name }, cause }
    );
  }
  const fn = loaded[name];
  if (typeof fn !== 'function') {
    throw new RunledgerError(
      'ADAPTER_INVALID',
      `The worker module ${module} exports no function named ${JSON.stringify(name)}.`,
      { data: { module, export: name } }
    );
  }
  return fn as WorkerFunction;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'an object';
}
