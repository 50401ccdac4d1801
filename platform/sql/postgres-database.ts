import { Pool, escapeIdentifier, type PoolClient, type QueryResult } from 'pg';
import {
  ConflictError,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
  type SqlDatabase,
  type SqlExecutor,
  type SqlQueryOptions,
  type SqlResult,
} from '../../core/index.ts';
import { createTransactionGuard } from './transaction-guard.ts';
import { translateError } from './translate-error.ts';

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Work in this schema (created if missing) instead of the server's default search path. */
  schema?: string;
  /** Connections in the pool (default 10). */
  max?: number;
  logger?: Logger;
}

/**
 * A PostgreSQL pool. Connects once before resolving, so that a wrong URL or a stopped server fails at
 * start (as an `UnavailableError`). A running query is not cancelled by its signal; an aborted signal stops
 * what has not started yet, and an aborted transaction is rolled back instead of committed.
 */
export async function createPostgresDatabase(options: PostgresDatabaseOptions): Promise<SqlDatabase> {
  const logger = (options.logger ?? silentLogger).child({ component: 'sql', engine: 'postgres' });
  const schema = options.schema === undefined ? undefined : escapeIdentifier(options.schema);
  const pool = new Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    ...(schema && {
      onConnect: async (client) => {
        await client.query(`SET search_path TO ${schema}`);
      },
    }),
  });
  // An idle connection that breaks (server restart) must not crash the process: the pool replaces it.
  pool.on('error', (error) => logger.warn('idle database connection failed', { error: describeError(error) }));

  try {
    await run(pool, schema ? `CREATE SCHEMA IF NOT EXISTS ${schema}` : 'SELECT 1', undefined, undefined);
  } catch (error) {
    // Two processes creating the same schema at once: one of them loses, and the schema exists.
    if (!(error instanceof ConflictError)) {
      await pool.end().catch(() => {});
      throw error;
    }
  }
  logger.debug('database pool ready', { schema: options.schema });

  const guard = createTransactionGuard();
  let closing: Promise<void> | undefined;
  const assertOpen = () => {
    if (closing) throw new UnavailableError('database is closed');
  };

  return {
    async query<Row>(text: string, params?: readonly unknown[], queryOptions?: SqlQueryOptions) {
      assertOpen();
      guard.assertOutside();
      return run<Row>(pool, text, params, queryOptions?.signal);
    },

    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, txOptions?: SqlQueryOptions): Promise<T> {
      assertOpen();
      guard.assertOutside();
      const signal = txOptions?.signal;
      signal?.throwIfAborted();
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translateError(error);
      }
      // A checked-out connection has no error listener of the pool's: without one, a connection lost between
      // two queries would crash the process. The next query reports the loss.
      const onError = (error: Error) => logger.warn('database connection failed', { error: describeError(error) });
      client.on('error', onError);
      // Destroyed rather than returned to the pool when its state is unknown (failed BEGIN, COMMIT, ROLLBACK).
      let broken = false;
      const control = (command: string) =>
        run(client, command, undefined, undefined).catch((error: unknown) => {
          broken = true;
          throw error;
        });
      let finished = false;
      const executor: SqlExecutor = {
        async query<Row>(text: string, params?: readonly unknown[], queryOptions?: SqlQueryOptions) {
          // After the end the connection may serve someone else: never let a leaked executor use it.
          if (finished) throw new Error('transaction already finished');
          signal?.throwIfAborted();
          return run<Row>(client, text, params, queryOptions?.signal);
        },
      };
      try {
        signal?.throwIfAborted(); // aborted while waiting for a connection
        await control('BEGIN');
        let result: T;
        try {
          result = await guard.run(() => work(executor));
          signal?.throwIfAborted(); // abandoned: roll back rather than commit
        } catch (error) {
          finished = true;
          await control('ROLLBACK').catch((rollbackError: unknown) =>
            logger.warn('rollback failed', { error: describeError(rollbackError) }),
          );
          throw error; // the work's own error, untouched
        }
        finished = true;
        await control('COMMIT');
        return result;
      } finally {
        finished = true;
        client.off('error', onError);
        client.release(broken);
      }
    },

    close() {
      // pg waits for checked-out connections to be released.
      closing ??= pool.end().then(() => logger.debug('database pool closed'));
      return closing;
    },
  };
}

async function run<Row>(
  target: Pool | PoolClient,
  text: string,
  params: readonly unknown[] | undefined,
  signal: AbortSignal | undefined,
): Promise<SqlResult<Row>> {
  signal?.throwIfAborted();
  try {
    // Without parameters node-postgres uses the simple protocol, which accepts several statements and
    // then answers with one result per statement: the last one is the query's result.
    const result = (await target.query(text, params?.length ? [...params] : undefined)) as
      | QueryResult
      | QueryResult[];
    const last = Array.isArray(result) ? result.at(-1) : result;
    return { rows: (last?.rows ?? []) as Row[], rowCount: last?.rowCount ?? 0 };
  } catch (error) {
    throw translateError(error);
  }
}
