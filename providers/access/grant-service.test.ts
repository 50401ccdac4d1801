import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotAllowedError, NotFoundError, NotImplementedError, type Principal, type SqlDatabase } from '../../core/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createDirectoryGrantProvider } from './directory-grant-provider.ts';
import { createGrantService, type GrantService } from './grant-service.ts';

const T0 = Date.parse('2030-03-01T08:00:00.000Z');
const admin: Principal = { userId: 'id-admin', userName: 'admin', isAdmin: true, tokenId: 't-admin' };
const alice: Principal = { userId: 'id-alice', userName: 'alice', isAdmin: false, tokenId: 't-alice' };
const grantee = { cluster: 'local', user: 'alice' };

describe('grants ledger', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let base: string;
  let source: string;
  let now: number;
  let grants: GrantService;
  const clock = { now: () => new Date(now) };
  const target = () => ({ kind: 'data' as const, source: { type: 'directory' as const, path: source } });

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    base = await mkdtemp(join(tmpdir(), 'archipel-grant-service-'));
    source = join(base, 'source');
    await mkdir(source);
    await writeFile(join(source, 'data.txt'), 'shared');
    now = T0;
    grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: join(base, 'grants'), readOnlyView: 'copy' }) }, clock });
  });
  afterEach(async () => {
    await cleanup();
    await rm(base, { recursive: true, force: true });
  });

  it('records a grant, lists it, and revokes it on request', async () => {
    const { grant, access } = await grants.grant(admin, { target: target(), grantee, ttlSeconds: 3600 });
    expect(grant).toMatchObject({
      kind: 'data',
      targetType: 'directory',
      target: target(),
      grantee,
      createdBy: 'admin',
      createdAt: new Date(T0),
      expiresAt: new Date(T0 + 3_600_000),
      revokedAt: null,
      state: 'active',
    });
    if (access.type !== 'directory') throw new Error('unexpected access');
    expect(await readFile(join(access.path, 'data.txt'), 'utf8')).toBe('shared');
    expect((await grants.list(admin)).map((g) => g.id)).toEqual([grant.id]);

    now += 60_000;
    const revoked = await grants.revoke(admin, grant.id);
    expect(revoked).toMatchObject({ state: 'revoked', revokedAt: new Date(T0 + 60_000) });
    await expect(stat(access.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(source, 'data.txt'), 'utf8')).toBe('shared');
    expect(await grants.revoke(admin, grant.id)).toMatchObject({ state: 'revoked', revokedAt: new Date(T0 + 60_000) });
    expect(await grants.list(admin)).toEqual([]);
    expect((await grants.list(admin, { state: 'all' })).map((g) => g.state)).toEqual(['revoked']);
  });

  it('revokes expired grants when swept, by the injected clock', async () => {
    const short = await grants.grant(admin, { target: target(), grantee, ttlSeconds: 60 });
    const long = await grants.grant(admin, { target: target(), grantee, ttlSeconds: 3600 });
    now += 59_000;
    expect(await grants.sweepExpired()).toBe(0);
    now += 1_000;
    expect((await grants.get(admin, short.grant.id)).state).toBe('expired');
    expect(await grants.sweepExpired()).toBe(1);
    expect(await grants.get(admin, short.grant.id)).toMatchObject({ state: 'revoked', revokedAt: new Date(T0 + 60_000) });
    expect((await db.query<{ revoked_by: string }>('SELECT revoked_by FROM access_grants WHERE id = $1', [short.grant.id])).rows[0]!.revoked_by).toBe('expiry');
    if (short.access.type === 'directory') await expect(stat(short.access.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await grants.get(admin, long.grant.id)).state).toBe('active');
    expect(await grants.sweepExpired()).toBe(0);
  });

  it('revokes every open grant of a peer cluster’s users when its peering ends, and nobody else’s', async () => {
    const peer = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
    const other = '12D3KooWBmwkafWE2fqfzS96VoTZUdZEhRUM5XPv8rQdmMDhEyd4';
    const forAnn = await grants.issue({ target: target(), grantee: { cluster: peer, user: 'ann' }, ttlSeconds: 3600 }, { createdBy: `ann@${peer}` });
    const forBen = await grants.grant(admin, { target: target(), grantee: { cluster: peer, user: 'ben' }, ttlSeconds: 3600 });
    const forOther = await grants.grant(admin, { target: target(), grantee: { cluster: other, user: 'ann' }, ttlSeconds: 3600 });
    const forAlice = await grants.grant(admin, { target: target(), grantee, ttlSeconds: 3600 });
    now += 60_000;

    expect(await grants.revokeForCluster(peer, { by: 'peering:blocked' })).toBe(2);
    for (const { grant, access } of [forAnn, forBen]) {
      expect(await grants.get(admin, grant.id)).toMatchObject({ state: 'revoked', revokedAt: new Date(T0 + 60_000) });
      if (access.type === 'directory') await expect(stat(access.path)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expect((await db.query<{ revoked_by: string }>('SELECT revoked_by FROM access_grants WHERE id = $1', [forAnn.grant.id])).rows[0]!.revoked_by).toBe('peering:blocked');
    expect((await grants.get(admin, forOther.grant.id)).state).toBe('active');
    expect((await grants.get(admin, forAlice.grant.id)).state).toBe('active');
    expect(await grants.revokeForCluster(peer)).toBe(0);
    // This cluster's own users are not a peer.
    await expect(grants.revokeForCluster('local')).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('grants a named target for cluster admins only, validates every field at once, and forgets a grant its provider refused', async () => {
    await expect(grants.grant(alice, { target: target(), grantee, ttlSeconds: 60 })).rejects.toBeInstanceOf(NotAllowedError);
    // A user sees and gives back only the grants made for them.
    const forAlice = (await grants.grant(admin, { target: target(), grantee, ttlSeconds: 60 })).grant;
    const forBob = (await grants.grant(admin, { target: target(), grantee: { cluster: 'local', user: 'bob' }, ttlSeconds: 60 })).grant;
    expect((await grants.list(alice)).map((g) => g.id)).toEqual([forAlice.id]);
    await expect(grants.get(alice, forBob.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(grants.revoke(alice, forBob.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await grants.revoke(alice, forAlice.id)).toMatchObject({ state: 'revoked' });
    expect((await grants.list(admin)).map((g) => g.id)).toEqual([forBob.id]);
    const invalid = await grants
      .grant(admin, { target: { kind: 'data', source: { type: 'postgresql', table: 'x; drop' } }, grantee: { cluster: '', user: 'Bad' }, ttlSeconds: 0 })
      .catch((error: unknown) => error as InvalidInputError);
    expect(invalid).toBeInstanceOf(InvalidInputError);
    expect((invalid as InvalidInputError).issues.map((i) => i.path).sort()).toEqual(['grantee.cluster', 'grantee.user', 'target.source.table', 'ttlSeconds']);
    await expect(
      grants.grant(admin, { target: { kind: 'data', source: { type: 's3', bucket: 'bucket' } }, grantee, ttlSeconds: 60 }),
    ).rejects.toBeInstanceOf(NotImplementedError);
    await expect(
      grants.grant(admin, { target: { kind: 'data', source: { type: 'directory', path: join(base, 'missing') } }, grantee, ttlSeconds: 60 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    // Only the two good grants above were recorded; the refused ones were forgotten.
    expect((await grants.list(admin, { state: 'all' })).map((g) => g.id).sort()).toEqual([forAlice.id, forBob.id].sort());
    await expect(grants.revoke(admin, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });
});
