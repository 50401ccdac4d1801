import { describeError, isArchipelError, silentLogger, systemClock, type Clock, type Logger } from '../../core/index.ts';
import type { ComputeActor, ComputeLedger } from '../compute/compute-ledger.ts';
import {
  MAX_REMOTE_LIST,
  toWireReservation,
  toWireStatus,
  verifyComputeRequest,
  type ComputeAnswer,
  type ComputeRequest,
} from './compute-protocol.ts';

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
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;

  const refuse = (code: string, message: string): ComputeAnswer => ({ error: { code, message } });

  async function perform(request: ComputeRequest, from: string, signal: AbortSignal): Promise<ComputeAnswer> {
    const actor: ComputeActor = { kind: 'peer', clusterId: from, userName: request.user };
    switch (request.op) {
      case 'status':
        return { status: toWireStatus(await options.ledger.status({ signal })) };
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
    async answer(input: unknown, from: string, signal?: AbortSignal): Promise<ComputeAnswer> {
      if (!options.isPeered(from)) {
        logger.debug('compute request refused: cluster is not peered', { clusterId: from });
        return refuse('not-allowed', 'this cluster is not peered with yours');
      }
      const verdict = await verifyComputeRequest(input, { from, to: options.clusterId(), clock, maxSkewMs: options.maxSkewMs });
      if (!verdict.ok) {
        logger.debug('compute request refused', { clusterId: from, reason: verdict.reason });
        return refuse('invalid-input', `compute request refused: ${verdict.reason}`);
      }
      const { op, user, deadline } = verdict.request;
      // Our own work stops at the requester's deadline (at least a second, for clocks slightly apart).
      const budget = AbortSignal.timeout(Math.max(1000, deadline - clock.now().getTime()));
      try {
        const answer = await perform(verdict.request, from, signal ? AbortSignal.any([signal, budget]) : budget);
        logger.info('compute request from a peer answered', { clusterId: from, user, op });
        return answer;
      } catch (error) {
        if (isArchipelError(error) && PASSED_ON.has(error.kind)) {
          logger.debug('compute request from a peer refused by the ledger', { clusterId: from, user, op, code: error.kind });
          return refuse(error.kind, error.message);
        }
        logger.warn('compute request from a peer failed', { clusterId: from, user, op, error: describeError(error) });
        return refuse('unavailable', 'the compute request failed on this cluster');
      }
    },
  };
}

export type ComputeResponder = ReturnType<typeof createComputeResponder>;
