/**
 * @module store/threads
 * What starting a worker thread of runledger's own takes: the file a thread loads for a module
 * (the compiled copy when runledger runs from its TypeScript sources, as vitest runs `src/`) and
 * the Node options it inherits. The solve pool and the store's background blob writer use it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RunledgerError } from '../errors.js';

/** From the sources (src/store/threads.ts): the folder holding src/ and dist/. */
const PACKAGE_ROOT = new URL('../../', import.meta.url);

/**
 * The file a worker thread can load for a module: the module itself, or, while runledger runs
 * from its TypeScript sources, the compiled copy of one of its own `src/` files.
 * @param module - a module URL
 * @returns the URL to load
 * @throws RunledgerError `DEPENDENCY_MISSING` when the compiled copy does not exist
 * @example
 * ```ts
 * new Worker(runnableModule(new URL('./worker-thread.js', import.meta.url)));
 * ```
 */
export function runnableModule(module: string | URL): URL {
  const url = new URL(module);
  const sources = new URL('src/', PACKAGE_ROOT).href;
  if (!import.meta.url.endsWith('.ts') || !url.href.startsWith(sources)) return url;
  const relative = url.href.slice(PACKAGE_ROOT.href.length).replace(/\.ts$/, '.js');
  const compiled = new URL(`dist/${relative}`, PACKAGE_ROOT);
  if (!existsSync(fileURLToPath(compiled))) {
    throw new RunledgerError(
      'DEPENDENCY_MISSING',
      `Worker threads run compiled JavaScript, and ${fileURLToPath(compiled)} does not exist: run \`npm run build\`.`,
      { data: { module: url.href, compiled: compiled.href } }
    );
  }
  return compiled;
}

/** Node options that describe the main script, which a worker thread refuses to start with. */
const MAIN_SCRIPT_OPTIONS = new Set(['--input-type', '-e', '--eval', '-p', '--print']);

/**
 * The process's Node options a thread inherits (`--import`, `--max-old-space-size`…), less those
 * about the main script: `node --input-type=module -e '…'` must be able to start threads too.
 * @param execArgv - the process's options (`process.execArgv`)
 * @returns the thread's
 */
export function threadExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    const name = arg.split('=')[0] as string;
    if (!MAIN_SCRIPT_OPTIONS.has(name)) out.push(arg);
    else if (!arg.includes('=')) i++; // its value is the next argument
  }
  return out;
}
