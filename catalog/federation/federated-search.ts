import { describeError, InvalidInputError, isArchipelError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import { raceAbort } from '../../discovery/index.ts';
import type { CatalogEntry, CatalogKind, LocalCaller } from '../entries/catalog-entry.ts';
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, type CatalogService } from '../entries/catalog-service.ts';
import {
  DEFAULT_FEDERATED_TIMEOUT_MS,
  fromWireEntry,
  MAX_FEDERATED_TIMEOUT_MS,
  SearchReplySchema,
  signSearchRequest,
  type SearchRequest,
} from './catalog-protocol.ts';

/** A search result with the cluster that answered it (the owner: a cluster only answers for its own entries). */
export type FederatedEntry = CatalogEntry & { origin: string };

/** Why a peered cluster is missing from the results. */
export type UnansweredReason = 'timeout' | 'unreachable' | 'refused' | 'invalid-reply' | 'failed';

export interface UnansweredPeer {
  clusterId: string;
  name?: string;
  reason: UnansweredReason;
  message: string;
}

export interface FederatedSearchResult {
  /** This cluster's results and the peers', merged best first, at most `limit`. */
  items: FederatedEntry[];
  /** Whether some peered cluster did not answer (`unanswered` lists them). */
  partial: boolean;
  unanswered: UnansweredPeer[];
}

export interface FederatedSearchOptions {
  q?: string;
  kind?: CatalogKind;
  /** At most this many results in all (1-200, default 50). */
  limit?: number;
  /** How long to wait for the peers (1-30,000 ms, default 3,000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What a federated search needs to reach the peers; the catalog federation provides it over libp2p. */
export interface FederatedSearchDeps {
  catalog: Pick<CatalogService, 'search' | 'clusterId'>;
  /** The clusters peered with this one now. */
  peers(): readonly { clusterId: string; name?: string }[];
  /** Sends one request to a peered cluster and returns its reply (unchecked). */
  ask(clusterId: string, request: SearchRequest, signal: AbortSignal): Promise<unknown>;
  /** Signs with this cluster's key. */
  sign(domain: string, fields: readonly unknown[]): Promise<string>;
  clock?: Clock;
  logger?: Logger;
}

export interface FederatedSearch {
  search(caller: LocalCaller, options?: FederatedSearchOptions): Promise<FederatedSearchResult>;
}

class PeerRefusedError extends Error {
  constructor(readonly reason: 'refused' | 'invalid-reply', message: string) {
    super(message);
  }
}

/**
 * The rank of an entry for the words of a search, as the local search orders it: the exact name first,
 * then names starting with the query, then the rest.
 */
function rank(entry: CatalogEntry, phrase: string): number {
  const name = entry.name.toLowerCase();
  if (!phrase) return 2;
  return name === phrase ? 0 : name.startsWith(phrase) ? 1 : 2;
}

const compareCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Merges this cluster's results and the peers' into one list, ordered as a local search orders its own
 * (exact name, then name prefix, then name, case-insensitive), ties broken by cluster and id so the order
 * never depends on which peer answered first; at most `limit` entries.
 */
export function mergeResults(q: string, results: readonly (readonly FederatedEntry[])[], limit: number): FederatedEntry[] {
  const phrase = q.trim().toLowerCase().split(/\s+/).filter(Boolean).join(' ');
  const keyed = results.flat().map((entry) => ({ entry, rank: rank(entry, phrase), name: entry.name.toLowerCase() }));
  keyed.sort(
    (a, b) =>
      a.rank - b.rank ||
      compareCodeUnits(a.name, b.name) ||
      compareCodeUnits(a.entry.origin, b.entry.origin) ||
      compareCodeUnits(a.entry.id, b.entry.id),
  );
  return keyed.slice(0, limit).map((k) => k.entry);
}

function checkTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_FEDERATED_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_FEDERATED_TIMEOUT_MS) {
    const message = `must be an integer from 1 to ${MAX_FEDERATED_TIMEOUT_MS}`;
    throw new InvalidInputError(`invalid timeoutMs: ${message}`, [{ path: 'timeoutMs', message }]);
  }
  return timeoutMs;
}

/**
 * Federated catalog search: this cluster's search and, in parallel, a signed request to every peered
 * cluster, each answering for the caller as that cluster's visibility rules decide. Whatever has answered
 * by the deadline is merged and labelled with its origin; the peers that did not answer are listed (a
 * partial result, not an error). Only this cluster's own search failing fails the whole search.
 */
export function createFederatedSearch(deps: FederatedSearchDeps): FederatedSearch {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;

  async function askPeer(
    peer: { clusterId: string; name?: string },
    request: SearchRequest,
    deadline: AbortSignal,
    limit: number,
  ): Promise<FederatedEntry[]> {
    const reply = SearchReplySchema.safeParse(await raceAbort(deps.ask(peer.clusterId, request, deadline), deadline));
    if (!reply.success) throw new PeerRefusedError('invalid-reply', 'the reply is not a catalog search reply');
    if ('error' in reply.data) throw new PeerRefusedError('refused', `${reply.data.error.code}: ${reply.data.error.message}`);
    const items = reply.data.items.slice(0, limit);
    // A cluster answers for its own entries only; one that claims another's is not believed at all.
    const foreign = items.find((e) => e.ownerCluster !== peer.clusterId);
    if (foreign) throw new PeerRefusedError('invalid-reply', `the reply holds an entry of another cluster (${foreign.ownerCluster})`);
    return items.map((e) => ({ ...fromWireEntry(e), origin: peer.clusterId }));
  }

  function unanswered(peer: { clusterId: string; name?: string }, error: unknown, deadline: AbortSignal): UnansweredPeer {
    const base = { clusterId: peer.clusterId, ...(peer.name ? { name: peer.name } : {}) };
    if (error instanceof PeerRefusedError) return { ...base, reason: error.reason, message: error.message };
    if (deadline.aborted) return { ...base, reason: 'timeout', message: 'no answer before the deadline' };
    if (isArchipelError(error) && error.kind === 'unavailable') return { ...base, reason: 'unreachable', message: describeError(error) };
    return { ...base, reason: 'failed', message: describeError(error) };
  }

  return {
    async search(caller, options = {}) {
      const limit = options.limit ?? DEFAULT_SEARCH_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
        const message = `must be an integer from 1 to ${MAX_SEARCH_LIMIT}`;
        throw new InvalidInputError(`invalid limit: ${message}`, [{ path: 'limit', message }]);
      }
      const timeoutMs = checkTimeout(options.timeoutMs);
      const q = options.q ?? '';
      const self = deps.catalog.clusterId();
      const timer = AbortSignal.timeout(timeoutMs);
      const deadline = options.signal ? AbortSignal.any([options.signal, timer]) : timer;

      const local = deps.catalog.search(caller, { q, limit, ...(options.kind ? { kind: options.kind } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      const peers = deps.peers().filter((p) => p.clusterId !== self);
      const requestFor = (peer: { clusterId: string }) =>
        signSearchRequest(deps.sign, {
          from: self,
          to: peer.clusterId,
          q,
          ...(options.kind ? { kind: options.kind } : {}),
          user: caller.userName,
          projects: caller.projects,
          limit,
          deadline: clock.now().getTime() + timeoutMs,
        });
      // Each peer's outcome is judged when it comes (a failure after the deadline is a timeout, one before is not).
      const remote = peers.map(async (peer): Promise<FederatedEntry[] | UnansweredPeer> => {
        try {
          return await askPeer(peer, await requestFor(peer), deadline, limit);
        } catch (error) {
          return unanswered(peer, error, deadline);
        }
      });

      const [own, answers] = await Promise.all([local, Promise.all(remote)]);
      const results: FederatedEntry[][] = [own.map((e) => ({ ...e, origin: self }))];
      const missing: UnansweredPeer[] = [];
      for (const answer of answers) {
        if (Array.isArray(answer)) results.push(answer);
        else missing.push(answer);
      }
      if (missing.length) logger.info('federated search is partial', { unanswered: missing.map((m) => ({ clusterId: m.clusterId, reason: m.reason })) });
      return { items: mergeResults(q, results, limit), partial: missing.length > 0, unanswered: missing };
    },
  };
}
