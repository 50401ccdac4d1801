import { randomBytes } from 'node:crypto';
import type { Connection, PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { describeError, type Clock, type Logger } from '../core/index.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { DiscoveryTiming } from './discovery-timing.ts';
import type { IdentityExchanger } from './identity-exchange.ts';
import { rfc3339 } from './identity-record.ts';
import { isHandshakeFailure, type FederationLibp2p } from './libp2p-node.ts';
import { parseClusterId } from './peer-names.ts';
import type { PeerTable } from './peer-table.ts';
import type { PeeringExchange } from './peering-exchange.ts';
import type { SwarmObject } from './swarm-object.ts';

const MAX_ADDRESSES = 64;

export interface FederationMaintenanceDeps {
  logger: Logger;
  clock: Clock;
  timing: DiscoveryTiming;
  /** Multiaddrs of the nodes to join the swarm through. */
  bootstrap: readonly string[];
  /** `sha256:<hex>` of this node's swarm key, named when a bootstrap node's handshake fails. */
  swarmKeyFingerprint(): string;
  table: PeerTable;
  tasks: BackgroundTasks;
  identity: Pick<IdentityExchanger, 'exchangeIdentity' | 'announce' | 'renewIfDue'>;
  peering: Pick<PeeringExchange, 'sendRequest'>;
  swarm: Pick<SwarmObject, 'recordConnectedPeers'>;
  /** The libp2p node, or `UnavailableError` when the agent is not running. */
  running(): FederationLibp2p;
  selfId(): string;
  dialPeer(target: PeerId | Multiaddr, signal?: AbortSignal): Promise<Connection>;
}

/**
 * Keeps this node in the federation: joins through the bootstrap nodes, finds the other members by
 * walking the DHT, reconnects lost peers, and records what libp2p observes of the connected ones.
 */
export interface FederationMaintenance {
  /** Follows libp2p's connection events (registered before the node starts). */
  watch(libp2p: FederationLibp2p): void;
  /** Joins the swarm and starts the periodic rounds (once the node runs). */
  schedule(): void;
  /** Forgets the redial backoff of a peer (once it is unblocked). */
  forgetBackoff(clusterId: string): void;
  /**
   * The bootstrap addresses a dial to which failed in the handshake (most likely another swarm key),
   * each with what to check; an address is removed once a dial through it succeeds (or at a restart).
   */
  bootstrapProblems(): BootstrapProblem[];
}

export interface BootstrapProblem {
  address: string;
  problem: string;
}

export function createFederationMaintenance(deps: FederationMaintenanceDeps): FederationMaintenance {
  const { logger, clock, timing, bootstrap, table, tasks, identity, running, dialPeer } = deps;
  const { peers, blocked, setPeer, stateOf } = table;
  const { background, deadline, every } = tasks;
  const redial = new Map<string, { failures: number; nextAt: number }>();
  /** When the maintenance last retried an identity exchange with each peer. */
  const exchanging = new Map<string, number>();
  /** Why a bootstrap address cannot be joined through, by address (each warned about once). */
  const bootstrapProblems = new Map<string, string>();

  async function onConnect(peerId: PeerId): Promise<void> {
    const clusterId = peerId.toString();
    redial.delete(clusterId);
    // A cluster not met yet is a member once it answers the identity exchange (which records it): a
    // connection alone may be one its gater is about to close.
    if (table.isMet(clusterId)) setPeer(clusterId, { status: { reachable: true, lastSeen: rfc3339(clock.now()) } });
    await identity.exchangeIdentity(peerId);
    // A request whose answer we never heard (we or the peer were offline): ask again.
    if (stateOf(clusterId) === 'requested') await deps.peering.sendRequest(clusterId);
  }

  async function onIdentify(peerId: PeerId, listenAddrs: Multiaddr[]): Promise<void> {
    const clusterId = peerId.toString();
    if (clusterId === deps.selfId()) return;
    const addresses = listenAddrs.map((ma) => ma.toString()).slice(0, MAX_ADDRESSES);
    setPeer(clusterId, { addresses });
  }

  /** Dials the bootstrap nodes; once one answers, looks for the rest of the swarm at once. */
  async function joinBootstrap(): Promise<void> {
    let joined = false;
    await Promise.allSettled(
      bootstrap.map(async (address) => {
        try {
          await dialPeer(multiaddr(address));
          joined = true;
          bootstrapProblems.delete(address);
        } catch (error) {
          // Retried every round while the node is alone: a handshake failure is worth a warning once per
          // address (until a dial through it succeeds), everything else and every repetition a debug line.
          if (isHandshakeFailure(error) && !tasks.signal.aborted && !bootstrapProblems.has(address)) {
            const problem = `the handshake failed — does this node use the same swarm key (fingerprint ${deps.swarmKeyFingerprint()}) as the federation?`;
            bootstrapProblems.set(address, problem);
            logger.warn(`cannot join through ${address}: ${problem}`, { address, error: describeError(error) });
          } else {
            logger.debug('bootstrap node not reachable', { address, error: describeError(error) });
          }
        }
      }),
    );
    if (joined) await walk(false);
  }

  /**
   * Looks up the peers closest to our id (or to a random key) in the DHT and connects to each new one
   * as soon as it is found (a lookup cut short by its deadline still dials what it found).
   */
  async function walk(random: boolean): Promise<void> {
    const libp2p = running();
    if (libp2p.getConnections().length === 0) return;
    const key = random ? new Uint8Array(randomBytes(32)) : libp2p.peerId.toMultihash().bytes;
    const tried = new Set<string>([deps.selfId()]);
    const dials: Promise<unknown>[] = [];
    const consider = (peerId: PeerId) => {
      const id = peerId.toString();
      if (tried.has(id) || blocked.has(id)) return;
      tried.add(id);
      if (libp2p.getConnections(peerId).length === 0) dials.push(dialPeer(peerId).catch(() => undefined));
    };
    try {
      for await (const event of libp2p.services.dht.getClosestPeers(key, { signal: deadline(timing.requestTimeoutMs * 2) })) {
        if (event.name === 'FINAL_PEER') consider(event.peer.id);
        if (event.name === 'PEER_RESPONSE') for (const peer of event.closer) consider(peer.id);
      }
    } catch (error) {
      if (tasks.signal.aborted) return;
      logger.debug('DHT lookup ended early', { error: describeError(error) });
    }
    await Promise.allSettled(dials);
  }

  async function maintain(): Promise<void> {
    const libp2p = running();
    if (libp2p.getConnections().length === 0 && bootstrap.length) await joinBootstrap();
    const now = clock.now().getTime();
    const attempts: Promise<unknown>[] = [];
    for (const [clusterId, peer] of peers) {
      if (blocked.has(clusterId) || !(peer.spec?.addresses?.length)) continue;
      const peerId = parseClusterId(clusterId);
      if (libp2p.getConnections(peerId).length > 0) continue;
      const backoff = redial.get(clusterId) ?? { failures: 0, nextAt: 0 };
      if (backoff.nextAt > now) continue;
      attempts.push(
        dialPeer(peerId).catch(() => {
          backoff.failures++;
          backoff.nextAt = clock.now().getTime() + Math.min(timing.maxRedialBackoffMs, 1000 * 2 ** backoff.failures);
          redial.set(clusterId, backoff);
        }),
      );
    }
    await Promise.allSettled(attempts);
    table.retryUnsaved();
    // A connected peer whose identity exchange failed (a deadline under load, ...) is asked again.
    for (const peerId of libp2p.getPeers()) {
      const clusterId = peerId.toString();
      const lastTry = exchanging.get(clusterId);
      if (peers.get(clusterId)?.status?.identity || (lastTry !== undefined && now - lastTry < timing.requestTimeoutMs * 2)) continue;
      exchanging.set(clusterId, now);
      background('exchanging identities', () => identity.exchangeIdentity(peerId));
    }
    await identity.renewIfDue();
  }

  /**
   * Records reachability, latency and last-seen time of the connected peers. libp2p's connection
   * monitor pings every connection (closing those that stop answering) and keeps its round-trip time:
   * a second ping here would compete with it for the ping protocol's streams.
   */
  async function observePeers(): Promise<void> {
    const libp2p = running();
    const connected = libp2p.getPeers();
    await deps.swarm.recordConnectedPeers(connected.length);
    const now = clock.now();
    for (const peerId of connected) {
      const clusterId = peerId.toString();
      const previous = peers.get(clusterId)?.status;
      if (!previous?.lastSeen) continue; // not met yet: its identity exchange comes first
      const rtts = libp2p.getConnections(peerId).flatMap((c) => (typeof c.rtt === 'number' && Number.isFinite(c.rtt) ? [c.rtt] : []));
      const latencyMs = rtts.length ? Math.max(0, Math.round(Math.min(...rtts))) : undefined;
      // Small changes in latency and a last-seen time that moved by less than its resolution are not
      // worth a write.
      const latencyMoved = latencyMs !== undefined && (previous.latencyMs === undefined || Math.abs(previous.latencyMs - latencyMs) > Math.max(2, previous.latencyMs * 0.25));
      const stale = !previous.lastSeen || now.getTime() - Date.parse(previous.lastSeen) >= timing.lastSeenResolutionMs;
      setPeer(clusterId, { status: { reachable: true, ...(latencyMoved ? { latencyMs } : {}), ...(stale ? { lastSeen: rfc3339(now) } : {}) } });
    }
  }

  return {
    watch(libp2p) {
      libp2p.addEventListener('peer:connect', (event) => background('welcoming a peer', () => onConnect(event.detail)));
      libp2p.addEventListener('peer:disconnect', (event) => {
        const clusterId = event.detail.toString();
        if (peers.has(clusterId)) setPeer(clusterId, { status: { reachable: false, latencyMs: null } });
      });
      libp2p.addEventListener('peer:identify', (event) => background('recording addresses', () => onIdentify(event.detail.peerId, event.detail.listenAddrs)));
    },
    schedule() {
      bootstrapProblems.clear();
      background('joining the swarm', joinBootstrap);
      every(timing.maintenanceIntervalMs, 'maintenance', maintain);
      // A second look soon after joining finds the members that joined at the same time.
      every(timing.walkIntervalMs, 'DHT walk', () => walk(false), Math.min(2000, timing.walkIntervalMs));
      every(timing.walkIntervalMs, 'random DHT walk', () => walk(true), timing.walkIntervalMs / 2);
      every(timing.pingIntervalMs, 'observing peers', observePeers, Math.min(timing.pingIntervalMs, 2000));
      every(timing.reannounceIntervalMs, 're-announce', async () => identity.announce());
    },
    forgetBackoff(clusterId) {
      redial.delete(clusterId);
    },
    bootstrapProblems: () => [...bootstrapProblems].map(([address, problem]) => ({ address, problem })),
  };
}
