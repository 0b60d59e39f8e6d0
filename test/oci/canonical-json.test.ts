import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, canonicalJsonBytes, type JsonValue } from '../../src/oci/canonical-json.js';
import { expectError } from '../helpers/expect-code.js';
import { reverseKeys } from '../helpers/keys.js';

/** Deep copy with -0 replaced by 0 (JSON has no negative zero). Keeps `__proto__` as a key. */
function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(withoutNegativeZero);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutNegativeZero(x)]));
  }
  return v;
}

/** Deep copy with every object's keys rotated by `by` positions. */
function rotateKeys(v: unknown, by: number): unknown {
  if (Array.isArray(v)) return v.map((x) => rotateKeys(x, by));
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    const n = entries.length === 0 ? 0 : by % entries.length;
    return Object.fromEntries(
      [...entries.slice(n), ...entries.slice(0, n)].map(([k, x]) => [k, rotateKeys(x, by)])
    );
  }
  return v;
}

const asJson = (v: unknown): JsonValue => v as JsonValue;

describe('canonicalJson', () => {
  it('sorts keys and writes compactly', () => {
    expect(canonicalJson({ b: 1, a: [true, null] })).toBe('{"a":[true,null],"b":1}');
    expect(canonicalJson({ z: 'z', a: 'a', m: 'm' })).toBe('{"a":"a","m":"m","z":"z"}');
  });

  it('sorts keys at every depth, not array elements', () => {
    const value = { outer: { y: [{ d: 1, c: 2 }, 3], x: {} }, a: [] };
    expect(canonicalJson(value)).toBe('{"a":[],"outer":{"x":{},"y":[{"c":2,"d":1},3]}}');
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
  });

  it('writes scalars as JSON does', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(false)).toBe('false');
    expect(canonicalJson(0)).toBe('0');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(-12)).toBe('-12');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    expect(canonicalJson('')).toBe('""');
    expect(canonicalJson('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
    expect(canonicalJson('\u0000\u001f')).toBe('"\\u0000\\u001f"');
    expect(canonicalJson('é😀')).toBe('"é😀"');
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
  });

  it('writes empty containers compactly', () => {
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson([{}, [[]]])).toBe('[{},[[]]]');
  });

  it('sorts keys by UTF-16 code units', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFF by code unit.
    expect(canonicalJson({ '\uffff': 1, '😀': 2 })).toBe('{"😀":2,"\uffff":1}');
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, _: 5 })).toBe('{"B":2,"_":5,"a":3,"b":1,"é":4}');
    // Integer-like keys sort as strings, not numerically as JS enumerates them.
    expect(canonicalJson({ 10: 'ten', 9: 'nine', 1: 'one' })).toBe(
      '{"1":"one","10":"ten","9":"nine"}'
    );
  });

  it('escapes keys', () => {
    expect(canonicalJson({ 'a"b': 1, '\n': 2 })).toBe('{"\\n":2,"a\\"b":1}');
  });

  it('omits undefined object members', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson({ x: { y: undefined, z: null } })).toBe('{"x":{"z":null}}');
  });

  it('writes undefined array elements and holes as null', () => {
    expect(canonicalJson(asJson([1, undefined, 3]))).toBe('[1,null,3]');
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    expect(canonicalJson(asJson(sparse))).toBe('[1,null,3]');
    expect(canonicalJson(asJson(sparse))).toBe(JSON.stringify(sparse));
    expect(canonicalJson(asJson(new Array(2)))).toBe('[null,null]');
  });

  it('accepts objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, JsonValue>;
    o['b'] = 2;
    o['a'] = 1;
    expect(canonicalJson(o)).toBe('{"a":1,"b":2}');
  });

  it('keeps __proto__ as an ordinary key', () => {
    const o: unknown = JSON.parse('{"__proto__":{"x":1},"a":0}');
    expect(canonicalJson(asJson(o))).toBe('{"__proto__":{"x":1},"a":0}');
  });

  it('accepts a value shared in two places (not a cycle)', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ p: shared, q: [shared, shared] })).toBe(
      '{"p":{"k":1},"q":[{"k":1},{"k":1}]}'
    );
  });

  it('rejects a toJSON method like any function member, and ignores symbol keys', () => {
    const withToJson = { a: 1, toJSON: () => 'x' };
    expectError(() => canonicalJson(asJson(withToJson)), 'ARGUMENT_INVALID');
    const withSymbol = { a: 1, [Symbol('s')]: 2 };
    expect(canonicalJson(asJson(withSymbol))).toBe('{"a":1}');
  });

  class Point {
    readonly x: number;
    readonly y: number;
    constructor(x: number, y: number) {
      this.x = x;
      this.y = y;
    }
  }

  const cyclicObject: Record<string, unknown> = { a: 1 };
  cyclicObject['self'] = cyclicObject;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const deepCycle: Record<string, unknown> = {};
  deepCycle['x'] = { y: { z: [deepCycle] } };

  it.each<[string, unknown]>([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['NaN nested in an object', { a: { b: NaN } }],
    ['Infinity nested in an array', [1, [Infinity]]],
    ['a bigint', 10n],
    ['a bigint member', { n: 1n }],
    ['a function', () => 1],
    ['a function member', { f: function named() {} }],
    ['a symbol', Symbol('s')],
    ['undefined at the top level', undefined],
    ['a cyclic object', cyclicObject],
    ['a cyclic array', cyclicArray],
    ['a deep cycle', deepCycle],
    ['a class instance', new Point(1, 2)],
    ['a class instance nested', { p: [new Point(1, 2)] }],
    ['a Date', new Date(0)],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['a Uint8Array', new Uint8Array([1])],
    ['a boxed string', Object('s')],
    ['a RegExp', /x/],
  ])('rejects %s with ARGUMENT_INVALID', (_name, value) => {
    expectError(() => canonicalJson(asJson(value)), 'ARGUMENT_INVALID');
    expectError(() => canonicalJsonBytes(asJson(value)), 'ARGUMENT_INVALID');
  });

  it('names the class of a rejected instance', () => {
    const e = expectError(() => canonicalJson(asJson(new Point(1, 2))), 'ARGUMENT_INVALID');
    expect(e.message).toContain('Point');
  });

  it('parses back to a deep-equal value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v as JsonValue);
        expect(JSON.parse(text)).toEqual(withoutNegativeZero(v));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      })
    );
  });

  it('does not depend on key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse());
        expect(canonicalJson(reversed as JsonValue)).toBe(canonicalJson(d as JsonValue));
      })
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(16), (v, by) => {
        const expected = canonicalJson(v as JsonValue);
        expect(canonicalJson(reverseKeys(v) as JsonValue)).toBe(expected);
        expect(canonicalJson(rotateKeys(v, by) as JsonValue)).toBe(expected);
      })
    );
  });

  it('writes members sorted, each canonically (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), (d) => {
        const keys = Object.keys(d).sort();
        const expected = `{${keys
          .map((k) => `${JSON.stringify(k)}:${canonicalJson(d[k] as JsonValue)}`)
          .join(',')}}`;
        expect(canonicalJson(d as JsonValue)).toBe(expected);
      })
    );
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalJson(v as JsonValue);
        expect(canonicalJson(JSON.parse(once) as JsonValue)).toBe(once);
      })
    );
  });

  it('has no whitespace outside strings (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: fc.constantFrom('a', '1') }), (v) => {
        expect(canonicalJson(v as JsonValue)).not.toMatch(/\s/);
      })
    );
  });
});

describe('canonicalJsonBytes', () => {
  it('is the UTF-8 encoding of canonicalJson', () => {
    expect(canonicalJsonBytes({ b: 'é', a: 1 })).toEqual(
      new Uint8Array([
        0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x2c, 0x22, 0x62, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22,
        0x7d,
      ])
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const bytes = canonicalJsonBytes(v as JsonValue);
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect(new TextDecoder().decode(bytes)).toBe(canonicalJson(v as JsonValue));
      })
    );
  });
});
