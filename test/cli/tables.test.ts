/**
 * Tables that fit and read (issue 19, part 1): numbers written one way and right-aligned, cells
 * escaped, tables cut to a terminal's width (80 and 200 columns) and whole in a pipe or with
 * --wide, colour for failed and interrupted runs on a terminal only (NO_COLOR, FORCE_COLOR), the
 * runs table with its metrics by default and --where / --sort / --columns taking the names the
 * header shows, and snake_case JSON from ls, projects and checkpoints.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { colorEnabled } from '../../src/cli/color.js';
import {
  displayWidth,
  escapeText,
  formatNumber,
  formatTable,
  truncateText,
} from '../../src/cli/format.js';
import { sparkline } from '../../src/cli/sparkline.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { LOOK, lookCli, lookStudy, tty } from './look-study.js';

const RED = (s: string) => `\u001b[31m${s}\u001b[39m`;
const YELLOW = (s: string) => `\u001b[33m${s}\u001b[39m`;
// The escape character, as a pattern.
const ANSI = /\u001b\[/;

/** The lines of an output, without the empty one after the last newline. */
const lines = (out: string): string[] => out.replace(/\n$/, '').split('\n');
/** The widest line, in terminal columns, once colour codes are taken out. */
const widest = (out: string): number =>
  Math.max(...lines(out).map((l) => displayWidth(l.replace(/\u001b\[\d+m/g, ''))));

describe('numbers', () => {
  it('are written to 6 significant digits, integers in full, --raw in full precision', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(0.1 + 0.2, true)).toBe('0.30000000000000004');
    expect(formatNumber(0.05)).toBe('0.05');
    expect(formatNumber(1 / 3)).toBe('0.333333');
    expect(formatNumber(123456.7)).toBe('123457');
    expect(formatNumber(1234567.89)).toBe('1.23457e+6');
    expect(formatNumber(0.0000123456789)).toBe('0.0000123457');
    expect(formatNumber(1e-7)).toBe('1e-7');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(123456789)).toBe('123456789');
    expect(formatNumber(2n ** 63n - 1n)).toBe('9223372036854775807');
    expect(formatNumber(-0)).toBe('0');
    expect([Number.NaN, Infinity, -Infinity].map((v) => formatNumber(v))).toEqual([
      'NaN',
      'Infinity',
      '-Infinity',
    ]);
  });

  it('read back within 6 significant digits, and exactly with --raw', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(Number(formatNumber(v, true))).toBe(v === 0 ? 0 : v); // -0 is written 0
        const text = formatNumber(v);
        expect(text).not.toMatch(/\.\d*0(e|$)/); // no trailing zeros
        if (v !== 0) expect(Math.abs(Number(text) - v) / Math.abs(v)).toBeLessThanOrEqual(5e-6);
      })
    );
  });
});

describe('cells', () => {
  it('escape newlines, tabs, control characters and bidirectional overrides', () => {
    expect(escapeText('a\nb\r\tc')).toBe('a\\nb\\r\\tc');
    expect(escapeText('\u001b[2J\u0007\u007f\u0085')).toBe('\\x1b[2J\\x07\\x7f\\x85');
    expect(escapeText('evil\u202etxt.exe\u2028')).toBe('evil\\u202etxt.exe\\u2028');
    expect(escapeText('plain ü 日本 ✓')).toBe('plain ü 日本 ✓');
    expect(escapeText(escapeText('a\nb'))).toBe('a\\nb');
  });

  it('are measured in terminal columns and cut with …', () => {
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('🎉x')).toBe(3);
    expect(truncateText('ghcr.io/acme/qap:v1', 10)).toBe('ghcr.io/a…');
    expect(truncateText('日本語', 4)).toBe('日…');
    expect(truncateText('short', 10)).toBe('short');
  });
});

describe('formatTable', () => {
  const header = ['name', 'value', 'note'];
  const rows = [
    ['a', '1', 'x'.repeat(50)],
    ['bb', '22.5', 'second\nline'],
  ];

  it('right-aligns numbers, escapes cells, and cuts nothing without a width', () => {
    expect(formatTable(header, rows, { align: ['left', 'right', 'left'] })).toEqual([
      'name  value  note',
      'a         1  ' + 'x'.repeat(50),
      'bb     22.5  second\\nline',
    ]);
  });

  it('cuts the widest text column to fit a width, never a number', () => {
    expect(formatTable(header, rows, { align: ['left', 'right', 'left'], width: 30 })).toEqual([
      'name  value  note',
      'a         1  ' + 'x'.repeat(16) + '…',
      'bb     22.5  second\\nline',
    ]);
  });

  it('keeps the end of a cut reference with cut: middle, and of a dotted title', () => {
    expect(
      formatTable(['experiment', 'metrics.loss'], [['ghcr.io/acme/look:v1', '0.5']], {
        align: ['left', 'right'],
        cut: ['middle'],
        width: 20,
      })
    ).toEqual(['experime…  …ics.loss', 'ghcr…k:v1        0.5']);
  });

  it('fits any table into any width, and shows every cell whole without one', () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.double().map(String)
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.tuple(
            fc.array(fc.string({ maxLength: 12 }), { minLength: n, maxLength: n }),
            fc.array(fc.array(cell, { minLength: n, maxLength: n }), { maxLength: 5 }),
            fc.array(fc.constantFrom('left' as const, 'right' as const), {
              minLength: n,
              maxLength: n,
            })
          )
        ),
        fc.integer({ min: 1, max: 200 }),
        ([head, body, align], width) => {
          for (const line of formatTable(head, body, { align, width })) {
            expect(displayWidth(line)).toBeLessThanOrEqual(width);
          }
          const whole = formatTable(head, body, { align });
          body.forEach((r, i) => {
            for (const c of r) expect(whole[i + 1]).toContain(escapeText(c).trim());
          });
        }
      )
    );
  });
});

describe('colour', () => {
  const io = (isTTY: boolean, env: Record<string, string> = {}) => ({
    stdout: { write: () => true, isTTY },
    env,
  });
  it('is on for a terminal, off in a pipe; NO_COLOR turns it off, FORCE_COLOR on', () => {
    expect(colorEnabled(io(true))).toBe(true);
    expect(colorEnabled(io(false))).toBe(false);
    expect(colorEnabled(io(true, { NO_COLOR: '1' }))).toBe(false);
    expect(colorEnabled(io(true, { NO_COLOR: '' }))).toBe(true);
    expect(colorEnabled(io(false, { FORCE_COLOR: '1' }))).toBe(true);
    expect(colorEnabled(io(true, { FORCE_COLOR: '0' }))).toBe(false);
    expect(colorEnabled(io(true, { NO_COLOR: '1', FORCE_COLOR: '1' }))).toBe(false);
    expect(colorEnabled(io(true, { TERM: 'dumb' }))).toBe(false);
  });
});

describe('sparklines', () => {
  it('scale a history to ▁…█, average long ones down, and leave NaN blank', () => {
    expect(sparkline([1, 0.5, 0.25, 0.125])).toBe('█▄▂▁');
    expect(sparkline([2, 2, 2])).toBe('▄▄▄');
    expect(sparkline([1, Number.NaN, 3])).toBe('▁ █');
    expect(sparkline([])).toBe('');
    const long = sparkline(
      Array.from({ length: 1000 }, (_, i) => i),
      10
    );
    // Ten shares of a hundred points each: their means are 49.5, 149.5, …, 949.5.
    expect(long).toBe('▁▂▃▃▄▅▆▆▇█');
  });
});

describe('runs as a table', () => {
  const HEADER =
    'run_id  status       labels  dataset                                                       lr  seed  solver  metrics.loss  metrics.gap';
  const FULL = [
    'Project  acme/look',
    '',
    HEADER,
    '     0  finished     gpu     qaplib/tai256c-with-a-long-instance-name-that-will-not-fit  0.05     1  highs          0.125         0.25',
    '     1  failed               tab\\there                                                    0.3     2  scip               4',
    '     2  interrupted          small                                                       0.05     3  highs            0.5',
  ];

  it('in a pipe: every value whole, metrics by default, numbers right-aligned, no colour', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'runs', LOOK]);
    expect(r.code, r.err).toBe(0);
    expect(lines(r.out)).toEqual(FULL);
  });

  it('on a terminal of 80 columns: cut to fit, failed red and interrupted yellow', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'runs', LOOK], { terminal: tty(80) });
    expect(lines(r.out)).toEqual([
      'Project  acme/look',
      '',
      'run_id  status       labels  dataset      lr  seed  solver  …ics.loss  …rics.gap',
      '     0  finished     gpu     qaplib/t…  0.05     1  highs       0.125       0.25',
      `     1  ${RED('failed')}               tab\\there   0.3     2  scip            4`,
      `     2  ${YELLOW('interrupted')}          small      0.05     3  highs         0.5`,
    ]);
    expect(widest(r.out)).toBe(80);
    // NO_COLOR: the same table without the colour.
    const plain = await lookCli(['--root', root, 'runs', LOOK], {
      terminal: tty(80),
      env: { NO_COLOR: '1' },
    });
    expect(plain.out).toBe(r.out.replace(/\u001b\[\d+m/g, ''));
    expect(plain.out).not.toMatch(ANSI);
  });

  it('on a terminal of 200 columns, or with --wide / --no-trunc: whole, coloured', async () => {
    const root = await lookStudy();
    const coloured = [
      ...FULL.slice(0, 4),
      FULL[4]!.replace('failed     ', `${RED('failed')}     `),
      FULL[5]!.replace('interrupted', YELLOW('interrupted')),
    ];
    const wide = await lookCli(['--root', root, 'runs', LOOK], { terminal: tty(200) });
    expect(lines(wide.out)).toEqual(coloured);
    for (const flag of ['--wide', '--no-trunc']) {
      const r = await lookCli(['--root', root, 'runs', LOOK, flag], { terminal: tty(80) });
      expect(lines(r.out)).toEqual(coloured);
    }
    // A terminal that does not say its width is taken as COLUMNS wide, else 80.
    const columns = await lookCli(['--root', root, 'runs', LOOK], {
      terminal: { isTTY: true },
      env: { COLUMNS: '60' },
    });
    expect(widest(columns.out)).toBeLessThanOrEqual(60);
    const unknown = await lookCli(['--root', root, 'runs', LOOK], { terminal: { isTTY: true } });
    expect(widest(unknown.out)).toBe(80);
  });

  it('FORCE_COLOR colours a pipe (still whole); --raw gives full precision', async () => {
    const root = await lookStudy();
    const forced = await lookCli(['--root', root, 'runs', LOOK], { env: { FORCE_COLOR: '1' } });
    expect(forced.out).toContain(RED('failed'));
    expect(forced.out.replace(/\u001b\[\d+m/g, '')).toBe(`${FULL.join('\n')}\n`);
    const raw = await lookCli(['--root', root, 'runs', LOOK, '--raw']);
    expect(lines(raw.out)[4]).toContain(' 0.30000000000000004 ');
    // CSV and JSON always carry full precision.
    const csv = await lookCli(['--root', root, 'runs', LOOK, '--csv']);
    expect(csv.out).toContain(',0.30000000000000004,');
    expect(lines(csv.out)[0]).toBe(
      'run_id,project,status,labels,dataset,lr,seed,solver,metrics.loss,metrics.gap'
    );
  });

  it('over a project: experiment, run_id, status, params.*, metrics.*; the tag kept when cut', async () => {
    const root = await lookStudy();
    const pipe = await lookCli(['--root', root, 'runs', 'ghcr.io/acme/look']);
    expect(lines(pipe.out)).toEqual([
      'experiment            run_id  status       params.dataset                                              params.lr  params.seed  params.solver  metrics.loss  metrics.gap',
      'ghcr.io/acme/look:v1       0  finished     qaplib/tai256c-with-a-long-instance-name-that-will-not-fit       0.05            1  highs                 0.125         0.25',
      'ghcr.io/acme/look:v1       1  failed       tab\\there                                                         0.3            2  scip                      4',
      'ghcr.io/acme/look:v1       2  interrupted  small                                                            0.05            3  highs                   0.5',
      'ghcr.io/acme/look:v2       0  finished     small                                                            0.05            1  highs                                0.1',
      'ghcr.io/acme/look:v2       1  finished     small                                                            0.07            2  highs                               0.14',
    ]);
    const narrow = await lookCli(['--root', root, 'runs', 'ghcr.io/acme/look'], {
      terminal: tty(80),
      env: { NO_COLOR: '1' },
    });
    expect(lines(narrow.out)).toEqual([
      'experiment   run_id  status       …taset  …ms.lr  ….seed  …olver  ….loss  …s.gap',
      'ghcr.…ok:v1       0  finished     qapli…    0.05       1  highs    0.125    0.25',
      'ghcr.…ok:v1       1  failed       tab\\t…     0.3       2  scip         4',
      'ghcr.…ok:v1       2  interrupted  small     0.05       3  highs      0.5',
      'ghcr.…ok:v2       0  finished     small     0.05       1  highs              0.1',
      'ghcr.…ok:v2       1  finished     small     0.07       2  highs             0.14',
    ]);
    const wide = await lookCli(['--root', root, 'runs', 'ghcr.io/acme/look'], {
      terminal: tty(200),
      env: { NO_COLOR: '1' },
    });
    expect(wide.out).toBe(pipe.out);
  });

  it('--where, --sort and --columns take the names the header shows (and the full ones)', async () => {
    const root = await lookStudy();
    const ids = async (...args: string[]) => {
      const r = await lookCli(['--root', root, 'runs', LOOK, ...args, '--json']);
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { run_id: number }[]).map((row) => row.run_id);
    };
    expect(await ids('--where', 'lr > 0.1')).toEqual([1]);
    expect(await ids('--where', 'params.lr > 0.1')).toEqual([1]);
    expect(await ids('--where', "solver = 'highs'", '--sort', 'seed desc')).toEqual([2, 0]);
    expect(await ids('--where', 'metrics.loss < 1', '--sort', 'metrics.loss')).toEqual([0, 2]);
    const picked = await lookCli([
      '--root',
      root,
      'runs',
      LOOK,
      '--columns',
      'run_id,seed,params.solver,metrics.loss',
      '--csv',
    ]);
    expect(picked.out).toBe(
      'run_id,seed,params.solver,metrics.loss\n0,1,highs,0.125\n1,2,scip,4\n2,3,highs,0.5\n'
    );
    // Over a project the header says params.*, and bare names are taken too.
    const project = await lookCli([
      '--root',
      root,
      'runs',
      'ghcr.io/acme/look',
      '--columns',
      'experiment,seed,metrics.gap',
      '--where',
      'params.seed = 2',
      '--csv',
    ]);
    expect(project.out).toBe(
      'experiment,seed,metrics.gap\nghcr.io/acme/look:v1,2,\nghcr.io/acme/look:v2,2,0.14\n'
    );
    const bad = await lookCli(['--root', root, 'runs', LOOK, '--columns', 'sede']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('No column "sede"');
  });
});

describe('show, ls, projects, size and checkpoints as tables', () => {
  it('show fits 80 columns and colours the failed and interrupted runs', async () => {
    const root = await lookStudy();
    const r = await lookCli(['--root', root, 'show', LOOK], { terminal: tty(80) });
    expect(r.code, r.err).toBe(0);
    // Every line but the full digest (kept whole, to be copied) fits.
    const digest = lines(r.out).filter((l) => l.startsWith('Digest  '));
    expect(digest).toHaveLength(1);
    expect(widest(r.out.replace(`${digest[0]}\n`, ''))).toBeLessThanOrEqual(80);
    const table = lines(r.out).slice(9, 13);
    expect(table).toEqual([
      'RUN  NAME      STATUS       PARAMS  METRICS    TAGS         ATTACHMENTS   REASON',
      '  0  baseline  finished          4  loss, gap  stage=grid   notes, trace',
      `  1  diverged  ${RED('failed')}            4  loss       stage=grid                 TypeE…`,
      `  2  stopped   ${YELLOW('interrupted')}       4  loss       stage=final                Abort…`,
    ]);
    const pipe = await lookCli(['--root', root, 'show', LOOK]);
    expect(pipe.out).not.toMatch(ANSI);
    expect(pipe.out).toContain(
      '  1  diverged  failed            4  loss       stage=grid                 TypeError: diverged at step 3\n'
    );
  });

  it('ls, projects, size and checkpoints fit a narrow terminal, cut references in the middle', async () => {
    const root = await lookStudy();
    const ls = await lookCli(['--root', root, 'ls'], { terminal: tty(60) });
    expect(widest(ls.out)).toBeLessThanOrEqual(60);
    expect(lines(ls.out)[1]).toMatch(/^gh\S*…\S*:v1\s+sha256:\S+\s+experiment\s+finished\s+3/);
    const pipe = await lookCli(['--root', root, 'ls']);
    expect(lines(pipe.out)[1]).toMatch(
      /^ghcr\.io\/acme\/look:v1 {2}sha256:[0-9a-f]{12} {2}experiment {2}finished {5}3 {2}\d{4}-/
    );
    const projects = await lookCli(['--root', root, 'projects'], { terminal: tty(40) });
    expect(widest(projects.out)).toBeLessThanOrEqual(40);
    const size = await lookCli(['--root', root, 'size', LOOK], { terminal: tty(30) });
    expect(widest(size.out)).toBeLessThanOrEqual(30);
    expect(lines(size.out)[1]).toMatch(/^gh\S*…\S*:v1 +\d+ +[\d.]+ KiB +\d+$/);
  });

  it('--json: snake_case keys in ls, projects and checkpoints', async () => {
    const root = await lookStudy();
    const ls = JSON.parse((await lookCli(['--root', root, 'ls', '--json'])).out) as object[];
    expect(Object.keys(ls[0]!).sort()).toEqual(
      ['digest', 'reference', 'runs', 'samplings', 'solves', 'status', 'type', 'updated_at'].sort()
    );
    const projects = JSON.parse(
      (await lookCli(['--root', root, 'projects', '--json'])).out
    ) as object[];
    expect(projects).toEqual([
      {
        reference: 'ghcr.io/acme/look',
        project: 'acme/look',
        experiments: 2,
        run_count: 5,
        latest: 'v2',
        updated_at: expect.stringMatching(/^\d{4}-/),
      },
    ]);
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create('ghcr.io/acme/draft:v1', { registry, journal: false });
    await exp.run((run) => run.logParameter('seed', 1));
    await exp.checkpoint();
    const checkpoints = JSON.parse(
      (await lookCli(['--root', root, 'checkpoints', '--json'])).out
    ) as { checkpoints: object[] };
    expect(Object.keys(checkpoints).sort()).toEqual(['checkpoints', 'crash_journals', 'recording']);
    expect(checkpoints.checkpoints[0]).toMatchObject({
      requested_image_name: 'ghcr.io/acme/draft:v1',
      status: 'draft',
      run_count: 1,
      solve_count: 0,
    });
    for (const key of Object.keys(checkpoints.checkpoints[0]!)) expect(key).toMatch(/^[a-z_]+$/);
  });
});
