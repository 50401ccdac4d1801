import { z } from 'zod';
import type { Clock } from '../../core/index.ts';
import { refuseSignedRequest } from '../../discovery/index.ts';
import type { ComputeReservation, ComputeStatus } from '../compute/compute-ledger.ts';

/**
 * `/archipel/compute/1.0.0`: compute reservations between peered clusters. One length-prefixed JSON
 * message each way: a request signed by the requesting cluster's key, naming the operation (`reserve`,
 * `release`, `get`, `list`, `status`), the user of the requesting cluster it is for, the resources and window, and a
 * deadline; the answer is the reservation (or the user's reservations), the provider's status, or a typed
 * error. The owner applies
 * its own ledger, capacity and per-peer quota, with the requesting cluster as the requester.
 */
export const COMPUTE_PROTOCOL = '/archipel/compute/1.0.0';
/** The signature domain: a compute request's signature can pass as nothing else. */
export const COMPUTE_REQUEST_DOMAIN = 'archipel-compute-request/1';

/** Largest message either way: a list of the most reservations a `list` returns, at about 400 bytes each. */
export const MAX_COMPUTE_MESSAGE_BYTES = 512 * 1024;
/** The most reservations one `list` returns. */
export const MAX_REMOTE_LIST = 500;
/** Longest a requester may wait for the owner. */
export const MAX_COMPUTE_TIMEOUT_MS = 30_000;
export const DEFAULT_COMPUTE_TIMEOUT_MS = 5_000;
/** How far the requester's clock may be from ours when we judge a request's deadline. */
export const DEFAULT_MAX_SKEW_MS = 10_000;

const ClusterIdSchema = z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/);
const Amount = z.number().nonnegative().max(1e9);
const Millis = z.number().int().nonnegative();

export const ComputeOpSchema = z.enum(['reserve', 'release', 'get', 'list', 'status']);
export type ComputeOp = z.infer<typeof ComputeOpSchema>;

export const ComputeRequestSchema = z.strictObject({
  /** The requesting cluster (the signer) and the cluster asked. */
  from: ClusterIdSchema,
  to: ClusterIdSchema,
  op: ComputeOpSchema,
  /** The user of the requesting cluster the request is for. */
  user: z.string().min(1).max(63),
  cores: Amount,
  memoryMiB: Amount,
  gpus: Amount,
  /** The window, in milliseconds since the epoch (`reserve` only): `end` or `durationSeconds`. */
  start: Millis.optional(),
  end: Millis.optional(),
  durationSeconds: z.number().positive().max(1e9).optional(),
  /** The reservation to release or read (`release` and `get`). */
  reservationId: z.string().uuid().optional(),
  /** Which of the user's reservations to list (`list` only): `current` (default) or `all`, and how many. */
  state: z.enum(['current', 'all']).optional(),
  limit: z.number().int().min(1).max(MAX_REMOTE_LIST).optional(),
  /** Milliseconds since the epoch, on the requester's clock: no answer is useful after it. */
  deadline: Millis,
  signature: z.string().min(1).max(4096),
});
export type ComputeRequest = z.infer<typeof ComputeRequestSchema>;
export type UnsignedComputeRequest = Omit<ComputeRequest, 'signature'>;

const fieldsOf = (r: UnsignedComputeRequest) => [
  r.from,
  r.to,
  r.op,
  r.user,
  r.cores,
  r.memoryMiB,
  r.gpus,
  r.start ?? null,
  r.end ?? null,
  r.durationSeconds ?? null,
  r.reservationId ?? null,
  r.state ?? null,
  r.limit ?? null,
  r.deadline,
];

/** Signs with the requesting cluster's key (`sign` is the discovery agent's). */
export async function signComputeRequest(
  sign: (domain: string, fields: readonly unknown[]) => Promise<string>,
  request: UnsignedComputeRequest,
): Promise<ComputeRequest> {
  const unsigned: UnsignedComputeRequest = { ...request };
  for (const key of ['start', 'end', 'durationSeconds', 'reservationId', 'state', 'limit'] as const) if (unsigned[key] === undefined) delete unsigned[key];
  return { ...unsigned, signature: await sign(COMPUTE_REQUEST_DOMAIN, fieldsOf(unsigned)) };
}

export interface VerifyComputeOptions {
  /** The cluster at the other end of the stream: the request must be signed by it... */
  from: string;
  /** ...and meant for us. */
  to: string;
  clock: Clock;
  maxSkewMs?: number;
}

export type ComputeRequestVerdict = { ok: true; request: ComputeRequest } | { ok: false; reason: string };

/**
 * Accepts a request that is well formed, comes from the connected cluster, is meant for this one, carries
 * that cluster's signature, and is fresh (its deadline neither passed nor too far ahead, give or take the
 * clock skew allowed). A `release` or a `get` must name its reservation.
 */
export async function verifyComputeRequest(input: unknown, options: VerifyComputeOptions): Promise<ComputeRequestVerdict> {
  const parsed = ComputeRequestSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'malformed request' };
  const request = parsed.data;
  if ((request.op === 'release' || request.op === 'get') && request.reservationId === undefined) return { ok: false, reason: 'malformed request' };
  const reason = await refuseSignedRequest(request, {
    from: options.from,
    to: options.to,
    now: options.clock.now().getTime(),
    maxSkewMs: options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
    maxAheadMs: MAX_COMPUTE_TIMEOUT_MS,
    domain: COMPUTE_REQUEST_DOMAIN,
    fields: fieldsOf(request),
  });
  return reason === undefined ? { ok: true, request } : { ok: false, reason };
}

const Timestamp = z.string().datetime();
const ResourcesSchema = z.object({ cores: Amount, memoryMiB: Amount, gpus: Amount });

const WireReservationSchema = z.object({
  id: z.string().uuid(),
  providerId: z.string().max(128),
  requester: z.string().max(128),
  userName: z.string().max(63).nullable(),
  cores: Amount,
  memoryMiB: Amount,
  gpus: Amount,
  start: Timestamp,
  end: Timestamp,
  createdAt: Timestamp,
  releasedAt: Timestamp.nullable(),
  state: z.enum(['scheduled', 'active', 'expired', 'released']),
});
type WireReservation = z.infer<typeof WireReservationSchema>;

const WireStatusSchema = z.object({
  providerId: z.string().max(128),
  capacity: ResourcesSchema,
  inUse: ResourcesSchema,
  free: ResourcesSchema,
  peerQuota: z.object({ cores: Amount.optional(), memoryMiB: Amount.optional(), gpus: Amount.optional() }).nullable(),
  at: Timestamp,
});
type WireStatus = z.infer<typeof WireStatusSchema>;

/** A refusal: the code is an error kind of the taxonomy (`conflict`, `not-found`, `invalid-input`, ...). */
const WireErrorSchema = z.strictObject({ error: z.strictObject({ code: z.string().max(64), message: z.string().max(2000) }) });

export const ComputeReplySchema = z.union([
  z.strictObject({ reservation: WireReservationSchema }),
  z.strictObject({ reservations: z.array(WireReservationSchema).max(MAX_REMOTE_LIST) }),
  z.strictObject({ status: WireStatusSchema }),
  WireErrorSchema,
]);
export type ComputeReply = z.infer<typeof ComputeReplySchema>;
/** What a responder sends (the schema above is how a requester checks it). */
export type ComputeAnswer =
  | { reservation: WireReservation }
  | { reservations: WireReservation[] }
  | { status: WireStatus }
  | { error: { code: string; message: string } };

export const toWireReservation = (r: ComputeReservation): WireReservation => ({
  id: r.id,
  providerId: r.providerId,
  requester: r.requester,
  userName: r.userName,
  cores: r.cores,
  memoryMiB: r.memoryMiB,
  gpus: r.gpus,
  start: r.start.toISOString(),
  end: r.end.toISOString(),
  createdAt: r.createdAt.toISOString(),
  releasedAt: r.releasedAt ? r.releasedAt.toISOString() : null,
  state: r.state,
});

export const fromWireReservation = (r: WireReservation): ComputeReservation => ({
  ...r,
  start: new Date(r.start),
  end: new Date(r.end),
  createdAt: new Date(r.createdAt),
  releasedAt: r.releasedAt === null ? null : new Date(r.releasedAt),
});

export const toWireStatus = (s: ComputeStatus): WireStatus => ({ ...s, at: s.at.toISOString() });
export const fromWireStatus = (s: WireStatus): ComputeStatus => ({ ...s, at: new Date(s.at) });
