/**
 * The viewer's page for browser tests: built from web/ as it stands (scripts/build-web.mjs, once
 * per process), written to a temp file for the server, or filled with a bundle exactly as
 * `runledger report` fills it (src/ui/report.ts `inlineBundle`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { buildPage } from '../../scripts/build-web.mjs';
import type { UiBundle } from '../../src/ui/model.js';
import { inlineBundle } from '../../src/ui/report.js';

let built: Promise<string> | undefined;

/** The page's HTML, built from web/ once per process. */
export function builtPage(): Promise<string> {
  built ??= buildPage();
  return built;
}

/** Writes the built page to `dir/index.html` (for `serveUi({ page })`) and returns its path. */
export async function writePageFile(dir: string): Promise<string> {
  const path = join(dir, 'index.html');
  await writeFile(path, await builtPage());
  return path;
}

/** Writes a report of `bundle` to `dir/<name>` as `runledger report` would; returns its file URL. */
export async function writeReportFile(
  dir: string,
  bundle: UiBundle,
  name = 'report.html'
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, inlineBundle(await builtPage(), bundle));
  return pathToFileURL(path).href;
}

/**
 * Collects what goes wrong on a page: uncaught errors, console errors, and CSP violations.
 * Tests assert the list is empty at the end.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Waits until the page has read its study and shown its first view. */
export async function ready(page: Page): Promise<void> {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
}
