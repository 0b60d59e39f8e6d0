/**
 * The viewer's page in headless Firefox (Debian's `firefox-esr`, driven by puppeteer-core over
 * WebDriver BiDi, no browser download): a report of a synthetic study opened from disk with every
 * request but the file's refused. The runs table shows every run, a filter in the CLI's language
 * leaves the rows the CLI's own parser counts, every view renders and every chart reports the
 * points it drew, with no page error and no console error. Screenshots of the runs and curves
 * views go to the screenshot folder (./browser.ts), named `firefox-*`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWhere, type Row } from '../../src/tables/query.js';
import type { UiBundle } from '../../src/ui/model.js';
import { screenshotPath } from './browser.js';
import { writeReportFile } from './page.js';
import { syntheticBundle } from './synthetic.js';

/** Where Firefox is expected (Debian's `firefox-esr` package); `RUNLEDGER_FIREFOX` overrides it. */
const FIREFOX_PATH = process.env['RUNLEDGER_FIREFOX'] ?? '/usr/bin/firefox-esr';
const hasFirefox = existsSync(FIREFOX_PATH);
if (!hasFirefox) {
  process.stderr.write(
    `Firefox tests skipped: no Firefox at ${FIREFOX_PATH} (apt-get install -y firefox-esr, or set RUNLEDGER_FIREFOX).\n`
  );
}

const RUNS = 200;
const POINTS = 30;
/** How long a poll waits for the page (a loaded CI machine runs both browsers at once). */
const SLOW = 10_000;

describe.skipIf(!hasFirefox)('the viewer page in Firefox (a report, offline)', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let url: string;
  let bundle: UiBundle;
  const refused: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runledger-firefox-'));
    bundle = syntheticBundle({
      runs: RUNS,
      params: 6,
      metrics: 3,
      points: POINTS,
      seed: 23,
      experiments: 2,
    });
    url = await writeReportFile(dir, bundle);
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      defaultViewport: { width: 1400, height: 860 },
    });
    page = await browser.newPage();
    // Any request that could leave the machine is recorded and refused: all but the file itself,
    // the blank page between loads, and data: URLs (Firefox loads one of its own, a font inside
    // omni.ja, with no network involved).
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const u = request.url();
      if (/^(file|data|about):/.test(u)) return void request.continue();
      refused.push(u);
      return void request.abort();
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const key = (i: number): string =>
    `${bundle.study.experiments[bundle.study.runs.experiment[i]!]!.id}:${bundle.study.runs.runId[i]}`;
  const attr = (selector: string, name: string): Promise<string | null> =>
    page.$eval(selector, (e, n) => e.getAttribute(n), name);
  const rowCount = async (): Promise<number> =>
    Number(await attr('[data-testid=row-count]', 'data-rows'));

  async function open(hash: string, selector: string): Promise<void> {
    // A fresh load each time: the URL alone restores the view.
    await page.goto('about:blank');
    await page.goto(`${url}${hash}`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    await page.waitForSelector(selector, { timeout: 10_000 });
  }

  it('shows every run in the runs table, and filters as the CLI does', async () => {
    await open('#/runs', '.runs-view .grid-body .row');
    expect(await rowCount()).toBe(RUNS);
    expect(await page.$eval('[data-testid=row-count]', (e) => e.textContent)).toBe(
      `${RUNS} of ${RUNS} runs`
    );
    const drawn = (await page.$$('.grid-body .row')).length;
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(RUNS);
    await page.screenshot({ path: screenshotPath('firefox-runs') });

    // The rows the CLI would see (times as RFC 3339 text), filtered by the CLI's parser.
    const columns = bundle.study.runs.columns;
    const names = columns.map((c) => c.name);
    const rows: Row[] = Array.from({ length: RUNS }, (_, i) =>
      Object.fromEntries(
        columns.map((c) => [
          c.name,
          c.type === 'time' ? new Date(c.values[i] as number).toISOString() : c.values[i]!,
        ])
      )
    );
    for (const where of [
      "metrics.loss < 0.5 and status = 'finished'",
      "params.optimizer in ('adam', 'sgd') and tags.stage like 'p%'",
    ]) {
      const expected = rows.filter(parseWhere(where, names)).length;
      expect(expected, where).toBeGreaterThan(0);
      expect(expected, where).toBeLessThan(RUNS);
      // Typed key by key, as a person would (fill clears the box first), then Enter.
      await page.locator('#filter').fill(where);
      await page.keyboard.press('Enter');
      await expect.poll(rowCount, { message: where, timeout: SLOW }).toBe(expected);
    }
  });

  it('renders every view, each chart reporting the points it drew', async () => {
    await open('#/experiments', '.experiments-view');
    expect((await page.$$('input[data-experiment]')).length).toBe(2);

    await open('#/parallel?axes=params.lr,params.optimizer,metrics.loss', '.rl-parallel');
    await expect
      .poll(() => attr('.rl-parallel', 'data-rows-visible'), { timeout: SLOW })
      .toBe(String(RUNS));
    expect(Number(await attr('.rl-parallel', 'data-points'))).toBeGreaterThan(0);

    // Parameters are never missing, so every run is a point.
    await open('#/scatter?x=params.lr&y=params.dropout', '.rl-scatter');
    await expect
      .poll(() => attr('.rl-scatter', 'data-points'), { timeout: SLOW })
      .toBe(String(RUNS));

    await open(`#/curves?metric=loss&sel=${key(0)},${key(7)}`, '.rl-curves');
    await expect
      .poll(() => attr('.rl-curves', 'data-points'), { timeout: SLOW })
      .toBe(String(2 * POINTS));
    // None selected: the first 50 shown.
    await open('#/curves?metric=val_loss', '.rl-curves');
    await expect
      .poll(() => attr('.rl-curves', 'data-points'), { timeout: SLOW })
      .toBe(String(50 * POINTS));
    await page.screenshot({ path: screenshotPath('firefox-curves') });

    // A run in full: its parameters, and the NPY attachment drawn as a six-point line.
    const first = bundle.runs[0]!;
    await open(`#/run/${first.experiment}/0`, '.run-view h2');
    expect(await page.$eval('.run-view h2', (e) => e.textContent)).toContain(first.name!);
    await page.click('details.attachment[data-name="weights.npy"] summary');
    await expect
      .poll(() => attr('[data-name="weights.npy"] .rl-curves', 'data-points').catch(() => null), {
        timeout: SLOW,
      })
      .toBe('6');

    await open(`#/diff?runs=${key(0)},${key(1)},${key(2)}`, 'table.diff');
    expect((await page.$$('table.diff thead th')).length).toBe(4);
    expect((await page.$$('table.diff tr[data-field="params.lr"]')).length).toBe(1);
  });

  it('made no request and logged no error', () => {
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  });
});
