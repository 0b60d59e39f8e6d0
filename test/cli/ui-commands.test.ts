/**
 * `runledger ui`, `runledger report` and `runledger demo --ml` on the command line: the server as
 * a real child process of the built CLI (prints its URL, answers with the token, refuses without,
 * ends on SIGINT and SIGTERM, a taken port named with a --port hint), the report to a file and
 * to stdout, and the ML demo study (24 runs, two diverged, curves and attachments) reported.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ML_DEMO_REFERENCE } from '../../src/cli/demo-ml.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { defaultPagePath } from '../../src/ui/page.js';
import { requireBuilt } from '../helpers/built.js';
import { CLI_BIN, startNode } from '../helpers/child.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';
import { decodeReport, PROJECT, recordSmallStudy } from '../ui/study.js';

async function cli(args: string[], cwd?: string) {
  const io = memoryIo({}, cwd);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const URL_LINE = /^runledger ui: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64}))$/;

describe('runledger ui (the built CLI, as a child process)', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`prints its URL, serves with the token only, and ends on ${signal} with ${code}`, async () => {
      requireBuilt();
      const root = await recordSmallStudy();
      const child = startNode([CLI_BIN, '--root', root, 'ui', PROJECT]);
      await child.waitFor(URL_LINE);
      const line = child.lines().find((l) => URL_LINE.test(l));
      const [, url, port, token] = URL_LINE.exec(line ?? '') ?? [];
      expect(url, child.lines().join('\n')).toBeDefined();
      expect(await status(url as string)).toBe(200);
      expect(await status(`http://127.0.0.1:${port}/api/study`)).toBe(403);
      expect(
        await status(`http://127.0.0.1:${port}/api/study`, { 'x-runledger-token': token as string })
      ).toBe(200);
      child.kill(signal);
      const exit = await child.exited;
      expect(exit.code).toBe(code);
      expect(exit.stderr).toBe('');
      // Nothing listens any more.
      await expect(status(url as string)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });
  }

  it('says so when the selection names no experiment yet, and serves an empty study', async () => {
    requireBuilt();
    const root = await recordSmallStudy();
    const child = startNode([CLI_BIN, '--root', root, 'ui', 'ghcr.io/acme/']);
    await child.waitFor(URL_LINE);
    const [, url, port, token] = URL_LINE.exec(child.lines()[0] ?? '') ?? [];
    expect(url).toBeDefined();
    const study = await new Promise<string>((resolve, reject) => {
      request(
        `http://127.0.0.1:${port}/api/study`,
        { headers: { 'x-runledger-token': token as string } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve(text));
        }
      )
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(study)).toMatchObject({ title: 'ghcr.io/acme/', experiments: [] });
    child.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    expect(exit.stderr).toBe(
      'runledger ui: no experiment matches ghcr.io/acme/ yet ("runledger ls" lists them); the page shows them once they record a run.\n'
    );
  });

  it('with --open and no browser opener on PATH, says so and keeps serving', async () => {
    requireBuilt();
    const root = await recordSmallStudy();
    const child = startNode([CLI_BIN, '--root', root, 'ui', PROJECT, '--open'], { PATH: '' });
    await child.waitFor(URL_LINE);
    const [, url] = URL_LINE.exec(child.lines()[0] ?? '') ?? [];
    // spawn reports a missing program on the next tick after the URL is printed: before the
    // server can answer this request. It answers all the same.
    expect(await status(url as string)).toBe(200);
    child.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    expect(exit.stderr).toBe(
      `runledger ui: could not open a browser (${opener} is not installed); open the URL above.\n`
    );
  });

  it('says a port in use is taken and hints at --port; a bad --port is a usage error', async () => {
    const root = await recordSmallStudy();
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await cli(['--root', root, 'ui', PROJECT, '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `runledger: IO_ERROR: Port ${port} on 127.0.0.1 is in use.\n` +
          'hint: Another program listens on that port: pick another with --port N, or leave --port out for a free one.\n'
      );
    } finally {
      taken.close();
    }
    const bad = await cli(['--root', root, 'ui', '--port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--port takes a port from 1 to 65535, not 70000.');
  });
});

const PAGE_BUILT = existsSync(defaultPagePath());
if (!PAGE_BUILT)
  console.log(`${defaultPagePath()} is not built: runledger report's CLI test is skipped`);

describe.skipIf(!PAGE_BUILT)('runledger report (the built page)', () => {
  it('writes the report to a file (--force to replace it) and to stdout with -o -', async () => {
    const root = await recordSmallStudy();
    const dir = await tempDir();
    const r = await cli(['--root', root, 'report', PROJECT, '-o', 'study.html'], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      new RegExp(
        `^runledger report: ${join(dir, 'study.html')} \\(\\d+(\\.\\d)? KiB\\): 2 experiments, 4 runs, 5 attachments inlined\\n$`
      )
    );
    const html = await readFile(join(dir, 'study.html'), 'utf8');
    expect(decodeReport(html).study.title).toBe(PROJECT);
    const again = await cli(['--root', root, 'report', PROJECT, '-o', 'study.html'], dir);
    expect(again.code).toBe(1);
    expect(again.err).toContain('FILE_EXISTS');
    expect(
      (await cli(['--root', root, 'report', PROJECT, '-o', 'study.html', '--force'], dir)).code
    ).toBe(0);
    const stdout = await cli(['--root', root, '--json', 'report', 'small:v2', '-o', '-'], dir);
    expect(stdout.code).toBe(0);
    expect(decodeReport(stdout.out).runs).toHaveLength(1);
    expect(JSON.parse(stdout.err)).toMatchObject({ path: '-', experiments: 1, runs: 1 });
    const none = await cli(['--root', root, 'report', PROJECT]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('report needs -o FILE');
  });
});

describe('runledger demo --ml', () => {
  it('records 24 training runs, two of them diverged, with curves and attachments, and reports them', async () => {
    const root = await tempDir();
    const r = await cli(['--root', root, '--init', 'demo', '--ml']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Recorded 24 runs as runledger\.local\/demo\/ml:grid-/);
    expect(r.out).toContain(`  runledger ui ${ML_DEMO_REFERENCE}`);
    const registry = await LocalRegistry.open(root);
    const sealed = await Experiment.load(ML_DEMO_REFERENCE, { registry, pull: false });
    expect(sealed.runs).toHaveLength(24);
    const failed = sealed.runs.filter((run) => run.status === 'failed');
    // lr 0.2 with batches of 16 and no weight decay explodes, at either width (int64s: bigints).
    expect(failed.map((run) => run.parameters)).toEqual([
      { lr: 0.2, batch_size: 16n, weight_decay: 0, hidden: 8n },
      { lr: 0.2, batch_size: 16n, weight_decay: 0, hidden: 32n },
    ]);
    for (const run of failed) {
      expect(run.reason).toMatch(
        /^DivergenceError: the training loss reached \S+ at step \d+: the run diverged$/
      );
      expect(run.attachmentNames).toEqual([]);
    }
    const done = sealed.runs[13];
    expect(done?.status).toBe('finished');
    expect(await done?.metricNames()).toEqual([
      'train/loss',
      'train/accuracy',
      'lr',
      'val/loss',
      'val/accuracy',
    ]);
    expect((await done?.getMetric('train/loss'))?.values.length).toBe(300);
    expect((await done?.getMetric('val/accuracy'))?.values.length).toBe(30);
    expect(done?.attachmentNames).toEqual(['confusion.npy', 'predictions.csv', 'summary.json']);
    const summary = (await done?.getJson('summary.json')) as {
      val_accuracy: number;
      confusion: number[][];
    };
    // The confusion matrix counts the 500 validation samples; its diagonal is the accuracy.
    const cells = summary.confusion.flat();
    expect(cells.reduce((a, b) => a + b, 0)).toBe(500);
    expect(summary.confusion.reduce((a, row, i) => a + (row[i] as number), 0) / 500).toBe(
      summary.val_accuracy
    );
    expect(summary.val_accuracy).toBeGreaterThan(0.8);
    const page = join(await tempDir(), 'index.html');
    await writeFile(
      page,
      '<html><head><title>runledger</title></head><body><script>1</script></body></html>'
    );
    const { reportHtml } = await import('../../src/ui/report.js');
    const { html, summary: facts } = await reportHtml(ML_DEMO_REFERENCE, { registry, page });
    const bundle = decodeReport(html);
    expect(bundle.metrics.filter((m) => m.name === 'train/loss')).toHaveLength(24);
    expect(bundle.runs.filter((run) => run.error?.type === 'DivergenceError')).toHaveLength(2);
    expect(facts.attachments).toBe(22 * 3);
    expect(facts.size).toBeLessThan(1024 * 1024);
  });
});
