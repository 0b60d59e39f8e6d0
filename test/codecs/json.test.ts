import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../codecs/json.js';
import { expectError, runCodecContract } from './contract.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

runCodecContract(
  'json',
  jsonCodec,
  [
    null,
    true,
    0,
    -1.5,
    1e300,
    Number.MAX_SAFE_INTEGER,
    'héllo "quoted" \n ✓ 😀',
    [],
    {},
    [1, 'a', null, [false]],
    { b: 1, a: [true, null, { d: 'x', c: 2 }], ü: { z: {}, y: [] } },
    { '10': 1, '9': 2, b: 3, a: 4, '': 5 },
    JSON.parse('{"__proto__":{"x":1},"a":1}') as unknown,
  ],
  {
    keyOrder: true,
    garbage: [
      Uint8Array.of(0xff, 0xfe),
      new Uint8Array(0),
      utf8('{"a":'),
      utf8('{a:1}'),
      utf8('NaN'),
      utf8("'single'"),
      Uint8Array.of(0x22, 0xc3, 0x22), // a string holding a truncated UTF-8 sequence
    ],
  }
);

describe('jsonCodec', () => {
  it('has media type application/json', () => {
    expect(jsonCodec.mediaType).toBe('application/json');
  });

  it('writes canonical JSON: sorted keys at every depth, no whitespace', () => {
    expect(text(jsonCodec.encode({ b: 1, a: [true, null] }))).toBe('{"a":[true,null],"b":1}');
    expect(text(jsonCodec.encode({ z: { y: 1, x: [{ b: 2, a: 1 }] } }))).toBe(
      '{"z":{"x":[{"a":1,"b":2}],"y":1}}'
    );
  });

  it('leaves out undefined members and writes holes as null, as JSON.stringify does', () => {
    expect(text(jsonCodec.encode({ a: undefined, b: [1, , 3] }))).toBe('{"b":[1,null,3]}');
  });

  it.each([NaN, Infinity, -Infinity])('refuses %s with ARGUMENT_INVALID', (n) => {
    expectError(() => jsonCodec.encode(n), 'ARGUMENT_INVALID');
    expectError(() => jsonCodec.encode({ a: [n] }), 'ARGUMENT_INVALID');
  });

  it.each([
    ['a bigint', 1n],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a Map', new Map()],
    ['a Date', new Date(0)],
  ])('refuses %s with ARGUMENT_INVALID', (_what, value) => {
    expectError(() => jsonCodec.encode(value), 'ARGUMENT_INVALID');
  });

  it('refuses a cycle with ARGUMENT_INVALID', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expectError(() => jsonCodec.encode(a), 'ARGUMENT_INVALID');
  });

  it('reads JSON in any key order and spacing, and writes it back canonically', () => {
    const value = jsonCodec.decode(utf8(' {\n  "b" : 1,\t"a": [ 1 , 2 ] }\n'));
    expect(value).toStrictEqual({ a: [1, 2], b: 1 });
    expect(text(jsonCodec.encode(value))).toBe('{"a":[1,2],"b":1}');
  });

  it('names the media type and keeps the cause when the bytes are not JSON', () => {
    const e = expectError(() => jsonCodec.decode(utf8('{"a":')), 'PAYLOAD_INVALID');
    expect(e.data['mediaType']).toBe('application/json');
    expect(e.cause).toBeInstanceOf(SyntaxError);
    const u = expectError(
      () => jsonCodec.decode(Uint8Array.of(0x5b, 0xff, 0x5d)),
      'PAYLOAD_INVALID'
    );
    expect(u.message).toMatch(/UTF-8/);
  });
});
