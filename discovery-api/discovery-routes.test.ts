import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type SqlDatabase } from '../core/index.ts';
import { createDiscoveryAgent, generateSwarmKey, type DiscoveryAgent } from '../discovery/index.ts';
import { createIdentityService } from '../frontend-backend/index.ts';
import { API_PREFIX, createHttpApp } from '../platform/http/index.ts';
import { createSqlResourceStore } from '../platform/resource-store/index.ts';
import { createTestDatabase } from '../platform/sql/testing.ts';
import { json } from '../tests/support/json.ts';
import { eventually } from '../tests/support/eventually.ts';
import { createDiscoveryRoutes } from './discovery-routes.ts';

/**
 * The discovery API in-process (`app.request()`), over two real discovery agents on 127.0.0.1 that
 * share a swarm key: what an operator sees and does through HTTP.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-discovery-api-'));
const swarmKeyFile = path.join(root, 'swarm.key');
writeFileSync(swarmKeyFile, generateSwarmKey());

let db: SqlDatabase;
let cleanup: () => Promise<void>;
let adminToken: string;
let userToken: string;
const agents: DiscoveryAgent[] = [];
const apps: ReturnType<typeof createHttpApp>[] = [];

function startAgent(name: string) {
  const agent = createDiscoveryAgent({
    dataDir: path.join(root, name),
    store: createSqlResourceStore({ db, namespace: name }),
    logger: silentLogger,
    name,
    swarmKeyFile,
    host: '127.0.0.1',
    port: 0,
    timing: { dialTimeoutMs: 2000, requestTimeoutMs: 3000, maintenanceIntervalMs: 200, walkIntervalMs: 1000, pingIntervalMs: 1000 },
  });
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  ({ db, cleanup } = await createTestDatabase());
  const identity = createIdentityService({ db });
  adminToken = (await identity.bootstrapAdmin())!.token;
  const admin = await identity.authenticate(adminToken);
  await identity.createUser(admin, { name: 'alice', password: 'alice password' });
  userToken = (await identity.login('alice', 'alice password')).token;
  for (const name of ['node-x', 'node-y']) {
    const agent = startAgent(name);
    await agent.start();
    apps.push(
      createHttpApp({
        logger: silentLogger,
        authenticate: (t) => identity.authenticate(t),
        ready: async () => true,
        routers: [createDiscoveryRoutes({ discovery: agent })],
        maxBodyBytes: 64 * 1024,
        version: 'test',
      }),
    );
  }
});
afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await cleanup?.();
  rmSync(root, { recursive: true, force: true });
});

const call = (app: number, method: string, route: string, options: { token?: string; body?: unknown } = {}) =>
  apps[app]!.request(`${API_PREFIX}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${options.token ?? adminToken}`,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
const X = 0;
const Y = 1;

describe('discovery API', () => {
  let xId: string;
  let yId: string;
  let yAddress: string;

  it('shows the identity with multiaddrs ending in /p2p/<cluster id>, and the swarm by fingerprint only', async () => {
    const identity = await json(call(Y, 'GET', '/discovery/identity', { token: userToken }));
    expect(identity).toMatchObject({ name: 'node-y', capabilities: [], sequence: expect.any(Number) });
    yId = identity.clusterId;
    yAddress = identity.multiaddrs[0];
    expect(yAddress).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${yId}$`));
    xId = (await json(call(X, 'GET', '/discovery/identity'))).clusterId;

    const swarm = await json(call(X, 'GET', '/discovery/swarm'));
    expect(swarm).toMatchObject({ keyFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), generatedKey: false, bootstrap: [], peeringPolicy: { mode: 'manual' }, bootstrapProblems: [] });
    const keyHex = readFileSync(swarmKeyFile, 'utf8').split('\n')[2]!;
    expect(keyHex).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(swarm)).not.toContain(keyHex);
  });

  it('connects to a multiaddr (admins only) and lists the peer found there', async () => {
    expect((await call(X, 'POST', '/discovery/peers', { token: userToken, body: { address: yAddress } })).status).toBe(403);
    const bad = await call(X, 'POST', '/discovery/peers', { body: { address: 'not-a-multiaddr' } });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.issues[0].path).toBe('json:address');
    expect((await call(X, 'POST', '/discovery/peers', { body: { address: '/ip4/1.2.3.4/tcp/nope' } })).status).toBe(400);

    const connected = await call(X, 'POST', '/discovery/peers', { body: { address: yAddress } });
    expect(connected.status).toBe(200);
    expect(await json(connected)).toMatchObject({ clusterId: yId, name: 'node-y', state: 'discovered', connected: true, reachable: true });

    const listed = await json(call(X, 'GET', '/discovery/peers', { token: userToken }));
    expect(listed.items.map((p: { clusterId: string }) => p.clusterId)).toEqual([yId]);
    await eventually(async () => expect((await json(call(Y, 'GET', `/discovery/peers/${xId}`))).identity).toMatchObject({ clusterId: xId, name: 'node-x' }));
  });

  it('answers 404 for an unknown cluster and 400 for something that is not a cluster id', async () => {
    const unknown = await call(X, 'GET', '/discovery/peers/12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35');
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('not-found');
    expect((await call(X, 'GET', '/discovery/peers/not-a-peer-id')).status).toBe(400);
    expect((await call(X, 'POST', '/discovery/peers/12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35/approve')).status).toBe(404);
  });

  it('runs peering by consent through the API: request, pending, approve, peered on both', async () => {
    expect((await call(X, 'POST', `/discovery/peers/${yId}/request-peering`, { token: userToken })).status).toBe(403);
    const requested = await call(X, 'POST', `/discovery/peers/${yId}/request-peering`);
    expect(requested.status).toBe(200);
    expect((await json(requested)).state).toBe('requested');
    expect((await json(call(Y, 'GET', `/discovery/peers/${xId}`))).state).toBe('pending-approval');

    const early = await call(X, 'POST', `/discovery/peers/${yId}/approve`);
    expect(early.status).toBe(409);
    expect((await json(early)).error.code).toBe('conflict');

    expect((await json(call(Y, 'POST', `/discovery/peers/${xId}/approve`))).state).toBe('peered');
    await eventually(async () => expect((await json(call(X, 'GET', `/discovery/peers/${yId}`))).state).toBe('peered'));

    expect((await json(call(Y, 'POST', `/discovery/peers/${xId}/refuse`))).state).toBe('refused');
    await eventually(async () => expect((await json(call(X, 'GET', `/discovery/peers/${yId}`))).state).toBe('refused'));
  });

  it('blocks and unblocks a peer', async () => {
    const blocked = await json(call(Y, 'POST', `/discovery/peers/${xId}/block`));
    expect(blocked).toMatchObject({ state: 'blocked', connected: false });
    const refused = await call(X, 'POST', '/discovery/peers', { body: { address: yAddress } });
    expect(refused.status).toBe(503);
    expect((await json(refused)).error.code).toBe('unavailable');
    expect((await json(call(Y, 'POST', `/discovery/peers/${xId}/unblock`))).state).toBe('discovered');
    expect((await call(X, 'POST', '/discovery/peers', { body: { address: yAddress } })).status).toBe(200);
  });

  it('renames the cluster (admins only) with a higher sequence, and peers learn the new name', async () => {
    expect((await call(X, 'PATCH', '/discovery/identity', { token: userToken, body: { name: 'x-ray' } })).status).toBe(403);
    expect((await call(X, 'PATCH', '/discovery/identity', { body: { colour: 'red' } })).status).toBe(400);
    const before = (await json(call(X, 'GET', '/discovery/identity'))).sequence;
    const renamed = await json(call(X, 'PATCH', '/discovery/identity', { body: { name: 'x-ray', description: 'first node' } }));
    expect(renamed).toMatchObject({ name: 'x-ray', description: 'first node' });
    expect(renamed.sequence).toBeGreaterThan(before);
    await eventually(async () => expect(await json(call(Y, 'GET', `/discovery/peers/${xId}`))).toMatchObject({ name: 'x-ray', identity: { name: 'x-ray' } }));
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = await json(apps[X]!.request(`${API_PREFIX}/openapi.json`));
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/discovery'));
    expect(paths.sort()).toEqual(
      [
        '/api/v1/discovery/identity',
        '/api/v1/discovery/peers',
        '/api/v1/discovery/peers/{clusterId}',
        ...['approve', 'block', 'refuse', 'request-peering', 'unblock'].map((a) => `/api/v1/discovery/peers/{clusterId}/${a}`),
        '/api/v1/discovery/swarm',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/api/v1/discovery/identity'])).toEqual(['get', 'patch']);
    expect(doc.components.schemas).toHaveProperty('Peer');
  });
});
