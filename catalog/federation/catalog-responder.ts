import { UnavailableError, silentLogger, type Clock, type Logger } from '../../core/index.ts';
import type { RemoteCaller } from '../entries/catalog-entry.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import { MAX_CATALOG_MESSAGE_BYTES, getProtocol, searchProtocol, toWireEntry, type GetAnswer, type SearchAnswer, type WireEntry } from './catalog-protocol.ts';

export interface CatalogResponderOptions {
  catalog: Pick<CatalogService, 'search' | 'get'>;
  /** This cluster's id. */
  clusterId(): string;
  /** Whether a cluster is peered with this one now. */
  isPeered(clusterId: string): boolean;
  clock?: Clock;
  logger?: Logger;
  maxSkewMs?: number;
  /** Largest reply, in bytes (default: the protocol's message limit). */
  maxReplyBytes?: number;
}

/** Room kept in a reply for its envelope (`{"items":[...],"truncated":false}`). */
const ENVELOPE_BYTES = 64;

/**
 * The owner's side of the catalog protocols: checks a peer's request, then runs this cluster's own search
 * (or get) for the remote caller the request names (`{ cluster: sender, user, projects }`), so visibility
 * is decided here, in the query, as for any caller: `private` never leaves, `restricted` only for an
 * allowed project of the sender's cluster. A search reply stays under the size limit (entries past it are
 * left out and the reply says so). A refused request gets an error reply, never a partial answer.
 */
export function createCatalogResponder(options: CatalogResponderOptions) {
  const logger = options.logger ?? silentLogger;
  const maxReplyBytes = options.maxReplyBytes ?? MAX_CATALOG_MESSAGE_BYTES;
  const callerOf = (from: string, request: { user: string; projects: string[] }): RemoteCaller => ({ kind: 'remote', cluster: from, user: request.user, projects: request.projects });

  return {
    /** The reply to a search `input`, received from cluster `from` on an authenticated connection. */
    answer: searchProtocol.responder({ ...options, passedOn: new Set(['invalid-input']) }, async (request, from, signal): Promise<SearchAnswer> => {
      const { q, kind, limit } = request;
      const entries = await options.catalog.search(callerOf(from, request), { q, limit, ...(kind ? { kind } : {}), signal });
      const items: WireEntry[] = [];
      let bytes = ENVELOPE_BYTES;
      for (const entry of entries) {
        const wire = toWireEntry(entry);
        const size = Buffer.byteLength(JSON.stringify(wire)) + 1;
        if (bytes + size > maxReplyBytes) break;
        bytes += size;
        items.push(wire);
      }
      logger.debug('catalog search answered', { clusterId: from, user: request.user, results: items.length });
      return { items, truncated: items.length < entries.length };
    }),

    /** The reply to a get request: the entry, when the remote caller may see it; else "not found", as for a missing one. */
    answerGet: getProtocol.responder({ ...options, passedOn: new Set(['not-found', 'invalid-input']) }, async (request, from, signal): Promise<GetAnswer> => {
      const entry = toWireEntry(await options.catalog.get(callerOf(from, request), request.entryId, { signal }));
      if (Buffer.byteLength(JSON.stringify(entry)) > maxReplyBytes - ENVELOPE_BYTES) throw new UnavailableError('the entry is larger than a reply may be');
      return { entry };
    }),
  };
}

export type CatalogResponder = ReturnType<typeof createCatalogResponder>;
