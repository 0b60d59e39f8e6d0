/**
 * @module experiment/concurrency
 * A bounded parallel map for reads that the file system answers in parallel (experiments
 * loaded, run records read): the readers of the runs table, the merge and the viewer share it.
 */

/**
 * `f` over the items, at most `limit` at once, results in the items' order. After a failure no
 * further item is started, and the first failure is thrown.
 * @param items - the inputs
 * @param limit - calls in flight at once (at least 1)
 * @param f - the call
 * @returns the results, in the items' order
 * @example
 * ```ts
 * const manifests = await mapConcurrently(refs, 8, (r) => registry.readManifest(r.manifestDigest));
 * ```
 */
export async function mapConcurrently<T, U>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<U>
): Promise<U[]> {
  const out = new Array<U>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await f(items[i] as T);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
