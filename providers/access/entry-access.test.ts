import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCatalogService, type CatalogService, type LocalCaller, type RemoteCaller } from '../../catalog/index.ts';
import type { SqlDatabase } from '../../core/index.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';
import { createDirectoryGrantProvider } from './directory-grant-provider.ts';
import { createEntryAccess, type EntryAccess } from './entry-access.ts';
import { createGrantService, type GrantService } from './grant-service.ts';

const CLUSTER = '12D3KooWHzgvWRyvwsoYVnvKAWZatPzfugs7pw8QZhGgoByotRNh';
const PEER = '12D3KooWQtTmoAbrhjwwZshhuLVoFnQEVuzehzSCtTP3u7WjkE35';
const admin = { userId: 'id-admin', userName: 'admin', isAdmin: true, tokenId: 't' };
const local = (userName: string, projects: string[] = []): LocalCaller => ({
  kind: 'local',
  userId: `id-${userName}`,
  userName,
  isAdmin: false,
  projects: projects.map((p) => `${CLUSTER}/${p}`),
});
const remote = (user: string, projects: string[]): RemoteCaller => ({ kind: 'remote', cluster: PEER, user, projects: projects.map((p) => `${PEER}/${p}`) });

describe('access to catalog entries', () => {
  let db: SqlDatabase;
  let cleanup: () => Promise<void>;
  let base: string;
  let catalog: CatalogService;
  let grants: GrantService;
  let access: EntryAccess;
  const owner = local('olivia');

  beforeEach(async () => {
    ({ db, cleanup } = await createTestDatabase());
    base = await mkdtemp(join(tmpdir(), 'archipel-entry-access-'));
    await mkdir(join(base, 'source'));
    await writeFile(join(base, 'source', 'reef.csv'), 'site,cover\nA,0.4\n');
    await mkdir(join(base, 'results'));
    grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root: join(base, 'grants'), readOnlyView: 'copy' }) } });
    // Wired as the node wires them: changing who may see an entry, or what it points at, ends its grants.
    catalog = createCatalogService({
      db,
      clusterId: CLUSTER,
      users: { existingUserNames: async (names) => names.filter((n) => n === 'olivia') },
      onAccessChange: (entryId) => grants.revokeForEntry(entryId),
    });
    access = createEntryAccess({ catalog, grants });
  });
  afterEach(async () => {
    await cleanup();
    await rm(base, { recursive: true, force: true });
  });

  const data = (visibility: 'public' | 'private' | 'restricted', allowedProjects: string[] = []) =>
    catalog.create(owner, {
      kind: 'data',
      name: `Reef ${visibility}`,
      visibility,
      ...(visibility === 'restricted' ? { allowedProjects } : {}),
      spec: { source: { type: 'directory', path: join(base, 'source') } },
    } as never);

  it('grants a user who may see a data entry read access to its source, for them alone, recorded with the entry', async () => {
    const entry = await data('public');
    const result = await access.request(local('alice'), entry.id, { ttlSeconds: 600 });
    expect(result.entry.id).toBe(entry.id);
    expect(result.grant).toMatchObject({ entryId: entry.id, kind: 'data', targetType: 'directory', grantee: { cluster: 'local', user: 'alice' }, createdBy: 'alice', state: 'active' });
    expect(result.access).toMatchObject({ type: 'directory', readOnly: true });
    const path = (result.access as { path: string }).path;
    expect(await readFile(join(path, 'reef.csv'), 'utf8')).toContain('site,cover');
    // Read-only by file modes here (a bind mount needs root with CAP_SYS_ADMIN; see the directory provider's tests).
    expect((await stat(join(path, 'reef.csv'))).mode & 0o222).toBe(0);
    expect((await grants.list(admin)).map((g) => [g.id, g.entryId])).toEqual([[result.grant.id, entry.id]]);
  });

  it("grants a peer's user in an allowed project, named by their cluster; a storage entry gives a writable directory", async () => {
    const restricted = await data('restricted', [`${PEER}/lab`]);
    const granted = await access.request(remote('bea', ['lab']), restricted.id, { ttlSeconds: 60 });
    expect(granted.grant).toMatchObject({ grantee: { cluster: PEER, user: 'bea' }, createdBy: `bea@${PEER}`, entryId: restricted.id });

    const storage = await catalog.create(owner, {
      kind: 'storage',
      name: 'Reef results',
      visibility: 'public',
      spec: { target: { type: 'directory', path: join(base, 'results') } },
    } as never);
    const writable = await access.request(remote('bea', []), storage.id, { ttlSeconds: 60 });
    expect(writable.access).toMatchObject({ type: 'directory', readOnly: false });
    await writeFile(join((writable.access as { path: string }).path, 'out.txt'), 'written');
    expect(await readFile(join((writable.access as { path: string }).path, 'out.txt'), 'utf8')).toBe('written');
  });

  it('answers a hidden entry like a missing one, grants nothing for it, and refuses other kinds and bad durations', async () => {
    const restricted = await data('restricted', [`${CLUSTER}/ops`]);
    const secret = await data('private');
    await expect(access.request(local('axel'), restricted.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(access.request(remote('ben', ['ops']), restricted.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(access.request(remote('bea', ['lab']), secret.id, { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(access.request(local('alice'), '0f7c3c1e-7d6c-4f3a-9d55-2f1b0c8a9e01', { ttlSeconds: 60 })).rejects.toMatchObject({ kind: 'not-found' });
    // Same cluster, allowed project: the restricted entry is granted.
    await expect(access.request(local('anna', ['ops']), restricted.id, { ttlSeconds: 60 })).resolves.toMatchObject({ grant: { grantee: { user: 'anna' } } });

    const compute = await catalog.create(owner, { kind: 'compute', name: 'Spare cores', visibility: 'public', spec: { cores: 2, memoryMiB: 1024 } } as never);
    await expect(access.request(local('alice'), compute.id, { ttlSeconds: 60 })).rejects.toMatchObject({
      kind: 'invalid-input',
      message: 'catalog entry "Spare cores" is a compute entry: access is granted to data and storage entries',
    });
    const open = await data('public');
    await expect(access.request(local('alice'), open.id, { ttlSeconds: 0 })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringContaining('ttlSeconds') });
    expect((await grants.list(admin)).map((g) => g.grantee.user)).toEqual(['anna']);
  });

  it('ends the access granted for an entry once who may see it or what it points at changes, or it is deleted', async () => {
    const open = await data('public');
    const other = await data('public');
    const first = await access.request(local('alice'), open.id, { ttlSeconds: 600 });
    const kept = await access.request(local('alice'), other.id, { ttlSeconds: 600 });
    const state = async () => Object.fromEntries((await grants.list(admin, { state: 'all' })).map((g) => [g.id, g.state]));

    // A new description changes nothing; a narrower visibility revokes, and removes the directory view.
    await catalog.update(owner, open.id, { description: 'Now with 2026' });
    expect(await state()).toEqual({ [first.grant.id]: 'active', [kept.grant.id]: 'active' });
    await catalog.update(owner, open.id, { visibility: 'restricted', allowedProjects: [`${CLUSTER}/ops`] });
    expect(await state()).toEqual({ [first.grant.id]: 'revoked', [kept.grant.id]: 'active' });
    await expect(stat((first.access as { path: string }).path)).rejects.toMatchObject({ code: 'ENOENT' });

    // Those still allowed ask again; deleting the entry ends that too.
    const again = await access.request(local('anna', ['ops']), open.id, { ttlSeconds: 600 });
    await catalog.delete(owner, open.id);
    expect((await state())[again.grant.id]).toBe('revoked');
    expect((await state())[kept.grant.id]).toBe('active');
  });
});
