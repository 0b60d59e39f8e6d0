import { describe, expect, it } from 'vitest';
import { npyArray, npyCodec, type NpyArray, type NpyDtype } from '../../codecs/npy.js';
import { expectError, runCodecContract } from './contract.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const latin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** An .npy file with a hand-written header (no padding unless the header has it). */
function npyFile(header: string, data: Uint8Array, version: 1 | 2 | 3 = 1): Uint8Array {
  const h = version === 3 ? new TextEncoder().encode(header) : latin1(header);
  const len = new Uint8Array(version === 1 ? 2 : 4);
  const view = new DataView(len.buffer);
  if (version === 1) view.setUint16(0, h.length, true);
  else view.setUint32(0, h.length, true);
  return concat(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0), len, h, data);
}

/** The header string of a file `npyCodec` or numpy wrote. */
function headerOf(bytes: Uint8Array): string {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  return Buffer.from(bytes.subarray(10, 10 + len)).toString('latin1');
}

const f8 = (...xs: number[]): Uint8Array => new Uint8Array(Float64Array.from(xs).buffer);

runCodecContract<NpyArray>(
  'npy',
  npyCodec,
  [
    npyArray(Float64Array.of(1, 2, 3)),
    npyArray(Float64Array.of(NaN, Infinity, -Infinity, -0, 5e-324)),
    npyArray(Float32Array.of(0, 1, 2, 3, 4, 5), [2, 3]),
    npyArray(Int8Array.of(-128, 127)),
    npyArray(Int16Array.of(-1, 2), [2, 1]),
    npyArray(
      Int32Array.from({ length: 24 }, (_, i) => i - 12),
      [2, 3, 4]
    ),
    npyArray(BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n)),
    npyArray(BigInt64Array.of(7n), []),
    npyArray(Uint8Array.of(0, 255)),
    npyArray(Uint16Array.of(65535)),
    npyArray(new Uint32Array(0), [0, 3]),
    npyArray(BigUint64Array.of(2n ** 64n - 1n)),
    { dtype: '|b1', shape: [3], data: Uint8Array.of(1, 0, 1) },
    { dtype: '<f8', shape: [2, 3], data: Float64Array.of(0, 3, 1, 4, 2, 5), fortranOrder: true },
  ],
  {
    garbage: [
      Uint8Array.of(0xff, 0xfe),
      new Uint8Array(0),
      Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59), // the magic alone
      npyCodec.encode(npyArray(Float64Array.of(1, 2, 3))).subarray(0, 150), // data cut short
    ],
  }
);

describe('npyCodec writes what numpy.save writes', () => {
  it('has media type application/vnd.numpy', () => {
    expect(npyCodec.mediaType).toBe('application/vnd.numpy');
  });

  it('np.save(np.array([1.0, 2.0, 3.0])): header built by hand from the format spec', () => {
    // magic \x93NUMPY, version 1.0, header length 118 (LE uint16), then the dict literal padded
    // with spaces and ended by '\n' so that 10 + 118 = 128 is a multiple of 64.
    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    const header = `${dict.padEnd(117, ' ')}\n`;
    expect(header.length).toBe(118);
    const expected = concat(
      Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0),
      latin1(header),
      f8(1, 2, 3)
    );
    const bytes = npyCodec.encode(npyArray(Float64Array.of(1, 2, 3)));
    expect(bytes.length).toBe(128 + 24);
    expect(hex(bytes)).toBe(hex(expected));
  });

  // The hex vectors below are the output of numpy 2.4.6 `np.save` to a BytesIO.
  it('a 2-d array: np.save(np.arange(6, dtype="<f8").reshape(2, 3))', () => {
    const numpy =
      '934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000000000000000000000000000f03f0000000000000040000000000000084000000000000010400000000000001440';
    const bytes = npyCodec.encode(npyArray(Float64Array.of(0, 1, 2, 3, 4, 5), [2, 3]));
    expect(hex(bytes)).toBe(numpy);
    expect(headerOf(bytes)).toMatch(
      /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 3\), \} +\n$/
    );
  });

  it('int64 from a BigInt64Array: np.save(np.array([1, -2, 3], dtype="<i8"))', () => {
    const numpy =
      '934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0100000000000000feffffffffffffff0300000000000000';
    const bytes = npyCodec.encode(npyArray(BigInt64Array.of(1n, -2n, 3n)));
    expect(hex(bytes)).toBe(numpy);
    expect(npyCodec.decode(fromHex(numpy))).toStrictEqual({
      dtype: '<i8',
      shape: [3],
      data: BigInt64Array.of(1n, -2n, 3n),
    });
  });

  it('bool: np.save(np.array([True, False]))', () => {
    const numpy =
      '934e554d5059010076007b276465736372273a20277c6231272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0100';
    expect(hex(npyCodec.encode({ dtype: '|b1', shape: [2], data: Uint8Array.of(1, 0) }))).toBe(
      numpy
    );
  });

  it('writes shapes as Python tuples: () for a scalar, (3,) for 1-d, (2, 3, 4) for 3-d', () => {
    expect(headerOf(npyCodec.encode(npyArray(Float64Array.of(1), [])))).toContain("'shape': (), }");
    expect(headerOf(npyCodec.encode(npyArray(Int32Array.of(1, 2, 3))))).toContain(
      "'shape': (3,), }"
    );
    expect(headerOf(npyCodec.encode(npyArray(new Int32Array(24), [2, 3, 4])))).toContain(
      "'shape': (2, 3, 4), }"
    );
  });

  it('writes one-byte dtypes with |, as numpy does', () => {
    expect(headerOf(npyCodec.encode(npyArray(Int8Array.of(1))))).toContain("'descr': '|i1'");
    expect(headerOf(npyCodec.encode(npyArray(Uint8Array.of(1))))).toContain("'descr': '|u1'");
  });

  it('pads every header so the data starts on a 64-byte boundary', () => {
    for (let ndim = 0; ndim <= 64; ndim++) {
      const shape = Array.from({ length: ndim }, (_, i) => (i === 0 ? 12345 : 1));
      const bytes = npyCodec.encode(npyArray(new Uint8Array(ndim === 0 ? 1 : 12345), shape));
      const header = headerOf(bytes);
      expect((10 + header.length) % 64, `ndim ${ndim}`).toBe(0);
      expect(header.endsWith('\n')).toBe(true);
    }
  });

  it('writes fortran_order True for fortranOrder', () => {
    const bytes = npyCodec.encode({
      dtype: '<f8',
      shape: [2, 3],
      data: Float64Array.of(0, 3, 1, 4, 2, 5),
      fortranOrder: true,
    });
    expect(headerOf(bytes)).toContain("'fortran_order': True");
  });

  it('writes only the view of a subarray', () => {
    const whole = Float64Array.of(9, 1, 2, 9);
    const bytes = npyCodec.encode(npyArray(whole.subarray(1, 3)));
    expect(hex(bytes.subarray(128))).toBe(hex(f8(1, 2)));
  });
});

describe('npyCodec reads', () => {
  it('big-endian data, swapping it: np.save(np.array([1.0, -2.5], dtype=">f8"))', () => {
    const numpy =
      '934e554d5059010076007b276465736372273a20273e6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a3ff0000000000000c004000000000000';
    expect(npyCodec.decode(fromHex(numpy))).toStrictEqual({
      dtype: '<f8',
      shape: [2],
      data: Float64Array.of(1, -2.5),
    });
  });

  it('big-endian int32 and uint16', () => {
    const i4 = npyFile(
      "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 2), }\n",
      fromHex('00000001fffffffe00000003fffffffc')
    );
    expect(npyCodec.decode(i4)).toStrictEqual({
      dtype: '<i4',
      shape: [2, 2],
      data: Int32Array.of(1, -2, 3, -4),
    });
    const u2 = npyFile(
      "{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }\n",
      fromHex('00010102')
    );
    expect(npyCodec.decode(u2).data).toStrictEqual(Uint16Array.of(1, 258));
    const i8 = npyFile(
      "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }\n",
      fromHex('fffffffffffffffe')
    );
    expect(npyCodec.decode(i8).data).toStrictEqual(BigInt64Array.of(-2n));
  });

  it('version 2.0 (uint32 header length): np.lib.format.write_array(version=(2, 0))', () => {
    const numpy =
      '934e554d50590200740000007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0100000000000000feffffffffffffff0300000000000000';
    expect(npyCodec.decode(fromHex(numpy))).toStrictEqual({
      dtype: '<i8',
      shape: [3],
      data: BigInt64Array.of(1n, -2n, 3n),
    });
  });

  it('version 3.0 (UTF-8 header): np.lib.format.write_array(version=(3, 0))', () => {
    const numpy =
      '934e554d50590300740000007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000003f0000c03f';
    expect(npyCodec.decode(fromHex(numpy))).toStrictEqual({
      dtype: '<f4',
      shape: [2],
      data: Float32Array.of(0.5, 1.5),
    });
  });

  it('headers other writers produce: any key order, double quotes, no padding, Python 2 longs', () => {
    const data = f8(1, 2);
    for (const header of [
      '{"shape": (2,), "fortran_order": False, "descr": "<f8"}',
      "{'descr':'<f8','fortran_order':False,'shape':(2L,)}\n",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,) }   \n",
      "  {'descr': '<f8', 'fortran_order': False, 'shape': ((2),), }\n",
    ]) {
      expect(npyCodec.decode(npyFile(header, data)), header).toStrictEqual({
        dtype: '<f8',
        shape: [2],
        data: Float64Array.of(1, 2),
      });
    }
  });

  it('one-byte dtypes with any byte-order mark', () => {
    for (const descr of ['<i1', '>i1', '|i1']) {
      const file = npyFile(
        `{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }\n`,
        Uint8Array.of(0xff)
      );
      expect(npyCodec.decode(file)).toStrictEqual({
        dtype: '|i1',
        shape: [1],
        data: Int8Array.of(-1),
      });
    }
  });

  it('bools as 0/1 even when a writer stored other non-zero bytes', () => {
    const file = npyFile(
      "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n",
      Uint8Array.of(0, 2, 255)
    );
    expect(npyCodec.decode(file).data).toStrictEqual(Uint8Array.of(0, 1, 1));
  });

  it('fortran_order True as fortranOrder, and leaves the flag out for C order', () => {
    const c = npyCodec.decode(npyCodec.encode(npyArray(Float64Array.of(1, 2))));
    expect('fortranOrder' in c).toBe(false);
    const f = npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }\n", f8(1, 2));
    expect(npyCodec.decode(f).fortranOrder).toBe(true);
  });

  it('into a fresh, aligned typed array that does not share the input buffer', () => {
    // A 3-byte shift puts the data off its 8-byte alignment inside `shifted`.
    const file = npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8(1, 2));
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const { data } = npyCodec.decode(shifted.subarray(3));
    expect(data).toStrictEqual(Float64Array.of(1, 2));
    expect(data.byteOffset).toBe(0);
    shifted.fill(0);
    expect(data).toStrictEqual(Float64Array.of(1, 2));
  });
});

describe('npyCodec refuses with PAYLOAD_INVALID', () => {
  const ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";

  it.each([
    ['truncated data', npyFile(ok, f8(1, 2).subarray(0, 15))],
    ['trailing bytes', npyFile(ok, concat(f8(1, 2), Uint8Array.of(0)))],
    ['a truncated header', npyFile(ok, f8(1, 2)).subarray(0, 40)],
    [
      'a wrong magic',
      concat(Uint8Array.of(0x93), latin1('NUMPx'), npyFile(ok, f8(1, 2)).subarray(6)),
    ],
    [
      'version 4.0',
      (() => {
        const b = npyFile(ok, f8(1, 2));
        b[6] = 4;
        return b;
      })(),
    ],
    [
      'version 1.1',
      (() => {
        const b = npyFile(ok, f8(1, 2));
        b[7] = 1;
        return b;
      })(),
    ],
    ['a missing key', npyFile("{'descr': '<f8', 'shape': (2,)}", f8(1, 2))],
    [
      'an extra key',
      npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", f8(1, 2)),
    ],
    ['a list shape', npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': [2]}", f8(1, 2))],
    [
      'a bare int shape',
      npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2)}", f8(1, 2)),
    ],
    [
      'a negative shape',
      npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}", f8(1, 2)),
    ],
    [
      'a non-bool fortran_order',
      npyFile("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", f8(1, 2)),
    ],
    ['complex128', npyFile("{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", f8(1, 2))],
    [
      'float16',
      npyFile("{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}", Uint8Array.of(0, 0, 0, 0)),
    ],
    [
      'a string dtype',
      npyFile("{'descr': '<U1', 'fortran_order': False, 'shape': (4,)}", f8(1, 2)),
    ],
    [
      '| on a multi-byte dtype',
      npyFile("{'descr': '|f8', 'fortran_order': False, 'shape': (2,)}", f8(1, 2)),
    ],
    [
      'a structured dtype',
      npyFile("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (2,)}", f8(1, 2)),
    ],
    ['not a dict', npyFile('(1, 2)', f8(1, 2))],
    ['an unterminated string', npyFile("{'descr': '<f8}", f8(1, 2))],
    ['text after the dict', npyFile(`${ok.trim()} x`, f8(1, 2))],
    ['deep nesting', npyFile(`${'('.repeat(5000)}${')'.repeat(5000)}`, new Uint8Array(0))],
    [
      'a shape past 2^53',
      npyFile(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (9007199254740993,)}",
        new Uint8Array(0)
      ),
    ],
    [
      'a huge product',
      npyFile(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
        new Uint8Array(0)
      ),
    ],
    [
      '65 dimensions',
      npyFile(
        `{'descr': '|u1', 'fortran_order': False, 'shape': (${'1, '.repeat(65)})}`,
        Uint8Array.of(0)
      ),
    ],
    [
      'a v3 header that is not UTF-8',
      npyFile("{'descr': '<f8'}", new Uint8Array(0), 3).fill(0xff, 12, 13),
    ],
  ])('%s', (_what, bytes) => {
    expectError(() => npyCodec.decode(bytes), 'PAYLOAD_INVALID');
  });

  it('says how many bytes the shape needs', () => {
    const e = expectError(() => npyCodec.decode(npyFile(ok, f8(1))), 'PAYLOAD_INVALID');
    expect(e.message).toContain('needs 16');
    expect(e.data['available']).toBe(8);
  });
});

describe('npyCodec.encode refuses with ARGUMENT_INVALID', () => {
  it.each<[string, NpyArray]>([
    ['data of another type', { dtype: '<f8', shape: [1], data: Float32Array.of(1) }],
    ['an unknown dtype', { dtype: '<c16' as NpyDtype, shape: [1], data: Float64Array.of(1) }],
    ['a shape that does not match', { dtype: '<f8', shape: [2], data: Float64Array.of(1) }],
    ['a negative shape', { dtype: '<f8', shape: [-1, -1], data: Float64Array.of(1) }],
    ['a fractional shape', { dtype: '<f8', shape: [0.5, 2], data: Float64Array.of(1) }],
    [
      '65 dimensions',
      { dtype: '<f8', shape: new Array<number>(65).fill(1), data: Float64Array.of(1) },
    ],
    ['bools other than 0 and 1', { dtype: '|b1', shape: [1], data: Uint8Array.of(2) }],
    ['bools in an Int8Array', { dtype: '|b1', shape: [1], data: Int8Array.of(1) }],
  ])('%s', (_what, array) => {
    expectError(() => npyCodec.encode(array), 'ARGUMENT_INVALID');
  });
});

describe('npyArray', () => {
  it.each<[string, NpyArray['data'], NpyDtype]>([
    ['Float64Array', new Float64Array(1), '<f8'],
    ['Float32Array', new Float32Array(1), '<f4'],
    ['Int8Array', new Int8Array(1), '|i1'],
    ['Int16Array', new Int16Array(1), '<i2'],
    ['Int32Array', new Int32Array(1), '<i4'],
    ['BigInt64Array', new BigInt64Array(1), '<i8'],
    ['Uint8Array', new Uint8Array(1), '|u1'],
    ['Buffer', Buffer.alloc(1), '|u1'],
    ['Uint16Array', new Uint16Array(1), '<u2'],
    ['Uint32Array', new Uint32Array(1), '<u4'],
    ['BigUint64Array', new BigUint64Array(1), '<u8'],
  ])('takes the dtype of a %s', (_name, data, dtype) => {
    expect(npyArray(data)).toStrictEqual({ dtype, shape: [1], data });
  });

  it('keeps the data and takes the shape', () => {
    const data = new Int32Array(6);
    const a = npyArray(data, [3, 2]);
    expect(a.data).toBe(data);
    expect(a.shape).toEqual([3, 2]);
  });

  it('refuses a shape that does not match, and other kinds of data', () => {
    expectError(() => npyArray(new Int32Array(6), [4, 2]), 'ARGUMENT_INVALID');
    expectError(
      () => npyArray(new Uint8ClampedArray(2) as unknown as Uint8Array),
      'ARGUMENT_INVALID'
    );
    expectError(() => npyArray([1, 2] as unknown as Float64Array), 'ARGUMENT_INVALID');
  });
});
