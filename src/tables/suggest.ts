/**
 * @module tables/suggest
 * "Did you mean": the known names closest to a mistyped one. Close by edit distance (case counts
 * as nothing), by being a longer spelling of it (`--rem` → `--remote`), and, for the runs
 * table's columns, by what follows the prefix, so a name given without its `params.` (or with
 * the wrong prefix) still finds `params.lr` and `metrics.lr`.
 */

/** The prefixes of the runs table's column families. */
const PREFIXES: readonly string[] = ['params.', 'metrics.', 'attributes.', 'tags.', 'labels.'];

/**
 * The edit distance between two strings: the insertions, deletions, substitutions and swaps of
 * two neighbouring letters that turn one into the other (optimal string alignment).
 * @param a - one string
 * @param b - the other
 * @returns the number of edits
 * @example
 * ```ts
 * editDistance('sohw', 'show'); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: two back (for swaps), the last one, the one being filled.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + 1);
      }
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

function withoutPrefix(name: string): string {
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined ? name : name.slice(prefix.length);
}

/**
 * Up to `max` known names close to `name`, closest first (ties in the order given).
 * @param name - the name that was not found
 * @param known - the names there are
 * @param max - how many to give at most @default 3
 * @returns the suggestions, possibly none
 * @example
 * ```ts
 * closestNames('lr', ['run_id', 'params.lr', 'metrics.loss']); // ['params.lr']
 * closestNames('stauts', ['status', 'started_at']); // ['status']
 * ```
 */
export function closestNames(name: string, known: readonly string[], max = 3): string[] {
  const lower = name.toLowerCase();
  const bare = withoutPrefix(lower);
  // Close: a few edits, never as many as the name has letters (that would be any name at all).
  const close = (d: number, s: string): boolean =>
    d <= Math.max(1, Math.floor(s.length / 3)) && d < s.length;
  const scored: { name: string; score: number }[] = [];
  for (const candidate of new Set(known)) {
    const c = candidate.toLowerCase();
    if (c === lower && candidate !== name) {
      scored.push({ name: candidate, score: 0 });
      continue;
    }
    const whole = editDistance(lower, c);
    const suffix = editDistance(bare, withoutPrefix(c));
    // A prefix that was left out or mistaken costs half a letter: the right name with the
    // wrong prefix beats a one-letter typo of a name with the right one.
    const score = Math.min(
      close(whole, lower) ? whole : Infinity,
      close(suffix, bare) ? suffix + 0.5 : Infinity,
      lower.length >= 2 && c.startsWith(lower) ? 1 : Infinity
    );
    if (score !== Infinity) scored.push({ name: candidate, score });
  }
  return scored
    .sort((x, y) => x.score - y.score)
    .slice(0, max)
    .map((s) => s.name);
}

/**
 * The suggestions as the end of a sentence: `; did you mean a, b or c?`, or `.` for none.
 * @param names - the suggestions
 * @param quote - how to write each one @default the name as it is
 * @returns the sentence's end
 * @example
 * ```ts
 * didYouMean(['--all']); // '; did you mean --all?'
 * ```
 */
export function didYouMean(
  names: readonly string[],
  quote: (name: string) => string = (n) => n
): string {
  if (names.length === 0) return '.';
  const q = names.map(quote);
  const list = q.length === 1 ? q[0] : `${q.slice(0, -1).join(', ')} or ${q.at(-1)}`;
  return `; did you mean ${list}?`;
}
