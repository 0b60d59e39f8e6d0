/**
 * NumPy's `.npy` format (format versions 1, 2 and 3), read in the page for attachment previews:
 * little-endian or single-byte types f8, f4, i8, i4, i2, u1, u2, u4, b1. Spec:
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */

/** An array read from an NPY file: its shape and its values in C order. */
export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

const SIZES: Readonly<Record<string, number>> = {
  f8: 8,
  f4: 4,
  i8: 8,
  i4: 4,
  i2: 2,
  u1: 1,
  i1: 1,
  u2: 2,
  u4: 4,
  b1: 1,
};

/**
 * Parses an NPY file.
 * @throws Error with a one-sentence message when the file is not an NPY file this reads
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    throw new Error('This attachment is not an NPY file (no \\x93NUMPY magic).');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLength)
  );
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) {
    throw new Error('This NPY file has no descr or shape in its header.');
  }
  const order = descr[0]!;
  const type = descr.slice(1);
  const size = SIZES[type];
  if (size === undefined || (order === '>' && size > 1)) {
    throw new Error(`This NPY file holds ${descr} values, which the page does not read.`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((n, d) => n * d, 1);
  const dataStart = start + headerLength;
  if (bytes.length < dataStart + count * size) {
    throw new Error(`This NPY file is shorter than its ${count} values of ${descr}.`);
  }
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const o = dataStart + i * size;
    switch (type) {
      case 'f8':
        values[i] = view.getFloat64(o, true);
        break;
      case 'f4':
        values[i] = view.getFloat32(o, true);
        break;
      case 'i8':
        values[i] = Number(view.getBigInt64(o, true));
        break;
      case 'i4':
        values[i] = view.getInt32(o, true);
        break;
      case 'i2':
        values[i] = view.getInt16(o, true);
        break;
      case 'u4':
        values[i] = view.getUint32(o, true);
        break;
      case 'u2':
        values[i] = view.getUint16(o, true);
        break;
      case 'i1':
        values[i] = view.getInt8(o);
        break;
      default: // u1, b1
        values[i] = bytes[o]!;
    }
  }
  if (fortran && shape.length === 2) {
    // Column-major on disk: transpose into C order.
    const [rows, cols] = shape as [number, number];
    const c = new Float64Array(count);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < cols; k++) c[r * cols + k] = values[k * rows + r]!;
    return { dtype: descr, shape, values: c };
  }
  return { dtype: descr, shape, values };
}
