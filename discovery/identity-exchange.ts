import type { Connection, PeerId, PrivateKey, StreamHandler } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import {
  InvalidInputError,
  NotFoundError,
  RESOURCE_API_VERSION,
  UnavailableError,
  describeError,
  type Clock,
  type IdentityResource,
  type Logger,
  type ResourceStore,
} from '../core/index.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { DiscoveryTiming } from './discovery-timing.ts';
import { rfc3339, signIdentityRecord, verifyIdentityRecord, type IdentityRecord } from './identity-record.ts';
import { exchangeJson, serveJson } from './json-protocol.ts';
import type { KeyedLock } from './keyed-lock.ts';
import type { FederationLibp2p } from './libp2p-node.ts';
import { clusterResourceName, parseClusterId } from './peer-names.ts';
import type { PeerTable } from './peer-table.ts';

export const IDENTITY_PROTOCOL = '/archipel/identity/1.0.0';

const CONFIGURED_NAME = 'archipel.io/configured-name';
const MAX_FORWARDED_RECORDS = 64;
const MAX_PEER_HINTS = 64;
/** Largest identity exchange message: our record and up to 64 forwarded ones. */
const MAX_IDENTITY_BYTES = 512 * 1024;

/** This node's identity as the discovery API shows it. */
export interface LocalIdentity {
  clusterId: string;
  name: string;
  description?: string;
  apiEndpoint?: string;
  capabilities: string[];
  sequence: number;
  expiresAt: string;
  /** Where other nodes reach this one: listen (or announced) multiaddrs ending in `/p2p/<clusterId>`. */
  multiaddrs: string[];
}

/**
 * One message each way on `/archipel/identity/1.0.0`: signed identity records (the sender's first,
 * then those of the peers it knows), and where the sender's connected peers listen (peer exchange),
 * so that a node that joins through one member connects to the others at once.
 */
type IdentityExchange = { records: unknown[]; peers?: unknown[] };
type PeerHint = { clusterId: string; addresses: string[] };

export interface IdentityExchangeDeps {
  store: ResourceStore;
  logger: Logger;
  clock: Clock;
  timing: DiscoveryTiming;
  /** What the operator configured; `apiEndpoint` is read when the record is signed. */
  configured: { name: string; description?: string; apiEndpoint?: () => string | undefined; capabilities?: string[] };
  table: PeerTable;
  tasks: BackgroundTasks;
  /** The per-peer lock under which a peer's record or peering state changes. */
  withLock: KeyedLock;
  /** The libp2p node, or `UnavailableError` when the agent is not running. */
  running(): FederationLibp2p;
  node(): FederationLibp2p | undefined;
  selfId(): string;
  privateKey(): PrivateKey;
  dialPeer(target: PeerId | Multiaddr, signal?: AbortSignal): Promise<Connection>;
}

/** This node's signed identity record, and its exchange with peers on `/archipel/identity/1.0.0`. */
export interface IdentityExchanger {
  /** Signs a new record (with the change, if any), stores it as the `Identity` object and uses it. */
  publishIdentity(change?: { name?: string; description?: string }): Promise<void>;
  localIdentity(): LocalIdentity;
  /** Sends our records and hints to the peer and takes in its own. */
  exchangeIdentity(peerId: PeerId, signal?: AbortSignal): Promise<void>;
  handleIdentity: StreamHandler;
  /** Exchanges identities with every connected peer, in the background. */
  announce(): void;
  /** Re-signs the record when half of its lifetime is left, and announces it. */
  renewIfDue(): Promise<void>;
}

export function createIdentityExchange(deps: IdentityExchangeDeps): IdentityExchanger {
  const { store, logger, clock, timing, configured: options, table, tasks, withLock, running } = deps;
  const { peers, blocked, setPeer } = table;
  const { background, deadline } = tasks;
  let record: IdentityRecord | undefined;

  async function publishIdentity(change: { name?: string; description?: string } = {}): Promise<void> {
    const key = deps.privateKey();
    const selfId = deps.selfId();
    const objectName = clusterResourceName(selfId);
    let existing: IdentityResource | undefined;
    try {
      existing = await store.get('Identity', objectName);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const configuredChanged = existing?.metadata.annotations?.[CONFIGURED_NAME] !== options.name;
    const base = existing?.spec && !configuredChanged ? existing.spec : undefined;
    const name = change.name ?? base?.name ?? options.name;
    const description = change.description ?? base?.description ?? options.description;
    const apiEndpoint = options.apiEndpoint?.();
    const signed = await signIdentityRecord(key, {
      clusterId: selfId,
      name,
      ...(description ? { description } : {}),
      ...(apiEndpoint ? { apiEndpoint } : {}),
      capabilities: options.capabilities ?? [],
      sequence: Math.max(existing?.spec?.sequence ?? 0, record?.sequence ?? 0) + 1,
      expiresAt: rfc3339(new Date(clock.now().getTime() + timing.recordTtlMs)),
    });
    const metadata = { name: objectName, annotations: { ...existing?.metadata.annotations, [CONFIGURED_NAME]: options.name } };
    const saved = existing
      ? await store.update('Identity', { ...existing, metadata: { ...existing.metadata, ...metadata }, spec: signed })
      : await store.create('Identity', { apiVersion: RESOURCE_API_VERSION, kind: 'Identity', metadata, spec: signed });
    await store.patch('Identity', saved.metadata.name, { status: { publishedAt: rfc3339(clock.now()) } }, { subresource: 'status' });
    record = signed;
  }

  function localIdentity(): LocalIdentity {
    const current = record;
    const node = deps.node();
    if (!current || !node) throw new UnavailableError('the discovery agent is not running');
    return {
      clusterId: deps.selfId(),
      name: current.name,
      ...(current.description ? { description: current.description } : {}),
      ...(current.apiEndpoint ? { apiEndpoint: current.apiEndpoint } : {}),
      capabilities: current.capabilities ?? [],
      sequence: current.sequence,
      expiresAt: current.expiresAt,
      multiaddrs: node.getMultiaddrs().map((ma) => ma.toString()),
    };
  }

  /** Our record first, then the records of the peers we know (so records spread past direct contacts). */
  function recordsToShare(): IdentityRecord[] {
    const known = [...peers.values()]
      .filter((p) => p.status?.identity && p.status.state !== 'blocked')
      .map((p) => p.status!.identity!)
      .slice(0, MAX_FORWARDED_RECORDS);
    return [record!, ...known];
  }

  /** Accepts the records that pass verification; only of the sender itself or of peers we already know. */
  async function receiveRecords(from: string, records: unknown[]): Promise<void> {
    for (const candidate of records.slice(0, MAX_FORWARDED_RECORDS + 1)) {
      const clusterId = typeof candidate === 'object' && candidate !== null ? (candidate as { clusterId?: unknown }).clusterId : undefined;
      if (typeof clusterId !== 'string' || clusterId === deps.selfId()) continue;
      if (clusterId !== from && !peers.has(clusterId)) {
        logger.debug('identity record dropped', { from, clusterId, reason: 'unknown cluster' });
        continue;
      }
      await withLock(clusterId, async () => {
        const verdict = await verifyIdentityRecord(candidate, { clock, current: peers.get(clusterId)?.status?.identity });
        if (!verdict.accepted) {
          if (verdict.reason !== 'unchanged') logger.debug('identity record dropped', { from, clusterId, reason: verdict.reason });
          if (clusterId === from) setPeer(clusterId, {});
          return;
        }
        setPeer(clusterId, { name: verdict.record.name, status: { identity: verdict.record } });
        logger.debug('identity record accepted', { from, clusterId, sequence: verdict.record.sequence });
      });
    }
  }

  /**
   * Records that the cluster answered an identity exchange: it is a member we have met (listed from now
   * on). Later sightings are recorded by the connection events and the periodic observation.
   */
  function met(clusterId: string): void {
    if (!table.isMet(clusterId)) setPeer(clusterId, { status: { reachable: true, lastSeen: rfc3339(clock.now()) } });
  }

  /** Where our connected peers (other than `to`) listen. */
  function peerHints(to: string): PeerHint[] {
    const node = deps.node();
    if (!node) return [];
    return node
      .getPeers()
      .map((peerId) => peerId.toString())
      .filter((id) => id !== to && !blocked.has(id))
      .flatMap((id) => {
        const addresses = peers.get(id)?.spec?.addresses ?? [];
        return addresses.length ? [{ clusterId: id, addresses: addresses.slice(0, 8) }] : [];
      })
      .slice(0, MAX_PEER_HINTS);
  }

  /** Connects to the hinted members we are not connected to (dials fail unless they hold the swarm key). */
  async function receiveHints(from: string, hints: unknown): Promise<void> {
    const node = deps.node();
    if (!Array.isArray(hints) || !node) return;
    const libp2p = node;
    const dials: Promise<unknown>[] = [];
    for (const hint of hints.slice(0, MAX_PEER_HINTS)) {
      const { clusterId, addresses } = (hint ?? {}) as Partial<PeerHint>;
      if (typeof clusterId !== 'string' || clusterId === deps.selfId() || blocked.has(clusterId) || !Array.isArray(addresses)) continue;
      let peerId: PeerId;
      let multiaddrs: Multiaddr[];
      try {
        peerId = parseClusterId(clusterId);
        multiaddrs = addresses.slice(0, 8).map((a) => multiaddr(String(a)));
      } catch {
        logger.debug('peer hint dropped', { from, clusterId });
        continue;
      }
      if (libp2p.getConnections(peerId).length > 0 || multiaddrs.length === 0) continue;
      dials.push(
        libp2p.peerStore
          .merge(peerId, { multiaddrs })
          .then(() => deps.dialPeer(peerId))
          .catch((error: unknown) => logger.debug('hinted peer not reachable', { from, clusterId, error: describeError(error) })),
      );
    }
    await Promise.allSettled(dials);
  }

  async function exchangeIdentity(peerId: PeerId, signal?: AbortSignal): Promise<void> {
    const libp2p = running();
    const remote = peerId.toString();
    const limit = deadline(timing.requestTimeoutMs, signal);
    const stream = await libp2p.dialProtocol(peerId, IDENTITY_PROTOCOL, { signal: limit });
    const request: IdentityExchange = { records: recordsToShare(), peers: peerHints(remote) };
    const reply = (await exchangeJson(stream, request, { maxBytes: MAX_IDENTITY_BYTES, signal: limit })) as Partial<IdentityExchange> | null;
    if (!Array.isArray(reply?.records)) throw new InvalidInputError('malformed identity exchange reply');
    await receiveRecords(remote, reply.records);
    met(remote);
    background('connecting to hinted peers', () => receiveHints(remote, reply.peers));
  }

  const handleIdentity: StreamHandler = async (stream, connection) => {
    const from = connection.remotePeer.toString();
    try {
      await serveJson(
        stream,
        async (input) => {
          const request = input as Partial<IdentityExchange> | null;
          if (!Array.isArray(request?.records)) throw new InvalidInputError('malformed identity exchange');
          const records = request.records;
          // Answer first, then verify: the sender's deadline does not include our work.
          background('receiving identity records', async () => {
            await receiveRecords(from, records);
            met(from);
          });
          background('connecting to hinted peers', () => receiveHints(from, request.peers));
          return { records: recordsToShare(), peers: peerHints(from) } satisfies IdentityExchange;
        },
        { maxBytes: MAX_IDENTITY_BYTES, signal: deadline(timing.requestTimeoutMs) },
      );
    } catch (error) {
      logger.debug('identity exchange from peer failed', { clusterId: from, error: describeError(error) });
    }
  };

  function announce(): void {
    const node = deps.node();
    if (!node) return;
    for (const peerId of node.getPeers()) background('announcing identity', () => exchangeIdentity(peerId));
  }

  async function renewIfDue(): Promise<void> {
    if (record && Date.parse(record.expiresAt) - clock.now().getTime() < timing.recordTtlMs / 2) {
      await publishIdentity();
      announce();
    }
  }

  return { publishIdentity, localIdentity, exchangeIdentity, handleIdentity, announce, renewIfDue };
}
