import { closeSync, openSync, readSync } from 'node:fs';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isRunledgerError, type RunledgerError } from '../../src/errors.js';
import { detectMediaType, sniffMediaType, validateFilename } from '../../src/formats/media-type.js';

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A PNG chunk: length, type, data, CRC-32 of type and data (PNG spec §5.3). */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat(latin1(type), data);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  out.set(body, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A complete, valid 1×1 8-bit grayscale PNG (signature, IHDR, IDAT, IEND). */
function tinyPng(): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  return concat(
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Uint8Array.of(0, 0x7f))), // filter byte, one pixel
    pngChunk('IEND', new Uint8Array(0))
  );
}

/** The start of a JFIF JPEG: SOI, then an APP0 segment. */
const JPEG = latin1('\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00');

/** A POSIX ustar header block for a 5-byte file `a.txt` (POSIX.1-1988 layout, checksum filled). */
function tarHeader(): Uint8Array {
  const h = Buffer.alloc(512);
  h.write('a.txt', 0, 'latin1');
  h.write('0000644\0', 100, 'latin1'); // mode
  h.write('0000000\0', 108, 'latin1'); // uid
  h.write('0000000\0', 116, 'latin1'); // gid
  h.write('00000000005\0', 124, 'latin1'); // size
  h.write('00000000000\0', 136, 'latin1'); // mtime
  h.write('        ', 148, 'latin1'); // checksum field counts as spaces while summing
  h.write('0', 156, 'latin1'); // regular file
  h.write('ustar\x0000', 257, 'latin1');
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** An NPY v1.0 header for a float64 vector of 3 (numpy format spec: 64-byte-aligned, '\n' end). */
function npyHeader(): Uint8Array {
  let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  dict = dict.padEnd(64 - 10 - 1, ' ') + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(dict.length);
  return concat(latin1('\x93NUMPY\x01\x00'), len, latin1(dict));
}

/** A BMP file header plus a BITMAPINFOHEADER (40 bytes) for a 1×1 24-bit image. */
function bmpHeader(): Uint8Array {
  const h = Buffer.alloc(58);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(58, 2); // file size
  h.writeUInt32LE(54, 10); // pixel data offset
  h.writeUInt32LE(40, 14); // DIB header size
  h.writeInt32LE(1, 18);
  h.writeInt32LE(1, 22);
  h.writeUInt16LE(1, 26); // planes
  h.writeUInt16LE(24, 28); // bits per pixel
  return h;
}

function expectInvalidFilename(name: string): RunledgerError {
  try {
    validateFilename(name);
  } catch (e) {
    expect(isRunledgerError(e, 'ARGUMENT_INVALID'), String(e)).toBe(true);
    return e as RunledgerError;
  }
  throw new Error(`expected ARGUMENT_INVALID for ${JSON.stringify(name)}`);
}

describe('sniffMediaType', () => {
  it('detects a real PNG, JPEG, PDF, gzip, tar and npy', () => {
    expect(sniffMediaType(tinyPng())).toBe('image/png');
    expect(sniffMediaType(JPEG)).toBe('image/jpeg');
    expect(sniffMediaType(latin1('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n'))).toBe(
      'application/pdf'
    );
    expect(sniffMediaType(gzipSync(Buffer.from('hello world\n')))).toBe('application/gzip');
    expect(sniffMediaType(concat(tarHeader(), latin1('hello'), new Uint8Array(507)))).toBe(
      'application/x-tar'
    );
    expect(sniffMediaType(concat(npyHeader(), new Uint8Array(24)))).toBe('application/vnd.numpy');
  });

  it('keeps a gzip-compressed tar as gzip (the tar magic is inside the compressed stream)', () => {
    expect(sniffMediaType(gzipSync(tarHeader()))).toBe('application/gzip');
  });

  it('detects the smallest valid WebAssembly module', () => {
    // The smallest valid module: magic and version 1, no sections.
    const wasm = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
    expect(sniffMediaType(wasm)).toBe('application/wasm');
  });

  it.skipIf(process.platform !== 'linux')('detects the node binary as ELF (Linux)', () => {
    const head = new Uint8Array(8192);
    const fd = openSync(process.execPath, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    expect(sniffMediaType(head)).toBe('application/x-executable');
  });

  // Signatures from each format's specification (first bytes, or the given offset).
  it.each([
    ['GIF87a', latin1('GIF87a\x01\x00\x01\x00'), 'image/gif'],
    ['GIF89a', latin1('GIF89a\x01\x00\x01\x00'), 'image/gif'],
    ['WebP', latin1('RIFF\x24\x00\x00\x00WEBPVP8 '), 'image/webp'],
    ['WAV', latin1('RIFF\x24\x00\x00\x00WAVEfmt '), 'audio/wav'],
    ['BMP', bmpHeader(), 'image/bmp'],
    ['TIFF little-endian', latin1('II*\x00\x08\x00\x00\x00'), 'image/tiff'],
    ['TIFF big-endian', latin1('MM\x00*\x00\x00\x00\x08'), 'image/tiff'],
    ['ZIP', latin1('PK\x03\x04\x14\x00\x00\x00'), 'application/zip'],
    ['empty ZIP', latin1('PK\x05\x06' + '\x00'.repeat(18)), 'application/zip'],
    [
      'zstd frame',
      Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00),
      'application/zstd',
    ],
    ['zstd skippable frame', Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0), 'application/zstd'],
    ['bzip2', latin1('BZh91AY&SY'), 'application/x-bzip2'],
    ['xz', Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04), 'application/x-xz'],
    [
      '7z',
      Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04),
      'application/x-7z-compressed',
    ],
    ['SQLite', latin1('SQLite format 3\x00\x10\x00'), 'application/vnd.sqlite3'],
    ['Parquet', latin1('PAR1\x15\x04\x15'), 'application/vnd.apache.parquet'],
    [
      'Arrow IPC file',
      latin1('ARROW1\x00\x00\xff\xff\xff\xff'),
      'application/vnd.apache.arrow.file',
    ],
    ['HDF5', latin1('\x89HDF\r\n\x1a\n\x00\x00\x00\x00'), 'application/x-hdf5'],
    [
      'HDF5 after a 512-byte user block',
      concat(new Uint8Array(512), latin1('\x89HDF\r\n\x1a\n')),
      'application/x-hdf5',
    ],
    ['MP3 with ID3', latin1('ID3\x04\x00\x00\x00\x00\x00\x00'), 'audio/mpeg'],
    [
      'MP3 frame (MPEG-1 layer III, 128 kbit/s, 44.1 kHz)',
      Uint8Array.of(0xff, 0xfb, 0x90, 0x44),
      'audio/mpeg',
    ],
    ['MP4', latin1('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00'), 'video/mp4'],
    ['AVIF', latin1('\x00\x00\x00\x1cftypavif\x00\x00\x00\x00'), 'image/avif'],
    ['Ogg', latin1('OggS\x00\x02\x00\x00'), 'audio/ogg'],
    ['FLAC', latin1('fLaC\x00\x00\x00\x22'), 'audio/flac'],
  ])('detects %s', (_name, head, mediaType) => {
    expect(sniffMediaType(head)).toBe(mediaType);
  });

  it('returns undefined for text, protobuf-like bytes, short and empty input', () => {
    expect(sniffMediaType(new TextEncoder().encode('a,b\n1,2\n'))).toBeUndefined();
    expect(sniffMediaType(Uint8Array.of(0x0a, 0x03, 0x61, 0x62, 0x63))).toBeUndefined();
    expect(sniffMediaType(Uint8Array.of(0x89, 0x50))).toBeUndefined();
    expect(sniffMediaType(new Uint8Array(0))).toBeUndefined();
  });

  it('does not take text starting with BM for a bitmap, nor AAC (FF F1) for MP3', () => {
    expect(sniffMediaType(new TextEncoder().encode('BMW,Audi,Volvo\n1,2,3\n'))).toBeUndefined();
    expect(sniffMediaType(Uint8Array.of(0xff, 0xf1, 0x50, 0x80))).toBeUndefined();
  });

  it('needs the whole signature: a truncated PNG signature is not PNG', () => {
    expect(sniffMediaType(tinyPng().subarray(0, 7))).toBeUndefined();
  });
});

describe('detectMediaType', () => {
  const csv = new TextEncoder().encode('a,b\n1,2\n');

  it('falls back to the extension, then to application/octet-stream', () => {
    expect(detectMediaType(csv, 'report.csv')).toBe('text/csv');
    expect(detectMediaType(new TextEncoder().encode('{"a":1}'), 'x.json')).toBe('application/json');
    expect(detectMediaType(csv, 'data.unknownext')).toBe('application/octet-stream');
    expect(detectMediaType(csv, 'Makefile')).toBe('application/octet-stream');
    expect(detectMediaType(new Uint8Array(0), 'empty.CSV')).toBe('text/csv');
  });

  it('reads a bare word or a hidden name as having no extension', () => {
    expect(detectMediaType(csv, 'json')).toBe('application/octet-stream');
    expect(detectMediaType(csv, '.json')).toBe('application/octet-stream');
    expect(detectMediaType(csv, 'trailing.')).toBe('application/octet-stream');
  });

  it('uses only the last path component of a path', () => {
    expect(detectMediaType(csv, 'dir.json/report.csv')).toBe('text/csv');
    expect(detectMediaType(csv, 'C:\\dir.json\\report')).toBe('application/octet-stream');
  });

  it('lets the magic bytes win over a misleading extension', () => {
    expect(detectMediaType(tinyPng(), 'report.csv')).toBe('image/png');
    expect(detectMediaType(gzipSync(Buffer.from('{}')), 'x.json')).toBe('application/gzip');
    expect(detectMediaType(latin1('PK\x03\x04'), 'picture.png')).toBe('application/zip');
  });

  it('lets a ZIP-based extension refine application/zip', () => {
    const zip = latin1('PK\x03\x04\x14\x00\x06\x00');
    expect(detectMediaType(zip, 'book.xlsx')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    );
    expect(detectMediaType(zip, 'novel.epub')).toBe('application/epub+zip');
    expect(detectMediaType(zip, 'arrays.npz')).toBe('application/zip');
  });
});

describe('validateFilename', () => {
  it('accepts basenames and returns them unchanged', () => {
    for (const name of [
      'report.csv',
      'résumé final.pdf',
      '...',
      '.hidden',
      'a'.repeat(255),
      'é'.repeat(127), // 254 UTF-8 bytes
      '数据.parquet',
      '😀.png',
    ]) {
      expect(validateFilename(name)).toBe(name);
    }
  });

  it.each([
    ['empty', '', 'empty'],
    ['a slash', 'dir/report.csv', 'path separator'],
    ['a backslash', 'dir\\report.csv', 'path separator'],
    ['a traversal', '../etc/passwd', 'path separator'],
    ['dot', '.', 'directory reference'],
    ['dot-dot', '..', 'directory reference'],
    ['NUL', 'a\0b', 'control character'],
    ['a newline', 'a\nb.txt', 'control character'],
    ['DEL', 'a\x7fb', 'control character'],
    ['a C1 control', 'a\u0085b', 'control character'],
    ['a lone surrogate', 'a\ud800b', 'lone surrogate'],
    ['256 ASCII bytes', 'a'.repeat(256), '256 UTF-8 bytes'],
    ['256 UTF-8 bytes in 128 characters', 'é'.repeat(128), '256 UTF-8 bytes'],
  ])('rejects %s with ARGUMENT_INVALID naming the filename', (_what, name, why) => {
    const e = expectInvalidFilename(name);
    expect(e.message).toContain('Filename ');
    expect(e.message).toContain(why);
    expect(e.message).toContain(JSON.stringify(name.slice(0, 64)).slice(0, -1));
    expect(e.message.endsWith('.')).toBe(true);
    expect(e.data['filename']).toBe(name);
  });
});
