import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidInputError,
  UnavailableError,
  type SqlDatabase,
  type SqlExecutor,
} from '../../core/index.ts';
import { defaultMigrationsDir, migrate, readMigrations } from './migrate.ts';

export interface SqlDatabaseFactory {
  /** A new database with nothing in it (no migrations applied) that no other test uses. */
  create(): Promise<SqlDatabase>;
  /** Disposes of it (default: `close()`); called after every test, also when the test closed it. */
  cleanup?(db: SqlDatabase): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The behaviour every `SqlDatabase` adapter must have. Each adapter's test calls this. */
export function runSqlDatabaseContract(name: string, factory: SqlDatabaseFactory): void {
  describe(`SqlDatabase contract: ${name}`, () => {
    let db: SqlDatabase;
    beforeEach(async () => {
      db = await factory.create();
    });
    afterEach(async () => {
      await (factory.cleanup ? factory.cleanup(db) : db.close());
    });

    const count = async (table: string, executor: SqlExecutor = db) =>
      (await executor.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;

    describe('values', () => {
      it('round-trips parameters of every common type through a table, never as SQL', async () => {
        await db.query('CREATE TABLE x (id int PRIMARY KEY)'); // what the injection attempt would drop
        await db.query(`CREATE TABLE v (
          t text, big int8, small int4, flag boolean, at timestamptz, doc jsonb, amount numeric, tags text[], nothing text)`);
        const text = `it's "quoted"; '; DROP TABLE x; -- \\ and 'more'`;
        const at = new Date('2024-02-29T12:34:56.789Z');
        const doc = { a: 1, nested: { b: [1, 'two', null] }, quote: "it's" };
        await db.query('INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
          text,
          9007199254740993n, // beyond 2^53: must not lose precision
          42,
          true,
          at,
          doc,
          '12.50',
          ['a', 'b,c', 'd"e'],
          null,
        ]);
        const { rows } = await db.query('SELECT * FROM v');
        expect(rows).toEqual([
          {
            t: text,
            big: '9007199254740993',
            small: 42,
            flag: true,
            at,
            doc,
            amount: '12.50',
            tags: ['a', 'b,c', 'd"e'],
            nothing: null,
          },
        ]);
        expect(rows[0]?.at).toBeInstanceOf(Date);
        expect(await count('x')).toBe(0);
      });

      it('returns int8 (count(*), sums, bigint columns) as a string, like node-postgres', async () => {
        const { rows } = await db.query('SELECT count(*) AS n, $1::int8 AS id, ARRAY[1, 2]::int8[] AS ids', ['12']);
        expect(rows).toEqual([{ n: '1', id: '12', ids: ['1', '2'] }]);
      });

      it('takes JSON documents as objects or as JSON text', async () => {
        const { rows } = await db.query('SELECT $1::jsonb AS a, $2::jsonb AS b', [{ k: [1] }, JSON.stringify([1, 'x'])]);
        expect(rows).toEqual([{ a: { k: [1] }, b: [1, 'x'] }]);
      });

      it('reports rows affected or returned in rowCount', async () => {
        expect((await db.query('CREATE TABLE r (n int)')).rowCount).toBe(0);
        expect((await db.query('INSERT INTO r VALUES ($1), ($2), ($3)', [1, 2, 3])).rowCount).toBe(3);
        expect((await db.query('UPDATE r SET n = n + 10 WHERE n >= $1', [2])).rowCount).toBe(2);
        expect((await db.query('DELETE FROM r WHERE n = $1', [1])).rowCount).toBe(1);
        const selected = await db.query('SELECT n FROM r ORDER BY n');
        expect(selected).toEqual({ rows: [{ n: 12 }, { n: 13 }], rowCount: 2 });
        expect((await db.query('DELETE FROM r WHERE n > 0 RETURNING n')).rows).toHaveLength(2);
      });

      it('runs several statements in a query without parameters, answering with the last', async () => {
        const result = await db.query('CREATE TABLE m (n int); INSERT INTO m VALUES (1), (2); SELECT sum(n) AS total FROM m');
        expect(result.rows).toEqual([{ total: '3' }]);
      });
    });

    describe('transactions', () => {
      beforeEach(async () => {
        await db.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)');
      });

      it('commits when the work resolves, and returns its result', async () => {
        const result = await db.transaction(async (tx) => {
          await tx.query('INSERT INTO items VALUES (1, $1), (2, $2)', ['a', 'b']);
          return count('items', tx);
        });
        expect(result).toBe(2);
        expect(await count('items')).toBe(2);
      });

      it('rolls back when the work throws, and rethrows the same error', async () => {
        const failure = new Error('changed my mind');
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO items VALUES (1, $1)', ['a']);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await count('items')).toBe(0);
      });

      it('rolls back everything when a statement fails', async () => {
        await expect(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO items VALUES (1, $1)', ['a']);
            await tx.query('INSERT INTO items VALUES (1, $1)', ['again']);
          }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await count('items')).toBe(0);
      });

      it('serializes read-modify-write transactions that lock the row', async () => {
        await db.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
        await db.query('INSERT INTO counter VALUES (1, 0)');
        await Promise.all(
          Array.from({ length: 8 }, () =>
            db.transaction(async (tx) => {
              const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter WHERE id = 1 FOR UPDATE');
              await sleep(5); // give the others every chance to interleave
              await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [rows[0]!.n + 1]);
            }),
          ),
        );
        expect((await db.query('SELECT n FROM counter')).rows).toEqual([{ n: 8 }]);
      });

      it('never shows a transaction’s uncommitted writes to queries outside it', async () => {
        let inserted!: () => void;
        const firstInsert = new Promise<void>((resolve) => (inserted = resolve));
        const running = db.transaction(async (tx) => {
          await tx.query('INSERT INTO items VALUES (1, $1)', ['a']);
          inserted();
          await sleep(20);
          await tx.query('INSERT INTO items VALUES (2, $1)', ['b']);
        });
        await firstInsert;
        const seen = await count('items'); // before (PostgreSQL) or after (PGlite waits) the commit
        await running;
        expect([0, 2]).toContain(seen);
      });

      it('rejects use of the database itself inside its transaction instead of deadlocking', async () => {
        await expect(db.transaction(() => db.query('SELECT 1'))).rejects.toThrow(/transaction executor/);
        await expect(db.transaction(() => db.transaction(async () => 1))).rejects.toThrow(/transaction executor/);
        expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });

      it('refuses a transaction executor used after its transaction ended', async () => {
        let leaked: SqlExecutor | undefined;
        await db.transaction(async (tx) => {
          leaked = tx;
        });
        await expect(leaked!.query('SELECT 1')).rejects.toThrow();
      });
    });

    describe('errors', () => {
      beforeEach(async () => {
        await db.query(`CREATE TABLE parents (id int PRIMARY KEY, name text CONSTRAINT parents_name_unique UNIQUE)`);
        await db.query(`CREATE TABLE children (
          id int PRIMARY KEY,
          parent_id int CONSTRAINT children_parent_fk REFERENCES parents(id),
          age int CONSTRAINT children_age_check CHECK (age >= 0))`);
        await db.query('INSERT INTO parents VALUES (1, $1)', ['ann']);
      });

      it('turns a unique violation into a conflict naming the constraint', async () => {
        const error = await db.query('INSERT INTO parents VALUES (2, $1)', ['ann']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ retryable: false, details: { constraint: 'parents_name_unique', sqlState: '23505' } });
        expect((error as Error).cause).toBeDefined();
      });

      it('turns foreign-key and check violations into conflicts', async () => {
        await expect(db.query('INSERT INTO children VALUES (1, 99, 1)')).rejects.toMatchObject({
          kind: 'conflict',
          details: { constraint: 'children_parent_fk' },
        });
        await expect(db.query('INSERT INTO children VALUES (1, 1, -1)')).rejects.toMatchObject({
          kind: 'conflict',
          details: { constraint: 'children_age_check' },
        });
      });

      it('turns a malformed value into invalid input', async () => {
        await expect(db.query('SELECT $1::int AS n', ['twelve'])).rejects.toBeInstanceOf(InvalidInputError);
      });

      it('rejects a syntax error and stays usable', async () => {
        await expect(db.query('SELEC 1')).rejects.toThrow(/syntax/);
        await expect(db.transaction((tx) => tx.query('SELECT FROM WHERE'))).rejects.toThrow(/syntax/);
        expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });

      it('does not start work whose signal is already aborted', async () => {
        const signal = AbortSignal.abort();
        await expect(db.query('SELECT 1', [], { signal })).rejects.toMatchObject({ name: 'AbortError' });
        await expect(db.transaction(async () => 1, { signal })).rejects.toMatchObject({ name: 'AbortError' });
      });

      it('rolls back a transaction whose signal aborts during the work', async () => {
        const controller = new AbortController();
        await expect(
          db.transaction(
            async (tx) => {
              await tx.query('INSERT INTO parents VALUES (2, $1)', ['bob']);
              controller.abort();
            },
            { signal: controller.signal },
          ),
        ).rejects.toMatchObject({ name: 'AbortError' });
        expect(await count('parents')).toBe(1);
      });
    });

    describe('migrations', () => {
      let dir: string;
      beforeEach(async () => {
        dir = await mkdtemp(join(tmpdir(), 'archipel-migrations-'));
      });
      afterEach(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      it('applies the project migrations once', async () => {
        const all = (await readMigrations(defaultMigrationsDir)).map((m) => m.name);
        expect(all.length).toBeGreaterThan(0);
        expect(await migrate(db)).toEqual({ applied: all });
        expect(await migrate(db)).toEqual({ applied: [] });
        const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        expect(rows.map((r) => r.name)).toEqual(all);
        await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', ['u1', 'ann']); // the schema is there
      });

      it('lets concurrent migrators apply each migration exactly once', async () => {
        const all = (await readMigrations(defaultMigrationsDir)).map((m) => m.name);
        const results = await Promise.all([migrate(db), migrate(db), migrate(db)]);
        expect(results.flatMap((r) => r.applied).sort()).toEqual(all);
      });

      it('applies new migrations later, in name order', async () => {
        await writeFile(join(dir, '0002_b.sql'), 'INSERT INTO a VALUES (2);');
        await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (n int);\nINSERT INTO a VALUES (1);');
        await writeFile(join(dir, 'README.md'), 'not a migration');
        expect(await migrate(db, { migrationsDir: dir })).toEqual({ applied: ['0001_a.sql', '0002_b.sql'] });
        await writeFile(join(dir, '0003_c.sql'), 'INSERT INTO a VALUES (3);');
        expect(await migrate(db, { migrationsDir: dir })).toEqual({ applied: ['0003_c.sql'] });
        expect((await db.query('SELECT n FROM a ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      });

      it('refuses to run when an applied migration was changed, naming the file', async () => {
        await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (n int);');
        await migrate(db, { migrationsDir: dir });
        await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (n bigint);');
        await writeFile(join(dir, '0002_b.sql'), 'CREATE TABLE b (n int);');
        await expect(migrate(db, { migrationsDir: dir })).rejects.toThrow(/0001_a\.sql/);
        expect(await count('schema_migrations')).toBe(1); // nothing else applied
      });

      it('leaves no trace of a migration that fails', async () => {
        await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (n int);');
        await writeFile(join(dir, '0002_b.sql'), 'CREATE TABLE b (n int);\nINSERT INTO b VALUES (oops);');
        await expect(migrate(db, { migrationsDir: dir })).rejects.toThrow(/0002_b\.sql/);
        const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
        expect(rows).toEqual([{ name: '0001_a.sql' }]);
        expect((await db.query(`SELECT to_regclass('b') AS b`)).rows).toEqual([{ b: null }]);
      });
    });

    describe('close', () => {
      it('is idempotent, and later queries are refused as unavailable', async () => {
        await db.query('SELECT 1');
        await Promise.all([db.close(), db.close()]);
        await db.close();
        await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(UnavailableError);
        await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(UnavailableError);
      });

      it('lets a running transaction finish', async () => {
        await db.query('CREATE TABLE t (n int)');
        const running = db.transaction(async (tx) => {
          await sleep(20);
          await tx.query('INSERT INTO t VALUES (1)');
          return 'done';
        });
        await sleep(5);
        await db.close();
        await expect(running).resolves.toBe('done');
      });
    });
  });
}
