import { describeError, isArchipelError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import type { RemoteCaller } from '../entries/catalog-entry.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import { MAX_CATALOG_MESSAGE_BYTES, toWireEntry, verifyGetRequest, verifySearchRequest, type GetAnswer, type SearchAnswer, type WireEntry } from './catalog-protocol.ts';

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
 * The owner's side of `/archipel/catalog/1.0.0`: checks a peer's request, then runs this cluster's own
 * search (or get) for the remote caller the request names (`{ cluster: sender, user, projects }`), so visibility is
 * decided here, in the query, as for any caller: `private` never leaves, `restricted` only for an allowed
 * project of the sender's cluster. The reply stays under the size limit (entries past it are left out
 * and the reply says so). A refused request gets an error reply, never a partial answer.
 */
export function createCatalogResponder(options: CatalogResponderOptions) {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxReplyBytes = options.maxReplyBytes ?? MAX_CATALOG_MESSAGE_BYTES;

  const refuse = (code: string, message: string): SearchAnswer => ({ error: { code, message } });

  return {
    /** The reply to `input`, received from cluster `from` on an authenticated connection. */
    async answer(input: unknown, from: string, signal?: AbortSignal): Promise<SearchAnswer> {
      if (!options.isPeered(from)) {
        logger.debug('catalog search refused: cluster is not peered', { clusterId: from });
        return refuse('not-allowed', 'this cluster is not peered with yours');
      }
      const verdict = await verifySearchRequest(input, { from, to: options.clusterId(), clock, maxSkewMs: options.maxSkewMs });
      if (!verdict.ok) {
        logger.debug('catalog search refused', { clusterId: from, reason: verdict.reason });
        return refuse('invalid-input', `catalog search refused: ${verdict.reason}`);
      }
      const { q, kind, user, projects, limit, deadline } = verdict.request;
      const caller: RemoteCaller = { kind: 'remote', cluster: from, user, projects };
      // Our own work stops at the requester's deadline (at least a second, for clocks slightly apart).
      const budget = AbortSignal.timeout(Math.max(1000, deadline - clock.now().getTime()));
      try {
        const entries = await options.catalog.search(caller, {
          q,
          limit,
          ...(kind ? { kind } : {}),
          signal: signal ? AbortSignal.any([signal, budget]) : budget,
        });
        const items: WireEntry[] = [];
        let bytes = ENVELOPE_BYTES;
        for (const entry of entries) {
          const wire = toWireEntry(entry);
          const size = Buffer.byteLength(JSON.stringify(wire)) + 1;
          if (bytes + size > maxReplyBytes) break;
          bytes += size;
          items.push(wire);
        }
        logger.debug('catalog search answered', { clusterId: from, user, results: items.length });
        return { items, truncated: items.length < entries.length };
      } catch (error) {
        if (isArchipelError(error) && error.kind === 'invalid-input') return refuse(error.kind, error.message);
        logger.warn('catalog search for a peer failed', { clusterId: from, error: describeError(error) });
        return refuse('unavailable', 'the search failed on this cluster');
      }
    },

    /** The reply to a get request: the entry, when the remote caller may see it; else "not found", as for a missing one. */
    async answerGet(input: unknown, from: string, signal?: AbortSignal): Promise<GetAnswer> {
      if (!options.isPeered(from)) return { error: { code: 'not-allowed', message: 'this cluster is not peered with yours' } };
      const verdict = await verifyGetRequest(input, { from, to: options.clusterId(), clock, maxSkewMs: options.maxSkewMs });
      if (!verdict.ok) {
        logger.debug('catalog get refused', { clusterId: from, reason: verdict.reason });
        return { error: { code: 'invalid-input', message: `catalog get refused: ${verdict.reason}` } };
      }
      const { entryId, user, projects, deadline } = verdict.request;
      const caller: RemoteCaller = { kind: 'remote', cluster: from, user, projects };
      const budget = AbortSignal.timeout(Math.max(1000, deadline - clock.now().getTime()));
      try {
        const entry = toWireEntry(await options.catalog.get(caller, entryId, { signal: signal ? AbortSignal.any([signal, budget]) : budget }));
        if (Buffer.byteLength(JSON.stringify(entry)) > maxReplyBytes - ENVELOPE_BYTES) return { error: { code: 'unavailable', message: 'the entry is larger than a reply may be' } };
        return { entry };
      } catch (error) {
        if (isArchipelError(error) && (error.kind === 'not-found' || error.kind === 'invalid-input')) return { error: { code: error.kind, message: error.message } };
        logger.warn('catalog get for a peer failed', { clusterId: from, error: describeError(error) });
        return { error: { code: 'unavailable', message: 'the get failed on this cluster' } };
      }
    },
  };
}

export type CatalogResponder = ReturnType<typeof createCatalogResponder>;
