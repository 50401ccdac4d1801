import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type SqlDatabase } from '../../core/index.ts';
import { createIdentityService } from '../../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { json } from '../../tests/support/json.ts';
import { createStaticCapacitySource } from '../compute/capacity-source.ts';
import { createComputeLedger } from '../compute/compute-ledger.ts';
import { createProviderRoutes } from './provider-routes.ts';

const T0 = Date.parse('2030-03-01T08:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const HOUR = 3_600_000;
const PEER = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';

describe('providers HTTP API: compute', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let app: ReturnType<typeof createHttpApp>;
  let adminToken: string;
  let aliceToken: string;
  let bobToken: string;
  let now: number;

  const call = (method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${options.token ?? aliceToken}` };
    let body = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return app.request(`${API_PREFIX}/providers/compute${path}`, { method, headers, body });
  };

  // One database and one set of users for the file (password hashing is slow on purpose); each test
  // starts from an empty ledger.
  beforeAll(async () => {
    ({ db, cleanup } = await createTestDatabase());
    const identity = createIdentityService({ db });
    adminToken = (await identity.bootstrapAdmin())!.token;
    const admin = await identity.authenticate(adminToken);
    for (const name of ['alice', 'bob']) await identity.createUser(admin, { name, password: `${name} password` });
    aliceToken = (await identity.login('alice', 'alice password')).token;
    bobToken = (await identity.login('bob', 'bob password')).token;
    const compute = createComputeLedger({
      db,
      capacity: createStaticCapacitySource({ cores: 8, memoryMiB: 16384, gpus: 1 }),
      peerQuota: { cores: 2 },
      clock: { now: () => new Date(now) },
    });
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createProviderRoutes({ compute })],
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });
  });
  afterAll(() => cleanup());
  beforeEach(async () => {
    now = T0;
    await db.query('DELETE FROM compute_reservations');
  });

  it('shows the capacity, reserves, lists, gets and releases', async () => {
    const status = await call('GET', '');
    expect(status.status).toBe(200);
    expect(await json(status)).toEqual({
      providerId: 'local',
      capacity: { cores: 8, memoryMiB: 16384, gpus: 1 },
      inUse: { cores: 0, memoryMiB: 0, gpus: 0 },
      free: { cores: 8, memoryMiB: 16384, gpus: 1 },
      peerQuota: { cores: 2 },
      at: iso(0),
    });

    const created = await call('POST', '/reservations', { body: { cores: 6, memoryMiB: 2048, durationSeconds: 3600 } });
    expect(created.status).toBe(201);
    const reservation = await json(created);
    expect(reservation).toMatchObject({
      requester: 'local',
      user: 'alice',
      cores: 6,
      memoryMiB: 2048,
      gpus: 0,
      start: iso(0),
      end: iso(HOUR),
      releasedAt: null,
      state: 'active',
    });
    expect((await json(call('GET', ''))).free).toEqual({ cores: 2, memoryMiB: 14336, gpus: 1 });

    const later = await json(call('POST', '/reservations', { body: { gpus: 1, start: iso(2 * HOUR), end: iso(3 * HOUR) } }));
    expect(later.state).toBe('scheduled');
    expect((await json(call('GET', '/reservations'))).items.map((r: { id: string }) => r.id)).toEqual([reservation.id, later.id]);
    expect(await json(call('GET', `/reservations/${reservation.id}`))).toEqual(reservation);

    // Bob sees none of Alice's reservations; the admin sees them all.
    expect((await json(call('GET', '/reservations', { token: bobToken }))).items).toEqual([]);
    expect((await call('GET', `/reservations/${reservation.id}`, { token: bobToken })).status).toBe(404);
    expect((await call('DELETE', `/reservations/${reservation.id}`, { token: bobToken })).status).toBe(404);
    expect((await json(call('GET', '/reservations', { token: adminToken }))).items).toHaveLength(2);

    expect((await call('DELETE', `/reservations/${reservation.id}`)).status).toBe(204);
    expect((await call('DELETE', `/reservations/${reservation.id}`)).status).toBe(204);
    expect((await json(call('GET', `/reservations/${reservation.id}`))).state).toBe('released');
    expect((await json(call('GET', ''))).free.cores).toBe(8);
    expect((await json(call('GET', '/reservations'))).items.map((r: { id: string }) => r.id)).toEqual([later.id]);
    expect((await json(call('GET', '/reservations?state=all'))).items).toHaveLength(2);

    // Expired at its end.
    now = T0 + 3 * HOUR;
    expect((await json(call('GET', `/reservations/${later.id}`))).state).toBe('expired');
    expect((await json(call('GET', '/reservations'))).items).toEqual([]);
  });

  it('answers 409 naming the resource that is short, and the peer quota', async () => {
    await call('POST', '/reservations', { body: { cores: 7, durationSeconds: 3600 } });
    const short = await call('POST', '/reservations', { token: bobToken, body: { cores: 2, durationSeconds: 60 } });
    expect(short.status).toBe(409);
    const body = await json(short);
    expect(body.error.code).toBe('conflict');
    expect(body.error.message).toMatch(/^not enough capacity: 2 cores requested, 1 core free in that window/);
    expect(body.error.details.shortfalls).toEqual([{ resource: 'cores', requested: 2, free: 1, limit: 8 }]);

    const forPeer = await call('POST', '/reservations', { token: adminToken, body: { requester: PEER, cores: 1, memoryMiB: 1, durationSeconds: 60 } });
    expect(forPeer.status).toBe(201);
    expect((await json(forPeer)).requester).toBe(PEER);
    const laterForPeer = await call('POST', '/reservations', {
      token: adminToken,
      body: { requester: PEER, cores: 1, start: iso(2 * HOUR), end: iso(3 * HOUR) },
    });
    expect(laterForPeer.status).toBe(201);
    const quota = await call('POST', '/reservations', { token: adminToken, body: { requester: PEER, cores: 1.5, start: iso(2 * HOUR), durationSeconds: 60 } });
    expect(quota.status).toBe(409);
    expect((await json(quota)).error.message).toMatch(/over the quota of cluster .*: 1.5 cores requested, 1 core left of its quota of 2 cores/);
  });

  describe('rejects bad input with a JSON error naming the field, and reserves nothing', () => {
    const cases: [string, string, string, { body?: unknown; raw?: string; token?: 'bob' }, number, RegExp][] = [
      ['negative cores', 'POST', '/reservations', { body: { cores: -2, durationSeconds: 60 } }, 400, /cores: must not be negative/],
      ['fractional memory', 'POST', '/reservations', { body: { memoryMiB: 1.5, durationSeconds: 60 } }, 400, /memoryMiB/],
      ['end before start', 'POST', '/reservations', { body: { cores: 1, start: iso(2 * HOUR), end: iso(HOUR) } }, 400, /end: must be after start/],
      ['a window too long', 'POST', '/reservations', { body: { cores: 1, durationSeconds: 30 * 24 * 3600 } }, 400, /durationSeconds: window too long: at most 7 days/],
      ['no window', 'POST', '/reservations', { body: { cores: 1 } }, 400, /end: give the end of the window/],
      ['nothing reserved', 'POST', '/reservations', { body: { durationSeconds: 60 } }, 400, /some cores, memory or GPUs/],
      ['a bad time', 'POST', '/reservations', { body: { cores: 1, end: 'tomorrow' } }, 400, /end/],
      ['an unknown field', 'POST', '/reservations', { body: { cores: 1, durationSeconds: 60, colour: 'red' } }, 400, /unknown field\(s\): colour/],
      ['a bad requester', 'POST', '/reservations', { body: { cores: 1, durationSeconds: 60, requester: 'x y' } }, 400, /requester/],
      ['a user reserving for a peer', 'POST', '/reservations', { body: { cores: 1, durationSeconds: 60, requester: PEER } }, 403, /only cluster administrators/],
      ['malformed JSON', 'POST', '/reservations', { raw: '{"cores": ' }, 400, /JSON/i],
      ['a malformed id', 'GET', '/reservations/not-a-uuid', {}, 400, /id/],
      ['an unknown id', 'DELETE', '/reservations/4a1f3c0e-0000-4000-8000-000000000000', {}, 404, /not found/],
      ['a bad state filter', 'GET', '/reservations?state=gone', {}, 400, /state/],
    ];
    it.each(cases)('%s', async (_label, method, path, options, status, message) => {
      const response = await call(method, path, options);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const body = await json(response);
      expect(body.error.message).toMatch(message);
      expect((await json(call('GET', '/reservations?state=all', { token: adminToken }))).items).toEqual([]);
    });
  });

  it('requires a token and publishes the routes in the OpenAPI document', async () => {
    expect((await app.request(`${API_PREFIX}/providers/compute`)).status).toBe(401);
    const doc = await json(app.request(`${API_PREFIX}/openapi.json`));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/providers/compute', '/api/v1/providers/compute/reservations', '/api/v1/providers/compute/reservations/{id}']),
    );
    expect(Object.keys(doc.paths['/api/v1/providers/compute/reservations/{id}'])).toEqual(['get', 'delete']);
    expect(doc.components.schemas.NewComputeReservation.properties.cores).toMatchObject({ type: 'number', minimum: 0 });
  });
});
