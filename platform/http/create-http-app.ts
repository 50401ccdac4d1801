import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { NotAuthenticatedError, PayloadTooLargeError, TooManyRequestsError, type Logger, type Principal } from '../../core/index.ts';
import type { AppEnv } from './app-env.ts';
import { createRouter } from './create-router.ts';
import { errorResponse } from './error-response.ts';
import { createHttpMetrics } from './http-metrics.ts';
import { refuseMalformed } from './refuse-malformed.ts';

export interface HttpAppOptions {
  logger: Logger;
  /** Resolves a bearer token to its principal; throws `NotAuthenticatedError` for a bad one. */
  authenticate(token: string): Promise<Principal>;
  /** Whether the node can serve (its database answers, ...). */
  ready(): Promise<boolean>;
  /** Routers mounted under `/api/v1`; their schemas make up the OpenAPI document. */
  routers: OpenAPIHono<AppEnv>[];
  /** `/api/v1` paths served without a token (besides the OpenAPI document). */
  publicPaths?: string[];
  maxBodyBytes: number;
  /** Paths (prefixes, under `/api/v1`) whose routes take streamed bodies and enforce their own limit. */
  streamedBodyPaths?: string[];
  version: string;
  defaultMetrics?: boolean;
  /** Served for the paths outside `/api/v1` that the node does not answer itself (the web portal). */
  pages?: Hono<AppEnv>;
}

export const API_PREFIX = '/api/v1';
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The node's HTTP app: health, metrics, the OpenAPI document and every component's API. */
export function createHttpApp(options: HttpAppOptions): OpenAPIHono<AppEnv> {
  const app = createRouter();
  const metrics = createHttpMetrics({ defaultMetrics: options.defaultMetrics });
  const publicPaths = new Set([`${API_PREFIX}/openapi.json`, ...(options.publicPaths ?? [])]);

  app.use('*', requestId({ headerName: 'X-Request-Id' }));
  app.use('*', async (c, next) => {
    c.set('logger', options.logger.child({ requestId: c.get('requestId') }));
    await next();
  });
  app.use('*', metrics.middleware);
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: () => {
      throw new PayloadTooLargeError(`request body exceeds the limit of ${options.maxBodyBytes} bytes`, {
        details: { limitBytes: options.maxBodyBytes },
      });
    },
  });
  const streamed = (options.streamedBodyPaths ?? []).map((p) => `${API_PREFIX}${p}`);
  const isStreamed = (path: string) => streamed.some((p) => path === p || path.startsWith(`${p}/`));
  app.use('*', (c, next) => (isStreamed(c.req.path) ? next() : limit(c, next)));
  app.use(`${API_PREFIX}/*`, async (c, next) => {
    if (publicPaths.has(c.req.path)) return next();
    const header = c.req.header('Authorization');
    const match = header ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      throw new NotAuthenticatedError('missing or malformed Authorization header: expected "Bearer <token>"');
    }
    c.set('principal', await options.authenticate(match[1]));
    await next();
  });
  app.use(`${API_PREFIX}/*`, refuseMalformed({ skipBody: isStreamed }));

  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    const log = c.get('logger') ?? options.logger;
    if (status >= 500) log.error('request failed', { err: error, method: c.req.method, path: c.req.path });
    else log.debug('request rejected', { status, code: body.error.code, path: c.req.path });
    if (error instanceof TooManyRequestsError && error.retryAfterSeconds !== undefined) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
    }
    return c.json(body, status);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not-found', message: `no route for ${c.req.method} ${c.req.path}`, details: {} } }, 404),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = await options.ready().catch(() => false);
    return c.json({ status: ready ? 'ready' : 'not-ready' }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  for (const router of options.routers) app.route(API_PREFIX, router);
  app.doc31(`${API_PREFIX}/openapi.json`, {
    openapi: '3.1.0',
    info: { title: 'Archipel API', version: options.version },
    security: [{ bearer: [] }],
  });
  if (options.pages) app.route('/', options.pages);
  return app;
}
