/**
 * @module sql/duckdb
 * The one module that talks to DuckDB (`@duckdb/node-api`, an optional peer dependency, loaded
 * on first use): an in-memory database that takes typed columns, runs statements, and gives
 * results back as typed columns. What the database may touch is decided by the caller
 * ({@link SqlEngine.lockDown}).
 */
import type {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBResultReader,
  DuckDBType,
} from '@duckdb/node-api';
import { RunledgerError } from '../errors.js';

type DuckDBModule = typeof import('@duckdb/node-api');

/** The SQL types runledger writes. Timestamps are given as RFC 3339 text or epoch milliseconds. */
export type SqlType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'TIMESTAMPTZ';

/** One column to load: its SQL type and a value per row (null for a missing cell). */
export interface SqlColumn {
  readonly name: string;
  readonly type: SqlType;
  /**
   * BIGINT takes numbers or bigints, DOUBLE numbers, BOOLEAN booleans, VARCHAR strings,
   * TIMESTAMPTZ RFC 3339 strings or epoch milliseconds.
   */
  readonly values: ArrayLike<number | bigint | boolean | string | null>;
}

/** A result column: its kind as runledger's tables know them, and its values. */
export interface ResultColumn {
  readonly name: string;
  /** `timestamp` values are RFC 3339 text (UTC, milliseconds). */
  readonly kind: 'int64' | 'float64' | 'bool' | 'utf8' | 'timestamp';
  readonly values: (number | bigint | boolean | string | null)[];
}

/** Rows appended per data chunk (DuckDB's vector size). */
const CHUNK = 2048;

const INSTALL = 'npm install @duckdb/node-api';

let modulePromise: Promise<DuckDBModule> | undefined;

/**
 * Loads `@duckdb/node-api` once.
 * @param load - how to import it (tests pass a loader that fails)
 * @returns the module
 * @throws RunledgerError `DEPENDENCY_MISSING` naming the install command
 */
export async function loadDuckDB(load?: () => Promise<unknown>): Promise<DuckDBModule> {
  const attempt = async (): Promise<DuckDBModule> => {
    try {
      const mod = (await (load ?? (() => import('@duckdb/node-api')))()) as DuckDBModule;
      if (typeof mod?.DuckDBInstance?.create !== 'function') {
        throw new TypeError('@duckdb/node-api exports no DuckDBInstance');
      }
      return mod;
    } catch (cause) {
      throw new RunledgerError(
        'DEPENDENCY_MISSING',
        `SQL and Parquet need the optional package @duckdb/node-api: run \`${INSTALL}\`.`,
        { data: { package: '@duckdb/node-api', install: INSTALL }, cause }
      );
    }
  };
  if (load !== undefined) return attempt();
  modulePromise ??= attempt().catch((e: unknown) => {
    modulePromise = undefined;
    throw e;
  });
  return modulePromise;
}

/** An in-memory DuckDB database with one connection. Close it when done. */
export class SqlEngine {
  readonly #duckdb: DuckDBModule;
  readonly #instance: DuckDBInstance;
  readonly #connection: DuckDBConnection;

  private constructor(duckdb: DuckDBModule, instance: DuckDBInstance, c: DuckDBConnection) {
    this.#duckdb = duckdb;
    this.#instance = instance;
    this.#connection = c;
  }

  /**
   * Opens an empty in-memory database.
   * @param load - how to import `@duckdb/node-api` (tests)
   * @returns the engine
   * @throws RunledgerError `DEPENDENCY_MISSING`
   */
  static async open(load?: () => Promise<unknown>): Promise<SqlEngine> {
    const duckdb = await loadDuckDB(load);
    // No extension is ever downloaded or loaded: the views need none.
    const instance = await duckdb.DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    return new SqlEngine(duckdb, instance, await instance.connect());
  }

  /** Runs statements of ours (not a user's: those go through {@link queryReadOnly}). */
  async run(sql: string): Promise<void> {
    await this.#connection.run(sql);
  }

  /**
   * Runs a `COPY … TO` of ours (after the user's part of it was checked with
   * {@link assertReadOnly}).
   * @param sql - the COPY statement
   * @returns the number of rows written
   * @throws RunledgerError `SQL_INVALID`, `SQL_REFUSED`
   */
  async copy(sql: string): Promise<number> {
    try {
      const result = await this.#connection.runAndReadAll(sql);
      return Number(result.getRows()[0]?.[0] ?? 0);
    } catch (cause) {
      throw sqlError(cause);
    }
  }

  /**
   * Creates a table and fills it with the columns given (all of one length).
   * @param table - its name (quoted here)
   * @param columns - the columns, in order
   */
  async createTable(table: string, columns: readonly SqlColumn[]): Promise<void> {
    const d = this.#duckdb;
    // Timestamps are staged as text or numbers and cast once the rows are in.
    const staged = columns.map((c) =>
      c.type === 'TIMESTAMPTZ'
        ? { ...c, stage: typeof firstPresent(c.values) === 'number' ? 'DOUBLE' : 'VARCHAR' }
        : { ...c, stage: c.type }
    );
    const stage = `${table}__stage`;
    await this.run(
      `CREATE TABLE ${quoteIdentifier(stage)} (${staged
        .map((c) => `${quoteIdentifier(c.name)} ${c.stage}`)
        .join(', ')})`
    );
    const types: DuckDBType[] = staged.map((c) =>
      c.stage === 'BIGINT'
        ? d.BIGINT
        : c.stage === 'DOUBLE'
          ? d.DOUBLE
          : c.stage === 'BOOLEAN'
            ? d.BOOLEAN
            : d.VARCHAR
    );
    const rows = columns[0]?.values.length ?? 0;
    if (columns.length > 0 && rows > 0) {
      const appender = await this.#connection.createAppender(stage);
      try {
        for (let at = 0; at < rows; at += CHUNK) {
          const n = Math.min(CHUNK, rows - at);
          const chunk = d.DuckDBDataChunk.create(types, n);
          staged.forEach((c, i) => {
            const out = new Array<number | bigint | boolean | string | null>(n);
            for (let r = 0; r < n; r++) {
              const v = c.values[at + r] ?? null;
              out[r] =
                v === null
                  ? null
                  : c.stage === 'BIGINT'
                    ? typeof v === 'bigint'
                      ? v
                      : BigInt(v as number)
                    : v;
            }
            chunk.setColumnValues(i, out as never[]);
          });
          appender.appendDataChunk(chunk);
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    }
    const select = staged
      .map((c) => {
        const q = quoteIdentifier(c.name);
        if (c.type !== 'TIMESTAMPTZ') return q;
        return c.stage === 'DOUBLE'
          ? `to_timestamp(${q} / 1000.0) AS ${q}`
          : `CAST(${q} AS TIMESTAMPTZ) AS ${q}`;
      })
      .join(', ');
    await this.run(
      `CREATE TABLE ${quoteIdentifier(table)} AS SELECT ${select || '*'} FROM ${quoteIdentifier(stage)}`
    );
    await this.run(`DROP TABLE ${quoteIdentifier(stage)}`);
  }

  /**
   * Runs one read-only statement of a user's: refused unless it is a single `SELECT` — which
   * rules out `COPY`, `ATTACH`, `INSTALL`, `SET`, `PRAGMA`, `CREATE`, `INSERT`…
   * @param sql - the statement
   * @returns its columns
   * @throws RunledgerError `SQL_REFUSED`, `SQL_INVALID`
   */
  async queryReadOnly(sql: string): Promise<ResultColumn[]> {
    await this.assertReadOnly(sql);
    let result: DuckDBResultReader;
    try {
      result = await this.#connection.runAndReadAll(sql);
    } catch (cause) {
      throw sqlError(cause);
    }
    return this.#columns(result);
  }

  /**
   * Checks, by parsing alone (DuckDB's `json_serialize_sql`, which serializes SELECT statements
   * only), that a text is exactly one `SELECT` statement.
   * @param sql - the text
   * @throws RunledgerError `SQL_REFUSED`, `SQL_INVALID`
   */
  async assertReadOnly(sql: string): Promise<void> {
    const result = await this.#connection.runAndReadAll(
      `SELECT json_serialize_sql(${quoteLiteral(sql)})`
    );
    const parsed = JSON.parse(String(result.getRows()[0]?.[0])) as {
      error?: boolean;
      error_message?: string;
      statements?: unknown[];
    };
    if (parsed.error === true) {
      const message = parsed.error_message ?? 'it does not parse';
      if (/only select statements/i.test(message)) {
        const kind = /^\s*([A-Za-z]+)/.exec(
          sql.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/, '')
        );
        throw new RunledgerError(
          'SQL_REFUSED',
          `The store is read-only to SQL: ${kind === null ? 'this statement is' : `${(kind[1] as string).toUpperCase()} statements are`} refused; only SELECT runs.`,
          { data: { statement: kind?.[1]?.toUpperCase() ?? null } }
        );
      }
      throw new RunledgerError(
        'SQL_INVALID',
        `The SQL statement does not parse: ${sentence(message)}`,
        {
          data: { duckdb: message },
        }
      );
    }
    const count = parsed.statements?.length ?? 0;
    if (count !== 1) {
      throw new RunledgerError(
        'SQL_REFUSED',
        `runledger runs one SELECT statement at a time, and this text has ${count}.`,
        { data: { statements: count } }
      );
    }
  }

  /**
   * Closes off everything outside the views: no file may be read or written but the paths
   * given, and no setting may change afterwards.
   * @param readable - directories the views read (and nothing else)
   * @param writable - files a `COPY` of ours writes
   */
  async lockDown(readable: readonly string[], writable: readonly string[] = []): Promise<void> {
    const list = (xs: readonly string[]): string => `[${xs.map(quoteLiteral).join(', ')}]`;
    if (readable.length > 0) await this.run(`SET allowed_directories = ${list(readable)}`);
    if (writable.length > 0) await this.run(`SET allowed_paths = ${list(writable)}`);
    await this.run('SET enable_external_access = false');
    await this.run('SET lock_configuration = true');
  }

  /** Closes the connection and the database. */
  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }

  #columns(result: DuckDBResultReader): ResultColumn[] {
    const d = this.#duckdb;
    const T = d.DuckDBTypeId;
    const names = result.columnNames();
    const types = result.columnTypes();
    const js = result.getColumnsJS();
    return names.map((name, i) => {
      const type = types[i] as DuckDBType;
      const raw = (js[i] ?? []) as unknown[];
      switch (type.typeId) {
        case T.BOOLEAN:
          return { name, kind: 'bool', values: raw as (boolean | null)[] };
        case T.TINYINT:
        case T.SMALLINT:
        case T.INTEGER:
        case T.UTINYINT:
        case T.USMALLINT:
        case T.UINTEGER:
        case T.BIGINT:
        case T.UBIGINT:
        case T.HUGEINT:
        case T.UHUGEINT: {
          const values = raw.map((v) => (v === null ? null : BigInt(v as number | bigint)));
          const fits = values.every((v) => v === null || (v >= -(2n ** 63n) && v < 2n ** 63n));
          return fits
            ? { name, kind: 'int64', values }
            : { name, kind: 'float64', values: values.map((v) => (v === null ? null : Number(v))) };
        }
        case T.FLOAT:
        case T.DOUBLE:
        case T.DECIMAL:
          return { name, kind: 'float64', values: raw.map((v) => (v === null ? null : Number(v))) };
        case T.VARCHAR:
          return { name, kind: 'utf8', values: raw as (string | null)[] };
        case T.TIMESTAMP:
        case T.TIMESTAMP_S:
        case T.TIMESTAMP_MS:
        case T.TIMESTAMP_NS:
        case T.TIMESTAMP_TZ:
          return {
            name,
            kind: 'timestamp',
            values: raw.map((v) =>
              v instanceof Date ? v.toISOString() : v === null ? null : String(v)
            ),
          };
        default: {
          // Dates, lists, structs, maps, blobs…: DuckDB's own text for each value.
          const vector = result.getColumns()[i] ?? [];
          return {
            name,
            kind: 'utf8',
            values: vector.map((v) => (v === null ? null : String(v))),
          };
        }
      }
    });
  }
}

function firstPresent(values: SqlColumn['values']): unknown {
  for (let i = 0; i < values.length; i++) if (values[i] !== null) return values[i];
  return undefined;
}

/** DuckDB's text ending as one sentence does. */
function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A DuckDB parse, bind or run error as `SQL_INVALID`, DuckDB's first line as the message. */
function sqlError(cause: unknown): RunledgerError {
  if (cause instanceof RunledgerError) return cause;
  const text = cause instanceof Error ? cause.message : String(cause);
  const lines = text.split('\n');
  const first = sentence(lines[0] ?? text);
  if (/^Permission Error/i.test(first)) {
    return new RunledgerError(
      'SQL_REFUSED',
      `The statement reaches outside the views, which is refused: ${first}`,
      { data: { duckdb: text }, cause }
    );
  }
  return new RunledgerError('SQL_INVALID', `The SQL statement failed: ${first}`, {
    data: { duckdb: text },
    cause,
  });
}

/**
 * An identifier in double quotes (`params.lr` → `"params.lr"`).
 * @param name - the identifier
 * @returns it quoted for DuckDB
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal in single quotes.
 * @param text - the text
 * @returns it quoted for DuckDB
 */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
