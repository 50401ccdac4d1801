import { describe, expect, it } from 'vitest';
import { createRoute, z } from '@hono/zod-openapi';
import { ConflictError, NotAuthenticatedError, silentLogger, type Principal } from '../../core/index.ts';
import { request as httpRequest } from 'node:http';
import { createHttpApp } from './create-http-app.ts';
import { serveHttp } from './serve-http.ts';
import { createRouter } from './create-router.ts';
import { jsonBody, jsonResponse } from './openapi-helpers.ts';
import { json } from '../../tests/support/json.ts';

const principal: Principal = { userId: 'u1', userName: 'ada', isAdmin: false, tokenId: 't1' };

function testApp(options: { ready?: boolean } = {}) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: 'post',
      path: '/echo',
      request: { body: jsonBody(z.strictObject({ n: z.number() })) },
      responses: { 200: jsonResponse(z.object({ n: z.number(), user: z.string() }), 'echo') },
    }),
    (c) => c.json({ n: c.req.valid('json').n, user: c.get('principal').userName }, 200),
  );
  router.get('/conflict', () => {
    throw new ConflictError('already there', { details: { name: 'x' } });
  });
  router.get('/stored', () => {
    throw new ConflictError('duplicate key value violates unique constraint "api_tokens_name_key"', {
      details: { sqlState: '23505', constraint: 'api_tokens_name_key', table: 'api_tokens' },
    });
  });
  router.openapi(
    createRoute({
      method: 'post',
      path: '/names',
      request: { body: jsonBody(z.object({ name: z.string(), tags: z.array(z.object({ label: z.string() })).optional() }).passthrough()) },
      responses: { 201: jsonResponse(z.object({ name: z.string() }), 'stored') },
    }),
    (c) => c.json({ name: c.req.valid('json').name }, 201),
  );
  router.get('/users/:id/projects', (c) => c.json({ user: c.req.param('id') }));
  router.get('/projects', (c) => c.json({ listed: 'projects' }));
  router.get('/crash', () => {
    throw new Error('secret internal detail');
  });
  return createHttpApp({
    logger: silentLogger,
    authenticate: async (token) => {
      if (token !== 'good') throw new NotAuthenticatedError('invalid or expired token');
      return principal;
    },
    ready: async () => options.ready ?? true,
    routers: [router],
    maxBodyBytes: 1024,
    version: '1.2.3',
  });
}
const auth = { Authorization: 'Bearer good' };

describe('the node HTTP app', () => {
  it('answers health without a token and readiness from the ready check', async () => {
    expect(await json(testApp().request('/healthz'))).toEqual({ status: 'ok' });
    expect((await testApp().request('/readyz')).status).toBe(200);
    const notReady = await testApp({ ready: false }).request('/readyz');
    expect(notReady.status).toBe(503);
    expect(await json(notReady)).toEqual({ status: 'not-ready' });
  });

  it('passes the principal to routes and validates bodies', async () => {
    const app = testApp();
    const ok = await app.request('/api/v1/echo', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"n":7}' });
    expect(await json(ok)).toEqual({ n: 7, user: 'ada' });
    const bad = await app.request('/api/v1/echo', { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{"n":"7"}' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details.issues[0]).toMatchObject({ path: 'json:n' });
  });

  it('maps taxonomy errors to their status and hides internal error messages', async () => {
    const app = testApp();
    const conflict = await app.request('/api/v1/conflict', { headers: auth });
    expect(conflict.status).toBe(409);
    expect(await json(conflict)).toEqual({ error: { code: 'conflict', message: 'already there', details: { name: 'x' } } });
    const crash = await app.request('/api/v1/crash', { headers: auth });
    expect(crash.status).toBe(500);
    const text = await crash.text();
    expect(text).not.toContain('secret internal detail');
    expect(JSON.parse(text).error.code).toBe('internal');
  });

  it('never shows the database internals of an error no service translated', async () => {
    const stored = await testApp().request('/api/v1/stored', { headers: auth });
    expect(stored.status).toBe(409);
    const text = await stored.text();
    expect(text).not.toMatch(/23505|api_tokens|constraint|duplicate key/);
    expect(JSON.parse(text).error).toMatchObject({ code: 'conflict', details: {} });
  });

  it('refuses dot segments and NUL characters in URLs, invalid UTF-8 and NUL characters in JSON bodies', async () => {
    const server = await serveHttp(testApp().fetch, { host: '127.0.0.1', port: 0 });
    try {
      const send = (method: string, path: string, body?: Buffer) =>
        new Promise<{ status: number; body: { error?: { code: string; message: string; details: { issues?: Array<{ path: string }> } }; [key: string]: unknown } }>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method, headers: { ...auth, ...(body ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          });
          req.on('error', reject);
          req.end(body);
        });
      // Sent as written (a `path` option, not a URL, which node:http would resolve): the server must not resolve them either.
      for (const path of ['/api/v1/users/%2e%2e/projects', '/api/v1/users/%2E./projects', '/api/v1/users/../projects', '/api/v1/users/./x/projects']) {
        const answer = await send('GET', path);
        expect(answer.status, path).toBe(400);
        expect(answer.body.error?.message, path).toMatch(/dot segment/);
      }
      expect((await send('GET', '/api/v1/users/%2e%2ex/projects')).body).toEqual({ user: '..x' });
      expect((await send('GET', '/api/v1/projects?filter=a%00b')).body.error?.details.issues?.[0]?.path).toBe('query');
      expect((await send('GET', '/api/v1/users/a%00b/projects')).status).toBe(400);
      const badEncoding = await send('GET', '/api/v1/users/%ff%fe/projects');
      expect(badEncoding.status).toBe(400);
      expect(badEncoding.body.error?.message).toMatch(/not valid percent-encoded UTF-8/);

      const invalidUtf8 = Buffer.concat([Buffer.from('{"name":"tok-'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const refused = await send('POST', '/api/v1/names', invalidUtf8);
      expect(refused.status).toBe(400);
      expect(refused.body.error?.message).toMatch(/not valid UTF-8/);
      const nul = await send('POST', '/api/v1/names', Buffer.from(JSON.stringify({ name: 'a\u0000b', tags: [{ label: 'ok' }, { label: 'x\u0000' }] })));
      expect(nul.status).toBe(400);
      expect(nul.body.error?.details.issues?.map((i) => i.path)).toEqual(['json:name', 'json:tags.1.label']);
      const nulKey = await send('POST', '/api/v1/names', Buffer.from(JSON.stringify({ name: 'n', ['k\u0000']: 1 })));
      expect(nulKey.body.error?.details.issues?.map((i) => i.path)).toEqual(['json']);
      // What is well-formed goes through, multi-byte characters included.
      expect(await send('POST', '/api/v1/names', Buffer.from(JSON.stringify({ name: 'tök-✓' })))).toEqual({ status: 201, body: { name: 'tök-✓' } });
    } finally {
      await server.close();
    }
  });

  it('gives every response a request id, echoing one the caller sent', async () => {
    const app = testApp();
    expect((await app.request('/healthz')).headers.get('X-Request-Id')).toMatch(/\S{8,}/);
    expect((await app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123' } })).headers.get('X-Request-Id')).toBe('abc-123');
  });

  it('rejects bodies over the limit with 413, before the route runs', async () => {
    const response = await testApp().request('/api/v1/echo', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ n: 1, pad: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    expect((await json(response)).error).toMatchObject({ code: 'payload-too-large', details: { limitBytes: 1024 } });
  });

  it('counts requests by route pattern in Prometheus metrics', async () => {
    const app = testApp();
    await app.request('/healthz');
    await app.request('/api/v1/conflict', { headers: auth });
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/archipel_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(metrics).toMatch(/archipel_http_requests_total\{method="GET",route="\/api\/v1\/conflict",status="409"\} 1/);
    expect(metrics).toContain('archipel_http_request_duration_seconds_bucket');
  });

  it('serves the OpenAPI document without a token', async () => {
    const doc = await json(testApp().request('/api/v1/openapi.json'));
    expect(doc.info.version).toBe('1.2.3');
    expect(doc.paths['/api/v1/echo'].post).toBeDefined();
  });
});
