/**
 * @module ommx/function
 * Operations on `FunctionData`, the wire-shaped `ommx.v1.Function`: evaluate at a state, list
 * the variables it uses, its degree, and the canonical form (`toPolynomialTerms` /
 * `fromPolynomialTerms`) the builder writes and solver adapters read.
 *
 * Semantics follow OMMX's Rust core (`rust/ommx/src/polynomial_base/parse.rs`): when OMMX parses
 * a Function it merges equal monomials and drops zero coefficients, so a variable that appears
 * only in zero or cancelling terms is not "used" and needs no value in a state.
 */
import { RunledgerError } from '../errors.js';
import type { FunctionData, LinearData, LinearTerm, Monomial, State } from './types.js';

/** A variable id → value lookup; `undefined` for an id without a value. */
export type VariableLookup = (id: number) => number | undefined;

/** The degree-2 terms of a function in COO form: Σ values[k] · x[rows[k]] · x[columns[k]]. */
export interface QuadraticPart {
  readonly rows: readonly number[];
  readonly columns: readonly number[];
  readonly values: readonly number[];
}

/**
 * Evaluates a function at a state.
 *
 * @param f - the function
 * @param state - a value for every variable the function uses
 * @returns the function's value
 * @throws RunledgerError `ARGUMENT_INVALID` naming the used variable ids the state has no value
 *   for (ids in zero or cancelling terms are not needed), or a quadratic whose rows, columns and
 *   values differ in length
 * @example
 * ```ts
 * const f: FunctionData = { kind: 'linear', terms: [{ id: 0, coefficient: 2 }], constant: 1 };
 * evaluateFunction(f, new Map([[0, 3]])); // 7
 * ```
 */
export function evaluateFunction(f: FunctionData, state: State): number {
  return evaluateFunctionWith(f, (id) => state.get(id));
}

/**
 * Evaluates a function with a lookup instead of a map (what `ommx/evaluate` uses with a dense
 * array of values).
 *
 * @internal
 * @param f - the function
 * @param lookup - the value of a variable, `undefined` when it has none
 * @param what - what the function is, for the error message ("constraint", "the objective")
 * @param id - the id of what it is, if any (positional, so the hot path builds no string)
 * @returns the function's value
 * @throws RunledgerError `ARGUMENT_INVALID` as {@link evaluateFunction}
 * @example
 * ```ts
 * evaluateFunctionWith(f, (id) => values[id], 'constraint', 3);
 * ```
 */
export function evaluateFunctionWith(
  f: FunctionData,
  lookup: VariableLookup,
  what = 'the function',
  whatId?: number
): number {
  const subject: Subject = [what, whatId];
  switch (f.kind) {
    case 'constant':
      return f.constant;
    case 'linear':
      return evaluateLinear(f, f, lookup, subject);
    case 'quadratic': {
      const { rows, columns, values } = f;
      checkQuadraticShape(f);
      let sum = f.linear === undefined ? 0 : evaluateLinear(f.linear, f, lookup, subject);
      for (let k = 0; k < values.length; k++) {
        const c = values[k]!;
        const r = rows[k]!;
        const q = columns[k]!;
        let a = lookup(r);
        let b = lookup(q);
        if (a === undefined || b === undefined) {
          if (a === undefined) a = unusedOrThrow(f, r, lookup, subject);
          if (b === undefined) b = unusedOrThrow(f, q, lookup, subject);
        }
        sum += c * a * b;
      }
      return sum;
    }
    case 'polynomial': {
      let sum = 0;
      for (const term of f.terms) {
        let product = term.coefficient;
        for (const id of term.ids) {
          const v = lookup(id);
          product *= v === undefined ? unusedOrThrow(f, id, lookup, subject) : v;
        }
        sum += product;
      }
      return sum;
    }
  }
}

function evaluateLinear(
  linear: LinearData,
  f: FunctionData,
  lookup: VariableLookup,
  subject: Subject
): number {
  let sum = linear.constant;
  const terms = linear.terms;
  for (let k = 0; k < terms.length; k++) {
    const t = terms[k]!;
    const v = lookup(t.id);
    sum += t.coefficient * (v === undefined ? unusedOrThrow(f, t.id, lookup, subject) : v);
  }
  return sum;
}

/** What a function is, for error messages: built into a string only when one is thrown. */
type Subject = readonly [what: string, id: number | undefined];

/**
 * A variable without a value is fine when OMMX would have dropped every term it is in (zero or
 * cancelling coefficients): its contribution is 0. Otherwise the state is missing used ids.
 */
function unusedOrThrow(
  f: FunctionData,
  id: number,
  lookup: VariableLookup,
  [what, whatId]: Subject
): number {
  const subject = whatId === undefined ? what : `${what} ${whatId}`;
  const used = usedVariableIds(f);
  if (!used.includes(id)) return 0;
  const missing = used.filter((u) => lookup(u) === undefined);
  throw new RunledgerError(
    'ARGUMENT_INVALID',
    `The state has no value for variable${missing.length === 1 ? '' : 's'} ${missing.join(', ')} used by ${subject}.`,
    { data: { ids: missing } }
  );
}

function checkQuadraticShape(f: Extract<FunctionData, { kind: 'quadratic' }>): void {
  if (f.rows.length !== f.values.length || f.columns.length !== f.values.length) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `A quadratic function has ${f.rows.length} rows, ${f.columns.length} columns and ${f.values.length} values; the three must be equal.`,
      {
        data: { rows: f.rows.length, columns: f.columns.length, values: f.values.length },
      }
    );
  }
}

/**
 * The ids of the variables a function uses, as OMMX's `required_ids`: ids in terms whose
 * coefficient is non-zero after equal monomials are merged.
 *
 * @param f - the function
 * @returns sorted, unique variable ids
 * @throws RunledgerError `ARGUMENT_INVALID` for a quadratic whose arrays differ in length
 * @example
 * ```ts
 * usedVariableIds({ kind: 'linear', terms: [{ id: 3, coefficient: 1 }, { id: 1, coefficient: 0 }], constant: 0 }); // [3]
 * ```
 */
export function usedVariableIds(f: FunctionData): number[] {
  switch (f.kind) {
    case 'constant':
      return [];
    case 'linear':
      if (isCanonicalLinear(f.terms)) return f.terms.map((t) => t.id);
      break;
    case 'quadratic':
      if (isCanonicalQuadratic(f)) {
        const ids: number[] = [...f.rows, ...f.columns];
        if (f.linear !== undefined) for (const t of f.linear.terms) ids.push(t.id);
        return sortedUnique(ids);
      }
      break;
    case 'polynomial':
      break;
  }
  const ids: number[] = [];
  accumulate(f).forEachTerm((monomial) => {
    for (const id of monomial) ids.push(id);
  });
  return sortedUnique(ids);
}

/**
 * The degree of a function: the largest number of variables (with repetition) in a term whose
 * coefficient is non-zero after merging; 0 for a constant.
 *
 * @param f - the function
 * @returns the degree
 * @throws RunledgerError `ARGUMENT_INVALID` for a quadratic whose arrays differ in length
 * @example
 * ```ts
 * degree({ kind: 'polynomial', terms: [{ ids: [0, 0, 1], coefficient: 2 }] }); // 3
 * ```
 */
export function degree(f: FunctionData): number {
  if (f.kind === 'constant') return 0;
  if (f.kind === 'linear' && isCanonicalLinear(f.terms)) return f.terms.length > 0 ? 1 : 0;
  let d = 0;
  accumulate(f).forEachTerm((monomial) => {
    if (monomial.length > d) d = monomial.length;
  });
  return d;
}

/**
 * The canonical terms of a function: ids sorted within each monomial, equal monomials merged,
 * zero coefficients dropped, in the canonical order (degree, then ids lexicographically).
 * Keys are the sorted ids joined by `,` (`''` for the constant term).
 *
 * @param f - the function
 * @returns key → monomial
 * @throws RunledgerError `ARGUMENT_INVALID` for a quadratic whose arrays differ in length
 * @example
 * ```ts
 * toPolynomialTerms({ kind: 'quadratic', rows: [1], columns: [0], values: [2] });
 * // Map { '0,1' => { ids: [0, 1], coefficient: 2 } }
 * ```
 */
export function toPolynomialTerms(f: FunctionData): Map<string, Monomial> {
  const out = new Map<string, Monomial>();
  accumulate(f).forEachTerm((ids, coefficient) => {
    out.set(ids.join(','), { ids, coefficient });
  });
  return out;
}

/**
 * Builds the canonical function of a sum of monomials: merged, zero coefficients dropped, of the
 * smallest kind that holds it (constant, linear, quadratic, polynomial), terms sorted (linear by
 * id; quadratic pairs by (row, column) with row ≤ column; polynomial by degree, then ids).
 * A quadratic carries its `linear` part only when it has degree-0 or degree-1 terms, as OMMX
 * writes it. Equal sums give equal data, hence equal bytes once encoded.
 *
 * @param terms - monomials in any order; ids in any order, repeats meaning powers
 * @returns the canonical function
 * @throws RunledgerError `ARGUMENT_INVALID` for an id that is not a non-negative safe integer,
 *   or a coefficient (given or merged) that is not finite
 * @example
 * ```ts
 * fromPolynomialTerms([{ ids: [2], coefficient: 1 }, { ids: [2], coefficient: 2 }, { ids: [], coefficient: 5 }]);
 * // { kind: 'linear', terms: [{ id: 2, coefficient: 3 }], constant: 5 }
 * ```
 */
export function fromPolynomialTerms(terms: Iterable<Monomial>): FunctionData {
  const acc = new TermAccumulator();
  for (const term of terms) {
    checkCoefficient(term.coefficient, term.ids);
    for (const id of term.ids) checkVariableId(id);
    acc.add(term.ids, term.coefficient);
  }
  return acc.toFunction();
}

/**
 * The constant and degree-1 terms of a function, canonical (merged, zero coefficients dropped,
 * sorted by id). Higher-degree terms are left out: check {@link degree} first when they matter.
 *
 * @param f - the function
 * @returns the linear part
 * @throws RunledgerError `ARGUMENT_INVALID` for a quadratic whose arrays differ in length
 * @example
 * ```ts
 * linearPart(f).terms.map((t) => [t.id, t.coefficient]);
 * ```
 */
export function linearPart(f: FunctionData): LinearData {
  if (f.kind === 'constant') return { terms: [], constant: f.constant };
  if (f.kind === 'linear' && isCanonicalLinear(f.terms)) {
    return { terms: f.terms, constant: f.constant };
  }
  const terms: LinearTerm[] = [];
  let constant = 0;
  accumulate(f).forEachTerm((ids, coefficient) => {
    if (ids.length === 0) constant = coefficient;
    else if (ids.length === 1) terms.push({ id: ids[0]!, coefficient });
  });
  return { terms, constant };
}

/**
 * The degree-2 terms of a function, canonical: each pair once with row ≤ column, sorted by
 * (row, column), zero coefficients dropped.
 *
 * @param f - the function
 * @returns the quadratic part (empty arrays when there is none)
 * @throws RunledgerError `ARGUMENT_INVALID` for a quadratic whose arrays differ in length
 * @example
 * ```ts
 * quadraticPart({ kind: 'quadratic', rows: [1, 0], columns: [0, 1], values: [1, 1] });
 * // { rows: [0], columns: [1], values: [2] }
 * ```
 */
export function quadraticPart(f: FunctionData): QuadraticPart {
  const rows: number[] = [];
  const columns: number[] = [];
  const values: number[] = [];
  if (f.kind === 'constant' || f.kind === 'linear') return { rows, columns, values };
  accumulate(f).forEachTerm((ids, coefficient) => {
    if (ids.length !== 2) return;
    rows.push(ids[0]!);
    columns.push(ids[1]!);
    values.push(coefficient);
  });
  return { rows, columns, values };
}

/**
 * Whether linear terms are already canonical: ids strictly increasing (so nothing to merge),
 * coefficients non-zero. What the builder writes, so the fast paths above usually apply.
 */
function isCanonicalLinear(terms: readonly LinearTerm[]): boolean {
  let prev = -1;
  for (let k = 0; k < terms.length; k++) {
    const t = terms[k]!;
    if (!(t.id > prev) || t.coefficient === 0) return false;
    prev = t.id;
  }
  return true;
}

function isCanonicalQuadratic(f: Extract<FunctionData, { kind: 'quadratic' }>): boolean {
  checkQuadraticShape(f);
  const { rows, columns, values } = f;
  let pr = -1;
  let pc = -1;
  for (let k = 0; k < values.length; k++) {
    const r = rows[k]!;
    const c = columns[k]!;
    if (values[k] === 0 || r > c) return false;
    if (!(r > pr || (r === pr && c > pc))) return false;
    pr = r;
    pc = c;
  }
  return f.linear === undefined || isCanonicalLinear(f.linear.terms);
}

function sortedUnique(ids: number[]): number[] {
  ids.sort((a, b) => a - b);
  let n = 0;
  for (let k = 0; k < ids.length; k++) {
    if (k === 0 || ids[k] !== ids[k - 1]) ids[n++] = ids[k]!;
  }
  ids.length = n;
  return ids;
}

/** The terms of a wire-shaped function, merged. */
function accumulate(f: FunctionData): TermAccumulator {
  const acc = new TermAccumulator();
  switch (f.kind) {
    case 'constant':
      acc.addConstant(f.constant);
      break;
    case 'linear':
      acc.addLinear(f);
      break;
    case 'quadratic':
      checkQuadraticShape(f);
      for (let k = 0; k < f.values.length; k++) {
        acc.addPair(f.rows[k]!, f.columns[k]!, f.values[k]!);
      }
      if (f.linear !== undefined) acc.addLinear(f.linear);
      break;
    case 'polynomial':
      for (const t of f.terms) acc.add(t.ids, t.coefficient);
      break;
  }
  return acc;
}

function checkVariableId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Variable id ${String(id)} is not a non-negative safe integer.`,
      { data: { id } }
    );
  }
}

function checkCoefficient(coefficient: number, ids: readonly number[]): void {
  if (!Number.isFinite(coefficient)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `The coefficient ${String(coefficient)} of the term [${ids.join(', ')}] is not a finite number.`,
      { data: { ids: [...ids], coefficient } }
    );
  }
}

interface PairTerm {
  readonly lo: number;
  readonly hi: number;
  coefficient: number;
}

interface HigherTerm {
  readonly ids: readonly number[];
  coefficient: number;
}

/**
 * A polynomial under construction: a sum of monomials, equal ones merged. Linear terms are kept
 * as appended (id, coefficient) pairs and merged by sorting when read (no hashing on the hot
 * path of large LPs; already-sorted input, what builders produce, is not re-sorted). Pairs and
 * higher terms are keyed by their sorted ids joined with `,`.
 *
 * @internal
 * @example
 * ```ts
 * const acc = new TermAccumulator();
 * acc.add([1, 0], 2); acc.addConstant(1);
 * acc.toFunction(); // { kind: 'quadratic', rows: [0], columns: [1], values: [2], linear: { terms: [], constant: 1 } }
 * ```
 */
export class TermAccumulator {
  /** The constant term. */
  constant = 0;
  #linearIds: number[] | undefined;
  #linearCoefficients: number[] | undefined;
  /** Whether the linear arrays are merged: ids strictly increasing. */
  #linearMerged = true;
  #pairs: Map<string, PairTerm> | undefined;
  #higher: Map<string, HigherTerm> | undefined;

  /**
   * Adds a constant.
   * @param c - the constant
   */
  addConstant(c: number): void {
    this.constant += c;
  }

  /**
   * Adds `coefficient · x[id]`.
   * @param id - the variable
   * @param coefficient - its coefficient
   */
  addVariable(id: number, coefficient: number): void {
    if (this.#linearIds === undefined || this.#linearCoefficients === undefined) {
      this.#linearIds = [id];
      this.#linearCoefficients = [coefficient];
      return;
    }
    const ids = this.#linearIds;
    const last = ids[ids.length - 1]!;
    if (id === last) {
      this.#linearCoefficients[ids.length - 1]! += coefficient;
      return;
    }
    if (id < last) this.#linearMerged = false;
    ids.push(id);
    this.#linearCoefficients.push(coefficient);
  }

  /** Sorts and merges the linear terms in place (same value), once. */
  #mergeLinear(): void {
    const ids = this.#linearIds;
    const coefficients = this.#linearCoefficients;
    if (this.#linearMerged || ids === undefined || coefficients === undefined) return;
    // A stable order by id, so duplicates are summed in the order they were added.
    const order = ids.map((_, k) => k).sort((a, b) => ids[a]! - ids[b]! || a - b);
    const mergedIds: number[] = [];
    const mergedCoefficients: number[] = [];
    for (const k of order) {
      const id = ids[k]!;
      const n = mergedIds.length;
      if (n > 0 && mergedIds[n - 1] === id) mergedCoefficients[n - 1]! += coefficients[k]!;
      else {
        mergedIds.push(id);
        mergedCoefficients.push(coefficients[k]!);
      }
    }
    this.#linearIds = mergedIds;
    this.#linearCoefficients = mergedCoefficients;
    this.#linearMerged = true;
  }

  /**
   * Adds a linear function.
   * @param linear - its terms and constant
   * @param factor - a factor to scale it by
   */
  addLinear(linear: LinearData, factor = 1): void {
    for (const t of linear.terms) this.addVariable(t.id, t.coefficient * factor);
    this.constant += linear.constant * factor;
  }

  /**
   * Adds `coefficient · x[a] · x[b]`.
   * @param a - one variable
   * @param b - the other (may equal `a`)
   * @param coefficient - the coefficient
   */
  addPair(a: number, b: number, coefficient: number): void {
    const lo = a <= b ? a : b;
    const hi = a <= b ? b : a;
    const pairs = (this.#pairs ??= new Map());
    const key = `${lo},${hi}`;
    const prev = pairs.get(key);
    if (prev === undefined) pairs.set(key, { lo, hi, coefficient });
    else prev.coefficient += coefficient;
  }

  /**
   * Adds `coefficient · Π x[ids]`.
   * @param ids - the variables, in any order, repeats meaning powers
   * @param coefficient - the coefficient
   */
  add(ids: readonly number[], coefficient: number): void {
    switch (ids.length) {
      case 0:
        this.constant += coefficient;
        return;
      case 1:
        this.addVariable(ids[0]!, coefficient);
        return;
      case 2:
        this.addPair(ids[0]!, ids[1]!, coefficient);
        return;
    }
    const sorted = [...ids].sort((a, b) => a - b);
    const key = sorted.join(',');
    const higher = (this.#higher ??= new Map());
    const prev = higher.get(key);
    if (prev === undefined) higher.set(key, { ids: sorted, coefficient });
    else prev.coefficient += coefficient;
  }

  /**
   * Adds another accumulator's terms times a factor.
   * @param other - the terms to add (not changed)
   * @param factor - the factor
   */
  addScaled(other: TermAccumulator, factor: number): void {
    this.constant += other.constant * factor;
    const ids = other.#linearIds;
    const coefficients = other.#linearCoefficients;
    if (ids !== undefined && coefficients !== undefined) {
      for (let k = 0; k < ids.length; k++) this.addVariable(ids[k]!, coefficients[k]! * factor);
    }
    if (other.#pairs !== undefined) {
      for (const p of other.#pairs.values()) this.addPair(p.lo, p.hi, p.coefficient * factor);
    }
    if (other.#higher !== undefined) {
      for (const h of other.#higher.values()) this.add(h.ids, h.coefficient * factor);
    }
  }

  /**
   * The product of two polynomials.
   * @param other - the other factor
   * @returns a new accumulator
   */
  times(other: TermAccumulator): TermAccumulator {
    const out = new TermAccumulator();
    const right: [readonly number[], number][] = [];
    other.#forEachRaw((ids, c) => right.push([ids, c]));
    this.#forEachRaw((a, ca) => {
      for (const [b, cb] of right) out.add(a.length === 0 ? b : [...a, ...b], ca * cb);
    });
    return out;
  }

  /** Every term including zero ones, unordered. */
  #forEachRaw(visit: (ids: readonly number[], coefficient: number) => void): void {
    if (this.constant !== 0) visit([], this.constant);
    const ids = this.#linearIds;
    const coefficients = this.#linearCoefficients;
    if (ids !== undefined && coefficients !== undefined) {
      for (let k = 0; k < ids.length; k++) visit([ids[k]!], coefficients[k]!);
    }
    if (this.#pairs !== undefined)
      for (const p of this.#pairs.values()) visit([p.lo, p.hi], p.coefficient);
    if (this.#higher !== undefined)
      for (const h of this.#higher.values()) visit(h.ids, h.coefficient);
  }

  /**
   * Visits the non-zero terms in canonical order: degree, then ids lexicographically.
   * @param visit - called with each monomial's sorted ids (a fresh array) and coefficient
   */
  forEachTerm(visit: (ids: number[], coefficient: number) => void): void {
    if (this.constant !== 0) visit([], this.constant);
    this.#forEachLinear((id, c) => visit([id], c));
    if (this.#pairs !== undefined) {
      const pairs = [...this.#pairs.values()].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
      for (const p of pairs) if (p.coefficient !== 0) visit([p.lo, p.hi], p.coefficient);
    }
    if (this.#higher !== undefined) {
      const higher = [...this.#higher.values()].sort((a, b) => compareIds(a.ids, b.ids));
      for (const h of higher) if (h.coefficient !== 0) visit([...h.ids], h.coefficient);
    }
  }

  /** The non-zero linear terms, merged, by ascending id. */
  #forEachLinear(visit: (id: number, coefficient: number) => void): void {
    this.#mergeLinear();
    const ids = this.#linearIds;
    const coefficients = this.#linearCoefficients;
    if (ids === undefined || coefficients === undefined) return;
    for (let k = 0; k < ids.length; k++) {
      const c = coefficients[k]!;
      if (c !== 0) visit(ids[k]!, c);
    }
  }

  /**
   * The canonical function of these terms (see {@link fromPolynomialTerms}).
   * @returns the function
   * @throws RunledgerError `ARGUMENT_INVALID` when a merged coefficient is not finite
   */
  toFunction(): FunctionData {
    const constant = this.constant === 0 ? 0 : this.constant; // -0 → 0
    checkCoefficient(constant, []);
    const linear: LinearTerm[] = [];
    const rows: number[] = [];
    const columns: number[] = [];
    const values: number[] = [];
    const higher: Monomial[] = [];
    this.#forEachLinear((id, coefficient) => {
      if (!Number.isFinite(coefficient)) checkCoefficient(coefficient, [id]);
      linear.push({ id, coefficient });
    });
    if (this.#pairs !== undefined || this.#higher !== undefined) {
      this.forEachTerm((ids, coefficient) => {
        if (ids.length < 2) return;
        checkCoefficient(coefficient, ids);
        if (ids.length === 2) {
          rows.push(ids[0]!);
          columns.push(ids[1]!);
          values.push(coefficient);
        } else higher.push({ ids, coefficient });
      });
    }
    if (higher.length > 0) {
      const terms: Monomial[] = [];
      if (constant !== 0) terms.push({ ids: [], coefficient: constant });
      for (const t of linear) terms.push({ ids: [t.id], coefficient: t.coefficient });
      for (let k = 0; k < values.length; k++) {
        terms.push({ ids: [rows[k]!, columns[k]!], coefficient: values[k]! });
      }
      terms.push(...higher);
      return { kind: 'polynomial', terms };
    }
    if (values.length > 0) {
      if (linear.length === 0 && constant === 0) {
        return { kind: 'quadratic', rows, columns, values };
      }
      return { kind: 'quadratic', rows, columns, values, linear: { terms: linear, constant } };
    }
    if (linear.length > 0) return { kind: 'linear', terms: linear, constant };
    return { kind: 'constant', constant };
  }
}

/** Degree first, then lexicographic ids. */
function compareIds(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let k = 0; k < a.length; k++) {
    const d = a[k]! - b[k]!;
    if (d !== 0) return d;
  }
  return 0;
}
