import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogService, localCaller } from '../../catalog/index.ts';
import { NotFoundError, silentLogger } from '../../core/index.ts';
import { createIdentityService } from '../../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { json } from '../../tests/support/json.ts';
import { createDirectoryGrantProvider } from '../access/directory-grant-provider.ts';
import { createEntryAccess } from '../access/entry-access.ts';
import { createGrantService } from '../access/grant-service.ts';
import type { ListedGrant, RemoteEntryAccess } from '../federation/access-federation.ts';
import { createAccessRoutes } from './access-routes.ts';

const SELF = '12D3KooWHzgvWRyvwsoYVnvKAWZatPzfugs7pw8QZhGgoByotRNh';
const PEER = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
const THEIR_GRANT = '7f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e02';
const theirs = (user: string): ListedGrant => ({
  id: THEIR_GRANT,
  ownerCluster: PEER,
  entryId: '0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e03',
  entryName: 'Their data',
  kind: 'data',
  targetType: 's3',
  grantee: { cluster: SELF, user },
  createdAt: new Date('2030-03-01T08:00:00.000Z'),
  expiresAt: new Date('2030-03-01T09:00:00.000Z'),
  revokedAt: null,
  state: 'active',
});

describe('providers HTTP API: access to catalog entries', () => {
  let cleanup: () => Promise<void>;
  let base: string;
  let app: ReturnType<typeof createHttpApp>;
  let aliceToken: string;
  let entryId: string;
  const remoteCalls: unknown[] = [];

  const ask = (body: unknown, token = aliceToken) =>
    app.request(`${API_PREFIX}/providers/access`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    let db;
    ({ db, cleanup } = await createTestDatabase());
    base = await mkdtemp(join(tmpdir(), 'archipel-access-routes-'));
    await mkdir(join(base, 'source'));
    await writeFile(join(base, 'source', 'a.txt'), 'shared');
    const identity = createIdentityService({ db });
    const adminToken = (await identity.bootstrapAdmin())!.token;
    const admin = await identity.authenticate(adminToken);
    await identity.createUser(admin, { name: 'alice', password: 'alice password' });
    aliceToken = (await identity.login('alice', 'alice password')).token;
    const catalog = createCatalogService({ db, clusterId: SELF, users: identity });
    entryId = (
      await catalog.create(localCaller(admin, SELF, []), {
        kind: 'data',
        name: 'Shared files',
        visibility: 'public',
        spec: { source: { type: 'directory', path: join(base, 'source') } },
      } as never)
    ).id;
    const grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: join(base, 'grants'), readOnlyView: 'copy' }) } });
    const remote: RemoteEntryAccess = {
      async request(caller, clusterId, id, request) {
        remoteCalls.push({ user: caller.userName, clusterId, id, request });
        if (clusterId !== PEER) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
        const at = new Date('2030-03-01T08:00:00.000Z');
        return {
          grant: { id: '7f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01', ownerCluster: PEER, entryId: id, entryName: 'Their data', kind: 'data', targetType: 's3', grantee: { cluster: SELF, user: caller.userName }, createdAt: at, expiresAt: new Date(at.getTime() + request.ttlSeconds * 1000) },
          access: { type: 'presigned-read', bucket: 'b', prefix: 'p/', objects: [], truncated: false },
        };
      },
      async list(caller, clusterId, options) {
        remoteCalls.push({ user: caller.userName, clusterId, list: options?.state ?? 'open' });
        if (clusterId !== PEER) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
        return [theirs(caller.userName)];
      },
      async release(caller, clusterId, grantId) {
        remoteCalls.push({ user: caller.userName, clusterId, release: grantId });
        if (grantId !== THEIR_GRANT) throw new NotFoundError(`grant "${grantId}" not found`);
        return { ...theirs(caller.userName), state: 'revoked', revokedAt: new Date('2030-03-01T08:00:30.000Z') };
      },
    };
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createAccessRoutes({ entryAccess: createEntryAccess({ catalog, grants }), remote, clusterId: () => SELF, memberProjectNames: (userId) => identity.memberProjectNames(userId) })],
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });
  });
  afterAll(async () => {
    await cleanup();
    await rm(base, { recursive: true, force: true });
  });

  it("grants a user this cluster's entry, or asks the peered owner for theirs", async () => {
    const here = await ask({ entry: { id: entryId }, ttlSeconds: 600 });
    expect(here.status).toBe(201);
    const body = await json(here);
    expect(body.grant).toMatchObject({ ownerCluster: SELF, entryId, entryName: 'Shared files', kind: 'data', targetType: 'directory', grantee: { cluster: 'local', user: 'alice' } });
    expect(await readFile(join(body.access.path, 'a.txt'), 'utf8')).toBe('shared');
    // Naming this cluster is the same as naming none.
    expect((await ask({ entry: { id: entryId, cluster: SELF }, ttlSeconds: 60 })).status).toBe(201);

    const there = await ask({ entry: { id: entryId, cluster: PEER }, ttlSeconds: 60, uploads: [] });
    expect(there.status).toBe(201);
    expect(await json(there)).toMatchObject({ grant: { ownerCluster: PEER, grantee: { cluster: SELF, user: 'alice' }, expiresAt: '2030-03-01T08:01:00.000Z' }, access: { type: 'presigned-read' } });
    expect(remoteCalls.at(-1)).toEqual({ user: 'alice', clusterId: PEER, id: entryId, request: { ttlSeconds: 60, uploads: [] } });
  });

  it('answers 404 for an unknown entry or cluster, 400 naming the field for bad input, and documents the route', async () => {
    const missing = await ask({ entry: { id: '0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01' }, ttlSeconds: 60 });
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe('not-found');
    expect((await ask({ entry: { id: entryId, cluster: '12D3KooWStranger' }, ttlSeconds: 60 })).status).toBe(404);
    const bad = await ask({ entry: { id: 'nope' }, ttlSeconds: 0, extra: 1 });
    expect(bad.status).toBe(400);
    const paths = ((await json(bad)).error.details.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['json:entry.id', 'json:ttlSeconds']));
    expect((await ask({ entry: { id: entryId }, ttlSeconds: 60 }, 'not-a-token')).status).toBe(401);
    const doc = (await json(await app.request(`${API_PREFIX}/openapi.json`))) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/providers/access']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/providers/access/{grantId}']!)).toEqual(['delete']);
  });

  it("lists and gives back the caller's own grants, here or on the peered cluster that made them", async () => {
    const call = (method: string, path: string, token = aliceToken) => app.request(`${API_PREFIX}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
    const mine = await json(await ask({ entry: { id: entryId }, ttlSeconds: 600 }));
    const here = await json(await call('GET', '/providers/access'));
    expect(here.items[0]).toMatchObject({ id: mine.grant.id, ownerCluster: SELF, entryId, entryName: 'Shared files', state: 'active', revokedAt: null, grantee: { cluster: 'local', user: 'alice' } });
    expect((await call('DELETE', `/providers/access/${mine.grant.id}`)).status).toBe(204);
    const after = await json(await call('GET', '/providers/access?state=all'));
    expect(after.items.find((g: { id: string }) => g.id === mine.grant.id)).toMatchObject({ state: 'revoked' });
    expect((await json(await call('GET', '/providers/access'))).items.map((g: { id: string }) => g.id)).not.toContain(mine.grant.id);
    expect((await call('DELETE', '/providers/access/0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01')).status).toBe(404);

    const there = await json(await call('GET', `/providers/access?cluster=${PEER}&state=all`));
    expect(there.items).toEqual([expect.objectContaining({ id: THEIR_GRANT, ownerCluster: PEER, entryName: 'Their data', state: 'active', createdAt: '2030-03-01T08:00:00.000Z' })]);
    expect(remoteCalls.at(-1)).toEqual({ user: 'alice', clusterId: PEER, list: 'all' });
    expect((await call('DELETE', `/providers/access/${THEIR_GRANT}?cluster=${PEER}`)).status).toBe(204);
    expect(remoteCalls.at(-1)).toEqual({ user: 'alice', clusterId: PEER, release: THEIR_GRANT });
    expect((await call('DELETE', `/providers/access/0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01?cluster=${PEER}`)).status).toBe(404);
    expect((await call('GET', '/providers/access?cluster=12D3KooWStranger')).status).toBe(404);
    expect((await call('DELETE', '/providers/access/not-a-uuid')).status).toBe(400);
  });
});
