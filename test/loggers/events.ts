/**
 * Reading a JSON Lines event log back as a table reader would: every line a JSON object, and each
 * key (top level, and one level down in `params`, `values`, `tags`) of one JSON type across the
 * file, as pandas' `read_json(lines=True)` and DuckDB's `read_json_auto` need to make one column
 * of it.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** One line of the log. */
export type EventLine = Record<string, unknown> & { readonly event: string };

/** A JSON value's type as a table reader sees it (null is a missing value, of any column). */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value; // number, string, boolean, object
}

/**
 * Every line of the file, parsed; the file ends in a newline and has no empty line.
 * @param path - the log
 * @returns the events in file order
 */
export function readEvents(path: string): EventLine[] {
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      const parsed: unknown = JSON.parse(line); // throws on anything that is not JSON
      if (jsonType(parsed) !== 'object' || typeof (parsed as EventLine).event !== 'string') {
        throw new Error(`line ${i + 1} is not an event object: ${line}`);
      }
      return parsed as EventLine;
    });
}

/**
 * The JSON types each column takes, nulls left out: `event`, `params.seed`, `values.loss`…
 * @param events - the lines
 * @returns column → its types
 */
export function columnTypes(events: readonly EventLine[]): Map<string, Set<string>> {
  const types = new Map<string, Set<string>>();
  const add = (column: string, value: unknown): void => {
    const t = jsonType(value);
    if (t === 'null') return;
    const set = types.get(column) ?? new Set<string>();
    set.add(t);
    types.set(column, set);
  };
  for (const e of events) {
    for (const [key, value] of Object.entries(e)) {
      add(key, value);
      if (key === 'params' || key === 'values' || key === 'tags') {
        for (const [k, v] of Object.entries(value as Record<string, unknown>))
          add(`${key}.${k}`, v);
      }
    }
  }
  return types;
}

/**
 * Asserts the log reads as one table: each column of one type, `time` an RFC 3339 UTC instant
 * on every line, `experiment` a string on every line.
 * @param events - the lines
 */
export function expectOneTable(events: readonly EventLine[]): void {
  const mixed = [...columnTypes(events)]
    .filter(([, t]) => t.size > 1)
    .map(([c, t]) => `${c}: ${[...t].join(', ')}`);
  expect(mixed).toEqual([]);
  for (const e of events) {
    expect(e['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(e['time'] as string).toISOString()).toBe(e['time']);
    expect(typeof e['experiment']).toBe('string');
  }
}
