/**
 * The strict tar reader and the deterministic USTAR writer of src/archive/tar.ts, checked against
 * the tar format itself and against GNU tar (which writes and reads the archives both ways).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  BLOCK,
  END_OF_ARCHIVE,
  padding,
  readTar,
  regularFileHeader,
  type TarHeader,
} from '../../src/archive/tar.js';
import { expectCode } from '../helpers/expect-code.js';
import { headerChecksum, pad, paxRecord, rawHeader } from '../helpers/tar.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);
const enc = new TextEncoder();
const HAS_TAR = spawnSync('sh', ['-c', 'command -v tar']).status === 0;

/** Feeds bytes to readTar in chunks of `chunk` bytes (odd sizes exercise the reassembly). */
async function* chunked(bytes: Uint8Array, chunk = 7919): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += chunk) yield bytes.subarray(i, i + chunk);
}

interface ReadEntry extends TarHeader {
  readonly body: Buffer;
}

async function readAll(bytes: Uint8Array, chunk?: number): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  for await (const { header, body } of readTar(chunked(bytes, chunk))) {
    const parts: Uint8Array[] = [];
    for await (const c of body) parts.push(c);
    out.push({ ...header, body: Buffer.concat(parts) });
  }
  return out;
}

/** An archive as runledger's writer lays it out. */
function writeArchive(files: readonly (readonly [string, Uint8Array])[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const [name, body] of files)
    parts.push(regularFileHeader(name, body.byteLength), body, padding(body.byteLength));
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

const ascii = (h: Uint8Array, offset: number, length: number): string =>
  Buffer.from(h.subarray(offset, offset + length)).toString('latin1');

describe('regularFileHeader (the USTAR writer)', () => {
  it('writes the golden fields: mode 0000644, uid/gid 0, mtime 0, ustar\\0 00, valid checksum', () => {
    const h = regularFileHeader('blobs/sha256/' + 'a'.repeat(64), 1234);
    expect(h.byteLength).toBe(512);
    expect(ascii(h, 0, 100)).toBe(('blobs/sha256/' + 'a'.repeat(64)).padEnd(100, '\0'));
    expect(ascii(h, 100, 8)).toBe('0000644\0');
    expect(ascii(h, 108, 8)).toBe('0000000\0');
    expect(ascii(h, 116, 8)).toBe('0000000\0');
    expect(ascii(h, 124, 12)).toBe('00000002322\0'); // 1234 in octal
    expect(ascii(h, 136, 12)).toBe('00000000000\0');
    expect(String.fromCharCode(h[156]!)).toBe('0');
    expect(ascii(h, 157, 100)).toBe('\0'.repeat(100)); // no linkname
    expect(ascii(h, 257, 6)).toBe('ustar\0');
    expect(ascii(h, 263, 2)).toBe('00');
    expect(ascii(h, 265, 64)).toBe('\0'.repeat(64)); // empty uname, gname
    expect(ascii(h, 329, 8)).toBe('0000000\0');
    expect(ascii(h, 337, 8)).toBe('0000000\0');
    expect(ascii(h, 345, 167)).toBe('\0'.repeat(167)); // no prefix, nothing after
    // checksum: six octal digits, NUL, space; the unsigned sum with the field as spaces
    const field = ascii(h, 148, 8);
    expect(field).toMatch(/^[0-7]{6}\0 $/);
    expect(parseInt(field.slice(0, 6), 8)).toBe(headerChecksum(h));
  });

  it('is deterministic and agrees with an independent header writer', () => {
    for (const [name, size] of [
      ['oci-layout', 30],
      ['index.json', 0],
      ['x', 0o77777777777],
    ] as const) {
      const a = regularFileHeader(name, size);
      expect(Buffer.from(a).equals(Buffer.from(regularFileHeader(name, size)))).toBe(true);
      expect(Buffer.from(a).equals(Buffer.from(rawHeader({ name, size })))).toBe(true);
    }
  });

  it('refuses a name over 100 bytes rather than truncating it', async () => {
    await expectCode(() => regularFileHeader('n'.repeat(101), 1), 'ARCHIVE_INVALID');
    expect(regularFileHeader('n'.repeat(100), 1).byteLength).toBe(512);
  });

  it('pads to whole blocks and ends with two zero blocks', () => {
    expect(padding(0).byteLength).toBe(0);
    expect(padding(1).byteLength).toBe(511);
    expect(padding(512).byteLength).toBe(0);
    expect(padding(513).byteLength).toBe(511);
    expect(END_OF_ARCHIVE.byteLength).toBe(2 * BLOCK);
    expect(END_OF_ARCHIVE.every((b) => b === 0)).toBe(true);
  });

  it('uses octal up to 8 GiB - 1 and GNU base-256 above, which readTar parses back', async () => {
    const max = 8 * 1024 ** 3 - 1;
    expect(ascii(regularFileHeader('f', max), 124, 12)).toBe('77777777777\0');
    for (const size of [max + 1, 8 * 1024 ** 3 * 3 + 12345, Number.MAX_SAFE_INTEGER]) {
      const h = regularFileHeader('big.bin', size);
      expect(h[124]).toBe(0x80);
      expect(parseInt(ascii(h, 148, 6), 8)).toBe(headerChecksum(h));
      // A header alone: the size parses; the body is missing, so reading on must fail.
      const it = readTar(chunked(h));
      const first = await it.next();
      expect(first.done).toBe(false);
      expect(first.value!.header).toEqual({ name: 'big.bin', size, type: '0', linkname: '' });
      const err = await expectCode(it.next(), 'ARCHIVE_INVALID');
      expect(err.data['entry']).toBe('big.bin');
    }
  });

  it('refuses base-256 sizes beyond 2^53 - 1 and negative base-256 sizes', async () => {
    for (const h of [
      rawHeader({ name: 'huge', size: 2n ** 62n }),
      rawHeader({ name: 'huge', size: 2n ** 53n }),
    ]) {
      const err = await expectCode(readAll(h), 'ARCHIVE_INVALID');
      expect(err.data['entry']).toBe('huge');
    }
    const negative = rawHeader({ name: 'neg', size: 1, base256: true });
    negative[124] = 0xff; // two's-complement negative in GNU base-256
    const sum = headerChecksum(negative);
    negative.set(enc.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const err = await expectCode(readAll(negative), 'ARCHIVE_INVALID');
    expect(err.data['entry']).toBe('neg');
  });

  it.skipIf(!HAS_TAR)('GNU tar lists and extracts what the writer wrote', async () => {
    const dir = await tempDir();
    const body = randomBytes(1500);
    const archive = writeArchive([
      ['oci-layout', enc.encode('{"imageLayoutVersion":"1.0.0"}')],
      ['blobs/sha256/' + 'b'.repeat(64), body],
      ['index.json', new Uint8Array(0)],
    ]);
    await writeFile(join(dir, 'a.tar'), archive);
    const { stdout } = await run('tar', ['--numeric-owner', '-tvf', join(dir, 'a.tar')], {
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 +30 1970-01-01 00:00 oci-layout$/);
    expect(lines[1]).toMatch(/^-rw-r--r-- 0\/0 +1500 1970-01-01 00:00 blobs\/sha256\/b{64}$/);
    expect(lines[2]).toMatch(/^-rw-r--r-- 0\/0 +0 1970-01-01 00:00 index.json$/);
    await mkdir(join(dir, 'x'));
    await run('tar', ['-xf', join(dir, 'a.tar'), '-C', join(dir, 'x')]);
    expect((await readFile(join(dir, 'x', 'blobs', 'sha256', 'b'.repeat(64)))).equals(body)).toBe(
      true
    );
  });

  it.skipIf(!HAS_TAR)('GNU tar reads the base-256 size the writer wrote', async () => {
    const dir = await tempDir();
    const size = 8 * 1024 ** 3 + 1;
    await writeFile(join(dir, 'h.tar'), regularFileHeader('big.bin', size));
    // The body is absent, so tar fails after listing; the listing shows the size it parsed.
    const r = spawnSync('tar', ['-tvf', join(dir, 'h.tar')], { encoding: 'utf8' });
    expect(r.stdout).toContain(` ${size} `);
    expect(r.stdout).toContain('big.bin');
  });
});

describe('readTar', () => {
  it('reads what the writer wrote, for any chunking, skipping bodies the caller does not read', async () => {
    const files: [string, Uint8Array][] = [
      ['oci-layout', enc.encode('{"imageLayoutVersion":"1.0.0"}')],
      ['blobs/sha256/' + 'c'.repeat(64), randomBytes(3 * 1024 * 1024 + 17)],
      ['empty', new Uint8Array(0)],
      ['block', randomBytes(512)],
      ['index.json', enc.encode('{}')],
    ];
    const archive = writeArchive(files);
    for (const chunk of [511, 512, 4096, 7919, archive.byteLength]) {
      const got = await readAll(archive, chunk);
      expect(got.map((e) => [e.name, e.size, e.type, e.linkname])).toEqual(
        files.map(([n, b]) => [n, b.byteLength, '0', ''])
      );
      got.forEach((e, i) => expect(e.body.equals(files[i]![1])).toBe(true));
    }
    // Skipping: read only names.
    const names: string[] = [];
    for await (const { header } of readTar(chunked(archive, 1000))) names.push(header.name);
    expect(names).toEqual(files.map(([n]) => n));
    // Reading part of a body, then moving on.
    const partial: string[] = [];
    for await (const { header, body } of readTar(chunked(archive, 1000))) {
      for await (const c of body) {
        partial.push(`${header.name}:${c.byteLength > 0}`);
        break;
      }
    }
    expect(partial).toEqual([
      'oci-layout:true',
      `blobs/sha256/${'c'.repeat(64)}:true`,
      'block:true',
      'index.json:true',
    ]);
  });

  it('reads byte-at-a-time input', async () => {
    const archive = writeArchive([
      ['a', enc.encode('hello')],
      ['b', enc.encode('x'.repeat(600))],
    ]);
    const got = await readAll(archive, 1);
    expect(got.map((e) => [e.name, e.body.toString()])).toEqual([
      ['a', 'hello'],
      ['b', 'x'.repeat(600)],
    ]);
  });

  it('stops at the end-of-archive marker and at the end of input on a block boundary', async () => {
    const archive = writeArchive([['a', enc.encode('1')]]);
    const trailing = Buffer.concat([archive, Buffer.from('garbage after the end marker')]);
    expect((await readAll(trailing)).map((e) => e.name)).toEqual(['a']);
    const unterminated = archive.subarray(0, archive.byteLength - END_OF_ARCHIVE.byteLength);
    expect((await readAll(unterminated)).map((e) => e.name)).toEqual(['a']);
    expect(await readAll(new Uint8Array(0))).toEqual([]);
  });

  it('reports type, linkname and the USTAR prefix', async () => {
    const parts = [
      rawHeader({ name: 'dir/', size: 0, type: '5' }),
      rawHeader({ name: 'link', size: 0, type: '2', linkname: '/etc/passwd' }),
      rawHeader({ name: 'file', size: 0, prefix: 'some/long/prefix' }),
      END_OF_ARCHIVE,
    ];
    const got = await readAll(Buffer.concat(parts));
    expect(got.map(({ name, type, linkname }) => ({ name, type, linkname }))).toEqual([
      { name: 'dir/', type: '5', linkname: '' },
      { name: 'link', type: '2', linkname: '/etc/passwd' },
      { name: 'some/long/prefix/file', type: '0', linkname: '' },
    ]);
  });

  it('refuses a header with a wrong checksum (ARCHIVE_INVALID)', async () => {
    const archive = writeArchive([
      ['a', enc.encode('hello')],
      ['b', enc.encode('world')],
    ]);
    // A flipped name byte, checksum left as it was.
    const renamed = Buffer.from(archive);
    renamed[0] = 'z'.charCodeAt(0);
    await expectCode(readAll(renamed), 'ARCHIVE_INVALID');
    // The second header's checksum field damaged.
    const damaged = Buffer.from(archive);
    damaged[1024 + 150] = damaged[1024 + 150] === 0x31 ? 0x32 : 0x31;
    const err = await expectCode(readAll(damaged), 'ARCHIVE_INVALID');
    expect(err.message).toMatch(/checksum/);
    // Off by one, and a non-octal checksum field.
    await expectCode(
      readAll(rawHeader({ name: 'a', size: 0, checksumDelta: 1 })),
      'ARCHIVE_INVALID'
    );
    const junk = rawHeader({ name: 'a', size: 0 });
    junk.set(enc.encode('zzzzzz'), 148);
    await expectCode(readAll(junk), 'ARCHIVE_INVALID');
    // Non-tar input.
    await expectCode(readAll(randomBytes(2048)), 'ARCHIVE_INVALID');
  });

  it('refuses a malformed octal size field, naming the entry', async () => {
    const h = rawHeader({ name: 'bad-size', size: 0 });
    h.set(enc.encode('12345678x01\0'), 124);
    h.set(enc.encode(`${headerChecksum(h).toString(8).padStart(6, '0')}\0 `), 148);
    const err = await expectCode(readAll(h), 'ARCHIVE_INVALID');
    expect(err.data['entry']).toBe('bad-size');
  });

  it('refuses input that ends inside a header', async () => {
    const archive = writeArchive([
      ['a', enc.encode('hello')],
      ['b', enc.encode('world')],
    ]);
    for (const cut of [1, 300, 511, 1024 + 100, 1024 + 511]) {
      const err = await expectCode(readAll(archive.subarray(0, cut)), 'ARCHIVE_INVALID');
      expect(err.message).toMatch(/truncated/);
    }
  });

  it('refuses input that ends inside a body or its padding, naming the entry', async () => {
    const archive = writeArchive([['blob', randomBytes(3000)]]);
    for (const cut of [512, 513, 512 + 2999, 512 + 3000, 512 + 3071]) {
      const err = await expectCode(readAll(archive.subarray(0, cut)), 'ARCHIVE_INVALID');
      expect(err.data['entry']).toBe('blob');
      expect(err.message).toMatch(/truncated/);
    }
    // Also when the caller skips the body rather than reading it.
    const skip = async (): Promise<void> => {
      for await (const e of readTar(chunked(archive.subarray(0, 1000)))) void e;
    };
    expect((await expectCode(skip(), 'ARCHIVE_INVALID')).data['entry']).toBe('blob');
  });

  it('applies PAX path/size/linkpath records and GNU long names to the next entry only', async () => {
    const pax = Buffer.concat([
      paxRecord('path', `dir/${'p'.repeat(150)}`),
      paxRecord('size', '5'),
      paxRecord('mtime', '1700000000.5'),
    ]);
    const longName = `${'n'.repeat(130)}.txt`;
    const longLink = `/${'k'.repeat(130)}`;
    const archive = Buffer.concat([
      rawHeader({ name: 'PaxHeaders/x', size: pax.byteLength, type: 'x' }),
      pax,
      pad(pax.byteLength),
      rawHeader({ name: 'short', size: 0 }), // the header says 0; PAX says 5
      Buffer.from('12345'),
      pad(5),
      rawHeader({ name: '././@LongLink', size: longName.length + 1, type: 'L' }),
      Buffer.from(`${longName}\0`),
      pad(longName.length + 1),
      rawHeader({ name: 'truncated-name', size: 0 }),
      rawHeader({ name: '././@LongLink', size: longLink.length, type: 'K' }),
      Buffer.from(longLink),
      pad(longLink.length),
      rawHeader({ name: 'link', size: 0, type: '2', linkname: 'short-link' }),
      rawHeader({ name: 'plain', size: 0 }),
      END_OF_ARCHIVE,
    ]);
    const got = await readAll(archive);
    expect(got.map(({ name, size, type, linkname }) => ({ name, size, type, linkname }))).toEqual([
      { name: `dir/${'p'.repeat(150)}`, size: 5, type: '0', linkname: '' },
      { name: longName, size: 0, type: '0', linkname: '' },
      { name: 'link', size: 0, type: '2', linkname: longLink },
      { name: 'plain', size: 0, type: '0', linkname: '' },
    ]);
    expect(got[0]!.body.toString()).toBe('12345');
  });

  // GNU tar writes 'K' then 'L' for a symlink whose name and target are both long: both apply.
  it('applies consecutive GNU K and L records to the same entry', async () => {
    const longName = 'n'.repeat(130);
    const longLink = `/${'k'.repeat(130)}`;
    const archive = Buffer.concat([
      rawHeader({ name: '././@LongLink', size: longLink.length + 1, type: 'K' }),
      Buffer.from(`${longLink}\0`),
      pad(longLink.length + 1),
      rawHeader({ name: '././@LongLink', size: longName.length + 1, type: 'L' }),
      Buffer.from(`${longName}\0`),
      pad(longName.length + 1),
      rawHeader({
        name: longName.slice(0, 100),
        size: 0,
        type: '2',
        linkname: longLink.slice(0, 100),
      }),
      END_OF_ARCHIVE,
    ]);
    const [entry] = await readAll(archive);
    expect([entry!.name, entry!.linkname]).toEqual([longName, longLink]);
  });

  // PAX record lengths count bytes, not characters.
  it('applies a PAX path record with a non-ASCII value', async () => {
    const pax = paxRecord('path', 'résumé.txt');
    const archive = Buffer.concat([
      rawHeader({ name: 'PaxHeaders/x', size: pax.byteLength, type: 'x' }),
      pax,
      pad(pax.byteLength),
      rawHeader({ name: 'resume.txt', size: 0 }),
      END_OF_ARCHIVE,
    ]);
    expect((await readAll(archive)).map((e) => e.name)).toEqual(['résumé.txt']);
  });

  it('refuses oversized and truncated metadata records', async () => {
    const big = rawHeader({ name: '././@LongLink', size: 64 * 1024 + 1, type: 'L' });
    await expectCode(readAll(big), 'ARCHIVE_INVALID');
    const cut = Buffer.concat([
      rawHeader({ name: '././@LongLink', size: 200, type: 'L' }),
      Buffer.alloc(100, 0x61),
    ]);
    await expectCode(readAll(cut), 'ARCHIVE_INVALID');
    const pax = enc.encode('nonsense\n');
    const badPax = Buffer.concat([
      rawHeader({ name: 'PaxHeaders/x', size: pax.byteLength, type: 'x' }),
      pax,
      new Uint8Array(512 - pax.byteLength),
      rawHeader({ name: 'x', size: 0 }),
    ]);
    await expectCode(readAll(badPax), 'ARCHIVE_INVALID');
  });
});

describe.skipIf(!HAS_TAR)('readTar on GNU tar output', () => {
  const longName = 'L'.repeat(116) + '.bin'; // 120 characters, over the 100-byte name field
  const longPath = `${'d'.repeat(60)}/${'f'.repeat(59)}`; // 120 characters, splits as ustar prefix

  async function files(): Promise<{ dir: string; want: Map<string, Buffer> }> {
    const dir = await tempDir();
    const want = new Map<string, Buffer>([
      ['hello.txt', Buffer.from('hello, tar\n')],
      ['empty', Buffer.alloc(0)],
      ['exact-block', randomBytes(512)],
      ['odd', randomBytes(1000)],
      ['large.bin', randomBytes(1024 * 1024 + 4097)],
      ['utf8-é.txt', Buffer.from('é')],
      [longPath, randomBytes(700)],
    ]);
    await mkdir(join(dir, 'd'.repeat(60)));
    for (const [name, body] of want) await writeFile(join(dir, name), body);
    return { dir, want };
  }

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads tar --format=${format}: names, sizes, types and content`, async () => {
      const { dir, want } = await files();
      if (format !== 'ustar') {
        const body = randomBytes(333);
        await writeFile(join(dir, longName), body);
        want.set(longName, body);
      }
      const archive = join(dir, `out-${format}.tar`);
      await run('tar', [`--format=${format}`, '-cf', archive, '-C', dir, ...want.keys()]);
      const got = await readAll(await readFile(archive), 65536);
      const regular = got.filter((e) => e.type === '0');
      expect(regular.map((e) => e.name)).toEqual([...want.keys()]);
      for (const e of regular) {
        const body = want.get(e.name)!;
        expect(e.size, e.name).toBe(body.byteLength);
        expect(e.body.equals(body), e.name).toBe(true);
      }
      // Nothing but regular files came out (metadata records are applied, not yielded).
      expect(got).toHaveLength(want.size);
    });
  }

  it('reads tar --format=pax with a non-ASCII name (PAX lengths are bytes)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'utf8-é.txt'), 'é');
    const archive = join(dir, 'pax.tar');
    await run('tar', ['--format=pax', '-cf', archive, '-C', dir, 'utf8-é.txt']);
    const got = await readAll(await readFile(archive));
    expect(got.map((e) => [e.name, e.body.toString()])).toEqual([['utf8-é.txt', 'é']]);
  });

  // 'consecutive GNU K and L records' above, from real GNU tar output.
  it('reads a GNU symlink whose name and target are both long', async () => {
    const dir = await tempDir();
    const name = 'n'.repeat(130);
    const target = `/${'k'.repeat(130)}`;
    await run('ln', ['-s', target, join(dir, name)]);
    const archive = join(dir, 'gnu.tar');
    await run('tar', ['--format=gnu', '-cf', archive, '-C', dir, name]);
    const [entry] = await readAll(await readFile(archive));
    expect([entry!.name, entry!.type, entry!.linkname]).toEqual([name, '2', target]);
  });

  it('reads directory and symlink entries as such, with long link targets', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'f'), 'x');
    const target = 't'.repeat(130);
    await run('ln', ['-s', target, join(dir, 'sub', 'link')]);
    for (const format of ['gnu', 'pax']) {
      const archive = join(dir, `${format}.tar`);
      await run('tar', [`--format=${format}`, '-cf', archive, '-C', dir, 'sub']);
      const got = await readAll(await readFile(archive));
      const byName = new Map(got.map((e) => [e.name, e]));
      expect(byName.get('sub/')?.type, format).toBe('5');
      expect(byName.get('sub/f')?.body.toString()).toBe('x');
      expect(byName.get('sub/link')?.type).toBe('2');
      expect(byName.get('sub/link')?.linkname).toBe(target);
    }
  });
});
