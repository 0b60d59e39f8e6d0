/**
 * @module formats/media-type
 * Media types of logged files (magic bytes first, then the file extension, then
 * `application/octet-stream`, as OMMX's `log_file` does) and the basename rules for the filename
 * kept for export (ommx-reference §4.2). The only module that imports `mime`.
 */
import mime from 'mime';
import { RunledgerError } from '../errors.js';

/** A media-type test on the first bytes of a file. */
type Sniffer = (head: Uint8Array) => string | undefined;

/** Whether `head` holds `magic` at `offset` (a string is read as Latin-1, one byte a char). */
function has(head: Uint8Array, offset: number, magic: string | readonly number[]): boolean {
  if (offset + magic.length > head.length) return false;
  for (let i = 0; i < magic.length; i++) {
    const want = typeof magic === 'string' ? magic.charCodeAt(i) : magic[i];
    if (head[offset + i] !== want) return false;
  }
  return true;
}

/** A fixed byte signature at a fixed offset. */
function magic(mediaType: string, offset: number, bytes: string | readonly number[]): Sniffer {
  return (head) => (has(head, offset, bytes) ? mediaType : undefined);
}

/** Reads a little-endian u32 (the caller checked the length). */
function u32le(head: Uint8Array, offset: number): number {
  return (
    ((head[offset] ?? 0) |
      ((head[offset + 1] ?? 0) << 8) |
      ((head[offset + 2] ?? 0) << 16) |
      ((head[offset + 3] ?? 0) << 24)) >>>
    0
  );
}

/** DIB header sizes of the BMP variants (core, info, v2–v5). */
const BMP_DIB_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

/**
 * BMP's magic is only `BM`, which many text files start with; the reserved words (bytes 6–9)
 * must be zero and the DIB header size (bytes 14–17) one of the known ones.
 */
const sniffBmp: Sniffer = (head) =>
  head.length >= 18 &&
  has(head, 0, 'BM') &&
  u32le(head, 6) === 0 &&
  BMP_DIB_SIZES.has(u32le(head, 14))
    ? 'image/bmp'
    : undefined;

/** RIFF containers: the form type at offset 8 says what is inside. */
const sniffRiff: Sniffer = (head) => {
  if (!has(head, 0, 'RIFF')) return undefined;
  if (has(head, 8, 'WEBP')) return 'image/webp';
  if (has(head, 8, 'WAVE')) return 'audio/wav';
  return undefined;
};

/** ISO base media files (`ftyp` box first): the major brand tells images and audio from video. */
const FTYP_BRANDS: ReadonlyMap<string, string> = new Map([
  ['avif', 'image/avif'],
  ['avis', 'image/avif'],
  ['heic', 'image/heic'],
  ['heix', 'image/heic'],
  ['M4A ', 'audio/mp4'],
  ['qt  ', 'video/quicktime'],
]);
const sniffFtyp: Sniffer = (head) => {
  if (!has(head, 4, 'ftyp') || head.length < 12) return undefined;
  const brand = String.fromCharCode(...head.subarray(8, 12));
  return FTYP_BRANDS.get(brand) ?? 'video/mp4';
};

/**
 * An MP3 without an ID3 tag starts with an MPEG audio frame: 11 sync bits, a version that is not
 * the reserved one, layer III, and a bitrate and sample-rate index that are not the invalid ones.
 */
const sniffMpegFrame: Sniffer = (head) => {
  const [b0, b1, b2] = head;
  if (b0 !== 0xff || b1 === undefined || b2 === undefined) return undefined;
  const sync = (b1 & 0xe0) === 0xe0;
  const version = (b1 >> 3) & 3;
  const layer = (b1 >> 1) & 3;
  const bitrate = b2 >> 4;
  const sampleRate = (b2 >> 2) & 3;
  return sync && version !== 1 && layer === 1 && bitrate !== 15 && sampleRate !== 3
    ? 'audio/mpeg'
    : undefined;
};

/** HDF5's superblock is at 0 or after a user block of 512, 1024, 2048… bytes (8 KiB head). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const sniffHdf5: Sniffer = (head) =>
  [0, 512, 1024, 2048, 4096].some((offset) => has(head, offset, HDF5_SIGNATURE))
    ? 'application/x-hdf5'
    : undefined;

/** bzip2: `BZh` and the block size digit 1–9. */
const sniffBzip2: Sniffer = (head) =>
  has(head, 0, 'BZh') && (head[3] ?? 0) >= 0x31 && (head[3] ?? 0) <= 0x39
    ? 'application/x-bzip2'
    : undefined;

/** zstd frames and skippable frames (magic 0x184D2A50–0x184D2A5F, little-endian). */
const sniffZstd: Sniffer = (head) =>
  has(head, 0, [0x28, 0xb5, 0x2f, 0xfd]) ||
  (head.length >= 4 && ((head[0] ?? 0) & 0xf0) === 0x50 && has(head, 1, [0x2a, 0x4d, 0x18]))
    ? 'application/zstd'
    : undefined;

/**
 * Checked in order; the first hit wins. Tar (offset 257) comes last, so a file whose first bytes
 * are another format is that format.
 */
const SNIFFERS: readonly Sniffer[] = [
  magic('image/png', 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  magic('image/jpeg', 0, [0xff, 0xd8, 0xff]),
  magic('image/gif', 0, 'GIF87a'),
  magic('image/gif', 0, 'GIF89a'),
  sniffRiff,
  sniffBmp,
  magic('image/tiff', 0, 'II*\0'),
  magic('image/tiff', 0, 'MM\0*'),
  magic('image/tiff', 0, 'II+\0'), // BigTIFF
  magic('application/pdf', 0, '%PDF-'),
  magic('application/zip', 0, 'PK\x03\x04'),
  magic('application/zip', 0, 'PK\x05\x06'), // empty archive
  magic('application/zip', 0, 'PK\x07\x08'), // spanned archive
  magic('application/gzip', 0, [0x1f, 0x8b, 0x08]),
  sniffZstd,
  sniffBzip2,
  magic('application/x-xz', 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  magic('application/x-7z-compressed', 0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
  magic('application/vnd.sqlite3', 0, 'SQLite format 3\0'),
  magic('application/vnd.apache.parquet', 0, 'PAR1'),
  magic('application/vnd.apache.arrow.file', 0, 'ARROW1'),
  magic('application/vnd.numpy', 0, '\x93NUMPY'),
  magic('application/x-executable', 0, '\x7fELF'),
  magic('application/wasm', 0, '\0asm'),
  sniffHdf5,
  magic('audio/mpeg', 0, 'ID3'),
  sniffMpegFrame,
  sniffFtyp,
  magic('audio/ogg', 0, 'OggS'),
  magic('audio/flac', 0, 'fLaC'),
  magic('application/x-tar', 257, 'ustar'),
];

/**
 * Detects a common file format from its first bytes (magic numbers). Formats without a magic
 * number (protobuf, CSV, JSON…) are not detected.
 *
 * @param head - the first bytes of the file; 8 KiB is enough for every format detected
 * @returns the media type, or `undefined` when no known signature matches
 * @throws nothing; any bytes are accepted
 * @example
 * ```ts
 * sniffMediaType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])); // 'image/png'
 * ```
 */
export function sniffMediaType(head: Uint8Array): string | undefined {
  for (const sniff of SNIFFERS) {
    const mediaType = sniff(head);
    if (mediaType !== undefined) return mediaType;
  }
  return undefined;
}

/**
 * Formats stored as ZIP archives. When the magic bytes say ZIP and the extension names one of
 * these, the extension's type is kept: it refines the container rather than contradicting it.
 */
function isZipBased(mediaType: string): boolean {
  return (
    mediaType.endsWith('+zip') ||
    mediaType.startsWith('application/vnd.openxmlformats-officedocument.') ||
    mediaType.startsWith('application/vnd.oasis.opendocument.') ||
    mediaType === 'application/java-archive'
  );
}

/** The media type of `filename`'s extension, if it has one and `mime` knows it. */
function typeOfExtension(filename: string): string | undefined {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  // Like path.extname: a leading dot starts a hidden name, not an extension, and a name without a
  // dot has none (mime.getType('json') would otherwise answer application/json for a file "json").
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined;
  return mime.getType(base) ?? undefined;
}

/**
 * The media type of a logged file: its magic bytes first, then its extension, then
 * `application/octet-stream`. A misleading extension does not override the magic bytes, except
 * that a ZIP-based format named by the extension (`.xlsx`, `.docx`, `.epub`, `.jar`…) refines
 * `application/zip`.
 *
 * @param head - the first bytes of the file (up to 8 KiB)
 * @param filename - the file's name or path; only its extension is used
 * @returns the media type
 * @throws nothing; any input yields a media type
 * @example
 * ```ts
 * detectMediaType(new TextEncoder().encode('a,b\n1,2\n'), 'report.csv'); // 'text/csv'
 * ```
 */
export function detectMediaType(head: Uint8Array, filename: string): string {
  const sniffed = sniffMediaType(head);
  const byExtension = typeOfExtension(filename);
  if (sniffed === 'application/zip' && byExtension !== undefined && isZipBased(byExtension)) {
    return byExtension;
  }
  return sniffed ?? byExtension ?? 'application/octet-stream';
}

/** The longest filename most file systems accept, in UTF-8 bytes. */
const MAX_FILENAME_BYTES = 255;

/**
 * Checks a filename kept for export against OMMX's basename rules (ommx-reference §4.2), plus
 * what file systems refuse: non-empty, no `/` or `\`, not `.` or `..`, no control characters
 * (C0, DEL, C1), well-formed Unicode, at most 255 UTF-8 bytes.
 *
 * @param name - the filename to check
 * @returns `name`, unchanged
 * @throws RunledgerError `ARGUMENT_INVALID` naming the filename and the broken rule
 * @example
 * ```ts
 * validateFilename('report.csv'); // 'report.csv'
 * validateFilename('../etc/passwd'); // throws ARGUMENT_INVALID
 * ```
 */
export function validateFilename(name: string): string {
  const fail = (why: string): never => {
    const quoted = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
    throw new RunledgerError('ARGUMENT_INVALID', `Filename ${quoted} ${why}.`, {
      data: { filename: name },
    });
  };
  if (name === '') fail('is empty: give a basename such as report.csv');
  if (/[/\\]/.test(name)) fail('contains a path separator (/ or \\): give a basename');
  if (name === '.' || name === '..') fail('is a directory reference, not a basename');
  if (/\p{Cc}/u.test(name)) fail('contains a control character');
  // With the u flag this class matches only unpaired surrogates, which UTF-8 cannot encode.
  if (/[\uD800-\uDFFF]/u.test(name)) fail('is not well-formed Unicode (it has a lone surrogate)');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_FILENAME_BYTES) {
    fail(`is ${bytes} UTF-8 bytes long, more than the ${MAX_FILENAME_BYTES} allowed`);
  }
  return name;
}
