/**
 * The SQL database port. One dialect (PostgreSQL 15, which PGlite also speaks), positional parameters
 * (`$1`, `$2`, ...), and one schema managed by the shared migrations. Adapters translate driver errors
 * into the core taxonomy: a unique or foreign-key violation becomes a `ConflictError`, a lost connection
 * an `UnavailableError`.
 */
export interface SqlResult<Row> {
  rows: Row[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

export interface SqlQueryOptions {
  signal?: AbortSignal;
}

export interface SqlExecutor {
  /**
   * Runs one statement with its parameters. Without parameters the text may hold several statements
   * separated by `;` (the migrations rely on this); the result is then the last statement's.
   */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<SqlResult<Row>>;
}

export interface SqlDatabase extends SqlExecutor {
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (the error
   * is rethrown). Queries inside must go through the given executor: using the database itself there is
   * an error (on a single-connection database it would wait for the transaction forever).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: SqlQueryOptions): Promise<T>;
  /** Releases connections or closes the embedded database. Idempotent. */
  close(): Promise<void>;
}
