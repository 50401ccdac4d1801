import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/index.ts';
import { createDirectoryGrantProvider, directoryGrantPath } from './directory-grant-provider.ts';

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
});
