/**
 * @module ommx/builder
 * Writing an optimization problem in TypeScript: `InstanceBuilder` hands out variables as
 * `Expr`s, takes constraints as comparisons (`lhs.leq(rhs)`), and builds an `Instance` whose
 * functions are canonical (`fromPolynomialTerms`), so equal models encode to equal bytes.
 *
 * `Expr` is immutable. `plus` and `times(number)` only link nodes; terms are merged once, when
 * a constraint or objective is added, so summing n terms costs O(n) whether with `sum` or a
 * chain of `plus`.
 */
import { RunledgerError } from '../errors.js';
import { TermAccumulator, usedVariableIds } from './function.js';
import { Instance } from './instance.js';
import type {
  ConstraintData,
  DecisionVariableData,
  Equality,
  FunctionData,
  InstanceDescription,
  Label,
  LinearTerm,
  NamedFunctionData,
  Sense,
  VariableKind,
} from './types.js';

/**
 * The node behind an {@link Expr}.
 * @internal
 */
export type ExprNode =
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'variable'; readonly id: number }
  | { readonly kind: 'sum'; readonly parts: readonly Expr[] }
  | { readonly kind: 'scale'; readonly factor: number; readonly expr: Expr }
  | { readonly kind: 'terms'; readonly terms: TermAccumulator };

/** An `Expr` or a number, wherever an operand is taken. */
export type Operand = Expr | number;

/** A constraint in OMMX's normal form: `expr = 0` or `expr ≤ 0`. */
export interface Comparison {
  readonly expr: Expr;
  readonly equality: Exclude<Equality, 'unspecified'>;
}

/**
 * An immutable polynomial expression over decision variables.
 *
 * @example
 * ```ts
 * const e = x.times(3).plus(y.times(x)).minus(1); // 3x + xy − 1
 * b.addConstraint(e.leq(10));
 * ```
 */
export class Expr {
  readonly #node: ExprNode;
  /** The merged terms, once computed; never changed after. */
  #terms: TermAccumulator | undefined;

  /**
   * @internal Use the builder's variable methods, {@link constant}, {@link linear} or {@link sum}.
   * @param node - what this expression is
   */
  constructor(node: ExprNode) {
    this.#node = node;
    if (node.kind === 'terms') this.#terms = node.terms;
  }

  /**
   * This plus another expression or a number.
   * @param other - the addend
   * @returns a new expression
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * x.plus(y).plus(1);
   * ```
   */
  plus(other: Operand): Expr {
    if (typeof other === 'number' && checkNumber(other) === 0) return this;
    return new Expr({ kind: 'sum', parts: [this, toExpr(other)] });
  }

  /**
   * This minus another expression or a number.
   * @param other - the subtrahend
   * @returns a new expression
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * x.minus(y);
   * ```
   */
  minus(other: Operand): Expr {
    return this.plus(typeof other === 'number' ? -checkNumber(other) : other.neg());
  }

  /**
   * This times another expression or a number.
   * @param other - the factor
   * @returns a new expression
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * x.times(2); x.times(y); // 2x, xy
   * ```
   */
  times(other: Operand): Expr {
    if (typeof other === 'number') {
      if (checkNumber(other) === 1) return this;
      return new Expr({ kind: 'scale', factor: other, expr: this });
    }
    return new Expr({ kind: 'terms', terms: this.#flatten().times(other.#flatten()) });
  }

  /**
   * The negation of this expression.
   * @returns a new expression
   * @example
   * ```ts
   * x.neg(); // −x
   * ```
   */
  neg(): Expr {
    return new Expr({ kind: 'scale', factor: -1, expr: this });
  }

  /**
   * The constraint `this ≤ rhs`, stored as `this − rhs ≤ 0`.
   * @param rhs - the right-hand side
   * @returns the comparison, for `addConstraint`
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * b.addConstraint(x.plus(y).leq(1));
   * ```
   */
  leq(rhs: Operand): Comparison {
    return { expr: this.minus(rhs), equality: 'less-than-or-equal-to-zero' };
  }

  /**
   * The constraint `this ≥ rhs`, stored as `rhs − this ≤ 0` (OMMX has only `= 0` and `≤ 0`).
   * @param rhs - the right-hand side
   * @returns the comparison, for `addConstraint`
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * b.addConstraint(x.plus(y).geq(1)); // 1 − x − y ≤ 0
   * ```
   */
  geq(rhs: Operand): Comparison {
    return { expr: toExpr(rhs).minus(this), equality: 'less-than-or-equal-to-zero' };
  }

  /**
   * The constraint `this = rhs`, stored as `this − rhs = 0`.
   * @param rhs - the right-hand side
   * @returns the comparison, for `addConstraint`
   * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
   * @example
   * ```ts
   * b.addConstraint(sum(x).eq(1));
   * ```
   */
  eq(rhs: Operand): Comparison {
    return { expr: this.minus(rhs), equality: 'equal-to-zero' };
  }

  /**
   * The canonical `FunctionData` of this expression (merged, zero coefficients dropped, the
   * smallest kind, sorted terms).
   * @returns the function
   * @throws RunledgerError `ARGUMENT_INVALID` when a merged coefficient overflows to ±∞
   * @example
   * ```ts
   * x.plus(x).toFunction(); // { kind: 'linear', terms: [{ id: 0, coefficient: 2 }], constant: 0 }
   * ```
   */
  toFunction(): FunctionData {
    return this.#flatten().toFunction();
  }

  /**
   * Merges the expression tree into terms, iteratively (a chain of `plus` may be 10⁵ deep).
   * Sub-expressions already merged are reused, not walked.
   */
  #flatten(): TermAccumulator {
    if (this.#terms !== undefined) return this.#terms;
    const acc = new TermAccumulator();
    const exprs: Expr[] = [this];
    const factors: number[] = [1];
    while (exprs.length > 0) {
      const e = exprs.pop()!;
      const f = factors.pop()!;
      if (e.#terms !== undefined) {
        acc.addScaled(e.#terms, f);
        continue;
      }
      const node = e.#node;
      switch (node.kind) {
        case 'constant':
          acc.addConstant(node.value * f);
          break;
        case 'variable':
          acc.addVariable(node.id, f);
          break;
        case 'scale':
          exprs.push(node.expr);
          factors.push(node.factor * f);
          break;
        case 'sum':
          // Pushed in reverse so parts are added in order (a stable floating-point sum).
          for (let k = node.parts.length - 1; k >= 0; k--) {
            exprs.push(node.parts[k]!);
            factors.push(f);
          }
          break;
        case 'terms':
          acc.addScaled(node.terms, f);
          break;
      }
    }
    this.#terms = acc;
    return acc;
  }
}

/** A decision variable as an expression, with its id. */
export class Variable extends Expr {
  /** The decision variable's id. */
  readonly id: number;

  /**
   * @internal Variables come from {@link InstanceBuilder}.
   * @param id - the decision variable's id
   */
  constructor(id: number) {
    super({ kind: 'variable', id });
    this.id = id;
  }
}

/**
 * A constant expression.
 * @param value - the constant
 * @returns the expression
 * @throws RunledgerError `ARGUMENT_INVALID` for a value that is not finite
 * @example
 * ```ts
 * b.minimize(constant(0));
 * ```
 */
export function constant(value: number): Expr {
  return new Expr({ kind: 'constant', value: checkNumber(value) });
}

/**
 * The sum of expressions and numbers, in O(total terms).
 * @param items - the addends
 * @returns the expression (the constant 0 for none)
 * @throws RunledgerError `ARGUMENT_INVALID` for a number that is not finite
 * @example
 * ```ts
 * sum(x.map((xi, i) => xi.times(w[i]))).leq(capacity);
 * ```
 */
export function sum(items: Iterable<Operand>): Expr {
  const parts: Expr[] = [];
  for (const item of items) parts.push(toExpr(item));
  return new Expr({ kind: 'sum', parts });
}

/**
 * A linear expression from variable ids and coefficients.
 * @param terms - `{ id, coefficient }` pairs (equal ids are merged)
 * @param constantTerm - the constant (default 0)
 * @returns the expression
 * @throws RunledgerError `ARGUMENT_INVALID` for an id that is not a non-negative safe integer or
 *   a coefficient that is not finite
 * @example
 * ```ts
 * linear([{ id: 0, coefficient: 2 }, { id: 1, coefficient: -1 }], 3); // 2x0 − x1 + 3
 * ```
 */
export function linear(terms: Iterable<LinearTerm>, constantTerm = 0): Expr {
  const acc = new TermAccumulator();
  for (const t of terms) {
    checkId(t.id, 'Variable');
    acc.addVariable(t.id, checkNumber(t.coefficient));
  }
  acc.addConstant(checkNumber(constantTerm));
  return new Expr({ kind: 'terms', terms: acc });
}

/** Labels shared by variables, constraints and named functions. */
export interface LabelOptions {
  /** int64 subscripts, e.g. `[i, j]` of `x[i][j]`. */
  readonly subscripts?: readonly number[];
  readonly parameters?: Readonly<Record<string, string>>;
  readonly description?: string;
  /** An explicit id (default: one more than the largest id so far, from 0). */
  readonly id?: number;
}

/** Options of a new decision variable. */
export interface VariableOptions extends LabelOptions {
  /** Lower bound (default −∞; binary: 0). */
  readonly lower?: number;
  /** Upper bound (default +∞; binary: 1). */
  readonly upper?: number;
}

/** Options of a constraint or named function. */
export interface ConstraintOptions extends LabelOptions {
  readonly name?: string;
}

/** Options of {@link InstanceBuilder}: the instance's description and annotations. */
export interface InstanceBuilderOptions {
  readonly name?: string;
  readonly description?: string;
  readonly authors?: readonly string[];
  readonly createdBy?: string;
  /** RFC 3339 text. */
  readonly created?: string;
  readonly license?: string;
  readonly dataset?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Builds an {@link Instance} step by step: variables, constraints, objective.
 *
 * @example
 * ```ts
 * const b = new InstanceBuilder({ name: 'knapsack' });
 * const x = [0, 1, 2].map((i) => b.binary('x', { subscripts: [i] }));
 * b.addConstraint(sum(x.map((xi, i) => xi.times(w[i]))).leq(10), { name: 'capacity' });
 * b.maximize(sum(x.map((xi, i) => xi.times(v[i]))));
 * const instance = b.build();
 * ```
 */
export class InstanceBuilder {
  readonly #options: InstanceBuilderOptions;
  readonly #variables = new Map<number, DecisionVariableData>();
  readonly #constraints = new Map<number, ConstraintData>();
  readonly #namedFunctions = new Map<number, NamedFunctionData>();
  #nextVariableId = 0;
  #nextConstraintId = 0;
  #nextNamedFunctionId = 0;
  #objective: FunctionData = { kind: 'constant', constant: 0 };
  #sense: Sense = 'minimize';

  /**
   * @param options - description fields (`name`, `description`, `authors`, …) and annotations
   */
  constructor(options: InstanceBuilderOptions = {}) {
    this.#options = options;
  }

  /**
   * Adds a binary decision variable (bound [0, 1]).
   * @param name - its name
   * @param options - subscripts, parameters, description, id; bounds within [0, 1]
   * @returns the variable
   * @throws RunledgerError `ARGUMENT_INVALID` as {@link InstanceBuilder.variable}
   * @example
   * ```ts
   * const x = b.binary('x', { subscripts: [0] });
   * ```
   */
  binary(name?: string, options: VariableOptions = {}): Variable {
    return this.variable('binary', name, options);
  }

  /**
   * Adds an integer decision variable (unbounded unless `lower` / `upper` are given).
   * @param name - its name
   * @param options - bounds, subscripts, parameters, description, id
   * @returns the variable
   * @throws RunledgerError `ARGUMENT_INVALID` as {@link InstanceBuilder.variable}
   * @example
   * ```ts
   * const n = b.integer('n', { lower: 0, upper: 5 });
   * ```
   */
  integer(name?: string, options: VariableOptions = {}): Variable {
    return this.variable('integer', name, options);
  }

  /**
   * Adds a continuous decision variable (unbounded unless `lower` / `upper` are given).
   * @param name - its name
   * @param options - bounds, subscripts, parameters, description, id
   * @returns the variable
   * @throws RunledgerError `ARGUMENT_INVALID` as {@link InstanceBuilder.variable}
   * @example
   * ```ts
   * const y = b.continuous('y', { lower: 0, upper: 10 });
   * ```
   */
  continuous(name?: string, options: VariableOptions = {}): Variable {
    return this.variable('continuous', name, options);
  }

  /**
   * Adds a decision variable of any kind.
   * @param kind - binary, integer, continuous, semi-integer or semi-continuous
   * @param name - its name
   * @param options - bounds, subscripts, parameters, description, id
   * @returns the variable
   * @throws RunledgerError `ARGUMENT_INVALID` for a NaN bound, a lower bound above the upper
   *   one, binary bounds outside [0, 1], a kind `'unspecified'`, a subscript that is not a safe
   *   integer, or an id that is taken or not a non-negative safe integer
   * @example
   * ```ts
   * const s = b.variable('semi-continuous', 's', { lower: 2, upper: 5 });
   * ```
   */
  variable(kind: VariableKind, name?: string, options: VariableOptions = {}): Variable {
    const id = options.id ?? this.#nextVariableId;
    const subject = `Variable ${name ?? id}`;
    checkId(id, subject);
    if (this.#variables.has(id)) {
      throw new RunledgerError('ARGUMENT_INVALID', `Variable id ${id} is already taken.`, {
        data: { id },
      });
    }
    if (kind === 'unspecified') {
      throw new RunledgerError('ARGUMENT_INVALID', `${subject} needs a kind.`, {
        data: { id, kind },
      });
    }
    const binary = kind === 'binary';
    const lower = options.lower ?? (binary ? 0 : Number.NEGATIVE_INFINITY);
    const upper = options.upper ?? (binary ? 1 : Number.POSITIVE_INFINITY);
    if (Number.isNaN(lower) || Number.isNaN(upper) || lower > upper) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `${subject} has the bound [${lower}, ${upper}], which is empty or not a number.`,
        { data: { id, lower, upper } }
      );
    }
    if (binary && (lower < 0 || upper > 1)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `${subject} is binary, so its bound [${lower}, ${upper}] must lie within [0, 1].`,
        { data: { id, lower, upper } }
      );
    }
    const row: Mutable<DecisionVariableData> = {
      id,
      kind,
      bound: { lower, upper },
      subscripts: subscriptsOf(options, subject),
      parameters: parametersOf(options),
    };
    this.#variables.set(id, withLabel(row, name, options));
    this.#nextVariableId = Math.max(this.#nextVariableId, id + 1);
    return new Variable(id);
  }

  /**
   * Adds a constraint.
   * @param comparison - `lhs.leq(rhs)`, `lhs.geq(rhs)` or `lhs.eq(rhs)`
   * @param options - name, subscripts, parameters, description, id
   * @returns the constraint's id
   * @throws RunledgerError `ARGUMENT_INVALID` for an id that is taken or not a non-negative safe
   *   integer, a variable not added to this builder, a coefficient that overflows, a subscript
   *   that is not a safe integer
   * @example
   * ```ts
   * b.addConstraint(x.plus(y).leq(1), { name: 'pick one' });
   * ```
   */
  addConstraint(comparison: Comparison, options: ConstraintOptions = {}): number {
    const id = options.id ?? this.#nextConstraintId;
    const subject = `Constraint ${options.name ?? id}`;
    checkId(id, subject);
    if (this.#constraints.has(id)) {
      throw new RunledgerError('ARGUMENT_INVALID', `Constraint id ${id} is already taken.`, {
        data: { id },
      });
    }
    const row: Mutable<ConstraintData> = {
      id,
      equality: comparison.equality,
      function: this.#toFunction(comparison.expr, subject),
      subscripts: subscriptsOf(options, subject),
      parameters: parametersOf(options),
      provenance: NONE,
    };
    this.#constraints.set(id, withLabel(row, options.name, options));
    this.#nextConstraintId = Math.max(this.#nextConstraintId, id + 1);
    return id;
  }

  /**
   * Adds a named function, evaluated alongside the objective in every Solution.
   * @param expr - the function
   * @param options - name, subscripts, parameters, description, id
   * @returns the named function's id
   * @throws RunledgerError `ARGUMENT_INVALID` as {@link InstanceBuilder.addConstraint}
   * @example
   * ```ts
   * b.addNamedFunction(sum(x), { name: 'items picked' });
   * ```
   */
  addNamedFunction(expr: Operand, options: ConstraintOptions = {}): number {
    const id = options.id ?? this.#nextNamedFunctionId;
    const subject = `Named function ${options.name ?? id}`;
    checkId(id, subject);
    if (this.#namedFunctions.has(id)) {
      throw new RunledgerError('ARGUMENT_INVALID', `Named function id ${id} is already taken.`, {
        data: { id },
      });
    }
    const row: Mutable<NamedFunctionData> = {
      id,
      function: this.#toFunction(toExpr(expr), subject),
      subscripts: subscriptsOf(options, subject),
      parameters: parametersOf(options),
    };
    this.#namedFunctions.set(id, withLabel(row, options.name, options));
    this.#nextNamedFunctionId = Math.max(this.#nextNamedFunctionId, id + 1);
    return id;
  }

  /**
   * Sets the objective, to be minimized (the default objective is the constant 0, minimized).
   * @param expr - the objective
   * @throws RunledgerError `ARGUMENT_INVALID` for a variable not added to this builder
   * @example
   * ```ts
   * b.minimize(x.plus(y));
   * ```
   */
  minimize(expr: Operand): void {
    this.#objective = this.#toFunction(toExpr(expr), 'The objective');
    this.#sense = 'minimize';
  }

  /**
   * Sets the objective, to be maximized.
   * @param expr - the objective
   * @throws RunledgerError `ARGUMENT_INVALID` for a variable not added to this builder
   * @example
   * ```ts
   * b.maximize(sum(values.map((v, i) => x[i].times(v))));
   * ```
   */
  maximize(expr: Operand): void {
    this.#objective = this.#toFunction(toExpr(expr), 'The objective');
    this.#sense = 'maximize';
  }

  /**
   * Builds the instance: variables, constraints and named functions in ascending id order.
   * The builder stays usable; later changes do not affect instances already built.
   * @returns the instance
   * @example
   * ```ts
   * const instance = b.build();
   * instance.encode();
   * ```
   */
  build(): Instance {
    const o = this.#options;
    const byId = <T extends { readonly id: number }>(m: Map<number, T>): T[] =>
      [...m.values()].sort((a, b) => a.id - b.id);
    const hasDescription =
      o.name !== undefined ||
      o.description !== undefined ||
      o.authors !== undefined ||
      o.createdBy !== undefined ||
      o.created !== undefined ||
      o.license !== undefined ||
      o.dataset !== undefined;
    const description: { -readonly [K in keyof InstanceDescription]: InstanceDescription[K] } = {
      authors: [...(o.authors ?? [])],
    };
    if (o.name !== undefined) description.name = o.name;
    if (o.description !== undefined) description.description = o.description;
    if (o.createdBy !== undefined) description.createdBy = o.createdBy;
    if (o.created !== undefined) description.created = o.created;
    if (o.license !== undefined) description.license = o.license;
    if (o.dataset !== undefined) description.dataset = o.dataset;
    const common = {
      decisionVariables: byId(this.#variables),
      objective: this.#objective,
      constraints: byId(this.#constraints),
      removedConstraints: [],
      sense: this.#sense,
      decisionVariableDependency: new Map<number, FunctionData>(),
      namedFunctions: byId(this.#namedFunctions),
      annotations: { ...o.annotations },
    };
    return new Instance(hasDescription ? { ...common, description } : common);
  }

  #toFunction(expr: Expr, subject: string): FunctionData {
    const f = expr.toFunction();
    for (const id of usedVariableIds(f)) {
      if (!this.#variables.has(id)) {
        throw new RunledgerError(
          'ARGUMENT_INVALID',
          `${subject} uses variable ${id}, which was not added to this builder.`,
          { data: { id } }
        );
      }
    }
    return f;
  }
}

function toExpr(x: Operand): Expr {
  return typeof x === 'number' ? constant(x) : x;
}

function checkNumber(x: number): number {
  if (!Number.isFinite(x)) {
    throw new RunledgerError('ARGUMENT_INVALID', `The number ${String(x)} is not finite.`, {
      data: { value: x },
    });
  }
  return x;
}

function checkId(id: number, subject: string): void {
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `${subject} has the id ${String(id)}, which is not a non-negative safe integer.`,
      { data: { id } }
    );
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Sets a row's optional label fields, leaving absent ones absent (no spreads: measured slow). */
function withLabel<T extends Label>(
  row: Mutable<T>,
  name: string | undefined,
  options: LabelOptions
): T {
  if (name !== undefined) row.name = name;
  if (options.description !== undefined) row.description = options.description;
  return row;
}

/**
 * Shared by every row without subscripts, parameters or provenance: one frozen object instead of
 * one per row (10⁵-variable models spend most of their build time allocating).
 */
const NONE: readonly never[] = Object.freeze<never[]>([]);
const NO_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({});

function parametersOf(options: LabelOptions): Readonly<Record<string, string>> {
  return options.parameters === undefined ? NO_PARAMETERS : { ...options.parameters };
}

function subscriptsOf(options: LabelOptions, subject: string): readonly number[] {
  if (options.subscripts === undefined || options.subscripts.length === 0) return NONE;
  const subscripts = [...options.subscripts];
  for (const s of subscripts) {
    if (!Number.isSafeInteger(s)) {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `${subject} has the subscript ${String(s)}, which is not a safe integer.`,
        { data: { subscript: s } }
      );
    }
  }
  return subscripts;
}
