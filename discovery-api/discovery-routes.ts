import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { NotAllowedError } from '../core/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, type AppEnv } from '../platform/http/index.ts';
import {
  ClusterIdParam,
  IdentityChangeSchema,
  LocalIdentitySchema,
  NewPeerSchema,
  PeerSchema,
  SwarmSchema,
} from './discovery-schemas.ts';

export interface DiscoveryRoutesDeps {
  discovery: DiscoveryService;
}

const secured = [{ bearer: [] }];
const tags = ['discovery'];

function requireAdmin(c: Context<AppEnv>, action: string): void {
  if (!c.get('principal').isAdmin) throw new NotAllowedError(`only cluster administrators may ${action}`);
}

type PeerAction = 'request-peering' | 'approve' | 'refuse' | 'block' | 'unblock';
const PEER_ACTIONS: Record<PeerAction, { summary: string; run: (d: DiscoveryService, id: string, signal: AbortSignal) => Promise<unknown> }> = {
  'request-peering': {
    summary: 'Ask a cluster to peer with this one (it answers at once under its policy, or later by its operator)',
    run: (d, id, signal) => d.requestPeering(id, signal),
  },
  approve: { summary: "Approve a cluster's pending peering request", run: (d, id, signal) => d.approvePeering(id, signal) },
  refuse: { summary: "Refuse a cluster's peering request, or end a peering", run: (d, id, signal) => d.refusePeering(id, signal) },
  block: { summary: "Block a cluster: its connections are refused until it is unblocked", run: (d, id, signal) => d.block(id, signal) },
  unblock: { summary: 'Unblock a cluster (it becomes `discovered` again)', run: (d, id, signal) => d.unblock(id, signal) },
};

/** The discovery API under `/api/v1/discovery`: this node's identity, its swarm, its peers and peering. */
export function createDiscoveryRoutes({ discovery }: DiscoveryRoutesDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/discovery/identity',
      tags,
      summary: "This cluster's identity and the multiaddrs other nodes reach it at",
      security: secured,
      responses: { 200: jsonResponse(LocalIdentitySchema, 'The identity'), ...errorResponses(401) },
    }),
    (c) => c.json(discovery.identity(), 200),
  );

  router.openapi(
    createRoute({
      method: 'patch',
      path: '/discovery/identity',
      tags,
      summary: "Change this cluster's name or description (cluster admins); the new record is announced",
      security: secured,
      request: { body: jsonBody(IdentityChangeSchema) },
      responses: { 200: jsonResponse(LocalIdentitySchema, 'The new identity'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      requireAdmin(c, "change the cluster's identity");
      return c.json(await discovery.updateIdentity(c.req.valid('json'), c.req.raw.signal), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/discovery/swarm',
      tags,
      summary: 'The swarm this node belongs to: key fingerprint (never the key), bootstrap nodes, peering policy',
      security: secured,
      responses: { 200: jsonResponse(SwarmSchema, 'The swarm'), ...errorResponses(401) },
    }),
    (c) => c.json(discovery.swarm(), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/discovery/peers',
      tags,
      summary: 'The other clusters of the swarm as this one knows them',
      security: secured,
      responses: { 200: jsonResponse(z.object({ items: z.array(PeerSchema) }), 'Peers'), ...errorResponses(401) },
    }),
    (c) => c.json({ items: discovery.listPeers() }, 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/discovery/peers',
      tags,
      summary: 'Connect to a node by its multiaddr (cluster admins); answers with the cluster found there',
      security: secured,
      request: { body: jsonBody(NewPeerSchema) },
      responses: { 200: jsonResponse(PeerSchema, 'The peer'), ...errorResponses(400, 401, 403, 409, 503) },
    }),
    async (c) => {
      requireAdmin(c, 'connect to other nodes');
      return c.json(await discovery.connect(c.req.valid('json').address, c.req.raw.signal), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/discovery/peers/{clusterId}',
      tags,
      summary: 'One peer',
      security: secured,
      request: { params: ClusterIdParam },
      responses: { 200: jsonResponse(PeerSchema, 'The peer'), ...errorResponses(400, 401, 404) },
    }),
    (c) => c.json(discovery.getPeer(c.req.valid('param').clusterId), 200),
  );

  for (const [action, { summary, run }] of Object.entries(PEER_ACTIONS) as [PeerAction, (typeof PEER_ACTIONS)[PeerAction]][]) {
    router.openapi(
      createRoute({
        method: 'post',
        path: `/discovery/peers/{clusterId}/${action}`,
        tags,
        summary: `${summary} (cluster admins)`,
        security: secured,
        request: { params: ClusterIdParam },
        responses: { 200: jsonResponse(PeerSchema, 'The peer after the change'), ...errorResponses(400, 401, 403, 404, 409, 503) },
      }),
      async (c) => {
        requireAdmin(c, `${action} peers`);
        return c.json((await run(discovery, c.req.valid('param').clusterId, c.req.raw.signal)) as z.infer<typeof PeerSchema>, 200);
      },
    );
  }

  return router;
}
