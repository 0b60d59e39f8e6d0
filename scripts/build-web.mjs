// Builds the viewer's page: web/main.ts and the CSS it imports, bundled and minified by esbuild
// into ONE self-contained dist/web/index.html (script and style inlined, no external request),
// which `runledger ui` serves and `runledger report` fills with data. Run from the package root;
// `buildPage()` is also what the browser tests call, so they test the sources as they stand.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the page is written, relative to the package root. */
export const PAGE_PATH = 'dist/web/index.html';

/**
 * Bundles the page and returns its HTML. The Content-Security-Policy allows only the page's own
 * inline script (by its hash: an injected script cannot run), inline style, images from blob: and
 * data: URLs (attachment previews), and fetches to the server that served the page.
 */
export async function buildPage() {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['web/main.ts'],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome115', 'firefox115', 'safari16'],
    write: false,
    outdir: 'out',
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  // An inline script must not contain "</script" (nor a style "</style"): escape the slash.
  const script = js.replace(/<\/(script)/gi, '<\\/$1');
  const style = css.replace(/<\/(style)/gi, '<\\/$1');
  const hash = createHash('sha256').update(script).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${hash}'`,
    "style-src 'unsafe-inline'",
    'img-src blob: data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<meta name="color-scheme" content="light dark">' +
    '<title>runledger</title>' +
    `<style>${style}</style></head><body><div id="app"></div>` +
    `<script>${script}</script></body></html>\n`
  );
}

/** Builds the page and writes it to {@link PAGE_PATH}; returns the path written. */
export async function writePage() {
  const html = await buildPage();
  const out = join(ROOT, PAGE_PATH);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await writePage();
  process.stderr.write(`web: ${out}\n`);
}
