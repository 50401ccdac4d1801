import { z } from 'zod';
import type { Clock } from '../../core/index.ts';
import { ClusterIdSchema, definePeerProtocol, type Signer } from '../../discovery/index.ts';
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

export const computeProtocol = definePeerProtocol<ComputeRequest>({
  id: COMPUTE_PROTOCOL,
  domain: COMPUTE_REQUEST_DOMAIN,
  name: 'compute request',
  schema: ComputeRequestSchema,
  fields: fieldsOf,
  // A `release` or a `get` must name its reservation.
  valid: (r) => !((r.op === 'release' || r.op === 'get') && r.reservationId === undefined),
  maxBytes: MAX_COMPUTE_MESSAGE_BYTES,
  maxTimeoutMs: MAX_COMPUTE_TIMEOUT_MS,
  defaultTimeoutMs: DEFAULT_COMPUTE_TIMEOUT_MS,
});

/** Signs with the requesting cluster's key (`sign` is the discovery agent's). */
export const signComputeRequest = (sign: Signer, request: UnsignedComputeRequest): Promise<ComputeRequest> => computeProtocol.sign(sign, request);

/** Accepts what `computeProtocol` accepts: well formed, from the connected cluster, for this one, signed, fresh. */
export const verifyComputeRequest = (input: unknown, options: { from: string; to: string; clock: Clock; maxSkewMs?: number }) => computeProtocol.verify(input, options);

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

export const ComputeReplySchema = z.union([
  z.strictObject({ reservation: WireReservationSchema }),
  z.strictObject({ reservations: z.array(WireReservationSchema).max(MAX_REMOTE_LIST) }),
  z.strictObject({ status: WireStatusSchema }),
]);
export type ComputeReply = z.infer<typeof ComputeReplySchema>;
/** What a responder sends (the schema above is how a requester checks it). */
export type ComputeAnswer = { reservation: WireReservation } | { reservations: WireReservation[] } | { status: WireStatus };

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
