/**
 * @module experiment/signals
 * SIGINT / SIGTERM while runs are open: every open run of every experiment that handles signals
 * is closed as `interrupted`, an `interrupted` checkpoint is written, then the process ends with
 * the conventional code (130 / 143). The listeners exist only while such runs are open — and
 * for one turn of the event loop after the last one closed — so an idle process keeps Node's
 * default behaviour. A second signal during the shutdown ends the process at once.
 */

/** What the handler needs of an experiment. @internal */
export interface Interruptible {
  /** Closes the open runs as interrupted and writes an interrupted checkpoint. */
  interruptAll(signal: NodeJS.Signals): Promise<void>;
}

const EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

const watched = new Set<Interruptible>();
let shuttingDown = false;

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal] ?? 1;
  // No run open (the last one closed since libuv caught the signal): the default action's exit.
  if (shuttingDown || watched.size === 0) process.exit(code);
  shuttingDown = true;
  const all = [...watched];
  void Promise.allSettled(all.map((e) => e.interruptAll(signal))).then((results) => {
    for (const r of results) {
      if (r.status === 'rejected') {
        process.stderr.write(
          `runledger: could not checkpoint on ${signal}: ${(r.reason as Error)?.message ?? String(r.reason)}\n`
        );
      }
    }
    process.exit(code);
  });
}

function sync(): void {
  const want = watched.size > 0;
  for (const s of SIGNALS) {
    const has = process.listeners(s).includes(onSignal);
    if (want && !has) process.on(s, onSignal);
    if (!want && has) process.off(s, onSignal);
  }
}

/** The experiment has open runs: handle signals for it. @internal */
export function watchSignals(e: Interruptible): void {
  if (watched.has(e)) return;
  watched.add(e);
  sync();
}

/** A removal of the listeners waits for a poll phase (see {@link unwatchSignals}). */
let removal: NodeJS.Immediate | undefined;

/**
 * The experiment has no open runs any more. The listeners go only after the event loop went
 * through a poll phase with none open: Node drops a signal libuv caught for a listener removed
 * before the loop dispatched it, so one sent right as the last run closed would be lost, and
 * the process would go on deaf to it (a loop of fast runs closes one every few hundred µs).
 * @internal
 */
export function unwatchSignals(e: Interruptible): void {
  if (!watched.delete(e) || watched.size > 0 || removal !== undefined) return;
  // Two check phases later: a first setImmediate made during a poll phase runs right after it.
  removal = setImmediate(() => {
    removal = setImmediate(() => {
      removal = undefined;
      sync();
    });
    removal.unref();
  });
  removal.unref();
}
