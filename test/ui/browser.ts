/**
 * The browser-test harness: headless Debian Chromium driven by playwright-core through its
 * `executablePath` (no browser download). Suites `describe.skipIf(!hasChromium)`; when Chromium
 * is missing, loading this module says so once on stderr, so a skipped suite is never silent.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where Chromium is expected (Debian's `chromium` package); `RUNLEDGER_CHROMIUM` overrides it. */
export const CHROMIUM_PATH: string = process.env['RUNLEDGER_CHROMIUM'] ?? '/usr/bin/chromium';

/** Whether the browser suites can run here. */
export const hasChromium: boolean = existsSync(CHROMIUM_PATH);

if (!hasChromium) {
  process.stderr.write(
    `Browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set RUNLEDGER_CHROMIUM).\n`
  );
}

/**
 * Launches headless Chromium with no background traffic of its own (updates, sync, QUIC), so a
 * test that counts requests sees only the page's.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let dir: string | undefined;

/**
 * The folder screenshots go to: `RUNLEDGER_SCREENSHOTS` when set (the README's are made with
 * `RUNLEDGER_SCREENSHOTS=docs/screenshots`), else one temp folder for this process.
 */
export function screenshotDir(): string {
  if (dir === undefined) {
    const wanted = process.env['RUNLEDGER_SCREENSHOTS'];
    if (wanted !== undefined && wanted !== '') {
      dir = resolve(wanted);
      mkdirSync(dir, { recursive: true });
    } else {
      dir = mkdtempSync(join(tmpdir(), 'runledger-screenshots-'));
    }
  }
  return dir;
}

/** The path of a screenshot named `name` (`runs-table` → `<dir>/runs-table.png`). */
export function screenshotPath(name: string): string {
  return join(screenshotDir(), `${name}.png`);
}
