import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isRunledgerError, type RunledgerError } from '../../src/errors.js';
import { typedColumnsTable } from '../../src/tables/arrow.js';
import { parseSort, parseWhere, queryTable, type Cell, type Row } from '../../src/tables/query.js';

const COLUMNS = [
  'run_id',
  'name',
  'status',
  'parent_run_id',
  'duration_ms',
  'params.time_limit',
  'params.my key',
  'metrics.loss',
  'tags.stage',
  'tags.ok',
];

const ROWS: readonly Row[] = [
  {
    run_id: 1n,
    name: 'alpha',
    status: 'finished',
    parent_run_id: null,
    duration_ms: 1200,
    'params.time_limit': 10,
    'params.my key': 'x',
    'metrics.loss': 0.5,
    'tags.stage': 'dev',
    'tags.ok': true,
  },
  {
    run_id: 2n,
    name: 'beta',
    status: 'failed',
    parent_run_id: 1n,
    duration_ms: 30,
    'params.time_limit': 60,
    'params.my key': null,
    'metrics.loss': Number.NaN,
    'tags.stage': 'prod',
    'tags.ok': false,
  },
  {
    run_id: 9007199254740993n,
    name: 'gamma_1',
    status: 'finished',
    parent_run_id: 1n,
    duration_ms: 5,
    'params.time_limit': 10.5,
    'metrics.loss': 0.1,
    'tags.stage': null,
    'tags.ok': true,
  },
  {
    run_id: 4n,
    name: 'Gamma%2',
    status: 'running',
    parent_run_id: null,
    duration_ms: null,
    'params.time_limit': null,
    'metrics.loss': null,
    'tags.stage': 'dev',
    'tags.ok': null,
  },
  {
    run_id: 5n,
    name: 'delta',
    status: 'finished',
    parent_run_id: 2n,
    duration_ms: 99,
    'params.time_limit': '10',
    'metrics.loss': -2e-3,
    'tags.stage': 'it\'s "q"',
    'tags.ok': false,
  },
  {
    run_id: 6n,
    name: 'épsilon',
    status: 'FINISHED',
    parent_run_id: 5n,
    duration_ms: 0,
    'params.time_limit': 1e3,
    'metrics.loss': 0.1,
    'tags.stage': 'prod',
    'tags.ok': true,
  },
];

function ids(expr: string): number[] {
  return ROWS.filter(parseWhere(expr, COLUMNS)).map((r) => Number(r['run_id']));
}

const BIG = Number(9007199254740993n);

describe('parseWhere', () => {
  it.each([
    // comparisons and operator spellings
    ["status = 'finished'", [1, BIG, 5]],
    ["status == 'finished'", [1, BIG, 5]],
    ["status != 'finished'", [2, 4, 6]],
    ["status <> 'finished'", [2, 4, 6]],
    ['duration_ms < 30', [BIG, 6]],
    ['duration_ms <= 30', [2, BIG, 6]],
    ['duration_ms > 99', [1]],
    ['duration_ms >= 99', [1, 5]],
    ['metrics.loss < 0', [5]],
    ['metrics.loss >= -2e-3', [1, BIG, 5, 6]],
    ['metrics.loss = .1', [BIG, 6]],
    // NaN is unordered: only != holds; null fails everything
    ['metrics.loss != 0.1', [1, 2, 5]],
    ["name > 'd'", [BIG, 5, 6]],
    ["name < 'beta'", [1, 4]],
    // bigints compare exactly with integer and float literals
    ['run_id = 9007199254740993', [BIG]],
    ['run_id = 9007199254740992', []],
    ['run_id > 9007199254740992', [BIG]],
    ['run_id < 4.5', [1, 2, 4]],
    ['run_id >= 4.0', [BIG, 4, 5, 6]],
    ['parent_run_id = 1', [2, BIG]],
    ['params.time_limit = 1000', [6]],
    ['params.time_limit > 10', [2, BIG, 6]],
    // type mismatches are false, not errors
    ["params.time_limit = '10'", [5]],
    ['params.time_limit = 10', [1]],
    ["params.time_limit != 'x'", [5]],
    ['tags.ok = true', [1, BIG, 6]],
    ['tags.ok = TRUE', [1, BIG, 6]],
    ['tags.ok != true', [2, 5]],
    ['tags.ok = 1', []],
    ['tags.ok > false', [1, BIG, 6]],
    ['name = null', []],
    ['name != null', []],
    // is [not] null
    ['parent_run_id is null', [1, 4]],
    ['parent_run_id IS NOT NULL', [2, BIG, 5, 6]],
    ['`params.my key` is null', [2, BIG, 4, 5, 6]],
    ["`params.my key` = 'x'", [1]],
    // in / not in
    ["tags.stage in ('dev', 'prod')", [1, 2, 4, 6]],
    ["tags.stage not in ('dev')", [2, 5, 6]],
    ['run_id in (1, 6.0, 9007199254740993)', [1, BIG, 6]],
    ['params.time_limit not in (10, 60)', [BIG, 6]],
    // like
    ["name like 'gamma%'", [BIG]],
    ["name like '%a'", [1, 2, 5]],
    ["name like '_____'", [1, 5]],
    ["name like '_psilon'", [6]],
    ["name like 'Gamma%2'", [4]],
    ["name not like '%a%'", [6]],
    ["status LIKE 'fin%'", [1, BIG, 5]],
    ["duration_ms like '%'", []],
    // ilike (MLflow's spelling): like, ignoring case
    ["name ilike 'GAMMA%'", [BIG, 4]],
    ["name not ilike '%A%'", [6]],
    ["status ILIKE 'FIN%'", [1, BIG, 5, 6]], // run 6 is 'FINISHED'
    // escapes and double quotes
    ['tags.stage = "it\'s \\"q\\""', [5]],
    ["tags.stage = 'it\\'s \"q\"'", [5]],
    // not, precedence, parentheses
    ["not status = 'finished'", [2, 4, 6]],
    ["not not status = 'finished'", [1, BIG, 5]],
    ["status = 'failed' or status = 'running' and tags.stage = 'prod'", [2]],
    ["(status = 'failed' or status = 'running') and tags.stage = 'prod'", [2]],
    ["status = 'running' or status = 'failed' and tags.stage = 'dev'", [4]],
    ["(status = 'running' or status = 'failed') and tags.stage = 'dev'", [4]],
    ["not (status = 'finished' or tags.stage = 'dev')", [2, 6]],
    ["not status = 'finished' and tags.stage = 'dev'", [4]],
    ['metrics.loss is null or not (metrics.loss < 0.2)', [1, 2, 4]],
  ] as const)('%s', (expr, expected) => {
    expect(ids(expr)).toEqual(expected);
  });

  function usageOf(f: () => unknown): RunledgerError {
    try {
      f();
    } catch (e) {
      if (isRunledgerError(e, 'USAGE')) return e;
      throw e;
    }
    throw new Error('expected a USAGE error');
  }

  it.each([
    [
      'metrics.los < 1',
      0,
      /Unknown column "metrics.los" at position 0.*did you mean metrics\.loss/,
    ],
    ["status = 'finished", 9, /Unterminated string starting at position 9/],
    ['`params.my key = 1', 0, /Unterminated backquoted name at position 0/],
    ['run_id = 1 run_id', 11, /Expected the end at position 11/],
    ['run_id = 1)', 10, /Expected the end at position 10/],
    ['run_id =', 8, /Expected a literal .* at position 8.*found the end/],
    ['run_id = 1 and', 14, /Expected a column name at position 14/],
    ['run_id = 1 and or run_id = 2', 15, /Expected a column name at position 15.*"or"/],
    ['', 0, /Expected a column name at position 0/],
    ['(run_id = 1', 11, /Expected "\)" at position 11/],
    ['run_id in ()', 11, /Expected a literal .* at position 11.*"\)"/],
    ['run_id 1', 7, /Expected an operator/],
    ['run_id not = 1', 11, /Expected "in", "like" or "ilike" at position 11/],
    ['run_id is 1', 10, /Expected "null" at position 10/],
    ['name like 3', 10, /Expected a quoted pattern at position 10/],
    ['name = bob', 7, /Expected a literal .* at position 7.*"bob"/],
    ['name ! 1', 5, /Unexpected character "!" at position 5/],
  ] as const)('rejects %j at position %i', (expr, position, message) => {
    const e = usageOf(() => parseWhere(expr, COLUMNS));
    expect(e.message).toMatch(message);
    expect(e.data).toMatchObject({ expr, position });
  });

  it('lists close matches for an unknown column', () => {
    const e = usageOf(() => parseWhere('Status = 1', COLUMNS));
    expect(e.data['suggestions']).toEqual(['status']);
    const none = usageOf(() => parseWhere('zzzzzzzz = 1', COLUMNS));
    expect(none.message).toBe('Unknown column "zzzzzzzz" at position 0 of the filter.');
    expect(none.data['suggestions']).toEqual([]);
  });

  it('treats a column absent from a row as null', () => {
    expect(parseWhere('tags.ok is null', COLUMNS)({})).toBe(true);
    expect(parseWhere('tags.ok != true', COLUMNS)({})).toBe(false);
  });

  const nonNull: fc.Arbitrary<Exclude<Cell, null>> = fc.oneof(
    fc.double(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.integer({ min: -5, max: 5 }),
    fc.string(),
    fc.boolean()
  );
  const literal: fc.Arbitrary<string> = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => String(n)),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => String(n)),
    fc.integer({ min: -5, max: 5 }).map((n) => String(n)),
    fc.string().map((s) => `'${s.replace(/[\\']/g, '\\$&')}'`),
    fc.constantFrom('true', 'false', 'null')
  );
  const comparison: fc.Arbitrary<string> = fc.oneof(
    fc
      .tuple(fc.constantFrom('=', '==', '!=', '<>', '<', '<=', '>', '>='), literal)
      .map(([op, lit]) => `x ${op} ${lit}`),
    fc.array(literal, { minLength: 1, maxLength: 3 }).map((l) => `x in (${l.join(', ')})`),
    fc.array(literal, { minLength: 1, maxLength: 3 }).map((l) => `x not in (${l.join(', ')})`),
    fc.string().map((s) => `x like '${s.replace(/[\\']/g, '\\$&')}'`),
    fc.constantFrom('x is null', 'x is not null')
  );

  it('makes not (E) the exact complement of E on non-null cells', () => {
    fc.assert(
      fc.property(nonNull, comparison, (x, expr) => {
        const row = { x };
        expect(parseWhere(`not (${expr})`, ['x'])(row)).toBe(!parseWhere(expr, ['x'])(row));
      })
    );
  });

  it('makes each operator the complement of its opposite for same-kind, non-NaN cells', () => {
    const opposite = [
      ['=', '!='],
      ['<', '>='],
      ['>', '<='],
    ] as const;
    const sameKind = fc.oneof(
      fc.tuple(
        fc.oneof(fc.double({ noNaN: true }), fc.bigInt()),
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt())
      ),
      fc.tuple(fc.string(), fc.string()),
      fc.tuple(fc.boolean(), fc.boolean())
    );
    fc.assert(
      fc.property(sameKind, fc.constantFrom(...opposite), ([x, lit], [op, neg]) => {
        const text = typeof lit === 'string' ? `'${lit.replace(/[\\']/g, '\\$&')}'` : String(lit);
        const row = { x };
        expect(parseWhere(`x ${neg} ${text}`, ['x'])(row)).toBe(
          !parseWhere(`x ${op} ${text}`, ['x'])(row)
        );
      })
    );
  });
});

describe('parseSort', () => {
  function order(spec: string): number[] {
    return [...ROWS].sort(parseSort(spec, COLUMNS)).map((r) => Number(r['run_id']));
  }

  it.each([
    ['metrics.loss', [5, BIG, 6, 1, 2, 4]],
    ['metrics.loss asc', [5, BIG, 6, 1, 2, 4]],
    ['metrics.loss DESC', [1, BIG, 6, 5, 2, 4]],
    ['metrics.loss desc, run_id desc', [1, BIG, 6, 5, 2, 4]],
    ['metrics.loss asc, run_id desc', [5, BIG, 6, 1, 2, 4]],
    ['metrics.loss, run_id desc', [5, BIG, 6, 1, 2, 4]],
    ['duration_ms desc', [1, 5, 2, BIG, 6, 4]],
    ['parent_run_id, run_id', [2, BIG, 5, 6, 1, 4]],
    ['parent_run_id desc, run_id', [6, 5, 2, BIG, 1, 4]],
    ['tags.stage', [1, 4, 5, 2, 6, BIG]],
    ['tags.ok desc, name', [1, BIG, 6, 2, 5, 4]],
    ['status', [6, 2, 1, BIG, 5, 4]],
    ['run_id desc', [BIG, 6, 5, 4, 2, 1]],
    ['`params.my key`', [1, 2, BIG, 4, 5, 6]],
  ] as const)('%s', (spec, expected) => {
    expect(order(spec)).toEqual(expected);
  });

  it('orders mixed kinds booleans < numbers < strings, with NaN then null last', () => {
    const cells: Cell[] = [null, 'b', Number.NaN, 2n, true, 1.5, 'a', false];
    const rows = cells.map((c) => ({ c }));
    const asc = [...rows].sort(parseSort('c', ['c'])).map((r) => r.c);
    expect(asc).toEqual([false, true, 1.5, 2n, 'a', 'b', Number.NaN, null]);
    const desc = [...rows].sort(parseSort('c desc', ['c'])).map((r) => r.c);
    expect(desc).toEqual(['b', 'a', 2n, 1.5, true, false, Number.NaN, null]);
  });

  it('orders strings by code point', () => {
    const rows = [{ s: '\uffff' }, { s: '\u{1f600}' }, { s: 'a' }];
    expect([...rows].sort(parseSort('s', ['s'])).map((r) => r.s)).toEqual([
      'a',
      '\uffff',
      '\u{1f600}',
    ]);
  });

  it.each([
    ['run_id sideways', 7, /Expected the end at position 7/],
    ['run_id,', 7, /Expected a column name at position 7/],
    ['', 0, /Expected a column name at position 0/],
    ['metricz.loss', 0, /Unknown column "metricz.loss" .*sort spec; did you mean metrics\.loss/],
  ] as const)('rejects %j at position %i', (spec, position, message) => {
    let error: unknown;
    try {
      parseSort(spec, COLUMNS);
    } catch (e) {
      error = e;
    }
    expect(isRunledgerError(error, 'USAGE')).toBe(true);
    expect((error as RunledgerError).message).toMatch(message);
    expect((error as RunledgerError).data).toMatchObject({ expr: spec, position });
  });

  it('gives antisymmetric comparators', () => {
    const cell: fc.Arbitrary<Cell> = fc.oneof(
      fc.constant(null),
      fc.double(),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
      fc.integer({ min: -3, max: 3 }),
      fc.string({ maxLength: 3 }),
      fc.boolean()
    );
    const row = fc.record({ a: cell, b: cell });
    fc.assert(
      fc.property(
        row,
        row,
        fc.constantFrom('a', 'a desc', 'b asc, a desc', 'a desc, b'),
        (x, y, spec) => {
          const compare = parseSort(spec, ['a', 'b']);
          expect(compare(x, y)).toBe(-compare(y, x) || 0);
          expect(compare(x, x)).toBe(0);
        }
      )
    );
  });
});

describe('queryTable', () => {
  const table = typedColumnsTable([
    { name: 'run_id', type: 'int64', values: [0, 1, 2, 3] },
    { name: 'status', type: 'utf8', values: ['finished', 'failed', 'finished', 'finished'] },
    { name: 'metrics.gap', type: 'float64', values: [0.5, null, 0.1, 0.3] },
    { name: 'params.presolve', type: 'bool', values: [true, false, false, null] },
  ]);
  const ids = (t: typeof table): number[] =>
    Array.from({ length: t.numRows }, (_, i) => Number(t.getChild('run_id')?.get(i)));

  it('keeps the rows a filter keeps, in the order a sort spec gives, with every column', () => {
    const out = queryTable(table, { where: "status = 'finished'", orderBy: 'metrics.gap asc' });
    expect(ids(out)).toEqual([2, 3, 0]);
    expect(out.schema.fields.map((f) => f.name)).toEqual(table.schema.fields.map((f) => f.name));
    expect(out.getChild('params.presolve')?.get(1)).toBe(null);
    expect(ids(queryTable(table, { orderBy: 'metrics.gap desc' }))).toEqual([0, 3, 2, 1]);
    expect(ids(queryTable(table, { where: 'params.presolve is null or run_id > 1' }))).toEqual([
      2, 3,
    ]);
  });

  it('gives the table itself without a filter or sort', () => {
    expect(queryTable(table)).toBe(table);
  });

  it('refuses an unknown column before reading a row (USAGE naming it)', () => {
    for (const [options, name] of [
      [{ where: 'metrics.gapp < 1' }, 'metrics.gapp'],
      [{ orderBy: 'gap' }, 'gap'],
    ] as const) {
      let error: unknown;
      try {
        queryTable(table, options);
      } catch (e) {
        error = e;
      }
      expect(isRunledgerError(error, 'USAGE')).toBe(true);
      expect((error as Error).message).toContain(name);
    }
  });
});
