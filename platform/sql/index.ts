// The SQL adapters (PGlite embedded, PostgreSQL) and the shared migrations. Tests use `testing.ts` and
// `sql-database.contract.ts` directly.
export { createPgliteDatabase, type PgliteDatabaseOptions } from './pglite-database.ts';
export { createEphemeralPgliteDatabase, type EphemeralPgliteOptions } from './ephemeral-pglite.ts';
export { createPostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.ts';
export { migrate, type MigrateOptions, type MigrateResult } from './migrate.ts';
export { TransactionConflictError } from './translate-error.ts';
