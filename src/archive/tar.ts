/**
 * @module archive/tar
 * A small, strict tar reader and a deterministic USTAR writer: all runledger needs for `.ommx`
 * archives. Written here rather than taken from a package because the reader is a security
 * boundary (archives come from strangers) and must refuse, not interpret, anything unusual.
 */
import { open } from 'node:fs/promises';
import { RunledgerError } from '../errors.js';

/** Tar's block size. */
export const BLOCK = 512;
/** Largest size the octal field holds; larger sizes use the base-256 form. */
const MAX_OCTAL_SIZE = 0o77777777777;
/** PAX and GNU long-name records larger than this are refused. */
const MAX_META = 64 * 1024;

/** One entry header as read. */
export interface TarHeader {
  readonly name: string;
  readonly size: number;
  /** The typeflag character: '0' regular, '1' hard link, '2' symlink, '3'/'4' devices, '5' directory… */
  readonly type: string;
  readonly linkname: string;
}

/**
 * An `ARCHIVE_INVALID` error naming the entry.
 * @internal
 */
export function archiveInvalid(message: string, entry?: string, cause?: unknown): RunledgerError {
  return new RunledgerError('ARCHIVE_INVALID', message, {
    data: entry === undefined ? {} : { entry },
    ...(cause === undefined ? {} : { cause }),
  });
}
const invalid = archiveInvalid;

// ---- write ---------------------------------------------------------------------------------

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = new TextEncoder().encode(value);
  if (bytes.byteLength > length)
    throw invalid(`Tar field value ${JSON.stringify(value)} is too long.`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/**
 * A USTAR header for a regular file: mode 0644, uid/gid 0, mtime 0, empty owner names, so equal
 * content gives equal archives.
 * @param name - the entry name (≤ 100 bytes)
 * @param size - the content size
 * @returns the 512-byte header
 */
export function regularFileHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  if (size <= MAX_OCTAL_SIZE) {
    writeOctal(h, 124, 12, size);
  } else {
    // GNU base-256: high bit set, big-endian binary in the remaining bytes.
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  h[156] = 0x30; // '0' regular file
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeOctal(h, 329, 8, 0);
  writeOctal(h, 337, 8, 0);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Zero bytes that pad `size` to a whole block. */
export function padding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE: Uint8Array = new Uint8Array(2 * BLOCK);

// ---- read ----------------------------------------------------------------------------------

/** Reads exact byte counts from an async iterable of chunks. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const r = await this.#it.next();
    if (r.done === true) {
      this.#done = true;
      return false;
    }
    this.#buf = this.#buf.byteLength === 0 ? r.value : concat(this.#buf, r.value);
    return true;
  }

  /** Exactly `n` bytes, or fewer only at the end of the input. */
  async read(n: number): Promise<Uint8Array> {
    while (this.#buf.byteLength < n && (await this.#fill()));
    const out = this.#buf.subarray(0, Math.min(n, this.#buf.byteLength));
    this.#buf = this.#buf.subarray(out.byteLength);
    return out;
  }

  /** Ends the source early (closes a file stream). */
  async close(): Promise<void> {
    await this.#it.return?.();
  }

  /** Up to `max` bytes (at least one unless the input ended). */
  async chunk(max: number): Promise<Uint8Array> {
    if (this.#buf.byteLength === 0 && !(await this.#fill())) return new Uint8Array(0);
    const out = this.#buf.subarray(0, Math.min(max, this.#buf.byteLength));
    this.#buf = this.#buf.subarray(out.byteLength);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(
    end < 0 ? field : field.subarray(0, end)
  );
}

function readSize(block: Uint8Array, name: string): number {
  if ((block[124] as number) & 0x80) {
    let v = 0n;
    for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(block[i] as number);
    if ((block[124] as number) !== 0x80 || v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalid(`Tar entry ${JSON.stringify(name)} declares an impossible size.`, name);
    }
    return Number(v);
  }
  const text = readString(block, 124, 12).trim();
  if (!/^[0-7]{1,12}$/.test(text)) {
    throw invalid(`Tar entry ${JSON.stringify(name)} has a malformed size field.`, name);
  }
  const size = parseInt(text, 8);
  if (!Number.isSafeInteger(size))
    throw invalid(`Tar entry ${JSON.stringify(name)} declares an impossible size.`, name);
  return size;
}

function checkChecksum(block: Uint8Array): void {
  const stored = readString(block, 148, 8).trim();
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const value = /^[0-7]{1,8}$/.test(stored) ? parseInt(stored, 8) : NaN;
  if (value !== unsigned && value !== signed) {
    throw invalid('A tar header has a wrong checksum: the archive is damaged or not a tar file.');
  }
}

function parsePax(bytes: Uint8Array, entry: string): Map<string, string> {
  // Each record is "<length> <key>=<value>\n" where the length counts bytes, not characters.
  const out = new Map<string, string>();
  const malformed = (): RunledgerError =>
    invalid(`The PAX header of ${JSON.stringify(entry)} is malformed.`, entry);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let i = 0;
  while (i < bytes.byteLength) {
    const space = bytes.indexOf(0x20, i);
    if (space < 0) throw malformed();
    const length = Number(decoder.decode(bytes.subarray(i, space)));
    if (!Number.isSafeInteger(length) || length <= space - i + 1 || i + length > bytes.byteLength) {
      throw malformed();
    }
    if (bytes[i + length - 1] !== 0x0a) throw malformed();
    let record: string;
    try {
      record = decoder.decode(bytes.subarray(space + 1, i + length - 1));
    } catch {
      throw malformed();
    }
    const eq = record.indexOf('=');
    if (eq < 0) throw malformed();
    out.set(record.slice(0, eq), record.slice(eq + 1));
    i += length;
  }
  return out;
}

/** One entry of {@link readTar}: its header and a body to consume (or skip) before the next. */
export interface TarEntry {
  readonly header: TarHeader;
  /** The entry's content; reading it is optional (what is left is skipped). */
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * Reads a tar stream entry by entry without extracting anything. Checksums are verified; PAX
 * (`path`, `size`, `linkpath`) and GNU long names are applied; a stream ending inside a header or
 * a body is `ARCHIVE_INVALID`. Each entry's body must be consumed or abandoned before the next
 * entry is requested.
 *
 * @param source - the archive bytes
 * @returns the entries, in order
 * @throws RunledgerError `ARCHIVE_INVALID`
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>
): AsyncGenerator<TarEntry, void, undefined> {
  const reader = new ByteReader(source);
  try {
    yield* readEntries(reader);
  } finally {
    // Also when the consumer stops early or throws: the source (a file stream) is closed.
    await reader.close();
  }
}

async function* readEntries(reader: ByteReader): AsyncGenerator<TarEntry, void, undefined> {
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.byteLength === 0) return; // end of input at a block boundary
    if (block.byteLength < BLOCK)
      throw invalid('The archive ends inside a tar header (truncated).');
    if (block.every((b) => b === 0)) return; // end-of-archive marker
    checkChecksum(block);
    const type = String.fromCharCode(block[156] === 0 ? 0x30 : (block[156] as number));
    const prefix = readString(block, 257, 6) === 'ustar' ? readString(block, 345, 155) : '';
    const rawName = readString(block, 0, 100);
    let name = longName ?? pax.get('path') ?? (prefix === '' ? rawName : `${prefix}/${rawName}`);
    let size = readSize(block, name);
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      if (!/^\d{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize)))
        throw invalid(`The PAX size of ${JSON.stringify(name)} is malformed.`, name);
      size = Number(paxSize);
    }
    const linkname = longLink ?? pax.get('linkpath') ?? readString(block, 157, 100);

    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META)
        throw invalid(
          `A tar metadata record of ${size} bytes before ${JSON.stringify(name)} is too large.`,
          name
        );
      const data = await reader.read(size + padding(size).byteLength);
      if (data.byteLength < size + padding(size).byteLength)
        throw invalid('The archive ends inside a tar metadata record (truncated).', name);
      const body = data.subarray(0, size);
      // Metadata records apply to the next real entry; several may precede it (GNU writes K
      // then L for a long link target and a long name).
      if (type === 'x') pax = new Map([...pax, ...parsePax(body, name)]);
      else if (type === 'L') longName = readString(body, 0, body.byteLength);
      else if (type === 'K') longLink = readString(body, 0, body.byteLength);
      continue; // 'g' (global PAX) carries nothing runledger uses
    }
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    let remaining = size;
    const body = (async function* (): AsyncGenerator<Uint8Array, void, undefined> {
      while (remaining > 0) {
        const c = await reader.chunk(Math.min(remaining, 1 << 20));
        if (c.byteLength === 0)
          throw invalid(`The archive ends inside entry ${JSON.stringify(name)} (truncated).`, name);
        remaining -= c.byteLength;
        yield c;
      }
    })();
    yield { header: { name, size, type, linkname }, body };
    // Skip what the consumer left, then the padding.
    while (remaining > 0) {
      const c = await reader.chunk(Math.min(remaining, 1 << 20));
      if (c.byteLength === 0)
        throw invalid(`The archive ends inside entry ${JSON.stringify(name)} (truncated).`, name);
      remaining -= c.byteLength;
    }
    const pad = padding(size).byteLength;
    if (pad > 0 && (await reader.read(pad)).byteLength < pad)
      throw invalid(`The archive ends inside entry ${JSON.stringify(name)} (truncated).`, name);
  }
}

/** Chunk size and ring length of {@link fileChunks}. */
const RING_CHUNK = 256 << 10;
const RING_LENGTH = 16;

/**
 * A file's bytes as chunks read into a ring of reused buffers, so reading a large archive
 * allocates nothing per chunk (memory stays flat instead of waiting for GC). A chunk is valid
 * until 15 more chunks have been read: consumers that keep bytes longer must copy them.
 * @param path - the file
 * @returns the chunks
 * @throws the file system's errors (callers wrap them)
 */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  const handle = await open(path, 'r');
  try {
    const ring = Array.from({ length: RING_LENGTH }, () => Buffer.allocUnsafeSlow(RING_CHUNK));
    let position = 0;
    for (let i = 0; ; i++) {
      const buffer = ring[i % RING_LENGTH] as Buffer;
      const { bytesRead } = await handle.read(buffer, 0, RING_CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
