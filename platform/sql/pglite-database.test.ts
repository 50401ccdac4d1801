import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../core/index.ts';
import { createPgliteDatabase } from './pglite-database.ts';
import { runSqlDatabaseContract } from './sql-database.contract.ts';
import { createPgliteTestDatabase } from './testing.ts';

// Every test starts from a copy of one empty database: creating one from scratch takes seconds.
runSqlDatabaseContract('PGlite in memory', {
  create: async () => (await createPgliteTestDatabase({ migrated: false })).db,
});

const dataDirs = new Map<SqlDatabase, string>();
runSqlDatabaseContract('PGlite in a data directory', {
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'archipel-pglite-'));
    const { db } = await createPgliteTestDatabase({ migrated: false, dataDir: join(dir, 'db') });
    dataDirs.set(db, dir);
    return db;
  },
  async cleanup(db) {
    await db.close();
    await rm(dataDirs.get(db)!, { recursive: true, force: true });
    dataDirs.delete(db);
  },
});

describe('createPgliteDatabase', () => {
  it('creates a database in a new directory and keeps its data across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archipel-pglite-'));
    try {
      const first = await createPgliteDatabase({ dataDir: join(dir, 'db') });
      await first.query('CREATE TABLE notes (id int8 PRIMARY KEY, body text)');
      await first.transaction((tx) => tx.query('INSERT INTO notes VALUES ($1, $2)', [1, 'kept']));
      await first.close();

      const second = await createPgliteDatabase({ dataDir: join(dir, 'db') });
      try {
        expect((await second.query('SELECT * FROM notes')).rows).toEqual([{ id: '1', body: 'kept' }]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
