import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { AppEnv } from '../../platform/http/index.ts';

/** Where `npm install` (prepare) and `npm run build` put the built portal. */
export const PORTAL_BUILD_DIR = fileURLToPath(new URL('../portal/dist', import.meta.url));

// Paths the node answers itself; everything else that is a GET is a page of the portal.
const NOT_PAGES = /^\/(?:api\/|healthz$|readyz$|metrics$)/;

// The portal loads only its own files and talks only to this node's API. React Flow positions its nodes
// with inline styles, hence 'unsafe-inline' for styles (never for scripts).
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Archipel</title></head><body>
<h1>The portal is not built</h1><p>Build it with <code>npm run build</code> (<code>npm install</code> does it too), then reload.
The API is at <a href="/api/v1/openapi.json">/api/v1</a>.</p></body></html>`;

/**
 * The web portal: its built files, and its index page for every other GET path (the portal routes in the
 * browser). Hashed assets are cached for good; the index page never, so a new build shows at once.
 */
export function createPortalRoutes(options: { root?: string } = {}): Hono<AppEnv> {
  const root = options.root ?? PORTAL_BUILD_DIR;
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    await next();
    if (NOT_PAGES.test(c.req.path)) return;
    c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });
  // Made only when the portal is built: serveStatic complains on the console about a missing root.
  const assets = existsSync(root)
    ? serveStatic<AppEnv>({ root, onFound: (_path, c) => c.header('Cache-Control', 'public, max-age=31536000, immutable') })
    : undefined;
  app.use('/assets/*', (c, next) => (assets ? assets(c, next) : next()));
  app.get('*', (c) => {
    if (NOT_PAGES.test(c.req.path) || c.req.path.startsWith('/assets/')) return c.notFound();
    const index = path.join(root, 'index.html');
    c.header('Cache-Control', 'no-cache');
    if (!existsSync(index)) return c.html(NOT_BUILT, 503);
    return c.html(readFileSync(index, 'utf8'));
  });
  return app;
}
