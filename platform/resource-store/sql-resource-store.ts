import { randomUUID } from 'node:crypto';
import {
  InvalidInputError,
  ResourceExpiredError,
  systemClock,
  type Clock,
  type Resource,
  type ResourceDeleteOptions,
  type ResourceKind,
  type ResourceList,
  type ResourceListOptions,
  type ResourcePatchOptions,
  type ResourceStore,
  type ResourceStoreOptions,
  type ResourceWatchEvent,
  type ResourceWatchOptions,
  type SqlDatabase,
  type SqlExecutor,
} from '../../core/index.ts';
import {
  alreadyExists,
  checkDeletePrecondition,
  checkRequest,
  conflict,
  createObject,
  deletedObject,
  notFound,
  patchedBody,
  updateObject,
  type Operation,
} from './api-semantics.ts';
import { labelSelectorIssues, loadResourceSchemas, type ResourceDefinition, type ResourceSchemas } from './crd-schemas.ts';

export interface SqlResourceStoreOptions {
  db: SqlDatabase;
  /** The namespace this store serves (default `default`). */
  namespace?: string;
  clock?: Clock;
  /** How often a watch looks for writes by other processes; writes through this store wake it at once. */
  pollIntervalMs?: number;
  /** How long change events are kept for watches that resume from a version (default 5 minutes). */
  eventRetentionMs?: number;
  schemas?: ResourceSchemas;
}

type Row = { object: Resource };

const WATCH_BATCH = 256;
/** Taken by every writer until it commits (per schema: tests share a PostgreSQL database). */
export const WRITE_LOCK = `SELECT pg_advisory_xact_lock(hashtext('archipel.resources.' || coalesce(current_schema(), '')))`;

/**
 * The embedded resource store: one row per object in `resources`, and every change in
 * `resource_events`. Writers serialize on a transaction-level advisory lock and take their version from a
 * sequence under it, so versions commit in increasing order; optimistic concurrency is the UPDATE's
 * `WHERE resource_version = $n`. A watch replays events after its version, then polls for more: writes
 * through this store wake it at once, writes by other processes sharing the database within
 * `pollIntervalMs`. Events older than the retention are pruned; a watch that falls behind them gets
 * `ResourceExpiredError`, as with Kubernetes' 410 Gone.
 */
export function createSqlResourceStore(options: SqlResourceStoreOptions): ResourceStore {
  const { db } = options;
  const namespace = options.namespace ?? 'default';
  const clock = options.clock ?? systemClock;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retentionMs = options.eventRetentionMs ?? 5 * 60_000;
  let schemas = options.schemas;
  const definition = (kind: string): ResourceDefinition => (schemas ??= loadResourceSchemas()).definition(kind);

  // Local writes wake the watches waiting for a poll.
  let writes = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    writes++;
    for (const waiter of waiters) waiter();
  };

  async function write<T>(signal: AbortSignal | undefined, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const result = await db.transaction(async (tx) => {
      await tx.query(WRITE_LOCK);
      return work(tx);
    }, { signal });
    wake();
    return result;
  }

  async function nextVersion(tx: SqlExecutor): Promise<string> {
    return (await tx.query<{ v: string }>(`SELECT nextval('resource_version_seq')::text AS v`)).rows[0]!.v;
  }

  async function record(tx: SqlExecutor, type: ResourceWatchEvent<Resource>['type'], object: Resource): Promise<void> {
    await tx.query(
      `INSERT INTO resource_events (resource_version, kind, namespace, name, type, object) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
      [object.metadata.resourceVersion, object.kind, namespace, object.metadata.name, type, JSON.stringify(object)],
    );
    // The newest event always stays: it tells list which version it saw.
    await tx.query(
      `WITH pruned AS (
         DELETE FROM resource_events
         WHERE created_at < now() - $1::bigint * interval '1 millisecond'
           AND resource_version < (SELECT max(resource_version) FROM resource_events)
         RETURNING resource_version)
       UPDATE resource_event_horizon SET resource_version = greatest(resource_version, (SELECT max(resource_version) FROM pruned))`,
      [retentionMs],
    );
  }

  async function read(executor: SqlExecutor, def: ResourceDefinition, name: string, signal?: AbortSignal): Promise<Resource> {
    const { rows } = await executor.query<Row>(
      'SELECT object FROM resources WHERE kind = $1 AND namespace = $2 AND name = $3',
      [def.kind, namespace, name],
      { signal },
    );
    if (!rows[0]) throw notFound(def, name);
    return rows[0].object;
  }

  /** Writes `next` over `current` at a new version, if `current` is still the stored one. */
  async function replace(tx: SqlExecutor, def: ResourceDefinition, current: Resource, next: Resource): Promise<Resource> {
    const stored = { ...next, metadata: { ...next.metadata, resourceVersion: await nextVersion(tx) } };
    const { rowCount } = await tx.query(
      `UPDATE resources SET object = $1::jsonb, resource_version = $2, updated_at = now()
       WHERE kind = $3 AND namespace = $4 AND name = $5 AND resource_version = $6`,
      [JSON.stringify(stored), stored.metadata.resourceVersion, def.kind, namespace, current.metadata.name, current.metadata.resourceVersion],
    );
    if (rowCount === 0) throw conflict(def, current.metadata.name);
    await record(tx, 'MODIFIED', stored);
    return stored;
  }

  async function change(kind: ResourceKind, object: Resource, operation: Operation, signal?: AbortSignal): Promise<Resource> {
    const def = definition(kind);
    const body = checkRequest(def, object, namespace, operation);
    return write(signal, async (tx) => {
      const current = await read(tx, def, body.metadata.name);
      const next = updateObject(schemas!, def, current, body, operation === 'status' ? 'status' : 'update');
      return next ? replace(tx, def, current, next) : current;
    });
  }

  const store = {
    async create(kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) {
      const def = definition(kind);
      const body = checkRequest(def, object, namespace, 'create');
      const prepared = createObject(schemas!, def, body, { uid: randomUUID(), resourceVersion: '', now: clock.now() });
      return write(opts?.signal, async (tx) => {
        const created = { ...prepared, metadata: { ...prepared.metadata, resourceVersion: await nextVersion(tx) } };
        const { rowCount } = await tx.query(
          `INSERT INTO resources (kind, namespace, name, uid, resource_version, object) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
           ON CONFLICT (kind, namespace, name) DO NOTHING`,
          [def.kind, namespace, created.metadata.name, created.metadata.uid, created.metadata.resourceVersion, JSON.stringify(created)],
        );
        if (rowCount === 0) throw alreadyExists(def, created.metadata.name);
        await record(tx, 'ADDED', created);
        return created;
      });
    },

    async get(kind: ResourceKind, name: string, opts?: ResourceStoreOptions) {
      return read(db, definition(kind), name, opts?.signal);
    },

    async list(kind: ResourceKind, opts?: ResourceListOptions): Promise<ResourceList<Resource>> {
      const def = definition(kind);
      const selector = opts?.labelSelector ?? {};
      const issues = labelSelectorIssues(selector);
      if (issues.length) throw new InvalidInputError(`invalid label selector: ${issues[0]!.message}`, issues);
      const filtered = Object.keys(selector).length > 0;
      // One statement, one snapshot: the items and the version they are at agree.
      const { rows } = await db.query<{ object: Resource | null; version: string }>(
        `SELECT r.object, v.version::text AS version
         FROM (SELECT greatest((SELECT resource_version FROM resource_event_horizon),
                               (SELECT max(resource_version) FROM resource_events)) AS version) v
         LEFT JOIN resources r ON r.kind = $1 AND r.namespace = $2
           ${filtered ? `AND r.object -> 'metadata' -> 'labels' @> $3::jsonb` : ''}
         ORDER BY r.name COLLATE "C"`,
        filtered ? [def.kind, namespace, JSON.stringify(selector)] : [def.kind, namespace],
        { signal: opts?.signal },
      );
      return { items: rows.flatMap((row) => (row.object ? [row.object] : [])), resourceVersion: rows[0]?.version ?? '0' };
    },

    update: (kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) => change(kind, object, 'update', opts?.signal),
    updateStatus: (kind: ResourceKind, object: Resource, opts?: ResourceStoreOptions) => change(kind, object, 'status', opts?.signal),

    async patch(kind: ResourceKind, name: string, mergePatch: Record<string, unknown>, opts?: ResourcePatchOptions) {
      const def = definition(kind);
      const operation = opts?.subresource === 'status' ? 'status' : 'update';
      return write(opts?.signal, async (tx) => {
        const current = await read(tx, def, name);
        const body = checkRequest(def, patchedBody(current, mergePatch), namespace, operation);
        const next = updateObject(schemas!, def, current, body, operation);
        return next ? replace(tx, def, current, next) : current;
      });
    },

    async delete(kind: ResourceKind, name: string, opts?: ResourceDeleteOptions) {
      const def = definition(kind);
      await write(opts?.signal, async (tx) => {
        const current = await read(tx, def, name);
        checkDeletePrecondition(def, current, opts?.resourceVersion);
        const version = await nextVersion(tx);
        const { rowCount } = await tx.query(
          'DELETE FROM resources WHERE kind = $1 AND namespace = $2 AND name = $3 AND resource_version = $4',
          [def.kind, namespace, name, current.metadata.resourceVersion],
        );
        if (rowCount === 0) throw conflict(def, name);
        await record(tx, 'DELETED', deletedObject(current, version));
      });
    },

    watch(kind: ResourceKind, opts: ResourceWatchOptions) {
      return watchEvents(definition(kind), opts);
    },
  };

  async function* watchEvents(def: ResourceDefinition, { signal, resourceVersion }: ResourceWatchOptions): AsyncGenerator<ResourceWatchEvent<Resource>> {
    if (signal.aborted) return;
    try {
      let cursor: bigint;
      if (resourceVersion === undefined) {
        const listed = await store.list(def.kind, { signal });
        for (const object of listed.items) yield { type: 'ADDED', object };
        cursor = BigInt(listed.resourceVersion);
      } else {
        if (!/^\d+$/.test(resourceVersion)) {
          throw new InvalidInputError(`invalid resourceVersion ${JSON.stringify(resourceVersion)}`, [{ path: 'resourceVersion', message: 'must be a version from this store' }]);
        }
        cursor = BigInt(resourceVersion);
      }
      while (!signal.aborted) {
        const seen = writes;
        const { rows } = await db.query<{ version: string; type: ResourceWatchEvent<Resource>['type']; object: Resource }>(
          `SELECT resource_version::text AS version, type, object FROM resource_events
           WHERE kind = $1 AND namespace = $2 AND resource_version > $3 ORDER BY resource_version LIMIT ${WATCH_BATCH}`,
          [def.kind, namespace, cursor.toString()],
          { signal },
        );
        // Read after the events: if nothing before the cursor was pruned now, nothing was missing then.
        const horizon = BigInt((await db.query<{ v: string }>('SELECT resource_version::text AS v FROM resource_event_horizon', [], { signal })).rows[0]!.v);
        if (horizon > cursor) throw new ResourceExpiredError(`too old resource version: ${cursor} (${horizon})`, { details: { reason: 'Expired' } });
        for (const row of rows) {
          cursor = BigInt(row.version);
          yield { type: row.type, object: row.object };
        }
        if (rows.length < WATCH_BATCH && writes === seen) await nextWrite(signal);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  function nextWrite(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pollIntervalMs);
      signal.addEventListener('abort', done);
      waiters.add(done);
    });
  }

  return store as unknown as ResourceStore;
}
