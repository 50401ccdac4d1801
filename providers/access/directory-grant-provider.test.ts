import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/index.ts';
import { createDirectoryGrantProvider, directoryGrantPath, type MountRunner } from './directory-grant-provider.ts';
import { createGrantService } from './grant-service.ts';
import { createTestDatabase } from '../../platform/sql/testing.ts';

/** A mount table in memory: mounts succeed and are recorded, as where the process may mount. */
function fakeMounts(): MountRunner & { table: Map<string, string> } {
  const table = new Map<string, string>();
  return {
    table,
    async bindReadOnly(source, target) {
      table.set(target, source);
      return true;
    },
    async unmount(target) {
      table.delete(target);
    },
    async mountPointsUnder(dir) {
      return [...table.keys()].filter((point) => point === dir || point.startsWith(`${dir}/`));
    },
  };
}

const grantee = { cluster: 'local', user: 'alice' };
const expiresAt = new Date(Date.now() + 3_600_000);
const isRoot = process.getuid?.() === 0;

/** Whether this process may bind-mount (Linux, root with CAP_SYS_ADMIN: not in every container). */
function canMount(): boolean {
  if (process.platform !== 'linux' || !isRoot) return false;
  try {
    execFileSync('sh', ['-c', 'd=$(mktemp -d) && mount --bind "$d" "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function failure(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('expected a failure, got a result');
}

describe('directory grants', () => {
  let base: string;
  let source: string;
  let root: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'archipel-dir-grants-'));
    source = join(base, 'source');
    root = join(base, 'grants');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'a.csv'), 'a,b\n1,2\n');
    await writeFile(join(source, 'sub', 'b.txt'), 'bee');
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  /** What a data grant must hold to: readable, no write of any kind through it, gone on revoke, source intact. */
  async function checkReadOnlyView(provider: ReturnType<typeof createDirectoryGrantProvider>, enforcement: string) {
    const id = randomUUID();
    const target = { kind: 'data' as const, source: { type: 'directory' as const, path: source } };
    const access = await provider.grant(id, target, { grantee, expiresAt });
    expect(access).toEqual({ type: 'directory', path: join(root, id, 'data'), readOnly: true, enforcement });
    if (access.type !== 'directory') throw new Error('unexpected access');
    expect(await readFile(join(access.path, 'a.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(await readFile(join(access.path, 'sub', 'b.txt'), 'utf8')).toBe('bee');

    expect((await failure(writeFile(join(access.path, 'a.csv'), 'changed'))).code).toMatch(/^(EROFS|EACCES)$/);
    expect((await failure(writeFile(join(access.path, 'new.txt'), 'new'))).code).toMatch(/^(EROFS|EACCES)$/);
    expect((await failure(rm(join(access.path, 'sub', 'b.txt')))).code).toMatch(/^(EROFS|EACCES)$/);
    expect((await failure(mkdir(join(access.path, 'dir')))).code).toMatch(/^(EROFS|EACCES)$/);

    await provider.revoke(id, target);
    await expect(stat(join(root, id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(source)).sort()).toEqual(['a.csv', 'sub']);
    expect(await readFile(join(source, 'a.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(await readFile(join(source, 'sub', 'b.txt'), 'utf8')).toBe('bee');
    await provider.revoke(id, target); // twice: harmless
  }

  it.skipIf(!canMount())('data: a read-only bind mount refuses writes, even by root (needs Linux and mount rights)', async () => {
    await checkReadOnlyView(createDirectoryGrantProvider({ root }), 'read-only-mount');
  });

  it.skipIf(isRoot)('data: a copy without write permission refuses writes (file modes do not bind root)', async () => {
    await checkReadOnlyView(createDirectoryGrantProvider({ root, readOnlyView: 'copy' }), 'file-modes');
  });

  it('data: a missing source is not found, and leaves nothing behind', async () => {
    const provider = createDirectoryGrantProvider({ root, readOnlyView: 'copy' });
    const id = randomUUID();
    await expect(provider.grant(id, { kind: 'data', source: { type: 'directory', path: join(base, 'missing') } }, { grantee, expiresAt })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(stat(join(root, id))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('storage: a subdirectory of its own, owner-only, sealed read-only on revoke and kept', async () => {
    const provider = createDirectoryGrantProvider({ root });
    const out = join(base, 'out');
    await mkdir(out);
    const id = randomUUID();
    const target = { kind: 'storage' as const, target: { type: 'directory' as const, path: out } };
    const access = await provider.grant(id, target, { grantee, expiresAt });
    expect(access).toEqual({ type: 'directory', path: directoryGrantPath(out, id), readOnly: false, enforcement: 'none' });
    if (access.type !== 'directory') throw new Error('unexpected access');
    expect((await stat(access.path)).mode & 0o777).toBe(0o700);
    await writeFile(join(access.path, 'result.txt'), 'done');

    await provider.revoke(id, target);
    expect(await readFile(join(access.path, 'result.txt'), 'utf8')).toBe('done');
    expect((await stat(access.path)).mode & 0o777).toBe(0o555);
    expect((await stat(join(access.path, 'result.txt'))).mode & 0o777).toBe(0o444);
    if (!isRoot) expect((await failure(writeFile(join(access.path, 'late.txt'), 'late'))).code).toBe('EACCES');
  });

  it('data: a stopping node lets go of its bind mounts, and the next start mounts the open grants again', async () => {
    const mounts = fakeMounts();
    const other = join(base, 'not-a-grant');
    mounts.table.set(other, '/elsewhere'); // a mount that is not this provider's: left alone
    const provider = createDirectoryGrantProvider({ root, mounts });
    const id = randomUUID();
    const target = { kind: 'data' as const, source: { type: 'directory' as const, path: source } };
    const access = await provider.grant(id, target, { grantee, expiresAt });
    expect(access).toMatchObject({ path: join(root, id, 'data'), enforcement: 'read-only-mount' });
    expect([...mounts.table.keys()].sort()).toEqual([join(root, id, 'data'), other].sort());

    await provider.detach!();
    expect([...mounts.table.keys()]).toEqual([other]);
    await provider.restore!(id, target);
    expect(mounts.table.get(join(root, id, 'data'))).toBe(source);
    await provider.restore!(id, target); // mounted already: nothing more
    expect(mounts.table.size).toBe(2);
    await provider.revoke(id, target);
    expect([...mounts.table.keys()]).toEqual([other]);
    await expect(stat(join(root, id))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("data: the grant service's stop and start detach and restore the views of open grants only", async () => {
    const { db, cleanup } = await createTestDatabase();
    try {
      const mounts = fakeMounts();
      let now = Date.now();
      const grants = createGrantService({ db, providers: { directory: createDirectoryGrantProvider({ root, mounts }) }, clock: { now: () => new Date(now) } });
      const admin = { userId: 'id-admin', userName: 'admin', isAdmin: true, tokenId: 't' };
      const target = { kind: 'data' as const, source: { type: 'directory' as const, path: source } };
      const kept = (await grants.grant(admin, { target, grantee, ttlSeconds: 3600 })).grant;
      const revoked = (await grants.grant(admin, { target, grantee, ttlSeconds: 3600 })).grant;
      const expiring = (await grants.grant(admin, { target, grantee, ttlSeconds: 60 })).grant;
      await grants.revoke(admin, revoked.id);
      expect(mounts.table.size).toBe(2);

      await grants.stop();
      expect(mounts.table.size).toBe(0);
      now += 120_000; // the short grant expired while the node was down
      await grants.start();
      expect([...mounts.table.keys()]).toEqual([join(root, kept.id, 'data')]);
      expect(mounts.table.has(join(root, expiring.id, 'data'))).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it.skipIf(!canMount())('data: detach and restore real bind mounts (needs Linux and mount rights)', async () => {
    const provider = createDirectoryGrantProvider({ root });
    const id = randomUUID();
    const target = { kind: 'data' as const, source: { type: 'directory' as const, path: source } };
    const access = await provider.grant(id, target, { grantee, expiresAt });
    if (access.type !== 'directory') throw new Error('unexpected access');
    await provider.detach!();
    expect(await readdir(access.path)).toEqual([]);
    await provider.restore!(id, target);
    expect(await readFile(join(access.path, 'a.csv'), 'utf8')).toBe('a,b\n1,2\n');
    await provider.revoke(id, target);
  });
});
