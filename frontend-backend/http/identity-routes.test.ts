import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger, type SqlDatabase } from '../../core/index.ts';
import { API_PREFIX, createHttpApp } from '../../platform/http/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createIdentityService, type IdentityService, type IdentityServiceOptions } from '../identity/identity-service.ts';
import { scryptPasswordHasher, type PasswordHasher } from '../identity/password-hash.ts';
import { createIdentityRoutes, LOGIN_PATH } from './identity-routes.ts';
import { json } from '../../tests/support/json.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';

interface CallOptions {
  token?: string | null;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** The client's address, as @hono/node-server's bindings give it to the app. */
  from?: string;
}

/** The real scrypt hasher, counting its checks and how many run at once; `hold()` keeps them from finishing. */
function instrumentedHasher() {
  let gate: Promise<void> | undefined;
  let open = () => {};
  const stats = { verifies: 0, running: 0, maxRunning: 0 };
  const hasher: PasswordHasher = {
    hash: (password) => scryptPasswordHasher.hash(password),
    async verify(password, stored) {
      stats.verifies++;
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      try {
        await gate;
        return await scryptPasswordHasher.verify(password, stored);
      } finally {
        stats.running--;
      }
    },
  };
  return {
    hasher,
    stats,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

describe('identity HTTP API', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let app: ReturnType<typeof createHttpApp>;
  let adminToken: string;

  const appFor = (identity: IdentityService) =>
    createHttpApp({
      logger: silentLogger,
      authenticate: (t) => identity.authenticate(t),
      ready: async () => true,
      routers: [createIdentityRoutes(identity)],
      publicPaths: [`${API_PREFIX}${LOGIN_PATH}`],
      maxBodyBytes: 64 * 1024,
      version: 'test',
    });
  /** An identity service with these options on the test's database, and the app serving it. */
  const useIdentity = async (options: Omit<IdentityServiceOptions, 'db'> = {}) => {
    const identity = createIdentityService({ db, ...options });
    const bootstrap = await identity.bootstrapAdmin();
    if (bootstrap) adminToken = bootstrap.token;
    app = appFor(identity);
  };

  const call = async (method: string, path: string, options: CallOptions = {}): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? adminToken : options.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    } else if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const bindings = options.from === undefined ? undefined : { incoming: { socket: { remoteAddress: options.from } } };
    return app.request(`${API_PREFIX}${path}`, { method, headers, body }, bindings);
  };
  const counts = async () => {
    const { rows } = await db.query<{ users: string; projects: string; members: string }>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM projects) AS projects,
              (SELECT count(*) FROM project_members) AS members`,
    );
    return rows[0];
  };

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    await useIdentity();
  });
  afterEach(() => cleanup());

  it('creates a user and a project, adds the user, and lists them', async () => {
    const user = await call('POST', '/users', { body: { name: 'alice', password: 'alice password', displayName: 'Alice' } });
    expect(user.status).toBe(201);
    const alice = await json(user);
    expect(alice).toMatchObject({ name: 'alice', displayName: 'Alice', isAdmin: false });

    const project = await call('POST', '/projects', { body: { name: 'genomics', description: 'DNA' } });
    expect(project.status).toBe(201);
    expect(await json(project)).toMatchObject({ name: 'genomics', description: 'DNA' });

    const added = await call('POST', '/projects/genomics/members', { body: { user: 'alice' } });
    expect(added.status).toBe(201);
    expect(await json(added)).toMatchObject({ user: 'alice', role: 'member' });

    const members = await json(call('GET', '/projects/genomics/members'));
    expect(members.items.map((m: { user: string; role: string }) => [m.user, m.role])).toEqual([
      ['admin', 'admin'],
      ['alice', 'member'],
    ]);

    const login = await call('POST', '/auth/login', { token: null, body: { user: 'alice', password: 'alice password' } });
    expect(login.status).toBe(201);
    const aliceToken = (await json(login)).token as string;
    const projects = await json(call('GET', '/projects', { token: aliceToken }));
    expect(projects.items.map((p: { name: string }) => p.name)).toEqual(['genomics']);
    // Who the caller is, for clients that hold only a token (the portal).
    expect(await json(call('GET', '/auth/me', { token: aliceToken }))).toMatchObject({ name: 'alice', displayName: 'Alice', isAdmin: false, id: alice.id });
    expect(await json(call('GET', '/auth/me'))).toMatchObject({ name: 'admin', isAdmin: true });
    expect((await call('GET', '/auth/me', { token: 'arc_nope' })).status).toBe(401);

    expect((await call('DELETE', '/projects/genomics/members/alice')).status).toBe(204);
    expect((await json(call('GET', '/projects', { token: aliceToken }))).items).toEqual([]);
  });

  it('issues, lists and revokes tokens, never listing secrets', async () => {
    const created = await call('POST', '/tokens', { body: { name: 'laptop', expiresInSeconds: 3600 } });
    expect(created.status).toBe(201);
    const token = await json(created);
    expect(token.token).toMatch(/^arc_/);
    expect(token.expiresAt).not.toBeNull();

    expect((await call('GET', '/projects', { token: token.token })).status).toBe(200);
    const listed = await call('GET', '/tokens');
    const text = await listed.text();
    expect(text).toContain('laptop');
    expect(text).not.toContain(token.token);

    expect((await call('DELETE', `/tokens/${token.id}`)).status).toBe(204);
    const after = await call('GET', '/projects', { token: token.token });
    expect(after.status).toBe(401);
    expect((await call('DELETE', '/tokens/not-a-uuid')).status).toBe(400);
  });

  describe('rejects bad input with a clear JSON error and changes nothing', () => {
    const cases: [string, string, string, CallOptions, number, RegExp][] = [
      ['no token', 'GET', '/projects', { token: null }, 401, /Authorization/],
      ['a malformed Authorization header', 'GET', '/projects', { headers: { Authorization: 'Basic abc' }, token: null }, 401, /Bearer/],
      ['an unknown token', 'GET', '/projects', { token: 'arc_forged' }, 401, /invalid or expired token/],
      ['an unknown field', 'POST', '/projects', { body: { name: 'p', colour: 'red' } }, 400, /unknown field\(s\): colour/],
      ['a wrong type', 'POST', '/projects', { body: { name: 42 } }, 400, /name/],
      ['a missing field', 'POST', '/users', { body: { password: 'long enough' } }, 400, /name/],
      ['a short password', 'POST', '/users', { body: { name: 'bob', password: 'short' } }, 400, /password: must be at least 8/],
      ['SQL in a project name', 'POST', '/projects', { body: { name: "x'; DROP TABLE users; --" } }, 400, /name: must be 1-63/],
      ['SQL in a user name', 'POST', '/users', { body: { name: 'robert"); DROP TABLE projects;--' } }, 400, /name/],
      ['an unknown role', 'POST', '/projects/p/members', { body: { user: 'admin', role: 'owner' } }, 400, /role/],
      ['malformed JSON', 'POST', '/projects', { raw: '{"name": ' }, 400, /JSON/i],
      ['a JSON array body', 'POST', '/projects', { raw: '[1,2]' }, 400, /./],
      ['a huge body', 'POST', '/projects', { raw: JSON.stringify({ name: 'big', description: 'x'.repeat(200_000) }) }, 413, /limit of 65536 bytes/],
      ['an unknown route', 'GET', '/nothing-here', {}, 404, /no route/],
      ['a wrong login', 'POST', '/auth/login', { token: null, body: { user: 'admin', password: 'guess' } }, 401, /wrong user name or password/],
    ];
    it.each(cases)('%s', async (_label, method, path, options, status, message) => {
      const before = await counts();
      const response = await call(method, path, options);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      const body = await json(response);
      expect(body.error.code).toEqual(expect.any(String));
      expect(body.error.message).toMatch(message);
      expect(body.error.details).toEqual(expect.any(Object));
      expect(await counts()).toEqual(before);
    });
  });

  it('names every bad field of a request in details.issues', async () => {
    const response = await call('POST', '/users', { body: { name: 'Bad Name', password: 'x', isAdmin: 'yes', extra: 1 } });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    const paths = error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['json:name', 'json:password', 'json:isAdmin']));
    expect(JSON.stringify(error.details.issues)).toContain('extra');
  });

  it('keeps SQL metacharacters inert in values that are allowed to hold them', async () => {
    const description = "'; DROP TABLE projects; -- \\ $1 %";
    const response = await call('POST', '/projects', { body: { name: 'quotes', description } });
    expect(response.status).toBe(201);
    const listed = await json(call('GET', '/projects'));
    expect(listed.items[0].description).toBe(description);
  });

  it('publishes an OpenAPI document generated from the validating schemas', async () => {
    const response = await app.request(`${API_PREFIX}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = await json(response);
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/api/v1/users', '/api/v1/projects', '/api/v1/projects/{project}/members', '/api/v1/tokens', '/api/v1/auth/login']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const newProject = doc.components.schemas.NewProject;
    expect(newProject.required).toContain('name');
    expect(newProject.additionalProperties).toBe(false);
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    const tooMany = doc.paths['/api/v1/auth/login'].post.responses['429'];
    expect(tooMany.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(tooMany.headers['Retry-After'].schema).toMatchObject({ type: 'integer' });
  });

  describe('login limits', () => {
    const login = (password: string, from: string) => call('POST', '/auth/login', { token: null, body: { user: 'alice', password }, from });

    it('refuses repeated wrong logins from one address with 429 and Retry-After before checking a password, and lets the user in from her own address', async () => {
      const clock = new ManualClock();
      const counting = instrumentedHasher();
      await useIdentity({ clock, passwordHashing: { hasher: counting.hasher } });
      expect((await call('POST', '/users', { body: { name: 'alice', password: 'alice password' } })).status).toBe(201);
      const attacker = '198.51.100.66';

      for (let i = 0; i < 5; i++) expect((await login(`guess ${i}`, attacker)).status).toBe(401);
      expect(counting.stats.verifies).toBe(5);

      const refused = await login('guess 5', attacker);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('Retry-After')).toBe('180');
      expect(refused.headers.get('content-type')).toMatch(/application\/json/);
      expect((await json(refused)).error).toEqual({
        code: 'too-many-requests',
        message: 'too many failed logins for this user from this address: try again in 180 s',
        details: { retryAfterSeconds: 180 },
      });
      // Refused before any hash, even with the right password.
      expect((await login('alice password', attacker)).status).toBe(429);
      expect(counting.stats.verifies).toBe(5);

      expect((await login('alice password', '192.0.2.10')).status).toBe(201);
      expect(counting.stats.verifies).toBe(6);

      clock.advance(180_000);
      expect((await login('alice password', attacker)).status).toBe(201);
    });

    it('checks at most two passwords at once, refuses what the queue cannot hold, and keeps answering other requests meanwhile', async () => {
      const counting = instrumentedHasher();
      await useIdentity({ passwordHashing: { hasher: counting.hasher, maxQueue: 8 } });
      expect((await call('POST', '/users', { body: { name: 'alice', password: 'alice password' } })).status).toBe(201);

      counting.hold();
      let answered = 0;
      const flood = Array.from({ length: 20 }, (_, i) =>
        login(`guess ${i}`, `198.51.100.${i + 1}`).then((response) => {
          answered++;
          return response;
        }),
      );
      // Two checks run, eight wait, the other ten are refused at once.
      await vi.waitFor(() => expect(answered).toBe(10), { timeout: 5000 });
      expect(counting.stats).toMatchObject({ verifies: 2, running: 2 });
      expect((await app.request('/healthz')).status).toBe(200);
      expect((await call('GET', '/projects')).status).toBe(200);
      expect(answered).toBe(10);

      counting.release();
      const responses = await Promise.all(flood);
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      for (const busy of responses.filter((r) => r.status === 429)) {
        expect(busy.headers.get('Retry-After')).toBe('1');
        expect((await json(busy)).error.code).toBe('too-many-requests');
      }
      expect(counting.stats).toMatchObject({ verifies: 10, maxRunning: 2 });
    });
  });
});
