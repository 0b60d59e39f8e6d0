/**
 * The viewer's page in headless Chromium, from a report of a synthetic study (./synthetic.ts)
 * opened from disk with the network off: every view renders, the runs table sorts and filters as
 * the CLI would (expected rows computed here, the filter's with the CLI's own parser), URLs
 * restore views, the keyboard drives the table, brushing filters the table, and the page makes
 * no request at all. Screenshots of each view go to the screenshot folder (./browser.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWhere, type Row } from '../../src/tables/query.js';
import type { UiBundle, UiCell } from '../../src/ui/model.js';
import { hasChromium, launchBrowser, screenshotPath } from './browser.js';
import { ready, watchErrors, writeReportFile } from './page.js';
import { syntheticBundle } from './synthetic.js';

const RUNS = 400;
const POINTS = 50;

describe.skipIf(!hasChromium)('the viewer page (a report of a synthetic study, offline)', () => {
  let dir: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let url: string;
  let bundle: UiBundle;
  const requests: string[] = [];
  let errors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runledger-page-'));
    bundle = syntheticBundle({
      runs: RUNS,
      params: 6,
      metrics: 3,
      points: POINTS,
      seed: 17,
      experiments: 3,
    });
    url = await writeReportFile(dir, bundle);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    await context.setOffline(true);
    // Any request that is not the file itself is recorded and refused.
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file:')) return route.continue();
      requests.push(u);
      return route.abort();
    });
    page = await context.newPage();
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

  async function open(hash: string): Promise<void> {
    // A fresh load each time: the URL alone must restore the view.
    await page.goto('about:blank');
    await page.goto(`${url}${hash}`);
    await ready(page);
  }

  const rowKeys = (n: number): Promise<string[]> =>
    page.$$eval(
      '.grid-body .row',
      (rows, n) =>
        rows
          .map((r) => ({
            y: Number(/translateY\((\d+)px\)/.exec(r.style.transform)?.[1]),
            k: r.getAttribute('data-key')!,
          }))
          .sort((a, b) => a.y - b.y)
          .slice(0, n)
          .map((r) => r.k),
      n
    );
  const rowCount = async (): Promise<number> =>
    Number(await page.getAttribute('[data-testid=row-count]', 'data-rows'));

  it('shows the runs table, virtualised, with failed runs marked', async () => {
    await open('#/runs');
    expect(await page.textContent('[data-testid=row-count]')).toBe(`${RUNS} of ${RUNS} runs`);
    const inDom = await page.locator('.grid-body .row').count();
    expect(inDom).toBeGreaterThan(10);
    expect(inDom).toBeLessThan(80);
    expect(await rowKeys(3)).toEqual([key(0), key(1), key(2)]);
    // Scrolled to the end, the last run is drawn and the first is gone.
    await page.locator('.grid').evaluate((g) => (g.scrollTop = g.scrollHeight));
    await expect.poll(() => page.locator(`.row[data-key="${key(RUNS - 1)}"]`).count()).toBe(1);
    expect(await page.locator(`.row[data-key="${key(0)}"]`).count()).toBe(0);
    await page.screenshot({ path: screenshotPath('synthetic-runs') });
    // Failed runs are marked: filtered to them, every row carries the mark.
    await open(`#/runs?where=${encodeURIComponent("status = 'failed'")}`);
    const failed = bundle.study.runs.status.filter((s) => s === 'failed').length;
    expect(await rowCount()).toBe(failed);
    expect(await page.locator('.grid-body .row.status-failed').count()).toBe(
      Math.min(failed, inDom)
    );
    expect(await page.locator('.grid-body .row:not(.status-failed)').count()).toBe(0);
  });

  it('sorts by clicking headers, shift-click adding a key', async () => {
    await open('#/runs');
    const loss = column('metrics.loss');
    const opt = column('params.optimizer');
    const byLoss = (a: number, b: number): number => {
      const x = loss[a] as number | null;
      const y = loss[b] as number | null;
      if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
      return x - y;
    };
    const all = Array.from({ length: RUNS }, (_, i) => i);
    await page.click('.head-cell[data-column="metrics.loss"]');
    expect(await rowKeys(15)).toEqual([...all].sort(byLoss).slice(0, 15).map(key));
    expect(await page.getAttribute('.head-cell[data-column="metrics.loss"]', 'aria-sort')).toBe(
      'ascending'
    );
    await page.click('.head-cell[data-column="metrics.loss"]');
    const desc = [...all].sort((a, b) => {
      const x = loss[a];
      const y = loss[b];
      if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
      return (y as number) - (x as number);
    });
    expect(await rowKeys(15)).toEqual(desc.slice(0, 15).map(key));
    // Optimizer first, then loss: shift-click adds the second key.
    await page.click('.head-cell[data-column="params.optimizer"]');
    await page.click('.head-cell[data-column="metrics.loss"]', { modifiers: ['Shift'] });
    const two = [...all].sort((a, b) => {
      const o = (opt[a] as string) < (opt[b] as string) ? -1 : opt[a] === opt[b] ? 0 : 1;
      return o !== 0 ? o : byLoss(a, b);
    });
    expect(await rowKeys(20)).toEqual(two.slice(0, 20).map(key));
    // The address bar follows a moment after the view.
    await expect
      .poll(() => decodeURIComponent(new URL(page.url()).hash))
      .toContain('sort=params.optimizer, metrics.loss');
    expect(await page.textContent('.head-cell[data-column="metrics.loss"] .sort-mark')).toBe('▲2');
    // Away to another view and back by the header's links: the sort is kept.
    await page.click('nav a[data-view=scatter]');
    await page.waitForSelector('[data-chart=scatter]');
    await page.click('nav a[data-view=runs]');
    await page.waitForSelector('.runs-view');
    expect(await rowKeys(20)).toEqual(two.slice(0, 20).map(key));
  });

  it('filters with the CLI query language, counting as the CLI parser does', async () => {
    await open('#/runs');
    // The same rows the CLI would see (times as RFC 3339 text), filtered by the CLI's parser.
    const names = bundle.study.runs.columns.map((c) => c.name);
    const rows: Row[] = Array.from({ length: RUNS }, (_, i) =>
      Object.fromEntries(
        bundle.study.runs.columns.map((c) => [
          c.name,
          c.type === 'time' ? new Date(c.values[i] as number).toISOString() : c.values[i]!,
        ])
      )
    );
    for (const where of [
      "metrics.loss < 0.5 and status = 'finished'",
      "params.optimizer in ('adam', 'sgd') or metrics.accuracy >= 0.9",
      "status = 'FAILED'",
      'metrics.loss is null',
      "tags.stage like 'p%' and not params.batch_size = 16",
      "started_at >= '2026-01-15T10:00' and attributes.start_time < 1768478400000",
    ]) {
      const expected = rows.filter(parseWhere(where, names)).length;
      await page.fill('#filter', where);
      await page.press('#filter', 'Enter');
      await expect.poll(rowCount, { message: where }).toBe(expected);
      expect(await page.textContent('[data-testid=row-count]')).toBe(`${expected} of ${RUNS} runs`);
      expect(expected, where).toBeGreaterThan(0);
      expect(expected, where).toBeLessThan(RUNS);
    }
    // A misspelt column: the CLI's message, and every row kept.
    await page.fill('#filter', 'metrics.lsos < 1');
    await page.press('#filter', 'Enter');
    await expect.poll(() => page.textContent('.filter-error')).toContain('metrics.lsos');
    expect(await page.textContent('.filter-error')).toContain('metrics.loss');
    expect(await rowCount()).toBe(RUNS);
    await page.screenshot({ path: screenshotPath('synthetic-filter-error') });
  });

  it('picks columns, remembers the choice, and shows only the columns that differ', async () => {
    const heads = (): Promise<(string | null)[]> =>
      page.$$eval('.head-cell', (c) => c.map((x) => x.getAttribute('data-column')));
    await open('#/runs');
    expect(await heads()).toContain('params.lr');
    await page.click('details.picker summary');
    await page.uncheck('.picker-list input[data-column="params.lr"]');
    await page.check('.picker-list input[data-column="ended_at"]');
    expect(await heads()).not.toContain('params.lr');
    expect(await heads()).toContain('ended_at');
    // A fresh load without cols= in the URL: the choice came back from localStorage.
    await open('#/runs');
    expect(await heads()).not.toContain('params.lr');
    expect(await heads()).toContain('ended_at');
    await page.click('details.picker summary');
    await page.click('.picker-actions button:has-text("Default")');
    expect(await heads()).toContain('params.lr');
    expect(await heads()).not.toContain('ended_at');
    await page.keyboard.press('Escape');
    // One experiment's runs: its project is one value, so "only columns that differ" hides it.
    await open(`#/runs?where=${encodeURIComponent("project = 'synthetic/sweep-0'")}`);
    expect(await heads()).toContain('project');
    await page.check('#only-differ');
    expect(await heads()).not.toContain('project');
    expect(await heads()).toContain('params.lr');
    await expect.poll(() => new URL(page.url()).hash).toContain('differ=1');
    await page.uncheck('#only-differ');
    expect(await heads()).toContain('project');
  });

  it('restores each view from its URL', async () => {
    await open(
      `#/runs?where=${encodeURIComponent("status = 'finished'")}&sort=${encodeURIComponent('metrics.loss desc')}&cols=run_id,status,metrics.loss&sel=${key(3)},${key(5)}`
    );
    expect(await page.inputValue('#filter')).toBe("status = 'finished'");
    expect(
      await page.$$eval('.head-cell', (c) => c.map((x) => x.getAttribute('data-column')))
    ).toEqual(['run_id', 'status', 'metrics.loss']);
    expect(await page.getAttribute('.head-cell[data-column="metrics.loss"]', 'aria-sort')).toBe(
      'descending'
    );
    const finished = bundle.study.runs.status.filter((s) => s === 'finished').length;
    expect(await rowCount()).toBe(finished);
    expect(await page.textContent('.selection-bar')).toContain('2 selected');

    await open('#/scatter?x=params.dropout&y=metrics.accuracy&color=params.optimizer&ylog=1');
    expect(await page.isChecked('input[name=ylog]')).toBe(true);
    expect(await page.isChecked('input[name=xlog]')).toBe(false);
    expect(await page.inputValue('select[name=x]')).toBe('params.dropout');
    expect(await page.inputValue('select[name=y]')).toBe('metrics.accuracy');
    expect(await page.inputValue('select[name=colour]')).toBe('params.optimizer');
    await expect.poll(() => page.getAttribute('.rl-chart', 'data-rows-visible')).toBe(String(RUNS));
    await page.screenshot({ path: screenshotPath('synthetic-scatter') });

    await open('#/curves?metric=accuracy&x=time&smooth=0.6&log=1');
    expect(await page.inputValue('select[name=metric]')).toBe('accuracy');
    expect(await page.inputValue('select[name=x]')).toBe('time');
    expect(await page.inputValue('input[name=smooth]')).toBe('0.6');
    expect(await page.isChecked('input[name=log]')).toBe(true);

    await open('#/parallel?axes=params.lr,params.optimizer,metrics.loss&color=metrics.accuracy');
    expect(
      await page.$$eval('.chips .chip', (c) => c.map((x) => x.firstChild!.textContent))
    ).toEqual(['params.lr', 'params.optimizer', 'metrics.loss']);
    await expect
      .poll(() => page.getAttribute('.rl-parallel', 'data-rows-visible'))
      .toBe(String(RUNS));

    await open('#/experiments?exp=' + bundle.study.experiments[1]!.id);
    const boxes = await page.locator('input[data-experiment]').all();
    expect(await Promise.all(boxes.map((b) => b.isChecked()))).toEqual([false, true, false]);
    await page.screenshot({ path: screenshotPath('synthetic-experiments') });
    await page.click('nav a[data-view=runs]');
    await expect.poll(rowCount).toBe(bundle.study.experiments[1]!.runCount);
  });

  it('is driven by the keyboard: arrows, Space selects, Enter opens, Escape returns', async () => {
    await open('#/runs');
    await page.focus('.grid');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    await expect.poll(() => page.textContent('.selection-bar')).toContain('1 selected');
    expect(await page.getAttribute('.row.selected', 'data-key')).toBe(key(2));
    await page.keyboard.press('End');
    await expect.poll(() => page.getAttribute('.row.cursor', 'data-key')).toBe(key(RUNS - 1));
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.run-view h2');
    expect(new URL(page.url()).hash).toMatch(new RegExp(`^#/run/${bundle.runs[0]!.experiment}/0`));
    await page.keyboard.press('Escape');
    await page.waitForSelector('.runs-view');
    // The selection survives the round trip.
    expect(await page.textContent('.selection-bar')).toContain('1 selected');
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.id')).toBe('filter');
    // Headers sort from the keyboard: Enter, then Shift+Enter on another adds a key.
    await page.focus('.head-cell[data-column="params.optimizer"]');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getAttribute('.head-cell[data-column="params.optimizer"]', 'aria-sort'))
      .toBe('ascending');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Enter');
    expect(await page.locator('.head-cell[aria-sort=ascending]').count()).toBe(2);
    expect(await page.locator('.run-view').count()).toBe(0);
  });

  it('never undoes a navigation when it rewrites the address after a change', async () => {
    await open('#/runs');
    // A selection schedules the address's rewrite; an address set before its hashchange is
    // handled (pushState fires none) must survive the rewrite.
    await page.focus('.grid');
    await page.keyboard.press(' ');
    await page.evaluate(`history.pushState(null, '', '#/experiments')`);
    await page.waitForTimeout(400);
    expect(new URL(page.url()).hash).toBe('#/experiments');
    await page.evaluate(`window.dispatchEvent(new HashChangeEvent('hashchange'))`);
    await page.waitForSelector('.experiments-view');
  });

  it('shows a run in full, with attachment previews and solves', async () => {
    const first = bundle.runs[0]!;
    await open(`#/run/${first.experiment}/0`);
    await page.waitForSelector('.run-view h2');
    for (const name of ['config.json', 'train.log', 'scores.csv', 'confusion.png', 'weights.npy']) {
      await page.click(`details.attachment[data-name="${name}"] summary .mono`);
    }
    await expect
      .poll(() => page.textContent('[data-name="config.json"] pre'))
      .toContain('"depth": 4');
    expect(await page.textContent('[data-name="train.log"] pre')).toContain('epoch 3 loss 0.40');
    expect(await page.locator('[data-name="scores.csv"] tbody tr').count()).toBe(3);
    await expect
      .poll(() =>
        page.evaluate(`document.querySelector('[data-name="confusion.png"] img')?.naturalWidth`)
      )
      .toBe(16);
    expect(
      await page.$$eval('[data-name="weights.npy"] table.csv td', (c) =>
        c.map((x) => x.textContent)
      )
    ).toEqual(['0.5', '0.25', '-1.5', '2', '3.75', '0.001']);
    // The vector is drawn too: six points on a line.
    await expect
      .poll(() => page.getAttribute('[data-name="weights.npy"] .rl-curves', 'data-points'))
      .toBe('6');
    expect(await page.locator('.solve .values tbody tr').count()).toBe(3);
    await expect.poll(() => page.locator('.spark svg').count()).toBe(3);
    expect(await page.textContent('.card:has(h3:text("Parameters"))')).toContain('optimizer');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: screenshotPath('synthetic-run'), fullPage: true });

    const failed = bundle.runs.find((r) => r.status === 'failed')!;
    await open(`#/run/${failed.experiment}/${failed.runId}`);
    await page.waitForSelector('.error-box');
    expect(await page.textContent('.error-box')).toContain('RangeError: loss diverged');
    expect(await page.textContent('.error-box pre')).toContain('at train (train.ts:42:11)');
  });

  it('diffs runs side by side, only what differs unless asked', async () => {
    await open(`#/diff?runs=${key(0)},${key(1)},${key(2)}`);
    await page.waitForSelector('table.diff');
    expect(await page.locator('table.diff thead th').count()).toBe(4);
    const fields = await page.$$eval('table.diff tr[data-field]', (r) =>
      r.map((x) => x.getAttribute('data-field'))
    );
    expect(fields).toContain('params.lr');
    // Every run was on the same host: equal, so hidden…
    expect(fields).not.toContain('run.host');
    expect(await page.locator('tr.same').count()).toBe(0);
    // …until "show all fields".
    await page.check('#diff-all');
    expect(await page.locator('tr[data-field="run.host"]').count()).toBe(1);
    await expect.poll(() => new URL(page.url()).hash).toContain('all=1');
    await page.screenshot({ path: screenshotPath('synthetic-diff') });
  });

  it('brushing the parallel coordinates filters the table', async () => {
    await open('#/parallel?axes=params.lr,metrics.loss,metrics.accuracy');
    const chart = page.locator('.rl-parallel');
    await expect.poll(() => chart.getAttribute('data-rows-visible')).toBe(String(RUNS));
    const axes = (await chart.getAttribute('data-axes'))!.split(',').map(Number);
    const [top, height] = (await chart.getAttribute('data-plot'))!.split(',').map(Number) as [
      number,
      number,
    ];
    const box = (await page.locator('.rl-parallel canvas').boundingBox())!;
    const x = box.x + axes[1]!;
    await page.mouse.move(x, box.y + top + height + 5);
    await page.mouse.down();
    await page.mouse.move(x, box.y + top + height * 0.6, { steps: 4 });
    await page.mouse.up();
    await expect
      .poll(async () => Number(await chart.getAttribute('data-rows-visible')))
      .toBeLessThan(RUNS);
    const brushed = Number(await chart.getAttribute('data-rows-visible'));
    expect(brushed).toBeGreaterThan(0);
    expect(await page.textContent('.header-chips')).toContain('brushed');
    await page.screenshot({ path: screenshotPath('synthetic-parallel') });
    await page.click('nav a[data-view=runs]');
    await expect.poll(rowCount).toBe(brushed);
    expect(await page.textContent('[data-testid=row-count]')).toContain('(brushed)');
    // The brush is a range from the axis' bottom: the rows left are those with the lowest losses.
    await page.click('.head-cell[data-column="metrics.loss"]');
    await page.click('.head-cell[data-column="metrics.loss"]');
    const worst = await page.$eval('.row[aria-rowindex="2"]', (r) => r.getAttribute('data-key'));
    const loss = column('metrics.loss');
    const threshold = loss[
      Array.from({ length: RUNS }, (_, j) => j).find((j) => key(j) === worst)!
    ] as number;
    expect(loss.filter((v) => typeof v === 'number' && v <= threshold)).toHaveLength(brushed);
    // Clearing the brush from the header brings every row back.
    await page.click('.header-chips button:has-text("brushed")');
    await expect.poll(rowCount).toBe(RUNS);
  });

  it('draws the curves of the selected runs', async () => {
    await open(`#/curves?metric=loss&sel=${key(0)},${key(7)}`);
    const chart = page.locator('.rl-curves');
    await expect.poll(() => chart.getAttribute('data-points')).toBe(String(2 * POINTS));
    expect(await page.textContent('[data-testid=curves-note]')).toContain('2 runs (the selection)');
    await page.screenshot({ path: screenshotPath('synthetic-curves-selected') });
    // None selected: the first 50 shown.
    await open('#/curves?metric=val_loss');
    await expect.poll(() => chart.getAttribute('data-points')).toBe(String(50 * POINTS));
    await page.screenshot({ path: screenshotPath('synthetic-curves') });
  });

  it('made no request and logged no error', () => {
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
  });
});
