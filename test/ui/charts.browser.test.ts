// The viewer's charts (web/charts/) in headless Chromium, bundled by esbuild into a small
// harness page of their own (no server, no store): brushing parallel coordinates with the mouse
// gives the hand-computed rows, clicks pick rows, highlighted rows are painted on top in the
// accent colour, the scatter plot and the curves draw the points they are given. Screenshots
// of each chart go to the screenshot folder (see test/ui/browser.ts).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, screenshotPath } from './browser.js';

const CHARTS = fileURLToPath(new URL('../../web/charts/', import.meta.url));

/** The three charts and their handles, reachable from page.evaluate as `window.rl`. */
const HARNESS = `
import { createParallel } from './parallel.ts';
import { createScatter } from './scatter.ts';
import { createCurves } from './curves.ts';
window.rl = { createParallel, createScatter, createCurves, handles: {}, events: [] };
`;

async function harnessHtml(): Promise<string> {
  const out = await build({
    stdin: { contents: HARNESS, resolveDir: CHARTS, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    outdir: '/harness',
    logLevel: 'silent',
  });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  return `<!doctype html><html><head><meta charset="utf-8"><style>
:root { --fg: #111; --bg: #fff; --muted: #666; --accent: rgb(255, 0, 0); --failed: #b00;
  --interrupted: #a60; --grid: #ddd; --c0: #1f77b4; --c1: #ff7f0e; --c2: #2ca02c; }
body { margin: 0; font: 12px system-ui, sans-serif; background: var(--bg); color: var(--fg); }
#chart { width: 800px; height: 420px; }
${css}</style></head><body><div id="chart"></div><script>${js}</script></body></html>`;
}

describe.skipIf(!hasChromium)('charts in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let html: string;

  beforeAll(async () => {
    html = await harnessHtml();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function open(): Promise<Page> {
    await page?.close();
    page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent(html);
    expect(errors).toEqual([]);
    return page;
  }

  /** The chart root's data attributes once the chart has drawn. */
  async function attrs(p: Page, selector: string): Promise<Record<string, string>> {
    // The test programs see no DOM types: code run in the page is given as text.
    await p.waitForFunction(`document.querySelector('${selector}')?.hasAttribute('data-points')`);
    // Two frames: a redraw scheduled by the last event has run.
    await p.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    return p.evaluate(`({ ...document.querySelector('${selector}').dataset })`);
  }

  /** Calls a chart handle's update with options written as JavaScript. */
  async function update(p: Page, chart: string, options: string): Promise<void> {
    await p.evaluate(`window.rl.handles.${chart}.update(${options})`);
  }

  describe('parallel coordinates', () => {
    // 100 rows: a = r (0…99), b = r mod 10, c = 'x' or 'y' by parity, d = r < 50.
    async function parallel(p: Page, extra = ''): Promise<void> {
      await p.evaluate(`(() => {
        const rows = 100;
        const col = (f) => Array.from({ length: rows }, (_, r) => f(r));
        const axes = [
          { name: 'a', values: col((r) => r) },
          { name: 'b', values: col((r) => r % 10) },
          { name: 'c', values: col((r) => (r % 2 ? 'y' : 'x')) },
          { name: 'd', values: col((r) => r < 50) },
        ];
        window.rl.handles.parallel = window.rl.createParallel(document.getElementById('chart'), {
          axes, rows, visible: new Uint8Array(rows).fill(1), highlighted: new Set(),
          colorBy: axes[1],
          onBrush: (m) => window.rl.events.push(m === null ? null : m.reduce((s, v) => s + v, 0)),
          onPick: (r) => window.rl.events.push('pick ' + r),
          label: (r) => 'run ' + r,
          ${extra}
        });
      })()`);
    }

    /** Canvas-page coordinates of position t on axis i. */
    async function at(p: Page, i: number, t: number): Promise<{ x: number; y: number }> {
      const d = await attrs(p, '.rl-parallel');
      const box = (await p.locator('.rl-parallel canvas').boundingBox())!;
      const xs = d['axes']!.split(',').map(Number);
      const [top, height] = d['plot']!.split(',').map(Number) as [number, number];
      return { x: box.x + xs[i]!, y: box.y + top + (1 - t) * height };
    }

    async function drag(p: Page, i: number, from: number, to: number): Promise<void> {
      const a = await at(p, i, from);
      const b = await at(p, i, to);
      await p.mouse.move(a.x, a.y);
      await p.mouse.down();
      await p.mouse.move(b.x, (a.y + b.y) / 2, { steps: 3 });
      await p.mouse.move(b.x, b.y, { steps: 3 });
      await p.mouse.up();
    }

    const events = (p: Page): Promise<unknown[]> => p.evaluate('window.rl.events');

    it('brushes with the mouse: ranges on several axes combine with AND; a click or Escape clears', async () => {
      const p = await open();
      await parallel(p);
      expect(await attrs(p, '.rl-parallel')).toMatchObject({ points: '100', rowsVisible: '100' });
      // Axis a runs 0…99: a range from 25.5 to 74.5 holds rows 26…74, 49 of them.
      await drag(p, 0, 74.5 / 99, 25.5 / 99);
      expect(await events(p)).toEqual([49]);
      expect(await attrs(p, '.rl-parallel')).toMatchObject({ points: '100', rowsVisible: '49' });
      // Axis b runs 0…9: from below its bottom (clamped to 0) to 4.5 holds b = 0…4; of rows
      // 26…74 that is 30–34, 40–44, 50–54, 60–64, 70–74: 25 rows.
      const bottom = await at(p, 1, 0);
      const half = await at(p, 1, 0.5);
      await p.mouse.move(bottom.x, bottom.y + 5);
      await p.mouse.down();
      await p.mouse.move(half.x, half.y, { steps: 4 });
      await p.mouse.up();
      expect((await events(p)).at(-1)).toBe(25);
      expect((await attrs(p, '.rl-parallel'))['rowsVisible']).toBe('25');
      await p.screenshot({ path: screenshotPath('chart-parallel-brushed') });
      // A click inside axis a's brush clears it: b = 0…4 of all rows, 50.
      const inside = await at(p, 0, 0.5);
      await p.mouse.click(inside.x, inside.y);
      expect((await events(p)).at(-1)).toBe(50);
      // Escape, with the chart focused, clears the rest.
      await p.focus('.rl-parallel');
      await p.keyboard.press('Escape');
      expect((await events(p)).at(-1)).toBeNull();
      expect((await attrs(p, '.rl-parallel'))['rowsVisible']).toBe('100');
    });

    it('drops its brushes when the page clears the brush, or the axes change', async () => {
      const p = await open();
      await parallel(p);
      await drag(p, 0, 74.5 / 99, 25.5 / 99);
      expect((await attrs(p, '.rl-parallel'))['rowsVisible']).toBe('49');
      await update(p, 'parallel', `{ brush: null }`);
      // The page cleared it: no call back, every row in colour again.
      expect((await attrs(p, '.rl-parallel'))['rowsVisible']).toBe('100');
      expect(await events(p)).toEqual([49]);
      await drag(p, 0, 74.5 / 99, 25.5 / 99);
      await update(p, 'parallel', `{ axes: [{ name: 'only', values: [1, 2, 3] }] }`);
      // New axes: the old brush goes, and the page hears so.
      expect(await events(p)).toEqual([49, 49, null]);
      expect(await attrs(p, '.rl-parallel')).toMatchObject({
        axes: expect.not.stringContaining(','),
        rowsVisible: '100',
      });
    });

    it('keeps its height from one redraw to the next in a padded container of no fixed height', async () => {
      const p = await open();
      await p.evaluate(
        `Object.assign(document.getElementById('chart').style, { height: 'auto', minHeight: '380px', padding: '6px' })`
      );
      await parallel(p);
      const height = (): Promise<number> =>
        p.$eval(
          '.rl-parallel canvas',
          (c) => (c as unknown as { clientHeight: number }).clientHeight
        );
      await attrs(p, '.rl-parallel');
      const first = await height();
      for (const r of [1, 2, 3]) {
        await update(p, 'parallel', `{ highlighted: new Set([${r}]) }`);
        await attrs(p, '.rl-parallel');
      }
      expect(await height()).toBe(first);
      expect(first).toBe(380); // the container's min-height, its padding aside
      // …and its width is the container's, inside the padding.
      expect(
        await p.$eval(
          '.rl-parallel canvas',
          (c) => (c as unknown as { clientWidth: number }).clientWidth
        )
      ).toBe(800);
    });

    it('brushes from the keyboard: arrows pick an axis and move its brush, Delete and Escape clear', async () => {
      const p = await open();
      await parallel(p);
      await attrs(p, '.rl-parallel');
      await p.focus('.rl-parallel');
      const press = async (key: string): Promise<void> => {
        await p.keyboard.press(key);
      };
      await press('ArrowRight'); // axis a
      await press('ArrowUp'); // its upper half: a ≥ 49.5, rows 50…99
      await press('ArrowDown'); // 0.45…0.95 of 0…99: rows 45…94
      await press('Shift+ArrowDown'); // 0.45…0.9: rows 45…89
      await press('ArrowRight'); // axis b
      await press('ArrowDown'); // its lower half, b ≤ 4.5: of rows 45…89, 50–54, 60–64, 70–74, 80–84
      expect(await events(p)).toEqual([50, 50, 45, 20]);
      expect(await p.locator('.rl-parallel .rl-live').textContent()).toBe(
        'Axis b, brushed from 0 to 4.5; 20 rows inside.'
      );
      await press('Delete'); // axis b's brush goes
      await press('Escape'); // and every other
      expect(await events(p)).toEqual([50, 50, 45, 20, 45, null]);
      expect((await attrs(p, '.rl-parallel'))['rowsVisible']).toBe('100');
    });

    it('brushes a categorical axis by its bands', async () => {
      const p = await open();
      await parallel(p);
      // Axis c has bands x (0.25) and y (0.75): a range over the upper half holds the 50 odd rows.
      await drag(p, 2, 0.55, 0.95);
      expect(await events(p)).toEqual([50]);
    });

    it('draws only the rows the page lets through, and picks a row by clicking its line', async () => {
      const p = await open();
      await parallel(p);
      await update(
        p,
        'parallel',
        `(() => {
        const visible = new Uint8Array(100);
        for (let r = 50; r < 100; r++) visible[r] = 1;
        return { visible };
      })()`
      );
      expect(await attrs(p, '.rl-parallel')).toMatchObject({ points: '50', rowsVisible: '50' });
      // Row 99 runs along the top between axes a (99) and b (9); no other line passes there.
      const a = await at(p, 0, 1);
      const b = await at(p, 1, 1);
      await p.mouse.move((a.x + b.x) / 2, a.y + 1);
      await expect
        .poll(() => p.locator('.rl-parallel .rl-tooltip').innerText())
        .toContain('run 99');
      await p.mouse.click((a.x + b.x) / 2, a.y + 1);
      expect(await events(p)).toEqual(['pick 99']);
    });

    it('paints highlighted rows on top, in the accent colour', async () => {
      const p = await open();
      await parallel(
        p,
        'failed: Uint8Array.from({ length: 100 }, (_, r) => (r % 3 === 0 ? 1 : 0)),'
      );
      // Row 0 runs along the bottom from a (0) to b (0); sample the pixel halfway.
      const a = await at(p, 0, 0);
      const b = await at(p, 1, 0);
      const box = (await p.locator('.rl-parallel canvas').boundingBox())!;
      const pixel = (): Promise<number[]> =>
        p.$eval(
          '.rl-parallel canvas',
          (c, [x, y]) => {
            const cv = c as unknown as {
              width: number;
              clientWidth: number;
              getContext(k: '2d'): {
                getImageData(
                  x: number,
                  y: number,
                  w: number,
                  h: number
                ): { data: Uint8ClampedArray };
              };
            };
            const k = cv.width / cv.clientWidth;
            return [
              ...cv.getContext('2d').getImageData(Math.round(x! * k), Math.round(y! * k), 1, 1)
                .data,
            ];
          },
          [(a.x + b.x) / 2 - box.x, a.y - box.y]
        );
      const before = await pixel();
      expect(before[0]! > 200 && before[1]! < 60 && before[2]! < 60).toBe(false);
      await update(p, 'parallel', `{ highlighted: new Set([0]) }`);
      await attrs(p, '.rl-parallel');
      const after = await pixel();
      expect(after.slice(0, 3)).toEqual([255, 0, 0]);
      await p.screenshot({ path: screenshotPath('chart-parallel-highlighted') });
    });

    it('paints failed rows in the failed colour', async () => {
      const p = await open();
      // Only row 99 failed; it runs along the top from a (99) to b (9), no other line there.
      await parallel(p, 'failed: Uint8Array.from({ length: 100 }, (_, r) => (r === 99 ? 1 : 0)),');
      await attrs(p, '.rl-parallel');
      const a = await at(p, 0, 1);
      const b = await at(p, 1, 1);
      const box = (await p.locator('.rl-parallel canvas').boundingBox())!;
      const [r, g, bl] = await p.$eval(
        '.rl-parallel canvas',
        (c, [x, y]) => {
          const cv = c as unknown as {
            width: number;
            clientWidth: number;
            getContext(k: '2d'): {
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
          const k = cv.width / cv.clientWidth;
          return [
            ...cv.getContext('2d').getImageData(Math.round(x! * k), Math.round(y! * k), 1, 1).data,
          ];
        },
        [(a.x + b.x) / 2 - box.x, a.y - box.y]
      );
      // --failed is #b00 (187, 0, 0), stroked translucent over the transparent canvas: read back
      // unpremultiplied, the channels come within rounding of it (the colour-by-b gradient would
      // give this line the orange end, (255, 127, 14)-ish).
      expect(Math.abs(r! - 187)).toBeLessThanOrEqual(3);
      expect(Math.max(g!, bl!)).toBeLessThanOrEqual(3);
    });

    it('draws 10,000 rows × 8 axes, with a log axis', async () => {
      const p = await open();
      await p.evaluate(`(() => {
        const rows = 10_000;
        const axes = Array.from({ length: 8 }, (_, k) => ({
          name: 'm' + k,
          values: Array.from({ length: rows }, (_, r) => ((r * (k + 3)) % 997) + 1),
          log: k === 0,
        }));
        window.rl.createParallel(document.getElementById('chart'), {
          axes,
          rows,
          visible: new Uint8Array(rows).fill(1),
          highlighted: new Set([1, 2, 3]),
          colorBy: axes[1],
          onBrush() {},
        });
      })()`);
      expect(await attrs(p, '.rl-parallel')).toMatchObject({
        points: '10000',
        rowsVisible: '10000',
      });
      const marks = await p.evaluate(`performance.getEntriesByName('rl:parallel:drawn').length`);
      expect(marks).toBeGreaterThan(0);
    });
  });

  describe('scatter', () => {
    async function scatter(p: Page, color: string): Promise<void> {
      await p.evaluate(`(() => {
        const rows = 200;
        const col = (f) => Array.from({ length: rows }, (_, r) => f(r));
        const visible = new Uint8Array(rows).fill(1);
        for (let r = 0; r < 10; r++) visible[r] = 0;
        window.rl.handles.scatter = window.rl.createScatter(document.getElementById('chart'), {
          x: { name: 'params.x', values: col((r) => r) },
          y: { name: 'metrics.y', values: col((r) => (r === 20 ? null : r * r)) },
          color: ${color},
          rows, visible, highlighted: new Set([100]),
          label: (r) => 'run-' + r,
          onPick: (r, add) => window.rl.events.push(r + (add ? '+' : '')),
        });
      })()`);
    }

    async function pointOf(p: Page, x: number, y: number): Promise<{ x: number; y: number }> {
      const d = await attrs(p, '.rl-scatter');
      const [left, top, w, h] = d['plot']!.split(',').map(Number) as [
        number,
        number,
        number,
        number,
      ];
      const box = (await p.locator('.rl-scatter canvas').boundingBox())!;
      // x runs 0…199, y 0…199².
      return { x: box.x + left + (x / 199) * w, y: box.y + top + (1 - y / 199 ** 2) * h };
    }

    it('draws the visible rows that have both values, shows the run on hover and picks on click', async () => {
      const p = await open();
      await scatter(
        p,
        `{ name: 'params.opt', values: col((r) => ['adam', 'sgd', 'lbfgs'][r % 3]) }`
      );
      // 200 rows, 10 hidden, row 20 has no y: 189 points of 190 visible rows.
      expect(await attrs(p, '.rl-scatter')).toMatchObject({ points: '189', rowsVisible: '190' });
      expect(await p.locator('.rl-scatter .rl-legend').innerText()).toMatch(
        /params\.opt[\s\S]*adam[\s\S]*lbfgs[\s\S]*sgd/
      );
      const pt = await pointOf(p, 150, 150 * 150);
      await p.mouse.move(pt.x, pt.y);
      const tip = p.locator('.rl-scatter .rl-tooltip');
      await expect.poll(() => tip.innerText()).toContain('run-150');
      expect(await tip.innerText()).toContain('metrics.y: 22500');
      expect(await tip.innerText()).toContain('params.opt: adam'); // 150 mod 3 = 0
      await p.screenshot({ path: screenshotPath('chart-scatter') });
      await p.mouse.click(pt.x, pt.y);
      await p.keyboard.down('Shift');
      await p.mouse.click(pt.x, pt.y);
      await p.keyboard.up('Shift');
      expect(await p.evaluate('window.rl.events')).toEqual(['150', '150+']);
      // A hidden row is neither drawn nor picked.
      const hidden = await pointOf(p, 5, 25);
      await p.mouse.click(hidden.x, hidden.y);
      expect(await p.evaluate('window.rl.events')).toEqual(['150', '150+']);
    });

    it('is driven by the keyboard: arrows move from point to point, Enter picks, Escape leaves', async () => {
      const p = await open();
      await scatter(p, 'undefined');
      await attrs(p, '.rl-scatter');
      await p.focus('.rl-scatter');
      // Rows 0…9 are hidden: the leftmost point drawn is row 10, the next to its right row 11.
      await p.keyboard.press('ArrowRight');
      expect((await attrs(p, '.rl-scatter'))['cursor']).toBe('10');
      await expect.poll(() => p.locator('.rl-scatter .rl-tooltip').innerText()).toContain('run-10');
      await p.keyboard.press('ArrowRight');
      expect((await attrs(p, '.rl-scatter'))['cursor']).toBe('11');
      await p.keyboard.press('Enter');
      await p.keyboard.press('Shift+Enter');
      expect(await p.evaluate('window.rl.events')).toEqual(['11', '11+']);
      await p.keyboard.press('ArrowLeft');
      expect((await attrs(p, '.rl-scatter'))['cursor']).toBe('10');
      await p.keyboard.press('ArrowLeft'); // nothing further left: stays
      expect((await attrs(p, '.rl-scatter'))['cursor']).toBe('10');
      await p.keyboard.press('Escape');
      expect((await attrs(p, '.rl-scatter'))['cursor']).toBe('-1');
      expect(await p.locator('.rl-scatter .rl-tooltip').isVisible()).toBe(false);
    });

    it('colours by a number with a gradient legend, and follows updates', async () => {
      const p = await open();
      await scatter(p, `{ name: 'metrics.t', values: col((r) => r / 10) }`);
      expect(await p.locator('.rl-scatter .rl-gradient').count()).toBe(1);
      await update(p, 'scatter', `{ visible: new Uint8Array(200).fill(1) }`);
      expect(await attrs(p, '.rl-scatter')).toMatchObject({ points: '199', rowsVisible: '200' });
    });
  });

  describe('curves', () => {
    async function curves(p: Page, options: string): Promise<Record<string, string>> {
      await p.evaluate(`(() => {
        const series = Array.from({ length: 5 }, (_, k) => {
          const n = 100;
          return {
            label: 'run ' + k,
            steps: Float64Array.from({ length: n }, (_, i) => i * (k === 4 ? 2 : 1)),
            timestamps: Float64Array.from({ length: n }, (_, i) => 1.7e12 + k * 5000 + i * 250),
            values: Float64Array.from({ length: n }, (_, i) => (k === 3 && i < 10 ? -1 : Math.exp(-i / 30) + k / 10)),
            highlighted: k === 1,
          };
        });
        window.rl.handles.curvesSeries = series;
        window.rl.handles.curves = window.rl.createCurves(document.getElementById('chart'), {
          series, ${options}
        });
      })()`);
      return attrs(p, '.rl-curves');
    }

    it('draws every point of every series, with uPlot styled by its own CSS', async () => {
      const p = await open();
      // 5 series × 100 points; series 4 has steps 0, 2, 4, …, so the x values are merged.
      expect(
        (await curves(p, `x: 'step', smoothing: 0, logY: false, title: 'loss'`))['points']
      ).toBe('500');
      // One legend entry per run; the x values differ (series 4), so no live x entry.
      expect(
        await p.locator('.rl-curves .u-legend .u-series', { hasText: /^run \d$/ }).count()
      ).toBe(5);
      expect(
        await p.$eval('.rl-curves .u-over', (e) =>
          (e as unknown as { computedStyleMap(): Map<string, unknown> })
            .computedStyleMap()
            .get('position')
            ?.toString()
        )
      ).toBe('absolute');
      expect(await p.locator('.rl-curves .u-title').innerText()).toBe('loss');
      expect(
        await p.evaluate(`performance.getEntriesByName('rl:curves:drawn').length`)
      ).toBeGreaterThan(0);
      await p.screenshot({ path: screenshotPath('chart-curves') });
    });

    it('leaves out non-positive values on a log scale, keeps every point when smoothing or on time', async () => {
      const p = await open();
      // Series 3's first 10 values are −1.
      expect((await curves(p, `x: 'step', smoothing: 0, logY: true`))['points']).toBe('490');
      await update(p, 'curves', `{ logY: false, smoothing: 0.9, x: 'time' }`);
      expect((await attrs(p, '.rl-curves'))['points']).toBe('500');
      expect(await p.locator('.rl-curves .u-legend').innerText()).toContain('time (s)');
    });

    it('shares one x array, with a live legend, when every run has the same steps', async () => {
      const p = await open();
      await curves(p, `x: 'step', smoothing: 0, logY: false`);
      // Drop series 4 (the one with steps 0, 2, 4, …): the other four share steps 0…99.
      await p.evaluate(
        `window.rl.handles.curves.update({ series: window.rl.handles.curvesSeries.slice(0, 4) })`
      );
      expect((await attrs(p, '.rl-curves'))['points']).toBe('400');
      expect(await p.locator('.rl-curves .u-legend .u-series').count()).toBe(5); // step and 4 runs
      expect(await p.locator('.rl-curves .u-legend').innerText()).toContain('step');
    });

    it('draws a highlighted run in the accent colour, unless every run is highlighted', async () => {
      const p = await open();
      await curves(p, `x: 'step', smoothing: 0, logY: false`);
      const markers = (): Promise<string[]> =>
        p.$$eval('.rl-curves .u-legend .u-series .u-marker', (els) =>
          els.map((e) => (e as unknown as { style: { borderColor: string } }).style.borderColor)
        );
      // Series 1 of 5 is highlighted (the harness's accent is rgb(255, 0, 0)).
      const some = await markers();
      expect(some.filter((c) => c === 'rgb(255, 0, 0)')).toHaveLength(1);
      expect(some.indexOf('rgb(255, 0, 0)')).toBe(1);
      await p.evaluate(
        `window.rl.handles.curves.update({ series: window.rl.handles.curvesSeries.map((s) => ({ ...s, highlighted: true })) })`
      );
      await attrs(p, '.rl-curves');
      const all = await markers();
      expect(all).toHaveLength(5);
      expect(all.filter((c) => c === 'rgb(255, 0, 0)')).toHaveLength(0);
      expect(new Set(all).size).toBe(5); // each its own palette colour
    });

    it('keeps its size from one rebuild to the next in a padded container of no fixed height', async () => {
      const p = await open();
      await p.evaluate(
        `Object.assign(document.getElementById('chart').style, { height: 'auto', minHeight: '380px', padding: '6px' })`
      );
      await curves(p, `x: 'step', smoothing: 0, logY: false`);
      const size = (): Promise<number[]> =>
        p.$eval('.rl-curves .uplot', (e) => {
          const r = (
            e as unknown as { getBoundingClientRect(): { width: number; height: number } }
          ).getBoundingClientRect();
          return [r.width, r.height];
        });
      const first = await size();
      for (const smoothing of [0.3, 0.6, 0.9]) {
        await update(p, 'curves', `{ smoothing: ${smoothing} }`);
        await attrs(p, '.rl-curves');
      }
      expect(await size()).toEqual(first);
      expect(first[0]).toBe(800); // the container's width inside its padding
    });

    it('keeps a long legend in a box that scrolls', async () => {
      const p = await open();
      await p.evaluate(`window.rl.handles.curves = window.rl.createCurves(document.getElementById('chart'), {
        series: Array.from({ length: 50 }, (_, k) => ({ label: 'a run with a long name ' + k, steps: [0, 1, 2], timestamps: [0, 1, 2], values: [3, 2, k] })),
        x: 'step', smoothing: 0, logY: false,
      })`);
      expect((await attrs(p, '.rl-curves'))['points']).toBe('150');
      const box = await p.$eval('.rl-curves .rl-legend', (e) => {
        const b = e as unknown as { clientHeight: number; scrollHeight: number };
        return { client: b.clientHeight, scroll: b.scrollHeight };
      });
      expect(box.client).toBeLessThan(120);
      expect(box.scroll).toBeGreaterThan(box.client);
      expect(await p.locator('.rl-curves .rl-legend .u-series').count()).toBe(51);
      // Below the chart.
      expect(
        await p
          .locator('.rl-curves > *')
          .evaluateAll((els) => els.map((e) => e.className.split(' ')[0]))
      ).toEqual(['uplot', 'rl-legend']);
    });

    it('says so when there is nothing to draw', async () => {
      const p = await open();
      await p.evaluate(
        `window.rl.createCurves(document.getElementById('chart'), { series: [], x: 'step', smoothing: 0, logY: false })`
      );
      expect((await attrs(p, '.rl-curves'))['points']).toBe('0');
      expect(await p.locator('.rl-curves .rl-empty').innerText()).toBe('No points to draw.');
    });
  });
});
