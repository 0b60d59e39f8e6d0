/**
 * @module formats/zstd
 * The zstd compress/decompress pair, on `@bokuweb/zstd-wasm` (the only module that imports it),
 * with a zip-bomb guard that reads the frame headers before anything is decompressed. What OMMX
 * makes of it (the `+zstd` media type and its annotation) is experiment/compression's.
 */
import type * as ZstdWasm from '@bokuweb/zstd-wasm';
import { RunledgerError } from '../errors.js';

/** zstd's default level (`ZSTD_CLEVEL_DEFAULT`), also the `zstd` CLI's. */
const LEVEL = 3;
/**
 * Inputs up to this size become one zstd frame; larger ones become consecutive frames of this
 * size (a valid zstd stream that libzstd, the CLI and the Rust crate read whole). One-shot
 * compression needs input plus output in the WebAssembly heap, which never shrinks and is capped
 * at 2 GiB, so this bounds what a single call leaves allocated (about 2 × 128 MiB).
 */
const FRAME_INPUT_SIZE = 128 * 1024 * 1024;
/**
 * Most WebAssembly heap one decompression call may need (frame bytes plus output capacity). The
 * library does not check `malloc`'s result, so an allocation past the 2 GiB cap would write at
 * address 0 and corrupt the module; frames needing more are refused instead.
 */
const WASM_BUDGET = 1.5 * 1024 * 1024 * 1024;
/** Block_Maximum_Size: a zstd block holds and regenerates at most 128 KiB (RFC 8878 §3.1.1.2). */
const MAX_BLOCK_SIZE = 128 * 1024;

let loading: Promise<typeof ZstdWasm> | undefined;

/**
 * Loads and initializes the WebAssembly module once, on first use (45–80 ms measured: a 250 KB
 * module is read and compiled), so importing runledger pays nothing when zstd is never used.
 * Concurrent first calls share the one promise; a failed load is not cached.
 */
function loadZstd(): Promise<typeof ZstdWasm> {
  loading ??= (async () => {
    const zstd = await import('@bokuweb/zstd-wasm');
    await zstd.init();
    return zstd;
  })().catch((cause: unknown) => {
    loading = undefined;
    throw new RunledgerError('IO_ERROR', 'Could not load the zstd WebAssembly module.', { cause });
  });
  return loading;
}

/** Lets other work run between frames of a long compression or decompression. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Compresses bytes as zstd at level 3. Equal input gives equal output (with this library
 * version), as content addressing needs. Inputs over 128 MiB become several frames.
 *
 * @param bytes - the content
 * @returns the zstd stream
 * @throws RunledgerError `IO_ERROR` when the WebAssembly module cannot be loaded
 * @example
 * ```ts
 * const stored = await compressZstd(new TextEncoder().encode('hello'));
 * ```
 */
export async function compressZstd(bytes: Uint8Array): Promise<Uint8Array> {
  const zstd = await loadZstd();
  if (bytes.length <= FRAME_INPUT_SIZE) return zstd.compress(bytes, LEVEL);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let offset = 0; offset < bytes.length; offset += FRAME_INPUT_SIZE) {
    if (offset > 0) await yieldToEventLoop();
    const part = zstd.compress(bytes.subarray(offset, offset + FRAME_INPUT_SIZE), LEVEL);
    parts.push(part);
    total += part.length;
  }
  return concat(parts, total);
}

/** One frame of a zstd stream, as its headers describe it. */
interface Frame {
  readonly start: number;
  readonly end: number;
  /** Skippable frames carry metadata, no content. */
  readonly skippable: boolean;
  /** Frame_Content_Size, when the header has it. */
  readonly contentSize: number | undefined;
  /** The most its blocks can regenerate: exact for raw and RLE, 128 KiB per compressed block. */
  readonly maxContentSize: number;
}

/**
 * Walks the frames and blocks of a zstd stream (RFC 8878 §3.1) without decompressing anything,
 * so sizes can be checked before memory is committed.
 */
function scanFrames(bytes: Uint8Array): Frame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = (offset: number, why: string): never => {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      `The zstd payload is malformed: ${why} at byte ${offset}.`,
      { data: { size: bytes.length, offset } }
    );
  };
  const need = (offset: number, n: number, what: string): void => {
    if (offset + n > bytes.length) malformed(offset, `${what} is truncated`);
  };
  if (bytes.length === 0) malformed(0, 'there is no frame');
  const frames: Frame[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    need(pos, 4, 'the frame magic number');
    const magic = view.getUint32(pos, true);
    pos += 4;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      need(pos, 4, 'a skippable frame size');
      const size = view.getUint32(pos, true);
      pos += 4;
      need(pos, size, 'a skippable frame');
      pos += size;
      frames.push({ start, end: pos, skippable: true, contentSize: undefined, maxContentSize: 0 });
      continue;
    }
    if (magic !== 0xfd2fb528) malformed(start, 'the frame magic number is unknown');
    need(pos, 1, 'the frame header');
    const descriptor = view.getUint8(pos++);
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    if ((descriptor >> 3) & 1) malformed(pos - 1, 'the reserved frame header bit is set');
    const hasChecksum = (descriptor >> 2) & 1;
    const dictIdSize = [0, 1, 2, 4][descriptor & 3] ?? 0;
    const fcsSize = [singleSegment, 2, 4, 8][fcsFlag] ?? 0;
    const windowDescriptorSize = singleSegment ? 0 : 1;
    need(pos, windowDescriptorSize + dictIdSize + fcsSize, 'the frame header');
    pos += windowDescriptorSize + dictIdSize;
    let contentSize: number | undefined;
    if (fcsSize === 1) contentSize = view.getUint8(pos);
    else if (fcsSize === 2) contentSize = view.getUint16(pos, true) + 256;
    else if (fcsSize === 4) contentSize = view.getUint32(pos, true);
    else if (fcsSize === 8) {
      contentSize = view.getUint32(pos + 4, true) * 2 ** 32 + view.getUint32(pos, true);
    }
    pos += fcsSize;
    let maxContentSize = 0;
    for (let last = false; !last; ) {
      need(pos, 3, 'a block header');
      const header = view.getUint8(pos) | (view.getUint16(pos + 1, true) << 8);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) malformed(pos, 'a block has the reserved type');
      if (size > MAX_BLOCK_SIZE) malformed(pos, 'a block is larger than 128 KiB');
      pos += 3;
      const stored = type === 1 ? 1 : size; // an RLE block stores one byte, repeated size times
      need(pos, stored, 'a block');
      pos += stored;
      maxContentSize += type === 2 ? MAX_BLOCK_SIZE : size;
    }
    // Checked here so a tiny frame cannot make the library allocate a large declared size.
    if (contentSize !== undefined && contentSize > maxContentSize) {
      malformed(start, 'a frame declares more content than its blocks can hold');
    }
    if (hasChecksum) {
      need(pos, 4, 'the content checksum');
      pos += 4;
    }
    frames.push({ start, end: pos, skippable: false, contentSize, maxContentSize });
  }
  return frames;
}

/**
 * Decompresses a zstd stream (one or more frames, skippable frames ignored), refusing output
 * larger than `maxSize`. Zip-bomb guard: the frame headers are read first, and a declared
 * content size over `maxSize` is refused before anything is decompressed; a frame without one
 * gets an output buffer of at most what is left of `maxSize`; the result size is checked again.
 *
 * @param bytes - the zstd stream
 * @param options - `maxSize`: the largest output accepted, in bytes
 * @returns the decompressed bytes
 * @throws RunledgerError `PAYLOAD_INVALID` when the stream is malformed or its content is larger
 *   than `maxSize` (or than one WebAssembly call can hold, about 1.5 GiB per frame)
 * @throws RunledgerError `ARGUMENT_INVALID` when `maxSize` is not a non-negative safe integer
 * @throws RunledgerError `IO_ERROR` when the WebAssembly module cannot be loaded
 * @example
 * ```ts
 * const bytes = await decompressZstd(stored, { maxSize: 1024 * 1024 * 1024 });
 * ```
 */
export async function decompressZstd(
  bytes: Uint8Array,
  options: { readonly maxSize: number }
): Promise<Uint8Array> {
  const { maxSize } = options;
  if (!Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The maxSize ${String(maxSize)} of a zstd decompression is not a non-negative safe integer.`,
      { data: { maxSize } }
    );
  }
  const tooLarge = (what: string, contentSize?: number, cause?: unknown): never => {
    throw new RunledgerError('PAYLOAD_INVALID', `The zstd payload ${what}.`, {
      data: { size: bytes.length, maxSize, contentSize },
      cause,
    });
  };
  const frames = scanFrames(bytes);
  const declared = frames.reduce((sum, f) => sum + (f.contentSize ?? 0), 0);
  const over = `more than the maxSize of ${maxSize} bytes`;
  if (declared > maxSize) tooLarge(`declares ${declared} bytes of content, ${over}`, declared);

  const zstd = await loadZstd();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const frame of frames) {
    if (frame.skippable) continue;
    if (parts.length > 0) await yieldToEventLoop();
    const left = maxSize - total;
    // With a declared size the library allocates exactly that; otherwise this capacity.
    const capacity = frame.contentSize ?? Math.min(frame.maxContentSize, left);
    const heap = frame.end - frame.start + capacity;
    if (heap > WASM_BUDGET) {
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `The zstd frame at byte ${frame.start} needs ${heap} bytes of WebAssembly memory, more than the ${WASM_BUDGET} one call may use.`,
        { data: { size: bytes.length, offset: frame.start, heap } }
      );
    }
    let part: Uint8Array;
    try {
      part = zstd.decompress(bytes.subarray(frame.start, frame.end), { defaultHeapSize: capacity });
    } catch (cause) {
      if (capacity < frame.maxContentSize && frame.contentSize === undefined) {
        // The buffer was cut to what maxSize leaves, so the library cannot say which it was.
        tooLarge(`is malformed or decompresses to ${over}`, undefined, cause);
      }
      throw new RunledgerError(
        'PAYLOAD_INVALID',
        `The zstd payload is malformed: the frame at byte ${frame.start} does not decompress.`,
        { data: { size: bytes.length, offset: frame.start }, cause }
      );
    }
    total += part.length;
    if (total > maxSize) tooLarge(`decompresses to ${over}`, total);
    parts.push(part);
  }
  return concat(parts, total);
}
