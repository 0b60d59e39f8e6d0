/**
 * Asserts a promise (or function) fails with a RunledgerError of a given code.
 */
import { expect } from 'vitest';
import { isRunledgerError, type ErrorCode, type RunledgerError } from '../../src/errors.js';

export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: ErrorCode
): Promise<RunledgerError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (e) {
    caught = e;
  }
  expect(isRunledgerError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  return caught as RunledgerError;
}

/** The synchronous form: `fn` must throw a RunledgerError with `code`. */
export function expectError(fn: () => unknown, code: ErrorCode): RunledgerError {
  try {
    fn();
  } catch (e) {
    expect(isRunledgerError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
    return e as RunledgerError;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
