import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isRunledgerError, type ErrorCode, type RunledgerError } from '../../src/errors.js';
import {
  classifyValue,
  decodeRunParameters,
  encodeRunParameters,
  ParameterTable,
  validateParameterName,
  type ParameterColumn,
  type ParameterType,
  type ParameterValue,
} from '../../src/experiment/parameters.js';
import { compareCodePoints } from '../../src/formats/code-points.js';
import { MsgpackWriter } from '../../src/formats/msgpack-writer.js';
import { decodeMsgpack, type Msgpack } from '../helpers/ommx-validator.js';

function expectError(fn: () => unknown, code: ErrorCode): RunledgerError {
  try {
    fn();
  } catch (e) {
    expect(isRunledgerError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as RunledgerError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
/** msgpack str header + UTF-8 bytes, for names up to 31 bytes (fixstr). */
const fixstr = (s: string): string => {
  const b = Buffer.from(s, 'utf8');
  expect(b.length).toBeLessThan(32);
  return (0xa0 | b.length).toString(16) + b.toString('hex');
};

function table(rows: Record<number, Record<string, ParameterValue>>): ParameterTable {
  const t = new ParameterTable();
  for (const [run, params] of Object.entries(rows)) {
    for (const [name, value] of Object.entries(params)) t.set(Number(run), name, value);
  }
  return t;
}

/** The cells of a table as plain data, floats compared with Object.is semantics by toEqual. */
function cells(t: ParameterTable): [string, ParameterType, [number, ParameterValue][]][] {
  return t
    .columns()
    .map((c: ParameterColumn) => [c.name, c.type, [...c.values].sort(([a], [b]) => a - b)]);
}

describe('validateParameterName', () => {
  it('accepts ordinary names, up to 256 code points, any non-control character', () => {
    for (const name of ['solver', 'time_limit', 'a', 'x.y/z w', 'é', '\u00a0', '__proto__', '😀']) {
      expect(() => validateParameterName(name)).not.toThrow();
    }
    validateParameterName('n'.repeat(256));
    // 256 emoji are 512 UTF-16 code units but 256 characters.
    validateParameterName('😀'.repeat(256));
  });

  it('refuses empty, too long, control characters, lone surrogates and non-strings', () => {
    expect(expectError(() => validateParameterName(''), 'PARAMETER_INVALID').message).toBe(
      'A parameter name must not be empty.'
    );
    expect(
      expectError(() => validateParameterName('n'.repeat(257)), 'PARAMETER_INVALID').message
    ).toMatch(/has 257 characters, more than the 256 allowed/);
    expectError(() => validateParameterName('😀'.repeat(257)), 'PARAMETER_INVALID');
    for (const c of ['\u0000', '\t', '\n', '\u001f', '\u007f', '\u0080', '\u009f']) {
      const e = expectError(() => validateParameterName(`a${c}b`), 'PARAMETER_INVALID');
      expect(e.message).toContain('control character U+');
      expect(e.data['name']).toBe(`a${c}b`);
    }
    expect(
      expectError(() => validateParameterName('a\u0001'), 'PARAMETER_INVALID').message
    ).toContain('U+0001');
    expectError(() => validateParameterName('x\ud800'), 'PARAMETER_INVALID');
    expectError(() => validateParameterName('\udc00x'), 'PARAMETER_INVALID');
    expectError(() => validateParameterName(1), 'PARAMETER_INVALID');
    expectError(() => validateParameterName(undefined), 'PARAMETER_INVALID');
  });

  it('is applied by check, set and log', () => {
    const t = new ParameterTable();
    expectError(() => t.check(0, '', 1), 'PARAMETER_INVALID');
    expectError(() => t.set(0, 'a\nb', 1), 'PARAMETER_INVALID');
    expectError(() => t.log(0, 'x'.repeat(300), 1), 'PARAMETER_INVALID');
    expect(t.columns()).toEqual([]);
  });
});

describe('classifyValue', () => {
  it('maps each JS type to its column type', () => {
    expect(classifyValue(true)).toBe('bool');
    expect(classifyValue(false)).toBe('bool');
    expect(classifyValue('highs')).toBe('string');
    expect(classifyValue('')).toBe('string');
    expect(classifyValue(20)).toBe('int64');
    expect(classifyValue(-7)).toBe('int64');
    expect(classifyValue(Number.MAX_SAFE_INTEGER)).toBe('int64');
    expect(classifyValue(0.5)).toBe('float64');
    expect(classifyValue(2 ** 53)).toBe('float64'); // an integer, but not a safe one
    expect(classifyValue(1e300)).toBe('float64');
    expect(classifyValue(NaN)).toBe('float64');
    expect(classifyValue(Infinity)).toBe('float64');
    expect(classifyValue(-Infinity)).toBe('float64');
    expect(classifyValue(5n)).toBe('int64');
  });

  it('takes bigints within int64 only', () => {
    expect(classifyValue(2n ** 63n - 1n)).toBe('int64');
    expect(classifyValue(-(2n ** 63n))).toBe('int64');
    for (const v of [2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n]) {
      const e = expectError(() => classifyValue(v), 'PARAMETER_INVALID');
      expect(e.message).toContain('must fit in int64');
    }
  });

  it('refuses every other JS type', () => {
    const others: [unknown, string][] = [
      [null, 'null'],
      [undefined, 'undefined'],
      [{}, 'an object'],
      [[1], 'an array'],
      [new Date(0), 'an object'],
      [Symbol('s'), 'a symbol'],
      [() => 1, 'a function'],
    ];
    for (const [v, what] of others) {
      const e = expectError(() => classifyValue(v), 'PARAMETER_INVALID');
      expect(e.message).toBe(
        `The value of a parameter must be bool, number, bigint or string, not ${what}.`
      );
    }
  });

  it('refuses strings with a lone surrogate (UTF-8 cannot carry them)', () => {
    expectError(() => classifyValue('a\ud800'), 'PARAMETER_INVALID');
    expect(classifyValue('a\ud83d\ude00')).toBe('string');
  });

  it('names the parameter when the table checks a value', () => {
    const t = new ParameterTable();
    const e = expectError(() => t.check(0, 'seed', 2n ** 63n), 'PARAMETER_INVALID');
    expect(e.message).toBe(
      'Value 9223372036854775808 of parameter `seed` must fit in int64 (−2^63 to 2^63 − 1).'
    );
    // Error data survives JSON (the CLI prints it): bigints are given as strings.
    expect(e.data).toEqual({ name: 'seed', value: '9223372036854775808' });
    expect(() => JSON.stringify(e)).not.toThrow();
    expect(expectError(() => t.check(0, 'seed', null as never), 'PARAMETER_INVALID').message).toBe(
      'The value of parameter `seed` must be bool, number, bigint or string, not null.'
    );
  });
});

describe('ParameterTable', () => {
  it('stores ints as bigint and floats as numbers', () => {
    const t = table({ 0: { a: 20, b: 20n, c: 0.5, d: true, e: 'x' } });
    expect(cells(t)).toEqual([
      ['a', 'int64', [[0, 20n]]],
      ['b', 'int64', [[0, 20n]]],
      ['c', 'float64', [[0, 0.5]]],
      ['d', 'bool', [[0, true]]],
      ['e', 'string', [[0, 'x']]],
    ]);
  });

  it('refuses a type clash with other runs, naming the column, its type and the run', () => {
    const t = table({ 3: { solver: 'highs' } });
    const e = expectError(() => t.check(7, 'solver', 0.5), 'PARAMETER_TYPE_CONFLICT');
    expect(e.message).toBe('Parameter `solver` is string (set by run 3); run 7 logged a float64.');
    expect(e.data).toEqual({
      name: 'solver',
      columnType: 'string',
      setBy: 3,
      runId: 7,
      valueType: 'float64',
    });
    expect(expectError(() => t.set(7, 'solver', 1), 'PARAMETER_TYPE_CONFLICT').message).toBe(
      'Parameter `solver` is string (set by run 3); run 7 logged an int64.'
    );
    expectError(() => t.log(7, 'solver', true), 'PARAMETER_TYPE_CONFLICT');
    expect(cells(t)).toEqual([['solver', 'string', [[3, 'highs']]]]);

    const b = table({ 1: { presolve: true } });
    expectError(() => b.check(2, 'presolve', 1), 'PARAMETER_TYPE_CONFLICT');
    expectError(() => b.check(2, 'presolve', 'on'), 'PARAMETER_TYPE_CONFLICT');
    const i = table({ 1: { n: 5 } });
    expectError(() => i.check(2, 'n', 'five'), 'PARAMETER_TYPE_CONFLICT');
    expectError(() => i.check(2, 'n', false), 'PARAMETER_TYPE_CONFLICT');
  });

  it('names the run that fixed the float type after a promotion', () => {
    const t = table({ 0: { x: 1 }, 4: { x: 2.5 }, 5: { x: 3 } });
    expect(expectError(() => t.check(9, 'x', 'a'), 'PARAMETER_TYPE_CONFLICT').message).toBe(
      'Parameter `x` is float64 (set by run 4); run 9 logged a string.'
    );
  });

  it('check does not change the table', () => {
    const t = table({ 0: { x: 1 } });
    t.check(1, 'x', 2.5);
    t.check(1, 'y', 'new');
    expect(cells(t)).toEqual([['x', 'int64', [[0, 1n]]]]);
  });

  it('promotes an int64 column to float64 when a float arrives, converting its ints', () => {
    const t = table({ 0: { time_limit: 20 }, 1: { time_limit: 30n } });
    t.set(2, 'time_limit', 2.5);
    expect(cells(t)).toEqual([
      [
        'time_limit',
        'float64',
        [
          [0, 20],
          [1, 30],
          [2, 2.5],
        ],
      ],
    ]);
    // A float64 column takes ints, stored as floats.
    t.set(3, 'time_limit', 7);
    t.set(4, 'time_limit', 8n);
    expect(t.columns()[0]!.values.get(3)).toBe(7);
    expect(t.columns()[0]!.values.get(4)).toBe(8);
    expect(t.columns()[0]!.setBy).toBe(2);
  });

  it('keeps NaN and ±Infinity', () => {
    const t = table({ 0: { a: NaN, b: Infinity, c: -Infinity } });
    expect(cells(t)).toEqual([
      ['a', 'float64', [[0, NaN]]],
      ['b', 'float64', [[0, Infinity]]],
      ['c', 'float64', [[0, -Infinity]]],
    ]);
  });

  it('log refuses a changed value for a name the run already logged (DESIGN §3)', () => {
    const t = new ParameterTable();
    t.log(0, 'solver', 'highs');
    t.log(0, 'solver', 'highs');
    t.log(0, 'seed', 7);
    t.log(0, 'seed', 7n); // the same int64
    t.log(0, 'gap', NaN);
    t.log(0, 'gap', NaN);
    const e = expectError(() => t.log(0, 'solver', 'scip'), 'PARAMETER_INVALID');
    expect(e.message).toBe(
      'Run 0 already logged parameter `solver` as "highs" (string); it cannot change to "scip" (string).'
    );
    const seed = expectError(() => t.check(0, 'seed', 8), 'PARAMETER_INVALID');
    expect(seed.data).toEqual({ name: 'seed', runId: 0, logged: '7', value: 8 });
    expect(() => JSON.stringify(seed)).not.toThrow();
    expectError(() => t.log(0, 'seed', 'seven'), 'PARAMETER_INVALID');
    expectError(() => t.log(0, 'gap', 0.1), 'PARAMETER_INVALID');
    // An int logged into a float64 column is remembered as that int.
    t.log(1, 'gap', 3);
    t.log(1, 'gap', 3);
    expectError(() => t.log(1, 'gap', 3.5), 'PARAMETER_INVALID');
    expect(cells(t)).toEqual([
      [
        'gap',
        'float64',
        [
          [0, NaN],
          [1, 3],
        ],
      ],
      ['seed', 'int64', [[0, 7n]]],
      ['solver', 'string', [[0, 'highs']]],
    ]);
  });

  it('set overwrites (OMMX: last value wins), and may change the type when no other run has the name', () => {
    const t = table({ 0: { x: 1 } });
    t.set(0, 'x', 2);
    expect(cells(t)).toEqual([['x', 'int64', [[0, 2n]]]]);
    t.set(0, 'x', 'two');
    expect(cells(t)).toEqual([['x', 'string', [[0, 'two']]]]);
    t.set(1, 'x', 'three');
    expectError(() => t.set(0, 'x', 2), 'PARAMETER_TYPE_CONFLICT');
  });

  it('goes back to int64 when the float that promoted a column goes away', () => {
    const t = table({ 0: { x: 1 }, 1: { x: 2n ** 60n + 1n }, 2: { x: 2.5 } });
    expect(t.columns()[0]!.type).toBe('float64');
    // The exact ints come back, even beyond 2^53.
    t.deleteRun(2);
    expect(cells(t)).toEqual([
      [
        'x',
        'int64',
        [
          [0, 1n],
          [1, 2n ** 60n + 1n],
        ],
      ],
    ]);
    expect(encodeRunParameters(t)).toEqual(
      encodeRunParameters(table({ 0: { x: 1 }, 1: { x: 2n ** 60n + 1n } }))
    );
    // Overwriting the only float has the same effect, and check sees it coming.
    t.set(2, 'x', 2.5);
    // Besides run 2 only ints remain, so to run 2 the column is int64.
    expect(expectError(() => t.set(2, 'x', 'zz'), 'PARAMETER_TYPE_CONFLICT').message).toBe(
      'Parameter `x` is int64 (set by run 0); run 2 logged a string.'
    );
    t.set(2, 'x', 3);
    expect(t.columns()[0]!.type).toBe('int64');
    expect(t.columns()[0]!.values.get(2)).toBe(3n);
  });

  it('deleteRun removes a run, drops empty columns and reports whether anything was removed', () => {
    const t = table({ 0: { a: 1, b: 'x' }, 1: { a: 2 } });
    expect(t.deleteRun(0)).toBe(true);
    expect(t.deleteRun(0)).toBe(false);
    expect(cells(t)).toEqual([['a', 'int64', [[1, 2n]]]]);
    expect(t.columns()[0]!.setBy).toBe(1);
    expect(t.runIds()).toEqual([1]);
    // The name is free for any type again.
    t.set(5, 'b', true);
    expect(t.columns()[1]!.type).toBe('bool');
  });

  it('refuses run ids that are not non-negative safe integers', () => {
    const t = new ParameterTable();
    for (const id of [-1, 1.5, NaN, 2 ** 53]) {
      expectError(() => t.set(id, 'a', 1), 'ARGUMENT_INVALID');
      expectError(() => t.check(id, 'a', 1), 'ARGUMENT_INVALID');
      expectError(() => t.deleteRun(id), 'ARGUMENT_INVALID');
    }
  });

  it('lists columns in code point order and run ids ascending', () => {
    const t = table({ 9: { b: 1, '\u{1F600}': 1 }, 2: { a: 1, '\uFFFD': 1, B: 1 } });
    // Code point order: U+FFFD before U+1F600 (plain JS sort would put the emoji first).
    expect(t.columns().map((c) => c.name)).toEqual(['B', 'a', 'b', '\uFFFD', '\u{1F600}']);
    expect(['\u{1F600}', '\uFFFD'].sort()).toEqual(['\u{1F600}', '\uFFFD']);
    expect(compareCodePoints('\uFFFD', '\u{1F600}')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
    expect(t.runIds()).toEqual([2, 9]);
  });

  it('valuesByRun gives one plain object per run, __proto__ being an ordinary key', () => {
    const t = table({ 1: { solver: 'scip' }, 0: { solver: 'highs', time_limit: 20 } });
    t.set(0, '__proto__', 'p');
    const byRun = t.valuesByRun();
    expect([...byRun.keys()]).toEqual([0, 1]);
    const run0 = byRun.get(0)!;
    expect(Object.getPrototypeOf(run0)).toBe(Object.prototype);
    expect(Object.keys(run0)).toEqual(['__proto__', 'solver', 'time_limit']);
    expect(run0['solver']).toBe('highs');
    expect(run0['time_limit']).toBe(20n);
    expect(byRun.get(1)).toEqual({ solver: 'scip' });
  });

  it('onlyRuns copies the given runs, typed as if only they had logged', () => {
    const t = table({ 0: { x: 1, s: 'a' }, 1: { x: 2.5 }, 2: { x: 3, s: 'c' } });
    const copy = t.onlyRuns(new Set([0, 2]));
    expect(cells(copy)).toEqual([
      [
        's',
        'string',
        [
          [0, 'a'],
          [2, 'c'],
        ],
      ],
      [
        'x',
        'int64',
        [
          [0, 1n],
          [2, 3n],
        ],
      ],
    ]);
    expect(cells(t.onlyRuns(new Set([1])))).toEqual([['x', 'float64', [[1, 2.5]]]]);
    expect(t.onlyRuns(new Set()).columns()).toEqual([]);
    // The copy is independent of the original.
    copy.set(5, 'x', 9);
    expect(t.columns()[1]!.values.has(5)).toBe(false);
  });
});

describe('encodeRunParameters', () => {
  it('writes the golden bytes for runs 0 {solver, time_limit} and 1 {solver, gap}', () => {
    const t = table({ 0: { solver: 'highs', time_limit: 20 }, 1: { solver: 'scip', gap: 0.5 } });
    // Derived by hand from the msgpack spec (ommx-reference §2.5 shape):
    const golden = [
      '81', //                          map, 1 entry
      'a7 636f6c756d6e73', //           fixstr 7 "columns"
      '83', //                          map, 3 columns, sorted: gap, solver, time_limit
      'a3 676170', //                   "gap"
      '82', //                          map, 2 entries: type then values
      'a4 74797065', //                 "type"
      'a7 666c6f61743634', //           "float64"
      'a6 76616c756573', //             "values"
      '81', //                          map, 1 entry
      '01', //                          run id 1 (positive fixint)
      'cb 3fe0000000000000', //         float64 0.5 (0x3fe0… = 2^-1)
      'a6 736f6c766572', //             "solver"
      '82',
      'a4 74797065', //                 "type"
      'a6 737472696e67', //             "string"
      'a6 76616c756573', //             "values"
      '82', //                          map, 2 entries, run ids ascending
      '00 a5 6869676873', //            run 0 → "highs"
      '01 a4 73636970', //              run 1 → "scip"
      'aa 74696d655f6c696d6974', //     fixstr 10 "time_limit"
      '82',
      'a4 74797065', //                 "type"
      'a5 696e743634', //               "int64"
      'a6 76616c756573', //             "values"
      '81',
      '00 14', //                       run 0 → 20 (positive fixint 0x14)
    ].join('');
    expect(hex(encodeRunParameters(t))).toBe(golden.replace(/\s+/g, ''));
    // An independent decoder (the OMMX validator's reader) sees the same structure.
    const field = (m: Msgpack, name: string): Msgpack => {
      if (m.t !== 'map') throw new Error(`expected a map, got ${m.t}`);
      const hit = m.entries.find(([k]) => k.t === 'str' && k.v === name);
      if (hit === undefined) throw new Error(`no field ${name}`);
      return hit[1];
    };
    const cols = field(decodeMsgpack(encodeRunParameters(t)), 'columns');
    expect(cols.t === 'map' ? cols.entries.map(([k]) => k) : cols).toEqual(
      ['gap', 'solver', 'time_limit'].map((v) => ({ t: 'str', v }))
    );
    expect(field(field(cols, 'solver'), 'values')).toEqual({
      t: 'map',
      entries: [
        [
          { t: 'uint', v: 0n },
          { t: 'str', v: 'highs' },
        ],
        [
          { t: 'uint', v: 1n },
          { t: 'str', v: 'scip' },
        ],
      ],
    });
  });

  it('encodes the empty table as {"columns": {}}', () => {
    expect(hex(encodeRunParameters(new ParameterTable()))).toBe('81' + fixstr('columns') + '80');
  });

  it('always writes floats as float64, NaN as the quiet NaN 7ff8…', () => {
    const floats: [number, string][] = [
      [2.0, '4000000000000000'],
      [NaN, '7ff8000000000000'],
      [Infinity, '7ff0000000000000'],
      [-Infinity, 'fff0000000000000'],
      [-0.5, 'bfe0000000000000'],
      [2 ** 53, '4340000000000000'],
    ];
    for (const [v, bits] of floats) {
      const t = new ParameterTable();
      t.set(0, 'f', 0.5);
      t.set(1, 'f', v);
      const out = hex(encodeRunParameters(t));
      expect(out.endsWith(`82 00 cb3fe0000000000000 01 cb${bits}`.replace(/\s/g, ''))).toBe(true);
    }
    // An integral value in a float64 column is still float64.
    const promoted = table({ 0: { f: 2 }, 1: { f: 0.5 } });
    expect(hex(encodeRunParameters(promoted))).toContain(
      '8200cb400000000000000001cb3fe0000000000000'
    );
  });

  it('writes ints in their shortest msgpack form (rmp write_sint)', () => {
    const ints: [bigint, string][] = [
      [0n, '00'],
      [127n, '7f'],
      [128n, 'cc80'],
      [255n, 'ccff'],
      [256n, 'cd0100'],
      [65535n, 'cdffff'],
      [65536n, 'ce00010000'],
      [2n ** 32n - 1n, 'ceffffffff'],
      [2n ** 32n, 'cf0000000100000000'],
      [2n ** 63n - 1n, 'cf7fffffffffffffff'],
      [-1n, 'ff'],
      [-32n, 'e0'],
      [-33n, 'd0df'],
      [-128n, 'd080'],
      [-129n, 'd1ff7f'],
      [-32768n, 'd18000'],
      [-32769n, 'd2ffff7fff'],
      [-(2n ** 31n), 'd280000000'],
      [-(2n ** 31n) - 1n, 'd3ffffffff7fffffff'],
      [-(2n ** 63n), 'd38000000000000000'],
    ];
    for (const [v, bytes] of ints) {
      const out = hex(encodeRunParameters(table({ 0: { n: v } })));
      expect(out.endsWith(`81 00 ${bytes}`.replace(/\s/g, '')), String(v)).toBe(true);
    }
  });

  it('writes run ids as msgpack uints, strings with the right header, bools as c2/c3', () => {
    const runIds: [number, string][] = [
      [127, '7f'],
      [128, 'cc80'],
      [300, 'cd012c'],
      [65536, 'ce00010000'],
      [2 ** 32, 'cf0000000100000000'],
    ];
    for (const [id, bytes] of runIds) {
      expect(hex(encodeRunParameters(table({ [id]: { b: true } })))).toMatch(
        new RegExp(`81${bytes}c3$`)
      );
    }
    const str = (s: string): string =>
      hex(encodeRunParameters(table({ 0: { s } }))).split('8100')[1]!;
    expect(str('x'.repeat(31))).toBe('bf' + '78'.repeat(31));
    expect(str('x'.repeat(32))).toBe('d920' + '78'.repeat(32));
    expect(str('x'.repeat(255))).toBe('d9ff' + '78'.repeat(255));
    expect(str('x'.repeat(256))).toBe('da0100' + '78'.repeat(256));
    expect(str('x'.repeat(65536))).toBe('db00010000' + '78'.repeat(65536));
    expect(str('é')).toBe('a2c3a9');
    expect(hex(encodeRunParameters(table({ 0: { b: false } })))).toMatch(/8100c2$/);
  });

  it('uses map16 for 16 or more columns and entries', () => {
    const t = new ParameterTable();
    for (let i = 0; i < 16; i++) t.set(i, `p${i.toString().padStart(2, '0')}`, i);
    expect(hex(encodeRunParameters(t)).startsWith('81' + fixstr('columns') + 'de0010')).toBe(true);
  });

  it('is canonical: insertion order does not matter', () => {
    const a = table({ 0: { b: 1, a: 'x' }, 1: { a: 'y' } });
    const b = new ParameterTable();
    b.set(1, 'a', 'y');
    b.set(0, 'a', 'x');
    b.set(0, 'b', 1n);
    expect(encodeRunParameters(a)).toEqual(encodeRunParameters(b));
  });
});

describe('MsgpackWriter', () => {
  it('refuses what msgpack cannot hold, and returns a copy of its bytes', () => {
    const w = new MsgpackWriter(1);
    expectError(() => w.uint(-1), 'ARGUMENT_INVALID');
    expectError(() => w.uint(2 ** 53), 'ARGUMENT_INVALID');
    expectError(() => w.int(2n ** 64n), 'ARGUMENT_INVALID');
    expectError(() => w.int(-(2n ** 63n) - 1n), 'ARGUMENT_INVALID');
    expectError(() => w.mapHeader(-1), 'ARGUMENT_INVALID');
    expectError(() => w.mapHeader(2 ** 32), 'ARGUMENT_INVALID');
    w.int(2n ** 64n - 1n);
    w.mapHeader(0x10000);
    const first = w.bytes();
    expect(hex(first)).toBe('cf' + 'ff'.repeat(8) + 'df00010000');
    w.bool(false);
    expect(hex(first)).toBe('cf' + 'ff'.repeat(8) + 'df00010000');
    expect(hex(w.bytes()).endsWith('c2')).toBe(true);
  });

  it('grows its buffer across many writes', () => {
    const w = new MsgpackWriter(16);
    for (let i = 0; i < 1000; i++) w.str('é'.repeat(i % 40));
    const b = w.bytes();
    let expected = 0;
    for (let i = 0; i < 1000; i++) expected += (i % 40) * 2 + ((i % 40) * 2 < 32 ? 1 : 2);
    expect(b.length).toBe(expected);
  });
});

describe('decodeRunParameters', () => {
  const golden = table({ 0: { solver: 'highs', time_limit: 20 }, 1: { solver: 'scip', gap: 0.5 } });

  it('round-trips: encode → decode → encode gives the same bytes', () => {
    const bytes = encodeRunParameters(golden);
    const decoded = decodeRunParameters(bytes);
    expect(encodeRunParameters(decoded)).toEqual(bytes);
    expect(cells(decoded)).toEqual(cells(golden));
    expect(decoded.columns().map((c) => c.setBy)).toEqual([1, 0, 0]);
    // A decoded table goes on taking values with the same rules.
    expectError(() => decoded.check(2, 'solver', 1), 'PARAMETER_TYPE_CONFLICT');
  });

  it('decodes a subarray of a larger buffer', () => {
    const bytes = encodeRunParameters(golden);
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 5);
    expect(encodeRunParameters(decodeRunParameters(padded.subarray(5, 5 + bytes.length)))).toEqual(
      bytes
    );
  });

  it('accepts any msgpack int in an int64 column, and fields in either order', () => {
    // {"columns": {"n": {"values": {0: int8 5, 1: uint16 7, 2: int64 -1}, "type": "int64"}}}
    const bytes = unhex(
      '81' +
        fixstr('columns') +
        '81' +
        fixstr('n') +
        '82' +
        fixstr('values') +
        '83 00 d005 01 cd0007 02 d3ffffffffffffffff' +
        fixstr('type') +
        fixstr('int64')
    );
    expect(cells(decodeRunParameters(bytes))).toEqual([
      [
        'n',
        'int64',
        [
          [0, 5n],
          [1, 7n],
          [2, -1n],
        ],
      ],
    ]);
  });

  /** {"columns": {"x": {"type": <type>, "values": {0: <value>}}}} with raw hex parts. */
  const one = (type: string, value: string, id = '00'): Uint8Array =>
    unhex(
      '81' +
        fixstr('columns') +
        '81' +
        fixstr('x') +
        '82' +
        fixstr('type') +
        type +
        fixstr('values') +
        '81' +
        id +
        value
    );

  it('reads every column type and keeps NaN, ±Infinity and -0', () => {
    expect(cells(decodeRunParameters(one(fixstr('bool'), 'c3')))).toEqual([
      ['x', 'bool', [[0, true]]],
    ]);
    expect(cells(decodeRunParameters(one(fixstr('string'), fixstr('é'))))).toEqual([
      ['x', 'string', [[0, 'é']]],
    ]);
    for (const [bits, v] of [
      ['7ff8000000000000', NaN],
      ['7ff0000000000000', Infinity],
      ['fff0000000000000', -Infinity],
      ['8000000000000000', -0],
    ] as const) {
      const t = decodeRunParameters(one(fixstr('float64'), 'cb' + bits));
      expect(t.columns()[0]!.values.get(0)).toBe(v);
      expect(hex(encodeRunParameters(t)).endsWith(bits)).toBe(true);
    }
  });

  /** A column map {"type": <type>, "values": <values hex>}. */
  const col = (type: string, values: string): string =>
    '82' + fixstr('type') + fixstr(type) + fixstr('values') + values;

  const rejects: [string, Uint8Array, RegExp][] = [
    ['a trailing byte', unhex(hex(encodeRunParameters(golden)) + '00'), /1 trailing byte/],
    ['empty input', new Uint8Array(0), /ends early/],
    ['truncated input', encodeRunParameters(golden).subarray(0, 30), /ends early/],
    ['a top-level array', unhex('91 80'), /an array where the top-level map belongs/],
    [
      'an unknown top-level field',
      unhex('82' + fixstr('columns') + '80' + fixstr('extra') + '80'),
      /unknown field "extra"/,
    ],
    [
      'a duplicate "columns"',
      unhex('82' + fixstr('columns') + '80' + fixstr('columns') + '80'),
      /field "columns" twice/,
    ],
    ['no "columns"', unhex('80'), /no "columns" field/],
    [
      'a duplicate column',
      unhex('81' + fixstr('columns') + '82' + (fixstr('x') + col('bool', '8100c3')).repeat(2)),
      /column "x" twice/,
    ],
    [
      'an unknown column field',
      unhex(
        '81' +
          fixstr('columns') +
          '81' +
          fixstr('x') +
          '83' +
          fixstr('type') +
          fixstr('bool') +
          fixstr('values') +
          '8100c3' +
          fixstr('unit') +
          fixstr('s')
      ),
      /unknown field "unit" in column "x"/,
    ],
    [
      'a duplicate "type"',
      unhex(
        '81' +
          fixstr('columns') +
          '81' +
          fixstr('x') +
          '83' +
          fixstr('type') +
          fixstr('bool') +
          fixstr('type') +
          fixstr('bool') +
          fixstr('values') +
          '8100c3'
      ),
      /field "type" twice/,
    ],
    [
      'a missing "values"',
      unhex('81' + fixstr('columns') + '81' + fixstr('x') + '81' + fixstr('type') + fixstr('bool')),
      /no "values" in column "x"/,
    ],
    [
      'a missing "type"',
      unhex('81' + fixstr('columns') + '81' + fixstr('x') + '81' + fixstr('values') + '8100c3'),
      /no "type" in column "x"/,
    ],
    [
      'an empty column',
      unhex('81' + fixstr('columns') + '81' + fixstr('x') + col('bool', '80')),
      /no values in column "x"/,
    ],
    ['an unknown type name', one(fixstr('float'), 'cb3fe0000000000000'), /unknown type "float"/],
    ['a type in the wrong case', one(fixstr('Int64'), '01'), /unknown type "Int64"/],
    [
      'a float32 in a float64 column',
      one(fixstr('float64'), 'ca3f000000'),
      /a float32 in the float64 column "x" \(OMMX requires float64\)/,
    ],
    [
      'an int in a float64 column',
      one(fixstr('float64'), '01'),
      /an integer in the float64 column/,
    ],
    [
      'a float in an int64 column',
      one(fixstr('int64'), 'cb3ff0000000000000'),
      /a float64 in the int64 column/,
    ],
    ['a uint64 beyond int64', one(fixstr('int64'), 'cf8000000000000000'), /beyond int64/],
    [
      'a string in a bool column',
      one(fixstr('bool'), fixstr('true')),
      /a string in the bool column/,
    ],
    [
      'binary in a string column',
      one(fixstr('string'), 'c40161'),
      /binary data in the string column/,
    ],
    ['nil as a value', one(fixstr('string'), 'c0'), /nil in the string column/],
    ['a map as a value', one(fixstr('int64'), '8100c3'), /a map as a value in column "x"/],
    ['an array as a value', one(fixstr('int64'), '9101'), /an array as a value in column "x"/],
    ['an ext value', one(fixstr('int64'), 'd6ff00000001'), /an ext value in the int64 column/],
    [
      'a negative run id',
      one(fixstr('bool'), 'c3', 'ff'),
      /an integer where a run id \(uint\) belongs/,
    ],
    ['a string run id', one(fixstr('bool'), 'c3', fixstr('0')), /a string where a run id/],
    ['a run id beyond 2^53', one(fixstr('bool'), 'c3', 'cf0020000000000000'), /beyond 2\^53/],
    ['invalid UTF-8', one(fixstr('string'), 'a2c328'), /not valid UTF-8/],
    ['the reserved byte c1', one(fixstr('bool'), 'c1'), /reserved byte/],
    [
      'a huge declared map',
      unhex('81' + fixstr('columns') + 'dfffffffff'),
      /declares a map of 4294967295 entries/,
    ],
  ];

  it.each(rejects)('rejects %s', (_label, bytes, message) => {
    const e = expectError(() => decodeRunParameters(bytes), 'PAYLOAD_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^The run-parameter table \(msgpack\) .* at byte \d+\.$/);
  });

  it('rejects a run id given twice in one column', () => {
    const bytes = unhex(
      '81' +
        fixstr('columns') +
        '81' +
        fixstr('x') +
        '82' +
        fixstr('type') +
        fixstr('bool') +
        fixstr('values') +
        '82 00c3 00c2'
    );
    expect(expectError(() => decodeRunParameters(bytes), 'PAYLOAD_INVALID').message).toMatch(
      /run 0 twice in column "x"/
    );
  });

  it('keeps a leading BOM and names OMMX would accept', () => {
    const t = new ParameterTable();
    t.set(0, '\ufeffname', '\ufeffvalue');
    expect(cells(decodeRunParameters(encodeRunParameters(t)))).toEqual(cells(t));
    // OMMX does not restrict names: an empty name decodes (runledger only refuses it when logging).
    const empty = unhex(
      '81' +
        fixstr('columns') +
        '81' +
        'a0' +
        '82' +
        fixstr('type') +
        fixstr('bool') +
        fixstr('values') +
        '8100c3'
    );
    expect(decodeRunParameters(empty).columns()[0]!.name).toBe('');
  });
});

// ---- property -----------------------------------------------------------------------------------

const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);
const nameArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((s) => !/[\u0000-\u001f\u007f-\u009f]/u.test(s) && [...s].length <= 256);
const valueArb: Record<ParameterType, fc.Arbitrary<ParameterValue>> = {
  bool: fc.boolean(),
  int64: fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.integer({ min: -1000, max: 1000 })
  ),
  float64: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 2 ** 60)),
  string: fc.string({ unit: 'binary', maxLength: 40 }).filter(wellFormed),
};
/** A table of up to 8 columns, each of one type, with up to 30 cells among runs 0…300. */
const tableArb: fc.Arbitrary<ParameterTable> = fc
  .uniqueArray(
    fc.tuple(nameArb, fc.constantFrom<ParameterType>('bool', 'int64', 'float64', 'string')),
    { maxLength: 8, selector: ([name]) => name }
  )
  .chain((columns) =>
    fc.tuple(
      ...columns.map(([name, type]) =>
        fc
          .array(fc.tuple(fc.nat({ max: 300 }), valueArb[type]), { minLength: 1, maxLength: 30 })
          .map((cells) => ({ name, cells }))
      )
    )
  )
  .map((columns) => {
    const t = new ParameterTable();
    // Within one column types only mix as int64/float64, which the table promotes.
    for (const { name, cells } of columns) for (const [run, v] of cells) t.set(run, name, v);
    return t;
  });

describe('property', () => {
  it('decode(encode(t)) reproduces every cell, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(tableArb, (t) => {
        const bytes = encodeRunParameters(t);
        const back = decodeRunParameters(bytes);
        expect(cells(back)).toEqual(cells(t));
        for (const c of back.columns()) {
          for (const v of c.values.values()) {
            if (c.type === 'int64') expect(typeof v).toBe('bigint');
            if (c.type === 'float64') expect(typeof v).toBe('number');
          }
        }
        expect(encodeRunParameters(back)).toEqual(bytes);
      }),
      { numRuns: 300 }
    );
  });
});
