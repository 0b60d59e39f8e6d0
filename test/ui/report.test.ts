/**
 * The self-contained report (src/ui/report.ts): the bundle inlined before the page's own script
 * decodes (base64 → gunzip → frame, test/ui/pack.test.ts) to what UiData gives; the built page's script stays as its
 * CSP hash pins it; files are not overwritten unless asked; an unbuilt page says how to build it.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { UiData } from '../../src/ui/data.js';
import type { UiBundle } from '../../src/ui/model.js';
import { defaultPagePath } from '../../src/ui/page.js';
import { inlineBundle, reportHtml, writeReport } from '../../src/ui/report.js';
import { tempDir } from '../helpers/temp.js';
import { decodeReport, PROJECT, recordSmallStudy } from './study.js';
import { syntheticBundle } from './synthetic.js';

const PAGE =
  '<!doctype html><html><head><title>runledger</title></head><body><div id="app"></div><script>window.x=1</script></body></html>';

function withoutReadAt(b: UiBundle): unknown {
  return JSON.parse(JSON.stringify({ ...b, study: { ...b.study, readAt: '' } }));
}

async function fixture(): Promise<{ registry: LocalRegistry; page: string }> {
  const registry = await LocalRegistry.open(await recordSmallStudy());
  const page = join(await tempDir(), 'index.html');
  await writeFile(page, PAGE);
  return { registry, page };
}

describe('runledger report', () => {
  it('inlines the bundle before the page script, and it decodes to what UiData gives', async () => {
    const { registry, page } = await fixture();
    const { html, summary } = await reportHtml(PROJECT, { registry, page });
    const data = await UiData.open({ registry, experiments: PROJECT });
    const { bundle } = await data.bundle();
    expect(withoutReadAt(decodeReport(html))).toEqual(withoutReadAt(bundle));
    const at = html.indexOf('id="runledger-data"');
    expect(at).toBeGreaterThan(html.indexOf('<div id="app">'));
    expect(at).toBeLessThan(html.indexOf('<script>window.x=1</script>'));
    expect(html.endsWith('<script>window.x=1</script></body></html>')).toBe(true);
    expect(html).toContain(`<title>runledger — ${PROJECT}</title>`);
    expect(summary).toEqual({
      size: Buffer.byteLength(html),
      experiments: 2,
      runs: 4,
      attachments: 5,
      omitted: { tooLarge: 0, overTotal: 0, notPreviewable: 1 },
    });
  });

  it('escapes the title and never lets the data close its script early', () => {
    const base = syntheticBundle({ runs: 2, params: 1, metrics: 1, points: 3, seed: 1 });
    const bundle: UiBundle = {
      ...base,
      study: { ...base.study, title: '</script><script>alert(1)</script>' },
      metrics: base.metrics.map((m) => ({ ...m, name: '</script>' })),
    };
    const html = inlineBundle(PAGE, bundle);
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).toContain(
      '<title>runledger — &#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;</title>'
    );
    expect(decodeReport(html).study.title).toBe('</script><script>alert(1)</script>');
    expect(decodeReport(html).metrics[0]?.name).toBe('</script>');
  });

  it('keeps the built page script byte for byte, so its CSP hash still allows it', async () => {
    const path = defaultPagePath();
    if (!existsSync(path)) {
      console.log(`${path} is not built: the built page's check is skipped`);
      return;
    }
    const { registry } = await fixture();
    const { html } = await reportHtml(PROJECT, { registry });
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256')
      .update(scripts[0] as string)
      .digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(decodeReport(html).study.experiments).toHaveLength(2);
  });

  it('writes a file, refuses to replace one unless asked', async () => {
    const { registry, page } = await fixture();
    const out = join(await tempDir(), 'report.html');
    const summary = await writeReport(PROJECT, out, { registry, page });
    const html = await readFile(out, 'utf8');
    expect(summary.size).toBe(Buffer.byteLength(html));
    expect(decodeReport(html).runs).toHaveLength(4);
    await expect(writeReport(PROJECT, out, { registry, page })).rejects.toMatchObject({
      code: 'FILE_EXISTS',
    });
    await writeReport(`${PROJECT}:v2`, out, { registry, page, overwrite: true });
    expect(decodeReport(await readFile(out, 'utf8')).runs).toHaveLength(1);
  });

  it('refuses a selection that names no experiment', async () => {
    const { registry, page } = await fixture();
    await expect(reportHtml('ghcr.io/', { registry, page })).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
      message: `No experiment in the store ${registry.root} matches ghcr.io/; a report needs one.`,
    });
  });

  it('says an unbuilt page is missing and how to build it', async () => {
    const { registry } = await fixture();
    const page = join(await tempDir(), 'dist', 'web', 'index.html');
    await expect(reportHtml(PROJECT, { registry, page })).rejects.toMatchObject({
      code: 'DEPENDENCY_MISSING',
      message: `The viewer's page ${page} is not built.`,
      data: { build: 'npm run build' },
    });
  });
});
