import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger, type Logger, type SqlDatabase } from '../../core/index.ts';
import { defaultMigrationsDir, migrate, readMigrations } from './migrate.ts';
import { openPglite } from './pglite-database.ts';

export interface EphemeralPgliteOptions {
  /** Where the migrated snapshot is kept between processes (created if missing). */
  snapshotDir: string;
  logger?: Logger;
}

/**
 * A migrated in-memory PGlite database for one process (a one-shot `archipel run`). Creating a database
 * takes seconds, loading a snapshot of one a fraction of that: the first call creates and migrates one
 * and keeps its snapshot, named by the migrations' checksums, for the next. A snapshot that cannot be
 * written only costs the next call the same seconds.
 */
export async function createEphemeralPgliteDatabase(options: EphemeralPgliteOptions): Promise<SqlDatabase> {
  const logger = options.logger ?? silentLogger;
  const migrations = await readMigrations(defaultMigrationsDir);
  const version = createHash('sha256').update(migrations.map((m) => `${m.name}:${m.checksum}`).join('\n')).digest('hex').slice(0, 16);
  const snapshot = path.join(options.snapshotDir, `pglite-${version}.tar`);
  try {
    const { db } = await openPglite({ loadDataDir: new Blob([readFileSync(snapshot)]), logger });
    await migrate(db, { logger });
    return db;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn('ignoring an unreadable database snapshot', { snapshot, err: error });
  }
  const { db, dump } = await openPglite({ logger });
  try {
    await migrate(db, { logger });
    const bytes = Buffer.from(await (await dump()).arrayBuffer());
    try {
      mkdirSync(options.snapshotDir, { recursive: true });
      const partial = `${snapshot}.${process.pid}.partial`;
      writeFileSync(partial, bytes);
      renameSync(partial, snapshot);
    } catch (error) {
      logger.debug('could not keep the database snapshot', { snapshot, err: error });
    }
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
