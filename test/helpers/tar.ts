/**
 * A raw tar builder and a minimal USTAR splitter for archive tests. Written from the tar format
 * alone (it imports nothing from src/), so hostile archives can set every header field — name,
 * typeflag, linkname, the size field (octal or base-256) and the checksum — independently of the
 * body that follows.
 */

const BLOCK = 512;
const enc = new TextEncoder();

/** One header to write. */
export interface RawHeader {
  readonly name: string;
  /** The size written in the header (need not match the body). */
  readonly size: number | bigint;
  /** The typeflag character. @default '0' */
  readonly type?: string;
  readonly linkname?: string;
  /** The USTAR prefix field. @default '' */
  readonly prefix?: string;
  /** Write the size in GNU base-256 even when it fits the octal field. @default false */
  readonly base256?: boolean;
  /** Add this to the correct checksum (0 gives a valid header). @default 0 */
  readonly checksumDelta?: number;
}

/** One entry to write: a header and the bytes that follow it (padded to a block). */
export interface RawEntry extends Partial<RawHeader> {
  readonly name: string;
  readonly body: Uint8Array;
}

function put(h: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = enc.encode(value);
  if (bytes.byteLength > length) throw new Error(`tar field too long: ${value}`);
  h.set(bytes, offset);
}

function octal(h: Uint8Array, offset: number, length: number, value: number): void {
  put(h, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Sums a header with the checksum field counted as spaces. */
export function headerChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return sum;
}

/** Splits a name over 100 bytes into USTAR prefix and name at a slash. */
function splitName(name: string): [string, string] {
  if (enc.encode(name).byteLength <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (enc.encode(rest).byteLength <= 100 && enc.encode(name.slice(0, i)).byteLength <= 155)
      return [name.slice(0, i), rest];
  }
  throw new Error(`tar name too long for USTAR: ${name}`);
}

/**
 * A 512-byte USTAR header with exactly the given fields (a name over 100 bytes goes to the prefix
 * field when no `prefix` is given).
 */
export function rawHeader(o: RawHeader): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const [prefix, name] = o.prefix === undefined ? splitName(o.name) : [o.prefix, o.name];
  put(h, 0, 100, name);
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  const size = BigInt(o.size);
  if (o.base256 === true || size > 0o77777777777n) {
    h[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  } else {
    octal(h, 124, 12, Number(size));
  }
  octal(h, 136, 12, 0);
  h[156] = (o.type ?? '0').charCodeAt(0);
  put(h, 157, 100, o.linkname ?? '');
  put(h, 257, 6, 'ustar\0');
  put(h, 263, 2, '00');
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  put(h, 345, 155, prefix);
  const sum = headerChecksum(h) + (o.checksumDelta ?? 0);
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Zero bytes padding `n` to a whole block. */
export function pad(n: number): Uint8Array {
  return new Uint8Array((BLOCK - (n % BLOCK)) % BLOCK);
}

/** The two zero blocks that end an archive. */
export const END = new Uint8Array(2 * BLOCK);

/** One PAX extended-header record, `<length> <key>=<value>\n`, the length counted in bytes. */
export function paxRecord(key: string, value: string): Uint8Array {
  const rest = enc.encode(` ${key}=${value}\n`).byteLength;
  let n = rest + 1;
  while (String(n).length + rest !== n) n++;
  return enc.encode(`${n} ${key}=${value}\n`);
}

function fitsUstar(name: string): boolean {
  try {
    splitName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes entries as a tar: each header (size = the body's length unless `size` says otherwise),
 * the body, its padding; then the end marker unless `end: false`. A name USTAR cannot hold is
 * carried by a PAX `path` record, as tar does.
 */
export function buildTar(entries: readonly RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (e.prefix === undefined && !fitsUstar(e.name)) {
      const pax = paxRecord('path', e.name);
      parts.push(rawHeader({ name: 'PaxHeader', size: pax.byteLength, type: 'x' }), pax);
      parts.push(pad(pax.byteLength));
      parts.push(rawHeader({ ...e, name: 'long-name', size: e.size ?? e.body.byteLength }));
    } else {
      parts.push(rawHeader({ ...e, size: e.size ?? e.body.byteLength }));
    }
    parts.push(e.body, pad(e.body.byteLength));
  }
  if (options.end !== false) parts.push(END);
  return Buffer.concat(parts);
}

/** One entry of {@link splitTar}. */
export interface SplitEntry {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
  /** Offset of the header in the archive. */
  readonly offset: number;
}

/** Splits a plain USTAR archive (no PAX, no GNU records), as runledger writes it. */
export function splitTar(bytes: Uint8Array): SplitEntry[] {
  const out: SplitEntry[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (o: number, n: number): string => {
      const f = h.subarray(o, o + n);
      const z = f.indexOf(0);
      return f.subarray(0, z < 0 ? n : z).toString('utf8');
    };
    const size = parseInt(field(124, 12).trim(), 8);
    const prefix = field(345, 155);
    const name = prefix === '' ? field(0, 100) : `${prefix}/${field(0, 100)}`;
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156] as number);
    out.push({ name, type, body: buf.subarray(off + BLOCK, off + BLOCK + size), offset: off });
    off += BLOCK + size + pad(size).byteLength;
  }
  return out;
}
