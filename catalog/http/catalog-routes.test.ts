import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type SqlDatabase } from '../../core/index.ts';
import { createIdentityService, type IdentityService } from '../../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { json } from '../../tests/support/json.ts';
import { createCatalogService } from '../entries/catalog-service.ts';
import type { LocalCaller } from '../entries/catalog-entry.ts';
import { CLUSTER, OTHER, WC_TOOL, dataEntry, local } from '../entries/catalog-test-fixtures.ts';
import type { FederatedSearch, FederatedSearchOptions } from '../federation/federated-search.ts';
import { createCatalogRoutes } from './catalog-routes.ts';

describe('catalog HTTP API', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let identity: IdentityService;
  let app: ReturnType<typeof createHttpApp>;
  const tokens: Record<string, string> = {};

  const call = (user: string, method: string, path: string, body?: unknown) =>
    app.request(`${API_PREFIX}${path}`, {
      method,
      headers: { Authorization: `Bearer ${tokens[user]}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const count = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM catalog_entries')).rows[0]!.n);

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    identity = createIdentityService({ db });
    tokens.admin = (await identity.bootstrapAdmin())!.token;
    const admin = await identity.authenticate(tokens.admin);
    for (const name of ['olivia', 'alice', 'bob']) {
      await identity.createUser(admin, { name });
    }
    await identity.createProject(admin, { name: 'genomics' });
    await identity.addMember(admin, 'genomics', { user: 'alice', role: 'member' });
    await identity.createProject(admin, { name: 'physics' });
    await identity.addMember(admin, 'physics', { user: 'bob', role: 'member' });
    for (const name of ['olivia', 'alice', 'bob']) {
      // Tokens are issued to the caller; act as each user through a principal of their own.
      const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE name = $1', [name]);
      tokens[name] = (await identity.createToken({ userId: rows[0]!.id, userName: name, isAdmin: false, tokenId: 'setup' }, { name: 'test' })).token;
    }
    const catalog = createCatalogService({ db, clusterId: () => CLUSTER, users: identity });
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createCatalogRoutes({ catalog, memberProjectNames: (userId) => identity.memberProjectNames(userId) })],
      maxBodyBytes: 512 * 1024,
      version: 'test',
    });
  });
  afterEach(() => cleanup());

  it('creates, reads, changes and deletes an entry', async () => {
    const created = await call('olivia', 'POST', '/catalog/entries', {
      kind: 'service',
      name: 'Word count',
      tags: ['text'],
      visibility: 'public',
      spec: { image: 'debian:12', cwl: WC_TOOL },
    });
    expect(created.status).toBe(201);
    const entry = await json(created);
    expect(entry).toMatchObject({ kind: 'service', ownerCluster: CLUSTER, owners: ['olivia'], visibility: 'public', licence: null });
    expect(entry.spec.inputs.map((i: { id: string }) => i.id)).toEqual(['text', 'lines', 'mode']);
    expect(entry.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    expect(await json(call('bob', 'GET', `/catalog/entries/${entry.id}`))).toEqual(entry);
    const changed = await call('olivia', 'PATCH', `/catalog/entries/${entry.id}`, { description: 'Counts words' });
    expect(changed.status).toBe(200);
    expect(await json(changed)).toMatchObject({ name: 'Word count', description: 'Counts words' });

    const listed = await json(call('alice', 'GET', '/catalog/entries?kind=service'));
    expect(listed).toMatchObject({ items: [{ id: entry.id }], nextCursor: null });
    expect((await json(call('alice', 'GET', '/catalog/entries?kind=data'))).items).toEqual([]);

    expect((await call('olivia', 'DELETE', `/catalog/entries/${entry.id}`)).status).toBe(204);
    expect((await call('olivia', 'GET', `/catalog/entries/${entry.id}`)).status).toBe(404);
  });

  it('answers a hidden entry exactly like a missing one, and refuses changes by those who only see it', async () => {
    const restricted = await json(
      call('olivia', 'POST', '/catalog/entries', dataEntry({ visibility: 'restricted', allowedProjects: [`${CLUSTER}/genomics`] })),
    );
    const missingId = '00000000-0000-4000-8000-000000000000';
    const hidden = await call('bob', 'GET', `/catalog/entries/${restricted.id}`);
    const missing = await call('bob', 'GET', `/catalog/entries/${missingId}`);
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    const hiddenBody = (await hidden.text()).replaceAll(restricted.id, '<id>');
    expect(hiddenBody).toBe((await missing.text()).replaceAll(missingId, '<id>'));
    expect(JSON.parse(hiddenBody)).toEqual({ error: { code: 'not-found', message: 'catalog entry "<id>" not found', details: {} } });
    expect((await call('bob', 'PATCH', `/catalog/entries/${restricted.id}`, { name: 'x' })).status).toBe(404);
    expect((await call('bob', 'DELETE', `/catalog/entries/${restricted.id}`)).status).toBe(404);

    // alice acts for genomics: she sees it, but may not change it.
    expect((await call('alice', 'GET', `/catalog/entries/${restricted.id}`)).status).toBe(200);
    const forbidden = await call('alice', 'PATCH', `/catalog/entries/${restricted.id}`, { name: 'x' });
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).error).toMatchObject({ code: 'not-allowed', message: expect.stringMatching(/only the owners/) });
    expect((await call('alice', 'DELETE', `/catalog/entries/${restricted.id}`)).status).toBe(403);
    expect((await call('admin', 'DELETE', `/catalog/entries/${restricted.id}`)).status).toBe(204);
  });

  it('searches locally and answers 501 for the federation on a node without it', async () => {
    await call('olivia', 'POST', '/catalog/entries', dataEntry({ visibility: 'public' }));
    await call('olivia', 'POST', '/catalog/entries', dataEntry({ name: 'Private sea', visibility: 'private' }));
    const found = await json(call('bob', 'GET', '/catalog/search?q=SEA&scope=local'));
    expect(found.scope).toBe('local');
    expect(found.items.map((e: { name: string }) => e.name)).toEqual(['Sea temperatures', 'Private sea']); // a name starting with the query first
    expect((await json(call('bob', 'GET', '/catalog/search?q=sea&kind=compute'))).items).toEqual([]);
    const federated = await call('bob', 'GET', '/catalog/search?q=sea&scope=federation');
    expect(federated.status).toBe(501);
    expect((await json(federated)).error).toEqual({
      code: 'not-implemented',
      message: 'federated search is not available on this node: search with scope=local',
      details: { scope: 'federation' },
    });
  });

  it('searches the federation for the caller, with their projects, and shows partial results', async () => {
    const calls: { caller: LocalCaller; options: FederatedSearchOptions }[] = [];
    const catalog = createCatalogService({ db, clusterId: () => CLUSTER, users: identity });
    const entry = await catalog.create(local('olivia'), dataEntry({ visibility: 'public' }));
    const federatedSearch: FederatedSearch = {
      async search(caller, options = {}) {
        calls.push({ caller, options });
        return {
          items: [{ ...entry, origin: CLUSTER }],
          partial: true,
          unanswered: [{ clusterId: OTHER, name: 'other', reason: 'timeout', message: 'no answer before the deadline' }],
        };
      },
    };
    const federatedApp = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createCatalogRoutes({ catalog, memberProjectNames: (userId) => identity.memberProjectNames(userId), federatedSearch })],
      maxBodyBytes: 512 * 1024,
      version: 'test',
    });
    const response = await federatedApp.request(`${API_PREFIX}/catalog/search?q=sea&kind=data&scope=federation&timeoutMs=500&limit=5`, {
      headers: { Authorization: `Bearer ${tokens.alice}` },
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      scope: 'federation',
      items: [{ ...JSON.parse(JSON.stringify(entry)), origin: CLUSTER }],
      partial: true,
      unanswered: [{ clusterId: OTHER, name: 'other', reason: 'timeout', message: 'no answer before the deadline' }],
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.caller).toMatchObject({ kind: 'local', userName: 'alice', projects: [`${CLUSTER}/genomics`] });
    expect(calls[0]!.options).toMatchObject({ q: 'sea', kind: 'data', timeoutMs: 500, limit: 5 });

    const tooLong = await federatedApp.request(`${API_PREFIX}/catalog/search?scope=federation&timeoutMs=60000`, {
      headers: { Authorization: `Bearer ${tokens.alice}` },
    });
    expect(tooLong.status).toBe(400);
    expect(calls).toHaveLength(1);
  });

  describe('rejects bad input with a JSON error naming the field, and stores nothing', () => {
    const cases: [string, string, string, unknown, number, string | RegExp][] = [
      ['a bad bucket', 'POST', '/catalog/entries', dataEntry({ spec: { source: { type: 's3', bucket: 'UPPER' } } }), 400, 'json:spec.source.bucket'],
      ['an unknown field', 'POST', '/catalog/entries', { ...dataEntry(), colour: 'red' }, 400, /unknown field\(s\): colour/],
      ['an unknown kind', 'POST', '/catalog/entries', { kind: 'robot', name: 'x', spec: {} }, 400, 'json:kind'],
      ['a bad CWL tool', 'POST', '/catalog/entries', { kind: 'service', name: 'x', spec: { image: 'debian', cwl: WC_TOOL.replace('type: File\n    label', 'type: Fiel\n    label') } }, 400, 'spec.cwl:inputs.text.type'],
      ['an unknown owner', 'POST', '/catalog/entries', dataEntry({ owners: ['olivia', 'nobody'] }), 400, 'owners.1'],
      ['a bad id', 'GET', '/catalog/entries/not-a-uuid', undefined, 400, 'param:id'],
      ['a bad kind filter', 'GET', '/catalog/entries?kind=robot', undefined, 400, 'query:kind'],
      ['a bad limit', 'GET', '/catalog/search?q=x&limit=0', undefined, 400, 'query:limit'],
      ['a bad scope', 'GET', '/catalog/search?q=x&scope=galaxy', undefined, 400, 'query:scope'],
      ['a bad cursor', 'GET', '/catalog/entries?cursor=nope', undefined, 400, 'cursor'],
      ['a too large CWL', 'POST', '/catalog/entries', { kind: 'service', name: 'x', spec: { image: 'debian', cwl: `# ${'x'.repeat(300 * 1024)}` } }, 400, 'json:spec.cwl'],
    ];
    it.each(cases)('%s', async (_label, method, path, body, status, where) => {
      const response = await call('olivia', method, path, body);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const { error } = await json(response);
      expect(error.code).toBe('invalid-input');
      if (typeof where === 'string') expect(error.details.issues.map((i: { path: string }) => i.path)).toContain(where);
      else expect(error.message).toMatch(where);
      expect(await count()).toBe(0);
    });
  });

  it('requires a token', async () => {
    const response = await app.request(`${API_PREFIX}/catalog/entries`);
    expect(response.status).toBe(401);
  });

  it('publishes every catalog route and the entry schemas in the OpenAPI document', async () => {
    const doc = await json(app.request(`${API_PREFIX}/openapi.json`));
    expect(Object.keys(doc.paths['/api/v1/catalog/entries'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/catalog/entries/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(doc.paths['/api/v1/catalog/search'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['q', 'kind', 'scope', 'limit']),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['NewCatalogEntry', 'CatalogEntry', 'ServiceSpecInput', 'DataSpec', 'StorageSpec', 'ComputeSpec']),
    );
  });
});
