/**
 * Child-process suites run the built package (dist/); this fails loudly when it is missing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DIST_INDEX: string = fileURLToPath(
  new URL('../../dist/src/index.js', import.meta.url)
);

export function requireBuilt(): void {
  if (!existsSync(DIST_INDEX)) {
    throw new Error(`${DIST_INDEX} is missing: run "npm run build" first (npm test does).`);
  }
}
