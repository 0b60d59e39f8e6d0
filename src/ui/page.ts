/**
 * @module ui/page
 * The viewer's one page, built from web/ by scripts/build-web.mjs into `dist/web/index.html`:
 * where it is, and reading it (a missing build is an error that says how to make it).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RunledgerError } from '../errors.js';

/**
 * Where the built page is: `dist/web/index.html` of this package, found from this module
 * (`dist/src/ui/page.js` when built, `src/ui/page.ts` when run from the sources).
 * @returns the absolute path
 * @example
 * ```ts
 * defaultPagePath(); // '/…/node_modules/runledger/dist/web/index.html'
 * ```
 */
export function defaultPagePath(): string {
  const here = fileURLToPath(import.meta.url).replaceAll('\\', '/');
  const built = here.includes('/dist/src/ui/');
  return fileURLToPath(
    new URL(built ? '../../web/index.html' : '../../dist/web/index.html', import.meta.url)
  );
}

/**
 * Reads the built page.
 * @param path - the page (default {@link defaultPagePath})
 * @returns its HTML
 * @throws RunledgerError `DEPENDENCY_MISSING` when the page is not built (`npm run build` makes
 *   it), `IO_ERROR` when it cannot be read
 * @example
 * ```ts
 * const html = await readPage();
 * ```
 */
export async function readPage(path: string = defaultPagePath()): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') {
      throw new RunledgerError('DEPENDENCY_MISSING', `The viewer's page ${path} is not built.`, {
        data: { path, build: 'npm run build' },
        cause: e,
      });
    }
    throw new RunledgerError('IO_ERROR', `Could not read the viewer's page ${path}.`, {
      data: { path, errno },
      cause: e,
    });
  }
}
