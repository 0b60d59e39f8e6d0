/**
 * @module cli/format
 * Human output: aligned tables and byte sizes.
 */

/**
 * Renders rows as an aligned text table with a header.
 * @param header - column titles
 * @param rows - cells as strings
 * @returns lines without trailing newline
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[]
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
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
