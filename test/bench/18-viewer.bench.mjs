// Cases: the web viewer (issue 17) in headless Chromium (Debian's, through playwright-core),
// over reports (`runledger report`'s page with the data inlined, opened from file://) of
// synthetic studies made by test/ui/synthetic.ts (seeded, any size) and of the demo study.
//
// - runs table of 10,000 runs × 30 columns: first render (from the experiments view to the runs
//   view painted), sort (a header click) and filter (the filter box) — each until the next frame
//   has been painted; peer: a plain, non-virtualised <table> of the same rows in the same browser
//   (built, sorted by re-appending its rows, filtered by hiding them). Targets: 1 s, 100 ms.
// - metric curves of 50 runs × 2,000 points (100,000 points): the curves view redrawn from its
//   data (align, uPlot, paint); peer: the same points as one canvas path per run, a lineTo per
//   point (and, in the notes, as SVG polylines). Target 300 ms.
// - parallel coordinates of 10,000 runs × 8 axes: the chart redrawn (a new colour column);
//   peer: 10,000 SVG polylines of 8 points. Target 1 s.
// - report.html of the demo study and of a 1,000-run study: the file's size (peer: the same
//   data inlined as plain JSON, no compression; target < 5 MB for 1,000 runs) and the time to
//   first contentful paint opened from disk (peer: a static HTML <table> of the runs, what
//   pandas' to_html writes), with the time until the first view shows data in the notes.
//
// Each figure is the median of RUNLEDGER_BENCH_TRIALS trials (default 5), the sides taking
// turns; timings are read in the page with performance.now(), so the driver's round trips are
// not in them. The charts also leave `rl:<chart>:drawn` marks with their own drawing time.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { inlineBundle } from '../../dist/src/ui/report.js';
import { buildPage } from '../../scripts/build-web.mjs';
import { fmt, median, run } from './lib.mjs';

const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 5));

// ---- tools: syntheticBundle and launchBrowser from the TypeScript tests ----------------------

let toolsPromise;
/** test/ui/synthetic.ts and test/ui/browser.ts, bundled for Node by esbuild once per run. */
function tools(ctx) {
  toolsPromise ??= (async () => {
    const dir = join(ctx.scratch, '..', 'viewer-tools');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, 'tools.mjs');
    const playwright = import.meta.resolve('playwright-core');
    await build({
      stdin: {
        contents:
          "export { syntheticBundle } from './synthetic.ts';\nexport { CHROMIUM_PATH, hasChromium, launchBrowser } from './browser.ts';",
        resolveDir: join(ctx.repoRoot, 'test', 'ui'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      logLevel: 'silent',
      plugins: [
        {
          name: 'playwright-from-the-repo',
          setup(b) {
            b.onResolve({ filter: /^playwright-core$/ }, () => ({
              path: playwright,
              external: true,
            }));
          },
        },
      ],
    });
    return import(pathToFileURL(out).href);
  })();
  return toolsPromise;
}

let pagePromise;
/** The viewer's page as `npm run build` writes it (built from web/ by scripts/build-web.mjs). */
function page() {
  pagePromise ??= buildPage();
  return pagePromise;
}

/** A report of `bundle` written to `dir/name`; returns its path. */
async function writeReportFile(dir, name, bundle) {
  const path = join(dir, name);
  writeFileSync(path, inlineBundle(await page(), bundle));
  return path;
}

async function withBrowser(ctx, fn) {
  const { CHROMIUM_PATH, hasChromium, launchBrowser } = await tools(ctx);
  if (!hasChromium) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: apt-get install chromium, or set RUNLEDGER_CHROMIUM`
    );
  }
  const browser = await launchBrowser();
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** Opens a file in a fresh 1280×800 page and waits for the viewer to be ready. */
async function openReport(browser, path, hash = '#/experiments') {
  const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(pathToFileURL(path).href + hash);
  await p.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  if (errors.length > 0) throw new Error(`the page failed: ${errors.join('; ')}`);
  return p;
}

/** A blank page for a peer, same size. */
async function blankPage(browser) {
  const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await p.setContent(
    '<!doctype html><html><body style="margin:0;font:13px system-ui"></body></html>'
  );
  return p;
}

// In-page helpers, prepended to the code each page.evaluate runs (as text: no bundling).
const IN_PAGE = `
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const until = async (f) => { for (let i = 0; i < 10000 && !f(); i++) await new Promise((r) => setTimeout(r, 0)); if (!f()) throw new Error('timed out: ' + f); };
`;
const timed = (p, body) => p.evaluate(`(async () => { ${IN_PAGE} ${body} })()`);

// ---- the runs table ------------------------------------------------------------------------

function tableBundle(syntheticBundle) {
  // 7 columns of the run's own + 14 parameters + 8 metrics + 1 tag = 30 columns.
  return syntheticBundle({
    runs: 10_000,
    params: 14,
    metrics: 8,
    points: 0,
    seed: 18,
    details: false,
  });
}

/** The peer's data: the table's columns as plain arrays, for page.evaluate. */
function plainColumns(bundle) {
  return bundle.study.runs.columns.map((c) => ({ name: c.name, values: c.values }));
}

const PEER_TABLE = `
  const build = (cols) => {
    document.body.replaceChildren();
    const table = document.createElement('table');
    const head = table.createTHead().insertRow();
    for (const c of cols) { const th = document.createElement('th'); th.textContent = c.name; head.append(th); }
    const body = table.createTBody();
    const n = cols[0].values.length;
    for (let r = 0; r < n; r++) {
      const tr = body.insertRow();
      tr.dataset.r = r;
      for (const c of cols) tr.insertCell().textContent = c.values[r] === null ? '' : String(c.values[r]);
    }
    document.body.append(table);
    return table;
  };
`;

async function tableRender(ctx, browser, bundle, path) {
  const ours = [];
  const peer = [];
  const cols = plainColumns(bundle);
  for (let t = 0; t < TRIALS; t++) {
    const p = await openReport(browser, path);
    ours.push(
      await timed(
        p,
        `const t0 = performance.now(); location.hash = '#/runs';
         await until(() => document.querySelector('main')?.dataset.view === 'runs' && document.querySelector('[data-testid=row-count]')?.dataset.rows);
         await frame(); return performance.now() - t0;`
      )
    );
    const rows = await p.$eval('[data-testid=row-count]', (e) => e.dataset.rows);
    if (rows !== '10000') throw new Error(`the runs view shows ${rows} rows, not 10000`);
    await p.close();
    const q = await blankPage(browser);
    await q.evaluate((c) => (window.cols = c), cols);
    peer.push(
      await timed(
        q,
        `${PEER_TABLE} const t0 = performance.now(); build(window.cols); document.body.offsetHeight; await frame(); return performance.now() - t0;`
      )
    );
    await q.close();
  }
  ctx.log(
    `first render: ours ${ours.map(fmt).join(', ')} ms; <table> ${peer.map(fmt).join(', ')} ms`
  );
  return { ours: median(ours), peer: median(peer) };
}

async function tableSortFilter(ctx, browser, bundle, path) {
  const cols = plainColumns(bundle);
  const opt = bundle.study.runs.columns.find((c) => c.name === 'params.optimizer');
  const adam = opt.values.filter((v) => v === 'adam').length;
  const p = await openReport(browser, path, '#/runs');
  await p.waitForSelector('[data-testid=row-count][data-rows="10000"]');
  const sort = [];
  const filter = [];
  for (let t = 0; t < TRIALS; t++) {
    // Each click goes ascending → descending → unsorted: time every one.
    sort.push(
      await timed(
        p,
        `const h = () => document.querySelector('[role=columnheader][data-column="metrics.loss"]');
         const before = h().getAttribute('aria-sort');
         const t0 = performance.now(); h().click();
         await until(() => h() && h().getAttribute('aria-sort') !== before);
         await frame(); return performance.now() - t0;`
      )
    );
    const where = t % 2 === 0 ? "params.optimizer = 'adam'" : '';
    const want = t % 2 === 0 ? adam : 10_000;
    filter.push(
      await timed(
        p,
        `const f = document.getElementById('filter'); f.value = ${JSON.stringify(where)};
         const t0 = performance.now();
         f.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
         await until(() => document.querySelector('[data-testid=row-count]')?.dataset.rows === '${want}');
         await frame(); return performance.now() - t0;`
      )
    );
  }
  await p.close();
  const q = await blankPage(browser);
  await q.evaluate((c) => (window.cols = c), cols);
  await timed(q, `${PEER_TABLE} window.table = build(window.cols); await frame();`);
  const peerSort = [];
  const peerFilter = [];
  const loss = cols.findIndex((c) => c.name === 'metrics.loss');
  const optIndex = cols.findIndex((c) => c.name === 'params.optimizer');
  for (let t = 0; t < TRIALS; t++) {
    peerSort.push(
      await timed(
        q,
        `const col = window.cols[${loss}].values; const dir = ${t % 2 === 0 ? 1 : -1};
         const body = window.table.tBodies[0]; const t0 = performance.now();
         const rows = [...body.rows].sort((a, b) => ((col[a.dataset.r] ?? Infinity) - (col[b.dataset.r] ?? Infinity)) * dir);
         body.append(...rows); document.body.offsetHeight; await frame(); return performance.now() - t0;`
      )
    );
    peerFilter.push(
      await timed(
        q,
        `const col = window.cols[${optIndex}].values; const all = ${t % 2 === 1};
         const t0 = performance.now();
         for (const tr of window.table.tBodies[0].rows) tr.style.display = all || col[tr.dataset.r] === 'adam' ? '' : 'none';
         document.body.offsetHeight; await frame(); return performance.now() - t0;`
      )
    );
  }
  await q.close();
  ctx.log(`sort: ours ${sort.map(fmt).join(', ')} ms; <table> ${peerSort.map(fmt).join(', ')} ms`);
  ctx.log(
    `filter: ours ${filter.map(fmt).join(', ')} ms; <table> ${peerFilter.map(fmt).join(', ')} ms`
  );
  return {
    sort: median(sort),
    filter: median(filter),
    peerSort: median(peerSort),
    peerFilter: median(peerFilter),
    adam,
  };
}

// ---- charts --------------------------------------------------------------------------------

const PEER_CURVES_CANVAS = `
  const drawCanvas = (series, w, h) => {
    document.body.replaceChildren();
    const c = document.createElement('canvas'); c.width = w; c.height = h; document.body.append(c);
    const g = c.getContext('2d');
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) for (let i = 0; i < s.steps.length; i++) {
      x0 = Math.min(x0, s.steps[i]); x1 = Math.max(x1, s.steps[i]); y0 = Math.min(y0, s.values[i]); y1 = Math.max(y1, s.values[i]);
    }
    series.forEach((s, k) => {
      g.strokeStyle = 'hsl(' + (k * 37) % 360 + ' 60% 45%)'; g.beginPath();
      for (let i = 0; i < s.steps.length; i++) {
        const x = ((s.steps[i] - x0) / (x1 - x0)) * w, y = h - ((s.values[i] - y0) / (y1 - y0)) * h;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
    });
  };
  const drawSvg = (series, w, h) => {
    document.body.replaceChildren();
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) for (let i = 0; i < s.steps.length; i++) {
      x0 = Math.min(x0, s.steps[i]); x1 = Math.max(x1, s.steps[i]); y0 = Math.min(y0, s.values[i]); y1 = Math.max(y1, s.values[i]);
    }
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg'); svg.setAttribute('width', w); svg.setAttribute('height', h);
    series.forEach((s, k) => {
      const pl = document.createElementNS(ns, 'polyline');
      let pts = '';
      for (let i = 0; i < s.steps.length; i++) pts += ((s.steps[i] - x0) / (x1 - x0)) * w + ',' + (h - ((s.values[i] - y0) / (y1 - y0)) * h) + ' ';
      pl.setAttribute('points', pts); pl.setAttribute('fill', 'none'); pl.setAttribute('stroke', 'hsl(' + (k * 37) % 360 + ' 60% 45%)');
      svg.append(pl);
    });
    document.body.append(svg);
  };
`;

const PEER_PARALLEL_SVG = `
  const drawParallel = (axes, w, h) => {
    document.body.replaceChildren();
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg'); svg.setAttribute('width', w); svg.setAttribute('height', h);
    const pos = axes.map((a) => {
      const nums = a.values.every((v) => v === null || typeof v === 'number');
      if (nums) {
        let lo = Infinity, hi = -Infinity;
        for (const v of a.values) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        return a.values.map((v) => (v === null ? NaN : (v - lo) / (hi - lo || 1)));
      }
      const cats = [...new Set(a.values.map(String))].sort();
      return a.values.map((v) => (cats.indexOf(String(v)) + 0.5) / cats.length);
    });
    const n = axes[0].values.length;
    for (let r = 0; r < n; r++) {
      let pts = '';
      pos.forEach((p, i) => { if (!Number.isNaN(p[r])) pts += (48 + (i * (w - 96)) / (axes.length - 1)) + ',' + (40 + (1 - p[r]) * (h - 62)) + ' '; });
      const pl = document.createElementNS(ns, 'polyline');
      pl.setAttribute('points', pts); pl.setAttribute('fill', 'none');
      pl.setAttribute('stroke', 'hsl(' + Math.round(pos[pos.length - 1][r] * 240) + ' 60% 45%)'); pl.setAttribute('stroke-opacity', '0.35');
      svg.append(pl);
    }
    document.body.append(svg);
  };
`;

/** The size a chart host has in the viewer, for the peers to draw at the same size. */
async function chartSize(p) {
  return p.$eval('.chart-host', (e) => ({ w: e.clientWidth, h: Math.max(360, e.clientHeight) }));
}

async function curves(ctx, browser) {
  const { syntheticBundle } = await tools(ctx);
  const bundle = syntheticBundle({
    runs: 50,
    params: 4,
    metrics: 1,
    points: 2000,
    seed: 18,
    experiments: 1,
  });
  const path = await writeReportFile(ctx.scratch, 'curves.html', bundle);
  const p = await openReport(browser, path, '#/curves?metric=loss');
  await p.waitForSelector('.rl-curves[data-points="100000"]', { timeout: 60_000 });
  const size = await chartSize(p);
  const ours = [];
  const timeAxis = [];
  for (let t = 0; t < TRIALS; t++) {
    // The x axis select rebuilds the chart from its data: align, smooth, uPlot, paint.
    const change = (x) =>
      timed(
        p,
        `const s = document.querySelector('select[name=x]'); s.value = '${x}';
         performance.clearMarks('rl:curves:drawn'); const t0 = performance.now();
         s.dispatchEvent(new Event('change', { bubbles: true }));
         await until(() => performance.getEntriesByName('rl:curves:drawn').length > 0);
         await frame(); return performance.now() - t0;`
      );
    timeAxis.push(await change('time'));
    ours.push(await change('step'));
  }
  const points = await p.$eval('.rl-curves', (e) => e.dataset.points);
  const drawMs = await p.$eval('.rl-curves', (e) => Number(e.dataset.drawMs));
  await p.close();
  const series = bundle.metrics.map((m) => ({ steps: m.steps, values: m.values }));
  const q = await blankPage(browser);
  await q.evaluate((s) => (window.series = s), series);
  const canvas = [];
  const svg = [];
  for (let t = 0; t < TRIALS; t++) {
    canvas.push(
      await timed(
        q,
        `${PEER_CURVES_CANVAS} const t0 = performance.now(); drawCanvas(window.series, ${size.w}, ${size.h}); await frame(); return performance.now() - t0;`
      )
    );
    svg.push(
      await timed(
        q,
        `${PEER_CURVES_CANVAS} const t0 = performance.now(); drawSvg(window.series, ${size.w}, ${size.h}); document.body.offsetHeight; await frame(); return performance.now() - t0;`
      )
    );
  }
  await q.close();
  ctx.log(
    `curves: ours ${ours.map(fmt).join(', ')} ms (time axis ${timeAxis.map(fmt).join(', ')}); canvas ${canvas.map(fmt).join(', ')}; svg ${svg.map(fmt).join(', ')}`
  );
  return {
    ours: median(ours),
    timeAxis: median(timeAxis),
    canvas: median(canvas),
    svg: median(svg),
    points,
    drawMs,
    size,
  };
}

async function parallel(ctx, browser) {
  const { syntheticBundle } = await tools(ctx);
  // The parallel view's default axes: the first 6 parameters and 2 metrics.
  const bundle = syntheticBundle({
    runs: 10_000,
    params: 6,
    metrics: 2,
    points: 0,
    seed: 18,
    details: false,
  });
  const path = await writeReportFile(ctx.scratch, 'parallel.html', bundle);
  const p = await openReport(browser, path, '#/parallel');
  await p.waitForSelector('.rl-parallel[data-points="10000"]', { timeout: 60_000 });
  const axes = await p.$eval('.rl-parallel', (e) => e.dataset.axes.split(',').length);
  const firstDraw = await p.evaluate(
    () => performance.getEntriesByName('rl:parallel:drawn')[0].detail.ms
  );
  const size = await chartSize(p);
  const colors = ['metrics.accuracy', 'params.optimizer', 'metrics.loss'];
  const ours = [];
  for (let t = 0; t < TRIALS; t++) {
    ours.push(
      await timed(
        p,
        `const s = document.querySelector('select[name="colour"]'); s.value = '${colors[t % colors.length]}';
         performance.clearMarks('rl:parallel:drawn'); const t0 = performance.now();
         s.dispatchEvent(new Event('change', { bubbles: true }));
         await until(() => performance.getEntriesByName('rl:parallel:drawn').length > 0);
         await frame(); return performance.now() - t0;`
      )
    );
  }
  const drawMs = await p.$eval('.rl-parallel', (e) => Number(e.dataset.drawMs));
  await p.close();
  const names = bundle.study.runs.columns.filter((c) => c.kind === 'param').slice(0, 6);
  const metrics = bundle.study.runs.columns.filter((c) => c.kind === 'metric').slice(0, 2);
  const cols = [...names, ...metrics].map((c) => ({ name: c.name, values: c.values }));
  const q = await blankPage(browser);
  await q.evaluate((c) => (window.axes = c), cols);
  const peer = [];
  for (let t = 0; t < TRIALS; t++) {
    peer.push(
      await timed(
        q,
        `${PEER_PARALLEL_SVG} const t0 = performance.now(); drawParallel(window.axes, ${size.w}, ${size.h}); document.body.offsetHeight; await frame(); return performance.now() - t0;`
      )
    );
  }
  await q.close();
  ctx.log(
    `parallel: ours ${ours.map(fmt).join(', ')} ms (first draw ${fmt(firstDraw)} ms); svg ${peer.map(fmt).join(', ')} ms`
  );
  return { ours: median(ours), peer: median(peer), axes, drawMs, firstDraw, size };
}

// ---- reports -------------------------------------------------------------------------------

const reports = new Map();
/** The demo study's report, made once per run: `runledger demo`, then `runledger report`. */
async function demoReport(ctx) {
  if (!reports.has('demo')) {
    reports.set(
      'demo',
      (async () => {
        const bin = join(ctx.repoRoot, 'dist', 'src', 'cli', 'bin.js');
        const dir = join(ctx.scratch, '..', 'viewer-demo');
        mkdirSync(dir, { recursive: true });
        const root = join(dir, 'store');
        ctx.log('recording the demo study (runledger demo) …');
        await run(process.execPath, [bin, '--root', root, '--init', '--json', 'demo']);
        const out = join(dir, 'demo.html');
        await run(process.execPath, [bin, '--root', root, 'report', 'demo/lp-mip', '-o', out]);
        const html = readFileSync(out, 'utf8');
        const at = html.indexOf('id="runledger-data">') + 'id="runledger-data">'.length;
        const b64 = html.slice(at, html.indexOf('</script>', at));
        const { decodeBundle } = await import('../../dist/src/ui/report.js');
        const bundle = decodeBundle(b64);
        return { html, bundle };
      })()
    );
  }
  return reports.get('demo');
}

/** A 1,000-run study's report: 4 experiments, 8 parameters, 4 metrics of 100 points each. */
async function thousandReport(ctx) {
  if (!reports.has('1000')) {
    reports.set(
      '1000',
      (async () => {
        const { syntheticBundle } = await tools(ctx);
        const bundle = syntheticBundle({
          runs: 1000,
          params: 8,
          metrics: 4,
          points: 100,
          seed: 18,
          experiments: 4,
        });
        return { html: inlineBundle(await page(), bundle), bundle };
      })()
    );
  }
  return reports.get('1000');
}

/** What a naive exporter writes: the page with the same data as plain JSON, uncompressed. */
async function plainJsonReport(bundle) {
  const html = await page();
  const at = html.lastIndexOf('<script>');
  const json = JSON.stringify(bundle).replace(/<\//g, '<\\/');
  return `${html.slice(0, at)}<script type="application/json" id="plain-data">${json}</script>${html.slice(at)}`;
}

/** What pandas' DataFrame.to_html writes: a static table of every run and column. */
function staticTable(bundle) {
  const esc = (v) => String(v ?? '').replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const cols = bundle.study.runs.columns;
  const n = bundle.study.runs.runId.length;
  const rows = [];
  for (let r = 0; r < n; r++)
    rows.push(`<tr>${cols.map((c) => `<td>${esc(c.values[r])}</td>`).join('')}</tr>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>runs</title></head><body><table border="1"><thead><tr>${cols
    .map((c) => `<th>${esc(c.name)}</th>`)
    .join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></body></html>`;
}

/** First contentful paint (and, for the viewer, the first view with data) of a file, in ms. */
async function paintOf(browser, path, viewer) {
  const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await p.goto(pathToFileURL(path).href);
  if (viewer) await p.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await p.waitForFunction(`performance.getEntriesByName('first-contentful-paint').length > 0`);
  const out = await p.evaluate(`(async () => { ${IN_PAGE}
    const fcp = performance.getEntriesByName('first-contentful-paint')[0].startTime;
    const view = performance.getEntriesByType('mark').find((m) => m.name.startsWith('runledger:view:'));
    await frame();
    return { fcp, view: view === undefined ? null : view.startTime };
  })()`);
  await p.close();
  return out;
}

function sizeCase(label, get, targetBytes) {
  return {
    name: `viewer report: report.html of ${label}, file size`,
    unit: 'KB',
    higherIsBetter: false,
    async run(ctx) {
      const { html, bundle } = await get(ctx);
      const ours = Buffer.byteLength(html);
      const peer = Buffer.byteLength(await plainJsonReport(bundle));
      const runs = bundle.study.runs.runId.length;
      const points = bundle.metrics.reduce((n, m) => n + m.values.length, 0);
      return {
        ours: ours / 1000,
        peer: peer / 1000,
        peerName: 'the same page with the data as plain JSON',
        checks:
          targetBytes === undefined
            ? []
            : [
                {
                  label: `< ${targetBytes / 1e6} MB`,
                  value: `${fmt(ours / 1e6)} MB`,
                  pass: ours < targetBytes,
                },
              ],
        extra: {
          runs,
          'metric points': points,
          page: `${fmt(Buffer.byteLength(await page()) / 1000)} KB`,
        },
      };
    },
  };
}

function paintCase(label, get) {
  return {
    name: `viewer report: report.html of ${label}, first contentful paint from file://`,
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const { html, bundle } = await get(ctx);
      const ours = join(ctx.scratch, 'report.html');
      writeFileSync(ours, html);
      const peer = join(ctx.scratch, 'table.html');
      writeFileSync(peer, staticTable(bundle));
      const o = [];
      const v = [];
      const t = [];
      return withBrowser(ctx, async (browser) => {
        for (let i = 0; i < TRIALS; i++) {
          const r = await paintOf(browser, ours, true);
          o.push(r.fcp);
          v.push(r.view);
          t.push((await paintOf(browser, peer, false)).fcp);
        }
        ctx.log(
          `fcp: ours ${o.map(fmt).join(', ')} ms (view ${v.map(fmt).join(', ')}); table ${t.map(fmt).join(', ')} ms`
        );
        return {
          ours: median(o),
          peer: median(t),
          peerName: "a static HTML <table> of the runs (pandas' to_html)",
          extra: {
            'first view with data': `${fmt(median(v))} ms`,
            size: `${fmt(statSync(ours).size / 1000)} KB vs ${fmt(statSync(peer).size / 1000)} KB`,
          },
        };
      });
    },
  };
}

export const cases = [
  {
    name: 'viewer: runs table, 10,000 runs × 30 columns, first render (experiments → runs, painted)',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const { syntheticBundle } = await tools(ctx);
      const bundle = tableBundle(syntheticBundle);
      const path = await writeReportFile(ctx.scratch, 'table.html', bundle);
      return withBrowser(ctx, async (browser) => {
        const r = await tableRender(ctx, browser, bundle, path);
        return {
          ours: r.ours,
          peer: r.peer,
          peerName: 'a plain <table> of the same 10,000 × 30 (same browser)',
          checks: [{ label: 'target < 1000 ms', value: fmt(r.ours), pass: r.ours < 1000 }],
          extra: { columns: bundle.study.runs.columns.length },
        };
      });
    },
  },
  {
    name: 'viewer: runs table, 10,000 runs, sort (header click) and filter (the filter box)',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      const { syntheticBundle } = await tools(ctx);
      const bundle = tableBundle(syntheticBundle);
      const path = await writeReportFile(ctx.scratch, 'table.html', bundle);
      return withBrowser(ctx, async (browser) => {
        const r = await tableSortFilter(ctx, browser, bundle, path);
        const ours = Math.max(r.sort, r.filter);
        return {
          ours,
          peer: Math.max(r.peerSort, r.peerFilter),
          peerName: 'the same on a plain <table> (re-append sorted rows; hide rows)',
          checks: [
            { label: 'sort < 100 ms', value: fmt(r.sort), pass: r.sort < 100 },
            { label: 'filter < 100 ms', value: fmt(r.filter), pass: r.filter < 100 },
          ],
          extra: {
            'peer sort/filter': `${fmt(r.peerSort)}/${fmt(r.peerFilter)} ms`,
            filter: `params.optimizer = 'adam' → ${r.adam} rows`,
          },
        };
      });
    },
  },
  {
    name: 'viewer: metric curves, 50 runs × 2,000 points (uPlot), redrawn and painted',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      return withBrowser(ctx, async (browser) => {
        const r = await curves(ctx, browser);
        return {
          ours: r.ours,
          peer: r.canvas,
          peerName: 'the same points, one canvas lineTo per point',
          checks: [
            { label: 'target < 300 ms', value: fmt(r.ours), pass: r.ours < 300 },
            { label: 'points drawn = 100000', value: r.points, pass: r.points === '100000' },
          ],
          extra: {
            'svg polylines': `${fmt(r.svg)} ms`,
            'time axis': `${fmt(r.timeAxis)} ms`,
            'chart code': `${fmt(r.drawMs)} ms`,
            size: `${r.size.w}×${r.size.h}`,
          },
        };
      });
    },
  },
  {
    name: 'viewer: parallel coordinates, 10,000 runs × 8 axes (canvas), redrawn and painted',
    unit: 'ms',
    higherIsBetter: false,
    async run(ctx) {
      return withBrowser(ctx, async (browser) => {
        const r = await parallel(ctx, browser);
        return {
          ours: r.ours,
          peer: r.peer,
          peerName: '10,000 SVG polylines of 8 points',
          checks: [
            { label: 'target < 1000 ms', value: fmt(r.ours), pass: r.ours < 1000 },
            { label: 'axes = 8', value: String(r.axes), pass: r.axes === 8 },
          ],
          extra: {
            'chart code': `${fmt(r.drawMs)} ms`,
            'first draw': `${fmt(r.firstDraw)} ms`,
            size: `${r.size.w}×${r.size.h}`,
          },
        };
      });
    },
  },
  sizeCase('the demo study', demoReport),
  paintCase('the demo study', demoReport),
  sizeCase('a 1,000-run study (8 params, 4 metrics × 100 points)', thousandReport, 5e6),
  paintCase('a 1,000-run study', thousandReport),
];
