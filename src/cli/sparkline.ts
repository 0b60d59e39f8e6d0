/**
 * @module cli/sparkline
 * A metric's history in one line of block characters (`▁▂▃▄▅▆▇█`), for terminals.
 */

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * The values as a sparkline: each character the mean of an equal share of the points (all of
 * them when there are no more than `width`), scaled from the smallest to the largest; a share
 * without a finite value (NaN, ±Infinity) is a space, and a constant history sits mid-height.
 * @param values - the values, in step order
 * @param width - at most this many characters
 * @returns the sparkline (empty without values)
 * @example
 * ```ts
 * sparkline([1, 0.5, 0.25, 0.125]); // '█▃▁▁'
 * ```
 */
export function sparkline(values: ArrayLike<number>, width = 32): string {
  const n = values.length;
  const cells = Math.min(n, Math.max(1, width));
  const means: number[] = [];
  for (let c = 0; c < cells; c++) {
    let sum = 0;
    let count = 0;
    for (let i = Math.floor((c * n) / cells); i < Math.floor(((c + 1) * n) / cells); i++) {
      const v = values[i] as number;
      if (Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    means.push(count === 0 ? Number.NaN : sum / count);
  }
  const finite = means.filter((m) => !Number.isNaN(m));
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return means
    .map((m) => {
      if (Number.isNaN(m)) return ' ';
      const level = max === min ? 3 : Math.round(((m - min) / (max - min)) * (BLOCKS.length - 1));
      return BLOCKS[level] as string;
    })
    .join('');
}
