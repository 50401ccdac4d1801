import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type SqlDatabase } from '../../core/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createExternalLogin } from '../identity/external-login.ts';
import { createIdentityService, type IdentityService } from '../identity/identity-service.ts';
import { createOidcClient } from '../identity/oidc-client.ts';
import { createIdentityRoutes, LOGIN_PATH } from './identity-routes.ts';
import { createSignOnRoutes, SIGN_ON_PATHS, type SignOnRoutesOptions } from './sign-on-routes.ts';
import { json } from '../../tests/support/json.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';
import { authorizeAtProvider, startTestOidcProvider, type TestOidcProvider } from '../../tests/support/oidc-provider.ts';

const REDIRECT_URI = 'http://archipel.test/api/v1/auth/oidc/callback';
const CLIENT = { clientId: 'archipel', clientSecret: 'archipel client secret' };

describe('single sign-on through an OpenID Connect provider', () => {
  const accounts = new Map<string, Record<string, unknown>>();
  let provider: TestOidcProvider;
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let identity: IdentityService;
  let app: ReturnType<typeof createHttpApp>;
  let adminToken: string;

  const appWith = (oidc: SignOnRoutesOptions['oidc']) =>
    createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createIdentityRoutes(identity), createSignOnRoutes({ oidc })],
      publicPaths: [LOGIN_PATH, ...SIGN_ON_PATHS].map((p) => `${API_PREFIX}${p}`),
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });

  const call = (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
    app.request(`${API_PREFIX}${path}`, {
      method,
      headers: {
        ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        ...(options.body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    });
  const asAdmin = (method: string, path: string, body?: unknown) => call(method, path, { token: adminToken, body });

  /** `GET /auth/oidc/start`: the provider URL the node redirects to. */
  const start = async (returnPath?: string): Promise<URL> => {
    const response = await call('GET', `/auth/oidc/start${returnPath === undefined ? '' : `?return=${encodeURIComponent(returnPath)}`}`);
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location')!);
  };
  /** Hands the provider's answer to the node's callback, as the browser would: the login page URL it answers with. */
  const callback = async (providerAnswer: URL): Promise<{ page: string; fragment: URLSearchParams }> => {
    expect(providerAnswer.href.startsWith(REDIRECT_URI)).toBe(true);
    const response = await app.request(`${providerAnswer.pathname}${providerAnswer.search}`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!, 'http://archipel.test');
    return { page: location.pathname, fragment: new URLSearchParams(location.hash.slice(1)) };
  };
  /** The whole sign-in of `account`: the session token and where the portal goes back to. */
  const signIn = async (account: string, returnPath?: string) => {
    const { page, fragment } = await callback(await authorizeAtProvider((await start(returnPath)).href, { account, redirectUri: REDIRECT_URI }));
    expect(page).toBe('/login');
    expect(fragment.get('error')).toBeNull();
    return { token: fragment.get('token')!, returnPath: fragment.get('return') };
  };
  const projectsOf = async (token: string) => {
    const response = await call('GET', '/projects', { token });
    expect(response.status).toBe(200);
    return ((await json(response)).items as { name: string }[]).map((p) => p.name);
  };
  const externalIdentities = async () =>
    (
      await db.query<{ issuer: string; subject: string; name: string }>(
        `SELECT e.issuer, e.subject, u.name FROM external_identities e JOIN users u ON u.id = e.user_id ORDER BY e.subject`,
      )
    ).rows;

  beforeAll(async () => {
    provider = await startTestOidcProvider({ ...CLIENT, redirectUri: REDIRECT_URI, accounts });
  });
  afterAll(() => provider?.close());

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    clock = new ManualClock();
    identity = createIdentityService({ db, clock });
    adminToken = (await identity.bootstrapAdmin())!.token;
    const login = createExternalLogin({
      provider: createOidcClient({
        ...CLIENT,
        issuer: provider.issuer,
        redirectUri: () => REDIRECT_URI,
        scopes: ['openid', 'profile', 'projects'],
        allowInsecureRequests: true,
      }),
      identity,
      projectsClaim: 'projects',
      clock,
    });
    app = appWith({ displayName: 'Example SSO', login });
    accounts.clear();
    accounts.set('alice-sub', { preferred_username: 'Alice', name: 'Alice Liddell', projects: ['genomics'] });
    accounts.set('bob-sub', { preferred_username: 'bob', name: 'Bob' });
    for (const name of ['genomics', 'imaging']) expect((await asAdmin('POST', '/projects', { name })).status).toBe(201);
  });
  afterEach(() => cleanup());

  it('tells the portal which logins it offers, without a token', async () => {
    const response = await call('GET', '/auth/providers');
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ password: true, oidc: { name: 'Example SSO', start: '/api/v1/auth/oidc/start' } });

    app = appWith(undefined);
    expect(await json(call('GET', '/auth/providers'))).toEqual({ password: true, oidc: null });
    expect((await call('GET', '/auth/oidc/start')).status).toBe(404);
    const { page, fragment } = await callback(new URL(`${REDIRECT_URI}?code=x&state=y`));
    expect([page, fragment.get('error')]).toEqual(['/login', 'single sign-on is not configured on this node']);
  });

  it('sends the browser to the provider with PKCE (S256), state and nonce', async () => {
    const url = await start('/runs');
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe('archipel');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('scope')).toBe('openid profile projects');
  });

  it('creates the user at the first sign-in, keyed by issuer and subject, and finds them at the next', async () => {
    const first = await signIn('alice-sub', '/runs?status=running');
    expect(first.returnPath).toBe('/runs?status=running');
    expect(await externalIdentities()).toEqual([{ issuer: provider.issuer, subject: 'alice-sub', name: 'alice' }]);
    const users = await json(asAdmin('GET', '/users'));
    expect(users.items).toContainEqual(expect.objectContaining({ name: 'alice', displayName: 'Alice Liddell', isAdmin: false }));

    // The same subject, even under another preferred name, is the same user.
    accounts.set('alice-sub', { preferred_username: 'alice.l', projects: ['genomics'] });
    const second = await signIn('alice-sub');
    expect(second.returnPath).toBe('/');
    expect(second.token).not.toBe(first.token);
    expect(await externalIdentities()).toEqual([{ issuer: provider.issuer, subject: 'alice-sub', name: 'alice' }]);
    expect((await json(asAdmin('GET', '/users'))).items).toHaveLength(2);

    // A session token like a password login's: 12 hours.
    const tokens = await db.query<{ name: string; expires_at: Date; created_at: Date }>(
      `SELECT t.name, t.expires_at, t.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = 'alice'`,
    );
    expect(tokens.rows.map((t) => [t.name, t.expires_at.getTime() - t.created_at.getTime()])).toEqual([
      ['login', 12 * 3600 * 1000],
      ['login', 12 * 3600 * 1000],
    ]);
  });

  it('makes the user a member of the projects the claim names; the token works on the API', async () => {
    const { token } = await signIn('alice-sub');
    expect(await projectsOf(token)).toEqual(['genomics']);
    const members = await json(asAdmin('GET', '/projects/genomics/members'));
    expect(members.items).toContainEqual(expect.objectContaining({ user: 'alice', role: 'member' }));
  });

  it('gives a user without the claim, or with an empty one, no project', async () => {
    const { token } = await signIn('bob-sub');
    expect(await projectsOf(token)).toEqual([]);
    accounts.set('carol-sub', { preferred_username: 'carol', projects: [] });
    expect(await projectsOf((await signIn('carol-sub')).token)).toEqual([]);
  });

  it('takes away at the next sign-in the memberships the claim no longer names, never those given by hand', async () => {
    accounts.set('alice-sub', { preferred_username: 'alice', projects: ['genomics', 'imaging', 'no-such-project'] });
    await signIn('alice-sub');
    // An admin also adds alice to a project by hand, and makes her admin of one she creates.
    expect((await asAdmin('POST', '/projects', { name: 'proteomics' })).status).toBe(201);
    expect((await asAdmin('POST', '/projects/proteomics/members', { user: 'alice' })).status).toBe(201);

    // The claim now also names the project given by hand: that membership stays a hand-given one.
    accounts.set('alice-sub', { preferred_username: 'alice', projects: 'imaging proteomics' });
    const { token } = await signIn('alice-sub');
    expect(await projectsOf(token)).toEqual(['imaging', 'proteomics']);
    expect((await call('POST', '/projects', { token, body: { name: 'alices-lab' } })).status).toBe(201);

    accounts.set('alice-sub', { preferred_username: 'alice' });
    const later = await signIn('alice-sub');
    expect(await projectsOf(later.token)).toEqual(['alices-lab', 'proteomics']);
    const lab = await json(asAdmin('GET', '/projects/alices-lab/members'));
    expect(lab.items).toContainEqual(expect.objectContaining({ user: 'alice', role: 'admin' }));
  });

  it('names new users from the claim, with a suffix when the name is taken, else from the subject', async () => {
    expect((await asAdmin('POST', '/users', { name: 'bob', password: 'bob password' })).status).toBe(201);
    accounts.set('7f3c-Ü', {});
    await signIn('bob-sub');
    await signIn('7f3c-Ü');
    expect((await externalIdentities()).map((e) => [e.subject, e.name])).toEqual([
      ['7f3c-Ü', '7f3c-u'],
      ['bob-sub', 'bob-2'],
    ]);
  });

  it('answers every failed sign-in with a redirect to the login page and words for the user', async () => {
    const failure = async (answer: URL) => {
      const { page, fragment } = await callback(answer);
      expect(page).toBe('/login');
      expect(fragment.get('token')).toBeNull();
      return fragment.get('error');
    };
    // The user turns the provider down.
    const refused = await authorizeAtProvider((await start()).href, { account: 'alice-sub', redirectUri: REDIRECT_URI, abort: true });
    expect(refused.searchParams.get('error')).toBe('access_denied');
    expect(await failure(refused)).toBe('the sign-on provider refused the sign-in (access_denied)');

    // A state this node never issued, and none at all.
    expect(await failure(new URL(`${REDIRECT_URI}?code=abc&state=forged`))).toMatch(/expired or was already used/);
    expect(await failure(new URL(`${REDIRECT_URI}?code=abc`))).toMatch(/expired or was already used/);

    // The provider's answer used twice: the second time the state is gone.
    const answer = await authorizeAtProvider((await start()).href, { account: 'alice-sub', redirectUri: REDIRECT_URI });
    expect((await callback(answer)).fragment.get('token')).toBeTruthy();
    expect(await failure(answer)).toMatch(/expired or was already used/);

    // A code the provider did not issue, under a real state.
    const state = (await start()).searchParams.get('state')!;
    expect(await failure(new URL(`${REDIRECT_URI}?code=made-up&state=${state}&iss=${encodeURIComponent(provider.issuer)}`))).toMatch(
      /refused the sign-in \(invalid_grant\)/,
    );

    // A sign-in finished after ten minutes.
    const late = await authorizeAtProvider((await start()).href, { account: 'alice-sub', redirectUri: REDIRECT_URI });
    clock.advance(10 * 60 * 1000 + 1);
    expect(await failure(late)).toMatch(/expired or was already used/);

    // A malformed callback (a parameter given twice) still goes back to the login page.
    expect(await failure(new URL(`${REDIRECT_URI}?state=a&state=b`))).toMatch(/malformed/);
  });

  it('sends the browser back to the login page when the provider cannot be reached', async () => {
    const unreachable = createOidcClient({ ...CLIENT, issuer: 'http://127.0.0.1:1', redirectUri: () => REDIRECT_URI, scopes: ['openid'], allowInsecureRequests: true });
    app = appWith({ displayName: 'Example SSO', login: createExternalLogin({ provider: unreachable, identity }) });
    const response = await call('GET', '/auth/oidc/start');
    expect(response.status).toBe(302);
    expect(decodeURIComponent(response.headers.get('location')!)).toBe('/login#error=the sign-on provider cannot be reached at the moment: please try again later');
  });

  it('goes back only to a path on this node', async () => {
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'runs', '/runs\n']) {
      const response = await call('GET', `/auth/oidc/start?return=${encodeURIComponent(bad)}`);
      expect(response.status, bad).toBe(400);
      expect((await json(response)).error.code).toBe('invalid-input');
    }
    expect((await start('/catalog/entries?q=dna#top')).origin).toBe(provider.issuer);
  });

  it('documents the sign-on routes as public in the OpenAPI document', async () => {
    const doc = await json(call('GET', '/openapi.json'));
    for (const path of SIGN_ON_PATHS) expect(doc.paths[`${API_PREFIX}${path}`]?.get?.security, path).toEqual([]);
    expect(Object.keys(doc.paths[`${API_PREFIX}/auth/oidc/start`].get.responses)).toEqual(expect.arrayContaining(['302', '400']));
  });
});
