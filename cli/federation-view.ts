import { NotFoundError, describeError, silentLogger, type Logger } from '../core/index.ts';
import type { DiscoveryAgent } from '../discovery/index.ts';
import type { PlacementCluster, Resources, RunServiceOptions } from '../orchestrator/index.ts';
import type { ComputeFederation, ComputeLedger } from '../providers/index.ts';

/** Compute reserved on peers for the steps of runs placed there, for the run's owner. */
export function peerReservations(remote: Pick<ComputeFederation, 'reserve' | 'release'>): NonNullable<RunServiceOptions['crossCluster']> {
  return {
    async reserve(caller, cluster, requests, durationSeconds, signal) {
      return (await remote.reserve(caller.principal, cluster, { ...requests, durationSeconds }, { ...(signal ? { signal } : {}) })).id;
    },
    async release(owner, cluster, reservationId) {
      try {
        await remote.release({ ...owner, isAdmin: false, tokenId: 'run-placement' }, cluster, reservationId);
      } catch (error) {
        // A reservation the peer no longer has (expired and forgotten, or the peering ended) holds nothing.
        if (!(error instanceof NotFoundError)) throw error;
      }
    },
  };
}

export interface FederationViewOptions {
  ledger: Pick<ComputeLedger, 'status'>;
  remote: Pick<ComputeFederation, 'status'>;
  discovery: Pick<DiscoveryAgent, 'listPeers' | 'identity'>;
  logger?: Logger;
}

const DIMENSIONS = ['cores', 'memoryMiB', 'gpus'] as const;

/** What a peer can give this cluster now: its free capacity, within the quota it gives every peer. */
function offered(free: Resources, quota: Partial<Resources> | null): Resources {
  const out = { ...free };
  for (const d of DIMENSIONS) if (quota?.[d] !== undefined) out[d] = Math.min(out[d], quota[d]!);
  return out;
}

/**
 * The planner's view of the federation for a caller, now: this cluster's free compute, and each peered
 * cluster's as it answers the caller's compute status request (in parallel; one that does not answer in
 * time is listed as not reachable, with nothing free).
 */
export function federationView(options: FederationViewOptions): NonNullable<RunServiceOptions['federation']> {
  const logger = options.logger ?? silentLogger;
  return async (caller, signal) => {
    const self = options.discovery.identity();
    const local = await options.ledger.status({ ...(signal ? { signal } : {}) });
    const peers = options.discovery.listPeers().filter((p) => p.state === 'peered');
    const remote = await Promise.all(
      peers.map(async (peer): Promise<PlacementCluster> => {
        const base = { id: peer.clusterId, ...(peer.name ? { name: peer.name } : {}), local: false, peered: true };
        try {
          const status = await options.remote.status(caller.principal, peer.clusterId, { ...(signal ? { signal } : {}) });
          return { ...base, reachable: true, free: offered(status.free, status.peerQuota) };
        } catch (error) {
          logger.debug('a peer did not give its compute status for a plan', { clusterId: peer.clusterId, error: describeError(error) });
          return { ...base, reachable: false, free: { cores: 0, memoryMiB: 0, gpus: 0 } };
        }
      }),
    );
    return [{ id: self.clusterId, ...(self.name ? { name: self.name } : {}), local: true, peered: true, reachable: true, free: local.free }, ...remote];
  };
}
