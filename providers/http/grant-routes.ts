import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Principal } from '../../core/index.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, type AppEnv } from '../../platform/http/index.ts';
import type { AccessGrant, GrantService } from '../access/grant-service.ts';
import { GrantAccessSchema, GrantIdParam, GrantSchema, ListGrantsQuery, NewGrantSchema } from './grant-schemas.ts';

export interface GrantRoutesDeps {
  grants: GrantService;
}

const secured = [{ bearer: [] }];
const tags = ['providers'];

const principalOf = (c: Context<AppEnv>): Principal => c.get('principal');
/** The HTTP shape of a grant (shared with the entry access routes). */
export const grantJson = (g: AccessGrant) => ({
  id: g.id,
  kind: g.kind,
  targetType: g.targetType,
  target: g.target as unknown as Record<string, unknown>,
  grantee: g.grantee,
  entryId: g.entryId,
  createdBy: g.createdBy,
  createdAt: g.createdAt.toISOString(),
  expiresAt: g.expiresAt.toISOString(),
  revokedAt: g.revokedAt ? g.revokedAt.toISOString() : null,
  state: g.state,
});

/**
 * The access grants API under `/api/v1/providers/grants`: administrators grant access to a target they
 * name, and see and revoke every grant; users see and give back the grants made for them (they get them
 * through `POST /providers/access`).
 */
export function createGrantRoutes({ grants }: GrantRoutesDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/providers/grants',
      tags,
      summary: 'Grant a cluster user read access to a data source or write access to a storage target, until ttlSeconds from now (administrators)',
      security: secured,
      request: { body: jsonBody(NewGrantSchema) },
      responses: {
        201: jsonResponse(z.object({ grant: GrantSchema, access: GrantAccessSchema }), 'The grant, and the access to hand over (shown once)'),
        ...errorResponses(400, 401, 403, 404, 413, 501, 503),
      },
    }),
    async (c) => {
      const { grant, access } = await grants.grant(principalOf(c), c.req.valid('json'), { signal: c.req.raw.signal });
      return c.json({ grant: grantJson(grant), access }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/grants',
      tags,
      summary: "Access grants, newest first, without their credentials: all of them for an administrator, the caller's own for a user",
      security: secured,
      request: { query: ListGrantsQuery },
      responses: { 200: jsonResponse(z.object({ items: z.array(GrantSchema) }), 'Grants'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const items = await grants.list(principalOf(c), { ...c.req.valid('query'), signal: c.req.raw.signal });
      return c.json({ items: items.map(grantJson) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/providers/grants/{id}',
      tags,
      summary: 'Revoke a grant now (a user gives back their own); revoking twice is harmless',
      security: secured,
      request: { params: GrantIdParam },
      responses: { 204: { description: 'Revoked (or revoked already)' }, ...errorResponses(400, 401, 404, 503) },
    }),
    async (c) => {
      await grants.revoke(principalOf(c), c.req.valid('param').id, { signal: c.req.raw.signal });
      return c.body(null, 204);
    },
  );

  return router;
}
