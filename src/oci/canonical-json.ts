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
  return write(value, new Set());
}

const encoder = new TextEncoder();

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
  return encoder.encode(canonicalJson(value));
}

// One string built by concatenation (V8 ropes) and plain loops: a run record and a manifest are
// written on every run close, so this is on the recording path.
function write(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new RunledgerError('ARGUMENT_INVALID', `Number ${value} cannot be written as JSON.`, {
          data: { value: String(value) },
        });
      }
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new RunledgerError('ARGUMENT_INVALID', `A ${typeof value} cannot be written as JSON.`, {
        data: { type: typeof value },
      });
  }
  if (seen.has(value)) {
    throw new RunledgerError('ARGUMENT_INVALID', 'A cyclic value cannot be written as JSON.');
  }
  seen.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    // Not forEach: it skips the holes of a sparse array, which JSON writes as null.
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i > 0 ? ',' : '') + write(item === undefined ? null : item, seen);
    }
    out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `A ${proto === undefined ? 'value' : ((proto as { constructor?: { name?: string } }).constructor?.name ?? 'class instance')} cannot be written as canonical JSON; use plain objects.`
      );
    }
    const record = value as Record<string, unknown>;
    // Default sort: by UTF-16 code units, as canonical JSON wants.
    const keys = Object.keys(record).sort();
    out = '{';
    for (const k of keys) {
      const v = record[k];
      if (v === undefined) continue;
      out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + write(v, seen);
    }
    out += '}';
  }
  seen.delete(value);
  return out;
}
