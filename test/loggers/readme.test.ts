/**
 * The README's "Loggers and observers" snippets, copied here verbatim and run against the source
 * (the README's own test runs them against the build once they are merged): the composite, the
 * observer, and the third-party logger in under 30 lines.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/temp.js';

/** The package's entry, with the loggers (until src/index.ts exports them). */
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

/** Runs a snippet as a module importing 'runledger', and returns what it logged. */
async function runSnippet(code: string): Promise<string> {
  vi.stubEnv('RUNLEDGER_HOME', await tempDir());
  const file = join(await tempDir(), 'snippet.mjs');
  await writeFile(file, code.replace("from 'runledger'", `from ${JSON.stringify(ENTRY)}`));
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    out.push(`${args.map(String).join(' ')}\n`);
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return out.join('');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

const COMPOSITE = `import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompositeLogger, ConsoleLogger, Experiment, JsonlLogger } from 'runledger';

const events = join(mkdtempSync(join(tmpdir(), 'loggers-')), 'events.jsonl');
const exp = await Experiment.create('ghcr.io/acme/sweep:lr');
const jsonl = new JsonlLogger(events);
const logger = new CompositeLogger([exp, jsonl, new ConsoleLogger()]);
for (const lr of [0.1, 0.01]) {
  const run = await logger.startRun({ name: \`lr-\${lr}\`, config: { lr } });
  for (let epoch = 0; epoch < 3; epoch++) await run.logMetrics({ loss: lr / (epoch + 1) });
  await run.finish();
}
const sealed = await exp.commit();
await jsonl.close();
const lines = readFileSync(events, 'utf8').trim().split('\\n');
const metrics = lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'metrics');
console.log(sealed.runs.length, metrics.length);
`;

const OBSERVER = `import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Experiment, JsonlLogger } from 'runledger';

const path = join(mkdtempSync(join(tmpdir(), 'observed-')), 'events.jsonl');
const exp = await Experiment.create('ghcr.io/acme/cv:folds');
const log = new JsonlLogger(path);
const stop = exp.observe(log);
await exp.run(
  async (run) => {
    run.logParams({ seed: 7 });
    await run.child((fold) => fold.logMetric('loss', 0.25), { name: 'fold-1' });
  },
  { name: 'trial' }
);
await exp.commit();
stop();
await log.close();
const lines = readFileSync(path, 'utf8').trim().split('\\n');
for (const e of lines.map((l) => JSON.parse(l))) {
  if (e.event !== 'checkpoint') console.log(e.event, e.run_id ?? '-', e.parent_run_id ?? '-');
}
`;

const THIRD_PARTY = `import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompositeLogger, Experiment } from 'runledger';

// A logger of one's own: one CSV line per metric point. The protocol is startRun(options) → a run
// with name, logParams, logMetrics, logArtifact, setTags, finish(status) and Symbol.asyncDispose.
class CsvMetricsLogger {
  constructor(path) {
    this.path = path;
    appendFileSync(path, 'run,step,metric,value\\n');
  }
  startRun({ name = 'run' } = {}) {
    const path = this.path;
    let next = 0;
    let open = true;
    return {
      name,
      logParams() {},
      logMetrics(values, { step = next } = {}) {
        next = step + 1;
        for (const [k, v] of Object.entries(values))
          appendFileSync(path, \`\${name},\${step},\${k},\${v}\\n\`);
      },
      async logArtifact() {},
      setTags() {},
      async finish() {
        open = false;
      },
      async [Symbol.asyncDispose]() {
        if (open) await this.finish('failed');
      },
    };
  }
}

const csv = join(mkdtempSync(join(tmpdir(), 'csv-')), 'metrics.csv');
const exp = await Experiment.create('ghcr.io/acme/csv:v1');
const logger = new CompositeLogger([exp, new CsvMetricsLogger(csv)]); // or asLogger([exp, …])
const run = await logger.startRun({ name: 'trial', config: { seed: 1 } });
await run.logMetrics({ loss: 0.5 });
await run.logMetrics({ loss: 0.25 });
await run.finish();
await exp.commit();
console.log(readFileSync(csv, 'utf8').trimEnd());
`;

describe('README: loggers and observers', () => {
  it('the composite of runledger, a JSON Lines log and the console', async () => {
    expect(await runSnippet(COMPOSITE)).toBe('2 6\n');
  });

  it('the observer: real run ids, the child run under its parent', async () => {
    expect(await runSnippet(OBSERVER)).toBe(
      [
        'run_start 0 -',
        'params 0 -',
        'run_start 1 0',
        'metrics 1 -',
        'run_end 1 -',
        'run_end 0 -',
        'commit - -',
        '',
      ].join('\n')
    );
  });

  it('a third-party logger in under 30 lines', async () => {
    const lines = THIRD_PARTY.split('\n');
    const start = lines.findIndex((l) => l.startsWith('class CsvMetricsLogger'));
    const end = lines.findIndex((l, i) => i > start && l === '}');
    expect(end - start + 1).toBeLessThan(30);
    expect(await runSnippet(THIRD_PARTY)).toBe(
      'run,step,metric,value\ntrial,0,loss,0.5\ntrial,1,loss,0.25\n'
    );
  });
});
