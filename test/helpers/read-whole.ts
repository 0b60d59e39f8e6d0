/**
 * Reads a committed experiment whole: a store suite's proof that nothing it needs was lost.
 */
import type { SealedExperiment } from '../../src/experiment/sealed.js';

/**
 * Reads every attachment, run record and metric of a committed experiment (digests verified).
 * @returns how many named attachments it read
 */
export async function readWhole(sealed: SealedExperiment): Promise<number> {
  let blobs = 0;
  for (const name of sealed.attachmentNames) {
    await sealed.getBlob(name);
    blobs++;
  }
  for (const run of sealed.runs) {
    await run.getInfo();
    for (const name of run.attachmentNames) {
      await run.getBlob(name);
      blobs++;
    }
    for (const m of await run.metricNames()) await run.getMetric(m);
  }
  return blobs;
}
