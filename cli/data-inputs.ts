import { createWriteStream, existsSync, realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { localCaller, type CatalogService } from '../catalog/index.ts';
import { InternalError, InvalidInputError, NotFoundError } from '../core/index.ts';
import type { DataEntryFiles, DataInputs } from '../orchestrator/index.ts';
import type { EntryAccess, GrantService, PresignedReadAccess } from '../providers/index.ts';

export interface DataInputsOptions {
  catalog: Pick<CatalogService, 'get' | 'clusterId'>;
  entryAccess: EntryAccess;
  grants: Pick<GrantService, 'revoke'>;
  /** How long a run's grant may last at most (it is given back when the run ends): the grant service's limit. */
  ttlSeconds?: number;
}

const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

/** The directory granted, at `relative`: refused when it is not there or leads out of the directory (a link). */
function directoryFiles(grantId: string, entryName: string, root: string): DataEntryFiles {
  return {
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
function objectFiles(grantId: string, entryName: string, access: PresignedReadAccess, sourcePrefix: string, workDir: string): DataEntryFiles {
  // A prefix naming one object makes an entry of that one file; else keys are relative to the folder.
  const single = access.objects.length === 1 && access.objects[0]!.key === sourcePrefix && sourcePrefix !== '';
  const folder = sourcePrefix === '' || sourcePrefix.endsWith('/') ? sourcePrefix : `${sourcePrefix}/`;
  const relativeOf = (key: string) => (single ? path.posix.basename(key) : key.slice(folder.length));
  const fetched = new Set<string>();
  return {
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
  return {
    async open(caller, entryId, openOptions) {
      const catalogCaller = localCaller(caller.principal, options.catalog.clusterId(), [...caller.projects]);
      const entry = await options.catalog.get(catalogCaller, entryId, openOptions);
      if (entry.kind !== 'data') throw new InvalidInputError(`catalog entry "${entry.name}" is a ${entry.kind} entry, not a data entry`, [{ path: 'location', message: 'not a data entry' }]);
      if (entry.spec.source.type === 'postgresql') {
        throw new InvalidInputError(`data entry "${entry.name}" is a PostgreSQL table or query: a File or Directory is read from a directory or S3 data entry`, [{ path: 'location', message: 'holds no files' }]);
      }
      const { grant, access } = await options.entryAccess.request(catalogCaller, entryId, { ttlSeconds }, openOptions);
      const release = () => options.grants.revoke({ ...caller.principal, isAdmin: false, tokenId: 'run-inputs' }, grant.id).catch(() => {});
      if (access.type === 'directory') return directoryFiles(grant.id, entry.name, access.path);
      if (access.type === 'presigned-read' && entry.spec.source.type === 's3') {
        if (access.truncated) {
          await release();
          throw new InvalidInputError(`data entry "${entry.name}" holds more objects than one grant lists (${access.objects.length}): it cannot be read whole for a run`, [{ path: 'location', message: 'too many objects' }]);
        }
        return objectFiles(grant.id, entry.name, access, entry.spec.source.prefix ?? '', openOptions.workDir);
      }
      await release();
      throw new InvalidInputError(`data entry "${entry.name}" gives ${access.type} access, which holds no files`, [{ path: 'location', message: 'holds no files' }]);
    },

    async release(owner, grantId) {
      try {
        await options.grants.revoke({ userId: owner.userId, userName: owner.userName, isAdmin: false, tokenId: 'run-inputs' }, grantId);
      } catch (error) {
        // A grant that is gone already (revoked with its entry, or expired and swept) has nothing to give back.
        if (!(error instanceof NotFoundError)) throw error;
      }
    },
  };
}
