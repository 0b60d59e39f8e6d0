/**
 * The page's build (scripts/build-web.mjs): one self-contained HTML file — one inline script
 * whose hash the Content-Security-Policy pins, inline style, nothing fetched from elsewhere —
 * well under 300 KB.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { builtPage } from './page.js';

describe('scripts/build-web.mjs', () => {
  it('builds one self-contained page whose CSP allows its own script only', async () => {
    const html = await builtPage();
    expect(Buffer.byteLength(html)).toBeLessThan(300_000);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    const [, attrs, body] = scripts[0]!;
    expect(attrs).toBe('');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    expect(csp).toBeDefined();
    const directives = new Map(
      csp!.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values];
      })
    );
    const hash = createHash('sha256').update(body!).digest('base64');
    expect(directives.get('script-src')).toEqual([`'sha256-${hash}'`]);
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('img-src')).toEqual(['blob:', 'data:']);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    // No external resource: no src or href attribute, no stylesheet link, no @import.
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import/);
    // The report's data goes before the page's own (last) script.
    expect(html.lastIndexOf('<script>')).toBe(scripts[0]!.index);
  });
});
