import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRunledgerError, RunledgerError } from '../src/errors.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The members of the ErrorCode union in src/errors.ts. */
async function errorCodes(): Promise<string[]> {
  const errorsTs = await readFile(join(SRC, 'errors.ts'), 'utf8');
  const start = errorsTs.indexOf('export type ErrorCode');
  // The union ends at its last member's `';` (doc comments may hold semicolons).
  const union = errorsTs.slice(start, errorsTs.indexOf("';", start) + 1);
  return [...union.matchAll(/\| '([A-Z_]+)'/g)].map((m) => m[1]!);
}

describe('RunledgerError', () => {
  it('every ErrorCode in the union is thrown somewhere in src/', async () => {
    const codes = await errorCodes();
    expect(codes.length).toBeGreaterThan(10);
    const text = (await Promise.all((await sources(SRC)).map((f) => readFile(f, 'utf8')))).join(
      '\n'
    );
    const unthrown = codes.filter(
      (c) =>
        // Thrown with the code written out, or chosen by status into a variable (remote/http.ts).
        !new RegExp(`new (?:RunledgerError|RemoteError)\\(\\s*'${c}'|\\bcode = '${c}'`).test(text)
    );
    expect(unthrown).toEqual([]);
  });

  it("every ErrorCode in the union has a row in the README's error table", async () => {
    const codes = await errorCodes();
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Errors\n'));
    const rows = new Set([...section.matchAll(/^\| `([A-Z_]+)` +\|/gm)].map((m) => m[1]!));
    expect(codes.filter((c) => !rows.has(c))).toEqual([]);
    expect([...rows].filter((c) => !codes.includes(c))).toEqual([]);
  });

  it('carries code, data and cause, and serialises to JSON', () => {
    const cause = new Error('disk');
    const e = new RunledgerError('IO_ERROR', 'Could not write /x.', {
      data: { path: '/x' },
      cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('RunledgerError');
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      name: 'RunledgerError',
      code: 'IO_ERROR',
      message: 'Could not write /x.',
      data: { path: '/x' },
      cause: 'Error: disk',
    });
  });

  it('isRunledgerError checks the brand and the code', () => {
    const e = new RunledgerError('REF_CONFLICT', 'conflict');
    expect(isRunledgerError(e)).toBe(true);
    expect(isRunledgerError(e, 'REF_CONFLICT')).toBe(true);
    expect(isRunledgerError(e, 'REF_NOT_FOUND')).toBe(false);
    expect(isRunledgerError(new Error('x'))).toBe(false);
    expect(isRunledgerError(null)).toBe(false);
    expect(isRunledgerError({ code: 'REF_CONFLICT' })).toBe(false);
  });
});
