import { describe, expect, it } from 'vitest';
import { ResourceExpiredError } from '../../core/index.ts';
import { createTestDatabase, type TestDatabase } from '../sql/testing.ts';
import { peer, runResourceStoreContract, watchOf } from './resource-store.contract.ts';
import { WRITE_LOCK, createSqlResourceStore } from './sql-resource-store.ts';

// On PGlite, or on PostgreSQL when DATABASE_URL is set (createTestDatabase decides).
let test: TestDatabase | undefined;
runResourceStoreContract(process.env.DATABASE_URL ? 'SQL on PostgreSQL' : 'SQL on PGlite', {
  async create() {
    test = await createTestDatabase();
    return createSqlResourceStore({ db: test.db });
  },
  async cleanup() {
    await test?.cleanup();
  },
});

describe('createSqlResourceStore', () => {
  it('keeps namespaces apart in one database', async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const a = createSqlResourceStore({ db, namespace: 'team-a' });
      const b = createSqlResourceStore({ db, namespace: 'team-b' });
      await a.create('Peer', peer('alpha'));
      expect((await b.list('Peer')).items).toEqual([]);
      expect((await a.get('Peer', 'alpha')).metadata.namespace).toBe('team-a');
      await b.create('Peer', peer('alpha'));
    } finally {
      await cleanup();
    }
  });

  it('lets a watch see writes made through another store on the same database, by polling', async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const watcher = createSqlResourceStore({ db, pollIntervalMs: 50 });
      const writer = createSqlResourceStore({ db });
      const { resourceVersion } = await watcher.list('Peer');
      const watch = watchOf(watcher, 'Peer', resourceVersion);
      const pending = watch.next();
      const created = await writer.create('Peer', peer('alpha'));
      expect(await pending).toEqual({ type: 'ADDED', object: created });
      watch.stop();
    } finally {
      await cleanup();
    }
  });

  it('tells a watch resuming from before the pruned events to list again', async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const store = createSqlResourceStore({ db, eventRetentionMs: 0 });
      const first = await store.create('Peer', peer('alpha'));
      await store.create('Peer', peer('bravo'));
      await store.create('Peer', peer('charlie')); // prunes the events before it
      const iterator = store.watch('Peer', { signal: AbortSignal.timeout(5000), resourceVersion: first.metadata.resourceVersion! });
      await expect(iterator[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ResourceExpiredError);
      // A fresh list gives a version to watch from.
      const { items, resourceVersion } = await store.list('Peer');
      expect(items).toHaveLength(3);
      const watch = watchOf(store, 'Peer', resourceVersion);
      const pending = watch.next();
      const deleted = store.delete('Peer', 'alpha');
      expect(await pending).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'alpha' } } });
      await deleted;
      watch.stop();
    } finally {
      await cleanup();
    }
  });

  it('makes writers wait for each other, so that versions become visible in increasing order', async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const store = createSqlResourceStore({ db });
      // A writer that has taken the lock (and its version) and not committed yet.
      let locked!: () => void;
      let release!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      const holder = db.transaction(async (tx) => {
        await tx.query(WRITE_LOCK);
        locked();
        await released;
      });
      await lockTaken;
      let created = false;
      const creating = store.create('Peer', peer('alpha')).then(() => (created = true));
      try {
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(created).toBe(false);
      } finally {
        release();
        await holder;
        await creating;
      }
    } finally {
      await cleanup();
    }
  });

  it('delivers concurrent writes to a watch in version order', async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const store = createSqlResourceStore({ db, pollIntervalMs: 20 });
      const { resourceVersion } = await store.list('Peer');
      const watch = watchOf(store, 'Peer', resourceVersion);
      const versions: bigint[] = [];
      // The watch polls while the writes run on several connections (on PostgreSQL).
      const reading = (async () => {
        for (let i = 0; i < 12; i++) versions.push(BigInt((await watch.next()).object.metadata.resourceVersion!));
      })();
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.create('Peer', peer(`p${i}`))));
      await reading;
      expect(versions).toEqual([...versions].sort((x, y) => (x < y ? -1 : 1)));
      expect(new Set(versions).size).toBe(12);
      watch.stop();
    } finally {
      await cleanup();
    }
  });
});
