/**
 * Temp directories removed after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

// Retries: a background checkpoint of an experiment the test left unsealed may still be writing.
afterEach(async () => {
  await Promise.all(
    made
      .splice(0)
      .map((d) => rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }))
  );
});

/** A fresh empty directory, removed after the current test. */
export async function tempDir(prefix = 'runledger-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
