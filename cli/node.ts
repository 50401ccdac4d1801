import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createIdentityRoutes, createIdentityService, LOGIN_PATH } from '../frontend-backend/index.ts';
import type { Logger, ObjectStore, SqlDatabase } from '../core/index.ts';
import { API_PREFIX, createHttpApp, serveHttp } from '../platform/http/index.ts';
import { createDirectoryObjectStore, createS3ObjectStore } from '../platform/object-store/index.ts';
import { createPgliteDatabase, createPostgresDatabase, migrate } from '../platform/sql/index.ts';
import type { NodeConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { packageVersion } from './version.ts';

export interface RunningNode {
  name: string;
  url: string;
  dataDir: string;
  /** Set on the first start, when the bootstrap admin token was written. */
  adminTokenFile: string | null;
  database: 'pglite' | 'postgresql';
  stop(): Promise<void>;
}

/** Chooses the SQL adapter: PostgreSQL when a URL is configured, else PGlite in the data directory. */
async function openDatabase(config: NodeConfig, logger: Logger): Promise<SqlDatabase> {
  return config.database.url
    ? createPostgresDatabase({ url: config.database.url, logger })
    : createPgliteDatabase({ dataDir: path.join(config.dataDir, 'db'), logger });
}

/** Chooses the object-store adapter: S3 when a bucket is configured, else a directory in the data directory. */
function openObjectStore(config: NodeConfig): ObjectStore & { close?(): void } {
  const s3 = config.objectStore.s3;
  return s3 ? createS3ObjectStore(s3) : createDirectoryObjectStore({ root: path.join(config.dataDir, 'objects') });
}

/**
 * The embedded node's composition root: opens each port's adapter, wires the services, serves HTTP, and
 * undoes it all in reverse order on `stop`. Anything that fails half-way is unwound before rethrowing.
 */
export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const undo: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn('error while stopping', { err: error });
      }
    }
  };

  try {
    const lock = lockDataDir(config.dataDir);
    undo.push(() => lock.release());

    const db = await openDatabase(config, logger.child({ component: 'sql' }));
    undo.push(() => db.close());
    const { applied } = await migrate(db, { logger: logger.child({ component: 'migrations' }) });
    if (applied.length) logger.info('database migrated', { applied });

    const objects = openObjectStore(config);
    undo.push(() => objects.close?.());

    const identity = createIdentityService({ db, logger: logger.child({ component: 'identity' }) });
    let adminTokenFile: string | null = null;
    const bootstrap = await identity.bootstrapAdmin();
    if (bootstrap) {
      adminTokenFile = path.join(config.dataDir, 'admin.token');
      writeFileSync(adminTokenFile, `${bootstrap.token}\n`, { mode: 0o600 });
    }

    const app = createHttpApp({
      logger: logger.child({ component: 'http' }),
      authenticate: (token) => identity.authenticate(token),
      ready: async () => (await db.query('SELECT 1')).rowCount === 1,
      routers: [createIdentityRoutes(identity)],
      publicPaths: [`${API_PREFIX}${LOGIN_PATH}`],
      maxBodyBytes: config.http.maxBodyBytes,
      version: packageVersion(),
      defaultMetrics: true,
    });
    const server = await serveHttp(app.fetch, { host: config.http.host, port: config.http.port });
    undo.push(() => server.close());

    logger.info('node started', { name: config.name, url: server.url, dataDir: config.dataDir });
    return {
      name: config.name,
      url: server.url,
      dataDir: config.dataDir,
      adminTokenFile,
      database: config.database.url ? 'postgresql' : 'pglite',
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
