/**
 * @module tables/solves
 * The table of solver calls of an experiment (beyond OMMX, which has no solves table): one row
 * per Solve, with what its Solution says and its adapter options as columns.
 */
import type { Table } from 'apache-arrow';
import { typedColumnsTable, type TypedColumn } from './arrow.js';

/** What the solves table reads of a solve's output (an OMMX `Solution` is one). */
export interface SolutionSummary {
  readonly objective: number;
  readonly feasible: boolean;
  readonly optimality: string;
  readonly metadata?: { readonly start?: string; readonly end?: string } | undefined;
}

/** One recorded solve as the solves table reads it (a `SolveView` is one). */
export interface SolveSource {
  readonly id: number;
  readonly adapter: string;
  readonly status: string;
  readonly adapterOptions: Readonly<Record<string, unknown>>;
  /** When the call started and ended (RFC 3339), also for a call without output. */
  readonly startedAt?: string | undefined;
  readonly endedAt?: string | undefined;
  /** @returns the solve's output, or undefined when it has none (a failed solve) */
  getOutput(): Promise<unknown>;
}

type Cell = number | boolean | string | null;

/** How many Solutions are read at once. */
const CONCURRENCY = 8;

/**
 * Builds the solves table: `run_id`, `solve_id`, `adapter`, `status`, `objective`,
 * `feasible`, `optimality`, `started_at`, `ended_at`, `duration_ms` (from the Solution's process
 * metadata; for a failed or interrupted solve, the times recorded with it), then
 * `options.<name>` for every adapter option (in first-appearance order; numbers → float64, or
 * int64 when every value is an integer; booleans → bool; strings → utf8; anything else, or a
 * column mixing types, → its JSON text). Failed solves have null Solution columns.
 * @param runs - run id and its solves, in run id order
 * @returns the Arrow table
 * @throws RunledgerError `DIGEST_MISMATCH`, `PAYLOAD_INVALID` when a stored Solution is damaged
 * @example
 * ```ts
 * const df = await solvesTable(sealed.runs.map((r) => ({ runId: r.runId, solves: r.solves })));
 * ```
 */
export async function solvesTable(
  runs: readonly { readonly runId: number; readonly solves: readonly SolveSource[] }[]
): Promise<Table> {
  const rows = runs.flatMap((r) => r.solves.map((s) => ({ runId: r.runId, solve: s })));
  const outputs: (SolutionSummary | undefined)[] = new Array<SolutionSummary | undefined>(
    rows.length
  );
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const i = next++;
      outputs[i] = (await (rows[i] as (typeof rows)[number]).solve.getOutput()) as
        | SolutionSummary
        | undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, worker));
  const starts = outputs.map((o, i) => o?.metadata?.start ?? rows[i]?.solve.startedAt);
  const ends = outputs.map((o, i) => o?.metadata?.end ?? rows[i]?.solve.endedAt);

  const columns: TypedColumn[] = [
    { name: 'run_id', type: 'int64', values: rows.map((r) => r.runId) },
    { name: 'solve_id', type: 'int64', values: rows.map((r) => r.solve.id) },
    { name: 'adapter', type: 'utf8', values: rows.map((r) => r.solve.adapter) },
    { name: 'status', type: 'utf8', values: rows.map((r) => r.solve.status) },
    { name: 'objective', type: 'float64', values: outputs.map((o) => o?.objective ?? null) },
    { name: 'feasible', type: 'bool', values: outputs.map((o) => o?.feasible ?? null) },
    { name: 'optimality', type: 'utf8', values: outputs.map((o) => o?.optimality ?? null) },
    { name: 'started_at', type: 'utf8', values: starts.map((t) => t ?? null) },
    { name: 'ended_at', type: 'utf8', values: ends.map((t) => t ?? null) },
    {
      name: 'duration_ms',
      type: 'float64',
      values: starts.map((t, i) => durationMs(t, ends[i])),
    },
  ];
  const names: string[] = [];
  for (const r of rows) {
    for (const k of Object.keys(r.solve.adapterOptions)) if (!names.includes(k)) names.push(k);
  }
  for (const name of names) {
    const raw = rows.map((r) =>
      Object.prototype.hasOwnProperty.call(r.solve.adapterOptions, name)
        ? r.solve.adapterOptions[name]
        : undefined
    );
    columns.push(optionColumn(`options.${name}`, raw));
  }
  return typedColumnsTable(columns);
}

function optionColumn(name: string, raw: readonly unknown[]): TypedColumn {
  const present = raw.filter((v) => v !== undefined && v !== null);
  const all = (t: string): boolean => present.every((v) => typeof v === t);
  const cells = (f: (v: unknown) => Cell): Cell[] =>
    raw.map((v) => (v === undefined || v === null ? null : f(v)));
  if (present.length > 0 && all('number')) {
    const ints = present.every((v) => Number.isSafeInteger(v));
    return { name, type: ints ? 'int64' : 'float64', values: cells((v) => v as number) };
  }
  if (present.length > 0 && all('boolean')) {
    return { name, type: 'bool', values: cells((v) => v as boolean) };
  }
  if (all('string')) return { name, type: 'utf8', values: cells((v) => v as string) };
  return { name, type: 'utf8', values: cells((v) => JSON.stringify(v)) };
}

/**
 * Milliseconds from one RFC 3339 time to another, or null when either is missing or unreadable.
 * @param start - RFC 3339 text
 * @param end - RFC 3339 text
 * @returns the duration, or null
 * @example
 * ```ts
 * durationMs('2026-01-01T00:00:00Z', '2026-01-01T00:00:01.5Z'); // 1500
 * ```
 */
export function durationMs(start: string | undefined, end: string | undefined): number | null {
  const a = start === undefined ? NaN : Date.parse(start);
  const b = end === undefined ? NaN : Date.parse(end);
  return Number.isNaN(a) || Number.isNaN(b) ? null : b - a;
}
