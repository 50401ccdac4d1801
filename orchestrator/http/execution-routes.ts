import { createRoute, z } from '@hono/zod-openapi';
import { NotAllowedError } from '../../core/index.ts';
import { createRouter, errorResponses, jsonResponse } from '../../platform/http/index.ts';
import type { ExecutionFederation } from '../federation/execution-federation.ts';
import { requestSignal } from './run-caller.ts';

export interface ExecutionRoutesDeps {
  executions: Pick<ExecutionFederation, 'list'>;
}

const Timestamp = z.string().datetime();

const PeerExecutionSchema = z
  .object({
    engineName: z.string().openapi({ description: "The pod's run in this cluster's engine" }),
    originCluster: z.string().openapi({ description: 'The cluster whose run the pod is a step of' }),
    originRun: z.string(),
    user: z.string().openapi({ description: 'The user of the origin cluster it runs for, as the origin vouched' }),
    project: z.string(),
    reservationId: z.string().openapi({ description: 'The compute reservation of that user here it runs under' }),
    step: z.string().optional(),
    phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Error']),
    message: z.string().optional(),
    createdAt: Timestamp,
    startedAt: Timestamp.optional(),
    finishedAt: Timestamp.optional(),
  })
  .openapi('PeerExecution');

const ExecutionsQuery = z.object({
  cluster: z.string().min(1).max(128).optional().openapi({ description: 'Only those of this origin cluster' }),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

/** `GET /executions`: what this cluster runs for peered clusters' runs, for its administrators. */
export function createExecutionRoutes({ executions }: ExecutionRoutesDeps) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'get',
      path: '/executions',
      tags: ['runs'],
      summary: "The steps this cluster runs (or ran) for peered clusters' runs, newest first (administrators)",
      security: [{ bearer: [] }],
      request: { query: ExecutionsQuery },
      responses: { 200: jsonResponse(z.object({ items: z.array(PeerExecutionSchema) }), 'The executions'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      if (!c.get('principal').isAdmin) throw new NotAllowedError("only cluster administrators see the steps run for peers' runs");
      const { cluster, limit } = c.req.valid('query');
      const items = await executions.list({ limit: limit ?? 100, ...(cluster !== undefined ? { originCluster: cluster } : {}), ...requestSignal(c) });
      return c.json({ items: items.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })) }, 200);
    },
  );
  return router;
}
