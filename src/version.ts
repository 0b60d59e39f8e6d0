/**
 * @module version
 * The installed runledger version, read once from the package's own package.json.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The runledger version (`unknown` if its package.json cannot be found).
 * @returns the version, e.g. `0.1.0`
 * @example
 * ```ts
 * runledgerVersion(); // '0.1.0'
 * ```
 */
export function runledgerVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  // src/ when run from source, dist/src/ when built: the package root is 1 or 2 up.
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'runledger' && pkg.version !== undefined) {
        cached = pkg.version;
        break;
      }
    } catch {
      // not at this level
    }
  }
  return cached;
}
