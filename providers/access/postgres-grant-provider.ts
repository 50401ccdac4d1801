import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier, escapeLiteral, type QueryConfig, type QueryResult } from 'pg';
import {
  ConflictError,
  InvalidInputError,
  NotImplementedError,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
} from '../../core/index.ts';
import { GRANT_ID, type GrantProvider } from './grant-provider.ts';
import { PG_IDENTIFIER } from './grant-target.ts';

export interface PostgresGrantProviderOptions {
  /**
   * The connection that creates views and roles: a role with CREATEROLE that can read the shared tables
   * (not a superuser in production: a view reads with its owner's rights, so a query source can read
   * whatever this role can).
   */
  adminUrl: string;
  /** The schema that holds the grants' views (default `archipel_grants`; created if missing). */
  schema?: string;
  /** Where grantees connect, if not where the admin connection does (its credentials are never given out). */
  publicUrl?: string;
  /** Sessions one grant's role may hold at once (default 4). */
  connectionLimit?: number;
  /** Longest statement the role may run (default 5 minutes). */
  statementTimeoutMs?: number;
  logger?: Logger;
}

/** The role and view of a grant, derived from its id. */
export function postgresGrantNames(id: string, schema = 'archipel_grants') {
  const hex = id.replaceAll('-', '');
  const view = `g_${hex}`;
  return { role: `archipel_grant_${hex}`, view, qualifiedView: `${escapeIdentifier(schema)}.${escapeIdentifier(view)}` };
}

/** `schema.table` or `table`, each part validated and quoted. */
function quotedTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((part) => PG_IDENTIFIER.test(part))) {
    throw new InvalidInputError(`invalid table name "${table}"`, [{ path: 'source.table', message: 'must be "table" or "schema.table"' }]);
  }
  return parts.map(escapeIdentifier).join('.');
}

/** One SELECT (or WITH ... SELECT), without a trailing semicolon; the server rejects any second statement too. */
function readQuery(query: string): string {
  const text = query.trim().replace(/;\s*$/, '');
  if (!/^(?:select|with)\b/i.test(text) || text.includes(';')) {
    throw new InvalidInputError('a query source must be a single SELECT', [{ path: 'source.query', message: 'must be a single SELECT (or WITH ... SELECT) query' }]);
  }
  return text;
}

/** Translates a driver error from the grant statements. */
function translate(error: unknown, what: string): Error {
  const code = (error as { code?: string }).code;
  const message = `${what}: ${describeError(error)}`;
  if (code === '42P01' || code === '42601' || code === '42703' || code === '42883' || code === '0A000' || code === '42P10') {
    // Undefined table or column, syntax error, unsupported (a data-modifying WITH, several statements).
    return new InvalidInputError(message, [{ path: 'source', message: describeError(error) }], { cause: error });
  }
  if (code === '42501') return new InvalidInputError(`${message} (the provider's database role may not read it)`, [], { cause: error });
  if (code === '42710' || code === '42P07') return new ConflictError(message, { cause: error });
  // Lost connections, a server shutting down, anything else: the provider cannot serve now.
  return new UnavailableError(message, { cause: error });
}

/**
 * PostgreSQL data grants: for each grant, a view over the shared table or query in a schema of its own
 * (`archipel_grants`), and a LOGIN role with a random password, `VALID UNTIL` the grant's expiry and a
 * connection limit, that may use that schema and SELECT that view and nothing else (the view reads with
 * its owner's rights; the role is granted nothing on the base table). Every statement goes through the
 * extended protocol, so a source query can never smuggle in a second statement. Revoking forbids new
 * logins, ends the role's sessions, and drops the view and the role.
 */
export function createPostgresGrantProvider(options: PostgresGrantProviderOptions): GrantProvider {
  const schema = options.schema ?? 'archipel_grants';
  const logger = (options.logger ?? silentLogger).child({ component: 'postgres-grants' });
  const connectionLimit = options.connectionLimit ?? 4;
  const statementTimeoutMs = options.statementTimeoutMs ?? 5 * 60_000;
  const issues: { path: string; message: string }[] = [];
  if (!PG_IDENTIFIER.test(schema)) issues.push({ path: 'schema', message: 'must be a schema name' });
  if (!Number.isInteger(connectionLimit) || connectionLimit < 1) issues.push({ path: 'connectionLimit', message: 'must be a positive integer' });
  if (!URL.canParse(options.adminUrl)) issues.push({ path: 'adminUrl', message: 'must be a postgres:// URL' });
  if (issues.length) throw new InvalidInputError('invalid PostgreSQL grant provider options', issues);
  const quotedSchema = escapeIdentifier(schema);

  /** Runs `work` on a fresh admin connection (grants are rare: no pool to keep open). */
  async function withAdmin<T>(signal: AbortSignal | undefined, work: (run: (sql: string, params?: unknown[]) => Promise<QueryResult>) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const client = new Client({ connectionString: options.adminUrl });
    client.on('error', () => {}); // a broken connection fails the query that is running
    try {
      await client.connect();
    } catch (error) {
      throw new UnavailableError(`cannot connect to the PostgreSQL data provider: ${describeError(error)}`, { cause: error });
    }
    try {
      return await work((text, values = []) => {
        signal?.throwIfAborted();
        // `queryMode: 'extended'` (not in @types/pg): one statement per call, even without parameters.
        return client.query({ text, values, queryMode: 'extended' } as QueryConfig);
      });
    } finally {
      await client.end().catch(() => {});
    }
  }

  function grantUrl(user: string, password: string): string {
    const url = new URL(options.publicUrl ?? options.adminUrl);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    return url.toString();
  }

  return {
    async grant(id, target, grantOptions) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      if (target.kind !== 'data' || target.source.type !== 'postgresql') {
        throw new NotImplementedError(
          target.kind === 'storage' && target.target.type === 'postgresql'
            ? 'PostgreSQL storage grants (a schema to write into) are not implemented yet'
            : `the PostgreSQL grant provider cannot grant a ${target.kind === 'data' ? target.source.type : target.target.type} target`,
        );
      }
      const source = target.source;
      const body = source.table !== undefined ? `SELECT * FROM ${quotedTable(source.table)}` : readQuery(source.query ?? '');
      const { role, qualifiedView } = postgresGrantNames(id, schema);
      const quotedRole = escapeIdentifier(role);
      const password = randomBytes(24).toString('base64url');
      const validUntil = grantOptions.expiresAt.toISOString();

      await withAdmin(grantOptions.signal, async (run) => {
        await run(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`).catch((error: unknown) => {
          // Two grants creating the schema at once: one loses, and the schema exists.
          if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P06') throw error;
        });
        try {
          await run('BEGIN');
          await run(`REVOKE ALL ON SCHEMA ${quotedSchema} FROM PUBLIC`);
          await run(`CREATE VIEW ${qualifiedView} AS ${body}`);
          await run(`REVOKE ALL ON ${qualifiedView} FROM PUBLIC`);
          await run(
            `CREATE ROLE ${quotedRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
               CONNECTION LIMIT ${connectionLimit} VALID UNTIL ${escapeLiteral(validUntil)} PASSWORD ${escapeLiteral(password)}`,
          );
          await run(`ALTER ROLE ${quotedRole} SET default_transaction_read_only = on`);
          await run(`ALTER ROLE ${quotedRole} SET statement_timeout = ${Math.max(1, Math.floor(statementTimeoutMs))}`);
          await run(`ALTER ROLE ${quotedRole} SET search_path = ${quotedSchema}`);
          await run(`GRANT USAGE ON SCHEMA ${quotedSchema} TO ${quotedRole}`);
          await run(`GRANT SELECT ON ${qualifiedView} TO ${quotedRole}`);
          await run(`COMMENT ON ROLE ${quotedRole} IS ${escapeLiteral(`archipel grant ${id} for ${grantOptions.grantee.user}@${grantOptions.grantee.cluster}`)}`);
          await run('COMMIT');
        } catch (error) {
          await run('ROLLBACK').catch(() => {});
          throw translate(error, `cannot grant access to ${source.table ?? 'the query'}`);
        }
      });
      logger.info('postgresql grant created', { grant: id, role, view: qualifiedView, validUntil });
      return { type: 'database-role', connectionString: grantUrl(role, password), user: role, password, view: qualifiedView };
    },

    async revoke(id, _target, revokeOptions) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      const { role, qualifiedView } = postgresGrantNames(id, schema);
      const quotedRole = escapeIdentifier(role);
      await withAdmin(revokeOptions?.signal, async (run) => {
        const exists = (await run('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount ?? 0;
        const schemaExists = (await run('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0;
        try {
          if (exists) {
            // No new sessions, then end the open ones: dropping a role does not end them by itself.
            await run(`ALTER ROLE ${quotedRole} NOLOGIN`);
            await run('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]).catch((error: unknown) => {
              // Without pg_signal_backend the sessions stay open until they end; the role goes anyway.
              logger.warn('cannot end the sessions of a revoked grant', { grant: id, error: describeError(error) });
            });
          }
          await run('BEGIN');
          if (schemaExists) await run(`DROP VIEW IF EXISTS ${qualifiedView}`);
          if (exists) {
            if (schemaExists) await run(`REVOKE ALL ON SCHEMA ${quotedSchema} FROM ${quotedRole}`);
            await run(`DROP ROLE IF EXISTS ${quotedRole}`);
          }
          await run('COMMIT');
        } catch (error) {
          await run('ROLLBACK').catch(() => {});
          throw translate(error, `cannot revoke grant ${id}`);
        }
      });
      logger.info('postgresql grant revoked', { grant: id, role });
    },
  };
}
