import { describeError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import { exchangeJson, serveJson, type DiscoveryAgent } from '../../discovery/index.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import { CATALOG_PROTOCOL, DEFAULT_MAX_SKEW_MS, MAX_CATALOG_MESSAGE_BYTES, MAX_FEDERATED_TIMEOUT_MS } from './catalog-protocol.ts';
import { createFederatedSearch, type FederatedSearch } from './federated-search.ts';
import { createSearchResponder } from './search-responder.ts';

/** What the catalog federation needs from the discovery agent: peers, peered-only streams, the cluster key. */
export type CatalogFederationNetwork = Pick<
  DiscoveryAgent,
  'clusterId' | 'isPeered' | 'listPeers' | 'handlePeered' | 'openPeeredStream' | 'sign'
>;

export interface CatalogFederationOptions {
  catalog: Pick<CatalogService, 'search' | 'clusterId'>;
  network: CatalogFederationNetwork;
  clock?: Clock;
  logger?: Logger;
}

export interface CatalogFederation extends FederatedSearch {
  /** Serves `/archipel/catalog/1.0.0` to peered clusters; call once the discovery agent has started. */
  serve(): Promise<void>;
}

/** Longest an incoming exchange may take: the longest deadline a requester may set, and the clock skew allowed. */
const SERVE_TIMEOUT_MS = MAX_FEDERATED_TIMEOUT_MS + DEFAULT_MAX_SKEW_MS;

/**
 * The catalog over the federation's network: answers peered clusters' searches on
 * `/archipel/catalog/1.0.0` (other clusters' streams are reset by discovery's peered-only guard before
 * anything is read), and searches the peered clusters on the caller's behalf.
 */
export function createCatalogFederation(options: CatalogFederationOptions): CatalogFederation {
  const { catalog, network } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;

  const responder = createSearchResponder({
    catalog,
    clusterId: () => network.clusterId(),
    isPeered: (clusterId) => network.isPeered(clusterId),
    clock,
    logger,
  });

  const federated = createFederatedSearch({
    catalog,
    peers: () => network.listPeers().filter((p) => p.state === 'peered'),
    async ask(clusterId, request, signal) {
      const stream = await network.openPeeredStream(clusterId, CATALOG_PROTOCOL, { signal });
      return exchangeJson(stream, request, { maxBytes: MAX_CATALOG_MESSAGE_BYTES, signal });
    },
    sign: (domain, fields) => network.sign(domain, fields),
    clock,
    logger,
  });

  return {
    search: (caller, searchOptions) => federated.search(caller, searchOptions),
    async serve() {
      await network.handlePeered(CATALOG_PROTOCOL, async (stream, connection) => {
        const from = connection.remotePeer.toString();
        const signal = AbortSignal.timeout(SERVE_TIMEOUT_MS);
        try {
          await serveJson(stream, (request) => responder.answer(request, from, signal), { maxBytes: MAX_CATALOG_MESSAGE_BYTES, signal });
        } catch (error) {
          logger.debug('catalog search exchange from peer failed', { clusterId: from, error: describeError(error) });
        }
      });
    },
  };
}
