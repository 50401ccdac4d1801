import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { localCaller, type CatalogFederation, type CatalogService } from '../catalog/index.ts';
import { InternalError, InvalidInputError, NotFoundError } from '../core/index.ts';
import type { OutputFile, OutputStorage } from '../orchestrator/index.ts';
import type { EntryAccess, GrantService, RemoteEntryAccess } from '../providers/index.ts';

export interface OutputStorageOptions {
  catalog: Pick<CatalogService, 'get' | 'clusterId'>;
  entryAccess: EntryAccess;
  grants: Pick<GrantService, 'revoke'>;
  memberProjectNames(userId: string): Promise<string[]>;
  /** Peered clusters' storage entries: seen through the catalog protocol, written through their grants. */
  remote?: { catalog: Pick<CatalogFederation, 'get'>; access: RemoteEntryAccess };
}

/** How long the grant that writes a run's outputs may last. */
const WRITE_GRANT_SECONDS = 3600;

/** PUTs a file to a pre-signed URL, streamed, with its length (S3 wants it). */
async function putTo(url: string, file: OutputFile): Promise<void> {
  const body = Readable.from(await file.open());
  await new Promise<void>((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'PUT', headers: { 'Content-Length': String(file.size) } }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new InternalError(`the storage answered ${res.statusCode} for ${file.path}`))));
    });
    req.on('error', reject);
    body.on('error', (error) => req.destroy(error));
    body.pipe(req);
  });
}

type PresignedWrite = Extract<Awaited<ReturnType<EntryAccess['request']>>['access'], { type: 'presigned-write' }>;

/** PUTs each file to its pre-signed URL; where they went (bucket, prefix, keys). */
async function putAll(access: PresignedWrite, names: string[], files: OutputFile[], prefix: string | undefined) {
  const byName = new Map(access.uploads.map((u) => [u.name, u]));
  for (const [i, file] of files.entries()) await putTo(byName.get(names[i]!)!.url, file);
  return { type: 's3', bucket: access.bucket, prefix: prefix ? `${access.prefix}${prefix}/` : access.prefix, files: access.uploads.map((u) => u.key) };
}

/**
 * Run outputs written to storage catalog entries, through the access grants the run's owner gets for the
 * entry (as `POST /providers/access` would give them): a writable directory of its own under a directory
 * target, or pre-signed PUT URLs under a prefix of its own in an S3 target. The grant ends once the files
 * are written. A peered cluster's S3 storage entry is written the same way, through its owner's grant.
 */
export function createOutputStorage(options: OutputStorageOptions): OutputStorage {
  const callerFor = async (user: { userId: string; userName: string }, projects?: readonly string[]) =>
    localCaller({ ...user, isAdmin: false }, options.catalog.clusterId(), [...(projects ?? (await options.memberProjectNames(user.userId)))]);

  return {
    async check(caller, target, signal) {
      const catalogCaller = localCaller(caller.principal, options.catalog.clusterId(), [...caller.projects]);
      const elsewhere = target.cluster !== undefined && target.cluster !== options.catalog.clusterId();
      if (elsewhere && !options.remote) throw new NotFoundError(`cluster ${target.cluster} is not peered with this one`, { details: { field: 'outputs.cluster' } });
      const entry = elsewhere ? await options.remote!.catalog.get(catalogCaller, target.cluster!, target.entry, { ...(signal ? { signal } : {}) }) : await options.catalog.get(catalogCaller, target.entry, { signal });
      if (entry.kind !== 'storage') throw new InvalidInputError(`outputs: catalog entry "${target.entry}" is a ${entry.kind} entry, not a storage entry`, [{ path: 'outputs.entry', message: 'not a storage entry' }]);
      if (entry.spec.target.type === 'postgresql') {
        throw new InvalidInputError(`outputs: storage entry "${entry.name}" is a PostgreSQL schema: output files go to a directory or S3 storage entry`, [{ path: 'outputs.entry', message: 'cannot take files' }]);
      }
      // A directory is a path on its own cluster's machines: this cluster cannot write there.
      if (elsewhere && entry.spec.target.type !== 's3') {
        throw new InvalidInputError(`outputs: storage entry "${entry.name}" of cluster ${target.cluster} is a directory on that cluster's machines: another cluster's runs write to S3 storage entries`, [{ path: 'outputs.entry', message: 'cannot take files from another cluster' }]);
      }
    },

    async write(owner, target, files, signal) {
      const names = files.map((f) => (target.prefix ? `${target.prefix}/${f.path}` : f.path));
      const caller = await callerFor(owner);
      const elsewhere = target.cluster !== undefined && target.cluster !== options.catalog.clusterId();
      if (elsewhere) {
        // The owner cluster's grant is not given back from here: it ends at its expiry.
        if (!options.remote) throw new NotFoundError(`cluster ${target.cluster} is not peered with this one`);
        const { access } = await options.remote.access.request(caller, target.cluster!, target.entry, { ttlSeconds: WRITE_GRANT_SECONDS, uploads: names }, { ...(signal ? { signal } : {}) });
        if (access.type !== 'presigned-write') throw new InvalidInputError(`storage entry "${target.entry}" of cluster ${target.cluster} cannot take files from this cluster (${access.type})`);
        return putAll(access, names, files, target.prefix);
      }
      const { grant, access } = await options.entryAccess.request(caller, target.entry, { ttlSeconds: WRITE_GRANT_SECONDS, uploads: names }, { signal });
      try {
        if (access.type === 'directory') {
          for (const [i, file] of files.entries()) {
            const to = path.join(access.path, names[i]!);
            await mkdir(path.dirname(to), { recursive: true });
            await pipeline(Readable.from(await file.open()), createWriteStream(to), { signal });
          }
          return { type: 'directory', path: target.prefix ? path.join(access.path, target.prefix) : access.path, files: names };
        }
        if (access.type === 'presigned-write') return putAll(access, names, files, target.prefix);
        throw new InvalidInputError(`storage entry "${target.entry}" cannot take files (${access.type})`);
      } finally {
        await options.grants.revoke({ userId: owner.userId, userName: owner.userName, isAdmin: false, tokenId: 'run-outputs' }, grant.id).catch(() => {});
      }
    },
  };
}
