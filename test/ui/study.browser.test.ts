/**
 * The viewer on recorded studies, in headless Chromium: the small study of ./study.ts served by
 * `runledger ui`'s server (serveUi, the page built from web/), and the two demo studies (`runledger
 * demo` and `demo --ml`) whose views are the README's screenshots, also as a report opened from
 * disk with the network off.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REFERENCE, recordDemoStudy } from '../../src/cli/demo-study.js';
import { ML_DEMO_REFERENCE, recordMlDemoStudy } from '../../src/cli/demo-ml.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import type { UiStudy } from '../../src/ui/model.js';
import { writeReport } from '../../src/ui/report.js';
import { serveUi, type UiServer } from '../../src/ui/server.js';
import { DIST_INDEX, requireBuilt } from '../helpers/built.js';
import { startNode } from '../helpers/child.js';
import { hasChromium, launchBrowser, screenshotPath } from './browser.js';
import { ready, watchErrors, writePageFile } from './page.js';
import { recordSmallStudy } from './study.js';

/**
 * The LP/MIP demo (32 HiGHS solves, about 20 s here) is recorded only when making the README's
 * screenshots (`RUNLEDGER_SCREENSHOTS=docs/screenshots`); the ML demo always is.
 */
const WITH_LP = (process.env['RUNLEDGER_SCREENSHOTS'] ?? '') !== '';

describe.skipIf(!hasChromium)('the viewer on recorded studies', () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  let pagePath: string;
  let errors: string[] = [];
  const servers: UiServer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runledger-study-page-'));
    pagePath = await writePageFile(dir);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(registry: LocalRegistry, experiments: string[]): Promise<UiServer> {
    const s = await serveUi({ registry, experiments, page: pagePath });
    servers.push(s);
    return s;
  }

  async function open(base: string, hash: string): Promise<void> {
    await page.goto('about:blank');
    await page.goto(`${base}${hash}`);
    await ready(page);
  }

  const rowCount = async (): Promise<number> =>
    Number(await page.getAttribute('[data-testid=row-count]', 'data-rows'));

  describe('the small study, served', () => {
    let url: string;
    let e1: string;
    beforeAll(async () => {
      // A copy of our own: recordSmallStudy's temp folder goes after the first test.
      const root = join(dir, 'small');
      await cp(await recordSmallStudy(), root, { recursive: true });
      const registry = await LocalRegistry.open(root);
      const server = await serve(registry, ['runledger.local/ui/small']);
      url = server.url;
      const res = await fetch(new URL('/api/study', url), {
        headers: { 'X-Runledger-Token': server.token },
      });
      e1 = ((await res.json()) as UiStudy).experiments[0]!.id;
    });

    it('lists the experiments and their runs, the failed one marked', async () => {
      await open(url, '#/experiments');
      expect(await page.locator('tr[data-experiment]').count()).toBe(2);
      expect(await page.getAttribute('tr[data-experiment]', 'data-experiment')).toBe(e1);
      expect(await page.textContent(`tr[data-experiment="${e1}"]`)).toContain('v1');
      await page.click('nav a[data-view=runs]');
      await expect.poll(rowCount).toBe(4);
      expect(await page.locator('.row.status-failed').count()).toBe(1);
      await page.fill('#filter', "params.opt = 'sgd'");
      await page.press('#filter', 'Enter');
      await expect.poll(rowCount).toBe(2);
      // Every request the page made carried the token: it got its data.
      expect(await page.textContent('[data-testid=row-count]')).toBe('2 of 4 runs');
    });

    it('shows a run with its attachments from the server, HTML as a download only', async () => {
      await open(url, `#/run/${e1}/0`);
      await page.waitForSelector('.run-view h2');
      expect(await page.textContent('.run-view h2')).toContain('first');
      for (const name of ['summary.json', 'preds.csv', 'notes.txt', 'weights.npy']) {
        await page.click(`details.attachment[data-name="${name}"] summary .mono`);
      }
      await expect
        .poll(() => page.textContent('[data-name="summary.json"] pre'))
        .toContain('"ok": true');
      await expect.poll(() => page.locator('[data-name="preds.csv"] tbody tr').count()).toBe(1);
      await expect.poll(() => page.textContent('[data-name="notes.txt"] .preview')).toBe('hello');
      await expect
        .poll(() => page.locator('[data-name="weights.npy"] table.csv td').count())
        .toBeGreaterThan(0);
      // text/html has no preview: a download link that carries the token.
      const html = page.locator('details.attachment[data-name="page.html"]');
      expect(await html.getAttribute('data-preview')).toBe('none');
      const href = (await html.locator('a.download').getAttribute('href'))!;
      expect(href).toContain('token=');
      const res = await page.request.get(new URL(href, url).href);
      expect(res.headers()['content-disposition']).toMatch(/^attachment/);
      expect(res.headers()['x-content-type-options']).toBe('nosniff');
      await expect.poll(() => page.locator('.spark svg').count()).toBe(2);
    });

    it('shows a solve with its values, and diffs two runs', async () => {
      await open(url, `#/run/${e1}/2`);
      await page.waitForSelector('.solve');
      expect(await page.textContent('.solve summary')).toContain('finished');
      expect(await page.locator('.solve .values tbody tr').count()).toBe(3);
      await open(url, `#/diff?runs=${e1}:0,${e1}:2`);
      await page.waitForSelector('table.diff');
      const fields = await page.$$eval('tr[data-field]', (r) =>
        r.map((x) => x.getAttribute('data-field'))
      );
      expect(fields).toEqual(expect.arrayContaining(['run.name', 'params.lr', 'params.layers']));
      expect(fields).not.toContain('params.opt'); // sgd in both
    });

    it('draws a run’s curve point for point', async () => {
      await open(url, `#/curves?metric=loss&sel=${e1}:0`);
      await expect.poll(() => page.getAttribute('.rl-curves', 'data-points')).toBe('3');
      expect(errors).toEqual([]);
    });
  });

  describe('the small study, served while the store changes', () => {
    it('says the store changed and reloads where it stood; with follow on, reloads by itself', async () => {
      const root = join(dir, 'changing');
      await cp(await recordSmallStudy(), root, { recursive: true });
      const registry = await LocalRegistry.open(root);
      const server = await serve(registry, ['runledger.local/ui/small']);
      // Asked every 150 ms instead of 5 s (the page takes ?poll=<ms>).
      const base = `${server.url}&poll=150`;
      await open(base, '#/runs?where=params.lr%20%3E%200');
      await expect.poll(rowCount).toBe(4);
      expect(await page.isChecked('[data-testid=follow]')).toBe(false);
      // Nothing changed: no notice, however often the page asks.
      await page.waitForTimeout(600);
      expect(await page.textContent('[data-testid=store-notice]')).toBe('');

      const commitRun = async (tag: string, name: string): Promise<void> => {
        const exp = await Experiment.create(`runledger.local/ui/small:${tag}`, { registry });
        await exp.run((run) => run.logParameter('lr', 0.7), { name });
        await exp.commit();
      };
      await commitRun('v3', 'late');
      await expect
        .poll(() => page.textContent('[data-testid=store-notice]'), { timeout: 10_000 })
        .toContain('The store changed');
      expect(await rowCount()).toBe(4); // the study shown stays as it was read until asked
      await page.screenshot({ path: screenshotPath('store-changed') });
      await page.click('[data-testid=reload]');
      await ready(page);
      await expect.poll(rowCount).toBe(5);
      // Reloaded where it stood: the same view, the same filter.
      expect(new URL(page.url()).hash).toContain('where=params.lr');
      expect(await page.inputValue('#filter')).toBe('params.lr > 0');

      // Follow: the next change reloads the page without being asked, and the box stays on.
      await page.check('[data-testid=follow]');
      await commitRun('v4', 'later');
      await expect.poll(rowCount, { timeout: 10_000 }).toBe(6);
      expect(await page.isChecked('[data-testid=follow]')).toBe(true);
      expect(await page.textContent('[data-testid=store-notice]')).toBe('');

      // A study still recording: each checkpoint is a change; its runs show, the experiment as draft.
      const live = await Experiment.create('runledger.local/ui/small:v5', { registry });
      await live.run((run) => run.logParameter('lr', 0.8), { name: 'recording' });
      await live.checkpoint();
      await expect.poll(rowCount, { timeout: 10_000 }).toBe(7);
      await page.click('nav a[data-view=experiments]');
      await expect
        .poll(() => page.textContent('tr[data-experiment]:last-child'))
        .toContain('draft');
      await page.screenshot({ path: screenshotPath('store-recording') });
      await live.commit();
      await expect
        .poll(() => page.textContent('tr[data-experiment]:last-child'), { timeout: 10_000 })
        .not.toContain('draft');
      await page.uncheck('[data-testid=follow]');
      expect(errors).toEqual([]);
    });
  });

  describe('a run still open in another process, followed', () => {
    it('shows it as running, its loss curve growing as the process logs', async () => {
      requireBuilt();
      const root = join(dir, 'live');
      const child = startNode(
        [
          fileURLToPath(new URL('./children/live-child.mjs', import.meta.url)),
          DIST_INDEX,
          'runledger.local/ui/live:v1',
        ],
        { RUNLEDGER_HOME: root }
      );
      try {
        await child.waitFor('ready');
        const registry = await LocalRegistry.open(root);
        const server = await serve(registry, ['runledger.local/ui/live']);
        const base = `${server.url}&poll=150`;
        await open(base, '#/runs');
        await expect.poll(rowCount).toBe(1);
        expect(await page.textContent('.row .badge.status-running')).toBe('running');
        await page.screenshot({ path: screenshotPath('live-runs') });
        const res = await fetch(new URL('/api/study', server.url), {
          headers: { 'X-Runledger-Token': server.token },
        });
        const id = ((await res.json()) as UiStudy).experiments[0]!.id;
        await open(base, `#/curves?metric=loss&sel=${id}:0`);
        await expect.poll(() => page.getAttribute('.rl-curves', 'data-points')).toBe('5');
        expect(await page.textContent('.rl-curves')).toContain('live-one (running)');
        await page.check('[data-testid=follow]');
        child.kill('SIGUSR2');
        await child.waitFor('more');
        // Followed: the page reloads on the journal's growth and draws the new points.
        await expect
          .poll(() => page.getAttribute('.rl-curves', 'data-points'), { timeout: 10_000 })
          .toBe('10');
        await page.screenshot({ path: screenshotPath('ui-live-curves') });
        await open(base, `#/run/${id}/0`);
        await expect.poll(() => page.textContent('.run-view')).toContain('still running');
        expect(await page.textContent('.run-view .badge.status-running')).toBe('running');
        await page.screenshot({ path: screenshotPath('ui-live-run'), fullPage: true });
        await page.uncheck('[data-testid=follow]');
        expect(errors).toEqual([]);
      } finally {
        child.kill('SIGKILL');
        await child.exited;
      }
    });
  });

  describe('a long study, followed', () => {
    it('keeps the runs table where it was scrolled across a reload', async () => {
      const root = join(dir, 'long');
      const registry = await LocalRegistry.open(root);
      const exp = await Experiment.create('runledger.local/ui/long:v1', { registry });
      for (let i = 0; i < 300; i++) await exp.run((run) => run.logParameter('i', i));
      await exp.commit();
      const server = await serve(registry, ['runledger.local/ui/long']);
      await open(`${server.url}&poll=150`, '#/runs');
      await expect.poll(rowCount).toBe(300);
      await page.check('[data-testid=follow]');
      const top = (): Promise<number> => page.$eval('main .grid', (g) => g.scrollTop);
      await page.$eval('main .grid', (g) => {
        g.scrollTop = 3000;
      });
      await expect.poll(top).toBe(3000);
      const more = await Experiment.create('runledger.local/ui/long:v2', { registry });
      await more.run((run) => run.logParameter('i', 300));
      await more.commit();
      await expect.poll(rowCount, { timeout: 10_000 }).toBe(301);
      await expect.poll(top).toBe(3000);
      await page.uncheck('[data-testid=follow]');
      expect(errors).toEqual([]);
    });
  });

  describe('the demo studies (the README’s screenshots)', () => {
    let url: string;
    let registry: LocalRegistry;
    let lp = '';
    let shownExperiments = 0;
    let ml: string;

    beforeAll(async () => {
      registry = await LocalRegistry.open(join(dir, 'store'));
      if (WITH_LP) await recordDemoStudy(registry);
      await recordMlDemoStudy(registry);
      const server = await serve(
        registry,
        WITH_LP ? [DEMO_REFERENCE, ML_DEMO_REFERENCE] : [ML_DEMO_REFERENCE]
      );
      url = server.url;
      const res = await fetch(new URL('/api/study', url), {
        headers: { 'X-Runledger-Token': server.token },
      });
      const { experiments } = (await res.json()) as UiStudy;
      const id = (project: string): string => experiments.find((e) => e.project === project)!.id;
      ml = id('demo/ml');
      if (WITH_LP) lp = id('demo/lp-mip');
      shownExperiments = experiments.length;
    }, 180_000);

    const shot = async (name: string): Promise<void> => {
      await page.mouse.move(0, 0);
      await page.screenshot({ path: screenshotPath(name) });
    };

    it('experiments and the runs table', async () => {
      await open(url, '#/experiments');
      expect(await page.locator('tr[data-experiment]').count()).toBe(shownExperiments);
      expect(shownExperiments).toBeGreaterThanOrEqual(WITH_LP ? 2 : 1);
      await shot('ui-experiments');
      if (WITH_LP) {
        await open(url, `#/runs?exp=${lp}&sort=${encodeURIComponent('duration_ms desc')}`);
        await expect.poll(rowCount).toBe(32);
        await shot('ui-runs');
      }
      await open(url, `#/runs?exp=${ml}&differ=1`);
      await expect.poll(rowCount).toBe(24);
      // Only the columns that differ: the grid's parameters, metrics, status; not the project.
      const cols = await page.$$eval('.head-cell', (c) =>
        c.map((x) => x.getAttribute('data-column'))
      );
      expect(cols).not.toContain('project');
      expect(cols).toContain('params.lr');
    });

    it('a run of each study', async () => {
      if (WITH_LP) {
        await open(url, `#/run/${lp}/1`);
        await page.waitForSelector('.solve');
        await shot('ui-run-solve');
      }
      await open(url, `#/run/${ml}/0`);
      await page.waitForSelector('.spark svg');
      await shot('ui-run-metrics');
    });

    it('parallel coordinates, scatter, curves and a diff of the ML study', async () => {
      await open(
        url,
        `#/parallel?exp=${ml}&axes=params.lr,params.batch_size,params.weight_decay,params.hidden,${encodeURIComponent('metrics.val/loss')},${encodeURIComponent('metrics.val/accuracy')}&color=${encodeURIComponent('metrics.val/accuracy')}`
      );
      await expect.poll(() => page.getAttribute('.rl-parallel', 'data-rows-visible')).toBe('24');
      await shot('ui-parallel');
      await open(
        url,
        `#/scatter?exp=${ml}&x=params.lr&xlog=1&y=${encodeURIComponent('metrics.val/accuracy')}&color=params.batch_size`
      );
      await expect.poll(() => page.getAttribute('.rl-scatter', 'data-rows-visible')).not.toBeNull();
      await shot('ui-scatter');
      await open(
        url,
        `#/curves?exp=${ml}&metric=${encodeURIComponent('val/loss')}&smooth=0.3&log=1`
      );
      await expect
        .poll(async () => Number(await page.getAttribute('.rl-curves', 'data-points')))
        .toBeGreaterThan(0);
      await shot('ui-curves');
      await open(url, `#/diff?runs=${ml}:0,${ml}:1,${ml}:2`);
      await page.waitForSelector('table.diff');
      await shot('ui-diff');
      await page.emulateMedia({ colorScheme: 'dark' });
      await open(url, `#/curves?exp=${ml}&metric=${encodeURIComponent('train/loss')}&log=1`);
      await expect
        .poll(async () => Number(await page.getAttribute('.rl-curves', 'data-points')))
        .toBeGreaterThan(0);
      await shot('ui-curves-dark');
      await page.emulateMedia({ colorScheme: 'light' });
    });

    it('the ML study as a report, opened from disk with the network off', async () => {
      const file = join(dir, 'ml-report.html');
      const summary = await writeReport(ML_DEMO_REFERENCE, file, { registry, page: pagePath });
      expect(summary.runs).toBe(24);
      const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
      await context.setOffline(true);
      const requests: string[] = [];
      await context.route('**/*', (route) => {
        const u = route.request().url();
        if (u.startsWith('file:')) return route.continue();
        requests.push(u);
        return route.abort();
      });
      const offline = await context.newPage();
      const offlineErrors = watchErrors(offline);
      const base = pathToFileURL(file).href;
      for (const hash of [
        '#/experiments',
        '#/runs',
        '#/parallel',
        '#/scatter',
        '#/curves',
        `#/run/${ml}/3`,
        `#/diff?runs=${ml}:0,${ml}:5`,
      ]) {
        await offline.goto('about:blank');
        await offline.goto(base + hash);
        await ready(offline);
        expect(await offline.locator('.error-box.fatal').count(), hash).toBe(0);
      }
      await offline.goto(`${base}#/curves?metric=${encodeURIComponent('val/loss')}`);
      await ready(offline);
      await expect
        .poll(async () => Number(await offline.getAttribute('.rl-curves', 'data-points')))
        .toBeGreaterThan(0);
      await offline.mouse.move(0, 0);
      await offline.screenshot({ path: screenshotPath('report-curves') });
      expect(requests).toEqual([]);
      expect(offlineErrors).toEqual([]);
      await context.close();
    });

    it('logged no error', () => {
      expect(errors).toEqual([]);
    });
  });
});
