import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError, silentLogger, type Logger, type SqlDatabase, type SqlExecutor } from '../../core/index.ts';

export interface MigrateOptions {
  logger?: Logger;
  /** Folder of `*.sql` files applied in name order; defaults to this module's `migrations/`. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Names of the migrations applied by this call, in order. */
  applied: string[];
}

export interface Migration {
  name: string;
  path: string;
  sql: string;
  checksum: string;
}

export const defaultMigrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Applies the migrations not applied yet, each in its own transaction together with its row in
 * `schema_migrations`. A migration file may hold several statements, and no BEGIN/COMMIT of its own.
 * Processes migrating the same schema at once wait for each other (a transaction-level advisory lock); a
 * migration changed since it was applied stops everything, because the schema no longer matches the code.
 */
export async function migrate(db: SqlDatabase, options: MigrateOptions = {}): Promise<MigrateResult> {
  const logger = options.logger ?? silentLogger;
  const migrations = await readMigrations(options.migrationsDir ?? defaultMigrationsDir);

  const pending = await db.transaction(async (tx) => {
    const applied = await lockAndRead(tx);
    const changed = migrations.filter((m) => applied.has(m.name) && applied.get(m.name) !== m.checksum);
    if (changed.length) {
      throw new ConflictError(
        `migration ${changed.map((m) => m.path).join(', ')} changed after it was applied: restore it and put the change in a new migration`,
        { details: { migrations: changed.map((m) => m.name) } },
      );
    }
    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...applied.keys()].filter((name) => !known.has(name));
    if (unknown.length) logger.warn('the database has migrations this version does not know', { migrations: unknown });
    return migrations.filter((m) => !applied.has(m.name));
  });

  const done: string[] = [];
  for (const migration of pending) {
    const appliedNow = await db.transaction(async (tx) => {
      if ((await lockAndRead(tx)).has(migration.name)) return false; // another process was faster
      try {
        await tx.query(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.path} failed`, { cause: error });
      }
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (appliedNow) {
      done.push(migration.name);
      logger.info('migration applied', { migration: migration.name });
    }
  }
  return { applied: done };
}

/** Waits for other migrators of this schema, then returns the applied migrations' checksums by name. */
async function lockAndRead(tx: SqlExecutor): Promise<Map<string, string>> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('archipel.migrate.' || coalesce(current_schema(), '')))`);
  // Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL.
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name       text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await tx.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

/** The `*.sql` files of a folder in name order, with their checksums (line endings do not count). */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const sql = await readFile(path, 'utf8');
      const checksum = createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
      return { name, path, sql, checksum };
    }),
  );
}
