import { z } from '@hono/zod-openapi';

const Timestamp = z.string().datetime({ offset: true }).openapi({ example: '2026-11-22T10:00:00.000Z' });
const Requester = z
  .string()
  .min(1)
  .max(128)
  .regex(/^(local|[1-9A-HJ-NP-Za-km-z]+)$/, { message: 'must be "local" or a cluster id (a base58 libp2p peer id)' })
  .openapi({ description: '`local` for this cluster\'s users, else the cluster id of a peer', example: 'local' });

const Cores = z
  .number()
  .nonnegative({ message: 'must not be negative' })
  .openapi({ description: 'CPU cores; fractions to the thousandth (0.5 = 500m)', example: 2 });
const MemoryMiB = z.number().int().nonnegative({ message: 'must not be negative' }).openapi({ example: 4096 });
const Gpus = z.number().int().nonnegative({ message: 'must not be negative' }).openapi({ example: 0 });

export const ResourcesSchema = z.object({ cores: z.number(), memoryMiB: z.number(), gpus: z.number() }).openapi('ComputeResources');

export const QuotaSchema = z
  .object({ cores: z.number().optional(), memoryMiB: z.number().optional(), gpus: z.number().optional() })
  .openapi('ComputeQuota', { description: 'The most any one peer cluster may hold at once; a missing resource is not limited' });

export const ComputeStatusSchema = z
  .object({
    providerId: z.string(),
    capacity: ResourcesSchema,
    inUse: ResourcesSchema,
    free: ResourcesSchema,
    peerQuota: QuotaSchema.nullable(),
    at: Timestamp,
  })
  .openapi('ComputeStatus');

export const ReservationSchema = z
  .object({
    id: z.string(),
    providerId: z.string(),
    requester: z.string(),
    user: z
      .string()
      .nullable()
      .openapi({ description: "The user who made it: a local user, or (requester a peer) that cluster's user; null if none was named" }),
    cores: z.number(),
    memoryMiB: z.number(),
    gpus: z.number(),
    start: Timestamp,
    end: Timestamp,
    createdAt: Timestamp,
    releasedAt: Timestamp.nullable(),
    state: z.enum(['scheduled', 'active', 'expired', 'released']),
  })
  .openapi('ComputeReservation');

export const NewReservationSchema = z
  .strictObject({
    cores: Cores.optional(),
    memoryMiB: MemoryMiB.optional(),
    gpus: Gpus.optional(),
    start: Timestamp.optional().openapi({ description: 'When the window opens (default now; a past time counts as now)' }),
    end: Timestamp.optional().openapi({ description: 'When the window closes; give end or durationSeconds' }),
    durationSeconds: z.number().positive().optional().openapi({ example: 3600 }),
    requester: Requester.optional().openapi({ description: 'Reserve for a peer cluster (cluster admins only); default `local`' }),
  })
  .openapi('NewComputeReservation');

export const ReservationIdParam = z.object({
  id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }),
});

export const ListReservationsQuery = z.object({
  state: z
    .enum(['current', 'all'])
    .optional()
    .openapi({ description: '`current` (default): scheduled and active; `all`: also expired and released' }),
  requester: Requester.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const NewRemoteReservationSchema = NewReservationSchema.omit({ requester: true }).openapi('NewRemoteComputeReservation');

export const RemoteClusterParam = z.object({
  clusterId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, { message: 'must be a cluster id (a base58 libp2p peer id)' })
    .openapi({ param: { name: 'clusterId', in: 'path' }, description: 'A peered cluster' }),
});

export const ListRemoteReservationsQuery = ListReservationsQuery.omit({ requester: true }).extend({
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export const RemoteReservationParams = RemoteClusterParam.extend(ReservationIdParam.shape);
