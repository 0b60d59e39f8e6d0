/**
 * @module codecs/npy
 * The NumPy `.npy` attachment codec: writes what `numpy.save` writes, reads versions 1.0–3.0.
 */
import type { AttachmentCodec } from '../src/experiment/codec.js';
import { RunledgerError } from '../src/errors.js';

const MEDIA_TYPE = 'application/vnd.numpy';

/**
 * The element types the npy codec reads and writes, spelled as NumPy's `descr` for a
 * little-endian file: `f` float, `i` signed, `u` unsigned, `b1` bool; the digit is the byte size.
 * One-byte types carry `|` ("byte order not applicable"), exactly as `numpy.save` writes them.
 */
export type NpyDtype =
  | '<f8'
  | '<f4'
  | '|i1'
  | '<i2'
  | '<i4'
  | '<i8'
  | '|u1'
  | '<u2'
  | '<u4'
  | '<u8'
  | '|b1';

/** The typed arrays that hold npy data, one per {@link NpyDtype} (`|b1` is a `Uint8Array` of 0/1). */
export type NpyData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/**
 * An n-dimensional array as `.npy` stores it: element type, shape and the flat data, in C
 * (row-major) order unless `fortranOrder` is true. The data's length is the product of the shape
 * (1 for the scalar shape `[]`).
 */
export interface NpyArray {
  /** The element type; it must match the typed array of `data`. */
  readonly dtype: NpyDtype;
  /** The size of each dimension: `[]` for a scalar, `[3]` for a vector, `[2, 3]` for a matrix. */
  readonly shape: readonly number[];
  /** The elements, flat, in the platform's byte order. */
  readonly data: NpyData;
  /** True when `data` is in Fortran (column-major) order; left out (false) for C order. */
  readonly fortranOrder?: boolean;
}

type TypedArrayClass = new (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyData;

const DTYPES: Readonly<Record<NpyDtype, { readonly size: number; readonly of: TypedArrayClass }>> =
  {
    '<f8': { size: 8, of: Float64Array },
    '<f4': { size: 4, of: Float32Array },
    '|i1': { size: 1, of: Int8Array },
    '<i2': { size: 2, of: Int16Array },
    '<i4': { size: 4, of: Int32Array },
    '<i8': { size: 8, of: BigInt64Array },
    '|u1': { size: 1, of: Uint8Array },
    '<u2': { size: 2, of: Uint16Array },
    '<u4': { size: 4, of: Uint32Array },
    '<u8': { size: 8, of: BigUint64Array },
    '|b1': { size: 1, of: Uint8Array },
  };

/** `\x93NUMPY`, the first six bytes of every .npy file (format.rst, "Format Version 1.0"). */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] as const;
/** numpy >= 1.16 pads magic + version + length + header to a multiple of 64 (ARRAY_ALIGN). */
const ARRAY_ALIGN = 64;
/** numpy pads the header for in-place growth of the first (C) or last (Fortran) axis. */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** NumPy 2's NPY_MAXDIMS. */
const MAX_DIMS = 64;

const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Stores an {@link NpyArray} as `application/vnd.numpy`, byte for byte what `numpy.save` writes
 * for the same array (format version 1.0, header padded to 64 bytes), so the attachment loads with
 * `numpy.load`. Decoding accepts format versions 1.0, 2.0 and 3.0 and big-endian data, which it
 * swaps into the platform's byte order; the returned `dtype` is then the little-endian spelling.
 * Data is always copied, never shared with the caller's buffers.
 *
 * @throws RunledgerError `ARGUMENT_INVALID` from `encode` when dtype, data and shape disagree
 * @throws RunledgerError `PAYLOAD_INVALID` from `decode` for bytes that are not a complete .npy
 * file of a supported dtype
 * @example
 * ```ts
 * const bytes = npyCodec.encode(npyArray(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]));
 * const { dtype, shape, data } = npyCodec.decode(bytes); // '<f8', [2, 3], Float64Array(6)
 * ```
 */
export const npyCodec: AttachmentCodec<NpyArray> = {
  mediaType: MEDIA_TYPE,

  /**
   * @param array - dtype, shape, data and optional `fortranOrder`
   * @returns the .npy file bytes
   * @throws RunledgerError `ARGUMENT_INVALID` for an unknown dtype, data of another typed array,
   * a shape whose product is not the data's length, more than 64 dimensions, or `|b1` data other
   * than 0 and 1
   */
  encode(array: NpyArray): Uint8Array {
    const { dtype, shape, data } = array;
    if (!Object.hasOwn(DTYPES, dtype)) {
      throw badArgument(`has dtype ${JSON.stringify(dtype)}, which the npy codec does not write`);
    }
    const { size, of } = DTYPES[dtype];
    if (!(data instanceof of)) {
      throw badArgument(`has dtype ${dtype}, which needs a ${of.name}, not a ${typeName(data)}`);
    }
    checkShape(shape, data.length);
    if (array.fortranOrder !== undefined && typeof array.fortranOrder !== 'boolean') {
      throw badArgument('has a fortranOrder that is not a boolean');
    }
    const fortranOrder = array.fortranOrder === true;
    if (dtype === '|b1' && (data as Uint8Array).some((x) => x > 1)) {
      throw badArgument('has dtype |b1 but data other than 0 and 1');
    }

    const header = headerBytes(dtype, shape, fortranOrder);
    const out = new Uint8Array(header.length + data.byteLength);
    out.set(header);
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
    if (!HOST_LITTLE_ENDIAN) swapBytes(out.subarray(header.length), size);
    return out;
  },

  /**
   * @param bytes - a .npy file
   * @returns the array, with its data in a fresh typed array of the platform's byte order
   * @throws RunledgerError `PAYLOAD_INVALID` for a missing magic string, an unknown version, a
   * header that is not the expected Python dict, an unsupported dtype (complex, string, object,
   * structured, float16…), or data shorter or longer than the shape says
   */
  decode(bytes: Uint8Array): NpyArray {
    const { dtype, littleEndian, shape, fortranOrder, dataOffset } = parseHeader(bytes);
    const { size, of } = DTYPES[dtype];
    let count = 1n;
    for (const n of shape) count *= BigInt(n);
    const available = bytes.byteLength - dataOffset;
    if (count * BigInt(size) !== BigInt(available)) {
      throw badPayload(
        `holds ${available} data bytes, but shape ${shapeRepr(shape)} of ${dtype} needs ${count * BigInt(size)}`,
        { shape, dtype, available }
      );
    }
    // A fresh buffer: the result owns its memory and is aligned for its element size.
    const copy = new Uint8Array(available);
    copy.set(bytes.subarray(dataOffset));
    if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(copy, size);
    // numpy reads any non-zero byte as True; keep the 0/1 invariant of |b1.
    if (dtype === '|b1') for (let i = 0; i < copy.length; i++) if (copy[i] !== 0) copy[i] = 1;
    const data = new of(copy.buffer, 0, Number(count));
    return fortranOrder ? { dtype, shape, data, fortranOrder } : { dtype, shape, data };
  },
};

/**
 * Builds an {@link NpyArray}, taking the dtype from the typed array: `Float64Array` → `<f8`,
 * `Float32Array` → `<f4`, `Int8Array` → `|i1`, `Int16Array` → `<i2`, `Int32Array` → `<i4`,
 * `BigInt64Array` → `<i8`, `Uint8Array` → `|u1`, `Uint16Array` → `<u2`, `Uint32Array` → `<u4`,
 * `BigUint64Array` → `<u8`. For booleans write `{ dtype: '|b1', shape, data }` yourself.
 *
 * @param data - the elements, flat, in C order (kept, not copied)
 * @param shape - the dimensions; a vector of `data.length` when left out
 * @returns the array, ready for {@link npyCodec}
 * @throws RunledgerError `ARGUMENT_INVALID` for another kind of data, or a shape whose product is
 * not `data.length`
 * @example
 * ```ts
 * const m = npyArray(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]); // dtype '<i4'
 * ```
 */
export function npyArray(data: NpyData, shape?: readonly number[]): NpyArray {
  for (const [dtype, { of }] of Object.entries(DTYPES) as [NpyDtype, { of: TypedArrayClass }][]) {
    // '|u1' comes before '|b1' in DTYPES, so a Uint8Array is read as unsigned bytes.
    if (data instanceof of) {
      const dims = shape ?? [data.length];
      checkShape(dims, data.length);
      return { dtype, shape: [...dims], data };
    }
  }
  throw badArgument(`has data of type ${typeName(data)}, which is not an npy typed array`);
}

function badArgument(what: string): RunledgerError {
  return new RunledgerError('ARGUMENT_INVALID', `The npy array ${what}.`);
}

function badPayload(what: string, data: Readonly<Record<string, unknown>> = {}): RunledgerError {
  return new RunledgerError('PAYLOAD_INVALID', `The npy attachment ${what}.`, {
    data: { mediaType: MEDIA_TYPE, ...data },
  });
}

function typeName(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === null ? 'null' : typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

function checkShape(shape: readonly number[], length: number): void {
  if (!Array.isArray(shape)) throw badArgument('has a shape that is not an array');
  if (shape.length > MAX_DIMS) {
    throw badArgument(`has ${shape.length} dimensions, more than NumPy's ${MAX_DIMS}`);
  }
  let product = 1;
  for (const n of shape as readonly unknown[]) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw badArgument(`has a shape entry ${String(n)} that is not a non-negative integer`);
    }
    product *= n;
  }
  if (product !== length) {
    throw badArgument(`has shape ${shapeRepr(shape)} for ${length} elements`);
  }
}

/** Python's `repr` of the shape tuple: `()`, `(3,)`, `(2, 3)`. */
function shapeRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Magic, version 1.0, header length and the padded header, as numpy's `_write_array_header`. */
function headerBytes(dtype: NpyDtype, shape: readonly number[], fortranOrder: boolean): Uint8Array {
  // Keys sorted, each `'key': repr(value), `, as numpy writes them.
  let dict = `{'descr': '${dtype}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) {
    const growthAxis = String(shape[fortranOrder ? shape.length - 1 : 0]);
    dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - growthAxis.length));
  }
  const hlen = dict.length + 1; // + the final '\n'
  // Never 0: numpy adds a full ARRAY_ALIGN of spaces when the header already ends on a boundary.
  const padlen = ARRAY_ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ARRAY_ALIGN);
  const text = `${dict}${' '.repeat(padlen)}\n`;
  // 64 dimensions of 16 digits stay far below 65535, so version 1.0 always fits.
  const out = new Uint8Array(MAGIC.length + 4 + text.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i); // ASCII only
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

interface Header {
  readonly dtype: NpyDtype;
  readonly littleEndian: boolean;
  readonly shape: number[];
  readonly fortranOrder: boolean;
  readonly dataOffset: number;
}

function parseHeader(bytes: Uint8Array): Header {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw badPayload('does not start with the .npy magic string \\x93NUMPY');
  }
  const major = bytes[6] ?? 0;
  const minor = bytes[7] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1 && minor === 0) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if ((major === 2 || major === 3) && minor === 0) {
    if (bytes.byteLength < 12) throw badPayload(`ends inside its version ${major}.0 preamble`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw badPayload(`has format version ${major}.${minor}, not 1.0, 2.0 or 3.0`, {
      version: `${major}.${minor}`,
    });
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.byteLength) {
    throw badPayload(`ends inside its ${headerLength}-byte header`);
  }
  const raw = bytes.subarray(headerStart, dataOffset);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch (cause) {
      throw new RunledgerError('PAYLOAD_INVALID', 'The npy attachment header is not UTF-8.', {
        data: { mediaType: MEDIA_TYPE },
        cause,
      });
    }
  } else {
    text = new TextDecoder('latin1').decode(raw);
  }

  const dict = parsePyLiteral(text);
  if (dict.t !== 'dict') throw badPayload('header is not a Python dict');
  const keys = [...dict.v.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw badPayload(`header has keys ${keys.join(', ')}, not descr, fortran_order and shape`);
  }
  const descr = dict.v.get('descr');
  const fortran = dict.v.get('fortran_order');
  const shape = dict.v.get('shape');
  if (descr?.t !== 'str')
    throw badPayload('header has a descr that is not a string (a structured dtype?)');
  if (fortran?.t !== 'bool')
    throw badPayload('header has a fortran_order that is not True or False');
  if (shape?.t !== 'tuple' || shape.v.some((n) => n.t !== 'int')) {
    throw badPayload('header has a shape that is not a tuple of integers');
  }
  if (shape.v.length > MAX_DIMS) {
    throw badPayload(`has ${shape.v.length} dimensions, more than NumPy's ${MAX_DIMS}`);
  }
  const dims = shape.v.map((n) => {
    const v = (n as PyInt).v;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw badPayload(`header has a shape entry ${v} out of range`);
    }
    return Number(v);
  });
  const { dtype, littleEndian } = parseDescr(descr.v);
  return { dtype, littleEndian, shape: dims, fortranOrder: fortran.v, dataOffset };
}

/** `<f8`, `>i4`, `|u1`…: byte order, kind, size. One-byte types accept any byte-order mark. */
function parseDescr(descr: string): { dtype: NpyDtype; littleEndian: boolean } {
  const m = /^([<>|])([fiub])([1248])$/.exec(descr);
  const order = m?.[1];
  const kindSize = `${m?.[2] ?? ''}${m?.[3] ?? ''}`;
  if (order !== undefined && kindSize.endsWith('1')) {
    const dtype = `|${kindSize}`;
    if (Object.hasOwn(DTYPES, dtype)) return { dtype: dtype as NpyDtype, littleEndian: true };
  } else if (order === '<' || order === '>') {
    const dtype = `<${kindSize}`;
    if (Object.hasOwn(DTYPES, dtype)) {
      return { dtype: dtype as NpyDtype, littleEndian: order === '<' };
    }
  }
  throw badPayload(`has dtype ${JSON.stringify(descr)}, which the npy codec does not read`, {
    descr,
  });
}

interface PyInt {
  readonly t: 'int';
  readonly v: bigint;
}
type PyValue =
  | { readonly t: 'str'; readonly v: string }
  | PyInt
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'none' }
  | { readonly t: 'tuple' | 'list'; readonly v: PyValue[] }
  | { readonly t: 'dict'; readonly v: Map<string, PyValue> };

/** Deeper nesting than any real header; the limit keeps a hostile one off the call stack. */
const MAX_LITERAL_DEPTH = 16;

/**
 * Parses the Python literals an .npy header can hold (numpy reads it with `ast.literal_eval`):
 * dicts, tuples, lists, strings, integers (with Python 2's `L` suffix), True, False, None.
 */
function parsePyLiteral(text: string): PyValue {
  let pos = 0;

  const fail = (what: string): never => {
    throw badPayload(`header ${what} (at offset ${pos})`, { header: text });
  };

  const skipSpace = (): void => {
    while (pos < text.length && ' \t\n\r\f'.includes(text[pos] ?? '')) pos++;
  };

  const string = (quote: string): string => {
    let out = '';
    for (pos++; pos < text.length && text[pos] !== '\n'; pos++) {
      const c = text[pos] ?? '';
      if (c === quote) {
        pos++;
        return out;
      }
      if (c === '\\') {
        const e = text[++pos] ?? '';
        if (e === '' || !`\\'"`.includes(e)) fail('has an escape the npy codec does not read');
        out += e;
      } else {
        out += c;
      }
    }
    return fail('has an unterminated string');
  };

  /** `(…)` is a tuple when empty or when it holds a comma; otherwise it only groups. */
  const sequence = (open: '(' | '[', depth: number): PyValue => {
    const close = open === '(' ? ')' : ']';
    const items: PyValue[] = [];
    let comma = false;
    pos++;
    for (;;) {
      skipSpace();
      if (text[pos] === close) break;
      items.push(value(depth + 1));
      skipSpace();
      if (text[pos] === ',') {
        comma = true;
        pos++;
      } else if (text[pos] !== close) {
        fail(`is missing a ${close}`);
      }
    }
    pos++;
    if (open === '[') return { t: 'list', v: items };
    if (items.length === 1 && !comma) return items[0] as PyValue;
    return { t: 'tuple', v: items };
  };

  const dict = (depth: number): PyValue => {
    const entries = new Map<string, PyValue>();
    pos++;
    for (;;) {
      skipSpace();
      if (text[pos] === '}') break;
      const key = value(depth + 1);
      if (key.t !== 'str') fail('has a dict key that is not a string');
      skipSpace();
      if (text[pos] !== ':') fail('is missing a : in the dict');
      pos++;
      entries.set((key as { v: string }).v, value(depth + 1));
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== '}') fail('is missing a } after the dict');
    }
    pos++;
    return { t: 'dict', v: entries };
  };

  const value = (depth: number): PyValue => {
    if (depth > MAX_LITERAL_DEPTH) fail(`nests deeper than ${MAX_LITERAL_DEPTH} levels`);
    skipSpace();
    const c = text[pos];
    if (c === '{') return dict(depth);
    if (c === '(' || c === '[') return sequence(c, depth);
    if (c === "'" || c === '"') return { t: 'str', v: string(c) };
    const m = /^(?:(-?\d+)[lL]?|True|False|None)/.exec(text.slice(pos, pos + 40));
    if (m === null) return fail('is not a Python literal');
    pos += m[0].length;
    if (m[1] !== undefined) return { t: 'int', v: BigInt(m[1]) };
    if (m[0] === 'None') return { t: 'none' };
    return { t: 'bool', v: m[0] === 'True' };
  };

  const result = value(0);
  skipSpace();
  if (pos !== text.length) fail('has text after the dict');
  return result;
}
