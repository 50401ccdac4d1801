import { describe, expect, it } from 'vitest';
import { UnavailableError, type SqlDatabase } from '../../core/index.ts';
import { createPostgresDatabase } from './postgres-database.ts';
import { runSqlDatabaseContract } from './sql-database.contract.ts';
import { createPostgresTestDatabase, type TestDatabase } from './testing.ts';

const url = process.env.DATABASE_URL;

// These need a PostgreSQL server, which CI provides through DATABASE_URL. Without one they are skipped:
// the same contract still runs on PGlite (pglite-database.test.ts).
describe.skipIf(!url)('PostgreSQL', () => {
  // Each test works in a schema of its own, dropped afterwards.
  const testDatabases = new Map<SqlDatabase, TestDatabase>();
  runSqlDatabaseContract('PostgreSQL', {
    async create() {
      const test = await createPostgresTestDatabase(url!, { migrated: false });
      testDatabases.set(test.db, test);
      return test.db;
    },
    async cleanup(db) {
      await testDatabases.get(db)?.cleanup();
      testDatabases.delete(db);
    },
  });

  it('keeps schemas apart, whatever their names', async () => {
    const schema = `archipel test "${Date.now()}"; DROP`;
    const a = await createPostgresDatabase({ url: url!, schema, max: 2 });
    const b = await createPostgresTestDatabase(url!, { migrated: false });
    try {
      await a.query('CREATE TABLE only_in_a (n int)');
      expect((await a.query('SELECT current_schema() AS s')).rows).toEqual([{ s: schema }]);
      await expect(b.db.query('SELECT * FROM only_in_a')).rejects.toThrow(/only_in_a/);
    } finally {
      await a.query(`DROP SCHEMA "${schema.replaceAll('"', '""')}" CASCADE`);
      await a.close();
      await b.cleanup();
    }
  });
});

describe('createPostgresDatabase', () => {
  it('fails at start, as unavailable, when the server cannot be reached', async () => {
    await expect(createPostgresDatabase({ url: 'postgres://nobody@127.0.0.1:1/none' })).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});
