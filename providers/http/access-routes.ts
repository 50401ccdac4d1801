import { createRoute, z } from '@hono/zod-openapi';
import { localCaller } from '../../catalog/index.ts';
import { NotFoundError } from '../../core/index.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../../platform/http/index.ts';
import type { EntryAccess, EntryGrant } from '../access/entry-access.ts';
import type { ListedGrant, RemoteEntryAccess, RemoteGrant } from '../federation/access-federation.ts';
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

const ListedGrantSchema = EntryGrantSchema.extend({
  entryName: z.string().nullable().openapi({ description: 'Null when the caller may no longer see the entry' }),
  state: z.enum(['active', 'expired', 'revoked']),
  revokedAt: z.string().nullable(),
}).openapi('ListedEntryGrant');

const ClusterQuery = z.object({
  cluster: ClusterId.optional().openapi({ description: 'The cluster that granted it (`ownerCluster`); default this cluster' }),
});
const ListQuery = ClusterQuery.extend({
  state: z.enum(['open', 'all']).optional().openapi({ description: '`open` (default): not revoked yet (active or expired); `all`: also revoked' }),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});
const GrantIdParam = z.object({ grantId: z.string().uuid().openapi({ param: { name: 'grantId', in: 'path' } }) });

const grantJson = (g: RemoteGrant) => ({ ...g, createdAt: g.createdAt.toISOString(), expiresAt: g.expiresAt.toISOString() });
const listedJson = (g: ListedGrant) => ({
  ...g,
  createdAt: g.createdAt.toISOString(),
  expiresAt: g.expiresAt.toISOString(),
  revokedAt: g.revokedAt ? g.revokedAt.toISOString() : null,
});

/** A grant of this cluster's for an entry, as the caller's own list shows it. */
const localListed = (self: string, { grant, entryName }: EntryGrant): ListedGrant => ({
  id: grant.id,
  ownerCluster: self,
  entryId: grant.entryId!,
  entryName,
  kind: grant.kind,
  targetType: grant.targetType,
  grantee: grant.grantee,
  createdAt: grant.createdAt,
  expiresAt: grant.expiresAt,
  revokedAt: grant.revokedAt,
  state: grant.state,
});

/**
 * `POST /api/v1/providers/access`: a user asks for access to a data or storage entry they can see, of this
 * cluster or of a peered one (over `/archipel/access/1.0.0`); the owner's visibility rules decide, and
 * the grant is for that user alone, for `ttlSeconds`. `GET /api/v1/providers/access?cluster=` lists the
 * grants a cluster (this one by default) made for the caller's entries access, and
 * `DELETE /api/v1/providers/access/{grantId}?cluster=` gives one back, before its expiry.
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

  /** The caller as the catalog sees them, and whether `cluster` names a peer (else this cluster). */
  async function callerFor(principal: { userId: string; userName: string; isAdmin: boolean }, cluster: string | undefined) {
    const self = deps.clusterId();
    const caller = localCaller(principal, self, await deps.memberProjectNames(principal.userId));
    const peer = cluster === undefined || cluster === self ? undefined : cluster;
    if (peer !== undefined && !deps.remote) throw new NotFoundError(`cluster ${peer} is not peered with this one`);
    return { self, caller, peer };
  }

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/access',
      tags: ['providers'],
      summary: "The caller's own grants for catalog entries, made by this cluster or by a peered one (cluster), newest first",
      security: [{ bearer: [] }],
      request: { query: ListQuery },
      responses: { 200: jsonResponse(z.object({ items: z.array(ListedGrantSchema) }), 'Grants, without their credentials'), ...errorResponses(400, 401, 404, 503) },
    }),
    async (c) => {
      const { cluster, state, limit } = c.req.valid('query');
      const { self, caller, peer } = await callerFor(c.get('principal'), cluster);
      const signal = c.req.raw.signal;
      const options = { ...(state ? { state } : {}), ...(limit ? { limit } : {}), signal };
      const items =
        peer === undefined ? (await deps.entryAccess.list(caller, options)).map((g) => localListed(self, g)) : await deps.remote!.list(caller, peer, options);
      return c.json({ items: items.map(listedJson) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/providers/access/{grantId}',
      tags: ['providers'],
      summary: 'Give back one of the caller\'s grants for a catalog entry, made by this cluster or by a peered one (cluster); twice is harmless',
      security: [{ bearer: [] }],
      request: { params: GrantIdParam, query: ClusterQuery },
      responses: { 204: { description: 'Given back (or revoked already)' }, ...errorResponses(400, 401, 404, 503) },
    }),
    async (c) => {
      const { grantId } = c.req.valid('param');
      const { caller, peer } = await callerFor(c.get('principal'), c.req.valid('query').cluster);
      const signal = c.req.raw.signal;
      if (peer === undefined) await deps.entryAccess.release(caller, grantId, { signal });
      else await deps.remote!.release(caller, peer, grantId, { signal });
      return c.body(null, 204);
    },
  );

  return router;
}
