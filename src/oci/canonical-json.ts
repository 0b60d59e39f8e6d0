/**
 * @module oci/canonical-json
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, so equal values always
 * give equal bytes (and equal digests).
 */
import { RunledgerError } from '../errors.js';

/** A value canonical JSON can hold. `undefined` object members are left out. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/**
 * Serializes a value as canonical JSON text.
 *
 * @param value - plain data: null, booleans, finite numbers, strings, arrays, plain objects
 * @returns compact JSON with sorted keys
 * @throws RunledgerError `ARGUMENT_INVALID` for non-finite numbers, bigints, functions, cycles
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: JsonValue): string {
  const parts: string[] = [];
  write(value, parts, new Set());
  return parts.join('');
}

/**
 * Canonical JSON as UTF-8 bytes.
 * @param value - plain data
 * @returns the bytes of {@link canonicalJson}
 * @throws RunledgerError `ARGUMENT_INVALID` as {@link canonicalJson}
 * @example
 * ```ts
 * const bytes = canonicalJsonBytes({ schemaVersion: 2 });
 * ```
 */
export function canonicalJsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function write(value: unknown, out: string[], seen: Set<object>): void {
  if (value === null) {
    out.push('null');
  } else if (typeof value === 'string' || typeof value === 'boolean') {
    out.push(JSON.stringify(value));
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new RunledgerError('ARGUMENT_INVALID', `Number ${value} cannot be written as JSON.`, {
        data: { value: String(value) },
      });
    }
    out.push(JSON.stringify(value));
  } else if (typeof value === 'object') {
    if (seen.has(value)) {
      throw new RunledgerError('ARGUMENT_INVALID', 'A cyclic value cannot be written as JSON.');
    }
    seen.add(value);
    if (Array.isArray(value)) {
      out.push('[');
      // Not forEach: it skips the holes of a sparse array, which JSON writes as null.
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out.push(',');
        const item: unknown = value[i];
        write(item === undefined ? null : item, out, seen);
      }
      out.push(']');
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `A ${proto === undefined ? 'value' : ((proto as { constructor?: { name?: string } }).constructor?.name ?? 'class instance')} cannot be written as canonical JSON; use plain objects.`
        );
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        write(record[k], out, seen);
      });
      out.push('}');
    }
    seen.delete(value);
  } else {
    throw new RunledgerError('ARGUMENT_INVALID', `A ${typeof value} cannot be written as JSON.`, {
      data: { type: typeof value },
    });
  }
}
