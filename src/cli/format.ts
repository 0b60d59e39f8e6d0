/**
 * @module cli/format
 * Human output: aligned tables that fit the terminal, cells escaped and measured in terminal
 * columns, numbers written one way, byte sizes, durations and times.
 */
import { colorEnabled } from './color.js';
import type { CommandContext } from './types.js';

/** How a command's text output is laid out, from the terminal and the command line. */
export interface Display {
  /** Columns a table may take: the terminal's width; undefined in a pipe or with `--wide`. */
  readonly width: number | undefined;
  /** Colour (see `colorEnabled`). */
  readonly color: boolean;
  /** `--raw`: numbers at full precision. */
  readonly raw: boolean;
  /** Standard output is a terminal (sparklines are drawn only there). */
  readonly tty: boolean;
}

/** The options every command that prints a table takes: `--wide` (`--no-trunc`), `--raw`. */
export const DISPLAY_OPTIONS = {
  wide: { type: 'boolean' },
  'no-trunc': { type: 'boolean' },
  raw: { type: 'boolean' },
} as const;

/** The width a terminal that does not say its own is taken to have. */
const DEFAULT_COLUMNS = 80;

/**
 * How to lay out text for this command line: a terminal's width (its own, else `COLUMNS`, else
 * 80) unless `--wide` or `--no-trunc`; no width limit in a pipe; colour per `colorEnabled`.
 * @param ctx - the command context
 * @returns the display
 * @example
 * ```ts
 * const display = displayOf(ctx);
 * formatTable(header, rows, { width: display.width });
 * ```
 */
export function displayOf(ctx: Pick<CommandContext, 'io' | 'values'>): Display {
  const tty = ctx.io.stdout.isTTY === true;
  const wide = ctx.values['wide'] === true || ctx.values['no-trunc'] === true;
  const env = Number(ctx.io.env['COLUMNS']);
  const own = ctx.io.stdout.columns;
  const columns =
    own !== undefined && own > 0
      ? own
      : Number.isSafeInteger(env) && env > 0
        ? env
        : DEFAULT_COLUMNS;
  return {
    width: tty && !wide ? columns : undefined,
    color: colorEnabled(ctx.io),
    raw: ctx.values['raw'] === true,
    tty,
  };
}

/** How a character is written in a cell: `\n`, `\t`, `\r`, else `\xHH` or `\uHHHH`. */
function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const code = c.codePointAt(0) ?? 0;
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * C0 and C1 controls, DEL, the line and paragraph separators and the bidirectional overrides and
 * isolates: characters that would move the cursor, end a row or reorder what follows.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text made safe to print in one table cell or line: newlines, tabs and other control
 * characters (and Unicode's bidirectional overrides) are written as escapes (`\n`, `\t`,
 * `\x1b`, `\u202e`), so a value cannot break a row or send codes to the terminal.
 * @param text - any text
 * @returns the text, escaped
 * @example
 * ```ts
 * escapeText('a\nb'); // 'a\\nb'
 * ```
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Code points that take no column: combining marks, zero-width and format characters. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f\u2060-\u2064\ufeff]$/u;

/** Code point ranges a terminal draws two columns wide (East Asian Wide and Fullwidth, emoji). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

/** Columns one code point takes on a terminal: 0, 1 or 2. */
function charWidth(c: string): number {
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x300) return 1;
  if (ZERO_WIDTH.test(c)) return 0;
  return WIDE.some(([lo, hi]) => code >= lo && code <= hi) ? 2 : 1;
}

/**
 * The columns text takes on a terminal: wide (CJK, emoji) characters count two, combining marks
 * none. For text without control characters (see {@link escapeText}).
 * @param text - the text
 * @returns its width
 * @example
 * ```ts
 * displayWidth('日本'); // 4
 * ```
 */
export function displayWidth(text: string): number {
  let w = 0;
  for (const c of text) w += charWidth(c);
  return w;
}

/**
 * Text cut to at most `width` columns, ending in `…` when anything was cut.
 * @param text - the text (escaped)
 * @param width - the columns it may take (at least 1)
 * @returns the text, or its start and `…`
 * @example
 * ```ts
 * truncateText('ghcr.io/acme/qap:v1', 10); // 'ghcr.io/a…'
 * ```
 */
export function truncateText(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const c of text) {
    const cw = charWidth(c);
    if (w + cw > width - 1) break;
    out += c;
    w += cw;
  }
  return `${out}…`;
}

/**
 * A number written the one way the CLI writes numbers: integers in full (bigints always, other
 * integers below 10^15), anything else to 6 significant digits without trailing zeros
 * (`0.3`, not `0.30000000000000004`; `0.05`, not `0.0500`; `1.23457e+7`), NaN and ±Infinity as
 * JavaScript spells them. With `raw`, the shortest text that reads back as the same number.
 * @param value - the number
 * @param raw - full precision
 * @returns the text
 * @example
 * ```ts
 * formatNumber(0.1 + 0.2); // '0.3'
 * formatNumber(0.1 + 0.2, true); // '0.30000000000000004'
 * ```
 */
export function formatNumber(value: number | bigint, raw = false): string {
  if (typeof value === 'bigint' || !Number.isFinite(value)) return String(value);
  if (raw || (Number.isInteger(value) && Math.abs(value) < 1e15)) return String(value);
  const [mantissa = '', exponent] = value.toPrecision(6).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}

/**
 * A cell of a text table: null as empty, numbers per {@link formatNumber}, text escaped.
 * @param value - a cell (from an Arrow table or a record)
 * @param raw - numbers at full precision
 * @returns the text
 * @example
 * ```ts
 * displayCell(0.1 + 0.2); // '0.3'
 * ```
 */
export function displayCell(value: unknown, raw = false): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return formatNumber(value, raw);
  return escapeText(String(value));
}

/**
 * Whether cells are numbers (every one that is not null), so their column is right-aligned.
 * @param cells - the column's cells
 * @returns true when there is at least one number and nothing else but nulls
 * @example
 * ```ts
 * isNumberColumn([1n, null, 0.5]); // true
 * ```
 */
export function isNumberColumn(cells: Iterable<unknown>): boolean {
  let any = false;
  for (const c of cells) {
    if (c === null || c === undefined) continue;
    if (typeof c !== 'number' && typeof c !== 'bigint') return false;
    any = true;
  }
  return any;
}

/** How {@link formatTable} lays a table out. */
export interface TableLayout {
  /** Per column: `right` for numbers; `left` (the default) for the rest. */
  readonly align?: readonly ('left' | 'right')[];
  /**
   * Per column: where a cut cell loses its text — `end` (the default) keeps its start, `middle`
   * keeps both ends (references: `ghcr.…look:v1`).
   */
  readonly cut?: readonly ('end' | 'middle')[];
  /** The columns the table may take; no limit when absent (a pipe, `--wide`). */
  readonly width?: number | undefined;
  /**
   * Colours a cell once it is laid out (`row` is -1 for the header); the text it gets is what
   * will show, cut and without padding.
   */
  readonly paint?: (text: string, row: number, column: number) => string;
}

/** Columns between two cells. */
const GAP = 2;
/** A text column is not cut below this many columns (or its own width). */
const MIN_CUT = 6;
/** A column whose cells are all this narrow (statuses, names, numbers) keeps its cells whole. */
const SHORT = 12;

/**
 * Column widths that fit `width`. The widest columns are cut first, all to one cap, each down to
 * its floor: a column of numbers or of short cells (statuses, names) to its widest cell, so only
 * its title is cut; a column of long text to {@link MIN_CUT}. When even the floors are too wide,
 * the columns are kept from the left, the one at the edge cut to what is left and those past it
 * hidden (width 0).
 */
function fitWidths(natural: readonly number[], floors: readonly number[], width: number): number[] {
  const total = (ws: readonly number[]): number =>
    ws.reduce((a, b) => a + b, 0) + GAP * (ws.filter((w) => w > 0).length - 1);
  if (total(natural) <= width) return [...natural];
  const capped = (cap: number): number[] =>
    natural.map((w, i) => Math.max(Math.min(w, floors[i] ?? w), Math.min(w, cap)));
  // The largest cap that fits (binary search).
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (total(capped(mid)) <= width) lo = mid;
    else hi = mid - 1;
  }
  const widths = capped(lo);
  // Columns the cap left narrower than they want get the columns still free, left first.
  let free = width - total(widths);
  for (let i = 0; i < widths.length && free > 0; i++) {
    const more = Math.min(free, (natural[i] ?? 0) - (widths[i] ?? 0));
    widths[i] = (widths[i] ?? 0) + more;
    free -= more;
  }
  if (total(widths) <= width) return widths;
  // Even cut it is too wide: keep what fits from the left, cut the column at the edge.
  let used = 0;
  return widths.map((w, i) => {
    const room = width - used - (i === 0 ? 0 : GAP);
    if (room <= 0) return 0;
    const shown = Math.min(w, room);
    used += shown + (i === 0 ? 0 : GAP);
    return shown;
  });
}

/** Text cut to `width` in its middle: its start, `…`, and its end (the longer part). */
function truncateMiddle(text: string, width: number): string {
  if (displayWidth(text) <= width || width < 3) return truncateText(text, width);
  const chars = [...text];
  let head = '';
  let tail = '';
  let w = 0;
  for (let i = 0, j = chars.length - 1; i <= j; ) {
    // Alternate from the end, so the end (a tag, a file name) keeps the odd column.
    const fromEnd = displayWidth(tail) <= displayWidth(head);
    const c = (fromEnd ? chars[j] : chars[i]) as string;
    if (w + charWidth(c) > width - 1) break;
    w += charWidth(c);
    if (fromEnd) {
      tail = c + tail;
      j--;
    } else {
      head += c;
      i++;
    }
  }
  return `${head}…${tail}`;
}

/**
 * A column title cut to `width`: a dotted name (`metrics.loss`, `params.time_limit`) keeps its
 * end, which tells the columns of one family apart (`…s.loss`); any other title its start.
 */
function truncateTitle(title: string, width: number): string {
  if (!title.includes('.') || displayWidth(title) <= width) return truncateText(title, width);
  const kept = [...title].reverse();
  let out = '';
  let w = 0;
  for (const c of kept) {
    const cw = charWidth(c);
    if (w + cw > width - 1) break;
    out = c + out;
    w += cw;
  }
  return `…${out}`;
}

/**
 * Renders rows as an aligned text table with a header. Cells are escaped ({@link escapeText})
 * and measured in terminal columns; with a `width`, the widest columns are cut with `…` until
 * the table fits: long text first, titles next, numbers and short cells only when nothing else
 * is left to cut.
 * @param header - column titles
 * @param rows - cells as strings
 * @param layout - alignment, width and colour
 * @returns lines without trailing newline
 * @example
 * ```ts
 * formatTable(['RUN', 'STATUS'], [['0', 'finished']], { align: ['right', 'left'], width: 80 });
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  layout: TableLayout = {}
): string[] {
  const align = layout.align ?? [];
  const cells = [header, ...rows].map((r) => header.map((_, i) => escapeText(r[i] ?? '')));
  const natural = header.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i] ?? ''))));
  // A column is cut down to its widest cell when that is a number or short; else to MIN_CUT.
  const floors = header.map((_, i) => {
    const widest = Math.max(1, ...cells.slice(1).map((r) => displayWidth(r[i] ?? '')));
    return align[i] === 'right' || widest <= SHORT ? widest : MIN_CUT;
  });
  const widths =
    layout.width === undefined ? natural : fitWidths(natural, floors, Math.max(layout.width, 1));
  const visible = widths.flatMap((w, i) => (w > 0 ? [i] : []));
  const last = visible.at(-1);
  return cells.map((row, r) =>
    visible
      .map((i) => {
        const w = widths[i] ?? 0;
        const cell = row[i] ?? '';
        const text =
          r === 0
            ? truncateTitle(cell, w)
            : layout.cut?.[i] === 'middle'
              ? truncateMiddle(cell, w)
              : truncateText(cell, w);
        const pad = ' '.repeat(Math.max(0, w - displayWidth(text)));
        const shown = layout.paint === undefined ? text : layout.paint(text, r - 1, i);
        if (align[i] === 'right') return pad + shown;
        return i === last ? shown : shown + pad;
      })
      .join(' '.repeat(GAP))
      .trimEnd()
  );
}

/**
 * A byte count for people: `512 B`, `1.5 KiB`, `3.2 GiB`.
 * @param n - bytes
 * @returns the text
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * A digest shortened for tables: `sha256:0123456789ab`.
 * @param digest - a full digest
 * @returns its first 12 hex digits with the algorithm
 */
export function shortDigest(digest: string): string {
  return digest.slice(0, 19);
}

/**
 * A duration for people: `850.0 ms` under a second, `12.35 s` under a minute, `3 min 05 s` above.
 * @param ms - milliseconds
 * @returns the text
 */
export function formatMilliseconds(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * An RFC 3339 time as tables show it, to the second in UTC: `2026-12-06 06:01:13`.
 * @param iso - the time, or null or undefined
 * @returns the text (empty without a time)
 * @example
 * ```ts
 * formatUtc('2026-12-06T06:01:13.500Z'); // '2026-12-06 06:01:13'
 * ```
 */
export function formatUtc(iso: string | null | undefined): string {
  return iso?.slice(0, 19).replace('T', ' ') ?? '';
}
