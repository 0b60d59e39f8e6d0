/**
 * The run-parameter table encoded as runs close (experiment/parameter-encoder) gives the bytes
 * `encodeRunParameters` gives for the closed runs' table, whatever the order of logs, closes,
 * promotions and replacements; and the table's direct reader (experiment/parameter-table-read)
 * reads what the token reader reads, and leaves to it what it does not recognise.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRunledgerError } from '../../src/errors.js';
import { RunParametersEncoder } from '../../src/experiment/parameter-encoder.js';
import {
  decodeRunParameters,
  encodeRunParameters,
  ParameterTable,
  type ParameterValue,
} from '../../src/experiment/parameters.js';
import { MsgpackWriter } from '../../src/formats/msgpack-writer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** One step of a study: a run logs a value, a run closes, or a value is replaced or removed. */
type Step =
  | {
      readonly kind: 'log';
      readonly run: number;
      readonly name: string;
      readonly value: ParameterValue;
    }
  | { readonly kind: 'close'; readonly run: number }
  | {
      readonly kind: 'set';
      readonly run: number;
      readonly name: string;
      readonly value: ParameterValue;
    }
  | { readonly kind: 'delete'; readonly run: number }
  | { readonly kind: 'encode' };

const value = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: false }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.boolean(),
  fc.constantFrom('a', 'bb', 'é', '')
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('log' as const),
      run: fc.nat(7),
      name: fc.constantFrom('x', 'y', 'z', 'w'),
      value,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('close' as const), run: fc.nat(7) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      run: fc.nat(7),
      name: fc.constantFrom('x', 'y'),
      value,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), run: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'encode' as const }) }
);

describe('RunParametersEncoder', () => {
  it('gives the bytes of encodeRunParameters over the closed runs, step after step (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const table = new ParameterTable();
        const encoder = new RunParametersEncoder(table);
        const closed = new Set<number>();
        const check = (): void => {
          const expected = encodeRunParameters(table.onlyRuns(closed));
          expect(hex(encoder.encode([...closed].reverse()))).toBe(hex(expected));
        };
        for (const s of steps) {
          try {
            // A closed run logs nothing more (the API refuses it); set and delete may touch any.
            if (s.kind === 'log' && !closed.has(s.run)) table.log(s.run, s.name, s.value);
            else if (s.kind === 'set') table.set(s.run, s.name, s.value);
            else if (s.kind === 'delete') table.deleteRun(s.run);
            else if (s.kind === 'close') closed.add(s.run);
            else if (s.kind === 'encode') check();
          } catch (e) {
            if (!isRunledgerError(e)) throw e; // a type clash refused: the table is unchanged
          }
        }
        check();
      }),
      { numRuns: 400 }
    );
  });

  it('encodes only the runs closed since the last call, and returns the same bytes when none did', () => {
    const table = new ParameterTable();
    const encoder = new RunParametersEncoder(table);
    for (let run = 0; run < 1000; run++) {
      table.log(run, 'seed', run);
      table.log(run, 'solver', run % 2 === 0 ? 'highs' : 'scip');
    }
    const first = encoder.encode(Array.from({ length: 990 }, (_, i) => i));
    expect(encoder.encode(Array.from({ length: 990 }, (_, i) => i))).toBe(first);
    const all = encoder.encode(Array.from({ length: 1000 }, (_, i) => i));
    expect(hex(all)).toBe(hex(encodeRunParameters(table)));
    // A float logged by a run still open leaves the closed runs' column int64 …
    table.log(1000, 'seed', 0.5);
    const closed = Array.from({ length: 1000 }, (_, i) => i);
    expect(hex(encoder.encode(closed))).toBe(hex(all));
    // … until that run closes: then float64, every cell again.
    expect(hex(encoder.encode([...closed, 1000]))).toBe(
      hex(encodeRunParameters(table.onlyRuns(new Set([...closed, 1000]))))
    );
  });
});

/** A table's columns as plain data (values by run id). */
function cells(t: ParameterTable): [string, string, [number, ParameterValue][]][] {
  return t.columns().map((c) => [c.name, c.type, [...c.values].sort(([a], [b]) => a - b)]);
}

describe('the run-parameter table read directly', () => {
  it('reads what encodeRunParameters wrote (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(100_000), fc.constantFrom('a', 'b', 'c', 'π'), value), {
          maxLength: 40,
        }),
        (cellsIn) => {
          const t = new ParameterTable();
          for (const [run, name, v] of cellsIn) {
            try {
              t.set(run, name, v);
            } catch (e) {
              if (!isRunledgerError(e)) throw e;
            }
          }
          const decoded = decodeRunParameters(encodeRunParameters(t));
          expect(cells(decoded)).toEqual(cells(t));
        }
      ),
      { numRuns: 300 }
    );
  });

  /** `{"columns": {name: {…fields}}}` written by hand. */
  function column(name: string, write: (w: MsgpackWriter) => void): Uint8Array {
    const w = new MsgpackWriter();
    w.mapHeader(1);
    w.str('columns');
    w.mapHeader(1);
    w.str(name);
    write(w);
    return w.bytes();
  }

  it('leaves other layouts to the token reader: values before type, uint64 run ids, a real U+FFFD', () => {
    const valuesFirst = column('x', (w) => {
      w.mapHeader(2);
      w.str('values');
      w.mapHeader(1);
      w.uint(3);
      w.int(7);
      w.str('type');
      w.str('int64');
    });
    expect(cells(decodeRunParameters(valuesFirst))).toEqual([['x', 'int64', [[3, 7n]]]]);
    const bigId = column('x', (w) => {
      w.mapHeader(2);
      w.str('type');
      w.str('bool');
      w.str('values');
      w.mapHeader(1);
      w.int64(5n); // 0xd3: an int marker, refused as a run id
      w.bool(true);
    });
    const err = (() => {
      try {
        decodeRunParameters(bigId);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isRunledgerError(err, 'PAYLOAD_INVALID')).toBe(true);
    const replacement = column('x', (w) => {
      w.mapHeader(2);
      w.str('type');
      w.str('string');
      w.str('values');
      w.mapHeader(1);
      w.uint(0);
      w.str('a\ufffdb');
    });
    expect(cells(decodeRunParameters(replacement))).toEqual([['x', 'string', [[0, 'a\ufffdb']]]]);
  });

  it('refuses what the token reader refuses, with its message: invalid UTF-8, a run twice, trailing bytes', () => {
    const good = column('x', (w) => {
      w.mapHeader(2);
      w.str('type');
      w.str('string');
      w.str('values');
      w.mapHeader(1);
      w.uint(0);
      w.str('ab');
    });
    const invalid = Uint8Array.from(good);
    invalid[invalid.length - 1] = 0xff; // 'b' → a lone 0xff byte
    const twice = column('x', (w) => {
      w.mapHeader(2);
      w.str('type');
      w.str('bool');
      w.str('values');
      w.mapHeader(2);
      w.uint(1);
      w.bool(true);
      w.uint(1);
      w.bool(false);
    });
    const trailing = Uint8Array.from([...good, 0xc0]);
    for (const [bytes, why] of [
      [invalid, /not valid UTF-8/],
      [twice, /run 1 twice/],
      [trailing, /trailing byte/],
    ] as const) {
      let caught: unknown;
      try {
        decodeRunParameters(bytes);
      } catch (e) {
        caught = e;
      }
      expect(isRunledgerError(caught, 'PAYLOAD_INVALID')).toBe(true);
      expect((caught as Error).message).toMatch(why);
    }
  });
});
