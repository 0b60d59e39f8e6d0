/**
 * @module solve/highs/model
 * Instance → HiGHS's sparse-array model (`ModelData`): one column per decision variable, one
 * CSR row per active constraint, the objective linear or quadratic (a triangular Hessian). Pure
 * translation: only HiGHS's constants are needed.
 */
import type { Highs, HessianInput, ModelData, VariableType } from 'highs';
import { RunledgerError } from '../../errors.js';
import type { Instance } from '../../ommx/instance.js';
import type { FunctionData } from '../../ommx/types.js';

/** The HiGHS model of an instance, and what reading HiGHS's answer back needs. */
export interface Conversion {
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

/**
 * Translates an instance into HiGHS's model.
 * @param instance - the problem
 * @param highs - the runtime (for its constants)
 * @returns the model and the column and row ids
 * @throws RunledgerError `UNSUPPORTED_INSTANCE`, `ARGUMENT_INVALID` (a function naming an
 *   unknown variable)
 * @example
 * ```ts
 * const { model, columnIds, rowIds } = convertInstance(instance, runtime.highs);
 * ```
 */
export function convertInstance(instance: Instance, highs: Highs): Conversion {
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
