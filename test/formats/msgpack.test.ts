import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeMsgpack,
  encodeMsgpack,
  MSGPACK_MAX_DEPTH,
  MsgpackReader,
  msgpackKindName,
} from '../../src/formats/msgpack.js';
import { MsgpackWriter } from '../../src/formats/msgpack-writer.js';
import { RunledgerError } from '../../src/errors.js';
import { expectError } from '../helpers/expect-code.js';
import { decodeMsgpack as independentDecode } from '../helpers/ommx-validator.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
/** A plain object with `n` keys k00, k01, … (sorted as written). */
const keys = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(5, '0')}`, 0]));

// Golden vectors from the msgpack spec (github.com/msgpack/msgpack/blob/master/spec.md).
const golden: [string, unknown, string][] = [
  ['nil', null, 'c0'],
  ['false', false, 'c2'],
  ['true', true, 'c3'],
  // Integers: the shortest form, uint family for non-negative values.
  ['positive fixint 0', 0, '00'],
  ['positive fixint 127', 127, '7f'],
  ['uint8 128', 128, 'cc80'],
  ['uint8 255', 255, 'ccff'],
  ['uint16 256', 256, 'cd0100'],
  ['uint16 65535', 65535, 'cdffff'],
  ['uint32 65536', 65536, 'ce00010000'],
  ['uint32 2^32 − 1', 2 ** 32 - 1, 'ceffffffff'],
  ['negative fixint −1', -1, 'ff'],
  ['negative fixint −32', -32, 'e0'],
  ['int8 −33', -33, 'd0df'],
  ['int8 −128', -128, 'd080'],
  ['int16 −129', -129, 'd1ff7f'],
  ['int16 −32768', -32768, 'd18000'],
  ['int32 −32769', -32769, 'd2ffff7fff'],
  ['int32 −2^31', -(2 ** 31), 'd280000000'],
  ['-0 as 0', -0, '00'],
  // Numbers outside int32/uint32 are float64, so they read back as numbers, not bigints.
  ['2^32 as float64', 2 ** 32, 'cb41f0000000000000'],
  ['−2^31 − 1 as float64', -(2 ** 31) - 1, 'cbc1e0000000200000'],
  ['2^53 as float64', 2 ** 53, 'cb4340000000000000'],
  // Bigints: always 9 bytes.
  ['int64 0n', 0n, 'd30000000000000000'],
  ['int64 −1n', -1n, 'd3ffffffffffffffff'],
  ['int64 2^63 − 1', 2n ** 63n - 1n, 'd37fffffffffffffff'],
  ['int64 −2^63', -(2n ** 63n), 'd38000000000000000'],
  ['uint64 2^63', 2n ** 63n, 'cf8000000000000000'],
  ['uint64 2^64 − 1', 2n ** 64n - 1n, 'cfffffffffffffffff'],
  // Floats: always float64.
  ['float64 1.5', 1.5, 'cb3ff8000000000000'],
  ['float64 −1.5', -1.5, 'cbbff8000000000000'],
  ['float64 0.1', 0.1, 'cb3fb999999999999a'],
  ['float64 NaN (quiet)', NaN, 'cb7ff8000000000000'],
  ['float64 +∞', Infinity, 'cb7ff0000000000000'],
  ['float64 −∞', -Infinity, 'cbfff0000000000000'],
  // Strings: UTF-8 byte length decides the header.
  ['fixstr ""', '', 'a0'],
  ['fixstr "a"', 'a', 'a161'],
  ['fixstr "é" (2 bytes)', 'é', 'a2c3a9'],
  ['fixstr emoji (4 bytes)', '😀', 'a4f09f9880'],
  ['fixstr 31 bytes', 'x'.repeat(31), 'bf' + '78'.repeat(31)],
  ['str8 32 bytes', 'x'.repeat(32), 'd920' + '78'.repeat(32)],
  ['str8 16 × "é" = 32 bytes', 'é'.repeat(16), 'd920' + 'c3a9'.repeat(16)],
  ['str8 255 bytes', 'x'.repeat(255), 'd9ff' + '78'.repeat(255)],
  ['str16 256 bytes', 'x'.repeat(256), 'da0100' + '78'.repeat(256)],
  ['str32 65536 bytes', 'x'.repeat(65536), 'db00010000' + '78'.repeat(65536)],
  // Binary.
  ['bin8 empty', new Uint8Array(0), 'c400'],
  ['bin8 3 bytes', Uint8Array.of(1, 2, 3), 'c403010203'],
  ['bin8 255 bytes', new Uint8Array(255), 'c4ff' + '00'.repeat(255)],
  ['bin16 256 bytes', new Uint8Array(256), 'c50100' + '00'.repeat(256)],
  ['bin32 65536 bytes', new Uint8Array(65536), 'c600010000' + '00'.repeat(65536)],
  // Arrays.
  ['fixarray empty', [], '90'],
  ['fixarray 15', Array(15).fill(1), '9f' + '01'.repeat(15)],
  ['array16 16', Array(16).fill(1), 'dc0010' + '01'.repeat(16)],
  ['array16 65535', Array(65535).fill(1), 'dcffff' + '01'.repeat(65535)],
  ['array32 65536', Array(65536).fill(1), 'dd00010000' + '01'.repeat(65536)],
  ['nested arrays', [1, [2, [null]]], '9201920291c0'],
  // Maps, keys sorted.
  ['fixmap empty', {}, '80'],
  ['fixmap {"a": 1}', { a: 1 }, '81a16101'],
  // Maps with many keys: the header is checked (marked …), the round trip covers the rest.
  ['fixmap 15', keys(15), '8fa66b303030303000…'],
  ['map16 16', keys(16), 'de0010a66b303030303000…'],
  ['map32 65536', keys(65536), 'df00010000a66b303030303000…'],
  // The timestamp extension (type −1).
  ['timestamp32 epoch', new Date(0), 'd6ff00000000'],
  ['timestamp32 1 s', new Date(1000), 'd6ff00000001'],
  ['timestamp32 2^32 − 1 s', new Date((2 ** 32 - 1) * 1000), 'd6ffffffffff'],
  ['timestamp64 1 ms', new Date(1), 'd7ff003d090000000000'],
  // nanoseconds 5·10^8 << 2 = 0x77359400, seconds 1.
  ['timestamp64 1.5 s', new Date(1500), 'd7ff7735940000000001'],
  ['timestamp96 −1 ms', new Date(-1), 'c70cff3b8b87c0ffffffffffffffff'],
  ['timestamp96 −1 s', new Date(-1000), 'c70cff00000000ffffffffffffffff'],
  // msgpackr's rule, kept for stable bytes: whole seconds from 2^32 on take timestamp96.
  ['timestamp96 2^32 s', new Date(2 ** 32 * 1000), 'c70cff000000000000000100000000'],
];

describe('encodeMsgpack / decodeMsgpack golden vectors', () => {
  it.each(golden)('%s', (_name, value, expected) => {
    const encoded = encodeMsgpack(value);
    if (expected.endsWith('…')) {
      expect(hex(encoded).startsWith(expected.slice(0, -1))).toBe(true);
    } else {
      expect(hex(encoded)).toBe(expected);
    }
    const decoded = decodeMsgpack(encoded);
    expect(decoded).toStrictEqual(Object.is(value, -0) ? 0 : value);
    expect(hex(encodeMsgpack(decoded))).toBe(hex(encoded));
  });

  it('returns a buffer of its own', () => {
    const out = encodeMsgpack('x');
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(out.byteLength);
  });
});

describe('decodeMsgpack from other writers', () => {
  it.each([
    ['uint8 5 (not shortest)', 'cc05', 5],
    ['uint16 1', 'cd0001', 1],
    ['uint32 1', 'ce00000001', 1],
    ['int8 0', 'd000', 0],
    ['int16 1', 'd10001', 1],
    ['int32 −1', 'd2ffffffff', -1],
    ['uint64 1 (a bigint)', 'cf0000000000000001', 1n],
    ['int64 −1 (a bigint)', 'd3ffffffffffffffff', -1n],
    ['uint64 2^53 + 1, not rounded', 'cf0020000000000001', 2n ** 53n + 1n],
    ['float32 1.5', 'ca3fc00000', 1.5],
    ['float32 NaN', 'ca7fc00000', NaN],
    ['float64 −0', 'cb8000000000000000', -0],
    ['str8 "a"', 'd90161', 'a'],
    ['str16 "a"', 'da000161', 'a'],
    ['str32 "a"', 'db0000000161', 'a'],
    ['a BOM, kept', 'a3efbbbf', '\ufeff'],
    ['array16 empty', 'dc0000', []],
    ['array32 [1]', 'dd0000000101', [1]],
    ['map16 {a: 1}', 'de0001a16101', { a: 1 }],
    ['map32 {a: 1}', 'df00000001a16101', { a: 1 }],
    ['integer keys', '8201a178ffa179', { '1': 'x', '-1': 'y' }],
    ['uint64 key', '81cf0000000000000005a178', { '5': 'x' }],
    ['unsorted keys', '82a16202a16101', { a: 1, b: 2 }],
    ['bin16 empty', 'c50000', new Uint8Array(0)],
    ['bin32 [7]', 'c60000000107', Uint8Array.of(7)],
    ['timestamp32 via ext8', 'c704ff00000001', new Date(1000)],
    ['timestamp64 with sub-ms nanoseconds', 'd7ff003d10d000000000', new Date(1)],
    ['timestamp64 beyond 2^32 s', 'd7ff0000000100000000', new Date(2 ** 32 * 1000)],
    ['timestamp96 1 s', 'c70cff000000000000000000000001', new Date(1000)],
    // −0.5 ms rounds toward zero, as new Date(-0.5) does.
    ['timestamp96 −0.5 ms', 'c70cff3b9328e0ffffffffffffffff', new Date(0)],
    ['timestamp96 the last Date', 'c70cff00000000000007dba8218000', new Date(8.64e15)],
    ['timestamp96 the first Date', 'c70cff00000000fffff82457de8000', new Date(-8.64e15)],
  ])('reads %s', (_name, h, expected) => {
    expect(decodeMsgpack(bytes(h))).toStrictEqual(expected);
  });

  it('keeps __proto__ an ordinary key, on an ordinary object', () => {
    const out = decodeMsgpack(bytes('82 a95f5f70726f746f5f5f 81a17801 a16101')) as object;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ x: 1 });
    expect(hex(encodeMsgpack(out))).toBe('82a95f5f70726f746f5f5f81a17801a16101');
  });

  it('returns bin as a copy, also from a Buffer input', () => {
    const input = Buffer.from('c403010203', 'hex');
    const out = decodeMsgpack(input) as Uint8Array;
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    input.fill(0);
    expect([...out]).toEqual([1, 2, 3]);
  });

  it('reads a subarray of a larger buffer', () => {
    const big = bytes('ff 92 01 a161 ff');
    expect(decodeMsgpack(big.subarray(1, 5))).toStrictEqual([1, 'a']);
  });

  it(`accepts ${MSGPACK_MAX_DEPTH} nested arrays and maps`, () => {
    const arrays = bytes('91'.repeat(MSGPACK_MAX_DEPTH - 1) + '90');
    let v = decodeMsgpack(arrays);
    for (let i = 0; i < MSGPACK_MAX_DEPTH - 1; i++) v = (v as unknown[])[0];
    expect(v).toEqual([]);
    expect(encodeMsgpack(decodeMsgpack(arrays))).toEqual(arrays);
    const maps = bytes('81a0'.repeat(MSGPACK_MAX_DEPTH - 1) + '80');
    expect(encodeMsgpack(decodeMsgpack(maps))).toEqual(maps);
    expectError(() => decodeMsgpack(bytes('81a0' + hex(maps))), 'PAYLOAD_INVALID');
  });
});

describe('decodeMsgpack refuses', () => {
  it.each([
    ['empty input', '', /ends early/],
    ['the reserved byte c1', 'c1', /reserved byte 0xc1/],
    ['a trailing byte', 'c0c0', /followed by 1 trailing byte/],
    ['a truncated uint8', 'cc', /ends early/],
    ['a truncated uint16', 'cd00', /ends early/],
    ['a truncated uint64', 'cf00000000', /ends early/],
    ['a truncated float64', 'cb0000', /ends early/],
    ['a truncated float32', 'ca00', /ends early/],
    ['a truncated fixstr', 'a561', /ends early/],
    ['a truncated str8 header', 'd9', /ends early/],
    ['a truncated bin8', 'c40500', /ends early/],
    ['a truncated fixext', 'd6ff00', /ends early/],
    ['a truncated ext8', 'c70cff00', /ends early/],
    ['a fixext without its type', 'd4', /ends early/],
    ['an array short of items', '9201', /declares an array of 2 items/],
    ['a map without its last value', '81a161', /ends early/],
    ['a huge array', 'ddffffffff', /declares an array of 4294967295 items/],
    ['a huge map', 'dfffffffff', /declares a map of 4294967295 entries/],
    ['a huge str', 'dbffffffff', /ends early/],
    ['a huge bin', 'c6ffffffff', /ends early/],
    ['invalid UTF-8', 'a2c328', /not valid UTF-8/],
    ['an overlong encoding', 'a2c080', /not valid UTF-8/],
    ['an encoded surrogate (CESU-8)', 'a3eda080', /not valid UTF-8/],
    ['msgpackr\u2019s undefined extension', 'd40000', /ext value of type 0/],
    ['an unknown ext type', 'c7010500', /ext value of type 5/],
    ['an empty ext', 'c70001', /ext value of type 1/],
    ['msgpackr\u2019s bigint extension', 'c7014200', /ext value of type 66/],
    ['msgpackr\u2019s typed-array extension', 'c7017401', /ext value of type 116/],
    ['a timestamp of 2 bytes', 'd5ff0000', /timestamp of 2 bytes/],
    ['a timestamp of 16 bytes', 'd8ff' + '00'.repeat(16), /timestamp of 16 bytes/],
    ['a timestamp64 with 10^9 ns', 'd7ffee6b280000000000', /1000000000 nanoseconds/],
    ['a timestamp96 with 10^9 ns', 'c70cff3b9aca000000000000000000', /1000000000 nanoseconds/],
    ['a timestamp 1 s beyond Date', 'c70cff00000000000007dba8218001', /outside the Date range/],
    ['a timestamp 1 ms beyond Date', 'c70cff000f4240000007dba8218000', /outside the Date range/],
    ['a timestamp 1 ms before Date', 'c70cff3b8b87c0fffff82457de7fff', /outside the Date range/],
    ['a timestamp at int64 max', 'c70cff000000007fffffffffffffff', /outside the Date range/],
    ['a map keyed by an array', '819001', /an array as a map key/],
    ['a map keyed by a map', '818001', /a map as a map key/],
    ['a map keyed by 1.5', '81cb3ff800000000000001', /a float64 as a map key/],
    ['a map keyed by 1.0 (a float)', '81ca3f80000001', /a float32 as a map key/],
    ['a map keyed by nil', '81c001', /nil as a map key/],
    ['a map keyed by true', '81c301', /a bool as a map key/],
    ['a map keyed by bin', '81c4016101', /binary data as a map key/],
    ['a duplicate key', '82a16101a16102', /map key "a" twice/],
    ['a duplicate key, int and string', '820101a13102', /map key "1" twice/],
    ['nesting too deep', '91'.repeat(MSGPACK_MAX_DEPTH) + '90', /nests deeper than 512/],
    ['very deep nesting (no stack overflow)', '91'.repeat(100_000) + '90', /nests deeper/],
  ])('%s', (_name, h, message) => {
    const e = expectError(() => decodeMsgpack(bytes(h)), 'PAYLOAD_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^The msgpack value at \$\S* .* \(byte \d+\)\.$/);
    expect(e.data['offset']).toBeTypeOf('number');
  });

  it('names the path and offset, with the caller\u2019s subject and data', () => {
    const e = expectError(
      () =>
        decodeMsgpack(bytes('92 c0 81 a161 d40000'), {
          subject: 'The thing',
          data: { mediaType: 'application/msgpack' },
        }),
      'PAYLOAD_INVALID'
    );
    expect(e.message).toBe(
      'The thing at $[1].a holds an ext value of type 0, which is not read (byte 5).'
    );
    expect(e.data).toStrictEqual({ mediaType: 'application/msgpack', path: '$[1].a', offset: 5 });
    const utf8 = expectError(() => decodeMsgpack(bytes('91 a2c328')), 'PAYLOAD_INVALID');
    expect(utf8.data).toStrictEqual({ path: '$[0]', offset: 2 });
    expect(utf8.cause).toBeInstanceOf(TypeError);
    const trailing = expectError(() => decodeMsgpack(bytes('9101 00')), 'PAYLOAD_INVALID');
    expect(trailing.data).toStrictEqual({ path: '$', offset: 2 });
  });
});

describe('encodeMsgpack refuses', () => {
  const deep = (n: number): unknown => {
    let v: unknown = [];
    for (let i = 1; i < n; i++) v = [v];
    return v;
  };

  it.each([
    ['undefined', undefined],
    ['an array hole', [1, , 3]],
    ['a Map', new Map()],
    ['a Set', new Set()],
    ['a Float64Array', new Float64Array(1)],
    ['a class instance', new (class A {})()],
    ['a function', () => 0],
    ['a symbol', Symbol('s')],
    ['an invalid Date', new Date(NaN)],
    ['a bigint 2^64', 2n ** 64n],
    ['a bigint −2^63 − 1', -(2n ** 63n) - 1n],
    ['a lone surrogate', '\ud800'],
    ['a lone surrogate key', { '\udfff': 1 }],
    [`${MSGPACK_MAX_DEPTH + 1} nested arrays`, deep(MSGPACK_MAX_DEPTH + 1)],
  ])('%s with ARGUMENT_INVALID', (_name, value) => {
    expectError(() => encodeMsgpack(value), 'ARGUMENT_INVALID');
  });

  it(`accepts ${MSGPACK_MAX_DEPTH} nested arrays`, () => {
    expect(encodeMsgpack(deep(MSGPACK_MAX_DEPTH)).length).toBe(MSGPACK_MAX_DEPTH);
  });

  it('names the path', () => {
    const e = expectError(() => encodeMsgpack({ a: [0, { b: () => 0 }] }), 'ARGUMENT_INVALID');
    expect(e.data['path']).toBe('$.a[1].b');
    expect(e.message).toBe(
      'The msgpack value at $.a[1].b is a function, which msgpack cannot hold.'
    );
  });
});

describe('MsgpackReader', () => {
  const reader = (h: string): MsgpackReader =>
    new MsgpackReader(
      bytes(h),
      (why, at) => new RunledgerError('PAYLOAD_INVALID', `T ${why} at ${at}.`, { data: { at } })
    );

  it('reads tokens, ints as numbers up to 32 bits and bigints from 64-bit forms', () => {
    const r = reader('82 cc05 d3ffffffffffffffff c403010203 d6ff00000001 c1');
    expect(r.token()).toStrictEqual({ kind: 'map', size: 2 });
    expect(r.token()).toStrictEqual({ kind: 'uint', value: 5 });
    expect(r.token()).toStrictEqual({ kind: 'int', value: -1n });
    const bin = r.token();
    expect(bin.kind === 'bin' && [...bin.value]).toEqual([1, 2, 3]);
    const ext = r.token();
    expect(ext.kind === 'ext' && [ext.type, hex(ext.data)]).toEqual([-1, '00000001']);
    expect(r.token()).toStrictEqual({ kind: 'reserved' });
    expect(r.remaining).toBe(0);
    expect(r.pos).toBe(24);
  });

  it('throws the error its caller builds', () => {
    const r = reader('a5 61');
    const e = expectError(() => r.token(), 'PAYLOAD_INVALID');
    expect(e.message).toBe('T ends early at 1.');
    expect(() => r.fail('x', 7)).toThrow('T x at 7.');
  });

  it('names token kinds', () => {
    expect(msgpackKindName('bin')).toBe('binary data');
    expect(msgpackKindName('uint')).toBe('an integer');
  });
});

describe('MsgpackWriter, the families encodeMsgpack adds', () => {
  it('writes nil, array headers, bin and ext in their shortest forms', () => {
    const w = new MsgpackWriter(1);
    w.nil();
    w.arrayHeader(15);
    w.arrayHeader(16);
    w.arrayHeader(0x10000);
    w.bin(Uint8Array.of(9));
    expect(hex(w.bytes())).toBe('c0' + '9f' + 'dc0010' + 'dd00010000' + 'c40109');
    /** The header and type of an ext value with `n` zero bytes (the data are checked too). */
    const ext = (n: number): string => {
      const e = new MsgpackWriter();
      e.ext(-2, new Uint8Array(n));
      const out = hex(e.bytes());
      expect(out.endsWith('00'.repeat(n))).toBe(true);
      return out.slice(0, out.length - 2 * n);
    };
    expect([1, 2, 4, 8, 16].map(ext)).toEqual(['d4fe', 'd5fe', 'd6fe', 'd7fe', 'd8fe']);
    expect([0, 3, 12, 255].map(ext)).toEqual(['c700fe', 'c703fe', 'c70cfe', 'c7fffe']);
    expect(ext(256)).toBe('c80100fe');
    expect(ext(0x10000)).toBe('c900010000fe');
  });

  it('writes ints from numbers and fixed-width bigints', () => {
    const w = new MsgpackWriter();
    w.int(-1);
    w.int(-33);
    w.int(200);
    w.int(-(2 ** 31) - 1);
    w.int64(5n);
    w.int64(2n ** 63n);
    expect(hex(w.bytes())).toBe(
      'ff' + 'd0df' + 'ccc8' + 'd3ffffffff7fffffff' + 'd30000000000000005' + 'cf8000000000000000'
    );
  });

  it('refuses what msgpack cannot hold', () => {
    const w = new MsgpackWriter();
    expectError(() => w.int(2 ** 53), 'ARGUMENT_INVALID');
    expectError(() => w.int(1.5), 'ARGUMENT_INVALID');
    expectError(() => w.int64(2n ** 64n), 'ARGUMENT_INVALID');
    expectError(() => w.int64(-(2n ** 63n) - 1n), 'ARGUMENT_INVALID');
    expectError(() => w.arrayHeader(-1), 'ARGUMENT_INVALID');
    expectError(() => w.arrayHeader(2 ** 32), 'ARGUMENT_INVALID');
    expectError(() => w.ext(128, new Uint8Array(1)), 'ARGUMENT_INVALID');
    expectError(() => w.ext(-129, new Uint8Array(1)), 'ARGUMENT_INVALID');
    expect(w.bytes().length).toBe(0);
  });
});

// ---- property -----------------------------------------------------------------------------------

const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
  fc.double().map((x) => (Object.is(x, -0) ? 0 : x)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.string({ unit: 'binary', maxLength: 40 }).filter(wellFormed),
  fc.uint8Array({ maxLength: 40 }),
  fc.date({ noInvalidDate: true })
);
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }).filter(wellFormed), tie('value'), {
      maxKeys: 20,
      noNullPrototype: true,
    })
  ),
})).value;

describe('property', () => {
  it('decode(encode(x)) equals x, re-encodes to the same bytes, and an independent reader agrees', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const encoded = encodeMsgpack(value);
        const decoded = decodeMsgpack(encoded);
        expect(decoded).toStrictEqual(value);
        expect(hex(encodeMsgpack(decoded))).toBe(hex(encoded));
        expect(() => independentDecode(encoded)).not.toThrow();
      }),
      { numRuns: 500 }
    );
  });

  it('decodes any bytes to a value or PAYLOAD_INVALID, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          decodeMsgpack(input);
        } catch (e) {
          expect(e).toBeInstanceOf(RunledgerError);
          expect((e as RunledgerError).code).toBe('PAYLOAD_INVALID');
        }
      }),
      { numRuns: 2000 }
    );
  });
});
