import { InvalidInputError, UnavailableError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import type { LocalCaller, RemoteCaller } from '../../catalog/index.ts';
import type { PeerNetwork, PeerRefusal, PeerTransport } from '../../discovery/index.ts';
import type { EntryAccess, EntryAccessRequest } from '../access/entry-access.ts';
import type { GrantAccess } from '../access/grant-provider.ts';
import type { EntryGrant } from '../access/entry-access.ts';
import type { GrantState } from '../access/grant-service.ts';
import {
  AccessListReplySchema,
  AccessReleaseReplySchema,
  AccessReplySchema,
  DEFAULT_ACCESS_TIMEOUT_MS,
  MAX_ACCESS_TIMEOUT_MS,
  MAX_REMOTE_GRANTS,
  accessProtocol,
  toWireGrant,
  toWireGrantState,
  type AccessAnswer,
  type WireGrant,
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

/** A grant as listed or given back: its state, and the entry's name (null if the user may no longer see it). */
export interface ListedGrant extends Omit<RemoteGrant, 'entryName'> {
  entryName: string | null;
  state: GrantState;
  revokedAt: Date | null;
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
  /** The grants a peered cluster made for the calling user (`open`, the default: not revoked yet), newest first. */
  list(caller: LocalCaller, clusterId: string, options?: { state?: 'open' | 'all'; limit?: number; signal?: AbortSignal }): Promise<ListedGrant[]>;
  /** Gives back one of the calling user's grants on a peered cluster (another's is "not found" there). */
  release(caller: LocalCaller, clusterId: string, grantId: string, options?: { signal?: AbortSignal }): Promise<ListedGrant>;
}

/** What the access federation needs from the discovery agent: peering, peered-only streams, the cluster key. */
export type AccessFederationNetwork = PeerNetwork;

export interface AccessFederationOptions {
  entryAccess: EntryAccess;
  network: AccessFederationNetwork;
  /** How long to wait for the owner (default 15 s, at most 60 s). */
  timeoutMs?: number;
  /** Replaces the network exchange (tests): sends one request to a peered cluster, returns its reply. */
  ask?: PeerTransport;
  clock?: Clock;
  logger?: Logger;
  maxSkewMs?: number;
}

export interface AccessFederation extends RemoteEntryAccess {
  /** The owner's answer to a request from cluster `from` (what `serve` sends back). */
  answer(input: unknown, from: string, signal?: AbortSignal): Promise<AccessAnswer | PeerRefusal>;
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
  const listed = ({ grant, entryName }: EntryGrant) => toWireGrantState(grant, entryName);
  const answer = accessProtocol.responder(
    { clusterId: () => network.clusterId(), isPeered: (id) => network.isPeered(id), passedOn: PASSED_ON, clock, logger, maxSkewMs: options.maxSkewMs },
    async (request, from, signal): Promise<AccessAnswer> => {
      const { entryId, user, projects, ttlSeconds, uploads } = request;
      // The grants of that user of the sending cluster, and theirs only.
      const caller: RemoteCaller = { kind: 'remote', cluster: from, user, projects };
      switch (request.op ?? 'grant') {
        case 'list': {
          const limit = Math.min(request.limit ?? MAX_REMOTE_GRANTS, MAX_REMOTE_GRANTS);
          const grants = await entryAccess.list(caller, { state: request.state ?? 'open', limit, signal });
          return { grants: grants.map(listed) };
        }
        case 'release':
          return { released: listed(await entryAccess.release(caller, request.grantId!, { signal })) };
        case 'grant': {
          const result = await entryAccess.request(caller, entryId!, { ttlSeconds: ttlSeconds!, ...(uploads ? { uploads } : {}) }, { signal });
          return { grant: toWireGrant(result.grant, result.entry.name), access: result.access };
        }
      }
    },
  );

  const requesterOptions = {
    clusterId: () => network.clusterId(),
    isPeered: (id: string) => network.isPeered(id),
    sign: (domain: string, fields: readonly unknown[]) => network.sign(domain, fields),
    ask: options.ask ?? accessProtocol.transport(network),
    timeoutMs,
    clock,
    logger,
  };
  const ask = accessProtocol.requester(requesterOptions, AccessReplySchema);
  const askList = accessProtocol.requester(requesterOptions, AccessListReplySchema);
  const askRelease = accessProtocol.requester(requesterOptions, AccessReleaseReplySchema);

  /** A listed grant the owner reported, believed only if it is for that user of this cluster. */
  const fromListed = (clusterId: string, user: string, grant: WireGrant): ListedGrant => {
    if (grant.grantee.cluster !== network.clusterId() || grant.grantee.user !== user) {
      throw new UnavailableError(`cluster ${clusterId} sent a grant that is not the caller's`, { details: { clusterId } });
    }
    return {
      ...grant,
      ownerCluster: clusterId,
      createdAt: new Date(grant.createdAt),
      expiresAt: new Date(grant.expiresAt),
      revokedAt: grant.revokedAt ? new Date(grant.revokedAt) : null,
      state: grant.state ?? 'active',
    };
  };

  return {
    answer,

    async request(caller, clusterId, entryId, request, requestOptions = {}) {
      const self = network.clusterId();
      const reply = await ask(
        clusterId,
        { entryId, user: caller.userName, projects: [...caller.projects], ttlSeconds: request.ttlSeconds, ...(request.uploads ? { uploads: [...request.uploads] } : {}) },
        requestOptions.signal,
      );
      const { grant, access } = reply;
      if (grant.entryId !== entryId || grant.entryName === null || grant.grantee.cluster !== self || grant.grantee.user !== caller.userName) {
        throw new UnavailableError(`cluster ${clusterId} sent a grant that is not the one asked for`, { details: { clusterId } });
      }
      logger.info('access to a peer entry granted', { clusterId, entry: entryId, grant: grant.id, user: caller.userName });
      const { revokedAt: _revokedAt, state: _state, ...shown } = grant;
      return {
        grant: { ...shown, entryName: grant.entryName, ownerCluster: clusterId, createdAt: new Date(grant.createdAt), expiresAt: new Date(grant.expiresAt) },
        access: access as GrantAccess,
      };
    },

    async list(caller, clusterId, listOptions = {}) {
      const { state, limit, signal } = listOptions;
      const body = { op: 'list' as const, user: caller.userName, projects: [...caller.projects], ...(state ? { state } : {}), ...(limit ? { limit } : {}) };
      const reply = await askList(clusterId, body, signal);
      return reply.grants.map((grant) => fromListed(clusterId, caller.userName, grant));
    },

    async release(caller, clusterId, grantId, releaseOptions = {}) {
      const reply = await askRelease(clusterId, { op: 'release', grantId, user: caller.userName, projects: [...caller.projects] }, releaseOptions.signal);
      if (reply.released.id !== grantId) throw new UnavailableError(`cluster ${clusterId} gave back another grant than the one asked for`, { details: { clusterId } });
      const released = fromListed(clusterId, caller.userName, reply.released);
      logger.info('access to a peer entry given back', { clusterId, grant: grantId, user: caller.userName });
      return released;
    },

    serve: () => accessProtocol.serve(network, answer, logger),
  };
}
