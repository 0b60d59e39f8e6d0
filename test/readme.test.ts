/**
 * The README is a manual whose snippets run: every ```ts block is executed against the built
 * package (by its own name), with a fresh RUNLEDGER_HOME.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Experiment } from '../src/experiment/experiment.js';
import { LocalRegistry } from '../src/store/local-registry.js';
import { requireBuilt } from './helpers/built.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const SNIPPETS = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

beforeAll(() => requireBuilt());

describe('README', () => {
  it('shows the command list exactly as `runledger --help` prints it, wherever it shows it', () => {
    const help = execFileSync(process.execPath, [`${ROOT}dist/src/cli/bin.js`, '--help'], {
      encoding: 'utf8',
    });
    const blocks = [...README.matchAll(/```\n(Usage: runledger \[[\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(block).toBe(help);
  });

  it('has no draft notes: no HTML comment, no "is replaced by" instruction to whoever merges it', () => {
    // Drafts written beside the README say where their paragraphs go; such notes once ended up in
    // the rendered text.
    expect(README).not.toContain('<!--');
    expect(README).not.toContain('-->');
    expect(README).not.toMatch(/\bis replaced by (the|one) (paragraph|one|sentence)s? below\b/);
  });

  it('has TypeScript snippets to run', () => {
    expect(SNIPPETS.length).toBeGreaterThan(0);
  });

  it.each(SNIPPETS.map((s, i) => [i, s] as const))('snippet %i runs', async (_i, code) => {
    const home = await tempDir();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, RUNLEDGER_HOME: home },
      encoding: 'utf8',
    });
    if (code.includes("publishRef('ghcr.io/acme/qap:tai20a'")) {
      expect(out).toBe('true solver log…\n');
      const registry = await LocalRegistry.open(home);
      expect((await registry.listRefs()).map((r) => r.reference)).toEqual([
        'ghcr.io/acme/qap:tai20a',
      ]);
      expect((await registry.fsck()).ok).toBe(true);
    }
    if (code.includes('queryTable(')) expect(out).toBe('1 0n\n');
    if (code.includes('await query(')) expect(out).toBe('0.01: 0.433, 0.1: 1.333\n');
    if (code.includes('await exp.sweep(')) expect(out).toBe('8 8 true\n');
    if (code.includes('marketSplit(')) expect(out).toBe('ABORTED interrupted true\n');
    if (code.includes('solveInWorker(')) expect(out).toBe('example.AllOnes finished 3 true\n');
    if (code.includes("where: \"attributes.status = 'FINISHED'")) expect(out).toBe('2 lr-0.001\n');
    if (code.includes('writeReport(') && code.includes('serveUi(')) {
      expect(out).toBe('2 true\n[ 0, 1 ] 403\n');
    }
    if (code.includes('inspectArchive(')) {
      expect(out).toBe('ghcr.io/acme/qap:shared true\n');
    }
    if (code.includes("Experiment.create('ghcr.io/acme/train:v1')")) {
      expect(out).toBe('[ 1, 0.5, 0.3333333333333333 ]\n');
    }
    if (code.includes("new InstanceBuilder({ name: 'tiny-lp' })")) {
      expect(out).toBe('12 true\n1 tiny-lp\n');
    }
    if (code.includes("Experiment.create('ghcr.io/acme/knapsack:demo')")) {
      expect(out).toBe('runledger.adapters.highs.HighsAdapter finished 20\n[ 20, 20 ]\n');
    }
    if (code.includes("Experiment.create('ghcr.io/acme/qap:tai20a'")) {
      expect(out.split('\n')[0]).toBe('71 3');
      expect(out).toContain('10n, 20n, 40n');
      const registry = await LocalRegistry.open(home);
      const sealed = await Experiment.load('ghcr.io/acme/qap:tai20a', { registry });
      expect(sealed.runs.map((r) => r.attachmentNames)).toEqual([
        ['settings', 'trace'],
        ['settings', 'trace'],
        ['settings', 'trace'],
      ]);
    }
  });
});
