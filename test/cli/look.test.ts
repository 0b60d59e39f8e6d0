/**
 * Looking at runs (issue 19, part 2): `show <ref> --run N`, `metrics`, `diff` and `get`'s
 * refusal to write binary to a terminal — each on a terminal of 80 and 200 columns, with
 * NO_COLOR, and in a pipe.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import type { CliIo } from '../../src/cli/types.js';
import { tempDir } from '../helpers/temp.js';
import { LOOK, LOOK2, lookCli, lookStudy, tty } from './look-study.js';

const RED = (s: string) => `\u001b[31m${s}\u001b[39m`;
const lines = (out: string): string[] => out.replace(/\n$/, '').split('\n');
const uncoloured = (out: string): string => out.replace(/\u001b\[\d+m/g, '');

describe('show <ref> --run N', () => {
  const RUN_0 = [
    'Experiment   ghcr.io/acme/look:v1',
    'Run          0  baseline',
    'Status       finished',
    'Labels       gpu',
    'Tags         stage=grid',
    '',
    'PARAMETER  VALUE',
    'dataset    qaplib/tai256c-with-a-long-instance-name-that-will-not-fit',
    'lr         0.05',
    'seed       1',
    'solver     highs',
    '',
  ];
  const ATTACHMENTS = [
    '',
    'ATTACHMENT  MEDIA TYPE                  SIZE',
    'notes       text/plain; charset=utf-8   24 B',
    'trace       application/vnd.numpy      152 B',
  ];

  it('on a terminal: record, parameters, metrics with a sparkline, attachments', async () => {
    const root = await lookStudy();
    const expected = [
      ...RUN_0,
      'METRIC  POINTS   LAST    MIN   MAX  TREND',
      'loss         8  0.125  0.125     1  █▄▃▂▂▁▁▁',
      'gap          1   0.25   0.25  0.25  ▄',
      ...ATTACHMENTS,
    ];
    for (const columns of [80, 200]) {
      const r = await lookCli(['--root', root, 'show', LOOK, '--run', '0'], {
        terminal: tty(columns),
      });
      expect(r.code, r.err).toBe(0);
      expect(lines(r.out)).toEqual(expected);
    }
    // At 40 columns the long parameter value is cut; nothing else is.
    const narrow = await lookCli(['--root', root, 'show', LOOK, '--run', '0'], {
      terminal: tty(40),
    });
    expect(lines(narrow.out)[7]).toBe('dataset    qaplib/tai256c-with-a-long-i…');
    expect(Math.max(...lines(narrow.out).map((l) => [...l].length))).toBeLessThanOrEqual(40);
  });

  it('in a pipe: the same without sparklines (the numbers say it)', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'show', LOOK, '--run', '0']);
    expect(lines(r.out)).toEqual([
      ...RUN_0,
      'METRIC  POINTS   LAST    MIN   MAX',
      'loss         8  0.125  0.125     1',
      'gap          1   0.25   0.25  0.25',
      ...ATTACHMENTS,
    ]);
  });

  it('a failed run: its status in red on a terminal (not with NO_COLOR), its error and stack', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'show', LOOK, '--run', '1'], { terminal: tty(80) });
    expect(r.code, r.err).toBe(0);
    const out = lines(r.out);
    expect(out[2]).toBe(`Status       ${RED('failed (TypeError: diverged at step 3)')}`);
    expect(out).toContain('dataset    tab\\there');
    expect(out).toContain('lr         0.3');
    expect(out.slice(out.indexOf('METRIC  POINTS  LAST  MIN  MAX  TREND'))[1]).toBe(
      'loss         3     4    2    4  ▁ █'
    );
    const error = out.indexOf('Error  TypeError: diverged at step 3');
    expect(error).toBeGreaterThan(0);
    expect(out[error + 1]).toMatch(/^ {2}at .*look-study\.ts:\d+:\d+\)$/);
    const plain = await lookCli(['--root', root, 'show', LOOK, '--run', '1'], {
      terminal: tty(80),
      env: { NO_COLOR: '1' },
    });
    expect(plain.out).toBe(uncoloured(r.out));
    expect(lines(plain.out)[2]).toBe('Status       failed (TypeError: diverged at step 3)');
  });

  it('--json: the run with snake_case keys; a run that is not there is a usage error', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, '--json', 'show', LOOK, '--run', '2']);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).toMatchObject({
      reference: LOOK,
      project: 'acme/look',
      run_id: 2,
      name: 'stopped',
      status: 'interrupted',
      reason: 'AbortError: stopped by the user',
      labels: [],
      tags: { stage: 'final' },
      parameters: { dataset: 'small', lr: 0.05, seed: 3, solver: 'highs' },
      metrics: [{ name: 'loss', points: 1, last_step: 0, last: 0.5, min: 0.5, max: 0.5 }],
      error: { type: 'AbortError', message: 'stopped by the user' },
      attachments: [],
      solves: [],
      samplings: [],
    });
    const one = JSON.parse(
      (await lookCli(['--root', root, '--json', 'show', LOOK, '--run', '1'])).out
    );
    expect(one.metrics[0]).toMatchObject({ last: 4, min: 2, max: 4, points: 3 });
    const zero = JSON.parse(
      (await lookCli(['--root', root, '--json', 'show', LOOK, '--run', '0'])).out
    );
    expect(zero.attachments[1]).toEqual({
      name: 'trace',
      media_type: 'application/vnd.numpy',
      size: 152,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const missing = await lookCli(['--root', root, 'show', LOOK, '--run', '7']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('Run "7" is not in ghcr.io/acme/look:v1; it has runs 0, 1, 2.');
  });
});

describe('metrics', () => {
  it('on a terminal: one row per run and metric, with a sparkline (80 and 200 columns)', async () => {
    const root = await lookStudy();
    for (const columns of [80, 200]) {
      const r = await lookCli(['--root', root, 'metrics', LOOK], { terminal: tty(columns) });
      expect(r.code, r.err).toBe(0);
      expect(lines(r.out)).toEqual([
        'RUN  METRIC  POINTS   LAST    MIN   MAX  TREND',
        '  0  loss         8  0.125  0.125     1  █▄▃▂▂▁▁▁',
        '  0  gap          1   0.25   0.25  0.25  ▄',
        '  1  loss         3      4      2     4  ▁ █',
        '  2  loss         1    0.5    0.5   0.5  ▄',
      ]);
    }
  });

  it('in a pipe: the values in step order instead of a sparkline', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'metrics', LOOK]);
    expect(lines(r.out)).toEqual([
      'RUN  METRIC  POINTS   LAST    MIN   MAX  VALUES',
      '  0  loss         8  0.125  0.125     1  1 0.5 0.333333 0.25 0.2 0.166667 0.142857 0.125',
      '  0  gap          1   0.25   0.25  0.25  0.25',
      '  1  loss         3      4      2     4  2 NaN 4',
      '  2  loss         1    0.5    0.5   0.5  0.5',
    ]);
    const raw = await lookCli(['--root', root, 'metrics', LOOK, 'loss', '--run', '0', '--raw']);
    expect(lines(raw.out)[1]).toContain(' 0.3333333333333333 ');
  });

  it('a name and --run pick series; --csv gives every point, --json every series', async () => {
    const root = await lookStudy();
    const csv = await lookCli(['--root', root, 'metrics', LOOK, 'loss', '--run', '1', '--csv']);
    expect(csv.out).toBe(
      'run_id,name,step,timestamp,value\n1,loss,0,0,2\n1,loss,1,0,NaN\n1,loss,2,0,4\n'
    );
    const json = await lookCli(['--root', root, '--json', 'metrics', LOOK, 'gap']);
    expect(JSON.parse(json.out)).toEqual([
      { run_id: 0, name: 'gap', steps: [0], timestamps: [0], values: [0.25] },
    ]);
    const nan = JSON.parse(
      (await lookCli(['--root', root, '--json', 'metrics', LOOK, '--run', '1'])).out
    );
    expect(nan[0].values).toEqual([2, 'NaN', 4]);
    const unknown = await lookCli(['--root', root, 'metrics', LOOK, 'los']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('No metric "los" in ghcr.io/acme/look:v1; it has loss, gap.');
    const none = await lookCli(['--root', root, 'metrics', LOOK2, '--run', '9']);
    expect(none.code).toBe(2);
  });
});

describe('diff', () => {
  const PAIR = [
    'A  ghcr.io/acme/look:v1  run 0  baseline',
    'B  ghcr.io/acme/look:v1  run 2  stopped',
    '',
    'FIELD              A                                                           B',
    'status             finished                                                    interrupted',
    'reason             (none)                                                      AbortError: stopped by the user',
    'labels             gpu                                                         (none)',
    'params.dataset     qaplib/tai256c-with-a-long-instance-name-that-will-not-fit  small',
    'params.seed        1                                                           3',
    'metrics.loss       0.125                                                       0.5',
    'metrics.gap        0.25                                                        (none)',
    'tags.stage         grid                                                        final',
    'attachments.notes  sha256:950371e9d422                                         (none)',
    'attachments.trace  sha256:fa4fff9dc647                                         (none)',
  ];

  it('<ref> N M: only the fields that differ, named as the runs table names them', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'diff', LOOK, '0', '2']);
    expect(r.code, r.err).toBe(0);
    expect(lines(r.out)).toEqual(PAIR);
    // The same runs as <ref>:N <ref>:M.
    const named = await lookCli(['--root', root, 'diff', `${LOOK}:0`, `${LOOK}:2`]);
    expect(named.out).toBe(r.out);
    // On a terminal: 200 columns hold it whole; 80 cut the long value; NO_COLOR the same.
    const wide = await lookCli(['--root', root, 'diff', LOOK, '0', '2'], { terminal: tty(200) });
    expect(uncoloured(wide.out)).toBe(r.out);
    const narrow = await lookCli(['--root', root, 'diff', LOOK, '0', '2'], {
      terminal: tty(80),
      env: { NO_COLOR: '1' },
    });
    // Both value columns are cut to one width, the widest first.
    expect(lines(narrow.out).slice(3, 8)).toEqual([
      'FIELD              A                               B',
      'status             finished                        interrupted',
      'reason             (none)                          AbortError: stopped by the u…',
      'labels             gpu                             (none)',
      'params.dataset     qaplib/tai256c-with-a-long-in…  small',
    ]);
    expect(Math.max(...lines(narrow.out).map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(narrow.out).not.toMatch(/\u001b\[/);
  });

  it('runs of two experiments, and two experiments with their runs paired by id', async () => {
    const root = await lookStudy();
    const across = await lookCli(['--root', root, 'diff', `${LOOK}:0`, `${LOOK2}:0`]);
    expect(lines(across.out).slice(0, 2)).toEqual([
      'A  ghcr.io/acme/look:v1  run 0  baseline',
      expect.stringMatching(/^B {2}ghcr\.io\/acme\/look:v2 {2}run 0 {2}[a-z]+-[a-z]+-\d+$/),
    ]);
    expect(lines(across.out).slice(3)).toEqual([
      'FIELD              A                                                           B',
      'labels             gpu                                                         (none)',
      'params.dataset     qaplib/tai256c-with-a-long-instance-name-that-will-not-fit  small',
      'metrics.loss       0.125                                                       (none)',
      'metrics.gap        0.25                                                        0.1',
      'tags.stage         grid                                                        (none)',
      'attachments.notes  sha256:950371e9d422                                         (none)',
      'attachments.trace  sha256:fa4fff9dc647                                         (none)',
    ]);
    const experiments = await lookCli(['--root', root, 'diff', LOOK, LOOK2]);
    const registry = await LocalRegistry.open(root);
    const digest = async (ref: string) => (await registry.resolve(ref)).digest.slice(0, 19);
    expect(lines(experiments.out)).toEqual([
      `A  ghcr.io/acme/look:v1  ${await digest(LOOK)}`,
      `B  ghcr.io/acme/look:v2  ${await digest(LOOK2)}`,
      '',
      'RUN  FIELD               A                                                           B',
      '     run_count           3                                                           2',
      '     attachments.banner  sha256:aee15c72232d                                         (none)',
      '  0  labels              gpu                                                         (none)',
      '  0  params.dataset      qaplib/tai256c-with-a-long-instance-name-that-will-not-fit  small',
      '  0  metrics.loss        0.125                                                       (none)',
      '  0  metrics.gap         0.25                                                        0.1',
      '  0  tags.stage          grid                                                        (none)',
      '  0  attachments.notes   sha256:950371e9d422                                         (none)',
      '  0  attachments.trace   sha256:fa4fff9dc647                                         (none)',
      '  1  status              failed                                                      finished',
      '  1  reason              TypeError: diverged at step 3                               (none)',
      '  1  params.dataset      tab\\there                                                   small',
      '  1  params.lr           0.3                                                         0.07',
      '  1  params.solver       scip                                                        highs',
      '  1  metrics.loss        4                                                           (none)',
      '  1  tags.stage          grid                                                        (none)',
      '  1  metrics.gap         (none)                                                      0.14',
      '  2  status              interrupted                                                 (none)',
    ]);
    const json = JSON.parse((await lookCli(['--root', root, '--json', 'diff', LOOK, LOOK2])).out);
    expect(json.a).toEqual({ reference: LOOK, digest: (await registry.resolve(LOOK)).digest });
    expect(json.differences).toContainEqual({
      run_id: 1,
      field: 'params.lr',
      a: 0.30000000000000004,
      b: 0.07,
    });
    expect(json.differences).toContainEqual({
      run_id: 2,
      field: 'status',
      a: 'interrupted',
      b: null,
    });
    expect(json.differences[0]).toEqual({ run_id: null, field: 'run_count', a: 3, b: 2 });
  });

  it('says when nothing differs; --exit-code exits 1 on a difference; a mix of forms is a usage error', async () => {
    const root = await lookStudy();
    const same = await lookCli(['--root', root, 'diff', LOOK, '0', '0', '--exit-code']);
    expect(same.code).toBe(0);
    expect(lines(same.out).slice(2)).toEqual(['', 'No differences.']);
    const json = await lookCli(['--root', root, '--json', 'diff', LOOK, '1', '1']);
    expect(JSON.parse(json.out).differences).toEqual([]);
    expect((await lookCli(['--root', root, 'diff', LOOK, '0', '2', '--exit-code'])).code).toBe(1);
    const mixed = await lookCli(['--root', root, 'diff', `${LOOK}:0`, LOOK2]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain('Compare two runs');
    const missing = await lookCli(['--root', root, 'diff', LOOK, '0', '5']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('Run "5" is not in ghcr.io/acme/look:v1');
    // A project's tag that looks like a run id is a tag: ghcr.io/acme/look:2 is no experiment.
    const tag = await lookCli(['--root', root, 'diff', 'ghcr.io/acme/look:2', LOOK]);
    expect(tag.code).toBe(1);
    expect(tag.err).toMatch(/REF_NOT_FOUND.*ghcr\.io\/acme\/look:2/);
  });
});

describe('get and the terminal', () => {
  /** The CLI with stdout a terminal (or a pipe), keeping the bytes written. */
  async function get(args: string[], isTTY: boolean, cwd?: string) {
    const chunks: Buffer[] = [];
    let err = '';
    const io: CliIo = {
      stdout: {
        write: (c: string | Uint8Array) => chunks.push(Buffer.from(c)),
        isTTY,
        columns: 80,
      },
      stderr: { write: (t: string) => (err += t) },
      env: {},
      ...(cwd === undefined ? {} : { cwd }),
    };
    const code = await main(args, io);
    return { code, out: Buffer.concat(chunks), err };
  }

  it('refuses binary (and text that would drive the terminal) without -o or --force', async () => {
    const root = await lookStudy();
    const binary = await get(['--root', root, 'get', LOOK, '--run', '0', 'trace'], true);
    expect(binary.code).toBe(2);
    expect(binary.out.length).toBe(0);
    expect(binary.err).toContain(
      'Attachment "trace" (application/vnd.numpy) is not text, and standard output is a terminal; write it to a file with -o PATH, or pass --force to print it anyway.'
    );
    const escapes = await get(['--root', root, 'get', LOOK, 'banner'], true);
    expect(escapes.code).toBe(2);
    expect(escapes.out.length).toBe(0);
    const text = await get(['--root', root, 'get', LOOK, '--run', '0', 'notes'], true);
    expect(text.code).toBe(0);
    expect(text.out.toString()).toBe('converged\nafter 8 steps\n');
  });

  it('writes it with --force, with -o, and always into a pipe', async () => {
    const root = await lookStudy();
    const piped = await get(['--root', root, 'get', LOOK, '--run', '0', 'trace'], false);
    expect(piped.code).toBe(0);
    expect(piped.out.subarray(0, 6).toString('latin1')).toBe('\u0093NUMPY');
    const forced = await get(['--root', root, 'get', LOOK, '--run', '0', 'trace', '--force'], true);
    expect(forced.code).toBe(0);
    expect(forced.out.equals(piped.out)).toBe(true);
    const dash = await get(['--root', root, 'get', LOOK, '--run', '0', 'trace', '-o', '-'], true);
    expect(dash.out.equals(piped.out)).toBe(true);
    const dir = await tempDir();
    const file = await get(
      ['--root', root, 'get', LOOK, '--run', '0', 'trace', '-o', 't.npy'],
      true,
      dir
    );
    expect(file.code).toBe(0);
    expect((await readFile(join(dir, 't.npy'))).equals(piped.out)).toBe(true);
  });
});
