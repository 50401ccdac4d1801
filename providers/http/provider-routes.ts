import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createRouter, errorResponses, jsonBody, jsonResponse, type AppEnv } from '../../platform/http/index.ts';
import type { ComputeActor, ComputeLedger, ComputeReservation, ComputeStatus } from '../compute/compute-ledger.ts';
import {
  ComputeStatusSchema,
  ListReservationsQuery,
  NewReservationSchema,
  ReservationIdParam,
  ReservationSchema,
} from './provider-schemas.ts';

export interface ProviderRoutesDeps {
  compute: ComputeLedger;
}

const secured = [{ bearer: [] }];
const tags = ['providers'];

const actorOf = (c: Context<AppEnv>): ComputeActor => ({ kind: 'user', principal: c.get('principal') });
/** The HTTP shapes of a status and a reservation (shared with the remote compute routes). */
export const statusJson = (s: ComputeStatus) => ({ ...s, at: s.at.toISOString() });
export const reservationJson = (r: ComputeReservation) => ({
  id: r.id,
  providerId: r.providerId,
  requester: r.requester,
  user: r.userName,
  cores: r.cores,
  memoryMiB: r.memoryMiB,
  gpus: r.gpus,
  start: r.start.toISOString(),
  end: r.end.toISOString(),
  createdAt: r.createdAt.toISOString(),
  releasedAt: r.releasedAt ? r.releasedAt.toISOString() : null,
  state: r.state,
});

/** The providers API under `/api/v1/providers`: this cluster's compute capacity and its reservations. */
export function createProviderRoutes({ compute }: ProviderRoutesDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/compute',
      tags,
      summary: "This cluster's compute capacity, what is in use and what is free now",
      security: secured,
      responses: { 200: jsonResponse(ComputeStatusSchema, 'The capacity'), ...errorResponses(401, 503) },
    }),
    async (c) => c.json(statusJson(await compute.status({ signal: c.req.raw.signal })), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/providers/compute/reservations',
      tags,
      summary: 'Reserve cores, memory and GPUs for a time window; 409 names each resource that is not free',
      security: secured,
      request: { body: jsonBody(NewReservationSchema) },
      responses: {
        201: jsonResponse(ReservationSchema, 'The reservation'),
        ...errorResponses(400, 401, 403, 409, 413, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const reservation = await compute.reserve(
        actorOf(c),
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
      path: '/providers/compute/reservations',
      tags,
      summary: "The caller's reservations (all of them for cluster admins), earliest start first",
      security: secured,
      request: { query: ListReservationsQuery },
      responses: {
        200: jsonResponse(z.object({ items: z.array(ReservationSchema) }), 'Reservations'),
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const items = await compute.list(actorOf(c), { ...c.req.valid('query'), signal: c.req.raw.signal });
      return c.json({ items: items.map(reservationJson) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/providers/compute/reservations/{id}',
      tags,
      summary: 'One reservation (its holder, or cluster admins)',
      security: secured,
      request: { params: ReservationIdParam },
      responses: { 200: jsonResponse(ReservationSchema, 'The reservation'), ...errorResponses(400, 401, 404) },
    }),
    async (c) =>
      c.json(reservationJson(await compute.get(actorOf(c), c.req.valid('param').id, { signal: c.req.raw.signal })), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/providers/compute/reservations/{id}',
      tags,
      summary: 'Release a reservation before its end (its holder, or cluster admins); releasing twice is harmless',
      security: secured,
      request: { params: ReservationIdParam },
      responses: { 204: { description: 'Released (or already released or expired)' }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      await compute.release(actorOf(c), c.req.valid('param').id, { signal: c.req.raw.signal });
      return c.body(null, 204);
    },
  );

  return router;
}
