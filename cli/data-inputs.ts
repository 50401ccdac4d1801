import { createWriteStream, existsSync, realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { localCaller, type CatalogService } from '../catalog/index.ts';
import { InternalError, InvalidInputError, NotFoundError } from '../core/index.ts';
import type { DataEntryFiles, DataInputs } from '../orchestrator/index.ts';
import type { EntryAccess, GrantAccess, GrantService, PresignedReadAccess, RemoteEntryAccess } from '../providers/index.ts';

export interface DataInputsOptions {
  catalog: Pick<CatalogService, 'get' | 'clusterId'>;
  entryAccess: EntryAccess;
  grants: Pick<GrantService, 'revoke'>;
  /** Peered clusters' data entries, asked of their owners (without it, only this cluster's). */
  remote?: RemoteEntryAccess;
  /** How long a run's grant may last at most (it is given back when the run ends): the grant service's limit. */
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
/**
 * A peer's grant cannot be given back over the network yet, and its files are copied at submission:
 * it is asked for no longer than the copy may take.
 */
const REMOTE_TTL_SECONDS = 3600;

/** The directory granted, at `relative`: refused when it is not there or leads out of the directory (a link). */
function directoryFiles(entryId: string, grantId: string, entryName: string, root: string): DataEntryFiles {
  return {
    entryId,
    grantId,
    async fetch(relative) {
      const local = path.join(root, relative);
      if (!existsSync(local)) throw new NotFoundError(`data entry "${entryName}" has no file or directory "${relative}"`);
      const real = realpathSync(local);
      const realRoot = realpathSync(root);
      if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) throw new InvalidInputError(`"${relative}" in data entry "${entryName}" leads out of the entry`);
      return local;
    },
  };
}

/** The granted objects under `relative`, downloaded through their pre-signed URLs into `workDir`. */
function objectFiles(entryId: string, grantId: string, entryName: string, access: PresignedReadAccess, sourcePrefix: string, workDir: string): DataEntryFiles {
  // A prefix naming one object makes an entry of that one file; else keys are relative to the folder.
  const single = access.objects.length === 1 && access.objects[0]!.key === sourcePrefix && sourcePrefix !== '';
  const folder = sourcePrefix === '' || sourcePrefix.endsWith('/') ? sourcePrefix : `${sourcePrefix}/`;
  const relativeOf = (key: string) => (single ? path.posix.basename(key) : key.slice(folder.length));
  const fetched = new Set<string>();
  return {
    entryId,
    grantId,
    async fetch(relative, signal) {
      const wanted = single && relative === '' ? relativeOf(sourcePrefix) : relative;
      const objects = access.objects.filter((o) => {
        const rel = relativeOf(o.key);
        return wanted === '' || rel === wanted || rel.startsWith(`${wanted}/`);
      });
      if (!objects.length && !(wanted === '' && !single)) throw new NotFoundError(`data entry "${entryName}" has no file or directory "${relative}"`);
      for (const object of objects) {
        const to = path.join(workDir, ...relativeOf(object.key).split('/'));
        if (fetched.has(to)) continue;
        await mkdir(path.dirname(to), { recursive: true });
        const response = await fetch(object.url, { ...(signal ? { signal } : {}) });
        if (!response.ok || !response.body) throw new InternalError(`cannot read ${object.key} of data entry "${entryName}": the store answered ${response.status}`);
        await pipeline(Readable.fromWeb(response.body as never), createWriteStream(to), ...(signal ? [{ signal }] : []));
        fetched.add(to);
      }
      const local = path.join(workDir, ...wanted.split('/').filter(Boolean));
      await mkdir(wanted === '' || objects.some((o) => relativeOf(o.key) !== wanted) ? local : path.dirname(local), { recursive: true });
      return local;
    },
  };
}

/**
 * Data catalog entries as run inputs: the run's owner gets an access grant to the entry (as
 * `POST /providers/access` would give it, so only an entry they may see), and the files the job names are
 * read through it — a directory entry where it is granted, an S3 entry by its pre-signed URLs. The run
 * service copies them into the run's inputs and gives the grant back when the run ends.
 */
export function createDataInputs(options: DataInputsOptions): DataInputs {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;

  /** The files a grant gives, or a refusal naming why the entry holds none that can be read here. */
  function filesOf(entryId: string, grantId: string, name: string, access: GrantAccess, prefix: string | undefined, workDir: string, remote: boolean): DataEntryFiles | string {
    if (access.type === 'presigned-read') {
      if (access.truncated) return `data entry "${name}" holds more objects than one grant lists (${access.objects.length}): it cannot be read whole for a run`;
      return objectFiles(entryId, grantId, name, access, prefix ?? access.prefix, workDir);
    }
    if (access.type === 'directory' && !remote) return directoryFiles(entryId, grantId, name, access.path);
    if (access.type === 'directory') return `data entry "${name}" is a directory on its cluster's machines: a run on another cluster cannot read it`;
    return `data entry "${name}" gives ${access.type} access, which holds no files`;
  }

  return {
    async open(caller, ref, openOptions) {
      const catalogCaller = localCaller(caller.principal, options.catalog.clusterId(), [...caller.projects]);
      if (ref.cluster !== undefined && ref.cluster !== options.catalog.clusterId()) {
        if (!options.remote) throw new NotFoundError(`cluster ${ref.cluster} is not peered with this one`);
        const { grant, access } = await options.remote.request(catalogCaller, ref.cluster, ref.id, { ttlSeconds: REMOTE_TTL_SECONDS }, openOptions);
        if (grant.kind !== 'data') throw new InvalidInputError(`catalog entry "${grant.entryName}" of cluster ${ref.cluster} is a ${grant.kind} entry, not a data entry`, [{ path: 'location', message: 'not a data entry' }]);
        const files = filesOf(ref.id, grant.id, grant.entryName, access, undefined, openOptions.workDir, true);
        if (typeof files === 'string') throw new InvalidInputError(files, [{ path: 'location', message: 'cannot be read here' }]);
        return { ...files, cluster: ref.cluster };
      }
      const entry = await options.catalog.get(catalogCaller, ref.id, openOptions);
      if (entry.kind !== 'data') throw new InvalidInputError(`catalog entry "${entry.name}" is a ${entry.kind} entry, not a data entry`, [{ path: 'location', message: 'not a data entry' }]);
      if (entry.spec.source.type === 'postgresql') {
        throw new InvalidInputError(`data entry "${entry.name}" is a PostgreSQL table or query: a File or Directory is read from a directory or S3 data entry`, [{ path: 'location', message: 'holds no files' }]);
      }
      const { grant, access } = await options.entryAccess.request(catalogCaller, ref.id, { ttlSeconds }, openOptions);
      const files = filesOf(ref.id, grant.id, entry.name, access, entry.spec.source.type === 's3' ? (entry.spec.source.prefix ?? '') : undefined, openOptions.workDir, false);
      if (typeof files === 'string') {
        await options.grants.revoke({ ...caller.principal, isAdmin: false, tokenId: 'run-inputs' }, grant.id).catch(() => {});
        throw new InvalidInputError(files, [{ path: 'location', message: 'cannot be read here' }]);
      }
      return files;
    },

    async release(owner, grant) {
      // A peer's grant ends at its expiry (a user cannot give one back over the network yet).
      if (grant.cluster !== undefined) return;
      try {
        await options.grants.revoke({ userId: owner.userId, userName: owner.userName, isAdmin: false, tokenId: 'run-inputs' }, grant.grantId);
      } catch (error) {
        // A grant that is gone already (revoked with its entry, or expired and swept) has nothing to give back.
        if (!(error instanceof NotFoundError)) throw error;
      }
    },
  };
}
