import { InvalidInputError, UnavailableError, silentLogger, type Clock, type Logger, type Principal } from '../../core/index.ts';
import type { ComputeReservation, ComputeStatus } from '../compute/compute-ledger.ts';
import type { ComputeResources } from '../compute/compute-resources.ts';
import {
  ComputeReplySchema,
  DEFAULT_COMPUTE_TIMEOUT_MS,
  MAX_COMPUTE_TIMEOUT_MS,
  MAX_REMOTE_LIST,
  fromWireReservation,
  computeProtocol,
  fromWireStatus,
  type ComputeReply,
  type ComputeRequest,
} from './compute-protocol.ts';
import type { PeerTransport } from '../../discovery/index.ts';

/** What a user asks of a peered cluster's compute provider. */
export interface RemoteReservationRequest extends Partial<ComputeResources> {
  start?: Date;
  end?: Date;
  durationSeconds?: number;
}

/** What the remote compute client needs to reach the peers; the compute federation provides it over libp2p. */
export interface RemoteComputeDeps {
  /** This cluster's id. */
  clusterId(): string;
  /** Whether a cluster is peered with this one now. */
  isPeered(clusterId: string): boolean;
  /** Sends one request to a peered cluster and returns its reply (unchecked). */
  ask: PeerTransport;
  /** Signs with this cluster's key. */
  sign(domain: string, fields: readonly unknown[]): Promise<string>;
  /** How long to wait for the owner (1-30,000 ms, default 5,000). */
  timeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface RemoteCallOptions {
  signal?: AbortSignal;
}

export interface RemoteListOptions extends RemoteCallOptions {
  /** `current` (default): scheduled and active; `all`: also expired and released. */
  state?: 'current' | 'all';
  /** At most this many, earliest start first (default and maximum 500). */
  limit?: number;
}

/** Compute reservations on a peered cluster, made for one of this cluster's users. */
export interface RemoteCompute {
  /** Reserves on `clusterId`; its ledger decides (capacity, and its quota for this cluster). */
  reserve(principal: Principal, clusterId: string, request: RemoteReservationRequest, options?: RemoteCallOptions): Promise<ComputeReservation>;
  /** Releases one of the user's reservations on `clusterId` (not found if it is someone else's). */
  release(principal: Principal, clusterId: string, reservationId: string, options?: RemoteCallOptions): Promise<ComputeReservation>;
  /** One of the user's reservations on `clusterId` (not found if it is someone else's). */
  get(principal: Principal, clusterId: string, reservationId: string, options?: RemoteCallOptions): Promise<ComputeReservation>;
  /** The user's reservations on `clusterId`, as its ledger holds them. */
  list(principal: Principal, clusterId: string, options?: RemoteListOptions): Promise<ComputeReservation[]>;
  /** `clusterId`'s capacity, what is in use and free now, and its quota per peer. */
  status(principal: Principal, clusterId: string, options?: RemoteCallOptions): Promise<ComputeStatus>;
}

/**
 * The requesting side of `/archipel/compute/1.0.0`: signs a request for the calling user, sends it to a
 * peered cluster, and waits at most until the deadline. A cluster that is not peered answers "not found"
 * (nothing is sent); no answer in time, or an unbelievable one, is `unavailable`; the owner's refusals
 * come back as errors of the same kind (a reservation that does not fit is a conflict, with the owner's
 * message naming what is short).
 */
export function createRemoteCompute(deps: RemoteComputeDeps): RemoteCompute {
  const logger = deps.logger ?? silentLogger;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_COMPUTE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_COMPUTE_TIMEOUT_MS) {
    throw new InvalidInputError(`invalid timeoutMs: must be an integer from 1 to ${MAX_COMPUTE_TIMEOUT_MS}`, [
      { path: 'timeoutMs', message: `must be an integer from 1 to ${MAX_COMPUTE_TIMEOUT_MS}` },
    ]);
  }
  const ask = computeProtocol.requester({ ...deps, timeoutMs }, ComputeReplySchema);

  const call = (principal: Principal, clusterId: string, fields: Pick<ComputeRequest, 'op'> & Partial<ComputeRequest>, signal: AbortSignal | undefined): Promise<ComputeReply> =>
    ask(clusterId, { cores: 0, memoryMiB: 0, gpus: 0, ...fields, user: principal.userName }, signal);

  const notOurs = (clusterId: string) =>
    new UnavailableError(`cluster ${clusterId} sent a reply that is not a reservation of this cluster`, { details: { clusterId } });

  /** A reservation is believed only if it is held for this cluster. */
  function reservationOf(clusterId: string, reply: ComputeReply): ComputeReservation {
    if (!('reservation' in reply) || reply.reservation.requester !== deps.clusterId()) throw notOurs(clusterId);
    return fromWireReservation(reply.reservation);
  }

  const millis = (value: Date | undefined, path: string) => {
    if (value === undefined) return undefined;
    if (!(value instanceof Date) || !Number.isFinite(value.getTime()) || value.getTime() < 0) {
      throw new InvalidInputError(`invalid reservation: ${path}: must be a valid time`, [{ path, message: 'must be a valid time' }]);
    }
    return value.getTime();
  };

  return {
    async reserve(principal, clusterId, request, options = {}) {
      const start = millis(request.start, 'start');
      const end = millis(request.end, 'end');
      const reply = await call(
        principal,
        clusterId,
        {
          op: 'reserve',
          cores: request.cores ?? 0,
          memoryMiB: request.memoryMiB ?? 0,
          gpus: request.gpus ?? 0,
          ...(start !== undefined ? { start } : {}),
          ...(end !== undefined ? { end } : {}),
          ...(request.durationSeconds !== undefined ? { durationSeconds: request.durationSeconds } : {}),
        },
        options.signal,
      );
      const reservation = reservationOf(clusterId, reply);
      logger.info('compute reserved on a peer', { clusterId, reservation: reservation.id, user: principal.userName });
      return reservation;
    },

    async release(principal, clusterId, reservationId, options = {}) {
      const reservation = reservationOf(clusterId, await call(principal, clusterId, { op: 'release', reservationId }, options.signal));
      logger.info('compute released on a peer', { clusterId, reservation: reservation.id, user: principal.userName });
      return reservation;
    },

    async get(principal, clusterId, reservationId, options = {}) {
      return reservationOf(clusterId, await call(principal, clusterId, { op: 'get', reservationId }, options.signal));
    },

    async list(principal, clusterId, options = {}) {
      const { state, limit } = options;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_REMOTE_LIST)) {
        throw new InvalidInputError(`invalid limit: must be an integer from 1 to ${MAX_REMOTE_LIST}`, [
          { path: 'limit', message: `must be an integer from 1 to ${MAX_REMOTE_LIST}` },
        ]);
      }
      const reply = await call(
        principal,
        clusterId,
        { op: 'list', ...(state !== undefined ? { state } : {}), ...(limit !== undefined ? { limit } : {}) },
        options.signal,
      );
      if (!('reservations' in reply) || reply.reservations.some((r) => r.requester !== deps.clusterId())) throw notOurs(clusterId);
      return reply.reservations.map(fromWireReservation);
    },

    async status(principal, clusterId, options = {}) {
      const reply = await call(principal, clusterId, { op: 'status' }, options.signal);
      if (!('status' in reply)) throw new UnavailableError(`cluster ${clusterId} sent a reply that is not a compute status`, { details: { clusterId } });
      return fromWireStatus(reply.status);
    },
  };
}
