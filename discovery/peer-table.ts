import { multiaddr } from '@multiformats/multiaddr';
import {
  ConflictError,
  NotFoundError,
  RESOURCE_API_VERSION,
  type Logger,
  type PeerResource,
  type PeerStatus,
  type ResourceStore,
} from '../core/index.ts';
import type { BackgroundTasks } from './background-tasks.ts';
import type { IdentityRecord } from './identity-record.ts';
import { createKeyedLock } from './keyed-lock.ts';
import type { FederationLibp2p } from './libp2p-node.ts';
import { clusterResourceName, parseClusterId } from './peer-names.ts';
import type { PeerState } from './peering-state.ts';

/** Annotation of a peer this cluster refused (so that a later request from it is refused again). */
export const REFUSED_BY_US = 'archipel.io/refused-by-us';

/** How long a peer's changes gather before they are written. */
const PERSIST_DELAY_MS = 1000;

/** Another cluster as this one knows it. */
export interface PeerView {
  clusterId: string;
  name?: string;
  state: PeerState;
  /** Whether this node holds a connection to it now. */
  connected: boolean;
  reachable: boolean;
  latencyMs?: number;
  lastSeen?: string;
  addresses: string[];
  /** Its latest verified identity record. */
  identity?: IdentityRecord;
}

export interface PeerChange {
  name?: string;
  addresses?: string[];
  status?: Partial<Record<keyof PeerStatus, unknown>>;
  refusedByUs?: boolean | null;
}

export interface PeerTableDeps {
  store: ResourceStore;
  logger: Logger;
  tasks: BackgroundTasks;
  /** The libp2p node while it runs. */
  node(): FederationLibp2p | undefined;
  selfId(): string;
}

/**
 * Every known peer as a `Peer` object: the agent is the writer of these objects, the table holds their
 * latest state and writes it to the store shortly after it changes.
 *
 * The table also holds, in memory only, clusters it has heard of but not met: a connection that came up
 * without an identity exchange (a cluster that blocked us closes ours right after the handshake), or a
 * cluster that was blocked without being met and then unblocked. A cluster is *listed* (shown by the
 * API, kept in the store) once it is a member we have met, which its `lastSeen` records (set by the
 * first identity exchange with it, in either direction), or while we hold a peering state about it
 * other than `discovered` (`blocked` from the moment it is blocked, met or not).
 */
export interface PeerTable {
  /** Every peer the table holds (listed or not), by cluster id: their latest state. */
  readonly peers: ReadonlyMap<string, PeerResource>;
  readonly blocked: ReadonlySet<string>;
  stateOf(clusterId: string): PeerState | undefined;
  /** Whether the API lists the peer (see above). */
  isListed(clusterId: string): boolean;
  /** Whether an identity exchange with the peer has ever succeeded (it has a `lastSeen`). */
  isMet(clusterId: string): boolean;
  /** The peer as the discovery API shows it (listed or not), or `NotFoundError` if the table has no such peer. */
  view(clusterId: string): PeerView;
  setPeer(clusterId: string, change: PeerChange): PeerResource;
  savePeer(clusterId: string, change: PeerChange): Promise<PeerResource>;
  /** Schedules another write of the peers whose latest state the store does not hold yet. */
  retryUnsaved(): void;
  /** Reads the stored peers and gives libp2p their addresses. */
  load(libp2p: FederationLibp2p): Promise<void>;
  /** Writes at once what the store does not hold yet (at stop). */
  flush(): Promise<void>;
  clear(): void;
}

export function createPeerTable(deps: PeerTableDeps): PeerTable {
  const { store, logger, tasks } = deps;
  const withPersistLock = createKeyedLock();
  const peers = new Map<string, PeerResource>();
  const blocked = new Set<string>();
  /** What the store holds of each peer, and the peers whose latest state it does not hold yet. */
  const persisted = new Map<string, PeerResource>();
  const dirty = new Set<string>();

  const stateOf = (clusterId: string): PeerState | undefined => peers.get(clusterId)?.status?.state;
  const listed = (peer: PeerResource | undefined): boolean =>
    peer !== undefined && (peer.status?.lastSeen !== undefined || (peer.status?.state ?? 'discovered') !== 'discovered');

  function view(clusterId: string): PeerView {
    const peer = peers.get(clusterId);
    if (!peer) throw new NotFoundError(`no peer with cluster id ${clusterId}`);
    const status = peer.status ?? {};
    const node = deps.node();
    const connected = node ? node.getConnections(parseClusterId(clusterId)).length > 0 : false;
    return {
      clusterId,
      ...(peer.spec?.name ? { name: peer.spec.name } : {}),
      state: status.state ?? 'discovered',
      connected,
      reachable: status.reachable ?? false,
      ...(status.latencyMs !== undefined ? { latencyMs: status.latencyMs } : {}),
      ...(status.lastSeen ? { lastSeen: status.lastSeen } : {}),
      addresses: peer.spec?.addresses ?? [],
      ...(status.identity ? { identity: status.identity } : {}),
    };
  }

  /**
   * Applies a change to the peer's object as this agent holds it, creating it for a new peer, and
   * queues it for the store. Reads see the change at once; the store follows (`persist`), coalescing
   * bursts of changes to one peer into one write. Callers that change peering state hold its lock.
   */
  function setPeer(clusterId: string, change: PeerChange): PeerResource {
    const current = peers.get(clusterId);
    let peer: PeerResource = current ?? {
      apiVersion: RESOURCE_API_VERSION,
      kind: 'Peer',
      metadata: { name: clusterResourceName(clusterId) },
      spec: { clusterId },
      status: { state: 'discovered', reachable: false },
    };
    const spec = { ...peer.spec!, ...(change.name !== undefined ? { name: change.name } : {}), ...(change.addresses ? { addresses: change.addresses } : {}) };
    const annotations = { ...peer.metadata.annotations };
    if (change.refusedByUs === true) annotations[REFUSED_BY_US] = 'true';
    else if (change.refusedByUs !== undefined) delete annotations[REFUSED_BY_US];
    const status: Record<string, unknown> = { ...peer.status };
    for (const [key, value] of Object.entries(change.status ?? {})) {
      if (value === null || value === undefined) delete status[key];
      else status[key] = value;
    }
    peer = {
      ...peer,
      metadata: { ...peer.metadata, ...(Object.keys(annotations).length ? { annotations } : { annotations: undefined }) },
      spec,
      status: status as PeerStatus,
    };
    if (!peer.metadata.annotations) delete peer.metadata.annotations;
    if (current && sameJson(current, peer)) return current;
    if (!listed(current) && listed(peer)) logger.info('new peer', { clusterId, state: peer.status?.state });
    peers.set(clusterId, peer);
    if (peer.status?.state === 'blocked') blocked.add(clusterId);
    else blocked.delete(clusterId);
    dirty.add(clusterId);
    schedulePersist(clusterId);
    return peer;
  }

  /** Saves the peer a moment later, so that the burst of changes a new connection brings is one write. */
  const persistSoon = new Set<string>();
  function schedulePersist(clusterId: string): void {
    if (persistSoon.has(clusterId) || tasks.signal.aborted) return;
    persistSoon.add(clusterId);
    tasks.after(PERSIST_DELAY_MS, () => {
      persistSoon.delete(clusterId);
      tasks.background('saving a peer', () => persist(clusterId));
    });
  }

  /**
   * Writes the peer's latest state to the store if it has changed since the last write; a peer that is
   * not listed is not written (and removed, if it was listed before: a cluster blocked, never met, then
   * unblocked).
   */
  function persist(clusterId: string): Promise<void> {
    return withPersistLock(clusterId, async () => {
      if (!dirty.delete(clusterId)) return;
      const desired = peers.get(clusterId);
      if (!desired) return;
      try {
        let stored = persisted.get(clusterId);
        const name = desired.metadata.name;
        if (!listed(desired)) {
          if (stored) {
            await store.delete('Peer', name).catch((error: unknown) => {
              if (!(error instanceof NotFoundError)) throw error;
            });
            persisted.delete(clusterId);
          }
          return;
        }
        if (!stored) {
          try {
            stored = await store.create('Peer', { apiVersion: RESOURCE_API_VERSION, kind: 'Peer', metadata: { name, ...(desired.metadata.annotations ? { annotations: desired.metadata.annotations } : {}) }, spec: desired.spec! });
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
            stored = await store.get('Peer', name);
          }
        }
        const wantAnnotations = desired.metadata.annotations ?? {};
        const haveAnnotations = stored.metadata.annotations ?? {};
        const annotationPatch: Record<string, string | null> = {};
        for (const key of new Set([...Object.keys(wantAnnotations), ...Object.keys(haveAnnotations)])) {
          if (wantAnnotations[key] !== haveAnnotations[key]) annotationPatch[key] = wantAnnotations[key] ?? null;
        }
        const specChanged = !sameJson(stored.spec, desired.spec);
        if (specChanged || Object.keys(annotationPatch).length) {
          stored = await store.patch('Peer', name, {
            ...(Object.keys(annotationPatch).length ? { metadata: { annotations: annotationPatch } } : {}),
            ...(specChanged ? { spec: { ...desired.spec, addresses: desired.spec?.addresses ?? null, name: desired.spec?.name ?? null } } : {}),
          });
        }
        if (!sameJson(stored.status ?? {}, desired.status ?? {})) {
          const statusPatch: Record<string, unknown> = { ...desired.status };
          for (const key of Object.keys(stored.status ?? {})) if (!(key in statusPatch)) statusPatch[key] = null;
          stored = await store.patch('Peer', name, { status: statusPatch }, { subresource: 'status' });
        }
        persisted.set(clusterId, stored);
      } catch (error) {
        // Kept dirty: the next change or maintenance round tries again.
        dirty.add(clusterId);
        throw error;
      }
    });
  }

  /** Changes the peer and waits until the store has it (for decisions that must survive a crash). */
  async function savePeer(clusterId: string, change: PeerChange): Promise<PeerResource> {
    const peer = setPeer(clusterId, change);
    await persist(clusterId);
    return peer;
  }

  async function load(libp2p: FederationLibp2p): Promise<void> {
    const selfId = deps.selfId();
    const { items } = await store.list('Peer');
    for (const peer of items) {
      const clusterId = peer.spec?.clusterId;
      if (!clusterId || clusterId === selfId) continue;
      peers.set(clusterId, peer);
      persisted.set(clusterId, peer);
      // Stored by an earlier version although never met (unblocked unmet, say): removed at the next write.
      if (!listed(peer)) dirty.add(clusterId);
      if (peer.status?.state === 'blocked') blocked.add(clusterId);
      const addresses = (peer.spec?.addresses ?? []).flatMap((a) => {
        try {
          return [multiaddr(a)];
        } catch {
          return [];
        }
      });
      if (addresses.length) await libp2p.peerStore.merge(parseClusterId(clusterId), { multiaddrs: addresses });
    }
  }

  return {
    peers,
    blocked,
    stateOf,
    isListed: (clusterId) => listed(peers.get(clusterId)),
    isMet: (clusterId) => peers.get(clusterId)?.status?.lastSeen !== undefined,
    view,
    setPeer,
    savePeer,
    retryUnsaved() {
      for (const clusterId of dirty) schedulePersist(clusterId);
    },
    load,
    async flush() {
      persistSoon.clear();
      await Promise.allSettled([...dirty].map((clusterId) => persist(clusterId)));
    },
    clear() {
      peers.clear();
      persisted.clear();
      dirty.clear();
      blocked.clear();
    },
  };
}

/** Deep equality of JSON values, whatever the key order (the database may reorder keys). */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().flatMap((k) => ((value as Record<string, unknown>)[k] === undefined ? [] : [[k, canonical((value as Record<string, unknown>)[k])]])))
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
