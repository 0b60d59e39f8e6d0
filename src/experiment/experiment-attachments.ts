/**
 * @module experiment/experiment-attachments
 * An unsealed experiment's own attachments: their writer (one blob batch, pinned by the
 * experiment's session and journaled as they land), their reader, and the flush a checkpoint,
 * a commit or a read of an attachment just written waits for.
 */
import type { BlobBatch } from '../store/blob-batch.js';
import type { LocalRegistry } from '../store/local-registry.js';
import type { StoreSession } from '../store/session.js';
import { AttachmentReader, AttachmentWriter, type AttachmentRecord } from './attachments.js';
import type { Journal } from './journal.js';

/** The experiment-level attachments of an unsealed experiment. */
export class ExperimentAttachments {
  readonly writer: AttachmentWriter;
  readonly reader: AttachmentReader;
  readonly #inflight = new Set<Promise<unknown>>();
  #batch: BlobBatch | undefined;
  readonly #committingBatches = new Set<Promise<unknown>>();

  /**
   * @param init - the experiment's scope name, store, session, journal, write check and the
   *   attachments it continues with
   */
  constructor(init: {
    readonly scope: string;
    readonly registry: LocalRegistry;
    readonly session: StoreSession;
    readonly journal: Journal | undefined;
    readonly assertWritable: () => void;
    readonly seed: readonly AttachmentRecord[];
    /** Called once an attachment is recorded (for observers). */
    readonly recorded?: (record: AttachmentRecord) => void;
  }) {
    const { registry, journal } = init;
    // Blobs of the manifest this experiment continues, which its session pins as a root.
    init.session.covers(init.seed.map((r) => r.descriptor.digest));
    this.writer = new AttachmentWriter(
      init.scope,
      {
        registry,
        batch: () => (this.#batch ??= registry.batch({ session: init.session })),
        flush: () => this.flush(),
        ...(init.recorded === undefined ? {} : { recorded: init.recorded }),
        ...(journal === undefined
          ? {}
          : {
              stored: (record: AttachmentRecord, batch: BlobBatch) =>
                journal.appendWithBlobs({ t: 'eatt', record, at: Date.now() }, batch, [
                  record.descriptor.digest,
                ]),
            }),
      },
      init.assertWritable,
      init.seed
    );
    this.reader = new AttachmentReader(
      init.scope,
      () => this.writer.records,
      registry,
      () => this.flush()
    );
  }

  /**
   * Commits the batch of what was written so far (after the writes in flight land), and waits
   * for any flush started earlier.
   * @returns when every attachment written so far is in the store
   * @throws RunledgerError `IO_ERROR`; the batch is kept for the next flush
   */
  async flush(): Promise<void> {
    // Writes in flight belong to the batch being committed: let them land first.
    await Promise.allSettled([...this.#inflight]);
    const batch = this.#batch;
    this.#batch = undefined;
    // A flush started earlier (a background checkpoint's) may still be publishing what this
    // one's caller wants to read: wait for it too (its own caller handles its failure).
    const others = Promise.allSettled([...this.#committingBatches]);
    if (batch !== undefined) {
      const commit = batch.commit();
      this.#committingBatches.add(commit);
      try {
        await commit;
      } catch (e) {
        this.#batch ??= batch; // kept, not lost: the next flush commits it again
        throw e;
      } finally {
        this.#committingBatches.delete(commit);
      }
    }
    await others;
  }

  /**
   * Keeps track of a write until it lands, so a flush waits for it.
   * @param p - the write
   * @returns `p`
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = (): void => void this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }
}
