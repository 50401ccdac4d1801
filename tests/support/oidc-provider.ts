import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestOidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Account id (the subject) → the claims the provider gives it; read at each sign-in, so tests may change it. */
  accounts: Map<string, Record<string, unknown>>;
}

export interface TestOidcProvider {
  issuer: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (oidc-provider) on 127.0.0.1, port 0, with one confidential client and
 * its development login and consent pages. Scopes: openid, profile (name, preferred_username), email, and
 * `projects` (the `projects` claim).
 */
export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], projects: ['projects'] },
    scopes: ['openid', 'profile', 'email', 'projects'],
    cookies: { keys: ['archipel-test-cookie-key'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    findAccount: (_ctx, id) => {
      const claims = options.accounts.get(id);
      return claims ? { accountId: id, claims: () => ({ ...claims, sub: id }) } : undefined;
    },
  });
  // Its default error pages go to the console; the tests read the answers instead.
  provider.on('server_error', () => {});
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A cookie jar that honours cookie paths, enough for the provider's interaction cookies. */
function cookieJar() {
  const cookies = new Map<string, { value: string; path: string }>();
  return {
    store(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
        const index = pair.indexOf('=');
        const name = pair.slice(0, index);
        const value = pair.slice(index + 1);
        const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
        const expired = attributes.some((a) => /^expires=/i.test(a) && new Date(a.slice(8)).getTime() < Date.now());
        const key = `${name};${path}`;
        if (expired || value === '') cookies.delete(key);
        else cookies.set(key, { value, path });
      }
    },
    header(url: URL): string {
      return [...cookies.entries()]
        .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
        .map(([key, c]) => `${key.slice(0, key.indexOf(';'))}=${c.value}`)
        .join('; ');
    },
  };
}

/**
 * Plays the browser at the provider: follows its redirects from `authorizationUrl`, signs in as `account`
 * on its login page (or presses "abort" with `abort`), grants consent, and returns the URL the provider
 * finally sends the browser to (the redirect URI with `code` and `state`, or `error`).
 */
export async function authorizeAtProvider(
  authorizationUrl: string,
  options: { account: string; redirectUri: string; abort?: boolean },
): Promise<URL> {
  const jar = cookieJar();
  let url = new URL(authorizationUrl);
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body: body.toString() } : {}),
    });
    jar.store(response);
    body = undefined;
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.href.startsWith(options.redirectUri)) return next;
      url = next;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`the provider answered ${response.status}: ${html.slice(0, 500)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!prompt || !action) throw new Error(`unexpected page at ${url.href}: ${html.slice(0, 500)}`);
    if (options.abort) {
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
      if (!abort) throw new Error('no abort link on the provider page');
      url = new URL(abort, url);
      continue;
    }
    body = new URLSearchParams(prompt === 'login' ? { prompt, login: options.account, password: 'any password' } : { prompt });
    url = new URL(action, url);
  }
  throw new Error('the provider never sent the browser back');
}
