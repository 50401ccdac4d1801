import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../../platform/http/index.ts';
import type { RemoteCompute } from '../federation/remote-compute.ts';
import { reservationJson, statusJson } from './provider-routes.ts';
import {
  ComputeStatusSchema,
  ListRemoteReservationsQuery,
  NewRemoteReservationSchema,
  RemoteClusterParam,
  RemoteReservationParams,
  ReservationSchema,
} from './provider-schemas.ts';

export interface RemoteComputeRoutesDeps {
  remote: RemoteCompute;
}

const secured = [{ bearer: [] }];
const tags = ['providers'];

/**
 * Compute on peered clusters under `/api/v1/providers/compute/remote/{clusterId}`, for the calling user
 * over `/archipel/compute/1.0.0`: 404 when the cluster is not peered, 503 when it does not answer in
 * time, 409 (its message) when the reservation does not fit its capacity or its quota for this cluster.
 */
export function createRemoteComputeRoutes({ remote }: RemoteComputeRoutesDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/compute/remote/{clusterId}',
      tags,
      summary: "What this cluster may hold on a peered cluster (what it offers this cluster, within its capacity), what this cluster holds and could still reserve there now, and its quota for this cluster",
      security: secured,
      request: { params: RemoteClusterParam },
      responses: { 200: jsonResponse(ComputeStatusSchema, 'What this cluster may hold there'), ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const status = await remote.status(c.get('principal'), c.req.valid('param').clusterId, { signal: c.req.raw.signal });
      return c.json(statusJson(status), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/providers/compute/remote/{clusterId}/reservations',
      tags,
      summary: 'Reserve cores, memory and GPUs on a peered cluster for the caller; 409 when it does not fit there',
      security: secured,
      request: { params: RemoteClusterParam, body: jsonBody(NewRemoteReservationSchema) },
      responses: {
        201: jsonResponse(ReservationSchema, 'The reservation, held by this cluster on the peer'),
        ...errorResponses(400, 401, 403, 404, 409, 413, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const reservation = await remote.reserve(
        c.get('principal'),
        c.req.valid('param').clusterId,
        {
          ...body,
          start: body.start === undefined ? undefined : new Date(body.start),
          end: body.end === undefined ? undefined : new Date(body.end),
        },
        { signal: c.req.raw.signal },
      );
      return c.json(reservationJson(reservation), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/compute/remote/{clusterId}/reservations',
      tags,
      summary: "The caller's reservations on a peered cluster, as its ledger holds them, earliest start first",
      security: secured,
      request: { params: RemoteClusterParam, query: ListRemoteReservationsQuery },
      responses: {
        200: jsonResponse(z.object({ items: z.array(ReservationSchema) }), 'Reservations'),
        ...errorResponses(400, 401, 403, 404, 503),
      },
    }),
    async (c) => {
      const items = await remote.list(c.get('principal'), c.req.valid('param').clusterId, { ...c.req.valid('query'), signal: c.req.raw.signal });
      return c.json({ items: items.map(reservationJson) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/compute/remote/{clusterId}/reservations/{id}',
      tags,
      summary: "One of the caller's reservations on a peered cluster",
      security: secured,
      request: { params: RemoteReservationParams },
      responses: { 200: jsonResponse(ReservationSchema, 'The reservation'), ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { clusterId, id } = c.req.valid('param');
      return c.json(reservationJson(await remote.get(c.get('principal'), clusterId, id, { signal: c.req.raw.signal })), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/providers/compute/remote/{clusterId}/reservations/{id}',
      tags,
      summary: "Release one of the caller's reservations on a peered cluster; releasing twice is harmless",
      security: secured,
      request: { params: RemoteReservationParams },
      responses: { 204: { description: 'Released (or already released or expired)' }, ...errorResponses(400, 401, 403, 404, 503) },
    }),
    async (c) => {
      const { clusterId, id } = c.req.valid('param');
      await remote.release(c.get('principal'), clusterId, id, { signal: c.req.raw.signal });
      return c.body(null, 204);
    },
  );

  return router;
}
