import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/index.ts';
import { readMigrations, defaultMigrationsDir } from './migrate.ts';
import { createTestDatabase } from './testing.ts';

// Runs on PostgreSQL when DATABASE_URL is set, on PGlite otherwise, as the tests that use it do.
describe('createTestDatabase', () => {
  it('gives each caller a migrated database of its own', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      const names = (await readMigrations(defaultMigrationsDir)).map((m) => m.name);
      const { rows } = await a.db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(names);

      await a.db.query('INSERT INTO users (id, name) VALUES ($1, $2)', ['u1', 'ann']);
      expect((await b.db.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 0 }]);
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  });

  it('closes the database on cleanup, and cleanup may run twice', async () => {
    const { db, cleanup } = await createTestDatabase();
    await cleanup();
    await cleanup();
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(UnavailableError);
  });
});
