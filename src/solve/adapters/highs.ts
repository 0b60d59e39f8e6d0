/**
 * @module solve/adapters/highs
 * The HiGHS solver adapter: turns an Instance into HiGHS's sparse-array model, runs HiGHS (the
 * optional `highs` package, WebAssembly), and evaluates HiGHS's answer into a Solution. The
 * only module that touches `highs`.
 *
 * Why the persistent array API (`model.passModel(modelData)`) and not the one-shot
 * `highs.solve(lpText)`: measured on a random LP with 100,000 columns, 100,000 rows and 3
 * nonzeros per row (highs 1.15.3, Node 20), loading the arrays took 0.2 s and the solve 1.8 s,
 * while writing the same model as LP text took 0.5 s and `solve(text)` 2.7 s (parsing, then
 * results keyed by column name). The array API also has no names or number formatting to get
 * wrong, takes a Hessian, and reports solution statuses and row duals.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type {
  Highs,
  HessianInput,
  InitOptions,
  Model,
  ModelData,
  OptionValue,
  VariableType,
} from 'highs';
import { RunledgerError } from '../../errors.js';
import type { Instance } from '../../ommx/instance.js';
import type { Solution } from '../../ommx/solution.js';
import type {
  EvaluatedConstraintData,
  FunctionData,
  ProcessMetadata,
  SolutionData,
  State,
} from '../../ommx/types.js';
import type { PreparedSolve, SolveContext, SolverAdapter } from '../adapter.js';

/**
 * Options of {@link HighsAdapter}. Plain JSON data: the experiment records them as JSON. Each
 * is checked before anything is solved; a bad one is `ARGUMENT_INVALID` naming it.
 *
 * @example
 * ```ts
 * const options: HighsOptions = {
 *   timeLimit: 60,
 *   mipGap: 1e-3,
 *   presolve: 'on',
 *   highs: { random_seed: 7 },
 * };
 * ```
 */
export interface HighsOptions {
  /** Wall-clock limit in seconds (HiGHS `time_limit`); finite and > 0. */
  readonly timeLimit?: number;
  /** Relative MIP gap at which HiGHS stops (HiGHS `mip_rel_gap`); finite and ≥ 0. */
  readonly mipGap?: number;
  /** HiGHS `presolve`: `true` = `'on'`, `false` = `'off'`; default `'choose'`. */
  readonly presolve?: boolean | 'on' | 'off' | 'choose';
  /**
   * HiGHS `threads`. The WebAssembly build runs on one thread, so only `0` (automatic) and `1`
   * are accepted; anything larger is refused rather than silently recorded.
   */
  readonly threads?: number;
  /**
   * Any other native HiGHS option by its snake_case name, passed through as is (e.g.
   * `{ random_seed: 7, mip_max_nodes: 1000 }`). Checked against HiGHS's option table before
   * solving. Names set by the options above are not allowed here.
   */
  readonly highs?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What {@link HighsAdapter.prepare} hands over for a solve driven by hand: the model in HiGHS's
 * array form and the native options to set before `run()`.
 *
 * @example
 * ```ts
 * const { solverInput, decode } = await HighsAdapter.prepare(instance, { timeLimit: 5 });
 * const model = highs.createModel(solverInput.model);
 * try {
 *   model.options.set(solverInput.options);
 *   model.run();
 *   solution = await decode(model);
 * } finally {
 *   model.dispose();
 * }
 * ```
 */
export interface HighsModelInput {
  /** Columns are the instance's decision variables in ascending id order; rows its active constraints. */
  readonly model: ModelData;
  /** Native HiGHS option names and values (`output_flag: false` first, then the mapped options). */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Variable id of each column. */
  readonly columnIds: readonly number[];
  /** Constraint id of each row. */
  readonly rowIds: readonly number[];
}

/**
 * What {@link HighsAdapter}'s `decode` reads: a HiGHS `Model` after `run()` satisfies it (only
 * these members are used, so a recorded result can be replayed through a plain object too).
 *
 * @example
 * ```ts
 * const output: HighsRawOutput = {
 *   getModelStatus: () => 7, // Optimal
 *   getSolution: () => ({ colValue: [4, 0], rowDual: [3, 0] }),
 *   info: { get: () => 2 }, // primal and dual solutions feasible
 * };
 * const solution = await decode(output);
 * ```
 */
export interface HighsRawOutput {
  /** HiGHS model status code (`highs.constants.modelStatus`). */
  getModelStatus(): number;
  /** Primal column values and row duals. */
  getSolution(): { readonly colValue?: ArrayLike<number>; readonly rowDual?: ArrayLike<number> };
  /** Solve information; `primal_solution_status` and `dual_solution_status` are read. */
  readonly info: { get(name: string): number | bigint };
}

/**
 * The adapter's type: a {@link SolverAdapter} whose `prepare` is always present.
 *
 * @example
 * ```ts
 * const adapter: HighsSolverAdapter = HighsAdapter;
 * await adapter.prepare(instance, {});
 * ```
 */
export interface HighsSolverAdapter
  extends SolverAdapter<HighsOptions, HighsModelInput, HighsRawOutput> {
  /**
   * Solves the instance with HiGHS.
   * @param instance - the problem (a private copy)
   * @param options - {@link HighsOptions}
   * @param context - `signal` (checked before the solve starts: HiGHS runs synchronously and
   *   cannot be interrupted from JavaScript), `diagnostics` (receives one termination report)
   * @returns the Solution, with `metadata` (solver, parameters, start, end)
   * @throws RunledgerError `ARGUMENT_INVALID` (an option, or a function naming an unknown
   *   variable), `UNSUPPORTED_INSTANCE`, `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`,
   *   `SOLVER_FAILED`, `DEPENDENCY_MISSING` (no `highs` package), `ABORTED`
   */
  solve(instance: Instance, options: HighsOptions, context?: SolveContext): Promise<Solution>;
  /**
   * Builds the HiGHS model without solving.
   * @param instance - the problem (a private copy)
   * @param options - {@link HighsOptions}
   * @param context - `signal`
   * @returns the model input and a `decode` that takes the HiGHS model after `run()` (and
   *   throws `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED` or `SOLVER_FAILED` as `solve` does;
   *   its Solution's metadata has no `start`/`end`, which only the caller knows)
   * @throws RunledgerError `ARGUMENT_INVALID`, `UNSUPPORTED_INSTANCE`, `DEPENDENCY_MISSING`,
   *   `ABORTED`
   */
  prepare(
    instance: Instance,
    options: HighsOptions,
    context?: SolveContext
  ): Promise<PreparedSolve<HighsModelInput, HighsRawOutput>>;
}

/**
 * The HiGHS solver adapter (LP, MIP, convex continuous QP), on the optional peer package
 * `highs`, loaded on first use.
 *
 * Instance → HiGHS:
 * - sense `maximize` → maximize; `minimize` and `unspecified` → minimize (OMMX reads an
 *   unspecified v1 sense as minimize);
 * - every decision variable becomes a column, used or not, in ascending id order — except
 *   variables defined by `decisionVariableDependency`, which the Solution computes from the
 *   others; a `substitutedValue` fixes the column (lower = upper = value); an absent bound is
 *   (−∞, ∞); `binary` is an integer column with the bound intersected with [0, 1];
 *   `semi-continuous` / `semi-integer` map to HiGHS's semi-continuous / semi-integer columns
 *   (0, or within the bound);
 * - each active constraint becomes a row: `f(x) = 0` → `−c ≤ a·x ≤ −c`, `f(x) ≤ 0` →
 *   `a·x ≤ −c` (c the constant term); removed constraints are not given to HiGHS;
 * - the objective may be linear or quadratic (`½xᵀQx + cᵀx`, the constant as offset);
 *   quadratic only over continuous columns (HiGHS has no MIQP).
 *
 * HiGHS → Solution: the column values form the state (values of integer columns within 1e-6
 * of an integer are rounded to it, and −0 becomes 0, so the state is exact and encodes
 * canonically), `instance.evaluate(state)` computes objective and constraints, then
 * `optimality` is `optimal` for HiGHS `Optimal` (and `Empty`: nothing to optimize) and
 * `not-optimal` when a limit (time, iterations, objective bound/target, solutions) or an
 * interrupt stopped HiGHS with a feasible primal solution. For continuous models with a
 * feasible dual solution, each constraint gets HiGHS's row dual as `dualVariable` (HiGHS's
 * sign convention, as OMMX's adapter). `metadata` records the solver and version, the options
 * as JSON, and the wall clock around the solve.
 *
 * Statuses: `Infeasible` → `SOLVER_INFEASIBLE`; `Unbounded` → `SOLVER_UNBOUNDED`;
 * `Primal infeasible or unbounded` (presolve could not tell which) → `solve()` runs HiGHS once
 * more with presolve off, which settles LPs; if HiGHS still cannot tell (or in `decode`), it
 * is `SOLVER_UNBOUNDED` with `data.status` saying so — the instance has no finite optimum
 * either way; any other status without a feasible primal solution → `SOLVER_FAILED`.
 *
 * HiGHS runs synchronously and blocks the event loop for the length of the solve; run it in a
 * worker to keep a process responsive.
 *
 * @throws RunledgerError from `solve`/`prepare`: `ARGUMENT_INVALID`, `UNSUPPORTED_INSTANCE`,
 *   `SOLVER_INFEASIBLE`, `SOLVER_UNBOUNDED`, `SOLVER_FAILED`, `DEPENDENCY_MISSING`, `ABORTED`
 *
 * @example
 * ```ts
 * const solution = await HighsAdapter.solve(instance, { timeLimit: 20, mipGap: 1e-4 });
 * solution.objective; solution.optimality; solution.state;
 * ```
 */
export const HighsAdapter: HighsSolverAdapter = {
  name: 'runledger.adapters.highs.HighsAdapter',

  async solve(instance, options, context = {}) {
    const native = parseOptions(options);
    throwIfAborted(context.signal);
    const runtime = await loadRuntime();
    const model = runtime.highs.createModel();
    try {
      // Options first: a rejected option is reported before the instance is looked at.
      applyOptions(model, native);
      const conversion = convertInstance(instance, runtime.highs);
      throwIfAborted(context.signal);
      passModel(model, conversion.model);
      const start = new Date();
      let status = runModel(model);
      let presolveRetried = false;
      if (status === STATUS_UNBOUNDED_OR_INFEASIBLE && native.values['presolve'] !== 'off') {
        // Presolve could not tell infeasible from unbounded; HiGHS's advice is to solve again
        // without it, which settles it for LPs (the time limit is cumulative across runs).
        model.options.set('presolve', 'off');
        model.clearSolver();
        status = runModel(model);
        presolveRetried = true;
      }
      const end = new Date();
      context.diagnostics?.record(terminationReport(model, status, presolveRetried));
      return decodeOutput(instance, conversion, model, {
        ...solverMetadata(runtime.version, options),
        start: start.toISOString(),
        end: end.toISOString(),
      });
    } finally {
      model.dispose();
    }
  },

  async prepare(instance, options, context = {}) {
    const native = parseOptions(options);
    throwIfAborted(context.signal);
    const runtime = await loadRuntime();
    checkNativeOptions(runtime.highs, native);
    const conversion = convertInstance(instance, runtime.highs);
    const metadata = solverMetadata(runtime.version, options);
    return {
      solverInput: {
        model: conversion.model,
        options: native.values,
        columnIds: conversion.columnIds,
        rowIds: conversion.rowIds,
      },
      decode: (output: HighsRawOutput) => decodeOutput(instance, conversion, output, metadata),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Loading `highs`

interface Runtime {
  readonly highs: Highs;
  /** Version of the `highs` npm package (its major.minor is the HiGHS version). */
  readonly version: string;
}

type HighsLoader = (options?: InitOptions) => Promise<Highs>;

let runtimePromise: Promise<Runtime> | undefined;

/** Loads `highs` once per process; a failed load is not cached, so a later install is seen. */
function loadRuntime(): Promise<Runtime> {
  runtimePromise ??= startRuntime().catch((error: unknown) => {
    runtimePromise = undefined;
    throw error;
  });
  return runtimePromise;
}

async function startRuntime(): Promise<Runtime> {
  let loader: HighsLoader;
  try {
    // `highs` types its entry as CommonJS, but Node's `import` condition loads the ES build,
    // whose default export is the loader: accept either shape.
    const mod = (await import('highs')) as unknown as { default: unknown };
    const candidate =
      typeof mod.default === 'function'
        ? mod.default
        : (mod.default as { default?: unknown } | undefined)?.default;
    if (typeof candidate !== 'function') throw new TypeError('highs exports no loader function');
    loader = candidate as HighsLoader;
  } catch (cause) {
    throw new RunledgerError(
      'DEPENDENCY_MISSING',
      'The HiGHS adapter needs the optional package "highs": run `npm install highs`.',
      { data: { package: 'highs' }, cause }
    );
  }
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

// ---------------------------------------------------------------------------------------------
// Options

const OPTION_KEYS = new Set(['timeLimit', 'mipGap', 'presolve', 'threads', 'highs']);

/** Native options, and for each the option the caller wrote (for messages). */
interface NativeOptions {
  readonly values: Readonly<Record<string, OptionValue>>;
  readonly origin: Readonly<Record<string, string>>;
}

/** Validates {@link HighsOptions} and maps them to native HiGHS options. */
function parseOptions(options: unknown): NativeOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption('options', options, 'an object');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `The HiGHS adapter has no option "${key}" (native HiGHS options go in \`highs\`).`,
        { data: { option: key } }
      );
    }
  }
  const native: Record<string, OptionValue> = { output_flag: false };
  const origin: Record<string, string> = { output_flag: 'output_flag' };
  const { timeLimit, mipGap, presolve, threads, highs } = o;
  if (timeLimit !== undefined) {
    if (typeof timeLimit !== 'number' || !Number.isFinite(timeLimit) || timeLimit <= 0) {
      throw invalidOption('timeLimit', timeLimit, 'a finite number of seconds > 0');
    }
    native['time_limit'] = timeLimit;
    origin['time_limit'] = 'timeLimit';
  }
  if (mipGap !== undefined) {
    if (typeof mipGap !== 'number' || !Number.isFinite(mipGap) || mipGap < 0) {
      throw invalidOption('mipGap', mipGap, 'a finite number ≥ 0');
    }
    native['mip_rel_gap'] = mipGap;
    origin['mip_rel_gap'] = 'mipGap';
  }
  if (presolve !== undefined) {
    if (presolve === true || presolve === false) native['presolve'] = presolve ? 'on' : 'off';
    else if (presolve === 'on' || presolve === 'off' || presolve === 'choose') {
      native['presolve'] = presolve;
    } else throw invalidOption('presolve', presolve, "a boolean, 'on', 'off' or 'choose'");
    origin['presolve'] = 'presolve';
  }
  if (threads !== undefined) {
    if (threads !== 0 && threads !== 1) {
      throw invalidOption(
        'threads',
        threads,
        '0 or 1 (the WebAssembly build of HiGHS runs on one thread)'
      );
    }
  }
  if (highs !== undefined) {
    if (typeof highs !== 'object' || highs === null || Array.isArray(highs)) {
      throw invalidOption('highs', highs, 'an object of HiGHS option names to values');
    }
    for (const [name, value] of Object.entries(highs as Record<string, unknown>)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) {
        throw invalidOption(`highs.${name}`, value, 'a snake_case HiGHS option name');
      }
      if (name in native) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `The HiGHS option "highs.${name}" is already set by the adapter's own options; set it once.`,
          { data: { option: `highs.${name}` } }
        );
      }
      const ok =
        typeof value === 'string' ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value));
      if (!ok) throw invalidOption(`highs.${name}`, value, 'a string, boolean or finite number');
      native[name] = value as OptionValue;
      origin[name] = `highs.${name}`;
    }
  }
  return { values: native, origin };
}

function invalidOption(option: string, value: unknown, expected: string): RunledgerError {
  return new RunledgerError(
    'ARGUMENT_INVALID',
    `The HiGHS option ${option} must be ${expected}, got ${describeValue(value)}.`,
    { data: { option } }
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Checks native options against HiGHS's option table on a scratch model. */
function checkNativeOptions(highs: Highs, native: NativeOptions): void {
  const scratch = highs.createModel();
  try {
    applyOptions(scratch, native);
  } finally {
    scratch.dispose();
  }
}

/** Sets options one by one so a rejection names its option. */
function applyOptions(model: Model, native: NativeOptions): void {
  for (const [name, value] of Object.entries(native.values)) {
    try {
      model.options.set(name, value);
    } catch (cause) {
      const option = native.origin[name] ?? `highs.${name}`;
      throw nativeOptionError(model, option, name, value, cause);
    }
  }
}

function nativeOptionError(
  model: Model,
  option: string,
  name: string,
  value: OptionValue,
  cause: unknown
): RunledgerError {
  let expected: string;
  if ((cause as { name?: unknown } | null)?.name === 'HighsUnsupportedOptionError') {
    expected = 'an option this WebAssembly build of HiGHS lets callers set (it does not)';
  } else {
    try {
      const d = model.options.describe(name);
      const range =
        d.minimum !== undefined && d.maximum !== undefined
          ? ` in [${d.minimum}, ${d.maximum}]`
          : '';
      expected = `a valid ${d.type}${range}`;
    } catch {
      expected = 'the name of a HiGHS option (HiGHS has none of that name)';
    }
  }
  return new RunledgerError(
    'ARGUMENT_INVALID',
    `The HiGHS option ${option} must be ${expected}, got ${describeValue(value)}.`,
    { data: { option, value }, cause }
  );
}

// ---------------------------------------------------------------------------------------------
// Instance → HiGHS model

interface Conversion {
  readonly model: ModelData;
  /** Variable id of each column. */
  readonly columnIds: readonly number[];
  /** 1 for columns whose values are integers (integer, binary, semi-integer). */
  readonly integerColumns: Uint8Array;
  /** 1 for columns of variables with a `substitutedValue`. */
  readonly fixedColumns: Uint8Array;
  /** Constraint id of each row. */
  readonly rowIds: readonly number[];
  /** Some column is not continuous: HiGHS runs its MIP solver, which has no duals. */
  readonly isMip: boolean;
  /** A constraint without variables that fails (HiGHS's `Empty` status does not check rows). */
  readonly violatedConstantRow?: number;
}

/** The function being converted, for messages and error data. */
interface Owner {
  /** `Constraint 3`, `The objective`. */
  readonly label: string;
  readonly data: Readonly<Record<string, number | string>>;
}

const OBJECTIVE: Owner = { label: 'The objective', data: { function: 'objective' } };

/** Monomials of degree ≤ 2 of one function; repeats allowed (summed later). */
interface Terms {
  constant: number;
  readonly linearIds: number[];
  readonly linearCoefficients: number[];
  readonly quadraticA: number[];
  readonly quadraticB: number[];
  readonly quadraticCoefficients: number[];
}

const KIND_TYPE: Readonly<Record<string, VariableType>> = {
  continuous: 0,
  integer: 1,
  binary: 1,
  'semi-continuous': 2,
  'semi-integer': 3,
};

function convertInstance(instance: Instance, highs: Highs): Conversion {
  const columns = buildColumns(instance);
  const rows = buildRows(instance, columns);
  const { numCols, integrality, isMip } = columns;

  const objective = collectTerms(instance.objective, OBJECTIVE);
  const colCost = new Float64Array(numCols);
  for (let k = 0; k < objective.linearIds.length; k++) {
    colCost[columns.lookup(objective.linearIds[k]!, OBJECTIVE)]! +=
      objective.linearCoefficients[k]!;
  }
  const hessian = buildHessian(objective, columns);
  if (hessian !== undefined && isMip) {
    const col = integrality.findIndex((type) => type !== 0);
    const v = instance.variable(columns.columnIds[col]!)!;
    throw new RunledgerError(
      'UNSUPPORTED_INSTANCE',
      `The objective is quadratic and decision variable ${v.id} is ${v.kind}; HiGHS solves quadratic objectives over continuous variables only.`,
      { data: { function: 'objective', degree: 2, variableId: v.id, kind: v.kind } }
    );
  }

  const numRows = rows.rowIds.length;
  const model: ModelData = {
    numCols,
    numRows,
    sense:
      instance.sense === 'maximize'
        ? highs.constants.objectiveSense.maximize
        : highs.constants.objectiveSense.minimize,
    offset: objective.constant,
    colCost,
    colLower: columns.colLower,
    colUpper: columns.colUpper,
    rowLower: Float64Array.from(rows.rowLower),
    rowUpper: Float64Array.from(rows.rowUpper),
    matrix: {
      format: 'csr',
      numRows,
      numCols,
      starts: Int32Array.from(rows.starts),
      indices: Int32Array.from(rows.indices),
      values: Float64Array.from(rows.values),
    },
    ...(isMip ? { integrality } : {}),
    ...(hessian !== undefined ? { hessian } : {}),
  };
  return {
    model,
    columnIds: columns.columnIds,
    integerColumns: columns.integerColumns,
    fixedColumns: columns.fixedColumns,
    rowIds: rows.rowIds,
    isMip,
    ...(rows.violatedConstantRow !== undefined
      ? { violatedConstantRow: rows.violatedConstantRow }
      : {}),
  };
}

interface Columns {
  readonly numCols: number;
  readonly columnIds: readonly number[];
  readonly colLower: Float64Array;
  readonly colUpper: Float64Array;
  readonly integrality: Int32Array;
  readonly integerColumns: Uint8Array;
  readonly fixedColumns: Uint8Array;
  readonly isMip: boolean;
  /** The column of a variable used by `owner`; throws for unknown and dependent variables. */
  lookup(id: number, owner: Owner): number;
}

/** One column per decision variable, in ascending id order, dependent variables excepted. */
function buildColumns(instance: Instance): Columns {
  const dependent = instance.decisionVariableDependency;
  const columnIds: number[] = [];
  const columnOf = new Map<number, number>();
  for (const v of instance.decisionVariables) {
    if (dependent.has(v.id)) continue;
    columnOf.set(v.id, columnIds.length);
    columnIds.push(v.id);
  }
  const numCols = columnIds.length;
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const integrality = new Int32Array(numCols);
  const integerColumns = new Uint8Array(numCols);
  const fixedColumns = new Uint8Array(numCols);
  let isMip = false;
  for (const v of instance.decisionVariables) {
    const col = columnOf.get(v.id);
    if (col === undefined) continue;
    const type = KIND_TYPE[v.kind];
    if (type === undefined) {
      throw new RunledgerError(
        'UNSUPPORTED_INSTANCE',
        `Decision variable ${v.id} has kind "${v.kind}", which HiGHS cannot take.`,
        { data: { variableId: v.id, kind: v.kind } }
      );
    }
    let lower = v.bound?.lower ?? -Infinity;
    let upper = v.bound?.upper ?? Infinity;
    if (v.kind === 'binary') {
      lower = Math.max(lower, 0);
      upper = Math.min(upper, 1);
    }
    if (v.substitutedValue !== undefined) {
      lower = upper = v.substitutedValue;
      fixedColumns[col] = 1;
    }
    colLower[col] = lower;
    colUpper[col] = upper;
    integrality[col] = type;
    if (type !== 0) isMip = true;
    if (type === 1 || type === 3) integerColumns[col] = 1;
  }

  const lookup = (id: number, owner: Owner): number => {
    const col = columnOf.get(id);
    if (col !== undefined) return col;
    if (dependent.has(id)) {
      throw new RunledgerError(
        'UNSUPPORTED_INSTANCE',
        `${owner.label} uses decision variable ${id}, which is defined by decisionVariableDependency; substitute it before solving.`,
        { data: { ...owner.data, variableId: id } }
      );
    }
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `${owner.label} uses variable ${id}, which is not a decision variable of the instance.`,
      { data: { ...owner.data, variableId: id } }
    );
  };
  return {
    numCols,
    columnIds,
    colLower,
    colUpper,
    integrality,
    integerColumns,
    fixedColumns,
    isMip,
    lookup,
  };
}

interface Rows {
  readonly starts: number[];
  readonly indices: number[];
  readonly values: number[];
  readonly rowLower: number[];
  readonly rowUpper: number[];
  readonly rowIds: number[];
  /** The first constraint without variables that does not hold. */
  violatedConstantRow: number | undefined;
}

/** One CSR row per active constraint, in the instance's order. */
function buildRows(instance: Instance, columns: Columns): Rows {
  // A dense accumulator stamped with the row index merges repeated ids in O(terms).
  const accumulator = new Float64Array(columns.numCols);
  const stamp = new Int32Array(columns.numCols).fill(-1);
  const touched: number[] = [];
  const rows: Rows = {
    starts: [0],
    indices: [],
    values: [],
    rowLower: [],
    rowUpper: [],
    rowIds: [],
    violatedConstantRow: undefined,
  };
  for (const c of instance.constraints) {
    const owner: Owner = { label: `Constraint ${c.id}`, data: { constraintId: c.id } };
    if (c.equality !== 'equal-to-zero' && c.equality !== 'less-than-or-equal-to-zero') {
      throw new RunledgerError(
        'UNSUPPORTED_INSTANCE',
        `${owner.label} has equality "${c.equality}"; HiGHS takes "= 0" and "≤ 0" constraints only.`,
        { data: { constraintId: c.id, equality: c.equality } }
      );
    }
    const terms = collectTerms(c.function, owner);
    if (terms.quadraticCoefficients.length > 0) {
      throw new RunledgerError(
        'UNSUPPORTED_INSTANCE',
        `${owner.label} is quadratic; HiGHS takes linear constraints only.`,
        { data: { constraintId: c.id, degree: 2 } }
      );
    }
    const row = rows.rowIds.length;
    const first = rows.indices.length;
    touched.length = 0;
    for (let k = 0; k < terms.linearIds.length; k++) {
      const col = columns.lookup(terms.linearIds[k]!, owner);
      const coefficient = terms.linearCoefficients[k]!;
      if (stamp[col] !== row) {
        stamp[col] = row;
        accumulator[col] = coefficient;
        touched.push(col);
      } else accumulator[col]! += coefficient;
    }
    for (const col of touched) {
      const coefficient = accumulator[col]!;
      if (coefficient === 0) continue;
      rows.indices.push(col);
      rows.values.push(coefficient);
    }
    rows.starts.push(rows.indices.length);
    const rhs = -terms.constant;
    const lower = c.equality === 'equal-to-zero' ? rhs : -Infinity;
    rows.rowLower.push(lower);
    rows.rowUpper.push(rhs);
    rows.rowIds.push(c.id);
    // A row without entries holds iff 0 is within its bounds (HiGHS's default tolerance).
    const empty = rows.indices.length === first;
    if (empty && rows.violatedConstantRow === undefined && (lower > 1e-7 || rhs < -1e-7)) {
      rows.violatedConstantRow = c.id;
    }
  }
  return rows;
}

/** Splits a function into its monomials of degree ≤ 2; a higher degree is unsupported. */
function collectTerms(fn: FunctionData, owner: Owner): Terms {
  const terms: Terms = {
    constant: 0,
    linearIds: [],
    linearCoefficients: [],
    quadraticA: [],
    quadraticB: [],
    quadraticCoefficients: [],
  };
  switch (fn.kind) {
    case 'constant':
      terms.constant = fn.constant;
      break;
    case 'linear':
      terms.constant = fn.constant;
      for (const t of fn.terms) addLinear(terms, t.id, t.coefficient);
      break;
    case 'quadratic':
      for (let k = 0; k < fn.values.length; k++) {
        addQuadratic(terms, fn.rows[k]!, fn.columns[k]!, fn.values[k]!);
      }
      if (fn.linear !== undefined) {
        terms.constant = fn.linear.constant;
        for (const t of fn.linear.terms) addLinear(terms, t.id, t.coefficient);
      }
      break;
    case 'polynomial':
      for (const m of fn.terms) {
        if (m.coefficient === 0) continue;
        if (m.ids.length === 0) terms.constant += m.coefficient;
        else if (m.ids.length === 1) addLinear(terms, m.ids[0]!, m.coefficient);
        else if (m.ids.length === 2) addQuadratic(terms, m.ids[0]!, m.ids[1]!, m.coefficient);
        else {
          throw new RunledgerError(
            'UNSUPPORTED_INSTANCE',
            `${owner.label} has degree ${m.ids.length}; HiGHS takes linear constraints and a linear or quadratic objective only.`,
            { data: { ...owner.data, degree: m.ids.length } }
          );
        }
      }
      break;
  }
  return terms;
}

function addLinear(terms: Terms, id: number, coefficient: number): void {
  if (coefficient === 0) return;
  terms.linearIds.push(id);
  terms.linearCoefficients.push(coefficient);
}

function addQuadratic(terms: Terms, a: number, b: number, coefficient: number): void {
  if (coefficient === 0) return;
  terms.quadraticA.push(a);
  terms.quadraticB.push(b);
  terms.quadraticCoefficients.push(coefficient);
}

/**
 * HiGHS minimizes `½xᵀQx + cᵀx`: a term `a·xᵢ·xⱼ` (i ≠ j) puts `a` at Q[i][j] and Q[j][i], a
 * term `a·xᵢ²` puts `2a` at Q[i][i]. Stored as the lower triangle, compressed by column.
 */
function buildHessian(terms: Terms, columns: Columns): HessianInput | undefined {
  if (terms.quadraticCoefficients.length === 0) return undefined;
  const { numCols, lookup } = columns;
  const entries = new Map<number, number>();
  for (let k = 0; k < terms.quadraticCoefficients.length; k++) {
    const i = lookup(terms.quadraticA[k]!, OBJECTIVE);
    const j = lookup(terms.quadraticB[k]!, OBJECTIVE);
    const coefficient = terms.quadraticCoefficients[k]!;
    const col = Math.min(i, j);
    const row = Math.max(i, j);
    const key = col * numCols + row; // < 2^53 for any column count HiGHS accepts (2^31)
    entries.set(key, (entries.get(key) ?? 0) + (i === j ? 2 * coefficient : coefficient));
  }
  const keys = [...entries.keys()].filter((key) => entries.get(key) !== 0).sort((a, b) => a - b);
  if (keys.length === 0) return undefined;
  const starts = new Int32Array(numCols + 1);
  const indices = new Int32Array(keys.length);
  const values = new Float64Array(keys.length);
  keys.forEach((key, k) => {
    const col = Math.floor(key / numCols);
    indices[k] = key - col * numCols;
    values[k] = entries.get(key)!;
    starts[col + 1]!++;
  });
  for (let col = 0; col < numCols; col++) starts[col + 1]! += starts[col]!;
  return { format: 'triangular', dimension: numCols, starts, indices, values };
}

function passModel(model: Model, data: ModelData): void {
  try {
    model.passModel(data);
  } catch (cause) {
    throw new RunledgerError(
      'UNSUPPORTED_INSTANCE',
      `HiGHS refused the model built from the instance: ${errorMessage(cause)}.`,
      { data: { numCols: data.numCols, numRows: data.numRows }, cause }
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Running and decoding

/** `highs.constants.modelStatus` codes, named as HiGHS prints them. */
const STATUS_NAMES: readonly string[] = [
  'Not Set',
  'Load error',
  'Model error',
  'Presolve error',
  'Solve error',
  'Postsolve error',
  'Empty',
  'Optimal',
  'Infeasible',
  'Primal infeasible or unbounded',
  'Unbounded',
  'Bound on objective reached',
  'Target for objective reached',
  'Time limit reached',
  'Iteration limit reached',
  'Unknown',
  'Solution limit reached',
  'Interrupted',
];
const STATUS_EMPTY = 6;
const STATUS_OPTIMAL = 7;
const STATUS_INFEASIBLE = 8;
const STATUS_UNBOUNDED_OR_INFEASIBLE = 9;
const STATUS_UNBOUNDED = 10;
/** Limits and interrupts: the answer is usable when HiGHS holds a feasible primal solution. */
const STATUS_STOPPED = new Set([11, 12, 13, 14, 15, 16, 17]);
const SOLUTION_FEASIBLE = 2;
/** Integer columns within this distance of an integer are rounded to it. */
const INTEGRALITY_TOLERANCE = 1e-6;

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status ${status}`;
}

function runModel(model: Model): number {
  try {
    return model.run().modelStatus;
  } catch (cause) {
    // HiGHS returns an error status for, e.g., a non-convex QP.
    throw new RunledgerError('SOLVER_FAILED', `HiGHS failed: ${errorMessage(cause)}.`, {
      data: { status: 'Solve error' },
      cause,
    });
  }
}

function decodeOutput(
  instance: Instance,
  conversion: Conversion,
  output: HighsRawOutput,
  metadata: ProcessMetadata
): Solution {
  const status = output.getModelStatus();
  const subject = instanceSubject(instance);
  const data = { status: statusName(status), modelStatus: status };
  if (status === STATUS_INFEASIBLE) {
    throw new RunledgerError('SOLVER_INFEASIBLE', `HiGHS proved ${subject} infeasible.`, {
      data,
    });
  }
  if (status === STATUS_UNBOUNDED) {
    throw new RunledgerError('SOLVER_UNBOUNDED', `HiGHS proved ${subject} unbounded.`, { data });
  }
  if (status === STATUS_UNBOUNDED_OR_INFEASIBLE) {
    throw new RunledgerError(
      'SOLVER_UNBOUNDED',
      `HiGHS proved ${subject} has no finite optimum but could not tell whether it is infeasible or unbounded.`,
      { data }
    );
  }
  let optimality: 'optimal' | 'not-optimal';
  if (status === STATUS_EMPTY) {
    // No columns: HiGHS does not look at the (constant) rows.
    if (conversion.violatedConstantRow !== undefined) {
      throw new RunledgerError(
        'SOLVER_INFEASIBLE',
        `HiGHS proved ${subject} infeasible: constraint ${conversion.violatedConstantRow} has no variables and does not hold.`,
        { data: { ...data, constraintId: conversion.violatedConstantRow } }
      );
    }
    optimality = 'optimal';
  } else if (status === STATUS_OPTIMAL) {
    optimality = 'optimal';
  } else if (STATUS_STOPPED.has(status) && primalFeasible(output)) {
    optimality = 'not-optimal';
  } else {
    throw new RunledgerError(
      'SOLVER_FAILED',
      `HiGHS stopped on ${subject} with status "${statusName(status)}" and no feasible solution.`,
      { data }
    );
  }

  // HiGHS has no solution arrays for an Empty model (and throws when asked for them).
  const result = status === STATUS_EMPTY ? {} : output.getSolution();
  const state = decodeState(conversion, result.colValue);
  let solution = instance.evaluate(state);
  const patch: { -readonly [K in keyof SolutionData]?: SolutionData[K] } = {
    optimality,
    metadata,
  };
  const rowDual = result.rowDual;
  if (
    !conversion.isMip &&
    status === STATUS_OPTIMAL &&
    rowDual !== undefined &&
    rowDual.length === conversion.rowIds.length &&
    dualFeasible(output)
  ) {
    patch.constraints = withDuals(solution.constraints, conversion.rowIds, rowDual);
  }
  solution = solution.with(patch);
  return solution;
}

function decodeState(conversion: Conversion, colValue: ArrayLike<number> | undefined): State {
  const state = new Map<number, number>();
  const { columnIds, integerColumns, fixedColumns } = conversion;
  for (let col = 0; col < columnIds.length; col++) {
    // evaluate() supplies the exact fixed value itself.
    if (fixedColumns[col] === 1) continue;
    let value = colValue?.[col] ?? 0;
    if (integerColumns[col] === 1) {
      const rounded = Math.round(value);
      if (Math.abs(value - rounded) <= INTEGRALITY_TOLERANCE) value = rounded;
    }
    state.set(columnIds[col]!, value === 0 ? 0 : value); // −0 → 0
  }
  return state;
}

function withDuals(
  constraints: readonly EvaluatedConstraintData[],
  rowIds: readonly number[],
  rowDual: ArrayLike<number>
): EvaluatedConstraintData[] {
  const dualOf = new Map<number, number>();
  rowIds.forEach((id, row) => {
    const dual = rowDual[row] ?? 0;
    dualOf.set(id, dual === 0 ? 0 : dual);
  });
  return constraints.map((c) => {
    const dual = c.removedReason === undefined ? dualOf.get(c.id) : undefined;
    return dual === undefined ? c : { ...c, dualVariable: dual };
  });
}

function primalFeasible(output: HighsRawOutput): boolean {
  return infoNumber(output, 'primal_solution_status') === SOLUTION_FEASIBLE;
}

function dualFeasible(output: HighsRawOutput): boolean {
  return infoNumber(output, 'dual_solution_status') === SOLUTION_FEASIBLE;
}

function infoNumber(output: Pick<HighsRawOutput, 'info'>, name: string): number | undefined {
  try {
    return Number(output.info.get(name));
  } catch {
    return undefined;
  }
}

function instanceSubject(instance: Instance): string {
  const name = instance.description?.name;
  return name === undefined ? 'the instance' : `the instance ${JSON.stringify(name)}`;
}

function solverMetadata(version: string, options: HighsOptions): ProcessMetadata {
  return {
    solver: JSON.stringify({ name: 'highs', version }),
    parameters: JSON.stringify(options),
  };
}

/** What `diagnostics` receives after a solve (plain numbers and strings, msgpack-able). */
function terminationReport(
  model: Model,
  status: number,
  presolveRetried: boolean
): Record<string, unknown> {
  const report: Record<string, unknown> = {
    kind: 'highs.termination',
    status: statusName(status),
    presolveRetried,
    runTimeSec: model.getRunTime(),
  };
  for (const [key, name] of [
    ['objectiveValue', 'objective_function_value'],
    ['mipGap', 'mip_gap'],
    ['mipDualBound', 'mip_dual_bound'],
    ['mipNodeCount', 'mip_node_count'],
    ['simplexIterationCount', 'simplex_iteration_count'],
    ['ipmIterationCount', 'ipm_iteration_count'],
    ['primalSolutionStatus', 'primal_solution_status'],
    ['dualSolutionStatus', 'dual_solution_status'],
  ] as const) {
    const value = infoNumber(model, name);
    if (value !== undefined) report[key] = value;
  }
  return report;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new RunledgerError('ABORTED', 'The HiGHS solve was aborted before it started.', {
      cause: signal.reason,
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
