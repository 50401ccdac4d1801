import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSwarmKey } from '../discovery/index.ts';
import { createPgliteTestDatabase } from '../platform/sql/testing.ts';
import { eventually } from './support/eventually.ts';
import { runArchipel, type ArchipelProcess } from './support/archipel-process.ts';
import { json } from './support/json.ts';
import { unmountUnder } from './support/mounts.ts';

/**
 * A federation as operators run it: `archipel up` nodes in separate processes on 127.0.0.1, joined
 * with a shared swarm key and a bootstrap address, observed and steered through each node's API.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-federation-'));
const running: ArchipelProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  // A directory grant that was not revoked may have left a read-only bind mount.
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
});

const keyFile = (name: string) => {
  const file = path.join(root, name);
  writeFileSync(file, generateSwarmKey(), { mode: 0o600 });
  return file;
};

interface Node {
  name: string;
  process: ArchipelProcess;
  url: string;
  p2p: string;
  clusterId: string;
  token: string;
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: Awaited<ReturnType<typeof json>> }>;
}

async function startNode(name: string, swarmKey: string, extra: string[] = []): Promise<Node> {
  const dataDir = path.join(root, name);
  // A migrated embedded database from the test template: a fresh one takes many seconds to create on a
  // busy machine, and node creation is tests/node-lifecycle.test.ts's subject, not this file's.
  mkdirSync(dataDir, { recursive: true });
  await (await createPgliteTestDatabase({ dataDir: path.join(dataDir, 'db') })).cleanup();
  const child = runArchipel(
    ['up', '--name', name, '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0', '--swarm-key', swarmKey, ...extra],
    { env: { DATABASE_URL: undefined } },
  );
  running.push(child);
  const [, url] = await child.waitFor(/API:\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
  const [, p2p, clusterId] = await child.waitFor(/p2p:\s+(\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/(\w+))/);
  const token = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}/api/v1${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await json(response) };
  };
  return { name, process: child, url: url!, p2p: p2p!, clusterId: clusterId!, token, call };
}

const peersOf = async (node: Node) => {
  const { status, body } = await node.call('GET', '/discovery/peers');
  expect(status).toBe(200);
  return body.items as { clusterId: string; name?: string; state: string; connected: boolean; reachable: boolean }[];
};
const peerOf = async (node: Node, other: Node) => {
  const { status, body } = await node.call('GET', `/discovery/peers/${other.clusterId}`);
  expect(status, `${node.name} should know ${other.name}`).toBe(200);
  return body as { name?: string; state: string; connected: boolean; reachable: boolean };
};

describe('a federation of archipel nodes on 127.0.0.1', () => {
  it('forms through a bootstrap node, outlives it, peers by consent, and keeps others out', { timeout: 120_000 }, async () => {
    // The federation's key, as an operator makes it: `archipel swarm-key generate > swarm.key`.
    const generate = runArchipel(['swarm-key', 'generate']);
    running.push(generate);
    expect(await generate.exited).toBe(0);
    expect(generate.stdout()).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    const swarmKey = path.join(root, 'federation.key');
    writeFileSync(swarmKey, generate.stdout(), { mode: 0o600 });
    const a = await startNode('alpha', swarmKey);
    const identity = (await a.call('GET', '/discovery/identity')).body;
    expect(identity).toMatchObject({ clusterId: a.clusterId, name: 'alpha', apiEndpoint: a.url });
    expect(identity.multiaddrs).toContain(a.p2p);

    const [b, c, d] = await Promise.all([
      startNode('bravo', swarmKey, ['--bootstrap', a.p2p]),
      startNode('charlie', swarmKey, ['--bootstrap', a.p2p]),
      // Another federation's node, pointed at A: it must never get in.
      startNode('intruder', keyFile('other.key'), ['--bootstrap', a.p2p]),
    ]);
    expect((await b.call('GET', '/discovery/swarm')).body.keyFingerprint).toBe((await a.call('GET', '/discovery/swarm')).body.keyFingerprint);
    expect((await d.call('GET', '/discovery/swarm')).body.keyFingerprint).not.toBe((await a.call('GET', '/discovery/swarm')).body.keyFingerprint);

    // Each sees the other two, connected, under the names from their signed identity records.
    const members = [a, b, c];
    await eventually(async () => {
      for (const node of members) {
        const seen = (await peersOf(node)).filter((p) => p.connected).map((p) => [p.clusterId, p.name]);
        const others = members.filter((m) => m !== node).map((m) => [m.clusterId, m.name]);
        expect(seen.sort()).toEqual(others.sort());
      }
    }, 20_000, 250);

    // The intruder's own attempt to connect fails, and nobody ever lists it.
    const intrusion = await d.call('POST', '/discovery/peers', { address: a.p2p });
    expect(intrusion.status).toBe(503);
    expect(intrusion.body.error.code).toBe('unavailable');
    expect(await peersOf(d)).toEqual([]);
    for (const node of members) expect((await peersOf(node)).map((p) => p.clusterId)).not.toContain(d.clusterId);

    // The bootstrap node leaves: B and C still see each other (they hold direct connections).
    expect(await a.process.stop('SIGTERM')).toBe(0);
    await eventually(async () => {
      expect(await peerOf(b, a)).toMatchObject({ connected: false, reachable: false });
      expect(await peerOf(b, c)).toMatchObject({ connected: true, reachable: true, state: 'discovered' });
      expect(await peerOf(c, b)).toMatchObject({ connected: true, reachable: true, state: 'discovered' });
    }, 15_000, 250);

    // Peering by consent: B asks, C's operator approves through the API, both show peered.
    const asked = await b.call('POST', `/discovery/peers/${c.clusterId}/request-peering`);
    expect(asked).toMatchObject({ status: 200, body: { state: 'requested' } });
    expect((await peerOf(c, b)).state).toBe('pending-approval');
    const approved = await c.call('POST', `/discovery/peers/${b.clusterId}/approve`);
    expect(approved).toMatchObject({ status: 200, body: { state: 'peered' } });
    await eventually(async () => expect((await peerOf(b, c)).state).toBe('peered'), 10_000, 200);

    // What B holds on C while peered: a compute reservation (asked over the compute protocol) and an
    // access grant to a directory for one of its users.
    const held = await b.call('POST', `/providers/compute/remote/${c.clusterId}/reservations`, { cores: 0.5, memoryMiB: 64, durationSeconds: 600 });
    expect(held.status, JSON.stringify(held.body)).toBe(201);
    expect(held.body).toMatchObject({ requester: b.clusterId, state: 'active' });
    const shared = path.join(root, 'shared-with-bravo');
    mkdirSync(shared);
    writeFileSync(path.join(shared, 'notes.txt'), 'for bravo\n');
    const granted = await c.call('POST', '/providers/grants', { target: { kind: 'data', source: { type: 'directory', path: shared } }, grantee: { cluster: b.clusterId, user: 'bea' }, ttlSeconds: 600 });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);

    // C blocks B: B is told first (it shows C as refused, no longer peered), then its connection is
    // closed and every new attempt is refused; what B held on C ends.
    expect((await c.call('POST', `/discovery/peers/${b.clusterId}/block`)).body).toMatchObject({ state: 'blocked', connected: false });
    await eventually(async () => expect((await peerOf(b, c)).connected).toBe(false), 10_000, 200);
    expect((await peerOf(b, c)).state).toBe('refused');
    await eventually(async () => {
      const reservations = (await c.call('GET', `/providers/compute/reservations?requester=${b.clusterId}&state=all`)).body.items;
      expect(reservations).toEqual([expect.objectContaining({ id: held.body.id, state: 'released' })]);
      const grants = (await c.call('GET', '/providers/grants?state=all')).body.items as { id: string; state: string }[];
      expect(grants.find((g) => g.id === granted.body.grant.id)?.state).toBe('revoked');
    }, 10_000, 200);
    expect(existsSync(granted.body.access.path)).toBe(false);
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await b.call('POST', '/discovery/peers', { address: c.p2p })).status).toBe(503);
    }
    expect(await peerOf(c, b)).toMatchObject({ state: 'blocked', connected: false });
    expect((await peerOf(b, c)).connected).toBe(false);

    // And still no trace of the intruder.
    for (const node of [b, c]) expect((await peersOf(node)).map((p) => p.clusterId)).not.toContain(d.clusterId);
    expect(await peersOf(d)).toEqual([]);
  });
});
