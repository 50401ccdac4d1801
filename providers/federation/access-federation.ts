import {
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  describeError,
  isArchipelError,
  silentLogger,
  systemClock,
  type Clock,
  type Logger,
} from '../../core/index.ts';
import type { LocalCaller, RemoteCaller } from '../../catalog/index.ts';
import { askPeer, exchangeJson, peerRefusal, serveJson, type DiscoveryAgent } from '../../discovery/index.ts';
import type { EntryAccess, EntryAccessRequest } from '../access/entry-access.ts';
import type { GrantAccess } from '../access/grant-provider.ts';
import {
  ACCESS_PROTOCOL,
  AccessReplySchema,
  DEFAULT_ACCESS_TIMEOUT_MS,
  DEFAULT_MAX_SKEW_MS,
  MAX_ACCESS_MESSAGE_BYTES,
  MAX_ACCESS_TIMEOUT_MS,
  signAccessRequest,
  toWireGrant,
  verifyAccessRequest,
  type AccessAnswer,
  type AccessRequest,
} from './access-protocol.ts';

/** A grant made by a peered cluster for one of this cluster's users, as its owner reported it. */
export interface RemoteGrant {
  id: string;
  /** The cluster that granted it (the entry's owner). */
  ownerCluster: string;
  entryId: string;
  entryName: string;
  kind: 'data' | 'storage';
  targetType: 'directory' | 's3' | 'postgresql';
  grantee: { cluster: string; user: string };
  createdAt: Date;
  expiresAt: Date;
}

export interface RemoteEntryAccess {
  /**
   * Asks a peered cluster for access to one of its data or storage entries, for the calling user: the
   * owner decides with the entry's visibility; a cluster that is not peered (or this one) is "not found".
   */
  request(
    caller: LocalCaller,
    clusterId: string,
    entryId: string,
    request: EntryAccessRequest,
    options?: { signal?: AbortSignal },
  ): Promise<{ grant: RemoteGrant; access: GrantAccess }>;
}

/** What the access federation needs from the discovery agent: peering, peered-only streams, the cluster key. */
export type AccessFederationNetwork = Pick<DiscoveryAgent, 'clusterId' | 'isPeered' | 'handlePeered' | 'openPeeredStream' | 'sign'>;

export interface AccessFederationOptions {
  entryAccess: EntryAccess;
  network: AccessFederationNetwork;
  /** How long to wait for the owner (default 15 s, at most 60 s). */
  timeoutMs?: number;
  /** Replaces the network exchange (tests): sends one request to a peered cluster, returns its reply. */
  ask?: (clusterId: string, request: AccessRequest, signal: AbortSignal) => Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
  maxSkewMs?: number;
}

export interface AccessFederation extends RemoteEntryAccess {
  /** The owner's answer to a request from cluster `from` (what `serve` sends back). */
  answer(input: unknown, from: string, signal?: AbortSignal): Promise<AccessAnswer>;
  /** Serves `/archipel/access/1.0.0` to peered clusters; call once the discovery agent has started. */
  serve(): Promise<void>;
}

/** The error kinds a refusal passes on as they are; anything else is reported as `unavailable`. */
const PASSED_ON = new Set(['invalid-input', 'not-allowed', 'not-found', 'not-implemented']);

/**
 * Access to catalog entries between peered clusters, both sides of `/archipel/access/1.0.0`. As owner: a
 * peered cluster's signed request becomes a remote caller (`{ cluster: sender, user, projects }`) for
 * whom the entry access checks visibility and makes a grant to that user of that cluster; a refused
 * request never reaches the grants. As requester: signs for the calling user, waits at most until the
 * deadline, and believes only a grant made for that user of this cluster, for the entry asked for.
 */
export function createAccessFederation(options: AccessFederationOptions): AccessFederation {
  const { entryAccess, network } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.timeoutMs ?? DEFAULT_ACCESS_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_ACCESS_TIMEOUT_MS) {
    throw new InvalidInputError(`invalid timeoutMs: must be an integer from 1 to ${MAX_ACCESS_TIMEOUT_MS}`, [
      { path: 'timeoutMs', message: `must be an integer from 1 to ${MAX_ACCESS_TIMEOUT_MS}` },
    ]);
  }
  const refuse = (code: string, message: string): AccessAnswer => ({ error: { code, message } });

  async function answer(input: unknown, from: string, signal?: AbortSignal): Promise<AccessAnswer> {
    if (!network.isPeered(from)) {
      logger.debug('access request refused: cluster is not peered', { clusterId: from });
      return refuse('not-allowed', 'this cluster is not peered with yours');
    }
    const verdict = await verifyAccessRequest(input, { from, to: network.clusterId(), clock, maxSkewMs: options.maxSkewMs });
    if (!verdict.ok) {
      logger.debug('access request refused', { clusterId: from, reason: verdict.reason });
      return refuse('invalid-input', `access request refused: ${verdict.reason}`);
    }
    const { entryId, user, projects, ttlSeconds, uploads, deadline } = verdict.request;
    const caller: RemoteCaller = { kind: 'remote', cluster: from, user, projects };
    // Our own work stops at the requester's deadline (at least a second, for clocks slightly apart).
    const budget = AbortSignal.timeout(Math.max(1000, deadline - clock.now().getTime()));
    try {
      const result = await entryAccess.request(caller, entryId, { ttlSeconds, ...(uploads ? { uploads } : {}) }, { signal: signal ? AbortSignal.any([signal, budget]) : budget });
      return { grant: toWireGrant(result.grant, result.entry.name), access: result.access };
    } catch (error) {
      if (isArchipelError(error) && PASSED_ON.has(error.kind)) {
        logger.debug('access request from a peer refused', { clusterId: from, user, entry: entryId, code: error.kind });
        return refuse(error.kind, error.message);
      }
      logger.warn('access request from a peer failed', { clusterId: from, user, entry: entryId, error: describeError(error) });
      return refuse('unavailable', 'the access request failed on this cluster');
    }
  }

  const ask =
    options.ask ??
    (async (clusterId: string, request: AccessRequest, signal: AbortSignal) => {
      const stream = await network.openPeeredStream(clusterId, ACCESS_PROTOCOL, { signal });
      return exchangeJson(stream, request, { maxBytes: MAX_ACCESS_MESSAGE_BYTES, signal });
    });

  return {
    answer,

    async request(caller, clusterId, entryId, request, requestOptions = {}) {
      const self = network.clusterId();
      if (clusterId === self || !network.isPeered(clusterId)) throw new NotFoundError(`cluster ${clusterId} is not peered with this one`);
      const signed = await signAccessRequest((domain, fields) => network.sign(domain, fields), {
        from: self,
        to: clusterId,
        entryId,
        user: caller.userName,
        projects: caller.projects,
        ttlSeconds: request.ttlSeconds,
        ...(request.uploads ? { uploads: request.uploads } : {}),
        deadline: clock.now().getTime() + timeoutMs,
      });
      const raw = await askPeer(clusterId, (deadline) => ask(clusterId, signed, deadline), { timeoutMs, signal: requestOptions.signal });
      const reply = AccessReplySchema.safeParse(raw);
      if (!reply.success) throw new UnavailableError(`cluster ${clusterId} sent a reply that is not an access reply`, { details: { clusterId } });
      if ('error' in reply.data) {
        logger.debug('access request refused by a peer', { clusterId, entry: entryId, code: reply.data.error.code });
        throw peerRefusal(clusterId, reply.data.error.code, reply.data.error.message);
      }
      const { grant, access } = reply.data;
      if (grant.entryId !== entryId || grant.grantee.cluster !== self || grant.grantee.user !== caller.userName) {
        throw new UnavailableError(`cluster ${clusterId} sent a grant that is not the one asked for`, { details: { clusterId } });
      }
      logger.info('access to a peer entry granted', { clusterId, entry: entryId, grant: grant.id, user: caller.userName });
      return {
        grant: { ...grant, ownerCluster: clusterId, createdAt: new Date(grant.createdAt), expiresAt: new Date(grant.expiresAt) },
        access: access as GrantAccess,
      };
    },

    async serve() {
      await network.handlePeered(ACCESS_PROTOCOL, async (stream, connection) => {
        const from = connection.remotePeer.toString();
        const signal = AbortSignal.timeout(MAX_ACCESS_TIMEOUT_MS + DEFAULT_MAX_SKEW_MS);
        try {
          await serveJson(stream, (request) => answer(request, from, signal), { maxBytes: MAX_ACCESS_MESSAGE_BYTES, signal });
        } catch (error) {
          logger.debug('access exchange from peer failed', { clusterId: from, error: describeError(error) });
        }
      });
    },
  };
}
