/**
 * @module solve/highs/runtime
 * Loading the optional peer package `highs` (HiGHS compiled to WebAssembly): the package's module
 * on first use, and its runtime once per thread (each worker of the solve pool compiles the
 * WebAssembly once and keeps it). The only module that imports `highs`.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Highs, InitOptions } from 'highs';
import { RunledgerError } from '../../errors.js';

/** A started HiGHS runtime. */
export interface HighsRuntime {
  readonly highs: Highs;
  /** Version of the `highs` npm package (its major.minor is the HiGHS version). */
  readonly version: string;
}

type HighsLoader = (options?: InitOptions) => Promise<Highs>;

let runtimePromise: Promise<HighsRuntime> | undefined;

/**
 * Starts HiGHS once per thread; a failed start is not cached, so a later install is seen.
 * @returns the runtime
 * @throws RunledgerError `DEPENDENCY_MISSING` (no `highs` package), `SOLVER_FAILED` (its
 *   WebAssembly does not start)
 * @example
 * ```ts
 * const { highs, version } = await loadHighsRuntime();
 * ```
 */
export function loadHighsRuntime(): Promise<HighsRuntime> {
  runtimePromise ??= startRuntime().catch((error: unknown) => {
    runtimePromise = undefined;
    throw error;
  });
  return runtimePromise;
}

async function startRuntime(): Promise<HighsRuntime> {
  const loader = await loadHighsModule();
  let highs: Highs;
  try {
    highs = await loader();
  } catch (cause) {
    throw new RunledgerError(
      'SOLVER_FAILED',
      'The "highs" package could not start its WebAssembly runtime.',
      { data: { package: 'highs' }, cause }
    );
  }
  return { highs, version: await packageVersion(highs) };
}

/**
 * Imports the `highs` package (its JavaScript only: no WebAssembly is compiled), so a missing
 * package is reported where the solve was asked for.
 * @returns the package's loader function
 * @throws RunledgerError `DEPENDENCY_MISSING` when the package is not installed
 * @example
 * ```ts
 * await loadHighsModule(); // throws DEPENDENCY_MISSING without `npm install highs`
 * ```
 */
export async function loadHighsModule(): Promise<HighsLoader> {
  try {
    // `highs` types its entry as CommonJS, but Node's `import` condition loads the ES build,
    // whose default export is the loader: accept either shape.
    const mod = (await import('highs')) as unknown as { default: unknown };
    const candidate =
      typeof mod.default === 'function'
        ? mod.default
        : (mod.default as { default?: unknown } | undefined)?.default;
    if (typeof candidate !== 'function') throw new TypeError('highs exports no loader function');
    return candidate as HighsLoader;
  } catch (cause) {
    throw new RunledgerError(
      'DEPENDENCY_MISSING',
      'The HiGHS adapter needs the optional package "highs": run `npm install highs`.',
      { data: { package: 'highs' }, cause }
    );
  }
}

/** The installed `highs` package version, read from its package.json (not in its exports map). */
async function packageVersion(highs: Highs): Promise<string> {
  try {
    const entry = createRequire(import.meta.url).resolve('highs');
    const text = await readFile(new URL('../package.json', pathToFileURL(entry)), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    if (typeof version === 'string') return version;
  } catch {
    // fall through: the native version is the next best thing
  }
  return highs.version.string;
}
