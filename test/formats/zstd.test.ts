import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunledgerError, type ErrorCode, type RunledgerError } from '../../src/errors.js';
import { compressZstd, decompressZstd } from '../../src/formats/zstd.js';

const HAS_ZSTD = spawnSync('sh', ['-c', 'command -v zstd']).status === 0;
const ZSTD_SKIP_REASON = 'the zstd CLI is not installed (as root: apt-get install -y zstd)';

const MiB = 1024 * 1024;
const BLOCK = 128 * 1024;

const tmp = mkdtempSync(join(tmpdir(), 'runledger-zstd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the zstd CLI through sh with `input` on stdin; returns stdout bytes. */
function zstdCli(args: string, input?: Uint8Array): Uint8Array {
  const r = spawnSync('sh', ['-c', `zstd ${args}`], {
    input: input ?? new Uint8Array(0),
    maxBuffer: 512 * MiB,
  });
  if (r.status !== 0) throw new Error(`zstd ${args} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: ErrorCode) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isRunledgerError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as RunledgerError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

/** Byte equality without vitest's element-by-element diff, which is slow on large arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected), 'the bytes differ').toBe(0);
}

/** Compressible text: a log with counters, about `size` bytes. */
function text(size: number): Uint8Array {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const line = `step=${i} loss=${(1 / (i + 1)).toFixed(6)} status=ok\n`;
    lines.push(line);
    n += line.length;
  }
  return new TextEncoder().encode(lines.join('').slice(0, size));
}

/**
 * A zstd frame of `blocks` RLE blocks of 128 KiB of `byte`, written by hand from RFC 8878 §3.1:
 * magic, frame header (window 2 MiB, optional 4-byte Frame_Content_Size), block headers
 * `size << 3 | type << 1 | last` with type 1 (RLE) and one stored byte each.
 */
function rleFrame(blocks: number, byte: number, contentSize?: number): Uint8Array {
  const head = [0x28, 0xb5, 0x2f, 0xfd];
  if (contentSize === undefined) head.push(0x00, 0x58);
  else head.push(0x80, 0x58, ...new Uint8Array(Uint32Array.of(contentSize).buffer));
  const out: number[] = [...head];
  for (let i = 0; i < blocks; i++) {
    const h = (BLOCK << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    out.push(h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, byte);
  }
  return Uint8Array.from(out);
}

/** A skippable frame (magic 0x184D2A50) carrying `payload`. */
function skippableFrame(payload: Uint8Array): Uint8Array {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a50, 0);
  h.writeUInt32LE(payload.length, 4);
  return new Uint8Array(Buffer.concat([h, payload]));
}

describe('compressZstd / decompressZstd', () => {
  it('round-trips random, compressible and empty bytes', async () => {
    for (const input of [randomBytes(300_000), text(2 * MiB), new Uint8Array(0)]) {
      const stored = await compressZstd(input);
      expect(stored.subarray(0, 4)).toEqual(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd));
      const back = await decompressZstd(stored, { maxSize: input.length });
      expectSameBytes(back, input);
    }
  });

  it('compresses text well and empty input to a 9-byte frame', async () => {
    const input = text(2 * MiB);
    expect((await compressZstd(input)).length).toBeLessThan(input.length / 10);
    // Magic, header (single segment, 1-byte content size 0), one empty last raw block.
    expect(Buffer.from(await compressZstd(new Uint8Array(0))).toString('hex')).toBe(
      '28b52ffd2000010000'
    );
  });

  it('is deterministic: equal input gives equal bytes, also from a view into a larger buffer', async () => {
    const input = text(MiB);
    const a = await compressZstd(input);
    const b = await compressZstd(Uint8Array.from(input));
    const padded = new Uint8Array(input.length + 10);
    padded.set(input, 5);
    const c = await compressZstd(padded.subarray(5, 5 + input.length));
    expectSameBytes(a, b);
    expectSameBytes(a, c);
  });

  it('initializes once under concurrent first use', async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => text(10_000 + i));
    const stored = await Promise.all(inputs.map((x) => compressZstd(x)));
    const back = await Promise.all(stored.map((x) => decompressZstd(x, { maxSize: MiB })));
    back.forEach((b, i) => expectSameBytes(b, inputs[i] ?? new Uint8Array(0)));
  });

  it('decompresses several frames and skips skippable frames', async () => {
    const a = text(200_000);
    const b = randomBytes(1000);
    const stream = Buffer.concat([
      skippableFrame(Buffer.from('metadata')),
      await compressZstd(a),
      skippableFrame(new Uint8Array(0)),
      await compressZstd(b),
    ]);
    const back = await decompressZstd(stream, { maxSize: MiB });
    expectSameBytes(back, Buffer.concat([a, b]));
    expect((await decompressZstd(skippableFrame(Buffer.from('x')), { maxSize: 0 })).length).toBe(0);
  });

  it('decompresses hand-written RLE frames, with and without a content size', async () => {
    const expected = new Uint8Array(3 * BLOCK).fill(0x61);
    expectSameBytes(await decompressZstd(rleFrame(3, 0x61), { maxSize: 3 * BLOCK }), expected);
    const sized = await decompressZstd(rleFrame(3, 0x61, 3 * BLOCK), { maxSize: 3 * BLOCK });
    expectSameBytes(sized, expected);
  });
});

describe('decompressZstd rejects malformed input with PAYLOAD_INVALID', () => {
  it.each([
    ['empty input', () => new Uint8Array(0)],
    ['text', () => new TextEncoder().encode('this is not zstd at all')],
    ['a bare magic number', () => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd)],
    ['a truncated frame', () => rleFrame(3, 1).subarray(0, 12)],
    ['trailing garbage', () => Buffer.concat([rleFrame(1, 1), Buffer.from('junk')])],
    ['the reserved header bit', () => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x58, 1, 0, 0)],
    [
      'the reserved block type',
      () => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x07, 0, 0),
    ],
    [
      'a block over 128 KiB',
      () => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x0b, 0, 0x10, 0),
    ],
    ['a skippable frame cut short', () => skippableFrame(Buffer.from('abcdef')).subarray(0, 10)],
    ['a content size its blocks cannot hold', () => rleFrame(1, 1, BLOCK + 1)],
    ['a content size its blocks do not fill', () => rleFrame(2, 1, BLOCK + 1)],
  ])('%s', async (_what, make) => {
    const e = await expectCode(decompressZstd(make(), { maxSize: MiB }), 'PAYLOAD_INVALID');
    expect(e.message).toMatch(/^The zstd payload is malformed/);
  });

  it('a corrupted compressed block', async () => {
    const stored = await compressZstd(text(100_000));
    const corrupt = Uint8Array.from(stored);
    for (let i = 20; i < 40; i++) corrupt[i] = (corrupt[i] ?? 0) ^ 0xff;
    await expectCode(decompressZstd(corrupt, { maxSize: MiB }), 'PAYLOAD_INVALID');
  });
});

describe('decompressZstd guards against zip bombs with maxSize', () => {
  it('accepts output of exactly maxSize and refuses one byte more', async () => {
    const input = text(100_000);
    const stored = await compressZstd(input);
    expect((await decompressZstd(stored, { maxSize: input.length })).length).toBe(input.length);
    const e = await expectCode(
      decompressZstd(stored, { maxSize: input.length - 1 }),
      'PAYLOAD_INVALID'
    );
    expect(e.message).toContain(`more than the maxSize of ${input.length - 1} bytes`);
    expect(e.data['contentSize']).toBe(input.length);
  });

  it('refuses a declared content size over maxSize from the header, before decompressing', async () => {
    // 64 MiB declared and regenerable from 2 KiB of input.
    const bomb = rleFrame(512, 0, 512 * BLOCK);
    expect(bomb.length).toBeLessThan(2100);
    const e = await expectCode(decompressZstd(bomb, { maxSize: MiB }), 'PAYLOAD_INVALID');
    expect(e.message).toContain(`declares ${512 * BLOCK} bytes of content`);
    expect(e.data['contentSize']).toBe(512 * BLOCK);
  });

  it('bounds the output buffer of a frame without a content size by maxSize', async () => {
    const bomb = rleFrame(1024, 0); // 128 MiB from 4 KiB, no size in the header
    const started = performance.now();
    const e = await expectCode(decompressZstd(bomb, { maxSize: MiB }), 'PAYLOAD_INVALID');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(e.message).toContain(`more than the maxSize of ${MiB} bytes`);
  });

  it('counts the frames of a stream together', async () => {
    const frame = await compressZstd(text(600_000));
    const stream = Buffer.concat([frame, frame]);
    await expectCode(decompressZstd(stream, { maxSize: MiB }), 'PAYLOAD_INVALID');
    expect((await decompressZstd(stream, { maxSize: 1_200_000 })).length).toBe(1_200_000);
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 53]])(
    'refuses maxSize %s with ARGUMENT_INVALID',
    async (maxSize) => {
      await expectCode(decompressZstd(rleFrame(1, 0), { maxSize }), 'ARGUMENT_INVALID');
    }
  );
});

describe.skipIf(!HAS_ZSTD)(
  `zstd CLI interop (${HAS_ZSTD ? 'zstd found' : ZSTD_SKIP_REASON})`,
  () => {
    it('decompresses CLI output to the same bytes as `zstd -d`', async () => {
      const input = Buffer.concat([text(MiB), randomBytes(100_000)]);
      const file = join(tmp, 'cli-input.bin');
      writeFileSync(file, input);
      // From a file the CLI writes the content size and a checksum.
      const stored = zstdCli(`-q -3 -c ${file}`);
      const ours = await decompressZstd(stored, { maxSize: input.length });
      const theirs = zstdCli('-q -d -c', stored);
      expectSameBytes(ours, theirs);
      expectSameBytes(ours, input);
    });

    it('decompresses a streamed CLI frame (no content size) larger than 1 MiB', async () => {
      const input = Buffer.concat([text(2 * MiB), randomBytes(MiB)]);
      const stored = zstdCli('-q -3 -c', input); // from stdin: no Frame_Content_Size
      const ours = await decompressZstd(stored, { maxSize: input.length });
      expectSameBytes(ours, zstdCli('-q -d -c', stored));
      await expectCode(decompressZstd(stored, { maxSize: input.length - 1 }), 'PAYLOAD_INVALID');
    });

    it('decompresses concatenated CLI frames with a skippable frame like `zstd -d`', async () => {
      const stream = Buffer.concat([
        zstdCli('-q -9 -c', text(100_000)),
        skippableFrame(Buffer.from('meta')),
        zstdCli('-q -1 --no-check -c', randomBytes(5000)),
      ]);
      const ours = await decompressZstd(stream, { maxSize: MiB });
      expectSameBytes(ours, zstdCli('-q -d -c', stream));
    });

    it('rejects a CLI frame with a flipped byte (checksum) as PAYLOAD_INVALID, as `zstd -t` does', async () => {
      const stored = Uint8Array.from(zstdCli('-q -c', randomBytes(50_000)));
      stored[stored.length - 100] = (stored[stored.length - 100] ?? 0) ^ 1;
      const r = spawnSync('zstd', ['-q', '-t'], { input: stored });
      expect(r.status).not.toBe(0);
      await expectCode(decompressZstd(stored, { maxSize: MiB }), 'PAYLOAD_INVALID');
    });

    it('writes frames `zstd -d` reads back, empty input included', async () => {
      for (const input of [text(3 * MiB), randomBytes(200_000), new Uint8Array(0)]) {
        const stored = await compressZstd(input);
        expectSameBytes(zstdCli('-q -d -c', stored), input);
      }
    });

    it('agrees with `zstd -d` that the hand-written bomb is a valid stream', () => {
      const file = join(tmp, 'bomb.zst');
      writeFileSync(file, rleFrame(64, 0x62));
      const out = zstdCli(`-q -d -c ${file}`);
      expectSameBytes(out, new Uint8Array(64 * BLOCK).fill(0x62));
    });
  }
);
