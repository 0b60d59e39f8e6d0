/**
 * @module store/slow-creations
 * When the background blob writer (`store/blob-writer-thread`) flushes the file system because
 * creating files is slow — the reason is told there. Its own module so that it can be tested
 * without starting the thread.
 */

/** A blob taking longer than this to create, over a group, is slow (they take 20–30 µs). */
const SLOW_MICROS = 80;
/** Groups of fewer blobs say too little to act on. */
const MIN_GROUP = 16;
/** A flush helped when the next group's blobs took less than this share of the time. */
const HELPED = 0.6;
/** Slow groups waited out after a flush that did not help: first, and at most. */
const FIRST_WAIT = 4;
const MAX_WAIT = 256;

/**
 * Decides, group after group, when the thread flushes the file system because creating files is
 * slow (why: `store/blob-writer-thread`): after a slow group, unless the last flush did not help,
 * in which case the next waits out {@link FIRST_WAIT} slow groups, twice as many each time it
 * still does not (up to {@link MAX_WAIT}). @internal
 */
export class SlowCreations {
  /** µs a blob in the group that set off the last flush, until the next group is weighed. */
  #flushedAt: number | undefined;
  #wait = 0;
  #waiting = 0;

  /**
   * @param count - blobs in the group
   * @param micros - how long writing them took
   * @returns whether to flush the file system now
   */
  afterGroup(count: number, micros: number): boolean {
    const perBlob = micros / count;
    if (this.#flushedAt !== undefined) {
      if (perBlob < HELPED * this.#flushedAt) this.#wait = 0;
      else {
        this.#wait = this.#wait === 0 ? FIRST_WAIT : Math.min(2 * this.#wait, MAX_WAIT);
        this.#waiting = this.#wait;
      }
      this.#flushedAt = undefined;
    }
    if (count < MIN_GROUP || perBlob <= SLOW_MICROS) return false;
    if (this.#waiting > 0) {
      this.#waiting--;
      return false;
    }
    this.#flushedAt = perBlob;
    return true;
  }
}
