/**
 * The package's root entry as the README's snippets import it (`'runledger'`), with the loggers,
 * which src/index.ts is to export.
 */
export * from '../../src/index.js';
export { asLogger, CompositeLogger, CompositeRun } from '../../src/loggers/composite.js';
export { ConsoleLogger } from '../../src/loggers/console.js';
export { JsonlLogger } from '../../src/loggers/jsonl.js';
