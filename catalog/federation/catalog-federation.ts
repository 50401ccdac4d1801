import { NotFoundError, UnavailableError, describeError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import { askPeer, exchangeJson, peerRefusal, serveJson, type DiscoveryAgent } from '../../discovery/index.ts';
import type { CatalogEntry, LocalCaller } from '../entries/catalog-entry.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import {
  CATALOG_PROTOCOL,
  DEFAULT_FEDERATED_TIMEOUT_MS,
  DEFAULT_MAX_SKEW_MS,
  GetReplySchema,
  MAX_CATALOG_MESSAGE_BYTES,
  MAX_FEDERATED_TIMEOUT_MS,
  fromWireEntry,
  isGetRequest,
  signGetRequest,
} from './catalog-protocol.ts';
import { createCatalogResponder } from './catalog-responder.ts';
import { createFederatedSearch, type FederatedSearch } from './federated-search.ts';

/** What the catalog federation needs from the discovery agent: peers, peered-only streams, the cluster key. */
export type CatalogFederationNetwork = Pick<
  DiscoveryAgent,
  'clusterId' | 'isPeered' | 'listPeers' | 'handlePeered' | 'openPeeredStream' | 'sign'
>;

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

/** Longest an incoming exchange may take: the longest deadline a requester may set, and the clock skew allowed. */
const SERVE_TIMEOUT_MS = MAX_FEDERATED_TIMEOUT_MS + DEFAULT_MAX_SKEW_MS;

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

    async get(caller, clusterId, entryId, getOptions = {}) {
      const self = network.clusterId();
      if (clusterId === self || !network.isPeered(clusterId)) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
      const timeoutMs = Math.min(getOptions.timeoutMs ?? DEFAULT_FEDERATED_TIMEOUT_MS, MAX_FEDERATED_TIMEOUT_MS);
      const request = await signGetRequest((domain, fields) => network.sign(domain, fields), {
        from: self,
        to: clusterId,
        entryId,
        user: caller.userName,
        projects: caller.projects,
        deadline: clock.now().getTime() + timeoutMs,
      });
      const raw = await askPeer(
        clusterId,
        async (signal) => exchangeJson(await network.openPeeredStream(clusterId, CATALOG_PROTOCOL, { signal }), request, { maxBytes: MAX_CATALOG_MESSAGE_BYTES, signal }),
        { timeoutMs, signal: getOptions.signal },
      );
      const reply = GetReplySchema.safeParse(raw);
      if (!reply.success) throw new UnavailableError(`cluster ${clusterId} sent a reply that is not a catalog entry`, { details: { clusterId } });
      if ('error' in reply.data) throw peerRefusal(clusterId, reply.data.error.code, reply.data.error.message);
      const entry = fromWireEntry(reply.data.entry);
      if (entry.id !== entryId || entry.ownerCluster !== clusterId) throw new UnavailableError(`cluster ${clusterId} sent an entry that is not the one asked for`, { details: { clusterId } });
      return entry;
    },

    async serve() {
      await network.handlePeered(CATALOG_PROTOCOL, async (stream, connection) => {
        const from = connection.remotePeer.toString();
        const signal = AbortSignal.timeout(SERVE_TIMEOUT_MS);
        try {
          await serveJson(stream, (request) => (isGetRequest(request) ? responder.answerGet(request, from, signal) : responder.answer(request, from, signal)), {
            maxBytes: MAX_CATALOG_MESSAGE_BYTES,
            signal,
          });
        } catch (error) {
          logger.debug('catalog search exchange from peer failed', { clusterId: from, error: describeError(error) });
        }
      });
    },
  };
}
