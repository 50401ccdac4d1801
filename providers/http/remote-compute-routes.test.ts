import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UnavailableError, silentLogger, type Principal } from '../../core/index.ts';
import { createIdentityService } from '../../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { json } from '../../tests/support/json.ts';
import type { ComputeReservation } from '../compute/compute-ledger.ts';
import type { RemoteCompute, RemoteReservationRequest } from '../federation/remote-compute.ts';
import { createRemoteComputeRoutes } from './remote-compute-routes.ts';

const PEER = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
const DOWN = '12D3KooWDownPeer';
const FULL = '12D3KooWCrowdedPeer';
const SELF = '12D3KooWThisNode';
const T0 = new Date('2030-03-01T08:00:00.000Z');
const ID = '7f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01';

/** A peer as the remote compute client reports it: PEER answers, DOWN does not, FULL is out of room. */
function fakeRemote(calls: unknown[]): RemoteCompute {
  const check = (clusterId: string) => {
    if (clusterId === DOWN) throw new UnavailableError(`cluster ${DOWN} did not answer within 5000 ms`);
    if (clusterId !== PEER && clusterId !== FULL) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
  };
  const reservation = (principal: Principal, request: RemoteReservationRequest = {}): ComputeReservation => ({
    id: ID,
    providerId: 'local',
    requester: SELF,
    userName: principal.userName,
    cores: request.cores ?? 0,
    memoryMiB: request.memoryMiB ?? 0,
    gpus: request.gpus ?? 0,
    start: T0,
    end: new Date(T0.getTime() + 3_600_000),
    createdAt: T0,
    releasedAt: null,
    state: 'active',
  });
  return {
    async reserve(principal, clusterId, request) {
      check(clusterId);
      calls.push({ op: 'reserve', user: principal.userName, clusterId, request });
      if (clusterId === FULL) throw new ConflictError('not enough capacity: 2 cores requested, 1 core free in that window');
      return reservation(principal, request);
    },
    async release(principal, clusterId, id) {
      check(clusterId);
      calls.push({ op: 'release', user: principal.userName, clusterId, id });
      return { ...reservation(principal), releasedAt: T0, state: 'released' };
    },
    async get(principal, clusterId, id) {
      check(clusterId);
      calls.push({ op: 'get', user: principal.userName, clusterId, id });
      if (id !== ID) throw new NotFoundError(`reservation ${id} not found`);
      return reservation(principal);
    },
    async list(principal, clusterId, options) {
      check(clusterId);
      calls.push({ op: 'list', user: principal.userName, clusterId, state: options?.state, limit: options?.limit });
      return [reservation(principal, { cores: 1 })];
    },
    async status(_principal, clusterId) {
      check(clusterId);
      const r = { cores: 4, memoryMiB: 8192, gpus: 1 };
      return { providerId: 'local', capacity: r, inUse: { cores: 0, memoryMiB: 0, gpus: 0 }, free: r, peerQuota: { cores: 2 }, at: T0 };
    },
  };
}

describe('providers HTTP API: compute on peered clusters', () => {
  let cleanup: () => Promise<void>;
  let app: ReturnType<typeof createHttpApp>;
  let token: string;
  const calls: unknown[] = [];

  const call = (method: string, path: string, body?: unknown) =>
    app.request(`${API_PREFIX}/providers/compute/remote${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    const test = await createTestDatabase();
    cleanup = test.cleanup;
    const identity = createIdentityService({ db: test.db });
    token = (await identity.bootstrapAdmin())!.token;
    app = createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createRemoteComputeRoutes({ remote: fakeRemote(calls) })],
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });
  });
  afterAll(() => cleanup());

  it('reserves for the caller, releases, and shows the peer status', async () => {
    const created = await call('POST', `/${PEER}/reservations`, { cores: 2, start: T0.toISOString(), durationSeconds: 3600 });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ id: ID, requester: SELF, user: 'admin', cores: 2, start: T0.toISOString() });
    expect(calls.at(-1)).toEqual({ op: 'reserve', user: 'admin', clusterId: PEER, request: { cores: 2, start: T0, end: undefined, durationSeconds: 3600 } });

    const listed = await call('GET', `/${PEER}/reservations?state=all&limit=20`);
    expect(listed.status).toBe(200);
    expect(await json(listed)).toMatchObject({ items: [{ id: ID, requester: SELF, user: 'admin', cores: 1 }] });
    expect(calls.at(-1)).toEqual({ op: 'list', user: 'admin', clusterId: PEER, state: 'all', limit: 20 });
    const one = await call('GET', `/${PEER}/reservations/${ID}`);
    expect(one.status).toBe(200);
    expect(await json(one)).toMatchObject({ id: ID, state: 'active' });
    expect((await call('GET', `/${PEER}/reservations/0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01`)).status).toBe(404);

    expect((await call('DELETE', `/${PEER}/reservations/${ID}`)).status).toBe(204);
    expect(calls.at(-1)).toEqual({ op: 'release', user: 'admin', clusterId: PEER, id: ID });

    const status = await call('GET', `/${PEER}`);
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({ capacity: { cores: 4 }, peerQuota: { cores: 2 }, at: T0.toISOString() });
  });

  it('answers 404 for a cluster that is not peered, 503 for one that does not answer, 409 with its message when it does not fit', async () => {
    const notPeered = await call('POST', `/12D3KooWStranger/reservations`, { cores: 1, durationSeconds: 60 });
    expect(notPeered.status).toBe(404);
    expect(await json(notPeered)).toMatchObject({ error: { code: 'not-found' } });
    expect((await call('GET', `/${DOWN}`)).status).toBe(503);
    const full = await call('POST', `/${FULL}/reservations`, { cores: 2, durationSeconds: 60 });
    expect(full.status).toBe(409);
    expect(await json(full)).toMatchObject({ error: { code: 'conflict', message: 'not enough capacity: 2 cores requested, 1 core free in that window' } });
  });

  it('validates the input at the edge and documents the routes', async () => {
    expect((await call('POST', `/${PEER}/reservations`, { cores: -1, durationSeconds: 60 })).status).toBe(400);
    expect((await call('POST', `/${PEER}/reservations`, { cores: 1, durationSeconds: 60, requester: 'local' })).status).toBe(400);
    expect((await call('GET', '/not-a-cluster-id!')).status).toBe(400);
    expect((await call('DELETE', `/${PEER}/reservations/not-a-uuid`)).status).toBe(400);
    expect((await call('GET', `/${PEER}/reservations?limit=501`)).status).toBe(400);
    expect((await call('GET', `/${PEER}/reservations?state=some`)).status).toBe(400);
    const doc = (await json(app.request(`${API_PREFIX}/openapi.json`))) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/providers/compute/remote/{clusterId}/reservations']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/providers/compute/remote/{clusterId}/reservations/{id}']!).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/api/v1/providers/compute/remote/{clusterId}']!)).toEqual(['get']);
  });
});
