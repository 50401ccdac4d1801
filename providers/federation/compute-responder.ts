import { silentLogger, type Clock, type Logger } from '../../core/index.ts';
import type { ComputeActor, ComputeLedger } from '../compute/compute-ledger.ts';
import { MAX_REMOTE_LIST, computeProtocol, toWireReservation, toWireStatus, type ComputeAnswer, type ComputeRequest } from './compute-protocol.ts';

export interface ComputeResponderOptions {
  ledger: Pick<ComputeLedger, 'reserve' | 'release' | 'get' | 'list' | 'status'>;
  /** This cluster's id. */
  clusterId(): string;
  /** Whether a cluster is peered with this one now. */
  isPeered(clusterId: string): boolean;
  clock?: Clock;
  logger?: Logger;
  maxSkewMs?: number;
}

/** The error kinds a refusal passes on as they are; anything else is reported as `unavailable`. */
const PASSED_ON = new Set(['invalid-input', 'not-allowed', 'not-found', 'conflict']);

/**
 * The owner's side of `/archipel/compute/1.0.0`: checks a peer's request (peered, signed by the connected
 * cluster, meant for this one, fresh), then acts on this cluster's ledger as that peer for the user the
 * request names, so the requester is the sender's cluster id and its quota and the capacity apply exactly
 * as for any reservation. A ledger refusal (a conflict names each resource short) goes back with its kind
 * and message; a refused request never reaches the ledger.
 */
export function createComputeResponder(options: ComputeResponderOptions) {
  const logger = options.logger ?? silentLogger;

  async function perform(request: ComputeRequest, from: string, signal: AbortSignal): Promise<ComputeAnswer> {
    const actor: ComputeActor = { kind: 'peer', clusterId: from, userName: request.user };
    switch (request.op) {
      case 'status':
        // What this peer may hold (its quota and the compute offered to it), not the whole capacity.
        return { status: toWireStatus(await options.ledger.status({ requester: from, signal })) };
      case 'release':
        return { reservation: toWireReservation(await options.ledger.release(actor, request.reservationId!, { signal })) };
      case 'get':
        return { reservation: toWireReservation(await options.ledger.get(actor, request.reservationId!, { signal })) };
      case 'list': {
        const limit = Math.min(request.limit ?? MAX_REMOTE_LIST, MAX_REMOTE_LIST);
        const reservations = await options.ledger.list(actor, { state: request.state ?? 'current', limit, signal });
        return { reservations: reservations.map(toWireReservation) };
      }
      case 'reserve': {
        const reservation = await options.ledger.reserve(
          actor,
          {
            cores: request.cores,
            memoryMiB: request.memoryMiB,
            gpus: request.gpus,
            ...(request.start !== undefined ? { start: new Date(request.start) } : {}),
            ...(request.end !== undefined ? { end: new Date(request.end) } : {}),
            ...(request.durationSeconds !== undefined ? { durationSeconds: request.durationSeconds } : {}),
          },
          { signal },
        );
        return { reservation: toWireReservation(reservation) };
      }
    }
  }

  return {
    /** The reply to `input`, received from cluster `from` on an authenticated connection. */
    answer: computeProtocol.responder({ ...options, passedOn: PASSED_ON }, async (request, from, signal) => {
      const answer = await perform(request, from, signal);
      logger.info('compute request from a peer answered', { clusterId: from, user: request.user, op: request.op });
      return answer;
    }),
  };
}

export type ComputeResponder = ReturnType<typeof createComputeResponder>;
