import { describe, expect, it } from 'vitest';
import { msgpackCodec } from '../../codecs/msgpack.js';
import { expectError, runCodecContract } from './contract.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/ /g, ''), 'hex'));

const manyKeys = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));

runCodecContract(
  'msgpack',
  msgpackCodec,
  [
    null,
    true,
    false,
    0,
    127,
    128,
    -32,
    -33,
    2 ** 32,
    -(2 ** 31) - 1,
    1.5,
    0.1,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
    '',
    'héllo ✓ 😀',
    'x'.repeat(300),
    0n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 64n - 1n,
    new Uint8Array(0),
    Uint8Array.of(1, 2, 3),
    new Date(1_234_567),
    new Date(-1),
    [],
    {},
    [1, 'a', [2, [3n]], { x: null }],
    { b: 1, a: { d: [{ f: 2, e: 1 }], c: Uint8Array.of(9) } },
    { '10': 1, '9': 2, b: 3, a: 4, '': 5 },
    manyKeys,
    JSON.parse('{"__proto__":{"x":1},"constructor":1}') as unknown,
  ],
  {
    keyOrder: true,
    garbage: [
      Uint8Array.of(0xff, 0xfe), // -1 then a trailing byte
      new Uint8Array(0),
      Uint8Array.of(0xc1), // the never-used type byte
      Uint8Array.of(0x92, 0x01), // an array of 2 with 1 element
      Uint8Array.of(0xa5, 0x61), // a 5-byte string cut short
      Uint8Array.of(0xd4, 0x00, 0x00), // msgpackr's undefined extension
      Uint8Array.of(0xc7, 0x01, 0x05, 0x00), // an unknown extension type
      Uint8Array.of(0x81, 0x90, 0x01), // a map keyed by an array
      bytes('d84200000000000000400000000000000000'), // msgpackr's big-integer extension: 2^70
      Uint8Array.of(0x81, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01), // a map keyed by 1.5
    ],
  }
);

describe('msgpackCodec', () => {
  it('has media type application/msgpack', () => {
    expect(msgpackCodec.mediaType).toBe('application/msgpack');
  });

  it('writes map keys sorted, at every depth, whatever the insertion order', () => {
    // fixmap(2) "a" 2 "b" 1
    expect(hex(msgpackCodec.encode({ b: 1, a: 2 }))).toBe('82a16102a16201');
    expect(hex(msgpackCodec.encode({ a: 2, b: 1 }))).toBe('82a16102a16201');
    // Sorted as strings, so "10" comes before "9" (JS objects would put 9 first).
    expect(hex(msgpackCodec.encode({ '9': 0, '10': 0 }))).toBe('82a2313000a13900');
    expect(hex(msgpackCodec.encode({ z: { y: 1, x: 2 } }))).toBe('81a17a82a17802a17901');
  });

  it('writes the shortest map header, so small objects are fixmaps and large ones map16', () => {
    expect(hex(msgpackCodec.encode({})).slice(0, 2)).toBe('80');
    expect(hex(msgpackCodec.encode(manyKeys)).slice(0, 6)).toBe('de0014');
  });

  it('writes NaN, ±Infinity and fractions as float64, never float32', () => {
    expect(hex(msgpackCodec.encode(NaN))).toBe('cb7ff8000000000000');
    expect(hex(msgpackCodec.encode(Infinity))).toBe('cb7ff0000000000000');
    expect(hex(msgpackCodec.encode(-Infinity))).toBe('cbfff0000000000000');
    expect(hex(msgpackCodec.encode(1.5))).toBe('cb3ff8000000000000');
    expect(hex(msgpackCodec.encode(0.1))).toBe('cb3fb999999999999a');
    const decoded = msgpackCodec.decode(msgpackCodec.encode([NaN, Infinity, -Infinity]));
    expect(decoded).toStrictEqual([NaN, Infinity, -Infinity]);
  });

  it('writes small integers compactly and -0 as 0', () => {
    expect(hex(msgpackCodec.encode(5))).toBe('05');
    expect(hex(msgpackCodec.encode(-1))).toBe('ff');
    expect(hex(msgpackCodec.encode(300))).toBe('cd012c');
    expect(hex(msgpackCodec.encode(-0))).toBe('00');
  });

  it('writes bigints as int64 (uint64 above 2^63 - 1) and reads them back as bigints', () => {
    expect(hex(msgpackCodec.encode(5n))).toBe('d30000000000000005');
    expect(hex(msgpackCodec.encode(-(2n ** 63n)))).toBe('d38000000000000000');
    expect(hex(msgpackCodec.encode(2n ** 64n - 1n))).toBe('cfffffffffffffffff');
    expect(msgpackCodec.decode(bytes('d30000000000000005'))).toBe(5n);
    const big = 2n ** 53n + 1n; // not representable as a number
    expect(msgpackCodec.decode(msgpackCodec.encode({ big }))).toStrictEqual({ big });
  });

  it('reads int64 and uint64 from other writers as bigints, never rounding them', () => {
    expect(msgpackCodec.decode(bytes('cf 0000000000000001'))).toBe(1n);
    expect(msgpackCodec.decode(bytes('d3 ffffffffffffffff'))).toBe(-1n);
    expect(msgpackCodec.decode(bytes('cf 0020000000000001'))).toBe(2n ** 53n + 1n);
  });

  it('keeps numbers numbers: a large integer number goes out as float64', () => {
    expect(hex(msgpackCodec.encode(2 ** 40))).toBe('cb4270000000000000');
    expect(msgpackCodec.decode(msgpackCodec.encode(2 ** 40))).toBe(2 ** 40);
  });

  it.each([2n ** 64n, -(2n ** 63n) - 1n])('refuses bigint %s outside int64/uint64', (n) => {
    expectError(() => msgpackCodec.encode(n), 'ARGUMENT_INVALID');
  });

  it('writes Uint8Array as bin and reads it back as a plain Uint8Array of its own', () => {
    const encoded = msgpackCodec.encode({ data: Uint8Array.of(1, 2, 3) });
    expect(hex(encoded)).toBe('81a464617461c403010203');
    expect(hex(msgpackCodec.encode(Buffer.from([1, 2, 3])))).toBe('c403010203');
    const decoded = msgpackCodec.decode(encoded) as { data: Uint8Array };
    expect(Object.getPrototypeOf(decoded.data)).toBe(Uint8Array.prototype);
    encoded.fill(0);
    expect([...decoded.data]).toEqual([1, 2, 3]);
  });

  it('writes Date as the timestamp extension', () => {
    expect(hex(msgpackCodec.encode(new Date(1000)))).toBe('d6ff00000001');
    expect(msgpackCodec.decode(bytes('d6ff00000001'))).toStrictEqual(new Date(1000));
  });

  it('leaves out undefined object members', () => {
    expect(hex(msgpackCodec.encode({ a: 1, b: undefined }))).toBe(
      hex(msgpackCodec.encode({ a: 1 }))
    );
  });

  it('returns a fresh buffer on every encode', () => {
    const first = msgpackCodec.encode('first');
    msgpackCodec.encode('second');
    expect(msgpackCodec.decode(first)).toBe('first');
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
  });

  it('reads maps from other writers: map16, integer keys, a __proto__ key', () => {
    expect(msgpackCodec.decode(bytes('de0001 a161 01'))).toStrictEqual({ a: 1 });
    expect(msgpackCodec.decode(bytes('82 01 a178 ff a179'))).toStrictEqual({ '1': 'x', '-1': 'y' });
    const proto = msgpackCodec.decode(bytes('81 a95f5f70726f746f5f5f 01')) as object;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
  });

  it('reads float32 from other writers', () => {
    expect(msgpackCodec.decode(bytes('ca3fc00000'))).toBe(1.5);
  });

  it.each([
    ['undefined', undefined],
    ['an array hole', [1, , 3]],
    ['an undefined element', [undefined]],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['an Int16Array', new Int16Array(2)],
    ['a class instance', new (class Point {})()],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['an invalid Date', new Date(NaN)],
    ['a lone surrogate', 'a\uD800'],
    ['a lone surrogate in a key', { '\uDC00': 1 }],
  ])('refuses %s with ARGUMENT_INVALID', (_what, value) => {
    expectError(() => msgpackCodec.encode(value), 'ARGUMENT_INVALID');
  });

  it('refuses a cycle with ARGUMENT_INVALID, but not a shared subtree', () => {
    const a: Record<string, unknown> = {};
    a['self'] = { a };
    const e = expectError(() => msgpackCodec.encode(a), 'ARGUMENT_INVALID');
    expect(e.data['path']).toBe('$.self.a');
    const shared = { x: 1 };
    expect(msgpackCodec.decode(msgpackCodec.encode([shared, shared]))).toStrictEqual([
      { x: 1 },
      { x: 1 },
    ]);
  });

  it('names the path of what it refuses to decode', () => {
    const e = expectError(() => msgpackCodec.decode(bytes('91 81 a161 d40000')), 'PAYLOAD_INVALID');
    expect(e.data['path']).toBe('$[0].a');
  });
});
