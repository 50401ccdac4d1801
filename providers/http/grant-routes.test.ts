import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/index.ts';
import { createIdentityService } from '../../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { json } from '../../tests/support/json.ts';
import { createDirectoryGrantProvider } from '../access/directory-grant-provider.ts';
import { createGrantService } from '../access/grant-service.ts';
import { createGrantRoutes } from './grant-routes.ts';

describe('providers HTTP API: access grants', () => {
  let cleanup: () => Promise<void>;
  let base: string;
  let app: ReturnType<typeof createHttpApp>;
  let adminToken: string;
  let aliceToken: string;

  const call = (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
    app.request(`${API_PREFIX}/providers/grants${path}`, {
      method,
      headers: { Authorization: `Bearer ${options.token ?? adminToken}`, ...(options.body !== undefined && { 'Content-Type': 'application/json' }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });

  beforeAll(async () => {
    let db;
    ({ db, cleanup } = await createTestDatabase());
    base = await mkdtemp(join(tmpdir(), 'archipel-grant-routes-'));
    await mkdir(join(base, 'source'));
    await writeFile(join(base, 'source', 'a.txt'), 'a');
    const identity = createIdentityService({ db });
    adminToken = (await identity.bootstrapAdmin())!.token;
    await identity.createUser(await identity.authenticate(adminToken), { name: 'alice', password: 'alice password' });
    aliceToken = (await identity.login('alice', 'alice password')).token;
    const grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: join(base, 'grants'), readOnlyView: 'copy' }) } });
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createGrantRoutes({ grants })],
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });
  });
  afterAll(async () => {
    await cleanup();
    await rm(base, { recursive: true, force: true });
  });

  it('grants, lists and revokes; only admins grant a target; bad input answers 400 naming the fields', async () => {
    const body = { target: { kind: 'data', source: { type: 'directory', path: join(base, 'source') } }, grantee: { cluster: 'local', user: 'alice' }, ttlSeconds: 600 };
    expect((await call('POST', '', { body, token: aliceToken })).status).toBe(403);
    expect(await json(await call('GET', '', { token: aliceToken }))).toEqual({ items: [] });

    const created = await call('POST', '', { body });
    expect(created.status).toBe(201);
    const { grant, access } = (await json(created)) as { grant: { id: string; state: string }; access: { type: string; path: string } };
    expect(grant.state).toBe('active');
    expect(access).toMatchObject({ type: 'directory', readOnly: true });
    expect((await stat(access.path)).isDirectory()).toBe(true);

    const listed = (await json(await call('GET', ''))) as { items: { id: string }[] };
    expect(listed.items.map((g) => g.id)).toEqual([grant.id]);
    expect(JSON.stringify(listed)).not.toContain('"access"');

    expect((await call('DELETE', `/${grant.id}`)).status).toBe(204);
    expect((await call('DELETE', `/${grant.id}`)).status).toBe(204);
    await expect(stat(access.path)).rejects.toMatchObject({ code: 'ENOENT' });
    const all = (await json(await call('GET', '?state=all'))) as { items: { id: string; state: string }[] };
    expect(all.items).toMatchObject([{ id: grant.id, state: 'revoked' }]);
    expect((await call('DELETE', '/00000000-0000-4000-8000-000000000000')).status).toBe(404);

    // A user sees only the grants made for them, and may give those back (another's answers 404).
    const forAlice = (await json(await call('POST', '', { body }))).grant as { id: string };
    const forBob = (await json(await call('POST', '', { body: { ...body, grantee: { cluster: 'local', user: 'bob' } } }))).grant as { id: string };
    const aliceSees = (await json(await call('GET', '', { token: aliceToken }))) as { items: { id: string }[] };
    expect(aliceSees.items.map((g) => g.id)).toEqual([forAlice.id]);
    expect((await call('DELETE', `/${forBob.id}`, { token: aliceToken })).status).toBe(404);
    expect((await call('DELETE', `/${forAlice.id}`, { token: aliceToken })).status).toBe(204);
    const afterwards = (await json(await call('GET', '?state=all'))) as { items: { id: string; state: string }[] };
    expect(Object.fromEntries(afterwards.items.map((g) => [g.id, g.state]))).toMatchObject({ [forAlice.id]: 'revoked', [forBob.id]: 'active' });

    const bad = await call('POST', '', { body: { ...body, target: { kind: 'data', source: { type: 'postgresql', table: 'a;b' } }, ttlSeconds: 0 } });
    expect(bad.status).toBe(400);
  });
});
