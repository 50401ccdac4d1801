import { createRequire } from 'node:module';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { types as pgTypes } from 'pg';
import {
  UnavailableError,
  silentLogger,
  type Logger,
  type SqlDatabase,
  type SqlExecutor,
  type SqlQueryOptions,
  type SqlResult,
} from '../../core/index.ts';
import { createTransactionGuard } from './transaction-guard.ts';
import { translateError } from './translate-error.ts';

export interface PgliteDatabaseOptions {
  /** Directory holding the database files (created if missing); undefined keeps the database in memory. */
  dataDir?: string;
  logger?: Logger;
}

/** Internal (test templates): the adapter, and a way to snapshot its data directory. */
export interface PgliteHandle {
  db: SqlDatabase;
  /** An uncompressed tarball of the data directory, to pass back as `loadDataDir`. */
  dump(): Promise<Blob>;
}

// Results must look exactly as with node-postgres (int8 as a string, bytea as a Buffer, dates and
// intervals parsed the same way), so these types are parsed by node-postgres's own parsers. PGlite builds
// the parsers of array types from those of their elements.
const PG_PARSED_TYPES = [17 /* bytea */, 20 /* int8 */, 600 /* point */, 718 /* circle */, 1082 /* date */,
  1114 /* timestamp */, 1184 /* timestamptz */, 1186 /* interval */];
const parsers = Object.fromEntries(PG_PARSED_TYPES.map((oid) => [oid, pgTypes.getTypeParser(oid, 'text')]));

// Parameters are converted as node-postgres converts them (dates, arrays as array literals, objects as
// JSON), so that a query which works on PGlite also works on PostgreSQL, and one that fails there fails here.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown;
};

export async function createPgliteDatabase(options: PgliteDatabaseOptions = {}): Promise<SqlDatabase> {
  return (await openPglite(options)).db;
}

export async function openPglite(options: PgliteDatabaseOptions & { loadDataDir?: Blob }): Promise<PgliteHandle> {
  const logger = (options.logger ?? silentLogger).child({ component: 'sql', engine: 'pglite' });
  const where = options.dataDir ?? 'memory';
  let pg: PGlite;
  try {
    pg = await PGlite.create({ dataDir: options.dataDir, loadDataDir: options.loadDataDir, parsers });
  } catch (error) {
    throw new Error(`cannot open the embedded database (${where})`, { cause: error });
  }
  logger.debug('embedded database opened', { dataDir: where });

  const guard = createTransactionGuard();
  let closing: Promise<void> | undefined;
  const assertOpen = () => {
    if (closing) throw new UnavailableError('database is closed');
  };

  const db: SqlDatabase = {
    // PGlite queues this behind a running transaction (its transaction mutex), never inside it.
    async query<Row>(text: string, params?: readonly unknown[], queryOptions?: SqlQueryOptions) {
      assertOpen();
      guard.assertOutside();
      return run<Row>(pg, text, params, queryOptions?.signal);
    },

    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, txOptions?: SqlQueryOptions): Promise<T> {
      assertOpen();
      guard.assertOutside();
      const signal = txOptions?.signal;
      signal?.throwIfAborted();
      let workFailed = false;
      try {
        // PGlite's transaction() holds its transaction mutex throughout and rolls back when this throws.
        return await pg.transaction(async (tx) => {
          let finished = false;
          const executor: SqlExecutor = {
            async query<Row>(text: string, params?: readonly unknown[], queryOptions?: SqlQueryOptions) {
              if (finished) throw new Error('transaction already finished');
              signal?.throwIfAborted();
              return run<Row>(tx, text, params, queryOptions?.signal);
            },
          };
          try {
            const result = await guard.run(() => work(executor));
            signal?.throwIfAborted(); // abandoned: roll back rather than commit
            return result;
          } catch (error) {
            workFailed = true;
            throw error;
          } finally {
            finished = true;
          }
        });
      } catch (error) {
        // The work's own errors pass through untouched; BEGIN and COMMIT failures are translated.
        throw workFailed ? error : translate(error);
      }
    },

    close() {
      // PGlite lets running queries and transactions finish first.
      closing ??= pg.close().then(() => logger.debug('embedded database closed'));
      return closing;
    },
  };

  return {
    db,
    async dump() {
      assertOpen();
      return pg.dumpDataDir('none');
    },
  };
}

async function run<Row>(
  target: PGlite | Transaction,
  text: string,
  params: readonly unknown[] | undefined,
  signal: AbortSignal | undefined,
): Promise<SqlResult<Row>> {
  signal?.throwIfAborted();
  try {
    // Without parameters, the simple protocol: several statements allowed, as with node-postgres.
    if (!params?.length) return toResult<Row>((await target.exec(text)).at(-1));
    return toResult<Row>(await target.query<Row>(text, params.map((value) => prepareValue(value))));
  } catch (error) {
    throw translate(error);
  }
}

function toResult<Row>(result: Results<Row> | Results | undefined): SqlResult<Row> {
  return { rows: (result?.rows ?? []) as Row[], rowCount: result?.rowCount ?? 0 };
}

function translate(error: unknown): Error {
  // PGlite attaches the query's parameters to its errors: drop them, so that no secret reaches a log
  // through `cause`.
  if (typeof error === 'object' && error !== null && 'params' in error) delete (error as { params?: unknown }).params;
  return translateError(error);
}
