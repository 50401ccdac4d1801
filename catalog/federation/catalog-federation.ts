import { UnavailableError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import type { DiscoveryAgent, PeerNetwork } from '../../discovery/index.ts';
import type { CatalogEntry, LocalCaller } from '../entries/catalog-entry.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import { DEFAULT_FEDERATED_TIMEOUT_MS, GetReplySchema, MAX_FEDERATED_TIMEOUT_MS, fromWireEntry, getProtocol, searchProtocol } from './catalog-protocol.ts';
import { createCatalogResponder } from './catalog-responder.ts';
import { createFederatedSearch, type FederatedSearch } from './federated-search.ts';

/** What the catalog federation needs from the discovery agent: peers, peered-only streams, the cluster key. */
export type CatalogFederationNetwork = PeerNetwork & Pick<DiscoveryAgent, 'listPeers'>;

export interface CatalogFederationOptions {
  catalog: Pick<CatalogService, 'search' | 'get' | 'clusterId'>;
  network: CatalogFederationNetwork;
  clock?: Clock;
  logger?: Logger;
}

export interface CatalogFederation extends FederatedSearch {
  /**
   * One entry of a peered cluster, for the calling user, as its owner decides (a hidden entry, and a
   * cluster that is not peered, are "not found"); no answer within the timeout is `unavailable`.
   */
  get(caller: LocalCaller, clusterId: string, entryId: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<CatalogEntry>;
  /** Serves `/archipel/catalog/1.0.0` to peered clusters; call once the discovery agent has started. */
  serve(): Promise<void>;
}

/**
 * The catalog over the federation's network: answers peered clusters' searches and gets on
 * `/archipel/catalog/1.0.0` (other clusters' streams are reset by discovery's peered-only guard before
 * anything is read), and searches the peered clusters (or gets one of their entries) on the caller's behalf.
 */
export function createCatalogFederation(options: CatalogFederationOptions): CatalogFederation {
  const { catalog, network } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;

  const responder = createCatalogResponder({
    catalog,
    clusterId: () => network.clusterId(),
    isPeered: (clusterId) => network.isPeered(clusterId),
    clock,
    logger,
  });

  const federated = createFederatedSearch({
    catalog,
    peers: () => network.listPeers().filter((p) => p.state === 'peered'),
    ask: searchProtocol.transport(network),
    sign: (domain, fields) => network.sign(domain, fields),
    clock,
    logger,
  });

  return {
    search: (caller, searchOptions) => federated.search(caller, searchOptions),

    async get(caller, clusterId, entryId, getOptions = {}) {
      const timeoutMs = Math.min(getOptions.timeoutMs ?? DEFAULT_FEDERATED_TIMEOUT_MS, MAX_FEDERATED_TIMEOUT_MS);
      const ask = getProtocol.requester(
        { clusterId: () => network.clusterId(), isPeered: (id) => network.isPeered(id), sign: (domain, fields) => network.sign(domain, fields), ask: getProtocol.transport(network), timeoutMs, clock, logger },
        GetReplySchema,
      );
      const reply = await ask(clusterId, { entryId, user: caller.userName, projects: [...caller.projects] }, getOptions.signal);
      const entry = fromWireEntry(reply.entry);
      if (entry.id !== entryId || entry.ownerCluster !== clusterId) throw new UnavailableError(`cluster ${clusterId} sent an entry that is not the one asked for`, { details: { clusterId } });
      return entry;
    },

    async serve() {
      await searchProtocol.serve(network, (input, from, signal) => responder.answer(input, from, signal), logger);
      await getProtocol.serve(network, (input, from, signal) => responder.answerGet(input, from, signal), logger);
    },
  };
}
