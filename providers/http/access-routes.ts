import { createRoute, z } from '@hono/zod-openapi';
import { localCaller } from '../../catalog/index.ts';
import { NotFoundError } from '../../core/index.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../../platform/http/index.ts';
import type { EntryAccess } from '../access/entry-access.ts';
import type { RemoteEntryAccess, RemoteGrant } from '../federation/access-federation.ts';
import { GrantAccessSchema } from './grant-schemas.ts';

export interface AccessRoutesDeps {
  entryAccess: EntryAccess;
  /** Entries of peered clusters; without it, only this cluster's entries can be asked for. */
  remote?: RemoteEntryAccess;
  /** This cluster's id (the catalog's). */
  clusterId(): string;
  /** Names of the projects the user is a member of (the identity service's `memberProjectNames`). */
  memberProjectNames(userId: string): Promise<string[]>;
}

const ClusterId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[1-9A-HJ-NP-Za-km-z]+$/, { message: 'must be a cluster id (a base58 libp2p peer id)' });

const NewAccessSchema = z
  .strictObject({
    entry: z.strictObject({
      id: z.string().uuid().openapi({ description: 'The catalog entry (a data or storage entry)' }),
      cluster: ClusterId.optional().openapi({ description: "The entry's owner cluster (`origin` in federated search); default this cluster" }),
    }),
    ttlSeconds: z.number().int().min(1).max(7 * 24 * 3600).openapi({ example: 3600 }),
    uploads: z
      .array(z.string().min(1).max(1024))
      .max(1000)
      .optional()
      .openapi({ description: 'S3 storage entries: object names to get pre-signed PUT URLs for' }),
  })
  .openapi('NewEntryAccess');

const EntryGrantSchema = z
  .object({
    id: z.string(),
    ownerCluster: z.string(),
    entryId: z.string(),
    entryName: z.string(),
    kind: z.enum(['data', 'storage']),
    targetType: z.enum(['directory', 's3', 'postgresql']),
    grantee: z.object({ cluster: z.string(), user: z.string() }),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi('EntryGrant');

const grantJson = (g: RemoteGrant) => ({ ...g, createdAt: g.createdAt.toISOString(), expiresAt: g.expiresAt.toISOString() });

/**
 * `POST /api/v1/providers/access`: a user asks for access to a data or storage entry they can see, of this
 * cluster or of a peered one (over `/archipel/access/1.0.0`); the owner's visibility rules decide, and
 * the grant is for that user alone, for `ttlSeconds`.
 */
export function createAccessRoutes(deps: AccessRoutesDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/providers/access',
      tags: ['providers'],
      summary: 'Get access to a data or storage catalog entry the caller may see, here or on a peered cluster, for ttlSeconds',
      security: [{ bearer: [] }],
      request: { body: jsonBody(NewAccessSchema) },
      responses: {
        201: jsonResponse(z.object({ grant: EntryGrantSchema, access: GrantAccessSchema }), 'The grant, and the access to use (shown once)'),
        ...errorResponses(400, 401, 404, 413, 501, 503),
      },
    }),
    async (c) => {
      const { entry, ttlSeconds, uploads } = c.req.valid('json');
      const principal = c.get('principal');
      const self = deps.clusterId();
      const caller = localCaller(principal, self, await deps.memberProjectNames(principal.userId));
      const request = { ttlSeconds, ...(uploads ? { uploads } : {}) };
      const signal = c.req.raw.signal;
      if (entry.cluster === undefined || entry.cluster === self) {
        const { entry: found, grant, access } = await deps.entryAccess.request(caller, entry.id, request, { signal });
        const shown: RemoteGrant = {
          id: grant.id,
          ownerCluster: self,
          entryId: found.id,
          entryName: found.name,
          kind: grant.kind,
          targetType: grant.targetType,
          grantee: grant.grantee,
          createdAt: grant.createdAt,
          expiresAt: grant.expiresAt,
        };
        return c.json({ grant: grantJson(shown), access }, 201);
      }
      if (!deps.remote) throw new NotFoundError(`cluster ${entry.cluster} is not peered with this one`);
      const { grant, access } = await deps.remote.request(caller, entry.cluster, entry.id, request, { signal });
      return c.json({ grant: grantJson(grant), access }, 201);
    },
  );

  return router;
}
