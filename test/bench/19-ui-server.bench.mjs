// Cases: `runledger ui`'s server (issue 17) over a study of 10,000 runs (100 experiments of one
// project × 100 runs × 20 parameters + 2 metrics of 20 points), built once under the scratch
// root; the store's derived caches are warmed first (one `runledger runs` over the project), as
// after any earlier look at the study.
//
// - first answer: `runledger ui <project>` started as a child process until its first
//   `/api/study` has arrived (start-up, reading the study, JSON) — against `runledger runs
//   <project> --json` spawned to exit (the same runs, as the CLI's JSON), in the same run.
//   Target: no slower than 1.5× the CLI's table.
// - a page load's study afterwards: `GET /api/study` (gzip) on the running server, median of 15
//   — against the same bytes from a bare node:http server (what serving it costs at the least,
//   measured in the same run). Target: < 100 ms.
//
// Sides take turns; best of 5 for the spawned commands.
import { request, createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AutosavePolicy, Experiment, LocalRegistry } from '../../dist/src/index.js';
import { fmt, median, run } from './lib.mjs';

const EXPERIMENTS = Number(process.env['RUNLEDGER_BENCH_UI_EXPERIMENTS'] ?? 100);
const RUNS = 100;
const PROJECT = 'bench.local/ui/study';

let built;
/** The study's store, built on first use. */
function store(ctx) {
  built ??= (async () => {
    const root = join(ctx.scratch, '..', 'ui-store');
    const registry = await LocalRegistry.open(root);
    const t0 = performance.now();
    for (let e = 0; e < EXPERIMENTS; e++) {
      const exp = await Experiment.create(`${PROJECT}:e${e}`, {
        registry,
        journal: false,
        handleSignals: false,
      });
      exp.setAutosavePolicy(AutosavePolicy.disabled());
      for (let r = 0; r < RUNS; r++) {
        const run = exp.startRun({ nested: false });
        const params = {};
        for (let p = 0; p < 20; p++) params[`p${p}`] = (e * 7 + r * 13 + p) % 100;
        run.logParams(params);
        for (let s = 0; s < 20; s++) {
          run.logMetric('loss', 1 / (r + s + 1 + e));
          run.logMetric('accuracy', s / 20);
        }
        await run.finish();
      }
      await exp.commit();
    }
    ctx.log(`built ${EXPERIMENTS} × ${RUNS} runs in ${fmt((performance.now() - t0) / 1000)} s`);
    const bin = join(ctx.repoRoot, 'dist', 'src', 'cli', 'bin.js');
    await run(process.execPath, [bin, '--root', root, 'runs', PROJECT, '--json']);
    return root;
  })();
  return built;
}

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          ms: performance.now() - t0,
          body: Buffer.concat(chunks),
          headers: res.headers,
        })
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** `runledger ui` from spawn to its first /api/study answer; the child is stopped after. */
async function uiFirstStudy(bin, root) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, '--root', root, 'ui', PROJECT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        const m = /runledger ui: (\S+)\n/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`runledger ui exited with ${code}`)));
    });
    const { token } = Object.fromEntries(new URL(url).searchParams);
    const answer = await get(new URL('/api/study', url), {
      'x-runledger-token': token,
      'accept-encoding': 'gzip',
    });
    if (answer.status !== 200) throw new Error(`/api/study answered ${answer.status}`);
    return { ms: performance.now() - t0, url, token };
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('close', resolve));
  }
}

export const cases = [
  {
    name: `ui server: runledger ui over ${EXPERIMENTS * RUNS} runs, spawn to the first /api/study answer (best of 5)`,
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const root = await store(ctx);
      const bin = join(ctx.repoRoot, 'dist', 'src', 'cli', 'bin.js');
      const ours = [];
      const peer = [];
      for (let t = 0; t < 5; t++) {
        ours.push((await uiFirstStudy(bin, root)).ms);
        peer.push(
          (await run(process.execPath, [bin, '--root', root, 'runs', PROJECT, '--json'])).seconds *
            1000
        );
      }
      const best = (xs) => Math.min(...xs);
      return {
        ours: best(ours),
        peer: best(peer),
        peerName: '`runledger runs <project> --json` (same runs, same run)',
        checks: [
          {
            label: 'no slower than 1.5× runs --json',
            value: fmt(best(ours) / best(peer)),
            pass: best(ours) <= 1.5 * best(peer),
          },
        ],
        extra: { 'medians (ui/runs)': `${fmt(median(ours))}/${fmt(median(peer))} ms` },
      };
    },
  },
  {
    name: `ui server: GET /api/study of ${EXPERIMENTS * RUNS} runs on a running server, gzip (median of 15)`,
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const root = await store(ctx);
      const { serveUi } = await import('../../dist/src/index.js');
      const ui = await serveUi({ registry: await LocalRegistry.open(root), experiments: PROJECT });
      const headers = { 'x-runledger-token': ui.token, 'accept-encoding': 'gzip' };
      const first = await get(new URL('/api/study', ui.url), headers);
      // The floor: the same gzip bytes from a server that does nothing else.
      const bare = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(first.body);
      });
      await new Promise((resolve) => bare.listen(0, '127.0.0.1', resolve));
      const bareUrl = `http://127.0.0.1:${bare.address().port}/`;
      const ours = [];
      const peer = [];
      try {
        for (let t = 0; t < 15; t++) {
          ours.push((await get(new URL('/api/study', ui.url), headers)).ms);
          peer.push((await get(bareUrl)).ms);
        }
      } finally {
        await ui.close();
        bare.close();
      }
      const ms = median(ours);
      return {
        ours: ms,
        peer: median(peer),
        peerName: 'the same bytes from a bare node:http server (same run)',
        checks: [{ label: 'a page load’s study < 100 ms', value: fmt(ms), pass: ms < 100 }],
        extra: {
          'gzip bytes': first.body.length,
          'first answer after start': `${fmt(first.ms)} ms`,
        },
      };
    },
  },
];
