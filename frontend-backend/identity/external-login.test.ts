import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../core/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { NameSchema } from '../http/identity-schemas.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';
import { externalIdentityFrom, projectNamesFrom, userNameFrom } from './external-login.ts';
import { createIdentityService, type ExternalIdentity, type IdentityService } from './identity-service.ts';
import { createPendingLogins } from './pending-logins.ts';

describe('claims to a local identity', () => {
  it('makes valid user names from claim values', () => {
    expect(userNameFrom('Alice')).toBe('alice');
    expect(userNameFrom('José.Ñúñez')).toBe('jose.nunez');
    expect(userNameFrom('alice@example.com')).toBe('alice-example.com');
    expect(userNameFrom('  __Dr. Who?!  ')).toBe('dr.-who');
    expect(userNameFrom('x'.repeat(100))).toHaveLength(63);
    for (const unusable of ['', '---', '日本', 42, null, undefined]) expect(userNameFrom(unusable)).toBeUndefined();
    for (const raw of ['Alice', '  __Dr. Who?!  ', `${'a'.repeat(62)}.b`, 'a_-_b']) expect(NameSchema.safeParse(userNameFrom(raw)).success, raw).toBe(true);
  });

  it('reads project names from a list or a string', () => {
    expect(projectNamesFrom(['genomics', 'imaging', 'genomics', 7, ' '])).toEqual(['genomics', 'imaging']);
    expect(projectNamesFrom('genomics imaging,proteomics')).toEqual(['genomics', 'imaging', 'proteomics']);
    expect(projectNamesFrom(undefined)).toEqual([]);
    expect(projectNamesFrom({ genomics: true })).toEqual([]);
  });

  it('falls back to the subject for the name, and leaves projects alone without a configured claim', () => {
    const provided = { issuer: 'https://idp.example', subject: 'F00-Bar', claims: { projects: ['genomics'], name: ' Foo ' } };
    expect(externalIdentityFrom(provided, { usernameClaim: 'preferred_username' })).toEqual({
      issuer: 'https://idp.example',
      subject: 'F00-Bar',
      preferredName: 'f00-bar',
      displayName: 'Foo',
      projects: null,
    });
    expect(externalIdentityFrom({ ...provided, subject: '日本' }, { usernameClaim: 'preferred_username', projectsClaim: 'projects' })).toMatchObject({
      preferredName: expect.stringMatching(/^user-[0-9a-f]{12}$/),
      projects: ['genomics'],
    });
  });
});

describe('pending sign-ins', () => {
  it('are taken once, expire after their time, and the oldest go past the bound', () => {
    const clock = new ManualClock();
    const pending = createPendingLogins({ clock, ttlMs: 1000, max: 2 });
    const login = { codeVerifier: 'v', nonce: 'n', returnPath: '/' };
    pending.add('a', login);
    expect(pending.take('a')).toEqual(login);
    expect(pending.take('a')).toBeUndefined();

    pending.add('b', login);
    clock.advance(1000);
    expect(pending.take('b')).toBeUndefined();

    for (const state of ['c', 'd', 'e']) pending.add(state, login);
    expect(pending.size).toBe(2);
    expect(pending.take('c')).toBeUndefined();
    expect(pending.take('e')).toEqual(login);
  });
});

describe('IdentityService.loginExternal', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let identity: IdentityService;
  const someone = (overrides: Partial<ExternalIdentity> = {}): ExternalIdentity => ({
    issuer: 'https://idp.example',
    subject: 'sub-1',
    preferredName: 'alice',
    projects: null,
    ...overrides,
  });

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    identity = createIdentityService({ db, clock: new ManualClock() });
  });
  afterEach(() => cleanup());

  it('creates one user when the same subject signs in twice at once', async () => {
    const [a, b] = await Promise.all([identity.loginExternal(someone()), identity.loginExternal(someone())]);
    expect(a.user.id).toBe(b.user.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE name LIKE 'alice%'`);
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('keeps users of different issuers apart, and suffixes taken names within 63 characters', async () => {
    const long = 'a'.repeat(63);
    const first = await identity.loginExternal(someone({ preferredName: long }));
    const other = await identity.loginExternal(someone({ issuer: 'https://other.example', preferredName: long }));
    expect(first.user.name).toBe(long);
    expect(other.user.id).not.toBe(first.user.id);
    expect(other.user.name).toBe(`${'a'.repeat(61)}-2`);
    expect(NameSchema.safeParse(other.user.name).success).toBe(true);
    // Users created this way have no password.
    await expect(identity.login(long, '')).rejects.toMatchObject({ kind: 'not-authenticated' });
  });

  it('reports the memberships it gave and took away', async () => {
    const admin = (await identity.bootstrapAdmin())!;
    const actor = await identity.authenticate(admin.token);
    await identity.createProject(actor, { name: 'genomics' });
    expect(await identity.loginExternal(someone({ projects: ['genomics', 'absent'] }))).toMatchObject({ projectsAdded: ['genomics'], projectsRemoved: [] });
    expect(await identity.loginExternal(someone({ projects: ['genomics'] }))).toMatchObject({ projectsAdded: [], projectsRemoved: [] });
    // No claim configured: memberships stay.
    expect(await identity.loginExternal(someone({ projects: null }))).toMatchObject({ projectsAdded: [], projectsRemoved: [] });
    expect(await identity.loginExternal(someone({ projects: [] }))).toMatchObject({ projectsAdded: [], projectsRemoved: ['genomics'] });
  });
});
