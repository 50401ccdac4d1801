import { silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import type { PeerNetwork } from '../../discovery/index.ts';
import type { ComputeLedger } from '../compute/compute-ledger.ts';
import { computeProtocol } from './compute-protocol.ts';
import { createComputeResponder } from './compute-responder.ts';
import { createRemoteCompute, type RemoteCompute } from './remote-compute.ts';

/** What the compute federation needs from the discovery agent: peering, peered-only streams, the cluster key. */
export type ComputeFederationNetwork = PeerNetwork;

export interface ComputeFederationOptions {
  ledger: Pick<ComputeLedger, 'reserve' | 'release' | 'get' | 'list' | 'status'>;
  network: ComputeFederationNetwork;
  /** How long a request to a peer may wait for its answer (default 5,000 ms). */
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface ComputeFederation extends RemoteCompute {
  /** Serves `/archipel/compute/1.0.0` to peered clusters; call once the discovery agent has started. */
  serve(): Promise<void>;
}

/**
 * This cluster's compute provider over the federation's network: answers peered clusters' reservations
 * on `/archipel/compute/1.0.0` (other clusters' streams are reset by discovery's peered-only guard before
 * anything is read), and reserves on peered clusters for this cluster's users.
 */
export function createComputeFederation(options: ComputeFederationOptions): ComputeFederation {
  const { ledger, network } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;

  const responder = createComputeResponder({
    ledger,
    clusterId: () => network.clusterId(),
    isPeered: (clusterId) => network.isPeered(clusterId),
    clock,
    logger,
  });

  const remote = createRemoteCompute({
    clusterId: () => network.clusterId(),
    isPeered: (clusterId) => network.isPeered(clusterId),
    ask: computeProtocol.transport(network),
    sign: (domain, fields) => network.sign(domain, fields),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    clock,
    logger,
  });

  return {
    reserve: (principal, clusterId, request, callOptions) => remote.reserve(principal, clusterId, request, callOptions),
    release: (principal, clusterId, id, callOptions) => remote.release(principal, clusterId, id, callOptions),
    get: (principal, clusterId, id, callOptions) => remote.get(principal, clusterId, id, callOptions),
    list: (principal, clusterId, listOptions) => remote.list(principal, clusterId, listOptions),
    status: (principal, clusterId, callOptions) => remote.status(principal, clusterId, callOptions),
    serve: () => computeProtocol.serve(network, (input, from, signal) => responder.answer(input, from, signal), logger),
  };
}
