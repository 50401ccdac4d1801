import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { escapeIdentifier } from 'pg';
import type { SqlDatabase } from '../../core/index.ts';
import { defaultMigrationsDir, migrate, readMigrations } from './migrate.ts';
import { openPglite } from './pglite-database.ts';
import { createPostgresDatabase } from './postgres-database.ts';

export interface TestDatabase {
  db: SqlDatabase;
  /** Closes the database and drops its data. Idempotent. */
  cleanup(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply the migrations (default true). */
  migrated?: boolean;
}

/**
 * A migrated database of its own for one test: on PostgreSQL when `DATABASE_URL` is set (a fresh schema,
 * dropped on cleanup), on PGlite otherwise (a copy of a template, closed on cleanup).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  return url ? createPostgresTestDatabase(url) : createPgliteTestDatabase();
}

export async function createPostgresTestDatabase(url: string, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  const drop = async () => {
    const admin = await createPostgresDatabase({ url, max: 1 });
    try {
      await admin.query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(schema)} CASCADE`);
    } finally {
      await admin.close();
    }
  };
  const db = await createPostgresDatabase({ url, schema, max: 4 });
  try {
    if (options.migrated ?? true) await migrate(db);
  } catch (error) {
    await db.close();
    await drop();
    throw error;
  }
  let cleaning: Promise<void> | undefined;
  return { db, cleanup: () => (cleaning ??= db.close().then(drop)) };
}

export async function createPgliteTestDatabase(
  options: TestDatabaseOptions & { dataDir?: string } = {},
): Promise<TestDatabase> {
  const template = await ((options.migrated ?? true) ? migratedTemplate() : emptyTemplate());
  const { db } = await openPglite({ dataDir: options.dataDir, loadDataDir: template });
  return { db, cleanup: () => db.close() };
}

// Creating a PGlite database runs initdb (seconds); loading a dump of one takes a fraction of a second. The
// dumps are made once per process and also kept on disk, keyed by PGlite's version and the migrations,
// because vitest isolates test files and memory does not carry over from one file to the next. Delete
// $TMPDIR/archipel-pglite-templates to rebuild them.
let empty: Promise<Blob> | undefined;
let migrated: Promise<Blob> | undefined;

function emptyTemplate(): Promise<Blob> {
  return (empty ??= cachedTemplate(`empty-${pgliteVersion()}`, async () => {
    const { db, dump } = await openPglite({});
    try {
      return await dump();
    } finally {
      await db.close();
    }
  }).catch((error: unknown) => {
    empty = undefined;
    throw error;
  }));
}

function migratedTemplate(): Promise<Blob> {
  return (migrated ??= (async () => {
    const migrations = await readMigrations(defaultMigrationsDir);
    const key = createHash('sha256')
      .update(migrations.map((m) => `${m.name}:${m.checksum}`).join('\n'))
      .digest('hex')
      .slice(0, 16);
    return cachedTemplate(`migrated-${pgliteVersion()}-${key}`, async () => {
      const { db, dump } = await openPglite({ loadDataDir: await emptyTemplate() });
      try {
        await migrate(db);
        return await dump();
      } finally {
        await db.close();
      }
    });
  })().catch((error: unknown) => {
    migrated = undefined;
    throw error;
  }));
}

async function cachedTemplate(name: string, create: () => Promise<Blob>): Promise<Blob> {
  const file = join(tmpdir(), 'archipel-pglite-templates', `${name}.tar.gz`);
  try {
    return new Blob([gunzipSync(await readFile(file))]);
  } catch {
    // Not made yet (or unreadable): make it.
  }
  const blob = await create();
  try {
    await mkdir(dirname(file), { recursive: true });
    // Written under a unique name, then renamed: other processes never see half a file.
    const partial = `${file}.${randomUUID()}.partial`;
    await writeFile(partial, gzipSync(Buffer.from(await blob.arrayBuffer()), { level: 1 }));
    await rename(partial, file).catch(() => rm(partial, { force: true }));
  } catch {
    // A cache only: the next process makes the template again.
  }
  return blob;
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@electric-sql/pglite'); // .../dist/index.cjs
  return (require(join(dirname(entry), '..', 'package.json')) as { version: string }).version;
}
