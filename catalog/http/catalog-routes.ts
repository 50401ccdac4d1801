import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { NotImplementedError, type Principal } from '../../core/index.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, type AppEnv } from '../../platform/http/index.ts';
import { localCaller, type CatalogEntry, type LocalCaller } from '../entries/catalog-entry.ts';
import type { CatalogService } from '../entries/catalog-service.ts';
import type { NewCatalogEntry } from '../entries/entry-schemas.ts';
import type { FederatedSearch } from '../federation/federated-search.ts';
import type { CatalogFederation } from '../federation/catalog-federation.ts';
import {
  EntryChangeBodySchema,
  EntryClusterQuery,
  EntryIdParam,
  EntryPageSchema,
  EntrySchema,
  ListQuery,
  NewEntryBodySchema,
  SearchQuery,
  SearchResultSchema,
} from './catalog-schemas.ts';

export interface CatalogRoutesDeps {
  catalog: CatalogService;
  /** Names of the projects the user is a member of (the identity service's `memberProjectNames`). */
  memberProjectNames(userId: string): Promise<string[]>;
  /** Serves `scope=federation`, and entries of peered clusters (`?cluster=`); without it those answer 501. */
  federatedSearch?: FederatedSearch & Partial<Pick<CatalogFederation, 'get'>>;
}

const secured = [{ bearer: [] }];
const tags = ['catalog'];

const entryJson = <E extends CatalogEntry>(e: E) => ({ ...e, createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString() });

/**
 * The catalog API under `/api/v1/catalog`: this cluster's entries as the caller may see them, and search,
 * of this cluster (`scope=local`) or of this cluster and its peered clusters (`scope=federation`).
 */
export function createCatalogRoutes({ catalog, memberProjectNames, federatedSearch }: CatalogRoutesDeps) {
  const router = createRouter();

  const callerOf = async (c: Context<AppEnv>): Promise<LocalCaller> => {
    const principal: Principal = c.get('principal');
    return localCaller(principal, catalog.clusterId(), await memberProjectNames(principal.userId));
  };
  const signal = (c: Context<AppEnv>) => ({ signal: c.req.raw.signal });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/catalog/entries',
      tags,
      summary: 'Share a service, data source, storage target or compute capacity; you become its owner',
      security: secured,
      request: { body: jsonBody(NewEntryBodySchema) },
      responses: { 201: jsonResponse(EntrySchema, 'The new entry'), ...errorResponses(400, 401, 413) },
    }),
    async (c) => {
      const entry = await catalog.create(await callerOf(c), c.req.valid('json') as NewCatalogEntry, signal(c));
      return c.json(entryJson(entry), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/catalog/entries',
      tags,
      summary: "This cluster's entries the caller may see, by name, a page at a time",
      security: secured,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(EntryPageSchema, 'A page of entries'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const page = await catalog.list(await callerOf(c), { ...c.req.valid('query'), ...signal(c) });
      return c.json({ items: page.items.map(entryJson), nextCursor: page.nextCursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/catalog/entries/{id}',
      tags,
      summary: "One entry (404 when it does not exist or the caller may not see it); `cluster`: a peered cluster's entry, as its owner lets the caller see it",
      security: secured,
      request: { params: EntryIdParam, query: EntryClusterQuery },
      responses: { 200: jsonResponse(EntrySchema, 'The entry'), ...errorResponses(400, 401, 404, 501, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { cluster } = c.req.valid('query');
      if (cluster === undefined || cluster === catalog.clusterId()) return c.json(entryJson(await catalog.get(await callerOf(c), id, signal(c))), 200);
      if (!federatedSearch?.get) throw new NotImplementedError("this node does not reach peered clusters' catalogs", { details: { cluster } });
      return c.json(entryJson(await federatedSearch.get(await callerOf(c), cluster, id, signal(c))), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/catalog/entries/{id}',
      tags,
      summary: 'Change some fields of an entry (its owners and cluster admins)',
      security: secured,
      request: { params: EntryIdParam, body: jsonBody(EntryChangeBodySchema) },
      responses: { 200: jsonResponse(EntrySchema, 'The changed entry'), ...errorResponses(400, 401, 403, 404, 413) },
    }),
    async (c) => {
      const entry = await catalog.update(await callerOf(c), c.req.valid('param').id, c.req.valid('json'), signal(c));
      return c.json(entryJson(entry), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/catalog/entries/{id}',
      tags,
      summary: 'Remove an entry (its owners and cluster admins)',
      security: secured,
      request: { params: EntryIdParam },
      responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      await catalog.delete(await callerOf(c), c.req.valid('param').id, signal(c));
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/catalog/search',
      tags,
      summary:
        "Search this cluster's catalog (scope=local), or this cluster's and its peered clusters' (scope=federation: partial results list the peers that did not answer)",
      security: secured,
      request: { query: SearchQuery },
      responses: {
        200: jsonResponse(SearchResultSchema, 'Matching entries the caller may see, best first'),
        ...errorResponses(400, 401, 501),
      },
    }),
    async (c) => {
      const { q, kind, scope, limit, timeoutMs } = c.req.valid('query');
      if (scope === 'federation') {
        if (!federatedSearch) {
          throw new NotImplementedError('federated search is not available on this node: search with scope=local', { details: { scope } });
        }
        const result = await federatedSearch.search(await callerOf(c), { q, kind, limit, timeoutMs, ...signal(c) });
        return c.json({ scope, items: result.items.map(entryJson), partial: result.partial, unanswered: result.unanswered }, 200);
      }
      const items = await catalog.search(await callerOf(c), { q, kind, limit, ...signal(c) });
      return c.json({ scope, items: items.map(entryJson) }, 200);
    },
  );

  return router;
}
