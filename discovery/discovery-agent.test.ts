import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotAllowedError, NotFoundError, silentLogger, UnavailableError, type Logger, type LogFields, type SqlDatabase } from '../core/index.ts';
import { createKubernetesResourceStore, createSqlResourceStore } from '../platform/resource-store/index.ts';
import { kubeconfigFor, startKubernetesApiDouble } from '../platform/resource-store/kubernetes-api-double.ts';
import { createTestDatabase } from '../platform/sql/testing.ts';
import { eventually } from '../tests/support/eventually.ts';
import { createDiscoveryAgent, type DiscoveryAgent, type DiscoveryAgentOptions } from './discovery-agent.ts';
import { rfc3339, signIdentityRecord } from './identity-record.ts';
import { exchangeJson } from './json-protocol.ts';
import { createFederationLibp2p, type FederationLibp2p } from './libp2p-node.ts';
import { clusterResourceName } from './peer-names.ts';
import { verifyFields } from './signing.ts';
import { generateSwarmKey } from './swarm-key.ts';

/**
 * Discovery agents in one process on 127.0.0.1, each with its own data directory and its own namespace
 * of one embedded resource store: how they find each other, what they record, peering by consent,
 * blocking, and what they do with forged records.
 */
const root = mkdtempSync(path.join(tmpdir(), 'archipel-discovery-'));
const swarmKeyFile = path.join(root, 'swarm.key');
writeFileSync(swarmKeyFile, generateSwarmKey());
let db: SqlDatabase;
let cleanup: () => Promise<void>;
const agents: DiscoveryAgent[] = [];
const libp2ps: FederationLibp2p[] = [];

/**
 * The agents' timers. Deadlines are generous: a test never waits for one to pass, and a busy machine
 * (where a handshake can take more than ten seconds) must not miss one. The rounds are short, and a
 * failed redial is retried within a second (not after a backoff that grows while the machine is
 * slow), so that the federation converges whatever the load. Each test stops the agents it alone uses,
 * so that the later ones do not run beside their rounds.
 */
const timing = {
  dialTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  maintenanceIntervalMs: 200,
  walkIntervalMs: 2000,
  pingIntervalMs: 1000,
  maxRedialBackoffMs: 1000,
};
/** The deadline of one step a test takes itself (a stream it opens, a message it sends). */
const stepSignal = () => AbortSignal.timeout(30_000);
/** A test's own deadline: every wait in it may take its full deadline on a loaded machine. */
const TEST_TIMEOUT_MS = 180_000;

/**
 * Waits until `check` passes and returns its value; after `timeoutMs` (generous: a loaded machine is
 * slow, and a passing check returns at once) fails saying what was awaited and the last failure.
 */
async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000): Promise<T> {
  try {
    return await eventually(check, timeoutMs);
  } catch (error) {
    throw new Error(`waiting for ${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** A logger that keeps what it is given, to assert on what an operator would read. */
function capturingLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger = { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => logger };
  return logger;
}
/** The peerings each agent ended (its `onPeeringEnded` calls), by agent name: `[clusterId, reason]`. */
const ended = new Map<string, [string, string][]>();
const endedBy = (name: string) => ended.get(name) ?? [];

async function startAgent(name: string, extra: Partial<DiscoveryAgentOptions> = {}): Promise<DiscoveryAgent> {
  const agent = createDiscoveryAgent({
    onPeeringEnded: async (clusterId, reason) => {
      ended.set(name, [...endedBy(name), [clusterId, reason]]);
    },
    dataDir: path.join(root, name),
    store: createSqlResourceStore({ db, namespace: name }),
    logger: silentLogger,
    name,
    swarmKeyFile,
    host: '127.0.0.1',
    port: 0,
    apiEndpoint: () => `http://127.0.0.1:1/${name}`,
    timing,
    ...extra,
  });
  await agent.start();
  agents.push(agent);
  return agent;
}

const idOf = (agent: DiscoveryAgent) => agent.identity().clusterId;
const addressOf = (agent: DiscoveryAgent) => agent.identity().multiaddrs[0]!;
const seen = (by: DiscoveryAgent, other: DiscoveryAgent) => {
  const peer = by.getPeer(idOf(other));
  expect(peer).toMatchObject({ connected: true, name: other.identity().name, identity: { clusterId: idOf(other) } });
  return peer;
};

beforeAll(async () => {
  ({ db, cleanup } = await createTestDatabase());
});
afterAll(async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  await Promise.allSettled(libp2ps.map((n) => n.stop()));
  await cleanup?.();
  rmSync(root, { recursive: true, force: true });
});

describe('discovery agents on loopback', { timeout: TEST_TIMEOUT_MS }, () => {
  let a: DiscoveryAgent;
  let b: DiscoveryAgent;
  let c: DiscoveryAgent;

  it('form a federation through a bootstrap node that survives the bootstrap node leaving', async () => {
    a = await startAgent('node-a');
    const bootstrap = [addressOf(a)];
    expect(bootstrap[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${idOf(a)}$`));
    [b, c] = await Promise.all([startAgent('node-b', { bootstrap }), startAgent('node-c', { bootstrap })]);

    await until('each of A, B and C to see the other two', () => {
      for (const [x, y] of [[a, b], [a, c], [b, a], [b, c], [c, a], [c, b]] as const) seen(x, y);
    });
    // What the agent knows is in the resource store, under the peer's derived object name.
    const store = createSqlResourceStore({ db, namespace: 'node-b' });
    await until("B's Peer object for C", async () => {
      const stored = await store.get('Peer', clusterResourceName(idOf(c)));
      expect(stored.spec).toMatchObject({ clusterId: idOf(c), name: 'node-c' });
      expect(stored.spec?.addresses?.[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
      expect(stored.status).toMatchObject({ state: 'discovered', reachable: true, identity: { name: 'node-c', apiEndpoint: 'http://127.0.0.1:1/node-c' } });
    });
    expect((await store.get('Swarm', 'default')).spec).toMatchObject({ keyFingerprint: b.swarm().keyFingerprint, bootstrap });
    expect((await store.get('Identity', clusterResourceName(idOf(b)))).spec).toMatchObject({ clusterId: idOf(b), name: 'node-b' });
    await until("B to measure C's latency", () => expect(b.getPeer(idOf(c)).latencyMs).toBeTypeOf('number'));

    const aId = idOf(a);
    await a.stop();
    await until('B to see A gone', () => expect(b.getPeer(aId)).toMatchObject({ connected: false, reachable: false }));
    await until('B and C to reach each other without A', () => {
      expect(seen(b, c).reachable).toBe(true);
      expect(seen(c, b).reachable).toBe(true);
    });
    // The store follows what the agent sees.
    await until("B's Peer object for A to say unreachable", async () => expect((await store.get('Peer', clusterResourceName(aId))).status).toMatchObject({ reachable: false }));
  });

  it('peers by consent: a request waits for the operator, approval reaches both sides', async () => {
    const requested = await b.requestPeering(idOf(c));
    expect(requested.state).toBe('requested');
    expect(c.getPeer(idOf(b)).state).toBe('pending-approval');
    expect(() => b.isPeered(idOf(c))).not.toThrow();
    expect(b.isPeered(idOf(c))).toBe(false);
    await expect(b.approvePeering(idOf(c))).rejects.toBeInstanceOf(ConflictError);

    expect((await c.approvePeering(idOf(b))).state).toBe('peered');
    await until("C's approval to reach B", () => expect(b.getPeer(idOf(c)).state).toBe('peered'));
    expect(b.isPeered(idOf(c)) && c.isPeered(idOf(b))).toBe(true);
  });

  it('opens application protocols to peered clusters only', async () => {
    const d = await startAgent('node-d', { bootstrap: [addressOf(c)] });
    const protocol = '/archipel/test-echo/1.0.0';
    await c.handlePeered(protocol, async (stream) => {
      await stream.close();
    });
    await until('D to see C', () => seen(d, c));
    await expect(d.openPeeredStream(idOf(c), protocol, { signal: stepSignal() })).rejects.toBeInstanceOf(NotAllowedError);
    const stream = await b.openPeeredStream(idOf(c), protocol, { signal: stepSignal() });
    await stream.close();
    await d.stop();
  });

  it('signs application messages with the cluster key, never as one of its own kinds', async () => {
    const fields = ['alice', ['x/lab'], 42];
    const signature = await b.sign('archipel-test/1', fields);
    expect(await verifyFields(idOf(b), 'archipel-test/1', fields, signature)).toBe(true);
    expect(await verifyFields(idOf(c), 'archipel-test/1', fields, signature)).toBe(false);
    expect(await verifyFields(idOf(b), 'archipel-other/1', fields, signature)).toBe(false);
    await expect(b.sign('archipel-peering/1', fields)).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(b.sign('archipel-identity-record/1', fields)).rejects.toMatchObject({ kind: 'invalid-input' });
  });

  it('refuses a blocked peer at the connection gater, until unblocked', async () => {
    expect(b.getPeer(idOf(c)).state).toBe('peered');
    const blocked = await c.block(idOf(b));
    expect(blocked).toMatchObject({ state: 'blocked', connected: false });
    await until('B to be cut off from C', () => expect(b.getPeer(idOf(c)).connected).toBe(false));
    // B was told before it was cut off: it no longer counts on the peering. Each side ended it once.
    expect(b.getPeer(idOf(c)).state).toBe('refused');
    expect(b.isPeered(idOf(c))).toBe(false);
    await until('both sides to end the peering', () => {
      expect(endedBy('node-c').filter(([id]) => id === idOf(b))).toEqual([[idOf(b), 'blocked']]);
      expect(endedBy('node-b').filter(([id]) => id === idOf(c))).toEqual([[idOf(c), 'refused-by-peer']]);
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(b.connect(addressOf(c))).rejects.toBeInstanceOf(UnavailableError);
    }
    expect(c.getPeer(idOf(b))).toMatchObject({ state: 'blocked', connected: false });
    await expect(c.requestPeering(idOf(b))).rejects.toBeInstanceOf(ConflictError);

    expect((await c.unblock(idOf(b))).state).toBe('discovered');
    expect((await b.connect(addressOf(c))).clusterId).toBe(idOf(c));
    await until('C to see B connected again', () => expect(c.getPeer(idOf(b)).connected).toBe(true));
  });

  it('lists the clusters it met, and those it blocked; not one it only dialled, nor one unblocked unmet', async () => {
    let j = await startAgent('node-j');
    const k = await startAgent('node-k');
    const ghost = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const store = createSqlResourceStore({ db, namespace: 'node-k' });

    // Blocked before ever being met: listed (and stored) as blocked, and whatever it held here ended.
    expect(await k.block(ghost)).toMatchObject({ clusterId: ghost, state: 'blocked', connected: false, reachable: false });
    expect(k.listPeers().map((p) => [p.clusterId, p.state])).toEqual([[ghost, 'blocked']]);
    expect((await store.get('Peer', clusterResourceName(ghost))).status?.state).toBe('blocked');
    await until("K to end what the ghost held", () => expect(endedBy('node-k')).toEqual([[ghost, 'blocked']]));

    // J dials K, which has blocked it: the connection never carries an exchange, and J lists nobody.
    // Stopping J waits for whatever its connections set off and writes what it holds to its store:
    // nothing there, nor in the agent started again on it, once every chance to meet K has passed.
    await k.block(idOf(j));
    for (let attempt = 0; attempt < 2; attempt++) await expect(j.connect(addressOf(k))).rejects.toBeInstanceOf(UnavailableError);
    await j.stop();
    expect((await createSqlResourceStore({ db, namespace: 'node-j' }).list('Peer')).items).toEqual([]);
    j = await startAgent('node-j');
    expect(j.listPeers()).toEqual([]);
    expect(() => j.getPeer(idOf(k))).toThrow(NotFoundError);

    // Unblocked, a cluster never met is forgotten (in the store too) until it shows up.
    expect(await k.unblock(ghost)).toMatchObject({ state: 'discovered', connected: false });
    expect(k.listPeers().map((p) => p.clusterId)).toEqual([idOf(j)]);
    expect(() => k.getPeer(ghost)).toThrow(NotFoundError);
    await expect(store.get('Peer', clusterResourceName(ghost))).rejects.toBeInstanceOf(NotFoundError);
    await expect(k.requestPeering(ghost)).rejects.toBeInstanceOf(NotFoundError);

    // Once they meet, each lists the other.
    await k.unblock(idOf(j));
    expect((await j.connect(addressOf(k))).state).toBe('discovered');
    await until('J and K to list each other', () => {
      expect(j.listPeers().map((p) => p.clusterId)).toEqual([idOf(k)]);
      expect(k.listPeers().map((p) => p.clusterId)).toEqual([idOf(j)]);
      expect(k.getPeer(idOf(j))).toMatchObject({ state: 'discovered', connected: true, lastSeen: expect.any(String) });
    });
    await Promise.all([j.stop(), k.stop()]);
  });

  it('approves at once under the auto and allow-list policies', async () => {
    const e = await startAgent('node-e', { peeringPolicy: { mode: 'auto' } });
    const f = await startAgent('node-f', { peeringPolicy: { mode: 'allowList', allowedClusterIds: [idOf(e)] } });
    await e.connect(addressOf(f));
    await until('F to see E', () => seen(f, e));
    expect((await e.requestPeering(idOf(f))).state).toBe('peered');
    expect(f.getPeer(idOf(e)).state).toBe('peered');

    await c.connect(addressOf(f));
    expect((await c.requestPeering(idOf(f))).state).toBe('requested');
    expect(f.getPeer(idOf(c)).state).toBe('pending-approval');
    await c.connect(addressOf(e));
    expect((await c.requestPeering(idOf(e))).state).toBe('peered');
    await Promise.all([e.stop(), f.stop()]);
  });

  it('drops forged, stale and expired identity records', async () => {
    const attackerKey = await generateKeyPair('Ed25519');
    const ghostKey = await generateKeyPair('Ed25519');
    const attacker = await createFederationLibp2p({
      privateKey: attackerKey,
      // The attacker is a member of the swarm: it holds the key.
      swarmKeyText: readFileSync(swarmKeyFile, 'utf8'),
      host: '127.0.0.1',
      port: 0,
      gater: {},
      dialTimeoutMs: timing.dialTimeoutMs,
      querySelfIntervalMs: 60_000,
      pingIntervalMs: 10_000,
    });
    libp2ps.push(attacker);
    await attacker.start();
    const attackerId = attacker.peerId.toString();
    const victim = c.getPeer(idOf(b)).identity!;
    const expiresAt = rfc3339(new Date(Date.now() + 3600_000));
    const forged = [
      // The victim's record with a new name and sequence, its signature kept.
      { ...victim, name: 'evil', sequence: victim.sequence + 10 },
      // A record for the victim's cluster id signed by the attacker's key.
      await signIdentityRecord(attackerKey, { clusterId: idOf(b), name: 'evil', sequence: victim.sequence + 10, expiresAt }),
      // The attacker's own records: expired, then valid.
      await signIdentityRecord(attackerKey, { clusterId: attackerId, name: 'expired', sequence: 5, expiresAt: rfc3339(new Date(Date.now() - 1000)) }),
      await signIdentityRecord(attackerKey, { clusterId: attackerId, name: 'attacker', sequence: 5, expiresAt }),
      // A cluster nobody has met, validly signed: not taken on hearsay.
      await signIdentityRecord(ghostKey, { clusterId: peerIdFromPrivateKey(ghostKey).toString(), name: 'ghost', sequence: 1, expiresAt }),
    ];
    const send = async (records: unknown[]) => {
      const signal = stepSignal();
      const stream = await attacker.dialProtocol(multiaddr(addressOf(c)), '/archipel/identity/1.0.0', { signal });
      return exchangeJson(stream, { records }, { maxBytes: 1024 * 1024, signal });
    };
    const reply = (await send(forged)) as { records: { clusterId: string }[] };
    expect(reply.records[0]!.clusterId).toBe(idOf(c));

    await until("C to take in the attacker's own valid record", () => expect(c.getPeer(attackerId).identity).toMatchObject({ name: 'attacker', sequence: 5 }));
    expect(c.getPeer(idOf(b)).identity).toEqual(victim);
    expect(c.getPeer(idOf(b)).name).toBe('node-b');
    expect(() => c.getPeer(peerIdFromPrivateKey(ghostKey).toString())).toThrow(/no peer/);

    // An older sequence of a known cluster's record is dropped too.
    await send([await signIdentityRecord(attackerKey, { clusterId: attackerId, name: 'older', sequence: 4, expiresAt })]);
    await send([await signIdentityRecord(attackerKey, { clusterId: attackerId, name: 'newer', sequence: 6, expiresAt })]);
    // C takes records in the order they came: once the newer one is in, the older one was dropped.
    await until("C to take in the attacker's newer record", () => expect(c.getPeer(attackerId).identity?.name).toBe('newer'));
  });

  it('renames itself with a higher sequence and re-announces', async () => {
    const before = b.identity();
    const renamed = await b.updateIdentity({ name: 'bravo', description: 'the second node' });
    expect(renamed.sequence).toBeGreaterThan(before.sequence);
    await until("B's new name to reach C", () => expect(c.getPeer(idOf(b))).toMatchObject({ name: 'bravo', identity: { name: 'bravo', description: 'the second node' } }));
  });
});

describe('a discovery agent restarted on its data directory and store', { timeout: TEST_TIMEOUT_MS }, () => {
  it('keeps its cluster id, raises its sequence, and remembers its peers and whom it blocked', async () => {
    const store = createSqlResourceStore({ db, namespace: 'node-g' });
    const options = { dataDir: path.join(root, 'node-g'), store, logger: silentLogger, name: 'node-g', swarmKeyFile, host: '127.0.0.1', port: 0, timing };
    const g = createDiscoveryAgent(options);
    await g.start();
    const h = await startAgent('node-h');
    const i = await startAgent('node-i');
    await h.connect(addressOf(g));
    await i.connect(addressOf(g));
    await until('G to see H and I', () => {
      seen(g, h);
      seen(g, i);
    });
    await g.block(idOf(i));
    const before = g.identity();
    await g.stop();

    const again = createDiscoveryAgent(options);
    agents.push(again);
    await again.start();
    expect(again.identity().clusterId).toBe(before.clusterId);
    expect(again.identity().sequence).toBeGreaterThan(before.sequence);
    expect(again.getPeer(idOf(h))).toMatchObject({ name: 'node-h', state: 'discovered' });
    expect(again.getPeer(idOf(i)).state).toBe('blocked');
    // It reconnects to the peers it knew (their addresses were kept), but not to the blocked one.
    await until('G, restarted, to reconnect to H', () => expect(again.getPeer(idOf(h)).connected).toBe(true));
    await expect(i.connect(again.identity().multiaddrs[0]!)).rejects.toBeInstanceOf(UnavailableError);
    expect(again.getPeer(idOf(i)).connected).toBe(false);
    await Promise.all([again.stop(), h.stop(), i.stop()]);
  });
});

describe('discovery agents on Kubernetes custom resources', { timeout: TEST_TIMEOUT_MS }, () => {
  it('keep Swarm, Identity and Peer objects of the same shape in the cluster (against the API double)', async () => {
    const double = await startKubernetesApiDouble({ bookmarkIntervalMs: 100 });
    try {
      const storeFor = (namespace: string) => createKubernetesResourceStore({ kubeconfig: kubeconfigFor(double), namespace });
      const one = await startAgent('kube-one', { store: storeFor('kube-one') });
      const two = await startAgent('kube-two', { store: storeFor('kube-two'), bootstrap: [addressOf(one)] });
      await until('the two agents to see each other', () => seen(one, two));
      await until("kube-one's Peer object for kube-two", async () => {
        const stored = await storeFor('kube-one').get('Peer', clusterResourceName(idOf(two)));
        expect(stored).toMatchObject({
          apiVersion: 'archipel.io/v1alpha1',
          kind: 'Peer',
          spec: { clusterId: idOf(two), name: 'kube-two' },
          status: { state: 'discovered', reachable: true, identity: { clusterId: idOf(two), name: 'kube-two' } },
        });
      });
      expect((await storeFor('kube-two').get('Swarm', 'default')).spec?.keyFingerprint).toBe(one.swarm().keyFingerprint);
      expect((await storeFor('kube-two').get('Identity', clusterResourceName(idOf(two)))).spec?.sequence).toBe(two.identity().sequence);
      expect(double.requests.some((r) => r.method === 'PATCH' && r.path.startsWith('/apis/archipel.io/v1alpha1/namespaces/kube-one/peers/'))).toBe(true);
      await Promise.all([one.stop(), two.stop()]);
    } finally {
      await double.close();
    }
  });
});

describe('a node started with another swarm key', { timeout: TEST_TIMEOUT_MS }, () => {
  it('says why it cannot join through a bootstrap node, once for each address', async () => {
    const member = await startAgent('key-member');
    const address = addressOf(member);
    const otherKeyFile = path.join(root, 'other-swarm.key');
    writeFileSync(otherKeyFile, generateSwarmKey());
    const logger = capturingLogger();
    const stranger = await startAgent('key-stranger', { swarmKeyFile: otherKeyFile, logger, bootstrap: [address] });
    const fingerprint = stranger.swarm().keyFingerprint;
    expect(fingerprint).not.toBe(member.swarm().keyFingerprint);

    const warnings = () => logger.lines.filter((l) => l.level === 'warn' && l.message.startsWith(`cannot join through ${address}:`));
    const [warning] = await until('the warning that the bootstrap handshake failed', () => {
      expect(warnings()).toHaveLength(1);
      return warnings();
    });
    expect(warning!.message).toContain(`does this node use the same swarm key (fingerprint ${fingerprint}) as the federation?`);
    expect(stranger.swarm()).toMatchObject({ connectedPeers: 0, bootstrapProblems: [{ address, problem: expect.stringContaining(fingerprint) }] });
    // The node, alone, keeps trying (each failure a debug line); the warning is not repeated.
    const retries = () =>
      logger.lines.slice(logger.lines.indexOf(warning!)).filter((l) => l.level === 'debug' && l.message === 'bootstrap node not reachable' && l.fields?.address === address);
    await until('two more attempts through the bootstrap node', () => expect(retries().length).toBeGreaterThanOrEqual(2));
    expect(warnings()).toHaveLength(1);
    // Told directly, an operator's connect fails too (saying the same, unless the garbled handshake
    // ran out of time instead: it can wait for bytes that never come, which is not evidence enough).
    await expect(stranger.connect(address)).rejects.toBeInstanceOf(UnavailableError);
    await Promise.all([member.stop(), stranger.stop()]);
  });
});
