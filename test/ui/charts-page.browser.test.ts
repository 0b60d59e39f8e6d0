/**
 * The charts inside the viewer's page (a report of a synthetic study, opened from disk): views
 * linked through the shared state. Brushes dragged with the mouse on two axes of the parallel
 * coordinates (a category and a number) leave exactly the runs counted here from the data; the
 * runs table and the scatter plot show those runs; a point picked in the scatter plot is the
 * selected row of the table; the filter box narrows the scatter plot; the curves of runs on the
 * time axis draw every point.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiBundle, UiCell } from '../../src/ui/model.js';
import { hasChromium, launchBrowser, screenshotPath } from './browser.js';
import { ready, watchErrors, writeReportFile } from './page.js';
import { syntheticBundle } from './synthetic.js';

const RUNS = 300;
const POINTS = 40;

describe.skipIf(!hasChromium)('charts in the viewer page', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let url: string;
  let bundle: UiBundle;
  let errors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runledger-charts-page-'));
    bundle = syntheticBundle({
      runs: RUNS,
      params: 6,
      metrics: 2,
      points: POINTS,
      seed: 5,
      experiments: 2,
    });
    url = await writeReportFile(dir, bundle);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const column = (name: string): readonly UiCell[] =>
    bundle.study.runs.columns.find((c) => c.name === name)!.values;
  const key = (i: number): string =>
    `${bundle.study.experiments[bundle.study.runs.experiment[i]!]!.id}:${bundle.study.runs.runId[i]}`;
  const rows = (keep: (i: number) => boolean): number[] =>
    Array.from({ length: RUNS }, (_, i) => i).filter(keep);

  async function open(hash: string): Promise<void> {
    await page.goto('about:blank');
    await page.goto(`${url}${hash}`);
    await ready(page);
  }

  const attr = async (selector: string, name: string): Promise<string | null> =>
    page.getAttribute(selector, name);
  const rowCount = async (): Promise<number> =>
    Number(await attr('[data-testid=row-count]', 'data-rows'));

  /** Page coordinates of position t (0 bottom … 1 top) on parallel axis i. */
  async function axisPoint(i: number, t: number): Promise<{ x: number; y: number }> {
    const axes = (await attr('.rl-parallel', 'data-axes'))!.split(',').map(Number);
    const [top, height] = (await attr('.rl-parallel', 'data-plot'))!.split(',').map(Number) as [
      number,
      number,
    ];
    const box = (await page.locator('.rl-parallel canvas').boundingBox())!;
    return { x: box.x + axes[i]!, y: box.y + top + (1 - t) * height };
  }

  async function drag(a: { x: number; y: number }, b: { x: number; y: number }): Promise<void> {
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 5 });
    await page.mouse.up();
  }

  it('brushes on two axes leave the runs counted from the data, in the table and the scatter plot', async () => {
    await open('#/parallel?axes=params.optimizer,params.batch_size,params.lr');
    await expect.poll(() => attr('.rl-parallel', 'data-rows-visible')).toBe(String(RUNS));
    // The optimizer axis has four bands in code point order: adagrad, adam, rmsprop, sgd; adam's
    // middle is at 1.5 / 4 = 0.375. A range from 0.3 to 0.45 holds adam alone.
    const optimizer = column('params.optimizer');
    expect([...new Set(optimizer)].sort()).toEqual(['adagrad', 'adam', 'rmsprop', 'sgd']);
    await drag(await axisPoint(0, 0.3), await axisPoint(0, 0.45));
    const adam = rows((i) => optimizer[i] === 'adam');
    await expect.poll(() => attr('.rl-parallel', 'data-rows-visible')).toBe(String(adam.length));
    // Batch sizes are 16 … 256 on a linear axis: from below the bottom up to 96 holds 16, 32, 64.
    const batch = column('params.batch_size') as number[];
    const [lo, hi] = [Math.min(...batch), Math.max(...batch)];
    expect([lo, hi]).toEqual([16, 256]);
    const bottom = await axisPoint(1, 0);
    await drag({ x: bottom.x, y: bottom.y + 5 }, await axisPoint(1, (96 - lo) / (hi - lo)));
    const both = rows((i) => optimizer[i] === 'adam' && batch[i]! <= 64);
    expect(both.length).toBeGreaterThan(0);
    expect(both.length).toBeLessThan(adam.length);
    await expect.poll(() => attr('.rl-parallel', 'data-rows-visible')).toBe(String(both.length));
    await page.screenshot({ path: screenshotPath('charts-page-parallel-brushed') });

    await page.click('nav a[data-view=runs]');
    await expect.poll(rowCount).toBe(both.length);

    await page.click('nav a[data-view=scatter]');
    await page.selectOption('select[name=x]', 'params.lr');
    await page.selectOption('select[name=y]', 'params.dropout');
    await expect.poll(() => attr('.rl-scatter', 'data-points')).toBe(String(both.length));
    expect(await attr('.rl-scatter', 'data-rows-visible')).toBe(String(both.length));
  });

  it('a point picked in the scatter plot is the selected row of the table', async () => {
    await open('#/scatter?x=params.lr&y=params.dropout');
    await expect.poll(() => attr('.rl-scatter', 'data-points')).toBe(String(RUNS));
    const [left, top, w, h] = (await attr('.rl-scatter', 'data-plot'))!.split(',').map(Number) as [
      number,
      number,
      number,
      number,
    ];
    const lr = column('params.lr') as number[];
    const dropout = column('params.dropout') as number[];
    const scale = (v: number, all: number[]): number =>
      (v - Math.min(...all)) / (Math.max(...all) - Math.min(...all));
    const px = lr.map((v) => left + scale(v, lr) * w);
    const py = dropout.map((v) => top + (1 - scale(v, dropout)) * h);
    // A run whose point stands alone: no other within 12 px.
    const alone = rows((i) =>
      rows((j) => j !== i).every((j) => Math.hypot(px[j]! - px[i]!, py[j]! - py[i]!) > 12)
    )[0]!;
    expect(alone).toBeDefined();
    const box = (await page.locator('.rl-scatter canvas').boundingBox())!;
    await page.mouse.move(box.x + px[alone]!, box.y + py[alone]!);
    const name = column('name')[alone] as string;
    await expect.poll(() => page.locator('.rl-scatter .rl-tooltip').innerText()).toContain(name);
    await page.mouse.click(box.x + px[alone]!, box.y + py[alone]!);
    await expect.poll(() => page.textContent('.header-chips')).toContain('1 selected');
    // The address follows (the page rewrites it after the change).
    await expect
      .poll(() => decodeURIComponent(new URL(page.url()).hash))
      .toContain(`sel=${key(alone)}`);
    await page.click('nav a[data-view=runs]');
    const selected = page.locator('.grid-body .row[aria-selected="true"]');
    await expect.poll(() => selected.count()).toBe(1);
    expect(await selected.getAttribute('data-key')).toBe(key(alone));
  });

  it('the filter box narrows the scatter plot', async () => {
    await open('#/scatter?x=params.lr&y=params.dropout');
    await page.fill('#filter', "params.optimizer = 'sgd'");
    await page.press('#filter', 'Enter');
    const sgd = rows((i) => column('params.optimizer')[i] === 'sgd');
    await expect.poll(() => attr('.rl-scatter', 'data-points')).toBe(String(sgd.length));
    expect(await attr('.rl-scatter', 'data-rows-visible')).toBe(String(sgd.length));
  });

  it('draws every point of runs on the time axis, and on a log scale', async () => {
    await open(`#/curves?metric=loss&x=time&sel=${key(0)},${key(1)},${key(2)}`);
    await expect.poll(() => attr('.rl-curves', 'data-points')).toBe(String(3 * POINTS));
    await page.check('input[name=log]');
    // Every synthetic loss is positive: nothing is left out on a log scale.
    const loss = bundle.metrics.filter(
      (m) => m.name === 'loss' && [0, 1, 2].some((i) => key(i) === `${m.experiment}:${m.runId}`)
    );
    expect(loss.every((m) => m.values.every((v) => v > 0))).toBe(true);
    await expect.poll(() => attr('.rl-curves', 'data-points')).toBe(String(3 * POINTS));
    await page.screenshot({ path: screenshotPath('charts-page-curves-time-log') });
  });

  it('logged no error', () => {
    expect(errors).toEqual([]);
  });
});
