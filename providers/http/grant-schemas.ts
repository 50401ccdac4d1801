import { z } from '@hono/zod-openapi';
import { GrantTargetSchema } from '../access/grant-target.ts';

const Timestamp = z.string().datetime({ offset: true }).openapi({ example: '2026-11-22T10:00:00.000Z' });

const Grantee = z
  .strictObject({
    cluster: z
      .string()
      .regex(/^(local|[1-9A-HJ-NP-Za-km-z]{1,128})$/, { message: 'must be "local" or a cluster id (a base58 libp2p peer id)' })
      .openapi({ example: 'local' }),
    user: z
      .string()
      .max(63)
      .regex(/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/, { message: 'must be a user name (lower-case letters, digits, ".", "_", "-")' })
      .openapi({ example: 'alice' }),
  })
  .openapi('Grantee');

export const NewGrantSchema = z
  .strictObject({
    target: GrantTargetSchema.openapi({
      description: 'A data source (`{ kind: "data", source }`) or a storage target (`{ kind: "storage", target }`), as in catalog entry specs',
      example: { kind: 'data', source: { type: 'postgresql', table: 'public.samples' } },
    }),
    grantee: Grantee,
    ttlSeconds: z.number().int().min(1).max(7 * 24 * 3600).openapi({ example: 3600 }),
    uploads: z
      .array(z.string().min(1).max(1024))
      .max(1000)
      .optional()
      .openapi({ description: 'S3 storage grants: object names to get pre-signed PUT URLs for' }),
  })
  .openapi('NewAccessGrant');

export const GrantSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['data', 'storage']),
    targetType: z.enum(['directory', 's3', 'postgresql']),
    target: z.record(z.string(), z.unknown()),
    grantee: Grantee,
    entryId: z.string().nullable().openapi({ description: 'The catalog entry it gives access to; null for a grant an administrator made for a target' }),
    createdBy: z.string().nullable().openapi({ description: "Who asked: a local user, or user@cluster for a peer's user" }),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    revokedAt: Timestamp.nullable(),
    state: z.enum(['active', 'expired', 'revoked']),
  })
  .openapi('AccessGrant');

export const GrantAccessSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('database-role'), connectionString: z.string(), user: z.string(), password: z.string(), view: z.string() }),
    z.object({
      type: z.literal('presigned-read'),
      bucket: z.string(),
      prefix: z.string(),
      objects: z.array(z.object({ key: z.string(), size: z.number(), url: z.string() })),
      truncated: z.boolean(),
    }),
    z.object({
      type: z.literal('presigned-write'),
      bucket: z.string(),
      prefix: z.string(),
      uploads: z.array(z.object({ name: z.string(), key: z.string(), url: z.string() })),
    }),
    z.object({
      type: z.literal('directory'),
      path: z.string(),
      readOnly: z.boolean(),
      enforcement: z.enum(['read-only-mount', 'file-modes', 'none']),
    }),
  ])
  .openapi('GrantAccess', { description: 'The credentials or URLs to hand to the grantee; shown once, never stored' });

export const GrantIdParam = z.object({
  id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }),
});

export const ListGrantsQuery = z.object({
  state: z.enum(['open', 'all']).optional().openapi({ description: '`open` (default): not revoked yet (active or expired); `all`: also revoked' }),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
