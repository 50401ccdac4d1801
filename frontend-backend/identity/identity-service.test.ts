import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotAllowedError,
  NotAuthenticatedError,
  NotFoundError,
  type Principal,
  type SqlDatabase,
} from '../../core/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createIdentityService, type IdentityService } from './identity-service.ts';
import { ManualClock } from '../../tests/support/manual-clock.ts';


describe('identity service', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let identity: IdentityService;
  let admin: Principal;

  const principalOf = async (token: string) => identity.authenticate(token);

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    clock = new ManualClock();
    identity = createIdentityService({ db, clock });
    const issued = await identity.bootstrapAdmin();
    admin = await principalOf(issued!.token);
  });
  afterEach(() => cleanup());

  it('bootstraps the admin exactly once, with a token that authenticates as a cluster admin', async () => {
    expect(admin).toMatchObject({ userName: 'admin', isAdmin: true });
    expect(await identity.bootstrapAdmin()).toBeNull();
    expect((await identity.listUsers(admin)).map((u) => u.name)).toEqual(['admin']);
  });

  it('lets only cluster admins create and list users, and refuses duplicate names', async () => {
    const alice = await identity.createUser(admin, { name: 'alice', password: 'correct horse' });
    expect(alice).toMatchObject({ name: 'alice', isAdmin: false, displayName: null });
    await expect(identity.createUser(admin, { name: 'alice' })).rejects.toThrow(ConflictError);
    const aliceToken = await identity.login('alice', 'correct horse');
    const asAlice = await principalOf(aliceToken.token);
    await expect(identity.createUser(asAlice, { name: 'bob' })).rejects.toThrow(NotAllowedError);
    await expect(identity.listUsers(asAlice)).rejects.toThrow(NotAllowedError);
  });

  it('gives the same answer for an unknown user and a wrong password, and stores no plain password', async () => {
    await identity.createUser(admin, { name: 'alice', password: 'correct horse' });
    await expect(identity.login('alice', 'wrong horse')).rejects.toThrow(new NotAuthenticatedError('wrong user name or password'));
    await expect(identity.login('nobody', 'correct horse')).rejects.toThrow(new NotAuthenticatedError('wrong user name or password'));
    // The bootstrap admin has no password: it cannot log in until one is set.
    await expect(identity.login('admin', '')).rejects.toThrow(NotAuthenticatedError);
    const { rows } = await db.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE name = 'alice'`);
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0]!.password_hash).not.toContain('correct horse');
  });

  it('lets a user change their own password but not somebody else’s', async () => {
    await identity.createUser(admin, { name: 'alice', password: 'first password' });
    await identity.createUser(admin, { name: 'bob', password: 'bobs password' });
    const asAlice = await principalOf((await identity.login('alice', 'first password')).token);
    await identity.updateUser(asAlice, 'alice', { password: 'second password' });
    await expect(identity.login('alice', 'first password')).rejects.toThrow(NotAuthenticatedError);
    await expect(identity.login('alice', 'second password')).resolves.toMatchObject({ name: 'login' });
    await expect(identity.updateUser(asAlice, 'bob', { password: 'hijacked!!' })).rejects.toThrow(NotAllowedError);
    await identity.updateUser(admin, 'admin', { password: 'admin password' });
    await expect(identity.login('admin', 'admin password')).resolves.toBeTruthy();
  });

  it('shows a project only to its members and cluster admins; a hidden project is "not found"', async () => {
    await identity.createUser(admin, { name: 'alice', password: 'alice password' });
    await identity.createUser(admin, { name: 'bob', password: 'bob password1' });
    const alice = await principalOf((await identity.login('alice', 'alice password')).token);
    const bob = await principalOf((await identity.login('bob', 'bob password1')).token);

    await identity.createProject(alice, { name: 'genomics', description: 'sequencing' });
    await expect(identity.createProject(bob, { name: 'genomics' })).rejects.toThrow(ConflictError);
    expect((await identity.listProjects(alice)).map((p) => p.name)).toEqual(['genomics']);
    expect(await identity.listProjects(bob)).toEqual([]);
    expect((await identity.listProjects(admin)).map((p) => p.name)).toEqual(['genomics']);
    await expect(identity.listMembers(bob, 'genomics')).rejects.toThrow(new NotFoundError('project "genomics" not found'));
    await expect(identity.listMembers(bob, 'no-such-project')).rejects.toThrow(new NotFoundError('project "no-such-project" not found'));

    const members = await identity.listMembers(alice, 'genomics');
    expect(members.map((m) => [m.userName, m.role])).toEqual([['alice', 'admin']]);

    await expect(identity.addMember(bob, 'genomics', { user: 'bob', role: 'admin' })).rejects.toThrow(NotFoundError);
    await identity.addMember(alice, 'genomics', { user: 'bob', role: 'member' });
    await expect(identity.addMember(alice, 'genomics', { user: 'bob', role: 'member' })).rejects.toThrow(ConflictError);
    await expect(identity.addMember(alice, 'genomics', { user: 'carol', role: 'member' })).rejects.toThrow(NotFoundError);
    expect((await identity.listProjects(bob)).map((p) => p.name)).toEqual(['genomics']);
    // A plain member sees the project but may not change its members.
    await expect(identity.removeMember(bob, 'genomics', 'alice')).rejects.toThrow(NotAllowedError);
  });

  it('never leaves a project without an admin', async () => {
    await identity.createUser(admin, { name: 'alice', password: 'alice password' });
    const alice = await principalOf((await identity.login('alice', 'alice password')).token);
    await identity.createProject(alice, { name: 'p1' });
    await expect(identity.removeMember(alice, 'p1', 'alice')).rejects.toThrow(ConflictError);
    await identity.addMember(admin, 'p1', { user: 'admin', role: 'admin' });
    await identity.removeMember(alice, 'p1', 'alice');
    expect((await identity.listMembers(admin, 'p1')).map((m) => m.userName)).toEqual(['admin']);
    await expect(identity.removeMember(admin, 'p1', 'alice')).rejects.toThrow(NotFoundError);
  });

  it('stores only a hash of each token, expires tokens on time, and revokes them on delete', async () => {
    const issued = await identity.createToken(admin, { name: 'ci', expiresInSeconds: 3600 });
    expect(issued.token).toMatch(/^arc_/);
    expect(issued.token.startsWith(issued.prefix)).toBe(true);
    const { rows } = await db.query<{ secret_hash: string }>(`SELECT secret_hash FROM api_tokens WHERE id = $1`, [issued.id]);
    expect(rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.secret_hash).not.toContain(issued.token);

    await expect(identity.authenticate(issued.token)).resolves.toMatchObject({ tokenId: issued.id });
    const listed = await identity.listTokens(admin);
    expect(listed.find((t) => t.id === issued.id)).toMatchObject({ name: 'ci', lastUsedAt: clock.now() });
    expect(JSON.stringify(listed)).not.toContain(issued.token);

    clock.advance(3600 * 1000 + 1);
    await expect(identity.authenticate(issued.token)).rejects.toThrow(NotAuthenticatedError);

    const other = await identity.createToken(admin, { name: 'other' });
    await identity.deleteToken(admin, other.id);
    await expect(identity.authenticate(other.token)).rejects.toThrow(NotAuthenticatedError);
    await expect(identity.deleteToken(admin, other.id)).rejects.toThrow(NotFoundError);
    await expect(identity.authenticate('arc_not-a-real-token')).rejects.toThrow(NotAuthenticatedError);
  });

  it('does not let a user revoke another user’s token', async () => {
    await identity.createUser(admin, { name: 'alice', password: 'alice password' });
    const alice = await principalOf((await identity.login('alice', 'alice password')).token);
    const adminToken = await identity.createToken(admin, { name: 'mine' });
    await expect(identity.deleteToken(alice, adminToken.id)).rejects.toThrow(NotFoundError);
    await expect(identity.authenticate(adminToken.token)).resolves.toBeTruthy();
  });
});
