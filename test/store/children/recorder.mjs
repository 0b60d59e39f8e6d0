// An experiment-recording process for the GC suites (test/store/gc.test.ts, stress.test.ts),
// running the built package. It prints one line per step *after* the step returned.
//
//   node recorder.mjs <dist index> <root> <mode> <name> [count]
//
// mode `stress`: `count` experiments `<name>-<i>`, each 3 runs logging parameters, a metric, a
//   text attachment shared by every writer (deduplicated blobs), a JSON attachment of its own and
//   every other run a file; an experiment attachment shared by all; autosave on every run close
//   for even experiments, disabled for odd ones. Prints "committed <ref> <digest>" per commit.
//   A RunledgerError prints "error <code> <message>" and exits 1; anything else exits 2.
// mode `gc-loop`: `registry.gc({ delete: true, gracePeriod: 0 })` back to back until the file
//   <name> exists; prints "gc <deleted>" per pass, and errors as `stress` does.
// mode `unsaved`: experiment <name> with autosave disabled: two closed runs with attachments,
//   then an open run with a parameter and an attachment; prints "ready" and waits to be killed.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, root, mode, name, countText] = process.argv.slice(2);
const { Experiment, LocalRegistry, AutosavePolicy, isRunledgerError } = await import(
  pathToFileURL(dist).href
);
const say = (line) => process.stdout.write(`${line}\n`);
const registry = await LocalRegistry.open(root, { lockTimeoutMs: 120_000 });

if (mode === 'stress') {
  const file = join(tmpdir(), `runledger-recorder-${process.pid}.bin`);
  await writeFile(file, randomBytes(40_000));
  say('ready');
  try {
    for (let i = 0; i < Number(countText); i++) {
      const exp = await Experiment.create(`${name}-${i}`, { registry, handleSignals: false });
      exp.setAutosavePolicy(
        i % 2 === 0 ? AutosavePolicy.everyRunClose() : AutosavePolicy.disabled()
      );
      for (let r = 0; r < 3; r++) {
        await exp.run(async (run) => {
          run.logParameter('i', i);
          run.logParameter('r', r);
          run.logMetric('loss', 1 / (r + 1));
          await run.logText('shared', `shared by every writer ${r}`);
          await run.logJson('own', { name, i, r, nonce: randomBytes(6).toString('hex') });
          if (r % 2 === 0) await run.logFile('data', file);
        });
      }
      await exp.logText('notes', 'the same notes in every experiment');
      const sealed = await exp.commit();
      say(`committed ${sealed.reference} ${sealed.manifestDigest}`);
    }
  } catch (e) {
    if (isRunledgerError(e)) {
      say(`error ${e.code} ${e.message}`);
      process.exit(1);
    }
    say(`untyped ${e?.stack ?? e}`);
    process.exit(2);
  }
} else if (mode === 'gc-loop') {
  const { existsSync } = await import('node:fs');
  say('ready');
  try {
    while (!existsSync(name)) {
      const r = await registry.gc({ delete: true, gracePeriod: 0 });
      say(`gc ${r.deleted.count}`);
    }
  } catch (e) {
    say(isRunledgerError(e) ? `error ${e.code} ${e.message}` : `untyped ${e?.stack ?? e}`);
    process.exit(isRunledgerError(e) ? 1 : 2);
  }
} else if (mode === 'unsaved') {
  const exp = await Experiment.create(name, { registry, handleSignals: false });
  exp.setAutosavePolicy(AutosavePolicy.disabled());
  for (let r = 0; r < 2; r++) {
    await exp.run(async (run) => {
      run.logParameter('r', r);
      await run.logJson('result', { r, nonce: randomBytes(6).toString('hex') });
    });
  }
  const open = exp.startRun({ name: 'open' });
  open.logParameter('r', 2);
  await open.logText('partial', `partial ${randomBytes(6).toString('hex')}`);
  // Parameters of an open run reach the journal within a timer flush: wait past it.
  await new Promise((r) => setTimeout(r, 300));
  say('ready');
  setInterval(() => undefined, 1000);
} else {
  throw new Error(`unknown mode ${mode}`);
}
