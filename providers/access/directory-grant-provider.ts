import { execFile } from 'node:child_process';
import { chmod, cp, lstat, mkdir, readFile, readdir, realpath, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
  describeError,
  silentLogger,
  type Logger,
} from '../../core/index.ts';
import { GRANT_ID, type DirectoryAccess, type GrantProvider } from './grant-provider.ts';

const run = promisify(execFile);

export interface DirectoryGrantProviderOptions {
  /** Where data grants' read-only views are made, one directory per grant (created if missing). */
  root: string;
  /**
   * `auto` (default): a read-only bind mount of the source where the process may mount (Linux, root or
   * CAP_SYS_ADMIN), else a read-only copy. `copy`: always the copy.
   */
  readOnlyView?: 'auto' | 'copy';
  /** Makes and detaches the bind mounts (default: `mount` and `umount`, and `/proc/self/mountinfo`). */
  mounts?: MountRunner;
  logger?: Logger;
}

/** The mount operations data grants need: a port, so that their lifecycle is testable without mount rights. */
export interface MountRunner {
  /** A read-only bind mount of `source` at `target`; false when this process may not mount (nothing was made). */
  bindReadOnly(source: string, target: string): Promise<boolean>;
  /** Detaches the mount at `target` (lazily, as a last resort, when it is busy). */
  unmount(target: string): Promise<void>;
  /** The mount points at `dir` or under it. */
  mountPointsUnder(dir: string): Promise<string[]>;
}

/** The directory of a storage grant under its target: `<target>/grants/<id>`. */
export const directoryGrantPath = (targetPath: string, id: string) => join(targetPath, 'grants', id);

/**
 * This machine's mounts: `mount --bind` then a read-only remount (Linux, root or CAP_SYS_ADMIN), `umount`,
 * and the mount table in `/proc/self/mountinfo`.
 */
export function createSystemMountRunner(logger: Logger = silentLogger): MountRunner {
  return {
    async bindReadOnly(source, target) {
      if (process.platform !== 'linux') return false;
      try {
        await run('mount', ['--bind', source, target]);
      } catch (error) {
        logger.debug('cannot bind-mount, copying instead', { error: describeError(error) });
        return false;
      }
      try {
        await run('mount', ['-o', 'remount,bind,ro,nosuid,nodev', target]);
        return true;
      } catch (error) {
        await run('umount', [target]).catch(() => {});
        throw new UnavailableError(`cannot make the bind mount of ${source} read-only: ${describeError(error)}`, { cause: error });
      }
    },
    async unmount(target) {
      // Lazy as a last resort: a busy mount is detached now, and freed when its last user lets go.
      await run('umount', [target]).catch(() => run('umount', ['-l', target]));
    },
    async mountPointsUnder(dir) {
      let mounts: string;
      try {
        mounts = await readFile('/proc/self/mountinfo', 'utf8');
      } catch {
        return []; // not Linux: nothing is mounted
      }
      // Field 5 is the mount point, with spaces and the like escaped as octal.
      return mounts
        .split('\n')
        .map((line) => line.split(' ')[4])
        .filter((point): point is string => point !== undefined)
        .map((point) => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
        .filter((point) => point === dir || point.startsWith(`${dir}/`));
    },
  };
}

/** Makes every directory of a tree writable by its owner again (so it can be removed) and returns. */
async function unseal(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isDirectory()) return;
  await chmod(path, 0o700);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await unseal(join(path, entry.name));
  }
}

/** Takes write permission away from a tree: files 0444 (0555 if executable), directories 0555. */
async function seal(path: string): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await seal(join(path, entry));
    await chmod(path, 0o555);
  } else {
    await chmod(path, info.mode & 0o111 ? 0o555 : 0o444);
  }
}

/**
 * Directory grants on this machine. Data: a view of the source under `root/<grant id>/data` that cannot
 * be written through — a read-only bind mount where the process may mount (the kernel refuses writes with
 * EROFS, even to root), else a copy whose files and directories have no write permission (which binds
 * every user but root). Revoking unmounts and removes the view, never the source. Storage: a subdirectory
 * of its own under the target, `<target>/grants/<grant id>`, readable and writable by its owner only
 * (0700); revoking seals it read-only and keeps what was written.
 */
export function createDirectoryGrantProvider(options: DirectoryGrantProviderOptions): GrantProvider {
  const logger = (options.logger ?? silentLogger).child({ component: 'directory-grants' });
  if (!options.root.startsWith('/')) throw new InvalidInputError('invalid directory grant options', [{ path: 'root', message: 'must be an absolute path' }]);
  const mode = options.readOnlyView ?? 'auto';
  const mounts = options.mounts ?? createSystemMountRunner(logger);

  const mountReadOnly = (source: string, view: string): Promise<boolean> => (mode === 'auto' ? mounts.bindReadOnly(source, view) : Promise.resolve(false));
  const isMountPoint = async (path: string) => (await mounts.mountPointsUnder(path)).includes(path);

  async function sourceDirectory(sourcePath: string): Promise<string> {
    try {
      const source = await realpath(sourcePath);
      if (!(await stat(source)).isDirectory()) throw new InvalidInputError(`${sourcePath} is not a directory`, [{ path: 'source.path', message: 'must be a directory' }]);
      return source;
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new NotFoundError(`directory ${sourcePath} not found`, { cause: error });
    }
  }

  async function grantData(id: string, sourcePath: string): Promise<DirectoryAccess> {
    const source = await sourceDirectory(sourcePath);
    const grantDir = join(options.root, id);
    const view = join(grantDir, 'data');
    await mkdir(options.root, { recursive: true, mode: 0o711 });
    await mkdir(grantDir, { mode: 0o755 });
    try {
      await mkdir(view, { mode: 0o755 });
      if (await mountReadOnly(source, view)) return { type: 'directory', path: view, readOnly: true, enforcement: 'read-only-mount' };
      await cp(source, view, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      await seal(view);
      return { type: 'directory', path: view, readOnly: true, enforcement: 'file-modes' };
    } catch (error) {
      await removeView(grantDir).catch(() => {});
      throw error;
    }
  }

  /** Removes a data grant's directory: unmounts first, and never recurses into a mount (the source). */
  async function removeView(grantDir: string): Promise<void> {
    const view = join(grantDir, 'data');
    if (await isMountPoint(view)) {
      await mounts.unmount(view);
      if (await isMountPoint(view)) throw new UnavailableError(`cannot unmount ${view}`);
      await rmdir(view);
    }
    await unseal(grantDir);
    await rm(grantDir, { recursive: true, force: true });
  }

  return {
    async grant(id, target) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      let access: DirectoryAccess;
      if (target.kind === 'data' && target.source.type === 'directory') {
        access = await grantData(id, target.source.path);
      } else if (target.kind === 'storage' && target.target.type === 'directory') {
        const base = target.target.path;
        if (!(await stat(base).catch(() => undefined))?.isDirectory()) throw new NotFoundError(`directory ${base} not found`);
        await mkdir(join(base, 'grants'), { recursive: true, mode: 0o711 });
        const path = directoryGrantPath(base, id);
        await mkdir(path, { mode: 0o700 });
        await chmod(path, 0o700); // whatever the umask
        access = { type: 'directory', path, readOnly: false, enforcement: 'none' };
      } else {
        throw new NotImplementedError(`the directory grant provider cannot grant a ${target.kind === 'data' ? target.source.type : target.target.type} target`);
      }
      logger.info('directory grant created', { grant: id, kind: target.kind, path: access.path, enforcement: access.enforcement });
      return access;
    },

    async revoke(id, target) {
      if (!GRANT_ID.test(id)) throw new InvalidInputError(`invalid grant id "${id}"`);
      if (target.kind === 'data') {
        await removeView(join(options.root, id));
      } else if (target.target.type === 'directory') {
        const path = directoryGrantPath(target.target.path, id);
        if (await lstat(path).catch(() => undefined)) await seal(path);
      }
      logger.info('directory grant revoked', { grant: id, kind: target.kind });
    },

    async restore(id, target) {
      if (!GRANT_ID.test(id) || target.kind !== 'data' || target.source.type !== 'directory') return;
      const grantDir = join(options.root, id);
      const view = join(grantDir, 'data');
      if (await isMountPoint(view)) return;
      const entries = await readdir(view).catch(() => undefined);
      if (entries === undefined) {
        // Its view is gone (the grants directory was cleared): made again, as at the grant.
        await removeView(grantDir);
        await grantData(id, target.source.path);
      } else if (entries.length === 0) {
        // An empty view is a mount detached at the last stop (or the copy of an empty source): mounted again.
        if (!(await mountReadOnly(await sourceDirectory(target.source.path), view))) {
          await chmod(view, 0o755);
          await cp(await sourceDirectory(target.source.path), view, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
          await seal(view);
        }
      } else return; // a copy, which outlives the process
      logger.info('directory grant view restored', { grant: id, path: view });
    },

    async detach() {
      // Only the views of data grants, `<root>/<grant id>/data`: the mounts this provider made.
      const views = (await mounts.mountPointsUnder(options.root)).filter((point) => /^[^/]+\/data$/.test(point.slice(options.root.length + 1)));
      for (const view of views.sort((x, y) => y.length - x.length)) {
        try {
          await mounts.unmount(view);
        } catch (error) {
          logger.warn('cannot detach a data grant view', { path: view, error: describeError(error) });
        }
      }
      if (views.length) logger.info('data grant views detached', { count: views.length });
    },
  };
}
