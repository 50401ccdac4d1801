import { createRoute, z } from '@hono/zod-openapi';
import { stream, streamSSE } from 'hono/streaming';
import { InvalidInputError } from '../../core/index.ts';
import { API_PREFIX, createRouter, errorResponses, jsonBody, jsonResponse } from '../../platform/http/index.ts';
import { requestSignal, runCallerOf } from './run-caller.ts';
import { FILE_LINK, type Run, type RunEvent, type RunService } from '../runs/run-service.ts';
import { EventsQuery, LogsQuery, NewRunSchema, PlanSchema, RunIdParam, RunListQuery, RunPageSchema, RunSchema, RunStepParam, SubmitQuery } from './run-schemas.ts';

export interface RunRoutesDeps {
  runs: RunService;
  /** Names of the projects the user is a member of (the identity service's `memberProjectNames`). */
  memberProjectNames(userId: string): Promise<string[]>;
  /** How often an open event stream or followed log sends something to keep the connection (default 15 s). */
  keepAliveMs?: number;
}

const secured = [{ bearer: [] }];
const tags = ['runs'];
const LOG_POLL_MS = 500;

export const runJson = (r: Run) => ({
  ...r,
  createdAt: r.createdAt.toISOString(),
  ...(r.startedAt ? { startedAt: r.startedAt.toISOString() } : {}),
  ...(r.finishedAt ? { finishedAt: r.finishedAt.toISOString() } : {}),
  steps: r.steps.map(({ pods: _pods, ...s }) => s),
});

/** What a client sees of an event: a log event without the engine's pod id and its offset in the pod's log. */
function eventData(event: RunEvent): Record<string, unknown> {
  const at = event.at.toISOString();
  if (event.type !== 'log') return { ...event.data, at };
  const { pod: _pod, end: _end, ...data } = event.data;
  return { ...data, at };
}

/** `key=value` filters; a malformed one is a 400 naming it. */
function parseLabels(label: string | string[] | undefined): Record<string, string> | undefined {
  if (label === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of Array.isArray(label) ? label : [label]) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`label filter "${item}": expected key=value`, [{ path: 'query:label', message: 'expected key=value' }]);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Encodes each segment of an object path for a URL. */
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** Where a run's output object is downloaded from, as the run service's `link` wants it. */
const downloadLink = (requestUrl: string, id: string) => {
  const origin = new URL(requestUrl).origin;
  return (p: string) => (p.startsWith(FILE_LINK) ? `${origin}${API_PREFIX}/files/${p.slice(FILE_LINK.length)}` : `${origin}${API_PREFIX}/runs/${id}/files/${encodePath(p)}`);
};

/**
 * The runs API under `/api/v1/runs`: submit a CWL workflow or tool with its job, follow it (steps, events as
 * Server-Sent Events, logs), stop it, read its outputs and download its files. Only members of a run's
 * project (and administrators) see a run; for anyone else it does not exist.
 */
export function createRunRoutes({ runs, memberProjectNames, keepAliveMs = 15_000 }: RunRoutesDeps) {
  const router = createRouter();
  const callerOf = runCallerOf(memberProjectNames);
  const signal = requestSignal;

  router.openapi(
    createRoute({
      method: 'post',
      path: '/runs',
      tags,
      summary:
        'Run a CWL workflow or tool in one of your projects; the job is checked whole first, and nothing is kept when it is refused. With `dryRun=true`: where each step would run and why, and nothing runs',
      security: secured,
      request: { body: jsonBody(NewRunSchema), query: SubmitQuery },
      responses: { 201: jsonResponse(RunSchema, 'The run, as submitted'), 200: jsonResponse(PlanSchema, 'The plan (dryRun=true)'), ...errorResponses(400, 401, 404, 413, 501) },
    }),
    async (c) => {
      if (c.req.valid('query').dryRun === 'true') {
        const plan = await runs.plan(await callerOf(c), c.req.valid('json'), signal(c));
        return c.json({ dryRun: true as const, steps: plan.steps, clusters: plan.clusters.map(({ peered: _peered, price: _price, ...cluster }) => cluster) }, 200);
      }
      return c.json(runJson(await runs.submit(await callerOf(c), c.req.valid('json'), signal(c))), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs',
      tags,
      summary: 'The runs of your projects, newest first, a page at a time',
      security: secured,
      request: { query: RunListQuery },
      responses: { 200: jsonResponse(RunPageSchema, 'A page of runs'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const { label, ...query } = c.req.valid('query');
      const labels = parseLabels(label);
      const page = await runs.list(await callerOf(c), { ...query, ...(labels ? { labels } : {}), ...signal(c) });
      return c.json({ items: page.items.map(runJson), nextCursor: page.nextCursor }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}',
      tags,
      summary: 'One run with its steps (404 when it does not exist or is not in one of your projects)',
      security: secured,
      request: { params: RunIdParam },
      responses: { 200: jsonResponse(RunSchema, 'The run'), ...errorResponses(401, 404) },
    }),
    async (c) => c.json(runJson(await runs.get(await callerOf(c), c.req.valid('param').id, signal(c))), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}/events',
      tags,
      summary:
        "The run's events as Server-Sent Events (`run`: phase changes; `step`: step transitions; `log`: new lines of a step's log, with `step`, `attempt`, `item` for one of several pods, `text`, and `truncated` past 256 KiB per pod), from the first or after `Last-Event-ID`; the stream ends when the run has ended",
      security: secured,
      request: { params: RunIdParam, query: EventsQuery },
      responses: { 200: { description: 'text/event-stream: `id`, `event` and JSON `data` per event', content: { 'text/event-stream': { schema: z.string() } } }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const caller = await callerOf(c);
      const { id } = c.req.valid('param');
      const header = c.req.header('Last-Event-ID');
      const after = header !== undefined && /^\d+$/.test(header) ? Number(header) : (c.req.valid('query').after ?? 0);
      const controller = new AbortController();
      c.req.raw.signal.addEventListener('abort', () => controller.abort(), { once: true });
      const events = runs.events(caller, id, after, controller.signal)[Symbol.asyncIterator]();
      // The first read checks that the caller may see the run: a hidden one answers 404, not an empty stream.
      const first = await events.next();
      return streamSSE(c, async (sse) => {
        sse.onAbort(() => controller.abort());
        const keepAlive = setInterval(() => void sse.write(': keep-alive\n\n').catch(() => controller.abort()), keepAliveMs);
        try {
          for (let item = first; !item.done; item = await events.next()) {
            const e = item.value;
            await sse.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(eventData(e)) });
          }
        } finally {
          clearInterval(keepAlive);
          controller.abort();
        }
      });
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}/steps/{step}/logs',
      tags,
      summary: "A step's log (its tool's standard output and error; each item's for a scattered step); `follow=true` sends it as it grows until the step ends",
      security: secured,
      request: { params: RunStepParam, query: LogsQuery },
      responses: { 200: { description: 'The log as text', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses(401, 404) },
    }),
    async (c) => {
      const caller = await callerOf(c);
      const { id, step } = c.req.valid('param');
      const first = await runs.stepLogs(caller, id, step, signal(c));
      if (c.req.valid('query').follow !== 'true') return c.text(first.text, 200);
      c.header('Content-Type', 'text/plain; charset=utf-8');
      const followed = stream(c, async (out) => {
        let sent = first.text.length;
        let ended = first.ended;
        await out.write(first.text);
        let idle = 0;
        while (!ended && !out.aborted) {
          await out.sleep(LOG_POLL_MS);
          const now = await runs.stepLogs(caller, id, step).catch(() => ({ text: '', ended: true }));
          ended = now.ended;
          if (now.text.length > sent) {
            await out.write(now.text.slice(sent));
            sent = now.text.length;
            idle = 0;
          } else if ((idle += LOG_POLL_MS) >= keepAliveMs) {
            idle = 0;
            await out.write('');
          }
        }
      });
      // A streamed body has no typed response in the OpenAPI router's types.
      return followed as never;
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/stop',
      tags,
      summary: 'Stop a run: its running steps are killed and it fails; a finished run is left as it is',
      security: secured,
      request: { params: RunIdParam },
      responses: { 200: jsonResponse(RunSchema, 'The run after stopping'), ...errorResponses(401, 404) },
    }),
    async (c) => c.json(runJson(await runs.stopRun(await callerOf(c), c.req.valid('param').id, signal(c))), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/runs/{id}/retry',
      tags,
      summary: 'Run a failed or stopped run again: steps that succeeded keep their outputs, the others run again',
      security: secured,
      request: { params: RunIdParam },
      responses: { 200: jsonResponse(RunSchema, 'The run, running again'), ...errorResponses(401, 404, 409) },
    }),
    async (c) => c.json(runJson(await runs.retryRun(await callerOf(c), c.req.valid('param').id, signal(c))), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/runs/{id}',
      tags,
      summary: 'Delete a finished run with its files and logs',
      security: secured,
      request: { params: RunIdParam },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404, 409) },
    }),
    async (c) => {
      await runs.delete(await callerOf(c), c.req.valid('param').id, signal(c));
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}/outputs',
      tags,
      summary: "A succeeded run's CWL output object; each File's location is its download URL (a Directory lists its files)",
      security: secured,
      request: { params: RunIdParam },
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), 'The output object'), ...errorResponses(401, 404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await runs.outputs(await callerOf(c), id, downloadLink(c.req.url, id), signal(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/runs/{id}/steps/{step}/outputs',
      tags,
      summary: "A succeeded step's CWL outputs, each File's location its download URL (409 while the step has none, or for a step inside a scattered subworkflow step)",
      security: secured,
      request: { params: RunStepParam },
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "The step's output object"), ...errorResponses(401, 404, 409) },
    }),
    async (c) => {
      const { id, step } = c.req.valid('param');
      return c.json(await runs.stepOutputs(await callerOf(c), id, step, downloadLink(c.req.url, id), signal(c)), 200);
    },
  );

  // Not in the OpenAPI routes' path syntax (the object path has slashes): served below, documented here.
  router.openAPIRegistry.registerPath({
    method: 'get',
    path: '/runs/{id}/files/{path}',
    tags,
    summary: "A file of the run, as the run's and its steps' outputs link to it; `path` may hold slashes",
    security: secured,
    request: { params: RunIdParam.extend({ path: z.string().min(1).openapi({ param: { name: 'path', in: 'path' }, description: 'The object path under the run, slashes included' }) }) },
    responses: { 200: { description: 'The file', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } }, ...errorResponses(401, 404) },
  });
  router.get('/runs/:id/files/*', async (c) => {
    const id = c.req.param('id');
    const prefix = `${API_PREFIX}/runs/${id}/files/`;
    const rest = c.req.path.slice(c.req.path.indexOf(prefix) + prefix.length);
    const objectPath = rest.split('/').map(decodeURIComponent).join('/');
    const { info, body } = await runs.openObject(await callerOf(c), id, objectPath, signal(c));
    c.header('Content-Type', info.contentType ?? 'application/octet-stream');
    c.header('Content-Length', String(info.size));
    c.header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(objectPath.split('/').at(-1)!)}`);
    return c.body(ReadableStream.from(body) as ReadableStream<Uint8Array>, 200);
  });

  return router;
}
