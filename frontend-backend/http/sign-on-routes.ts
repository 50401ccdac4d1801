import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ArchipelError, NotAuthenticatedError, NotFoundError, describeError } from '../../core/index.ts';
import { API_PREFIX, createRouter, errorResponses, jsonResponse, type AppEnv } from '../../platform/http/index.ts';
import type { ExternalLogin } from '../identity/external-login.ts';
import { ReturnPathSchema, SignOnProvidersSchema } from './identity-schemas.ts';

const PROVIDERS_PATH = '/auth/providers';
const START_PATH = '/auth/oidc/start';
const CALLBACK_PATH = '/auth/oidc/callback';

/** The sign-on paths, all public: the app must list them (under `/api/v1`) among its public paths. */
export const SIGN_ON_PATHS = [PROVIDERS_PATH, START_PATH, CALLBACK_PATH] as const;

/** The callback's path under `/api/v1`: the redirect URI to register with the provider ends with it. */
export const OIDC_CALLBACK_PATH = CALLBACK_PATH;

/** The web portal's page that reads `#token=...&return=...` or `#error=...` from its fragment. */
const LOGIN_PAGE = '/login';

export interface SignOnRoutesOptions {
  /** Single sign-on through an external OpenID Connect provider; absent when none is configured. */
  oidc?: { displayName: string; login: ExternalLogin };
}

const redirect = {
  description: 'Redirect',
  headers: { Location: { description: 'Where the browser goes next', schema: { type: 'string' as const } } },
};

/** Words for the portal to show, from a failed sign-in; the details are in the node's log. */
function failureWords(error: unknown): string {
  if (error instanceof ArchipelError) {
    switch (error.kind) {
      case 'not-authenticated':
      case 'not-found':
        return error.message;
      case 'unavailable':
        return 'the sign-on provider cannot be reached at the moment: please try again later';
    }
  }
  return 'signing in failed on this node: please try again later';
}

/** Redirects to the portal's login page with the failure in the fragment, logging it once, here. */
function failed(c: Context<AppEnv>, error: unknown) {
  const log = c.get('logger');
  if (error instanceof ArchipelError && ['not-authenticated', 'not-found'].includes(error.kind)) {
    log.info('sign-in refused', { reason: error.message, ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }) });
  } else if (error instanceof ArchipelError && error.kind === 'unavailable') {
    log.warn('sign-in failed', { reason: describeError(error) });
  } else {
    log.error('sign-in failed', { err: error });
  }
  return c.redirect(`${LOGIN_PAGE}#error=${encodeURIComponent(failureWords(error))}`, 302);
}

/**
 * Which logins the node offers, and single sign-on through an external OpenID Connect provider
 * (authorization code with PKCE), mounted under `/api/v1`. Browsers follow these routes: the callback
 * always answers with a redirect to the portal's login page, carrying the token or the failure in the
 * URL fragment (which never reaches a server).
 */
export function createSignOnRoutes(options: SignOnRoutesOptions = {}) {
  const router = createRouter();
  const oidc = options.oidc;

  router.openapi(
    createRoute({
      method: 'get',
      path: PROVIDERS_PATH,
      tags: ['auth'],
      summary: 'The ways to log in that this node offers',
      security: [],
      responses: { 200: jsonResponse(SignOnProvidersSchema, 'The login methods') },
    }),
    (c) => c.json({ password: true as const, oidc: oidc ? { name: oidc.displayName, start: `${API_PREFIX}${START_PATH}` } : null }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: START_PATH,
      tags: ['auth'],
      summary: 'Start single sign-on: redirects the browser to the OpenID Connect provider',
      description:
        'Redirects (302) to the provider\'s authorization endpoint with an authorization-code request (PKCE S256, `state`, `nonce`). ' +
        'The sign-in must come back within 10 minutes. When the provider cannot be reached, redirects to `/login#error=...`.',
      security: [],
      request: { query: z.object({ return: ReturnPathSchema.optional().openapi({ description: 'The portal path to go back to (default `/`)' }) }) },
      responses: { 302: redirect, ...errorResponses(400, 404) },
    }),
    async (c) => {
      if (!oidc) throw new NotFoundError('single sign-on is not configured on this node');
      const returnPath = c.req.valid('query').return ?? '/';
      try {
        return c.redirect((await oidc.login.start(returnPath, { signal: c.req.raw.signal })).href, 302);
      } catch (error) {
        return failed(c, error);
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: CALLBACK_PATH,
      tags: ['auth'],
      summary: 'Where the OpenID Connect provider sends the browser back',
      description:
        'Exchanges the code, signs the user in and redirects (302) to `/login#token=<token>&return=<path>`, with a session token ' +
        'like `POST /auth/login`\'s (12 hours). Any failure redirects to `/login#error=<words>`.',
      security: [],
      request: {
        query: z.object({
          code: z.string().optional(),
          state: z.string().optional(),
          error: z.string().optional(),
          error_description: z.string().optional(),
        }),
      },
      responses: { 302: redirect },
    }),
    async (c) => {
      try {
        if (!oidc) throw new NotFoundError('single sign-on is not configured on this node');
        // Every parameter the provider sent (`iss` too), not only those documented above.
        const { token, returnPath } = await oidc.login.finish(new URL(c.req.url).searchParams, { signal: c.req.raw.signal });
        return c.redirect(`${LOGIN_PAGE}#token=${encodeURIComponent(token.token)}&return=${encodeURIComponent(returnPath)}`, 302);
      } catch (error) {
        return failed(c, error);
      }
    },
    // Even a malformed callback goes back to the login page, not to an error document.
    (result, c) => (result.success ? undefined : failed(c, new NotAuthenticatedError('the sign-on answer was malformed: please sign in again'))),
  );

  return router;
}
